// What each discovered mask is (mask_names.hpp).
#include "simulacra/mask_names.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/sampling.hpp"

namespace simulacra {

std::vector<MaskDescription> describe_masks(const Mixture& mixture, const std::vector<std::string>& documents,
                                            const Eigen::MatrixXd& r, const DescribeConfig& cfg) {
  constexpr const char* who = "describe_masks";
  const int K = mixture.size();
  SIMULACRA_CHECK(r.rows() == Eigen::Index(documents.size()) && r.cols() == K, InvalidArgument,
                  "{}: responsibilities are ({}, {}), expected (documents, masks) = ({}, {})", who, r.rows(), r.cols(),
                  documents.size(), K);
  SIMULACRA_CHECK(r.allFinite() && (r.array() >= 0.0).all(), InvalidArgument,
                  "{}: responsibilities must be finite and >= 0", who);
  SIMULACRA_CHECK(cfg.n >= 1, InvalidArgument, "{}: n must be >= 1, got {}", who, cfg.n);
  SIMULACRA_CHECK(cfg.top >= 1, InvalidArgument, "{}: top must be >= 1, got {}", who, cfg.top);
  SIMULACRA_CHECK(std::isfinite(cfg.min_count) && cfg.min_count >= 0.0, InvalidArgument,
                  "{}: min_count must be finite and >= 0, got {}", who, cfg.min_count);
  SIMULACRA_CHECK(cfg.sample_bytes >= 0, InvalidArgument, "{}: sample_bytes must be >= 0, got {}", who,
                  cfg.sample_bytes);

  // c_k(g) for every n-gram g of the documents (keys view the documents' bytes: no copies).
  std::unordered_map<std::string_view, std::vector<double>> counts;
  std::vector<MaskDescription> out(static_cast<std::size_t>(K));
  const auto n = std::size_t(cfg.n);
  InterruptPoller poll;
  for (std::size_t d = 0; d < documents.size(); ++d) {
    const std::string_view doc = documents[d];
    for (int k = 0; k < K; ++k) out[std::size_t(k)].bytes += r(Eigen::Index(d), k) * double(doc.size());
    for (std::size_t at = 0; at + n <= doc.size(); ++at) {
      poll.tick();
      std::vector<double>& c = counts[doc.substr(at, n)];
      if (c.empty()) c.assign(std::size_t(K), 0.0);
      for (int k = 0; k < K; ++k) c[std::size_t(k)] += r(Eigen::Index(d), k);
    }
  }
  // Each n-gram's count over all masks (kept as the last entry of its vector), and each mask's total.
  std::vector<double> mask_total(std::size_t(K), 0.0);
  double total = 0.0;
  for (auto& [gram, c] : counts) {
    double all = 0.0;
    for (int k = 0; k < K; ++k) mask_total[std::size_t(k)] += c[std::size_t(k)], all += c[std::size_t(k)];
    c.push_back(all);
    total += all;
  }

  for (int k = 0; k < K; ++k) {
    MaskDescription& m = out[std::size_t(k)];
    m.name = mixture.names()[std::size_t(k)];
    std::vector<CharacteristicNGram> ranked;
    const double mine = mask_total[std::size_t(k)];
    if (mine > 0.0) {
      for (const auto& [gram, c] : counts) {
        const double ck = c[std::size_t(k)];
        if (ck <= 0.0 || ck < cfg.min_count) continue;
        ranked.push_back({std::string(gram), ck, std::log(ck / mine) - std::log(c.back() / total)});
      }
    }
    const auto order = [](const CharacteristicNGram& a, const CharacteristicNGram& b) {
      if (a.lift != b.lift) return a.lift > b.lift;
      if (a.count != b.count) return a.count > b.count;
      return a.ngram < b.ngram;  // deterministic whatever the hash order
    };
    const std::size_t keep = std::min(ranked.size(), std::size_t(cfg.top));
    std::partial_sort(ranked.begin(), ranked.begin() + std::ptrdiff_t(keep), ranked.end(), order);
    ranked.resize(keep);
    m.ngrams = std::move(ranked);
    if (cfg.sample_bytes > 0) {
      GenerateConfig g;
      g.max_tokens = cfg.sample_bytes;
      g.sampler.seed = cfg.seed + std::uint64_t(k);
      g.steering.clamp = k;
      m.sample = generate(mixture, "", g).text;
    }
  }
  return out;
}

}  // namespace simulacra
