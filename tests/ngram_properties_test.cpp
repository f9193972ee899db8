// tests/ngram_properties_test.cpp — NGramPersona's properties: every
// distribution sums to one, the incremental state agrees with scoring, the
// discounts fall back on degenerate counts, bad arguments are refused, the
// document convention holds, and long calls stop at a tripped interrupt
// check. Against the reference: ngram_test.cpp.
#include "ngram_testing.hpp"

namespace {

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
