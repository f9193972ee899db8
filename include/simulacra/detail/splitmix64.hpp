// simulacra/detail/splitmix64.hpp — the project's one pseudo-random sequence.
//
// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", 2014; Vigna's reference splitmix64.c): a 64-bit state advanced
// by the golden-ratio increment and mixed by two multiply-xorshift rounds. The
// same sequence for a seed on every platform. Used by the sampler, the
// transformer's initialisation and its trainer's minibatches.
#pragma once

#include <cstdint>

namespace simulacra::detail {

// Advances `state` and returns the next output.
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

}  // namespace simulacra::detail
