// Tests of the posterior-weighted mixture (mixture.hpp): the exact Bayesian
// identity, the switching recursions, underflow, and the reader state.
// Steering is in mixture_steering_test.cpp, configuration, scores and
// interrupts in mixture_config_test.cpp.
//
// Every numeric result is checked against an independent reference
// (mixture_testing.hpp): the Bayesian marginal from each persona's own
// scores, and the switching recursions run by brute force in linear
// probability space (doubles, renormalised every token, texts short enough
// not to underflow) over small context-dependent table personas whose
// probabilities the test knows exactly. Tolerances are stated at each check.
#include "simulacra/mixture.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;

// ============================================ 1. the exact Bayesian identity

TEST(MixtureIdentityTest, ProductOfPredictionsIsBayesianMarginal) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
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
    for (double lp : personas[k]->token_logprobs(tokens)) s += lp;
    terms.push_back(std::log(prior[Eigen::Index(k)]) + s);
  }
  const double marginal = ref_log_sum_exp(terms);
  const double rel = std::abs(mixture_total - marginal) / std::abs(marginal);
  std::printf("[ identity ] mixture %.12f, marginal %.12f, relative difference %.3e (tolerance 1e-10)\n",
              mixture_total, marginal, rel);
  RecordProperty("identity_relative_difference", std::to_string(rel));
  EXPECT_LE(rel, 1e-10) << "far above rounding error";
}

// Switching rules at their no-switching settings reduce to the same marginal.
TEST(MixtureIdentityTest, DegenerateSwitchingIsBayesianMarginal) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const Personas personas = file_personas();
  const Eigen::Vector4d prior(0.4, 0.3, 0.2, 0.1);
  const auto tokens = document_stream(paragraphs(shakespeare().substr(50000, 20000)), 3000);
  std::vector<double> terms;
  for (std::size_t k = 0; k < personas.size(); ++k) {
    double s = 0.0;
    for (double lp : personas[k]->token_logprobs(tokens)) s += lp;
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

INSTANTIATE_TEST_SUITE_P(Rules, SwitchingRuleTest, ::testing::ValuesIn(rule_cases()), rule_name);

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
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
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
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
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
// Mixture::predict(context) is the prediction of a reader that read the
// context's bytes from a document start, under the same steering.
TEST(MixtureStateTest, PredictAfterAContextIsTheReadersPrediction) {
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.05));
  Steering s;
  s.product = {2, 0, 0.5};
  s.exclude = {1};
  for (const Steering& steering : {Steering{}, s}) {
    const simulacra::Prediction got = mix.predict("abc de", steering);
    auto reader = mix.begin(steering);
    for (unsigned char c : std::string("abc de")) reader.step(Token(c));
    const simulacra::Prediction want = reader.predict();
    EXPECT_TRUE((got.log_weights.array() == want.log_weights.array()).all());
    EXPECT_TRUE((got.logprobs.array() == want.logprobs.array()).all());
    EXPECT_TRUE((got.persona_logprobs.array() == want.persona_logprobs.array()).all());
  }
  EXPECT_THROW(mix.predict("x", [] {
    Steering bad;
    bad.clamp = 7;
    return bad;
  }()), simulacra::OutOfRange);
}

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

}  // namespace
