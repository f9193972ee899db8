// Tests of the sampler chain's law and its defaults (sampling.hpp).
//
// Sampler::distribution is checked against a truncation written out here
// from its definition (softmax, sort, top-k, top-p prefix, min-p, temper)
// on seeded random distributions; sample() is checked to draw only from
// that law's support (an exact assertion: a truncated token is never drawn).
// The defaults are checked to be llama.cpp's, and to cut the uniform floor
// of a Kneser-Ney pile trained on ASCII text: in every context of a
// generation, no byte the pile never saw keeps any probability.
#include "simulacra/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::GenerateConfig;
using simulacra::GenerationStep;
using simulacra::InvalidArgument;
using simulacra::kBoundary;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::Sampler;
using simulacra::SamplerConfig;
using simulacra::Token;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// A seeded uniform double in [0, 1).
struct Draws {
  std::uint64_t state;
  double next() { return double(simulacra::detail::splitmix64(state) >> 11) * 0x1.0p-53; }
};

// The chain's law from its definition, in plain double arithmetic on
// normalised probabilities. `margin` is set to the distance of the nearest
// truncation threshold from a cumulative mass or a probability ratio, so that
// the caller can skip cases that rounding could decide either way.
std::vector<double> reference_law(const Eigen::VectorXd& logprobs, const SamplerConfig& c, double* margin) {
  const std::size_t n = std::size_t(logprobs.size());
  double best = -kInf;
  for (std::size_t i = 0; i < n; ++i) best = std::max(best, logprobs[Eigen::Index(i)]);
  std::vector<double> p(n);
  double z = 0.0;
  for (std::size_t i = 0; i < n; ++i) z += p[i] = std::exp(logprobs[Eigen::Index(i)] - best);
  for (double& x : p) x /= z;
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < n; ++i)
    if (logprobs[Eigen::Index(i)] > -kInf) order.push_back(i);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
  *margin = kInf;
  std::vector<double> law(n, 0.0);
  if (c.temperature == 0.0) {
    law[order[0]] = 1.0;
    return law;
  }
  std::size_t keep = c.top_k > 0 ? std::min(order.size(), std::size_t(c.top_k)) : order.size();
  if (c.top_p < 1.0) {
    double mass = 0.0;
    for (std::size_t j = 0; j < keep; ++j) mass += p[order[j]];
    double cum = 0.0;
    std::size_t prefix = keep;
    for (std::size_t j = 0; j < keep; ++j) {
      cum += p[order[j]];
      *margin = std::min(*margin, std::abs(cum - c.top_p * mass));
      if (cum >= c.top_p * mass && prefix == keep) prefix = j + 1;
    }
    keep = prefix;
  }
  std::vector<std::size_t> kept;
  for (std::size_t j = 0; j < keep; ++j) {
    const double ratio = p[order[j]] / p[order[0]];
    if (c.min_p > 0.0) *margin = std::min(*margin, std::abs(ratio - c.min_p));
    if (ratio >= c.min_p) kept.push_back(order[j]);
  }
  double total = 0.0;
  for (std::size_t i : kept) total += law[i] = std::pow(p[i], 1.0 / c.temperature);
  for (double& x : law) x /= total;
  return law;
}

// A distribution like a smoothed n-gram's: a few likely tokens, some ties,
// a long flat tail, some -inf entries; shifted by a constant.
Eigen::VectorXd random_logprobs(Draws& d, int n) {
  Eigen::VectorXd lp(n);
  for (int i = 0; i < n; ++i) {
    const double u = d.next();
    lp[i] = u < 0.1 ? -kInf : u < 0.3 ? -9.0 : u < 0.4 ? -1.5 : -6.0 * d.next();
  }
  lp[int(d.next() * n)] = 0.5;
  return (lp.array() + 10.0 * (d.next() - 0.5)).matrix();
}

TEST(SamplerDefaultsTest, AreLlamaCppsWithTopKOff) {
  const SamplerConfig c;
  EXPECT_EQ(c.temperature, 0.8);
  EXPECT_EQ(c.top_k, 0);
  EXPECT_EQ(c.top_p, 0.95);
  EXPECT_EQ(c.min_p, 0.05);
  EXPECT_EQ(c.seed, 0u);
  EXPECT_NO_THROW(simulacra::check(c));
  // generate() uses them when nothing is set.
  EXPECT_EQ(GenerateConfig{}.sampler.top_p, c.top_p);
  EXPECT_EQ(GenerateConfig{}.sampler.min_p, c.min_p);
  EXPECT_EQ(GenerateConfig{}.sampler.temperature, c.temperature);
}

TEST(SamplerDistributionTest, EqualsTheTruncationOfTheFullDistribution) {
  Draws d{2024};
  int checked = 0;
  for (int trial = 0; trial < 600; ++trial) {
    const int n = trial % 3 == 0 ? kVocab : 1 + int(d.next() * 40);
    const Eigen::VectorXd lp = random_logprobs(d, n);
    SamplerConfig c;
    c.temperature = trial % 11 == 0 ? 0.0 : 0.2 + 2.0 * d.next();
    c.top_k = d.next() < 0.5 ? 0 : 1 + int(d.next() * n);
    c.top_p = d.next() < 0.3 ? 1.0 : 0.05 + 0.95 * d.next();
    c.min_p = d.next() < 0.3 ? 0.0 : d.next() < 0.5 ? 0.05 : d.next();
    if (trial % 7 == 0) c = SamplerConfig{};
    double margin = 0.0;
    const std::vector<double> want = reference_law(lp, c, &margin);
    if (margin < 1e-9) continue;  // a threshold on a cumulative mass: rounding decides
    Sampler sampler(c);
    const Eigen::VectorXd got = sampler.distribution(lp);
    ASSERT_EQ(got.size(), n);
    for (int i = 0; i < n; ++i) {
      SCOPED_TRACE(testing::Message() << "trial " << trial << " token " << i);
      if (want[std::size_t(i)] == 0.0) {
        ASSERT_EQ(got[i], 0.0);
      } else {
        ASSERT_NEAR(got[i], want[std::size_t(i)], 1e-12 * std::max(1.0, want[std::size_t(i)]));
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 500);
}

TEST(SamplerDistributionTest, OffSwitchesKeepTheTemperedModelLaw) {
  Draws d{7};
  const Eigen::VectorXd lp = random_logprobs(d, kVocab);
  SamplerConfig off;
  off.top_p = 1.0;
  off.min_p = 0.0;
  off.temperature = 1.0;
  Sampler sampler(off);
  const Eigen::VectorXd got = sampler.distribution(lp);
  const double z = std::log((lp.array() - lp.maxCoeff()).exp().sum()) + lp.maxCoeff();
  for (int i = 0; i < kVocab; ++i) EXPECT_NEAR(got[i], std::exp(lp[i] - z), 1e-15);
}

TEST(SamplerDistributionTest, DoesNotAdvanceTheGenerator) {
  Draws d{8};
  const Eigen::VectorXd lp = random_logprobs(d, 30);
  Sampler a(SamplerConfig{}), b(SamplerConfig{});
  for (int i = 0; i < 5; ++i) a.distribution(lp);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(a.sample(lp), b.sample(lp));
}

// A Kneser-Ney-like law: 20 tokens with real mass, every other byte a
// uniform floor just under min_p times the best.
TEST(SamplerMinPTest, ATokenBelowTheThresholdIsNeverDrawn) {
  Eigen::VectorXd p = Eigen::VectorXd::Constant(kVocab, 0.0);
  for (int i = 0; i < 20; ++i) p[65 + i] = 2.0 + i;  // the best is 21, the threshold 1.05
  const double floor = 0.05 * 21.0 * (1.0 - 1e-6);
  for (int i = 0; i < kVocab; ++i)
    if (p[i] == 0.0) p[i] = floor;  // 237 floor tokens: together more mass than the real ones
  const Eigen::VectorXd lp = p.array().log().matrix();
  for (const double temperature : {0.8, 1.0, 5.0}) {
    SamplerConfig c;
    c.top_p = 1.0;  // min-p alone
    c.temperature = temperature;
    c.seed = std::uint64_t(temperature * 10);
    Sampler sampler(c);
    std::vector<long> count(kVocab, 0);
    for (int draw = 0; draw < 50000; ++draw) ++count[std::size_t(sampler.sample(lp))];
    for (int i = 0; i < kVocab; ++i) {
      if (i >= 65 && i < 85) {
        EXPECT_GT(count[std::size_t(i)], 0) << "token " << i << " above min-p never drawn at T = " << temperature;
      } else {
        ASSERT_EQ(count[std::size_t(i)], 0) << "token " << i << " below min-p drawn at T = " << temperature;
      }
    }
  }
}

TEST(SamplerConfigTest, BadTruncationsAreRefusedNamingTheField) {
  const auto refused = [](SamplerConfig c, const char* field) {
    try {
      simulacra::check(c);
      ADD_FAILURE() << field << " accepted";
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
    EXPECT_THROW(Sampler{c}, InvalidArgument);
  };
  for (const double bad : {kNaN, -0.01, 1.01, kInf, -kInf}) {
    SamplerConfig c;
    c.top_p = bad;
    refused(c, "top_p");
    c = SamplerConfig{};
    c.min_p = bad;
    refused(c, "min_p");
  }
  SamplerConfig c;
  c.top_p = 0.0;
  refused(c, "top_p");
  for (const double bad : {kNaN, -0.5, kInf}) {
    c = SamplerConfig{};
    c.temperature = bad;
    refused(c, "temperature");
  }
  c = SamplerConfig{};
  c.top_k = -1;
  refused(c, "top_k");
}

// ASCII-only personas: every byte they never saw gets only the uniform floor.
class DefaultGenerationTest : public testing::Test {
 protected:
  DefaultGenerationTest() {
    const std::vector<std::string> names = {"pirate", "poet", "doctor"};
    std::vector<std::shared_ptr<const simulacra::Persona>> personas;
    for (const std::string& name : names) {
      const std::vector<std::string> docs = simulacra::testing::paragraphs(simulacra::testing::persona_file(name));
      personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(docs, 4)));
      for (const std::string& doc : docs) seen_.insert(doc.begin(), doc.end());
    }
    mix_ = std::make_unique<Mixture>(personas, names, Eigen::Vector3d::Constant(1.0 / 3));
  }
  std::set<char> seen_;
  std::unique_ptr<Mixture> mix_;
};

TEST_F(DefaultGenerationTest, NoUnseenByteKeepsMassInAnyContext) {
  ASSERT_LT(seen_.size(), 128u);
  Sampler law(SamplerConfig{});
  long contexts = 0;
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    GenerateConfig g;
    g.max_tokens = 200;
    g.stop_at_boundary = false;
    g.sampler.seed = seed;
    g.on_step = [&](const GenerationStep& step) {
      const Eigen::VectorXd q = law.distribution(step.logprobs);
      for (int v = 0; v < 256; ++v)
        if (!seen_.count(char(v))) {
          EXPECT_EQ(q[v], 0.0) << "byte " << v << " at step " << step.index;
        }
      ++contexts;
      return true;
    };
    const auto out = simulacra::generate(*mix_, "", g);
    for (char ch : out.text) EXPECT_TRUE(seen_.count(ch)) << "unseen byte " << int((unsigned char)ch);
  }
  EXPECT_EQ(contexts, 2000);
}

TEST_F(DefaultGenerationTest, UntruncatedSamplingDoesReachTheFloor) {
  // The reason for the defaults: with the truncations off, the same pile
  // gives unseen bytes mass in every context.
  SamplerConfig off;
  off.top_p = 1.0;
  off.min_p = 0.0;
  Sampler law(off);
  const Eigen::VectorXd q = law.distribution(mix_->predict("Arr, ").logprobs);
  for (int v = 0; v < 256; ++v)
    if (!seen_.count(char(v))) {
      EXPECT_GT(q[v], 0.0) << "byte " << v;
    }
}

}  // namespace
