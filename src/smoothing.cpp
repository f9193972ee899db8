// Smoothed posteriors over masks by forward-backward (smoothing.hpp).
#include "simulacra/smoothing.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {
namespace detail {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The persona HMM of a config: which rule acts, its log constants.
struct Hmm {
  const MixtureConfig& config;
  const Eigen::VectorXd& log_prior;  // (K)
  std::vector<bool> may_switch;      // (kVocab)
  bool fixed_share;                  // the rule is fixed share (any alpha)
  bool acts;                         // the rule can move weights at all
  double keep = kNegInf, share = kNegInf;  // log(1 - alpha), log(alpha)
  Eigen::MatrixXd log_a;             // (K, K) log A (transition)

  Hmm(const MixtureConfig& c, const Eigen::VectorXd& lp0)
      : config(c), log_prior(lp0), may_switch(switch_points(c)), fixed_share(c.switching == Switching::kFixedShare) {
    acts = (fixed_share && c.alpha > 0.0) || c.switching == Switching::kTransition;
    if (fixed_share) {
      keep = std::log1p(-c.alpha);
      share = std::log(c.alpha);
    }
    if (c.switching == Switching::kTransition) log_a = c.transition.array().log();
  }

  // (K) log emission of token t into e: beta lp(t, .), -inf for a persona of
  // prior 0, and 0 (no evidence) for every other persona when skipped.
  void emission(const Eigen::MatrixXd& lp, Eigen::Index t, bool skipped, Eigen::VectorXd& e) const {
    for (Eigen::Index k = 0; k < e.size(); ++k)
      e[k] = log_prior[k] == kNegInf ? kNegInf : skipped ? 0.0 : config.beta * lp(t, k);
  }

  // One step of the chain applied to normalised log weights (K): w <- A^T w.
  void transit(const Eigen::VectorXd& w, Eigen::VectorXd& out, Eigen::VectorXd& scratch) const {
    const Eigen::Index K = w.size();
    if (fixed_share) {
      for (Eigen::Index k = 0; k < K; ++k) out[k] = log_add(keep + w[k], share + log_prior[k]);
      return;
    }
    for (Eigen::Index j = 0; j < K; ++j) {
      for (Eigen::Index i = 0; i < K; ++i) scratch[i] = w[i] + log_a(i, j);
      out[j] = log_prior[j] == kNegInf ? kNegInf : log_sum_exp(scratch.data(), int(K));
    }
    out.array() -= log_sum_exp(out.data(), int(K));  // conditioned on never entering a prior-0 persona
  }
};

// Softmax of a log vector x (K) into row t of out (T, K).
void normalise_row(const Eigen::VectorXd& x, Eigen::MatrixXd& out, Eigen::Index t) {
  const double m = x.maxCoeff();
  double sum = 0.0;
  for (Eigen::Index k = 0; k < x.size(); ++k) sum += out(t, k) = std::exp(x[k] - m);
  out.row(t) /= sum;
}

// The forward pass: fills filtered (T, K) log weights after each token's
// Bayes update (when not null), skipped and point (T); returns log p(x).
double forward(const Hmm& hmm, const std::vector<Token>& tokens, const Eigen::MatrixXd& lp, Eigen::MatrixXd* filtered,
               std::vector<char>& skipped, std::vector<char>& point) {
  const Eigen::Index T = lp.rows(), K = lp.cols();
  const bool transition = hmm.config.switching == Switching::kTransition;
  skipped.assign(std::size_t(T), 0);
  point.assign(std::size_t(T), 0);
  Eigen::VectorXd pred = hmm.log_prior, post(K), e(K), scratch(K);
  double total = 0.0;
  InterruptPoller poll(transition ? 1024 : 4096);
  for (Eigen::Index t = 0; t < T; ++t) {
    poll.tick();
    hmm.emission(lp, t, false, e);
    post = pred + e;
    const double c = log_sum_exp(post.data(), int(K));
    if (c == kNegInf) {  // no persona that may speak can produce this token: no evidence, no switch
      skipped[std::size_t(t)] = 1;
      post = pred;
      total = kNegInf;
    } else {
      post.array() -= c;
      total += c;
    }
    if (filtered) filtered->row(t) = post.transpose();
    point[std::size_t(t)] = !skipped[std::size_t(t)] && hmm.may_switch[std::size_t(tokens[std::size_t(t)])];
    if (point[std::size_t(t)] && hmm.acts)
      hmm.transit(post, pred, scratch);
    else
      pred = post;
  }
  return total;
}

}  // namespace

double forward_log_likelihood(const MixtureConfig& config, const Eigen::VectorXd& log_prior,
                              const std::vector<Token>& tokens, const Eigen::MatrixXd& lp) {
  const Hmm hmm(config, log_prior);
  std::vector<char> skipped, point;
  return forward(hmm, tokens, lp, nullptr, skipped, point);
}

double forward_backward(const MixtureConfig& config, const Eigen::VectorXd& log_prior, const std::vector<Token>& tokens,
                        const Eigen::MatrixXd& lp, Eigen::MatrixXd* weights, SwitchCounts* counts) {
  const Eigen::Index T = lp.rows(), K = lp.cols();
  const Hmm hmm(config, log_prior);
  const bool transition = config.switching == Switching::kTransition;
  if (counts) {
    *counts = SwitchCounts();
    if (transition) counts->transitions = Eigen::MatrixXd::Zero(K, K);
  }
  Eigen::MatrixXd filtered(T, K);  // (T, K) log p(z_t | x_1..t)
  std::vector<char> skipped, point;
  const double total = forward(hmm, tokens, lp, &filtered, skipped, point);
  if (T == 0) {
    if (weights) weights->resize(0, K);
    return total;
  }
  Eigen::MatrixXd out;
  if (weights) out.resize(T, K);
  // lb (K): log p(x_{t+1..T} | z_t) up to a constant per t; u (K): emission of t+1 plus lb of t+1.
  Eigen::VectorXd lb = Eigen::VectorXd::Zero(K), next(K), u(K), e(K), row(K);
  if (weights) normalise_row(filtered.row(T - 1).transpose(), out, T - 1);
  InterruptPoller poll(transition ? 1024 : 4096);
  for (Eigen::Index t = T - 2; t >= 0; --t) {
    poll.tick();
    hmm.emission(lp, t + 1, skipped[std::size_t(t + 1)], e);
    u = e + lb;
    const bool at_point = point[std::size_t(t)];
    double s = kNegInf;  // fixed share: log sum_j pi_j exp(u_j)
    if (!at_point || !hmm.acts) {
      next = u;
    } else if (hmm.fixed_share) {
      row = log_prior + u;
      s = log_sum_exp(row.data(), int(K));
      for (Eigen::Index i = 0; i < K; ++i) next[i] = log_add(hmm.keep + u[i], hmm.share + s);
    } else {
      for (Eigen::Index i = 0; i < K; ++i) {
        for (Eigen::Index j = 0; j < K; ++j) row[j] = hmm.log_a(i, j) + u[j];
        next[i] = log_sum_exp(row.data(), int(K));
      }
    }
    if (counts && at_point) {
      counts->switch_steps += 1;
      row = filtered.row(t).transpose() + next;
      const double z = log_sum_exp(row.data(), int(K));  // log p(x_{t+1..T} | x_1..t), same scale as next
      if (hmm.fixed_share && hmm.acts) {
        counts->resets += std::exp(hmm.share + s - z);
      } else if (transition) {
        for (Eigen::Index i = 0; i < K; ++i)
          for (Eigen::Index j = 0; j < K; ++j)
            counts->transitions(i, j) += std::exp(filtered(t, i) + hmm.log_a(i, j) + u[j] - z);
      }
    }
    const double m = next.maxCoeff();
    lb = m == kNegInf ? next : Eigen::VectorXd(next.array() - m);
    if (weights) {
      row = filtered.row(t).transpose() + lb;
      normalise_row(row, out, t);
    }
  }
  if (weights) *weights = std::move(out);
  return total;
}

}  // namespace detail

Smoothed smooth(const Mixture& mixture, const std::vector<Token>& tokens) {
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange, "smooth: token {} at position {} is outside 0..{}",
                    tokens[t], t, kVocab - 1);
  SIMULACRA_CHECK(mixture.segmentation_config().switching != Switching::kForgetting, InvalidArgument,
                  "smooth: switching 'forgetting' has no hidden Markov model over personas, so no smoothed "
                  "posterior (use none, fixed_share or transition)");
  return smooth(mixture, tokens, mixture.persona_logprobs(tokens));
}

Smoothed smooth(const Mixture& mixture, const std::vector<Token>& tokens, const Eigen::MatrixXd& persona_logprobs) {
  const MixtureConfig cfg = mixture.segmentation_config();
  SIMULACRA_CHECK(cfg.switching != Switching::kForgetting, InvalidArgument,
                  "smooth: switching 'forgetting' has no hidden Markov model over personas, so no smoothed "
                  "posterior (use none, fixed_share or transition)");
  SIMULACRA_CHECK(persona_logprobs.rows() == Eigen::Index(tokens.size()) && persona_logprobs.cols() == mixture.size(),
                  InvalidArgument, "smooth: persona_logprobs is {}x{}, expected {}x{} (tokens x personas)",
                  persona_logprobs.rows(), persona_logprobs.cols(), tokens.size(), mixture.size());
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange, "smooth: token {} at position {} is outside 0..{}",
                    tokens[t], t, kVocab - 1);
  Smoothed out;
  const Eigen::VectorXd log_prior = mixture.prior().array().log();
  out.log_likelihood =
      detail::forward_backward(cfg, log_prior, tokens, persona_logprobs, &out.weights, nullptr);
  out.dominant.resize(tokens.size());
  for (Eigen::Index t = 0; t < out.weights.rows(); ++t) {
    int best = 0;
    for (int k = 1; k < mixture.size(); ++k)
      if (out.weights(t, k) > out.weights(t, best)) best = k;
    out.dominant[std::size_t(t)] = best;
  }
  return out;
}

}  // namespace simulacra
