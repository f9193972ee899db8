// tests/ngram_counts_test.cpp — mergeable n-gram counts (ngram_counts.hpp)
// against independent references: every n-gram's count from a std::map of
// the documents' windows (brute force); the model of merged shard counts
// against NGramPersona::fit of all the documents, bit for bit, over random
// shardings and orders 1..8; merge's algebra; the serialisation's round trip
// and its refusal of every truncation and of crafted bytes.
#include "simulacra/ngram_counts.hpp"

#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"

namespace {

using simulacra::FileError;
using simulacra::InvalidArgument;
using simulacra::NGramCounts;
using simulacra::NGramPersona;
using Seq = std::vector<int>;

constexpr int kS = NGramPersona::kStart;

std::vector<std::string> random_documents(std::mt19937_64& rng, int count, int max_len, int alphabet) {
  std::vector<std::string> docs;
  std::uniform_int_distribution<int> len(0, max_len), byte(0, alphabet - 1);
  for (int d = 0; d < count; ++d) {
    std::string s(std::size_t(len(rng)), ' ');
    for (char& c : s) c = char(alphabet >= 256 ? byte(rng) : 'a' + byte(rng));
    docs.push_back(s);
  }
  return docs;
}

// Every n-gram (orders 1..order) of the documents with its number of occurrences, as ngram.hpp counts them:
// [<s>, bytes..., <b>], every window start, the start boundary never after the first position.
std::map<Seq, std::uint64_t> brute_counts(const std::vector<std::string>& docs, int order) {
  std::map<Seq, std::uint64_t> counts;
  for (const std::string& doc : docs) {
    Seq s{kS};
    for (unsigned char c : doc) s.push_back(c);
    s.push_back(simulacra::kBoundary);
    for (std::size_t p = 0; p < s.size(); ++p)
      for (std::size_t n = 1; n <= std::size_t(order) && p + n <= s.size(); ++n)
        ++counts[Seq(s.begin() + std::ptrdiff_t(p), s.begin() + std::ptrdiff_t(p + n))];
  }
  return counts;
}

void expect_same_model(const NGramPersona& a, const NGramPersona& b) {
  ASSERT_EQ(a.order(), b.order());
  for (int n = 1; n <= a.order(); ++n) {
    EXPECT_EQ(a.discounts(n).d1, b.discounts(n).d1);
    EXPECT_EQ(a.discounts(n).d2, b.discounts(n).d2);
    EXPECT_EQ(a.discounts(n).d3, b.discounts(n).d3);
    EXPECT_EQ(a.discounts(n).fallback, b.discounts(n).fallback);
  }
  ASSERT_EQ(a.levels().size(), b.levels().size());
  for (std::size_t n = 0; n < a.levels().size(); ++n) {
    const auto& x = a.levels()[n].node;
    const auto& y = b.levels()[n].node;
    ASSERT_EQ(x.size(), y.size()) << "level " << n;
    // Bit for bit: the same doubles, not merely close ones.
    for (std::size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(std::memcmp(&x[i].disc, &y[i].disc, sizeof(double)), 0) << "level " << n << " node " << i;
      ASSERT_EQ(std::memcmp(&x[i].gamma, &y[i].gamma, sizeof(double)), 0) << "level " << n << " node " << i;
      ASSERT_EQ(x[i].token, y[i].token);
      ASSERT_EQ(x[i].child_begin, y[i].child_begin);
      ASSERT_EQ(x[i].child_end, y[i].child_end);
    }
  }
}

TEST(NGramCounts, CountsEveryNGramAsBruteForceDoes) {
  std::mt19937_64 rng(1);
  for (int order = 1; order <= 6; ++order) {
    const auto docs = random_documents(rng, 12, 30, order % 2 ? 3 : 256);
    const NGramCounts counts(docs, order);
    const auto ref = brute_counts(docs, order);
    std::vector<std::size_t> distinct(std::size_t(order) + 1, 0);
    for (const auto& [ngram, c] : ref) {
      ASSERT_EQ(counts.count(ngram), c) << "order " << order;
      ++distinct[ngram.size()];
    }
    for (int n = 2; n <= order; ++n) EXPECT_EQ(counts.num_ngrams(n), distinct[std::size_t(n)]);
    EXPECT_EQ(counts.num_ngrams(1), std::size_t(simulacra::kVocab) + 1);
    EXPECT_EQ(counts.num_documents(), docs.size());
    std::uint64_t tokens = 0;
    for (const auto& d : docs) tokens += d.size() + 1;
    EXPECT_EQ(counts.num_tokens(), tokens);
    // N-grams never seen count 0 (random ones, and one longer than any window).
    std::uniform_int_distribution<int> tok(0, simulacra::kVocab - 1);
    for (int trial = 0; trial < 200; ++trial) {
      Seq g(std::size_t(1 + trial % order));
      for (int& t : g) t = tok(rng);
      const auto it = ref.find(g);
      EXPECT_EQ(counts.count(g), it == ref.end() ? 0u : it->second);
    }
  }
}

TEST(NGramCounts, MergedShardsFitBitForBitAsTheWholeText) {
  std::mt19937_64 rng(7);
  for (int order = 1; order <= 8; ++order) {
    for (int trial = 0; trial < 4; ++trial) {
      const auto docs = random_documents(rng, 40, 60, trial % 2 ? 4 : 256);
      const NGramPersona whole = NGramPersona::fit(docs, order);
      // A random sharding (some shards empty), merged in a random order.
      const int shards = 1 + int(rng() % 6);
      std::vector<std::vector<std::string>> parts(static_cast<std::size_t>(shards));
      for (const auto& d : docs) parts[rng() % std::size_t(shards)].push_back(d);
      std::vector<NGramCounts> counts;
      for (const auto& p : parts) counts.emplace_back(p, order);
      std::shuffle(counts.begin(), counts.end(), rng);
      NGramCounts merged = counts[0];
      for (std::size_t i = 1; i < counts.size(); ++i) merged.merge(counts[i]);
      EXPECT_EQ(merged, NGramCounts(docs, order)) << "order " << order << " trial " << trial;
      expect_same_model(merged.to_persona(), whole);
      EXPECT_EQ(merged.to_persona().score_document(docs[0]), whole.score_document(docs[0]));
    }
  }
}

TEST(NGramCounts, MergeIsAssociativeAndCommutativeWithEmptyCountsTheIdentity) {
  std::mt19937_64 rng(3);
  for (int order : {1, 2, 4, 7}) {
    const NGramCounts a(random_documents(rng, 8, 40, 5), order);
    const NGramCounts b(random_documents(rng, 8, 40, 256), order);
    const NGramCounts c(random_documents(rng, 8, 40, 3), order);
    EXPECT_EQ(merge(a, b), merge(b, a));
    EXPECT_EQ(merge(merge(a, b), c), merge(a, merge(b, c)));
    const NGramCounts empty({}, order);
    EXPECT_EQ(empty.num_documents(), 0u);
    EXPECT_EQ(merge(a, empty), a);
    EXPECT_EQ(merge(empty, a), a);
  }
}

TEST(NGramCounts, TruncatedIsCountingAtTheLowerOrder) {
  std::mt19937_64 rng(11);
  const auto docs = random_documents(rng, 30, 50, 6);
  const NGramCounts top(docs, 8);
  for (int n = 1; n <= 8; ++n) {
    EXPECT_EQ(top.truncated(n), NGramCounts(docs, n)) << n;
    expect_same_model(top.truncated(n).to_persona(), NGramPersona::fit(docs, n));
  }
  EXPECT_THROW(top.truncated(0), InvalidArgument);
  EXPECT_THROW(top.truncated(9), InvalidArgument);
}

TEST(NGramCounts, BytesRoundTripAndAreCompact) {
  std::mt19937_64 rng(5);
  for (int order : {1, 2, 3, 6}) {
    const auto docs = random_documents(rng, 30, 200, order == 3 ? 256 : 8);
    const NGramCounts counts(docs, order);
    const std::string bytes = counts.to_bytes();
    EXPECT_EQ(NGramCounts::from_bytes(bytes), counts);
    EXPECT_EQ(NGramCounts::from_bytes(bytes).to_bytes(), bytes);
    if (order >= 3) {  // a few bytes per stored n-gram, far below a model's 32
      EXPECT_LT(double(bytes.size()), 4.0 * double(counts.num_ngrams()) + 600.0) << order;
    }
  }
  const NGramCounts empty({}, 3);
  EXPECT_EQ(NGramCounts::from_bytes(empty.to_bytes()), empty);
}

TEST(NGramCounts, EveryTruncationAndCraftedBytesAreRefused) {
  std::mt19937_64 rng(9);
  const NGramCounts counts(random_documents(rng, 10, 30, 4), 4);
  const std::string bytes = counts.to_bytes();
  for (std::size_t len = 0; len < bytes.size(); ++len)
    EXPECT_THROW(NGramCounts::from_bytes(std::string_view(bytes).substr(0, len)), FileError) << len;
  EXPECT_THROW(NGramCounts::from_bytes(bytes + "x"), FileError);
  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_THROW(NGramCounts::from_bytes(bad_magic), FileError);
  // A huge level size is refused before anything is allocated.
  std::string huge(bytes.substr(0, 8));
  huge += char(2);                                                       // order 2
  huge += "\x82\x02";                                                    // 258 unigrams
  huge += "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";                        // 2^63 - 1 bigrams
  EXPECT_THROW(NGramCounts::from_bytes(huge), FileError);
  // Random damage ends in a FileError or in counts that pass validation (never a crash).
  for (int trial = 0; trial < 2000; ++trial) {
    std::string damaged = bytes;
    damaged[8 + rng() % (damaged.size() - 8)] = char(rng());
    try {
      const NGramCounts back = NGramCounts::from_bytes(damaged);
      if (back.num_documents() > 0) back.to_persona().score_document("ab");
    } catch (const FileError&) {
    }
  }
}

TEST(NGramCounts, ACountedNGramWithoutItsSuffixIsRefused) {
  // "ab" at order 3: the last stored trigram is (<s> a b), serialised last as the token 'b' and the count 1
  // (written as 0). Made (<s> a z), it is counted while its suffix (a z) is not: no text gives such counts.
  std::string bytes = NGramCounts({"ab"}, 3).to_bytes();
  ASSERT_EQ(bytes[bytes.size() - 2], 'b');
  ASSERT_EQ(bytes[bytes.size() - 1], '\0');
  EXPECT_NO_THROW(NGramCounts::from_bytes(bytes));
  bytes[bytes.size() - 2] = 'z';
  EXPECT_THROW(NGramCounts::from_bytes(bytes), FileError);
}

TEST(NGramCounts, ErrorsNameWhatIsWrong) {
  const NGramCounts a({"abc"}, 3), b({"abc"}, 2);
  EXPECT_THROW(NGramCounts({"x"}, 0), InvalidArgument);
  EXPECT_THROW(NGramCounts({"x"}, NGramPersona::kMaxOrder + 1), InvalidArgument);
  NGramCounts c = a;
  EXPECT_THROW(c.merge(b), InvalidArgument);
  EXPECT_THROW(NGramCounts({}, 3).to_persona(), InvalidArgument);
  EXPECT_THROW(a.count({}), InvalidArgument);
  EXPECT_THROW(a.count({1, 2, 3, 4}), InvalidArgument);
  EXPECT_THROW(a.count({1, kS}), InvalidArgument);
  EXPECT_THROW(a.count({-1}), InvalidArgument);
  EXPECT_EQ(a.count({kS, 'a', 'b'}), 1u);
  EXPECT_THROW(a.num_ngrams(4), simulacra::OutOfRange);
}

}  // namespace
