// Discovering masks that switch inside one stream (segment_discovery.hpp).
#include "simulacra/segment_discovery.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "simulacra/attribution.hpp"
#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/smoothing.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

namespace {

constexpr const char* kWho = "discover_segments";

void check(const std::string& stream, int k, const SegmentDiscoveryConfig& cfg) {
  SIMULACRA_CHECK(!stream.empty(), InvalidArgument, "{}: the stream is empty", kWho);
  NGramPersona::check_order(cfg.order, kWho);
  check_weighted_config(cfg.smoothing, kWho);
  SIMULACRA_CHECK(k >= 1, InvalidArgument, "{}: k must be >= 1, got {}", kWho, k);
  SIMULACRA_CHECK(cfg.iterations >= 1, InvalidArgument, "{}: iterations must be >= 1, got {}", kWho, cfg.iterations);
  SIMULACRA_CHECK(cfg.tolerance >= 0.0, InvalidArgument, "{}: tolerance must be >= 0, got {}", kWho, cfg.tolerance);
  SIMULACRA_CHECK(cfg.chunk_bytes >= 1, InvalidArgument, "{}: chunk_bytes must be >= 1", kWho);
  SIMULACRA_CHECK(cfg.initial_alpha > 0.0 && cfg.initial_alpha < 1.0, InvalidArgument,
                  "{}: initial_alpha must be in (0, 1), got {}", kWho, cfg.initial_alpha);
  SIMULACRA_CHECK(cfg.kmeans_restarts >= 1, InvalidArgument, "{}: kmeans_restarts must be >= 1, got {}", kWho,
                  cfg.kmeans_restarts);
  for (Token t : cfg.switch_after)
    SIMULACRA_CHECK(t >= 0 && t < kVocab, InvalidArgument, "{}: switch point {} is outside 0..{}", kWho, t, kVocab - 1);
  if (!cfg.names.empty()) {
    SIMULACRA_CHECK(cfg.names.size() == std::size_t(k), InvalidArgument, "{}: {} names for k = {}", kWho,
                    cfg.names.size(), k);
    const std::set<std::string> unique(cfg.names.begin(), cfg.names.end());
    SIMULACRA_CHECK(unique.size() == cfg.names.size() && !unique.count(""), InvalidArgument,
                    "{}: the names must be unique and non-empty", kWho);
  }
}

// Chunk starts: every chunk_bytes bytes, each cut moved to just after the next switch-point byte when there are
// switch points (a stream with none of them is one chunk).
std::vector<std::size_t> chunk_starts(const std::string& stream, const SegmentDiscoveryConfig& cfg) {
  std::vector<bool> point(kVocab, cfg.switch_after.empty());
  for (Token t : cfg.switch_after) point[std::size_t(t)] = true;
  std::vector<std::size_t> starts = {0};
  std::size_t at = cfg.chunk_bytes;
  while (at < stream.size()) {
    while (at < stream.size() && !point[static_cast<unsigned char>(stream[at - 1])]) ++at;  // cut after a point
    if (at >= stream.size()) break;
    starts.push_back(at);
    at += cfg.chunk_bytes;
  }
  return starts;
}

}  // namespace

SegmentDiscovery discover_segments(const std::string& stream, int k, const SegmentDiscoveryConfig& cfg) {
  check(stream, k, cfg);
  const std::vector<std::size_t> starts = chunk_starts(stream, cfg);
  const std::size_t C = starts.size();
  SIMULACRA_CHECK(std::size_t(k) <= C, InvalidArgument,
                  "{}: k = {} masks for {} chunks of {} bytes (shorter chunks, or fewer masks)", kWho, k, C,
                  cfg.chunk_bytes);
  std::vector<std::string> chunks(C);
  for (std::size_t c = 0; c < C; ++c)
    chunks[c] = stream.substr(starts[c], (c + 1 < C ? starts[c + 1] : stream.size()) - starts[c]);
  const DocumentNGrams counts(chunks, cfg.order);
  const std::vector<Token> tokens = encode(stream);  // the stream's bytes, read as the trace reads a text

  // The start: k-means++ on the chunks' profiles, one-hot weights; a mask left empty takes a chunk of the largest.
  Eigen::MatrixXd w = Eigen::MatrixXd::Zero(Eigen::Index(C), k);  // (C, K) chunk weights
  {
    KMeansConfig km;
    km.k = k;
    km.restarts = cfg.kmeans_restarts;
    std::uint64_t state = cfg.seed;
    km.seed = detail::splitmix64(state);
    std::vector<int> z = kmeans(ngram_profiles(chunks, cfg.profiles), km).assignments;
    fill_empty_clusters(z, k, state);
    for (std::size_t c = 0; c < C; ++c) w(Eigen::Index(c), z[c]) = 1.0;
  }

  std::vector<std::string> names = cfg.names;
  if (names.empty())
    for (int m = 0; m < k; ++m) names.push_back(fmt::format("mask{}", m));
  MixtureConfig mc;
  mc.switching = cfg.learn_transition ? Switching::kTransition : Switching::kFixedShare;
  mc.alpha = cfg.initial_alpha;
  mc.switch_after = cfg.switch_after;
  if (cfg.learn_transition)
    mc.transition = (1.0 - cfg.initial_alpha) * Eigen::MatrixXd::Identity(k, k) +
                    Eigen::MatrixXd::Constant(k, k, cfg.initial_alpha / k);
  std::vector<double> chunk_len(C);
  for (std::size_t c = 0; c < C; ++c) chunk_len[c] = double(chunks[c].size());
  std::vector<double> lls;
  std::vector<std::shared_ptr<const Persona>> personas(static_cast<std::size_t>(k));
  Eigen::VectorXd prior(k);
  Eigen::MatrixXd gamma;  // (T, K) the last E-step's responsibilities
  // The iteration with the highest log p(stream) is kept (the chunk weights make EM not strictly monotone).
  struct Best {
    double ll = -INFINITY;
    std::vector<std::shared_ptr<const Persona>> personas;
    Eigen::VectorXd prior;
    MixtureConfig config;
    Eigen::MatrixXd weights;
  } best;
  int it = 0;
  for (; it < cfg.iterations; ++it) {
    poll_interrupt();
    // M-step: the personas on the weighted chunks, the prior from the byte-weighted mean responsibilities.
    for (int m = 0; m < k; ++m) {
      std::vector<double> weights(C);
      for (std::size_t c = 0; c < C; ++c) weights[c] = std::clamp(w(Eigen::Index(c), m), 0.0, 1.0);
      personas[std::size_t(m)] = std::make_shared<NGramPersona>(counts.fit(weights, cfg.smoothing));
    }
    for (int m = 0; m < k; ++m) {
      double s = 0.0;
      for (std::size_t c = 0; c < C; ++c) s += chunk_len[c] * w(Eigen::Index(c), m);
      prior[m] = s;
    }
    prior = (prior.array() + 1e-12).matrix();  // a mask whose weight vanished keeps a positive prior
    prior /= prior.sum();
    const Mixture mix(personas, names, prior, mc);
    // E-step: one forward-backward gives the responsibilities and the expected switching events.
    const Eigen::MatrixXd lp = mix.persona_logprobs(tokens);
    detail::SwitchCounts events;
    Eigen::MatrixXd weights;
    const double ll = detail::forward_backward(mc, prior.array().log().matrix(), tokens, lp, &weights, &events);
    lls.push_back(ll);
    if (ll > best.ll) best = {ll, personas, prior, mc, weights};
    // M-step of the switching (Baum-Welch): the expected transitions, or resets per step that may switch.
    if (cfg.learn_transition) {
      for (int i = 0; i < k; ++i) {
        const double row = events.transitions.row(i).sum();
        if (row > 0.0) mc.transition.row(i) = events.transitions.row(i) / row;  // a state never left keeps its row
      }
    } else if (events.switch_steps > 0.0) {
      mc.alpha = std::clamp(events.resets / events.switch_steps, 1e-12, 1.0 - 1e-12);
    }
    gamma = std::move(weights);
    for (std::size_t c = 0; c < C; ++c) {
      const std::size_t end = c + 1 < C ? starts[c + 1] : stream.size();
      w.row(Eigen::Index(c)) = gamma.middleRows(Eigen::Index(starts[c]), Eigen::Index(end - starts[c]))
                                   .colwise()
                                   .mean();
    }
    if (lls.size() >= 2 && std::abs(lls.back() - lls[lls.size() - 2]) <= cfg.tolerance * std::abs(lls.back())) {
      ++it;
      break;
    }
  }
  Mixture mix(best.personas, names, best.prior, best.config);
  SegmentDiscovery out{mix, best.weights, attribute_spans(mix, tokens).path, starts, lls, it};
  return out;
}

}  // namespace simulacra
