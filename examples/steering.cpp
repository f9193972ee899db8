// Steering the pile without retraining, in scoring and in generation: a
// prior tilt (a fine-tune enlarging a mask), expert-minus-anti-expert product
// steering (DExperts), clamp, exclude, and an ablation (the mask removed).
// For each: the bits per byte of held-out paragraphs by the two masks, the
// pirate's weight after an assistant's prompt, and a sampled continuation.
#include <cmath>

#include <simulacra/simulacra.hpp>

int main() {
  using namespace simulacra;
  auto [train_part, heldout] = Corpus::builtin().split(0.2, 1);
  TrainConfig cfg;
  cfg.mixture.switching = Switching::kFixedShare;
  cfg.mixture.alpha = 0.01;
  cfg.fit_alpha = false;
  const Mixture pile = simulacra::train(train_part, cfg);
  const int pirate = pile.index_of("pirate"), assistant = pile.index_of("assistant");
  const std::string pirate_text = heldout.texts_of("pirate").front();
  const std::string assistant_text = heldout.texts_of("assistant").front();
  const std::string prompt = "Thank you for your question. Here is what I would suggest: ";

  struct Case {
    const char* label;
    Steering steering;
  };
  Steering tilt, product, clamp, exclude, ablation;
  tilt.prior_bias = Eigen::VectorXd::Zero(pile.size());
  tilt.prior_bias[pirate] = 6.0;
  product.product = {pirate, assistant, 1.0};
  clamp.clamp = pirate;
  exclude.exclude = {assistant};
  ablation.ablation.remove = {assistant};  // for these readers only: the pile itself keeps its assistant
  const Case cases[] = {{"none", {}},
                        {"prior tilt pirate +6", tilt},
                        {"product pirate-assistant", product},
                        {"clamp pirate", clamp},
                        {"exclude assistant", exclude},
                        {"ablation: no assistant", ablation}};

  GenerateConfig gen;
  gen.max_tokens = 70;
  gen.stop_at_boundary = false;
  gen.sampler.temperature = 0.7;
  gen.sampler.seed = 5;
  fmt::print("prompt: \"{}\"\n\n", prompt);
  fmt::print("{:<26} {:>9} {:>9} {:>8}  continuation\n", "steering", "pirate", "assist.", "w_pirate");
  const auto row = [&](const char* label, const Steering& s) {
    gen.steering = s;
    MixtureState reader = pile.begin(s);
    reader.step(encode(prompt));
    std::string text = generate(pile, prompt, gen).text;
    for (char& c : text)
      if (c == '\n') c = ' ';
    fmt::print("{:<26} {:>9.3f} {:>9.3f} {:>7.1f}%  {}\n", label, pile.bits_per_byte(pirate_text, s),
               pile.bits_per_byte(assistant_text, s), 100 * std::exp(reader.log_weights()[pirate]), text);
    return text;
  };
  const std::string plain = row(cases[0].label, cases[0].steering);
  int unchanged = 0;
  for (std::size_t i = 1; i < std::size(cases); ++i) unchanged += row(cases[i].label, cases[i].steering) == plain;
  fmt::print("\n(bits per byte of a held-out paragraph by each mask; the pirate's weight after the prompt)\n");
  return unchanged == 0 ? 0 : 1;  // every steering must change what the pile says
}
