// fuzz/checkpoint_fuzz.cpp — TransformerTrainer::resume on arbitrary bytes,
// with the one-persona data the seed checkpoints were written for.
#include "fuzzing.hpp"
#include "simulacra/transformer_train.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  static const fuzzing::ScratchPath file(".checkpoint");
  static const TransformerData text = TransformerData::from_text(
      "Arr, me hearties! The tide is high and the rum is low; hoist the sails.", 0.25);
  fuzzing::write_file(file.path(), fuzzing::as_text(data, size));
  fuzzing::expect_typed_errors([&] { TransformerTrainer::resume(file.string(), text); });
  return 0;
}
