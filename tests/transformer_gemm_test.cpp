// Tests of the packed AVX2 GEMM (src/gemm.hpp) against a naive triple loop
// in double: row and column blocks (N > 512, K > 256), edge tiles (odd M, N,
// K), strided (transposed) operands and accumulation.
#include "../src/gemm.hpp"

#include <gtest/gtest.h>

#include <cfloat>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "simulacra/transformer.hpp"

namespace simulacra::detail {
namespace {

TEST(TransformerGemmTest, KernelNameFollowsTheCpu) {
  EXPECT_STREQ(transformer_gemm_kernel(), packed_gemm_supported() ? "avx2-fma" : "eigen");
#if defined(SIMULACRA_PACKED_GEMM)
  EXPECT_EQ(packed_gemm_supported(), __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
#endif
}

#ifdef SIMULACRA_PACKED_GEMM

struct Shape {
  GemmIndex M, N, K;
  bool a_transposed, b_transposed, accumulate;
};

// c = a b (+ c0) with a (M, K) and b (K, N) stored row-major, or as their
// transposes (as the linear layers read W and dy), checked element by
// element against the product in double within the float error bound of a
// K-term sum: |c - exact| <= 2 K eps (sum_k |a_ik b_kj| + |c0_ij|).
void expect_matches_naive(const Shape& s, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a(std::size_t(s.M * s.K)), b(std::size_t(s.K * s.N));
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  const GemmIndex ldc = s.N + 3;  // a row stride wider than the matrix
  std::vector<float> c(std::size_t(s.M * ldc));
  for (float& x : c) x = u(rng);
  const std::vector<float> c0 = c;
  // Element (i, p) of a, (p, j) of b.
  const Strided sa = s.a_transposed ? Strided{a.data(), 1, s.M} : Strided{a.data(), s.K, 1};
  const Strided sb = s.b_transposed ? Strided{b.data(), 1, s.K} : Strided{b.data(), s.N, 1};
  packed_gemm(s.M, s.N, s.K, sa, sb, c.data(), ldc, s.accumulate);
  double worst = 0.0;
  for (GemmIndex i = 0; i < s.M; ++i)
    for (GemmIndex j = 0; j < s.N; ++j) {
      double exact = s.accumulate ? double(c0[std::size_t(i * ldc + j)]) : 0.0, magnitude = std::abs(exact);
      for (GemmIndex p = 0; p < s.K; ++p) {
        const double x = double(sa.p[i * sa.rs + p * sa.cs]) * double(sb.p[p * sb.rs + j * sb.cs]);
        exact += x;
        magnitude += std::abs(x);
      }
      const double err = std::abs(double(c[std::size_t(i * ldc + j)]) - exact);
      const double bound = 2.0 * double(s.K + 1) * FLT_EPSILON * magnitude;
      ASSERT_LE(err, bound) << "element (" << i << ", " << j << ") of " << s.M << " x " << s.N << " x " << s.K;
      worst = std::max(worst, err / (magnitude + 1e-30));
    }
  // Nothing beyond column N of c is touched.
  for (GemmIndex i = 0; i < s.M; ++i)
    for (GemmIndex j = s.N; j < ldc; ++j) ASSERT_EQ(c[std::size_t(i * ldc + j)], c0[std::size_t(i * ldc + j)]);
  std::printf("  %4td x %4td x %4td: max |c - exact| / sum |terms| = %.2e\n", s.M, s.N, s.K, worst);
}

TEST(TransformerGemmTest, MatchesANaiveProductInDouble) {
  if (!packed_gemm_supported()) GTEST_SKIP() << "this CPU has no AVX2 + FMA: the packed GEMM does not run here";
  const std::vector<Shape> shapes = {
      {1, 1, 1, false, false, false},      {7, 13, 5, false, false, false},    {6, 16, 256, false, false, false},
      {37, 513, 129, false, false, false},  // one column past the first block, odd M and K
      {13, 1025, 257, false, true, false},  // three column blocks, two depth blocks, W read transposed
      {11, 1024, 300, true, false, true},   // dy^T x: a transposed, accumulating
      {64, 600, 1, false, true, true},      {5, 17, 513, true, true, false},
  };
  std::uint32_t seed = 1;
  for (const Shape& s : shapes) expect_matches_naive(s, seed++);
}

// The kernel's order of operations, one element at a time: per depth block
// of 256 a chain of fused multiply-adds from zero, added to c (after the
// first block, or with accumulate). Exact equality: the bits do not depend on
// the flags the library was built with.
TEST(TransformerGemmTest, BitsAreThoseOfItsFmaChains) {
  if (!packed_gemm_supported()) GTEST_SKIP() << "this CPU has no AVX2 + FMA: the packed GEMM does not run here";
  const GemmIndex M = 9, N = 530, K = 600;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> a(std::size_t(M * K)), b(std::size_t(K * N)), c(std::size_t(M * N));
  for (float& x : a) x = u(rng);
  for (float& x : b) x = u(rng);
  for (float& x : c) x = u(rng);
  std::vector<float> expected = c;
  for (GemmIndex i = 0; i < M; ++i)
    for (GemmIndex j = 0; j < N; ++j) {
      float& e = expected[std::size_t(i * N + j)];
      for (GemmIndex p0 = 0; p0 < K; p0 += 256) {
        float acc = 0.0f;
        for (GemmIndex p = p0; p < std::min(K, p0 + 256); ++p)
          acc = std::fma(a[std::size_t(i * K + p)], b[std::size_t(p * N + j)], acc);
        e = e + acc;
      }
    }
  packed_gemm(M, N, K, {a.data(), K, 1}, {b.data(), N, 1}, c.data(), N, /*accumulate=*/true);
  EXPECT_EQ(std::memcmp(c.data(), expected.data(), c.size() * sizeof(float)), 0);
}

TEST(TransformerGemmTest, DepthZeroClearsOrKeeps) {
  if (!packed_gemm_supported()) GTEST_SKIP() << "this CPU has no AVX2 + FMA: the packed GEMM does not run here";
  std::vector<float> c(6, 2.0f);
  const float one = 1.0f;
  packed_gemm(2, 3, 0, {&one, 0, 1}, {&one, 3, 1}, c.data(), 3, /*accumulate=*/true);
  EXPECT_EQ(c, std::vector<float>(6, 2.0f));
  packed_gemm(2, 3, 0, {&one, 0, 1}, {&one, 3, 1}, c.data(), 3, /*accumulate=*/false);
  EXPECT_EQ(c, std::vector<float>(6, 0.0f));
}

#endif

}  // namespace
}  // namespace simulacra::detail
