// Tests of calibrated attribution (calibration.hpp, Mixture::attribute with a beta).
//
// References computed here: the fitted beta against a grid search of the
// log-loss written in the test; weights against duplicated rows; the ECE of
// a hand-worked example and of tempered posteriors recomputed in the test;
// Mixture::attribute against log pi + beta sum_t log p_k normalised here.
#include "simulacra/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/background.hpp"
#include "simulacra/error.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/ngram_train.hpp"

namespace {

using simulacra::InvalidArgument;

// -sum_i w_i log softmax(log_prior + beta l_i)[y_i], written directly.
double log_loss(const Eigen::MatrixXd& l, const std::vector<int>& y, const Eigen::VectorXd& lp, double beta) {
  double s = 0.0;
  for (Eigen::Index i = 0; i < l.rows(); ++i) {
    double m = -std::numeric_limits<double>::infinity(), z = 0.0;
    for (Eigen::Index k = 0; k < l.cols(); ++k) m = std::max(m, lp[k] + beta * l(i, k));
    for (Eigen::Index k = 0; k < l.cols(); ++k) z += std::exp(lp[k] + beta * l(i, k) - m);
    s -= lp[y[std::size_t(i)]] + beta * l(i, y[std::size_t(i)]) - m - std::log(z);
  }
  return s;
}

// Log-likelihoods of N documents under K personas, the true one a little better on average.
void example(int N, int K, unsigned seed, Eigen::MatrixXd* l, std::vector<int>* y) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0.0, 3.0);
  *l = Eigen::MatrixXd(N, K);
  y->clear();
  for (int i = 0; i < N; ++i) {
    y->push_back(i % K);
    for (int k = 0; k < K; ++k) (*l)(i, k) = -100.0 + g(rng) + (k == i % K ? 1.5 : 0.0);
  }
}

TEST(CalibrationTest, BetaMinimisesTheLogLossOfAGridSearch) {
  for (unsigned seed : {1u, 2u, 3u}) {
    Eigen::MatrixXd l;
    std::vector<int> y;
    example(60, 3, seed, &l, &y);
    const Eigen::VectorXd lp = Eigen::Vector3d(0.2, 0.3, 0.5).array().log();
    const double beta = simulacra::fit_attribution_beta(l, y, lp);
    double best = 0.0, best_loss = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 4000; ++i) {
      const double b = std::exp(std::log(1e-3) + i * (std::log(1e2) - std::log(1e-3)) / 4000.0);
      const double loss = log_loss(l, y, lp, b);
      if (loss < best_loss) best_loss = loss, best = b;
    }
    EXPECT_NEAR(std::log(beta), std::log(best), 3e-3) << "seed " << seed;
    EXPECT_LE(log_loss(l, y, lp, beta), best_loss + 1e-9);
  }
}

TEST(CalibrationTest, WeightsCountAsRepeatedRows) {
  Eigen::MatrixXd l;
  std::vector<int> y;
  example(20, 2, 9, &l, &y);
  const Eigen::VectorXd lp = Eigen::Vector2d(0.5, 0.5).array().log();
  std::vector<double> w(20, 1.0);
  w[3] = 3.0;
  Eigen::MatrixXd twice(22, 2);
  twice << l, l.row(3), l.row(3);
  std::vector<int> y2 = y;
  y2.push_back(y[3]);
  y2.push_back(y[3]);
  EXPECT_NEAR(simulacra::fit_attribution_beta(l, y, lp, w), simulacra::fit_attribution_beta(twice, y2, lp), 1e-8);
}

TEST(CalibrationTest, TemperingMinimisesTheLogLossOverBetaAndExponent) {
  // Rows of three lengths whose evidence grows slower than the length.
  Eigen::MatrixXd l;
  std::vector<int> y;
  example(90, 3, 11, &l, &y);
  std::vector<std::size_t> bytes;
  for (Eigen::Index i = 0; i < l.rows(); ++i) {
    const std::size_t n = i % 3 == 0 ? 100 : i % 3 == 1 ? 1000 : 10000;
    bytes.push_back(n);
    l.row(i) = (l.row(i).array() + 100.0) * (double(n) / 100.0);  // the same evidence, 10x and 100x louder
  }
  const Eigen::VectorXd lp = Eigen::Vector3d(1.0 / 3, 1.0 / 3, 1.0 / 3).array().log();
  const simulacra::AttributionTempering fit = simulacra::fit_attribution_tempering(l, y, bytes, lp);
  // Brute force over (exponent, log beta), the tempered posterior recomputed here.
  const auto loss_at = [&](double beta, double e) {
    Eigen::MatrixXd scaled = l;
    for (Eigen::Index i = 0; i < l.rows(); ++i) scaled.row(i) *= std::pow(double(bytes[std::size_t(i)]) / 300.0, -e);
    return log_loss(scaled, y, lp, beta);
  };
  double best = std::numeric_limits<double>::infinity();
  for (int i = 0; i <= 50; ++i)
    for (int j = 0; j <= 200; ++j) best = std::min(best, loss_at(std::exp(-6.0 + j * 0.05), i / 50.0));
  EXPECT_LE(loss_at(fit.beta, fit.exponent), best + 1e-6);
  EXPECT_NEAR(fit.exponent, 1.0, 0.05);  // the loudness was exactly proportional to the length
  // At exponent e the scaled rows at beta give the same posteriors as the tempering.
  const Eigen::MatrixXd scaled = simulacra::length_scaled(l, bytes, 0.5);
  EXPECT_NEAR(scaled(1, 0), l(1, 0) * std::pow(1000.0 / 300.0, -0.5), 1e-9);
  EXPECT_THROW(simulacra::length_scaled(l, bytes, 1.5), InvalidArgument);
  EXPECT_THROW(simulacra::fit_attribution_tempering(l, y, {1, 2}, lp), InvalidArgument);
}

TEST(CalibrationTest, EceOfAHandWorkedExample) {
  // bins: 0.9 and 1.0 -> bin 9 (conf 1.9, right 2); 0.8, 0.85 -> bin 8 (1.65, 1); 0.3 -> bin 3 (0.3, 0).
  const double ece = simulacra::expected_calibration_error({0.9, 0.8, 0.85, 0.3, 1.0}, {true, false, true, false, true});
  EXPECT_NEAR(ece, (0.1 + 0.65 + 0.3) / 5.0, 1e-15);
  EXPECT_NEAR(simulacra::expected_calibration_error({0.5, 0.5}, {true, false}, 1), 0.0, 1e-15);
}

TEST(CalibrationTest, AttributionEceIsTheEceOfTheTemperedPosteriors) {
  Eigen::MatrixXd l;
  std::vector<int> y;
  example(50, 4, 5, &l, &y);
  const Eigen::VectorXd lp = Eigen::Vector4d(0.1, 0.2, 0.3, 0.4).array().log();
  for (double beta : {0.2, 1.0, 3.0}) {
    std::vector<double> conf;
    std::vector<bool> right;
    for (Eigen::Index i = 0; i < l.rows(); ++i) {
      Eigen::VectorXd q(4);
      for (int k = 0; k < 4; ++k) q[k] = std::exp(lp[k] + beta * (l(i, k) + 100.0));
      q /= q.sum();
      Eigen::Index best = 0;
      conf.push_back(q.maxCoeff(&best));
      right.push_back(best == y[std::size_t(i)]);
    }
    // The same ECE, bins from 10 equal-width intervals summed here.
    double ece = 0.0;
    for (int b = 0; b < 10; ++b) {
      double c = 0.0, r = 0.0;
      for (std::size_t i = 0; i < conf.size(); ++i)
        if (std::min(int(conf[i] * 10), 9) == b) c += conf[i], r += right[i];
      ece += std::abs(c - r);
    }
    EXPECT_NEAR(simulacra::attribution_ece(l, y, lp, beta), ece / double(conf.size()), 1e-12) << beta;
  }
}

TEST(CalibrationTest, BadInputIsInvalid) {
  Eigen::MatrixXd l(2, 2);
  l << -1.0, -2.0, -3.0, -1.0;
  const Eigen::VectorXd lp = Eigen::Vector2d(0.5, 0.5).array().log();
  EXPECT_THROW(simulacra::fit_attribution_beta(Eigen::MatrixXd(0, 2), {}, lp), InvalidArgument);
  EXPECT_THROW(simulacra::fit_attribution_beta(l, {0}, lp), InvalidArgument);
  EXPECT_THROW(simulacra::fit_attribution_beta(l, {0, 2}, lp), InvalidArgument);
  EXPECT_THROW(simulacra::fit_attribution_beta(l, {0, 1}, Eigen::VectorXd::Zero(3)), InvalidArgument);
  EXPECT_THROW(simulacra::fit_attribution_beta(l, {0, 1}, lp, {1.0, -1.0}), InvalidArgument);
  Eigen::MatrixXd bad = l;
  bad(0, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(simulacra::fit_attribution_beta(bad, {0, 1}, lp), InvalidArgument);
  bad(0, 1) = -std::numeric_limits<double>::infinity();
  EXPECT_THROW(simulacra::fit_attribution_beta(bad, {1, 1}, lp), InvalidArgument);  // the true persona cannot
  EXPECT_THROW(simulacra::attribution_ece(l, {0, 1}, lp, 1.0, 0), InvalidArgument);
  EXPECT_THROW(simulacra::expected_calibration_error({1.5}, {true}), InvalidArgument);
  EXPECT_THROW(simulacra::expected_calibration_error({}, {}), InvalidArgument);
}

TEST(CalibrationTest, MixtureAttributeIsTheTemperedPosterior) {
  std::vector<std::shared_ptr<const simulacra::Persona>> personas = {
      std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit({"arr matey", "ahoy"}, 2)),
      std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit({"o gentle moon"}, 2))};
  simulacra::Mixture mix(personas, {"pirate", "poet"}, Eigen::Vector2d(0.3, 0.7));
  EXPECT_EQ(mix.attribution_beta(), 1.0);
  const std::string text = "arr moon";
  const auto tokens = simulacra::encode_document(text);
  for (double beta : {0.25, 1.0, 2.0}) {
    Eigen::VectorXd ref(2);
    for (int k = 0; k < 2; ++k) {
      double l = 0.0;
      for (double v : personas[std::size_t(k)]->token_logprobs(tokens)) l += v;
      ref[k] = std::log(mix.prior()[k]) + beta * l;
    }
    const double z = std::log(std::exp(ref[0]) + std::exp(ref[1]));
    const Eigen::VectorXd got = mix.attribute(text, beta);
    for (int k = 0; k < 2; ++k) EXPECT_NEAR(got[k], ref[k] - z, 1e-12) << beta;
  }
  mix.set_attribution_beta(0.25);
  EXPECT_EQ(mix.attribute(text), mix.attribute(text, 0.25));
  // With an exponent the beta depends on the document's length: 8 bytes here.
  mix.set_attribution_beta(0.25, 0.5);
  EXPECT_NEAR(mix.attribution_beta_at(text.size()), 0.25 * std::pow(8.0 / 300.0, -0.5), 1e-15);
  EXPECT_EQ(mix.attribution_beta_at(300), 0.25);
  EXPECT_EQ(mix.attribute(text), mix.attribute(text, mix.attribution_beta_at(text.size())));
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THROW(mix.set_attribution_beta(bad), InvalidArgument);
    EXPECT_THROW(mix.attribute(text, bad), InvalidArgument);
    EXPECT_THROW(mix.set_attribution_beta(1.0, bad - 1.0), InvalidArgument);
  }
  EXPECT_THROW(mix.set_attribution_beta(1.0, 1.5), InvalidArgument);
}

TEST(CalibrationTest, TrainKeepsTheAttributionEvidenceWithTheLowestLogLoss) {
  simulacra::TrainConfig cfg;
  cfg.order = simulacra::TrainConfig::kAutoOrder;  // "auto" over one order: the counts go up to order 4
  cfg.order_grid = {3};
  cfg.calibration_lengths = {100, 300};
  cfg.attribution_orders = {2, 3, 4};  // 3 is the masks' order: tried once
  simulacra::TrainReport rep;
  const simulacra::Corpus corpus = simulacra::Corpus::builtin();
  const simulacra::Mixture mix = simulacra::train(corpus, cfg, &rep);
  EXPECT_EQ(rep.order, 3);
  EXPECT_EQ(rep.attribution_candidates,
            (std::vector<double>{-1.0, 0.25, 0.5, 0.75, 1.0, 0.25, 0.5, 0.75, 1.0, 0.25, 0.5, 0.75, 1.0}));
  EXPECT_EQ(rep.attribution_candidate_orders, (std::vector<int>{3, 3, 3, 3, 3, 2, 2, 2, 2, 4, 4, 4, 4}));
  const std::size_t C = rep.attribution_candidates.size();
  ASSERT_EQ(rep.attribution_candidate_logloss.size(), C);
  std::size_t best = 0;
  for (std::size_t c = 0; c < C; ++c) {
    EXPECT_TRUE(std::isfinite(rep.attribution_candidate_logloss[c]) && rep.attribution_candidate_logloss[c] >= 0.0);
    if (rep.attribution_candidate_logloss[c] < rep.attribution_candidate_logloss[best]) best = c;
  }
  EXPECT_EQ(rep.attribution_own_weight, rep.attribution_candidates[best]);
  EXPECT_EQ(rep.attribution_order, rep.attribution_candidate_orders[best]);
  EXPECT_EQ(mix.attribution_own_weight(), rep.attribution_own_weight);
  EXPECT_EQ(mix.attribution_personas().empty(), rep.attribution_own_weight < 0.0);
  // Each candidate's log-loss is that of a separate training at the candidate's order with no other order:
  // the same folds, the same fold models (counts truncated are the fits), the same segments.
  for (int order : {2, 3, 4}) {
    simulacra::TrainConfig one = cfg;
    one.order = order;
    one.attribution_orders = {};
    simulacra::TrainReport alone;
    simulacra::train(corpus, one, &alone);
    EXPECT_EQ(alone.attribution_candidate_orders, std::vector<int>(5, order));
    for (std::size_t c = 0; c < C; ++c) {
      if (rep.attribution_candidate_orders[c] != order || rep.attribution_candidates[c] < 0.0) continue;
      const std::size_t at = std::size_t(std::find(alone.attribution_candidates.begin(), alone.attribution_candidates.end(),
                                                   rep.attribution_candidates[c]) -
                                         alone.attribution_candidates.begin());
      ASSERT_LT(at, alone.attribution_candidates.size());
      EXPECT_NEAR(rep.attribution_candidate_logloss[c], alone.attribution_candidate_logloss[at], 1e-9)
          << order << " " << rep.attribution_candidates[c];
    }
  }
  // A fixed order bounds the counts: the orders above it are not tried.
  {
    simulacra::TrainConfig fixed = cfg;
    fixed.order = 3;
    fixed.attribution_own_weights = {0.5};
    simulacra::TrainReport bounded;
    simulacra::train(corpus, fixed, &bounded);
    EXPECT_EQ(bounded.attribution_candidates, (std::vector<double>{-1.0, 0.5, 0.5}));
    EXPECT_EQ(bounded.attribution_candidate_orders, (std::vector<int>{3, 3, 2}));
  }
  // Without the background there is nothing to reweigh: the stand-alone models at each order.
  cfg.background = false;
  const simulacra::Mixture plain = simulacra::train(corpus, cfg, &rep);
  EXPECT_EQ(rep.attribution_candidates, (std::vector<double>{-1.0, -1.0, -1.0}));
  EXPECT_EQ(rep.attribution_candidate_orders, (std::vector<int>{3, 2, 4}));
  EXPECT_EQ(plain.attribution_personas().empty(), rep.attribution_order == 3);
  cfg.background = true;
  for (double bad : {-0.5, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    cfg.attribution_own_weights = {0.5, bad};
    EXPECT_THROW(simulacra::train(corpus, cfg), InvalidArgument) << bad;
  }
  cfg.attribution_own_weights = {0.5};
  for (int bad : {0, -2, simulacra::NGramPersona::kMaxOrder + 1}) {
    cfg.attribution_orders = {3, bad};
    EXPECT_THROW(simulacra::train(corpus, cfg), InvalidArgument) << bad;
  }
}

// The evidence at another order than the masks' is, after training, each persona's Kneser-Ney model of all
// its documents at that order interpolated at the chosen share with the model of all the documents at that
// order (refitted here with NGramPersona::fit), and the model file keeps it.
TEST(CalibrationTest, EvidenceAtAnotherOrderIsTheWholeCorpusFitAtThatOrder) {
  simulacra::TrainConfig cfg;
  cfg.order = 5;
  cfg.calibration_lengths = {100, 300};
  cfg.attribution_orders = {2};
  cfg.attribution_own_weights = {0.5};
  cfg.fit_segmentation = false;
  const simulacra::Corpus corpus = simulacra::Corpus::builtin();
  // Force the other order: its only candidate besides the masks' order is order 2 at share 0.5; with
  // the masks' candidates removed the choice is order 2 whenever it wins, so check what was chosen.
  simulacra::TrainReport rep;
  const simulacra::Mixture mix = simulacra::train(corpus, cfg, &rep);
  ASSERT_EQ(rep.attribution_candidate_orders, (std::vector<int>{5, 5, 2}));
  simulacra::Mixture pile = mix;
  std::vector<std::string> all;
  for (const auto& d : corpus.documents()) all.push_back(d.text);
  const auto bg = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(all, 2));
  std::vector<std::shared_ptr<const simulacra::Persona>> want;
  for (const std::string& name : mix.names())
    want.push_back(std::make_shared<simulacra::InterpolatedPersona>(
        std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(corpus.texts_of(name), 2)), bg, 0.5));
  if (rep.attribution_order == 2) {
    ASSERT_EQ(mix.attribution_personas().size(), want.size());
    const std::string text = "the sea, the moon and the ledger";
    const auto tokens = simulacra::encode_document(text);
    for (std::size_t k = 0; k < want.size(); ++k) {
      const std::vector<double> got = mix.attribution_personas()[k]->token_logprobs(tokens), ref = want[k]->token_logprobs(tokens);
      for (std::size_t t = 0; t < got.size(); ++t) EXPECT_NEAR(got[t], ref[t], 1e-12);
    }
  } else {
    pile.set_attribution_personas(want, 0.5);  // the same models by hand, for the file round trip
  }
  const std::string text = "arr, the ledger";
  const simulacra::Mixture back = simulacra::load_from_bytes(simulacra::save_to_bytes(pile), "evidence");
  EXPECT_EQ(back.attribution_own_weight(), pile.attribution_own_weight());
  EXPECT_EQ(back.attribute(text), pile.attribute(text));
  EXPECT_EQ(back.attribute(text, 1.0), pile.attribute(text, 1.0));
}

}  // namespace
