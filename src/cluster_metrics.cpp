// Scoring discovered personas against labels (cluster_metrics.hpp).
#include "simulacra/cluster_metrics.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>

#include "simulacra/error.hpp"

namespace simulacra {

namespace {

void check_labels(const std::vector<int>& predicted, const std::vector<int>& truth, const char* what) {
  SIMULACRA_CHECK(!predicted.empty() || !truth.empty(), InvalidArgument, "{}: predicted and truth are empty", what);
  SIMULACRA_CHECK(predicted.size() == truth.size(), InvalidArgument,
                  "{}: predicted has {} labels and truth {} (one each per item)", what, predicted.size(),
                  truth.size());
  for (const auto* labels : {&predicted, &truth})
    for (std::size_t t = 0; t < labels->size(); ++t)
      SIMULACRA_CHECK((*labels)[t] >= 0, InvalidArgument, "{}: label {} at position {} of {} is negative", what,
                      (*labels)[t], t, labels == &predicted ? "predicted" : "truth");
}

// A labeling renumbered 0..k-1 by increasing label value, with the size of each.
struct Coded {
  std::vector<int> code;              // (n)
  std::vector<std::int64_t> count;    // (k)
};

Coded coded(const std::vector<int>& labels) {
  std::vector<int> values = labels;
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  Coded c{std::vector<int>(labels.size()), std::vector<std::int64_t>(values.size(), 0)};
  for (std::size_t t = 0; t < labels.size(); ++t) {
    c.code[t] = int(std::lower_bound(values.begin(), values.end(), labels[t]) - values.begin());
    ++c.count[std::size_t(c.code[t])];
  }
  return c;
}

// The non-zero cells of the contingency table of two coded labelings.
struct Cell {
  int row, col;
  std::int64_t count;
};

struct Table {
  Coded rows, cols;
  std::vector<Cell> cells;  // sorted by (row, col)
  std::int64_t n = 0;
};

Table sparse_table(const std::vector<int>& predicted, const std::vector<int>& truth) {
  Table t{coded(predicted), coded(truth), {}, std::int64_t(predicted.size())};
  const auto L = std::int64_t(t.cols.count.size());
  std::vector<std::int64_t> keys(predicted.size());
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i] = t.rows.code[i] * L + t.cols.code[i];
  std::sort(keys.begin(), keys.end());
  for (std::size_t b = 0; b < keys.size();) {
    std::size_t e = b;
    while (e < keys.size() && keys[e] == keys[b]) ++e;
    t.cells.push_back({int(keys[b] / L), int(keys[b] % L), std::int64_t(e - b)});
    b = e;
  }
  return t;
}

// Natural-log entropy of the sizes of a labeling's groups.
double entropy(const std::vector<std::int64_t>& count, std::int64_t n) {
  double h = 0.0;
  for (const std::int64_t c : count) h -= double(c) / double(n) * (std::log(double(c)) - std::log(double(n)));
  return h;
}

// n choose 2.
std::int64_t pairs(std::int64_t n) { return n * (n - 1) / 2; }

}  // namespace

CountMatrix contingency_table(const std::vector<int>& predicted, const std::vector<int>& truth) {
  check_labels(predicted, truth, "contingency_table");
  const std::int64_t K = *std::max_element(predicted.begin(), predicted.end()) + std::int64_t(1);
  const std::int64_t L = *std::max_element(truth.begin(), truth.end()) + std::int64_t(1);
  SIMULACRA_CHECK(K * L <= (std::int64_t(1) << 26), InvalidArgument,
                  "contingency_table: labels up to {} (predicted) and {} (truth) make a {} x {} table; renumber "
                  "them 0..K-1",
                  K - 1, L - 1, K, L);
  CountMatrix table = CountMatrix::Zero(Eigen::Index(K), Eigen::Index(L));
  for (std::size_t t = 0; t < predicted.size(); ++t) ++table(predicted[t], truth[t]);
  return table;
}

double normalized_mutual_info(const std::vector<int>& predicted, const std::vector<int>& truth) {
  check_labels(predicted, truth, "normalized_mutual_info");
  const Table t = sparse_table(predicted, truth);
  const std::size_t K = t.rows.count.size(), L = t.cols.count.size();
  if (K == 1 && L == 1) return 1.0;  // one label in both: a perfect match
  if (K == 1 || L == 1) return 0.0;  // MI <= min(H(U), H(V)) = 0
  const double n = double(t.n), log_n = std::log(n);
  double mi = 0.0;
  for (const Cell& c : t.cells) {
    const double a = double(t.rows.count[std::size_t(c.row)]), b = double(t.cols.count[std::size_t(c.col)]);
    mi += double(c.count) / n * (std::log(double(c.count)) + log_n - std::log(a) - std::log(b));
  }
  if (mi <= 0.0) return 0.0;
  const double mean_h = 0.5 * (entropy(t.rows.count, t.n) + entropy(t.cols.count, t.n));
  return std::min(1.0, mi / mean_h);
}

double adjusted_rand_index(const std::vector<int>& predicted, const std::vector<int>& truth) {
  check_labels(predicted, truth, "adjusted_rand_index");
  const Table t = sparse_table(predicted, truth);
  std::int64_t together = 0, together_predicted = 0, together_truth = 0;
  for (const Cell& c : t.cells) together += pairs(c.count);
  for (const std::int64_t a : t.rows.count) together_predicted += pairs(a);
  for (const std::int64_t b : t.cols.count) together_truth += pairs(b);
  // Unordered pairs: together in both (tp), only in predicted (fp), only in truth (fn), apart in both (tn).
  const std::int64_t fp = together_predicted - together, fn = together_truth - together;
  if (fp == 0 && fn == 0) return 1.0;
  const long double tp = together, tn = (long double)(pairs(t.n) - together - fp - fn);
  const long double num = 2.0L * (tp * tn - (long double)fn * (long double)fp);
  const long double den = (tp + fn) * (fn + tn) + (tp + fp) * (fp + tn);
  return double(num / den);
}

double purity(const std::vector<int>& predicted, const std::vector<int>& truth) {
  check_labels(predicted, truth, "purity");
  const Table t = sparse_table(predicted, truth);
  std::int64_t sum = 0;
  for (std::size_t b = 0; b < t.cells.size();) {  // cells of one row are adjacent
    std::int64_t best = 0;
    std::size_t e = b;
    for (; e < t.cells.size() && t.cells[e].row == t.cells[b].row; ++e) best = std::max(best, t.cells[e].count);
    sum += best;
    b = e;
  }
  return double(sum) / double(t.n);
}

std::vector<int> max_weight_assignment(const Eigen::MatrixXd& weight) {
  SIMULACRA_CHECK(weight.size() > 0, InvalidArgument, "max_weight_assignment: weight is empty ({} x {})",
                  weight.rows(), weight.cols());
  for (Eigen::Index i = 0; i < weight.rows(); ++i)
    for (Eigen::Index j = 0; j < weight.cols(); ++j)
      SIMULACRA_CHECK(std::isfinite(weight(i, j)), InvalidArgument, "max_weight_assignment: weight ({}, {}) is {}",
                      i, j, weight(i, j));
  // Minimum cost of cost = -weight, rows (the smaller side) 1..n to columns 1..m, n <= m.
  const bool transposed = weight.rows() > weight.cols();
  const Eigen::MatrixXd cost = transposed ? Eigen::MatrixXd(-weight.transpose()) : Eigen::MatrixXd(-weight);
  const int n = int(cost.rows()), m = int(cost.cols());
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(std::size_t(n) + 1, 0.0), v(std::size_t(m) + 1, 0.0);  // potentials
  std::vector<int> row_of(std::size_t(m) + 1, 0), way(std::size_t(m) + 1, 0);  // column 0: the row being added
  for (int i = 1; i <= n; ++i) {
    row_of[0] = i;
    int j0 = 0;
    std::vector<double> reach(std::size_t(m) + 1, inf);
    std::vector<char> used(std::size_t(m) + 1, 0);
    do {  // Dijkstra over reduced costs until a free column is reached
      used[std::size_t(j0)] = 1;
      const int i0 = row_of[std::size_t(j0)];
      double delta = inf;
      int j1 = 0;
      for (int j = 1; j <= m; ++j) {
        if (used[std::size_t(j)]) continue;
        const double reduced = cost(i0 - 1, j - 1) - u[std::size_t(i0)] - v[std::size_t(j)];
        if (reduced < reach[std::size_t(j)]) reach[std::size_t(j)] = reduced, way[std::size_t(j)] = j0;
        if (reach[std::size_t(j)] < delta) delta = reach[std::size_t(j)], j1 = j;
      }
      assert(j1 > 0);
      for (int j = 0; j <= m; ++j) {
        if (used[std::size_t(j)]) {
          u[std::size_t(row_of[std::size_t(j)])] += delta;
          v[std::size_t(j)] -= delta;
        } else {
          reach[std::size_t(j)] -= delta;
        }
      }
      j0 = j1;
    } while (row_of[std::size_t(j0)] != 0);
    do {  // flip the augmenting path
      const int j1 = way[std::size_t(j0)];
      row_of[std::size_t(j0)] = row_of[std::size_t(j1)];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> column(std::size_t(weight.rows()), -1);
  for (int j = 1; j <= m; ++j) {
    if (row_of[std::size_t(j)] == 0) continue;
    const int r = row_of[std::size_t(j)] - 1, c = j - 1;
    if (transposed)
      column[std::size_t(c)] = r;
    else
      column[std::size_t(r)] = c;
  }
  return column;
}

PersonaMatch match_personas(const std::vector<int>& predicted, const std::vector<int>& truth) {
  const CountMatrix table = contingency_table(predicted, truth);
  const int K = int(table.rows()), L = int(table.cols()), N = std::max(K, L);
  PersonaMatch m;
  m.mapping = max_weight_assignment(table.cast<double>());
  m.order.assign(std::size_t(N), -1);
  int next = L;
  for (int k = 0; k < K; ++k) {
    const int j = m.mapping[std::size_t(k)];
    if (j >= 0) {
      m.order[std::size_t(j)] = k;
      m.matched += table(k, j);
    } else {
      m.order[std::size_t(next++)] = k;
    }
  }
  assert(next == N);
  m.confusion = CountMatrix::Zero(N, N);
  for (int c = 0; c < N; ++c)
    if (m.order[std::size_t(c)] >= 0) m.confusion.block(0, c, L, 1) = table.row(m.order[std::size_t(c)]).transpose();
  m.accuracy = double(m.matched) / double(predicted.size());
  return m;
}

BoundaryScore boundary_f1(const std::vector<std::int64_t>& predicted, const std::vector<std::int64_t>& truth,
                          std::int64_t tolerance) {
  SIMULACRA_CHECK(tolerance >= 0, InvalidArgument, "boundary_f1: tolerance {} is negative", tolerance);
  std::vector<std::int64_t> p = predicted, t = truth;
  for (auto* list : {&p, &t}) {
    const char* name = list == &p ? "predicted" : "truth";
    std::sort(list->begin(), list->end());
    SIMULACRA_CHECK(list->empty() || list->front() >= 0, InvalidArgument,
                    "boundary_f1: boundary {} of {} is negative", list->front(), name);
    const auto twice = std::adjacent_find(list->begin(), list->end());
    SIMULACRA_CHECK(twice == list->end(), InvalidArgument, "boundary_f1: boundary {} is given twice in {}",
                    twice == list->end() ? 0 : *twice, name);
  }
  BoundaryScore s;
  s.predicted = std::int64_t(p.size());
  s.truth = std::int64_t(t.size());
  for (std::size_t i = 0, j = 0; i < p.size() && j < t.size();) {
    const std::int64_t d = t[j] - p[i];  // no overflow: both >= 0
    if (d < -tolerance)
      ++j;  // t[j] is too early for p[i] and every later prediction
    else if (d > tolerance)
      ++i;  // p[i] is too early for t[j] and every later truth
    else
      ++s.matched, ++i, ++j;
  }
  s.precision = p.empty() ? 1.0 : double(s.matched) / double(s.predicted);
  s.recall = t.empty() ? 1.0 : double(s.matched) / double(s.truth);
  s.f1 = s.precision + s.recall > 0.0 ? 2.0 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
  return s;
}

std::vector<std::int64_t> label_boundaries(const std::vector<int>& labels) {
  std::vector<std::int64_t> out;
  for (std::size_t t = 1; t < labels.size(); ++t)
    if (labels[t] != labels[t - 1]) out.push_back(std::int64_t(t));
  return out;
}

}  // namespace simulacra
