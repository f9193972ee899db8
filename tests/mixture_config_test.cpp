// Tests of the mixture's configuration checks, trace fields, scores, and
// interrupts (mixture.hpp).
#include "simulacra/mixture.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;

// ================================================== 6. bad configuration

TEST(MixtureConfigTest, RejectsBadHyperparameters) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<MixtureConfig> bad = {none(nan), none(-1.0), none(0.0), none(1e308), none(INFINITY),
                                    none(MixtureConfig::kMaxBeta * 1.0000001), fixed_share(-0.1), fixed_share(1.1),
                                    fixed_share(nan),
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

// Every accepted beta gives finite results: at the largest one the filter
// is a hard argmax, yet no weight, normaliser or log-probability is NaN,
// under every rule, on a text whose best persona keeps changing.
TEST(MixtureConfigTest, LargestBetaStaysFinite) {
  const auto tokens = table_text(3000, 50, 9);
  const double beta = MixtureConfig::kMaxBeta;
  for (const MixtureConfig& c : {none(beta), fixed_share(0.01, beta), forgetting(1.0, beta), forgetting(0.9, beta),
                                 transition(table_transition(), beta)}) {
    SCOPED_TRACE(simulacra::switching_name(c.switching));
    const Trace tr = Mixture(table_personas(), kTableNames, table_prior(), c).trace(tokens);
    EXPECT_TRUE(tr.logprobs.array().isFinite().all());
    EXPECT_FALSE(tr.log_weights.array().isNaN().any());
    EXPECT_TRUE((tr.log_weights.array().exp().rowwise().sum() - 1.0).abs().maxCoeff() < 1e-12);
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

// ===================================================== 9. Ctrl-C and atomicity

// A long trace, a steered one and a long step stop at the first tripped poll
// (interrupt.hpp), and the mixture and the state read on as if nothing happened.
TEST(MixtureInterruptTest, LongCallsStopAtATrippedCheckAndChangeNothing) {
  using simulacra::testing::TripAfter;
  const auto tokens = table_text(200000, 1000, 5);
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.01));
  const Trace ref = mix.trace(tokens);
  Steering product;
  product.product = {2, 0, 1.0};
  const std::vector<Token> head(tokens.begin(), tokens.begin() + 3000);
  {
    TripAfter trip(3);
    EXPECT_THROW(mix.trace(tokens), simulacra::Interrupted);
    EXPECT_EQ(TripAfter::seen(), 4) << "stopped at the first poll that tripped";
  }
  {
    TripAfter trip(2);
    EXPECT_THROW(mix.trace(head, product), simulacra::Interrupted);
    EXPECT_THROW(mix.score(std::string(200000, 'a')), simulacra::Interrupted);
  }
  auto state = mix.begin(), twin = mix.begin();
  state.step(head);
  twin.step(head);
  {
    TripAfter trip(5);
    EXPECT_THROW(state.step(tokens), simulacra::Interrupted);
  }
  EXPECT_TRUE((state.log_weights().array() == twin.log_weights().array()).all());
  EXPECT_EQ(state.step(tokens[5]), twin.step(tokens[5])) << "the interrupted state reads on unchanged";
  EXPECT_TRUE((mix.trace(tokens).logprobs.array() == ref.logprobs.array()).all());
}

// A bad token anywhere in step(tokens) is refused before any is read.
TEST(MixtureStateTest, StepOfTokensIsAtomic) {
  const Mixture mix(table_personas(), kTableNames, table_prior(), fixed_share(0.05));
  auto state = mix.begin(), twin = mix.begin();
  const std::vector<Token> good = {'a', 'b'};
  state.step(good);
  twin.step(good);
  for (Token bad : {kVocab, -1}) {
    try {
      state.step(std::vector<Token>{'c', 'd', bad, 'e'});
      FAIL() << "token " << bad << " was accepted";
    } catch (const simulacra::OutOfRange& e) {
      EXPECT_NE(std::string(e.what()).find("position 2"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE((state.log_weights().array() == twin.log_weights().array()).all());
  EXPECT_EQ(state.step(Token('c')), twin.step(Token('c')));
}

}  // namespace
