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

// Row access shared by the dense and the sparse points.
struct DenseRows {
  const Eigen::Ref<const Eigen::MatrixXd>& x;
  Eigen::Index rows() const { return x.rows(); }
  Eigen::Index cols() const { return x.cols(); }
  double dot(Eigen::Index i, const Eigen::VectorXd& c) const { return x.row(i).dot(c.transpose()); }
  void add_to(Eigen::Index i, Eigen::Ref<Eigen::VectorXd> c) const { c += x.row(i).transpose(); }
  double squared_norm(Eigen::Index i) const { return x.row(i).squaredNorm(); }
  bool finite() const { return x.allFinite(); }
};

struct SparseRows {
  const SparseProfiles& x;
  Eigen::Index rows() const { return x.rows(); }
  Eigen::Index cols() const { return x.cols(); }
  double dot(Eigen::Index i, const Eigen::VectorXd& c) const {
    double s = 0.0;
    for (SparseProfiles::InnerIterator it(x, i); it; ++it) s += it.value() * c[it.col()];
    return s;
  }
  void add_to(Eigen::Index i, Eigen::Ref<Eigen::VectorXd> c) const {
    for (SparseProfiles::InnerIterator it(x, i); it; ++it) c[it.col()] += it.value();
  }
  double squared_norm(Eigen::Index i) const {
    double s = 0.0;
    for (SparseProfiles::InnerIterator it(x, i); it; ++it) s += it.value() * it.value();
    return s;
  }
  bool finite() const {
    for (Eigen::Index k = 0; k < x.nonZeros(); ++k)
      if (!std::isfinite(x.valuePtr()[k])) return false;
    return true;
  }
};

double uniform(std::uint64_t& state) { return double(detail::splitmix64(state) >> 11) * 0x1.0p-53; }

// ||x_i - c||^2 = ||x_i||^2 - 2 x_i.c + ||c||^2, never below 0.
template <class Rows>
double squared_distance(const Rows& x, Eigen::Index i, double xi2, const Eigen::VectorXd& c, double c2) {
  return std::max(xi2 - 2.0 * x.dot(i, c) + c2, 0.0);
}

struct Run {
  std::vector<int> z;
  std::vector<Eigen::VectorXd> centres;  // k of (D)
  double objective = 0.0;
  std::vector<double> history;
  int iterations = 0;
};

template <class Rows>
Run lloyd(const Rows& x, const std::vector<double>& x2, int k, int max_iterations, std::uint64_t& state) {
  const Eigen::Index N = x.rows(), D = x.cols();
  const auto K = std::size_t(k);
  Run run;
  run.centres.assign(K, Eigen::VectorXd::Zero(D));
  std::vector<double> c2(K, 0.0);  // ||c||^2
  InterruptPoller poll(256);
  // k-means++ seeding.
  std::vector<double> nearest(std::size_t(N), std::numeric_limits<double>::infinity());
  for (std::size_t c = 0; c < K; ++c) {
    Eigen::Index pick = std::min<Eigen::Index>(Eigen::Index(uniform(state) * double(N)), N - 1);
    if (c > 0) {
      double total = 0.0;
      for (double d : nearest) total += d;
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
    x.add_to(pick, run.centres[c]);
    c2[c] = run.centres[c].squaredNorm();
    for (Eigen::Index i = 0; i < N; ++i) {
      poll.tick();
      nearest[std::size_t(i)] =
          std::min(nearest[std::size_t(i)], squared_distance(x, i, x2[std::size_t(i)], run.centres[c], c2[c]));
    }
  }
  // Lloyd iterations.
  run.z.assign(std::size_t(N), -1);
  std::vector<Eigen::VectorXd> sum(K);
  std::vector<int> n(K);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    double J = 0.0;
    for (Eigen::Index i = 0; i < N; ++i) {
      poll.tick();
      int best = 0;
      double bd = std::numeric_limits<double>::infinity();
      for (std::size_t c = 0; c < K; ++c) {
        const double d = squared_distance(x, i, x2[std::size_t(i)], run.centres[c], c2[c]);
        if (d < bd) bd = d, best = int(c);
      }
      changed |= run.z[std::size_t(i)] != best;
      run.z[std::size_t(i)] = best;
      J += bd;
    }
    run.history.push_back(J);
    run.objective = J;
    run.iterations = it + 1;
    if (!changed) break;
    for (std::size_t c = 0; c < K; ++c) sum[c] = Eigen::VectorXd::Zero(D), n[c] = 0;
    for (Eigen::Index i = 0; i < N; ++i) {
      const auto c = std::size_t(run.z[std::size_t(i)]);
      x.add_to(i, sum[c]);
      ++n[c];
    }
    for (std::size_t c = 0; c < K; ++c)
      if (n[c] > 0) {
        run.centres[c] = sum[c] / double(n[c]);
        c2[c] = run.centres[c].squaredNorm();
      }
    if (it + 1 == max_iterations) {  // stopped after an update: J of the assignments at the moved centres
      J = 0.0;
      for (Eigen::Index i = 0; i < N; ++i) {
        const auto c = std::size_t(run.z[std::size_t(i)]);
        J += squared_distance(x, i, x2[std::size_t(i)], run.centres[c], c2[c]);
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
  std::vector<double> x2(std::size_t(x.rows()));
  for (Eigen::Index i = 0; i < x.rows(); ++i) x2[std::size_t(i)] = x.squared_norm(i);
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
  out.centroids.resize(config.k, x.cols());
  for (int c = 0; c < config.k; ++c) out.centroids.row(c) = best.centres[std::size_t(c)].transpose();
  out.objective = best.objective;
  out.objective_history = std::move(best.history);
  out.iterations = best.iterations;
  return out;
}

}  // namespace

SparseProfiles ngram_profiles(const std::vector<std::string>& documents, int n, int dimension) {
  SIMULACRA_CHECK(n >= 1 && n <= 8, InvalidArgument, "ngram_profiles: n must be in 1..8, got {}", n);
  SIMULACRA_CHECK(dimension >= 1, InvalidArgument, "ngram_profiles: dimension must be >= 1, got {}", dimension);
  std::vector<Eigen::Triplet<double>> triplets;
  std::vector<std::pair<int, double>> row;
  InterruptPoller poll(64);
  for (std::size_t d = 0; d < documents.size(); ++d) {
    poll.tick();
    const std::string& doc = documents[d];
    row.clear();
    for (std::size_t i = 0; i + std::size_t(n) <= doc.size(); ++i) {
      std::uint64_t key = 0;
      for (int j = 0; j < n; ++j) key = key << 8 | static_cast<unsigned char>(doc[i + std::size_t(j)]);
      std::uint64_t state = key;
      row.emplace_back(int(detail::splitmix64(state) % std::uint64_t(dimension)), 1.0);
    }
    std::sort(row.begin(), row.end());
    std::vector<std::pair<int, double>> merged;
    for (const auto& [col, v] : row) {
      if (!merged.empty() && merged.back().first == col)
        merged.back().second += v;
      else
        merged.emplace_back(col, v);
    }
    double norm = 0.0;
    for (const auto& e : merged) norm += e.second * e.second;
    norm = std::sqrt(norm);
    for (const auto& [col, v] : merged) triplets.emplace_back(Eigen::Index(d), col, v / norm);
  }
  SparseProfiles X(Eigen::Index(documents.size()), dimension);
  X.setFromTriplets(triplets.begin(), triplets.end());
  return X;
}

KMeansResult kmeans(const SparseProfiles& points, const KMeansConfig& config) {
  return run_kmeans(SparseRows{points}, config);
}

KMeansResult kmeans(const Eigen::Ref<const Eigen::MatrixXd>& points, const KMeansConfig& config) {
  return run_kmeans(DenseRows{points}, config);
}

}  // namespace simulacra
