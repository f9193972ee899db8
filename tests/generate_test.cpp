// Tests of generation (generate() in sampling.hpp): checked against greedy
// decoding recomputed here from a persona's own state, and against the
// mixture's trace of the generated text; stopping, hooks, persona mode, the
// cost of product steering. The sampler chain itself: sampling_test.cpp.
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

// --------------------------------------------------------------- generate()

// Two small, very different personas: a pirate and a counter of digits.
class GenerateTest : public testing::Test {
 protected:
  GenerateTest()
      : pirate_(std::make_shared<NGramPersona>(NGramPersona::fit(
            {"arr matey, arr!", "ahoy matey, hoist the sails", "arr, the sea be rough", "yo ho ho and a bottle",
             "walk the plank, matey", "shiver me timbers, arr"},
            3))),
        digits_(std::make_shared<NGramPersona>(
            NGramPersona::fit({"0123456789", "1234567890 0987654321", "31415926535 2718281828", "1 2 3 4 5 6 7 8 9",
                               "42 17 99 100 2024"},
                              3))),
        mix_({pirate_, digits_}, {"pirate", "digits"}, Eigen::Vector2d(0.5, 0.5)) {}

  std::shared_ptr<const Persona> pirate_, digits_;
  Mixture mix_;
};

// The bytes of the tokens with the boundaries left out.
std::string text_of(const std::vector<Token>& tokens) {
  std::string s;
  for (Token t : tokens)
    if (t != kBoundary) s.push_back(static_cast<char>(t));
  return s;
}

// Greedy decoding under one persona alone, from its own state.
std::vector<Token> greedy_reference(const Persona& persona, const std::string& prompt, int max_tokens,
                                    bool stop_at_boundary) {
  auto state = persona.begin();
  for (unsigned char c : prompt) state->advance(Token(c));
  std::vector<Token> out;
  Eigen::VectorXd lp(kVocab);
  for (int i = 0; i < max_tokens; ++i) {
    state->next_logprobs(lp);
    Token best = 0;
    for (Token v = 1; v < kVocab; ++v)
      if (lp[v] > lp[best]) best = v;
    out.push_back(best);
    state->advance(best);
    if (stop_at_boundary && best == kBoundary) break;
  }
  return out;
}

TEST_F(GenerateTest, SameSeedSameText) {
  GenerateConfig g;
  g.max_tokens = 60;
  g.stop_at_boundary = false;
  g.sampler.seed = 1234;
  const Generation a = simulacra::generate(mix_, "ar", g);
  const Generation b = simulacra::generate(mix_, "ar", g);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.text, b.text);
  EXPECT_EQ(a.personas, b.personas);
  EXPECT_TRUE((a.log_weights.array() == b.log_weights.array()).all());
  // A different seed gives a different continuation (60 draws at T = 1).
  g.sampler.seed = 1235;
  EXPECT_NE(simulacra::generate(mix_, "ar", g).tokens, a.tokens);
}

TEST_F(GenerateTest, MaxTokensZeroIsEmpty) {
  GenerateConfig g;
  g.max_tokens = 0;
  int calls = 0;
  g.on_step = [&](const GenerationStep&) { return ++calls, true; };
  const Generation out = simulacra::generate(mix_, "arr", g);
  EXPECT_TRUE(out.tokens.empty());
  EXPECT_TRUE(out.text.empty());
  EXPECT_TRUE(out.personas.empty());
  EXPECT_EQ(out.log_weights.rows(), 0);
  EXPECT_EQ(calls, 0);
  g.max_tokens = -1;
  EXPECT_THROW(simulacra::generate(mix_, "arr", g), InvalidArgument);
}

TEST_F(GenerateTest, TextIsTheTokensWithoutBoundaries) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    GenerateConfig g;
    g.max_tokens = 80;
    g.stop_at_boundary = false;
    g.sampler.seed = seed;
    g.sampler.temperature = 1.5;
    const Generation out = simulacra::generate(mix_, "", g);
    ASSERT_EQ(out.tokens.size(), 80u);
    EXPECT_EQ(out.text, text_of(out.tokens));
    EXPECT_EQ(out.log_weights.rows(), 80);
    EXPECT_EQ(out.log_weights.cols(), 2);
    EXPECT_EQ(out.personas, std::vector<int>(80, -1));  // kMixture mode reports no persona
  }
}

TEST_F(GenerateTest, StopAtBoundaryStopsAfterTheBoundary) {
  int stopped_early = 0, boundaries_passed = 0;
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    GenerateConfig g;
    g.max_tokens = 300;
    g.sampler.seed = seed;
    const Generation out = simulacra::generate(mix_, "", g);
    ASSERT_FALSE(out.tokens.empty());
    const auto first = std::find(out.tokens.begin(), out.tokens.end(), kBoundary);
    if (first != out.tokens.end()) {
      EXPECT_EQ(first + 1, out.tokens.end()) << "tokens continue after the boundary (seed " << seed << ")";
      ++stopped_early;
    } else {
      EXPECT_EQ(out.tokens.size(), 300u);
    }
    EXPECT_EQ(out.text, text_of(out.tokens));
    // Without the stop, the same seed reads on past the boundary.
    g.stop_at_boundary = false;
    const Generation on = simulacra::generate(mix_, "", g);
    EXPECT_EQ(on.tokens.size(), 300u);
    ASSERT_GE(on.tokens.size(), out.tokens.size());
    EXPECT_TRUE(std::equal(out.tokens.begin(), out.tokens.end(), on.tokens.begin()));
    boundaries_passed += std::count(on.tokens.begin(), on.tokens.end(), kBoundary) > 1;
  }
  // The personas' documents are short: most generations end by a boundary.
  EXPECT_GT(stopped_early, 30);
  EXPECT_GT(boundaries_passed, 0);

  // Greedy under the pirate alone ends at a boundary: exactly that many tokens.
  GenerateConfig g;
  g.max_tokens = 300;
  g.sampler.temperature = 0.0;
  g.steering.clamp = 0;
  const std::vector<Token> ref = greedy_reference(*pirate_, "arr", 300, true);
  ASSERT_EQ(ref.back(), kBoundary) << "test premise: greedy pirate text ends";
  EXPECT_EQ(simulacra::generate(mix_, "arr", g).tokens, ref);
}

TEST_F(GenerateTest, OnStepFalseStopsAfterThatToken) {
  GenerateConfig g;
  g.max_tokens = 100;
  g.stop_at_boundary = false;
  g.sampler.seed = 77;
  std::vector<GenerationStep> seen;
  g.on_step = [&](const GenerationStep& s) {
    seen.push_back(s);
    return s.index < 6;  // false at index 6: stop after the 7th token
  };
  const Generation out = simulacra::generate(mix_, "ahoy", g);
  ASSERT_EQ(out.tokens.size(), 7u);
  ASSERT_EQ(seen.size(), 7u);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].index, int(i));
    EXPECT_EQ(seen[i].token, out.tokens[i]);
    EXPECT_EQ(seen[i].persona, -1);
    EXPECT_TRUE((seen[i].log_weights.transpose().array() == out.log_weights.row(Eigen::Index(i)).array()).all());
  }
  // The first 7 tokens are those of the same run without the callback.
  g.on_step = nullptr;
  const Generation full = simulacra::generate(mix_, "ahoy", g);
  EXPECT_TRUE(std::equal(out.tokens.begin(), out.tokens.end(), full.tokens.begin()));
}

TEST_F(GenerateTest, LogWeightRowsAreDistributions) {
  for (GenerateMode mode : {GenerateMode::kMixture, GenerateMode::kPersona}) {
    GenerateConfig g;
    g.max_tokens = 120;
    g.stop_at_boundary = false;
    g.mode = mode;
    g.sampler.seed = 3;
    const Generation out = simulacra::generate(mix_, "arr 12", g);
    ASSERT_EQ(out.log_weights.rows(), 120);
    for (Eigen::Index t = 0; t < out.log_weights.rows(); ++t)
      EXPECT_NEAR(out.log_weights.row(t).array().exp().sum(), 1.0, 1e-12) << "row " << t;
  }
}

TEST_F(GenerateTest, ClampedGreedyMixtureIsGreedyUnderThePersona) {
  for (int k = 0; k < 2; ++k) {
    for (const std::string prompt : {"", "arr", "12", "yo ho"}) {
      SCOPED_TRACE(testing::Message() << "persona " << k << " prompt '" << prompt << "'");
      GenerateConfig g;
      g.max_tokens = 50;
      g.stop_at_boundary = false;
      g.sampler.temperature = 0.0;
      g.steering.clamp = k;
      const Generation out = simulacra::generate(mix_, prompt, g);
      EXPECT_EQ(out.tokens, greedy_reference(mix_.persona(k), prompt, 50, false));
      // The clamped weights: log 1 on k, -inf elsewhere.
      for (Eigen::Index t = 0; t < out.log_weights.rows(); ++t) {
        EXPECT_EQ(out.log_weights(t, k), 0.0);
        EXPECT_EQ(out.log_weights(t, 1 - k), -kInf);
      }
    }
  }
}

TEST_F(GenerateTest, PersonaModeWithClampOnlyReportsThatPersona) {
  for (int k = 0; k < 2; ++k) {
    for (std::uint64_t seed = 0; seed < 10; ++seed) {
      GenerateConfig g;
      g.max_tokens = 60;
      g.stop_at_boundary = false;
      g.mode = GenerateMode::kPersona;
      g.sampler.seed = seed;
      g.steering.clamp = k;
      const Generation out = simulacra::generate(mix_, "arr 42", g);
      ASSERT_EQ(out.personas.size(), 60u);
      EXPECT_EQ(out.personas, std::vector<int>(60, k));
    }
  }
}

TEST_F(GenerateTest, PersonaModeDrawsPersonasByWeight) {
  // The first token's persona is drawn from the weights after the prompt:
  // over many seeds its frequency must match exp(log_weights(0, k)).
  // With an empty prompt the weights are the biased prior: exp(b) pi,
  // renormalised, puts the pirate at 0.3 here.
  const std::string prompt;
  Steering steering;
  steering.prior_bias = Eigen::Vector2d(std::log(0.3), std::log(0.7));
  const double w0 = 0.3;
  const int n = 4000;
  int pirate = 0;
  for (int seed = 0; seed < n; ++seed) {
    GenerateConfig g;
    g.max_tokens = 1;
    g.mode = GenerateMode::kPersona;
    g.steering = steering;
    g.sampler.seed = std::uint64_t(seed);
    const Generation out = simulacra::generate(mix_, prompt, g);
    ASSERT_EQ(out.personas.size(), 1u);
    ASSERT_NEAR(std::exp(out.log_weights(0, 0)), w0, 1e-12);  // the biased prior
    pirate += out.personas[0] == 0;
  }
  EXPECT_NEAR(double(pirate) / n, w0, 5.0 * std::sqrt(w0 * (1.0 - w0) / n));
}

TEST_F(GenerateTest, GeneratedTokensFeedTheFilter) {
  // The weights before each generated token are those of the mixture's trace
  // of prompt + generated text (the same filter, run here from scratch).
  for (GenerateMode mode : {GenerateMode::kMixture, GenerateMode::kPersona}) {
    GenerateConfig g;
    g.max_tokens = 100;
    g.stop_at_boundary = false;
    g.mode = mode;
    g.sampler.seed = 11;
    const std::string prompt = "ahoy 9";
    const Generation out = simulacra::generate(mix_, prompt, g);
    std::vector<Token> all = simulacra::encode(prompt);
    all.insert(all.end(), out.tokens.begin(), out.tokens.end());
    const simulacra::Trace tr = mix_.trace(all);
    const Eigen::Index p = Eigen::Index(prompt.size());
    for (Eigen::Index t = 0; t < out.log_weights.rows(); ++t)
      for (Eigen::Index k = 0; k < 2; ++k)
        EXPECT_NEAR(out.log_weights(t, k), tr.log_weights(p + t, k), 1e-9) << "row " << t;
    // And they move as the text grows.
    EXPECT_GT((out.log_weights.row(99) - out.log_weights.row(0)).cwiseAbs().maxCoeff(), 1.0);
  }
}

TEST_F(GenerateTest, PriorBiasKeepsTheWeightsOnThatPersona) {
  for (int k = 0; k < 2; ++k) {
    SCOPED_TRACE(k);
    GenerateConfig g;
    g.max_tokens = 150;
    g.stop_at_boundary = false;
    g.sampler.seed = 5;
    g.sampler.temperature = 0.8;
    g.steering.prior_bias = Eigen::Vector2d(k == 0 ? 6.0 : -6.0, k == 0 ? -6.0 : 6.0);
    const Generation out = simulacra::generate(mix_, "", g);
    ASSERT_EQ(out.log_weights.rows(), 150);
    // Before the first token: the biased prior, exp(12) / (1 + exp(12)).
    EXPECT_NEAR(std::exp(out.log_weights(0, k)), 1.0 / (1.0 + std::exp(-12.0)), 1e-12);
    // As the text grows the weights change, and stay on persona k.
    bool moved = false;
    for (Eigen::Index t = 0; t < 150; ++t) {
      EXPECT_GT(std::exp(out.log_weights(t, k)), 0.99) << "row " << t << " text '" << out.text << "'";
      moved = moved || out.log_weights(t, 1 - k) != out.log_weights(0, 1 - k);
    }
    EXPECT_TRUE(moved);
    // The text is the persona's: mostly digits for the counter, letters for the pirate.
    const auto digits = std::count_if(out.text.begin(), out.text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (k == 1)
      EXPECT_GT(double(digits), 0.5 * double(out.text.size())) << out.text;
    else
      EXPECT_LT(double(digits), 0.1 * double(out.text.size())) << out.text;
  }
}

TEST_F(GenerateTest, BadSamplerConfigIsInvalid) {
  GenerateConfig g;
  g.sampler.top_p = 0.0;
  EXPECT_THROW(simulacra::generate(mix_, "arr", g), InvalidArgument);
}

// A persona that counts how often its distributions are asked for: the
// next-token distribution (next_logprobs) is the costly call of a persona.
class CountingPersona final : public Persona {
 public:
  explicit CountingPersona(std::shared_ptr<const Persona> inner) : inner_(std::move(inner)) {}
  std::string kind() const override { return "counting"; }
  std::unique_ptr<simulacra::PersonaState> begin() const override {
    return std::make_unique<State>(inner_->begin(), &calls_);
  }
  long calls() const { return calls_; }

 private:
  class State final : public simulacra::PersonaState {
   public:
    State(std::unique_ptr<simulacra::PersonaState> inner, long* calls) : inner_(std::move(inner)), calls_(calls) {}
    void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
      ++*calls_;
      inner_->next_logprobs(out);
    }
    double advance(Token token) override { return inner_->advance(token); }
    std::unique_ptr<simulacra::PersonaState> clone() const override {
      return std::make_unique<State>(inner_->clone(), calls_);
    }

   private:
    std::unique_ptr<simulacra::PersonaState> inner_;
    long* calls_;
  };
  std::shared_ptr<const Persona> inner_;
  mutable long calls_ = 0;
};

// Product steering needs each persona's whole distribution once per token:
// generating 100 tokens from K = 2 personas asks for exactly 200 (the
// prediction a token is drawn from is the one its step reuses), in both
// modes, and a steered trace of T tokens for T per persona.
TEST(GenerateCostTest, ProductSteeringAsksEachPersonaOncePerToken) {
  const auto a = std::make_shared<CountingPersona>(
      std::make_shared<NGramPersona>(NGramPersona::fit({"arr matey arr", "ahoy arr"}, 3)));
  const auto b = std::make_shared<CountingPersona>(
      std::make_shared<NGramPersona>(NGramPersona::fit({"o moon o sea", "o sky"}, 3)));
  const Mixture mix({a, b}, {"pirate", "poet"}, Eigen::VectorXd::Ones(2));
  for (const auto mode : {GenerateMode::kMixture, GenerateMode::kPersona}) {
    GenerateConfig cfg;
    cfg.max_tokens = 100;
    cfg.stop_at_boundary = false;
    cfg.mode = mode;
    cfg.steering.product = {0, 1, 1.5};
    const long before = a->calls() + b->calls();
    const Generation out = simulacra::generate(mix, "", cfg);
    ASSERT_EQ(out.tokens.size(), 100u);
    EXPECT_EQ(a->calls() + b->calls() - before, 200) << simulacra::generate_mode_name(mode);
  }
  Steering s;
  s.product = {0, 1, -0.5};
  const long before = a->calls() + b->calls();
  const simulacra::Trace tr = mix.trace(simulacra::encode("arr, o moon"), s);
  EXPECT_EQ(a->calls() + b->calls() - before, 2 * 11);
  EXPECT_EQ(tr.size(), 11u);
}

TEST(GenerateHookTest, StepSeesTheDistributionTheTokenCameFrom) {
  const auto a = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit({"arr matey arr", "ahoy arr"}, 3));
  const auto b = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit({"o moon o sea", "o sky"}, 3));
  const simulacra::Mixture mix({a, b}, {"pirate", "poet"}, Eigen::VectorXd::Ones(2));
  for (const double lambda : {0.0, 1.5}) {
    for (const auto mode : {simulacra::GenerateMode::kMixture, simulacra::GenerateMode::kPersona}) {
      SCOPED_TRACE("lambda " + std::to_string(lambda));
      simulacra::GenerateConfig cfg;
      cfg.max_tokens = 10;
      cfg.stop_at_boundary = false;
      cfg.mode = mode;
      cfg.sampler.seed = 3;
      cfg.steering.product = {0, 1, lambda};  // pirate minus poet
      simulacra::MixtureState shadow = mix.begin();
      int checked = 0;
      cfg.on_step = [&](const simulacra::GenerationStep& step) {
        const simulacra::Prediction p = shadow.predict();
        Eigen::VectorXd expected =
            step.persona >= 0 ? Eigen::VectorXd(p.persona_logprobs.row(step.persona).transpose()) : p.logprobs;
        // The tilt, written out: p (p_pirate / p_poet)^lambda, renormalised.
        const Eigen::ArrayXd ratio =
            (p.persona_logprobs.row(0).array() - p.persona_logprobs.row(1).array()).exp().transpose();
        const Eigen::ArrayXd q = expected.array().exp() * ratio.pow(lambda);
        expected = (q / q.sum()).log().matrix();
        EXPECT_LE((step.logprobs - expected).cwiseAbs().maxCoeff(), 1e-12);
        EXPECT_GT(step.logprobs[step.token], -INFINITY);
        shadow.step(step.token);
        ++checked;
        return true;
      };
      simulacra::generate(mix, "", cfg);
      EXPECT_EQ(checked, 10);
    }
  }
}

// Generation polls the interrupt check (interrupt.hpp) between tokens.
TEST_F(GenerateTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  GenerateConfig g;
  g.max_tokens = 2000;
  g.stop_at_boundary = false;
  {
    TripAfter trip(3);
    EXPECT_THROW(simulacra::generate(mix_, "arr", g), simulacra::Interrupted);
  }
  EXPECT_EQ(simulacra::generate(mix_, "arr", g).tokens.size(), 2000u);
}

// GenerationStream: one token per next(), each the draw of a hand-written
// loop (a Sampler and a MixtureState, predict, sample, step), and in all the
// generation generate() returns.
TEST_F(GenerateTest, StreamDrawsWhatAHandWrittenLoopDraws) {
  GenerateConfig g;
  g.max_tokens = 50;
  g.stop_at_boundary = false;
  g.sampler.seed = 77;
  g.sampler.temperature = 1.2;
  simulacra::GenerationStream stream(mix_, "ar", g);
  EXPECT_EQ(stream.step().index, -1);
  Sampler sampler(g.sampler);
  simulacra::MixtureState state = mix_.begin();
  state.step(simulacra::encode("ar"));
  int n = 0;
  while (stream.next()) {
    const simulacra::Prediction pred = state.predict();
    const Token t = Token(sampler.sample(pred.logprobs));
    ASSERT_EQ(stream.step().token, t) << "token " << n;
    EXPECT_EQ(stream.step().index, n);
    EXPECT_TRUE((stream.step().log_weights.array() == pred.log_weights.array()).all());
    EXPECT_TRUE((stream.step().logprobs.array() == pred.logprobs.array()).all());
    state.step(t);
    ++n;
    EXPECT_EQ(stream.generation().tokens.size(), std::size_t(n));  // nothing drawn ahead
  }
  EXPECT_EQ(n, 50);
  EXPECT_TRUE(stream.done());
  EXPECT_FALSE(stream.next());
  const Generation all = simulacra::generate(mix_, "ar", g), streamed = stream.generation();
  EXPECT_EQ(streamed.tokens, all.tokens);
  EXPECT_EQ(streamed.text, all.text);
  EXPECT_EQ(streamed.personas, all.personas);
  EXPECT_TRUE((streamed.log_weights.array() == all.log_weights.array()).all());
}

TEST_F(GenerateTest, StreamStopsAtTheBoundaryAndChecksItsConfig) {
  GenerateConfig g;
  g.max_tokens = 5000;
  g.sampler.seed = 3;
  simulacra::GenerationStream stream(mix_, "", g);
  while (stream.next()) {
  }
  const Generation out = stream.generation();
  ASSERT_FALSE(out.tokens.empty());
  EXPECT_TRUE(out.tokens.back() == kBoundary || out.tokens.size() == 5000u);
  EXPECT_EQ(out.tokens, simulacra::generate(mix_, "", g).tokens);
  g.max_tokens = -1;
  EXPECT_THROW(simulacra::GenerationStream(mix_, "", g), InvalidArgument);
  g.max_tokens = 1;
  g.sampler.top_p = 0.0;
  EXPECT_THROW(simulacra::GenerationStream(mix_, "", g), InvalidArgument);
}

}  // namespace
