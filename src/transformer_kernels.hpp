// src/transformer_kernels.hpp — the transformer's numeric kernels (private to
// the library), forward and backward side by side, llm.c style.
//
// Activations are row-major with N = B * L rows (B windows of L positions);
// C = width, H heads of D = C / H, V = kVocab. Each kernel is instantiated
// for float and double in transformer_kernels.cpp. The float linear layers
// run on the packed GEMM where the CPU has AVX2 and FMA (gemm.hpp), Eigen's
// GEMM otherwise. Row-wise kernels use the OpenMP threads when the work is
// large and no parallel region is active; every reduction runs in a fixed
// order, so results are bit-identical run to run for a given thread count.
#pragma once

#include <algorithm>

#include <omp.h>

#include "simulacra/transformer.hpp"

namespace simulacra::detail {

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

// The tensor at `offset` of a flat parameter array, nullptr if absent (kAbsentTensor).
template <typename T>
T* at(T* p, std::size_t offset) {
  return offset == kAbsentTensor ? nullptr : p + offset;
}

// ---- threads ------------------------------------------------------------------------
//
// forward() and backward() split their B windows into chunks (two per OpenMP
// thread, see chunk_count), and each chunk runs the whole pass over its rows: the threads meet
// once per pass instead of once per kernel (which matters on a loaded
// machine), and the kernels inside run serially (nested regions are inactive
// and Eigen keeps its GEMMs serial inside a parallel region). Parameter
// gradients are summed per chunk, then across chunks in chunk order. With a
// single chunk the kernels use the threads themselves.

// Row-wise kernels use the OpenMP threads from this many elements on.
inline constexpr Index kParallelWork = Index(1) << 15;

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

// Chunks of windows for a pass over B windows of window_size = L x C
// elements each: two per thread (up to one per window) when the pass is
// large enough to share at all, else one. Two per thread, handed out
// dynamically, let a thread whose core is busy with another process do fewer
// of them (with one static chunk per thread the pass waits for the slowest).
inline int chunk_count(int B, Index window_size) {
  const Index worth = std::max<Index>(1, Index(B) * window_size / kParallelWork);
  const Index threads = std::max<Index>(1, std::min<Index>({Index(B), Index(omp_get_max_threads()), worth}));
  return int(threads == 1 ? 1 : std::min<Index>(Index(B), 2 * threads));
}

// Runs body(c) for every chunk c on the OpenMP threads, chunks handed out
// dynamically (what a chunk computes does not depend on the thread that runs it).
template <typename F>
void for_chunks(int chunks, const F& body) {
  if (chunks == 1) return body(0);
#pragma omp parallel for schedule(dynamic, 1) num_threads(std::min(chunks, omp_get_max_threads()))
  for (int c = 0; c < chunks; ++c) body(c);
}

// ---- rows (shared by the batched kernels and the KV-cache step) ----------------------

// One row of C: xhat (C) = (x - mean) * rstd, y (C) = xhat * w (+ b); returns
// rstd = 1 / sqrt(var + 1e-5). b may be null.
template <typename T>
T layernorm_row(const T* x, const T* w, const T* b, Index C, T* xhat, T* y);

// s (n) = softmax(scale * s) in place.
template <typename T>
void softmax_row(T* s, Index n, T scale);

// g (n) = gelu(u) = 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))
template <typename T>
void gelu_row(const T* u, T* g, Index n);

// x (n) -= logsumexp(x): log-softmax in place.
template <typename T>
void log_softmax(T* x, Index n);

// ---- embedding ----------------------------------------------------------------------

// x (N, C) = wte (V, C)[tokens] + wpe (context, C)[t], row b * L + t
template <typename T>
void embedding_forward(Ref<T> x, const Token* tokens, int B, int L, CMap<T> wte, CMap<T> wpe);
// dwte (V, C) += dx rows by token; dwpe (context, C) += dx rows by position
template <typename T>
void embedding_backward(Map<T> dwte, Map<T> dwpe, CRef<T> dx, const Token* tokens, int B, int L);

// ---- layernorm ----------------------------------------------------------------------

// y (N, C) = xhat * w + b, xhat = (x - mean) * rstd, rstd (N) = 1 / sqrt(var + eps); b may be null
template <typename T>
void layernorm_forward(Ref<T> y, Ref<T> xhat, T* rstd, CRef<T> x, const T* w, const T* b);
// dx (N, C) += rstd (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy w;
// dw (C) += sum_rows dy xhat; db (C) += sum_rows dy (db may be null)
template <typename T>
void layernorm_backward(Ref<T> dx, T* dw, T* db, CRef<T> dy, CRef<T> xhat, const T* rstd, const T* w);

// ---- linear -------------------------------------------------------------------------

// y (N, out) = x (N, in) W^T (in, out) + b (out), W (out, in); with accumulate, y += instead
template <typename T>
void linear_forward(Ref<T> y, CRef<T> x, CMap<T> w, const T* b, bool accumulate = false);
// dx (N, in) = dy (N, out) W (out, in) (+= with accumulate);
// dW (out, in) += dy^T (out, N) x (N, in); db (out) += column sums of dy (db may be null)
template <typename T>
void linear_backward(Ref<T> dx, T* dw, T* db, CRef<T> dy, CRef<T> x, CMap<T> w, bool accumulate = false);

// ---- causal self-attention ----------------------------------------------------------
//
// Per window b and head h, with q, k, v the (L, D) blocks of qkv (N, 3C):
// att (L, L) = softmax(q k^T / sqrt(D) + causal mask), y (L, D) = att v.
// att is stored as (B * H * L, L), block bh = b * H + h, zero above the diagonal.

// y (N, C), att (B H L, L) from qkv (N, 3C)
template <typename T>
void attention_forward(Ref<T> y, Ref<T> att, CRef<T> qkv, int B, int L, int H);
// dqkv (N, 3C) from dy (N, C), att and qkv; datt (B H L, L) is scratch
template <typename T>
void attention_backward(Ref<T> dqkv, Ref<T> datt, CRef<T> dy, CRef<T> att, CRef<T> qkv, int B, int L, int H);

// ---- gelu ---------------------------------------------------------------------------

// g (N, 4C) = gelu(u)
template <typename T>
void gelu_forward(Ref<T> g, CRef<T> u);
// d (N, 4C) *= gelu'(u) in place (dL/dg in, dL/du out)
template <typename T>
void gelu_backward(Ref<T> d, CRef<T> u);

}  // namespace simulacra::detail
