// Mergeable n-gram counts (ngram_counts.hpp).
#include "simulacra/ngram_counts.hpp"

#include <algorithm>
#include <limits>

#include "byte_codec.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

constexpr char kMagic[8] = {'S', 'M', 'N', 'G', 'C', 'N', 'T', '1'};
constexpr std::size_t kNoNode = std::numeric_limits<std::size_t>::max();

using detail::ByteReader;
using detail::put_varint;

}  // namespace

NGramCounts::NGramCounts(const std::vector<std::string>& documents, int order) : order_(order) {
  NGramPersona::check_order(order, "NGramCounts");
  const std::size_t N = std::size_t(order);
  token_.resize(N + 1);
  count_.resize(N + 1);
  child_end_.resize(N + 1);
  token_[1].resize(kVocab + 1);
  for (std::size_t t = 0; t <= kVocab; ++t) token_[1][t] = std::uint16_t(t);
  count_[1].assign(kVocab + 1, 0);
  if (documents.empty()) {
    if (N >= 2) child_end_[1].assign(kVocab + 1, 0);
    return;
  }
  detail::NGramSkeleton sk = detail::build_skeleton(documents, order, "NGramCounts");
  for (std::size_t n = 1; n <= N; ++n) {
    const std::vector<NGramPersona::Node>& nodes = sk.levels[n].node;
    count_[n].assign(sk.raw[n].begin(), sk.raw[n].end());
    if (n >= 2) {
      token_[n].resize(nodes.size());
      for (std::size_t i = 0; i < nodes.size(); ++i) token_[n][i] = nodes[i].token;
    }
    if (n < N) {
      child_end_[n].resize(nodes.size());
      for (std::size_t i = 0; i < nodes.size(); ++i) child_end_[n][i] = nodes[i].child_end;
    }
  }
}

std::uint64_t NGramCounts::num_tokens() const {
  std::uint64_t total = 0;
  for (std::size_t t = 0; t < kVocab; ++t) total += count_[1][t];
  return total;
}

std::size_t NGramCounts::num_ngrams(int n) const {
  SIMULACRA_CHECK(n >= 1 && n <= order_, OutOfRange, "NGramCounts::num_ngrams: order {} is outside 1..{}", n, order_);
  return token_[std::size_t(n)].size();
}

std::size_t NGramCounts::num_ngrams() const {
  std::size_t total = 0;
  for (int n = 1; n <= order_; ++n) total += num_ngrams(n);
  return total;
}

std::uint64_t NGramCounts::count(const std::vector<int>& ngram) const {
  SIMULACRA_CHECK(!ngram.empty() && ngram.size() <= std::size_t(order_), InvalidArgument,
                  "NGramCounts::count: an n-gram of {} tokens (expected 1..{})", ngram.size(), order_);
  for (std::size_t i = 0; i < ngram.size(); ++i)
    SIMULACRA_CHECK((ngram[i] >= 0 && ngram[i] < kVocab) || (i == 0 && ngram[i] == NGramPersona::kStart),
                    InvalidArgument, "NGramCounts::count: token {} at {} is outside 0..{} (and {} first, the start)",
                    ngram[i], i, kVocab - 1, int(NGramPersona::kStart));
  std::size_t node = std::size_t(ngram[0]);
  for (std::size_t i = 1; i < ngram.size(); ++i) {
    const int n = int(i);  // node is at level n
    const auto& kids = token_[i + 1];
    const auto b = kids.begin() + std::ptrdiff_t(child_begin(n, node));
    const auto e = kids.begin() + std::ptrdiff_t(child_end_[i][node]);
    const auto it = std::lower_bound(b, e, std::uint16_t(ngram[i]));
    if (it == e || *it != ngram[i]) return 0;
    node = std::size_t(it - kids.begin());
  }
  return count_[ngram.size()][node];
}

NGramCounts& NGramCounts::merge(const NGramCounts& other) {
  SIMULACRA_CHECK(other.order_ == order_, InvalidArgument, "NGramCounts::merge: order {} counts merged into order {}",
                  other.order_, order_);
  const std::size_t N = std::size_t(order_);
  auto add = [](std::uint64_t a, std::uint64_t b) {
    SIMULACRA_CHECK(a <= std::numeric_limits<std::uint64_t>::max() - b, InvalidArgument,
                    "NGramCounts::merge: a count overflows 64 bits");
    return a + b;
  };
  NGramCounts out;
  out.order_ = order_;
  out.token_.resize(N + 1);
  out.count_.resize(N + 1);
  out.child_end_.resize(N + 1);
  out.token_[1] = token_[1];
  out.count_[1].resize(kVocab + 1);
  for (std::size_t t = 0; t <= kVocab; ++t) out.count_[1][t] = add(count_[1][t], other.count_[1][t]);
  // from_a[i], from_b[i]: the node of each side that merged node i of the current level is (kNoNode: absent).
  std::vector<std::size_t> from_a(kVocab + 1), from_b(kVocab + 1);
  for (std::size_t t = 0; t <= kVocab; ++t) from_a[t] = from_b[t] = t;
  for (std::size_t n = 1; n < N; ++n) {
    poll_interrupt();
    std::vector<std::size_t> next_a, next_b;
    std::vector<std::uint16_t>& tok = out.token_[n + 1];
    std::vector<std::uint64_t>& cnt = out.count_[n + 1];
    std::vector<std::uint64_t>& ends = out.child_end_[n];
    const std::size_t expect = token_[n + 1].size() + other.token_[n + 1].size();
    tok.reserve(expect);
    cnt.reserve(expect);
    ends.resize(from_a.size());
    for (std::size_t i = 0; i < from_a.size(); ++i) {
      std::size_t a = 0, ae = 0, b = 0, be = 0;
      if (from_a[i] != kNoNode) a = child_begin(int(n), from_a[i]), ae = child_end_[n][from_a[i]];
      if (from_b[i] != kNoNode) b = other.child_begin(int(n), from_b[i]), be = other.child_end_[n][from_b[i]];
      while (a < ae || b < be) {
        const int ta = a < ae ? token_[n + 1][a] : kVocab + 1;
        const int tb = b < be ? other.token_[n + 1][b] : kVocab + 1;
        if (ta == tb) {
          tok.push_back(std::uint16_t(ta));
          cnt.push_back(add(count_[n + 1][a], other.count_[n + 1][b]));
          next_a.push_back(a++);
          next_b.push_back(b++);
        } else if (ta < tb) {
          tok.push_back(std::uint16_t(ta));
          cnt.push_back(count_[n + 1][a]);
          next_a.push_back(a++);
          next_b.push_back(kNoNode);
        } else {
          tok.push_back(std::uint16_t(tb));
          cnt.push_back(other.count_[n + 1][b]);
          next_a.push_back(kNoNode);
          next_b.push_back(b++);
        }
      }
      ends[i] = tok.size();
    }
    from_a.swap(next_a);
    from_b.swap(next_b);
  }
  *this = std::move(out);
  return *this;
}

NGramCounts merge(NGramCounts a, const NGramCounts& b) {
  a.merge(b);
  return a;
}

NGramCounts NGramCounts::truncated(int order) const {
  SIMULACRA_CHECK(order >= 1 && order <= order_, InvalidArgument,
                  "NGramCounts::truncated: order {} is outside 1..{}", order, order_);
  NGramCounts out;
  out.order_ = order;
  const std::size_t N = std::size_t(order);
  out.token_.assign(token_.begin(), token_.begin() + std::ptrdiff_t(N) + 1);
  out.count_.assign(count_.begin(), count_.begin() + std::ptrdiff_t(N) + 1);
  out.child_end_.assign(child_end_.begin(), child_end_.begin() + std::ptrdiff_t(N) + 1);
  out.child_end_[N].clear();
  return out;
}

std::vector<std::vector<std::uint32_t>> NGramCounts::suffixes() const {
  const std::size_t N = std::size_t(order_);
  constexpr std::uint32_t kNone = NGramPersona::kNone;
  std::vector<std::vector<std::uint32_t>> suffix(N + 1);
  suffix[1].assign(kVocab + 1, 0);
  for (std::size_t n = 1; n < N; ++n) {
    poll_interrupt();
    // Children of level-n node i at level n + 1: the suffix of (i, w) is w after the suffix of i.
    std::vector<std::uint32_t>& out = suffix[n + 1];
    out.assign(token_[n + 1].size(), kNone);
    for (std::size_t i = 0; i < token_[n].size(); ++i) {
      const std::size_t b = child_begin(int(n), i), e = child_end_[n][i];
      if (b == e) continue;
      const std::uint32_t s = suffix[n][i];
      for (std::size_t c = b; c < e; ++c) {
        const std::uint16_t w = token_[n + 1][c];
        if (n == 1) {  // the suffix of a bigram is its last token's unigram
          out[c] = w;
          continue;
        }
        if (s == kNone) continue;
        const auto& kids = token_[n];
        const auto kb = kids.begin() + std::ptrdiff_t(child_begin(int(n) - 1, s));
        const auto ke = kids.begin() + std::ptrdiff_t(child_end_[n - 1][s]);
        const auto it = std::lower_bound(kb, ke, w);
        if (it != ke && *it == w) out[c] = std::uint32_t(it - kids.begin());
      }
    }
  }
  return suffix;
}

NGramPersona NGramCounts::to_persona() const {
  SIMULACRA_CHECK(num_documents() > 0, InvalidArgument, "NGramCounts::to_persona: no documents were counted");
  const std::size_t N = std::size_t(order_);
  constexpr std::uint64_t kMax = NGramPersona::kNone - 1;
  for (std::size_t n = 1; n <= N; ++n) {
    SIMULACRA_CHECK(token_[n].size() <= kMax, InvalidArgument,
                    "NGramCounts::to_persona: {} n-grams of order {} exceed what a model holds ({})", token_[n].size(), n, kMax);
    for (std::uint64_t c : count_[n])
      SIMULACRA_CHECK(c <= kMax, InvalidArgument,
                      "NGramCounts::to_persona: a count of {} at order {} exceeds what a model holds ({})", c, n, kMax);
  }
  detail::NGramSkeleton sk;
  sk.levels.resize(N + 1);
  sk.raw.resize(N + 1);
  sk.levels[0].node.resize(1);
  sk.levels[0].node[0].child_end = kVocab + 1;
  for (std::size_t n = 1; n <= N; ++n) {
    std::vector<NGramPersona::Node>& nodes = sk.levels[n].node;
    nodes.resize(token_[n].size());
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      nodes[i].token = token_[n][i];
      if (n < N) {
        nodes[i].child_begin = std::uint32_t(child_begin(int(n), i));
        nodes[i].child_end = std::uint32_t(child_end_[n][i]);
      }
    }
    sk.raw[n].assign(count_[n].begin(), count_[n].end());
  }
  sk.suffix = suffixes();
  sk.first_start.assign(N + 1, 0);
  sk.first_start[1] = NGramPersona::kStart;
  for (std::size_t n = 1; n < N; ++n)
    sk.first_start[n + 1] = sk.first_start[n] < sk.levels[n].node.size()
                                ? sk.levels[n].node[sk.first_start[n]].child_begin
                                : std::uint32_t(sk.levels[n + 1].node.size());
  return detail::fit_skeleton(std::move(sk), order_);
}

std::string NGramCounts::to_bytes() const {
  const std::size_t N = std::size_t(order_);
  std::string out(kMagic, sizeof kMagic);
  out.reserve(out.size() + 3 * num_ngrams() + 16);
  put_varint(out, std::uint64_t(order_));
  for (std::size_t n = 1; n <= N; ++n) put_varint(out, token_[n].size());
  for (std::uint64_t c : count_[1]) put_varint(out, c);
  for (std::size_t n = 1; n < N; ++n)
    for (std::size_t i = 0; i < token_[n].size(); ++i) put_varint(out, child_end_[n][i] - child_begin(int(n), i));
  for (std::size_t n = 2; n <= N; ++n) {
    for (std::size_t i = 0; i < token_[n - 1].size(); ++i) {
      const std::size_t b = child_begin(int(n) - 1, i), e = child_end_[n - 1][i];
      for (std::size_t c = b; c < e; ++c) {
        put_varint(out, c == b ? token_[n][c] : token_[n][c] - token_[n][c - 1] - 1u);
        put_varint(out, count_[n][c] - 1);
      }
    }
  }
  return out;
}

NGramCounts NGramCounts::from_bytes(std::string_view bytes) {
  ByteReader in(bytes, "n-gram counts");
  in.expect(std::string_view(kMagic, sizeof kMagic), "NGramCounts");
  const std::uint64_t order = in.varint("the order");
  SIMULACRA_CHECK(order >= 1 && order <= std::uint64_t(NGramPersona::kMaxOrder), FileError,
                  "n-gram counts: order {} is outside 1..{}", order, NGramPersona::kMaxOrder);
  const std::size_t N = std::size_t(order);
  NGramCounts out;
  out.order_ = int(order);
  out.token_.resize(N + 1);
  out.count_.resize(N + 1);
  out.child_end_.resize(N + 1);
  std::vector<std::uint64_t> size(N + 1);
  // Every stored n-gram above order 1 takes at least two bytes (its token and count): sizes that the bytes
  // cannot hold are refused before anything is allocated.
  std::uint64_t need = kVocab + 1;
  for (std::size_t n = 1; n <= N; ++n) {
    size[n] = in.varint("a level size");
    if (n == 1) {
      SIMULACRA_CHECK(size[1] == kVocab + 1, FileError, "n-gram counts: order 1 holds {} entries, expected {}", size[1],
                      kVocab + 1);
    } else {
      SIMULACRA_CHECK(size[n] <= in.remaining() / 2 && need <= in.remaining() - 2 * size[n], FileError,
                      "n-gram counts: {} n-grams of order {} do not fit in the {} bytes left", size[n], n,
                      in.remaining());
      need += 2 * size[n];
    }
  }
  SIMULACRA_CHECK(need <= in.remaining(), FileError, "n-gram counts: truncated ({} bytes left, at least {} needed)",
                  in.remaining(), need);
  out.token_[1].resize(kVocab + 1);
  out.count_[1].resize(kVocab + 1);
  for (std::size_t t = 0; t <= kVocab; ++t) {
    out.token_[1][t] = std::uint16_t(t);
    out.count_[1][t] = in.varint("a unigram count");
  }
  for (std::size_t n = 1; n < N; ++n) {
    out.child_end_[n].resize(size[n]);
    std::uint64_t end = 0;
    for (std::size_t i = 0; i < size[n]; ++i) {
      const std::uint64_t kids = in.varint("a child count");
      SIMULACRA_CHECK(kids <= size[n + 1] - end, FileError,
                      "n-gram counts: the children of order {} entry {} overrun order {} ({} entries)", n, i, n + 1,
                      size[n + 1]);
      end += kids;
      out.child_end_[n][i] = end;
    }
    SIMULACRA_CHECK(end == size[n + 1], FileError,
                    "n-gram counts: the children of order {} cover {} of the {} entries of order {}", n, end,
                    size[n + 1], n + 1);
  }
  for (std::size_t n = 2; n <= N; ++n) {
    out.token_[n].resize(size[n]);
    out.count_[n].resize(size[n]);
    for (std::size_t i = 0; i < size[n - 1]; ++i) {
      const std::size_t b = out.child_begin(int(n) - 1, i), e = out.child_end_[n - 1][i];
      std::uint64_t prev = 0;
      for (std::size_t c = b; c < e; ++c) {
        const std::uint64_t delta = in.varint("a token");
        const std::uint64_t tok = c == b ? delta : prev + 1 + delta;
        SIMULACRA_CHECK(delta < kVocab && tok < kVocab, FileError,
                        "n-gram counts: order {} entry {} has token {} (outside 0..{})", n, c, c == b ? delta : tok,
                        kVocab - 1);
        out.token_[n][c] = std::uint16_t(tok);
        prev = tok;
        const std::uint64_t count = in.varint("a count");
        SIMULACRA_CHECK(count < std::numeric_limits<std::uint64_t>::max(), FileError,
                        "n-gram counts: order {} entry {} has a count that overflows", n, c);
        out.count_[n][c] = count + 1;
      }
    }
  }
  SIMULACRA_CHECK(in.remaining() == 0, FileError, "n-gram counts: {} bytes after the end", in.remaining());
  out.validate();
  return out;
}

void NGramCounts::validate() const {
  const std::size_t N = std::size_t(order_);
  // Tokens ascend within each context (from_bytes's deltas guarantee it; checked for every source), nothing
  // follows the end boundary, and every n-gram's suffix (without its first token) is counted too, as it is in
  // any counted text: the continuation counts and the model's backoff need it.
  for (std::size_t n = 1; n < N; ++n) {
    for (std::size_t i = 0; i < token_[n].size(); ++i) {
      const std::size_t b = child_begin(int(n), i), e = child_end_[n][i];
      SIMULACRA_CHECK(b == e || token_[n][i] != kBoundary, FileError,
                      "n-gram counts: order {} entry {} continues after the end boundary", n, i);
      for (std::size_t c = b + 1; c < e; ++c)
        SIMULACRA_CHECK(token_[n + 1][c - 1] < token_[n + 1][c], FileError,
                        "n-gram counts: order {} tokens unsorted at {}", n + 1, c);
    }
  }
  const auto suffix = suffixes();
  for (std::size_t n = 2; n <= N; ++n)
    for (std::size_t c = 0; c < suffix[n].size(); ++c)
      SIMULACRA_CHECK(suffix[n][c] != NGramPersona::kNone, FileError,
                      "n-gram counts: order {} entry {} is counted but its suffix is not", n, c);
}

}  // namespace simulacra
