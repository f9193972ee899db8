// Supervised training of an n-gram pile (ngram_train.hpp).
#include "simulacra/ngram_train.hpp"
#include "simulacra/train_fitter.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <random>

#include "simulacra/background.hpp"
#include "simulacra/calibration.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/switching_fit.hpp"

namespace simulacra {

namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Which cells a set of documents is made of: take(fold, heldout).
using CellFilter = std::function<bool(int, bool)>;

// The stand-alone personas of the documents in the cells `take` selects, at
// `order`, each a Kneser-Ney model of its own documents (made from their
// merged counts: bit for bit NGramPersona::fit of them); a persona with no
// document there gets the model of one empty document (it learns only the
// end of a document). With config.background, *background becomes the model
// of all those documents at the same order.
std::vector<std::shared_ptr<const Persona>> fit_personas(const TrainCells& cells,
                                                         const std::vector<NGramCounts>& counts, const CellFilter& take,
                                                         int order, const TrainConfig& config, const char* stage,
                                                         std::shared_ptr<const Persona>* background,
                                                         const CellFitter* fitter) {
  const std::vector<std::string>& names = cells.names;
  const int steps = int(names.size()) + (config.background ? 1 : 0);
  std::vector<CellFit> fits;
  CellFit all{{}, order, false};
  for (std::size_t k = 0; k < names.size(); ++k) {
    CellFit mine{{}, order, true};
    for (int f = 0; f < cells.folds; ++f)
      for (bool heldout : {false, true})
        if (take(f, heldout)) mine.cells.push_back(cells.cell(k, f, heldout));
    all.cells.insert(all.cells.end(), mine.cells.begin(), mine.cells.end());
    fits.push_back(std::move(mine));
  }
  if (config.background) fits.push_back(std::move(all));
  std::vector<NGramPersona> models;
  if (fitter) {
    if (config.on_progress) config.on_progress({stage, "", 0, steps});
    models = (*fitter)(cells, fits);
    SIMULACRA_CHECK(models.size() == fits.size(), InvalidArgument, "train: the fitter made {} models of {}",
                    models.size(), fits.size());
  } else {  // fit_cells, with the background merged from the personas' merged counts
    NGramCounts total({}, cells.order);
    for (std::size_t k = 0; k < names.size(); ++k) {
      if (config.on_progress) config.on_progress({stage, names[k], int(k), steps});
      NGramCounts mine({}, cells.order);
      for (std::size_t c : fits[k].cells) mine.merge(counts[c]);
      models.push_back(mine.num_documents() == 0 ? NGramCounts({""}, order).to_persona()
                                                 : mine.truncated(order).to_persona());
      if (config.background) total.merge(mine);
    }
    if (config.background) {
      if (config.on_progress) config.on_progress({stage, "", int(names.size()), steps});
      models.push_back(total.truncated(order).to_persona());
    }
  }
  std::vector<std::shared_ptr<const Persona>> personas;
  for (std::size_t k = 0; k < names.size(); ++k) personas.push_back(std::make_shared<NGramPersona>(std::move(models[k])));
  if (config.background) *background = std::make_shared<NGramPersona>(std::move(models.back()));
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

// map(n, run) with a check that it ran every job (each job marks its slot).
void run_jobs(const JobMap& map, std::size_t n, const std::function<void(std::size_t)>& run) {
  std::vector<char> ran(n, 0);
  map(n, [&](std::size_t i) {
    SIMULACRA_CHECK(i < n, InvalidArgument, "train: the job map ran job {} of {}", i, n);
    run(i);
    ran[i] = 1;
  });
  for (std::size_t i = 0; i < n; ++i)
    SIMULACRA_CHECK(ran[i], InvalidArgument, "train: the job map returned without running job {} of {}", i, n);
}

// The held-out side of one candidate order: its pile and its scores.
struct Candidate {
  int order = 0;
  std::vector<std::shared_ptr<const Persona>> personas;
  std::vector<double> weights;  // lambda_k (empty without background)
  std::vector<double> alpha_grid, heldout_bits;
  double alpha = 0.0, best_logprob = -INFINITY;
};

Candidate try_order(int order, const TrainCells& cells, const std::vector<NGramCounts>& counts, const CellFitter* fitter,
                    const Corpus& heldout,
                    const std::vector<std::string>& names, const Eigen::VectorXd& prior, const MixtureConfig& mcfg,
                    bool fit_alpha, const std::vector<Token>& stream, std::size_t stream_bytes,
                    const TrainConfig& config) {
  Candidate c;
  c.order = order;
  std::shared_ptr<const Persona> background;
  const std::vector<std::shared_ptr<const Persona>> own = fit_personas(
      cells, counts, [](int, bool heldout_cell) { return !heldout_cell; }, order, config, "persona", &background,
      fitter);
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

// What calibrate() chose: the tempering and attribute()'s evidence (its order and own share).
struct Calibration {
  AttributionTempering tempering;
  double own_weight = -1.0;  // -1: the masks as fitted for compression (or, at another order, the stand-alone models)
  int order = 0;             // the evidence's order (0: not calibrated, the masks')
};

// One candidate evidence of attribute(): the personas at `order` (an index into the orders tried), each
// interpolated with the background at own share `share` (-1: the masks' own fitted weights at the chosen
// order; without the background, -1 is the stand-alone models).
struct EvidenceCandidate {
  std::size_t order_index = 0;
  double share = -1.0;
};

// Fits attribute()'s evidence and tempering on held-out segments by
// cross-fitting: the documents of each persona are cut into
// calibration_folds contiguous blocks; for each fold the pile (order,
// background weights as chosen) is fitted on the other folds and scores
// segments of calibration_lengths bytes of the fold's text of each persona
// (its documents joined by newlines). So every byte of the corpus serves as
// held-out text once. Every candidate evidence (the chosen order and each
// order of attribution_orders, times the masks' own fitted weights (-1, at
// the chosen order only) and each own share of attribution_own_weights when
// there is a background) gets its tempering fitted; the one with the lowest
// log-loss of the true persona wins. Fills the calibration part of the report.
Calibration calibrate(const Corpus& corpus, const TrainCells& cells, const std::vector<NGramCounts>& counts,
                      const CellFitter* fitter, const JobMap* map,
                      const Eigen::VectorXd& prior, int order, const std::vector<double>& weights,
                      const TrainConfig& config, TrainReport& rep) {
  const std::vector<std::string>& names = cells.names;
  const int folds = config.calibration_folds;
  const std::size_t L = config.calibration_lengths.size();
  std::vector<int> orders = {order};  // the chosen order first
  for (int o : config.attribution_orders)
    if (o <= cells.order && std::find(orders.begin(), orders.end(), o) == orders.end()) orders.push_back(o);
  std::vector<EvidenceCandidate> candidates;
  for (std::size_t oi = 0; oi < orders.size(); ++oi) {
    if (oi == 0 || !config.background) candidates.push_back({oi, -1.0});
    if (config.background)
      for (double w : config.attribution_own_weights) candidates.push_back({oi, w});
  }
  const std::size_t C = candidates.size();
  auto fold_of = [&](std::size_t i) { return int(cells.cell_of[i] / 2 % std::size_t(folds)); };
  const std::size_t K = names.size();
  struct FoldRows {
    std::vector<std::vector<double>> rows;  // per segment: C blocks of K log-likelihoods
    std::vector<int> labels;
    std::vector<std::size_t> length_of, bytes;  // index into calibration_lengths, bytes of the segment
  };
  std::vector<FoldRows> parts(std::size_t(folds), FoldRows{});
  // One fold's job (a JobMap's): the pile fitted on the other folds scores the fold's segments.
  const auto fold_job = [&](int f) {
    auto& rows = parts[std::size_t(f)].rows;
    auto& labels = parts[std::size_t(f)].labels;
    auto& length_of = parts[std::size_t(f)].length_of;
    auto& bytes = parts[std::size_t(f)].bytes;
    std::size_t rest = 0;  // documents outside fold f
    for (std::size_t k = 0; k < K; ++k)
      for (int g = 0; g < folds; ++g)
        if (g != f) rest += cells.documents[cells.cell(k, g, false)] + cells.documents[cells.cell(k, g, true)];
    std::vector<std::string> joined(K);
    for (std::size_t i = 0; i < corpus.size(); ++i) {
      if (fold_of(i) != f) continue;
      const std::size_t k = cells.cell_of[i] / 2 / std::size_t(folds);
      joined[k] += (joined[k].empty() ? "" : "\n") + corpus[i].text;
    }
    if (rest == 0) return;
    TrainConfig quiet = config;
    quiet.on_progress = nullptr;
    // own[oi][k], background[oi]: the fold's models at orders[oi]; evidence[c][k]: persona k under candidate c.
    std::vector<std::vector<std::shared_ptr<const Persona>>> own(orders.size());
    std::vector<std::shared_ptr<const Persona>> background(orders.size());
    for (std::size_t oi = 0; oi < orders.size(); ++oi)
      own[oi] = fit_personas(cells, counts, [f](int g, bool) { return g != f; }, orders[oi], quiet, "calibration",
                             &background[oi], fitter);
    std::vector<std::vector<std::shared_ptr<const Persona>>> evidence(C);
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t oi = candidates[c].order_index;
      evidence[c] = config.background
                        ? interpolate(own[oi], background[oi],
                                      candidates[c].share < 0 ? weights : std::vector<double>(K, candidates[c].share))
                        : own[oi];
    }
    InterruptPoller poll;
    for (std::size_t l = 0; l < L; ++l) {
      const auto len = std::size_t(config.calibration_lengths[l]);
      for (std::size_t k = 0; k < K; ++k) {
        for (std::size_t at = 0; at + len <= joined[k].size(); at += len) {
          poll.tick();
          const std::vector<Token> tokens = encode_document(joined[k].substr(at, len));
          std::vector<double> row(C * K);
          for (std::size_t oi = 0; oi < orders.size(); ++oi) {
            // Each model read once; every candidate of this order is a mix of the same numbers.
            const std::vector<double> bg =
                config.background ? background[oi]->token_logprobs(tokens) : std::vector<double>();
            for (std::size_t j = 0; j < K; ++j) {
              const std::vector<double> mine = own[oi][j]->token_logprobs(tokens);
              for (std::size_t c = 0; c < C; ++c) {
                if (candidates[c].order_index != oi) continue;
                double sum = 0.0;
                if (config.background) {
                  const auto& mix = static_cast<const InterpolatedPersona&>(*evidence[c][j]);
                  for (std::size_t t = 0; t < tokens.size(); ++t) sum += mix.combine(mine[t], bg[t]);
                } else {
                  for (double v : mine) sum += v;
                }
                row[c * K + j] = sum;
              }
            }
          }
          rows.push_back(std::move(row));
          labels.push_back(int(k));
          length_of.push_back(l);
          bytes.push_back(len);
        }
      }
    }
  };
  if (map) {
    if (config.on_progress) config.on_progress({"calibration", "", 0, folds});
    run_jobs(*map, std::size_t(folds), [&](std::size_t f) { fold_job(int(f)); });
  } else {
    for (int f = 0; f < folds; ++f) {
      if (config.on_progress) config.on_progress({"calibration", std::to_string(f), f, folds});
      fold_job(f);
    }
  }
  std::vector<std::vector<double>> rows;  // the folds' segments in fold order
  std::vector<int> labels;
  std::vector<std::size_t> length_of, bytes;
  for (FoldRows& part : parts) {
    for (auto& row : part.rows) rows.push_back(std::move(row));
    labels.insert(labels.end(), part.labels.begin(), part.labels.end());
    length_of.insert(length_of.end(), part.length_of.begin(), part.length_of.end());
    bytes.insert(bytes.end(), part.bytes.begin(), part.bytes.end());
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
  // Each candidate's tempering and log-loss on its own (a bisection on beta for each exponent tried: a large
  // part of the calibration's time), the candidates side by side on the OpenMP threads; each writes only its
  // own slot, so the result is that of the serial loop bit for bit.
  std::vector<AttributionTempering> fits(C);
  std::vector<double> losses(C);
  std::vector<std::exception_ptr> errors(C);
#pragma omp parallel for schedule(dynamic, 1)
  for (long long ci = 0; ci < static_cast<long long>(C); ++ci) {
    const auto c = static_cast<std::size_t>(ci);
    try {
      const Eigen::MatrixXd ll = loglik_of(c);
      fits[c] = fit_attribution_tempering(ll, labels, bytes, log_prior, weight);
      const Eigen::MatrixXd post =
          tempered_posteriors(length_scaled(ll, bytes, fits[c].exponent), log_prior, fits[c].beta);
      double loss = 0.0;
      for (std::size_t i = 0; i < rows.size(); ++i) loss -= weight[i] * post(Eigen::Index(i), labels[i]);
      losses[c] = loss / weight_sum;
    } catch (...) {
      errors[c] = std::current_exception();
    }
  }
  for (const std::exception_ptr& error : errors)
    if (error) std::rethrow_exception(error);  // the first candidate's failure, as the serial loop
  Calibration best;
  double best_loss = INFINITY;
  Eigen::MatrixXd loglik;
  for (std::size_t c = 0; c < C; ++c) {
    const AttributionTempering& fit = fits[c];
    const double loss = losses[c];
    rep.attribution_candidates.push_back(candidates[c].share);
    rep.attribution_candidate_orders.push_back(orders[candidates[c].order_index]);
    rep.attribution_candidate_logloss.push_back(loss);
    if (loss < best_loss) {
      best_loss = loss;
      best = {fit, candidates[c].share, orders[candidates[c].order_index]};
      loglik = loglik_of(c);
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
  for (int n : config.attribution_orders) NGramPersona::check_order(n, "train: attribution_orders");
  for (int len : config.calibration_lengths)
    SIMULACRA_CHECK(len >= 1, InvalidArgument, "train: calibration length {} must be >= 1", len);
}

// Whether train() holds documents out (step 1), before looking at the split.
bool probes(const TrainConfig& config) {
  const bool automatic = config.order == TrainConfig::kAutoOrder;
  const bool fit_alpha =
      config.fit_alpha && config.mixture.switching == Switching::kFixedShare && !config.alpha_grid.empty();
  return config.heldout_fraction > 0.0 && (automatic || fit_alpha || config.background || config.fit_attribution_beta);
}

}  // namespace

TrainCells train_cells(const Corpus& corpus, const TrainConfig& config) {
  SIMULACRA_CHECK(corpus.size() > 0, InvalidArgument, "train: the corpus has no documents");
  check_config(config);
  TrainCells cells;
  cells.names = corpus.personas();
  Mixture::check(config.mixture, int(cells.names.size()));
  cells.folds = config.calibration_folds;
  const std::vector<bool> heldout =
      probes(config) ? corpus.split_mask(config.heldout_fraction, config.seed) : std::vector<bool>(corpus.size(), false);
  const bool any_heldout = std::find(heldout.begin(), heldout.end(), true) != heldout.end();
  if (config.order != TrainConfig::kAutoOrder)
    cells.order = config.order;
  else if (any_heldout)
    cells.order = *std::max_element(config.order_grid.begin(), config.order_grid.end());
  else
    cells.order = TrainConfig::kFallbackOrder;
  // attribute()'s evidence may be read at another order (calibrate): with the order "auto", count up to the
  // largest candidate; a fixed order bounds the counts, so the candidates above it are not tried.
  if (any_heldout && config.fit_attribution_beta && config.order == TrainConfig::kAutoOrder)
    for (int n : config.attribution_orders) cells.order = std::max(cells.order, n);
  // The calibration folds: contiguous blocks of each persona's documents, by rank in corpus order.
  const std::size_t K = cells.names.size();
  std::vector<std::size_t> seen(K, 0), total(K, 0);
  std::vector<std::size_t> persona_of(corpus.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    persona_of[i] = std::size_t(std::lower_bound(cells.names.begin(), cells.names.end(), corpus[i].persona) -
                                cells.names.begin());
    ++total[persona_of[i]];
  }
  cells.cell_of.resize(corpus.size());
  cells.documents.assign(cells.size(), 0);
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const std::size_t k = persona_of[i];
    const int fold = int(seen[k]++ * std::size_t(cells.folds) / total[k]);
    cells.cell_of[i] = cells.cell(k, fold, heldout[i]);
    ++cells.documents[cells.cell_of[i]];
  }
  return cells;
}

std::vector<NGramCounts> count_cells(const Corpus& corpus, const TrainCells& cells) {
  SIMULACRA_CHECK(cells.cell_of.size() == corpus.size(), InvalidArgument,
                  "count_cells: cells of {} documents for a corpus of {}", cells.cell_of.size(), corpus.size());
  std::vector<std::vector<std::string>> texts(cells.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    SIMULACRA_CHECK(cells.cell_of[i] < cells.size(), InvalidArgument, "count_cells: document {} is in cell {} of {}",
                    i, cells.cell_of[i], cells.size());
    texts[cells.cell_of[i]].push_back(corpus[i].text);
  }
  std::vector<NGramCounts> counts;
  counts.reserve(cells.size());
  for (const auto& t : texts) counts.emplace_back(t, cells.order);
  return counts;
}

std::vector<NGramPersona> fit_cells(const std::vector<NGramCounts>& counts, const std::vector<CellFit>& fits) {
  std::vector<NGramPersona> out;
  for (const CellFit& fit : fits) {
    SIMULACRA_CHECK(!counts.empty(), InvalidArgument, "fit_cells: no counts");
    NGramCounts merged({}, counts.front().order());
    for (std::size_t c : fit.cells) {
      SIMULACRA_CHECK(c < counts.size(), InvalidArgument, "fit_cells: cell {} of {}", c, counts.size());
      merged.merge(counts[c]);
    }
    out.push_back(merged.num_documents() == 0 && fit.blank_if_empty ? NGramCounts({""}, fit.order).to_persona()
                                                                     : merged.truncated(fit.order).to_persona());
  }
  return out;
}

namespace {

Mixture train_with(const Corpus& corpus, const TrainConfig& config, TrainReport* report,
                   const std::vector<NGramCounts>* cell_counts, const CellFitter* fitter, const JobMap* map) {
  const auto start = std::chrono::steady_clock::now();
  const TrainCells cells = train_cells(corpus, config);
  std::vector<NGramCounts> counted;
  if (!fitter && !cell_counts) {
    counted = count_cells(corpus, cells);
  } else if (cell_counts) {
    SIMULACRA_CHECK(cell_counts->size() == cells.size(), InvalidArgument,
                    "train: {} cell counts given for {} cells", cell_counts->size(), cells.size());
    std::vector<std::uint64_t> tokens(cells.size(), 0);
    for (std::size_t i = 0; i < corpus.size(); ++i) tokens[cells.cell_of[i]] += corpus[i].text.size() + 1;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const NGramCounts& n = (*cell_counts)[c];
      SIMULACRA_CHECK(n.order() == cells.order && n.num_documents() == cells.documents[c] && n.num_tokens() == tokens[c],
                      InvalidArgument,
                      "train: the counts of cell {} (order {}, {} documents, {} tokens) are not those of its {} "
                      "documents of {} tokens at order {}",
                      c, n.order(), n.num_documents(), n.num_tokens(), cells.documents[c], tokens[c], cells.order);
    }
  }
  const std::vector<NGramCounts>& counts = cell_counts ? *cell_counts : counted;
  const std::vector<std::string>& names = cells.names;
  Eigen::VectorXd prior(Eigen::Index(names.size()));
  for (std::size_t k = 0; k < names.size(); ++k) prior[Eigen::Index(k)] = double(corpus.texts_of(names[k]).size());

  MixtureConfig mcfg = config.mixture;
  TrainReport rep;
  const bool automatic = config.order == TrainConfig::kAutoOrder;
  const bool fit_alpha = config.fit_alpha && mcfg.switching == Switching::kFixedShare && !config.alpha_grid.empty();
  int order = automatic ? TrainConfig::kFallbackOrder : config.order;
  std::vector<double> weights(names.size(), 0.5);
  Calibration calibration;
  const bool probe = probes(config);
  if (probe) {
    const Corpus heldout = corpus.split(config.heldout_fraction, config.seed).second;
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
      const auto consider = [&](Candidate& c) {  // in order of the grid
        if (automatic) {
          rep.orders.push_back(c.order);
          rep.order_heldout_bits.push_back(-c.best_logprob / (double(std::max<std::size_t>(bytes, 1)) * std::log(2.0)));
        }
        if (c.best_logprob > best.best_logprob || best.order == 0) best = std::move(c);
      };
      if (map) {  // each order a job, quiet
        std::vector<Candidate> tried(orders.size());
        TrainConfig quiet = config;
        quiet.on_progress = nullptr;
        if (config.on_progress && automatic) config.on_progress({"order", "", 0, int(orders.size())});
        run_jobs(*map, orders.size(), [&](std::size_t i) {
          tried[i] =
              try_order(orders[i], cells, counts, fitter, heldout, names, prior, mcfg, fit_alpha, stream, bytes, quiet);
        });
        for (Candidate& c : tried) consider(c);
      } else {  // one pile at a time besides the best
        for (std::size_t i = 0; i < orders.size(); ++i) {
          if (config.on_progress && automatic)
            config.on_progress({"order", std::to_string(orders[i]), int(i), int(orders.size())});
          Candidate c =
              try_order(orders[i], cells, counts, fitter, heldout, names, prior, mcfg, fit_alpha, stream, bytes, config);
          consider(c);
        }
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
        calibration = calibrate(corpus, cells, counts, fitter, map, prior, order, weights, config, rep);
    }
  }
  std::shared_ptr<const Persona> background;
  std::vector<std::shared_ptr<const Persona>> personas = fit_personas(
      cells, counts, [](int, bool) { return true; }, order, config, probe ? "refit" : "persona", &background, fitter);
  if (config.background) {
    personas = interpolate(personas, background, weights);
    rep.background_weights = weights;
  }
  Mixture mixture(std::move(personas), names, prior, mcfg);
  const AttributionTempering& tempering = calibration.tempering;
  mixture.set_attribution_beta(tempering.beta, tempering.exponent);
  if (calibration.order != 0 && calibration.order != order) {
    // The evidence at its own order: the personas (and the background) of the whole corpus at that order.
    std::shared_ptr<const Persona> evidence_background;
    std::vector<std::shared_ptr<const Persona>> evidence = fit_personas(
        cells, counts, [](int, bool) { return true; }, calibration.order, config, "refit", &evidence_background, fitter);
    if (config.background)
      evidence = interpolate(evidence, evidence_background, std::vector<double>(names.size(), calibration.own_weight));
    mixture.set_attribution_personas(std::move(evidence), calibration.own_weight);
  } else if (calibration.own_weight >= 0.0) {
    mixture.set_attribution_personas(attribution_reweighted(mixture, calibration.own_weight), calibration.own_weight);
  }
  rep.attribution_own_weight = calibration.own_weight;
  rep.attribution_order = calibration.order;
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

}  // namespace

Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report,
              const std::vector<NGramCounts>* cell_counts) {
  return train_with(corpus, config, report, cell_counts, nullptr, nullptr);
}

Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report, const CellFitter& fitter) {
  SIMULACRA_CHECK(bool(fitter), InvalidArgument, "train: an empty fitter");
  return train_with(corpus, config, report, nullptr, &fitter, nullptr);
}

Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report, const CellFitter& fitter,
              const JobMap& map) {
  SIMULACRA_CHECK(bool(map), InvalidArgument, "train: an empty job map");
  return train_with(corpus, config, report, nullptr, fitter ? &fitter : nullptr, &map);
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
