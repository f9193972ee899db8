// simulacra/train.hpp — supervised training of a pile of n-gram masks.
//
// From a corpus of documents labelled with persona names: each persona is a
// Kneser-Ney model of its own documents, the prior is the share of documents
// of each persona, and with fixed-share switching the rate alpha is chosen on
// held-out text by maximising its likelihood over a grid:
//
//   1. split the corpus (stratified per persona, seeded) into train / held-out;
//   2. fit the personas on the train part;
//   3. read the held-out documents, in a seeded random order, as one stream
//      (so masks switch at every document boundary) and pick the alpha of
//      the grid with the highest log-likelihood;
//   4. refit the personas on the whole corpus.
//
//   simulacra::TrainConfig cfg;            // order 5, fixed share, alpha fitted
//   simulacra::TrainReport report;
//   simulacra::Mixture mix = simulacra::train(simulacra::Corpus::builtin(), cfg, &report);
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simulacra/corpus.hpp"
#include "simulacra/mixture.hpp"

namespace simulacra {

// Where a training run is, for progress callbacks.
struct TrainProgress {
  std::string stage;  // "persona" (fitting persona `name`), "alpha" (scoring a grid point),
                      // "refit" (fitting persona `name` on the whole corpus after alpha was chosen)
  std::string name;   // persona name, or the alpha value as text
  int done = 0;       // steps of this stage finished
  int total = 0;      // steps of this stage in all
};

struct TrainConfig {
  int order = 5;                      // n-gram order of every persona, 1..NGramPersona::kMaxOrder
  MixtureConfig mixture = fixed_share_default();  // switching of the trained mixture
  bool fit_alpha = true;              // with fixed share: choose alpha on held-out documents
  std::vector<double> alpha_grid = {0.0, 1e-5, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3};  // candidates, each in [0, 1]
  double heldout_fraction = 0.1;      // share of each persona's documents held out for alpha, in [0, 1)
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
  double alpha = 0.0;                    // the alpha of the returned mixture
  std::vector<double> alpha_grid;        // the candidates scored (empty when not fitted)
  std::vector<double> heldout_bits;      // held-out bits per byte for each candidate
  std::size_t heldout_documents = 0;     // documents in the held-out stream
};

// Trains a mixture on `corpus`. InvalidArgument for an empty corpus, a bad
// order, fraction or grid value; a persona whose documents hold no bytes
// still gets a model (it predicts the end of a document).
Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report = nullptr);

// Share of the documents of `corpus` whose most probable author under
// mixture.attribute() is their labelled persona. Documents whose persona the
// mixture does not know count as wrong. InvalidArgument for an empty corpus.
double attribution_accuracy(const Mixture& mixture, const Corpus& corpus);

}  // namespace simulacra
