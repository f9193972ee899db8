// Tests of the inspection views (inspect.hpp).
//
// Every result is checked against a brute-force reference written here from
// each persona's own incremental state (next_logprobs, then exp): full sorts
// of whole distributions for the top-k lists, and plain loops over contexts
// and tokens for the Jensen-Shannon divergences and characteristic scores.
// Tolerances are stated at each check.
#include "simulacra/inspect.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/background.hpp"
#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

#include "testing.hpp"

namespace {

using simulacra::testing::read_text;

using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::Persona;
using simulacra::PersonaState;
using simulacra::Steering;
using simulacra::Token;
using simulacra::TokenProb;

using Personas = std::vector<std::shared_ptr<const Persona>>;

// ------------------------------------------------------------------ helpers

std::string persona_text(const std::string& name) {
  return read_text(std::string(SIMULACRA_SOURCE_DIR) + "/data/personas/" + name + ".txt");
}

std::shared_ptr<const Persona> fit(const std::string& text, int order) {
  return std::make_shared<NGramPersona>(NGramPersona::fit({text}, order));
}

Mixture make_mixture(Personas personas) {
  std::vector<std::string> names;
  for (std::size_t k = 0; k < personas.size(); ++k) names.push_back("p" + std::to_string(k));
  const auto K = static_cast<Eigen::Index>(personas.size());
  return Mixture(std::move(personas), std::move(names), Eigen::VectorXd::Ones(K));
}

// Pirate, poet and assistant, order 4.
Mixture three_masks() {
  return Mixture({fit(persona_text("pirate"), 4), fit(persona_text("poet"), 4), fit(persona_text("assistant"), 4)},
                 {"pirate", "poet", "assistant"}, Eigen::VectorXd::Ones(3));
}

// A short text mixing two voices: the contexts of the brute-force checks.
std::string mixed_text() { return persona_text("pirate").substr(0, 700) + persona_text("poet").substr(0, 700); }

// Every token of a distribution, probability descending, ties to the lower id (full sort).
std::vector<TokenProb> sorted(const Eigen::VectorXd& probs) {
  std::vector<TokenProb> all;
  for (int v = 0; v < kVocab; ++v) all.push_back({v, probs[v]});
  std::sort(all.begin(), all.end(), [](const TokenProb& a, const TokenProb& b) {
    if (a.prob != b.prob) return a.prob > b.prob;
    return a.token < b.token;
  });
  return all;
}

void expect_prefix(const std::vector<TokenProb>& got, const std::vector<TokenProb>& all, std::size_t n) {
  ASSERT_EQ(got.size(), n);
  for (std::size_t r = 0; r < n; ++r) {
    EXPECT_EQ(got[r].token, all[r].token) << "rank " << r;
    EXPECT_EQ(got[r].prob, all[r].prob) << "rank " << r;
  }
}

// (T) contexts x (K) personas: p_k(. | c_t) from each persona's own state.
std::vector<std::vector<Eigen::VectorXd>> brute_distributions(const Mixture& mix, const std::string& text) {
  std::vector<std::vector<Eigen::VectorXd>> out(text.size());
  for (int k = 0; k < mix.size(); ++k) {
    auto state = mix.persona(k).begin();
    Eigen::VectorXd lp(kVocab);
    for (std::size_t t = 0; t < text.size(); ++t) {
      state->next_logprobs(lp);
      Eigen::VectorXd p(kVocab);
      for (int v = 0; v < kVocab; ++v) p[v] = std::exp(lp[v]);
      out[t].push_back(p);
      state->advance(static_cast<unsigned char>(text[t]));
    }
  }
  return out;
}

double entropy(const Eigen::VectorXd& p) {
  double h = 0.0;
  for (int v = 0; v < kVocab; ++v)
    if (p[v] > 0.0) h -= p[v] * std::log(p[v]);
  return h;
}

Eigen::MatrixXd brute_divergence(const Mixture& mix, const std::string& text) {
  const int K = mix.size();
  const auto dist = brute_distributions(mix, text);
  Eigen::MatrixXd d = Eigen::MatrixXd::Zero(K, K);
  for (const auto& ctx : dist)
    for (int i = 0; i < K; ++i)
      for (int j = 0; j < K; ++j) {
        const Eigen::VectorXd m = 0.5 * (ctx[std::size_t(i)] + ctx[std::size_t(j)]);
        d(i, j) += entropy(m) - 0.5 * (entropy(ctx[std::size_t(i)]) + entropy(ctx[std::size_t(j)]));
      }
  return d / static_cast<double>(text.size());
}

// (kVocab, K) scores s_k(v) of characteristic_tokens, by loops: the
// log-ratio of expected counts, -inf where E_k(v) < min_count or where
// seen(k, v) is false.
Eigen::MatrixXd brute_characteristic(const Mixture& mix, const std::string& text, double min_count,
                                     const std::vector<std::vector<bool>>& seen) {
  const int K = mix.size();
  const auto dist = brute_distributions(mix, text);
  Eigen::MatrixXd e = Eigen::MatrixXd::Zero(kVocab, K);
  for (const auto& ctx : dist)
    for (int k = 0; k < K; ++k) e.col(k) += ctx[std::size_t(k)];
  Eigen::MatrixXd s(kVocab, K);
  for (int v = 0; v < kVocab; ++v) {
    double mean = 0.0;
    for (int k = 0; k < K; ++k) mean += e(v, k) / K;
    for (int k = 0; k < K; ++k)
      s(v, k) = e(v, k) >= min_count && seen[std::size_t(k)][std::size_t(v)] ? std::log(e(v, k) / mean) : -INFINITY;
  }
  return s;
}

// seen[k][v]: token v occurs in texts[k] (the boundary always does).
std::vector<std::vector<bool>> seen_tokens(const std::vector<std::string>& texts) {
  std::vector<std::vector<bool>> seen;
  for (const std::string& t : texts) {
    std::vector<bool> row(kVocab, false);
    for (unsigned char c : t) row[c] = true;
    row[simulacra::kBoundary] = true;
    seen.push_back(row);
  }
  return seen;
}

// A persona that is not an NGramPersona (so the views take the generic
// PersonaState path) but predicts exactly like the one it wraps.
class WrappedPersona final : public Persona {
 public:
  explicit WrappedPersona(std::shared_ptr<const Persona> inner) : inner_(std::move(inner)) {}
  std::string kind() const override { return "wrapped"; }
  std::unique_ptr<PersonaState> begin() const override { return inner_->begin(); }

 private:
  std::shared_ptr<const Persona> inner_;
};

// ------------------------------------------------------------------ raw view

TEST(RawViewTest, MatchesSortedDistributions) {
  const Mixture mix = three_masks();
  const std::string context = "Arr, the moonlit sea ";
  for (int top_k : {1, 10, kVocab}) {
    const auto view = simulacra::raw_view(mix, context, top_k);

    auto state = mix.begin();
    state.step(simulacra::encode(context));
    ASSERT_EQ(view.weights.size(), 3);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(view.weights[k], std::exp(state.log_weights()[k]), 1e-15);
    EXPECT_NEAR(view.weights.sum(), 1.0, 1e-12);

    ASSERT_EQ(view.personas.size(), 3u);
    for (int k = 0; k < 3; ++k) {
      auto own = mix.persona(k).begin();
      for (char c : context) own->advance(static_cast<unsigned char>(c));
      Eigen::VectorXd lp(kVocab);
      own->next_logprobs(lp);
      expect_prefix(view.personas[std::size_t(k)], sorted(lp.array().exp()), std::size_t(top_k));
    }
    const Eigen::VectorXd mix_probs = state.predict().logprobs.array().exp();
    expect_prefix(view.mixture, sorted(mix_probs), std::size_t(top_k));
  }
}

TEST(RawViewTest, FollowsSteering) {
  const Mixture mix = three_masks();
  Steering steering;
  steering.exclude = {0};
  const auto view = simulacra::raw_view(mix, "Arr, matey", 5, steering);
  EXPECT_EQ(view.weights[0], 0.0);
  EXPECT_NEAR(view.weights.sum(), 1.0, 1e-12);
  auto state = mix.begin(steering);
  state.step(simulacra::encode("Arr, matey"));
  expect_prefix(view.mixture, sorted(state.predict().logprobs.array().exp()), 5);
}

TEST(RawViewTest, ClampsAndRejectsTopK) {
  const Mixture mix = three_masks();
  const auto view = simulacra::raw_view(mix, "", 1000);
  EXPECT_EQ(view.mixture.size(), std::size_t(kVocab));
  for (const auto& list : view.personas) EXPECT_EQ(list.size(), std::size_t(kVocab));
  EXPECT_THROW(simulacra::raw_view(mix, "x", 0), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::raw_view(mix, "x", -3), simulacra::InvalidArgument);
}

TEST(RawViewTest, FormatsOneAlignedTable) {
  const Mixture mix = three_masks();
  const auto view = simulacra::raw_view(mix, "Thou art ", 6);
  const std::string table = simulacra::format_raw_view(view, mix.names());
  std::printf("%s", table.c_str());
  std::vector<std::string> lines;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 8u);  // header, rule, 6 ranks
  for (const char* word : {"rank", "pirate", "poet", "assistant", "mixture"})
    EXPECT_NE(lines[0].find(word), std::string::npos) << word;
  // Column separators sit at the same offsets on every row.
  std::vector<std::size_t> bars;
  for (std::size_t i = 0; i < lines[0].size(); ++i)
    if (lines[0][i] == '|') bars.push_back(i);
  ASSERT_EQ(bars.size(), 4u);
  for (std::size_t r = 2; r < lines.size(); ++r)
    for (std::size_t b : bars) {
      ASSERT_LT(b, lines[r].size()) << lines[r];
      EXPECT_EQ(lines[r][b], '|') << lines[r];
    }
  for (std::size_t b : bars) EXPECT_EQ(lines[1][b], '+');
  EXPECT_NE(lines[2].find(simulacra::token_name(view.mixture[0].token)), std::string::npos);
  EXPECT_THROW(simulacra::format_raw_view(view, {"a", "b"}), simulacra::InvalidArgument);
}

// ------------------------------------------------------------------ divergence

TEST(DivergenceMatrixTest, MatchesBruteForce) {
  const Mixture mix = three_masks();
  const std::string text = mixed_text();
  const Eigen::MatrixXd d = simulacra::divergence_matrix(mix, text);
  const Eigen::MatrixXd ref = brute_divergence(mix, text);
  ASSERT_EQ(d.rows(), 3);
  ASSERT_EQ(d.cols(), 3);
  EXPECT_LT((d - ref).cwiseAbs().maxCoeff(), 1e-10) << "max difference " << (d - ref).cwiseAbs().maxCoeff();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(d(i, i), 0.0);
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(d(i, j), d(j, i));
      EXPECT_GE(d(i, j), 0.0);
      EXPECT_LE(d(i, j), std::log(2.0));
    }
  }
}

TEST(DivergenceMatrixTest, MatchesBruteForceWithMixedOrders) {
  const Mixture mix = make_mixture(
      {fit(persona_text("pirate"), 2), fit(persona_text("poet"), 5), fit(persona_text("doctor"), 3)});
  const std::string text = mixed_text();
  const Eigen::MatrixXd d = simulacra::divergence_matrix(mix, text);
  EXPECT_LT((d - brute_divergence(mix, text)).cwiseAbs().maxCoeff(), 1e-10);
}

TEST(DivergenceMatrixTest, GenericPathMatchesNGramPath) {
  const auto pirate = fit(persona_text("pirate"), 3);
  const auto poet = fit(persona_text("poet"), 3);
  const Mixture fast = make_mixture({pirate, poet});
  const Mixture generic = make_mixture({std::make_shared<WrappedPersona>(pirate), std::make_shared<WrappedPersona>(poet)});
  const std::string text = mixed_text();
  EXPECT_LT((simulacra::divergence_matrix(fast, text) - simulacra::divergence_matrix(generic, text)).cwiseAbs().maxCoeff(),
            1e-12);
  // Every byte of the text is one both personas saw: the support is the same on both paths.
  const auto a = simulacra::characteristic_tokens(fast, text, 5);
  const auto b = simulacra::characteristic_tokens(generic, text, 5);
  for (std::size_t k = 0; k < 2; ++k) {
    ASSERT_EQ(a[k].size(), b[k].size());
    for (std::size_t r = 0; r < a[k].size(); ++r) EXPECT_NEAR(a[k][r].score, b[k][r].score, 1e-12);
  }
}

TEST(DivergenceMatrixTest, IdenticalPersonasHaveZeroDivergence) {
  const std::string pirate = persona_text("pirate");
  const Mixture mix = make_mixture({fit(pirate, 4), fit(pirate, 4)});
  const Eigen::MatrixXd d = simulacra::divergence_matrix(mix, mixed_text());
  EXPECT_LT(d.cwiseAbs().maxCoeff(), 1e-12);
}

TEST(DivergenceMatrixTest, DifferentPersonasDiverge) {
  const Mixture mix = make_mixture({fit(persona_text("pirate"), 4), fit(persona_text("poet"), 4)});
  const Eigen::MatrixXd d = simulacra::divergence_matrix(mix, mixed_text());
  std::printf("JS(pirate, poet) = %.4f nats (ln 2 = %.4f)\n", d(0, 1), std::log(2.0));
  EXPECT_GT(d(0, 1), 0.05);
}

TEST(DivergenceMatrixTest, RejectsEmptyText) {
  EXPECT_THROW(simulacra::divergence_matrix(three_masks(), ""), simulacra::InvalidArgument);
}

// Timing: K = 8 order-6 personas, each fitted on its own slice of Tiny
// Shakespeare, over the contexts of a further ~100 KB; the reference is
// Mixture::trace of the same text in the same run.
TEST(DivergenceMatrixTest, TimingOnShakespeare) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const std::string corpus = read_text(simulacra::testing::shared_data("tinyshakespeare.txt"));
  const std::size_t slice = 110000;
  ASSERT_GE(corpus.size(), 9 * slice);
  Personas personas;
  for (int k = 0; k < 8; ++k) personas.push_back(fit(corpus.substr(std::size_t(k) * slice, slice), 6));
  const Mixture mix = make_mixture(personas);
  const std::string text = corpus.substr(8 * slice, 100000);

  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  const Eigen::MatrixXd d = simulacra::divergence_matrix(mix, text);
  const double js_s = std::chrono::duration<double>(Clock::now() - t0).count();
  t0 = Clock::now();
  const auto trace = mix.trace(simulacra::encode(text));
  const double trace_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("divergence_matrix: %zu bytes, K = 8, order 6: %.3f s (Mixture::trace: %.3f s, ratio %.1fx)\n",
              text.size(), js_s, trace_s, js_s / trace_s);
  std::printf("mean off-diagonal JS: %.4f nats\n", d.sum() / (8.0 * 7.0));
  EXPECT_EQ(trace.size(), text.size());
}

// ------------------------------------------------------------------ characteristic

// The expected list from brute-force scores: tokens with support and a
// positive score, highest first, ties to the lower id, at most n.
std::vector<std::pair<int, double>> expected_list(const Eigen::MatrixXd& ref, int k, int n) {
  std::vector<std::pair<int, double>> all;
  for (int v = 0; v < kVocab; ++v)
    if (ref(v, k) > 0.0) all.push_back({v, ref(v, k)});
  std::stable_sort(all.begin(), all.end(), [](const auto& x, const auto& y) { return x.second > y.second; });
  if (all.size() > std::size_t(n)) all.resize(std::size_t(n));
  return all;
}

TEST(CharacteristicTokensTest, MatchesBruteForce) {
  const Mixture mix = three_masks();
  const auto seen = seen_tokens({persona_text("pirate"), persona_text("poet"), persona_text("assistant")});
  const std::string text = mixed_text();
  for (const auto& [n, min_count] : {std::pair<int, double>{8, 5.0}, {40, 0.0}, {kVocab, 1.0}}) {
    const auto got = simulacra::characteristic_tokens(mix, text, n, min_count);
    const Eigen::MatrixXd ref = brute_characteristic(mix, text, min_count, seen);
    ASSERT_EQ(got.size(), 3u);
    for (int k = 0; k < 3; ++k) {
      const auto want = expected_list(ref, k, n);
      ASSERT_FALSE(want.empty());
      ASSERT_EQ(got[std::size_t(k)].size(), want.size()) << "persona " << k << " n " << n;
      for (std::size_t r = 0; r < want.size(); ++r) {
        const auto& entry = got[std::size_t(k)][r];
        EXPECT_NEAR(entry.score, ref(entry.token, k), 1e-10) << "persona " << k << " rank " << r;
        EXPECT_NEAR(entry.score, want[r].second, 1e-10) << "persona " << k << " rank " << r;
      }
      if (n == 8) {
        std::printf("%-9s:", mix.names()[std::size_t(k)].c_str());
        for (const auto& e : got[std::size_t(k)]) std::printf(" %s(%.2f)", simulacra::token_name(e.token).c_str(), e.score);
        std::printf("\n");
      }
    }
  }
}

// The regression: a sparse persona (a few hundred bytes of lower-case text)
// beside rich ones leaks more uniform mass to every byte than they do, so
// the plain average log-ratio put bytes it never saw at the top of its list.
// No byte a persona never saw may be listed, even without the count floor.
TEST(CharacteristicTokensTest, NeverListsAByteThePersonaNeverSaw) {
  const std::string sparse = "the sea is wide and the sky is grey and the ship is slow";
  const std::vector<std::string> texts = {sparse, persona_text("pirate"), persona_text("poet")};
  const Mixture mix = make_mixture({fit(sparse, 3), fit(texts[1], 3), fit(texts[2], 3)});
  const auto seen = seen_tokens(texts);
  const std::string text = mixed_text();
  // The premise: without support, bytes the sparse persona never saw have positive scores.
  const Eigen::MatrixXd loose =
      brute_characteristic(mix, text, 0.0, std::vector<std::vector<bool>>(3, std::vector<bool>(kVocab, true)));
  int unseen_positive = 0;
  for (int v = 0; v < kVocab; ++v) unseen_positive += !seen[0][std::size_t(v)] && loose(v, 0) > 0.0;
  ASSERT_GT(unseen_positive, 100);
  for (const double min_count : {0.0, 5.0}) {
    const auto lists = simulacra::characteristic_tokens(mix, text, kVocab, min_count);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_FALSE(lists[k].empty()) << "persona " << k;
      for (const auto& e : lists[k])
        EXPECT_TRUE(seen[k][std::size_t(e.token)])
            << "persona " << k << " lists " << simulacra::token_name(e.token) << ", never seen (min_count " << min_count << ")";
    }
  }
}

// The same with every mask interpolated with a background of all the text
// (Mixture.fit's default pile): the support is read from each mask's own
// model, so the background's bytes do not count as seen.
TEST(CharacteristicTokensTest, InterpolatedMasksListOnlyBytesTheirOwnModelSaw) {
  const std::string sparse = "the sea is wide and the sky is grey and the ship is slow";
  const std::vector<std::string> texts = {sparse, persona_text("pirate"), persona_text("poet")};
  const auto background = std::make_shared<NGramPersona>(NGramPersona::fit(texts, 3));
  Personas masks;
  for (const std::string& t : texts)
    masks.push_back(std::make_shared<simulacra::InterpolatedPersona>(fit(t, 3), background, 0.3));
  const Mixture mix = make_mixture(masks);
  const auto seen = seen_tokens(texts);
  const auto lists = simulacra::characteristic_tokens(mix, mixed_text(), kVocab, 0.0);
  for (std::size_t k = 0; k < 3; ++k) {
    EXPECT_FALSE(lists[k].empty()) << "persona " << k;
    for (const auto& e : lists[k])
      EXPECT_TRUE(seen[k][std::size_t(e.token)])
          << "persona " << k << " lists " << simulacra::token_name(e.token) << ", never seen by its own model";
  }
}

// A persona of another kind has no training counts: the expected-count
// floor alone decides, on the same scores as the n-gram path.
TEST(CharacteristicTokensTest, GenericPersonasUseTheCountFloorAlone) {
  const auto pirate = fit(persona_text("pirate"), 3);
  const auto poet = fit(persona_text("poet"), 3);
  const Mixture generic = make_mixture({std::make_shared<WrappedPersona>(pirate), std::make_shared<WrappedPersona>(poet)});
  const std::string text = mixed_text();
  const auto every = std::vector<std::vector<bool>>(2, std::vector<bool>(kVocab, true));
  const Eigen::MatrixXd ref = brute_characteristic(generic, text, 2.0, every);
  const auto got = simulacra::characteristic_tokens(generic, text, 12, 2.0);
  for (int k = 0; k < 2; ++k) {
    const auto want = expected_list(ref, k, 12);
    ASSERT_EQ(got[std::size_t(k)].size(), want.size());
    for (std::size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(got[std::size_t(k)][r].token, want[r].first) << "persona " << k << " rank " << r;
      EXPECT_NEAR(got[std::size_t(k)][r].score, want[r].second, 1e-10);
    }
  }
}

TEST(CharacteristicTokensTest, RejectsBadArguments) {
  const Mixture mix = three_masks();
  EXPECT_THROW(simulacra::characteristic_tokens(mix, "abc", 0), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::characteristic_tokens(mix, "", 3), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::characteristic_tokens(mix, "abc", 3, -1.0), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::characteristic_tokens(mix, "abc", 3, std::nan("")), simulacra::InvalidArgument);
  // n above kVocab is clamped; three bytes give no token 5 expected occurrences.
  for (const auto& list : simulacra::characteristic_tokens(mix, "abc", 5000)) EXPECT_TRUE(list.empty());
  for (const auto& list : simulacra::characteristic_tokens(mix, "abc", 5000, 0.0)) EXPECT_LE(list.size(), std::size_t(kVocab));
}

// The context loops poll the interrupt check (interrupt.hpp), on the n-gram
// path and on the generic one.
TEST(DivergenceMatrixTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  const Mixture mix = three_masks();
  std::string text;
  while (text.size() < 100000) text += mixed_text();
  const Eigen::MatrixXd ref = simulacra::divergence_matrix(mix, text);
  for (int n : {0, 5}) {
    TripAfter trip(n);
    EXPECT_THROW(simulacra::divergence_matrix(mix, text), simulacra::Interrupted);
    EXPECT_THROW(simulacra::characteristic_tokens(mix, text), simulacra::Interrupted);
  }
  EXPECT_EQ(simulacra::divergence_matrix(mix, text), ref);
}

}  // namespace
