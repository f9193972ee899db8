// fuzz/safetensors_fuzz.cpp — read_safetensors on arbitrary bytes. Every
// tensor of a file it accepts must hold numel * dtype_size bytes.
#include <cstdlib>

#include "fuzzing.hpp"
#include "simulacra/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  static const fuzzing::ScratchPath file(".safetensors");
  fuzzing::write_file(file.path(), fuzzing::as_text(data, size));
  fuzzing::expect_typed_errors([&] {
    const TensorFile f = read_safetensors(file.string());
    for (const std::string& name : f.names()) {
      const Tensor& t = f.get(name);
      if (t.bytes.size() != static_cast<std::size_t>(t.numel()) * dtype_size(t.dtype)) std::abort();
    }
  });
  return 0;
}
