// The compact Kneser-Ney persona (ngram_compact.hpp).
#include "simulacra/ngram_compact.hpp"

#include <limits>

#include "simulacra/detail/cursor_persona.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

// The buffers of a compact model built in memory (compact()): the levels point into them.
struct OwnedArrays {
  std::vector<std::vector<std::uint32_t>> key, child;
  std::vector<std::vector<float>> gamma;
};

}  // namespace

std::uint32_t CompactNGramPersona::make_key(double t, std::uint32_t w) {
  const float f = float(t);
  std::uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits = (bits + (kTokenMask + 1) / 2) & ~kTokenMask;  // round to nearest (a carry moves into the exponent: exact)
  return bits | (w & kTokenMask);
}

CompactNGramPersona CompactNGramPersona::compact(const NGramPersona& lm) {
  const int N = lm.order();
  SIMULACRA_CHECK(N >= 1, InvalidArgument, "compact: the model is empty (fit or load one first)");
  auto owned = std::make_shared<OwnedArrays>();
  owned->key.resize(std::size_t(N) + 1);
  owned->child.resize(std::size_t(N) + 1);
  owned->gamma.resize(std::size_t(N) + 1);
  std::vector<Level> levels(std::size_t(N) + 1);
  for (std::size_t n = 0; n <= std::size_t(N); ++n) {
    const std::vector<NGramPersona::Node>& node = lm.levels()[n].node;
    Level& L = levels[n];
    L.size = node.size();
    if (n > 0) {
      std::vector<std::uint32_t>& key = owned->key[n];
      key.resize(node.size());
      for (std::size_t i = 0; i < node.size(); ++i) {
        SIMULACRA_CHECK(node[i].disc >= 0.0 && node[i].disc <= 1.0, InvalidArgument,
                        "compact: level {} entry {} has term {}, outside [0, 1] (a back-off model: keep it as an "
                        "NGramPersona)",
                        n, i, node[i].disc);
        key[i] = make_key(node[i].disc, node[i].token);
      }
      L.key = key.data();
    }
    if (n < std::size_t(N)) {
      std::vector<float>& gamma = owned->gamma[n];
      std::vector<std::uint32_t>& child = owned->child[n];
      gamma.resize(node.size());
      child.resize(node.size() + 1);
      child[0] = 0;
      for (std::size_t i = 0; i < node.size(); ++i) {
        SIMULACRA_CHECK(node[i].gamma >= 0.0 && node[i].gamma <= 1.0, InvalidArgument,
                        "compact: level {} entry {} has backoff {}, outside [0, 1] (a back-off model: keep it as an "
                        "NGramPersona)",
                        n, i, node[i].gamma);
        gamma[i] = float(node[i].gamma);
        child[i] = node[i].child_begin;
        child[i + 1] = node[i].child_end;
      }
      L.gamma = gamma.data();
      L.child = child.data();
    }
  }
  std::vector<Discounts> discounts;
  for (int n = 1; n <= N; ++n) discounts.push_back(lm.discounts(n));
  CompactNGramPersona out;
  out.order_ = N;
  out.levels_ = std::move(levels);
  out.discounts_ = std::move(discounts);
  out.storage_ = std::move(owned);
  out.index_children();
  return out;
}

CompactNGramPersona CompactNGramPersona::from_arrays(int order, std::vector<Level> levels,
                                                     std::vector<Discounts> discounts,
                                                     std::shared_ptr<const void> storage) {
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "compact n-gram model: order {}", order);
  SIMULACRA_CHECK(levels.size() == std::size_t(order) + 1, FileError, "compact n-gram model: {} levels for order {}",
                  levels.size(), order);
  SIMULACRA_CHECK(discounts.size() == std::size_t(order), FileError,
                  "compact n-gram model: {} discount sets for order {}", discounts.size(), order);
  for (const Discounts& d : discounts)
    SIMULACRA_CHECK(d.d1 >= 0 && d.d1 <= 1 && d.d2 >= 0 && d.d2 <= 2 && d.d3 >= 0 && d.d3 <= 3, FileError,
                    "compact n-gram model: discounts ({}, {}, {}) outside [0, k]", d.d1, d.d2, d.d3);
  SIMULACRA_CHECK(levels[0].size == 1, FileError, "compact n-gram model: the root level has {} entries, expected 1",
                  levels[0].size);
  SIMULACRA_CHECK(levels[1].size == std::size_t(kVocab) + 1, FileError,
                  "compact n-gram model: level 1 has {} entries, expected {}", levels[1].size, kVocab + 1);
  for (std::size_t n = 0; n <= std::size_t(order); ++n) {
    const Level& L = levels[n];
    SIMULACRA_CHECK(L.size < std::numeric_limits<std::uint32_t>::max(), FileError,
                    "compact n-gram model: level {} has {} entries, more than 2^32 - 2", n, L.size);
    SIMULACRA_CHECK((n == 0 || L.key != nullptr) && (n == std::size_t(order) || (L.gamma && L.child)), FileError,
                    "compact n-gram model: level {} misses an array", n);
    for (std::size_t i = 0; n > 0 && i < L.size; ++i) {
      const std::uint32_t w = token(L.key[i]);
      const double t = term(L.key[i]);
      SIMULACRA_CHECK(n == 1 ? w == i : w < std::uint32_t(kVocab), FileError,
                      "compact n-gram model: level {} entry {} has token {}", n, i, w);
      SIMULACRA_CHECK(t >= 0.0 && t <= 1.0, FileError, "compact n-gram model: level {} entry {} has term {}", n, i,
                      t);  // false for NaN
    }
    if (n == std::size_t(order)) break;
    const Level& K = levels[n + 1];
    SIMULACRA_CHECK(L.child[0] == 0 && L.child[L.size] == K.size, FileError,
                    "compact n-gram model: level {} children span [{}, {}), expected [0, {})", n, L.child[0],
                    L.child[L.size], K.size);
    poll_interrupt();
    for (std::size_t i = 0; i < L.size; ++i) {
      const std::uint32_t b = L.child[i], e = L.child[i + 1];
      SIMULACRA_CHECK(b <= e && e <= K.size, FileError,
                      "compact n-gram model: level {} entry {} has child range [{}, {}) (level {} has {})", n, i, b, e,
                      n + 1, K.size);
      const double g = double(L.gamma[i]);
      SIMULACRA_CHECK(g >= 0.0 && g <= 1.0, FileError, "compact n-gram model: level {} entry {} has backoff {}", n, i,
                      g);
      double sum = g;
      for (std::uint32_t c = b; c < e; ++c) {
        if (c > b)
          SIMULACRA_CHECK(token(K.key[c - 1]) < token(K.key[c]), FileError,
                          "compact n-gram model: level {} children unsorted at {}", n + 1, c);
        if (token(K.key[c]) != kStart) sum += term(K.key[c]);
      }
      SIMULACRA_CHECK(std::abs(sum - 1.0) <= kSumTolerance, FileError,
                      "compact n-gram model: the next-token distribution after level {} entry {} sums to {} (backoff "
                      "{} plus the terms of its {} continuations), not 1",
                      n, i, sum, g, e - b);
    }
  }
  CompactNGramPersona out;
  out.order_ = order;
  out.levels_ = std::move(levels);
  out.discounts_ = std::move(discounts);
  out.storage_ = std::move(storage);
  out.index_children();
  return out;
}

void CompactNGramPersona::index_children() {
  l2_bits_.clear();
  l2_rank_.clear();
  if (order_ < 2) return;
  const Level& l1 = levels_[1];
  const Level& l2 = levels_[2];
  l2_bits_.assign(l1.size * kWords, 0);
  l2_rank_.assign(l1.size * kWords, 0);
  for (std::size_t c = 0; c < l1.size; ++c) {
    for (std::uint32_t i = l1.child[c]; i < l1.child[c + 1]; ++i) {
      const std::uint32_t w = token(l2.key[i]);
      l2_bits_[c * kWords + w / 64] |= std::uint64_t(1) << (w % 64);
    }
    std::uint16_t rank = 0;
    for (std::size_t j = 0; j < kWords; ++j) {
      l2_rank_[c * kWords + j] = rank;
      rank = std::uint16_t(rank + __builtin_popcountll(l2_bits_[c * kWords + j]));
    }
  }
}

std::size_t CompactNGramPersona::num_ngrams() const {
  std::size_t total = 0;
  for (int n = 1; n <= order_; ++n) total += levels_[std::size_t(n)].size;
  return total;
}

std::size_t CompactNGramPersona::memory_bytes() const {
  std::size_t bytes = l2_bits_.size() * sizeof(std::uint64_t) + l2_rank_.size() * sizeof(std::uint16_t);
  for (int n = 0; n <= order_; ++n) {
    const Level& L = levels_[std::size_t(n)];
    if (n > 0) bytes += L.size * sizeof(std::uint32_t);
    if (n < order_) bytes += L.size * sizeof(float) + (L.size + 1) * sizeof(std::uint32_t);
  }
  return bytes;
}

void CompactNGramPersona::next_probs(const std::uint32_t* ctx, Eigen::Ref<Eigen::VectorXd> out) const {
  SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_probs: output has size {}, expected {}", out.size(),
                  kVocab);
  int top = 0;
  while (top + 1 < order_ && ctx[top + 1] != kNone) ++top;
  out.setZero();
  double g = 1.0;
  for (int n = top; n >= 1; --n) {
    const Level& c = levels_[std::size_t(n)];
    const Level& child = levels_[std::size_t(n) + 1];
    for (std::uint32_t i = c.child[ctx[n]]; i < c.child[ctx[n] + 1]; ++i)
      out[token(child.key[i])] += g * term(child.key[i]);
    g *= double(c.gamma[ctx[n]]);
  }
  const std::uint32_t* unigrams = levels_[1].key;
  for (int v = 0; v < kVocab; ++v) out[v] += g * term(unigrams[v]);
  g *= double(levels_[0].gamma[0]);
  out.array() += g / kVocab;
}

std::unique_ptr<PersonaState> CompactNGramPersona::begin() const {
  return std::make_unique<detail::CursorState<CompactNGramPersona>>(*this);
}

void CompactNGramPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  detail::cursor_token_logprobs(*this, tokens, n, out);
}

double CompactNGramPersona::score_document(std::string_view text) const { return detail::cursor_score_document(*this, text); }

Eigen::VectorXd CompactNGramPersona::next_logprobs(std::string_view context) const {
  return detail::cursor_next_logprobs(*this, context);
}

}  // namespace simulacra
