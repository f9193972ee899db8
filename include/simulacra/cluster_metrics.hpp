// simulacra/cluster_metrics.hpp — scoring discovered personas against labels.
//
// Personas discovered from an unlabelled pile (EM over documents or segments)
// come with arbitrary indices: discovered persona 2 may be the true label 0.
// These scores compare two labelings of the same n items without caring how
// either is numbered. With n_ij the contingency table (items in discovered
// persona i and true label j), a_i and b_j its row and column sums:
//
//   H(U)  = -sum_i (a_i / n) log(a_i / n)           (natural logs; likewise H(V) over b_j)
//   MI    =  sum_ij (n_ij / n) log(n n_ij / (a_i b_j))
//   NMI   =  MI / ((H(U) + H(V)) / 2)                (arithmetic mean: scikit-learn's default)
//   ARI   =  2 (tp tn - fn fp) / ((tp + fn)(fn + tn) + (tp + fp)(fp + tn))
//            (tp, fp, fn, tn: pairs of items together in both, only in the
//             discovered, only in the true labeling, apart in both)
//   purity = (1 / n) sum_i max_j n_ij
//
// match_personas pairs discovered personas with labels one to one (the
// Hungarian method, maximising the items on matched pairs) and reports the
// accuracy of that relabeling with the confusion matrix reordered so that
// the matched pairs lie on its diagonal. boundary_f1 scores the switch points
// of a segment-level run (byte positions) against the true ones.
//
//   std::vector<int> found = ...;   // (n) discovered persona of each document
//   std::vector<int> truth = ...;   // (n) its label
//   double nmi = simulacra::normalized_mutual_info(found, truth);
//   simulacra::PersonaMatch m = simulacra::match_personas(found, truth);
//   // m.mapping[k]: the label of discovered persona k; m.accuracy; m.confusion
//
// Labels are non-negative ints; the two labelings may use different numbers
// of labels. docs/concepts.md ("Scoring discovered personas") has the
// formulas and the degenerate cases.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace simulacra {

// An integer count matrix.
using CountMatrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic>;

// ------------------------------------------------------------------ labelings

// (K, L) counts, K = max(predicted) + 1 and L = max(truth) + 1: entry (i, j)
// is the number of positions t with predicted[t] == i and truth[t] == j
// (rows and columns are label values, so a label never used is a zero row or
// column). InvalidArgument if the lengths differ, the input is empty, a
// label is negative, or the table would exceed 2^26 entries (labels that
// large are ids, not persona indices: renumber them 0..K-1 first).
CountMatrix contingency_table(const std::vector<int>& predicted, const std::vector<int>& truth);

// Normalised mutual information of two labelings, MI / ((H(U) + H(V)) / 2)
// in natural logs (the arithmetic-mean normalisation, scikit-learn's default
// for normalized_mutual_info_score), in [0, 1] and symmetric. Degenerate
// cases as scikit-learn: 1 when both labelings put every item in one label
// (nothing to disagree about), 0 when the mutual information is 0 otherwise
// (in particular when only one of them has a single label). Labels may be
// any non-negative ints (only which items share one matters). InvalidArgument
// if the lengths differ, the input is empty or a label is negative.
double normalized_mutual_info(const std::vector<int>& predicted, const std::vector<int>& truth);

// Adjusted Rand index (Hubert & Arabie 1985) of two labelings: the Rand
// index corrected for chance, 1 for identical partitions, about 0 for
// independent ones, down to -0.5; symmetric. 1 when no pair is split by one
// labeling and joined by the other (identical partitions, including both a
// single label or both all singletons), as scikit-learn's adjusted_rand_score.
// Checked as normalized_mutual_info.
double adjusted_rand_index(const std::vector<int>& predicted, const std::vector<int>& truth);

// Purity of `predicted` against `truth`: the share of items whose discovered
// persona's most common true label is their own, (1 / n) sum_i max_j n_ij.
// Not symmetric, and 1 whenever every item is its own cluster: report it
// beside NMI or ARI. Checked as normalized_mutual_info.
double purity(const std::vector<int>& predicted, const std::vector<int>& truth);

// ------------------------------------------------------------------ matching

// The assignment of rows of `weight` (R, C) to distinct columns maximising
// the sum of the chosen entries: (R) the column of each row, -1 for the
// R - C rows left out when R > C (every row is assigned when R <= C).
// Kuhn-Munkres with potentials (shortest augmenting paths), O(min(R, C)^2
// max(R, C)). Among several optimal assignments one is returned,
// deterministically. InvalidArgument for an empty matrix or a non-finite
// entry.
std::vector<int> max_weight_assignment(const Eigen::MatrixXd& weight);

// Discovered personas matched one to one with true labels (match_personas).
struct PersonaMatch {
  // (K) the true label matched to discovered persona k, or -1 when K > L
  // leaves it unmatched (K, L as in contingency_table).
  std::vector<int> mapping;
  // (N) N = max(K, L): order[j] is the discovered persona in column j of
  // `confusion`: the one matched to label j for j < L, then the unmatched
  // personas in increasing order; -1 for a label no persona was matched to.
  std::vector<int> order;
  // (N, N) confusion(j, c) = items with true label j and discovered persona
  // order[c] (rows: labels, with zero rows j >= L; columns: personas, zero
  // where order[c] is -1). Its trace is `matched`.
  CountMatrix confusion;
  std::int64_t matched = 0;  // items whose persona is matched to their label
  double accuracy = 0.0;     // matched / n
};

// The one-to-one matching of discovered personas to true labels that
// maximises the number of items in matched pairs (max_weight_assignment of
// the contingency table), its accuracy and the reordered confusion matrix.
// Checked as contingency_table.
PersonaMatch match_personas(const std::vector<int>& predicted, const std::vector<int>& truth);

// ------------------------------------------------------------------ segmentation

// Precision, recall and F1 of predicted boundaries against true ones.
struct BoundaryScore {
  double precision = 0.0;   // matched / predicted (1 when nothing is predicted)
  double recall = 0.0;      // matched / truth (1 when there is no true boundary)
  double f1 = 0.0;          // 2 P R / (P + R) (0 when P + R = 0)
  std::int64_t matched = 0;    // predicted boundaries paired with a true one
  std::int64_t predicted = 0;  // predicted boundaries
  std::int64_t truth = 0;      // true boundaries
};

// Boundary F1 of a segmentation: boundaries are byte positions (where a new
// segment begins), in any order. A predicted boundary p and a true one t can
// be paired when |p - t| <= tolerance; each is paired at most once, and the
// pairing is a maximum one (as many pairs as any one-to-one pairing could
// have: a sweep over both sorted lists, exact because every window
// [p - tolerance, p + tolerance] starts and ends in the order of p). Empty
// lists are allowed (a run without switches). InvalidArgument for a negative
// tolerance, a negative position, or a position given twice in one list.
BoundaryScore boundary_f1(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& truth,
                          std::int64_t tolerance);

// The boundaries of a per-position labeling (per byte: the dominant persona
// of a trace or of smoothing): every t >= 1 with labels[t] != labels[t - 1],
// increasing. Any ints (no check of their sign); empty for fewer than 2.
std::vector<std::int64_t> label_boundaries(const std::vector<int>& labels);

}  // namespace simulacra
