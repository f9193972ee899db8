// Tests of detail/splitmix64.hpp: the first outputs for two seeds against the
// published reference values of Vigna's splitmix64.c (Rosetta Code's
// "Pseudo-random numbers/Splitmix64" lists those of seed 1234567).
#include "simulacra/detail/splitmix64.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace simulacra::detail {
namespace {

std::vector<std::uint64_t> first_outputs(std::uint64_t seed, int n) {
  std::vector<std::uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(splitmix64(seed));
  return out;
}

TEST(Splitmix64Test, MatchesTheReferenceForSeed1234567) {
  const std::vector<std::uint64_t> expected = {6457827717110365317ull, 3203168211198807973ull, 9817491932198370423ull,
                                               4593380528125082431ull, 16408922859458223821ull};
  EXPECT_EQ(first_outputs(1234567, 5), expected);
}

TEST(Splitmix64Test, MatchesTheReferenceForSeedZero) {
  const std::vector<std::uint64_t> expected = {0xE220A8397B1DCDAFull, 0x6E789E6AA1B965F4ull, 0x06C45D188009454Full,
                                               0xF88BB8A8724C81ECull, 0x1B39896A51A8749Bull};
  EXPECT_EQ(first_outputs(0, 5), expected);
}

TEST(Splitmix64Test, StateAdvancesByTheGoldenRatioIncrement) {
  std::uint64_t state = ~std::uint64_t(0);  // wraps
  splitmix64(state);
  EXPECT_EQ(state, 0x9E3779B97F4A7C15ull - 1);
}

}  // namespace
}  // namespace simulacra::detail
