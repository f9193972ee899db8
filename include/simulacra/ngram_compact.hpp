// simulacra/ngram_compact.hpp — the Kneser-Ney persona in a compact layout
// that a model file can hold byte for byte (and so load by mapping).
//
// CompactNGramPersona scores exactly as the NGramPersona it was made from
// (the same walk, ngram.hpp) except for the rounding of its stored numbers.
// Its trie is structure-of-arrays, one level per order, 4-byte elements only:
//
//   key[i]    (U32, every level n >= 1) the n-gram's discounted term as a
//             float32 whose low 9 mantissa bits hold its last token (0..257):
//             term = bit_cast<float>(key & ~0x1FF), token = key & 0x1FF.
//             The term keeps 14 of float32's 23 mantissa bits (rounded to
//             nearest): relative error <= 2^-15 + 2^-24 (kTermRelError).
//   gamma[i]  (F32, levels 0..N-1) the backoff weight as a context: float32
//             (relative error <= 2^-24).
//   child[i]  (U32 [S + 1], levels 0..N-1) children of entry i are entries
//             [child[i], child[i + 1]) of the next level: one index per node,
//             the end being the next node's begin.
//
// So a top-order n-gram costs 4 bytes and a middle one 12 (NGramPersona: 32
// each), and the level-2 lookup, a dense 258 x 257 table of uint32 in
// NGramPersona (265 KB), is a 320-bit presence bitmap per level-1 context
// with per-word ranks (13 KB): the child of (c, w) is child[c] plus the
// number of present tokens below w. docs/compact.md has the measurements that
// chose this layout (order 6, tinyshakespeare: 7.5 bytes per n-gram).
//
// Every probability p' the compact walk gives is within a relative
// kProbRelError(order) of the double model's p (a Kneser-Ney p is a sum of
// non-negative terms times products of at most `order` backoffs):
//
//   |p' / p - 1| <= (1 + kTermRelError) (1 + 2^-24)^order - 1
//
// and every next-token distribution sums to 1 within order * kSumTolerance.
//
//   auto lm = simulacra::NGramPersona::fit(docs, 6);
//   auto small = simulacra::CompactNGramPersona::compact(lm);  // ~4x smaller
//   double lp = small.score_document("Arr!");                   // ~= lm.score_document("Arr!")
//
// Storage is immutable and shared: copies of a persona share it, and a
// persona loaded by mapping (model_file.hpp, load_mapped) holds the mapping.
#pragma once

#include <cassert>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <Eigen/Core>

#include "simulacra/detail/context_cursor.hpp"
#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/persona.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

class CompactNGramPersona final : public Persona {
 public:
  static constexpr std::uint32_t kNone = NGramPersona::kNone;
  static constexpr std::uint16_t kStart = NGramPersona::kStart;
  static constexpr std::uint32_t kTokenMask = 0x1FF;  // the low 9 bits of a key
  // Relative rounding error of a stored term (14-bit mantissa, round to nearest, after float32).
  static constexpr double kTermRelError = 1.0 / 32768.0 + 1.0 / 16777216.0;
  // Bound on |p' / p - 1| for every probability of an order-`order` model.
  static double prob_rel_error(int order) {
    return (1.0 + kTermRelError) * std::pow(1.0 + 1.0 / 16777216.0, order) - 1.0;
  }
  // Bound on |sum of a node's continuation terms + its backoff - 1| after rounding,
  // given the double model's sums are 1 within 1e-9 (the model-file check): the
  // terms sum to at most 1, each off by kTermRelError, the backoff by 2^-24.
  static constexpr double kSumTolerance = kTermRelError + 1.0 / 16777216.0 + 1e-9;

  // One level's arrays (pointers into the shared storage). key: size entries
  // (level 0: none); gamma: size entries and child: size + 1 (top level: none).
  struct Level {
    const std::uint32_t* key = nullptr;
    const float* gamma = nullptr;
    const std::uint32_t* child = nullptr;
    std::size_t size = 0;
  };

  // The compact form of `lm`. InvalidArgument if lm is empty, or has a term
  // outside [0, 1] or a backoff outside [0, 1] (a back-off model read from
  // ARPA with negative terms: keep it as an NGramPersona).
  static CompactNGramPersona compact(const NGramPersona& lm);

  // A model over arrays held by `storage` (owned buffers or a file mapping),
  // checked without copying: tokens, sorted children, child ranges covering
  // each level, terms and backoffs finite in [0, 1], and each context's
  // terms plus backoff summing to 1 within kSumTolerance. FileError naming
  // what is wrong. `levels` has order + 1 entries; discounts order entries.
  static CompactNGramPersona from_arrays(int order, std::vector<Level> levels, std::vector<Discounts> discounts,
                                         std::shared_ptr<const void> storage);

  CompactNGramPersona() = default;

  int order() const { return order_; }
  const std::vector<Level>& levels() const { return levels_; }
  const Discounts& discounts(int n) const {
    SIMULACRA_CHECK(n >= 1 && n <= order_, OutOfRange, "discounts: order {} is outside 1..{}", n, order_);
    return discounts_[std::size_t(n) - 1];
  }
  std::size_t num_ngrams(int n) const {
    SIMULACRA_CHECK(n >= 1 && n <= order_, OutOfRange, "num_ngrams: order {} is outside 1..{}", n, order_);
    return levels_[std::size_t(n)].size;
  }
  std::size_t num_ngrams() const;
  // Bytes of the trie arrays and the level-2 index (what scoring touches).
  std::size_t memory_bytes() const;

  std::string kind() const override { return "ngram_compact"; }
  std::unique_ptr<PersonaState> begin() const override;
  using Persona::token_logprobs;
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;
  double score_document(std::string_view text) const;
  Eigen::VectorXd next_logprobs(std::string_view context) const;

  // A stored term and token from a key.
  static double term(std::uint32_t key) {
    const std::uint32_t bits = key & ~kTokenMask;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return double(f);
  }
  static std::uint32_t token(std::uint32_t key) { return key & kTokenMask; }
  // The key of term t (rounded to 14 mantissa bits) and token w.
  static std::uint32_t make_key(double t, std::uint32_t w);

  // --- the walk, as NGramPersona's (contexts of order() node ids) ---------
  void start_context(std::uint32_t* ctx) const {
    ctx[0] = 0;
    for (int n = 1; n < order_; ++n) ctx[n] = kNone;
    if (order_ >= 2) ctx[1] = kStart;
  }

  double advance(const std::uint32_t* ctx, Token w, std::uint32_t* next) const {
    assert(w >= 0 && w < kVocab);
    const Level* L = levels_.data();
    for (int n = 2; n < order_ && ctx[n] != kNone; ++n) __builtin_prefetch(&L[n + 1].key[L[n].child[ctx[n]]]);
    int top = 0;
    int found = 0;
    std::uint32_t last = kNone;
    for (int n = 0; n < order_ && ctx[n] != kNone; ++n) {
      top = n + 1;
      if (found < n) continue;
      const std::uint32_t c = ctx[n];
      const std::uint32_t child = n == 0   ? static_cast<std::uint32_t>(w)
                                  : n == 1 ? find2(c, w)
                                           : find(L[n + 1].key, L[n].child[c], L[n].child[c + 1], w);
      if (child == kNone) continue;
      found = n + 1;
      if (n + 1 < order_)
        next[n + 1] = child;
      else
        last = child;
    }
    double p = 1.0 / kVocab;
    for (int n = 0; n < top; ++n) {
      const double disc = n >= found ? 0.0 : term(L[n + 1].key[n + 1 < order_ ? next[n + 1] : last]);
      p = double(L[n].gamma[ctx[n]]) * p + disc;
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
  class Cursor : public detail::ContextCursor<CompactNGramPersona> {
   public:
    explicit Cursor(const CompactNGramPersona& lm) : ContextCursor(lm, "CompactNGramPersona") {}
  };

 private:
  static std::uint32_t find(const std::uint32_t* keys, std::uint32_t b, std::uint32_t e, Token w) {
    const auto key = static_cast<std::uint32_t>(w);
    while (e - b > 8) {
      const std::uint32_t mid = b + (e - b) / 2;
      const std::uint32_t t = keys[mid] & kTokenMask;
      if (t < key)
        b = mid + 1;
      else
        e = mid + 1;
      if (t == key) return mid;
    }
    for (; b < e; ++b)
      if ((keys[b] & kTokenMask) == key) return b;
    return kNone;
  }
  // The level-2 child of level-1 context c and token w, from the bitmap.
  std::uint32_t find2(std::uint32_t c, Token w) const {
    const std::size_t word = std::size_t(c) * kWords + std::size_t(w >> 6);
    const std::uint64_t bits = l2_bits_[word];
    const std::uint64_t below = bits & ((std::uint64_t(1) << (w & 63)) - 1);
    if (((bits >> (w & 63)) & 1) == 0) return kNone;
    return levels_[1].child[c] + l2_rank_[word] + std::uint32_t(__builtin_popcountll(below));
  }
  static constexpr std::size_t kWords = 5;  // 320 bits >= kVocab tokens per level-1 context

  int order_ = 0;
  std::vector<Level> levels_;
  std::vector<Discounts> discounts_;
  std::shared_ptr<const void> storage_;
  std::vector<std::uint64_t> l2_bits_;  // [c * kWords + j]: bit b set when token 64 j + b follows level-1 node c
  std::vector<std::uint16_t> l2_rank_;  // [c * kWords + j]: present tokens of c below 64 j
  void index_children();
};

}  // namespace simulacra
