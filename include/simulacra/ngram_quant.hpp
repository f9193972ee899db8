// simulacra/ngram_quant.hpp — the n-gram persona quantised to 8 bits and
// bit-packed (KenLM's quantised trie, `build_binary -q 8 -b 8 trie`), stored
// in model files byte for byte as in memory (and so loaded by mapping).
//
// QuantNGramPersona answers the back-off form of the model it is made from
// (ARPA semantics, as KenLM stores it): each stored n-gram hw keeps its full
// log-probability log p(w | h) (the walk of ngram.hpp evaluated once, at
// quantisation) and each context h its log backoff log gamma(h), so that
//
//   log p(w | h) = q(h_f w) + sum_{n = f}^{|h| - 1} b(h_n)
//
// where h_f w is the longest stored suffix n-gram and h_n the order-n context
// nodes of h above it (an interpolated Kneser-Ney model's back-off form is
// exact: an unstored hw gets gamma(h) p(w | h') + 0). Every value is one of
// 256 centres per order: equal-population bins over that order's log
// values, each bin's centre its mean (KenLM's quantiser), exact centres for 0
// and -inf when present; a probability is coded by its nearest centre, a
// backoff by the centre either side of it that brings its context's sum
// nearer 1. docs/compact.md has the measurements that chose this
// over quantising the interpolation terms.
//
// Records, one bit-packed array per level n = 1..N (one record per stored
// n-gram; the levels below the top have one more, whose child field ends the
// last range):
//
//   bits 0..8    token (0..257)
//   bits 9..16   probability code (centre prob(n)[code])
//   bits 17..24  backoff code (centre backoff(n)[code]; levels below N)
//   bits 25..    child begin, child_bits(n) = ceil(log2(S_{n+1} + 1)) bits
//                (levels below N): children of record i are the level-(n+1)
//                records [begin(i), begin(i + 1)).
//
// So a top-order n-gram costs 17 bits and a middle one 25 + ~17 (order 6,
// tinyshakespeare: 3.6 bytes per n-gram with the codebooks and the level-2 index;
// docs/compact.md). Record i is read
// as the 8 bytes at byte (i W) / 8 shifted by (i W) % 8, so W <= 57 and each
// array carries 8 zero bytes of padding. The level-2 lookup is
// CompactNGramPersona's bitmap with ranks, built at load.
//
// Distributions no longer sum exactly to 1: every context's next-token
// distribution sums to 1 within kSumTolerance, which quantise() and the
// loader (from_arrays) check for every stored context, by the recursion
//   S(h) = sum_{w in C(h)} p(w | h) + gamma(h) (S(h') - sum_{w in C(h)} p(w | h')).
//
//   auto lm = simulacra::NGramPersona::fit(docs, 6);
//   auto tiny = simulacra::QuantNGramPersona::quantise(lm);
//   double lp = tiny.score_document("Arr!");  // held-out perplexity within 0.05% of lm's (order 6)
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

class QuantNGramPersona final : public Persona {
 public:
  static constexpr std::uint32_t kNone = NGramPersona::kNone;
  static constexpr std::uint16_t kStart = NGramPersona::kStart;
  static constexpr int kCodes = 256;      // centres per codebook
  static constexpr int kTokenBits = 9;    // tokens 0..257
  static constexpr int kCodeBits = 8;
  static constexpr int kPadBytes = 8;     // zero bytes after each record array
  // Bound on |sum of a next-token distribution - 1| for every stored context
  // (quantise() and the loader check it; docs/compact.md has the measured sums).
  static constexpr double kSumTolerance = 0.5;

  // One level's arrays (pointers into the shared storage). Level 0 (the root)
  // has none: its child range is the dense level 1 and its backoff is never
  // used (every token is stored at order 1).
  struct Level {
    const std::uint8_t* records = nullptr;  // (size + (n < N)) records of width() bits, then kPadBytes zeros
    const float* prob = nullptr;            // kCodes centres: log p
    const float* backoff = nullptr;         // kCodes centres: log gamma (levels below the top)
    std::size_t size = 0;                   // stored n-grams
    std::size_t bytes = 0;                  // of `records`: bytes_for(size + (n < N), width())
    int child_bits = 0;                     // width of the child field (levels below the top), 0..32
    int width() const { return kTokenBits + kCodeBits + (backoff ? kCodeBits + child_bits : 0); }
    // Bytes of the record array, padding included, for `records` records.
    static std::size_t bytes_for(std::size_t records, int width) {
      return (records * std::size_t(width) + 7) / 8 + kPadBytes;
    }
  };

  // The quantised form of `lm`: any model whose probabilities are >= 0 and
  // backoffs finite and >= 0 (fitted, or read from ARPA). InvalidArgument if
  // lm is empty or a distribution of the result sums to 1 only outside
  // kSumTolerance.
  static QuantNGramPersona quantise(const NGramPersona& lm);

  // A model over arrays held by `storage` (owned buffers or a file mapping),
  // checked without copying: tokens, sorted children, child ranges covering
  // each level, centres finite (or -inf) and log p <= 0, every stored n-gram's
  // suffix stored, and every context's distribution summing to 1 within
  // kSumTolerance. FileError naming what is wrong. `levels` has order + 1
  // entries (level 0 empty; sizes and child_bits set, child_bits must be
  // child_bits_for(next level size)); discounts order entries.
  static QuantNGramPersona from_arrays(int order, std::vector<Level> levels, std::vector<Discounts> discounts,
                                       std::shared_ptr<const void> storage);
  // ceil(log2(next_size + 1)): the child-field width of a level whose next level has next_size records.
  static int child_bits_for(std::size_t next_size);

  QuantNGramPersona() = default;

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
  // Bytes of the record arrays, codebooks and the level-2 index (what scoring touches).
  std::size_t memory_bytes() const;
  // The largest |sum - 1| over every stored context's next-token distribution (computed at construction).
  double max_sum_error() const { return max_sum_error_; }

  std::string kind() const override { return "ngram_quant"; }
  std::unique_ptr<PersonaState> begin() const override;
  using Persona::token_logprobs;
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;
  double score_document(std::string_view text) const;
  Eigen::VectorXd next_logprobs(std::string_view context) const;

  // --- record fields ------------------------------------------------------
  static std::uint64_t bits_at(const std::uint8_t* base, std::uint64_t bit) {
    std::uint64_t v;
    std::memcpy(&v, base + (bit >> 3), sizeof v);
    return v >> (bit & 7);
  }
  std::uint64_t record(int n, std::uint32_t i) const {
    const Level& L = levels_[std::size_t(n)];
    return bits_at(L.records, std::uint64_t(i) * std::uint64_t(width_[std::size_t(n)]));
  }
  static std::uint32_t token_of(std::uint64_t r) { return std::uint32_t(r & 0x1FF); }
  static std::uint32_t prob_of(std::uint64_t r) { return std::uint32_t((r >> 9) & 0xFF); }
  static std::uint32_t backoff_of(std::uint64_t r) { return std::uint32_t((r >> 17) & 0xFF); }
  std::uint32_t child_of(int n, std::uint64_t r) const { return child_field(r, child_mask_[std::size_t(n)]); }
  // The same with the level's child mask ((1 << child_bits) - 1) given.
  static std::uint32_t child_field(std::uint64_t r, std::uint64_t mask) { return std::uint32_t((r >> 25) & mask); }

  // --- the walk (contexts of order() node ids, as NGramPersona's) --------
  void start_context(std::uint32_t* ctx) const {
    ctx[0] = 0;
    for (int n = 1; n < order_; ++n) ctx[n] = kNone;
    if (order_ >= 2) ctx[1] = kStart;
  }

  double advance(const std::uint32_t* ctx, Token w, std::uint32_t* next) const {
    assert(w >= 0 && w < kVocab);
    int top = 0;
    int found = 0;
    std::uint32_t last = kNone;  // the node of w at level `found`
    for (int n = 0; n < order_ && ctx[n] != kNone; ++n) {
      top = n + 1;
      if (found < n) continue;
      std::uint32_t child;
      if (n == 0) {
        child = static_cast<std::uint32_t>(w);
      } else if (n == 1) {
        child = find2(ctx[1], w);
      } else {
        const std::uint64_t r0 = record(n, ctx[n]);
        const std::uint64_t r1 = record(n, ctx[n] + 1);
        child = find(n + 1, child_of(n, r0), child_of(n, r1), w);
      }
      if (child == kNone) continue;
      found = n + 1;
      last = child;
      if (n + 1 < order_) next[n + 1] = child;
    }
    double lp = double(levels_[std::size_t(found)].prob[prob_of(record(found, last))]);
    for (int n = found; n < top; ++n) lp += double(levels_[std::size_t(n)].backoff[backoff_of(record(n, ctx[n]))]);
    if (w == kBoundary) {
      start_context(next);
    } else {
      next[0] = 0;
      for (int n = found + 1; n < order_; ++n) next[n] = kNone;
    }
    return lp;
  }

  // out (kVocab): probabilities (not logs) of every next token given ctx.
  void next_probs(const std::uint32_t* ctx, Eigen::Ref<Eigen::VectorXd> out) const;

  // A context that moves token by token: advance(w) returns log p(w | context), then w joins it.
  class Cursor : public detail::ContextCursor<QuantNGramPersona> {
   public:
    explicit Cursor(const QuantNGramPersona& lm) : ContextCursor(lm, "QuantNGramPersona") {}
  };

 private:
  // The record with token w among the level-n records [b, e), or kNone.
  std::uint32_t find(int n, std::uint32_t b, std::uint32_t e, Token w) const {
    const auto key = static_cast<std::uint32_t>(w);
    const std::uint8_t* base = levels_[std::size_t(n)].records;
    const std::uint64_t W = std::uint64_t(width_[std::size_t(n)]);
    while (e - b > 8) {
      const std::uint32_t mid = b + (e - b) / 2;
      const std::uint32_t t = token_of(bits_at(base, mid * W));
      if (t < key)
        b = mid + 1;
      else
        e = mid + 1;
      if (t == key) return mid;
    }
    for (; b < e; ++b)
      if (token_of(bits_at(base, b * W)) == key) return b;
    return kNone;
  }
  std::uint32_t find2(std::uint32_t c, Token w) const {
    const std::size_t word = std::size_t(c) * kWords + std::size_t(w >> 6);
    const std::uint64_t bits = l2_bits_[word];
    if (((bits >> (w & 63)) & 1) == 0) return kNone;
    const std::uint64_t below = bits & ((std::uint64_t(1) << (w & 63)) - 1);
    return l1_child_[c] + l2_rank_[word] + std::uint32_t(__builtin_popcountll(below));
  }
  static constexpr std::size_t kWords = 5;

  int order_ = 0;
  std::vector<Level> levels_;
  std::vector<Discounts> discounts_;
  std::shared_ptr<const void> storage_;
  std::vector<int> width_;                 // record width per level
  std::vector<std::uint64_t> child_mask_;  // (1 << child_bits) - 1 per level
  std::vector<std::uint32_t> l1_child_;    // child begin of each level-1 record (kVocab + 2 entries)
  std::vector<std::uint64_t> l2_bits_;
  std::vector<std::uint16_t> l2_rank_;
  double max_sum_error_ = 0.0;
  void index();
  // The sums of every context's distribution, checked; with `choose`, each context's backoff code is first
  // chosen (written into the owned records): of the two centres either side of its log backoff
  // ((*log_gamma)[n][i]), the one that brings the sum nearer 1. Checks, on its way, what from_arrays leaves
  // to it (child ranges and children's tokens above level 2).
  void check_sums(std::vector<std::vector<std::uint8_t>>* choose = nullptr,
                  const std::vector<std::vector<double>>* log_gamma = nullptr);
};

}  // namespace simulacra
