// Scores and attributions of many documents on the OpenMP threads (batch.hpp).
#include "simulacra/batch.hpp"

#include <atomic>
#include <exception>
#include <functional>

#include <omp.h>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

// Rethrows `error` (thrown while reading texts[index]) with the same type
// and its message prefixed by "texts[index]: ".
[[noreturn]] void rethrow_at(const std::exception_ptr& error, std::size_t index) {
  const auto at = [index](const std::exception& e) { return fmt::format("texts[{}]: {}", index, e.what()); };
  try {
    std::rethrow_exception(error);
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(at(e));
  } catch (const OutOfRange& e) {
    throw OutOfRange(at(e));
  } catch (const FileError& e) {
    throw FileError(at(e));
  }
}

// Runs one(i) for i = 0..n-1 on the OpenMP threads, one index at a time. The
// calling thread (the team's master) polls the interrupt check before each
// of its indices. After a failure at index j no thread starts an index above
// j (those below still run, so the lowest failing index is the one found);
// after an interrupt no thread starts any. Rethrows Interrupted, or the
// failure of the lowest index.
void for_each_text(std::size_t n, const std::function<void(std::size_t)>& one) {
  const auto N = static_cast<long long>(n);
  std::vector<std::exception_ptr> errors(n);
  std::atomic<long long> first_bad{N};  // the lowest failing index so far, N: none
  std::atomic<bool> interrupted{false};
#pragma omp parallel for schedule(dynamic, 1)
  for (long long i = 0; i < N; ++i) {
    if (interrupted.load(std::memory_order_relaxed) || i > first_bad.load(std::memory_order_relaxed)) continue;
    try {
      if (omp_get_thread_num() == 0) poll_interrupt();
      one(static_cast<std::size_t>(i));
    } catch (const Interrupted&) {
      interrupted = true;
    } catch (...) {
      errors[static_cast<std::size_t>(i)] = std::current_exception();
      long long seen = first_bad.load();
      while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
      }
    }
  }
  if (interrupted) throw Interrupted();
  for (std::size_t i = 0; i < n; ++i)
    if (errors[i]) rethrow_at(errors[i], i);
}

void check_beta(double beta) {
  SIMULACRA_CHECK(beta > 0.0 && beta <= MixtureConfig::kMaxBeta, InvalidArgument,
                  "attribute_batch: beta must be in (0, {}], got {}", MixtureConfig::kMaxBeta, beta);
}

}  // namespace

Eigen::VectorXd score_batch(const Mixture& mixture, const std::vector<std::string>& texts, const Steering& steering) {
  mixture.check(steering);
  Eigen::VectorXd out(Eigen::Index(texts.size()));
  for_each_text(texts.size(), [&](std::size_t i) { out[Eigen::Index(i)] = mixture.score(texts[i], steering); });
  return out;
}

Eigen::MatrixXd attribute_batch(const Mixture& mixture, const std::vector<std::string>& texts) {
  Eigen::MatrixXd out(Eigen::Index(texts.size()), mixture.size());
  for_each_text(texts.size(),
                [&](std::size_t i) { out.row(Eigen::Index(i)) = mixture.attribute(texts[i]).transpose(); });
  return out;
}

Eigen::MatrixXd attribute_batch(const Mixture& mixture, const std::vector<std::string>& texts, double beta) {
  check_beta(beta);
  Eigen::MatrixXd out(Eigen::Index(texts.size()), mixture.size());
  for_each_text(texts.size(),
                [&](std::size_t i) { out.row(Eigen::Index(i)) = mixture.attribute(texts[i], beta).transpose(); });
  return out;
}

}  // namespace simulacra
