// simulacra/mixture.hpp — the pile of masks: a posterior-weighted mixture.
//
// Personas k = 1..K with prior pi_k. Before token t the weight of persona k is
// its (tempered) posterior given the text so far, and the model's prediction
// is the mixture (all natural-log, combined with log-sum-exp):
//
//   log w_k(t)      = log pi_k + beta * sum_{s<t} log p_k(x_s | x_<s) - log Z_t
//   p(x_t | x_<t)   = sum_k w_k(t) p_k(x_t | x_<t)
//
// With beta = 1 and no switching the product of the predictions over a text
// is the Bayesian marginal sum_k pi_k prod_t p_k(x_t | x_<t) exactly.
// Switching lets masks be swapped mid-text (applied after each Bayes update):
//
//   kNone        the pure (tempered) posterior;
//   kFixedShare  w <- (1 - alpha) w + alpha pi          (Herbster & Warmuth);
//   kForgetting  L_k <- gamma L_k + log p_k(x_t),  w ∝ pi exp(beta L)
//                                                       (SRILM's AdaptiveMix);
//   kTransition  w <- A^T w, A row-stochastic (K x K), an HMM over personas.
//
// With switch points (MixtureConfig::switch_after) fixed share and the
// transition act only after those tokens; after any other token the weights
// take the Bayes update alone.
//
// Steering changes what the mixture says without retraining: a prior bias
// (pi_k <- pi_k exp(bias_k), renormalised: a fine-tune enlarging some masks),
// clamping to one persona, excluding personas (their weight is zeroed and
// the rest renormalised when predicting; the filter underneath keeps going),
// ablation (personas removed from, or reweighted in, the prior the filter
// starts from), and product steering, expert minus anti-expert as DExperts
// does:
//
//   log p~(v) = log p(v) + lambda (log p_a(v) - log p_b(v)) - log Z,
//   Z = sum_v p(v) (p_a(v) / p_b(v))^lambda   (over all kVocab tokens).
//
// Product steering needs every persona's full next-token distribution at
// every position (for Z), so a steered trace costs K whole distributions per
// token; they are mixed and tilted in probability space (next_probs,
// detail::steered_from_probs; docs/concepts.md for figures).
//
// Everything runs in log space: a million-token text does not underflow.
//
//   simulacra::Mixture mix(personas, {"pirate", "poet"}, prior, config);
//   auto state = mix.begin();
//   for (auto tok : simulacra::encode("Arr!")) state.step(tok);
//   Eigen::VectorXd w = state.log_weights().array().exp();
//   simulacra::Trace tr = mix.trace(simulacra::encode("Arr, ye poets!"));
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/config.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/persona.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

enum class Switching { kNone, kFixedShare, kForgetting, kTransition };

// "none", "fixed_share", "forgetting", "transition".
std::string switching_name(Switching s);
// The inverse of switching_name; InvalidArgument for an unknown name.
Switching switching_from_name(const std::string& name);

// How the weights move as text accumulates.
struct MixtureConfig {
  // The largest beta accepted. A persona's log-probability of a token it can
  // produce is >= log(4.9e-324) > -745 (its probabilities are doubles), so a
  // log weight moves by at most 745 beta per token, and over any text of at
  // most 2^53 tokens by at most 745 * 2^53 * beta ~ 6.7e18 beta. Keeping that
  // below DBL_MAX (1.8e308) keeps every log weight, forgetting accumulator
  // and normaliser finite: beta <= 1e289 gives finite results for every text.
  static constexpr double kMaxBeta = 1e289;

  double beta = 1.0;                 // likelihood tempering in (0, kMaxBeta]: sharpens (> 1) or flattens (< 1) the posterior
  Switching switching = Switching::kNone;  // switching rule applied after each Bayes update
  double alpha = 0.0;                // fixed-share rate in [0, 1] (kFixedShare)
  double gamma = 1.0;                // forgetting factor in [0, 1] (kForgetting)
  Eigen::MatrixXd transition;        // K x K row-stochastic A, A(i, j) = P(j after i) (kTransition)
  // Switch points: the tokens after which the switching rule may act (kFixedShare,
  // kTransition; ignored by kNone and kForgetting). Empty: after every token.
  // Otherwise a switch may follow these tokens and the document boundary
  // (kBoundary, always a switch point, so documents joined into a stream may
  // change mask at their boundaries) and no other token: after any other token
  // the weights only take the Bayes update. Each in 0..kVocab-1; set_config
  // sorts them and drops repeats. {'\n'}: masks change only at line ends.
  std::vector<Token> switch_after;
};

// (kVocab) may_switch[v]: whether the switching rule acts after token v under
// `config` (all true for an empty switch_after). Assumes a checked config.
std::vector<bool> switch_points(const MixtureConfig& config);

// How a reader steers the pile (generation and scoring).
// Expert-minus-anti-expert product steering (off unless lambda != 0).
struct ProductSteering {
  int expert = -1;                   // persona a, whose taste is added
  int anti_expert = -1;              // persona b, whose taste is subtracted
  double lambda = 0.0;               // strength (finite; negative swaps the roles)
  bool active() const { return lambda != 0.0; }
};

// Ablation: personas taken out of the pile (prior 0: they never speak, under
// every switching rule; with a transition matrix the chain is conditioned on
// never entering them) and others reweighted (prior times a factor), the
// prior renormalised. A steering of the reader: the mixture itself is never
// changed, so an ablation ends with its reader and no other reader (another
// thread, a later call) ever sees it.
//
//   simulacra::Steering without_pirate;
//   without_pirate.ablation.remove = {mix.index_of("pirate")};
//   double lp = mix.score("Arr, matey", without_pirate);   // as if the pirate mask were gone
struct Ablation {
  std::vector<int> remove;           // persona indices taken out (prior 0)
  Eigen::VectorXd reweight;          // empty, or K finite factors >= 0 multiplying the prior
  bool active() const { return !remove.empty() || reweight.size() > 0; }
};

// Both ablations at once: the union of the removals, the product of the
// factors (an empty reweight is all ones). Nested scopes compose this way.
Ablation combine(const Ablation& outer, const Ablation& inner);

struct Steering {
  int clamp = -1;                    // persona index to clamp to (weight 1), or -1 for none
  std::vector<int> exclude;          // persona indices whose weight is zeroed
  Eigen::VectorXd prior_bias;        // K natural-log biases added to log pi (empty: none)
  ProductSteering product;           // log p + lambda (log p_a - log p_b), renormalised
  Ablation ablation;                 // personas removed / reweighted in the prior (applied before prior_bias)
};

// The steering stage of a prediction: the one place a reader's next-token
// distribution is made from its (K) steered natural-log weights (the
// Posterior applies clamp / exclude / prior bias to them) and every persona's
// distribution persona_logprobs (K, kVocab) at one context. speaker = -1
// gives the mixture, log sum_k exp(log_w_k + log p_k(v)); speaker = k gives
// persona k's own distribution. Product steering is then applied and the
// result renormalised; tokens where the tilt is undefined (p_a = p_b = 0) or
// where the base distribution says 0 get -inf. MixtureState::predict (and so
// trace, score, vote and raw_view under product steering) and generate in
// both modes all go through here. InvalidArgument if the tilted distribution
// cannot be normalised.
Eigen::VectorXd steered_distribution(const ProductSteering& product, const Eigen::VectorXd& log_weights,
                                     const Eigen::MatrixXd& persona_logprobs, int speaker = -1);

namespace detail {
// Probabilities below this are taken to log space one by one: a normal
// double with room, so that every product and sum of larger ones keeps full
// relative precision (Eigen's vectorised log also takes a denormal for the
// smallest normal).
inline constexpr double kLinearFloor = 1e-290;

// out = log(p), vectorised; entries below kLinearFloor (0 included: -inf)
// by the scalar std::log.
void log_of_probs(const Eigen::VectorXd& p, Eigen::VectorXd& out);

// Product steering in probability space: the steered mixture distribution
// (kVocab, natural log; product active) from the personas' probabilities
// probs (kVocab, K; column k is persona k's next_probs) and the steered
// weights, linear w and natural-log log_w (K):
//
//   m(v) = sum_k w_k p_k(v)                          (one matrix-vector product),
//   t(v) = log m(v) + lambda (log p_a(v) - log p_b(v)),   out = t - log sum_v exp t(v),
//
// the logs by log_of_probs. A token whose m(v) is below kLinearFloor (an
// exact 0, or weights that underflowed) is mixed in log space from
// log w_k + log p_k(v), as steered_distribution's mixing does; where the
// tilt is undefined (p_a = p_b = 0) or the base is 0 the token gets -inf;
// InvalidArgument if the tilted distribution cannot be normalised. The same
// distribution as steered_distribution(product, log_w, log(probs)^T) to
// rounding (tests/mixture_steering_test.cpp holds it to a long-double
// reference). MixtureState::predict and MixtureState::step both compute
// through it, so that a step's log-probability is its prediction's entry
// bit for bit. m, la, lb: scratch (kVocab each).
void steered_from_probs(const ProductSteering& product, const Eigen::VectorXd& log_w, const Eigen::VectorXd& w,
                        const Eigen::MatrixXd& probs, Eigen::VectorXd& out, Eigen::VectorXd& m, Eigen::VectorXd& la,
                        Eigen::VectorXd& lb);
}  // namespace detail

// The inspection record of a text: one row per token.
struct Trace {
  Eigen::MatrixXd log_weights;       // (T, K) natural-log weights before each token (steered)
  Eigen::MatrixXd persona_logprobs;  // (T, K) log p_k(x_t | x_<t)
  Eigen::VectorXd logprobs;          // (T) log p(x_t | x_<t) under the (steered) mixture
  Eigen::VectorXd entropy;           // (T) entropy of the weights before each token, nats
  std::vector<int> dominant;         // (T) argmax_k of the weights before each token

  std::size_t size() const { return static_cast<std::size_t>(logprobs.size()); }
  // Natural-log probability of all traced tokens (mixture).
  double total_logprob() const { return logprobs.sum(); }
};

// A trace in a few numbers (one row of a table over many documents).
struct TraceSummary {
  std::size_t tokens = 0;          // traced tokens
  double total_logprob = 0.0;      // natural-log probability of them all under the (steered) mixture
  double bits_per_token = 0.0;     // -total_logprob / (tokens ln 2); 0 for an empty trace
  Eigen::VectorXd lead_share;      // (K) share of the tokens before which persona k has the largest weight
  Eigen::VectorXd mean_weight;     // (K) mean weight of persona k before each token
  Eigen::VectorXd final_weight;    // (K) weights before the last token (the prior's for an empty trace: empty)
  std::size_t leader_changes = 0;  // positions t > 0 whose dominant persona differs from t - 1's
};

// The summary of a trace of a K-persona pile. InvalidArgument if the
// trace's arrays disagree in size.
TraceSummary summarize(const Trace& trace);

// What the mixture predicts for the next token.
struct Prediction {
  Eigen::VectorXd log_weights;       // (K) steered natural-log weights
  Eigen::MatrixXd persona_logprobs;  // (K, kVocab) log p_k(. | context)
  Eigen::VectorXd logprobs;          // (kVocab) log p(. | context) of the mixture
};

class Mixture;

// The posterior filter over personas, without the personas: consumes K
// per-persona log-probabilities per token. Shared by MixtureState and trace.
// It keeps the prior and switching configuration the mixture had when it
// began: later set_config / set_prior calls affect new filters only.
class Posterior {
 public:
  Posterior(const Mixture& mixture, const Steering& steering);

  // (K) natural-log weights used for the next prediction (steered).
  const Eigen::VectorXd& log_weights() const { return masked_ ? steered_ : log_w_; }
  // (K) the same weights as probabilities.
  const Eigen::VectorXd& weights() const { return masked_ ? steered_lin_ : lin_; }

  // Consumes one token given each persona's log-probability of it (K);
  // returns the mixture's log-probability of the token. The switching rule
  // then acts if `token` is a switch point (MixtureConfig::switch_after);
  // without a token it always acts. A token that no persona can produce
  // (every log-probability -inf) leaves the weights as they were.
  double update(const double* persona_logprobs, Token token);
  double update(const double* persona_logprobs);

 private:
  void steer();

  MixtureConfig config_;       // the mixture's configuration when the filter began
  Eigen::VectorXd log_prior_;  // (K) normalised log prior, bias included
  Eigen::VectorXd prior_lin_;  // (K) exp(log_prior_)
  Eigen::VectorXd log_w_;      // (K) normalised log weights
  Eigen::VectorXd lin_;        // (K) exp(log_w_)
  Eigen::VectorXd acc_;        // (K) forgetting accumulators L_k
  Eigen::VectorXd steered_;    // (K) log_w_ after clamp / exclude (kept only when masked_)
  Eigen::VectorXd steered_lin_;  // (K) exp(steered_) (kept only when masked_)
  Eigen::MatrixXd log_a_;      // (K, K) log transition matrix
  Eigen::VectorXd scratch_;    // (K)
  std::vector<bool> allowed_;  // (K) false where excluded or not clamped
  std::vector<bool> may_switch_;  // (kVocab) switch_points(config_)
  bool masked_ = false;
};

// One reader of a text: persona states plus the posterior filter.
class MixtureState {
 public:
  MixtureState(const Mixture& mixture, const Steering& steering);
  MixtureState(const MixtureState& other);
  MixtureState& operator=(const MixtureState&) = delete;
  MixtureState(MixtureState&&) = default;
  MixtureState& operator=(MixtureState&&) = default;

  // Consumes `token`; returns log p(token | text so far) under the (steered)
  // mixture. OutOfRange for a token outside 0..kVocab-1. Under product
  // steering the return value needs the whole steered distribution (its
  // normaliser), so this costs K next-token distributions per token, read as
  // probabilities (PersonaState::next_probs) and mixed and tilted in
  // probability space (detail::steered_from_probs): bit for bit
  // predict().logprobs[token], without predict()'s K kVocab logs of the
  // personas' rows.
  double step(Token token);
  // The same, reusing `prediction`, which must be what predict() returned
  // since the last step: under product steering the token's steered
  // log-probability is read from it instead of predicting again (a reader
  // that predicts, samples and steps pays for one distribution per persona
  // per token, not two). InvalidArgument if prediction's weights are not this
  // state's current ones; OutOfRange as step(token).
  double step(Token token, const Prediction& prediction);
  // Consumes tokens, returning the sum of their mixture log-probabilities.
  // Atomic: OutOfRange naming the first token outside 0..kVocab-1 before
  // anything is read, and an Interrupted (interrupt.hpp) leaves the state as
  // it was (the tokens are read by a copy, committed at the end).
  double step(const std::vector<Token>& tokens);
  // The next-token prediction: weights, every persona's and the mixture's
  // log-probs. Under product steering the personas' rows are the logs of
  // their next_probs (detail::log_of_probs) and the mixture's is
  // detail::steered_from_probs; otherwise the rows are next_logprobs and the
  // mixture is steered_distribution.
  Prediction predict() const;
  // (K) steered natural-log weights before the next token.
  const Eigen::VectorXd& log_weights() const { return posterior_.log_weights(); }
  const Mixture& mixture() const { return *mixture_; }
  // The state of persona k (for look-ahead and analyses).
  const PersonaState& persona_state(int k) const { return *states_.at(std::size_t(k)); }

 private:
  // Under product steering: every persona's next_probs into probs (kVocab, K)
  // and the steered distribution into out (predict and step share it).
  void steered_prediction(Eigen::MatrixXd& probs, Eigen::VectorXd& out, Eigen::VectorXd& m, Eigen::VectorXd& la,
                          Eigen::VectorXd& lb) const;

  const Mixture* mixture_;
  std::vector<std::unique_ptr<PersonaState>> states_;
  Posterior posterior_;
  ProductSteering product_;
  std::vector<double> lp_;  // (K) scratch
  // Scratch of a product-steered step (steered_prediction).
  Eigen::MatrixXd probs_;
  Eigen::VectorXd steered_out_, m_, la_, lb_;
};

class Mixture {
 public:
  // personas and names have K >= 1 entries, names unique and non-empty; prior
  // (K) finite, >= 0, at least one positive (normalised here; a persona with
  // prior 0 never speaks). Throws InvalidArgument naming
  // the bad argument; the config is checked as in set_config.
  Mixture(std::vector<std::shared_ptr<const Persona>> personas, std::vector<std::string> names,
          Eigen::VectorXd prior, MixtureConfig config = {});

  int size() const { return static_cast<int>(personas_.size()); }
  const std::vector<std::string>& names() const { return names_; }
  const Persona& persona(int k) const;
  std::shared_ptr<const Persona> persona_ptr(int k) const;
  // Index of the persona called `name`; OutOfRange naming it if unknown.
  int index_of(const std::string& name) const;
  // (K) normalised prior.
  const Eigen::VectorXd& prior() const { return prior_; }
  const MixtureConfig& config() const { return config_; }

  // Replaces the switching configuration. InvalidArgument for beta outside
  // (0, kMaxBeta], alpha or gamma outside [0, 1], a transition matrix that
  // is not K x K, non-negative, with rows summing to 1 (within 1e-9), or a
  // switch_after token outside 0..kVocab-1.
  void set_config(MixtureConfig config);
  // The checks of set_config for a mixture of K personas, without one.
  static void check(const MixtureConfig& config, int K);
  void set_prior(Eigen::VectorXd prior);
  // Checks a steering request against this mixture (indices, bias size,
  // ablation: OutOfRange for a removed index outside 0..K-1, InvalidArgument
  // for factors that are not K finite numbers >= 0 or that leave no persona
  // with a positive weight).
  void check(const Steering& steering) const;
  // (K) the prior a reader under `ablation` starts from: prior times the
  // factors, removed personas 0, renormalised (a prior that sums to 1 is kept
  // bit for bit, as set_prior does). Throws as check(Steering).
  Eigen::VectorXd ablated_prior(const Ablation& ablation) const;
  // The same pile with ablated_prior(ablation) as its prior: the personas are
  // shared, not copied. For what takes no steering (attribute,
  // attribute_spans, switch_evidence, save): the ablated pile as a value,
  // while this one stays as it is.
  Mixture ablated(const Ablation& ablation) const;

  // A reader at the start of a document.
  MixtureState begin(const Steering& steering = {}) const { return MixtureState(*this, steering); }
  // The next-token prediction after reading `context` (its bytes, from a
  // document start, no boundary added) under `steering`: begin(steering),
  // step(encode(context)), predict(). Throws what check(Steering) throws.
  Prediction predict(const std::string& context, const Steering& steering = {}) const;

  // The trace of `tokens` read from a document start. Each persona scores
  // the whole sequence through its fast path, then the filter runs over the
  // (T, K) log-probabilities. on_progress, when set, is called with the
  // fraction done (after each persona's scoring and every 65536 tokens of the
  // filter); it may throw to cancel the trace (the exception propagates).
  // Long calls here and below poll the interrupt check (interrupt.hpp) and
  // throw Interrupted when it trips, leaving the mixture as it was.
  Trace trace(const std::vector<Token>& tokens, const Steering& steering = {},
              const std::function<void(double)>& on_progress = {}) const;
  // (T, K) per-persona log-probabilities of tokens (persona k in column k).
  Eigen::MatrixXd persona_logprobs(const std::vector<Token>& tokens) const;

  // Natural-log probability of a document (bytes + end boundary).
  double score(const std::string& text, const Steering& steering = {}) const;
  // -score / (bytes * ln 2): bits per byte of a document, the end boundary's
  // cost included in the numerator. InvalidArgument for empty text.
  double bits_per_byte(const std::string& text, const Steering& steering = {}) const;
  // Bits per byte of the document under each persona alone (K).
  Eigen::VectorXd persona_bits_per_byte(const std::string& text) const;
  // exp(-score / (bytes + 1)): per-token perplexity of a document, the end
  // boundary counted as a token (as SRILM counts </s>). Defined for empty text.
  double perplexity(const std::string& text, const Steering& steering = {}) const;
  // Per-token perplexity of the document under each persona alone (K).
  Eigen::VectorXd persona_perplexity(const std::string& text) const;

  // Which mask wrote this document? (K) natural-log posterior over personas
  // given the whole document (bytes + end boundary), as if one persona wrote
  // all of it, tempered by beta (no switching):
  //   log pi_k + beta log p_k(doc) - log Z,
  // p_k read from attribution_personas() (the masks unless set).
  // attribute(text, beta) uses the beta given (1 is the exact Bayesian
  // posterior); attribute(text) the mixture's attribution tempering at the
  // document's length, attribution_beta_at(text.size()). InvalidArgument for
  // beta outside (0, kMaxBeta]. The filter (trace, score, step) keeps
  // config().beta: the attribution tempering is for whole-document
  // attribution only (calibration.hpp, docs/concepts.md).
  Eigen::VectorXd attribute(const std::string& text) const { return attribute(text, attribution_beta_at(text.size())); }
  Eigen::VectorXd attribute(const std::string& text, double beta) const;
  // The attribution tempering: for a document of n bytes,
  //   beta(n) = attribution_beta() * (max(n, 1) / kAttributionReferenceBytes)^(-attribution_exponent()),
  // so evidence grows like n^(1 - exponent) instead of n. beta 1 and exponent
  // 0 (the exact posterior at every length) unless fitted (train() fits both
  // on held-out segments so that the posteriors are calibrated) or set.
  static constexpr double kAttributionReferenceBytes = 300.0;
  double attribution_beta() const { return attribution_beta_; }
  double attribution_exponent() const { return attribution_exponent_; }
  double attribution_beta_at(std::size_t bytes) const {
    if (attribution_exponent_ == 0.0) return attribution_beta_;
    const double n = bytes > 0 ? double(bytes) : 1.0;
    return attribution_beta_ * std::pow(n / kAttributionReferenceBytes, -attribution_exponent_);
  }
  // InvalidArgument for beta outside [1e-6, 1e6] or exponent outside [0, 1].
  void set_attribution_beta(double beta, double exponent = 0.0);

  // The evidence attribute() weighs: one model per mask, the masks
  // themselves unless set. train() sets the masks reweighted for attribution
  // (background.hpp, attribution_reweighted): each persona's own model and
  // the shared background mixed with one own share chosen on held-out
  // segments for the log-loss of the true persona, which on real text is
  // larger than the share that compresses best (the background dilutes the
  // evidence that tells personas apart). own_weight records that share
  // (-1: the models are the masks or were given otherwise); the model file saves the share (the masks
  // reweighted) or else the n-gram models themselves (another order: attribution_orders). InvalidArgument
  // unless there is one non-null model per mask, or for own_weight outside
  // [0, 1] and not -1. Empty `personas`: attribute() reads the masks again.
  void set_attribution_personas(std::vector<std::shared_ptr<const Persona>> personas, double own_weight = -1.0);
  const std::vector<std::shared_ptr<const Persona>>& attribution_personas() const { return attribution_personas_; }
  double attribution_own_weight() const { return attribution_own_weight_; }

  // Who spoke when: the persona HMM that smooth() (smoothing.hpp) and
  // attribute_spans() (attribution.hpp) read. It is config() with the
  // fixed-share rate and the tempering fitted for segmentation, when they are
  // set and config() is fixed share; config() itself otherwise. train() sets
  // them: the rate (and beta) maximising the likelihood of the true speaker
  // sequence of held-out documents joined end to end (switching_fit.hpp),
  // far below the rate that best compresses the text, which the filter (trace,
  // score, step, generate) keeps. docs/concepts.md, "Switching fitted for the job".
  MixtureConfig segmentation_config() const;
  bool has_segmentation() const { return segmentation_alpha_ >= 0.0; }
  double segmentation_alpha() const { return segmentation_alpha_; }  // -1 when not set
  double segmentation_beta() const { return segmentation_beta_; }
  // InvalidArgument for alpha outside [0, 1] or beta outside (0, kMaxBeta].
  void set_segmentation(double alpha, double beta = 1.0);
  // segmentation_config() becomes config() again.
  void clear_segmentation() { segmentation_alpha_ = -1.0, segmentation_beta_ = 1.0; }

 private:
  // prior / sum(prior), or prior itself when it sums to 1 up to rounding.
  static Eigen::VectorXd normalised(Eigen::VectorXd prior);

  std::vector<std::shared_ptr<const Persona>> personas_;
  std::vector<std::string> names_;
  Eigen::VectorXd prior_;
  MixtureConfig config_;
  double attribution_beta_ = 1.0;      // tempering of attribute(text) at the reference length
  double attribution_exponent_ = 0.0;  // its decay with the document's length
  double segmentation_alpha_ = -1.0;   // fixed-share rate of segmentation_config(), < 0: none
  std::vector<std::shared_ptr<const Persona>> attribution_personas_;  // empty: attribute() reads the masks
  double attribution_own_weight_ = -1.0;  // the own share attribution_personas_ were built with, -1: none
  double segmentation_beta_ = 1.0;     // its tempering
};

// log(exp(a) + exp(b)), stable; -inf when both are -inf.
inline double log_add(double a, double b) {
  const double hi = a > b ? a : b;
  if (hi == -INFINITY) return hi;
  return hi + std::log1p(std::exp(-std::abs(a - b)));
}

// log(sum_i exp(x_i)) of n values, stable; -inf when all are -inf.
inline double log_sum_exp(const double* x, int n) {
  double m = -INFINITY;
  for (int i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  if (m == -INFINITY) return m;
  double s = 0.0;
  for (int i = 0; i < n; ++i) s += std::exp(x[i] - m);
  return m + std::log(s);
}

}  // namespace simulacra

#ifdef SIMULACRA_HEADER_ONLY
#include "simulacra/mixture-inl.hpp"
#include "simulacra/steering-inl.hpp"
#endif
