// k-means++ on character n-gram profiles (kmeans.hpp).
#include "simulacra/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

using CentreMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // (D, k)

// Row access shared by the dense and the sparse points: each row's
// (column, value) pairs, and its dot products with every centre at once
// (the centres stored (D, k), so that one non-zero reads one cache line).
struct DenseRows {
  const Eigen::Ref<const Eigen::MatrixXd>& x;
  Eigen::Index rows() const { return x.rows(); }
  Eigen::Index cols() const { return x.cols(); }
  template <class F>
  void for_each(Eigen::Index i, F f) const {
    for (Eigen::Index j = 0; j < x.cols(); ++j) f(j, x(i, j));
  }
  bool finite() const { return x.allFinite(); }
};

struct SparseRows {
  const SparseProfiles& x;
  Eigen::Index rows() const { return x.rows(); }
  Eigen::Index cols() const { return x.cols(); }
  template <class F>
  void for_each(Eigen::Index i, F f) const {
    for (SparseProfiles::InnerIterator it(x, i); it; ++it) f(it.col(), it.value());
  }
  bool finite() const {
    for (Eigen::Index k = 0; k < x.nonZeros(); ++k)
      if (!std::isfinite(x.valuePtr()[k])) return false;
    return true;
  }
};

double uniform(std::uint64_t& state) { return double(detail::splitmix64(state) >> 11) * 0x1.0p-53; }

struct Run {
  std::vector<int> z;
  CentreMatrix centres;  // (D, k)
  double objective = 0.0;
  std::vector<double> history;
  int iterations = 0;
};

// ||x_i - c||^2 = ||x_i||^2 - 2 x_i.c + ||c||^2 for every centre c (never below 0) into d (k).
template <class Rows>
void distances(const Rows& x, Eigen::Index i, double xi2, const CentreMatrix& C, const std::vector<double>& c2,
               std::vector<double>& d) {
  const Eigen::Index k = C.cols();
  std::fill(d.begin(), d.end(), 0.0);
  x.for_each(i, [&](Eigen::Index j, double v) {
    const double* c = C.row(j).data();
    for (Eigen::Index m = 0; m < k; ++m) d[std::size_t(m)] += v * c[m];
  });
  for (Eigen::Index m = 0; m < k; ++m)
    d[std::size_t(m)] = std::max(xi2 - 2.0 * d[std::size_t(m)] + c2[std::size_t(m)], 0.0);
}

template <class Rows>
Run lloyd(const Rows& x, const std::vector<double>& x2, int k, int max_iterations, std::uint64_t& state) {
  const Eigen::Index N = x.rows(), D = x.cols();
  const auto K = std::size_t(k);
  Run run;
  run.centres = CentreMatrix::Zero(D, k);
  std::vector<double> c2(K, 0.0), d(K);  // ||c||^2; distances of one point
  InterruptPoller poll(256);
  // k-means++ seeding.
  std::vector<double> nearest(std::size_t(N), std::numeric_limits<double>::infinity());
  for (std::size_t c = 0; c < K; ++c) {
    Eigen::Index pick = std::min<Eigen::Index>(Eigen::Index(uniform(state) * double(N)), N - 1);
    if (c > 0) {
      double total = 0.0;
      for (double v : nearest) total += v;
      if (total > 0.0) {  // else every point sits on a centre: the uniform draw above
        const double u = uniform(state) * total;
        double acc = 0.0;
        for (Eigen::Index i = 0; i < N; ++i) {
          if (nearest[std::size_t(i)] <= 0.0) continue;
          pick = i;
          acc += nearest[std::size_t(i)];
          if (acc > u) break;
        }
      }
    }
    x.for_each(pick, [&](Eigen::Index j, double v) { run.centres(j, Eigen::Index(c)) = v; });
    c2[c] = run.centres.col(Eigen::Index(c)).squaredNorm();
    for (Eigen::Index i = 0; i < N; ++i) {
      poll.tick();
      double dot = 0.0;
      x.for_each(i, [&](Eigen::Index j, double v) { dot += v * run.centres(j, Eigen::Index(c)); });
      nearest[std::size_t(i)] = std::min(nearest[std::size_t(i)], std::max(x2[std::size_t(i)] - 2.0 * dot + c2[c], 0.0));
    }
  }
  // Lloyd iterations.
  run.z.assign(std::size_t(N), -1);
  CentreMatrix sum(D, k);
  std::vector<int> n(K);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    double J = 0.0;
    for (Eigen::Index i = 0; i < N; ++i) {
      poll.tick();
      distances(x, i, x2[std::size_t(i)], run.centres, c2, d);
      int best = 0;
      for (std::size_t c = 1; c < K; ++c)
        if (d[c] < d[std::size_t(best)]) best = int(c);
      changed |= run.z[std::size_t(i)] != best;
      run.z[std::size_t(i)] = best;
      J += d[std::size_t(best)];
    }
    run.history.push_back(J);
    run.objective = J;
    run.iterations = it + 1;
    if (!changed) break;
    sum.setZero();
    std::fill(n.begin(), n.end(), 0);
    for (Eigen::Index i = 0; i < N; ++i) {
      const Eigen::Index c = run.z[std::size_t(i)];
      x.for_each(i, [&](Eigen::Index j, double v) { sum(j, c) += v; });
      ++n[std::size_t(c)];
    }
    for (std::size_t c = 0; c < K; ++c)
      if (n[c] > 0) {
        run.centres.col(Eigen::Index(c)) = sum.col(Eigen::Index(c)) / double(n[c]);
        c2[c] = run.centres.col(Eigen::Index(c)).squaredNorm();
      }
    if (it + 1 == max_iterations) {  // stopped after an update: J of the assignments at the moved centres
      J = 0.0;
      for (Eigen::Index i = 0; i < N; ++i) {
        distances(x, i, x2[std::size_t(i)], run.centres, c2, d);
        J += d[std::size_t(run.z[std::size_t(i)])];
      }
      run.objective = J;
    }
  }
  return run;
}

template <class Rows>
KMeansResult run_kmeans(const Rows& x, const KMeansConfig& config) {
  SIMULACRA_CHECK(x.rows() > 0, InvalidArgument, "kmeans: no points");
  SIMULACRA_CHECK(config.k >= 1 && config.k <= x.rows(), InvalidArgument, "kmeans: k must be in 1..{} (the points), got {}",
                  x.rows(), config.k);
  SIMULACRA_CHECK(config.restarts >= 1, InvalidArgument, "kmeans: restarts must be >= 1, got {}", config.restarts);
  SIMULACRA_CHECK(config.max_iterations >= 1, InvalidArgument, "kmeans: max_iterations must be >= 1, got {}",
                  config.max_iterations);
  SIMULACRA_CHECK(x.finite(), InvalidArgument, "kmeans: the points hold a value that is not finite");
  std::vector<double> x2(std::size_t(x.rows()), 0.0);
  for (Eigen::Index i = 0; i < x.rows(); ++i) x.for_each(i, [&](Eigen::Index, double v) { x2[std::size_t(i)] += v * v; });
  std::uint64_t state = config.seed;
  KMeansResult out;
  Run best;
  for (int r = 0; r < config.restarts; ++r) {
    Run run = lloyd(x, x2, config.k, config.max_iterations, state);
    out.restart_objectives.push_back(run.objective);
    if (r == 0 || run.objective < best.objective) {
      best = std::move(run);
      out.restart = r;
    }
  }
  out.assignments = std::move(best.z);
  out.centroids = best.centres.transpose();
  out.objective = best.objective;
  out.objective_history = std::move(best.history);
  out.iterations = best.iterations;
  return out;
}

}  // namespace

SparseProfiles ngram_profiles(const std::vector<std::string>& documents, const ProfileConfig& config) {
  SIMULACRA_CHECK(config.min_n >= 1 && config.min_n <= config.max_n && config.max_n <= 8, InvalidArgument,
                  "ngram_profiles: need 1 <= min_n <= max_n <= 8, got min_n {} and max_n {}", config.min_n,
                  config.max_n);
  SIMULACRA_CHECK(config.dimension >= 1, InvalidArgument, "ngram_profiles: dimension must be >= 1, got {}",
                  config.dimension);
  const auto D = std::uint64_t(config.dimension);
  // (bucket, count) of each document, sorted by bucket.
  std::vector<std::vector<std::pair<int, double>>> rows(documents.size());
  std::vector<double> df(std::size_t(config.dimension), 0.0);
  std::vector<int> buckets;
  InterruptPoller poll(64);
  for (std::size_t d = 0; d < documents.size(); ++d) {
    poll.tick();
    const std::string& doc = documents[d];
    buckets.clear();
    for (int n = config.min_n; n <= config.max_n; ++n)
      for (std::size_t i = 0; i + std::size_t(n) <= doc.size(); ++i) {
        std::uint64_t key = std::uint64_t(n);  // the length first: "ab" and "\0ab" differ
        for (int j = 0; j < n; ++j) key = key << 8 | static_cast<unsigned char>(doc[i + std::size_t(j)]);
        buckets.push_back(int(detail::splitmix64(key) % D));
      }
    std::sort(buckets.begin(), buckets.end());
    auto& row = rows[d];
    for (int b : buckets) {
      if (!row.empty() && row.back().first == b)
        row.back().second += 1.0;
      else
        row.emplace_back(b, 1.0);
    }
    for (const auto& e : row) df[std::size_t(e.first)] += 1.0;
  }
  const double N = double(documents.size());
  std::vector<Eigen::Triplet<double>> triplets;
  for (std::size_t d = 0; d < rows.size(); ++d) {
    auto& row = rows[d];
    double norm = 0.0;
    for (auto& [b, v] : row) {
      if (config.sublinear_tf) v = 1.0 + std::log(v);
      if (config.idf) v *= 1.0 + std::log((1.0 + N) / (1.0 + df[std::size_t(b)]));
      norm += v * v;
    }
    norm = std::sqrt(norm);
    for (const auto& [b, v] : row) triplets.emplace_back(Eigen::Index(d), b, v / norm);
  }
  SparseProfiles X(Eigen::Index(documents.size()), config.dimension);
  X.setFromTriplets(triplets.begin(), triplets.end());
  return X;
}

KMeansResult kmeans(const SparseProfiles& points, const KMeansConfig& config) {
  return run_kmeans(SparseRows{points}, config);
}

KMeansResult kmeans(const Eigen::Ref<const Eigen::MatrixXd>& points, const KMeansConfig& config) {
  return run_kmeans(DenseRows{points}, config);
}

void fill_empty_clusters(std::vector<int>& z, int k, std::uint64_t& state) {
  SIMULACRA_CHECK(k >= 1 && z.size() >= std::size_t(k), InvalidArgument,
                  "fill_empty_clusters: {} points cannot fill {} clusters", z.size(), k);
  std::vector<std::size_t> size(std::size_t(k), 0);
  for (int c : z) ++size[std::size_t(c)];
  for (int c = 0; c < k; ++c) {
    if (size[std::size_t(c)] > 0) continue;
    const auto largest = int(std::max_element(size.begin(), size.end()) - size.begin());
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < z.size(); ++i)
      if (z[i] == largest) members.push_back(i);
    z[members[detail::splitmix64(state) % members.size()]] = c;
    --size[std::size_t(largest)];
    ++size[std::size_t(c)];
  }
}

}  // namespace simulacra
