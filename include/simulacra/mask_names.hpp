// simulacra/mask_names.hpp — what each discovered mask is: its most
// characteristic byte n-grams and a short sample of its own.
//
// Masks found without labels come as "mask0", "mask1", ...; a person reads
// what each one is from the text it took. With responsibilities r_dk (which
// mask wrote document d, discovery.hpp) the weighted count of an n-gram g
// under mask k is c_k(g) = sum_d r_dk n_d(g) (n_d: its occurrences in d,
// bytes only, overlapping), and its lift is the log-ratio of its share of the
// mask's n-grams to its share of all of them,
//
//   lift_k(g) = log(c_k(g) / C_k) - log(c(g) / C),   C_k = sum_g c_k(g), c(g) = sum_k c_k(g),
//
// ranked among the n-grams with c_k(g) >= min_count (so a mask's list is not
// filled with n-grams seen once, which all have the largest lifts), ties by
// count. The sample is generated from the mask alone (clamped), from a
// document start, with the library's default sampler and the seed given.
//
//   auto named = simulacra::describe_masks(found.mixture, texts, found.responsibilities);
//   named[0].ngrams[0].ngram;   // the n-gram that most marks mask0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"

namespace simulacra {

struct CharacteristicNGram {
  std::string ngram;      // its bytes
  double count = 0.0;     // c_k(g), the weighted count under the mask
  double lift = 0.0;      // log(c_k(g) / C_k) - log(c(g) / C), natural log
};

struct MaskDescription {
  std::string name;                          // the mask's name in the mixture
  double bytes = 0.0;                        // sum_d r_dk |d|: the text it took
  std::vector<CharacteristicNGram> ngrams;   // the most characteristic first (at most `top`)
  std::string sample;                        // its own sample, at most sample_bytes bytes
};

struct DescribeConfig {
  int n = 4;                       // n-gram length in bytes, >= 1
  int top = 8;                     // n-grams per mask, >= 1
  double min_count = 5.0;          // the weighted-count floor, finite and >= 0
  int sample_bytes = 80;           // bytes of the sample, >= 0 (0: no sample)
  std::uint64_t seed = 0;          // the sample's seed (mask k draws with seed + k)
};

// One description per mask of `mixture`, from `documents` and their (N, K)
// responsibilities (rows of non-negative weights; one-hot for hard
// assignments). InvalidArgument for a shape that does not match, a weight
// that is negative or not finite, or a bad config.
std::vector<MaskDescription> describe_masks(const Mixture& mixture, const std::vector<std::string>& documents,
                                            const Eigen::MatrixXd& responsibilities, const DescribeConfig& config = {});

}  // namespace simulacra
