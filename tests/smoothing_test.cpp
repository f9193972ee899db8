// Tests of smoothing.hpp and of switch points (MixtureConfig::switch_after)
// in the filter and in Viterbi: against brute-force enumeration of all K^T
// persona paths and a direct linear-space recursion.
#include "simulacra/smoothing.hpp"

#include <cmath>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/attribution.hpp"
#include "simulacra/error.hpp"

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;
using simulacra::Smoothed;

// The rule's one-step matrix after token `tok` (identity where no switch may follow).
Eigen::MatrixXd step_matrix(const MixtureConfig& c, const Eigen::VectorXd& prior, Token tok) {
  const Eigen::Index K = prior.size();
  const bool point =
      c.switch_after.empty() || tok == kBoundary ||
      std::find(c.switch_after.begin(), c.switch_after.end(), tok) != c.switch_after.end();
  Eigen::MatrixXd a = Eigen::MatrixXd::Identity(K, K);
  if (!point) return a;
  if (c.switching == Switching::kFixedShare) {
    a = (1.0 - c.alpha) * Eigen::MatrixXd::Identity(K, K) + c.alpha * Eigen::VectorXd::Ones(K) * prior.transpose();
  } else if (c.switching == Switching::kTransition) {
    a = c.transition;
  }
  return a;
}

// Every path z in K^T with its weight pi_{z_1} prod_t P(t, z_t)^beta prod_t A_t(z_t, z_{t+1});
// paths through a persona of prior 0 are left out.
struct Enumeration {
  Eigen::MatrixXd marginals;  // (T, K)
  double log_total = 0.0;     // log of the sum of all weights
  std::vector<int> best;      // the heaviest path (ties: lexicographically first)
  double log_best = -INFINITY;
};

Enumeration enumerate(const Eigen::MatrixXd& P, Eigen::VectorXd prior, const MixtureConfig& c,
                      const std::vector<Token>& tokens, double beta) {
  const int T = int(P.rows()), K = int(P.cols());
  prior /= prior.sum();
  std::vector<Eigen::MatrixXd> steps;
  for (int t = 0; t + 1 < T; ++t) steps.push_back(step_matrix(c, prior, tokens[std::size_t(t)]));
  Enumeration out;
  out.marginals = Eigen::MatrixXd::Zero(T, K);
  double total = 0.0;
  std::vector<int> z(std::size_t(T), 0);
  for (;;) {
    double w = prior[z[0]];
    bool removed = false;
    for (int t = 0; t < T; ++t) {
      removed = removed || prior[z[std::size_t(t)]] == 0.0;
      w *= std::pow(P(t, z[std::size_t(t)]), beta);
      if (t + 1 < T) w *= steps[std::size_t(t)](z[std::size_t(t)], z[std::size_t(t + 1)]);
    }
    if (!removed) {
      total += w;
      for (int t = 0; t < T; ++t) out.marginals(t, z[std::size_t(t)]) += w;
      if (std::log(w) > out.log_best) {
        out.log_best = std::log(w);
        out.best = z;
      }
    }
    int t = T - 1;
    while (t >= 0 && z[std::size_t(t)] == K - 1) z[std::size_t(t--)] = 0;
    if (t < 0) break;
    ++z[std::size_t(t)];
  }
  out.marginals /= total;
  out.log_total = std::log(total);
  return out;
}

struct SmoothCase {
  const char* name;
  MixtureConfig config;
  bool restricted;  // switch points: two of the text's own tokens
};

std::vector<SmoothCase> smooth_cases() {
  std::vector<SmoothCase> out;
  for (bool r : {false, true}) {
    out.push_back({r ? "NoneRestricted" : "None", none(1.0), r});
    out.push_back({r ? "NoneTemperedRestricted" : "NoneTempered", none(0.6), r});
    out.push_back({r ? "FixedShareRestricted" : "FixedShare", fixed_share(0.2), r});
    out.push_back({r ? "FixedShareTemperedRestricted" : "FixedShareTempered", fixed_share(0.3, 1.7), r});
    out.push_back({r ? "FixedShareAlphaOneRestricted" : "FixedShareAlphaOne", fixed_share(1.0), r});
    out.push_back({r ? "TransitionRestricted" : "Transition", transition(table_transition()), r});
    out.push_back({r ? "TransitionTemperedRestricted" : "TransitionTempered", transition(sticky(3, 0.7), 0.5), r});
  }
  return out;
}

class SmoothingTest : public ::testing::TestWithParam<SmoothCase> {};

TEST_P(SmoothingTest, WeightsEqualBruteForceEnumeration) {
  double worst = 0.0, worst_ll = 0.0;
  for (int T : {1, 2, 5, 8}) {
    for (unsigned seed : {1u, 2u, 3u}) {
      const std::vector<Token> tokens = table_text(std::size_t(T), 3, seed);
      MixtureConfig c = GetParam().config;
      if (GetParam().restricted && T > 2) c.switch_after = {tokens[1], tokens[std::size_t(T) / 2]};
      const Mixture mix(table_personas(), kTableNames, table_prior(), c);
      const Smoothed s = simulacra::smooth(mix, tokens);
      const Enumeration e = enumerate(table_probs(tokens), table_prior(), mix.config(), tokens, c.beta);
      ASSERT_EQ(s.size(), tokens.size());
      worst = worse(worst, max_abs_diff(s.weights, e.marginals));
      if (c.beta == 1.0) worst_ll = worse(worst_ll, std::abs(s.log_likelihood - e.log_total));
      for (int t = 0; t < T; ++t) {
        Eigen::Index k = 0;
        e.marginals.row(t).maxCoeff(&k);
        EXPECT_EQ(s.dominant[std::size_t(t)], int(k)) << "T " << T << " seed " << seed << " t " << t;
      }
    }
  }
  EXPECT_LE(worst, 1e-12);
  EXPECT_LE(worst_ll, 1e-11);
}

TEST_P(SmoothingTest, ViterbiEqualsBruteForceBestPath) {  // the same HMM as smoothing: emissions p^beta
  for (int T : {1, 3, 6, 8}) {
    for (unsigned seed : {4u, 5u}) {
      const std::vector<Token> tokens = table_text(std::size_t(T), 2, seed);
      MixtureConfig c = GetParam().config;
      if (GetParam().restricted && T > 2) c.switch_after = {tokens[0], tokens[std::size_t(T) - 2]};
      const Mixture mix(table_personas(), kTableNames, table_prior(), c);
      const simulacra::Attribution a = simulacra::attribute_spans(mix, tokens);
      const Enumeration e = enumerate(table_probs(tokens), table_prior(), mix.config(), tokens, c.beta);
      EXPECT_EQ(a.path, e.best) << "T " << T << " seed " << seed;
      EXPECT_NEAR(a.log_joint, e.log_best, 1e-10);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, SmoothingTest, ::testing::ValuesIn(smooth_cases()),
                         [](const ::testing::TestParamInfo<SmoothCase>& info) { return info.param.name; });

TEST(SmoothingTest, RemovedPersonaUnderTransitionIsNeverEntered) {
  const std::vector<Token> tokens = table_text(7, 2, 9);
  const Eigen::VectorXd prior = Eigen::Vector3d(0.6, 0.0, 0.4);
  const Mixture mix(table_personas(), kTableNames, prior, transition(sticky(3, 0.6)));
  const Smoothed s = simulacra::smooth(mix, tokens);
  const Enumeration e = enumerate(table_probs(tokens), prior, mix.config(), tokens, 1.0);
  EXPECT_LE(max_abs_diff(s.weights, e.marginals), 1e-12);
  EXPECT_EQ(s.weights.col(1).maxCoeff(), 0.0);
  const simulacra::Attribution a = simulacra::attribute_spans(mix, tokens);
  EXPECT_EQ(a.path, e.best);
}

// A segmentation rate and beta set on the mixture: smoothing and Viterbi read
// that HMM (brute force at the segmentation config), the filter keeps its own.
TEST(SmoothingTest, SegmentationConfigIsWhatSmoothingAndViterbiRead) {
  const std::vector<Token> tokens = table_text(7, 2, 11);
  Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.4));
  const simulacra::Trace before = mix.trace(tokens);
  mix.set_segmentation(0.05, 0.5);
  const MixtureConfig seg = mix.segmentation_config();
  EXPECT_EQ(seg.alpha, 0.05);
  EXPECT_EQ(seg.beta, 0.5);
  EXPECT_EQ(mix.config().alpha, 0.4);
  const Enumeration e = enumerate(table_probs(tokens), table_prior(), seg, tokens, 0.5);
  EXPECT_LE(max_abs_diff(simulacra::smooth(mix, tokens).weights, e.marginals), 1e-12);
  const simulacra::Attribution a = simulacra::attribute_spans(mix, tokens);
  EXPECT_EQ(a.path, e.best);
  EXPECT_NEAR(a.log_joint, e.log_best, 1e-10);
  EXPECT_EQ(mix.trace(tokens).logprobs, before.logprobs);  // the filter reads config()
  EXPECT_EQ(a.filtered, before.dominant);
  // Under another rule than fixed share, or cleared, segmentation is config().
  mix.clear_segmentation();
  EXPECT_EQ(mix.segmentation_config().alpha, 0.4);
  EXPECT_THROW(mix.set_segmentation(1.5, 1.0), simulacra::InvalidArgument);
  EXPECT_THROW(mix.set_segmentation(0.1, 0.0), simulacra::InvalidArgument);
  EXPECT_THROW(mix.set_segmentation(std::nan(""), 1.0), simulacra::InvalidArgument);
  Mixture none_mix(table_personas(), kTableNames, table_prior(), none(1.0));
  none_mix.set_segmentation(0.05, 0.5);
  EXPECT_EQ(none_mix.segmentation_config().switching, simulacra::Switching::kNone);
  EXPECT_EQ(none_mix.segmentation_config().beta, 1.0);
}

// The filter with switch points against a direct linear-space recursion.
TEST(SwitchAfterTest, FilterEqualsDirectRecursion) {
  const std::vector<Token> tokens = table_text(400, 40, 7);
  const Eigen::MatrixXd P = table_probs(tokens);
  for (MixtureConfig c : {fixed_share(0.1), fixed_share(0.3, 0.5), transition(table_transition(), 1.5)}) {
    c.switch_after = {tokens[3], tokens[10], tokens[50], ' '};
    const Mixture mix(table_personas(), kTableNames, table_prior(), c);
    const Trace tr = mix.trace(tokens);
    Eigen::VectorXd w = table_prior();
    double worst = 0.0, worst_lp = 0.0;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      worst = worse(worst, max_abs_diff(tr.log_weights.row(Eigen::Index(t)).array().exp().matrix(), w.transpose()));
      worst_lp = worse(worst_lp, std::abs(tr.logprobs[Eigen::Index(t)] - std::log(w.dot(P.row(Eigen::Index(t))))));
      for (int k = 0; k < 3; ++k) w[k] *= std::pow(P(Eigen::Index(t), k), c.beta);
      w /= w.sum();
      w = (step_matrix(mix.config(), table_prior(), tokens[t]).transpose() * w).eval();
    }
    EXPECT_LE(worst, 1e-12);
    EXPECT_LE(worst_lp, 1e-12);
    // The state's step reads the same switch points.
    auto state = mix.begin();
    state.step(tokens);
    EXPECT_LE(max_abs_diff(state.log_weights().array().exp().matrix(), w), 1e-12);
  }
}

TEST(SwitchAfterTest, BoundaryIsAlwaysASwitchPoint) {
  MixtureConfig c = fixed_share(0.25);
  c.switch_after = {'\n'};
  const std::vector<bool> s = simulacra::switch_points(c);
  EXPECT_TRUE(s[std::size_t('\n')]);
  EXPECT_TRUE(s[std::size_t(kBoundary)]);
  EXPECT_FALSE(s[std::size_t('a')]);
  EXPECT_TRUE(simulacra::switch_points(fixed_share(0.25))[std::size_t('a')]);
}

TEST(SwitchAfterTest, SetConfigSortsAndDropsRepeats) {
  MixtureConfig c = fixed_share(0.1);
  c.switch_after = {'z', '\n', 'z', kBoundary};
  const Mixture mix(table_personas(), kTableNames, table_prior(), c);
  EXPECT_EQ(mix.config().switch_after, (std::vector<Token>{'\n', 'z', kBoundary}));
}

TEST(SwitchAfterTest, TokensOutOfRangeAreRejected) {
  for (Token bad : {-1, kVocab, 1000}) {
    MixtureConfig c = fixed_share(0.1);
    c.switch_after = {'\n', bad};
    EXPECT_THROW(Mixture(table_personas(), kTableNames, table_prior(), c), simulacra::InvalidArgument) << bad;
    EXPECT_THROW(Mixture::check(c, 3), simulacra::InvalidArgument);
  }
}

// Under no switching the smoothed posterior is the whole-text posterior at
// every token, also on a long text whose likelihoods are far below 1e-308.
TEST(SmoothingTest, NoneIsTheWholeTextPosteriorOnALongText) {
  const std::vector<Token> tokens = table_text(200000, 5000, 3);
  for (double beta : {1.0, 0.3}) {
    const Mixture mix(table_personas(), kTableNames, table_prior(), none(beta));
    const Smoothed s = simulacra::smooth(mix, tokens);
    const Eigen::MatrixXd lp = mix.persona_logprobs(tokens);
    Eigen::VectorXd post = table_prior().array().log().matrix() + beta * lp.colwise().sum().transpose();
    post.array() -= ref_log_sum_exp({post[0], post[1], post[2]});
    const Eigen::RowVectorXd expected = post.array().exp().matrix().transpose();
    double worst = 0.0;
    for (Eigen::Index t = 0; t < s.weights.rows(); t += 997)
      worst = worse(worst, max_abs_diff(s.weights.row(t), expected));
    EXPECT_LE(worst, 1e-9) << beta;
  }
}

// Fixed share on a long text: finite rows summing to 1, the likelihood is
// the filter's, and the last row is the filter's posterior after the last token.
TEST(SmoothingTest, LongFixedShareTextMatchesTheFilter) {
  const std::vector<Token> tokens = table_text(300000, 2000, 4);
  for (const MixtureConfig& c : {fixed_share(1e-3), transition(sticky(3, 0.999))}) {
    const Mixture mix(table_personas(), kTableNames, table_prior(), c);
    const Smoothed s = simulacra::smooth(mix, tokens);
    const Trace tr = mix.trace(tokens);
    EXPECT_TRUE(s.weights.allFinite());
    EXPECT_LE((s.weights.rowwise().sum().array() - 1.0).abs().maxCoeff(), 1e-12);
    EXPECT_NEAR(s.log_likelihood, tr.total_logprob(), 1e-8 * std::abs(tr.total_logprob()));
    // Posterior after the last token, from the last predictive weights and emissions.
    const Eigen::Index T = Eigen::Index(tokens.size()) - 1;
    Eigen::VectorXd last = tr.log_weights.row(T).transpose() + tr.persona_logprobs.row(T).transpose();
    last.array() -= ref_log_sum_exp({last[0], last[1], last[2]});
    EXPECT_LE(max_abs_diff(s.weights.row(T), last.array().exp().matrix().transpose()), 1e-10);
    // Smoothing knows more than the filter: it finds the speaker of each segment.
    std::size_t right = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t) right += s.dominant[t] == int((t / 2000) % 3);
    EXPECT_GE(double(right) / double(tokens.size()), 0.99);
  }
}

TEST(SmoothingTest, BadInput) {
  const std::vector<Token> tokens = table_text(10, 3, 1);
  const Mixture forgetting_mix(table_personas(), kTableNames, table_prior(), forgetting(0.9));
  EXPECT_THROW(simulacra::smooth(forgetting_mix, tokens), simulacra::InvalidArgument);
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.1));
  EXPECT_THROW(simulacra::smooth(mix, {1, 2, kVocab}), simulacra::OutOfRange);
  EXPECT_THROW(simulacra::smooth(mix, {1, -1}), simulacra::OutOfRange);
  EXPECT_THROW(simulacra::smooth(mix, tokens, Eigen::MatrixXd::Zero(9, 3)), simulacra::InvalidArgument);
  const Smoothed empty = simulacra::smooth(mix, {});
  EXPECT_EQ(empty.size(), 0u);
  EXPECT_EQ(empty.weights.rows(), 0);
  EXPECT_EQ(empty.log_likelihood, 0.0);
}

}  // namespace
