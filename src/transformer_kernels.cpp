// The transformer's numeric kernels (transformer_kernels.hpp), for float
// and double.
#include "transformer_kernels.hpp"

#include <cassert>
#include <cmath>
#include <type_traits>

#include "gemm.hpp"

namespace simulacra::detail {

namespace {

// A column block of a row-major matrix (one head's slice of q, k, v or y).
template <typename T>
using Block = Eigen::Map<RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using CBlock = Eigen::Map<const RowMatrix<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

constexpr double kLayerNormEps = 1e-5;       // PyTorch's default
constexpr double kGeluK = 0.7978845608028654;  // sqrt(2 / pi)
constexpr double kGeluA = 0.044715;

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
// Float products run on the packed GEMM where the CPU has AVX2 and FMA (on
// these shapes, depth 128 to 768 and a few hundred rows per thread, about
// 1.4x faster than Eigen's), Eigen's GEMM otherwise and for double.

// y (M, N) = x (M, K) W^T (K, N), or += with accumulate; W (N, K) row-major
template <typename T>
void multiply_transposed(Ref<T> y, CRef<T> x, CMap<T> w, bool accumulate) {
#ifdef SIMULACRA_PACKED_GEMM
  if constexpr (std::is_same_v<T, float>)
    if (packed_gemm_supported())
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
    if (packed_gemm_supported())
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
    if (packed_gemm_supported())
      return packed_gemm(dy.cols(), x.cols(), x.rows(), {dy.data(), 1, dy.outerStride()}, {x.data(), x.outerStride(), 1},
                       dw.data(), dw.outerStride(), true);
#endif
  dw.noalias() += dy.transpose() * x;
}

}  // namespace

// ---- rows ----------------------------------------------------------------------------

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
void linear_forward(Ref<T> y, CRef<T> x, CMap<T> w, const T* b, bool accumulate) {
  multiply_transposed<T>(y, x, w, accumulate);
  if (b) {
    Eigen::Map<const RowArray<T>> br(b, w.rows());
    for_rows(y.rows(), y.size(), [&](Index i) { y.row(i).array() += br; });
  }
}

// dx (N, in) = dy (N, out) W (out, in) (+= with accumulate);
// dW (out, in) += dy^T (out, N) x (N, in); db (out) += column sums of dy
template <typename T>
void linear_backward(Ref<T> dx, T* dw, T* db, CRef<T> dy, CRef<T> x, CMap<T> w, bool accumulate) {
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

#define SIMULACRA_KERNELS(T)                                                                               \
  template T layernorm_row<T>(const T*, const T*, const T*, Index, T*, T*);                                 \
  template void softmax_row<T>(T*, Index, T);                                                               \
  template void gelu_row<T>(const T*, T*, Index);                                                           \
  template void log_softmax<T>(T*, Index);                                                                  \
  template void embedding_forward<T>(Ref<T>, const Token*, int, int, CMap<T>, CMap<T>);                     \
  template void embedding_backward<T>(Map<T>, Map<T>, CRef<T>, const Token*, int, int);                     \
  template void layernorm_forward<T>(Ref<T>, Ref<T>, T*, CRef<T>, const T*, const T*);                      \
  template void layernorm_backward<T>(Ref<T>, T*, T*, CRef<T>, CRef<T>, const T*, const T*);                \
  template void linear_forward<T>(Ref<T>, CRef<T>, CMap<T>, const T*, bool);                                \
  template void linear_backward<T>(Ref<T>, T*, T*, CRef<T>, CRef<T>, CMap<T>, bool);                        \
  template void attention_forward<T>(Ref<T>, Ref<T>, CRef<T>, int, int, int);                               \
  template void attention_backward<T>(Ref<T>, Ref<T>, CRef<T>, CRef<T>, CRef<T>, int, int, int);            \
  template void gelu_forward<T>(Ref<T>, CRef<T>);                                                           \
  template void gelu_backward<T>(Ref<T>, CRef<T>);
SIMULACRA_KERNELS(float)
SIMULACRA_KERNELS(double)
#undef SIMULACRA_KERNELS

}  // namespace simulacra::detail
