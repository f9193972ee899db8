// tests/ngram_test.cpp — NGramPersona against a brute-force Kneser-Ney reference.
//
// The reference (kn_reference.hpp) evaluates the interpolated modified
// Kneser-Ney recursion of the specification in ngram.hpp directly from
// std::map n-gram counts. Log-probabilities (natural log) must agree within
// kLogTol; discounts within kDiscountTol. The largest difference seen is
// printed at the end of the run.
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
std::map<std::string, double>& max_log_diff() {
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

const std::vector<std::string>& tiny_corpus() {
  static const std::vector<std::string> docs{"abracadabra", "abba", "cadabra", ""};
  return docs;
}

// Held-out documents for the tiny corpus: unseen bytes (z, e, o, !, \x01,
// \xfe, newline), unseen contexts, an empty document.
const std::vector<std::string>& tiny_heldout() {
  static const std::vector<std::string> docs{"abracadabra", "abrac", "zebra", "cab\n", "", "dabba doo!",
                                             std::string("\x01\xfe\x00r", 4)};
  return docs;
}

std::string read_shakespeare() {
  const std::string path = simulacra::testing::shared_data("tinyshakespeare.txt");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() < 600000) throw std::runtime_error("cannot read " + path);
  return text.str();
}

// Documents of `text` separated by blank lines.
std::vector<std::string> split_blank_lines(const std::string& text) {
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
const std::vector<std::string>& shakespeare_corpus() {
  static const std::vector<std::string> docs = split_blank_lines(read_shakespeare().substr(0, 4096));
  return docs;
}

// A later excerpt plus documents with bytes the training excerpt never shows.
const std::vector<std::string>& shakespeare_heldout() {
  static const std::vector<std::string> docs = [] {
    std::vector<std::string> d = split_blank_lines(read_shakespeare().substr(500000, 1500));
    d.push_back("Zounds! quoth Xerxes: \"jazz\" {0} \t\xc3\xa9\xff");
    d.push_back("");
    d.push_back("~~~~ QQQ qqq");
    return d;
  }();
  return docs;
}

std::vector<Token> stream_of(const std::vector<std::string>& docs) {
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
void expect_logprobs_near(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
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

void expect_scores_match(const NGramPersona& lm, const kn_reference::Model& ref,
                         const std::vector<std::string>& heldout) {
  const std::vector<Token> tokens = stream_of(heldout);
  expect_logprobs_near(lm.token_logprobs(tokens), ref.score(std::vector<int>(tokens.begin(), tokens.end())),
                       "score vs reference");
}

void expect_discounts_match(const NGramPersona& lm, const kn_reference::Model& ref) {
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

void expect_distributions_match(const NGramPersona& lm, const kn_reference::Model& ref,
                                const std::vector<std::string>& contexts) {
  for (const std::string& context : contexts) {
    SCOPED_TRACE("context \"" + context + "\"");
    const Eigen::VectorXd got = lm.next_logprobs(context);
    expect_logprobs_near(std::vector<double>(got.data(), got.data() + got.size()), ref.next_logprobs(context),
                         "next_logprobs vs reference");
  }
}

// Stored n-grams: the dense unigram table, then every distinct n-gram.
void expect_ngram_counts_match(const NGramPersona& lm, const kn_reference::Model& ref) {
  EXPECT_EQ(lm.num_ngrams(1), static_cast<std::size_t>(kVocab + 1));
  for (int n = 2; n <= ref.order(); ++n) EXPECT_EQ(lm.num_ngrams(n), ref.raw(n).size()) << "order " << n;
}

// ---------------------------------------------------------------------------
// 1. Against the reference, per order.

class NGramReferenceTest : public ::testing::TestWithParam<int> {};

TEST_P(NGramReferenceTest, TinyCorpusScoresMatch) {
  const auto lm = NGramPersona::fit(tiny_corpus(), GetParam());
  const kn_reference::Model ref(tiny_corpus(), GetParam());
  ASSERT_EQ(lm.order(), GetParam());
  expect_scores_match(lm, ref, tiny_heldout());
  expect_scores_match(lm, ref, tiny_corpus());
}

TEST_P(NGramReferenceTest, TinyCorpusDiscountsMatch) {
  const auto lm = NGramPersona::fit(tiny_corpus(), GetParam());
  const kn_reference::Model ref(tiny_corpus(), GetParam());
  expect_discounts_match(lm, ref);
  expect_ngram_counts_match(lm, ref);
}

TEST_P(NGramReferenceTest, TinyCorpusDistributionsMatch) {
  const auto lm = NGramPersona::fit(tiny_corpus(), GetParam());
  const kn_reference::Model ref(tiny_corpus(), GetParam());
  expect_distributions_match(lm, ref, {"", "a", "ab", "abr", "abracad", "cadabr", "z", "zz", "abz", "bba"});
}

TEST_P(NGramReferenceTest, ShakespeareScoresMatch) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const auto lm = NGramPersona::fit(shakespeare_corpus(), GetParam());
  const kn_reference::Model ref(shakespeare_corpus(), GetParam());
  // The held-out text must exercise unseen bytes.
  std::size_t unseen = 0;
  for (Token t : stream_of(shakespeare_heldout())) unseen += ref.raw(1).count({t}) == 0;
  ASSERT_GE(unseen, 10u);
  expect_scores_match(lm, ref, shakespeare_heldout());
}

TEST_P(NGramReferenceTest, ShakespeareDiscountsMatch) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const auto lm = NGramPersona::fit(shakespeare_corpus(), GetParam());
  const kn_reference::Model ref(shakespeare_corpus(), GetParam());
  expect_discounts_match(lm, ref);
  expect_ngram_counts_match(lm, ref);
  // Above order 1 the count-of-counts of a few KB of text are rich enough to
  // estimate every order's discounts (raw byte counts at order 1 have t3 = 0).
  for (int n = 1; n <= GetParam() && GetParam() >= 2; ++n) EXPECT_FALSE(lm.discounts(n).fallback) << "order " << n;
}

TEST_P(NGramReferenceTest, ShakespeareDistributionsMatch) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const auto lm = NGramPersona::fit(shakespeare_corpus(), GetParam());
  const kn_reference::Model ref(shakespeare_corpus(), GetParam());
  expect_distributions_match(lm, ref,
                             {"", "F", "First Citizen:\n", "First Citizen:\nWe are", "All:\nSpeak, sp", "qqqq",
                              "\xff\xfe", "Xerxes", "\n", "the people.\nthe pe"});
}

INSTANTIATE_TEST_SUITE_P(Orders, NGramReferenceTest, ::testing::Values(1, 2, 3, 4, 6),
                         [](const ::testing::TestParamInfo<int>& info) { return "Order" + std::to_string(info.param); });

// Bytes >= 0x80 and NUL, in training and in context.
TEST(NGramExtraReferenceTest, HighBytesMatchReference) {
  const std::vector<std::string> corpus{"\xff\xfe\xff", std::string("\x00" "a\x80\x00" "a", 5), "a\xff", ""};
  for (int order : {1, 2, 3}) {
    SCOPED_TRACE("order " + std::to_string(order));
    const auto lm = NGramPersona::fit(corpus, order);
    const kn_reference::Model ref(corpus, order);
    expect_discounts_match(lm, ref);
    expect_scores_match(lm, ref, {"\xff\xfe\xfe", std::string("a\x00" "a\x80", 4), "\x7f"});
    expect_distributions_match(lm, ref, {"\xff", std::string("\x00", 1), "\x80"});
  }
}

// Small random corpora over a small alphabet: many shapes of count-of-counts
// (estimated, zero t_k, out-of-range discounts) and of contexts.
TEST(NGramExtraReferenceTest, RandomCorporaMatchReference) {
  std::mt19937 rng(1998);
  const std::string alphabet = "abc\n\xff";
  std::uniform_int_distribution<std::size_t> letter(0, alphabet.size() - 1), length(0, 40), documents(1, 6);
  const auto random_docs = [&](std::size_t count) {
    std::vector<std::string> docs(count);
    for (std::string& doc : docs)
      for (std::size_t i = length(rng); i > 0; --i) doc.push_back(alphabet[letter(rng)]);
    return docs;
  };
  int fallbacks = 0, estimated = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int order = 1 + trial % 6;
    const std::vector<std::string> corpus = random_docs(documents(rng));
    SCOPED_TRACE("trial " + std::to_string(trial) + " order " + std::to_string(order));
    const auto lm = NGramPersona::fit(corpus, order);
    const kn_reference::Model ref(corpus, order);
    expect_discounts_match(lm, ref);
    for (int n = 1; n <= order; ++n) (ref.discount(n).fallback ? fallbacks : estimated) += 1;
    std::vector<std::string> heldout = random_docs(4);
    heldout.push_back("abcz");
    expect_scores_match(lm, ref, heldout);
    std::vector<std::string> contexts = random_docs(3);
    contexts.push_back("");
    expect_distributions_match(lm, ref, contexts);
  }
  // Both branches of the discount estimate were exercised.
  EXPECT_GT(fallbacks, 0);
  EXPECT_GT(estimated, 0);
}

// ---------------------------------------------------------------------------
// 2. Normalisation.

// Contexts: empty, random bytes never seen, and slices of the training text
// with a random byte changed.
std::vector<std::string> random_contexts(std::mt19937& rng, const std::vector<std::string>& corpus) {
  std::vector<std::string> contexts{""};
  std::uniform_int_distribution<int> byte(0, 255), length(1, 24);
  for (int i = 0; i < 20; ++i) {
    std::string s(length(rng), '\0');
    for (char& c : s) c = static_cast<char>(byte(rng));
    contexts.push_back(s);
  }
  std::uniform_int_distribution<std::size_t> pick(0, corpus.size() - 1);
  for (int i = 0; i < 20; ++i) {
    const std::string& doc = corpus[pick(rng)];
    const std::size_t begin = std::uniform_int_distribution<std::size_t>(0, doc.size())(rng);
    std::string s = doc.substr(begin, length(rng));
    if (!s.empty() && i % 2 == 1)
      s[std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng)] = static_cast<char>(byte(rng));
    contexts.push_back(s);
  }
  return contexts;
}

TEST(NGramNormalisationTest, NextLogprobsSumToOne) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  std::mt19937 rng(20240611);
  for (int order : {1, 2, 3, 6, 10}) {
    const auto lm = NGramPersona::fit(shakespeare_corpus(), order);
    for (const std::string& context : random_contexts(rng, shakespeare_corpus())) {
      const Eigen::VectorXd lp = lm.next_logprobs(context);
      ASSERT_EQ(lp.size(), kVocab);
      EXPECT_TRUE(lp.allFinite()) << "order " << order;
      EXPECT_NEAR(lp.array().exp().sum(), 1.0, kSumTol) << "order " << order << " context size " << context.size();
    }
  }
}

TEST(NGramNormalisationTest, StateDistributionsSumToOne) {
  for (int order : {1, 3, 10}) {
    const auto lm = NGramPersona::fit(tiny_corpus(), order);
    auto state = lm.begin();
    Eigen::VectorXd lp(kVocab);
    for (Token t : stream_of(tiny_heldout())) {
      state->next_logprobs(lp);
      EXPECT_NEAR(lp.array().exp().sum(), 1.0, kSumTol) << "order " << order;
      state->advance(t);
    }
  }
}

// The probabilities advance() returns, over every possible next token, sum to
// one too: the scoring walk is a distribution, not only next_logprobs().
TEST(NGramNormalisationTest, AdvanceProbabilitiesSumToOne) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  std::mt19937 rng(7);
  for (int order : {1, 3, 6, 10}) {
    const auto lm = NGramPersona::fit(shakespeare_corpus(), order);
    for (const std::string& context : random_contexts(rng, shakespeare_corpus())) {
      auto state = lm.begin();
      for (unsigned char c : context) state->advance(c);
      double sum = 0.0;
      for (Token w = 0; w < kVocab; ++w) sum += std::exp(state->clone()->advance(w));
      EXPECT_NEAR(sum, 1.0, kSumTol) << "order " << order << " context \"" << context << "\"";
    }
  }
}

// ---------------------------------------------------------------------------
// 3. Incremental state against the fast path.

TEST(NGramStateTest, AdvanceMatchesScoreAndNextLogprobs) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  std::vector<std::string> docs = shakespeare_heldout();
  docs.insert(docs.begin() + 1, "");  // two boundaries in a row
  const std::vector<Token> tokens = stream_of(docs);
  for (int order : {1, 2, 4, 6}) {
    SCOPED_TRACE("order " + std::to_string(order));
    const auto lm = NGramPersona::fit(shakespeare_corpus(), order);
    const std::vector<double> fast = lm.token_logprobs(tokens);
    auto state = lm.begin();
    Eigen::VectorXd lp(kVocab);
    std::size_t differ_score = 0, differ_dist = 0, first_dist = tokens.size();
    double max_dist_diff = 0.0;
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      state->next_logprobs(lp);
      const double got = state->advance(tokens[t]);
      if (got != fast[t]) ++differ_score;
      const double diff = std::abs(got - lp[tokens[t]]);
      max_dist_diff = std::max(max_dist_diff, diff);
      if (diff > kPathTol && differ_dist++ == 0) first_dist = t;
    }
    double& recorded = max_log_diff()["advance vs state next_logprobs"];
    recorded = std::max(recorded, max_dist_diff);
    EXPECT_EQ(differ_score, 0u) << "advance() and token_logprobs() differ at " << differ_score << " of " << tokens.size()
                                << " positions";
    EXPECT_EQ(differ_dist, 0u) << "advance() differs from the state's next_logprobs() by more than " << kPathTol
                               << " at " << differ_dist << " of " << tokens.size() << " positions, first at "
                               << first_dist << "; max difference " << max_dist_diff;
  }
}

TEST(NGramStateTest, CloneContinuesIndependently) {
  const auto lm = NGramPersona::fit(tiny_corpus(), 3);
  const std::vector<Token> tokens = stream_of({"abra", "cad"});
  const std::vector<double> fast = lm.token_logprobs(tokens);
  auto state = lm.begin();
  state->advance(tokens[0]);
  state->advance(tokens[1]);
  auto copy = state->clone();
  copy->advance('z');
  for (std::size_t t = 2; t < tokens.size(); ++t) EXPECT_EQ(state->advance(tokens[t]), fast[t]);
}

// ---------------------------------------------------------------------------
// 4. Degenerate count-of-counts.

TEST(NGramDiscountTest, DegenerateCountsFallBack) {
  for (const char* text : {"aaaa", "ab"}) {
    for (int order : {1, 2, 3, 5}) {
      SCOPED_TRACE(std::string(text) + " order " + std::to_string(order));
      const auto lm = NGramPersona::fit({text}, order);
      const kn_reference::Model ref({text}, order);
      for (int n = 1; n <= order; ++n) {
        EXPECT_TRUE(lm.discounts(n).fallback) << "order " << n;
        EXPECT_EQ(lm.discounts(n).d1, 0.5);
        EXPECT_EQ(lm.discounts(n).d2, 1.0);
        EXPECT_EQ(lm.discounts(n).d3, 1.5);
      }
      for (const std::string& context : {std::string(), std::string("a"), std::string("aaaaaa"), std::string("b")}) {
        const Eigen::VectorXd lp = lm.next_logprobs(context);
        EXPECT_TRUE(lp.allFinite()) << "context " << context;
      }
      const std::vector<Token> tokens = stream_of({text, "ba", "", "xyz"});
      const std::vector<double> scores = lm.token_logprobs(tokens);
      for (double s : scores) EXPECT_TRUE(std::isfinite(s));
      expect_logprobs_near(scores, ref.score(std::vector<int>(tokens.begin(), tokens.end())), "score vs reference");
    }
  }
}

// Unigram counts b:2, c:3, d:3, e:3, <b>:1 give t = (1, 1, 3, 0) and
// D2 = 2 - 3 (1/3) 3/1 = -1 < 0: fallback although no t_k is zero.
TEST(NGramDiscountTest, NegativeDiscountFallsBack) {
  const auto lm = NGramPersona::fit({"bbcccdddeee"}, 1);
  const kn_reference::Model ref({"bbcccdddeee"}, 1);
  ASSERT_TRUE(ref.discount(1).fallback);
  EXPECT_TRUE(lm.discounts(1).fallback);
  EXPECT_EQ(lm.discounts(1).d2, 1.0);
  expect_discounts_match(lm, ref);
}

// ---------------------------------------------------------------------------
// 5. Errors.

TEST(NGramErrorTest, RejectsBadArguments) {
  EXPECT_THROW(NGramPersona::fit(tiny_corpus(), 0), simulacra::InvalidArgument);
  EXPECT_THROW(NGramPersona::fit(tiny_corpus(), -3), simulacra::InvalidArgument);
  EXPECT_THROW(NGramPersona::fit({}, 3), simulacra::InvalidArgument);
}

// One order limit for fitting, training and loading: the largest order fits
// (and so saves a file the loader takes), one more is refused at once, and
// an absurd order is refused before any memory is asked for.
TEST(NGramErrorTest, OrderAboveTheLimitIsRefusedUpFront) {
  const int limit = NGramPersona::kMaxOrder;
  EXPECT_EQ(limit, 1000);
  EXPECT_EQ(NGramPersona::fit({"ab", "abc"}, limit).order(), limit);
  for (int order : {limit + 1, 1000000000, std::numeric_limits<int>::max()}) {
    try {
      NGramPersona::fit(tiny_corpus(), order);
      FAIL() << "order " << order << " was accepted";
    } catch (const simulacra::InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(std::to_string(order)), std::string::npos) << e.what();
    }
  }
}

TEST(NGramErrorTest, RejectsTokensOutsideVocabulary) {
  const auto lm = NGramPersona::fit(tiny_corpus(), 3);
  auto state = lm.begin();
  EXPECT_THROW(state->advance(kVocab), simulacra::OutOfRange);
  EXPECT_THROW(state->advance(-1), simulacra::OutOfRange);
  // The state is unharmed: it still scores from the document start.
  EXPECT_EQ(state->advance('a'), lm.token_logprobs(std::vector<Token>{'a'})[0]);
}

TEST(NGramErrorTest, RejectsBadOrderAndShape) {
  const auto lm = NGramPersona::fit(tiny_corpus(), 3);
  EXPECT_THROW(lm.discounts(0), simulacra::OutOfRange);
  EXPECT_THROW(lm.discounts(4), simulacra::OutOfRange);
  auto state = lm.begin();
  Eigen::VectorXd wrong(kVocab - 1);
  EXPECT_THROW(state->next_logprobs(wrong), simulacra::InvalidArgument);
}

// ---------------------------------------------------------------------------
// 6. The document convention.

// Documents start with 'x'; after a newline comes 'y'. The first token is
// predicted from the start boundary, not from a newline.
TEST(NGramDocumentTest, FirstTokenUsesStartContext) {
  const std::vector<std::string> corpus{"xa\nya", "xb\nyb", "xc\nyc"};
  for (int order : {2, 3}) {
    SCOPED_TRACE("order " + std::to_string(order));
    const auto lm = NGramPersona::fit(corpus, order);
    const kn_reference::Model ref(corpus, order);
    const Eigen::VectorXd at_start = lm.next_logprobs("");
    const Eigen::VectorXd after_newline = lm.next_logprobs("q\n");
    EXPECT_GT(at_start['x'], after_newline['x'] + 1.0);
    EXPECT_GT(after_newline['y'], at_start['y'] + 1.0);
    EXPECT_EQ(lm.token_logprobs(std::vector<Token>{'x'})[0], at_start['x']);
    expect_distributions_match(lm, ref, {"", "q\n", "xa\n", "\n"});
  }
}

TEST(NGramDocumentTest, ScoreDocumentIsSumOfScore) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const auto lm = NGramPersona::fit(shakespeare_corpus(), 4);
  const kn_reference::Model ref(shakespeare_corpus(), 4);
  for (const std::string& text : shakespeare_heldout()) {
    const std::vector<Token> tokens = simulacra::encode_document(text);
    const std::vector<double> scores = lm.token_logprobs(tokens);
    const double sum = std::accumulate(scores.begin(), scores.end(), 0.0);
    EXPECT_NEAR(lm.score_document(text), sum, 1e-9 * std::max(1.0, std::abs(sum)));
    const std::vector<double> want = ref.score(std::vector<int>(tokens.begin(), tokens.end()));
    EXPECT_NEAR(lm.score_document(text), std::accumulate(want.begin(), want.end(), 0.0), kLogTol * tokens.size());
  }
}

// A stream starts at a document start, and a boundary starts a new one: the
// second document of a stream scores as if it were alone.
TEST(NGramDocumentTest, BoundaryResetsContext) {
  const auto lm = NGramPersona::fit(tiny_corpus(), 4);
  const std::vector<double> alone = lm.token_logprobs(simulacra::encode_document("cadabra"));
  const std::vector<double> both = lm.token_logprobs(stream_of({"abracadabra", "cadabra"}));
  ASSERT_EQ(both.size(), 12 + alone.size());
  for (std::size_t t = 0; t < alone.size(); ++t) EXPECT_EQ(both[12 + t], alone[t]) << "position " << t;
}

// ---------------------------------------------------------------------------
// 7. High orders: no compile-time maximum.

TEST(NGramHighOrderTest, OrderTwelveMatchesReference) {
  const auto lm = NGramPersona::fit(tiny_corpus(), 12);
  const kn_reference::Model ref(tiny_corpus(), 12);
  ASSERT_EQ(lm.order(), 12);
  expect_discounts_match(lm, ref);
  expect_scores_match(lm, ref, tiny_heldout());
  expect_distributions_match(lm, ref, {"", "abracadabr", "abracadabracadabra", "zzzzzzzzzzzzzzz"});
}

// Beyond any small fixed buffer the walk might use.
TEST(NGramHighOrderTest, OrderTwentyMatchesReference) {
  const std::vector<std::string> corpus{"abracadabra abracadabra abracadabra", "cadabra", "abba abba abba"};
  const auto lm = NGramPersona::fit(corpus, 20);
  const kn_reference::Model ref(corpus, 20);
  expect_discounts_match(lm, ref);
  expect_scores_match(lm, ref, {corpus[0], "abracadabra abracadabra zz", "abba abba abba abba"});
  auto state = lm.begin();
  const std::vector<Token> tokens = stream_of({corpus[0], "abba abba"});
  const std::vector<double> fast = lm.token_logprobs(tokens);
  for (std::size_t t = 0; t < tokens.size(); ++t) EXPECT_EQ(state->advance(tokens[t]), fast[t]);
}

// Scoring and fitting poll the interrupt check (interrupt.hpp) and stop at
// the first tripped poll; the model is unchanged.
TEST(NGramInterruptTest, ScoreAndFitStopAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  const NGramPersona lm = NGramPersona::fit(tiny_corpus(), 3);
  const std::string text(100000, 'a');
  const double expected = lm.score_document(text);
  const auto tokens = simulacra::encode(text);
  std::vector<double> out(tokens.size());
  {
    TripAfter trip(2);
    EXPECT_THROW(lm.token_logprobs(tokens.data(), tokens.size(), out.data()), simulacra::Interrupted);
    EXPECT_EQ(TripAfter::seen(), 3);
  }
  {
    TripAfter trip(0);
    EXPECT_THROW(lm.score_document(text), simulacra::Interrupted);
    EXPECT_THROW(NGramPersona::fit({text}, 5), simulacra::Interrupted);
  }
  {
    TripAfter trip(3);
    EXPECT_THROW(NGramPersona::fit(std::vector<std::string>(100, text.substr(0, 1000)), 5), simulacra::Interrupted);
  }
  EXPECT_EQ(lm.score_document(text), expected);
}

}  // namespace
