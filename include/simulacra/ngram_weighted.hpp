// simulacra/ngram_weighted.hpp — n-gram personas fitted on weighted documents.
//
// Each document d carries a weight w_d >= 0 (w = 0: absent, w = 1: present
// once; EM gives fractional responsibilities). The result is an ordinary
// interpolated NGramPersona (kind "ngram": the same trie of {disc, gamma},
// saved and loaded unchanged), so a model fitted on fractional counts is used
// everywhere a Kneser-Ney one is. Two estimators, natural-log at the API:
//
// Dirichlet (additive, interpolated Dirichlet prior; MacKay & Peto 1995), on
// the expected counts c(s) = sum_d w_d n_d(s) (n_d(s): occurrences of the
// n-gram s in document d, start boundary included as in ngram.hpp):
//
//   p_n(w | h) = (c(hw) + mu p_{n-1}(w | h')) / (c(h.) + mu),   p_0(w) = 1 / kVocab
//
//   stored as disc(hw) = c(hw) / (c(h.) + mu), gamma(h) = mu / (c(h.) + mu);
//   discounts() of the model are all 0 (nothing is discounted).
//
// Expected Kneser-Ney (Zhang & Chiang 2014, "Kneser-Ney smoothing on expected
// counts"), weights in [0, 1]: every occurrence of an n-gram in document d is
// kept with probability w_d, independently. Each count a(s) (raw at the top
// order and for n-grams that begin with the start boundary, the continuation
// count N1+(. s) otherwise, as in ngram.hpp) is then a sum of independent
// Bernoulli variables (a continuation count: one per left extension x s,
// present with probability 1 - P(c(x s) = 0)), whose distribution
// P(a = 0..4), P(a >= 5) is computed exactly by dynamic programming. Then
//
//   E[t_r]    = sum_s P(a(s) = r)          (expected count-of-counts, r = 1..4, per order)
//   D1, D2, D3+ from E[t_1..4] by the formula of ngram.hpp (same fallback)
//   E[D(a)]   = D1 P(a = 1) + D2 P(a = 2) + D3+ P(a >= 3)
//   p_n(w | h) = (E[a(hw)] - E[D(a(hw))]) / E[a(h.)] + gamma(h) p_{n-1}(w | h'),
//   gamma(h)   = sum_w E[D(a(hw))] / E[a(h.)]
//
// With every weight 0 or 1 all the distributions are points and both
// estimators are the integer-count ones: expected Kneser-Ney equals
// NGramPersona::fit of the documents of weight 1 (bit for bit in the tests).
// docs/concepts.md ("Personas on fractional counts") says why these two.
//
// DocumentNGrams holds a corpus's n-grams counted once (the trie skeleton and,
// per document, the n-gram that predicts each of its tokens), so that a fit
// for new weights is one pass over the documents' n-grams and the trie, with
// no sorting: discovery.hpp refits K personas per EM iteration this way.
//
//   simulacra::DocumentNGrams counts(texts, /*order=*/3);
//   simulacra::NGramPersona lm = counts.fit(weights, {simulacra::WeightedSmoothing::kDirichlet, 2.0});
//   // or in one call:
//   auto lm2 = simulacra::fit_weighted(texts, weights, 3, {simulacra::WeightedSmoothing::kExpectedKneserNey});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simulacra/ngram.hpp"

namespace simulacra {

enum class WeightedSmoothing { kDirichlet, kExpectedKneserNey };

// "dirichlet", "expected_kneser_ney".
std::string weighted_smoothing_name(WeightedSmoothing s);
// The inverse of weighted_smoothing_name ("ekn" and "kneser_ney" also name
// expected Kneser-Ney); InvalidArgument for an unknown name.
WeightedSmoothing weighted_smoothing_from_name(const std::string& name);

struct WeightedFitConfig {
  WeightedSmoothing smoothing = WeightedSmoothing::kDirichlet;  // the estimator
  double mu = 2.0;  // Dirichlet concentration, finite and > 0 (pseudo-counts given to the lower order)
};

// InvalidArgument naming `what` unless config.mu is finite and > 0.
void check_weighted_config(const WeightedFitConfig& config, const char* what);

class DocumentNGrams {
 public:
  // Counts the n-grams of `documents` (raw bytes, one document each) at
  // `order`. InvalidArgument if the order fails NGramPersona::check_order,
  // there are no documents, or the corpus exceeds 2^32 - 1 tokens.
  DocumentNGrams(const std::vector<std::string>& documents, int order);

  int order() const { return order_; }
  std::size_t num_documents() const { return doc_begin_.size() - 1; }
  // Trie nodes of all levels (root included); node ids are global, level n
  // holding ids [level_begin(n), level_begin(n + 1)).
  std::size_t num_nodes() const { return level_begin_.back(); }
  std::uint32_t level_begin(int n) const { return level_begin_[std::size_t(n)]; }

  // The model of the documents weighted by `weights` (one per document,
  // finite and >= 0; for expected Kneser-Ney also <= 1). InvalidArgument
  // naming the size mismatch, the bad weight and its document, or a bad mu.
  // All weights 0 gives the uniform model.
  NGramPersona fit(const std::vector<double>& weights, const WeightedFitConfig& config = {}) const;

  // --- the predictive n-grams (for discovery.hpp's M-step) ------------------
  // Every token of document d (its bytes, then the end boundary) is predicted
  // by one n-gram of the trie: its deepest context (the last order-1 tokens,
  // or all of them back to the start boundary) followed by the token. Those
  // of document d, with their multiplicities, are node(i), count(i) for i in
  // [doc_begin(d), doc_begin(d + 1)), node ids sorted.
  std::size_t doc_begin(std::size_t d) const { return doc_begin_[d]; }
  std::uint32_t node(std::size_t i) const { return doc_node_[i]; }
  std::uint32_t count(std::size_t i) const { return doc_count_[i]; }
  // The context node of node g (its n-gram without the last token; the root
  // for unigrams) and its suffix (without the first token; the root for
  // unigrams), as global ids. g must not be the root.
  std::uint32_t parent(std::uint32_t g) const { return parent_[g]; }
  std::uint32_t suffix(std::uint32_t g) const { return suffix_[g]; }

  // (num_nodes()) for each node g at level n >= 1, the probability `lm`
  // gives its last token after its first n - 1 tokens (the interpolated
  // p_n, as the walk computes it; 0 for the root).
  // `lm` must have been made by fit() of these counts: InvalidArgument if
  // its trie has other sizes.
  std::vector<double> node_probabilities(const NGramPersona& lm) const;

  // The trie levels with tokens and child ranges (disc 0, gamma 1), as a
  // model would store them.
  const std::vector<NGramPersona::Level>& levels() const { return levels_; }

 private:
  // The first node whose suffix is not the root (num_nodes() at order 1).
  std::size_t lowest_with_suffix() const { return order_ >= 2 ? level_begin_[2] : num_nodes(); }
  void check_weights(const std::vector<double>& weights, bool at_most_one) const;
  NGramPersona fit_dirichlet(const std::vector<double>& weights, double mu) const;
  NGramPersona fit_expected_kn(const std::vector<double>& weights) const;

  int order_ = 0;
  std::vector<NGramPersona::Level> levels_;
  std::vector<std::uint32_t> level_begin_;   // (order + 2) global id of each level's first node, then the total
  std::vector<std::uint32_t> first_start_;   // (order + 1) first node of level n beginning with the start boundary
  std::vector<std::uint32_t> parent_, suffix_;  // (num_nodes) global ids
  std::vector<std::size_t> doc_begin_;          // (documents + 1)
  std::vector<std::uint32_t> doc_node_, doc_count_;
};

// DocumentNGrams(documents, order).fit(weights, config): one weighted fit.
NGramPersona fit_weighted(const std::vector<std::string>& documents, const std::vector<double>& weights, int order,
                          const WeightedFitConfig& config = {});

}  // namespace simulacra
