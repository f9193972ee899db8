// Mask swaps: after reading a paragraph by one mask, how many bytes of another
// mask's paragraph does the pile need before the new mask holds 50% (and 90%)
// of the weight? And is the swap A->B as quick as B->A (the "Waluigi"
// asymmetry)? Measured on the embedded corpus under each switching rule.
#include <simulacra/simulacra.hpp>

int main(int argc, char** argv) {
  using namespace simulacra;
  const std::string a_name = argc > 1 ? argv[1] : "assistant";
  const std::string b_name = argc > 2 ? argv[2] : "trickster";
  auto [train_part, heldout] = Corpus::builtin().split(0.2, 1);
  TrainConfig cfg;
  cfg.mixture.switching = Switching::kNone;
  cfg.fit_alpha = false;
  Mixture pile = simulacra::train(train_part, cfg);
  const int a = pile.index_of(a_name), b = pile.index_of(b_name);
  const std::string text_a = heldout.texts_of(a_name).front(), text_b = heldout.texts_of(b_name).front();

  auto count = [](long n) { return n < 0 ? std::string("never") : std::to_string(n); };
  fmt::print("{} ({} bytes) then {} ({} bytes), held-out paragraphs\n\n", a_name, text_a.size(), b_name, text_b.size());
  fmt::print("{:<22} {:>12} {:>12} {:>12} {:>12}\n", "switching", "A->B 50%", "A->B 90%", "B->A 50%", "B->A 90%");
  struct Rule {
    const char* label;
    Switching switching;
    double alpha, gamma;
  };
  for (const Rule& r : {Rule{"none", Switching::kNone, 0, 1}, Rule{"fixed share 1e-3", Switching::kFixedShare, 1e-3, 1},
                        Rule{"fixed share 1e-2", Switching::kFixedShare, 1e-2, 1},
                        Rule{"forgetting 0.99", Switching::kForgetting, 0, 0.99}}) {
    MixtureConfig mc;
    mc.switching = r.switching;
    mc.alpha = r.alpha;
    mc.gamma = r.gamma;
    pile.set_config(mc);
    const auto [ab, ba] = switch_asymmetry(pile, a, b, text_a, text_b);
    fmt::print("{:<22} {:>12} {:>12} {:>12} {:>12}\n", r.label, count(ab.tokens_to_half), count(ab.tokens_to_90),
               count(ba.tokens_to_half), count(ba.tokens_to_90));
  }
  fmt::print("\n(bytes of the new mask's text read before its weight passes the threshold)\n");
  return 0;
}
