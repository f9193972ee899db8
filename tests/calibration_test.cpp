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

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram.hpp"

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
    for (int i = 0; i <= 20000; ++i) {
      const double b = std::exp(std::log(1e-3) + i * (std::log(1e2) - std::log(1e-3)) / 20000.0);
      const double loss = log_loss(l, y, lp, b);
      if (loss < best_loss) best_loss = loss, best = b;
    }
    EXPECT_NEAR(std::log(beta), std::log(best), 1e-3) << "seed " << seed;
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
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THROW(mix.set_attribution_beta(bad), InvalidArgument);
    EXPECT_THROW(mix.attribute(text, bad), InvalidArgument);
  }
}

}  // namespace
