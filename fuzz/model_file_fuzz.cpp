// fuzz/model_file_fuzz.cpp — simulacra::load on arbitrary bytes. A pile it
// accepts must score a short text.
#include "fuzzing.hpp"
#include "simulacra/model_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  static const fuzzing::ScratchPath file(".safetensors");
  fuzzing::write_file(file.path(), fuzzing::as_text(data, size));
  fuzzing::expect_typed_errors([&] {
    const Mixture pile = load(file.string());
    pile.score("Arr, the ");
  });
  return 0;
}
