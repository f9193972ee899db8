// simulacra/detail/context_cursor.hpp — the context that moves token by token
// over an n-gram model: what NGramPersona::Cursor and its compact and
// quantised layouts' cursors share.
//
// Model provides order(), start_context(std::uint32_t*) and
// advance(const std::uint32_t* ctx, Token w, std::uint32_t* next) returning
// log p(w | ctx) and writing the context after w into next.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "simulacra/error.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra::detail {

template <class Model>
class ContextCursor {
 public:
  // `type` names the model in the error of an empty one.
  ContextCursor(const Model& lm, const char* type) : lm_(&lm), cur_(std::size_t(lm.order() > 0 ? lm.order() : 0)), next_(cur_.size()) {
    SIMULACRA_CHECK(lm.order() >= 1, InvalidArgument, "{}: the model is empty (fit or load one first)", type);
    lm.start_context(cur_.data());
  }
  // log p(w | context), then w joins the context. w must be in 0..kVocab-1.
  double advance(Token w) {
    const double lp = lm_->advance(cur_.data(), w, next_.data());
    cur_.swap(next_);
    return lp;
  }
  const std::uint32_t* context() const { return cur_.data(); }

 private:
  const Model* lm_;
  std::vector<std::uint32_t> cur_, next_;  // the context and the double buffer advance() writes
};

}  // namespace simulacra::detail
