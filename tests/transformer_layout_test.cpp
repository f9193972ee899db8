// Tests of transformer.hpp's configuration, layout and initialisation: the
// config checks, the parameter count and FLOPs, every tensor's name, shape and
// offset, GPT-2 initialisation and the tensor views. The backward and forward:
// transformer_test.cpp.
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

}  // namespace
}  // namespace simulacra
