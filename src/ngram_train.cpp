// Supervised training of an n-gram pile (ngram_train.hpp).
#include "simulacra/ngram_train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

#include "simulacra/background.hpp"
#include "simulacra/calibration.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/switching_fit.hpp"

namespace simulacra {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The texts of `name` in `corpus`, or {""} when it has none there (all its
// documents on the other side of the split): such a persona learns only the end of a document.
std::vector<std::string> texts_or_empty(const Corpus& corpus, const std::vector<std::string>& present,
                                        const std::string& name) {
  if (!std::binary_search(present.begin(), present.end(), name)) return {""};
  return corpus.texts_of(name);
}

// The stand-alone personas fitted on `corpus` at `order`, each a Kneser-Ney
// model of its own documents; with config.background, *background becomes a
// model of all of corpus's text at the same order.
std::vector<std::shared_ptr<const Persona>> fit_personas(const Corpus& corpus, const std::vector<std::string>& names,
                                                         int order, const TrainConfig& config, const char* stage,
                                                         std::shared_ptr<const Persona>* background) {
  const std::vector<std::string> present = corpus.personas();
  std::vector<std::shared_ptr<const Persona>> personas;
  const int steps = int(names.size()) + (config.background ? 1 : 0);
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (config.on_progress) config.on_progress({stage, names[k], int(k), steps});
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(texts_or_empty(corpus, present, names[k]), order)));
  }
  if (config.background) {
    if (config.on_progress) config.on_progress({stage, "", int(names.size()), steps});
    std::vector<std::string> all;
    for (const Document& d : corpus.documents()) all.push_back(d.text);
    *background = std::make_shared<NGramPersona>(NGramPersona::fit(all, order));
  }
  if (config.on_progress) config.on_progress({stage, "", steps, steps});
  return personas;
}

std::vector<std::shared_ptr<const Persona>> interpolate(const std::vector<std::shared_ptr<const Persona>>& own,
                                                        const std::shared_ptr<const Persona>& background,
                                                        const std::vector<double>& weights) {
  std::vector<std::shared_ptr<const Persona>> out;
  for (std::size_t k = 0; k < own.size(); ++k)
    out.push_back(std::make_shared<InterpolatedPersona>(own[k], background, weights[k]));
  return out;
}

// The tokens of documents one after another, each ended by its boundary.
std::vector<Token> stream_of(const std::vector<std::string>& texts) {
  std::vector<Token> out;
  for (const std::string& t : texts) {
    const auto doc = encode_document(t);
    out.insert(out.end(), doc.begin(), doc.end());
  }
  return out;
}

// The held-out side of one candidate order: its pile and its scores.
struct Candidate {
  int order = 0;
  std::vector<std::shared_ptr<const Persona>> personas;
  std::vector<double> weights;  // lambda_k (empty without background)
  std::vector<double> alpha_grid, heldout_bits;
  double alpha = 0.0, best_logprob = -INFINITY;
};

Candidate try_order(int order, const Corpus& train_part, const Corpus& heldout, const std::vector<std::string>& names,
                    const Eigen::VectorXd& prior, const MixtureConfig& mcfg, bool fit_alpha,
                    const std::vector<Token>& stream, std::size_t stream_bytes, const TrainConfig& config) {
  Candidate c;
  c.order = order;
  std::shared_ptr<const Persona> background;
  const std::vector<std::shared_ptr<const Persona>> own =
      fit_personas(train_part, names, order, config, "persona", &background);
  c.personas = own;
  if (config.background) {
    const std::vector<std::string> present = heldout.personas();
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (!std::binary_search(present.begin(), present.end(), names[k])) {
        c.weights.push_back(0.5);  // nothing of it held out: no evidence either way
        continue;
      }
      const std::vector<Token> text = stream_of(heldout.texts_of(names[k]));
      c.weights.push_back(fit_interpolation_weight(own[k]->token_logprobs(text), background->token_logprobs(text)));
    }
    c.personas = interpolate(own, background, c.weights);
  }
  Mixture probe(c.personas, names, prior, mcfg);
  const RowMatrix lp = probe.persona_logprobs(stream);  // rows: tokens
  const std::vector<double> grid = fit_alpha ? config.alpha_grid : std::vector<double>{mcfg.alpha};
  c.alpha = mcfg.alpha;
  for (std::size_t g = 0; g < grid.size(); ++g) {
    if (config.on_progress && fit_alpha)
      config.on_progress({"alpha", fmt::format("{}", grid[g]), int(g), int(grid.size())});
    MixtureConfig trial = mcfg;
    trial.alpha = grid[g];
    probe.set_config(trial);
    Posterior post(probe, {});
    double total = 0.0;
    InterruptPoller poll;
    for (Eigen::Index t = 0; t < lp.rows(); ++t) {
      poll.tick();
      total += post.update(lp.row(t).data(), stream[std::size_t(t)]);
    }
    if (fit_alpha) {
      c.alpha_grid.push_back(trial.alpha);
      c.heldout_bits.push_back(-total / (double(std::max<std::size_t>(stream_bytes, 1)) * std::log(2.0)));
    }
    if (total > c.best_logprob) {
      c.best_logprob = total;
      c.alpha = trial.alpha;
    }
  }
  return c;
}

// What calibrate() chose: the tempering and the own share of attribute()'s evidence.
struct Calibration {
  AttributionTempering tempering;
  double own_weight = -1.0;  // -1: the masks as fitted for compression
};

// Fits attribute()'s evidence and tempering on held-out segments by
// cross-fitting: the documents of each persona are cut into
// calibration_folds contiguous blocks; for each fold the pile (order,
// background weights as chosen) is fitted on the other folds and scores
// segments of calibration_lengths bytes of the fold's text of each persona
// (its documents joined by newlines). So every byte of the corpus serves as
// held-out text once. With the background, each candidate own share of
// attribution_own_weights (and the masks' own fitted weights, -1) gets its
// tempering fitted; the one with the lowest log-loss of the true persona
// wins. Fills the calibration part of the report.
Calibration calibrate(const Corpus& corpus, const std::vector<std::string>& names, const Eigen::VectorXd& prior,
                      int order, const std::vector<double>& weights, const TrainConfig& config, TrainReport& rep) {
  const int folds = config.calibration_folds;
  const std::size_t L = config.calibration_lengths.size();
  std::vector<double> candidates = {-1.0};  // -1: the masks' own weights
  if (config.background)
    candidates.insert(candidates.end(), config.attribution_own_weights.begin(), config.attribution_own_weights.end());
  const std::size_t C = candidates.size();
  // fold_of[i]: the fold of document i, by its rank among its persona's documents.
  std::vector<int> fold_of(corpus.size());
  for (const std::string& name : names) {
    std::vector<std::size_t> idx;
    for (std::size_t i = 0; i < corpus.size(); ++i)
      if (corpus[i].persona == name) idx.push_back(i);
    for (std::size_t r = 0; r < idx.size(); ++r) fold_of[idx[r]] = int(r * std::size_t(folds) / idx.size());
  }
  std::vector<std::vector<double>> rows;  // per segment: C blocks of K log-likelihoods
  std::vector<int> labels;
  std::vector<std::size_t> length_of, bytes;  // index into calibration_lengths, bytes of the segment
  const std::size_t K = names.size();
  for (int f = 0; f < folds; ++f) {
    if (config.on_progress) config.on_progress({"calibration", std::to_string(f), f, folds});
    Corpus rest;
    std::vector<std::string> joined(K);
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      if (fold_of[i] != f) {
        rest.add(corpus[i].text, corpus[i].persona);
        continue;
      }
      const auto k = std::size_t(std::lower_bound(names.begin(), names.end(), corpus[i].persona) - names.begin());
      joined[k] += (joined[k].empty() ? "" : "\n") + corpus[i].text;
    }
    if (rest.empty()) continue;
    std::shared_ptr<const Persona> background;
    TrainConfig quiet = config;
    quiet.on_progress = nullptr;
    const std::vector<std::shared_ptr<const Persona>> own =
        fit_personas(rest, names, order, quiet, "calibration", &background);
    // evidence[c][k]: persona k's model under candidate c.
    std::vector<std::vector<std::shared_ptr<const Persona>>> evidence(C, own);
    if (config.background)
      for (std::size_t c = 0; c < C; ++c)
        evidence[c] = interpolate(own, background,
                                  candidates[c] < 0 ? weights : std::vector<double>(K, candidates[c]));
    InterruptPoller poll;
    for (std::size_t l = 0; l < L; ++l) {
      const auto len = std::size_t(config.calibration_lengths[l]);
      for (std::size_t k = 0; k < K; ++k) {
        for (std::size_t at = 0; at + len <= joined[k].size(); at += len) {
          poll.tick();
          const std::vector<Token> tokens = encode_document(joined[k].substr(at, len));
          std::vector<double> row(C * K);
          if (config.background) {  // each model read once; every candidate is a mix of the same numbers
            const std::vector<double> bg = background->token_logprobs(tokens);
            for (std::size_t j = 0; j < K; ++j) {
              const std::vector<double> mine = own[j]->token_logprobs(tokens);
              for (std::size_t c = 0; c < C; ++c) {
                const auto& mix = static_cast<const InterpolatedPersona&>(*evidence[c][j]);
                double sum = 0.0;
                for (std::size_t t = 0; t < tokens.size(); ++t) sum += mix.combine(mine[t], bg[t]);
                row[c * K + j] = sum;
              }
            }
          } else {
            for (std::size_t j = 0; j < K; ++j) {
              double sum = 0.0;
              for (double v : own[j]->token_logprobs(tokens)) sum += v;
              row[j] = sum;
            }
          }
          rows.push_back(std::move(row));
          labels.push_back(int(k));
          length_of.push_back(l);
          bytes.push_back(len);
        }
      }
    }
  }
  std::vector<std::size_t> count(L, 0);
  for (std::size_t l : length_of) ++count[l];
  if (rows.empty()) return {};
  const Eigen::VectorXd log_prior = (prior / prior.sum()).array().log();
  // Each length weighs alike: a segment of length l counts 1 / (segments of length l).
  std::vector<double> weight(rows.size());
  double weight_sum = 0.0;
  for (std::size_t i = 0; i < rows.size(); ++i) weight_sum += weight[i] = 1.0 / double(count[length_of[i]]);
  auto loglik_of = [&](std::size_t c) {
    Eigen::MatrixXd m(Eigen::Index(rows.size()), Eigen::Index(K));
    for (std::size_t i = 0; i < rows.size(); ++i)
      for (std::size_t k = 0; k < K; ++k) m(Eigen::Index(i), Eigen::Index(k)) = rows[i][c * K + k];
    return m;
  };
  Calibration best;
  double best_loss = INFINITY;
  Eigen::MatrixXd loglik;
  for (std::size_t c = 0; c < C; ++c) {
    const Eigen::MatrixXd ll = loglik_of(c);
    const AttributionTempering fit = fit_attribution_tempering(ll, labels, bytes, log_prior, weight);
    const Eigen::MatrixXd post = tempered_posteriors(length_scaled(ll, bytes, fit.exponent), log_prior, fit.beta);
    double loss = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) loss -= weight[i] * post(Eigen::Index(i), labels[i]);
    loss /= weight_sum;
    rep.attribution_candidates.push_back(candidates[c]);
    rep.attribution_candidate_logloss.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      best = {fit, candidates[c]};
      loglik = ll;
    }
  }
  const AttributionTempering& fit = best.tempering;
  const Eigen::MatrixXd scaled = length_scaled(loglik, bytes, fit.exponent);  // at fit.beta: the tempered posteriors
  rep.ece_before = attribution_ece(loglik, labels, log_prior, 1.0);
  rep.ece_after = attribution_ece(scaled, labels, log_prior, fit.beta);
  for (std::size_t l = 0; l < L; ++l) {
    if (count[l] == 0) continue;
    Eigen::MatrixXd part(static_cast<Eigen::Index>(count[l]), static_cast<Eigen::Index>(K));
    Eigen::MatrixXd part_scaled(static_cast<Eigen::Index>(count[l]), static_cast<Eigen::Index>(K));
    std::vector<int> part_labels;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (length_of[i] != l) continue;
      part.row(Eigen::Index(part_labels.size())) = loglik.row(Eigen::Index(i));
      part_scaled.row(Eigen::Index(part_labels.size())) = scaled.row(Eigen::Index(i));
      part_labels.push_back(labels[i]);
    }
    rep.calibration_lengths.push_back(config.calibration_lengths[l]);
    rep.calibration_segments.push_back(count[l]);
    rep.ece_before_by_length.push_back(attribution_ece(part, part_labels, log_prior, 1.0));
    rep.ece_after_by_length.push_back(attribution_ece(part_scaled, part_labels, log_prior, fit.beta));
  }
  return best;
}

void check_config(const TrainConfig& config) {
  if (config.order != TrainConfig::kAutoOrder) NGramPersona::check_order(config.order, "train");
  SIMULACRA_CHECK(config.order != TrainConfig::kAutoOrder || !config.order_grid.empty(), InvalidArgument,
                  "train: order 'auto' needs a non-empty order_grid");
  for (int n : config.order_grid) NGramPersona::check_order(n, "train: order_grid");
  SIMULACRA_CHECK(std::isfinite(config.heldout_fraction) && config.heldout_fraction >= 0.0 &&
                      config.heldout_fraction < 1.0,
                  InvalidArgument, "train: heldout_fraction must be in [0, 1), got {}", config.heldout_fraction);
  for (double a : config.alpha_grid)
    SIMULACRA_CHECK(std::isfinite(a) && a >= 0.0 && a <= 1.0, InvalidArgument,
                    "train: alpha_grid value {} is outside [0, 1]", a);
  for (double b : config.segmentation_beta_grid)
    SIMULACRA_CHECK(b > 0.0 && b <= MixtureConfig::kMaxBeta, InvalidArgument,
                    "train: segmentation_beta_grid value {} is outside (0, {}]", b, MixtureConfig::kMaxBeta);
  SIMULACRA_CHECK(config.calibration_folds >= 2, InvalidArgument, "train: calibration_folds must be >= 2, got {}",
                  config.calibration_folds);
  for (double w : config.attribution_own_weights)
    SIMULACRA_CHECK(std::isfinite(w) && w >= 0.0 && w <= 1.0, InvalidArgument,
                    "train: attribution_own_weights value {} is outside [0, 1]", w);
  for (int len : config.calibration_lengths)
    SIMULACRA_CHECK(len >= 1, InvalidArgument, "train: calibration length {} must be >= 1", len);
}

}  // namespace

Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report) {
  const auto start = std::chrono::steady_clock::now();
  SIMULACRA_CHECK(corpus.size() > 0, InvalidArgument, "train: the corpus has no documents");
  check_config(config);
  const std::vector<std::string> names = corpus.personas();
  Mixture::check(config.mixture, int(names.size()));
  Eigen::VectorXd prior(Eigen::Index(names.size()));
  for (std::size_t k = 0; k < names.size(); ++k) prior[Eigen::Index(k)] = double(corpus.texts_of(names[k]).size());

  MixtureConfig mcfg = config.mixture;
  TrainReport rep;
  const bool automatic = config.order == TrainConfig::kAutoOrder;
  const bool fit_alpha = config.fit_alpha && mcfg.switching == Switching::kFixedShare && !config.alpha_grid.empty();
  int order = automatic ? TrainConfig::kFallbackOrder : config.order;
  std::vector<double> weights(names.size(), 0.5);
  Calibration calibration;
  const bool probe =
      config.heldout_fraction > 0.0 && (automatic || fit_alpha || config.background || config.fit_attribution_beta);
  if (probe) {
    auto [train_part, heldout] = corpus.split(config.heldout_fraction, config.seed);
    if (heldout.size() > 0) {
      // The held-out documents in a seeded order, as one stream.
      std::vector<std::size_t> perm(heldout.size());
      for (std::size_t i = 0; i < perm.size(); ++i) perm[i] = i;
      std::mt19937_64 rng(config.seed ^ 0x5DEECE66Dull);
      for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng() % i]);
      std::vector<std::string> texts;
      std::size_t bytes = 0;
      for (std::size_t i : perm) {
        texts.push_back(heldout[i].text);
        bytes += heldout[i].text.size();
      }
      const std::vector<Token> stream = stream_of(texts);
      const std::vector<int> orders = automatic ? config.order_grid : std::vector<int>{config.order};
      Candidate best;
      for (std::size_t i = 0; i < orders.size(); ++i) {
        if (config.on_progress && automatic)
          config.on_progress({"order", std::to_string(orders[i]), int(i), int(orders.size())});
        Candidate c = try_order(orders[i], train_part, heldout, names, prior, mcfg, fit_alpha, stream, bytes, config);
        if (automatic) {
          rep.orders.push_back(c.order);
          rep.order_heldout_bits.push_back(-c.best_logprob / (double(std::max<std::size_t>(bytes, 1)) * std::log(2.0)));
        }
        if (c.best_logprob > best.best_logprob || best.order == 0) best = std::move(c);
      }
      order = best.order;
      mcfg.alpha = best.alpha;
      rep.alpha_grid = best.alpha_grid;
      rep.heldout_bits = best.heldout_bits;
      if (config.background) weights = best.weights;
      rep.heldout_documents = heldout.size();
      if (config.fit_segmentation && mcfg.switching == Switching::kFixedShare) {
        if (config.on_progress) config.on_progress({"segmentation", "", 0, 1});
        const Mixture probe_pile(best.personas, names, prior, mcfg);
        SegmentationFitOptions options;
        options.seed = config.seed;
        options.beta_grid = config.segmentation_beta_grid;
        options.part_bytes = config.segmentation_part_bytes;
        const SegmentationFit seg = fit_switching_segmentation(probe_pile, heldout.documents(), options);
        rep.alpha_segmentation = seg.alpha_segmentation;
        rep.beta_segmentation = seg.beta_segmentation;
        rep.segmentation_switches = seg.switches;
        if (config.on_progress) config.on_progress({"segmentation", "", 1, 1});
      }
      if (config.fit_attribution_beta)
        calibration = calibrate(corpus, names, prior, order, weights, config, rep);
    }
  }
  std::shared_ptr<const Persona> background;
  std::vector<std::shared_ptr<const Persona>> personas =
      fit_personas(corpus, names, order, config, probe ? "refit" : "persona", &background);
  if (config.background) {
    personas = interpolate(personas, background, weights);
    rep.background_weights = weights;
  }
  Mixture mixture(std::move(personas), names, prior, mcfg);
  const AttributionTempering& tempering = calibration.tempering;
  mixture.set_attribution_beta(tempering.beta, tempering.exponent);
  if (calibration.own_weight >= 0.0)
    mixture.set_attribution_personas(attribution_reweighted(mixture, calibration.own_weight), calibration.own_weight);
  rep.attribution_own_weight = calibration.own_weight;
  if (rep.alpha_segmentation >= 0.0) mixture.set_segmentation(rep.alpha_segmentation, rep.beta_segmentation);
  rep.alpha = mixture.config().alpha;
  rep.alpha_compression = rep.alpha;
  rep.order = order;
  rep.attribution_beta = tempering.beta;
  rep.attribution_exponent = tempering.exponent;
  rep.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report) *report = std::move(rep);
  return mixture;
}

double attribution_accuracy(const Mixture& mixture, const Corpus& corpus) {
  SIMULACRA_CHECK(corpus.size() > 0, InvalidArgument, "attribution_accuracy: the corpus has no documents");
  std::size_t right = 0;
  for (const Document& doc : corpus.documents()) {
    poll_interrupt();
    Eigen::Index best = 0;
    mixture.attribute(doc.text).maxCoeff(&best);
    right += mixture.names()[std::size_t(best)] == doc.persona;
  }
  return double(right) / double(corpus.size());
}

}  // namespace simulacra
