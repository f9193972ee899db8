// simulacra/ngram_train.hpp — supervised training of a pile of n-gram masks.
//
// From a corpus of documents labelled with persona names: each persona is a
// Kneser-Ney model of its own documents, interpolated with a shared
// background model of all the text (background.hpp), the prior is the share
// of documents of each persona, and every hyper-parameter is chosen on
// held-out documents for the job it serves:
//
//   1. split the corpus (stratified per persona, seeded) into train / held-out;
//   2. for each candidate order (order_grid when order is 0, "auto"): fit the
//      personas and the background on the train part, fit each persona's
//      background weight lambda_k on its own held-out documents (EM's fixed
//      point, fit_interpolation_weight), read the held-out documents in a
//      seeded random order as one stream (masks switch at every document
//      boundary) and score it at every alpha of the grid; keep the order and
//      the alpha with the highest held-out log-likelihood;
//   3. with fixed share: fit the switching for segmentation on the same
//      held-out documents joined end to end (switching_fit.hpp): the rate and
//      the tempering (over segmentation_beta_grid) maximising the likelihood
//      of the true speaker sequence given the text; the mixture keeps the
//      compression rate of step 2 for its filter and this pair for smooth()
//      and attribute_spans() (Mixture::segmentation_config);
//   4. calibrate attribution by cross-fitting: cut each persona's documents
//      into calibration_folds contiguous blocks; for each block, fit the pile
//      (chosen order and weights) on the rest and score segments of
//      calibration_lengths bytes of the block's text; fit the attribution
//      tempering (beta and its length exponent) minimising the log-loss of
//      the true persona over all of them, each length weighted alike
//      (calibration.hpp); with the background, do so for the masks and for
//      each own share of attribution_own_weights (every persona's own model
//      and the background mixed with that one share) and keep the evidence
//      with the lowest log-loss (Mixture::attribution_personas); each
//      candidate share is tried at the chosen order and at every order of
//      attribution_orders (personas and background refitted per fold at that
//      order; with a fixed order, only those up to it), so attribute()'s
//      evidence may be read at another order than the masks'; ECE before
//      (beta = 1) and after;
//   5. refit the personas and the background on the whole corpus with the
//      chosen order, weights, rates and betas (and, when the evidence's order
//      is another, the evidence's personas and background at its order).
//
// Without held-out documents (heldout_fraction 0, or too few documents) the
// order "auto" is kFallbackOrder, every lambda 0.5 and the attribution beta 1.
// The hold-out of step 4 covers the whole corpus, because a persona's held-out
// share (a few KB) holds few segments of 1000 bytes and none of 3000.
//
//   simulacra::TrainConfig cfg;            // order auto, background on, alpha and beta fitted
//   simulacra::TrainReport report;
//   simulacra::Mixture mix = simulacra::train(simulacra::Corpus::builtin(), cfg, &report);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simulacra/corpus.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram_counts.hpp"

namespace simulacra {

// Where a training run is, for progress callbacks.
struct TrainProgress {
  std::string stage;  // "order" (trying order `name`), "persona" (fitting persona `name`; "" for the
                      // background), "alpha" (scoring a grid point), "segmentation" (fitting the
                      // segmentation rate and beta), "calibration" (fitting the
                      // attribution beta), "refit" (fitting persona `name` on the whole corpus)
  std::string name;   // persona name, or the order / alpha value as text
  int done = 0;       // steps of this stage finished
  int total = 0;      // steps of this stage in all
};

struct TrainConfig {
  static constexpr int kAutoOrder = 0;      // order: choose it from order_grid on held-out text
  static constexpr int kFallbackOrder = 3;  // the order "auto" gives when nothing is held out
  int order = kAutoOrder;             // n-gram order of every persona, 1..NGramPersona::kMaxOrder, or kAutoOrder
  std::vector<int> order_grid = {2, 3, 4, 5, 6, 7, 8};  // candidates of the order "auto", each 1..kMaxOrder
  bool background = true;             // interpolate each persona with a background model of all the text
  bool fit_attribution_beta = true;   // calibrate attribute() on held-out segments
  std::vector<int> calibration_lengths = {100, 300, 1000, 3000};  // segment bytes for the beta, each >= 1
  int calibration_folds = 3;          // cross-fitting folds of the calibration, >= 2 (docs/concepts.md: why 3)
  // With the background: candidate own shares of attribute()'s evidence, each in [0, 1], tried beside the masks'
  // own fitted weights; the lowest held-out log-loss of the true persona wins (Mixture::attribution_personas).
  std::vector<double> attribution_own_weights = {0.25, 0.5, 0.75, 1.0};
  // Orders of attribute()'s evidence tried beside the chosen order, each 1..NGramPersona::kMaxOrder (empty:
  // the chosen order only; with a fixed order, those above it are not counted and not tried): every
  // (order, own share) pair is a candidate, judged by the same held-out log-loss, so the evidence need not
  // be read at the order chosen for compression.
  std::vector<int> attribution_orders = {2, 3, 4, 5};
  bool fit_segmentation = true;       // with fixed share: fit the segmentation rate and beta (step 3)
  std::vector<double> segmentation_beta_grid = {0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0};  // its betas, each in (0, 1e289]
  // The held-out documents of one persona are joined into parts of at least this many bytes before the
  // parts are laid end to end for the segmentation fit (0: every document a part). The fitted rate follows
  // the parts' length: set it to the length of the turns the pile will read when that is not the documents'.
  std::size_t segmentation_part_bytes = 0;
  MixtureConfig mixture = fixed_share_default();  // switching of the trained mixture
  bool fit_alpha = true;              // with fixed share: choose alpha on held-out documents
  std::vector<double> alpha_grid = {0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3};  // candidates, each in [0, 1]
  double heldout_fraction = 0.1;      // share of each persona's documents held out, in [0, 1)
  std::uint64_t seed = 0;             // seed of the split and of the held-out order
  // Called as training advances; may throw to cancel (the exception propagates).
  std::function<void(const TrainProgress&)> on_progress;

  static MixtureConfig fixed_share_default() {
    MixtureConfig c;
    c.switching = Switching::kFixedShare;
    c.alpha = 1e-3;
    return c;
  }
};

// What training chose, for the record.
struct TrainReport {
  double alpha = 0.0;                    // the alpha of the returned mixture's filter (the compression rate)
  double alpha_compression = 0.0;        // the rate maximising the held-out likelihood of the text (= alpha when fitted)
  double alpha_segmentation = -1.0;      // the rate maximising log p(true speakers | text) on held-out joined documents (-1: not fitted)
  double beta_segmentation = 1.0;        // the tempering fitted with it
  std::size_t segmentation_switches = 0; // changes of speaker in the joined held-out stream
  std::vector<double> alpha_grid;        // the candidates scored at the chosen order (empty when not fitted)
  std::vector<double> heldout_bits;      // held-out bits per byte for each candidate
  std::size_t heldout_documents = 0;     // documents in the held-out stream
  int order = 0;                         // the n-gram order of the returned mixture
  std::vector<int> orders;               // the orders tried (empty unless the order was "auto")
  std::vector<double> order_heldout_bits;  // held-out bits per byte of the pile at each, its best alpha
  std::vector<double> background_weights;  // (K) lambda_k, the own model's share (empty without background)
  double attribution_beta = 1.0;         // the attribution beta of the returned mixture (at 300 bytes)
  double attribution_exponent = 0.0;     // its decay with the length (Mixture::attribution_beta_at)
  double attribution_own_weight = -1.0;  // the own share of attribute()'s evidence (-1: the masks as they are)
  int attribution_order = 0;             // the order of attribute()'s evidence (0: not calibrated, the masks' order)
  std::vector<double> attribution_candidates;         // the shares tried (-1 first: the masks' own weights)
  std::vector<int> attribution_candidate_orders;      // the order of each candidate
  std::vector<double> attribution_candidate_logloss;  // held-out log-loss of the true persona (nats) at each
  std::vector<int> calibration_lengths;  // segment lengths calibrated on (those with a segment)
  std::vector<std::size_t> calibration_segments;  // held-out segments of each length
  std::vector<double> ece_before_by_length;  // ECE (10 bins) of attribute at beta 1, per length
  std::vector<double> ece_after_by_length;   // the same at the fitted beta
  double ece_before = 0.0;               // ECE of all the segments at beta 1 (0 when not calibrated)
  double ece_after = 0.0;                // ECE of all the segments at the fitted beta
  double train_seconds = 0.0;            // wall time of train()
};

// Counting, once: every model train() fits is the Kneser-Ney model of a set
// of documents made of whole cells, a cell being the documents of one
// persona in one calibration fold (step 4's blocks) on one side of step 1's
// split. train() counts each cell once at the largest order it may fit
// (NGramCounts) and makes every model from merged cell counts, truncated to
// the order wanted: bit for bit the fit of those documents (ngram_counts.hpp).
// The cells can be counted elsewhere (simulacra.dask counts them on a
// cluster) and handed to train().
struct TrainCells {
  int order = 0;                      // the counting order: the largest order train() may fit
  std::vector<std::string> names;     // the personas, sorted (the pile's order)
  int folds = 0;                      // calibration folds
  std::vector<std::size_t> cell_of;   // (documents) the cell of each document of the corpus
  std::vector<std::size_t> documents; // (size()) documents in each cell
  // Cell index of persona k, fold f, held out or not.
  std::size_t cell(std::size_t k, int f, bool heldout) const { return (k * std::size_t(folds) + std::size_t(f)) * 2 + heldout; }
  std::size_t size() const { return names.size() * std::size_t(folds) * 2; }
};

// The cells of `corpus` under `config` (checked as train() checks it).
TrainCells train_cells(const Corpus& corpus, const TrainConfig& config);

// (cells.size()) the counts of each cell's documents at cells.order.
std::vector<NGramCounts> count_cells(const Corpus& corpus, const TrainCells& cells);

// Trains a mixture on `corpus`. InvalidArgument for an empty corpus, a bad
// order, fraction, grid value or calibration length; a persona whose
// documents hold no bytes still gets a model (it predicts the end of a
// document). With cell_counts, the counts of train_cells(corpus, config)
// made elsewhere are used instead of counting (InvalidArgument if their
// number, order, documents or tokens do not match the cells): the result is
// the same mixture.
Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report = nullptr,
              const std::vector<NGramCounts>* cell_counts = nullptr);

// Share of the documents of `corpus` whose most probable author under
// mixture.attribute() is their labelled persona. Documents whose persona the
// mixture does not know count as wrong. InvalidArgument for an empty corpus.
double attribution_accuracy(const Mixture& mixture, const Corpus& corpus);

}  // namespace simulacra
