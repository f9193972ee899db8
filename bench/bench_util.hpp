// bench/bench_util.hpp — timing and file reading shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <simulacra/error.hpp>

namespace simulacra::bench {

// The shortest wall time of `runs` calls of f, in seconds.
inline double seconds_best_of(int runs, const std::function<void()>& f) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

// The whole content of a file; FileError naming it if unreadable.
inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SIMULACRA_CHECK(in.good(), FileError, "cannot open {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace simulacra::bench
