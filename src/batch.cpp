// Scores and attributions of many documents on the OpenMP threads (batch.hpp).
#include "simulacra/batch.hpp"

#include <exception>
#include <functional>

#include "parallel.hpp"
#include "simulacra/error.hpp"

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

// Runs one(i) for each text on the OpenMP threads (parallel.hpp); rethrows
// Interrupted, or the failure of the lowest index with the text named.
void for_each_text(std::size_t n, const std::function<void(std::size_t)>& one) {
  const detail::Failure failure = detail::for_each_index(n, one);
  if (failure.error) rethrow_at(failure.error, failure.index);
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
