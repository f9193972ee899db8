#include "pile.hpp"

#include <memory>
#include <string>
#include <vector>

#include <simulacra/ngram.hpp>
#include <simulacra/sampling.hpp>

simulacra::Mixture pirate_and_poet() {
  const std::vector<std::string> pirate = {
      "Arr, matey, hoist the sails and ready the cannons!",
      "Ahoy! Where be the treasure, ye scurvy dog?",
      "Arr, the sea be rough and the rum be gone, matey.",
      "Shiver me timbers, the captain be wanting his gold!",
      "Avast ye, swab the deck or walk the plank!",
  };
  const std::vector<std::string> poet = {
      "Shall I compare thee to a summer's day?",
      "The woods are lovely, dark and deep, and I have promises to keep.",
      "O wild west wind, thou breath of autumn's being.",
      "I wandered lonely as a cloud that floats on high o'er vales and hills.",
      "Thou still unravished bride of quietness, thou foster child of silence.",
  };
  using simulacra::NGramPersona;
  std::vector<std::shared_ptr<const simulacra::Persona>> masks = {
      std::make_shared<NGramPersona>(NGramPersona::fit(pirate, 4)),
      std::make_shared<NGramPersona>(NGramPersona::fit(poet, 4)),
  };
  return simulacra::Mixture(masks, {"pirate", "poet"}, Eigen::VectorXd::Constant(2, 0.5));
}
