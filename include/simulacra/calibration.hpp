// simulacra/calibration.hpp — calibrated attribution posteriors.
//
// Mixture::attribute() reads a document as if one persona wrote all of it:
//
//   log q_k(beta) = log pi_k + beta log p_k(doc) - log Z(beta)
//
// With beta = 1 this is the exact Bayesian posterior of the model, which is
// overconfident on real text: the personas treat the bytes of a document as
// far more independent evidence than they are. The attribution beta is fitted
// on held-out documents whose persona is known by minimising the log-loss of
// the true persona,
//
//   NLL(beta)  = -sum_i log q_{y_i}(beta)
//   NLL'(beta) = -sum_i (l_{i,y_i} - E_{q_i}[l_i])        (l_{i,k} = log p_k(doc_i))
//   NLL''(beta) = sum_i Var_{q_i}[l_i] >= 0               (convex)
//
// so the minimiser is the root of NLL' (bisection on log beta). Because the
// overconfidence grows with the length n of a document, beta can decay with
// it, beta(n) = beta (n / 300)^(-exponent), both fitted together
// (fit_attribution_tempering; Mixture::attribute(text) applies them). The expected
// calibration error of a set of posteriors (10 equal-width bins of the top
// probability, as Guo et al. 2017) is
//
//   ECE = sum_b (n_b / N) |accuracy_b - mean confidence_b|
//
// docs/concepts.md ("Calibrated attribution") gives the protocol train() uses.
//
//   // loglik (N, K): log p_k(doc_i); labels (N): the true persona of each
//   double beta = simulacra::fit_attribution_beta(loglik, labels, log_prior);
//   double ece = simulacra::attribution_ece(loglik, labels, log_prior, beta);
#pragma once

#include <cstddef>
#include <vector>

#include <Eigen/Core>

namespace simulacra {

// (N, K) natural-log posteriors log q_k(beta) of each row of `loglik` (N, K):
// log_prior (K) + beta * loglik, normalised per row. A persona whose
// log-likelihood is -inf gets -inf.
Eigen::MatrixXd tempered_posteriors(const Eigen::MatrixXd& loglik, const Eigen::VectorXd& log_prior, double beta);

// The beta in [1e-6, 1e6] minimising the log-loss of labels[i] (a column of
// loglik) under tempered_posteriors, row i weighted by weights[i] (empty: all
// 1; train() gives each segment length the same total weight). InvalidArgument
// for an empty set, sizes that disagree, a label outside 0..K-1, a NaN or +inf
// log-likelihood, a true persona with log-likelihood -inf (its log-loss is
// infinite at every beta), or a weight that is not finite and >= 0.
double fit_attribution_beta(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                            const Eigen::VectorXd& log_prior, const std::vector<double>& weights = {});

// The attribution tempering of Mixture (beta at the reference length and
// its exponent): row i, a document of bytes[i] bytes, is tempered by
//   beta_i = beta (max(bytes_i, 1) / Mixture::kAttributionReferenceBytes)^(-exponent).
struct AttributionTempering {
  double beta = 1.0;      // in [1e-6, 1e6]
  double exponent = 0.0;  // in [0, 1]
};

// The tempering minimising the weighted log-loss of the labels: for each
// exponent, the best beta is fit_attribution_beta of the rows scaled by
// (bytes_i / reference)^(-exponent) (the same posteriors); the exponent is
// the best of a grid of step 0.05 over [0, 1], refined by golden-section
// search to 1e-4. Checked as fit_attribution_beta, and InvalidArgument if
// bytes has not one entry per row.
AttributionTempering fit_attribution_tempering(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                                               const std::vector<std::size_t>& bytes,
                                               const Eigen::VectorXd& log_prior,
                                               const std::vector<double>& weights = {});

// loglik with row i multiplied by (bytes_i / reference)^(-exponent): the
// log-likelihoods whose posteriors at beta are the tempered ones at (beta,
// exponent). InvalidArgument if bytes has not one entry per row or the
// exponent is outside [0, 1].
Eigen::MatrixXd length_scaled(const Eigen::MatrixXd& loglik, const std::vector<std::size_t>& bytes, double exponent);

// Expected calibration error (bins equal-width bins of the top posterior
// probability over [0, 1], a probability of exactly 1 in the last bin) of
// tempered_posteriors(loglik, log_prior, beta) against labels: each row is
// right when its argmax is its label. Checked as fit_attribution_beta;
// InvalidArgument for bins < 1.
double attribution_ece(const Eigen::MatrixXd& loglik, const std::vector<int>& labels,
                       const Eigen::VectorXd& log_prior, double beta, int bins = 10);

// The ECE of given confidences (each in [0, 1]) and right/wrong outcomes, as
// above. InvalidArgument for sizes that disagree, an empty set, bins < 1 or
// a confidence outside [0, 1].
double expected_calibration_error(const std::vector<double>& confidence, const std::vector<bool>& correct,
                                  int bins = 10);

}  // namespace simulacra
