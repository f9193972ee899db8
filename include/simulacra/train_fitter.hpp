// simulacra/train_fitter.hpp — train() with its models made elsewhere.
//
// Every model train() fits (ngram_train.hpp: each candidate order's personas
// and background on the training side, each calibration fold's, the final
// ones) is the Kneser-Ney model of a union of cells (TrainCells) at an
// order. A CellFitter makes a batch of them (one call per stage: the K
// personas and the background together), from counts it holds itself:
// simulacra.dask.fit_mixture builds them on the workers from the cells'
// counts merged there, so the driver never holds the counts. fit_cells is
// what train() does with counts in hand; a fitter must give the same models
// (bit for bit: merged counts are exact, ngram_counts.hpp).
#pragma once

#include <functional>
#include <vector>

#include "simulacra/ngram_train.hpp"

namespace simulacra {

// One model to make: the model at `order` of the documents of `cells`
// (their counts merged, truncated to `order`, to_persona()); no document
// there gives the model of one empty document when blank_if_empty (a
// persona), InvalidArgument otherwise (a background).
struct CellFit {
  std::vector<std::size_t> cells;
  int order = 0;
  bool blank_if_empty = true;
};

using CellFitter = std::function<std::vector<NGramPersona>(const TrainCells& cells, const std::vector<CellFit>& fits)>;

// The models of `fits` from the cells' counts (count_cells).
std::vector<NGramPersona> fit_cells(const std::vector<NGramCounts>& counts, const std::vector<CellFit>& fits);

// train() with every model made by `fitter` (no counting here): the same
// mixture as train(corpus, config, report) when the fitter gives what
// fit_cells gives. InvalidArgument if it returns another number of models.
Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report, const CellFitter& fitter);

// The held-out stages' independent jobs run elsewhere: map(n, run) must call
// run(i) once for every i in [0, n), in any order, on any threads (a thread
// pool, or futures of a cluster), and return when all are done, rethrowing
// an exception of a job. train() maps one job per candidate order (its
// training-side pile fitted and scored on the held-out stream over the alpha
// grid) and one per calibration fold (the pile fitted on the other folds,
// the fold's segments scored); each job writes only its own result, which
// train() then reads in job order, so the mixture is the one of the plain
// loop bit for bit, whatever the map's order or concurrency. Within a job
// progress is not reported (the stage's start and end are); a concurrent map
// needs a fitter that may be called from several threads at once.
using JobMap = std::function<void(std::size_t n, const std::function<void(std::size_t)>& run)>;

// train() with the held-out jobs run by `map` and every model made by
// `fitter` (an empty fitter: counted and fitted here, as train()).
Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report, const CellFitter& fitter,
              const JobMap& map);

}  // namespace simulacra
