// simulacra/transformer.hpp — neural masks: a GPT "hydra" with hand-written backward.
//
// A causal, pre-LayerNorm GPT over the byte vocabulary plus the boundary
// (kVocab = 257 tokens in and out). One shared trunk and K persona heads:
//
//   x0      = tok_emb[tokens] + pos_emb[0..L)                 (N, C), N = B * L
//   x_{l+1} = x_l + attn_l(ln1_l(x_l));  x_{l+1} += mlp_l(ln2_l(x_{l+1}))
//   h       = x_layers                                         (N, C) the trunk ("the body nobody talks to")
//   logits_k = ln_k(h) W_k^T                                   (N, V) head k (W_k = tok_emb when tied)
//   gate    = h G^T (+ g)                                      (N, K) optional learned gate logits
//
// attn: multi-head causal self-attention, qkv = x Wqkv^T (+ b) (N, 3C), per
// head softmax(q k^T / sqrt(C / H) + causal mask) v, then x Wproj^T (+ b).
// mlp: GELU (tanh approximation, as nanoGPT / GPT-2) of x Wfc^T (+ b) (N, 4C),
// then Wproj (C, 4C). With bias off, linear layers and LayerNorms have no bias.
//
// Parameters live in one flat array (the layout below, each tensor row-major
// in PyTorch's shape), so the optimiser, checkpoints and the PyTorch
// reference all see the same bytes. The model is a template on the scalar:
// float for training and inference, double for the gradient checks.
//
//   TransformerConfig cfg;                   // 4 layers, 4 heads, width 128, context 64
//   cfg.personas = 3;                        // three heads on one trunk
//   TransformerModel<float> model(cfg, /*seed=*/1);
//   Activations<float> acts;
//   model.forward(tokens.data(), B, L, acts);    // acts.logits[k]: (B*L, 257)
//   model.backward(acts, dlogits, {}, grads);    // grads: same layout as model.parameters()
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/persona.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct TransformerConfig {
  int layers = 4;           // transformer blocks (>= 1)
  int heads = 4;            // attention heads (>= 1, divides width)
  int width = 128;          // embedding width C (>= 1)
  int context = 64;         // longest window L the model reads (>= 1)
  int personas = 1;         // K heads on the trunk (>= 1)
  bool bias = false;        // biases in linear layers and LayerNorms
  bool tie_weights = false; // every head's unembedding is tok_emb
  bool gate = false;        // a learned gate G (K, C) (+ g (K) with bias): softmax(G h + g)

  // InvalidArgument naming the first bad field.
  void check() const;
  // Number of scalar parameters.
  std::int64_t parameter_count() const;
  // Training FLOPs per token, forward + backward: 6 x (non-embedding
  // parameter multiply-adds, every head counted) + 12 x layers x L x C for
  // attention scores and values at window length L = context (PaLM's
  // accounting, the causal mask not discounted). Used for MFU.
  double training_flops_per_token() const;
};

// Field by field: equal configurations have the same layout and the same model shape.
inline bool operator==(const TransformerConfig& a, const TransformerConfig& b) {
  return a.layers == b.layers && a.heads == b.heads && a.width == b.width && a.context == b.context &&
         a.personas == b.personas && a.bias == b.bias && a.tie_weights == b.tie_weights && a.gate == b.gate;
}
inline bool operator!=(const TransformerConfig& a, const TransformerConfig& b) { return !(a == b); }

// One tensor of the flat parameter array.
struct TensorInfo {
  std::string name;                // "tok_emb", "h.0.attn.qkv.weight", "head.1.ln.weight", ...
  std::vector<std::int64_t> shape; // PyTorch's shape (row-major)
  std::size_t offset = 0;          // first element in the flat array
  std::size_t size = 0;            // number of elements
  bool decay = false;              // AdamW weight decay applies (2-D weights and embeddings)
};

// The parameter layout of a configuration, in this order:
//   tok_emb (V, C), pos_emb (context, C);
//   per layer l: h.l.ln1.weight (C) [h.l.ln1.bias (C)], h.l.attn.qkv.weight (3C, C) [.bias (3C)],
//     h.l.attn.proj.weight (C, C) [.bias (C)], h.l.ln2.weight (C) [h.l.ln2.bias],
//     h.l.mlp.fc.weight (4C, C) [.bias (4C)], h.l.mlp.proj.weight (C, 4C) [.bias (C)];
//   per head k: head.k.ln.weight (C) [head.k.ln.bias (C)], head.k.unembed.weight (V, C) (untied only);
//   with a gate: gate.weight (K, C) [gate.bias (K)].
// Bracketed tensors exist only with bias on. Decay: every tensor of rank 2.
std::vector<TensorInfo> transformer_layout(const TransformerConfig& config);

// Where each tensor of transformer_layout(config) lives in the flat array,
// resolved by name once per model. Absent tensors (biases with bias off) are
// kAbsentTensor; with tied weights every head's unembed_w is tok_emb.
inline constexpr std::size_t kAbsentTensor = static_cast<std::size_t>(-1);
struct LayerOffsets {
  std::size_t ln1_w, ln1_b, qkv_w, qkv_b, attn_proj_w, attn_proj_b;
  std::size_t ln2_w, ln2_b, fc_w, fc_b, mlp_proj_w, mlp_proj_b;
};
struct HeadOffsets {
  std::size_t ln_w, ln_b, unembed_w;
};
struct TransformerOffsets {
  std::size_t tok_emb = 0, pos_emb = 0;
  std::vector<LayerOffsets> layers;  // (layers)
  std::vector<HeadOffsets> heads;    // (K)
  std::size_t gate_w = kAbsentTensor, gate_b = kAbsentTensor;
};
// The offsets of `layout`, which must be transformer_layout(config).
TransformerOffsets transformer_offsets(const TransformerConfig& config, const std::vector<TensorInfo>& layout);

// What forward() saves of layer l for backward(), N = B * L rows, C = width,
// H = heads (the names of llm.c's activation tensors).
template <typename T>
struct LayerActivations {
  RowMatrix<T> ln1_xhat;                         // (N, C) (x - mean) * rstd of the block input x
  Eigen::Matrix<T, Eigen::Dynamic, 1> ln1_rstd;  // (N) 1 / sqrt(var + eps)
  RowMatrix<T> ln1;                              // (N, C) ln1(x)
  RowMatrix<T> qkv;                              // (N, 3C) q | k | v
  RowMatrix<T> att;                              // (B H L, L) softmax(q k^T / sqrt(C / H)), block b H + h, 0 above the diagonal
  RowMatrix<T> atty;                             // (N, C) att v, the heads side by side
  RowMatrix<T> ln2_xhat;                         // (N, C) as ln1_xhat, of x + attention
  Eigen::Matrix<T, Eigen::Dynamic, 1> ln2_rstd;  // (N)
  RowMatrix<T> ln2;                              // (N, C)
  RowMatrix<T> fc;                               // (N, 4C) ln2 Wfc^T (+ b)
  RowMatrix<T> gelu;                             // (N, 4C) gelu(fc)
};

// What forward() saves of head k's LayerNorm.
template <typename T>
struct HeadActivations {
  RowMatrix<T> ln_xhat;                         // (N, C) (h - mean) * rstd
  Eigen::Matrix<T, Eigen::Dynamic, 1> ln_rstd;  // (N)
  RowMatrix<T> ln;                              // (N, C) ln_k(h), the unembedding's input
};

// Everything forward() keeps for backward() (and the outputs).
template <typename T>
struct Activations {
  int B = 0, L = 0;                         // windows and their length; N = B * L rows below
  std::vector<Token> tokens;                // (N) inputs
  RowMatrix<T> hidden;                      // (N, C) trunk output h
  std::vector<RowMatrix<T>> logits;         // K x (N, V) head logits
  RowMatrix<T> gate_logits;                 // (N, K) with a gate, else empty
  std::vector<LayerActivations<T>> layers;  // (layers)
  std::vector<HeadActivations<T>> heads;    // (K)
};

// backward()'s gradient buffers, kept by the caller to be reused from call
// to call (their sizes follow the last call): one workspace per concurrent
// backward(). P = parameter count.
template <typename T>
struct BackwardWorkspace {
  RowMatrix<T> dx;             // (N, C) dL/d(residual stream)
  RowMatrix<T> dln;            // (N, C) dL/d(a LayerNorm's output)
  RowMatrix<T> dqkv;           // (N, 3C)
  RowMatrix<T> datty;          // (N, C)
  RowMatrix<T> dfc;            // (N, 4C) dL/d gelu, then dL/d fc
  RowMatrix<T> datt;           // (B H L, L) dL/d att, then dL/d scores
  RowMatrix<T> partial_grads;  // (chunks - 1, P) the thread chunks' dL/dparameters after the first
};

template <typename T>
class TransformerModel {
 public:
  using Matrix = RowMatrix<T>;

  // GPT-2 initialisation from a seed: weights N(0, 0.02), the residual
  // projections (attn.proj, mlp.proj) N(0, 0.02 / sqrt(2 layers)), biases 0,
  // LayerNorm weights 1. InvalidArgument for a bad config.
  TransformerModel(const TransformerConfig& config, std::uint64_t seed);
  // A model with given parameters (size must match the layout).
  TransformerModel(const TransformerConfig& config, std::vector<T> parameters);

  const TransformerConfig& config() const { return config_; }
  const std::vector<TensorInfo>& layout() const { return layout_; }
  std::vector<T>& parameters() { return params_; }
  const std::vector<T>& parameters() const { return params_; }
  // The tensor called `name` (a view into parameters(), rows x cols with a
  // vector as one row). OutOfRange naming it if unknown.
  Eigen::Map<Matrix> tensor(const std::string& name);
  Eigen::Map<const Matrix> tensor(const std::string& name) const;

  // Forward pass over B windows of L tokens (tokens row-major (B, L), each
  // 0..kVocab-1, 1 <= L <= context). Fills acts (reusing its memory).
  // OutOfRange / InvalidArgument for bad tokens or sizes.
  void forward(const Token* tokens, int B, int L, Activations<T>& acts) const;

  // Backward pass: given dL/dlogits_k (K matrices (N, V); an empty matrix
  // means zero) and dL/dgate_logits ((N, K), or empty), writes dL/dparameters
  // into grads (resized to the parameter count, overwritten, same layout).
  // Its buffers live in `workspace`; the overload without one allocates them
  // for the call. Results do not depend on the workspace's previous use.
  void backward(const Activations<T>& acts, const std::vector<Matrix>& dlogits, const Matrix& dgate,
                std::vector<T>& grads, BackwardWorkspace<T>& workspace) const;
  void backward(const Activations<T>& acts, const std::vector<Matrix>& dlogits, const Matrix& dgate,
                std::vector<T>& grads) const;

  // ---- inference: one token at a time with a KV cache -----------------------
  //
  // A cache holds, per layer, the keys and values of up to `context`
  // positions. append() appends one token and returns the trunk output h of
  // that position (C). When the cache is full, it keeps the last context / 2
  // tokens, re-encodes them at positions 0.. (one forward pass over them) and
  // goes on: so a position sees between context / 2 and context - 1 tokens
  // before it once the text is longer than the context. Sequence scoring
  // (TransformerPersona::token_logprobs) follows exactly the same rule.
  struct Cache {
    std::vector<Matrix> keys, values;  // layers x (context, C)
    std::vector<Token> window;         // tokens currently encoded (<= context)
  };
  void reset(Cache& cache) const;
  Eigen::Matrix<T, Eigen::Dynamic, 1> append(Cache& cache, Token token) const;
  // Head k's log-softmax over the vocabulary (V) from a trunk output h (C).
  Eigen::Matrix<T, Eigen::Dynamic, 1> head_logprobs(int k, const Eigen::Matrix<T, Eigen::Dynamic, 1>& h) const;

 private:
  // The trunk of forward(): fills acts' tokens, hidden and the layers' saved tensors.
  void forward_trunk(const Token* tokens, int B, int L, Activations<T>& acts) const;

  TransformerConfig config_;
  std::vector<TensorInfo> layout_;
  TransformerOffsets offsets_;
  std::vector<T> params_;
};

extern template class TransformerModel<float>;
extern template class TransformerModel<double>;

// The kernel of the float linear layers on this CPU: "avx2-fma" (the
// library's packed GEMM, chosen at run time on CPUs with AVX2 and FMA,
// whatever flags the library was built with) or "eigen" (Eigen's GEMM).
// Double models always use Eigen's.
const char* transformer_gemm_kernel();

// Head k of a (shared) float model as a persona of a Mixture. Documents
// start with the boundary token as input: the first byte is predicted after
// reading 256, and after a boundary the cache starts again from [256].
class TransformerPersona final : public Persona {
 public:
  TransformerPersona(std::shared_ptr<const TransformerModel<float>> model, int head);
  std::string kind() const override { return "transformer"; }
  std::unique_ptr<PersonaState> begin() const override;
  // Batched: the same windows and positions as begin() / advance(), computed
  // a window at a time (one forward pass per context / 2 tokens).
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;
  using Persona::token_logprobs;

  const std::shared_ptr<const TransformerModel<float>>& model() const { return model_; }
  int head() const { return head_; }

 private:
  std::shared_ptr<const TransformerModel<float>> model_;
  int head_;
};

}  // namespace simulacra
