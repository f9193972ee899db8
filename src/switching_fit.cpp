// Switching fitted for compression or segmentation (switching_fit.hpp).
#include "simulacra/switching_fit.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <random>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/smoothing.hpp"

namespace simulacra {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

void check_tokens(const std::vector<Token>& tokens, const char* what) {
  SIMULACRA_CHECK(!tokens.empty(), InvalidArgument, "{}: the stream is empty", what);
  for (std::size_t t = 0; t < tokens.size(); ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange, "{}: token {} at position {} is outside 0..{}",
                    what, tokens[t], t, kVocab - 1);
}

void check_options(const EmOptions& o, const char* what) {
  SIMULACRA_CHECK(o.max_iterations >= 1, InvalidArgument, "{}: max_iterations must be >= 1, got {}", what,
                  o.max_iterations);
  SIMULACRA_CHECK(std::isfinite(o.tolerance) && o.tolerance >= 0.0, InvalidArgument,
                  "{}: tolerance must be finite and >= 0, got {}", what, o.tolerance);
  SIMULACRA_CHECK(o.initial_alpha > 0.0 && o.initial_alpha < 1.0, InvalidArgument,
                  "{}: initial_alpha must be in (0, 1), got {}", what, o.initial_alpha);
}

// The mixture's config (prior, beta, switch points) under fixed share at `alpha`.
MixtureConfig fixed_share(const Mixture& mixture, double alpha) {
  MixtureConfig c = mixture.config();
  c.switching = Switching::kFixedShare;
  c.alpha = alpha;
  c.transition.resize(0, 0);
  return c;
}

Eigen::VectorXd log_prior(const Mixture& mixture) { return mixture.prior().array().log(); }

// The maximum of f over grid (each in (0, 1]), then golden-section steps in
// log alpha between the best point's neighbours. values: f at each grid point.
template <class F>
std::pair<double, double> maximise(const F& f, const std::vector<double>& grid, const std::vector<double>& values,
                                   int refine) {
  const std::size_t best = std::size_t(std::max_element(values.begin(), values.end()) - values.begin());
  double a = std::log(grid[best == 0 ? 0 : best - 1]), b = std::log(grid[std::min(best + 1, grid.size() - 1)]);
  double x_best = grid[best], f_best = values[best];
  const double g = (std::sqrt(5.0) - 1.0) / 2.0;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = refine > 0 ? f(std::exp(c)) : kNegInf, fd = refine > 0 ? f(std::exp(d)) : kNegInf;
  for (int i = 0; i < refine; ++i) {
    if (fc >= fd) {
      b = d, d = c, fd = fc, c = b - g * (b - a), fc = f(std::exp(c));
    } else {
      a = c, c = d, fc = fd, d = a + g * (b - a), fd = f(std::exp(d));
    }
    if (fc > f_best) x_best = std::exp(c), f_best = fc;
    if (fd > f_best) x_best = std::exp(d), f_best = fd;
  }
  return {x_best, f_best};
}

// A labelled stream scored once: its emissions and the parts of log p(x, z)
// that do not depend on alpha.
struct Scored {
  const std::vector<Token>* tokens;
  Eigen::MatrixXd lp;             // (T, K)
  double log_pi = 0.0;            // log pi_{z_1}
  double emitted = 0.0;           // sum_t log p_{z_t}(x_t)
  Eigen::VectorXd stays;          // (K) switch points at which persona k keeps speaking
  Eigen::VectorXd arrivals;       // (K) switch points after which persona k starts speaking
};

Scored score_stream(const Mixture& mixture, const LabelledStream& s, std::size_t index, std::size_t& switches) {
  const char* what = "fit_fixed_share_supervised";
  check_tokens(s.tokens, what);
  const int K = mixture.size();
  SIMULACRA_CHECK(s.personas.size() == s.tokens.size(), InvalidArgument,
                  "{}: stream {} has {} labels for {} tokens", what, index, s.personas.size(), s.tokens.size());
  for (std::size_t t = 0; t < s.personas.size(); ++t) {
    SIMULACRA_CHECK(s.personas[t] >= 0 && s.personas[t] < K, OutOfRange,
                    "{}: stream {} labels token {} with persona {}, outside 0..{}", what, index, t, s.personas[t],
                    K - 1);
    SIMULACRA_CHECK(mixture.prior()[s.personas[t]] > 0.0, InvalidArgument,
                    "{}: stream {} labels token {} with persona '{}', whose prior is 0", what, index, t,
                    mixture.names()[std::size_t(s.personas[t])]);
  }
  Scored out{&s.tokens, mixture.persona_logprobs(s.tokens), 0.0, 0.0, Eigen::VectorXd::Zero(K),
             Eigen::VectorXd::Zero(K)};
  const std::vector<bool> may_switch = switch_points(mixture.config());
  out.log_pi = std::log(mixture.prior()[s.personas[0]]);
  for (std::size_t t = 0; t < s.tokens.size(); ++t) {
    const int z = s.personas[t];
    SIMULACRA_CHECK(out.lp(Eigen::Index(t), z) > kNegInf, InvalidArgument,
                    "{}: stream {}: persona '{}' gives its own token {} at position {} probability 0", what, index,
                    mixture.names()[std::size_t(z)], s.tokens[t], t);
    out.emitted += out.lp(Eigen::Index(t), z);
    if (t + 1 == s.tokens.size()) break;
    const int next = s.personas[t + 1];
    if (!may_switch[std::size_t(s.tokens[t])]) {
      SIMULACRA_CHECK(next == z, InvalidArgument,
                      "{}: stream {} changes speaker after token {} at position {}, which is no switch point", what,
                      index, s.tokens[t], t);
      continue;
    }
    if (next == z) {
      out.stays[z] += 1;
    } else {
      out.arrivals[next] += 1;
      ++switches;
    }
  }
  return out;
}

}  // namespace

FixedShareEm fit_fixed_share_em(const Mixture& mixture, const std::vector<Token>& stream, const EmOptions& options) {
  check_tokens(stream, "fit_fixed_share_em");
  check_options(options, "fit_fixed_share_em");
  const Eigen::MatrixXd lp = mixture.persona_logprobs(stream);
  const Eigen::VectorXd lpi = log_prior(mixture);
  const double T = double(stream.size());
  FixedShareEm out;
  double alpha = options.initial_alpha;
  for (int it = 0; it < options.max_iterations; ++it) {
    detail::SwitchCounts counts;
    const double ll = detail::forward_backward(fixed_share(mixture, alpha), lpi, stream, lp, nullptr, &counts);
    SIMULACRA_CHECK(counts.switch_steps > 0, InvalidArgument,
                    "fit_fixed_share_em: the stream has no switch point before its last token");
    out.alphas.push_back(alpha);
    out.log_likelihood.push_back(ll);
    if (it > 0 && ll - out.log_likelihood[std::size_t(it - 1)] <= options.tolerance * T) break;
    alpha = std::min(1.0, counts.resets / counts.switch_steps);
  }
  out.alpha = out.alphas.back();
  return out;
}

TransitionEm fit_transition_em(const Mixture& mixture, const std::vector<Token>& stream, const Eigen::MatrixXd& initial,
                               const EmOptions& options) {
  check_tokens(stream, "fit_transition_em");
  check_options(options, "fit_transition_em");
  const int K = mixture.size();
  MixtureConfig cfg = mixture.config();
  cfg.switching = Switching::kTransition;
  if (initial.size() == 0) {
    const double a = options.initial_alpha;
    cfg.transition = a * Eigen::VectorXd::Ones(K) * mixture.prior().transpose();
    cfg.transition.diagonal().array() += 1.0 - a;
  } else {
    cfg.transition = initial;
  }
  Mixture::check(cfg, K);
  const Eigen::MatrixXd lp = mixture.persona_logprobs(stream);
  const Eigen::VectorXd lpi = log_prior(mixture);
  const double T = double(stream.size());
  TransitionEm out;
  for (int it = 0; it < options.max_iterations; ++it) {
    detail::SwitchCounts counts;
    const double ll = detail::forward_backward(cfg, lpi, stream, lp, nullptr, &counts);
    SIMULACRA_CHECK(counts.switch_steps > 0, InvalidArgument,
                    "fit_transition_em: the stream has no switch point before its last token");
    out.transition = cfg.transition;
    out.log_likelihood.push_back(ll);
    if (it > 0 && ll - out.log_likelihood[std::size_t(it - 1)] <= options.tolerance * T) break;
    for (int i = 0; i < K; ++i) {
      const double row = counts.transitions.row(i).sum();
      if (row > 0.0) cfg.transition.row(i) = counts.transitions.row(i) / row;
    }
  }
  return out;
}

SegmentationFit fit_fixed_share_supervised(const Mixture& mixture, const std::vector<LabelledStream>& streams,
                                           const SegmentationFitOptions& options) {
  const char* what = "fit_fixed_share_supervised";
  SIMULACRA_CHECK(!streams.empty(), InvalidArgument, "{}: no streams", what);
  SIMULACRA_CHECK(options.refine_iterations >= 0, InvalidArgument, "{}: refine_iterations must be >= 0, got {}",
                  what, options.refine_iterations);
  SegmentationFit out;
  out.grid = options.grid;
  if (out.grid.empty())
    for (int i = 0; i <= 28; ++i) out.grid.push_back(std::pow(10.0, -7.0 + i / 4.0));
  for (double a : out.grid)
    SIMULACRA_CHECK(a > 0.0 && a <= 1.0, InvalidArgument, "{}: grid value {} is outside (0, 1]", what, a);
  for (double b : options.beta_grid)
    SIMULACRA_CHECK(b > 0.0 && b <= MixtureConfig::kMaxBeta, InvalidArgument,
                    "{}: beta_grid value {} is outside (0, {}]", what, b, MixtureConfig::kMaxBeta);
  std::vector<Scored> scored;
  for (std::size_t s = 0; s < streams.size(); ++s) {
    scored.push_back(score_stream(mixture, streams[s], s, out.switches));
    out.tokens += streams[s].tokens.size();
  }
  const Eigen::VectorXd lpi = log_prior(mixture);
  // Both objectives at one rate and tempering: {sum log p(z | x), sum log p(x)}.
  auto evaluate = [&](double alpha, double beta) {
    MixtureConfig cfg = fixed_share(mixture, alpha);
    cfg.beta = beta;
    double seg = 0.0, comp = 0.0;
    for (const Scored& s : scored) {
      double chain = 0.0;
      for (int k = 0; k < mixture.size(); ++k) {
        if (s.stays[k] > 0) chain += s.stays[k] * std::log1p(-alpha * (1.0 - mixture.prior()[k]));
        if (s.arrivals[k] > 0) chain += s.arrivals[k] * (std::log(alpha) + lpi[k]);
      }
      const double lx = detail::forward_log_likelihood(cfg, lpi, *s.tokens, s.lp);
      seg += s.log_pi + beta * s.emitted + chain - lx;
      comp += lx;
    }
    return std::pair<double, double>{seg, comp};
  };
  const double beta0 = mixture.config().beta;
  for (double a : out.grid) {
    poll_interrupt();
    const auto [seg, comp] = evaluate(a, beta0);
    out.grid_segmentation.push_back(seg);
    out.grid_compression.push_back(comp);
  }
  out.beta_segmentation = beta0;
  std::tie(out.alpha_segmentation, out.segmentation_nats) = maximise(
      [&](double a) { return evaluate(a, beta0).first; }, out.grid, out.grid_segmentation, options.refine_iterations);
  std::tie(out.alpha_compression, out.compression_nats) = maximise(
      [&](double a) { return evaluate(a, beta0).second; }, out.grid, out.grid_compression, options.refine_iterations);
  for (double b : options.beta_grid) {
    if (b == beta0) continue;
    std::vector<double> values;
    for (double a : out.grid) {
      poll_interrupt();
      values.push_back(evaluate(a, b).first);
    }
    const auto [alpha, nats] =
        maximise([&](double a) { return evaluate(a, b).first; }, out.grid, values, options.refine_iterations);
    if (nats > out.segmentation_nats) {
      out.alpha_segmentation = alpha, out.segmentation_nats = nats, out.beta_segmentation = b;
      out.grid_segmentation = std::move(values);
    }
  }
  return out;
}

LabelledStream join_documents(const Mixture& mixture, const std::vector<Document>& documents,
                              const SegmentationFitOptions& options) {
  SIMULACRA_CHECK(!documents.empty(), InvalidArgument, "join_documents: no documents");
  const int K = mixture.size();
  std::vector<std::size_t> order(documents.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(options.seed ^ 0x9E3779B97F4A7C15ull);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  // parts[k]: persona k's parts, each its documents' tokens and byte count.
  std::vector<std::deque<std::vector<Token>>> parts(static_cast<std::size_t>(K));
  std::vector<std::size_t> open_bytes(static_cast<std::size_t>(K), 0);
  for (std::size_t i : order) {
    const int k = mixture.index_of(documents[i].persona);
    auto& list = parts[std::size_t(k)];
    if (list.empty() || open_bytes[std::size_t(k)] >= std::max<std::size_t>(options.part_bytes, 1)) {
      list.emplace_back();
      open_bytes[std::size_t(k)] = 0;
    }
    const std::vector<Token> doc = encode_document(documents[i].text);
    list.back().insert(list.back().end(), doc.begin(), doc.end());
    open_bytes[std::size_t(k)] += documents[i].text.size();
  }
  LabelledStream out;
  int last = -1;
  for (;;) {
    int pick = -1;
    for (int k = 0; k < K; ++k)
      if (k != last && !parts[std::size_t(k)].empty() &&
          (pick < 0 || parts[std::size_t(k)].size() > parts[std::size_t(pick)].size()))
        pick = k;
    if (pick < 0 && last >= 0 && !parts[std::size_t(last)].empty()) pick = last;
    if (pick < 0) break;
    const std::vector<Token>& part = parts[std::size_t(pick)].front();
    out.tokens.insert(out.tokens.end(), part.begin(), part.end());
    out.personas.insert(out.personas.end(), part.size(), pick);
    parts[std::size_t(pick)].pop_front();
    last = pick;
  }
  return out;
}

SegmentationFit fit_switching_segmentation(const Mixture& mixture, const std::vector<Document>& documents,
                                           const SegmentationFitOptions& options) {
  return fit_fixed_share_supervised(mixture, {join_documents(mixture, documents, options)}, options);
}

}  // namespace simulacra
