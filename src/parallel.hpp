// src/parallel.hpp — one index loop on the OpenMP threads with serial error
// semantics (private to the library).
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <memory>

#include <omp.h>

#include "simulacra/interrupt.hpp"

namespace simulacra::detail {

// The lowest index whose call threw, and what it threw (error null: none did).
struct Failure {
  std::size_t index = 0;
  std::exception_ptr error;
};

// Runs one(i) for i = 0..n-1, on the OpenMP threads (one index at a time,
// dynamically) when `parallel`, else in order on the calling thread. The
// calling thread (the team's master) polls the interrupt check before each of
// its indices. After a failure at index j no thread starts an index above j
// (those below still run, so the failure returned is that of the lowest
// failing index: the one a serial loop would meet first); after an interrupt
// no thread starts any, and Interrupted is thrown. `one` must write only what
// index i owns.
template <class One>
Failure for_each_index(std::size_t n, const One& one, bool parallel = true) {
  const auto N = static_cast<long long>(n);
  std::atomic<long long> first_bad{N};  // the lowest failing index so far, N: none
  std::atomic<bool> interrupted{false};
  Failure failure;
  std::exception_ptr* errors = nullptr;
  std::unique_ptr<std::exception_ptr[]> owned;
  if (parallel) {
    owned.reset(new std::exception_ptr[n]);
    errors = owned.get();
  }
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
  for (long long i = 0; i < N; ++i) {
    if (interrupted.load(std::memory_order_relaxed) || i > first_bad.load(std::memory_order_relaxed)) continue;
    try {
      if (omp_get_thread_num() == 0) poll_interrupt();
      one(static_cast<std::size_t>(i));
    } catch (const Interrupted&) {
      interrupted = true;
    } catch (...) {
      if (errors != nullptr) {
        errors[i] = std::current_exception();
      } else {
        failure.error = std::current_exception();
        failure.index = static_cast<std::size_t>(i);
      }
      long long seen = first_bad.load();
      while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
      }
    }
  }
  if (interrupted) throw Interrupted();
  const long long bad = first_bad.load();
  if (errors != nullptr && bad < N) {
    failure.index = static_cast<std::size_t>(bad);
    failure.error = errors[bad];
  }
  return failure;
}

}  // namespace simulacra::detail
