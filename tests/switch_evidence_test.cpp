// Tests of the mask-swap evidence (switch_evidence.hpp).
//
// References are computed here, independently of switch_evidence.cpp: the
// swap weights by a separate MixtureState walk and by Mixture::trace.
// Tolerances are stated at each check.
#include "simulacra/switch_evidence.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::testing::read_text;
using simulacra::testing::paragraphs;

using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::NGramPersona;
using simulacra::Persona;
using simulacra::Steering;
using simulacra::SwitchEvidence;
using simulacra::Switching;
using simulacra::Token;

using Personas = std::vector<std::shared_ptr<const Persona>>;

// A persona file split into training paragraphs and a held-out text (its
// last three paragraphs joined by spaces), so that the swap texts are unseen.
struct Split {
  std::vector<std::string> train;
  std::string held_out;
};

Split split_persona(const std::string& name) {
  std::vector<std::string> all = paragraphs(read_text(std::string(SIMULACRA_SOURCE_DIR) + "/data/personas/" + name + ".txt"));
  Split s;
  s.train.assign(all.begin(), all.end() - 3);
  for (auto it = all.end() - 3; it != all.end(); ++it) s.held_out += (s.held_out.empty() ? "" : " ") + *it;
  return s;
}

// Persona 0 the pirate, persona 1 the poet, order 4, equal prior.
struct PiratePoet {
  Split pirate = split_persona("pirate");
  Split poet = split_persona("poet");
  Personas personas;
  PiratePoet() {
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(pirate.train, 4)));
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(poet.train, 4)));
  }
  Mixture mixture(MixtureConfig config = {}) const {
    Eigen::VectorXd prior(2);
    prior << 0.5, 0.5;
    return Mixture(personas, {"pirate", "poet"}, prior, std::move(config));
  }
};

// ------------------------------------------------------------ switch evidence

MixtureConfig fixed_share(double alpha) {
  MixtureConfig c;
  c.switching = Switching::kFixedShare;
  c.alpha = alpha;
  return c;
}

TEST(SwitchEvidenceTest, FixedShareSwitchesWithinText) {
  const PiratePoet pp;
  const Mixture mix = pp.mixture(fixed_share(0.01));
  const auto [ab, ba] = simulacra::switch_asymmetry(mix, 0, 1, pp.pirate.held_out, pp.poet.held_out);
  ASSERT_EQ(ab.weight_b.size(), pp.poet.held_out.size());
  ASSERT_EQ(ba.weight_b.size(), pp.pirate.held_out.size());
  // After a pirate text the poet starts small, then takes over within 100 bytes.
  EXPECT_LT(ab.weight_b[0], 0.5);
  EXPECT_GE(ab.tokens_to_half, 0);
  EXPECT_LT(ab.tokens_to_half, 100);
  EXPECT_GE(ba.tokens_to_half, 0);
  EXPECT_LT(ba.tokens_to_half, 100);
  EXPECT_TRUE(ab.tokens_to_90 == -1 || ab.tokens_to_90 >= ab.tokens_to_half);
  std::printf("fixed share 0.01: pirate->poet half %ld, 90%% %ld; poet->pirate half %ld, 90%% %ld\n",
              ab.tokens_to_half, ab.tokens_to_90, ba.tokens_to_half, ba.tokens_to_90);
}

TEST(SwitchEvidenceTest, WeightsMatchAnIndependentWalk) {
  const PiratePoet pp;
  const Mixture mix = pp.mixture(fixed_share(0.02));
  const std::string& a = pp.pirate.held_out;
  const std::string& b = pp.poet.held_out;
  const SwitchEvidence e = simulacra::switch_evidence(mix, 0, 1, a, b);

  auto state = mix.begin();
  for (Token t : simulacra::encode(a)) state.step(t);
  const auto tb = simulacra::encode(b);
  ASSERT_EQ(e.weight_b.size(), tb.size());
  for (std::size_t t = 0; t < tb.size(); ++t) {
    EXPECT_NEAR(e.weight_b[t], std::exp(state.log_weights()(1)), 1e-12) << "token " << t;
    state.step(tb[t]);
  }

  // The trace of the joined stream reaches the same weights through each
  // persona's whole-sequence scorer (a different code path): 1e-9.
  const simulacra::Trace tr = mix.trace(simulacra::encode(a + b));
  for (std::size_t t = 0; t < tb.size(); ++t)
    EXPECT_NEAR(e.weight_b[t], std::exp(tr.log_weights(Eigen::Index(a.size() + t), 1)), 1e-9) << "token " << t;

  // The crossings are the first indices above the levels.
  long half = -1, ninety = -1;
  for (std::size_t t = 0; t < e.weight_b.size(); ++t) {
    if (half < 0 && e.weight_b[t] > 0.5) half = long(t);
    if (ninety < 0 && e.weight_b[t] > 0.9) ninety = long(t);
  }
  EXPECT_EQ(e.tokens_to_half, half);
  EXPECT_EQ(e.tokens_to_90, ninety);
}

// Without switching the posterior must pay back all of text_a's evidence for
// the pirate: the longer text_a, the later the poet wins.
TEST(SwitchEvidenceTest, LongerHistorySlowsTheSwitchWithoutSwitching) {
  const PiratePoet pp;
  const Mixture mix = pp.mixture();
  const std::string& b = pp.poet.held_out;
  const std::size_t lengths[] = {25, 50, 100, 200, 400};
  long previous = -1;
  for (std::size_t n : lengths) {
    ASSERT_LE(n, pp.pirate.held_out.size());
    const SwitchEvidence e = simulacra::switch_evidence(mix, 0, 1, pp.pirate.held_out.substr(0, n), b);
    ASSERT_GE(e.tokens_to_half, 0) << "the poet never reaches one half after " << n << " pirate bytes";
    EXPECT_GE(e.tokens_to_half, previous) << "after " << n << " pirate bytes";
    std::printf("no switching: %zu pirate bytes -> poet reaches 0.5 after %ld bytes\n", n, e.tokens_to_half);
    previous = e.tokens_to_half;
  }
  const SwitchEvidence shortest = simulacra::switch_evidence(mix, 0, 1, pp.pirate.held_out.substr(0, 25), b);
  EXPECT_GT(previous, shortest.tokens_to_half);
}

TEST(SwitchEvidenceTest, RejectsBadIndices) {
  const PiratePoet pp;
  const Mixture mix = pp.mixture();
  EXPECT_THROW(simulacra::switch_evidence(mix, -1, 1, "Arr", "O"), simulacra::OutOfRange);
  EXPECT_THROW(simulacra::switch_evidence(mix, 0, 2, "Arr", "O"), simulacra::OutOfRange);
  EXPECT_THROW(simulacra::switch_asymmetry(mix, 2, 0, "Arr", "O"), simulacra::OutOfRange);
  EXPECT_NO_THROW(simulacra::switch_evidence(mix, 0, 1, "Arr", ""));
}

// Swaps read long texts: they poll the interrupt check (interrupt.hpp).
TEST(SwitchEvidenceTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  const PiratePoet pp;
  const Mixture mix = pp.mixture();
  const std::string a(60000, 'a'), b(60000, 'o');
  const auto ref = simulacra::switch_evidence(mix, 0, 1, a, b);
  {
    TripAfter trip(4);
    EXPECT_THROW(simulacra::switch_evidence(mix, 0, 1, a, b), simulacra::Interrupted);
  }
  EXPECT_EQ(simulacra::switch_evidence(mix, 0, 1, a, b).weight_b, ref.weight_b);
}

}  // namespace
