// simulacra/batch.hpp — many documents at once: scores and attributions of a
// batch, spread over the OpenMP threads (all cores unless OMP_NUM_THREADS or
// omp_set_num_threads says otherwise).
//
// Each document is scored by the very call that scores it alone
// (Mixture::score, Mixture::attribute), so entry i of a batch is bit for bit
// what that call returns for texts[i]; only the order in which documents are
// read changes. Documents are handed to threads one at a time (dynamic
// schedule), so a batch of uneven lengths keeps every core busy.
//
// Errors: the first failing document (lowest index) decides: its exception is
// rethrown with the same type (InvalidArgument, OutOfRange, FileError) and
// its message prefixed by "texts[i]: "; the other threads stop taking new
// documents. Interrupts: the calling thread polls the interrupt check
// (interrupt.hpp) while it scores its documents; when it trips, no thread
// takes a new document and Interrupted is thrown once the documents being
// read are done. Nothing given is changed.
//
//   std::vector<std::string> texts = {"Arr, matey!", "O moon"};
//   Eigen::VectorXd lp = simulacra::score_batch(mix, texts);        // (2) natural-log
//   Eigen::MatrixXd post = simulacra::attribute_batch(mix, texts);  // (2, K) natural-log posteriors
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"

namespace simulacra {

// (N) natural-log probability of each document (bytes + end boundary):
// out[i] == mixture.score(texts[i], steering). The steering is checked once,
// before any work (what Mixture::check(Steering) throws).
Eigen::VectorXd score_batch(const Mixture& mixture, const std::vector<std::string>& texts,
                            const Steering& steering = {});

// (N, K) natural-log posteriors over personas, row i == mixture.attribute(texts[i])
// (the attribution tempering at each document's own length), persona k in
// column k.
Eigen::MatrixXd attribute_batch(const Mixture& mixture, const std::vector<std::string>& texts);

// The same with one beta for every document: row i == mixture.attribute(texts[i], beta).
// InvalidArgument for beta outside (0, MixtureConfig::kMaxBeta], before any work.
Eigen::MatrixXd attribute_batch(const Mixture& mixture, const std::vector<std::string>& texts, double beta);

}  // namespace simulacra
