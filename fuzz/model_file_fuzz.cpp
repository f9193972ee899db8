// fuzz/model_file_fuzz.cpp — simulacra::load and load_mapped on arbitrary
// bytes. A pile either accepts must score a short text.
#include "fuzzing.hpp"
#include "simulacra/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  simulacra::fuzzing::on_input_file(data, size, [](const std::string& path) {
    simulacra::load(path).score("Arr, the ");
    simulacra::load_mapped(path).score("Arr, the ");
  });
  return 0;
}
