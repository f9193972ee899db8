// The transformer's configuration and parameter layout (transformer.hpp):
// names, shapes and offsets of the flat array, and the offsets by name.
#include "simulacra/transformer.hpp"

#include <unordered_map>
#include <utility>

#include "simulacra/error.hpp"

namespace simulacra {

void TransformerConfig::check() const {
  SIMULACRA_CHECK(layers >= 1, InvalidArgument, "TransformerConfig: layers must be >= 1, got {}", layers);
  SIMULACRA_CHECK(heads >= 1, InvalidArgument, "TransformerConfig: heads must be >= 1, got {}", heads);
  SIMULACRA_CHECK(width >= 1, InvalidArgument, "TransformerConfig: width must be >= 1, got {}", width);
  SIMULACRA_CHECK(context >= 1, InvalidArgument, "TransformerConfig: context must be >= 1, got {}", context);
  SIMULACRA_CHECK(personas >= 1, InvalidArgument, "TransformerConfig: personas must be >= 1, got {}", personas);
  SIMULACRA_CHECK(width % heads == 0, InvalidArgument, "TransformerConfig: width {} is not a multiple of heads {}",
                  width, heads);
}

std::int64_t TransformerConfig::parameter_count() const {
  const std::vector<TensorInfo> layout = transformer_layout(*this);
  return std::int64_t(layout.back().offset + layout.back().size);
}

double TransformerConfig::training_flops_per_token() const {
  check();
  // Multiply-adds per token with the weight matrices (not the embedding
  // lookups): 12 C^2 per layer (qkv 3, proj 1, fc 4, mlp proj 4), V C per
  // head (tied or not), K C for the gate.
  const double C = width, V = kVocab, K = personas;
  const double macs = layers * 12.0 * C * C + K * V * C + (gate ? K * C : 0.0);
  return 6.0 * macs + 12.0 * layers * double(context) * C;
}

std::vector<TensorInfo> transformer_layout(const TransformerConfig& config) {
  config.check();
  const std::int64_t V = kVocab, C = config.width, K = config.personas;
  std::vector<TensorInfo> out;
  std::size_t offset = 0;
  auto add = [&](std::string name, std::vector<std::int64_t> shape) {
    std::size_t size = 1;
    for (std::int64_t d : shape) size *= std::size_t(d);
    const bool decay = shape.size() == 2;
    out.push_back(TensorInfo{std::move(name), std::move(shape), offset, size, decay});
    offset += size;
  };
  auto add_bias = [&](std::string name, std::int64_t n) {
    if (config.bias) add(std::move(name), {n});
  };
  add("tok_emb", {V, C});
  add("pos_emb", {config.context, C});
  for (int l = 0; l < config.layers; ++l) {
    const std::string p = fmt::format("h.{}.", l);
    add(p + "ln1.weight", {C});
    add_bias(p + "ln1.bias", C);
    add(p + "attn.qkv.weight", {3 * C, C});
    add_bias(p + "attn.qkv.bias", 3 * C);
    add(p + "attn.proj.weight", {C, C});
    add_bias(p + "attn.proj.bias", C);
    add(p + "ln2.weight", {C});
    add_bias(p + "ln2.bias", C);
    add(p + "mlp.fc.weight", {4 * C, C});
    add_bias(p + "mlp.fc.bias", 4 * C);
    add(p + "mlp.proj.weight", {C, 4 * C});
    add_bias(p + "mlp.proj.bias", C);
  }
  for (int k = 0; k < config.personas; ++k) {
    const std::string p = fmt::format("head.{}.", k);
    add(p + "ln.weight", {C});
    add_bias(p + "ln.bias", C);
    if (!config.tie_weights) add(p + "unembed.weight", {V, C});
  }
  if (config.gate) {
    add("gate.weight", {K, C});
    add_bias("gate.bias", K);
  }
  return out;
}

TransformerOffsets transformer_offsets(const TransformerConfig& config, const std::vector<TensorInfo>& layout) {
  std::unordered_map<std::string, std::size_t> by_name;
  for (const TensorInfo& t : layout) by_name.emplace(t.name, t.offset);
  auto find = [&](const std::string& name) {
    const auto it = by_name.find(name);
    SIMULACRA_CHECK(it != by_name.end(), InvalidArgument, "transformer_offsets: the layout has no tensor '{}'", name);
    return it->second;
  };
  auto bias = [&](const std::string& name) { return config.bias ? find(name) : kAbsentTensor; };
  TransformerOffsets o;
  o.tok_emb = find("tok_emb");
  o.pos_emb = find("pos_emb");
  for (int l = 0; l < config.layers; ++l) {
    const std::string p = fmt::format("h.{}.", l);
    o.layers.push_back({find(p + "ln1.weight"), bias(p + "ln1.bias"), find(p + "attn.qkv.weight"),
                        bias(p + "attn.qkv.bias"), find(p + "attn.proj.weight"), bias(p + "attn.proj.bias"),
                        find(p + "ln2.weight"), bias(p + "ln2.bias"), find(p + "mlp.fc.weight"), bias(p + "mlp.fc.bias"),
                        find(p + "mlp.proj.weight"), bias(p + "mlp.proj.bias")});
  }
  for (int k = 0; k < config.personas; ++k) {
    const std::string p = fmt::format("head.{}.", k);
    o.heads.push_back({find(p + "ln.weight"), bias(p + "ln.bias"),
                       config.tie_weights ? o.tok_emb : find(p + "unembed.weight")});
  }
  if (config.gate) {
    o.gate_w = find("gate.weight");
    o.gate_b = bias("gate.bias");
  }
  return o;
}

}  // namespace simulacra
