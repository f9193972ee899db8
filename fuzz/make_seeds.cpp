// fuzz/make_seeds.cpp — writes the seed corpora of the harnesses, small valid
// inputs made by the library itself, into <dir>/<harness>/ (fuzz/corpus/ in
// the repository): fuzz_seeds <dir>.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "fuzzing.hpp"
#include "simulacra/ngram_compact.hpp"
#include "simulacra/ngram_quant.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/simulacra.hpp"

namespace fs = std::filesystem;
using namespace simulacra;

namespace {

void seed(const fs::path& dir, const std::string& harness, const std::string& name, std::string_view bytes) {
  fs::create_directories(dir / harness);
  fuzzing::write_file(dir / harness / name, bytes);
}

// The bytes of a file written by `write` to a scratch path.
template <class F>
std::string written_by(F&& write) {
  const fuzzing::ScratchPath file(".seed");
  write(file.string());
  std::ifstream in(file.path(), std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TransformerConfig tiny_transformer() {
  TransformerConfig c;
  c.layers = 1;
  c.heads = 1;
  c.width = 4;
  c.context = 4;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: fuzz_seeds <dir>\n");
    return 2;
  }
  const fs::path dir = argv[1];

  seed(dir, "json_fuzz", "object.json",
       R"({"name": "pirate", "weights": [0.5, -2, 1e-3, 12345678901234567890], "ok": true, "none": null})");
  seed(dir, "json_fuzz", "escapes.json", R"(["tab\t", "\u00e9\ud83d\ude00", "\\\"/", {"": [[], {}]}])");

  TensorFile tensors;
  tensors.metadata = {{"format", "example"}};
  const std::vector<float> weights = {0.5f, -1.0f, 2.0f, 0.0f, 3.5f, -0.25f};
  const std::vector<std::int64_t> counts = {1, 2, 3};
  tensors.put("persona.0.weights", {2, 3}, weights.data());
  tensors.put("counts", {3}, counts.data());
  seed(dir, "safetensors_fuzz", "two_tensors.safetensors",
       written_by([&](const std::string& path) { write_safetensors(path, tensors); }));

  const std::vector<std::string> pirate = {"Arr, me hearties!", "Hoist the sails, ye dogs."};
  const std::vector<std::string> poet = {"O moon, thou art fair.", "The night is soft and still."};
  const Mixture ngrams({std::make_shared<NGramPersona>(NGramPersona::fit(pirate, 2)),
                        std::make_shared<NGramPersona>(NGramPersona::fit(poet, 2))},
                       {"pirate", "poet"}, Eigen::Vector2d(0.6, 0.4));
  seed(dir, "model_file_fuzz", "ngram_pile.safetensors",
       written_by([&](const std::string& path) { save(ngrams, path); }));
  const Mixture small({std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(NGramPersona::fit(pirate, 3))),
                       std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(NGramPersona::fit(poet, 3)))},
                      {"pirate", "poet"}, Eigen::Vector2d(0.6, 0.4));
  seed(dir, "model_file_fuzz", "compact_quant_pile.safetensors",
       written_by([&](const std::string& path) { save(small, path); }));
  TransformerConfig c = tiny_transformer();
  const auto model = std::make_shared<const TransformerModel<float>>(c, 1);
  const Mixture transformer({std::make_shared<TransformerPersona>(model, 0)}, {"pirate"}, Eigen::VectorXd::Ones(1));
  seed(dir, "model_file_fuzz", "transformer_pile.safetensors",
       written_by([&](const std::string& path) { save(transformer, path); }));

  TransformerTrainConfig train;
  train.model = tiny_transformer();
  train.batch = 1;
  train.steps = 2;
  train.eval_every = 0;
  train.threads = 1;
  TransformerTrainer trainer(
      train, TransformerData::from_text("Arr, me hearties! The tide is high and the rum is low; hoist the sails.", 0.25));
  trainer.update();
  seed(dir, "checkpoint_fuzz", "one_step.checkpoint",
       written_by([&](const std::string& path) { trainer.save_checkpoint(path); }));

  seed(dir, "ngram_counts_fuzz", "order3.bin", NGramCounts({"Arr, matey!", "Ahoy!", ""}, 3).to_bytes());
  seed(dir, "ngram_counts_fuzz", "order1_empty.bin", NGramCounts({}, 1).to_bytes());

  // The first byte picks the loader (see corpus_fuzz.cpp).
  seed(dir, "corpus_fuzz", "play.txt", std::string(1, '\x04') + "First Citizen:\nBefore we proceed any further, hear me speak.\n\n"
                                        "All:\nSpeak, speak.\n\nFirst Citizen:\nYou are all resolved rather to die than to famish?\n");
  seed(dir, "corpus_fuzz", "fortunes.txt", std::string(1, '\x01') + "A riddle: what has keys but no locks?\n%\nA piano.\n%\n");
  seed(dir, "corpus_fuzz", "lines.jsonl", std::string(1, '\x02') + "{\"text\": \"Arr!\", \"persona\": \"pirate\"}\n\n"
                                          "{\"text\": \"O moon\", \"persona\": \"poet\", \"id\": 2}\n");
  static const char kDirectory[] = "\x03pirate.txt\0Arr!\n\nHoist the sails.\0poet/one\0O moon\0poet/two\0Soft night";
  seed(dir, "corpus_fuzz", "directory.bin", std::string_view(kDirectory, sizeof kDirectory - 1));
  return 0;
}
