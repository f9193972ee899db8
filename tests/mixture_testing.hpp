// tests/mixture_testing.hpp — what the mixture's test files share: Kneser-Ney
// personas of the embedded corpus, small table personas whose every
// probability the tests know, the switching recursions by brute force in
// linear space (the independent reference), and the rule cases.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace simulacra::testing::mixture_fixtures {


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

inline const std::string& shakespeare() {
  static const std::string text = read_text(simulacra::testing::shared_data("tinyshakespeare.txt"));
  return text;
}

// Order-4 Kneser-Ney personas trained on four clearly different corpora.
inline const std::vector<std::shared_ptr<const simulacra::NGramPersona>>& file_ngrams() {
  static const auto models = [] {
    std::vector<std::shared_ptr<const simulacra::NGramPersona>> m;
    for (const char* name : {"pirate", "poet", "scientist", "doctor"})
      m.push_back(std::make_shared<simulacra::NGramPersona>(
          simulacra::NGramPersona::fit(paragraphs(persona_file(name)), 4)));
    return m;
  }();
  return models;
}

inline Personas file_personas() {
  Personas p;
  for (const auto& m : file_ngrams()) p.push_back(m);
  return p;
}

inline const std::vector<std::string> kFileNames = {"pirate", "poet", "scientist", "doctor"};

// A stream of exactly n tokens: the documents `docs` in turn, each
// followed by the boundary, the last one cut short.
inline std::vector<Token> document_stream(const std::vector<std::string>& docs, std::size_t n) {
  std::vector<Token> out;
  for (std::size_t i = 0; out.size() < n; i = (i + 1) % docs.size()) {
    const auto d = simulacra::encode_document(docs[i]);
    out.insert(out.end(), d.begin(), d.end());
  }
  out.resize(n);
  return out;
}

// log sum_i exp(x_i) in long double, written independently of the library.
inline double ref_log_sum_exp(const std::vector<double>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x) m = std::max(m, v);
  if (m == -std::numeric_limits<double>::infinity()) return m;
  long double s = 0.0L;
  for (double v : x) s += std::exp(static_cast<long double>(v) - m);
  return m + static_cast<double>(std::log(s));
}

// The larger of a running worst difference and d; a NaN sticks, so that a
// following EXPECT_LE(worst, tolerance) fails on it.
inline double worse(double worst, double d) { return std::isnan(worst) || d <= worst ? worst : d; }

// max |a - b| over all entries (NaN if any difference is NaN, inf on a shape mismatch).
inline double max_abs_diff(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
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

inline std::unique_ptr<PersonaState> TablePersona::begin() const { return std::make_unique<TableState>(*this); }

// A random table: log-normal (sigma) unnormalised probabilities per row, so
// per-token log-likelihood ratios between personas stay moderate.
inline std::shared_ptr<const TablePersona> random_table(unsigned seed, double sigma) {
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
inline const std::vector<std::shared_ptr<const TablePersona>>& tables() {
  static const std::vector<std::shared_ptr<const TablePersona>> t = {random_table(11, 0.6), random_table(22, 0.6),
                                                                     random_table(33, 0.6)};
  return t;
}

inline Personas table_personas() { return Personas(tables().begin(), tables().end()); }

inline const std::vector<std::string> kTableNames = {"red", "green", "blue"};

inline Eigen::VectorXd table_prior() { return Eigen::Vector3d(0.5, 0.3, 0.2); }

// n tokens sampled from the table personas in turn, `segment` tokens each:
// a text whose best persona changes, so the switching rules matter.
inline std::vector<Token> table_text(std::size_t n, std::size_t segment, unsigned seed) {
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
inline Eigen::MatrixXd table_probs(const std::vector<Token>& tokens) {
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

inline Reference brute_force(const Eigen::MatrixXd& P, Eigen::VectorXd prior, const MixtureConfig& c,
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
inline double max_weight_diff(const Trace& tr, const Reference& ref) {
  return max_abs_diff(tr.log_weights.array().exp().matrix(), ref.weights);
}
inline double max_logprob_diff(const Trace& tr, const Reference& ref) {
  return max_abs_diff(tr.logprobs, ref.logprobs);
}

inline MixtureConfig none(double beta) {
  MixtureConfig c;
  c.beta = beta;
  return c;
}
inline MixtureConfig fixed_share(double alpha, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kFixedShare;
  c.alpha = alpha;
  c.beta = beta;
  return c;
}
inline MixtureConfig forgetting(double gamma, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kForgetting;
  c.gamma = gamma;
  c.beta = beta;
  return c;
}
inline MixtureConfig transition(Eigen::MatrixXd a, double beta = 1.0) {
  MixtureConfig c;
  c.switching = Switching::kTransition;
  c.transition = std::move(a);
  c.beta = beta;
  return c;
}

// A 3 x 3 row-stochastic matrix with a zero entry and unequal rows.
inline Eigen::MatrixXd table_transition() {
  Eigen::MatrixXd a(3, 3);
  a << 0.90, 0.10, 0.00,  //
      0.05, 0.80, 0.15,   //
      0.20, 0.30, 0.50;
  return a;
}

// A K x K row-stochastic matrix with `stay` on the diagonal.
inline Eigen::MatrixXd sticky(int K, double stay) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Constant(K, K, (1.0 - stay) / (K - 1));
  a.diagonal().setConstant(stay);
  return a;
}

// One switching configuration of the parameterised tests.
struct RuleCase {
  const char* name;
  MixtureConfig config;
};

// Every rule, tempered and at its limits.
inline std::vector<RuleCase> rule_cases() {
  return {RuleCase{"NoneBetaOne", none(1.0)}, RuleCase{"NoneBetaHalf", none(0.5)},
          RuleCase{"NoneBetaTwo", none(2.0)}, RuleCase{"FixedShare", fixed_share(0.05)},
          RuleCase{"FixedShareTempered", fixed_share(0.2, 1.5)},
          RuleCase{"FixedShareAlphaOne", fixed_share(1.0, 0.7)},
          RuleCase{"Forgetting", forgetting(0.9)}, RuleCase{"ForgettingTempered", forgetting(0.7, 0.5)},
          RuleCase{"ForgettingGammaZero", forgetting(0.0, 2.0)},
          RuleCase{"ForgettingGammaOne", forgetting(1.0, 0.5)},
          RuleCase{"Transition", transition(table_transition())},
          RuleCase{"TransitionTempered", transition(table_transition(), 2.0)}};
}

inline std::string rule_name(const ::testing::TestParamInfo<RuleCase>& info) { return info.param.name; }

}  // namespace simulacra::testing::mixture_fixtures
