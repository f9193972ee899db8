// tests/ngram_test.cpp — NGramPersona against a brute-force Kneser-Ney reference.
//
// The reference (kn_reference.hpp) evaluates the interpolated modified
// Kneser-Ney recursion of the specification in ngram.hpp directly from
// std::map n-gram counts. Log-probabilities (natural log) must agree within
// kLogTol; discounts within kDiscountTol. The largest difference seen is
// printed at the end of the run.
#include "ngram_testing.hpp"

namespace {

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
}  // namespace
