// AdamW and its learning-rate schedule (adamw.hpp).
#include "simulacra/adamw.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "simulacra/error.hpp"

namespace simulacra {

double learning_rate(const AdamWConfig& c, int step, int total) {
  if (step < c.warmup) return c.lr * double(step + 1) / double(c.warmup + 1);
  if (step >= total) return c.min_lr;
  const double progress = total > c.warmup ? double(step - c.warmup) / double(total - c.warmup) : 1.0;
  return c.min_lr + 0.5 * (1.0 + std::cos(M_PI * progress)) * (c.lr - c.min_lr);
}

void adamw_step(const AdamWConfig& o, double learning_rate, int t, double grad_scale,
                const std::vector<TensorInfo>& layout, const std::vector<float>& grads, std::vector<float>& params,
                std::vector<float>& m, std::vector<float>& v) {
  const std::size_t P = layout.empty() ? 0 : layout.back().offset + layout.back().size;
  SIMULACRA_CHECK(params.size() == P && grads.size() == P && m.size() == P && v.size() == P, InvalidArgument,
                  "adamw_step: params, grads, m and v have {}, {}, {} and {} elements, the layout {}", params.size(),
                  grads.size(), m.size(), v.size(), P);
  SIMULACRA_CHECK(t >= 1, InvalidArgument, "adamw_step: the step count t must be >= 1, got {}", t);
  const double bc1 = 1.0 - std::pow(o.beta1, t), bc2 = 1.0 - std::pow(o.beta2, t);
  // Coefficients in double, then rounded once (1 - beta2 from a float beta2
  // would be off by up to 1e-4 relative for beta2 = 0.9999).
  const float step_size = float(learning_rate / bc1), sqrt_bc2 = float(std::sqrt(bc2)), eps = float(o.eps);
  const float b1 = float(o.beta1), b2 = float(o.beta2), c1 = float(1.0 - o.beta1), c2 = float(1.0 - o.beta2);
  const float decayed = float(1.0 - learning_rate * o.weight_decay);
  // Blocks of at most kBlock elements inside one tensor each, handed out
  // dynamically in one parallel region: one fork and join per step however
  // many tensors there are, and a thread that runs slow (a busy core) takes
  // fewer blocks. Each element's update is the same whichever thread does it.
  constexpr std::size_t kBlock = std::size_t(1) << 13;
  struct Block {
    std::size_t begin, end;
    float decay;
  };
  std::vector<Block> blocks;
  for (const TensorInfo& info : layout)
    for (std::size_t b = info.offset; b < info.offset + info.size; b += kBlock)
      blocks.push_back({b, std::min(b + kBlock, info.offset + info.size), info.decay ? decayed : 1.0f});
  float* w = params.data();
  float* mp = m.data();
  float* vp = v.data();
  const float* gp = grads.data();
  const std::ptrdiff_t n = std::ptrdiff_t(blocks.size());
#pragma omp parallel for schedule(dynamic, 1) if (P >= kBlock)
  for (std::ptrdiff_t k = 0; k < n; ++k) {
    const Block blk = blocks[std::size_t(k)];
    for (std::size_t i = blk.begin; i < blk.end; ++i) {
      const float g = float(gp[i] * grad_scale);
      mp[i] = b1 * mp[i] + c1 * g;
      vp[i] = b2 * vp[i] + c2 * g * g;
      w[i] = w[i] * blk.decay - step_size * mp[i] / (std::sqrt(vp[i]) / sqrt_bc2 + eps);
    }
  }
}

}  // namespace simulacra
