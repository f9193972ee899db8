// fuzz/safetensors_fuzz.cpp — read_safetensors on arbitrary bytes. Every
// tensor of a file it accepts must hold numel * dtype_size bytes.
#include <cstdlib>

#include "fuzzing.hpp"
#include "simulacra/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  fuzzing::on_input_file(data, size, [](const std::string& path) {
    const TensorFile f = read_safetensors(path);
    for (const std::string& name : f.names()) {
      const Tensor& t = f.get(name);
      if (t.bytes.size() != static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype)) std::abort();
    }
  });
  return 0;
}
