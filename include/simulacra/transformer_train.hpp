// simulacra/transformer_train.hpp — training the transformer hydra.
//
// Three objectives over B training windows of L tokens with K heads, written
// on the per-head log-probabilities of the targets lp_k(b, t) = log p_k(x_t |
// x_<t, window b) (natural logs; losses are means per token, nats):
//
//   supervised  window b comes from persona k_b; only head k_b reads it:
//               loss = -(1/N) sum_{b,t} lp_{k_b}(b, t)
//   mixture     labels unknown; each window is a mixture over heads:
//               loss = -(1/N) sum_b log sum_k pi_k prod_t p_k(b, t)
//               d loss / d lp_k(b, t) = -r_k(b) / N, r(b) = the posterior
//               responsibility of head k for window b
//   gate        per-token weights from the trunk, Mixture-of-Softmaxes style:
//               u_k(b, t) = gate_k(b, t) [+ log pi_k + sum_{s<t} lp_k(b, s)  with
//               gate_posterior: the gate combined with the posterior of the
//               window so far], w = softmax_k(u), loss = -(1/N) sum log sum_k w_k p_k
//
// Optimiser: AdamW (decoupled weight decay on rank-2 tensors only), linear
// warmup then cosine decay to min_lr, gradient clipping by global norm.
// Minibatches are drawn with a seeded generator; a checkpoint (model,
// optimiser state, step, generator) resumes bit-exactly.
//
//   TransformerTrainConfig cfg;                      // nanoGPT's CPU run by default
//   TransformerTrainer trainer(cfg, TransformerData::from_text(text, 0.1));
//   trainer.run();                                   // on_progress every step
//   auto persona = std::make_shared<TransformerPersona>(trainer.shared_model(), 0);
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/adamw.hpp"
#include "simulacra/corpus.hpp"
#include "simulacra/transformer.hpp"

namespace simulacra {

enum class Objective { kSupervised, kMixture, kGate };

// "supervised", "mixture", "gate".
std::string objective_name(Objective objective);
// The inverse of objective_name; InvalidArgument for an unknown name.
Objective objective_from_name(const std::string& name);

// ---- objectives (exact, in double) ---------------------------------------------

// The loss of one batch given the heads' log-probabilities of the targets.
struct ObjectiveBatch {
  int B = 0, L = 0;                      // windows and their length; N = B * L
  RowMatrix<double> logprobs;            // (N, K) lp_k of each target, row b * L + t
  RowMatrix<double> gate_logits;         // (N, K) (kGate only)
  std::vector<int> window_persona;       // (B) persona of each window (kSupervised only)
};

struct ObjectiveGradient {
  double loss = 0.0;                     // mean nats per token
  RowMatrix<double> d_logprobs;          // (N, K) d loss / d lp
  RowMatrix<double> d_gate;              // (N, K) d loss / d gate logits (kGate), else empty
};

// The loss and its exact gradient. log_prior (K) is log pi (mixture, and the
// gate with the posterior). InvalidArgument for inconsistent shapes.
ObjectiveGradient objective_gradient(Objective objective, const ObjectiveBatch& batch,
                                     const Eigen::VectorXd& log_prior, bool gate_posterior);

// ---- optimiser ------------------------------------------------------------------

// AdamWConfig, learning_rate and adamw_step: simulacra/adamw.hpp.

// ---- data -----------------------------------------------------------------------

// Token streams per persona: each persona's documents as "256 doc 256 doc ...".
struct TransformerData {
  std::vector<std::string> names;              // (K) persona names
  std::vector<std::vector<Token>> train;       // (K) training streams
  std::vector<std::vector<Token>> heldout;     // (K) held-out streams (may be empty)

  // One persona (named `name`): the text's bytes, the last `heldout_fraction`
  // of them held out (nanoGPT's split). InvalidArgument for empty text.
  static TransformerData from_text(const std::string& text, double heldout_fraction, const std::string& name = "text");
  // One persona per corpus persona; documents split with Corpus::split.
  static TransformerData from_corpus(const Corpus& corpus, double heldout_fraction, std::uint64_t seed);
};

// ---- the trainer ----------------------------------------------------------------

// The most OpenMP threads a trainer accepts (TransformerTrainConfig::threads
// and a checkpoint's "threads"): OpenMP runtimes keep per-thread state on the
// stack of the thread that opens a parallel region, and a team of 100000
// overflows it.
inline constexpr int kMaxThreads = 1024;

struct TransformerProgress {
  int step = 0;                  // steps done (1-based after the first step)
  int steps = 0;                 // the run's total
  double loss = 0.0;             // training loss of this step's batch, nats per token
  double learning_rate = 0.0;    // the rate this step used
  double grad_norm = 0.0;        // global gradient norm before clipping
  double tokens_per_second = 0.0;  // training tokens per second over the run so far
  double eval_loss = std::numeric_limits<double>::quiet_NaN();  // held-out loss when evaluated this step
};

struct TransformerTrainConfig {
  TransformerConfig model;       // personas is set to the data's K (1 for one text)
  Objective objective = Objective::kSupervised;
  bool gate_posterior = false;   // kGate: combine the gate with the window posterior
  int batch = 12;                // windows per step (>= 1)
  int steps = 2000;              // total optimisation steps (>= 0)
  AdamWConfig optimizer;
  std::uint64_t seed = 1;        // initialisation and minibatches (any uint64)
  int eval_every = 250;          // evaluate held-out loss every N steps and at the end (0 = only at the end)
  int eval_windows = 200;        // held-out windows per evaluation (>= 1)
  int threads = 0;               // OpenMP threads, 0..kMaxThreads (0: the calling thread's, all cores by default)
  std::string checkpoint_path;   // written every checkpoint_every steps and at the end (empty: never)
  int checkpoint_every = 0;
  // Called after every step; may throw to stop (the exception propagates,
  // the model keeps the steps done).
  std::function<void(const TransformerProgress&)> on_progress;

  // InvalidArgument naming the first bad field.
  void check() const;
};

// Threads: update(), evaluate() and run() set the calling thread's OpenMP team
// size to config.threads for their duration and restore it after; the
// process's setting (omp_set_num_threads) is never changed.
class TransformerTrainer {
 public:
  // A fresh model from config.seed. InvalidArgument for a bad config, no
  // persona, or a training stream shorter than context + 1 tokens.
  TransformerTrainer(TransformerTrainConfig config, TransformerData data);
  // Continues from a checkpoint written by save_checkpoint with the same data:
  // the following steps are bit-identical to an uninterrupted run (same
  // thread count). on_progress and checkpoint settings come from `callbacks`
  // (other fields are the checkpoint's). The model is read from the file
  // through the transformer codec (transformer_codec.hpp: size guard, finite
  // values, probe forward pass), never initialised first. FileError for a bad
  // file (threads above kMaxThreads included); InvalidArgument if the data's
  // persona count is not the checkpoint's.
  static TransformerTrainer resume(const std::string& checkpoint, TransformerData data,
                                   const TransformerTrainConfig& callbacks = {});

  // One optimiser update: the next batch's loss and gradients, then AdamW.
  TransformerProgress update();
  // Steps until config.steps, evaluating, checkpointing and reporting.
  // Returns the last progress record (its eval_loss set).
  TransformerProgress run();
  // Mean held-out loss per token under the objective over eval_windows
  // deterministic windows (evenly spaced over the held-out streams).
  // InvalidArgument if there is no held-out stream long enough.
  double evaluate() const;
  // Model, optimiser state, step and generator, atomically (format version 2,
  // docs/file-format.md). FileError if the file cannot be written.
  void save_checkpoint(const std::string& path) const;

  int steps_done() const { return step_; }
  const TransformerTrainConfig& config() const { return config_; }
  const TransformerData& data() const { return data_; }
  const TransformerModel<float>& model() const { return *model_; }
  // The model, shared (e.g. for TransformerPersona); training goes on in it.
  std::shared_ptr<const TransformerModel<float>> shared_model() const { return model_; }

 private:
  // As the public constructor, but training `model` instead of a fresh one
  // when it is not null (its config must equal the trainer's): resume passes
  // the model it read from the file.
  TransformerTrainer(TransformerTrainConfig config, TransformerData data,
                     std::shared_ptr<TransformerModel<float>> model);
  void draw_batch(std::vector<Token>& inputs, std::vector<Token>& targets, std::vector<int>& persona);
  // Forward pass and the objective of B windows; each head's softmax (N, V) into *softmax if given.
  ObjectiveGradient batch_objective(const std::vector<Token>& inputs, const std::vector<Token>& targets,
                                    const std::vector<int>& persona, int B, Activations<float>& acts,
                                    std::vector<RowMatrix<float>>* softmax) const;
  // The training batch's loss; its gradient into grads_.
  double loss_and_gradient(const std::vector<Token>& inputs, const std::vector<Token>& targets,
                           const std::vector<int>& persona);

  TransformerTrainConfig config_;
  TransformerData data_;
  std::shared_ptr<TransformerModel<float>> model_;
  std::vector<float> grads_, m_, v_;
  Eigen::VectorXd log_prior_;      // (K) training-stream shares
  std::uint64_t rng_ = 0;          // splitmix64 state of the minibatch sampler
  int step_ = 0;
  double seconds_ = 0.0;           // training time so far (for tokens per second)
  Activations<float> acts_;
  BackwardWorkspace<float> workspace_;  // backward()'s buffers, reused from step to step
  std::vector<RowMatrix<float>> dlogits_;
  RowMatrix<float> dgate_;
};

}  // namespace simulacra
