// Tests of switching_fit.hpp: the Baum-Welch E-step against brute-force
// enumeration, EM's likelihood never falling, the fitted rate against a fine
// grid of the filter's exact likelihood, and the supervised objective
// against log p(x, z) - log p(x) computed independently.
#include "simulacra/switching_fit.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/smoothing.hpp"

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;

// Expected resets (fixed share) and transitions by enumerating all paths.
struct Counts {
  double resets = 0.0;
  Eigen::MatrixXd transitions = Eigen::MatrixXd::Zero(3, 3);
};

Counts enumerate_counts(const Eigen::MatrixXd& P, const Eigen::VectorXd& prior, const MixtureConfig& c) {
  const int T = int(P.rows()), K = 3;
  Eigen::MatrixXd a = c.transition;
  if (c.switching == Switching::kFixedShare)
    a = (1.0 - c.alpha) * Eigen::MatrixXd::Identity(K, K) + c.alpha * Eigen::VectorXd::Ones(K) * prior.transpose();
  Counts out;
  double total = 0.0;
  std::vector<int> z(std::size_t(T), 0);
  for (;;) {
    double w = prior[z[0]];
    for (int t = 0; t < T; ++t) {
      w *= P(t, z[std::size_t(t)]);
      if (t + 1 < T) w *= a(z[std::size_t(t)], z[std::size_t(t + 1)]);
    }
    total += w;
    for (int t = 0; t + 1 < T; ++t) {
      const int i = z[std::size_t(t)], j = z[std::size_t(t + 1)];
      out.transitions(i, j) += w;
      out.resets += w * c.alpha * prior[j] / a(i, j);  // P(reset | z_t = i, z_{t+1} = j)
    }
    int t = T - 1;
    while (t >= 0 && z[std::size_t(t)] == K - 1) z[std::size_t(t--)] = 0;
    if (t < 0) break;
    ++z[std::size_t(t)];
  }
  out.resets /= total;
  out.transitions /= total;
  return out;
}

TEST(BaumWelchTest, ExpectedCountsEqualEnumeration) {
  const std::vector<Token> tokens = table_text(7, 3, 5);
  const Eigen::MatrixXd P = table_probs(tokens);
  const Eigen::VectorXd prior = table_prior();
  const Mixture mix(table_personas(), kTableNames, prior);
  const Eigen::MatrixXd lp = mix.persona_logprobs(tokens);
  for (const MixtureConfig& c : {fixed_share(0.3), transition(table_transition())}) {
    simulacra::detail::SwitchCounts counts;
    simulacra::detail::forward_backward(c, prior.array().log(), tokens, lp, nullptr, &counts);
    const Counts e = enumerate_counts(P, prior, c);
    EXPECT_EQ(counts.switch_steps, 6.0);
    if (c.switching == Switching::kFixedShare) {
      EXPECT_NEAR(counts.resets, e.resets, 1e-12);
    } else {
      EXPECT_LE(max_abs_diff(counts.transitions, e.transitions), 1e-12);
    }
  }
}

// The filter's exact log-likelihood (Mixture::trace) at a rate.
double filter_ll(const Mixture& base, const std::vector<Token>& tokens, double alpha) {
  MixtureConfig c = base.config();
  c.switching = Switching::kFixedShare;
  c.alpha = alpha;
  const Mixture mix(table_personas(), kTableNames, table_prior(), c);
  return mix.trace(tokens).total_logprob();
}

TEST(BaumWelchTest, FixedShareRateMatchesAFineGridOfTheExactLikelihood) {
  const std::vector<Token> tokens = table_text(600, 60, 8);
  for (bool restricted : {false, true}) {
    MixtureConfig c;
    if (restricted) c.switch_after = {tokens[5], tokens[17], tokens[40]};
    const Mixture mix(table_personas(), kTableNames, table_prior(), c);
    simulacra::EmOptions o;
    o.max_iterations = 500;
    o.tolerance = 1e-13;
    const simulacra::FixedShareEm em = simulacra::fit_fixed_share_em(mix, tokens, o);
    ASSERT_GE(em.log_likelihood.size(), 3u);
    for (std::size_t i = 1; i < em.log_likelihood.size(); ++i)
      EXPECT_GE(em.log_likelihood[i], em.log_likelihood[i - 1] - 1e-9) << "iteration " << i;
    double best_alpha = 0.0, best = -INFINITY;
    for (int i = 0; i <= 3000; ++i) {
      const double a = std::pow(10.0, -4.0 + 4.0 * i / 3000.0);
      const double ll = filter_ll(mix, tokens, a);
      if (ll > best) best = ll, best_alpha = a;
    }
    EXPECT_NEAR(std::log(em.alpha), std::log(best_alpha), 0.01) << em.alpha << " vs " << best_alpha;
    EXPECT_GE(filter_ll(mix, tokens, em.alpha), best - 1e-5);  // EM converges linearly: within 1e-6 nats after 500 steps
    EXPECT_NEAR(em.log_likelihood.back(), filter_ll(mix, tokens, em.alpha), 1e-8);
  }
}

TEST(BaumWelchTest, TransitionLikelihoodNeverFallsAndBeatsFixedShare) {
  const std::vector<Token> tokens = table_text(900, 150, 2);
  const Mixture mix(table_personas(), kTableNames, table_prior());
  const simulacra::TransitionEm em = simulacra::fit_transition_em(mix, tokens);
  ASSERT_GE(em.log_likelihood.size(), 3u);
  for (std::size_t i = 1; i < em.log_likelihood.size(); ++i)
    EXPECT_GE(em.log_likelihood[i], em.log_likelihood[i - 1] - 1e-9) << "iteration " << i;
  EXPECT_LE((em.transition.rowwise().sum().array() - 1.0).abs().maxCoeff(), 1e-12);
  // The fitted matrix's likelihood, by the filter.
  MixtureConfig c = transition(em.transition);
  const Mixture fitted(table_personas(), kTableNames, table_prior(), c);
  EXPECT_NEAR(em.log_likelihood.back(), fitted.trace(tokens).total_logprob(), 1e-8);
  // A matrix has fixed share as a special case: it does at least as well as the fitted rate.
  const simulacra::FixedShareEm fs = simulacra::fit_fixed_share_em(mix, tokens);
  EXPECT_GE(em.log_likelihood.back(), fs.log_likelihood.back() - 1e-6);
}

TEST(BaumWelchTest, BadInput) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  EXPECT_THROW(simulacra::fit_fixed_share_em(mix, {}), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::fit_fixed_share_em(mix, {'a'}), simulacra::InvalidArgument);  // no switch point before the end
  EXPECT_THROW(simulacra::fit_fixed_share_em(mix, {'a', 300}), simulacra::OutOfRange);
  simulacra::EmOptions o;
  o.initial_alpha = 0.0;
  EXPECT_THROW(simulacra::fit_fixed_share_em(mix, {'a', 'b'}, o), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::fit_transition_em(mix, {'a', 'b'}, Eigen::MatrixXd::Ones(3, 3)), simulacra::InvalidArgument);
  MixtureConfig c;
  c.switch_after = {'\n'};
  const Mixture lines(table_personas(), kTableNames, table_prior(), c);
  EXPECT_THROW(simulacra::fit_fixed_share_em(lines, {'a', 'b', 'c'}), simulacra::InvalidArgument);
}

// ------------------------------------------------------------------ supervised

// log p(x, z) under fixed share at alpha, from the tables directly.
double joint(const simulacra::LabelledStream& s, const MixtureConfig& c, double alpha) {
  const Eigen::MatrixXd P = table_probs(s.tokens);
  const Eigen::VectorXd pi = table_prior() / table_prior().sum();
  double out = std::log(pi[s.personas[0]]);
  for (std::size_t t = 0; t < s.tokens.size(); ++t) {
    out += c.beta * std::log(P(Eigen::Index(t), s.personas[t]));
    if (t + 1 == s.tokens.size()) break;
    MixtureConfig f = c;
    f.switching = Switching::kFixedShare;
    f.alpha = alpha;
    const bool point = simulacra::switch_points(f)[std::size_t(s.tokens[t])];
    const int i = s.personas[t], j = s.personas[t + 1];
    const double a = point ? (i == j ? 1.0 - alpha : 0.0) + alpha * pi[j] : double(i == j);
    out += std::log(a);
  }
  return out;
}

simulacra::LabelledStream labelled(std::size_t n, std::size_t segment, unsigned seed) {
  simulacra::LabelledStream s;
  s.tokens = table_text(n, segment, seed);
  for (std::size_t t = 0; t < n; ++t) s.personas.push_back(int((t / segment) % 3));
  return s;
}

TEST(SupervisedFitTest, ObjectiveIsLogPOfPersonasGivenText) {
  const std::vector<simulacra::LabelledStream> streams = {labelled(500, 50, 1), labelled(300, 100, 2)};
  for (double beta : {1.0, 0.6}) {
    const Mixture mix(table_personas(), kTableNames, table_prior(), none(beta));
    simulacra::SegmentationFitOptions o;
    o.grid = {1e-4, 1e-3, 1e-2, 3e-2, 0.1, 0.5};
    const simulacra::SegmentationFit fit = simulacra::fit_fixed_share_supervised(mix, streams, o);
    EXPECT_EQ(fit.tokens, 800u);
    EXPECT_EQ(fit.switches, 9u + 2u);
    for (std::size_t g = 0; g < o.grid.size(); ++g) {
      double seg = 0.0, comp = 0.0;
      for (const auto& s : streams) {
        MixtureConfig c = fixed_share(o.grid[g], beta);
        const Mixture m(table_personas(), kTableNames, table_prior(), c);
        const double lx = simulacra::smooth(m, s.tokens).log_likelihood;
        if (beta == 1.0) {
          EXPECT_NEAR(lx, m.trace(s.tokens).total_logprob(), 1e-8);
        }
        seg += joint(s, mix.config(), o.grid[g]) - lx;
        comp += lx;
      }
      EXPECT_NEAR(fit.grid_segmentation[g], seg, 1e-7);
      EXPECT_NEAR(fit.grid_compression[g], comp, 1e-7);
    }
    for (double v : fit.grid_segmentation) EXPECT_GE(fit.segmentation_nats, v);
    for (double v : fit.grid_compression) EXPECT_GE(fit.compression_nats, v);
  }
}

TEST(SupervisedFitTest, SegmentationRateIsTheArgmaxOfAFineGrid) {
  const std::vector<simulacra::LabelledStream> streams = {labelled(600, 40, 3)};
  const Mixture mix(table_personas(), kTableNames, table_prior());
  const simulacra::SegmentationFit fit = simulacra::fit_fixed_share_supervised(mix, streams);
  simulacra::SegmentationFitOptions fine;
  for (int i = 0; i <= 2000; ++i) fine.grid.push_back(std::pow(10.0, -5.0 + 5.0 * i / 2000.0));
  fine.refine_iterations = 0;
  const simulacra::SegmentationFit grid = simulacra::fit_fixed_share_supervised(mix, streams, fine);
  EXPECT_NEAR(std::log(fit.alpha_segmentation), std::log(grid.alpha_segmentation), 0.01);
  EXPECT_NEAR(std::log(fit.alpha_compression), std::log(grid.alpha_compression), 0.01);
  EXPECT_GE(fit.segmentation_nats, grid.segmentation_nats - 1e-9);
}

// With a beta grid the pair kept is the best of the per-beta fits, each of
// which is the fit of a mixture tempered at that beta.
TEST(SupervisedFitTest, BetaGridKeepsTheBestTempering) {
  const std::vector<simulacra::LabelledStream> streams = {labelled(400, 40, 6)};
  const Mixture mix(table_personas(), kTableNames, table_prior());
  simulacra::SegmentationFitOptions o;
  o.beta_grid = {0.25, 0.5, 1.0, 2.0};
  const simulacra::SegmentationFit fit = simulacra::fit_fixed_share_supervised(mix, streams, o);
  double best = -INFINITY, best_beta = 0.0, best_alpha = 0.0;
  for (double b : o.beta_grid) {
    const Mixture tempered(table_personas(), kTableNames, table_prior(), none(b));
    const simulacra::SegmentationFit one = simulacra::fit_fixed_share_supervised(tempered, streams);
    if (one.segmentation_nats > best) best = one.segmentation_nats, best_beta = b, best_alpha = one.alpha_segmentation;
  }
  EXPECT_EQ(fit.beta_segmentation, best_beta);
  EXPECT_NEAR(fit.alpha_segmentation, best_alpha, 1e-12);
  EXPECT_NEAR(fit.segmentation_nats, best, 1e-9);
  // The compression rate stays the mixture's own (beta 1).
  EXPECT_NEAR(fit.alpha_compression, simulacra::fit_fixed_share_supervised(mix, streams).alpha_compression, 1e-12);
  o.beta_grid = {0.0};
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(mix, streams, o), simulacra::InvalidArgument);
}

TEST(SupervisedFitTest, JoinDocumentsAlternatesPersonas) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  std::vector<simulacra::Document> docs;
  for (int i = 0; i < 9; ++i) docs.push_back({std::string(std::size_t(10 + i), char('a' + i)), kTableNames[std::size_t(i % 3)]});
  docs.push_back({"x", "red"});
  simulacra::SegmentationFitOptions o;
  const simulacra::LabelledStream s = simulacra::join_documents(mix, docs, o);
  std::size_t bytes = 0;
  for (const auto& d : docs) bytes += d.text.size() + 1;
  ASSERT_EQ(s.tokens.size(), bytes);
  ASSERT_EQ(s.personas.size(), bytes);
  int changes = 0;
  for (std::size_t t = 0; t + 1 < s.tokens.size(); ++t) {
    if (s.tokens[t] != kBoundary) {
      EXPECT_EQ(s.personas[t], s.personas[t + 1]) << t;
    }
    changes += s.personas[t] != s.personas[t + 1];
    if (s.tokens[t] != kBoundary && s.tokens[t] != 'x') {  // each document's bytes keep their label
      EXPECT_EQ(kTableNames[std::size_t(s.personas[t])], kTableNames[std::size_t((s.tokens[t] - 'a') % 3)]);
    }
  }
  EXPECT_EQ(changes, 9);  // ten parts, every neighbour a different persona
  o.part_bytes = 25;      // red's documents: 10, 13, 16 and 1 bytes -> parts of 23+, the rest
  const simulacra::LabelledStream joined = simulacra::join_documents(mix, docs, o);
  int parts = 1;
  for (std::size_t t = 0; t + 1 < joined.tokens.size(); ++t) parts += joined.personas[t] != joined.personas[t + 1];
  EXPECT_LT(parts, 10);
  docs.push_back({"who", "nobody"});
  EXPECT_THROW(simulacra::join_documents(mix, docs, o), simulacra::OutOfRange);
  EXPECT_THROW(simulacra::join_documents(mix, {}, o), simulacra::InvalidArgument);
}

TEST(SupervisedFitTest, BadInput) {
  const Mixture mix(table_personas(), kTableNames, table_prior());
  simulacra::LabelledStream s = labelled(20, 5, 1);
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(mix, {}), simulacra::InvalidArgument);
  simulacra::LabelledStream short_labels = s;
  short_labels.personas.pop_back();
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(mix, {short_labels}), simulacra::InvalidArgument);
  simulacra::LabelledStream bad_label = s;
  bad_label.personas[3] = 3;
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(mix, {bad_label}), simulacra::OutOfRange);
  MixtureConfig c;
  c.switch_after = {kBoundary};
  const Mixture boundaries(table_personas(), kTableNames, table_prior(), c);
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(boundaries, {s}), simulacra::InvalidArgument);
  const Mixture removed(table_personas(), kTableNames, Eigen::Vector3d(1.0, 0.0, 1.0));
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(removed, {s}), simulacra::InvalidArgument);
  simulacra::SegmentationFitOptions o;
  o.grid = {0.0, 0.1};
  EXPECT_THROW(simulacra::fit_fixed_share_supervised(mix, {s}, o), simulacra::InvalidArgument);
}

}  // namespace
