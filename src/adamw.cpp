// AdamW and its learning-rate schedule (adamw.hpp).
#include "simulacra/adamw.hpp"

#include <cmath>

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
  float* w = params.data();
  for (const TensorInfo& info : layout) {
    const float decay = info.decay ? decayed : 1.0f;
    const std::size_t end = info.offset + info.size;
#pragma omp parallel for schedule(static)
    for (std::size_t i = info.offset; i < end; ++i) {
      const float g = float(grads[i] * grad_scale);
      m[i] = b1 * m[i] + c1 * g;
      v[i] = b2 * v[i] + c2 * g * g;
      w[i] = w[i] * decay - step_size * m[i] / (std::sqrt(v[i]) / sqrt_bc2 + eps);
    }
  }
}

}  // namespace simulacra
