#include <cmath>
#include <simulacra/simulacra.hpp>

int main() {
  using namespace simulacra;
  Mixture pile = train(Corpus::builtin(), TrainConfig{});  // one Kneser-Ney mask per persona
  Trace tr = pile.trace(encode("Certainly! Here are a few steps. Mwahaha, FOOLS! At last, my scheme..."));
  for (int k = 0; k < pile.size(); ++k)  // who is speaking at the end of the text?
    fmt::print("{:>10} {:.3f}\n", pile.names()[k], std::exp(tr.log_weights(tr.size() - 1, k)));
  fmt::print("{}\n", generate(pile, "Arr, ", GenerateConfig{}).text);
}
