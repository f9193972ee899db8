// src/gemm.hpp — the float matrix product of the transformer's linear layers
// (private to the library).
//
// A GEMM in the style of GotoBLAS / BLIS for x86-64 CPUs with AVX2 and FMA:
// b packed in (kc, 16) column panels (depth blocks of 256, column blocks of
// 512), a read in place six rows at a time, a 6 x 16 tile of 12 register
// accumulators. The kernel is compiled for AVX2 + FMA whatever the build's
// flags and chosen at run time: the linear layers (transformer_kernels.hpp)
// run it in float where the CPU has both, and Eigen's GEMM elsewhere (and in
// double). Each element of c is one sum over the depth in a fixed order with
// explicit FMAs, so the kernel gives the same bits whichever flags the library
// was built with.
#pragma once

#include <cstddef>

// The kernel exists where GCC-style target attributes can compile it.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SIMULACRA_PACKED_GEMM 1
#endif

namespace simulacra::detail {

using GemmIndex = std::ptrdiff_t;

// A matrix operand read through strides: element (i, j) at p[i * rs + j * cs].
struct Strided {
  const float* p;
  GemmIndex rs, cs;
};

// True when this CPU has AVX2 and FMA and the kernel exists (checked once).
bool packed_gemm_supported();

#ifdef SIMULACRA_PACKED_GEMM
// c (M, N) at row stride ldc = a (M, K) b (K, N), or c += a b with
// accumulate. c must not overlap a or b. Requires packed_gemm_supported().
void packed_gemm(GemmIndex M, GemmIndex N, GemmIndex K, Strided a, Strided b, float* c, GemmIndex ldc,
                 bool accumulate);
#endif

}  // namespace simulacra::detail
