// Calibrated attribution posteriors (calibration.hpp).
#include "simulacra/calibration.hpp"

#include <algorithm>
#include <cmath>

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"

namespace simulacra {

namespace {

void check_set(const Eigen::MatrixXd& loglik, const std::vector<int>& labels, const Eigen::VectorXd& log_prior,
               const char* what) {
  SIMULACRA_CHECK(loglik.rows() > 0, InvalidArgument, "{}: no documents", what);
  SIMULACRA_CHECK(std::size_t(loglik.rows()) == labels.size(), InvalidArgument, "{}: {} rows of log-likelihoods for {} labels",
                  what, loglik.rows(), labels.size());
  SIMULACRA_CHECK(log_prior.size() == loglik.cols(), InvalidArgument, "{}: log_prior has {} entries for {} personas",
                  what, log_prior.size(), loglik.cols());
  for (Eigen::Index i = 0; i < loglik.rows(); ++i) {
    const int y = labels[std::size_t(i)];
    SIMULACRA_CHECK(y >= 0 && y < loglik.cols(), InvalidArgument, "{}: label {} of row {} is outside 0..{}", what, y,
                    i, loglik.cols() - 1);
    for (Eigen::Index k = 0; k < loglik.cols(); ++k)
      SIMULACRA_CHECK(!std::isnan(loglik(i, k)) && loglik(i, k) != INFINITY, InvalidArgument,
                      "{}: log-likelihood ({}, {}) is {}", what, i, k, loglik(i, k));
    SIMULACRA_CHECK(loglik(i, y) > -INFINITY && log_prior[y] > -INFINITY, InvalidArgument,
                    "{}: row {} is impossible under its own persona {}", what, i, y);
  }
}

// d NLL / d beta at beta: -sum_i weight_i (l_{i,y} - E_q[l_i]).
double nll_slope(const Eigen::MatrixXd& loglik, const std::vector<int>& labels, const Eigen::VectorXd& log_prior,
                 const std::vector<double>& weights, double beta) {
  const Eigen::MatrixXd lq = tempered_posteriors(loglik, log_prior, beta);
  double s = 0.0;
  for (Eigen::Index i = 0; i < loglik.rows(); ++i) {
    double mean = 0.0;
    for (Eigen::Index k = 0; k < loglik.cols(); ++k)
      if (lq(i, k) > -INFINITY) mean += std::exp(lq(i, k)) * loglik(i, k);
    s -= (weights.empty() ? 1.0 : weights[std::size_t(i)]) * (loglik(i, labels[std::size_t(i)]) - mean);
  }
  return s;
}

}  // namespace

Eigen::MatrixXd tempered_posteriors(const Eigen::MatrixXd& loglik, const Eigen::VectorXd& log_prior, double beta) {
  Eigen::MatrixXd out(loglik.rows(), loglik.cols());
  Eigen::VectorXd row(loglik.cols());
  for (Eigen::Index i = 0; i < loglik.rows(); ++i) {
    for (Eigen::Index k = 0; k < loglik.cols(); ++k)
      row[k] = loglik(i, k) == -INFINITY || log_prior[k] == -INFINITY ? -INFINITY : log_prior[k] + beta * loglik(i, k);
    row.array() -= log_sum_exp(row.data(), int(row.size()));
    out.row(i) = row.transpose();
  }
  return out;
}

double fit_attribution_beta(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                            const Eigen::VectorXd& log_prior, const std::vector<double>& weights) {
  check_set(loglik, labels, log_prior, "fit_attribution_beta");
  SIMULACRA_CHECK(weights.empty() || weights.size() == labels.size(), InvalidArgument,
                  "fit_attribution_beta: {} weights for {} rows", weights.size(), labels.size());
  for (std::size_t i = 0; i < weights.size(); ++i)
    SIMULACRA_CHECK(std::isfinite(weights[i]) && weights[i] >= 0.0, InvalidArgument,
                    "fit_attribution_beta: weight {} of row {} must be finite and >= 0", weights[i], i);
  // NLL is convex in beta: its slope rises through 0 at the minimiser.
  double lo = std::log(1e-6), hi = std::log(1e6);
  if (nll_slope(loglik, labels, log_prior, weights, std::exp(lo)) >= 0.0) return std::exp(lo);
  if (nll_slope(loglik, labels, log_prior, weights, std::exp(hi)) <= 0.0) return std::exp(hi);
  for (int it = 0; it < 80 && hi - lo > 1e-10; ++it) {
    const double mid = 0.5 * (lo + hi);
    (nll_slope(loglik, labels, log_prior, weights, std::exp(mid)) < 0.0 ? lo : hi) = mid;
  }
  return std::exp(0.5 * (lo + hi));
}

Eigen::MatrixXd length_scaled(const Eigen::MatrixXd& loglik, const std::vector<std::size_t>& bytes, double exponent) {
  SIMULACRA_CHECK(std::size_t(loglik.rows()) == bytes.size(), InvalidArgument,
                  "length_scaled: {} rows of log-likelihoods for {} lengths", loglik.rows(), bytes.size());
  SIMULACRA_CHECK(exponent >= 0.0 && exponent <= 1.0, InvalidArgument,
                  "length_scaled: exponent must be in [0, 1], got {}", exponent);
  Eigen::MatrixXd out = loglik;
  for (Eigen::Index i = 0; i < out.rows(); ++i) {
    const double n = bytes[std::size_t(i)] > 0 ? double(bytes[std::size_t(i)]) : 1.0;
    out.row(i) *= std::pow(n / Mixture::kAttributionReferenceBytes, -exponent);
  }
  return out;
}

AttributionTempering fit_attribution_tempering(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                                               const std::vector<std::size_t>& bytes,
                                               const Eigen::VectorXd& log_prior, const std::vector<double>& weights) {
  check_set(loglik, labels, log_prior, "fit_attribution_tempering");
  // The profile log-loss: the best beta at this exponent, and its loss.
  const auto profile = [&](double exponent) {
    const Eigen::MatrixXd scaled = length_scaled(loglik, bytes, exponent);
    const double beta = fit_attribution_beta(scaled, labels, log_prior, weights);
    const Eigen::MatrixXd lq = tempered_posteriors(scaled, log_prior, beta);
    double loss = 0.0;
    for (Eigen::Index i = 0; i < lq.rows(); ++i)
      loss -= (weights.empty() ? 1.0 : weights[std::size_t(i)]) * lq(i, labels[std::size_t(i)]);
    return std::make_pair(loss, beta);
  };
  double best_e = 0.0, best_loss = INFINITY;
  for (int g = 0; g <= 20; ++g) {
    const double e = 0.05 * g, loss = profile(e).first;
    if (loss < best_loss) best_loss = loss, best_e = e;
  }
  // Golden-section search around the best grid point.
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  double a = std::max(0.0, best_e - 0.05), b = std::min(1.0, best_e + 0.05);
  double c = b - phi * (b - a), d = a + phi * (b - a);
  double fc = profile(c).first, fd = profile(d).first;
  while (b - a > 1e-4) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - phi * (b - a);
      fc = profile(c).first;
    } else {
      a = c, c = d, fc = fd;
      d = a + phi * (b - a);
      fd = profile(d).first;
    }
  }
  const double mid = 0.5 * (a + b);
  const auto refined = profile(mid);
  if (refined.first < best_loss) return {refined.second, mid};
  return {profile(best_e).second, best_e};
}

double attribution_ece(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                       const Eigen::VectorXd& log_prior, double beta, int bins) {
  check_set(loglik, labels, log_prior, "attribution_ece");
  const Eigen::MatrixXd lq = tempered_posteriors(loglik, log_prior, beta);
  std::vector<double> confidence;
  std::vector<bool> correct;
  for (Eigen::Index i = 0; i < lq.rows(); ++i) {
    Eigen::Index best = 0;
    const double top = lq.row(i).maxCoeff(&best);
    confidence.push_back(std::exp(top));
    correct.push_back(best == labels[std::size_t(i)]);
  }
  return expected_calibration_error(confidence, correct, bins);
}

double expected_calibration_error(const std::vector<double>& confidence, const std::vector<bool>& correct, int bins) {
  SIMULACRA_CHECK(!confidence.empty(), InvalidArgument, "expected_calibration_error: no predictions");
  SIMULACRA_CHECK(confidence.size() == correct.size(), InvalidArgument,
                  "expected_calibration_error: {} confidences for {} outcomes", confidence.size(), correct.size());
  SIMULACRA_CHECK(bins >= 1, InvalidArgument, "expected_calibration_error: bins must be >= 1, got {}", bins);
  std::vector<double> conf_sum(std::size_t(bins), 0.0), right(std::size_t(bins), 0.0), count(std::size_t(bins), 0.0);
  for (std::size_t i = 0; i < confidence.size(); ++i) {
    const double c = confidence[i];
    SIMULACRA_CHECK(c >= 0.0 && c <= 1.0, InvalidArgument,
                    "expected_calibration_error: confidence {} of prediction {} is outside [0, 1]", c, i);
    const auto b = std::size_t(std::min(int(c * bins), bins - 1));
    conf_sum[b] += c;
    right[b] += correct[i] ? 1.0 : 0.0;
    count[b] += 1.0;
  }
  double ece = 0.0;
  for (std::size_t b = 0; b < std::size_t(bins); ++b) ece += std::abs(right[b] - conf_sum[b]);
  return ece / double(confidence.size());
}

}  // namespace simulacra
