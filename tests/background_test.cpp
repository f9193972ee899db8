// Tests of the interpolated persona and its weight (background.hpp).
//
// References computed here: the interpolation weight against a brute-force
// grid over [0, 1] and against an EM loop written in the test; the
// interpolated next-token distribution against log(lambda p_own + (1 - lambda)
// p_bg) of the two models' own distributions, and its sum over kVocab; the
// fast path against the incremental state; a saved and loaded pile against
// the original, score for score.
#include "simulacra/background.hpp"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/ngram_compact.hpp"

namespace {

using simulacra::fit_interpolation_weight;
using simulacra::InterpolatedPersona;
using simulacra::InvalidArgument;
using simulacra::NGramPersona;
using simulacra::Persona;

constexpr double kInf = std::numeric_limits<double>::infinity();

// L(lambda) = sum_t log(lambda e^a_t + (1 - lambda) e^b_t), written directly.
double heldout_loglik(const std::vector<double>& a, const std::vector<double>& b, double lam) {
  double s = 0.0;
  for (std::size_t t = 0; t < a.size(); ++t) s += std::log(lam * std::exp(a[t]) + (1.0 - lam) * std::exp(b[t]));
  return s;
}

std::shared_ptr<const Persona> model(const std::vector<std::string>& texts, int order) {
  return std::make_shared<NGramPersona>(NGramPersona::fit(texts, order));
}

TEST(BackgroundTest, WeightMatchesBruteForceAndAnIndependentEM) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(-6.0, -0.1);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> a(40), b(40);
    for (std::size_t t = 0; t < a.size(); ++t) {
      a[t] = u(rng);
      b[t] = u(rng) + 0.3 * trial - 0.6;  // from own-favoured to background-favoured
      b[t] = std::min(b[t], 0.0);
    }
    const double lam = fit_interpolation_weight(a, b);
    // Brute force: the best of 20001 grid points.
    double best = 0.0, best_l = -kInf;
    for (int i = 0; i <= 20000; ++i) {
      const double x = i / 20000.0, l = heldout_loglik(a, b, x);
      if (l > best_l) best_l = l, best = x;
    }
    EXPECT_NEAR(lam, best, 1e-4) << "trial " << trial;
    EXPECT_GE(heldout_loglik(a, b, lam), best_l - 1e-9);
    // EM (SRILM compute-best-mix) from 0.5, run to its fixed point.
    double em = 0.5;
    for (int it = 0; it < 5000; ++it) {
      double s = 0.0;
      for (std::size_t t = 0; t < a.size(); ++t)
        s += em * std::exp(a[t]) / (em * std::exp(a[t]) + (1.0 - em) * std::exp(b[t]));
      em = s / double(a.size());
    }
    EXPECT_NEAR(lam, em, 1e-6) << "trial " << trial;
  }
}

TEST(BackgroundTest, WeightEndpointsAndEmptyText) {
  EXPECT_EQ(fit_interpolation_weight({-1.0, -2.0}, {-3.0, -4.0}), 1.0);  // own better everywhere
  EXPECT_EQ(fit_interpolation_weight({-3.0, -4.0}, {-1.0, -2.0}), 0.0);
  EXPECT_EQ(fit_interpolation_weight({}, {}), 0.5);
  // A token only the background can produce keeps lambda below 1; one only own can, above 0.
  const double lam = fit_interpolation_weight({-1.0, -kInf, -1.0}, {-5.0, -2.0, -5.0});
  EXPECT_GT(lam, 0.0);
  EXPECT_LT(lam, 1.0);
  EXPECT_NEAR(lam, 2.0 / 3.0, 0.05);
}

TEST(BackgroundTest, BadWeightInputIsInvalid) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(fit_interpolation_weight({-1.0}, {-1.0, -2.0}), InvalidArgument);
  EXPECT_THROW(fit_interpolation_weight({nan}, {-1.0}), InvalidArgument);
  EXPECT_THROW(fit_interpolation_weight({-1.0}, {kInf}), InvalidArgument);
  EXPECT_THROW(fit_interpolation_weight({-1.0, -kInf}, {-1.0, -kInf}), InvalidArgument);
  const auto own = model({"abc"}, 2), bg = model({"abd"}, 2);
  for (double w : {-0.1, 1.1, nan, kInf})
    EXPECT_THROW(InterpolatedPersona(own, bg, w), InvalidArgument) << w;
  EXPECT_THROW(InterpolatedPersona(nullptr, bg, 0.5), InvalidArgument);
  EXPECT_THROW(InterpolatedPersona(own, nullptr, 0.5), InvalidArgument);
}

TEST(BackgroundTest, DistributionIsTheWeightedSumAndNormalised) {
  const auto own = model({"arr matey arr", "ahoy matey"}, 3);
  const auto bg = model({"arr matey arr", "ahoy matey", "o gentle moon", "thy silver light"}, 2);
  for (double lam : {0.0, 0.3, 1.0}) {
    const InterpolatedPersona p(own, bg, lam);
    auto state = p.begin();
    auto so = own->begin(), sb = bg->begin();
    Eigen::VectorXd out(simulacra::kVocab), po(simulacra::kVocab), pb(simulacra::kVocab);
    for (char c : std::string("arr moon")) {
      state->next_logprobs(out);
      so->next_logprobs(po);
      sb->next_logprobs(pb);
      double sum = 0.0;
      for (Eigen::Index v = 0; v < simulacra::kVocab; ++v) {
        sum += std::exp(out[v]);
        EXPECT_NEAR(std::exp(out[v]), lam * std::exp(po[v]) + (1.0 - lam) * std::exp(pb[v]), 1e-15);
      }
      EXPECT_NEAR(sum, 1.0, 1e-12) << "lambda " << lam;
      // next_probs mixes the two sides' probabilities directly: exp(next_logprobs) to rounding.
      Eigen::VectorXd probs(simulacra::kVocab);
      state->next_probs(probs);
      for (Eigen::Index v = 0; v < simulacra::kVocab; ++v)
        EXPECT_NEAR(probs[v], std::exp(out[v]), 1e-14 * std::exp(out[v])) << "lambda " << lam << " token " << v;
      const auto tok = simulacra::Token(static_cast<unsigned char>(c));
      EXPECT_NEAR(state->advance(tok), out[tok], 1e-12);
      so->advance(tok);
      sb->advance(tok);
    }
    // The endpoints are the two models exactly.
    const auto doc = simulacra::encode_document("arr");
    if (lam == 1.0) {
      EXPECT_EQ(p.token_logprobs(doc), own->token_logprobs(doc));
    } else if (lam == 0.0) {
      EXPECT_EQ(p.token_logprobs(doc), bg->token_logprobs(doc));
    }
  }
}

TEST(BackgroundTest, FastPathEqualsTheIncrementalState) {
  const auto own = model({"arr matey arr", "ahoy matey"}, 4);
  const auto bg = model({"arr matey arr", "ahoy matey", "o gentle moon"}, 3);
  const InterpolatedPersona p(own, bg, 0.42);
  std::vector<simulacra::Token> tokens = simulacra::encode_document("arr, gentle matey\xff");
  const auto more = simulacra::encode_document("moon");
  tokens.insert(tokens.end(), more.begin(), more.end());  // a second document after the boundary
  const std::vector<double> fast = p.token_logprobs(tokens);
  auto state = p.begin();
  auto copy = state->clone();
  for (std::size_t t = 0; t < tokens.size(); ++t) EXPECT_EQ(fast[t], state->advance(tokens[t])) << t;
  EXPECT_EQ(copy->advance(tokens[0]), fast[0]);
  EXPECT_EQ(p.kind(), "interpolated");
}

TEST(BackgroundTest, SavedPileLoadsWithItsBackgroundAndBeta) {
  const auto bg = model({"arr matey arr", "ahoy matey", "o gentle moon", "thy silver light"}, 3);
  std::vector<std::shared_ptr<const Persona>> personas = {
      std::make_shared<InterpolatedPersona>(model({"arr matey arr", "ahoy matey"}, 3), bg, 0.7),
      std::make_shared<InterpolatedPersona>(model({"o gentle moon", "thy silver light"}, 2), bg, 0.25)};
  simulacra::MixtureConfig cfg;
  cfg.switching = simulacra::Switching::kFixedShare;
  cfg.alpha = 0.01;
  simulacra::Mixture mix(personas, {"pirate", "poet"}, Eigen::Vector2d(0.4, 0.6), cfg);
  mix.set_attribution_beta(0.37, 0.2);
  const std::string bytes = simulacra::save_to_bytes(mix);
  const simulacra::Mixture back = simulacra::load_from_bytes(bytes, "test pile");
  EXPECT_EQ(back.attribution_beta(), 0.37);
  EXPECT_EQ(back.attribution_exponent(), 0.2);
  for (int k = 0; k < 2; ++k) {
    const auto* p = dynamic_cast<const InterpolatedPersona*>(&back.persona(k));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p->weight(), k == 0 ? 0.7 : 0.25);
  }
  // One background in the file, shared again after loading.
  EXPECT_EQ(dynamic_cast<const InterpolatedPersona&>(back.persona(0)).background(),
            dynamic_cast<const InterpolatedPersona&>(back.persona(1)).background());
  for (const std::string text : {"arr gentle moon", "", "thy matey\n"}) {
    EXPECT_EQ(back.score(text), mix.score(text)) << text;
    EXPECT_EQ(back.attribute(text), mix.attribute(text)) << text;
  }
  EXPECT_EQ(simulacra::save_to_bytes(back), bytes);
}

TEST(BackgroundTest, AttributionEvidenceIsTheMasksReweighted) {
  const auto bg = model({"arr matey arr", "ahoy matey", "o gentle moon", "thy silver light"}, 3);
  const auto own0 = model({"arr matey arr", "ahoy matey"}, 3), own1 = model({"o gentle moon", "thy silver light"}, 3);
  simulacra::Mixture mix({std::make_shared<InterpolatedPersona>(own0, bg, 0.7),
                          std::make_shared<InterpolatedPersona>(own1, bg, 0.25)},
                         {"pirate", "poet"}, Eigen::Vector2d(0.4, 0.6));
  const std::string text = "arr, thy moon";
  const auto tokens = simulacra::encode_document(text);
  const Eigen::VectorXd masks = mix.attribute(text, 0.5);
  for (double w : {0.0, 0.3, 1.0}) {
    mix.set_attribution_personas(simulacra::attribution_reweighted(mix, w), w);
    EXPECT_EQ(mix.attribution_own_weight(), w);
    // log pi_k + beta sum_t log(w e^own + (1 - w) e^bg), normalised, written out here.
    Eigen::VectorXd ref(2);
    const std::vector<double> b = bg->token_logprobs(tokens);
    for (int k = 0; k < 2; ++k) {
      const std::vector<double> a = (k == 0 ? own0 : own1)->token_logprobs(tokens);
      double l = 0.0;
      for (std::size_t t = 0; t < a.size(); ++t) l += std::log(w * std::exp(a[t]) + (1.0 - w) * std::exp(b[t]));
      ref[k] = std::log(mix.prior()[k]) + 0.5 * l;
    }
    ref.array() -= std::log(ref.array().exp().sum());
    const Eigen::VectorXd got = mix.attribute(text, 0.5);
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(got[k], ref[k], 1e-10) << w;
    // The masks themselves are untouched: scoring reads them.
    EXPECT_EQ(dynamic_cast<const InterpolatedPersona&>(mix.persona(0)).weight(), 0.7);
    // Saved as the share and rebuilt from the masks on loading.
    const simulacra::Mixture back = simulacra::load_from_bytes(simulacra::save_to_bytes(mix), "reweighted");
    EXPECT_EQ(back.attribution_own_weight(), w);
    EXPECT_EQ(back.attribute(text, 0.5), got);
  }
  mix.set_attribution_personas({});
  EXPECT_EQ(mix.attribution_own_weight(), -1.0);
  EXPECT_EQ(mix.attribute(text, 0.5), masks);
  // Bad requests: a wrong count, a null model, a share outside [0, 1].
  EXPECT_THROW(mix.set_attribution_personas({own0}), InvalidArgument);
  EXPECT_THROW(mix.set_attribution_personas({own0, nullptr}), InvalidArgument);
  EXPECT_THROW(mix.set_attribution_personas({own0, own1}, 1.5), InvalidArgument);
  EXPECT_THROW(simulacra::attribution_reweighted(mix, -0.1), InvalidArgument);
  EXPECT_THROW(simulacra::attribution_reweighted(mix, std::nan("")), InvalidArgument);
  // Models that are not the masks reweighted (attribute()'s evidence at another order, train()'s
  // attribution_orders) are saved as models of their own and read back bit for bit: plain n-gram models,
  // or n-gram models interpolated with a background of another order than the masks'.
  const auto bg2 = model({"arr matey arr", "ahoy matey", "o gentle moon", "thy silver light"}, 2);
  const auto own20 = model({"arr matey arr", "ahoy matey"}, 2), own21 = model({"o gentle moon", "thy silver light"}, 2);
  const std::vector<std::vector<std::shared_ptr<const simulacra::Persona>>> others = {
      {own20, own21},
      {std::make_shared<InterpolatedPersona>(own20, bg2, 0.75), std::make_shared<InterpolatedPersona>(own21, bg2, 0.75)}};
  for (std::size_t i = 0; i < others.size(); ++i) {
    mix.set_attribution_personas(others[i], i == 0 ? -1.0 : 0.75);
    const Eigen::VectorXd want = mix.attribute(text, 0.5);
    EXPECT_NE(want, masks);
    const simulacra::Mixture back = simulacra::load_from_bytes(simulacra::save_to_bytes(mix), "other order");
    EXPECT_EQ(back.attribution_own_weight(), i == 0 ? -1.0 : 0.75);
    ASSERT_EQ(back.attribution_personas().size(), 2u);
    EXPECT_EQ(back.attribute(text, 0.5), want);
    EXPECT_EQ(simulacra::save_to_bytes(back), simulacra::save_to_bytes(mix));
  }
  // A kind the file cannot hold as attribute()'s evidence.
  mix.set_attribution_personas({std::make_shared<simulacra::CompactNGramPersona>(simulacra::CompactNGramPersona::compact(static_cast<const simulacra::NGramPersona&>(*own20))), own21});
  EXPECT_THROW(simulacra::save_to_bytes(mix), InvalidArgument);
  // A file whose share is outside [0, 1] is damaged.
  mix.set_attribution_personas(simulacra::attribution_reweighted(mix, 0.5), 0.5);
  std::string bytes = simulacra::save_to_bytes(mix);
  const std::string key = "\\\"attribution_own_weight\\\":0.5";
  const std::size_t at = bytes.find(key);
  ASSERT_NE(at, std::string::npos) << bytes.substr(0, 400);
  bytes.replace(at + key.size() - 3, 3, "2.5");
  EXPECT_THROW(simulacra::load_from_bytes(bytes, "damaged"), simulacra::FileError);
}

TEST(BackgroundTest, PlainPileStillWritesVersionOneWithBetaOne) {
  simulacra::Mixture mix({model({"abc"}, 2)}, {"only"}, Eigen::VectorXd::Ones(1));
  const simulacra::Mixture back = simulacra::load_from_bytes(simulacra::save_to_bytes(mix), "plain");
  EXPECT_EQ(back.attribution_beta(), 1.0);
  EXPECT_EQ(back.attribution_exponent(), 0.0);
  EXPECT_NE(simulacra::save_to_bytes(mix).find("\"format_version\":\"1\""), std::string::npos);
}

}  // namespace
