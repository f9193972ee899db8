// Tests of transformer.hpp's model: the hand-written backward against central
// finite differences, causality, float against double, thread chunks, bad
// input. Configuration, layout and initialisation: transformer_layout_test.cpp;
// the KV cache and the persona: transformer_persona_test.cpp.
#include "simulacra/transformer.hpp"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "transformer_testing.hpp"

namespace simulacra {
namespace {

// A loss of the forward outputs and its gradients with respect to them.
struct Loss {
  double value = 0.0;
  std::vector<MatrixD> dlogits;
  MatrixD dgate;
};
using LossFunction = Loss (*)(const Activations<double>&, const std::vector<MatrixD>& r, const MatrixD& s,
                              const std::vector<Token>& targets);

// L = sum_k <R_k, logits_k> + <S, gate>: dL/dlogits_k = R_k, dL/dgate = S.
Loss linear_loss(const Activations<double>& acts, const std::vector<MatrixD>& r, const MatrixD& s,
                 const std::vector<Token>&) {
  Loss loss;
  for (std::size_t k = 0; k < r.size(); ++k) loss.value += r[k].cwiseProduct(acts.logits[k]).sum();
  if (s.size() != 0) loss.value += s.cwiseProduct(acts.gate_logits).sum();
  loss.dlogits = r;
  loss.dgate = s;
  return loss;
}

// The hydra's mixture cross-entropy: L = -(1/N) sum_i log sum_k pi_ik p_k(y_i),
// pi_i = softmax(gate_i), p_k = softmax(logits_k). With responsibilities
// w_ik = pi_ik p_k(y_i) / sum_j pi_ij p_j(y_i):
// dL/dlogits_k[i] = w_ik (p_k[i] - onehot(y_i)) / N, dL/dgate[i] = (pi_i - w_i) / N.
Loss mixture_loss(const Activations<double>& acts, const std::vector<MatrixD>&, const MatrixD&,
                  const std::vector<Token>& y) {
  const Eigen::Index N = acts.hidden.rows(), K = Eigen::Index(acts.logits.size());
  const MatrixD log_pi = log_softmax_rows(acts.gate_logits);
  std::vector<MatrixD> log_p;
  for (const MatrixD& l : acts.logits) log_p.push_back(log_softmax_rows(l));
  Loss loss;
  loss.dlogits.assign(std::size_t(K), MatrixD(N, kVocab));
  loss.dgate.resize(N, K);
  for (Eigen::Index i = 0; i < N; ++i) {
    std::vector<double> joint(static_cast<std::size_t>(K));
    double total = 0.0;
    for (Eigen::Index k = 0; k < K; ++k) {
      joint[std::size_t(k)] = std::exp(log_pi(i, k) + log_p[std::size_t(k)](i, y[std::size_t(i)]));
      total += joint[std::size_t(k)];
    }
    loss.value -= std::log(total) / double(N);
    for (Eigen::Index k = 0; k < K; ++k) {
      const double w = joint[std::size_t(k)] / total;
      loss.dlogits[std::size_t(k)].row(i) = w * log_p[std::size_t(k)].row(i).array().exp() / double(N);
      loss.dlogits[std::size_t(k)](i, y[std::size_t(i)]) -= w / double(N);
      loss.dgate(i, k) = (std::exp(log_pi(i, k)) - w) / double(N);
    }
  }
  return loss;
}

// Largest |analytic - numeric| / max(|analytic|, |numeric|, 1) over every
// parameter, the numeric gradient by central differences of step 1e-6; the
// name of the worst tensor goes to `worst`.
double gradient_error(const TransformerConfig& config, LossFunction loss_function, std::uint32_t seed,
                      std::string& worst) {
  ModelD model(config, random_parameters(config, seed));
  const int B = 2, L = config.context - 1;
  const std::vector<Token> tokens = random_tokens(std::size_t(B * L), seed + 1);
  const std::vector<Token> targets = random_tokens(std::size_t(B * L), seed + 2);
  std::mt19937 rng(seed + 3);
  std::vector<MatrixD> r;
  for (int k = 0; k < config.personas; ++k) r.push_back(random_matrix(B * L, kVocab, rng));
  const MatrixD s = config.gate ? random_matrix(B * L, config.personas, rng) : MatrixD();

  Activations<double> acts;
  model.forward(tokens.data(), B, L, acts);
  const Loss loss = loss_function(acts, r, s, targets);
  std::vector<double> grads;
  model.backward(acts, loss.dlogits, loss.dgate, grads);
  EXPECT_EQ(grads.size(), model.parameters().size());

  const double h = 1e-6;
  double max_error = 0.0;
  for (const TensorInfo& t : model.layout()) {
    for (std::size_t i = t.offset; i < t.offset + t.size; ++i) {
      double& p = model.parameters()[i];
      const double saved = p;
      p = saved + h;
      model.forward(tokens.data(), B, L, acts);
      const double plus = loss_function(acts, r, s, targets).value;
      p = saved - h;
      model.forward(tokens.data(), B, L, acts);
      const double minus = loss_function(acts, r, s, targets).value;
      p = saved;
      const double numeric = (plus - minus) / (2 * h);
      const double error = std::abs(grads[i] - numeric) / std::max({std::abs(grads[i]), std::abs(numeric), 1.0});
      if (error > max_error) {
        max_error = error;
        worst = t.name;
      }
    }
  }
  return max_error;
}

// ---- backward against finite differences ---------------------------------------------

class TransformerGradientTest : public ::testing::TestWithParam<std::tuple<bool, bool, bool>> {};

// Every parameter's gradient of a random linear loss of the logits and gate:
// relative error < 1e-6 (central differences in double, step 1e-6).
TEST_P(TransformerGradientTest, LinearLossMatchesFiniteDifferences) {
  const auto [bias, tie, gate] = GetParam();
  std::string worst;
  const double error = gradient_error(tiny_config(bias, tie, gate), linear_loss, 11, worst);
  EXPECT_LT(error, 1e-6) << "worst tensor " << worst;
}

INSTANTIATE_TEST_SUITE_P(AllVariants, TransformerGradientTest,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool(), ::testing::Bool()));

TEST(TransformerGradientMixtureTest, CrossEntropyMatchesFiniteDifferences) {
  std::string worst;
  const double error = gradient_error(tiny_config(true, false, true), mixture_loss, 5, worst);
  EXPECT_LT(error, 1e-6) << "worst tensor " << worst;
}

TEST(TransformerBackwardTest, EmptyGradientsMeanZero) {
  const TransformerConfig c = tiny_config(true, false, true);
  const ModelD model(c, random_parameters(c, 2));
  const std::vector<Token> tokens = random_tokens(12, 3);
  Activations<double> acts;
  model.forward(tokens.data(), 2, 6, acts);
  std::mt19937 rng(4);
  const MatrixD r = random_matrix(12, kVocab, rng);
  std::vector<double> with_empty, with_zero;
  model.backward(acts, {r, MatrixD()}, MatrixD(), with_empty);
  model.backward(acts, {r, MatrixD::Zero(12, kVocab)}, MatrixD::Zero(12, 2), with_zero);
  EXPECT_EQ(with_empty, with_zero);
  std::vector<double> none;
  model.backward(acts, {MatrixD(), MatrixD()}, MatrixD(), none);
  EXPECT_TRUE(std::all_of(none.begin(), none.end(), [](double g) { return g == 0.0; }));
}

// ---- forward properties ---------------------------------------------------------------

TEST(TransformerForwardTest, CausalAndWindowsIndependent) {
  const TransformerConfig c = tiny_config(true, false, true);
  const ModelD model(c, random_parameters(c, 8));
  std::vector<Token> tokens = random_tokens(18, 9);  // B = 3 windows of 6
  Activations<double> before, after;
  model.forward(tokens.data(), 3, 6, before);
  tokens[6 + 3] = (tokens[6 + 3] + 1) % kVocab;  // window 1, position 3
  model.forward(tokens.data(), 3, 6, after);
  for (int k = 0; k < 2; ++k) {
    for (int i = 0; i < 18; ++i) {
      const bool affected = i >= 9 && i < 12;
      const bool same = before.logits[std::size_t(k)].row(i) == after.logits[std::size_t(k)].row(i);
      EXPECT_EQ(same, !affected) << "head " << k << " row " << i;
    }
  }
  for (int i = 0; i < 18; ++i) EXPECT_EQ(before.gate_logits.row(i) == after.gate_logits.row(i), i < 9 || i >= 12);
}

TEST(TransformerForwardTest, FloatAgreesWithDouble) {
  TransformerConfig c;
  c.layers = 2;
  c.width = 32;
  c.context = 16;
  c.personas = 2;
  c.bias = true;
  c.gate = true;
  const ModelD md(c, random_parameters(c, 21));
  std::vector<float> pf(md.parameters().begin(), md.parameters().end());
  std::vector<double> pd(pf.begin(), pf.end());  // the same (float-representable) parameters in both
  const ModelD model_d(c, pd);
  const ModelF model_f(c, pf);
  const std::vector<Token> tokens = random_tokens(4 * 16, 22);
  Activations<double> ad;
  Activations<float> af;
  model_d.forward(tokens.data(), 4, 16, ad);
  model_f.forward(tokens.data(), 4, 16, af);
  for (int k = 0; k < 2; ++k) {
    const MatrixD& d = ad.logits[std::size_t(k)];
    const double diff = (af.logits[std::size_t(k)].cast<double>() - d).cwiseAbs().maxCoeff();
    EXPECT_LT(diff, 1e-4 * d.cwiseAbs().maxCoeff()) << "head " << k;
  }
  const double gate_diff = (af.gate_logits.cast<double>() - ad.gate_logits).cwiseAbs().maxCoeff();
  EXPECT_LT(gate_diff, 1e-4 * ad.gate_logits.cwiseAbs().maxCoeff());
}

TEST(TransformerForwardTest, RepeatedPassesAreBitIdentical) {
  const TransformerConfig c;  // large enough for the threaded paths: N = 768
  const ModelF model(c, 5);
  const std::vector<Token> tokens = random_tokens(12 * 64, 6);
  Activations<float> a, b;
  model.forward(tokens.data(), 12, 64, a);
  model.forward(tokens.data(), 3, 17, b);  // another shape in between
  model.forward(tokens.data(), 12, 64, b);
  EXPECT_TRUE(a.logits[0] == b.logits[0]);
  std::mt19937 rng(7);
  const RowMatrix<float> r = random_matrix(12 * 64, kVocab, rng).cast<float>();
  std::vector<float> g1, g2;
  model.backward(a, {r}, RowMatrix<float>(), g1);
  model.backward(b, {r}, RowMatrix<float>(), g2);
  EXPECT_EQ(g1, g2);
}

// The float path (its own GEMM on AVX2 machines) against the double one, on
// sizes that leave partial register tiles: 39 rows, 9 per head, V = 257.
TEST(TransformerBackwardTest, FloatGradientsAgreeWithDouble) {
  TransformerConfig c;
  c.layers = 2;
  c.heads = 4;
  c.width = 36;
  c.context = 13;
  c.personas = 2;
  c.bias = true;
  c.gate = true;
  const std::vector<double> pd = random_parameters(c, 51);
  const std::vector<float> pf(pd.begin(), pd.end());
  const ModelD model_d(c, std::vector<double>(pf.begin(), pf.end()));
  const ModelF model_f(c, pf);
  const std::vector<Token> tokens = random_tokens(3 * 13, 52);
  std::mt19937 rng(53);
  const std::vector<MatrixD> r = {random_matrix(39, kVocab, rng), random_matrix(39, kVocab, rng)};
  const MatrixD s = random_matrix(39, 2, rng);
  Activations<double> ad;
  Activations<float> af;
  model_d.forward(tokens.data(), 3, 13, ad);
  model_f.forward(tokens.data(), 3, 13, af);
  std::vector<double> gd;
  std::vector<float> gf;
  model_d.backward(ad, r, s, gd);
  model_f.backward(af, {r[0].cast<float>(), r[1].cast<float>()}, s.cast<float>(), gf);
  for (const TensorInfo& t : model_d.layout()) {
    double scale = 0.0, diff = 0.0;
    for (std::size_t i = t.offset; i < t.offset + t.size; ++i) {
      scale = std::max(scale, std::abs(gd[i]));
      diff = std::max(diff, std::abs(double(gf[i]) - gd[i]));
    }
    EXPECT_LE(diff, 1e-5 * scale) << t.name;
  }
}

// With several threads, forward and backward split the windows into chunks
// and sum the chunks' gradients: the same numbers as one thread.
TEST(TransformerBackwardTest, ThreadChunksAgreeWithOneThread) {
  TransformerConfig c;
  c.layers = 1;
  c.width = 32;
  c.context = 16;
  c.personas = 2;
  c.bias = true;
  c.gate = true;
  const ModelD model(c, random_parameters(c, 61));
  const int B = 128, L = 16;  // B L C = 2^16: enough work for two chunks
  const std::vector<Token> tokens = random_tokens(std::size_t(B * L), 62);
  std::mt19937 rng(63);
  const std::vector<MatrixD> r = {random_matrix(B * L, kVocab, rng), random_matrix(B * L, kVocab, rng)};
  const MatrixD s = random_matrix(B * L, 2, rng);
  const int threads = omp_get_max_threads();
  std::vector<std::vector<double>> grads(2);
  std::vector<MatrixD> logits(2);
  for (int n : {1, 2}) {
    omp_set_num_threads(n);
    Activations<double> acts;
    model.forward(tokens.data(), B, L, acts);
    model.backward(acts, r, s, grads[std::size_t(n - 1)]);
    logits[std::size_t(n - 1)] = acts.logits[1];
  }
  omp_set_num_threads(threads);
  EXPECT_LE((logits[0] - logits[1]).cwiseAbs().maxCoeff(), 1e-12 * logits[0].cwiseAbs().maxCoeff());
  double scale = 0.0, diff = 0.0;
  for (std::size_t i = 0; i < grads[0].size(); ++i) {
    scale = std::max(scale, std::abs(grads[0][i]));
    diff = std::max(diff, std::abs(grads[0][i] - grads[1][i]));
  }
  EXPECT_LE(diff, 1e-12 * scale);
}

TEST(TransformerForwardTest, BadInputThrows) {
  const TransformerConfig c = tiny_config(false, false, false);
  const ModelD model(c, 1);
  Activations<double> acts;
  std::vector<Token> tokens(12, 65);
  tokens[7] = 257;
  EXPECT_THROW(model.forward(tokens.data(), 2, 6, acts), OutOfRange);
  tokens[7] = -1;
  EXPECT_THROW(model.forward(tokens.data(), 2, 6, acts), OutOfRange);
  tokens[7] = kBoundary;
  EXPECT_THROW(model.forward(tokens.data(), 1, 7, acts), InvalidArgument);  // L > context
  EXPECT_THROW(model.forward(tokens.data(), 1, 0, acts), InvalidArgument);
  EXPECT_THROW(model.forward(tokens.data(), 0, 6, acts), InvalidArgument);

  std::vector<double> grads;
  EXPECT_THROW(model.backward(acts, {MatrixD(), MatrixD()}, MatrixD(), grads), InvalidArgument);  // no forward yet
  model.forward(tokens.data(), 2, 6, acts);
  EXPECT_NO_THROW(model.backward(acts, {MatrixD(), MatrixD()}, MatrixD(), grads));
  EXPECT_THROW(model.backward(acts, {MatrixD()}, MatrixD(), grads), InvalidArgument);                   // one head
  EXPECT_THROW(model.backward(acts, {MatrixD(12, 256), MatrixD()}, MatrixD(), grads), InvalidArgument);  // columns
  EXPECT_THROW(model.backward(acts, {MatrixD(), MatrixD(11, 257)}, MatrixD(), grads), InvalidArgument);  // rows
  EXPECT_THROW(model.backward(acts, {MatrixD(), MatrixD()}, MatrixD(12, 2), grads), InvalidArgument);    // no gate
  const TransformerConfig cg = tiny_config(false, false, true);
  const ModelD gated(cg, 1);
  gated.forward(tokens.data(), 2, 6, acts);
  EXPECT_NO_THROW(gated.backward(acts, {MatrixD(), MatrixD()}, MatrixD::Zero(12, 2), grads));
  EXPECT_THROW(gated.backward(acts, {MatrixD(), MatrixD()}, MatrixD(12, 3), grads), InvalidArgument);
  // acts of a model with a gate
  EXPECT_THROW(model.backward(acts, {MatrixD(), MatrixD()}, MatrixD(), grads), InvalidArgument);

  ModelD::Cache cache;
  EXPECT_THROW(model.append(cache, 65), InvalidArgument);  // not reset
  model.reset(cache);
  EXPECT_THROW(model.append(cache, 257), OutOfRange);
  EXPECT_THROW(model.append(cache, -1), OutOfRange);
  const Eigen::VectorXd h = model.append(cache, kBoundary);
  EXPECT_THROW(model.head_logprobs(2, h), OutOfRange);
  EXPECT_THROW(model.head_logprobs(-1, h), OutOfRange);
  EXPECT_THROW(model.head_logprobs(0, Eigen::VectorXd(7)), InvalidArgument);
}

}  // namespace
}  // namespace simulacra
