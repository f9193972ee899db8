// Tests of transformer.hpp: the layout and its offsets, the initialisation,
// the hand-written backward against central finite differences, causality,
// float against double. The KV cache and the persona: transformer_persona_test.cpp.
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

// ---- configuration and layout -------------------------------------------------------

TEST(TransformerConfigTest, ChecksEveryField) {
  auto expect_bad = [](TransformerConfig c, const std::string& field) {
    try {
      c.check();
      ADD_FAILURE() << "no exception for a bad " << field;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  TransformerConfig c;
  EXPECT_NO_THROW(c.check());
  c.layers = 0;
  expect_bad(c, "layers");
  c = {};
  c.heads = 0;
  expect_bad(c, "heads");
  c = {};
  c.width = 0;
  expect_bad(c, "width");
  c = {};
  c.context = -1;
  expect_bad(c, "context");
  c = {};
  c.personas = 0;
  expect_bad(c, "personas");
  c = {};
  c.width = 10;  // 4 heads
  expect_bad(c, "width");
  EXPECT_THROW(ModelF(c, 1), InvalidArgument);
  EXPECT_THROW(transformer_layout(c), InvalidArgument);
}

TEST(TransformerConfigTest, ParameterCountAndFlops) {
  // Default: tok_emb 257*128 + pos_emb 64*128 + 4 layers of (128 + 3*128*128 +
  // 128*128 + 128 + 4*128*128 + 128*4*128) + head (128 + 257*128).
  const TransformerConfig c;
  EXPECT_EQ(c.parameter_count(), 32896 + 8192 + 4 * 196864 + 33024);
  // 6 x (4 * 12 * 128^2 + 257 * 128) + 12 * 4 * 64 * 128
  EXPECT_DOUBLE_EQ(c.training_flops_per_token(), 6.0 * (786432 + 32896) + 393216);
  TransformerConfig g = tiny_config(true, true, true);
  // 6 x (2 * 12 * 64 + 2 heads * 257 * 8 + gate 2 * 8) + 12 * 2 * 6 * 8
  EXPECT_DOUBLE_EQ(g.training_flops_per_token(), 6.0 * (1536 + 4112 + 16) + 1152);
}

TEST(TransformerLayoutTest, NamesShapesOffsetsWithBiasUntiedGate) {
  const TransformerConfig c = tiny_config(/*bias=*/true, /*tie=*/false, /*gate=*/true);
  const std::vector<TensorInfo> layout = transformer_layout(c);
  struct Expected {
    std::string name;
    std::vector<std::int64_t> shape;
  };
  std::vector<Expected> expected = {{"tok_emb", {257, 8}}, {"pos_emb", {6, 8}}};
  for (int l = 0; l < 2; ++l) {
    const std::string p = "h." + std::to_string(l) + ".";
    for (const Expected& e : std::vector<Expected>{{p + "ln1.weight", {8}},
                                                   {p + "ln1.bias", {8}},
                                                   {p + "attn.qkv.weight", {24, 8}},
                                                   {p + "attn.qkv.bias", {24}},
                                                   {p + "attn.proj.weight", {8, 8}},
                                                   {p + "attn.proj.bias", {8}},
                                                   {p + "ln2.weight", {8}},
                                                   {p + "ln2.bias", {8}},
                                                   {p + "mlp.fc.weight", {32, 8}},
                                                   {p + "mlp.fc.bias", {32}},
                                                   {p + "mlp.proj.weight", {8, 32}},
                                                   {p + "mlp.proj.bias", {8}}})
      expected.push_back(e);
  }
  for (int k = 0; k < 2; ++k) {
    const std::string p = "head." + std::to_string(k) + ".";
    expected.push_back({p + "ln.weight", {8}});
    expected.push_back({p + "ln.bias", {8}});
    expected.push_back({p + "unembed.weight", {257, 8}});
  }
  expected.push_back({"gate.weight", {2, 8}});
  expected.push_back({"gate.bias", {2}});

  ASSERT_EQ(layout.size(), expected.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < layout.size(); ++i) {
    SCOPED_TRACE(expected[i].name);
    EXPECT_EQ(layout[i].name, expected[i].name);
    EXPECT_EQ(layout[i].shape, expected[i].shape);
    EXPECT_EQ(layout[i].offset, offset);
    std::size_t size = 1;
    for (std::int64_t d : expected[i].shape) size *= std::size_t(d);
    EXPECT_EQ(layout[i].size, size);
    EXPECT_EQ(layout[i].decay, expected[i].shape.size() == 2);
    offset += size;
  }
  // 2056 + 48 + 2 layers * 872 + 2 heads * 2072 + gate 18
  EXPECT_EQ(c.parameter_count(), 8010);
  EXPECT_EQ(offset, 8010u);
}

TEST(TransformerLayoutTest, TiedWithoutBiasOrGate) {
  const TransformerConfig c = tiny_config(/*bias=*/false, /*tie=*/true, /*gate=*/false);
  const std::vector<TensorInfo> layout = transformer_layout(c);
  std::vector<std::string> names;
  for (const TensorInfo& t : layout) names.push_back(t.name);
  const std::vector<std::string> expected = {
      "tok_emb",          "pos_emb",           "h.0.ln1.weight",     "h.0.attn.qkv.weight",
      "h.0.attn.proj.weight", "h.0.ln2.weight", "h.0.mlp.fc.weight",  "h.0.mlp.proj.weight",
      "h.1.ln1.weight",   "h.1.attn.qkv.weight", "h.1.attn.proj.weight", "h.1.ln2.weight",
      "h.1.mlp.fc.weight", "h.1.mlp.proj.weight", "head.0.ln.weight",  "head.1.ln.weight"};
  EXPECT_EQ(names, expected);
  // 2056 + 48 + 2 layers * 784 + 2 heads * 8
  EXPECT_EQ(c.parameter_count(), 3688);
  EXPECT_EQ(layout.back().offset + layout.back().size, 3688u);
}

// ---- the model: initialisation and tensors ---------------------------------------------

TEST(TransformerLayoutTest, OffsetsAreTheLayoutsByName) {
  for (bool bias : {false, true})
    for (bool tie : {false, true})
      for (bool gate : {false, true}) {
        const TransformerConfig c = tiny_config(bias, tie, gate);
        const std::vector<TensorInfo> layout = transformer_layout(c);
        auto offset = [&](const std::string& name) {
          for (const TensorInfo& t : layout)
            if (t.name == name) return t.offset;
          return kAbsentTensor;
        };
        const TransformerOffsets o = transformer_offsets(c, layout);
        EXPECT_EQ(o.tok_emb, offset("tok_emb"));
        EXPECT_EQ(o.pos_emb, offset("pos_emb"));
        ASSERT_EQ(o.layers.size(), std::size_t(c.layers));
        for (int l = 0; l < c.layers; ++l) {
          const std::string p = "h." + std::to_string(l) + ".";
          const LayerOffsets& t = o.layers[std::size_t(l)];
          const std::vector<std::pair<std::size_t, std::string>> named = {
              {t.ln1_w, "ln1.weight"},        {t.ln1_b, "ln1.bias"},          {t.qkv_w, "attn.qkv.weight"},
              {t.qkv_b, "attn.qkv.bias"},     {t.attn_proj_w, "attn.proj.weight"}, {t.attn_proj_b, "attn.proj.bias"},
              {t.ln2_w, "ln2.weight"},        {t.ln2_b, "ln2.bias"},          {t.fc_w, "mlp.fc.weight"},
              {t.fc_b, "mlp.fc.bias"},        {t.mlp_proj_w, "mlp.proj.weight"}, {t.mlp_proj_b, "mlp.proj.bias"}};
          for (const auto& [got, name] : named) EXPECT_EQ(got, offset(p + name)) << p + name;
        }
        ASSERT_EQ(o.heads.size(), std::size_t(c.personas));
        for (int k = 0; k < c.personas; ++k) {
          const std::string p = "head." + std::to_string(k) + ".";
          EXPECT_EQ(o.heads[std::size_t(k)].ln_w, offset(p + "ln.weight"));
          EXPECT_EQ(o.heads[std::size_t(k)].ln_b, offset(p + "ln.bias"));
          EXPECT_EQ(o.heads[std::size_t(k)].unembed_w, tie ? offset("tok_emb") : offset(p + "unembed.weight"));
        }
        EXPECT_EQ(o.gate_w, offset("gate.weight"));
        EXPECT_EQ(o.gate_b, offset("gate.bias"));
      }
  // A layout that is not the configuration's.
  EXPECT_THROW(transformer_offsets(tiny_config(true, false, false), transformer_layout(tiny_config(false, false, false))),
               InvalidArgument);
}

TEST(TransformerModelTest, Gpt2Initialisation) {
  TransformerConfig c;
  c.bias = true;
  c.gate = true;
  c.personas = 2;
  const ModelF model(c, 7);
  auto stats = [&](const std::string& name) {
    const auto t = model.tensor(name);
    const double mean = double(t.cast<double>().mean());
    const double var = (t.cast<double>().array() - mean).square().mean();
    return std::pair<double, double>(mean, std::sqrt(var));
  };
  for (const char* name : {"tok_emb", "pos_emb", "h.2.attn.qkv.weight", "h.3.mlp.fc.weight",
                                  "head.1.unembed.weight"}) {
    const auto [mean, sd] = stats(name);
    EXPECT_NEAR(mean, 0.0, 0.001) << name;
    EXPECT_NEAR(sd, 0.02, 0.02 * 0.03) << name;
  }
  for (const char* name : {"h.0.attn.proj.weight", "h.1.mlp.proj.weight"}) {
    const auto [mean, sd] = stats(name);
    EXPECT_NEAR(mean, 0.0, 0.001) << name;
    EXPECT_NEAR(sd, 0.02 / std::sqrt(8.0), 0.02 / std::sqrt(8.0) * 0.03) << name;
  }
  EXPECT_TRUE((model.tensor("h.1.ln2.weight").array() == 1.0f).all());
  EXPECT_TRUE((model.tensor("head.0.ln.weight").array() == 1.0f).all());
  EXPECT_TRUE((model.tensor("h.1.mlp.fc.bias").array() == 0.0f).all());
  EXPECT_TRUE((model.tensor("gate.bias").array() == 0.0f).all());
}

TEST(TransformerModelTest, SameSeedSameParameters) {
  const TransformerConfig c = tiny_config(true, false, true);
  EXPECT_EQ(ModelD(c, 3).parameters(), ModelD(c, 3).parameters());
  EXPECT_NE(ModelD(c, 3).parameters(), ModelD(c, 4).parameters());
}

TEST(TransformerModelTest, TensorViews) {
  const TransformerConfig c = tiny_config(true, false, false);
  ModelD model(c, 1);
  const std::vector<TensorInfo> layout = transformer_layout(c);
  for (const TensorInfo& t : layout) {
    const auto view = model.tensor(t.name);
    EXPECT_EQ(view.data(), model.parameters().data() + t.offset) << t.name;
    EXPECT_EQ(view.rows(), t.shape.size() == 2 ? t.shape[0] : 1) << t.name;
    EXPECT_EQ(view.cols(), t.shape.back()) << t.name;
  }
  model.tensor("h.1.mlp.fc.weight")(3, 5) = 42.0;
  EXPECT_EQ(model.parameters()[model.tensor("h.1.mlp.fc.weight").data() - model.parameters().data() + 3 * 8 + 5], 42.0);
  EXPECT_THROW(model.tensor("h.2.mlp.fc.weight"), OutOfRange);
  EXPECT_THROW(std::as_const(model).tensor("gate.weight"), OutOfRange);
  EXPECT_THROW(ModelD(c, std::vector<double>(10)), InvalidArgument);
  EXPECT_NO_THROW(ModelD(c, std::vector<double>(std::size_t(c.parameter_count()))));
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
