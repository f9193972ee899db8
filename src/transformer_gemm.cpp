// The AVX2 + FMA GEMM of the linear layers (gemm.hpp), compiled for that
// instruction set through target attributes and chosen at run time.
#include "gemm.hpp"

#include <algorithm>
#include <vector>

#include "simulacra/transformer.hpp"

#ifdef SIMULACRA_PACKED_GEMM
#include <immintrin.h>
#define SIMULACRA_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace simulacra {

namespace detail {

#ifdef SIMULACRA_PACKED_GEMM

namespace {

constexpr GemmIndex kTileRows = 6, kTileCols = 16;  // the register tile
constexpr GemmIndex kDepthBlock = 256, kColBlock = 512;

// Depth [p0, p0 + kc) x columns [j0, j0 + nc) of b as (kc, 16) panels, zero-padded.
SIMULACRA_AVX2 void pack_panels(const Strided& b, GemmIndex p0, GemmIndex kc, GemmIndex j0, GemmIndex nc, float* out) {
  for (GemmIndex jr = 0; jr < nc; jr += kTileCols) {
    const GemmIndex n = std::min(kTileCols, nc - jr);
    for (GemmIndex p = 0; p < kc; ++p, out += kTileCols) {
      const float* src = b.p + (p0 + p) * b.rs + (j0 + jr) * b.cs;
      if (b.cs == 1 && n == kTileCols) {
        _mm256_storeu_ps(out, _mm256_loadu_ps(src));
        _mm256_storeu_ps(out + 8, _mm256_loadu_ps(src + 8));
      } else {
        for (GemmIndex j = 0; j < n; ++j) out[j] = src[j * b.cs];
        std::fill(out + n, out + kTileCols, 0.0f);
      }
    }
  }
}

// c (m, n) at row stride ldc (+)= a (m, kc) b panel (kc, 16), m <= 6, n <= 16;
// a's rows start at `rows` (m of them) and step by cs along the depth.
SIMULACRA_AVX2 void multiply_tile(GemmIndex kc, const float* const* rows, GemmIndex cs, const float* b, float* c,
                                  GemmIndex ldc, bool accumulate, GemmIndex m, GemmIndex n) {
  __m256 acc[kTileRows][2];  // the unrolled loops keep these in 12 registers
#pragma GCC unroll 6
  for (GemmIndex r = 0; r < kTileRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (GemmIndex p = 0, o = 0; p < kc; ++p, o += cs, b += kTileCols) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
#pragma GCC unroll 6
    for (GemmIndex r = 0; r < kTileRows; ++r) {
      const __m256 x = _mm256_broadcast_ss(rows[r] + o);
      acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
    }
  }
  if (m == kTileRows && n == kTileCols) {
#pragma GCC unroll 6
    for (GemmIndex r = 0; r < kTileRows; ++r) {
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
  for (GemmIndex r = 0; r < kTileRows; ++r) {
    _mm256_store_ps(tile[r], acc[r][0]);
    _mm256_store_ps(tile[r] + 8, acc[r][1]);
  }
  for (GemmIndex r = 0; r < m; ++r)
    for (GemmIndex j = 0; j < n; ++j) c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r][j] : tile[r][j];
}

}  // namespace

bool packed_gemm_supported() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

SIMULACRA_AVX2 void packed_gemm(GemmIndex M, GemmIndex N, GemmIndex K, Strided a, Strided b, float* c, GemmIndex ldc,
                                bool accumulate) {
  if (K == 0) {
    if (!accumulate)
      for (GemmIndex i = 0; i < M; ++i) std::fill(c + i * ldc, c + i * ldc + N, 0.0f);
    return;
  }
  // Panels live in a thread-local buffer that only grows.
  thread_local std::vector<float> panels;
  const GemmIndex widest = (std::min(N, kColBlock) + kTileCols - 1) / kTileCols * kTileCols;
  if (panels.size() < std::size_t(kDepthBlock * widest)) panels.resize(std::size_t(kDepthBlock * widest));
  for (GemmIndex j0 = 0; j0 < N; j0 += kColBlock) {
    const GemmIndex nc = std::min(kColBlock, N - j0);
    for (GemmIndex p0 = 0; p0 < K; p0 += kDepthBlock) {
      const GemmIndex kc = std::min(kDepthBlock, K - p0);
      pack_panels(b, p0, kc, j0, nc, panels.data());
      for (GemmIndex i0 = 0; i0 < M; i0 += kTileRows) {
        const GemmIndex m = std::min(kTileRows, M - i0);
        const float* rows[kTileRows];
        for (GemmIndex r = 0; r < kTileRows; ++r) rows[r] = a.p + (i0 + std::min(r, m - 1)) * a.rs + p0 * a.cs;
        for (GemmIndex jr = 0; jr < nc; jr += kTileCols)
          multiply_tile(kc, rows, a.cs, panels.data() + jr * kc, c + i0 * ldc + j0 + jr, ldc, accumulate || p0 > 0,
                        m, std::min(kTileCols, nc - jr));
      }
    }
  }
}

#else

bool packed_gemm_supported() { return false; }

#endif

}  // namespace detail

const char* transformer_gemm_kernel() { return detail::packed_gemm_supported() ? "avx2-fma" : "eigen"; }

}  // namespace simulacra
