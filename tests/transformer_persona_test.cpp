// Tests of transformer.hpp's inference: the KV cache against forward passes
// over the windows its rule implies, the persona's batched score against its
// incremental state, and Ctrl-C during scoring.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "simulacra/interrupt.hpp"
#include "simulacra/transformer.hpp"
#include "transformer_testing.hpp"

namespace simulacra {
namespace {

// ---- KV cache ----------------------------------------------------------------------------

// One window of the cache rule: inputs [start, start + length), positions
// from `first` on are new (the earlier ones are the re-encoded half).
struct Window {
  int start, length, first;
};

void expect_cache_matches_windows(int context, const std::vector<Window>& windows, int n) {
  TransformerConfig c = tiny_config(true, false, false);
  c.context = context;
  const ModelD model(c, random_parameters(c, 31));
  const std::vector<Token> tokens = random_tokens(std::size_t(n), 32);

  std::vector<MatrixD> expected(2, MatrixD::Constant(n, kVocab, NAN));
  Activations<double> acts;
  for (const Window& w : windows) {
    model.forward(tokens.data() + w.start, 1, w.length, acts);
    for (int k = 0; k < 2; ++k) {
      const MatrixD lp = log_softmax_rows(acts.logits[std::size_t(k)]);
      for (int i = w.first; i < w.length; ++i) expected[std::size_t(k)].row(w.start + i) = lp.row(i);
    }
  }
  ModelD::Cache cache;
  model.reset(cache);
  for (int t = 0; t < n; ++t) {
    const Eigen::VectorXd h = model.append(cache, tokens[std::size_t(t)]);
    EXPECT_LE(cache.window.size(), std::size_t(context));
    for (int k = 0; k < 2; ++k) {
      const Eigen::VectorXd lp = model.head_logprobs(k, h);
      const double diff = (lp.transpose() - expected[std::size_t(k)].row(t)).cwiseAbs().maxCoeff();
      EXPECT_LT(diff, 1e-10) << "position " << t << " head " << k;
    }
  }
}

TEST(TransformerCacheTest, StepFollowsTheWindowRuleEvenContext) {
  // context 8: windows start every 8 - 4 = 4 inputs, each re-encoding the last 4.
  expect_cache_matches_windows(8, {{0, 8, 0}, {4, 8, 4}, {8, 8, 4}, {12, 8, 4}, {16, 8, 4}, {20, 5, 4}}, 25);
}

TEST(TransformerCacheTest, StepFollowsTheWindowRuleOddContext) {
  // context 7: the last 7 / 2 = 3 inputs are kept, windows start every 4.
  expect_cache_matches_windows(7, {{0, 7, 0}, {4, 7, 3}, {8, 7, 3}, {12, 7, 3}, {16, 4, 3}}, 20);
}

TEST(TransformerCacheTest, ContextOfOneSeesOnlyItself) {
  expect_cache_matches_windows(1, {{0, 1, 0}, {1, 1, 0}, {2, 1, 0}, {3, 1, 0}}, 4);
}

// ---- the persona ---------------------------------------------------------------------------

std::shared_ptr<const ModelF> persona_model(int context) {
  TransformerConfig c;
  c.layers = 2;
  c.heads = 2;
  c.width = 16;
  c.context = context;
  c.personas = 2;
  c.bias = true;
  std::vector<double> p = random_parameters(c, 41);
  return std::make_shared<const ModelF>(c, std::vector<float>(p.begin(), p.end()));
}

void expect_score_matches_advance(const TransformerPersona& persona, const std::vector<Token>& tokens) {
  const std::vector<double> batched = persona.token_logprobs(tokens);
  ASSERT_EQ(batched.size(), tokens.size());
  auto state = persona.begin();
  for (std::size_t t = 0; t < tokens.size(); ++t)
    EXPECT_NEAR(batched[t], state->advance(tokens[t]), 1e-5) << "token " << t;
}

TEST(TransformerPersonaTest, ScoreEqualsAdvanceAcrossBoundariesAndWindows) {
  for (int context : {8, 7, 1}) {
    SCOPED_TRACE(context);
    const auto model = persona_model(context);
    const TransformerPersona persona(model, 1);
    EXPECT_EQ(persona.kind(), "transformer");
    std::vector<Token> tokens = random_tokens(300, 42, kBoundary);  // no boundaries yet
    for (std::size_t b : {0u, 3u, 4u, 25u, 150u, 151u, 299u}) tokens[b] = kBoundary;
    expect_score_matches_advance(persona, tokens);
    expect_score_matches_advance(persona, {});
    expect_score_matches_advance(persona, {kBoundary});
    expect_score_matches_advance(persona, {'a'});
    // Long enough to need several batches of windows in token_logprobs().
    expect_score_matches_advance(persona, random_tokens(2500, 43));
  }
}

TEST(TransformerPersonaTest, StateDistributionAndClones) {
  const auto model = persona_model(8);
  const TransformerPersona persona(model, 0);
  auto state = persona.begin();
  Eigen::VectorXd lp(kVocab);
  const std::vector<Token> text = random_tokens(20, 44, kBoundary);
  for (std::size_t t = 0; t < text.size(); ++t) {
    state->next_logprobs(lp);
    EXPECT_NEAR(lp.array().exp().sum(), 1.0, 1e-5);
    EXPECT_DOUBLE_EQ(state->advance(text[t]), lp[text[t]]);
  }
  // The first distribution is the head's after reading the boundary alone.
  ModelF::Cache cache;
  model->reset(cache);
  const Eigen::VectorXf first = model->head_logprobs(0, model->append(cache, kBoundary));
  persona.begin()->next_logprobs(lp);
  EXPECT_TRUE(lp == first.cast<double>());

  // A clone goes its own way without disturbing the original.
  state->next_logprobs(lp);
  auto copy = state->clone();
  copy->advance('x');
  copy->advance(kBoundary);
  copy->advance('y');
  Eigen::VectorXd again(kVocab);
  state->next_logprobs(again);
  EXPECT_EQ(lp, again);
  auto copy2 = state->clone();
  for (Token t : {'p', 'q', 'r'}) EXPECT_EQ(state->advance(t), copy2->advance(t));

  Eigen::VectorXd wrong(kVocab - 1);
  EXPECT_THROW(state->next_logprobs(wrong), InvalidArgument);
  EXPECT_THROW(state->advance(kVocab), OutOfRange);
  EXPECT_THROW(state->advance(-1), OutOfRange);
}

TEST(TransformerPersonaTest, BadConstruction) {
  const auto model = persona_model(8);
  EXPECT_THROW(TransformerPersona(model, 2), OutOfRange);
  EXPECT_THROW(TransformerPersona(model, -1), OutOfRange);
  EXPECT_THROW(TransformerPersona(nullptr, 0), InvalidArgument);
  const TransformerPersona persona(model, 1);
  EXPECT_EQ(persona.head(), 1);
  EXPECT_EQ(persona.model(), model);
  const std::vector<Token> bad = {'a', 300};
  EXPECT_THROW(persona.token_logprobs(bad), OutOfRange);
}

// An interrupt check that says "stop" from its `limit`-th call on.
int interrupt_calls = 0, interrupt_limit = 0;
bool stop_after_limit() { return ++interrupt_calls >= interrupt_limit; }

TEST(TransformerPersonaTest, ScoringStopsWhenInterrupted) {
  const auto model = persona_model(8);
  const TransformerPersona persona(model, 0);
  const std::vector<Token> tokens = random_tokens(4000, 45, kBoundary);  // 1000 windows of 8: 11 batches
  interrupt_calls = 0;
  interrupt_limit = 3;
  const InterruptCheck previous = set_interrupt_check(stop_after_limit);
  EXPECT_THROW(persona.token_logprobs(tokens), Interrupted);
  EXPECT_EQ(interrupt_calls, 3);  // the poll comes before each batch; the third stopped it
  // A check that never fires lets the same call finish, polling once per batch.
  interrupt_calls = 0;
  interrupt_limit = 1 << 30;
  EXPECT_EQ(persona.token_logprobs(tokens).size(), tokens.size());
  EXPECT_GE(interrupt_calls, int(tokens.size() / 768));
  set_interrupt_check(previous);
}

}  // namespace
}  // namespace simulacra
