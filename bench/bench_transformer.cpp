// bench/bench_transformer.cpp — the transformer hydra on tinyshakespeare.
//
// nanoGPT's published CPU run: 4 layers, 4 heads, width 128, context 64,
// batch 12, 2000 steps, lr 1e-3 (warmup 100, cosine to 1e-4), AdamW (0.9,
// 0.99), weight decay 0.1, clip 1.0, no dropout; the last 10% held out.
// Prints, each beside its reference measured in this run:
//   - the machine's single-precision peak (FMA chains in registers, and Eigen's
//     1024^3 GEMM), the training tokens/s and the model FLOPs utilisation;
//   - the held-out loss after training (target <= 1.88 nats/byte);
//   - held-out bits/byte of the transformer, an order-6 Kneser-Ney persona,
//     and their mixture (target: the mixture below both);
//   - generation tokens/s with the KV cache against recomputing the context.
// The PyTorch comparison is bench/bench_transformer.py (same model, same run).
//
// usage: bench_transformer [--steps N] [--threads N] [--train-only] [--peak-only]
//   --train-only: the peak and the training only (for a profiler: perf record -e cpu-clock)
//   --peak-only:  the FMA peak on --threads threads, one line "fma_peak_gflops X" (bench_transformer.py)
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include <immintrin.h>
#include <omp.h>

#include <Eigen/Core>
#include <simulacra/simulacra.hpp>

#include "bench_util.hpp"

using namespace simulacra;
using Clock = std::chrono::steady_clock;

namespace {

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Float GEMM throughput, GFLOP/s: C (n, n) = A (n, n) B (n, n), best of 5.
double gemm_peak(int n) {
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(n, n), b = Eigen::MatrixXf::Random(n, n), c(n, n);
  const double t = bench::seconds_best_of(5, [&] { c.noalias() = a * b; });
  return 2.0 * n * n * double(n) / t / 1e9 + 0.0 * c(0, 0);
}

// One thread's share of the FMA peak: 10 independent chains of 8-float fused
// multiply-adds held in registers (no memory traffic), `iters` rounds.
// Compiled for AVX2 + FMA whatever the build flags, run only where the CPU has them.
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2,fma"))) float fma_chains(long iters) {
  __m256 acc[10];
  for (int j = 0; j < 10; ++j) acc[j] = _mm256_set1_ps(float(j) * 1e-3f);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long i = 0; i < iters; ++i)
    for (int j = 0; j < 10; ++j) acc[j] = _mm256_fmadd_ps(acc[j], a, b);
  float sink = 0.0f;
  for (int j = 0; j < 10; ++j) sink += _mm256_cvtss_f32(acc[j]);
  return sink;
}
#endif

// The FMA peak, GFLOP/s over all threads (0 without AVX2 + FMA).
double fma_peak() {
#if defined(__GNUC__) && defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0.0;
  const long iters = 20'000'000;
  double best = 0.0;
  for (int round = 0; round < 3; ++round) {
    const auto t0 = Clock::now();
    float sink = 0.0f;
#pragma omp parallel reduction(+ : sink)
    sink += fma_chains(iters);
    const double flops = double(omp_get_max_threads()) * iters * 10 * 8 * 2;
    best = std::max(best, flops / seconds(t0) / 1e9 + 0.0 * sink);
  }
  return best;
#else
  return 0.0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  int steps = 2000, threads = 2;
  bool train_only = false, peak_only = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--train-only")) train_only = true;
    if (!std::strcmp(argv[i], "--peak-only")) peak_only = true;
    if (i + 1 < argc && !std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[++i]);
    if (i + 1 < argc && !std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[++i]);
  }
  omp_set_num_threads(threads);
  if (peak_only) {
    fmt::print("fma_peak_gflops {:.2f}\n", fma_peak());
    return 0;
  }
  const std::string text = bench::read_file(SIMULACRA_SHARED_DATA "/tinyshakespeare.txt");
  const std::size_t cut = text.size() - text.size() / 10;
  const std::string train_text = text.substr(0, cut), heldout_text = text.substr(cut);

  const double gemm = gemm_peak(1024), fma = fma_peak();
  fmt::print("bench_transformer: tinyshakespeare ({} bytes, last 10% held out), {} thread(s)\n", text.size(), threads);
  fmt::print("single-precision peak: FMA {:.1f} GFLOP/s (register-only chains), Eigen GEMM 1024^3 {:.1f} GFLOP/s\n",
             fma, gemm);
  fmt::print("linear layers' GEMM: {} (chosen at run time)\n\n", transformer_gemm_kernel());
  const double peak = std::max(fma, gemm);

  TransformerTrainConfig cfg;  // nanoGPT's CPU run by default
  cfg.steps = steps;
  cfg.threads = threads;
  cfg.eval_every = steps >= 500 ? 500 : 0;
  cfg.on_progress = [](const TransformerProgress& p) {
    if (!std::isnan(p.eval_loss))
      fmt::print("  step {:>5}  loss {:.4f}  held-out {:.4f}  {:.0f} tokens/s\n", p.step, p.loss, p.eval_loss,
                 p.tokens_per_second);
  };
  TransformerTrainer trainer(cfg, TransformerData::from_text(text, 0.1, "shakespeare"));
  const double flops = trainer.model().config().training_flops_per_token();
  const auto t0 = Clock::now();
  const TransformerProgress last = trainer.run();
  const double train_s = seconds(t0);
  fmt::print("\ntraining: {} steps in {:.1f} s, {:.0f} tokens/s (steps only), {:.2f} MFLOP/token\n", steps, train_s,
             last.tokens_per_second, flops / 1e6);
  fmt::print("model FLOPs utilisation: {:.1f} GFLOP/s = {:.1f}% of the measured peak\n",
             last.tokens_per_second * flops / 1e9, 100.0 * last.tokens_per_second * flops / 1e9 / peak);
  fmt::print("held-out loss (nanoGPT's estimate: 200 windows of 64): {:.4f} nats/byte (target <= 1.88)\n\n",
             last.eval_loss);
  if (train_only) return 0;

  // The mixture: this transformer beside an order-6 Kneser-Ney model of the same text.
  const auto head = std::make_shared<TransformerPersona>(trainer.shared_model(), 0);
  const auto kn = std::make_shared<NGramPersona>(NGramPersona::fit({train_text}, 6));
  const std::vector<Token> tokens = encode(heldout_text);
  const auto t1 = Clock::now();
  const double kn_bits = -Eigen::Map<const Eigen::VectorXd>(kn->token_logprobs(tokens).data(), Eigen::Index(tokens.size())).sum();
  const double kn_s = seconds(t1);
  const auto t2 = Clock::now();
  const std::vector<double> tf = head->token_logprobs(tokens);
  const double tf_s = seconds(t2);
  double tf_nats = 0.0;
  for (double x : tf) tf_nats -= x;
  const double n = double(tokens.size()), ln2 = std::log(2.0);
  fmt::print("held-out text read as one document ({} bytes):\n", tokens.size());
  fmt::print("  {:<44} {:.4f} bits/byte  {:.4f} nats/byte  ({:.2f} s)\n", "Kneser-Ney order 6", kn_bits / n / ln2,
             kn_bits / n, kn_s);
  fmt::print("  {:<44} {:.4f} bits/byte  {:.4f} nats/byte  ({:.2f} s, {:.0f} tokens/s)\n", "transformer",
             tf_nats / n / ln2, tf_nats / n, tf_s, n / tf_s);
  for (double alpha : {0.0, 0.01, 0.05, 0.2}) {
    MixtureConfig mc;
    mc.switching = alpha > 0 ? Switching::kFixedShare : Switching::kNone;
    mc.alpha = alpha;
    const Mixture mix({head, kn}, {"transformer", "kneser-ney"}, Eigen::Vector2d(0.5, 0.5), mc);
    const double nats = -mix.trace(tokens).total_logprob();
    fmt::print("  {:<44} {:.4f} bits/byte  {:.4f} nats/byte\n",
               fmt::format("mixture, {}", alpha > 0 ? fmt::format("fixed share {}", alpha) : std::string("no switching")),
               nats / n / ln2, nats / n);
  }

  // Generation: 1000 tokens with the KV cache against a forward over the whole window each step.
  const int G = 1000;
  const TransformerModel<float>& model = trainer.model();
  TransformerModel<float>::Cache cache;
  model.reset(cache);
  Token tok = kBoundary;
  const auto t3 = Clock::now();
  double sink = 0.0;
  for (int i = 0; i < G; ++i) {
    const Eigen::VectorXf lp = model.head_logprobs(0, model.append(cache, tok));
    Eigen::Index best = 0;
    sink += lp.maxCoeff(&best);
    tok = Token(best);
  }
  const double cached_s = seconds(t3);
  std::vector<Token> window = {kBoundary};
  Activations<float> acts;
  const int C = model.config().context;
  const auto t4 = Clock::now();
  for (int i = 0; i < G; ++i) {
    model.forward(window.data(), 1, int(window.size()), acts);
    Eigen::Index best = 0;
    sink += acts.logits[0].row(acts.logits[0].rows() - 1).maxCoeff(&best);
    window.push_back(Token(best));
    if (int(window.size()) > C) window.erase(window.begin());
  }
  const double full_s = seconds(t4);
  fmt::print("\ngeneration, {} tokens, greedy: KV cache {:.0f} tokens/s, recomputing the context {:.0f} tokens/s "
             "({:.1f}x)\n",
             G, G / cached_s, G / full_s, full_s / cached_s);
  fmt::print("(checksum {:.3f})\n", sink);
  return 0;
}
