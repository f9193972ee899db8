// simulacra/ngram.hpp — an interpolated modified Kneser-Ney n-gram persona.
//
// The model of Chen & Goodman (1998), with KenLM's conventions:
//
//   p_n(w | h) = max(a(hw) - D_n(a(hw)), 0) / sum_x a(hx)  +  gamma_n(h) p_{n-1}(w | h')
//   gamma_n(h) = (D_n1 N1(h.) + D_n2 N2(h.) + D_n3+ N3+(h.)) / sum_x a(hx)
//   p_0(w)     = 1 / kVocab                                  (uniform base)
//
// where h' drops the oldest token of h, and a context never seen passes
// through (gamma = 1, no discounted mass). The adjusted count a(s) of an
// n-gram s is its raw count when n = N (the highest order) or when s begins
// with the start boundary (nothing can extend it to the left), and otherwise
// its continuation count N1+(. s): the number of distinct tokens seen just
// before s. N_k(h.) counts the continuations w of h with a(hw) = k (k >= 3
// for N3+). Three discounts per order come from the count-of-counts t_k of
// that order's adjusted counts:
//
//   Y = t1 / (t1 + 2 t2),  D1 = 1 - 2Y t2/t1,  D2 = 2 - 3Y t3/t2,  D3+ = 3 - 4Y t4/t3
//
// Where the count-of-counts are degenerate (some t_k = 0, or a discount
// outside [0, k]) the discounts fall back to (0.5, 1, 1.5), as lmplz does with
// --discount_fallback; discounts(n).fallback tells when that happened.
//
// Documents: each is [<b>] bytes... <b>. The leading boundary is context only
// (like <s>: one of it, never predicted); the trailing one is predicted (like
// </s>); n-grams never cross a document. Any order N from 1 to
// NGramPersona::kMaxOrder (1000; the model-file loader refuses what fit could
// not make). All probabilities are natural-log at the API.
//
// Storage: a trie of sorted arrays, one level per order, children of a
// context contiguous; 32 bytes per stored n-gram (token, discounted term,
// backoff weight, child range: one node, so that finding a continuation and
// reading its numbers touch the same cache line). Scoring walks at most N levels per token and
// the next state is a by-product of the walk; the full next-token
// distribution costs kVocab + (number of stored continuations of the context).
//
//   auto lm = simulacra::NGramPersona::fit({"Arr, matey!", "Ahoy, matey!"}, 3);
//   double lp = lm.score_document("Arr!");          // log p(A r r ! <b> | <b>)
#pragma once

#include <array>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "simulacra/config.hpp"
#include "simulacra/detail/context_cursor.hpp"
#include "simulacra/error.hpp"
#include "simulacra/persona.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// The three discounts of one order, and whether they came from the fallback.
struct Discounts {
  double d1 = 0.5;        // discount of an n-gram with adjusted count 1
  double d2 = 1.0;        // ... with adjusted count 2
  double d3 = 1.5;        // ... with adjusted count 3 or more
  bool fallback = false;  // true when count-of-counts were degenerate
};

class NGramPersona;
namespace detail {
struct NGramSkeleton;
// The Kneser-Ney model of a skeleton (below) at `order` (its levels' size):
// the adjusted counts, discounts and interpolation of NGramPersona::fit,
// which is build_skeleton then this (NGramCounts::to_persona makes the
// skeleton from merged counts instead).
SIMULACRA_INLINE NGramPersona fit_skeleton(NGramSkeleton sk, int order);
}  // namespace detail

class NGramPersona final : public Persona {
 public:
  // One stored n-gram, as the walk needs it: its discounted term when
  // predicted, and its backoff weight and children when used as a context.
  struct Node {
    double disc = 0.0;             // max(a - D(a), 0) / sum_x a(parent x)
    double gamma = 1.0;            // backoff weight as a context (1 at the top order: unused)
    std::uint32_t child_begin = 0; // children [child_begin, child_end) at the next level
    std::uint32_t child_end = 0;
    std::uint16_t token = 0;       // last token of the n-gram (0..256; 257 = start boundary at level 1)
  };
  // One trie level: the n-grams of one order, sorted by (parent, token).
  struct Level {
    std::vector<Node> node;  // level 0: the root context alone
  };

  // Internal id of the start-of-document boundary in the trie (context only).
  static constexpr std::uint16_t kStart = kVocab;
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();

  // The largest n-gram order: fit, train and the model-file loader all hold
  // to it (an order is a context of that many node ids per reader state, and
  // each order a trie level).
  static constexpr int kMaxOrder = 1000;
  // The n-gram configuration check, the one place the order is validated:
  // InvalidArgument naming `what` and the value unless 1 <= order <= kMaxOrder.
  static void check_order(int order, const char* what);

  // Trains an order-`order` model on `documents` (raw bytes, one document
  // each; empty documents are allowed and teach the immediate end). Throws
  // InvalidArgument if the order fails check_order, there are no documents,
  // or the corpus exceeds 2^32 - 1 tokens.
  static NGramPersona fit(const std::vector<std::string>& documents, int order);

  // Rebuilds a model from its stored arrays (used by the file loaders). Checks
  // the arrays' consistency and throws FileError naming what is inconsistent.
  // A Kneser-Ney trie has every term in [0, 1] and every backoff in [0, 1];
  // a back-off (Katz) model read from an ARPA file (arpa.hpp) may have
  // negative terms (its p(hw) below gamma(h) p(w|h')) and backoffs above 1:
  // those are accepted (a term finite and at most 1, a backoff finite and
  // >= 0) when every stored n-gram's suffix is stored and its probability
  // p(w|h), computed as advance() does, is >= 0 (detail::stored_probabilities).
  static NGramPersona from_levels(int order, std::vector<Level> levels, std::vector<Discounts> discounts);

  // An empty model (order 0): assign a fitted or loaded one before use.
  NGramPersona() = default;

  int order() const { return order_; }
  // levels()[n] holds the n-grams of order n (levels()[0] is the root context).
  const std::vector<Level>& levels() const { return levels_; }
  // Discounts of order n, n = 1..order().
  const Discounts& discounts(int n) const {
    SIMULACRA_CHECK(n >= 1 && n <= order_, OutOfRange, "discounts: order {} is outside 1..{}", n, order_);
    return discounts_[n - 1];
  }
  // Number of stored n-grams of order n (including the dense unigram table
  // of kVocab + 1 entries at order 1), and in total.
  std::size_t num_ngrams(int n) const {
    SIMULACRA_CHECK(n >= 1 && n <= order_, OutOfRange, "num_ngrams: order {} is outside 1..{}", n, order_);
    return levels_[n].node.size();
  }
  std::size_t num_ngrams() const {
    std::size_t total = 0;
    for (int n = 1; n <= order_; ++n) total += levels_[n].node.size();
    return total;
  }
  // Bytes held by the trie arrays and the level-2 index.
  std::size_t memory_bytes() const;

  std::string kind() const override { return "ngram"; }
  std::unique_ptr<PersonaState> begin() const override;
  using Persona::token_logprobs;
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;

  // Natural-log probability of one whole document: its bytes and the end
  // boundary, starting from a document start.
  double score_document(std::string_view text) const;

  // log p(. | context) over the vocabulary, where `context` is the text read
  // so far in the current document (only its last order-1 bytes matter).
  Eigen::VectorXd next_logprobs(std::string_view context) const;

  // --- the walk, exposed for states and analyses -------------------------
  // A context is `order()` node ids: ctx[n] is the level-n node of the last n
  // tokens (ctx[0] = 0 is the root), kNone where that n-gram was never seen.

  // Writes the context of a document start into ctx.
  void start_context(std::uint32_t* ctx) const {
    ctx[0] = 0;
    for (int n = 1; n < order_; ++n) ctx[n] = kNone;
    if (order_ >= 2) ctx[1] = kStart;
  }

  // Returns log p(w | ctx) and writes the context after w into next, which
  // must not overlap ctx. w must be in 0..kVocab-1.
  //
  // Two passes: first the searches (each level's lookup depends only on its
  // own context node and w), then the interpolation, whose loads of the found
  // n-grams are independent of each other and so overlap in memory.
  double advance(const std::uint32_t* ctx, Token w, std::uint32_t* next) const {
    assert(w >= 0 && w < kVocab);
    assert(next + order_ <= ctx || ctx + order_ <= next);
    // The continuations of every context are independent cache misses: ask
    // for all of them before the searches, so that they overlap.
    for (int n = 2; n < order_ && ctx[n] != kNone; ++n)
      __builtin_prefetch(&levels_[n + 1].node[levels_[n].node[ctx[n]].child_begin]);
    int top = 0;    // contexts ctx[0..top) exist
    int found = 0;  // w was found after contexts ctx[0..found)
    std::uint32_t last = kNone;  // the top-order n-gram, if found (it has no slot in next)
    for (int n = 0; n < order_ && ctx[n] != kNone; ++n) {
      top = n + 1;
      if (found < n) continue;
      const Node& c = levels_[n].node[ctx[n]];
      const std::uint32_t child =
          n == 0   ? static_cast<std::uint32_t>(w)
          : n == 1 ? child2_[std::size_t(ctx[1]) * kVocab + std::size_t(w)]
                   : find(levels_[n + 1].node.data(), c.child_begin, c.child_end, w);
      if (child == kNone) continue;
      found = n + 1;
      if (n + 1 < order_)
        next[n + 1] = child;
      else
        last = child;
    }
    double p = 1.0 / kVocab;
    for (int n = 0; n < top; ++n) {
      const double disc =
          n >= found ? 0.0 : levels_[n + 1].node[n + 1 < order_ ? next[n + 1] : last].disc;
      p = levels_[n].node[ctx[n]].gamma * p + disc;
    }
    if (w == kBoundary) {
      start_context(next);
    } else {
      next[0] = 0;
      for (int n = found + 1; n < order_; ++n) next[n] = kNone;
    }
    return std::log(p);
  }

  // out (kVocab): probabilities (not logs) of every next token given ctx.
  void next_probs(const std::uint32_t* ctx, Eigen::Ref<Eigen::VectorXd> out) const;

  // A context that moves token by token: advance(w) returns log p(w | context), then w joins it.
  class Cursor : public detail::ContextCursor<NGramPersona> {
   public:
    explicit Cursor(const NGramPersona& lm) : ContextCursor(lm, "NGramPersona") {}
  };

 private:
  // Index of the node with token w among the sorted nodes[b, e), or kNone.
  static std::uint32_t find(const Node* nodes, std::uint32_t b, std::uint32_t e, Token w) {
    const auto key = static_cast<std::uint16_t>(w);
    while (e - b > 8) {
      const std::uint32_t mid = b + (e - b) / 2;
      if (nodes[mid].token < key)
        b = mid + 1;
      else
        e = mid + 1;
      if (nodes[mid].token == key) return mid;
    }
    for (; b < e; ++b)
      if (nodes[b].token == key) return b;
    return kNone;
  }

  int order_ = 0;
  std::vector<Level> levels_;          // order_ + 1 levels; [0] is the root
  std::vector<Discounts> discounts_;   // one per order 1..order_
  // Derived: level-2 child of (level-1 context c, token w) at [c * kVocab + w],
  // or kNone: the widest fan-out gets a direct table instead of a search.
  std::vector<std::uint32_t> child2_;
  NGramPersona(int order, std::vector<Level> levels, std::vector<Discounts> discounts);
  void index_children();
  friend NGramPersona detail::fit_skeleton(detail::NGramSkeleton sk, int order);
};

namespace detail {

// The trie of a corpus before any smoothing: what NGramPersona::fit and the
// weighted fits (ngram_weighted.hpp) share. Levels hold tokens and child
// ranges (disc 0, gamma 1: a model that predicts uniformly).
struct NGramSkeleton {
  std::vector<NGramPersona::Level> levels;         // order + 1 levels, [0] the root
  std::vector<std::vector<std::uint32_t>> raw;     // raw[n][i]: occurrences of the level-n n-gram i (n >= 1)
  std::vector<std::vector<std::uint32_t>> suffix;  // suffix[n][i]: level-(n-1) node of n-gram i without its first
                                                   // token (n >= 2; suffix[1] is all 0, the root)
  std::vector<std::uint32_t> first_start;          // first_start[n]: the first level-n node that begins with the start
                                                   // boundary (all after it do too; level size when none), n >= 1
};

// The skeleton of `documents` at `order` (checked by the caller), by the
// sort of NGramPersona::fit. InvalidArgument naming `what` if the corpus
// exceeds 2^32 - 1 tokens.
SIMULACRA_INLINE NGramSkeleton build_skeleton(const std::vector<std::string>& documents, int order, const char* what);

// p(w | h) of every stored n-gram hw as NGramPersona::advance() computes it
// (gamma(h) p(w | h') + disc(hw), from the uniform base): probs[n][i] for the
// level-n node i, n >= 1 (probs[0] is empty; the level-1 start boundary's
// entry is meaningless: it is never predicted). Walks suffix links level by
// level: the suffix of the level-(n+1) node w under the context q is the
// node w under q's suffix. `levels` must have sorted children (from_levels
// checks them first); FileError naming the node when a stored n-gram's
// suffix is not stored (never in a fitted trie).
SIMULACRA_INLINE std::vector<std::vector<double>> stored_probabilities(const std::vector<NGramPersona::Level>& levels);

// The three discounts of one order from its count-of-counts t[1..4] (t[0]
// unused), or the fallback (0.5, 1, 1.5) where they are degenerate.
SIMULACRA_INLINE Discounts estimate_discounts(const std::array<double, 5>& t);

}  // namespace detail

}  // namespace simulacra

#ifdef SIMULACRA_HEADER_ONLY
#include "simulacra/ngram-inl.hpp"
#endif
