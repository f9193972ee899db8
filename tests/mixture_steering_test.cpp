// Tests of steering (mixture.hpp): clamp, exclude, prior bias, ablation and
// product steering, each against the brute-force recursions of
// mixture_testing.hpp or an independently built mixture.
#include "simulacra/mixture.hpp"

#include <cmath>
#include <cstdio>
#include <random>
#include <utility>
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

// ========================================= product steering in probability space

// next_probs is exp(next_logprobs) to rounding: the n-gram state's own
// probabilities, and the default (a table persona) with an impossible token
// exactly 0.
TEST(NextProbsTest, IsTheExpOfNextLogprobs) {
  Eigen::MatrixXd table = tables()[0]->probs();
  table(kVocab, 7) = 0.0;  // impossible at a document start
  const TablePersona zeroed(table);
  Personas personas = file_personas();
  personas.push_back(std::shared_ptr<const Persona>(std::shared_ptr<const Persona>{}, &zeroed));
  for (const auto& persona : personas) {
    auto state = persona->begin();
    Eigen::VectorXd lp(kVocab), p(kVocab);
    double worst = 0.0;
    int zeros = 0;
    for (Token tok : simulacra::encode_document("Arr, the moon doth hide.")) {
      state->next_logprobs(lp);
      state->next_probs(p);
      for (int v = 0; v < kVocab; ++v) {
        if (lp[v] == -INFINITY) {
          zeros += p[v] == 0.0;
          worst = worse(worst, p[v] == 0.0 ? 0.0 : 1.0);
        } else {
          worst = worse(worst, std::abs(p[v] - std::exp(lp[v])) / std::exp(lp[v]));
        }
      }
      state->advance(tok);
    }
    EXPECT_LE(worst, 1e-14) << persona->kind();
    if (persona.get() == &zeroed) {
      EXPECT_EQ(zeros, 1);
    }
  }
  Eigen::VectorXd wrong(kVocab - 1);
  EXPECT_THROW(file_ngrams()[0]->begin()->next_probs(wrong), simulacra::InvalidArgument);
}

// The reference of the linear path, independent of it: long double, every
// token in log space (log sum_k exp(log w_k + log p_k(v)), then the tilt and
// its normaliser by log-sum-exp). Returns false where the tilted
// distribution cannot be normalised.
bool steered_reference(const simulacra::ProductSteering& product, const Eigen::VectorXd& log_w,
                       const Eigen::MatrixXd& probs, std::vector<long double>& out) {
  const int K = int(log_w.size());
  const long double inf = std::numeric_limits<long double>::infinity();
  out.assign(std::size_t(kVocab), -inf);
  long double top = -inf;
  for (int v = 0; v < kVocab; ++v) {
    long double hi = -inf;
    std::vector<long double> terms;
    for (int k = 0; k < K; ++k) {
      const long double t = log_w[k] == -INFINITY || probs(v, k) == 0.0 ? -inf : log_w[k] + std::log((long double)probs(v, k));
      terms.push_back(t);
      hi = std::max(hi, t);
    }
    if (hi == -inf) continue;  // the base says never
    long double sum = 0.0L;
    for (long double t : terms) sum += std::exp(t - hi);
    const long double a = probs(v, product.expert), b = probs(v, product.anti_expert);
    if (a == 0.0L && b == 0.0L) continue;  // the tilt is undefined
    const long double tilt = product.lambda * ((a == 0.0L ? -inf : std::log(a)) - (b == 0.0L ? -inf : std::log(b)));
    out[std::size_t(v)] = hi + std::log(sum) + tilt;
    top = std::max(top, out[std::size_t(v)]);
  }
  if (!(top > -inf && top < inf)) return false;
  long double z = 0.0L;
  for (long double t : out) z += std::exp(t - top);
  for (long double& t : out) t -= top + std::log(z);
  return true;
}

// detail::steered_from_probs against the long-double reference over random
// piles: K personas with log-normal rows (some tokens far below the rest),
// exact zeros, probabilities of 1e-300 (below the linear floor), weights
// down to e^-800 (underflowing in linear space), lambdas from 1e-3 to 300
// either sign. Agreement in log space to 1e-12 (times |lambda| beyond 1: the
// tilt's own rounding grows with it); the same -inf entries; a throw exactly
// where the reference cannot normalise. The log path (steered_distribution)
// agrees with the same reference, and so with the linear path.
TEST(SteeredLinearTest, EqualsALongDoubleReferenceOverRandomPiles) {
  std::mt19937 gen(2024);
  std::normal_distribution<double> z(0.0, 1.0);
  std::uniform_int_distribution<int> token(0, kVocab - 1);
  int cases = 0, infinite = 0, thrown = 0, fallback = 0;
  double worst = 0.0, worst_log_path = 0.0;
  for (int K : {2, 3, 5, 8}) {
    for (int rep = 0; rep < 40; ++rep) {
      const double sigma = rep % 3 == 0 ? 4.0 : 1.0;
      Eigen::MatrixXd probs(kVocab, K);  // column k: persona k
      for (int k = 0; k < K; ++k) {
        for (int v = 0; v < kVocab; ++v) probs(v, k) = std::exp(sigma * z(gen));
        probs.col(k) /= probs.col(k).sum();
      }
      const int poison = rep % 6;  // 1: exact zeros; 2: 1e-300 in every persona; 3: zeros in one persona
      for (int i = 0; i < 5 && poison >= 1 && poison <= 3; ++i) {
        const int v = token(gen);
        for (int k = 0; k < K; ++k)
          if (poison != 3 || k == rep % K) probs(v, k) = poison == 2 ? 1e-300 : 0.0;
      }
      Eigen::VectorXd log_w(K);
      for (int k = 0; k < K; ++k) log_w[k] = z(gen);
      if (rep % 4 == 0) log_w[K - 1] = -800.0;  // exp underflows: only the log-space fix-up sees it
      log_w.array() -= std::log(log_w.array().exp().sum());
      Eigen::VectorXd w(K);
      for (int k = 0; k < K; ++k) w[k] = std::exp(log_w[k]);
      const Eigen::MatrixXd logprobs = probs.transpose().array().log();  // (K, kVocab)
      for (double magnitude : {1e-3, 0.5, 1.0, 3.0, 30.0, 300.0}) {
        for (double sign : {1.0, -1.0}) {
          const simulacra::ProductSteering product{rep % K, (rep + 1) % K, sign * magnitude};
          ++cases;
          std::vector<long double> want;
          const bool ok = steered_reference(product, log_w, probs, want);
          Eigen::VectorXd got, m, la, lb;
          if (!ok) {
            EXPECT_THROW(simulacra::detail::steered_from_probs(product, log_w, w, probs, got, m, la, lb),
                         simulacra::InvalidArgument);
            ++thrown;
            continue;
          }
          simulacra::detail::steered_from_probs(product, log_w, w, probs, got, m, la, lb);
          const Eigen::VectorXd log_path = simulacra::steered_distribution(product, log_w, logprobs);
          for (int v = 0; v < kVocab; ++v) {
            fallback += !(m[v] >= simulacra::detail::kLinearFloor);
            const long double ref = want[std::size_t(v)];
            if (std::isinf(ref) || std::isinf(got[v])) {
              EXPECT_EQ((long double)got[v], ref) << "K " << K << " rep " << rep << " token " << v;
              infinite += std::isinf(got[v]);
              continue;
            }
            worst = worse(worst, double(std::abs(got[v] - ref)) / std::max(1.0, magnitude));
            worst_log_path = worse(worst_log_path, double(std::abs(log_path[v] - ref)) / std::max(1.0, magnitude));
          }
        }
      }
    }
  }
  EXPECT_LE(worst, 1e-12);
  EXPECT_LE(worst_log_path, 1e-12);
  EXPECT_GT(infinite, 0) << "zeros should give impossible tokens";
  EXPECT_GT(thrown, 0) << "p_b = 0 < p_a with lambda > 0 cannot be normalised";
  EXPECT_GT(fallback, 0) << "some tokens should go to the log-space fix-up";
  EXPECT_GT(cases, 1000);
}

// A whole steered reader: step(token) is predict().logprobs[token] and
// step(token, predict()) bit for bit at every token, and trace() reads the
// same numbers bit for bit, on n-gram personas and on table personas where
// the expert cannot produce some of the text's tokens (their steered
// log-probability -inf, met by the reader) or, with the roles swapped, the
// tilt cannot be normalised (step, predict and trace all throw, the reader
// unchanged). The values are the long-double reference's to 1e-12.
TEST(SteeredLinearTest, StepIsThePredictionsEntryBitForBit) {
  const std::vector<Token> table_tokens = table_text(300, 60, 5);
  Eigen::MatrixXd zeroed = tables()[1]->probs();
  for (std::size_t t = 7; t < table_tokens.size(); t += 23) {
    const int prev = t == 0 || table_tokens[t - 1] == kBoundary ? kVocab : table_tokens[t - 1];
    zeroed(prev, table_tokens[t]) = 0.0;
    zeroed.row(prev) /= zeroed.row(prev).sum();
  }
  Personas odd = table_personas();
  odd[1] = std::make_shared<TablePersona>(zeroed);
  struct Pile {
    std::string name;
    Mixture mix;
    std::vector<Token> tokens;
  };
  std::vector<Pile> piles;
  piles.push_back({"ngram", Mixture(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), fixed_share(0.02)),
                   simulacra::encode_document(paragraphs(persona_file("doctor"))[2].substr(0, 300))});
  piles.push_back({"zeroed", Mixture(odd, kTableNames, table_prior(), fixed_share(0.05)), table_tokens});
  int compared = 0, infinite = 0, thrown = 0;
  double worst = 0.0;
  for (const Pile& pile : piles) {
    for (double lambda : {-300.0, -2.0, -0.5, 0.5, 1.0, 4.0, 300.0}) {
      for (const auto& [a, b] : std::vector<std::pair<int, int>>{{0, 1}, {1, 0}, {2, 1}}) {
        SCOPED_TRACE(pile.name + " lambda " + std::to_string(lambda) + " " + std::to_string(a) + "/" + std::to_string(b));
        Steering s;
        s.product = {a, b, lambda};
        auto state = pile.mix.begin(s), reused = pile.mix.begin(s);
        std::vector<double> stepped;
        bool stopped = false;
        for (Token tok : pile.tokens) {
          bool want_throw = false;
          simulacra::Prediction pred;
          try {
            pred = state.predict();
          } catch (const simulacra::InvalidArgument&) {
            want_throw = true;
          }
          if (want_throw) {
            const Eigen::VectorXd before = state.log_weights();
            EXPECT_THROW(state.step(tok), simulacra::InvalidArgument);
            EXPECT_TRUE((state.log_weights().array() == before.array()).all()) << "a throwing step reads nothing";
            ++thrown;
            stopped = true;
            break;
          }
          // The reference from the prediction's own weights and rows.
          Eigen::MatrixXd probs(kVocab, pile.mix.size());
          for (int k = 0; k < pile.mix.size(); ++k)
            for (int v = 0; v < kVocab; ++v) probs(v, k) = std::exp(pred.persona_logprobs(k, v));
          std::vector<long double> want;
          ASSERT_TRUE(steered_reference(s.product, pred.log_weights, probs, want));
          const double got = state.step(tok);
          EXPECT_EQ(reused.step(tok, reused.predict()), got);
          stepped.push_back(got);
          ++compared;
          if (!(pred.logprobs[tok] == got)) ADD_FAILURE() << "step " << got << " != predict " << pred.logprobs[tok];
          if (std::isinf(got) || std::isinf(want[std::size_t(tok)])) {
            EXPECT_EQ((long double)got, want[std::size_t(tok)]);
            infinite += std::isinf(got);
            continue;
          }
          worst = worse(worst, double(std::abs(got - want[std::size_t(tok)])) / std::max(1.0, std::abs(lambda)));
        }
        if (stopped) {
          EXPECT_THROW(pile.mix.trace(pile.tokens, s), simulacra::InvalidArgument);
        } else {
          const Trace tr = pile.mix.trace(pile.tokens, s);
          int differing = 0;
          for (std::size_t t = 0; t < stepped.size(); ++t) differing += !(tr.logprobs[Eigen::Index(t)] == stepped[t]);
          EXPECT_EQ(differing, 0) << "trace entries differing from step()";
        }
      }
    }
  }
  EXPECT_LE(worst, 1e-12);
  EXPECT_GT(compared, 1000);
  EXPECT_GT(infinite, 0) << "the zeroed pile's expert cannot produce some of the text's tokens";
  EXPECT_GT(thrown, 0) << "p_b = 0 < p_a with lambda > 0 cannot be normalised";
}

INSTANTIATE_TEST_SUITE_P(Rules, SteeringRuleTest, ::testing::ValuesIn(rule_cases()), rule_name);

}  // namespace
