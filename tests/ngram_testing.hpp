// tests/ngram_testing.hpp — what the n-gram tests share: their tolerances, the
// corpora (tiny, and Shakespeare from ../shared/data), and the comparisons
// against the brute-force Kneser-Ney reference (kn_reference.hpp). Included
// by one source per test executable (ngram_test, ngram_properties_test).
#pragma once

#include "simulacra/ngram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kn_reference.hpp"
#include "testing.hpp"

namespace {


using simulacra::kVocab;
using simulacra::NGramPersona;
using simulacra::Token;

constexpr double kLogTol = 1e-9;        // absolute, on natural-log probabilities against the reference
constexpr double kPathTol = 1e-12;      // absolute, state.next_logprobs against state.advance (rounding only)
constexpr double kDiscountTol = 1e-12;  // absolute, on discounts
constexpr double kSumTol = 1e-9;        // absolute, on sum_w p(w | context) - 1

// Largest absolute difference of natural-log probabilities, per comparison.
inline std::map<std::string, double>& max_log_diff() {
  static std::map<std::string, double> diffs;
  return diffs;
}

class MaxDiffReport : public ::testing::Environment {
 public:
  void TearDown() override {
    for (const auto& [what, diff] : max_log_diff())
      std::printf("[ ngram ] max |difference| of log-probabilities, %s: %.3g\n", what.c_str(), diff);
  }
};
[[maybe_unused]] ::testing::Environment* const g_report = ::testing::AddGlobalTestEnvironment(new MaxDiffReport);

// ---------------------------------------------------------------------------
// Corpora

inline const std::vector<std::string>& tiny_corpus() {
  static const std::vector<std::string> docs{"abracadabra", "abba", "cadabra", ""};
  return docs;
}

// Held-out documents for the tiny corpus: unseen bytes (z, e, o, !, \x01,
// \xfe, newline), unseen contexts, an empty document.
inline const std::vector<std::string>& tiny_heldout() {
  static const std::vector<std::string> docs{"abracadabra", "abrac", "zebra", "cab\n", "", "dabba doo!",
                                             std::string("\x01\xfe\x00r", 4)};
  return docs;
}

inline std::string read_shakespeare() {
  const std::string path = simulacra::testing::shared_data("tinyshakespeare.txt");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() < 600000) throw std::runtime_error("cannot read " + path);
  return text.str();
}

// Documents of `text` separated by blank lines.
inline std::vector<std::string> split_blank_lines(const std::string& text) {
  std::vector<std::string> docs;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t end = text.find("\n\n", begin);
    if (end == std::string::npos) {
      docs.push_back(text.substr(begin));
      return docs;
    }
    docs.push_back(text.substr(begin, end - begin));
    begin = end + 2;
  }
}

// About 4 KB of the play, as documents.
inline const std::vector<std::string>& shakespeare_corpus() {
  static const std::vector<std::string> docs = split_blank_lines(read_shakespeare().substr(0, 4096));
  return docs;
}

// A later excerpt plus documents with bytes the training excerpt never shows.
inline const std::vector<std::string>& shakespeare_heldout() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> d = split_blank_lines(read_shakespeare().substr(500000, 1500));
    d.push_back("Zounds! quoth Xerxes: \"jazz\" {0} \t\xc3\xa9\xff");
    d.push_back("");
    d.push_back("~~~~ QQQ qqq");
    return d;
  }();
  return docs;
}

inline std::vector<Token> stream_of(const std::vector<std::string>& docs) {
  std::vector<Token> tokens;
  for (const std::string& doc : docs) {
    const std::vector<Token> t = simulacra::encode_document(doc);
    tokens.insert(tokens.end(), t.begin(), t.end());
  }
  return tokens;
}

// ---------------------------------------------------------------------------
// Comparisons

// Expects library and reference log-probabilities to agree within kLogTol;
// on failure reports how many positions differ and the worst one.
inline void expect_logprobs_near(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double max_diff = 0.0;
  std::size_t worst = 0, beyond = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double diff = std::isfinite(got[i]) ? std::abs(got[i] - want[i]) : HUGE_VAL;
    if (diff > kLogTol) ++beyond;
    if (diff > max_diff) {
      max_diff = diff;
      worst = i;
    }
  }
  double& recorded = max_log_diff()[what];
  recorded = std::max(recorded, max_diff);
  EXPECT_LE(max_diff, kLogTol) << what << ": " << beyond << " of " << got.size()
                               << " log-probabilities differ from the reference; worst at " << worst << ": got "
                               << got[worst] << ", reference " << want[worst];
}

inline void expect_scores_match(const NGramPersona& lm, const kn_reference::Model& ref,
                         const std::vector<std::string>& heldout) {
  const std::vector<Token> tokens = stream_of(heldout);
  expect_logprobs_near(lm.token_logprobs(tokens), ref.score(std::vector<int>(tokens.begin(), tokens.end())),
                       "score vs reference");
}

inline void expect_discounts_match(const NGramPersona& lm, const kn_reference::Model& ref) {
  for (int n = 1; n <= ref.order(); ++n) {
    SCOPED_TRACE("order " + std::to_string(n));
    const simulacra::Discounts& got = lm.discounts(n);
    const kn_reference::Discount& want = ref.discount(n);
    EXPECT_EQ(got.fallback, want.fallback);
    EXPECT_NEAR(got.d1, want.d1, kDiscountTol);
    EXPECT_NEAR(got.d2, want.d2, kDiscountTol);
    EXPECT_NEAR(got.d3, want.d3, kDiscountTol);
  }
}

inline void expect_distributions_match(const NGramPersona& lm, const kn_reference::Model& ref,
                                const std::vector<std::string>& contexts) {
  for (const std::string& context : contexts) {
    SCOPED_TRACE("context \"" + context + "\"");
    const Eigen::VectorXd got = lm.next_logprobs(context);
    expect_logprobs_near(std::vector<double>(got.data(), got.data() + got.size()), ref.next_logprobs(context),
                         "next_logprobs vs reference");
  }
}

// Stored n-grams: the dense unigram table, then every distinct n-gram.
inline void expect_ngram_counts_match(const NGramPersona& lm, const kn_reference::Model& ref) {
  EXPECT_EQ(lm.num_ngrams(1), static_cast<std::size_t>(kVocab + 1));
  for (int n = 2; n <= ref.order(); ++n) EXPECT_EQ(lm.num_ngrams(n), ref.raw(n).size()) << "order " << n;
}


}  // namespace
