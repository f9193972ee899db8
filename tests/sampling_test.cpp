// Tests of the sampler chain (Sampler in sampling.hpp).
//
// The sampler is checked against hand-worked truncations of one small
// distribution: the allowed set of each stage is written out below, the
// expected law is the renormalised (tempered) model probability over that set,
// and 200k draws must match it token by token within 5 standard errors of a
// binomial proportion (excluded tokens: exactly zero draws). Generation:
// generate_test.cpp.
#include "simulacra/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::GenerateConfig;
using simulacra::GenerateMode;
using simulacra::Generation;
using simulacra::GenerationStep;
using simulacra::InvalidArgument;
using simulacra::kBoundary;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::Persona;
using simulacra::Sampler;
using simulacra::SamplerConfig;
using simulacra::Steering;
using simulacra::Token;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ------------------------------------------------------------ the distribution
//
// p = (0.04, 0.31, 0.09, 0.22, 0.18, 0.16); descending order 1, 3, 4, 5, 2, 0
// with cumulative mass 0.31, 0.53, 0.71, 0.87, 0.96, 1.00. No ties, and no
// threshold below sits within 0.005 of a cumulative mass or a probability.
const std::vector<double> kP = {0.04, 0.31, 0.09, 0.22, 0.18, 0.16};

// log p shifted by a constant: the sampler must not need normalised input.
Eigen::VectorXd shifted_logprobs(const std::vector<double>& p, double shift) {
  Eigen::VectorXd lp(Eigen::Index(p.size()));
  for (std::size_t i = 0; i < p.size(); ++i) lp[Eigen::Index(i)] = p[i] == 0.0 ? -kInf : std::log(p[i]) + shift;
  return lp;
}

// The law the sampler should follow: p_i^(1/T) over `allowed`, renormalised.
std::vector<double> expected_law(const std::vector<double>& p, const std::vector<int>& allowed, double temperature) {
  std::vector<double> q(p.size(), 0.0);
  double z = 0.0;
  for (int i : allowed) z += q[std::size_t(i)] = std::pow(p[std::size_t(i)], 1.0 / temperature);
  for (double& x : q) x /= z;
  return q;
}

// Draws `n` tokens and checks each frequency against q: within 5 standard
// errors sqrt(q (1 - q) / n) where q > 0, and never drawn where q == 0.
void expect_law(const SamplerConfig& config, const Eigen::VectorXd& logprobs, const std::vector<double>& q,
                int n = 200000) {
  Sampler sampler(config);
  std::vector<long> count(q.size(), 0);
  for (int i = 0; i < n; ++i) {
    const int t = sampler.sample(logprobs);
    ASSERT_GE(t, 0);
    ASSERT_LT(t, int(q.size()));
    ++count[std::size_t(t)];
  }
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double f = double(count[i]) / n;
    if (q[i] == 0.0) {
      EXPECT_EQ(count[i], 0) << "excluded token " << i << " was drawn";
    } else {
      const double se = std::sqrt(q[i] * (1.0 - q[i]) / n);
      EXPECT_NEAR(f, q[i], 5.0 * se) << "token " << i;
    }
  }
}

SamplerConfig config_with(double temperature, int top_k, double top_p, double min_p, std::uint64_t seed = 1) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = top_k;
  c.top_p = top_p;
  c.min_p = min_p;
  c.seed = seed;
  return c;
}

// ------------------------------------------------------------------ Sampler

TEST(SamplerTest, PlainSamplingFollowsTheDistribution) {
  expect_law(config_with(1.0, 0, 1.0, 0.0), shifted_logprobs(kP, 3.7), expected_law(kP, {0, 1, 2, 3, 4, 5}, 1.0));
}

TEST(SamplerTest, TopKKeepsTheKMostLikely) {
  // k = 3: tokens 1 (0.31), 3 (0.22), 4 (0.18).
  expect_law(config_with(1.0, 3, 1.0, 0.0, 2), shifted_logprobs(kP, -1.0), expected_law(kP, {1, 3, 4}, 1.0));
  // k = 1 is argmax; k larger than the vocabulary keeps everything.
  expect_law(config_with(1.0, 1, 1.0, 0.0, 3), shifted_logprobs(kP, 0.0), expected_law(kP, {1}, 1.0), 20000);
  expect_law(config_with(1.0, 50, 1.0, 0.0, 4), shifted_logprobs(kP, 0.0), expected_law(kP, {0, 1, 2, 3, 4, 5}, 1.0));
}

TEST(SamplerTest, TopPKeepsTheSmallestPrefixReachingP) {
  // p = 0.75: cumulative 0.31, 0.53, 0.71, 0.87 >= 0.75 -> tokens 1, 3, 4, 5.
  expect_law(config_with(1.0, 0, 0.75, 0.0, 5), shifted_logprobs(kP, 2.0), expected_law(kP, {1, 3, 4, 5}, 1.0));
  // p = 0.25: the first token alone already reaches it.
  expect_law(config_with(1.0, 0, 0.25, 0.0, 6), shifted_logprobs(kP, 0.0), expected_law(kP, {1}, 1.0), 20000);
  // p = 0.9: cumulative 0.96 >= 0.9 after five tokens -> all but token 0.
  expect_law(config_with(1.0, 0, 0.9, 0.0, 7), shifted_logprobs(kP, 0.0), expected_law(kP, {1, 3, 4, 5, 2}, 1.0));
}

TEST(SamplerTest, MinPKeepsTokensAboveAFractionOfTheMax) {
  // min_p = 0.6: threshold 0.6 * 0.31 = 0.186 -> tokens 1 (0.31), 3 (0.22).
  expect_law(config_with(1.0, 0, 1.0, 0.6, 8), shifted_logprobs(kP, -5.0), expected_law(kP, {1, 3}, 1.0));
  // min_p = 0.25: threshold 0.0775 -> everything but token 0 (0.04).
  expect_law(config_with(1.0, 0, 1.0, 0.25, 9), shifted_logprobs(kP, 0.0), expected_law(kP, {1, 2, 3, 4, 5}, 1.0));
  // min_p = 1: only the most likely token.
  expect_law(config_with(1.0, 0, 1.0, 1.0, 10), shifted_logprobs(kP, 0.0), expected_law(kP, {1}, 1.0), 20000);
}

TEST(SamplerTest, TemperatureReshapesTheLaw) {
  expect_law(config_with(0.5, 0, 1.0, 0.0, 11), shifted_logprobs(kP, 1.0), expected_law(kP, {0, 1, 2, 3, 4, 5}, 0.5));
  expect_law(config_with(2.5, 0, 1.0, 0.0, 12), shifted_logprobs(kP, 1.0), expected_law(kP, {0, 1, 2, 3, 4, 5}, 2.5));
}

TEST(SamplerTest, CombinedChainTruncatesTheModelDistributionThenTempers) {
  // top-k 5: tokens 1, 3, 4, 5, 2 (mass 0.96);
  // top-p 0.8: cumulative 0.31, 0.53, 0.71, 0.87 -> 1, 3, 4, 5 (the same prefix
  //   whether the mass is read before or after renormalising the top 5:
  //   0.87 / 0.96 = 0.906 and 0.71 / 0.96 = 0.740 bracket 0.8 too);
  // min-p 0.55 on the model's probabilities: threshold 0.1705 -> 1, 3, 4;
  // temperature 0.7 on what is left. (Tempering before min-p would leave
  // only 1 and 3: 0.18^(1/0.7) / 0.31^(1/0.7) = 0.46 < 0.55.)
  expect_law(config_with(0.7, 5, 0.8, 0.55, 13), shifted_logprobs(kP, 0.3), expected_law(kP, {1, 3, 4}, 0.7));
  // A hot temperature does not widen the truncated set: T = 4 after top-p 0.6
  // (1, 3, 4) still never draws 5, 2 or 0.
  expect_law(config_with(4.0, 0, 0.6, 0.0, 14), shifted_logprobs(kP, 0.0), expected_law(kP, {1, 3, 4}, 4.0));
}

TEST(SamplerTest, TemperatureZeroIsArgmaxLowestIndexOnTies) {
  Sampler greedy(config_with(0.0, 0, 1.0, 0.0, 99));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(greedy.sample(shifted_logprobs(kP, 0.0)), 1);
  Eigen::VectorXd tie(5);
  tie << -2.0, -0.5, -3.0, -0.5, -0.5;
  for (int i = 0; i < 100; ++i) EXPECT_EQ(greedy.sample(tie), 1);
  Eigen::VectorXd leading(4);
  leading << -kInf, -kInf, -7.0, -7.0;
  EXPECT_EQ(greedy.sample(leading), 2);
  // Truncations do not change the argmax.
  Sampler greedy_truncated(config_with(0.0, 2, 0.5, 0.9, 5));
  for (int i = 0; i < 100; ++i) EXPECT_EQ(greedy_truncated.sample(tie), 1);
  Eigen::VectorXd one(1);
  one << 0.0;
  EXPECT_EQ(greedy.sample(one), 0);
}

TEST(SamplerTest, SameSeedSameSequenceDifferentSeedDifferent) {
  const Eigen::VectorXd lp = shifted_logprobs(kP, 0.0);
  auto draws = [&](std::uint64_t seed) {
    Sampler s(config_with(1.0, 0, 1.0, 0.0, seed));
    std::vector<int> out;
    for (int i = 0; i < 1000; ++i) out.push_back(s.sample(lp));
    return out;
  };
  EXPECT_EQ(draws(42), draws(42));
  EXPECT_NE(draws(42), draws(43));
  EXPECT_NE(draws(0), draws(1));
}

TEST(SamplerTest, UniformIsInUnitIntervalAndSeeded) {
  Sampler a(config_with(1.0, 0, 1.0, 0.0, 5)), b(config_with(1.0, 0, 1.0, 0.0, 5));
  const int n = 100000;
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    ASSERT_EQ(u, b.uniform());
    sum += u;
  }
  // Mean of U(0, 1): 1/2 with standard error sqrt(1/12 / n).
  EXPECT_NEAR(sum / n, 0.5, 5.0 * std::sqrt(1.0 / 12.0 / n));
}

TEST(SamplerTest, NegativeInfinityIsNeverDrawn) {
  const std::vector<double> p = {0.0, 0.5, 0.0, 0.3, 0.0, 0.2};  // zeros become -inf
  const Eigen::VectorXd lp = shifted_logprobs(p, 0.0);
  expect_law(config_with(1.0, 0, 1.0, 0.0, 21), lp, expected_law(p, {1, 3, 5}, 1.0));
  // A hot temperature flattens the finite entries but never revives -inf.
  expect_law(config_with(50.0, 0, 1.0, 0.0, 22), lp, expected_law(p, {1, 3, 5}, 50.0));
  // top-k larger than the finite entries: still only finite ones.
  expect_law(config_with(1.0, 5, 1.0, 0.0, 23), lp, expected_law(p, {1, 3, 5}, 1.0));
  // A single finite entry is always drawn.
  Eigen::VectorXd single = Eigen::VectorXd::Constant(kVocab, -kInf);
  single[200] = -1e300;
  Sampler s(config_with(1.0, 0, 1.0, 0.0, 24));
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(s.sample(single), 200);
}

TEST(SamplerTest, AllNegativeInfinityOrNaNIsInvalid) {
  for (double t : {0.0, 1.0}) {
    Sampler s(config_with(t, 0, 1.0, 0.0, 1));
    EXPECT_THROW(s.sample(Eigen::VectorXd::Constant(6, -kInf)), InvalidArgument);
    Eigen::VectorXd with_nan = shifted_logprobs(kP, 0.0);
    with_nan[3] = kNaN;
    EXPECT_THROW(s.sample(with_nan), InvalidArgument);
    with_nan[3] = std::log(kP[3]);
    with_nan[0] = kNaN;  // NaN in place of the least likely token
    EXPECT_THROW(s.sample(with_nan), InvalidArgument);
    EXPECT_THROW(s.sample(Eigen::VectorXd::Constant(1, kNaN)), InvalidArgument);
  }
}

TEST(SamplerTest, BadConfigsAreInvalid) {
  std::vector<SamplerConfig> bad = {
      config_with(-0.5, 0, 1.0, 0.0), config_with(kNaN, 0, 1.0, 0.0),  config_with(1.0, -1, 1.0, 0.0),
      config_with(1.0, 0, 0.0, 0.0),  config_with(1.0, 0, 1.5, 0.0),   config_with(1.0, 0, -0.2, 0.0),
      config_with(1.0, 0, kNaN, 0.0), config_with(1.0, 0, 1.0, 1.5),   config_with(1.0, 0, 1.0, -0.1),
      config_with(1.0, 0, 1.0, kNaN),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_THROW(simulacra::check(bad[i]), InvalidArgument);
    EXPECT_THROW(Sampler{bad[i]}, InvalidArgument);
  }
  // The edges of the valid ranges are accepted.
  for (const SamplerConfig& good : {config_with(0.0, 0, 1.0, 0.0), config_with(1.0, 0, 1.0, 1.0),
                                    config_with(1e-300, 1, 1e-9, 0.0), config_with(1e6, 100000, 0.5, 0.5)}) {
    EXPECT_NO_THROW(simulacra::check(good));
    EXPECT_NO_THROW(Sampler{good});
  }
}

TEST(SamplerTest, ModeNamesRoundTrip) {
  EXPECT_EQ(simulacra::generate_mode_name(GenerateMode::kMixture), "mixture");
  EXPECT_EQ(simulacra::generate_mode_name(GenerateMode::kPersona), "persona");
  EXPECT_EQ(simulacra::generate_mode_from_name("mixture"), GenerateMode::kMixture);
  EXPECT_EQ(simulacra::generate_mode_from_name("persona"), GenerateMode::kPersona);
  EXPECT_THROW(simulacra::generate_mode_from_name("Persona"), InvalidArgument);
  EXPECT_THROW(simulacra::generate_mode_from_name(""), InvalidArgument);
}

}  // namespace
