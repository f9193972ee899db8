// The transformer hydra (transformer.hpp): layout, GPT-2 initialisation,
// forward and hand-written backward, KV-cache inference and the persona.
//
// Kernels come in forward / backward pairs, llm.c style, on row-major
// activations of N = B * L rows; C = width, H heads of D = C / H, V = kVocab.
// Linear layers are Eigen GEMMs on views of the flat parameter array (no
// copies). Threads (OpenMP, static schedules, no atomics) split the windows
// of a pass, see "threads" below; every reduction runs in a fixed order, so
// results are bit-identical run to run for a given thread count.
#include "simulacra/transformer.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <map>
#include <type_traits>
#include <utility>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <omp.h>

#include "simulacra/error.hpp"

namespace simulacra {

namespace {

using Index = Eigen::Index;
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;
template <typename T>
using RowArray = Eigen::Array<T, 1, Eigen::Dynamic>;
template <typename T>
using Ref = Eigen::Ref<RowMatrix<T>>;
template <typename T>
using CRef = Eigen::Ref<const RowMatrix<T>>;
template <typename T>
using Map = Eigen::Map<RowMatrix<T>>;
template <typename T>
using CMap = Eigen::Map<const RowMatrix<T>>;
// A column block of a row-major matrix (one head's slice of q, k, v or y).
template <typename T>
using Block = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using CBlock = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
constexpr double kLayerNormEps = 1e-5;       // PyTorch's default
constexpr double kGeluK = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluA = 0.044715;
// Row-wise kernels use the OpenMP threads from this many elements on.
constexpr Index kParallelWork = Index(1) << 15;
// Rows per forward() when TransformerPersona::score batches its windows.
constexpr std::size_t kScoreRows = 768;

// Saved tensors of one layer in Activations::saved, and its vectors in saved_vectors.
enum SavedMatrix { kXhat1, kLn1, kQkv, kAtt, kAtty, kXhat2, kLn2, kFc, kGelu, kSavedPerLayer };
enum SavedVector { kRstd1, kRstd2, kVectorsPerLayer };
// Per head, after the layers: saved[.. + 2k] xhat, [.. + 2k + 1] LayerNorm output; saved_vectors rstd.
// backward()'s buffers in Activations::workspace.
enum Workspace { kDx, kDln, kDqkv, kDatty, kDfc, kDatt, kPartialGrads, kWorkspaceSize };

// ---- where each tensor lives in the flat array -----------------------------

struct LayerTensors {
  std::size_t ln1_w, ln1_b, qkv_w, qkv_b, attn_proj_w, attn_proj_b;
  std::size_t ln2_w, ln2_b, fc_w, fc_b, mlp_proj_w, mlp_proj_b;
};
struct HeadTensors {
  std::size_t ln_w, ln_b, unembed_w;
};
struct GateTensors {
  std::size_t w, b;
};

std::size_t tensors_per_layer(const TransformerConfig& c) { return c.bias ? 12 : 6; }
std::size_t tensors_per_head(const TransformerConfig& c) { return (c.bias ? 2 : 1) + (c.tie_weights ? 0 : 1); }

// Reads offsets from the layout in its order (transformer_layout), absent biases as kAbsent.
class LayoutCursor {
 public:
  LayoutCursor(const std::vector<TensorInfo>& layout, const TransformerConfig& c, std::size_t first)
      : layout_(layout), bias_(c.bias), i_(first) {}
  std::size_t next() { return layout_[i_++].offset; }
  std::size_t next_bias() { return bias_ ? next() : kAbsent; }

 private:
  const std::vector<TensorInfo>& layout_;
  bool bias_;
  std::size_t i_;
};

LayerTensors layer_tensors(const std::vector<TensorInfo>& layout, const TransformerConfig& c, int l) {
  LayoutCursor at(layout, c, 2 + std::size_t(l) * tensors_per_layer(c));
  LayerTensors t;
  t.ln1_w = at.next();
  t.ln1_b = at.next_bias();
  t.qkv_w = at.next();
  t.qkv_b = at.next_bias();
  t.attn_proj_w = at.next();
  t.attn_proj_b = at.next_bias();
  t.ln2_w = at.next();
  t.ln2_b = at.next_bias();
  t.fc_w = at.next();
  t.fc_b = at.next_bias();
  t.mlp_proj_w = at.next();
  t.mlp_proj_b = at.next_bias();
  return t;
}

HeadTensors head_tensors(const std::vector<TensorInfo>& layout, const TransformerConfig& c, int k) {
  LayoutCursor at(layout, c, 2 + std::size_t(c.layers) * tensors_per_layer(c) + std::size_t(k) * tensors_per_head(c));
  HeadTensors t;
  t.ln_w = at.next();
  t.ln_b = at.next_bias();
  t.unembed_w = c.tie_weights ? layout[0].offset : at.next();
  return t;
}

GateTensors gate_tensors(const std::vector<TensorInfo>& layout, const TransformerConfig& c) {
  LayoutCursor at(layout, c,
                  2 + std::size_t(c.layers) * tensors_per_layer(c) + std::size_t(c.personas) * tensors_per_head(c));
  GateTensors t;
  t.w = at.next();
  t.b = at.next_bias();
  return t;
}

// Pointer to a tensor in a flat array, nullptr if absent.
template <typename T>
T* at(T* p, std::size_t offset) {
  return offset == kAbsent ? nullptr : p + offset;
}

// ---- deterministic normal numbers --------------------------------------------

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
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return (double(next() >> 11) + 1.0) * 0x1.0p-53; }  // (0, 1]

  std::uint64_t state_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// ---- row helpers (shared by the batched kernels and the KV-cache step) ------

// One row of C: xhat = (x - mean) * rstd, y = xhat * w (+ b); returns rstd.
template <typename T>
T layernorm_row(const T* x, const T* w, const T* b, Index C, T* xhat, T* y) {
  Eigen::Map<const RowArray<T>> xr(x, C), wr(w, C);
  Eigen::Map<RowArray<T>> xh(xhat, C), yr(y, C);
  const T mean = xr.mean();
  xh = xr - mean;
  const T rstd = T(1) / std::sqrt(xh.square().mean() + T(kLayerNormEps));
  xh *= rstd;
  if (b)
    yr = xh * wr + Eigen::Map<const RowArray<T>>(b, C);
  else
    yr = xh * wr;
  return rstd;
}

// s (n) = softmax(scale * s) in place.
template <typename T>
void softmax_row(T* s, Index n, T scale) {
  Eigen::Map<RowArray<T>> r(s, n);
  const T m = r.maxCoeff();
  r = ((r - m) * scale).exp();
  r /= r.sum();
}

// g (n) = 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))
template <typename T>
void gelu_row(const T* u, T* g, Index n) {
  Eigen::Map<const RowArray<T>> ur(u, n);
  Eigen::Map<RowArray<T>> gr(g, n);
  gr = T(0.5) * ur * (T(1) + (T(kGeluK) * (ur + T(kGeluA) * ur.cube())).tanh());
}

// x (n) -= logsumexp(x): log-softmax in place.
template <typename T>
void log_softmax(T* x, Index n) {
  Eigen::Map<RowArray<T>> r(x, n);
  const T m = r.maxCoeff();
  r -= m + std::log((r - m).exp().sum());
}

// Runs body(i) for i in [0, n), on the OpenMP threads when work is large and
// no parallel region is active yet (a nested region would allocate its team).
template <typename F>
void for_rows(Index n, Index work, const F& body) {
  if (work < kParallelWork || omp_in_parallel()) {
    for (Index i = 0; i < n; ++i) body(i);
    return;
  }
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) body(i);
}

// ---- threads -------------------------------------------------------------------------
//
// forward() and backward() split their B windows into one chunk per OpenMP
// thread, and each chunk runs the whole pass over its rows: the threads meet
// once per pass instead of once per kernel (which matters on a loaded
// machine), and the kernels inside run serially (nested regions are inactive
// and Eigen keeps its GEMMs serial inside a parallel region). Parameter
// gradients are summed per chunk, then across chunks in chunk order. With a
// single chunk the kernels use the threads themselves.

// Chunks of windows for a pass over B windows of window_size = L x C
// elements each: one per thread, unless the pass is too small to share.
int chunk_count(int B, Index window_size) {
  const Index worth = std::max<Index>(1, Index(B) * window_size / kParallelWork);
  return int(std::max<Index>(1, std::min<Index>({Index(B), Index(omp_get_max_threads()), worth})));
}

// Runs body(c) for every chunk c, one per thread.
template <typename F>
void for_chunks(int chunks, const F& body) {
  if (chunks == 1) return body(0);
#pragma omp parallel for schedule(static) num_threads(chunks)
  for (int c = 0; c < chunks; ++c) body(c);
}

// out (cols) += column sums of a (rows, cols): parallel over column slices,
// each summed over the rows in order (so no reduction order depends on threads).
template <typename T>
void add_column_sums(T* out, CRef<T> a) {
  constexpr Index kSlice = 32;
  const Index cols = a.cols(), slices = (cols + kSlice - 1) / kSlice;
  for_rows(slices, a.size(), [&](Index s) {
    const Index c0 = s * kSlice, w = std::min(kSlice, cols - c0);
    Eigen::Map<RowArray<T>> o(out + c0, w);
    for (Index i = 0; i < a.rows(); ++i) o += a.row(i).segment(c0, w).array();
  });
}

// out (cols) += column sums of a * b elementwise, as add_column_sums.
template <typename T>
void add_column_dots(T* out, CRef<T> a, CRef<T> b) {
  constexpr Index kSlice = 32;
  const Index cols = a.cols(), slices = (cols + kSlice - 1) / kSlice;
  for_rows(slices, a.size(), [&](Index s) {
    const Index c0 = s * kSlice, w = std::min(kSlice, cols - c0);
    Eigen::Map<RowArray<T>> o(out + c0, w);
    for (Index i = 0; i < a.rows(); ++i) o += a.row(i).segment(c0, w).array() * b.row(i).segment(c0, w).array();
  });
}

// ---- matrix products ---------------------------------------------------------------
//
// The linear layers' products in float run, on CPUs with AVX2 and FMA, on a
// GEMM in the style of GotoBLAS / BLIS: b packed in (kc, 16) column panels,
// a read in place six rows at a time, and a 6 x 16 tile of 12 register
// accumulators. On these shapes (depth 128 to 768, a few hundred rows per
// thread) it runs about 1.4x faster than Eigen's GEMM, which stays the path
// for double and for other CPUs. Panels live in a thread-local buffer that
// only grows.

// A matrix operand read through strides: element (i, j) at p[i * rs + j * cs].
struct Strided {
  const float* p;
  Index rs, cs;
};

#if defined(__AVX2__) && defined(__FMA__)
#define SIMULACRA_PACKED_GEMM 1

constexpr Index kTileRows = 6, kTileCols = 16;  // the register tile
constexpr Index kDepthBlock = 256, kColBlock = 512;

// Depth [p0, p0 + kc) x columns [j0, j0 + nc) of b as (kc, 16) panels, zero-padded.
void pack_panels(const Strided& b, Index p0, Index kc, Index j0, Index nc, float* out) {
  for (Index jr = 0; jr < nc; jr += kTileCols) {
    const Index n = std::min(kTileCols, nc - jr);
    for (Index p = 0; p < kc; ++p, out += kTileCols) {
      const float* src = b.p + (p0 + p) * b.rs + (j0 + jr) * b.cs;
      if (b.cs == 1 && n == kTileCols) {
        _mm256_storeu_ps(out, _mm256_loadu_ps(src));
        _mm256_storeu_ps(out + 8, _mm256_loadu_ps(src + 8));
      } else {
        for (Index j = 0; j < n; ++j) out[j] = src[j * b.cs];
        std::fill(out + n, out + kTileCols, 0.0f);
      }
    }
  }
}

// c (m, n) at row stride ldc (+)= a (m, kc) b panel (kc, 16), m <= 6, n <= 16;
// a's rows start at `rows` (m of them) and step by cs along the depth.
void multiply_tile(Index kc, const float* const* rows, Index cs, const float* b, float* c, Index ldc, bool accumulate,
                   Index m, Index n) {
  __m256 acc[kTileRows][2];  // the unrolled loops keep these in 12 registers
#pragma GCC unroll 6
  for (Index r = 0; r < kTileRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (Index p = 0, o = 0; p < kc; ++p, o += cs, b += kTileCols) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (Index r = 0; r < kTileRows; ++r) {
      const __m256 x = _mm256_broadcast_ss(rows[r] + o);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  if (m == kTileRows && n == kTileCols) {
#pragma GCC unroll 6
    for (Index r = 0; r < kTileRows; ++r) {
      float* row = c + r * ldc;
      if (accumulate) {
        acc[r][0] = _mm256_add_ps(acc[r][0], _mm256_loadu_ps(row));
        acc[r][1] = _mm256_add_ps(acc[r][1], _mm256_loadu_ps(row + 8));
      }
      _mm256_storeu_ps(row, acc[r][0]);
      _mm256_storeu_ps(row + 8, acc[r][1]);
    }
    return;
  }
  alignas(32) float tile[kTileRows][kTileCols];
#pragma GCC unroll 6
  for (Index r = 0; r < kTileRows; ++r) {
    _mm256_store_ps(tile[r], acc[r][0]);
    _mm256_store_ps(tile[r] + 8, acc[r][1]);
  }
  for (Index r = 0; r < m; ++r)
    for (Index j = 0; j < n; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r][j] : tile[r][j];
}

// c (M, N) at row stride ldc = a (M, K) b (K, N), or += with accumulate
void packed_gemm(Index M, Index N, Index K, Strided a, Strided b, float* c, Index ldc, bool accumulate) {
  if (K == 0) {
    if (!accumulate)
      for (Index i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
    return;
  }
  thread_local std::vector<float> panels;
  const Index widest = (std::min(N, kColBlock) + kTileCols - 1) / kTileCols * kTileCols;
  if (panels.size() < std::size_t(kDepthBlock * widest)) panels.resize(std::size_t(kDepthBlock * widest));
  for (Index j0 = 0; j0 < N; j0 += kColBlock) {
    const Index nc = std::min(kColBlock, N - j0);
    for (Index p0 = 0; p0 < K; p0 += kDepthBlock) {
      const Index kc = std::min(kDepthBlock, K - p0);
      pack_panels(b, p0, kc, j0, nc, panels.data());
      for (Index i0 = 0; i0 < M; i0 += kTileRows) {
        const Index m = std::min(kTileRows, M - i0);
        const float* rows[kTileRows];
        for (Index r = 0; r < kTileRows; ++r) rows[r] = a.p + (i0 + std::min(r, m - 1)) * a.rs + p0 * a.cs;
        for (Index jr = 0; jr < nc; jr += kTileCols)
          multiply_tile(kc, rows, a.cs, panels.data() + jr * kc, c + i0 * ldc + j0 + jr, ldc, accumulate || p0 > 0, m,
                        std::min(kTileCols, nc - jr));
      }
    }
  }
}
#endif

// y (M, N) = x (M, K) W^T (K, N), or += with accumulate; W (N, K) row-major
template <typename T>
void multiply_transposed(Ref<T> y, CRef<T> x, CMap<T> w, bool accumulate) {
#ifdef SIMULACRA_PACKED_GEMM
  if constexpr (std::is_same_v<T, float>)
    return packed_gemm(x.rows(), w.rows(), x.cols(), {x.data(), x.outerStride(), 1}, {w.data(), 1, w.outerStride()},
                       y.data(), y.outerStride(), accumulate);
#endif
  if (accumulate)
    y.noalias() += x * w.transpose();
  else
    y.noalias() = x * w.transpose();
}

// y (M, K) = x (M, N) W (N, K), or += with accumulate
template <typename T>
void multiply(Ref<T> y, CRef<T> x, CMap<T> w, bool accumulate) {
#ifdef SIMULACRA_PACKED_GEMM
  if constexpr (std::is_same_v<T, float>)
    return packed_gemm(x.rows(), w.cols(), x.cols(), {x.data(), x.outerStride(), 1}, {w.data(), w.outerStride(), 1},
                       y.data(), y.outerStride(), accumulate);
#endif
  if (accumulate)
    y.noalias() += x * w;
  else
    y.noalias() = x * w;
}

// dw (N, K) += dy^T (N, M) x (M, K)
template <typename T>
void add_transposed_product(Map<T> dw, CRef<T> dy, CRef<T> x) {
#ifdef SIMULACRA_PACKED_GEMM
  if constexpr (std::is_same_v<T, float>)
    return packed_gemm(dy.cols(), x.cols(), x.rows(), {dy.data(), 1, dy.outerStride()}, {x.data(), x.outerStride(), 1},
                       dw.data(), dw.outerStride(), true);
#endif
  dw.noalias() += dy.transpose() * x;
}

// ---- embedding -------------------------------------------------------------------

// x (N, C) = wte (V, C)[tokens] + wpe (context, C)[t], row b * L + t
template <typename T>
void embedding_forward(Ref<T> x, const Token* tokens, int B, int L, CMap<T> wte, CMap<T> wpe) {
  for_rows(Index(B) * L, x.size(), [&](Index i) { x.row(i) = wte.row(tokens[i]) + wpe.row(i % L); });
}

// dwte (V, C) += dx rows by token; dwpe (context, C) += dx rows by position
template <typename T>
void embedding_backward(Map<T> dwte, Map<T> dwpe, CRef<T> dx, const Token* tokens, int B, int L) {
  for (Index i = 0; i < Index(B) * L; ++i) dwte.row(tokens[i]) += dx.row(i);
  for (int b = 0; b < B; ++b) dwpe.topRows(L) += dx.middleRows(Index(b) * L, L);
}

// ---- layernorm -------------------------------------------------------------------

// y (N, C) = xhat * w + b, xhat = (x - mean) * rstd, rstd (N) = 1 / sqrt(var + eps)
template <typename T>
void layernorm_forward(Ref<T> y, Ref<T> xhat, T* rstd, CRef<T> x, const T* w, const T* b) {
  const Index C = x.cols();
  for_rows(x.rows(), x.size(), [&](Index i) {
    rstd[i] = layernorm_row(x.data() + i * x.outerStride(), w, b, C, xhat.data() + i * xhat.outerStride(),
                            y.data() + i * y.outerStride());
  });
}

// dx (N, C) += rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy w;
// dw (C) += sum_rows dy xhat; db (C) += sum_rows dy
template <typename T>
void layernorm_backward(Ref<T> dx, T* dw, T* db, CRef<T> dy, CRef<T> xhat, const T* rstd, const T* w) {
  const Index C = dy.cols();
  Eigen::Map<const RowArray<T>> wr(w, C);
  for_rows(dy.rows(), dy.size(), [&](Index i) {
    const auto dxhat = dy.row(i).array() * wr;
    const auto xh = xhat.row(i).array();
    const T m1 = dxhat.mean(), m2 = (dxhat * xh).mean();
    dx.row(i).array() += rstd[i] * (dxhat - m1 - xh * m2);
  });
  add_column_dots<T>(dw, dy, xhat);
  if (db) add_column_sums<T>(db, dy);
}

// ---- linear ----------------------------------------------------------------------

// y (N, out) = x (N, in) W^T (in, out) + b (out); with accumulate, y += instead
template <typename T>
void linear_forward(Ref<T> y, CRef<T> x, CMap<T> w, const T* b, bool accumulate = false) {
  multiply_transposed<T>(y, x, w, accumulate);
  if (b) {
    Eigen::Map<const RowArray<T>> br(b, w.rows());
    for_rows(y.rows(), y.size(), [&](Index i) { y.row(i).array() += br; });
  }
}

// dx (N, in) = dy (N, out) W (out, in) (+= with accumulate);
// dW (out, in) += dy^T (out, N) x (N, in); db (out) += column sums of dy
template <typename T>
void linear_backward(Ref<T> dx, T* dw, T* db, CRef<T> dy, CRef<T> x, CMap<T> w, bool accumulate = false) {
  multiply<T>(dx, dy, w, accumulate);
  add_transposed_product<T>(Map<T>(dw, w.rows(), w.cols()), dy, x);
  if (db) add_column_sums<T>(db, dy);
}

// ---- causal self-attention ----------------------------------------------------------
//
// Per window b and head h, with q, k, v the (L, D) blocks of qkv (N, 3C):
// att (L, L) = softmax(q k^T / sqrt(D) + causal mask), y (L, D) = att v.
// att is stored as (B * H * L, L), block bh = b * H + h, zero above the diagonal.

// y (N, C), att (B H L, L) from qkv (N, 3C)
template <typename T>
void attention_forward(Ref<T> y, Ref<T> att, CRef<T> qkv, int B, int L, int H) {
  const Index C = y.cols(), D = C / H, BH = Index(B) * H;
  assert(qkv.outerStride() == 3 * C && y.outerStride() == C && att.outerStride() == L);
  const T scale = T(1) / std::sqrt(T(D));
  for_rows(BH, BH * L * L * D, [&](Index bh) {
    const Index b = bh / H, h = bh % H;
    const T* base = qkv.data() + b * L * 3 * C + h * D;
    const CBlock<T> q(base, L, D, Eigen::OuterStride<>(3 * C));
    const CBlock<T> k(base + C, L, D, Eigen::OuterStride<>(3 * C));
    const CBlock<T> v(base + 2 * C, L, D, Eigen::OuterStride<>(3 * C));
    Map<T> a(att.data() + bh * L * L, L, L);
    a.noalias() = q * k.transpose();  // scores (L, L) = q (L, D) k^T (D, L)
    for (Index i = 0; i < L; ++i) {
      softmax_row(a.data() + i * L, i + 1, scale);
      a.row(i).tail(L - 1 - i).setZero();
    }
    Block<T> yb(y.data() + b * L * C + h * D, L, D, Eigen::OuterStride<>(C));
    yb.noalias() = a.template triangularView<Eigen::Lower>() * v;  // y (L, D) = att (L, L) v (L, D)
  });
}

// dqkv (N, 3C) from dy (N, C); datt (B H L, L) is scratch
template <typename T>
void attention_backward(Ref<T> dqkv, Ref<T> datt, CRef<T> dy, CRef<T> att, CRef<T> qkv, int B, int L, int H) {
  const Index C = dy.cols(), D = C / H, BH = Index(B) * H;
  assert(qkv.outerStride() == 3 * C && dqkv.outerStride() == 3 * C && dy.outerStride() == C);
  assert(att.outerStride() == L && datt.outerStride() == L);
  const T scale = T(1) / std::sqrt(T(D));
  for_rows(BH, BH * L * L * D, [&](Index bh) {
    const Index b = bh / H, h = bh % H;
    const Index offset = b * L * 3 * C + h * D;
    const Eigen::OuterStride<> s3(3 * C);
    const CBlock<T> q(qkv.data() + offset, L, D, s3), k(qkv.data() + offset + C, L, D, s3),
        v(qkv.data() + offset + 2 * C, L, D, s3);
    Block<T> dq(dqkv.data() + offset, L, D, s3), dk(dqkv.data() + offset + C, L, D, s3),
        dv(dqkv.data() + offset + 2 * C, L, D, s3);
    const CBlock<T> dyb(dy.data() + b * L * C + h * D, L, D, Eigen::OuterStride<>(C));
    const CMap<T> a(att.data() + bh * L * L, L, L);
    Map<T> da(datt.data() + bh * L * L, L, L);
    // datt (L, L) = dy (L, D) v^T (D, L); dv (L, D) = att^T (L, L) dy (L, D)
    da.noalias() = dyb * v.transpose();
    dv.noalias() = a.transpose().template triangularView<Eigen::Upper>() * dyb;
    // softmax: dscore = att (datt - sum_j att datt), times the scale; zero above the diagonal
    for (Index i = 0; i < L; ++i) {
      auto ar = a.row(i).head(i + 1).array();
      auto dr = da.row(i).head(i + 1).array();
      const T dot = (ar * dr).sum();
      dr = scale * ar * (dr - dot);
      da.row(i).tail(L - 1 - i).setZero();
    }
    // dq (L, D) = dscore (L, L) k (L, D); dk (L, D) = dscore^T (L, L) q (L, D)
    dq.noalias() = da.template triangularView<Eigen::Lower>() * k;
    dk.noalias() = da.transpose().template triangularView<Eigen::Upper>() * q;
  });
}

// ---- gelu ------------------------------------------------------------------------

// g (N, 4C) = gelu(u)
template <typename T>
void gelu_forward(Ref<T> g, CRef<T> u) {
  for_rows(u.rows(), u.size(),
           [&](Index i) { gelu_row(u.data() + i * u.outerStride(), g.data() + i * g.outerStride(), u.cols()); });
}

// d (N, 4C) *= gelu'(u) in place (dg in, du out), with t = tanh(k (u + a u^3)):
// gelu'(u) = 0.5 (1 + t) + 0.5 u (1 - t^2) k (1 + 3 a u^2)
template <typename T>
void gelu_backward(Ref<T> d, CRef<T> u) {
  constexpr Index kChunk = 64;
  using Chunk = Eigen::Array<T, Eigen::Dynamic, 1, Eigen::ColMajor, kChunk, 1>;  // on the stack
  const Index n = u.cols();
  for_rows(u.rows(), u.size(), [&](Index i) {
    for (Index c0 = 0; c0 < n; c0 += kChunk) {
      const Index w = std::min(kChunk, n - c0);
      Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> ur(u.data() + i * u.outerStride() + c0, w);
      Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>> dr(d.data() + i * d.outerStride() + c0, w);
      const Chunk t = (T(kGeluK) * (ur + T(kGeluA) * ur.cube())).tanh();
      dr *= T(0.5) * (T(1) + t) + T(0.5 * kGeluK) * ur * (T(1) - t.square()) * (T(1) + T(3 * kGeluA) * ur.square());
    }
  });
}

}  // namespace

// ---- configuration and layout --------------------------------------------------------

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

// ---- the model -------------------------------------------------------------------

template <typename T>
TransformerModel<T>::TransformerModel(const TransformerConfig& config, std::uint64_t seed)
    : config_(config), layout_(transformer_layout(config)) {
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
    : config_(config), layout_(transformer_layout(config)), params_(std::move(parameters)) {
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
  const std::size_t layers = std::size_t(cfg.layers);
  if (acts.saved.size() < layers * kSavedPerLayer) acts.saved.resize(layers * kSavedPerLayer);
  if (acts.saved_vectors.size() < layers * kVectorsPerLayer) acts.saved_vectors.resize(layers * kVectorsPerLayer);
  for (std::size_t l = 0; l < layers; ++l) {
    RowMatrix<T>* s = acts.saved.data() + l * kSavedPerLayer;
    for (int m : {kXhat1, kLn1, kAtty, kXhat2, kLn2}) s[m].resize(N, C);
    s[kQkv].resize(N, 3 * C);
    s[kAtt].resize(N * H, L);
    s[kFc].resize(N, 4 * C);
    s[kGelu].resize(N, 4 * C);
    for (int v : {kRstd1, kRstd2}) acts.saved_vectors[l * kVectorsPerLayer + std::size_t(v)].resize(N);
  }
  acts.hidden.resize(N, C);

  const T* p = params_.data();
  auto weight = [&](std::size_t offset, Index rows, Index cols) { return CMap<T>(p + offset, rows, cols); };
  const int chunks = chunk_count(B, Index(L) * C);
  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, nb = Index(B) * (c + 1) / chunks - b0, r0 = b0 * L, n = nb * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    auto x = rows(acts.hidden);  // the residual stream, (n, C)
    embedding_forward<T>(x, tokens + r0, int(nb), L, weight(layout_[0].offset, kVocab, C),
                         weight(layout_[1].offset, cfg.context, C));
    for (int l = 0; l < cfg.layers; ++l) {
      const LayerTensors t = layer_tensors(layout_, cfg, l);
      RowMatrix<T>* s = acts.saved.data() + std::size_t(l) * kSavedPerLayer;
      T* rstd1 = acts.saved_vectors[std::size_t(l) * kVectorsPerLayer + kRstd1].data() + r0;
      T* rstd2 = acts.saved_vectors[std::size_t(l) * kVectorsPerLayer + kRstd2].data() + r0;
      layernorm_forward<T>(rows(s[kLn1]), rows(s[kXhat1]), rstd1, x, at(p, t.ln1_w), at(p, t.ln1_b));
      linear_forward<T>(rows(s[kQkv]), rows(s[kLn1]), weight(t.qkv_w, 3 * C, C), at(p, t.qkv_b));
      attention_forward<T>(rows(s[kAtty]), s[kAtt].middleRows(r0 * H, n * H), rows(s[kQkv]), int(nb), L, int(H));
      linear_forward<T>(x, rows(s[kAtty]), weight(t.attn_proj_w, C, C), at(p, t.attn_proj_b), /*accumulate=*/true);
      layernorm_forward<T>(rows(s[kLn2]), rows(s[kXhat2]), rstd2, x, at(p, t.ln2_w), at(p, t.ln2_b));
      linear_forward<T>(rows(s[kFc]), rows(s[kLn2]), weight(t.fc_w, 4 * C, C), at(p, t.fc_b));
      gelu_forward<T>(rows(s[kGelu]), rows(s[kFc]));
      linear_forward<T>(x, rows(s[kGelu]), weight(t.mlp_proj_w, C, 4 * C), at(p, t.mlp_proj_b), /*accumulate=*/true);
    }
  });
}

template <typename T>
void TransformerModel<T>::forward(const Token* tokens, int B, int L, Activations<T>& acts) const {
  const TransformerConfig& cfg = config_;
  forward_trunk(tokens, B, L, acts);
  const Index N = Index(B) * L, C = cfg.width, K = cfg.personas;
  const std::size_t trunk = std::size_t(cfg.layers) * kSavedPerLayer;
  const std::size_t trunk_vectors = std::size_t(cfg.layers) * kVectorsPerLayer;
  acts.saved.resize(trunk + 2 * std::size_t(K));
  acts.saved_vectors.resize(trunk_vectors + std::size_t(K));
  acts.logits.resize(std::size_t(K));
  for (std::size_t k = 0; k < std::size_t(K); ++k) {
    acts.saved[trunk + 2 * k].resize(N, C);      // xhat
    acts.saved[trunk + 2 * k + 1].resize(N, C);  // LayerNorm output
    acts.saved_vectors[trunk_vectors + k].resize(N);
    acts.logits[k].resize(N, kVocab);
  }
  acts.gate_logits.resize(cfg.gate ? N : 0, cfg.gate ? K : 0);

  const T* p = params_.data();
  const int chunks = chunk_count(B, Index(L) * C);
  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, r0 = b0 * L, n = (Index(B) * (c + 1) / chunks - b0) * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    for (int k = 0; k < K; ++k) {
      // logits_k (n, V) = ln_k(h) (n, C) W_k^T (C, V)
      const HeadTensors t = head_tensors(layout_, cfg, k);
      RowMatrix<T>& ln = acts.saved[trunk + 2 * std::size_t(k) + 1];
      layernorm_forward<T>(rows(ln), rows(acts.saved[trunk + 2 * std::size_t(k)]),
                           acts.saved_vectors[trunk_vectors + std::size_t(k)].data() + r0, rows(acts.hidden),
                           at(p, t.ln_w), at(p, t.ln_b));
      linear_forward<T>(rows(acts.logits[std::size_t(k)]), rows(ln), CMap<T>(p + t.unembed_w, kVocab, C), nullptr);
    }
    if (cfg.gate) {
      // gate (n, K) = h (n, C) G^T (C, K) + g
      const GateTensors g = gate_tensors(layout_, cfg);
      linear_forward<T>(rows(acts.gate_logits), rows(acts.hidden), CMap<T>(p + g.w, K, C), at(p, g.b));
    }
  });
}

template <typename T>
void TransformerModel<T>::backward(const Activations<T>& acts, const std::vector<Matrix>& dlogits, const Matrix& dgate,
                                   std::vector<T>& grads) const {
  const TransformerConfig& cfg = config_;
  const int B = acts.B, L = acts.L;
  const Index N = Index(B) * L, C = cfg.width, H = cfg.heads, K = cfg.personas;
  const std::size_t trunk = std::size_t(cfg.layers) * kSavedPerLayer;
  const std::size_t trunk_vectors = std::size_t(cfg.layers) * kVectorsPerLayer;
  SIMULACRA_CHECK(B >= 1 && L >= 1 && L <= cfg.context && acts.hidden.rows() == N && acts.hidden.cols() == C &&
                      acts.tokens.size() == std::size_t(N) && acts.saved.size() == trunk + 2 * std::size_t(K) &&
                      acts.gate_logits.rows() == (cfg.gate ? N : 0) &&
                      acts.saved_vectors.size() == trunk_vectors + std::size_t(K),
                  InvalidArgument, "TransformerModel::backward: acts do not come from forward() of this model");
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
  std::vector<RowMatrix<T>>& ws = acts.workspace;
  ws.resize(kWorkspaceSize);
  ws[kDx].resize(N, C);  // dL/d(residual stream)
  ws[kDln].resize(N, C);
  ws[kDqkv].resize(N, 3 * C);
  ws[kDatty].resize(N, C);
  ws[kDfc].resize(N, 4 * C);
  ws[kDatt].resize(N * H, L);
  ws[kPartialGrads].resize(chunks - 1, P);

  for_chunks(chunks, [&](int c) {
    const Index b0 = Index(B) * c / chunks, nb = Index(B) * (c + 1) / chunks - b0, r0 = b0 * L, n = nb * L;
    auto rows = [&](RowMatrix<T>& m) { return m.middleRows(r0, n); };
    auto crows = [&](const RowMatrix<T>& m) { return m.middleRows(r0, n); };
    T* g = c == 0 ? grads.data() : ws[kPartialGrads].row(c - 1).data();  // this chunk's dL/dparameters
    std::fill(g, g + P, T(0));
    auto dx = rows(ws[kDx]);
    dx.setZero();

    // Heads: logits_k = ln_k(h) W_k^T; gate = h G^T + g.
    for (int k = 0; k < K; ++k) {
      const Matrix& dl = dlogits[std::size_t(k)];
      if (dl.size() == 0) continue;
      const HeadTensors t = head_tensors(layout_, cfg, k);
      linear_backward<T>(rows(ws[kDln]), g + t.unembed_w, nullptr, crows(dl),
                         crows(acts.saved[trunk + 2 * std::size_t(k) + 1]), weight(t.unembed_w, kVocab, C));
      layernorm_backward<T>(dx, at(g, t.ln_w), at(g, t.ln_b), rows(ws[kDln]),
                            crows(acts.saved[trunk + 2 * std::size_t(k)]),
                            acts.saved_vectors[trunk_vectors + std::size_t(k)].data() + r0, at(p, t.ln_w));
    }
    if (dgate.size() != 0) {
      const GateTensors gt = gate_tensors(layout_, cfg);
      linear_backward<T>(dx, g + gt.w, at(g, gt.b), crows(dgate), crows(acts.hidden), weight(gt.w, K, C),
                         /*accumulate=*/true);
    }

    for (int l = cfg.layers - 1; l >= 0; --l) {
      const LayerTensors t = layer_tensors(layout_, cfg, l);
      const RowMatrix<T>* s = acts.saved.data() + std::size_t(l) * kSavedPerLayer;
      const T* rstd1 = acts.saved_vectors[std::size_t(l) * kVectorsPerLayer + kRstd1].data() + r0;
      const T* rstd2 = acts.saved_vectors[std::size_t(l) * kVectorsPerLayer + kRstd2].data() + r0;
      // x += gelu(ln2(x) Wfc^T + bfc) Wproj^T + bproj
      linear_backward<T>(rows(ws[kDfc]), g + t.mlp_proj_w, at(g, t.mlp_proj_b), dx, crows(s[kGelu]),
                         weight(t.mlp_proj_w, C, 4 * C));
      gelu_backward<T>(rows(ws[kDfc]), crows(s[kFc]));
      linear_backward<T>(rows(ws[kDln]), g + t.fc_w, at(g, t.fc_b), rows(ws[kDfc]), crows(s[kLn2]),
                         weight(t.fc_w, 4 * C, C));
      layernorm_backward<T>(dx, at(g, t.ln2_w), at(g, t.ln2_b), rows(ws[kDln]), crows(s[kXhat2]), rstd2,
                            at(p, t.ln2_w));
      // x += attention(ln1(x) Wqkv^T + bqkv) Wproj^T + bproj
      linear_backward<T>(rows(ws[kDatty]), g + t.attn_proj_w, at(g, t.attn_proj_b), dx, crows(s[kAtty]),
                         weight(t.attn_proj_w, C, C));
      attention_backward<T>(rows(ws[kDqkv]), ws[kDatt].middleRows(r0 * H, n * H), rows(ws[kDatty]),
                            s[kAtt].middleRows(r0 * H, n * H), crows(s[kQkv]), int(nb), L, int(H));
      linear_backward<T>(rows(ws[kDln]), g + t.qkv_w, at(g, t.qkv_b), rows(ws[kDqkv]), crows(s[kLn1]),
                         weight(t.qkv_w, 3 * C, C));
      layernorm_backward<T>(dx, at(g, t.ln1_w), at(g, t.ln1_b), rows(ws[kDln]), crows(s[kXhat1]), rstd1,
                            at(p, t.ln1_w));
    }
    embedding_backward<T>(Map<T>(g + layout_[0].offset, kVocab, C), Map<T>(g + layout_[1].offset, cfg.context, C), dx,
                          acts.tokens.data() + r0, int(nb), L);
  });

  // The chunks' gradients summed in chunk order, in slices over the parameters.
  if (chunks > 1) {
    constexpr Index kSlice = Index(1) << 14;
    const RowMatrix<T>& partial = ws[kPartialGrads];
    for_rows((P + kSlice - 1) / kSlice, P * (chunks - 1), [&](Index s) {
      const Index b = s * kSlice, e = std::min(P, b + kSlice);
      Eigen::Map<RowArray<T>> out(grads.data() + b, e - b);
      for (int c = 1; c < chunks; ++c) out += partial.row(c - 1).segment(b, e - b).array();
    });
  }
}

// ---- KV-cache inference ----------------------------------------------------------

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
Eigen::Matrix<T, Eigen::Dynamic, 1> TransformerModel<T>::step(Cache& cache, Token token) const {
  const TransformerConfig& cfg = config_;
  const Index C = cfg.width, H = cfg.heads, D = C / H;
  SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "TransformerModel::step: token {} is outside 0..{}", token,
                  kVocab - 1);
  bool ready = cache.keys.size() == std::size_t(cfg.layers) && cache.values.size() == std::size_t(cfg.layers) &&
               cache.window.size() <= std::size_t(cfg.context);
  for (std::size_t l = 0; ready && l < cache.keys.size(); ++l)
    ready = cache.keys[l].rows() == cfg.context && cache.keys[l].cols() == C && cache.values[l].rows() == cfg.context &&
            cache.values[l].cols() == C;
  SIMULACRA_CHECK(ready, InvalidArgument, "TransformerModel::step: the cache does not fit this model (reset it first)");

  if (cache.window.size() == std::size_t(cfg.context)) {
    // Full: keep the last context / 2 tokens, re-encoded at positions 0.. in one pass.
    const int keep = cfg.context / 2;
    cache.window.erase(cache.window.begin(), cache.window.end() - keep);
    if (keep > 0) {
      Activations<T> acts;
      forward_trunk(cache.window.data(), 1, keep, acts);
      for (int l = 0; l < cfg.layers; ++l) {
        const RowMatrix<T>& qkv = acts.saved[std::size_t(l) * kSavedPerLayer + kQkv];
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
    if (offset != kAbsent) v += Eigen::Map<const Vector<T>>(p + offset, v.size());
  };
  const T scale = T(1) / std::sqrt(T(D));
  Vector<T> x = (weight(layout_[0].offset, kVocab, C).row(token) + weight(layout_[1].offset, cfg.context, C).row(pos))
                    .transpose();
  Vector<T> xhat(C), ln(C), qkv(3 * C), y(C), u(4 * C), g(4 * C), att(pos + 1);
  for (int l = 0; l < cfg.layers; ++l) {
    const LayerTensors t = layer_tensors(layout_, cfg, l);
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
  const HeadTensors t = head_tensors(layout_, config_, k);
  Vector<T> xhat(C), ln(C);
  layernorm_row(h.data(), at(params_.data(), t.ln_w), at(params_.data(), t.ln_b), C, xhat.data(), ln.data());
  Vector<T> out = CMap<T>(params_.data() + t.unembed_w, kVocab, C) * ln;  // logits (V) = W (V, C) ln (C)
  log_softmax(out.data(), kVocab);
  return out;
}

template class TransformerModel<float>;
template class TransformerModel<double>;

// ---- the persona ---------------------------------------------------------------------

namespace {

class TransformerState final : public PersonaState {
 public:
  TransformerState(std::shared_ptr<const TransformerModel<float>> model, int head)
      : model_(std::move(model)), head_(head) {
    model_->reset(cache_);
    read(kBoundary);
  }

  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_logprobs: out has {} elements, expected {}",
                    out.size(), kVocab);
    out = logprobs_.cast<double>();
  }

  double advance(Token token) override {
    SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "advance: token {} is outside 0..{}", token, kVocab - 1);
    const double lp = logprobs_[token];
    if (token == kBoundary) model_->reset(cache_);  // a new document starts from [kBoundary]
    read(token);
    return lp;
  }

  std::unique_ptr<PersonaState> clone() const override { return std::make_unique<TransformerState>(*this); }

 private:
  void read(Token token) { logprobs_ = model_->head_logprobs(head_, model_->step(cache_, token)); }

  std::shared_ptr<const TransformerModel<float>> model_;
  int head_;
  TransformerModel<float>::Cache cache_;
  Eigen::VectorXf logprobs_;  // (V) natural-log next-token distribution
};

}  // namespace

TransformerPersona::TransformerPersona(std::shared_ptr<const TransformerModel<float>> model, int head)
    : model_(std::move(model)), head_(head) {
  SIMULACRA_CHECK(model_ != nullptr, InvalidArgument, "TransformerPersona: the model is null");
  SIMULACRA_CHECK(head >= 0 && head < model_->config().personas, OutOfRange,
                  "TransformerPersona: head {} is outside 0..{}", head, model_->config().personas - 1);
}

std::unique_ptr<PersonaState> TransformerPersona::begin() const {
  return std::make_unique<TransformerState>(model_, head_);
}

void TransformerPersona::score(const Token* tokens, std::size_t n, double* out) const {
  for (std::size_t t = 0; t < n; ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "TransformerPersona::score: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  if (n == 0) return;
  // Input t predicts tokens[t]: the document start, then every token but the
  // last. A boundary input (after a predicted boundary) starts a document.
  std::vector<Token> in(n);
  in[0] = kBoundary;
  std::copy(tokens, tokens + n - 1, in.begin() + 1);

  // The windows of step()'s cache rule: inputs [start, start + length), of
  // which those from start + first on are scored. The first window of a
  // document starts at its first input; each next one begins with the last
  // context / 2 inputs of the previous (full) window.
  struct Window {
    std::size_t start, first;
  };
  const std::size_t context = std::size_t(model_->config().context), keep = context / 2, stride = context - keep;
  std::map<std::size_t, std::vector<Window>> by_length;
  for (std::size_t a = 0; a < n;) {
    std::size_t e = a + 1;
    while (e < n && in[e] != kBoundary) ++e;
    const std::size_t M = e - a;  // inputs of this document
    by_length[std::min(context, M)].push_back({a, 0});
    for (std::size_t s = stride; s + keep < M; s += stride)
      by_length[std::min(context, M - s)].push_back({a + s, keep});
    a = e;
  }

  Activations<float> acts;
  std::vector<Token> batch;
  Eigen::VectorXd row(kVocab);
  for (const auto& [length, windows] : by_length) {
    const std::size_t per_batch = std::max<std::size_t>(1, kScoreRows / length);
    for (std::size_t w0 = 0; w0 < windows.size(); w0 += per_batch) {
      const std::size_t count = std::min(per_batch, windows.size() - w0);
      batch.resize(count * length);
      for (std::size_t w = 0; w < count; ++w)
        std::copy_n(in.data() + windows[w0 + w].start, length, batch.data() + w * length);
      model_->forward(batch.data(), int(count), int(length), acts);
      const RowMatrix<float>& logits = acts.logits[std::size_t(head_)];
      for (std::size_t w = 0; w < count; ++w) {
        const Window& win = windows[w0 + w];
        for (std::size_t i = win.first; i < length; ++i) {
          row = logits.row(Index(w * length + i)).transpose().cast<double>();
          log_softmax(row.data(), kVocab);
          out[win.start + i] = row[tokens[win.start + i]];
        }
      }
    }
  }
}

}  // namespace simulacra
