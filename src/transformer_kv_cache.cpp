// KV-cache inference of the transformer (transformer.hpp): one token at a
// time through every layer, keys and values kept per layer, and head k's
// next-token distribution from a trunk output.
#include <cmath>

#include "simulacra/error.hpp"
#include "transformer_kernels.hpp"

namespace simulacra {

using namespace detail;

template <typename T>
void TransformerModel<T>::reset(Cache& cache) const {
  cache.keys.resize(std::size_t(config_.layers));
  cache.values.resize(std::size_t(config_.layers));
  for (int l = 0; l < config_.layers; ++l) {
    cache.keys[std::size_t(l)].resize(config_.context, config_.width);
    cache.values[std::size_t(l)].resize(config_.context, config_.width);
  }
  cache.window.clear();
  cache.window.reserve(std::size_t(config_.context));
}

template <typename T>
Eigen::Matrix<T, Eigen::Dynamic, 1> TransformerModel<T>::append(Cache& cache, Token token) const {
  const TransformerConfig& cfg = config_;
  const Index C = cfg.width, H = cfg.heads, D = C / H;
  SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "TransformerModel::append: token {} is outside 0..{}", token,
                  kVocab - 1);
  bool ready = cache.keys.size() == std::size_t(cfg.layers) && cache.values.size() == std::size_t(cfg.layers) &&
               cache.window.size() <= std::size_t(cfg.context);
  for (std::size_t l = 0; ready && l < cache.keys.size(); ++l)
    ready = cache.keys[l].rows() == cfg.context && cache.keys[l].cols() == C && cache.values[l].rows() == cfg.context &&
            cache.values[l].cols() == C;
  SIMULACRA_CHECK(ready, InvalidArgument, "TransformerModel::append: the cache does not fit this model (reset it first)");

  if (cache.window.size() == std::size_t(cfg.context)) {
    // Full: keep the last context / 2 tokens, re-encoded at positions 0.. in one pass.
    const int keep = cfg.context / 2;
    cache.window.erase(cache.window.begin(), cache.window.end() - keep);
    if (keep > 0) {
      Activations<T> acts;
      forward_trunk(cache.window.data(), 1, keep, acts);
      for (int l = 0; l < cfg.layers; ++l) {
        const RowMatrix<T>& qkv = acts.layers[std::size_t(l)].qkv;  // (keep, 3C)
        cache.keys[std::size_t(l)].topRows(keep) = qkv.middleCols(C, C);
        cache.values[std::size_t(l)].topRows(keep) = qkv.middleCols(2 * C, C);
      }
    }
  }
  const Index pos = Index(cache.window.size());
  cache.window.push_back(token);

  const T* p = params_.data();
  auto weight = [&](std::size_t offset, Index rows, Index cols) { return CMap<T>(p + offset, rows, cols); };
  auto add_bias = [&](Vector<T>& v, std::size_t offset) {
    if (offset != kAbsentTensor) v += Eigen::Map<const Vector<T>>(p + offset, v.size());
  };
  const T scale = T(1) / std::sqrt(T(D));
  Vector<T> x = (weight(offsets_.tok_emb, kVocab, C).row(token) + weight(offsets_.pos_emb, cfg.context, C).row(pos))
                    .transpose();
  Vector<T> xhat(C), ln(C), qkv(3 * C), y(C), u(4 * C), g(4 * C), att(pos + 1);
  for (int l = 0; l < cfg.layers; ++l) {
    const LayerOffsets& t = offsets_.layers[std::size_t(l)];
    RowMatrix<T>& keys = cache.keys[std::size_t(l)];
    RowMatrix<T>& values = cache.values[std::size_t(l)];
    layernorm_row(x.data(), at(p, t.ln1_w), at(p, t.ln1_b), C, xhat.data(), ln.data());
    qkv.noalias() = weight(t.qkv_w, 3 * C, C) * ln;  // qkv (3C) = Wqkv (3C, C) ln (C)
    add_bias(qkv, t.qkv_b);
    keys.row(pos) = qkv.segment(C, C).transpose();
    values.row(pos) = qkv.segment(2 * C, C).transpose();
    for (Index h = 0; h < H; ++h) {
      att.noalias() = keys.block(0, h * D, pos + 1, D) * qkv.segment(h * D, D);  // att (pos+1) = k (pos+1, D) q (D)
      softmax_row(att.data(), pos + 1, scale);
      y.segment(h * D, D).noalias() = values.block(0, h * D, pos + 1, D).transpose() * att;  // y (D) = v^T att
    }
    x.noalias() += weight(t.attn_proj_w, C, C) * y;  // x (C) += Wproj (C, C) y (C)
    add_bias(x, t.attn_proj_b);
    layernorm_row(x.data(), at(p, t.ln2_w), at(p, t.ln2_b), C, xhat.data(), ln.data());
    u.noalias() = weight(t.fc_w, 4 * C, C) * ln;  // u (4C) = Wfc (4C, C) ln (C)
    add_bias(u, t.fc_b);
    gelu_row(u.data(), g.data(), 4 * C);
    x.noalias() += weight(t.mlp_proj_w, C, 4 * C) * g;  // x (C) += Wproj (C, 4C) gelu(u) (4C)
    add_bias(x, t.mlp_proj_b);
  }
  return x;
}

template <typename T>
Eigen::Matrix<T, Eigen::Dynamic, 1> TransformerModel<T>::head_logprobs(
    int k, const Eigen::Matrix<T, Eigen::Dynamic, 1>& h) const {
  const Index C = config_.width;
  SIMULACRA_CHECK(k >= 0 && k < config_.personas, OutOfRange,
                  "TransformerModel::head_logprobs: head {} is outside 0..{}", k, config_.personas - 1);
  SIMULACRA_CHECK(h.size() == C, InvalidArgument,
                  "TransformerModel::head_logprobs: h has {} elements, the width is {}", h.size(), C);
  const HeadOffsets& t = offsets_.heads[std::size_t(k)];
  Vector<T> xhat(C), ln(C);
  layernorm_row(h.data(), at(params_.data(), t.ln_w), at(params_.data(), t.ln_b), C, xhat.data(), ln.data());
  Vector<T> out = CMap<T>(params_.data() + t.unembed_w, kVocab, C) * ln;  // logits (V) = W (V, C) ln (C)
  log_softmax(out.data(), kVocab);
  return out;
}

#define SIMULACRA_CACHE(T)                                                                          \
  template void TransformerModel<T>::reset(Cache&) const;                                           \
  template Eigen::Matrix<T, Eigen::Dynamic, 1> TransformerModel<T>::append(Cache&, Token) const;      \
  template Eigen::Matrix<T, Eigen::Dynamic, 1> TransformerModel<T>::head_logprobs(                  \
      int, const Eigen::Matrix<T, Eigen::Dynamic, 1>&) const;
SIMULACRA_CACHE(float)
SIMULACRA_CACHE(double)
#undef SIMULACRA_CACHE

}  // namespace simulacra
