// Tests of segment-level discovery (segment_discovery.hpp): masks and their
// switching learned from one unlabelled stream.
//
// References: streams made here of blocks of two (or three) unlike
// "languages" whose true writer of every byte is known; the recovered path
// is scored against it under the best relabelling, found by trying every
// permutation of the masks.
#include "simulacra/segment_discovery.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/smoothing.hpp"
#include "simulacra/tokenizer.hpp"

namespace {

using simulacra::discover_segments;
using simulacra::InvalidArgument;
using simulacra::SegmentDiscovery;
using simulacra::SegmentDiscoveryConfig;

// Random words over `letters`, about `bytes` long, ending in a space.
std::string words(const std::string& letters, std::size_t bytes, std::mt19937_64& rng) {
  std::string out;
  while (out.size() < bytes) {
    const std::size_t n = 2 + rng() % 5;
    for (std::size_t i = 0; i < n; ++i) out += letters[rng() % letters.size()];
    out += ' ';
  }
  return out;
}

// `blocks` blocks of `bytes` bytes, writer b % languages.size() of block b, and each byte's writer.
std::string stream_of(const std::vector<std::string>& languages, int blocks, std::size_t bytes,
                      std::vector<int>* truth, std::uint64_t seed = 1) {
  std::mt19937_64 rng(seed);
  std::string out;
  for (int b = 0; b < blocks; ++b) {
    const int who = b % int(languages.size());
    const std::string part = words(languages[std::size_t(who)], bytes, rng);
    out += part;
    truth->insert(truth->end(), part.size(), who);
  }
  return out;
}

// Share of bytes whose path label equals the truth under the best permutation of labels.
double matched_accuracy(const std::vector<int>& path, const std::vector<int>& truth, int k) {
  std::vector<int> perm(static_cast<std::size_t>(k));
  std::iota(perm.begin(), perm.end(), 0);
  double best = 0.0;
  do {
    std::size_t right = 0;
    for (std::size_t i = 0; i < truth.size(); ++i) right += perm[std::size_t(path[i])] == truth[i];
    best = std::max(best, double(right) / double(truth.size()));
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(SegmentDiscoveryTest, RecoversWhoWroteEachBlock) {
  std::vector<int> truth;
  const std::string stream = stream_of({"abcde", "vwxyz", "klmno"}, 12, 400, &truth);
  SegmentDiscoveryConfig cfg;
  cfg.order = 2;
  cfg.chunk_bytes = 64;
  const SegmentDiscovery found = discover_segments(stream, 3, cfg);
  ASSERT_EQ(found.path.size(), stream.size());  // one per byte
  ASSERT_EQ(found.weights.rows(), Eigen::Index(stream.size()));
  EXPECT_EQ(found.mixture.size(), 3);
  EXPECT_EQ(found.mixture.names(), (std::vector<std::string>{"mask0", "mask1", "mask2"}));
  EXPECT_GE(matched_accuracy(found.path, truth, 3), 0.98);
  // The smoothed weights are distributions and the log-likelihood is finite at every iteration.
  for (Eigen::Index t = 0; t < found.weights.rows(); ++t) EXPECT_NEAR(found.weights.row(t).sum(), 1.0, 1e-9);
  ASSERT_EQ(found.log_likelihood.size(), std::size_t(found.iterations));
  for (double ll : found.log_likelihood) EXPECT_TRUE(std::isfinite(ll) && ll < 0.0);
  // The kept pile is the iteration that explains the stream best: its forward-backward log-likelihood.
  const double kept = *std::max_element(found.log_likelihood.begin(), found.log_likelihood.end());
  EXPECT_NEAR(simulacra::smooth(found.mixture, simulacra::encode(stream)).log_likelihood, kept,
              1e-9 * std::abs(kept));
  // Eleven swaps: the learned transition matrix switches rarely, and the path has about that many.
  int swaps = 0;
  for (std::size_t t = 1; t < stream.size(); ++t) swaps += found.path[t] != found.path[t - 1];
  EXPECT_GE(swaps, 11);
  EXPECT_LE(swaps, 15);
  const Eigen::MatrixXd& a = found.mixture.config().transition;
  for (Eigen::Index i = 0; i < 3; ++i) EXPECT_GT(a(i, i), 0.99);
}

TEST(SegmentDiscoveryTest, FixedShareAndSwitchPoints) {
  std::vector<int> truth;
  const std::string stream = stream_of({"abcde", "vwxyz"}, 8, 300, &truth, 3);
  SegmentDiscoveryConfig cfg;
  cfg.order = 2;
  cfg.chunk_bytes = 40;
  cfg.learn_transition = false;
  cfg.switch_after = {simulacra::Token(' ')};
  cfg.names = {"left", "right"};
  const SegmentDiscovery found = discover_segments(stream, 2, cfg);
  for (std::size_t c = 1; c < found.chunk_starts.size(); ++c)
    EXPECT_EQ(stream[found.chunk_starts[c] - 1], ' ') << "chunk " << c << " starts after a switch point";
  EXPECT_EQ(found.mixture.config().switching, simulacra::Switching::kFixedShare);
  EXPECT_GT(found.mixture.config().alpha, 0.0);
  EXPECT_LT(found.mixture.config().alpha, 0.05);
  EXPECT_EQ(found.mixture.names(), (std::vector<std::string>{"left", "right"}));
  EXPECT_GE(matched_accuracy(found.path, truth, 2), 0.98);
  // The path switches only after a space.
  for (std::size_t t = 1; t < stream.size(); ++t)
    if (found.path[t] != found.path[t - 1]) {
      EXPECT_EQ(stream[t - 1], ' ') << t;
    }
}

TEST(SegmentDiscoveryTest, DeterministicForASeed) {
  std::vector<int> truth;
  const std::string stream = stream_of({"abcd", "cdef"}, 6, 250, &truth, 5);
  SegmentDiscoveryConfig cfg;
  cfg.order = 3;
  cfg.chunk_bytes = 50;
  cfg.seed = 11;
  const SegmentDiscovery a = discover_segments(stream, 2, cfg), b = discover_segments(stream, 2, cfg);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.log_likelihood, b.log_likelihood);
}

TEST(SegmentDiscoveryTest, BadInputIsInvalid) {
  const std::string text = "abc abc xyz xyz abc xyz";
  SegmentDiscoveryConfig cfg;
  cfg.chunk_bytes = 4;
  EXPECT_THROW(discover_segments("", 2, cfg), InvalidArgument);
  EXPECT_THROW(discover_segments(text, 0, cfg), InvalidArgument);
  EXPECT_THROW(discover_segments(text, 7, cfg), InvalidArgument);  // 6 chunks
  auto bad = [&](auto change) {
    SegmentDiscoveryConfig c = cfg;
    change(c);
    EXPECT_THROW(discover_segments(text, 2, c), InvalidArgument);
  };
  bad([](SegmentDiscoveryConfig& c) { c.chunk_bytes = 0; });
  bad([](SegmentDiscoveryConfig& c) { c.iterations = 0; });
  bad([](SegmentDiscoveryConfig& c) { c.order = 0; });
  bad([](SegmentDiscoveryConfig& c) { c.tolerance = std::nan(""); });
  bad([](SegmentDiscoveryConfig& c) { c.initial_alpha = 1.0; });
  bad([](SegmentDiscoveryConfig& c) { c.initial_alpha = 0.0; });
  bad([](SegmentDiscoveryConfig& c) { c.switch_after = {simulacra::Token(300)}; });
  bad([](SegmentDiscoveryConfig& c) { c.names = {"a"}; });
  bad([](SegmentDiscoveryConfig& c) { c.names = {"a", "a"}; });
  bad([](SegmentDiscoveryConfig& c) { c.smoothing.mu = -1.0; });
  bad([](SegmentDiscoveryConfig& c) { c.kmeans_restarts = 0; });
}

}  // namespace
