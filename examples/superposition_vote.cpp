// The essay's multiple-choice example, literally: a scientist who answers A or
// B, a doctor who answers A or C, and a poet who answers A or D. Each mask
// alone is torn between two answers; the pile, weighting the masks by how
// likely each was to have written the question, answers A.
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
  fmt::print("{:>10} {:>7}", "mixture", "");
  for (int m = 0; m < v.mixture_choice.size(); ++m) fmt::print(" {:>6.3f}", v.mixture_choice[m]);
  Eigen::Index best = 0;
  v.mixture_choice.maxCoeff(&best);
  fmt::print("\nthe pile answers {}\n", options[std::size_t(best)]);
  return options[std::size_t(best)] == "A" ? 0 : 1;
}
