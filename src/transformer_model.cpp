// The transformer model (transformer.hpp): GPT-2 initialisation, the forward
// pass over B windows and its hand-written backward, on the kernels of
// transformer_kernels.hpp. Threads split the windows of a pass (see
// "threads" there); the chunks' parameter gradients are summed in chunk order.
#include <algorithm>
#include <cmath>
#include <utility>

#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"
#include "transformer_kernels.hpp"

namespace simulacra {

using namespace detail;

namespace {

// splitmix64 uniforms through Box-Muller: the same sequence on every platform.
class NormalGenerator {
 public:
  explicit NormalGenerator(std::uint64_t seed) : state_(seed) {}
  double operator()() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    const double r = std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 6.283185307179586 * uniform();
    spare_ = r * std::sin(angle);
    has_spare_ = true;
    return r * std::cos(angle);
  }

 private:
  double uniform() { return (double(splitmix64(state_) >> 11) + 1.0) * 0x1.0p-53; }  // (0, 1]

  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

template <typename T>
TransformerModel<T>::TransformerModel(const TransformerConfig& config, std::uint64_t seed)
    : config_(config), layout_(transformer_layout(config)), offsets_(transformer_offsets(config, layout_)) {
  params_.resize(layout_.back().offset + layout_.back().size);
  NormalGenerator normal(seed);
  const double residual_std = 0.02 / std::sqrt(2.0 * config.layers);
  for (const TensorInfo& t : layout_) {
    T* p = params_.data() + t.offset;
    if (t.shape.size() == 2) {
      const double std = ends_with(t.name, ".proj.weight") ? residual_std : 0.02;
      for (std::size_t i = 0; i < t.size; ++i) p[i] = T(std * normal());
    } else {
      // LayerNorm gains start at 1, biases at 0.
      std::fill(p, p + t.size, ends_with(t.name, ".weight") ? T(1) : T(0));
    }
  }
}

template <typename T>
TransformerModel<T>::TransformerModel(const TransformerConfig& config, std::vector<T> parameters)
    : config_(config),
      layout_(transformer_layout(config)),
      offsets_(transformer_offsets(config, layout_)),
      params_(std::move(parameters)) {
  const std::size_t expected = layout_.back().offset + layout_.back().size;
  SIMULACRA_CHECK(params_.size() == expected, InvalidArgument,
                  "TransformerModel: {} parameters given, the configuration has {}", params_.size(), expected);
}

template <typename T>
Eigen::Map<typename TransformerModel<T>::Matrix> TransformerModel<T>::tensor(const std::string& name) {
  const Eigen::Map<const Matrix> view = std::as_const(*this).tensor(name);
  return {params_.data() + (view.data() - params_.data()), view.rows(), view.cols()};
}

template <typename T>
Eigen::Map<const typename TransformerModel<T>::Matrix> TransformerModel<T>::tensor(const std::string& name) const {
  const auto it = std::find_if(layout_.begin(), layout_.end(), [&](const TensorInfo& t) { return t.name == name; });
  SIMULACRA_CHECK(it != layout_.end(), OutOfRange, "TransformerModel::tensor: no tensor named '{}'", name);
  const Index rows = it->shape.size() == 2 ? Index(it->shape[0]) : 1;
  return {params_.data() + it->offset, rows, Index(it->shape.back())};
}

template <typename T>
void TransformerModel<T>::forward_trunk(const Token* tokens, int B, int L, Activations<T>& acts) const {
  const TransformerConfig& cfg = config_;
  SIMULACRA_CHECK(B >= 1, InvalidArgument, "TransformerModel::forward: B must be >= 1, got {}", B);
  SIMULACRA_CHECK(L >= 1 && L <= cfg.context, InvalidArgument,
                  "TransformerModel::forward: window length L = {} is outside 1..{} (the context)", L, cfg.context);
  SIMULACRA_CHECK(tokens != nullptr, InvalidArgument, "TransformerModel::forward: tokens is null");
  const Index N = Index(B) * L, C = cfg.width, H = cfg.heads;
  for (Index i = 0; i < N; ++i)
    SIMULACRA_CHECK(tokens[i] >= 0 && tokens[i] < kVocab, OutOfRange,
                    "TransformerModel::forward: token {} at position {} is outside 0..{}", tokens[i], i, kVocab - 1);

  acts.B = B;
  acts.L = L;
  acts.tokens.assign(tokens, tokens + N);
  acts.layers.resize(std::size_t(cfg.layers));
  for (LayerActivations<T>& a : acts.layers) {
    for (RowMatrix<T>* m : {&a.ln1_xhat, &a.ln1, &a.atty, &a.ln2_xhat, &a.ln2}) m->resize(N, C);
    a.qkv.resize(N, 3 * C);
    a.att.resize(N * H, L);
    a.fc.resize(N, 4 * C);
    a.gelu.resize(N, 4 * C);
    a.ln1_rstd.resize(N);
    a.ln2_rstd.resize(N);
  }
  acts.hidden.resize(N, C);

  const T* p = params_.data();
  auto weight = [&](std::size_t offset, Index rows, Index cols) { return CMap<T>(p + offset, rows, cols); };
  const int chunks = chunk_count(B, Index(L) * C);
  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, nb = Index(B) * (c + 1) / chunks - b0, r0 = b0 * L, n = nb * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    auto x = rows(acts.hidden);  // the residual stream, (n, C)
    embedding_forward<T>(x, tokens + r0, int(nb), L, weight(offsets_.tok_emb, kVocab, C),
                         weight(offsets_.pos_emb, cfg.context, C));
    for (int l = 0; l < cfg.layers; ++l) {
      const LayerOffsets& t = offsets_.layers[std::size_t(l)];
      LayerActivations<T>& a = acts.layers[std::size_t(l)];
      layernorm_forward<T>(rows(a.ln1), rows(a.ln1_xhat), a.ln1_rstd.data() + r0, x, at(p, t.ln1_w), at(p, t.ln1_b));
      linear_forward<T>(rows(a.qkv), rows(a.ln1), weight(t.qkv_w, 3 * C, C), at(p, t.qkv_b));
      attention_forward<T>(rows(a.atty), a.att.middleRows(r0 * H, n * H), rows(a.qkv), int(nb), L, int(H));
      linear_forward<T>(x, rows(a.atty), weight(t.attn_proj_w, C, C), at(p, t.attn_proj_b), /*accumulate=*/true);
      layernorm_forward<T>(rows(a.ln2), rows(a.ln2_xhat), a.ln2_rstd.data() + r0, x, at(p, t.ln2_w), at(p, t.ln2_b));
      linear_forward<T>(rows(a.fc), rows(a.ln2), weight(t.fc_w, 4 * C, C), at(p, t.fc_b));
      gelu_forward<T>(rows(a.gelu), rows(a.fc));
      linear_forward<T>(x, rows(a.gelu), weight(t.mlp_proj_w, C, 4 * C), at(p, t.mlp_proj_b), /*accumulate=*/true);
    }
  });
}

template <typename T>
void TransformerModel<T>::forward(const Token* tokens, int B, int L, Activations<T>& acts) const {
  const TransformerConfig& cfg = config_;
  forward_trunk(tokens, B, L, acts);
  const Index N = Index(B) * L, C = cfg.width, K = cfg.personas;
  acts.heads.resize(std::size_t(K));
  acts.logits.resize(std::size_t(K));
  for (std::size_t k = 0; k < std::size_t(K); ++k) {
    acts.heads[k].ln_xhat.resize(N, C);
    acts.heads[k].ln.resize(N, C);
    acts.heads[k].ln_rstd.resize(N);
    acts.logits[k].resize(N, kVocab);
  }
  acts.gate_logits.resize(cfg.gate ? N : 0, cfg.gate ? K : 0);

  const T* p = params_.data();
  const int chunks = chunk_count(B, Index(L) * C);
  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, r0 = b0 * L, n = (Index(B) * (c + 1) / chunks - b0) * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    for (std::size_t k = 0; k < std::size_t(K); ++k) {
      // logits_k (n, V) = ln_k(h) (n, C) W_k^T (C, V)
      const HeadOffsets& t = offsets_.heads[k];
      HeadActivations<T>& a = acts.heads[k];
      layernorm_forward<T>(rows(a.ln), rows(a.ln_xhat), a.ln_rstd.data() + r0, rows(acts.hidden), at(p, t.ln_w),
                           at(p, t.ln_b));
      linear_forward<T>(rows(acts.logits[k]), rows(a.ln), CMap<T>(p + t.unembed_w, kVocab, C), nullptr);
    }
    if (cfg.gate) {
      // gate (n, K) = h (n, C) G^T (C, K) + g
      linear_forward<T>(rows(acts.gate_logits), rows(acts.hidden), CMap<T>(p + offsets_.gate_w, K, C),
                        at(p, offsets_.gate_b));
    }
  });
}

template <typename T>
void TransformerModel<T>::backward(const Activations<T>& acts, const std::vector<Matrix>& dlogits, const Matrix& dgate,
                                   std::vector<T>& grads) const {
  BackwardWorkspace<T> workspace;
  backward(acts, dlogits, dgate, grads, workspace);
}

template <typename T>
void TransformerModel<T>::backward(const Activations<T>& acts, const std::vector<Matrix>& dlogits, const Matrix& dgate,
                                   std::vector<T>& grads, BackwardWorkspace<T>& ws) const {
  const TransformerConfig& cfg = config_;
  const int B = acts.B, L = acts.L;
  const Index N = Index(B) * L, C = cfg.width, H = cfg.heads, K = cfg.personas;
  bool from_forward = B >= 1 && L >= 1 && L <= cfg.context && acts.hidden.rows() == N && acts.hidden.cols() == C &&
                      acts.tokens.size() == std::size_t(N) && acts.layers.size() == std::size_t(cfg.layers) &&
                      acts.heads.size() == std::size_t(K) && acts.gate_logits.rows() == (cfg.gate ? N : 0);
  for (std::size_t k = 0; from_forward && k < acts.heads.size(); ++k) from_forward = acts.heads[k].ln.rows() == N;
  SIMULACRA_CHECK(from_forward, InvalidArgument,
                  "TransformerModel::backward: acts do not come from forward() of this model");
  SIMULACRA_CHECK(dlogits.size() == std::size_t(K), InvalidArgument,
                  "TransformerModel::backward: {} dlogits given, the model has {} heads", dlogits.size(), K);
  for (std::size_t k = 0; k < dlogits.size(); ++k)
    SIMULACRA_CHECK(dlogits[k].size() == 0 || (dlogits[k].rows() == N && dlogits[k].cols() == kVocab), InvalidArgument,
                    "TransformerModel::backward: dlogits[{}] is ({}, {}), expected empty or ({}, {})", k,
                    dlogits[k].rows(), dlogits[k].cols(), N, kVocab);
  SIMULACRA_CHECK(dgate.size() == 0 || (cfg.gate && dgate.rows() == N && dgate.cols() == K), InvalidArgument,
                  "TransformerModel::backward: dgate is ({}, {}), expected empty{}", dgate.rows(), dgate.cols(),
                  cfg.gate ? fmt::format(" or ({}, {})", N, K) : std::string(" (the model has no gate)"));

  const T* p = params_.data();
  auto weight = [&](std::size_t offset, Index rows, Index cols) { return CMap<T>(p + offset, rows, cols); };
  const Index P = Index(params_.size());
  const int chunks = chunk_count(B, Index(L) * C);
  grads.resize(params_.size());
  ws.dx.resize(N, C);
  ws.dln.resize(N, C);
  ws.dqkv.resize(N, 3 * C);
  ws.datty.resize(N, C);
  ws.dfc.resize(N, 4 * C);
  ws.datt.resize(N * H, L);
  ws.partial_grads.resize(chunks - 1, P);

  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, nb = Index(B) * (c + 1) / chunks - b0, r0 = b0 * L, n = nb * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    auto crows = [&](const RowMatrix<T>& m) { return m.middleRows(r0, n); };
    T* g = c == 0 ? grads.data() : ws.partial_grads.row(c - 1).data();  // this chunk's dL/dparameters
    std::fill(g, g + P, T(0));
    auto dx = rows(ws.dx);
    dx.setZero();

    // Heads: logits_k = ln_k(h) W_k^T; gate = h G^T + g.
    for (std::size_t k = 0; k < std::size_t(K); ++k) {
      const Matrix& dl = dlogits[k];
      if (dl.size() == 0) continue;
      const HeadOffsets& t = offsets_.heads[k];
      const HeadActivations<T>& a = acts.heads[k];
      linear_backward<T>(rows(ws.dln), g + t.unembed_w, nullptr, crows(dl), crows(a.ln), weight(t.unembed_w, kVocab, C));
      layernorm_backward<T>(dx, at(g, t.ln_w), at(g, t.ln_b), rows(ws.dln), crows(a.ln_xhat), a.ln_rstd.data() + r0,
                            at(p, t.ln_w));
    }
    if (dgate.size() != 0)
      linear_backward<T>(dx, g + offsets_.gate_w, at(g, offsets_.gate_b), crows(dgate), crows(acts.hidden),
                         weight(offsets_.gate_w, K, C), /*accumulate=*/true);

    for (int l = cfg.layers - 1; l >= 0; --l) {
      const LayerOffsets& t = offsets_.layers[std::size_t(l)];
      const LayerActivations<T>& a = acts.layers[std::size_t(l)];
      // x += gelu(ln2(x) Wfc^T + bfc) Wproj^T + bproj
      linear_backward<T>(rows(ws.dfc), g + t.mlp_proj_w, at(g, t.mlp_proj_b), dx, crows(a.gelu),
                         weight(t.mlp_proj_w, C, 4 * C));
      gelu_backward<T>(rows(ws.dfc), crows(a.fc));
      linear_backward<T>(rows(ws.dln), g + t.fc_w, at(g, t.fc_b), rows(ws.dfc), crows(a.ln2), weight(t.fc_w, 4 * C, C));
      layernorm_backward<T>(dx, at(g, t.ln2_w), at(g, t.ln2_b), rows(ws.dln), crows(a.ln2_xhat),
                            a.ln2_rstd.data() + r0, at(p, t.ln2_w));
      // x += attention(ln1(x) Wqkv^T + bqkv) Wproj^T + bproj
      linear_backward<T>(rows(ws.datty), g + t.attn_proj_w, at(g, t.attn_proj_b), dx, crows(a.atty),
                         weight(t.attn_proj_w, C, C));
      attention_backward<T>(rows(ws.dqkv), ws.datt.middleRows(r0 * H, n * H), rows(ws.datty),
                            a.att.middleRows(r0 * H, n * H), crows(a.qkv), int(nb), L, int(H));
      linear_backward<T>(rows(ws.dln), g + t.qkv_w, at(g, t.qkv_b), rows(ws.dqkv), crows(a.ln1),
                         weight(t.qkv_w, 3 * C, C));
      layernorm_backward<T>(dx, at(g, t.ln1_w), at(g, t.ln1_b), rows(ws.dln), crows(a.ln1_xhat),
                            a.ln1_rstd.data() + r0, at(p, t.ln1_w));
    }
    embedding_backward<T>(Map<T>(g + offsets_.tok_emb, kVocab, C), Map<T>(g + offsets_.pos_emb, cfg.context, C), dx,
                          acts.tokens.data() + r0, int(nb), L);
  });

  // The chunks' gradients summed in chunk order, in slices over the parameters.
  if (chunks > 1) {
    constexpr Index kSlice = Index(1) << 14;
    const RowMatrix<T>& partial = ws.partial_grads;
    for_rows((P + kSlice - 1) / kSlice, P * (chunks - 1), [&](Index s) {
      const Index b = s * kSlice, e = std::min(P, b + kSlice);
      Eigen::Map<RowArray<T>> out(grads.data() + b, e - b);
      for (int c = 1; c < chunks; ++c) out += partial.row(c - 1).segment(b, e - b).array();
    });
  }
}

template class TransformerModel<float>;
template class TransformerModel<double>;

}  // namespace simulacra
