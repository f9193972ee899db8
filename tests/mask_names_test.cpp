// Tests of naming discovered masks (mask_names.hpp): n-gram counts and lifts
// against counts written out in the test, the count floor, the sample.
#include "simulacra/mask_names.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"

namespace {

using simulacra::DescribeConfig;
using simulacra::InvalidArgument;
using simulacra::Mixture;

Mixture two_masks(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return Mixture({std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(a, 2)),
                  std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit(b, 2))},
                 {"mask0", "mask1"}, Eigen::Vector2d(0.5, 0.5));
}

TEST(MaskNamesTest, LiftsAreTheLogRatioOfShares) {
  const std::vector<std::string> docs = {"abab", "abxy", "xyxy"};
  Eigen::MatrixXd r(3, 2);
  r << 1.0, 0.0, 0.5, 0.5, 0.0, 1.0;
  DescribeConfig cfg;
  cfg.n = 2;
  cfg.top = 10;
  cfg.min_count = 0.0;
  cfg.sample_bytes = 0;
  const auto named = simulacra::describe_masks(two_masks({"abab"}, {"xyxy"}), docs, r, cfg);
  ASSERT_EQ(named.size(), 2u);
  // The counts, written out: bigrams of each document with their weights.
  std::map<std::string, std::vector<double>> c;
  for (std::size_t d = 0; d < docs.size(); ++d)
    for (std::size_t at = 0; at + 2 <= docs[d].size(); ++at) {
      auto& v = c[docs[d].substr(at, 2)];
      v.resize(2, 0.0);
      for (int k = 0; k < 2; ++k) v[std::size_t(k)] += r(Eigen::Index(d), k);
    }
  double total = 0.0, mine[2] = {0.0, 0.0};
  for (const auto& [g, v] : c) total += v[0] + v[1], mine[0] += v[0], mine[1] += v[1];
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(named[std::size_t(k)].name, k == 0 ? "mask0" : "mask1");
    EXPECT_DOUBLE_EQ(named[std::size_t(k)].bytes, k == 0 ? 4.0 + 2.0 : 2.0 + 4.0);
    double last = INFINITY;
    for (const auto& g : named[std::size_t(k)].ngrams) {
      const auto& v = c.at(g.ngram);
      EXPECT_DOUBLE_EQ(g.count, v[std::size_t(k)]);
      EXPECT_NEAR(g.lift, std::log(v[std::size_t(k)] / mine[k]) - std::log((v[0] + v[1]) / total), 1e-12);
      EXPECT_LE(g.lift, last);
      last = g.lift;
    }
  }
  EXPECT_EQ(named[0].ngrams.front().ngram, "ba");  // only in mask0's documents
  EXPECT_EQ(named[1].ngrams.front().ngram, "yx");
  // The floor: with min_count 1.5 only n-grams mask0 saw at least 1.5 times are listed.
  cfg.min_count = 1.5;
  const auto floored = simulacra::describe_masks(two_masks({"abab"}, {"xyxy"}), docs, r, cfg);
  for (const auto& g : floored[0].ngrams) EXPECT_GE(g.count, 1.5) << g.ngram;
}

TEST(MaskNamesTest, SampleComesFromTheMaskAlone) {
  const std::vector<std::string> docs = {"aaaa aaaa", "zzzz zzzz"};
  Eigen::MatrixXd r(2, 2);
  r << 1, 0, 0, 1;
  DescribeConfig cfg;
  cfg.sample_bytes = 30;
  cfg.seed = 3;
  const Mixture mix = two_masks({"aaaa aaaa aaaa"}, {"zzzz zzzz zzzz"});
  const auto named = simulacra::describe_masks(mix, docs, r, cfg);
  EXPECT_LE(named[0].sample.size(), 30u);
  EXPECT_EQ(named[0].sample.find('z'), std::string::npos) << named[0].sample;
  EXPECT_EQ(named[1].sample.find('a'), std::string::npos) << named[1].sample;
  EXPECT_EQ(simulacra::describe_masks(mix, docs, r, cfg)[1].sample, named[1].sample);  // seeded
}

TEST(MaskNamesTest, BadInputIsInvalid) {
  const Mixture mix = two_masks({"ab"}, {"xy"});
  const std::vector<std::string> docs = {"abab", "xyxy"};
  Eigen::MatrixXd r = Eigen::MatrixXd::Identity(2, 2);
  EXPECT_THROW(simulacra::describe_masks(mix, docs, Eigen::MatrixXd::Ones(3, 2)), InvalidArgument);
  EXPECT_THROW(simulacra::describe_masks(mix, docs, Eigen::MatrixXd::Ones(2, 3)), InvalidArgument);
  Eigen::MatrixXd bad = r;
  bad(0, 0) = -1.0;
  EXPECT_THROW(simulacra::describe_masks(mix, docs, bad), InvalidArgument);
  bad(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(simulacra::describe_masks(mix, docs, bad), InvalidArgument);
  for (auto change : {+[](DescribeConfig& c) { c.n = 0; }, +[](DescribeConfig& c) { c.top = 0; },
                      +[](DescribeConfig& c) { c.min_count = -1.0; }, +[](DescribeConfig& c) { c.sample_bytes = -1; }}) {
    DescribeConfig c;
    change(c);
    EXPECT_THROW(simulacra::describe_masks(mix, docs, r, c), InvalidArgument);
  }
}

}  // namespace
