// Tests of attribution.hpp: Viterbi against brute-force enumeration of all paths.
#include "simulacra/attribution.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::testing::paragraphs;
using simulacra::testing::persona_file;

using simulacra::Attribution;
using simulacra::kBoundary;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::Persona;
using simulacra::PersonaState;
using simulacra::Switching;
using simulacra::Token;

using Personas = std::vector<std::shared_ptr<const Persona>>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ----------------------------------------------------- a table persona
//
// A first-order Markov persona: logp(c, v) = log p(v | previous token c), row
// kVocab being a document start. The brute force reads the table directly.

class TablePersona final : public Persona {
 public:
  explicit TablePersona(Eigen::MatrixXd logp) : logp_(std::move(logp)) {}
  std::string kind() const override { return "table"; }
  std::unique_ptr<PersonaState> begin() const override;
  // (kVocab + 1, kVocab) natural-log probabilities.
  const Eigen::MatrixXd& logp() const { return logp_; }

 private:
  Eigen::MatrixXd logp_;
};

class TableState final : public PersonaState {
 public:
  explicit TableState(const TablePersona& p) : p_(&p) {}
  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override { out = p_->logp().row(prev_).transpose(); }
  double advance(Token token) override {
    const double lp = p_->logp()(prev_, token);
    prev_ = token == kBoundary ? kVocab : token;
    return lp;
  }
  std::unique_ptr<PersonaState> clone() const override { return std::make_unique<TableState>(*this); }

 private:
  const TablePersona* p_;
  int prev_ = kVocab;
};

std::unique_ptr<PersonaState> TablePersona::begin() const { return std::make_unique<TableState>(*this); }

// Log-normal (sigma) unnormalised probabilities per row.
std::shared_ptr<const TablePersona> random_table(unsigned seed, double sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> z(0.0, sigma);
  Eigen::MatrixXd p(kVocab + 1, kVocab);
  for (int c = 0; c <= kVocab; ++c) {
    for (int v = 0; v < kVocab; ++v) p(c, v) = std::exp(z(gen));
    p.row(c) /= p.row(c).sum();
  }
  return std::make_shared<TablePersona>(p.array().log().matrix());
}

const std::vector<std::shared_ptr<const TablePersona>>& tables() {
  static const std::vector<std::shared_ptr<const TablePersona>> t = {random_table(11, 1.5), random_table(22, 1.5),
                                                                     random_table(33, 1.5)};
  return t;
}

Eigen::VectorXd table_prior() {
  Eigen::VectorXd p(3);
  p << 0.5, 0.3, 0.2;
  return p;
}

Mixture table_mixture(MixtureConfig config) {
  return Mixture(Personas(tables().begin(), tables().end()), {"red", "green", "blue"}, table_prior(),
                 std::move(config));
}

// A random text of n tokens over a small alphabet (boundaries included).
std::vector<Token> random_text(std::size_t n, unsigned seed) {
  static const Token alphabet[] = {'a', 'b', 'c', 'd', kBoundary};
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> pick(0, 4);
  std::vector<Token> out(n);
  for (auto& t : out) t = alphabet[pick(gen)];
  return out;
}

// ----------------------------------------------------- the brute force

// log p(path, x) = log pi_{z1} + sum_t log p_{z_t}(x_t | x_<t) + sum_t log A(z_{t-1}, z_t),
// the emissions read from the tables, A linear (K x K).
double brute_log_joint(const std::vector<int>& path, const std::vector<Token>& x, const Eigen::VectorXd& prior,
                       const Eigen::MatrixXd& a) {
  double total = std::log(prior[path[0]]);
  int prev = kVocab;
  for (std::size_t t = 0; t < x.size(); ++t) {
    total += tables()[std::size_t(path[t])]->logp()(prev, x[t]);
    if (t > 0) total += std::log(a(path[t - 1], path[t]));
    prev = x[t] == kBoundary ? kVocab : x[t];
  }
  return total;
}

// max over all K^T paths of brute_log_joint.
double brute_max(const std::vector<Token>& x, const Eigen::VectorXd& prior, const Eigen::MatrixXd& a) {
  const int K = int(prior.size());
  std::vector<int> path(x.size(), 0);
  double best = -kInf;
  for (;;) {
    best = std::max(best, brute_log_joint(path, x, prior, a));
    std::size_t i = 0;
    while (i < path.size() && ++path[i] == K) path[i++] = 0;
    if (i == path.size()) return best;
  }
}

void expect_tiles(const Attribution& a, std::size_t T) {
  ASSERT_EQ(a.path.size(), T);
  std::size_t at = 0;
  for (std::size_t s = 0; s < a.spans.size(); ++s) {
    const auto& span = a.spans[s];
    EXPECT_EQ(span.begin, at);
    EXPECT_LT(span.begin, span.end);
    if (s > 0) {
      EXPECT_NE(span.persona, a.spans[s - 1].persona) << "runs are not maximal";
    }
    for (std::size_t t = span.begin; t < span.end && t < T; ++t) EXPECT_EQ(a.path[t], span.persona);
    at = span.end;
  }
  EXPECT_EQ(at, T);
}

// Checks attribute_spans against the brute force for T = 1..8, several texts each.
void check_brute_force(const Mixture& mix, const Eigen::MatrixXd& a) {
  double worst = 0.0;
  int switches = 0;
  for (std::size_t T = 1; T <= 8; ++T) {
    for (unsigned seed = 0; seed < 4; ++seed) {
      const auto x = random_text(T, unsigned(100 * T + seed));
      const Attribution got = simulacra::attribute_spans(mix, x);
      expect_tiles(got, T);
      const double best = brute_max(x, mix.prior(), a);
      worst = std::max(worst, std::abs(got.log_joint - best));
      EXPECT_NEAR(got.log_joint, best, 1e-10) << "T = " << T << " seed " << seed;
      EXPECT_NEAR(brute_log_joint(got.path, x, mix.prior(), a), best, 1e-10) << "T = " << T << " seed " << seed;
      EXPECT_EQ(got.filtered, mix.trace(x).dominant);
      switches += int(got.spans.size()) - 1;
    }
  }
  fmt::print("max |viterbi - brute force| = {:.3g}, {} switches in the best paths\n", worst, switches);
}

Eigen::MatrixXd fixed_share_matrix(double alpha) {
  const Eigen::VectorXd pi = table_prior();
  Eigen::MatrixXd a(3, 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) a(i, j) = (i == j ? 1.0 - alpha : 0.0) + alpha * pi[j];
  return a;
}

// ----------------------------------------------------- the tests

TEST(AttributionTest, NoneMatchesBruteForce) {
  const Mixture mix = table_mixture({});
  check_brute_force(mix, Eigen::MatrixXd::Identity(3, 3));
}

class FixedShareTest : public ::testing::TestWithParam<double> {};

TEST_P(FixedShareTest, MatchesBruteForce) {
  const double alpha = GetParam();
  MixtureConfig cfg;
  cfg.switching = Switching::kFixedShare;
  cfg.alpha = alpha;
  check_brute_force(table_mixture(cfg), fixed_share_matrix(alpha));
}

INSTANTIATE_TEST_SUITE_P(Alphas, FixedShareTest, ::testing::Values(0.0, 1e-3, 0.05, 0.3, 0.7, 1.0));

TEST(AttributionTest, TransitionMatchesBruteForce) {
  for (unsigned seed : {1u, 2u, 3u}) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    Eigen::MatrixXd a(3, 3);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) a(i, j) = u(gen);
      a.row(i) /= a.row(i).sum();
    }
    if (seed == 3) {  // an impossible switch: log A = -inf
      a(0, 2) = 0.0;
      a.row(0) /= a.row(0).sum();
    }
    MixtureConfig cfg;
    cfg.switching = Switching::kTransition;
    cfg.transition = a;
    check_brute_force(table_mixture(cfg), a);
  }
}

TEST(AttributionTest, NoneIsOneSpan) {
  const Mixture mix = table_mixture({});
  const auto x = random_text(50, 7);
  const Attribution got = simulacra::attribute_spans(mix, x);
  ASSERT_EQ(got.spans.size(), 1u);
  EXPECT_EQ(got.spans[0].begin, 0u);
  EXPECT_EQ(got.spans[0].end, 50u);
}

TEST(AttributionTest, EmptyTokens) {
  MixtureConfig cfg;
  cfg.switching = Switching::kFixedShare;
  cfg.alpha = 0.1;
  const Attribution got = simulacra::attribute_spans(table_mixture(cfg), {});
  EXPECT_TRUE(got.path.empty());
  EXPECT_TRUE(got.spans.empty());
  EXPECT_TRUE(got.filtered.empty());
  EXPECT_EQ(got.log_joint, 0.0);
}

TEST(AttributionTest, ForgettingThrows) {
  MixtureConfig cfg;
  cfg.switching = Switching::kForgetting;
  cfg.gamma = 0.9;
  EXPECT_THROW(simulacra::attribute_spans(table_mixture(cfg), random_text(5, 1)), simulacra::InvalidArgument);
}

TEST(AttributionTest, BadTokenThrows) {
  EXPECT_THROW(simulacra::attribute_spans(table_mixture({}), {'a', kVocab}), simulacra::OutOfRange);
}

// ----------------------------------------------------- n-gram personas

std::shared_ptr<const Persona> ngram(const std::string& name, int order) {
  return std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(paragraphs(persona_file(name)), order));
}

TEST(AttributionTest, FindsTheSwapBetweenTwoPersonas) {
  const std::vector<std::string> names = {"pirate", "poet", "scientist", "doctor"};
  Personas personas;
  for (const auto& n : names) personas.push_back(ngram(n, 4));
  MixtureConfig cfg;
  cfg.switching = Switching::kFixedShare;
  cfg.alpha = 1e-3;
  const Mixture mix(personas, names, Eigen::VectorXd::Constant(4, 0.25), cfg);
  const std::string pirate = paragraphs(persona_file("pirate"))[0] + " ";
  const std::string scientist = paragraphs(persona_file("scientist"))[0];
  const auto tokens = simulacra::encode(pirate + scientist);
  const Attribution got = simulacra::attribute_spans(mix, tokens);
  expect_tiles(got, tokens.size());
  for (const auto& s : got.spans) fmt::print("[{}, {}) {}\n", s.begin, s.end, names[std::size_t(s.persona)]);
  ASSERT_EQ(got.spans.size(), 2u);
  EXPECT_EQ(got.spans[0].persona, 0);
  EXPECT_EQ(got.spans[1].persona, 2);
  const double swap = double(pirate.size());
  EXPECT_LE(std::abs(double(got.spans[1].begin) - swap), 5.0) << "swap at " << swap;
}

TEST(AttributionTest, HundredKilobytesEightPersonas) {
  const std::vector<std::string> files = {"assistant", "doctor", "pirate", "poet", "scientist", "trickster"};
  Personas personas;
  std::vector<std::string> names;
  std::string text;
  for (const auto& f : files) {
    personas.push_back(ngram(f, 4));
    names.push_back(f);
    text += persona_file(f);
  }
  personas.push_back(ngram("pirate", 2));
  names.push_back("pirate2");
  personas.push_back(ngram("poet", 2));
  names.push_back("poet2");
  ASSERT_GE(text.size(), 100000u);
  text.resize(100000);
  const auto tokens = simulacra::encode(text);
  MixtureConfig cfg;
  cfg.switching = Switching::kFixedShare;
  cfg.alpha = 1e-3;
  const Mixture mix(personas, names, Eigen::VectorXd::Constant(8, 0.125), cfg);

  const auto t0 = std::chrono::steady_clock::now();
  const simulacra::Trace tr = mix.trace(tokens);
  const auto t1 = std::chrono::steady_clock::now();
  const Attribution got = simulacra::attribute_spans(mix, tokens);
  const auto t2 = std::chrono::steady_clock::now();
  const double trace_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  const double attr_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  fmt::print("T = {}, K = 8: attribute_spans {:.1f} ms, trace {:.1f} ms (ratio {:.2f}), {} spans\n", tokens.size(),
             attr_ms, trace_ms, attr_ms / trace_ms, got.spans.size());
  expect_tiles(got, tokens.size());
  EXPECT_EQ(got.filtered, tr.dominant);
  EXPECT_TRUE(std::isfinite(got.log_joint));
  // The best path is at least as likely as the single best persona throughout.
  const Eigen::VectorXd single = mix.prior().array().log().matrix() + tr.persona_logprobs.colwise().sum().transpose() +
                                 Eigen::VectorXd::Constant(8, double(tokens.size() - 1) * std::log1p(-cfg.alpha * 7.0 / 8.0));
  EXPECT_GE(got.log_joint, single.maxCoeff() - 1e-6);
}

// The Viterbi pass and the trace under it poll the interrupt check (interrupt.hpp).
TEST(AttributionTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  MixtureConfig cfg;
  cfg.switching = Switching::kFixedShare;
  cfg.alpha = 0.01;
  const Mixture mix = table_mixture(cfg);
  const auto tokens = random_text(50000, 7);
  const Attribution ref = simulacra::attribute_spans(mix, tokens);
  for (int n : {0, 8, 40}) {
    TripAfter trip(n);
    EXPECT_THROW(simulacra::attribute_spans(mix, tokens), simulacra::Interrupted) << n;
  }
  EXPECT_EQ(simulacra::attribute_spans(mix, tokens).path, ref.path);
}

}  // namespace
