// fuzz/checkpoint_fuzz.cpp — TransformerTrainer::resume on arbitrary bytes,
// with the one-persona data the seed checkpoint was written for.
#include "fuzzing.hpp"
#include "simulacra/transformer_train.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  static const TransformerData text = TransformerData::from_text(
      "Arr, me hearties! The tide is high and the rum is low; hoist the sails.", 0.25);
  fuzzing::on_input_file(data, size, [](const std::string& path) { TransformerTrainer::resume(path, text); });
  return 0;
}
