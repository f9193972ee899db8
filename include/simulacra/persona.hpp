// simulacra/persona.hpp — the interface every mask implements.
//
// A Persona is a conditional next-token model p_k(x_t | x_<t) over the
// tokenizer's vocabulary (kVocab tokens, natural-log probabilities). It offers
// two ways in:
//
//  * an incremental state: begin() gives the state at the start of a document;
//    state.next_logprobs(out) fills the whole next-token distribution
//    (state.next_probs(out) the same as probabilities, for consumers that mix
//    in linear space: a persona that computes probabilities gives them without
//    a log and an exp per entry);
//    state.advance(token) consumes a token and returns its log-probability.
//  * a fast whole sequence: token_logprobs(tokens, out) writes
//    log p(tokens[t] | tokens[<t]) for every t, starting at a document start.
//
// Both follow the document convention of tokenizer.hpp: a boundary token is
// predicted at the end of a document, and after it the context is a fresh
// document start. Scoring from the state and from token_logprobs() agree
// exactly. (A document's total log-probability under a pile is
// Mixture::score; a persona's per-token numbers are token_logprobs.)
//
//   auto state = persona.begin();
//   Eigen::VectorXd lp(simulacra::kVocab);
//   state->next_logprobs(lp);            // log p(. | <b>)
//   double l = state->advance('A');      // == lp['A']
#pragma once

#include <cmath>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/tokenizer.hpp"

namespace simulacra {

// The incremental state of one persona reading one stream of tokens.
class PersonaState {
 public:
  virtual ~PersonaState() = default;

  // out (kVocab): natural-log probability of every next token given the
  // tokens consumed so far. Throws InvalidArgument if out.size() != kVocab.
  virtual void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const = 0;

  // out (kVocab): the same distribution as probabilities, exp(next_logprobs)
  // up to rounding (an impossible token exactly 0). The default exponentiates
  // next_logprobs (one call of it); a persona that has the probabilities at
  // hand overrides it. Product steering reads this (mixture.hpp). Throws
  // InvalidArgument if out.size() != kVocab.
  virtual void next_probs(Eigen::Ref<Eigen::VectorXd> out) const {
    next_logprobs(out);
    // Scalar exp: Eigen's vectorised exp maps -inf to a denormal, not to 0.
    for (Eigen::Index v = 0; v < out.size(); ++v) out[v] = std::exp(out[v]);
  }

  // Consumes `token` and returns log p(token | context before it). Throws
  // OutOfRange for a token outside 0..kVocab-1. After kBoundary the state is
  // the start of a new document.
  virtual double advance(Token token) = 0;

  // An independent copy (for look-ahead without disturbing this state).
  virtual std::unique_ptr<PersonaState> clone() const = 0;
};

// A next-token model: one mask of the pile.
class Persona {
 public:
  virtual ~Persona() = default;

  // A short name of the model family: "ngram", "transformer".
  virtual std::string kind() const = 0;

  // The state at the start of a document (after an implicit boundary).
  virtual std::unique_ptr<PersonaState> begin() const = 0;

  // out[t] = log p(tokens[t] | tokens[<t]) for t = 0..n-1, the first token
  // predicted from a document start. `out` must hold n doubles. The default
  // runs the incremental state; personas override it with a faster path.
  virtual void token_logprobs(const Token* tokens, std::size_t n, double* out) const {
    auto state = begin();
    for (std::size_t t = 0; t < n; ++t) out[t] = state->advance(tokens[t]);
  }

  // Convenience: the per-token log-probabilities of `tokens` as a vector.
  std::vector<double> token_logprobs(const std::vector<Token>& tokens) const {
    std::vector<double> out(tokens.size());
    token_logprobs(tokens.data(), tokens.size(), out.data());
    return out;
  }
};

}  // namespace simulacra
