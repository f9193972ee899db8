// Tests of steering (mixture.hpp): clamp, exclude, prior bias, ablation and
// product steering, each against the brute-force recursions of
// mixture_testing.hpp or an independently built mixture.
#include "simulacra/mixture.hpp"

#include <cmath>
#include <cstdio>
#include <thread>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;

// =========================================================== steering

class SteeringRuleTest : public ::testing::TestWithParam<RuleCase> {};

TEST(MixtureSteeringTest, ClampGivesExactlyThatPersona) {
  const auto tokens = document_stream(paragraphs(persona_file("trickster")), 2000);
  for (const MixtureConfig& c : {none(1.0), fixed_share(0.1, 2.0), forgetting(0.9), transition(sticky(4, 0.8))}) {
    const Mixture mix(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), c);
    for (int k = 0; k < 4; ++k) {
      SCOPED_TRACE(simulacra::switching_name(c.switching) + " clamp " + std::to_string(k));
      Steering s;
      s.clamp = k;
      const Trace tr = mix.trace(tokens, s);
      const auto own = mix.persona(k).token_logprobs(tokens);
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
TEST_P(SteeringRuleTest, AblationMatchesBruteForce) {
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
TEST_P(SteeringRuleTest, ProductSteeringMatchesBruteForce) {
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

INSTANTIATE_TEST_SUITE_P(Rules, SteeringRuleTest, ::testing::ValuesIn(rule_cases()), rule_name);

}  // namespace
