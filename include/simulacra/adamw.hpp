// simulacra/adamw.hpp — the AdamW optimiser of the transformer trainer.
//
// AdamW (Loshchilov and Hutter, "Decoupled weight decay regularization"; the
// update of torch.optim.AdamW) on a flat float parameter array laid out by
// transformer_layout, with decay only on the tensors marked `decay` (rank 2),
// and nanoGPT's learning-rate schedule. One step, at 1-based step count t:
//
//   g = grad * grad_scale                       (the clipping factor)
//   m = beta1 m + (1 - beta1) g,   v = beta2 v + (1 - beta2) g^2
//   w = w (1 - lr weight_decay)  [decay tensors only]
//       - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
//   std::vector<float> m(P), v(P);                 // zero at the start
//   for (int t = 1; t <= steps; ++t)
//     adamw_step(cfg, learning_rate(cfg, t - 1, steps), t, 1.0, layout, grads, params, m, v);
#pragma once

#include <vector>

#include "simulacra/transformer.hpp"

namespace simulacra {

struct AdamWConfig {
  double lr = 1e-3;           // peak learning rate (> 0)
  double min_lr = 1e-4;       // the cosine's floor, in [0, lr]
  int warmup = 100;           // linear warmup steps (>= 0)
  double beta1 = 0.9;         // in [0, 1)
  double beta2 = 0.99;        // in [0, 1)
  double eps = 1e-8;          // > 0
  double weight_decay = 0.1;  // decoupled, on rank-2 tensors (>= 0)
  double clip = 1.0;          // global gradient-norm clip (> 0; 0 = off)
};

// nanoGPT's schedule: lr * (step + 1) / (warmup + 1) during warmup, then
// cosine from lr to min_lr at `total` steps, min_lr after. step is 0-based.
double learning_rate(const AdamWConfig& config, int step, int total);

// One AdamW step as above with `learning_rate` and t >= 1 (its beta1, beta2,
// eps and weight_decay from config; lr, min_lr, warmup and clip are not
// read). params, grads, m and v have the layout's size; params, m and v are
// updated in place (on the OpenMP threads). InvalidArgument for other sizes
// or t < 1.
void adamw_step(const AdamWConfig& config, double learning_rate, int t, double grad_scale,
                const std::vector<TensorInfo>& layout, const std::vector<float>& grads, std::vector<float>& params,
                std::vector<float>& m, std::vector<float>& v);

}  // namespace simulacra
