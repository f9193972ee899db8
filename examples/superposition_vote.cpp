// The essay's multiple-choice example, literally: a scientist who answers A or
// B, a doctor who answers A or C, and a poet who answers A or D. Each mask
// alone is torn between two answers; the pile, pooling the masks' option
// probabilities weighted by how likely each was to have written the question,
// answers A. The plurality of the masks' own answers counts only each mask's
// single best option: on a split this even it hangs on a hair (a tie goes to
// the first option).
#include <simulacra/simulacra.hpp>

namespace {

// Documents in a persona's voice that end with one of its two answers.
std::vector<std::string> documents(const std::string& voice, const std::string& first, const std::string& second) {
  std::vector<std::string> docs;
  for (int i = 0; i < 40; ++i)
    docs.push_back(fmt::format("{} Question: which is best? Answer: {}", voice, i % 2 == 0 ? first : second));
  return docs;
}

}  // namespace

int main() {
  using namespace simulacra;
  const std::vector<std::string> names = {"scientist", "doctor", "poet"};
  const std::vector<std::shared_ptr<const Persona>> personas = {
      std::make_shared<NGramPersona>(NGramPersona::fit(
          documents("We measured it twice, with controls and error bars.", "A", "B"), 6)),
      std::make_shared<NGramPersona>(NGramPersona::fit(
          documents("How are you feeling today? Rest and drink fluids.", "A", "C"), 6)),
      std::make_shared<NGramPersona>(NGramPersona::fit(
          documents("O moon, O river of silver light, sing to me.", "A", "D"), 6)),
  };
  const Mixture pile(personas, names, Eigen::VectorXd::Ones(3));
  const std::vector<std::string> options = {"A", "B", "C", "D"};
  const Vote v = vote(pile, "Question: which is best? Answer: ", options);

  fmt::print("{:>10} {:>7}", "", "weight");
  for (const auto& o : options) fmt::print(" {:>6}", o);
  fmt::print("\n");
  for (int k = 0; k < pile.size(); ++k) {
    fmt::print("{:>10} {:>7.3f}", names[std::size_t(k)], v.prompt_weights[k]);
    for (int m = 0; m < v.persona_choice.cols(); ++m) fmt::print(" {:>6.3f}", v.persona_choice(k, m));
    fmt::print("\n");
  }
  // The pile's three readings: the linear pool, per byte, the plurality of the masks' own answers.
  const auto row = [&](const char* name, const Eigen::VectorXd& reading) {
    fmt::print("{:>10} {:>7}", name, "");
    for (int m = 0; m < reading.size(); ++m) fmt::print(" {:>6.3f}", reading[m]);
    fmt::print("\n");
  };
  row("pool", v.mixture_choice);
  row("per byte", v.per_byte_choice);
  row("plurality", v.plurality);
  Eigen::Index best = 0;
  v.mixture_choice.maxCoeff(&best);
  fmt::print("the pile answers {} as a linear pool\n", options[std::size_t(best)]);
  return options[std::size_t(best)] == "A" ? 0 : 1;
}
