// Tests of the posterior-weighted mixture (mixture.hpp).
//
// Every numeric result is checked against an independent reference written
// here: the Bayesian marginal from each persona's own scores, and the
// switching recursions run by brute force in linear probability space
// (doubles, renormalised every token, texts short enough not to underflow)
// over small context-dependent table personas whose probabilities the test
// knows exactly. Tolerances are stated at each check.
#include "simulacra/mixture.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::testing::read_text;
using simulacra::testing::paragraphs;
using simulacra::testing::persona_file;

using simulacra::kBoundary;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::Persona;
using simulacra::PersonaState;
using simulacra::Steering;
using simulacra::Switching;
using simulacra::Token;
using simulacra::Trace;

using Personas = std::vector<std::shared_ptr<const Persona>>;

// ------------------------------------------------------------------ helpers

const std::string& shakespeare() {
  static const std::string text = read_text(SIMULACRA_SHARED_DATA "/tinyshakespeare.txt");
  return text;
}

// Order-4 Kneser-Ney personas trained on four clearly different corpora.
const std::vector<std::shared_ptr<const simulacra::NGramPersona>>& file_ngrams() {
  static const auto models = [] {
    std::vector<std::shared_ptr<const simulacra::NGramPersona>> m;
    for (const char* name : {"pirate", "poet", "scientist", "doctor"})
      m.push_back(std::make_shared<simulacra::NGramPersona>(
          simulacra::NGramPersona::fit(paragraphs(persona_file(name)), 4)));
    return m;
  }();
  return models;
}

Personas file_personas() {
  Personas p;
  for (const auto& m : file_ngrams()) p.push_back(m);
  return p;
}

const std::vector<std::string> kFileNames = {"pirate", "poet", "scientist", "doctor"};

// A stream of exactly n tokens: the documents `docs` in turn, each
// followed by the boundary, the last one cut short.
std::vector<Token> document_stream(const std::vector<std::string>& docs, std::size_t n) {
  std::vector<Token> out;
  for (std::size_t i = 0; out.size() < n; i = (i + 1) % docs.size()) {
    const auto d = simulacra::encode_document(docs[i]);
    out.insert(out.end(), d.begin(), d.end());
  }
  out.resize(n);
  return out;
}

// log sum_i exp(x_i) in long double, written independently of the library.
double ref_log_sum_exp(const std::vector<double>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x) m = std::max(m, v);
  if (m == -std::numeric_limits<double>::infinity()) return m;
  long double s = 0.0L;
  for (double v : x) s += std::exp(static_cast<long double>(v) - m);
  return m + static_cast<double>(std::log(s));
}

// The larger of a running worst difference and d; a NaN sticks, so that a
// following EXPECT_LE(worst, tolerance) fails on it.
double worse(double worst, double d) { return std::isnan(worst) || d <= worst ? worst : d; }

// max |a - b| over all entries (NaN if any difference is NaN, inf on a shape mismatch).
double max_abs_diff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return std::numeric_limits<double>::infinity();
  double worst = 0.0;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    for (Eigen::Index i = 0; i < a.rows(); ++i) worst = worse(worst, std::abs(a(i, j) - b(i, j)));
  return worst;
}

// ----------------------------------------------------- a table persona
//
// A first-order Markov persona with an explicit table: probs(c, v) =
// p(v | previous token c), row kVocab being a document start. The test knows
// every probability, so the brute-force references need no persona code.

class TablePersona final : public Persona {
 public:
  explicit TablePersona(Eigen::MatrixXd probs) : probs_(std::move(probs)), logp_(probs_.array().log()) {}

  std::string kind() const override { return "table"; }
  std::unique_ptr<PersonaState> begin() const override;
  // (kVocab + 1, kVocab) linear probabilities.
  const Eigen::MatrixXd& probs() const { return probs_; }
  const Eigen::MatrixXd& logp() const { return logp_; }

 private:
  Eigen::MatrixXd probs_;
  Eigen::MatrixXd logp_;
};

class TableState final : public PersonaState {
 public:
  explicit TableState(const TablePersona& p) : p_(&p) {}
  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    if (out.size() != kVocab) throw simulacra::InvalidArgument("next_logprobs: bad size");
    out = p_->logp().row(prev_).transpose();
  }
  double advance(Token token) override {
    if (token < 0 || token >= kVocab) throw simulacra::OutOfRange("advance: bad token");
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

// A random table: log-normal (sigma) unnormalised probabilities per row, so
// per-token log-likelihood ratios between personas stay moderate.
std::shared_ptr<const TablePersona> random_table(unsigned seed, double sigma) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> z(0.0, sigma);
  Eigen::MatrixXd p(kVocab + 1, kVocab);
  for (int c = 0; c <= kVocab; ++c) {
    for (int v = 0; v < kVocab; ++v) p(c, v) = std::exp(z(gen));
    p.row(c) /= p.row(c).sum();
  }
  return std::make_shared<TablePersona>(p);
}

// K = 3 table personas.
const std::vector<std::shared_ptr<const TablePersona>>& tables() {
  static const std::vector<std::shared_ptr<const TablePersona>> t = {random_table(11, 0.6), random_table(22, 0.6),
                                                                     random_table(33, 0.6)};
  return t;
}

Personas table_personas() { return Personas(tables().begin(), tables().end()); }

const std::vector<std::string> kTableNames = {"red", "green", "blue"};

Eigen::VectorXd table_prior() { return Eigen::Vector3d(0.5, 0.3, 0.2); }

// n tokens sampled from the table personas in turn, `segment` tokens each:
// a text whose best persona changes, so the switching rules matter.
std::vector<Token> table_text(std::size_t n, std::size_t segment, unsigned seed) {
  std::mt19937 gen(seed);
  std::vector<Token> out;
  int prev = kVocab;
  for (std::size_t t = 0; t < n; ++t) {
    const auto& p = tables()[(t / segment) % tables().size()]->probs();
    std::vector<double> row(static_cast<std::size_t>(kVocab));
    for (int v = 0; v < kVocab; ++v) row[std::size_t(v)] = p(prev, v);
    std::discrete_distribution<int> d(row.begin(), row.end());
    const Token tok = d(gen);
    out.push_back(tok);
    prev = tok == kBoundary ? kVocab : tok;
  }
  return out;
}

// (T, K) linear probabilities p_k(x_t | x_<t) read straight from the tables.
Eigen::MatrixXd table_probs(const std::vector<Token>& tokens) {
  const int K = int(tables().size());
  Eigen::MatrixXd P(Eigen::Index(tokens.size()), K);
  for (int k = 0; k < K; ++k) {
    int prev = kVocab;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      P(Eigen::Index(t), k) = tables()[std::size_t(k)]->probs()(prev, tokens[t]);
      prev = tokens[t] == kBoundary ? kVocab : tokens[t];
    }
  }
  return P;
}

// The switching recursions of the specification, by brute force in linear
// probability space. `allowed` (empty: all) masks the predicting weights only.
struct Reference {
  Eigen::MatrixXd weights;   // (T, K) steered weights before each token
  Eigen::VectorXd logprobs;  // (T) log of the mixture probability
};

Reference brute_force(const Eigen::MatrixXd& P, Eigen::VectorXd prior, const MixtureConfig& c,
                      std::vector<bool> allowed = {}) {
  const Eigen::Index T = P.rows(), K = P.cols();
  if (allowed.empty()) allowed.assign(std::size_t(K), true);
  prior /= prior.sum();
  Eigen::VectorXd w = prior;
  Eigen::VectorXd r = Eigen::VectorXd::Ones(K);  // forgetting: prod_s p_k(x_s)^(gamma^(t-s)), rescaled
  Reference ref;
  ref.weights.resize(T, K);
  ref.logprobs.resize(T);
  for (Eigen::Index t = 0; t < T; ++t) {
    Eigen::VectorXd s = w;
    for (Eigen::Index k = 0; k < K; ++k)
      if (!allowed[std::size_t(k)]) s[k] = 0.0;
    s /= s.sum();
    ref.weights.row(t) = s.transpose();
    double p = 0.0;
    for (Eigen::Index k = 0; k < K; ++k) p += s[k] * P(t, k);
    ref.logprobs[t] = std::log(p);
    if (c.switching == Switching::kForgetting) {
      for (Eigen::Index k = 0; k < K; ++k) r[k] = std::pow(r[k], c.gamma) * P(t, k);
      r /= r.maxCoeff();  // a common factor cancels in the normalisation below
      for (Eigen::Index k = 0; k < K; ++k) w[k] = prior[k] * std::pow(r[k], c.beta);
      w /= w.sum();
      continue;
    }
    for (Eigen::Index k = 0; k < K; ++k) w[k] *= std::pow(P(t, k), c.beta);
    w /= w.sum();
    if (c.switching == Switching::kFixedShare) {
      w = (1.0 - c.alpha) * w + c.alpha * prior;
    } else if (c.switching == Switching::kTransition) {
      Eigen::VectorXd v = Eigen::VectorXd::Zero(K);
      for (Eigen::Index j = 0; j < K; ++j)
        for (Eigen::Index i = 0; i < K; ++i) v[j] += w[i] * c.transition(i, j);
      for (Eigen::Index j = 0; j < K; ++j)
        if (prior[j] == 0.0) v[j] = 0.0;  // a removed persona: the chain never enters it
      w = v / v.sum();
    }
  }
  return ref;
}

// Largest |exp(log_weights) - weights| and |logprobs - ref.logprobs|.
double max_weight_diff(const Trace& tr, const Reference& ref) {
  return max_abs_diff(tr.log_weights.array().exp().matrix(), ref.weights);
}
double max_logprob_diff(const Trace& tr, const Reference& ref) {
  return max_abs_diff(tr.logprobs, ref.logprobs);
}

MixtureConfig none(double beta) {
  MixtureConfig c;
  c.beta = beta;
  return c;
}
MixtureConfig fixed_share(double alpha, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kFixedShare;
  c.alpha = alpha;
  c.beta = beta;
  return c;
}
MixtureConfig forgetting(double gamma, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kForgetting;
  c.gamma = gamma;
  c.beta = beta;
  return c;
}
MixtureConfig transition(Eigen::MatrixXd a, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kTransition;
  c.transition = std::move(a);
  c.beta = beta;
  return c;
}

// A 3 x 3 row-stochastic matrix with a zero entry and unequal rows.
Eigen::MatrixXd table_transition() {
  Eigen::MatrixXd a(3, 3);
  a << 0.90, 0.10, 0.00,  //
      0.05, 0.80, 0.15,   //
      0.20, 0.30, 0.50;
  return a;
}

// A K x K row-stochastic matrix with `stay` on the diagonal.
Eigen::MatrixXd sticky(int K, double stay) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Constant(K, K, (1.0 - stay) / (K - 1));
  a.diagonal().setConstant(stay);
  return a;
}

// ============================================ 1. the exact Bayesian identity

TEST(MixtureIdentityTest, ProductOfPredictionsIsBayesianMarginal) {
  const Personas personas = file_personas();
  const Eigen::Vector4d prior(0.1, 0.2, 0.3, 0.4);
  const Mixture mix(personas, kFileNames, prior);
  // 10,000 tokens of Shakespeare paragraphs, each a document.
  const auto tokens = document_stream(paragraphs(shakespeare().substr(0, 40000)), 10000);
  ASSERT_EQ(tokens.size(), 10000u);
  const double mixture_total = mix.trace(tokens).logprobs.sum();

  // Reference: log sum_k pi_k prod_t p_k(x_t | x_<t) from each persona's own scores.
  std::vector<double> terms;
  for (std::size_t k = 0; k < personas.size(); ++k) {
    double s = 0.0;
    for (double lp : personas[k]->score(tokens)) s += lp;
    terms.push_back(std::log(prior[Eigen::Index(k)]) + s);
  }
  const double marginal = ref_log_sum_exp(terms);
  const double rel = std::abs(mixture_total - marginal) / std::abs(marginal);
  std::printf("[ identity ] mixture %.12f, marginal %.12f, relative difference %.3e (tolerance 1e-4)\n",
              mixture_total, marginal, rel);
  RecordProperty("identity_relative_difference", std::to_string(rel));
  EXPECT_LE(rel, 1e-4);
  EXPECT_LE(rel, 1e-10) << "far above rounding error";
}

// Switching rules at their no-switching settings reduce to the same marginal.
TEST(MixtureIdentityTest, DegenerateSwitchingIsBayesianMarginal) {
  const Personas personas = file_personas();
  const Eigen::Vector4d prior(0.4, 0.3, 0.2, 0.1);
  const auto tokens = document_stream(paragraphs(shakespeare().substr(50000, 20000)), 3000);
  std::vector<double> terms;
  for (std::size_t k = 0; k < personas.size(); ++k) {
    double s = 0.0;
    for (double lp : personas[k]->score(tokens)) s += lp;
    terms.push_back(std::log(prior[Eigen::Index(k)]) + s);
  }
  const double marginal = ref_log_sum_exp(terms);
  for (const MixtureConfig& c : {fixed_share(0.0), forgetting(1.0), transition(Eigen::MatrixXd::Identity(4, 4))}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching));
    const Mixture mix(personas, kFileNames, prior, c);
    EXPECT_LE(std::abs(mix.trace(tokens).total_logprob() - marginal) / std::abs(marginal), 1e-10);
  }
}

// ================================ 2. brute-force recursions per switching rule

struct RuleCase {
  const char* name;
  MixtureConfig config;
};

class SwitchingRuleTest : public ::testing::TestWithParam<RuleCase> {};

// 400 tokens, best persona changing every 80: tolerance 1e-10 absolute on
// weights and on log-probabilities.
TEST_P(SwitchingRuleTest, TraceMatchesBruteForce) {
  const auto tokens = table_text(400, 80, 7);
  const Eigen::MatrixXd P = table_probs(tokens);
  const Mixture mix(table_personas(), kTableNames, table_prior(), GetParam().config);
  const Trace tr = mix.trace(tokens);
  const Reference ref = brute_force(P, table_prior(), GetParam().config);
  ASSERT_EQ(tr.size(), tokens.size());
  EXPECT_LE(max_abs_diff(tr.persona_logprobs, P.array().log().matrix()), 1e-12);
  EXPECT_LE(max_abs_diff(tr.log_weights.row(0).transpose().array().exp().matrix(), table_prior()), 1e-15)
      << "the weights before the first token are the prior";
  EXPECT_LE(max_weight_diff(tr, ref), 1e-10);
  EXPECT_LE(max_logprob_diff(tr, ref), 1e-10);
}

// Exclusion zeroes weights for predicting only; the filter underneath keeps
// all personas (this matters for fixed share and transition).
TEST_P(SwitchingRuleTest, ExcludeMatchesBruteForce) {
  const auto tokens = table_text(400, 80, 8);
  const Mixture mix(table_personas(), kTableNames, table_prior(), GetParam().config);
  Steering s;
  s.exclude = {1};
  const Trace tr = mix.trace(tokens, s);
  const Reference ref = brute_force(table_probs(tokens), table_prior(), GetParam().config, {true, false, true});
  EXPECT_LE(max_weight_diff(tr, ref), 1e-10);
  EXPECT_LE(max_logprob_diff(tr, ref), 1e-10);
  EXPECT_TRUE((tr.log_weights.col(1).array() == -INFINITY).all());
}

// A prior bias is the prior pi exp(bias), renormalised; fixed share and
// forgetting pull towards that biased prior.
TEST_P(SwitchingRuleTest, PriorBiasMatchesBruteForce) {
  const auto tokens = table_text(400, 80, 9);
  const Mixture mix(table_personas(), kTableNames, table_prior(), GetParam().config);
  Steering s;
  s.prior_bias = Eigen::Vector3d(-1.0, 0.5, 2.0);
  const Trace tr = mix.trace(tokens, s);
  const Eigen::VectorXd biased = table_prior().array() * s.prior_bias.array().exp();
  const Reference ref = brute_force(table_probs(tokens), biased, GetParam().config);
  EXPECT_LE(max_weight_diff(tr, ref), 1e-10);
  EXPECT_LE(max_logprob_diff(tr, ref), 1e-10);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, SwitchingRuleTest,
    ::testing::Values(RuleCase{"NoneBetaOne", none(1.0)}, RuleCase{"NoneBetaHalf", none(0.5)},
                      RuleCase{"NoneBetaTwo", none(2.0)}, RuleCase{"FixedShare", fixed_share(0.05)},
                      RuleCase{"FixedShareTempered", fixed_share(0.2, 1.5)},
                      RuleCase{"FixedShareAlphaOne", fixed_share(1.0, 0.7)},
                      RuleCase{"Forgetting", forgetting(0.9)}, RuleCase{"ForgettingTempered", forgetting(0.7, 0.5)},
                      RuleCase{"ForgettingGammaZero", forgetting(0.0, 2.0)},
                      RuleCase{"ForgettingGammaOne", forgetting(1.0, 0.5)},
                      RuleCase{"Transition", transition(table_transition())},
                      RuleCase{"TransitionTempered", transition(table_transition(), 2.0)}),
    [](const ::testing::TestParamInfo<RuleCase>& info) { return std::string(info.param.name); });

// Fixed share is the transition A = (1 - alpha) I + alpha 1 pi^T.
TEST(SwitchingRuleEquivalenceTest, FixedShareIsTransitionTowardsPrior) {
  const auto tokens = table_text(400, 80, 10);
  const Eigen::VectorXd pi = table_prior() / table_prior().sum();
  for (double alpha : {0.01, 0.3, 1.0}) {
    for (double beta : {1.0, 0.6}) {
      SCOPED_TRACE("alpha " + std::to_string(alpha) + " beta " + std::to_string(beta));
      const Eigen::MatrixXd a =
          (1.0 - alpha) * Eigen::MatrixXd::Identity(3, 3) + alpha * Eigen::VectorXd::Ones(3) * pi.transpose();
      const Trace fs = Mixture(table_personas(), kTableNames, table_prior(), fixed_share(alpha, beta)).trace(tokens);
      const Trace tr = Mixture(table_personas(), kTableNames, table_prior(), transition(a, beta)).trace(tokens);
      EXPECT_LE(max_abs_diff(fs.log_weights.array().exp().matrix(), tr.log_weights.array().exp().matrix()), 1e-12);
      EXPECT_LE(max_abs_diff(fs.logprobs, tr.logprobs), 1e-12);
    }
  }
}

// ===================================================== 3. no underflow

TEST(MixtureUnderflowTest, MillionTokensEveryRule) {
  const Personas personas = file_personas();
  const Eigen::Vector4d prior(0.25, 0.25, 0.25, 0.25);
  std::vector<Token> tokens = simulacra::encode(shakespeare().substr(0, 999999));
  tokens.push_back(kBoundary);
  ASSERT_EQ(tokens.size(), 1000000u);
  for (const MixtureConfig& c : {none(1.0), fixed_share(0.01), forgetting(0.999), transition(sticky(4, 0.99))}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching) + " beta " + std::to_string(c.beta));
    const Trace tr = Mixture(personas, kFileNames, prior, c).trace(tokens);
    ASSERT_EQ(tr.size(), tokens.size());
    long bad_logprob = 0, bad_sum = 0, bad_entropy = 0;
    double worst_sum = 0.0, min_log_weight = 0.0;
    for (Eigen::Index t = 0; t < tr.log_weights.rows(); ++t) {
      if (!std::isfinite(tr.logprobs[t]) || tr.logprobs[t] > 0.0) ++bad_logprob;
      const double d = std::abs(tr.log_weights.row(t).array().exp().sum() - 1.0);
      worst_sum = worse(worst_sum, d);
      if (!(d <= 1e-9)) ++bad_sum;
      if (!std::isfinite(tr.entropy[t]) || tr.entropy[t] < -1e-12 || tr.entropy[t] > std::log(4.0) + 1e-12)
        ++bad_entropy;
      min_log_weight = std::min(min_log_weight, tr.log_weights.row(t).minCoeff());
    }
    EXPECT_EQ(bad_logprob, 0) << "rows with a non-finite or positive log-probability";
    EXPECT_EQ(bad_sum, 0) << "rows whose weights do not sum to 1 within 1e-9; worst " << worst_sum;
    EXPECT_EQ(bad_entropy, 0) << "rows with a non-finite or out-of-range entropy";
    EXPECT_TRUE(std::isfinite(tr.total_logprob()));
    if (c.switching == Switching::kNone) {
      // Weights far below the smallest double: only log space keeps them.
      EXPECT_LT(min_log_weight, -800.0);
      EXPECT_TRUE(std::isfinite(min_log_weight));
    }
  }
}

// ============================================ 4. MixtureState against trace

// The worst disagreements found reading `tokens` with a MixtureState.
struct StateCheck {
  int mismatched_steps = 0;    // step() != trace().logprobs (bitwise)
  int mismatched_weights = 0;  // log_weights() != trace().log_weights (bitwise)
  double sum = 0.0;            // |sum exp(predict().logprobs) - 1|
  double pred = 0.0;           // |predict().logprobs[x_t] - step(x_t)|
  double rows = 0.0;           // |predict().persona_logprobs row k - persona k's own distribution|
  double persona_walk = 0.0;   // |predict().persona_logprobs(k, x_t) - persona k's own advance(x_t)|
  double mix = 0.0;            // |predict().logprobs - logsumexp_k(log_weights + persona_logprobs)|
};

// own(k, context) is persona k's next-token distribution after `context`,
// the current document's tokens, computed without the mixture.
template <class Own>
StateCheck check_state(const Mixture& mix, const std::vector<Token>& tokens, const Steering& s, Own own) {
  StateCheck r;
  const Trace tr = mix.trace(tokens, s);
  auto state = mix.begin(s);
  const int K = mix.size();
  std::vector<Token> context;
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    const Eigen::Index row = Eigen::Index(t);
    const Token x = tokens[t];
    if (!(state.log_weights().transpose().array() == tr.log_weights.row(row).array()).all()) ++r.mismatched_weights;
    const simulacra::Prediction p = state.predict();
    if (!(p.log_weights.array() == state.log_weights().array()).all()) ++r.mismatched_weights;
    r.sum = worse(r.sum, std::abs(p.logprobs.array().exp().sum() - 1.0));
    for (int k = 0; k < K; ++k) {
      r.rows = worse(r.rows, max_abs_diff(p.persona_logprobs.row(k).transpose(), own(k, context)));
      const double walk = state.persona_state(k).clone()->advance(x);
      r.persona_walk = worse(r.persona_walk, std::abs(p.persona_logprobs(k, x) - walk));
    }
    for (int v = 0; v < kVocab; ++v) {
      std::vector<double> col;
      for (int k = 0; k < K; ++k) col.push_back(p.log_weights[k] + p.persona_logprobs(k, v));
      r.mix = worse(r.mix, std::abs(ref_log_sum_exp(col) - p.logprobs[v]));
    }
    const double lp = state.step(x);
    if (lp != tr.logprobs[row]) ++r.mismatched_steps;
    r.pred = worse(r.pred, std::abs(p.logprobs[x] - lp));
    if (x == kBoundary)
      context.clear();
    else
      context.push_back(x);
  }
  return r;
}

// Tolerances: step() and log_weights() equal trace() bitwise (same filter,
// same per-token log-probabilities); predict() sums to 1 within 1e-9; the
// full distribution and the one-token walk may sum the same terms in another
// order, so they agree to 1e-12 in log space.
void expect_state_agrees(const StateCheck& r) {
  EXPECT_EQ(r.mismatched_steps, 0) << "step() log-probabilities differing from trace()";
  EXPECT_EQ(r.mismatched_weights, 0) << "log_weights() differing from trace().log_weights";
  EXPECT_LE(r.sum, 1e-9) << "predict(): mixture distribution does not sum to 1";
  EXPECT_LE(r.rows, 1e-12) << "predict() persona rows vs each persona's own next-token distribution";
  EXPECT_LE(r.mix, 1e-12) << "predict().logprobs vs logsumexp_k(log_weights + persona_logprobs)";
  EXPECT_LE(r.persona_walk, 1e-12)
      << "a persona's own next_logprobs() and advance() disagree (a persona bug, seen through the mixture)";
  EXPECT_LE(r.pred, 1e-12) << "predict() entry of the next token vs what step() returns";
}

// Table personas are self-consistent by construction: this isolates the
// mixture's state, filter and prediction.
TEST(MixtureStateTest, StepAndPredictAgreeWithTraceOnTablePersonas) {
  std::vector<Token> tokens = table_text(600, 100, 13);
  tokens[150] = tokens[420] = kBoundary;  // extra document ends
  Steering excluded;
  excluded.exclude = {1};
  const auto own = [](int k, const std::vector<Token>& context) -> Eigen::VectorXd {
    const int prev = context.empty() ? kVocab : context.back();
    return tables()[std::size_t(k)]->logp().row(prev).transpose();
  };
  for (const MixtureConfig& c :
       {none(1.0), none(0.5), fixed_share(0.05, 1.3), forgetting(0.95), transition(table_transition())}) {
    for (const Steering& s : {Steering{}, excluded}) {
      SCOPED_TRACE(simulacra::switching_name(c.switching) + (s.exclude.empty() ? "" : " excluded"));
      expect_state_agrees(check_state(Mixture(table_personas(), kTableNames, table_prior(), c), tokens, s, own));
    }
  }
}

// The same on Kneser-Ney personas over a multi-document stream.
TEST(MixtureStateTest, StepAndPredictAgreeWithTraceOnNGramPersonas) {
  const auto& models = file_ngrams();
  std::vector<std::string> docs = {paragraphs(persona_file("pirate"))[3], paragraphs(shakespeare().substr(0, 3000))[1],
                                   "", paragraphs(persona_file("poet"))[5]};
  std::vector<Token> tokens;
  for (const auto& d : docs) {
    const auto e = simulacra::encode_document(d);
    tokens.insert(tokens.end(), e.begin(), e.end());
  }
  const auto own = [&models](int k, const std::vector<Token>& context) -> Eigen::VectorXd {
    return models[std::size_t(k)]->next_logprobs(simulacra::decode(context));
  };
  Steering excluded;
  excluded.exclude = {0, 2};
  for (const MixtureConfig& c : {fixed_share(0.05, 1.3), transition(sticky(4, 0.9))}) {
    for (const Steering& s : {Steering{}, excluded}) {
      SCOPED_TRACE(simulacra::switching_name(c.switching) + (s.exclude.empty() ? "" : " excluded"));
      expect_state_agrees(
          check_state(Mixture(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), c), tokens, s, own));
    }
  }
}

TEST(MixtureStateTest, CopyReadsOnIndependently) {
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(1, 1, 1, 1), fixed_share(0.02));
  const auto tokens = simulacra::encode_document("Arr, the moon doth hide her face, me hearties.");
  auto a = mix.begin();
  a.step(std::vector<Token>(tokens.begin(), tokens.begin() + 10));
  simulacra::MixtureState b(a);
  const double la = a.step(std::vector<Token>(tokens.begin() + 10, tokens.end()));
  const double lb = b.step(std::vector<Token>(tokens.begin() + 10, tokens.end()));
  EXPECT_EQ(la, lb);
  EXPECT_TRUE((a.log_weights().array() == b.log_weights().array()).all());
  EXPECT_DOUBLE_EQ(mix.trace(tokens).total_logprob(),
                   mix.trace(std::vector<Token>(tokens.begin(), tokens.begin() + 10)).total_logprob() + la);
}

TEST(MixtureStateTest, StepRejectsTokenOutsideVocabulary) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  auto state = mix.begin();
  EXPECT_THROW(state.step(kVocab), simulacra::OutOfRange);
  EXPECT_THROW(state.step(-1), simulacra::OutOfRange);
}

// step(token, prediction) reuses the prediction just made (product steering
// reads the token's steered log-probability from it) and refuses a stale one.
TEST(MixtureStateTest, StepReusesTheCurrentPredictionOnly) {
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.05));
  Steering s;
  s.product = {2, 0, 1.5};
  auto reused = mix.begin(s), plain = mix.begin(s);
  for (Token tok : table_text(50, 10, 3)) {
    const simulacra::Prediction pred = reused.predict();
    EXPECT_EQ(reused.step(tok, pred), plain.step(tok));
    EXPECT_THROW(reused.step(tok, pred), simulacra::InvalidArgument) << "a prediction from before the last step";
  }
  EXPECT_TRUE((reused.log_weights().array() == plain.log_weights().array()).all());
}

// =========================================================== 5. steering

TEST(MixtureSteeringTest, ClampGivesExactlyThatPersona) {
  const auto tokens = document_stream(paragraphs(persona_file("trickster")), 2000);
  for (const MixtureConfig& c : {none(1.0), fixed_share(0.1, 2.0), forgetting(0.9), transition(sticky(4, 0.8))}) {
    const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), c);
    for (int k = 0; k < 4; ++k) {
      SCOPED_TRACE(simulacra::switching_name(c.switching) + " clamp " + std::to_string(k));
      Steering s;
      s.clamp = k;
      const Trace tr = mix.trace(tokens, s);
      const auto own = mix.persona(k).score(tokens);
      int differing = 0;
      for (std::size_t t = 0; t < tokens.size(); ++t) differing += tr.logprobs[Eigen::Index(t)] != own[t];
      EXPECT_EQ(differing, 0) << "clamped log-probabilities differing from the persona's own";
      EXPECT_LE(max_abs_diff(tr.entropy, Eigen::VectorXd::Zero(tr.entropy.size())), 1e-15)
          << "a clamped mixture has one mask: zero entropy";
      for (int j = 0; j < 4; ++j) {
        if (j == k)
          EXPECT_TRUE((tr.log_weights.col(j).array() == 0.0).all());
        else
          EXPECT_TRUE((tr.log_weights.col(j).array() == -INFINITY).all());
      }
    }
  }
}

TEST(MixtureSteeringTest, ExcludeRenormalisesOverTheRest) {
  const auto tokens = table_text(300, 60, 12);
  for (const MixtureConfig& c : {none(1.0), fixed_share(0.1), transition(table_transition(), 0.8)}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching));
    const Mixture mix(table_personas(), kTableNames, table_prior(), c);
    const Trace plain = mix.trace(tokens);
    Steering s;
    s.exclude = {0};
    const Trace tr = mix.trace(tokens, s);
    // From the unsteered weights: zero persona 0, renormalise, predict.
    double worst_w = 0.0, worst_lp = 0.0;
    for (Eigen::Index t = 0; t < tr.logprobs.size(); ++t) {
      Eigen::RowVectorXd w = plain.log_weights.row(t).array().exp();
      w[0] = 0.0;
      w /= w.sum();
      worst_w = worse(worst_w, max_abs_diff(tr.log_weights.row(t).array().exp().matrix(), w));
      const double p = (w.array() * plain.persona_logprobs.row(t).array().exp()).sum();
      worst_lp = worse(worst_lp, std::abs(tr.logprobs[t] - std::log(p)));
    }
    EXPECT_LE(worst_w, 1e-12);
    EXPECT_LE(worst_lp, 1e-12);
  }
}

TEST(MixtureSteeringTest, PriorBiasEqualsModifiedPrior) {
  const auto tokens = document_stream(paragraphs(persona_file("assistant")), 3000);
  const Eigen::Vector4d prior(0.1, 0.2, 0.3, 0.4), bias(0.7, -1.2, 0.0, 2.5);
  const Eigen::Vector4d biased = prior.array() * bias.array().exp();
  for (const MixtureConfig& c :
       {none(1.0), none(0.5), fixed_share(0.05), forgetting(0.95), transition(sticky(4, 0.9))}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching));
    Steering s;
    s.prior_bias = bias;
    const Trace steered = Mixture(file_personas(), kFileNames, prior, c).trace(tokens, s);
    const Trace modified = Mixture(file_personas(), kFileNames, biased, c).trace(tokens);
    EXPECT_LE(max_abs_diff(steered.log_weights, modified.log_weights), 1e-10);
    EXPECT_LE(max_abs_diff(steered.logprobs, modified.logprobs), 1e-12);
  }
}

// An ablation is a prior with zeros and factors: the removed persona's
// weight is exactly 0 before every token, the rest follow the recursions
// with that prior; the mixture itself is left as it was.
TEST_P(SwitchingRuleTest, AblationMatchesBruteForce) {
  const auto tokens = table_text(300, 60, 14);
  const Mixture mix(table_personas(), kTableNames, table_prior(), GetParam().config);
  const Trace before = mix.trace(tokens);
  const Eigen::VectorXd saved = mix.prior();
  Steering s;
  s.ablation = {{1}, Eigen::Vector3d(3.0, 1.0, 0.5)};
  const Eigen::VectorXd changed = Eigen::Vector3d(0.5 * 3.0, 0.0, 0.2 * 0.5);
  const Reference ref = brute_force(table_probs(tokens), changed, GetParam().config);
  for (const Trace& tr : {mix.trace(tokens, s), mix.ablated(s.ablation).trace(tokens)}) {
    EXPECT_TRUE((tr.log_weights.col(1).array() == -INFINITY).all()) << "a removed persona never speaks";
    EXPECT_LE(max_weight_diff(tr, ref), 1e-10);
    EXPECT_LE(max_logprob_diff(tr, ref), 1e-10);
  }
  EXPECT_TRUE((mix.prior().array() == saved.array()).all()) << "the mixture's own prior is untouched";
  const Trace after = mix.trace(tokens);
  EXPECT_TRUE((after.logprobs.array() == before.logprobs.array()).all());
}

// Product steering (DExperts) in linear space from the table personas' full
// rows: p~(v) ∝ p(v) (p_a(v) / p_b(v))^lambda, p from the brute-force
// weights. The filter underneath is unchanged, so the weights are too.
TEST_P(SwitchingRuleTest, ProductSteeringMatchesBruteForce) {
  const auto tokens = table_text(300, 60, 13);
  const Mixture mix(table_personas(), kTableNames, table_prior(), GetParam().config);
  const Reference ref = brute_force(table_probs(tokens), table_prior(), GetParam().config);
  for (double lambda : {1.0, -0.5, 2.5}) {
    SCOPED_TRACE("lambda " + std::to_string(lambda));
    Steering s;
    s.product = {2, 0, lambda};
    const Trace tr = mix.trace(tokens, s);
    EXPECT_LE(max_weight_diff(tr, ref), 1e-10) << "product steering must leave the filter alone";
    auto state = mix.begin(s);
    double worst_trace = 0.0, worst_state = 0.0, worst_sum = 0.0;
    int prev = kVocab;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      Eigen::VectorXd p = Eigen::VectorXd::Zero(kVocab);
      for (int k = 0; k < 3; ++k) p += ref.weights(Eigen::Index(t), k) * tables()[std::size_t(k)]->probs().row(prev).transpose();
      const Eigen::VectorXd ratio = tables()[2]->probs().row(prev).transpose().array() /
                                    tables()[0]->probs().row(prev).transpose().array();
      Eigen::VectorXd q = p.array() * ratio.array().pow(lambda);
      q /= q.sum();
      const Token tok = tokens[t];
      worst_trace = worse(worst_trace, std::abs(tr.logprobs[Eigen::Index(t)] - std::log(q[tok])));
      const Eigen::VectorXd predicted = state.predict().logprobs;
      worst_sum = worse(worst_sum, std::abs(predicted.array().exp().sum() - 1.0));
      worst_state = worse(worst_state, std::abs(predicted[tok] - std::log(q[tok])));
      worst_state = worse(worst_state, std::abs(state.step(tok) - std::log(q[tok])));
      prev = tok == kBoundary ? kVocab : tok;
    }
    EXPECT_LE(worst_trace, 1e-10);
    EXPECT_LE(worst_state, 1e-10);
    EXPECT_LE(worst_sum, 1e-12);
  }
}

// lambda = 0 is no steering at all. Exponential tilting moves the mean of
// its statistic: d/dlambda E_q[log p_a - log p_b] = Var_q >= 0, so at every
// context the expected log-ratio grows with lambda. And text of the
// anti-expert becomes less likely.
TEST(MixtureSteeringTest, ProductTiltsTowardsTheExpert) {
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d::Constant(0.25), fixed_share(0.01));
  const std::string doctor = paragraphs(persona_file("doctor"))[3];
  Steering off;
  off.product = {0, 3, 0.0};
  EXPECT_EQ(mix.score(doctor, off), mix.score(doctor));
  Steering towards_pirate;
  towards_pirate.product = {0, 3, 0.5};
  EXPECT_LT(mix.score(doctor, towards_pirate), mix.score(doctor));

  int violations = 0, contexts = 0;
  std::vector<simulacra::MixtureState> readers;
  for (double lambda : {-1.0, 0.0, 0.5, 1.0, 2.0}) {
    Steering s;
    s.product = {0, 3, lambda};
    readers.push_back(mix.begin(s));
  }
  for (Token tok : simulacra::encode(doctor.substr(0, 200))) {
    double last = -INFINITY;
    for (auto& r : readers) {
      const auto pred = r.predict();
      const Eigen::VectorXd ratio = (pred.persona_logprobs.row(0) - pred.persona_logprobs.row(3)).transpose();
      const double mean = (pred.logprobs.array().exp() * ratio.array()).sum();
      violations += mean < last - 1e-12;
      last = mean;
      r.step(tok);
    }
    ++contexts;
  }
  EXPECT_EQ(violations, 0) << "of " << contexts << " contexts";
}

// Removing a persona with no switching is the mixture of the others alone
// (built independently); reweighting multiplies the prior; nested ablations
// compose (union of removals, product of factors).
TEST(MixtureAblationTest, RemovalIsTheMixtureOfTheOthers) {
  const auto tokens = document_stream(paragraphs(persona_file("poet")), 2000);
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4));
  const Personas all = file_personas();
  const Mixture others({all[0], all[2], all[3]}, {"pirate", "scientist", "doctor"}, Eigen::Vector3d(0.1, 0.3, 0.4));
  Steering without_poet;
  without_poet.ablation.remove = {mix.index_of("poet")};
  const Trace tr = mix.trace(tokens, without_poet), ref = others.trace(tokens);
  EXPECT_LE(max_abs_diff(tr.logprobs, ref.logprobs), 1e-12);
  EXPECT_LE(max_abs_diff(tr.log_weights.col(3), ref.log_weights.col(2)), 1e-12);
  EXPECT_LE(std::abs(mix.score("O moon", without_poet) - others.score("O moon")), 1e-12);
  const Mixture view = mix.ablated(without_poet.ablation);
  EXPECT_LE(max_abs_diff(view.prior(), Eigen::Vector4d(0.125, 0.0, 0.375, 0.5)), 1e-15);
  EXPECT_LE(std::abs(view.score("O moon") - others.score("O moon")), 1e-12);
  EXPECT_EQ(&view.persona(0), &mix.persona(0)) << "an ablated pile shares its personas";

  const simulacra::Ablation reweighted{{}, Eigen::Vector4d(1.0, 1.0, 1.0, 5.0)};
  EXPECT_NEAR(mix.ablated_prior(reweighted)[3], 2.0 / 2.6, 1e-15);
  const simulacra::Ablation both = simulacra::combine(reweighted, without_poet.ablation);
  const Eigen::VectorXd nested = mix.ablated(reweighted).ablated_prior(without_poet.ablation);
  EXPECT_LE(max_abs_diff(mix.ablated_prior(both), nested), 1e-15);
  EXPECT_EQ(mix.ablated_prior(both)[1], 0.0);
}

// Readers with different ablations in different threads at the same time
// each see their own (a shared prior changed in place would mix them up).
TEST(MixtureAblationTest, ConcurrentReadersSeeOnlyTheirOwnAblation) {
  const auto tokens = table_text(2000, 100, 21);
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.02));
  std::vector<Steering> steerings(3);
  for (int k = 0; k < 3; ++k) steerings[std::size_t(k)].ablation.remove = {k};
  const Eigen::VectorXd saved = mix.prior();
  std::vector<Eigen::VectorXd> expected, got(3);
  for (const Steering& s : steerings) expected.push_back(mix.trace(tokens, s).logprobs);
  std::vector<std::thread> threads;
  for (int k = 0; k < 3; ++k)
    threads.emplace_back([&, k] {
      for (int round = 0; round < 20; ++round) got[std::size_t(k)] = mix.trace(tokens, steerings[std::size_t(k)]).logprobs;
    });
  for (auto& t : threads) t.join();
  for (int k = 0; k < 3; ++k) EXPECT_TRUE((got[std::size_t(k)].array() == expected[std::size_t(k)].array()).all()) << k;
  EXPECT_TRUE((mix.prior().array() == saved.array()).all());
}

TEST(MixtureAblationTest, BadAblationThrows) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  const auto bad = [&](std::vector<int> remove, Eigen::VectorXd factors = {}) {
    Steering s;
    s.ablation = {std::move(remove), std::move(factors)};
    return s;
  };
  const auto tokens = simulacra::encode("abc");
  for (const Steering& s : {bad({3}), bad({-1})}) {
    EXPECT_THROW(mix.check(s), simulacra::OutOfRange);
    EXPECT_THROW(mix.trace(tokens, s), simulacra::OutOfRange);
    EXPECT_THROW(mix.ablated(s.ablation), simulacra::OutOfRange);
  }
  for (const Steering& s : {bad({0, 1, 2}), bad({0}, Eigen::Vector3d(1.0, 0.0, 0.0)), bad({}, Eigen::Vector3d(1.0, NAN, 1.0)),
                            bad({}, Eigen::Vector3d(1.0, -1.0, 1.0)), bad({}, Eigen::VectorXd::Ones(2))}) {
    EXPECT_THROW(mix.check(s), simulacra::InvalidArgument);
    EXPECT_THROW(mix.begin(s), simulacra::InvalidArgument);
    EXPECT_THROW(mix.ablated(s.ablation), simulacra::InvalidArgument);
  }
}

TEST(MixtureSteeringTest, BadSteeringThrows) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  const auto tokens = simulacra::encode_document("abc");
  Steering clamp_high, clamp_low, exclude_bad, exclude_all, clamp_excluded, bias_short, bias_long, bias_nan;
  Steering product_range, product_missing, product_same, product_nan;
  product_range.product = {0, 3, 1.0};
  product_missing.product = {0, -1, 1.0};
  product_same.product = {1, 1, 1.0};
  product_nan.product = {0, 1, NAN};
  clamp_high.clamp = 3;
  clamp_low.clamp = -2;
  exclude_bad.exclude = {3};
  exclude_all.exclude = {0, 1, 2};
  clamp_excluded.clamp = 1;
  clamp_excluded.exclude = {1};
  // Dynamic vectors filled with <<: GCC 12's -Warray-bounds misfires on
  // fixed-size Eigen vectors converted under -march=native.
  bias_short.prior_bias.resize(2);
  bias_short.prior_bias << 0.0, 1.0;
  bias_long.prior_bias.resize(4);
  bias_long.prior_bias << 0.0, 1.0, 2.0, 3.0;
  bias_nan.prior_bias.resize(3);
  bias_nan.prior_bias << 0.0, NAN, 1.0;
  for (const Steering* s : {&clamp_high, &clamp_low, &exclude_bad, &product_range, &product_missing}) {
    EXPECT_THROW(mix.trace(tokens, *s), simulacra::OutOfRange);
    EXPECT_THROW(mix.begin(*s), simulacra::OutOfRange);
  }
  for (const Steering* s : {&exclude_all, &clamp_excluded, &bias_short, &bias_long, &bias_nan, &product_same,
                            &product_nan}) {
    EXPECT_THROW(mix.trace(tokens, *s), simulacra::InvalidArgument);
    EXPECT_THROW(mix.begin(*s), simulacra::InvalidArgument);
    EXPECT_THROW(mix.score("abc", *s), simulacra::InvalidArgument);
  }
  EXPECT_THROW(mix.check(bias_short), simulacra::InvalidArgument);
  EXPECT_THROW(mix.check(clamp_high), simulacra::OutOfRange);
}

// ================================================== 6. bad configuration

TEST(MixtureConfigTest, RejectsBadHyperparameters) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<MixtureConfig> bad = {none(nan), none(-1.0), fixed_share(-0.1), fixed_share(1.1), fixed_share(nan),
                                    forgetting(-0.1), forgetting(1.1), forgetting(nan)};
  for (const Eigen::MatrixXd& a : std::vector<Eigen::MatrixXd>{
           Eigen::MatrixXd(), Eigen::MatrixXd::Identity(2, 2), Eigen::MatrixXd::Constant(3, 4, 0.25),
           Eigen::MatrixXd::Constant(4, 3, 1.0 / 3)}) {
    bad.push_back(transition(a));
  }
  Eigen::MatrixXd negative = table_transition();
  negative.row(0) << 1.5, -0.5, 0.0;
  Eigen::MatrixXd short_row = table_transition();
  short_row(1, 1) = 0.7;
  Eigen::MatrixXd long_row = table_transition();
  long_row(2, 2) = 0.5 + 1e-6;
  Eigen::MatrixXd nan_entry = table_transition();
  nan_entry(0, 2) = nan;
  for (const auto& a : {negative, short_row, long_row, nan_entry}) bad.push_back(transition(a));

  Mixture mix(table_personas(), kTableNames, table_prior());
  for (std::size_t i = 0; i < bad.size(); ++i) {
    SCOPED_TRACE("bad config " + std::to_string(i));
    EXPECT_THROW(Mixture(table_personas(), kTableNames, table_prior(), bad[i]), simulacra::InvalidArgument);
    EXPECT_THROW(mix.set_config(bad[i]), simulacra::InvalidArgument);
  }
  // The limits themselves are valid.
  Eigen::MatrixXd nearly = table_transition();
  nearly(0, 0) += 1e-12;
  for (const MixtureConfig& c : {none(0.01), none(100.0), fixed_share(0.0), fixed_share(1.0), forgetting(0.0),
                                 forgetting(1.0), transition(nearly), transition(Eigen::MatrixXd::Identity(3, 3))}) {
    EXPECT_NO_THROW(mix.set_config(c));
  }
}

TEST(MixtureConfigTest, RejectsBadPersonasAndPrior) {
  const Personas p = table_personas();
  EXPECT_THROW(Mixture({}, {}, Eigen::VectorXd()), simulacra::InvalidArgument);
  EXPECT_THROW(Mixture(p, {"red", "green", "red"}, table_prior()), simulacra::InvalidArgument);
  EXPECT_THROW(Mixture(p, {"red", "green"}, table_prior()), simulacra::InvalidArgument);
  EXPECT_THROW(Mixture(p, {"red", "", "blue"}, table_prior()), simulacra::InvalidArgument);
  EXPECT_THROW(Mixture({p[0], nullptr, p[2]}, kTableNames, table_prior()), simulacra::InvalidArgument);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  Mixture mix(p, kTableNames, table_prior());
  for (const Eigen::VectorXd& prior :
       std::vector<Eigen::VectorXd>{Eigen::Vector3d(0.0, 0.0, 0.0), Eigen::Vector3d(0.5, -0.1, 0.5),
                                    Eigen::Vector3d(nan, 1.0, 1.0), Eigen::Vector3d(inf, 1.0, 1.0),
                                    Eigen::VectorXd::Constant(2, 0.5), Eigen::VectorXd()}) {
    EXPECT_THROW(Mixture(p, kTableNames, prior), simulacra::InvalidArgument);
    EXPECT_THROW(mix.set_prior(prior), simulacra::InvalidArgument);
  }
  mix.set_prior(Eigen::Vector3d(2.0, 1.0, 1.0));
  EXPECT_LE(max_abs_diff(mix.prior(), Eigen::Vector3d(0.5, 0.25, 0.25)), 1e-15) << "prior normalised";
}

TEST(MixtureConfigTest, IndexOfUnknownNameThrowsNamingIt) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  EXPECT_EQ(mix.index_of("green"), 1);
  try {
    mix.index_of("nobody");
    FAIL() << "index_of(\"nobody\") did not throw";
  } catch (const simulacra::OutOfRange& e) {
    EXPECT_NE(std::string(e.what()).find("nobody"), std::string::npos) << e.what();
  }
  EXPECT_THROW(mix.persona(3), simulacra::OutOfRange);
  EXPECT_THROW(mix.persona(-1), simulacra::OutOfRange);
}

TEST(MixtureConfigTest, SwitchingNamesRoundTrip) {
  for (Switching s : {Switching::kNone, Switching::kFixedShare, Switching::kForgetting, Switching::kTransition})
    EXPECT_EQ(simulacra::switching_from_name(simulacra::switching_name(s)), s);
  EXPECT_EQ(simulacra::switching_name(Switching::kFixedShare), "fixed_share");
  EXPECT_THROW(simulacra::switching_from_name("sometimes"), simulacra::InvalidArgument);
}

// ============================================== 7. entropy and dominant

TEST(MixtureTraceTest, EntropyAndDominantFollowTheWeights) {
  // Paragraphs each persona was trained on, in turn: the dominant mask moves.
  std::vector<Token> tokens;
  std::vector<std::pair<std::size_t, int>> ends;  // (last row of a document, its persona)
  for (int round = 0; round < 2; ++round) {
    for (int k = 0; k < 4; ++k) {
      const std::string& name = kFileNames[std::size_t(k)];
      const auto e = simulacra::encode_document(paragraphs(persona_file(name))[std::size_t(round)]);
      tokens.insert(tokens.end(), e.begin(), e.end());
      ends.emplace_back(tokens.size() - 1, k);
    }
  }
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(1, 1, 1, 1), fixed_share(0.01));
  Steering excluded;
  excluded.exclude = {3};
  for (const Steering& s : {Steering{}, excluded}) {
    SCOPED_TRACE(s.exclude.empty() ? "unsteered" : "excluded");
    const Trace tr = mix.trace(tokens, s);
    double worst = 0.0;
    int wrong_dominant = 0;
    for (Eigen::Index t = 0; t < tr.log_weights.rows(); ++t) {
      double h = 0.0;
      int best = 0;
      for (int k = 0; k < 4; ++k) {
        const double w = std::exp(tr.log_weights(t, k));
        if (w > 0.0) h -= w * std::log(w);
        if (w > std::exp(tr.log_weights(t, best))) best = k;
      }
      worst = worse(worst, std::abs(h - tr.entropy[t]));
      wrong_dominant += tr.dominant[std::size_t(t)] != best;
    }
    EXPECT_LE(worst, 1e-12) << "entropy vs -sum w log w";
    EXPECT_EQ(wrong_dominant, 0) << "dominant vs argmax of the weights";
    if (s.exclude.empty()) {
      // Before the end of a training paragraph its own persona dominates.
      for (const auto& [row, k] : ends) EXPECT_EQ(tr.dominant[row], k) << "row " << row;
    } else {
      for (int d : tr.dominant) EXPECT_NE(d, 3);
    }
  }
}

// ================================================ 8. scores and bits per byte

TEST(MixtureScoreTest, BitsPerByteAndScoresAgree) {
  const std::string text = paragraphs(persona_file("trickster"))[2];
  for (const MixtureConfig& c : {none(1.0), fixed_share(0.05), forgetting(0.9)}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching));
    const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), c);
    Steering s;
    s.exclude = {1};
    for (const Steering& st : {Steering{}, s}) {
      const double score = mix.score(text, st);
      EXPECT_NEAR(score, mix.trace(simulacra::encode_document(text), st).total_logprob(), 1e-12 * std::abs(score));
      EXPECT_NEAR(mix.bits_per_byte(text, st), -score / (double(text.size()) * std::log(2.0)), 1e-12);
    }
    const Eigen::VectorXd pbpb = mix.persona_bits_per_byte(text);
    ASSERT_EQ(pbpb.size(), 4);
    for (int k = 0; k < 4; ++k) {
      const double own = file_ngrams()[std::size_t(k)]->score_document(text);
      EXPECT_NEAR(pbpb[k], -own / (double(text.size()) * std::log(2.0)), 1e-12) << "persona " << k;
    }
    EXPECT_THROW(mix.bits_per_byte(""), simulacra::InvalidArgument);
  }
  // The mixture is never worse than its worst persona, and with a uniform
  // prior costs at most log2(K) / bytes over its best one.
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(1, 1, 1, 1));
  const Eigen::VectorXd pbpb = mix.persona_bits_per_byte(text);
  const double bpb = mix.bits_per_byte(text);
  EXPECT_LE(bpb, pbpb.maxCoeff());
  EXPECT_LE(bpb, pbpb.minCoeff() + 2.0 / double(text.size()) + 1e-12);
  EXPECT_GE(bpb, pbpb.minCoeff() - 1e-12);
}

TEST(MixtureTraceTest, ProgressRisesToOneAndCanCancel) {
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(1, 1, 1, 1), fixed_share(0.01));
  std::vector<simulacra::Token> tokens;
  const auto doc = simulacra::encode_document(paragraphs(persona_file("poet"))[0]);
  while (tokens.size() < 200000) tokens.insert(tokens.end(), doc.begin(), doc.end());
  std::vector<double> seen;
  const Trace tr = mix.trace(tokens, {}, [&](double f) { seen.push_back(f); });
  ASSERT_GE(seen.size(), 4u + 200000u / 65536u);  // one per persona, one per 65536 tokens, one at the end
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_GT(seen[i], seen[i - 1]);
  EXPECT_EQ(seen.back(), 1.0);
  const Trace plain = mix.trace(tokens);
  EXPECT_EQ(tr.logprobs, plain.logprobs);  // watching changes nothing
  struct Stop {};
  EXPECT_THROW(mix.trace(tokens, {}, [](double f) {
    if (f > 0.3) throw Stop{};
  }),
               Stop);
}

TEST(MixtureScoreTest, PerplexityIsPerTokenWithTheEndBoundary) {
  const std::string text = paragraphs(persona_file("pirate"))[1];
  const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), fixed_share(0.02));
  const double tokens = double(text.size() + 1);
  EXPECT_NEAR(mix.perplexity(text), std::exp(-mix.score(text) / tokens), 1e-9 * mix.perplexity(text));
  const Eigen::VectorXd ppl = mix.persona_perplexity(text);
  for (int k = 0; k < 4; ++k) {
    const double own = file_ngrams()[std::size_t(k)]->score_document(text);
    EXPECT_NEAR(ppl[k], std::exp(-own / tokens), 1e-9 * ppl[k]) << "persona " << k;
  }
  // An empty document is one token: the end boundary.
  EXPECT_NEAR(mix.perplexity(""), std::exp(-mix.score("")), 1e-12);
}

}  // namespace
