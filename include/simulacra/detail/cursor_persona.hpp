// simulacra/detail/cursor_persona.hpp — what the n-gram persona and its
// compact and quantised layouts share: a persona state and the sequence
// readers over a model's Cursor.
//
// Model provides Model::Cursor (constructed from the model; advance(Token)
// returning log p of the token; context()) and
// Model::next_probs(context, Eigen::Ref<Eigen::VectorXd>) (kVocab
// probabilities, not logs).
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include <Eigen/Core>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/persona.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra::detail {

template <class Model>
class CursorState final : public PersonaState {
 public:
  explicit CursorState(const Model& lm) : lm_(lm), cursor_(lm) {}
  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    lm_.next_probs(cursor_.context(), out);
    out = out.array().log();
  }
  void next_probs(Eigen::Ref<Eigen::VectorXd> out) const override { lm_.next_probs(cursor_.context(), out); }
  double advance(Token token) override {
    SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "advance: token {} is outside 0..{}", token,
                    kVocab - 1);
    return cursor_.advance(token);
  }
  std::unique_ptr<PersonaState> clone() const override { return std::make_unique<CursorState>(*this); }

 private:
  const Model& lm_;
  typename Model::Cursor cursor_;
};

// out[t] = log p(tokens[t] | tokens[0..t)), read from a document start; OutOfRange naming a bad token.
template <class Model>
void cursor_token_logprobs(const Model& lm, const Token* tokens, std::size_t n, double* out) {
  typename Model::Cursor cursor(lm);
  InterruptPoller poll;
  for (std::size_t t = 0; t < n; ++t) {
    poll.tick();
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "token_logprobs: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
    out[t] = cursor.advance(tokens[t]);
  }
}

// log p of a whole document: its bytes, then the end boundary.
template <class Model>
double cursor_score_document(const Model& lm, std::string_view text) {
  typename Model::Cursor cursor(lm);
  InterruptPoller poll;
  double total = 0.0;
  for (unsigned char byte : text) {
    poll.tick();
    total += cursor.advance(byte);
  }
  return total + cursor.advance(kBoundary);
}

// (kVocab) log-probabilities of the next token after a context read from a document start.
template <class Model>
Eigen::VectorXd cursor_next_logprobs(const Model& lm, std::string_view context) {
  typename Model::Cursor cursor(lm);
  for (unsigned char byte : context) cursor.advance(byte);
  Eigen::VectorXd out(kVocab);
  lm.next_probs(cursor.context(), out);
  return out.array().log();
}

}  // namespace simulacra::detail
