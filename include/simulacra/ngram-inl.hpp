// simulacra/ngram-inl.hpp — fitting and querying the Kneser-Ney persona
// (ngram.hpp): compiled once by src/ngram.cpp, or inlined into every user
// under SIMULACRA_HEADER_ONLY (config.hpp).
//
// Training sorts every window start of the corpus (a window is the up-to-N
// tokens from a position to its document's end) lexicographically: a counting
// sort on the first two tokens, then std::sort inside each bucket. In that
// order the distinct prefixes of length n are the level-n trie nodes, already
// sorted by (parent, token), so one scan builds the trie with raw counts.
// Continuation counts come from each node's creator position: the suffix of
// the n-gram starting at p is the (n-1)-gram starting at p + 1.
#pragma once

#include "simulacra/ngram.hpp"

#include <algorithm>
#include <array>

#include "simulacra/detail/cursor_persona.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace detail {

// Ranks used for sorting: 0 ends a window, token t has rank t + 1, so the
// start boundary (kStart = 257) sorts last at level 1.
inline constexpr int kRanks = kVocab + 2;

SIMULACRA_INLINE Discounts estimate_discounts(const std::array<double, 5>& t) {
  Discounts d;
  if (t[1] == 0.0 || t[2] == 0.0 || t[3] == 0.0) {
    d.fallback = true;
    return d;
  }
  const double t1 = t[1], t2 = t[2], t3 = t[3], t4 = t[4];
  const double y = t1 / (t1 + 2.0 * t2);
  const Discounts est{1.0 - 2.0 * y * t2 / t1, 2.0 - 3.0 * y * t3 / t2, 3.0 - 4.0 * y * t4 / t3, false};
  const bool valid = est.d1 >= 0.0 && est.d1 <= 1.0 && est.d2 >= 0.0 && est.d2 <= 2.0 && est.d3 >= 0.0 && est.d3 <= 3.0;
  if (!valid) d.fallback = true;
  return valid ? est : d;
}

SIMULACRA_INLINE double discount_of(const Discounts& d, std::uint32_t a) {
  return a == 0 ? 0.0 : a == 1 ? d.d1 : a == 2 ? d.d2 : d.d3;
}

// Fills gamma of every context node at level n and disc of every child at
// level n + 1, from the children's adjusted counts.
SIMULACRA_INLINE void interpolate(int n, const Discounts& d, const std::vector<std::uint32_t>& adjusted,
                                  NGramPersona::Level& parent, NGramPersona::Level& child) {
  for (NGramPersona::Node& ctx : parent.node) {
    const std::uint32_t b = ctx.child_begin, e = ctx.child_end;
    double total = 0.0, mass = 0.0;
    for (std::uint32_t i = b; i < e; ++i) {
      if (n == 0 && child.node[i].token == NGramPersona::kStart) continue;  // never predicted
      total += adjusted[i];
      mass += discount_of(d, adjusted[i]);
    }
    if (total == 0.0) continue;  // unseen context: pass through
    ctx.gamma = mass / total;
    for (std::uint32_t i = b; i < e; ++i) {
      if (n == 0 && child.node[i].token == NGramPersona::kStart) continue;
      child.node[i].disc = std::max(double(adjusted[i]) - discount_of(d, adjusted[i]), 0.0) / total;
    }
  }
}

SIMULACRA_INLINE NGramSkeleton build_skeleton(const std::vector<std::string>& documents, int order, const char* what) {
  using Level = NGramPersona::Level;
  constexpr std::uint16_t kStart = NGramPersona::kStart;
  constexpr std::uint32_t kNone = NGramPersona::kNone;
  NGramSkeleton sk;
  const std::size_t N = static_cast<std::size_t>(order);

  // Ranked token stream: per document rank(<start>) bytes rank(<b>) 0, then N zeros of padding.
  std::uint64_t total = N;
  for (const auto& doc : documents) total += doc.size() + 3;
  SIMULACRA_CHECK(total < kNone, InvalidArgument, "{}: corpus of {} tokens exceeds 2^32 - 1", what, total);
  std::vector<std::uint16_t> r;
  r.reserve(total);
  std::vector<std::uint32_t> starts;  // window start positions
  starts.reserve(total);
  InterruptPoller poll;  // Ctrl-C: the long stages below tick it per position
  for (const auto& doc : documents) {
    poll_interrupt();
    starts.push_back(std::uint32_t(r.size()));
    r.push_back(kStart + 1);
    for (unsigned char byte : doc) {
      starts.push_back(std::uint32_t(r.size()));
      r.push_back(std::uint16_t(byte + 1));
    }
    starts.push_back(std::uint32_t(r.size()));
    r.push_back(kBoundary + 1);
    r.push_back(0);
  }
  r.insert(r.end(), N, 0);

  // Sort window starts: counting sort on two tokens, then comparisons from depth 2.
  std::vector<std::uint32_t> bucket_begin(detail::kRanks * detail::kRanks + 1, 0);
  auto key2 = [&](std::uint32_t p) { return std::size_t(r[p]) * detail::kRanks + (N >= 2 ? r[p + 1] : 0); };
  for (std::uint32_t p : starts) ++bucket_begin[key2(p) + 1];
  for (std::size_t k = 1; k < bucket_begin.size(); ++k) bucket_begin[k] += bucket_begin[k - 1];
  std::vector<std::uint32_t> sorted(starts.size());
  {
    std::vector<std::uint32_t> fill(bucket_begin.begin(), bucket_begin.end() - 1);
    for (std::uint32_t p : starts) sorted[fill[key2(p)]++] = p;
  }
  if (N > 2) {
    auto less = [&](std::uint32_t a, std::uint32_t b) {
      for (std::size_t d = 2; d < N; ++d) {
        const std::uint16_t x = r[a + d], y = r[b + d];
        if (x != y) return x < y;
        if (x == 0) return false;
      }
      return false;
    };
    for (std::size_t k = 0; k + 1 < bucket_begin.size(); ++k) {
      if (bucket_begin[k + 1] - bucket_begin[k] > 1)
        std::sort(sorted.begin() + bucket_begin[k], sorted.begin() + bucket_begin[k + 1], less);
      poll.tick();
    }
  }
  std::vector<std::uint32_t>().swap(starts);

  // One scan builds the trie: level n nodes are the distinct length-n prefixes in sorted order.
  std::vector<Level>& levels = sk.levels;
  std::vector<std::vector<std::uint32_t>>& raw = sk.raw;
  levels.resize(N + 1);
  raw.resize(N + 1);
  std::vector<std::vector<std::uint32_t>> parent_of(N + 1), creator(N + 1);
  std::vector<std::vector<std::uint32_t>> node_at(N);  // node_at[n][p]: level-n node of the window at p, n < N
  levels[1].node.resize(kVocab + 1);
  for (std::uint16_t t = 0; t <= kVocab; ++t) levels[1].node[t].token = t;
  raw[1].assign(kVocab + 1, 0);
  for (std::size_t n = 1; n < N; ++n) node_at[n].assign(r.size(), kNone);
  std::vector<std::uint32_t> cur(N + 1, 0);
  std::uint32_t prev = kNone;
  constexpr std::size_t kAhead = 16;  // positions come in random order: fetch their windows early
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    poll.tick();
    const std::uint32_t p = sorted[i];
    if (i + kAhead < sorted.size()) {
      const std::uint32_t q = sorted[i + kAhead];
      __builtin_prefetch(&r[q]);
      for (std::size_t n = 1; n < N; ++n) __builtin_prefetch(&node_at[n][q], 1);
    }
    std::size_t lcp = 0;
    if (prev != kNone)
      while (lcp < N && r[p + lcp] != 0 && r[p + lcp] == r[prev + lcp]) ++lcp;
    for (std::size_t n = 1; n <= N && r[p + n - 1] != 0; ++n) {
      if (n > lcp) {
        const std::uint16_t tok = std::uint16_t(r[p + n - 1] - 1);
        if (n == 1) {
          cur[1] = tok;
        } else {
          cur[n] = std::uint32_t(levels[n].node.size());
          levels[n].node.emplace_back().token = tok;
          raw[n].push_back(0);
          parent_of[n].push_back(cur[n - 1]);
          creator[n].push_back(p);
        }
      }
      ++raw[n][cur[n]];
      if (n < N) node_at[n][p] = cur[n];
    }
    prev = p;
  }
  std::vector<std::uint32_t>().swap(sorted);

  // Child ranges from the parents (children are contiguous, in parent order).
  levels[0].node.resize(1);
  levels[0].node[0].child_end = kVocab + 1;
  for (std::size_t n = 1; n <= N; ++n) {
    if (n == N) break;
    std::vector<std::uint32_t> cb(levels[n].node.size() + 1, 0);
    for (std::uint32_t par : parent_of[n + 1]) ++cb[par + 1];
    for (std::size_t i = 1; i < cb.size(); ++i) cb[i] += cb[i - 1];
    for (std::size_t i = 0; i < levels[n].node.size(); ++i) {
      levels[n].node[i].child_begin = cb[i];
      levels[n].node[i].child_end = cb[i + 1];
    }
  }

  // Suffix links (the suffix of the level-(n+1) node created at p is the
  // level-n node at p + 1) and the tail of each level that begins with the start boundary.
  sk.suffix.resize(N + 1);
  sk.suffix[1].assign(kVocab + 1, 0);
  for (std::size_t n = 1; n < N; ++n) {
    poll_interrupt();
    sk.suffix[n + 1].resize(creator[n + 1].size());
    for (std::size_t i = 0; i < creator[n + 1].size(); ++i) sk.suffix[n + 1][i] = node_at[n][creator[n + 1][i] + 1];
  }
  sk.first_start.assign(N + 1, 0);
  sk.first_start[1] = kStart;
  for (std::size_t n = 1; n < N; ++n)
    sk.first_start[n + 1] = sk.first_start[n] < levels[n].node.size() ? levels[n].node[sk.first_start[n]].child_begin
                                                                       : std::uint32_t(levels[n + 1].node.size());
  return sk;
}

}  // namespace detail

SIMULACRA_INLINE void NGramPersona::check_order(int order, const char* what) {
  SIMULACRA_CHECK(order >= 1 && order <= kMaxOrder, InvalidArgument, "{}: order must be in 1..{}, got {}", what,
                  kMaxOrder, order);
}

SIMULACRA_INLINE NGramPersona NGramPersona::fit(const std::vector<std::string>& documents, int order) {
  check_order(order, "NGramPersona::fit");
  SIMULACRA_CHECK(!documents.empty(), InvalidArgument, "NGramPersona::fit: no documents to train on");
  return detail::fit_skeleton(detail::build_skeleton(documents, order, "NGramPersona::fit"), order);
}

namespace detail {

SIMULACRA_INLINE NGramPersona fit_skeleton(NGramSkeleton sk, int order) {
  using Level = NGramPersona::Level;
  constexpr std::uint16_t kStart = NGramPersona::kStart;
  const std::size_t N = static_cast<std::size_t>(order);
  std::vector<Level>& levels = sk.levels;
  const std::vector<std::vector<std::uint32_t>>& raw = sk.raw;

  // Adjusted counts: raw at the top order and for n-grams that begin with the
  // start boundary (the tail of each level), continuation counts otherwise.
  std::vector<std::vector<std::uint32_t>> adjusted(N + 1);
  adjusted[N] = raw[N];
  for (std::size_t n = 1; n < N; ++n) {
    adjusted[n].assign(raw[n].size(), 0);
    for (std::size_t i = sk.first_start[n]; i < raw[n].size(); ++i) adjusted[n][i] = raw[n][i];
    poll_interrupt();
    for (std::uint32_t s : sk.suffix[n + 1]) ++adjusted[n][s];
  }

  // Count-of-counts and discounts per order (the start boundary unigram is never predicted).
  std::vector<Discounts> discounts(N);
  for (std::size_t n = 1; n <= N; ++n) {
    std::array<std::uint64_t, 5> t{};
    for (std::size_t i = 0; i < adjusted[n].size(); ++i) {
      if (n == 1 && i == kStart) continue;
      const std::uint32_t a = adjusted[n][i];
      if (a >= 1 && a <= 4) ++t[a];
    }
    discounts[n - 1] = detail::estimate_discounts({double(t[0]), double(t[1]), double(t[2]), double(t[3]), double(t[4])});
  }
  for (std::size_t n = 0; n < N; ++n) {
    poll_interrupt();
    detail::interpolate(int(n), discounts[n], adjusted[n + 1], levels[n], levels[n + 1]);
  }

  return NGramPersona(order, std::move(levels), std::move(discounts));
}

}  // namespace detail

SIMULACRA_INLINE NGramPersona NGramPersona::from_levels(int order, std::vector<Level> levels,
                                                        std::vector<Discounts> discounts) {
  SIMULACRA_CHECK(order >= 1, FileError, "n-gram model: order must be >= 1, got {}", order);
  SIMULACRA_CHECK(levels.size() == std::size_t(order) + 1, FileError, "n-gram model: {} levels for order {}",
                  levels.size(), order);
  SIMULACRA_CHECK(discounts.size() == std::size_t(order), FileError, "n-gram model: {} discount sets for order {}",
                  discounts.size(), order);
  SIMULACRA_CHECK(levels[0].node.size() == 1 && levels[0].node[0].child_begin == 0 &&
                      levels[0].node[0].child_end == kVocab + 1,
                  FileError, "n-gram model: malformed root level");
  bool backoff_model = false;  // some term < 0 or backoff > 1: not a Kneser-Ney trie, probabilities checked below
  for (int n = 0; n <= order; ++n) {
    const Level& L = levels[std::size_t(n)];
    const std::size_t size = L.node.size();
    SIMULACRA_CHECK(n != 1 || size == kVocab + 1, FileError, "n-gram model: level 1 has {} entries, expected {}", size,
                    kVocab + 1);
    const std::size_t next = n < order ? levels[std::size_t(n) + 1].node.size() : 0;
    std::uint32_t expected_begin = 0;
    for (std::size_t i = 0; i < size; ++i) {
      const Node& x = L.node[i];
      if (n > 0)
        SIMULACRA_CHECK(x.token < kVocab || (n == 1 && x.token == kStart), FileError,
                        "n-gram model: level {} entry {} has token {}", n, i, x.token);
      SIMULACRA_CHECK(std::isfinite(x.disc) && x.disc <= 1.0, FileError,
                      "n-gram model: level {} entry {} has probability term {}", n, i, x.disc);
      SIMULACRA_CHECK(std::isfinite(x.gamma) && x.gamma >= 0.0, FileError,
                      "n-gram model: level {} entry {} has backoff {}", n, i, x.gamma);
      if (x.disc < 0.0 || x.gamma > 1.0) backoff_model = true;
      SIMULACRA_CHECK(x.child_begin == expected_begin && x.child_begin <= x.child_end && x.child_end <= next,
                      FileError, "n-gram model: level {} entry {} has child range [{}, {}) (expected start {}, level size {})",
                      n, i, x.child_begin, x.child_end, expected_begin, next);
      expected_begin = x.child_end;
      if (n < order) {
        const Node* kids = levels[std::size_t(n) + 1].node.data();
        for (std::uint32_t c = x.child_begin + 1; c < x.child_end; ++c)
          SIMULACRA_CHECK(kids[c - 1].token < kids[c].token, FileError, "n-gram model: level {} children unsorted at {}", n + 1, c);
      }
    }
    SIMULACRA_CHECK(expected_begin == next, FileError, "n-gram model: level {} children do not cover level {}", n,
                    n + 1);
  }
  for (const Discounts& d : discounts)
    SIMULACRA_CHECK(d.d1 >= 0 && d.d1 <= 1 && d.d2 >= 0 && d.d2 <= 2 && d.d3 >= 0 && d.d3 <= 3, FileError,
                    "n-gram model: discounts ({}, {}, {}) outside [0, k]", d.d1, d.d2, d.d3);
  if (backoff_model) {
    // Terms and backoffs in [0, 1] make every probability a convex sum in
    // [0, 1]; outside them, check each stored p(w|h) >= 0 (an unstored one is
    // gamma(h) >= 0 times a lower order's, so >= 0 by induction).
    const std::vector<std::vector<double>> probs = detail::stored_probabilities(levels);
    for (int n = 1; n <= order; ++n)
      for (std::size_t i = 0; i < probs[std::size_t(n)].size(); ++i)
        SIMULACRA_CHECK(probs[std::size_t(n)][i] >= 0.0 || (n == 1 && i == kStart), FileError,
                        "n-gram model: level {} entry {} has probability {} (its term {} plus its context's backoff "
                        "times the lower order's)",
                        n, i, probs[std::size_t(n)][i], levels[std::size_t(n)].node[i].disc);
  }
  return NGramPersona(order, std::move(levels), std::move(discounts));
}

namespace detail {

SIMULACRA_INLINE std::vector<std::vector<double>> stored_probabilities(const std::vector<NGramPersona::Level>& levels) {
  using Node = NGramPersona::Node;
  const std::size_t N = levels.size() - 1;
  std::vector<std::vector<double>> probs(N + 1);
  std::vector<std::uint32_t> suffix, next_suffix;  // suffix[i]: level-(n-1) node of level-n node i without its first token
  const double gamma0 = levels[0].node[0].gamma;
  probs[1].resize(levels[1].node.size());
  for (std::size_t i = 0; i < levels[1].node.size(); ++i) probs[1][i] = gamma0 * (1.0 / kVocab) + levels[1].node[i].disc;
  suffix.assign(levels[1].node.size(), 0);
  for (std::size_t n = 1; n < N; ++n) {
    const std::vector<Node>& ctx = levels[n].node;
    const std::vector<Node>& kids = levels[n + 1].node;
    const std::vector<Node>& lower = levels[n].node;  // where the suffixes of level n + 1 live
    const std::vector<Node>& lower_ctx = levels[n - 1].node;
    probs[n + 1].resize(kids.size());
    next_suffix.assign(kids.size(), 0);
    for (std::size_t q = 0; q < ctx.size(); ++q) {
      const Node& s = lower_ctx[suffix[q]];
      for (std::uint32_t c = ctx[q].child_begin; c < ctx[q].child_end; ++c) {
        const std::uint16_t w = kids[c].token;
        const Node* b = lower.data() + s.child_begin;
        const Node* e = lower.data() + s.child_end;
        const Node* it = std::lower_bound(b, e, w, [](const Node& x, std::uint16_t t) { return x.token < t; });
        SIMULACRA_CHECK(it != e && it->token == w, FileError,
                        "n-gram model: level {} entry {} (token {}) has no stored suffix at level {}", n + 1, c, w, n);
        const auto sfx = std::uint32_t(it - lower.data());
        next_suffix[c] = sfx;
        probs[n + 1][c] = ctx[q].gamma * probs[n][sfx] + kids[c].disc;
      }
    }
    suffix.swap(next_suffix);
  }
  return probs;
}

}  // namespace detail

SIMULACRA_INLINE NGramPersona::NGramPersona(int order, std::vector<Level> levels, std::vector<Discounts> discounts)
    : order_(order), levels_(std::move(levels)), discounts_(std::move(discounts)) {
  index_children();
}

SIMULACRA_INLINE void NGramPersona::index_children() {
  child2_.clear();
  if (order_ < 2) return;
  child2_.assign(std::size_t(kVocab + 1) * kVocab, kNone);
  const Level& l1 = levels_[1];
  const Level& l2 = levels_[2];
  for (std::size_t c = 0; c < l1.node.size(); ++c)
    for (std::uint32_t i = l1.node[c].child_begin; i < l1.node[c].child_end; ++i)
      child2_[c * kVocab + l2.node[i].token] = i;
}

SIMULACRA_INLINE std::size_t NGramPersona::memory_bytes() const {
  std::size_t bytes = child2_.size() * sizeof(std::uint32_t);
  for (const Level& L : levels_) bytes += L.node.size() * sizeof(Node);
  return bytes;
}

SIMULACRA_INLINE void NGramPersona::next_probs(const std::uint32_t* ctx, Eigen::Ref<Eigen::VectorXd> out) const {
  SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_probs: output has size {}, expected {}", out.size(),
                  kVocab);
  int top = 0;
  while (top + 1 < order_ && ctx[top + 1] != kNone) ++top;
  out.setZero();
  double g = 1.0;
  for (int n = top; n >= 1; --n) {
    const Node& c = levels_[n].node[ctx[n]];
    const Level& child = levels_[n + 1];
    for (std::uint32_t i = c.child_begin; i < c.child_end; ++i) out[child.node[i].token] += g * child.node[i].disc;
    g *= c.gamma;
  }
  const Node* unigrams = levels_[1].node.data();
  for (int v = 0; v < kVocab; ++v) out[v] += g * unigrams[v].disc;
  g *= levels_[0].node[0].gamma;
  out.array() += g / kVocab;
}

SIMULACRA_INLINE std::unique_ptr<PersonaState> NGramPersona::begin() const {
  return std::make_unique<detail::CursorState<NGramPersona>>(*this);
}

SIMULACRA_INLINE void NGramPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  detail::cursor_token_logprobs(*this, tokens, n, out);
}

SIMULACRA_INLINE double NGramPersona::score_document(std::string_view text) const {
  return detail::cursor_score_document(*this, text);
}

SIMULACRA_INLINE Eigen::VectorXd NGramPersona::next_logprobs(std::string_view context) const {
  return detail::cursor_next_logprobs(*this, context);
}

}  // namespace simulacra
