// Tests of the superposition vote (vote.hpp).
//
// References are computed here, independently of vote.cpp: persona scores by
// walking each persona's own state from a document start, and the prompt
// posterior from the prior and each persona's own prompt score (Bayes' rule
// in log space). Tolerances are stated at each check.
#include "simulacra/vote.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {


using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::NGramPersona;
using simulacra::Persona;
using simulacra::Steering;
using simulacra::Switching;
using simulacra::Token;
using simulacra::Vote;

using Personas = std::vector<std::shared_ptr<const Persona>>;

const std::string kPrompt = "Question: which is best? Answer: ";
const std::vector<std::string> kOptions = {"A", "B", "C", "D"};

// Documents of a persona who answers the question with `first` or `second`
// equally often, around a few lines of its own voice.
std::vector<std::string> answering_docs(const std::string& voice, char first, char second) {
  std::vector<std::string> docs;
  for (int i = 0; i < 6; ++i) {
    docs.push_back(voice);
    docs.push_back(kPrompt + first);
    docs.push_back(kPrompt + second);
  }
  return docs;
}

// The essay's three masks: scientist (A or B), doctor (A or C), poet (A or D).
Mixture essay_mixture(MixtureConfig config = {}) {
  Personas p;
  p.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(
      answering_docs("The experiment measured the reaction rate at three temperatures.", 'A', 'B'), 6)));
  p.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(
      answering_docs("The patient reported mild fever and a persistent cough.", 'A', 'C'), 6)));
  p.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(
      answering_docs("O silver moon, thou wanderer of the quiet night.", 'A', 'D'), 6)));
  Eigen::VectorXd prior(3);
  prior << 0.5, 0.3, 0.2;
  return Mixture(std::move(p), {"scientist", "doctor", "poet"}, prior, std::move(config));
}

// Persona k's own log-probability of `tokens`, from a document start.
double own_logprob(const Persona& persona, const std::vector<Token>& tokens) {
  auto state = persona.begin();
  double lp = 0.0;
  for (Token t : tokens) lp += state->advance(t);
  return lp;
}

// ------------------------------------------------------------ vote

TEST(VoteTest, PersonaLogprobsAreEachPersonasOwnScore) {
  const Mixture mix = essay_mixture();
  const Vote v = simulacra::vote(mix, kPrompt, kOptions);
  ASSERT_EQ(v.persona_logprobs.rows(), 3);
  ASSERT_EQ(v.persona_logprobs.cols(), 4);
  for (int k = 0; k < 3; ++k) {
    for (int m = 0; m < 4; ++m) {
      auto state = mix.persona(k).begin();
      for (Token t : simulacra::encode(kPrompt)) state->advance(t);
      double lp = 0.0;
      for (Token t : simulacra::encode(kOptions[std::size_t(m)])) lp += state->advance(t);
      // The same arithmetic on the same model: agreement to rounding.
      EXPECT_NEAR(v.persona_logprobs(k, m), lp, 1e-12) << "persona " << k << " option " << m;
    }
  }
}

TEST(VoteTest, MixtureLogprobsFollowTheBayesianIdentity) {
  const Mixture mix = essay_mixture();
  // Multi-token options, so that the filter moves while reading them.
  const std::vector<std::string> options = {"A", "B because", "C, doctor", "D, O moon"};
  const Vote v = simulacra::vote(mix, kPrompt, options);
  const auto prompt = simulacra::encode(kPrompt);

  // w_k(prompt) ∝ pi_k p_k(prompt), from each persona's own score.
  Eigen::VectorXd log_w(3);
  for (int k = 0; k < 3; ++k) log_w(k) = std::log(mix.prior()(k)) + own_logprob(mix.persona(k), prompt);
  log_w.array() -= simulacra::log_sum_exp(log_w.data(), 3);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(v.prompt_weights(k), std::exp(log_w(k)), 1e-10);

  // log p(o | q) = log sum_k w_k(q) prod_t p_k(o_t | q, o_<t).
  for (int m = 0; m < 4; ++m) {
    auto whole = prompt;
    for (Token t : simulacra::encode(options[std::size_t(m)])) whole.push_back(t);
    Eigen::VectorXd terms(3);
    for (int k = 0; k < 3; ++k)
      terms(k) = log_w(k) + own_logprob(mix.persona(k), whole) - own_logprob(mix.persona(k), prompt);
    EXPECT_NEAR(v.mixture_logprobs(m), simulacra::log_sum_exp(terms.data(), 3), 1e-10) << "option " << m;
  }
}

TEST(VoteTest, ChoicesSumToOne) {
  const Mixture mix = essay_mixture();
  const Vote v = simulacra::vote(mix, kPrompt, kOptions);
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(v.persona_choice.row(k).sum(), 1.0, 1e-12);
  EXPECT_NEAR(v.mixture_choice.sum(), 1.0, 1e-12);
  EXPECT_NEAR(v.prompt_weights.sum(), 1.0, 1e-12);
  EXPECT_TRUE((v.persona_choice.array() >= 0.0).all());
  EXPECT_TRUE((v.mixture_choice.array() >= 0.0).all());
}

// The essay: a scientist (A or B), a doctor (A or C) and a poet (A or D) in
// superposition answer A. We assert (1) each persona splits between its own
// two answers (each > 0.3, together > 0.9), and (2) the mixture puts more
// mass on A than on any other option, and over 0.45 there (each persona gives A
// about one half, less the little its backoff leaks to letters it never wrote,
// so the weighted sum is about one half): the one answer every mask shares
// collects all the masks' votes. We do not
// assert that the mixture is surer of A than a single persona: each persona
// already gives A about one half, so the mixture's A is about one half too;
// the gain is in the ranking (A wins outright, where each persona alone ties).
TEST(VoteTest, SuperpositionAnswersTheSharedOption) {
  const Mixture mix = essay_mixture();
  const Vote v = simulacra::vote(mix, kPrompt, kOptions);
  const int own[3] = {1, 2, 3};  // B, C, D
  for (int k = 0; k < 3; ++k) {
    EXPECT_GT(v.persona_choice(k, 0), 0.3) << mix.names()[std::size_t(k)];
    EXPECT_GT(v.persona_choice(k, own[k]), 0.3) << mix.names()[std::size_t(k)];
    EXPECT_GT(v.persona_choice(k, 0) + v.persona_choice(k, own[k]), 0.9) << mix.names()[std::size_t(k)];
  }
  for (int m = 1; m < 4; ++m) EXPECT_GT(v.mixture_choice(0), v.mixture_choice(m)) << "option " << kOptions[std::size_t(m)];
  EXPECT_GT(v.mixture_choice(0), 0.45);
  std::printf("mixture choice A %.4f B %.4f C %.4f D %.4f (prompt weights %.3f %.3f %.3f)\n", v.mixture_choice(0),
              v.mixture_choice(1), v.mixture_choice(2), v.mixture_choice(3), v.prompt_weights(0),
              v.prompt_weights(1), v.prompt_weights(2));
}

// The per-byte and plurality readings, from the personas' own option scores
// and the Bayes posterior after the prompt (both recomputed here), on
// options of different lengths: log p(o) / n, renormalised; and the sum of
// w_k over the personas whose own best option is o.
TEST(VoteTest, PerByteAndPluralityFollowFromThePersonasOptionScores) {
  const Mixture mix = essay_mixture();
  const std::vector<std::string> options = {"A", "B because", "C, doctor", "D, O moon", "D"};
  const Vote v = simulacra::vote(mix, kPrompt, options);
  const auto prompt = simulacra::encode(kPrompt);
  const int K = 3, M = int(options.size());
  Eigen::VectorXd log_w(K);
  for (int k = 0; k < K; ++k) log_w(k) = std::log(mix.prior()(k)) + own_logprob(mix.persona(k), prompt);
  log_w.array() -= simulacra::log_sum_exp(log_w.data(), K);
  Eigen::MatrixXd own(K, M);  // log p_k(o_m | q)
  for (int k = 0; k < K; ++k)
    for (int m = 0; m < M; ++m) {
      auto whole = prompt;
      for (Token t : simulacra::encode(options[std::size_t(m)])) whole.push_back(t);
      own(k, m) = own_logprob(mix.persona(k), whole) - own_logprob(mix.persona(k), prompt);
    }
  std::vector<double> per_byte(static_cast<std::size_t>(M)), plurality(static_cast<std::size_t>(M), 0.0);
  double z = 0.0;
  for (int m = 0; m < M; ++m) {
    double pool = 0.0;
    for (int k = 0; k < K; ++k) pool += std::exp(log_w(k) + own(k, m));
    per_byte[std::size_t(m)] = std::log(pool) / double(options[std::size_t(m)].size());
    z += std::exp(per_byte[std::size_t(m)]);
  }
  for (int k = 0; k < K; ++k) {
    int best = 0;
    for (int m = 1; m < M; ++m)
      if (own(k, m) > own(k, best)) best = m;
    EXPECT_EQ(v.persona_answers[std::size_t(k)], best) << "persona " << k;
    plurality[std::size_t(best)] += std::exp(log_w(k));
  }
  ASSERT_EQ(v.per_byte_logprobs.size(), M);
  ASSERT_EQ(v.per_byte_choice.size(), M);
  ASSERT_EQ(v.plurality.size(), M);
  ASSERT_EQ(v.persona_answers.size(), std::size_t(K));
  for (int m = 0; m < M; ++m) {
    EXPECT_NEAR(v.per_byte_logprobs(m), per_byte[std::size_t(m)], 1e-10) << "option " << m;
    EXPECT_NEAR(v.per_byte_choice(m), std::exp(per_byte[std::size_t(m)]) / z, 1e-10) << "option " << m;
    EXPECT_NEAR(v.plurality(m), plurality[std::size_t(m)], 1e-12) << "option " << m;
  }
  EXPECT_NEAR(v.per_byte_choice.sum(), 1.0, 1e-12);
  EXPECT_NEAR(v.plurality.sum(), 1.0, 1e-12);
  // In the pool an option never beats its own prefix (a product of byte
  // probabilities): its length counts against it.
  EXPECT_LT(v.mixture_choice(3), v.mixture_choice(4));
}

// Each persona's own answer, by hand-built rows; an excluded persona has
// weight 0 and so no say in the plurality; ties go to the lower option.
TEST(VoteTest, PluralityCountsOnlyTheWeightOfTheMasksThatAnswer) {
  const Mixture mix = essay_mixture();
  Steering s;
  s.exclude = {0};
  const Vote v = simulacra::vote(mix, kPrompt, kOptions, s);
  EXPECT_EQ(v.prompt_weights(0), 0.0);
  Eigen::VectorXd want = Eigen::VectorXd::Zero(4);
  for (int k = 1; k < 3; ++k) want(v.persona_answers[std::size_t(k)]) += v.prompt_weights(k);
  for (int m = 0; m < 4; ++m) EXPECT_NEAR(v.plurality(m), want(m), 1e-15);
  // A persona that ties all options answers the first: a one-token-option
  // vote on a persona of uniform predictions.
  Personas flat;
  flat.push_back(std::make_shared<NGramPersona>(NGramPersona::fit({""}, 1)));
  const Mixture one(flat, {"flat"}, Eigen::VectorXd::Ones(1));
  const Vote tie = simulacra::vote(one, "", {"x", "y", "z"});
  EXPECT_EQ(tie.persona_answers[0], 0);
  EXPECT_EQ(tie.plurality(0), 1.0);
}

TEST(VoteTest, ClampedVoteIsThePersonasVote) {
  const Mixture mix = essay_mixture();
  Steering s;
  s.clamp = 2;
  const Vote v = simulacra::vote(mix, kPrompt, kOptions, s);
  // Clamped to the poet, the mixture's scores are the poet's own.
  for (int m = 0; m < 4; ++m) EXPECT_NEAR(v.mixture_logprobs(m), v.persona_logprobs(2, m), 1e-10);
  EXPECT_NEAR(v.prompt_weights(2), 1.0, 1e-12);
}

TEST(VoteTest, RejectsBadOptions) {
  const Mixture mix = essay_mixture();
  EXPECT_THROW(simulacra::vote(mix, kPrompt, {}), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::vote(mix, kPrompt, {"A", ""}), simulacra::InvalidArgument);
  Steering s;
  s.clamp = 3;
  EXPECT_THROW(simulacra::vote(mix, kPrompt, kOptions, s), simulacra::OutOfRange);
}

// Votes read long prompts: they poll the interrupt check (interrupt.hpp).
TEST(VoteTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  const Mixture mix = essay_mixture();
  const std::string prompt(60000, 'a');
  const Vote ref = simulacra::vote(mix, prompt, {"A", "B"});
  {
    TripAfter trip(4);
    EXPECT_THROW(simulacra::vote(mix, prompt, {"A", "B"}), simulacra::Interrupted);
  }
  EXPECT_EQ(simulacra::vote(mix, prompt, {"A", "B"}).mixture_logprobs, ref.mixture_logprobs);
}

}  // namespace
