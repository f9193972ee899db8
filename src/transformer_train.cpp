// Training the transformer hydra: objectives, AdamW, data, the trainer (transformer_train.hpp;
// checkpoints are in transformer_checkpoint.cpp).
#include "simulacra/transformer_train.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <omp.h>

#include "simulacra/detail/splitmix64.hpp"
#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"

namespace simulacra {

std::string objective_name(Objective objective) {
  switch (objective) {
    case Objective::kSupervised: return "supervised";
    case Objective::kMixture: return "mixture";
    case Objective::kGate: return "gate";
  }
  return "supervised";
}

Objective objective_from_name(const std::string& name) {
  for (Objective o : {Objective::kSupervised, Objective::kMixture, Objective::kGate})
    if (objective_name(o) == name) return o;
  throw InvalidArgument(fmt::format("objective '{}' is unknown (expected supervised, mixture or gate)", name));
}

// ------------------------------------------------------------------ objectives

namespace {

// log sum_k exp(x_k) and softmax(x) into p, for a K-vector.
double log_softmax_into(const double* x, int K, double* p) {
  const double z = log_sum_exp(x, K);
  for (int k = 0; k < K; ++k) p[k] = std::exp(x[k] - z);
  return z;
}

}  // namespace

ObjectiveGradient objective_gradient(Objective objective, const ObjectiveBatch& batch, const Eigen::VectorXd& log_prior,
                                     bool gate_posterior) {
  const int B = batch.B, L = batch.L;
  const Eigen::Index N = Eigen::Index(B) * L, K = batch.logprobs.cols();
  SIMULACRA_CHECK(B >= 1 && L >= 1 && batch.logprobs.rows() == N && K >= 1, InvalidArgument,
                  "objective: logprobs is {}x{}, expected ({} windows x {} tokens, K >= 1)", batch.logprobs.rows(), K,
                  B, L);
  SIMULACRA_CHECK(log_prior.size() == K, InvalidArgument, "objective: log_prior has {} entries for {} heads",
                  log_prior.size(), K);
  ObjectiveGradient g;
  g.d_logprobs = RowMatrix<double>::Zero(N, K);
  const double inv_n = 1.0 / double(N);
  std::vector<double> x(static_cast<std::size_t>(K)), p(x.size()), q(x.size());
  switch (objective) {
    case Objective::kSupervised: {
      SIMULACRA_CHECK(batch.window_persona.size() == std::size_t(B), InvalidArgument,
                      "objective: {} window personas for {} windows", batch.window_persona.size(), B);
      for (int b = 0; b < B; ++b) {
        const int k = batch.window_persona[std::size_t(b)];
        SIMULACRA_CHECK(k >= 0 && k < K, OutOfRange, "objective: window {} has persona {}, outside 0..{}", b, k, K - 1);
        for (int t = 0; t < L; ++t) {
          g.loss -= batch.logprobs(Eigen::Index(b) * L + t, k) * inv_n;
          g.d_logprobs(Eigen::Index(b) * L + t, k) = -inv_n;
        }
      }
      break;
    }
    case Objective::kMixture: {
      // a_k = log pi_k + sum_t lp_k(b, t); loss_b = -log sum_k exp(a_k); r = softmax(a).
      for (int b = 0; b < B; ++b) {
        for (Eigen::Index k = 0; k < K; ++k) {
          double s = log_prior[k];
          for (int t = 0; t < L; ++t) s += batch.logprobs(Eigen::Index(b) * L + t, k);
          x[std::size_t(k)] = s;
        }
        g.loss -= log_softmax_into(x.data(), int(K), p.data()) * inv_n;
        for (int t = 0; t < L; ++t)
          for (Eigen::Index k = 0; k < K; ++k) g.d_logprobs(Eigen::Index(b) * L + t, k) = -p[std::size_t(k)] * inv_n;
      }
      break;
    }
    case Objective::kGate: {
      SIMULACRA_CHECK(batch.gate_logits.rows() == N && batch.gate_logits.cols() == K, InvalidArgument,
                      "objective: gate logits are {}x{}, expected {}x{}", batch.gate_logits.rows(),
                      batch.gate_logits.cols(), N, K);
      g.d_gate = RowMatrix<double>::Zero(N, K);
      // u_k(t) = gate_k(t) [+ log pi_k + sum_{s<t} lp_k(s)]; w = softmax(u) (p here),
      // rho = softmax(u + lp(t)) (q); loss_t = LSE(u) - LSE(u + lp).
      // d/dgate_k(t) = w_k - rho_k; d/dlp_k(t) = -rho_k [+ sum_{t'>t} (w_k(t') - rho_k(t'))].
      Eigen::VectorXd later(K);
      for (int b = 0; b < B; ++b) {
        Eigen::VectorXd past = gate_posterior ? Eigen::VectorXd(log_prior) : Eigen::VectorXd::Zero(K);
        for (int t = 0; t < L; ++t) {
          const Eigen::Index row = Eigen::Index(b) * L + t;
          for (Eigen::Index k = 0; k < K; ++k) x[std::size_t(k)] = batch.gate_logits(row, k) + past[k];
          const double zu = log_softmax_into(x.data(), int(K), p.data());
          for (Eigen::Index k = 0; k < K; ++k) x[std::size_t(k)] += batch.logprobs(row, k);
          const double zl = log_softmax_into(x.data(), int(K), q.data());
          g.loss += (zu - zl) * inv_n;
          for (Eigen::Index k = 0; k < K; ++k) {
            g.d_gate(row, k) = (p[std::size_t(k)] - q[std::size_t(k)]) * inv_n;
            g.d_logprobs(row, k) = -q[std::size_t(k)] * inv_n;
          }
          if (gate_posterior) past += batch.logprobs.row(row).transpose();
        }
        if (!gate_posterior) continue;
        later.setZero();  // sum over t' > t of d/dgate_k(t'), accumulated backwards
        for (int t = L - 1; t >= 0; --t) {
          const Eigen::Index row = Eigen::Index(b) * L + t;
          g.d_logprobs.row(row) += later.transpose();
          later += g.d_gate.row(row).transpose();
        }
      }
      break;
    }
  }
  return g;
}

// ------------------------------------------------------------------ data

namespace {

// "256 doc 256 doc ..." of the texts.
std::vector<Token> stream_of(const std::vector<std::string>& docs) {
  std::vector<Token> s;
  for (const std::string& d : docs) {
    s.push_back(kBoundary);
    const std::vector<Token> bytes = encode(d);
    s.insert(s.end(), bytes.begin(), bytes.end());
  }
  return s;
}

}  // namespace

TransformerData TransformerData::from_text(const std::string& text, double heldout_fraction, const std::string& name) {
  SIMULACRA_CHECK(!text.empty(), InvalidArgument, "from_text: the text is empty");
  SIMULACRA_CHECK(std::isfinite(heldout_fraction) && heldout_fraction >= 0.0 && heldout_fraction < 1.0,
                  InvalidArgument, "from_text: heldout_fraction must be in [0, 1), got {}", heldout_fraction);
  const std::size_t cut = text.size() - std::size_t(std::floor(double(text.size()) * heldout_fraction));
  TransformerData d;
  d.names = {name};
  d.train.emplace_back(encode(text.substr(0, cut)));
  d.heldout.emplace_back(encode(text.substr(cut)));
  return d;
}

TransformerData TransformerData::from_corpus(const Corpus& corpus, double heldout_fraction, std::uint64_t seed) {
  SIMULACRA_CHECK(!corpus.personas().empty(), InvalidArgument, "from_corpus: the corpus has no persona");
  auto [train_part, heldout_part] = corpus.split(heldout_fraction, seed);
  TransformerData d;
  d.names = corpus.personas();
  for (const std::string& name : d.names) {
    d.train.push_back(stream_of(train_part.texts_of(name)));
    d.heldout.push_back(stream_of(heldout_part.texts_of(name)));
  }
  return d;
}

// ------------------------------------------------------------------ trainer

namespace {

// The calling thread's OpenMP team size set to `threads` for a scope (0
// leaves it), the previous size restored on exit. OpenMP keeps this setting
// per thread, so other threads and the process's later calls are unaffected.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : saved_(omp_get_max_threads()), set_(threads > 0) {
    if (set_) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (set_) omp_set_num_threads(saved_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int saved_;
  bool set_;
};

}  // namespace

void TransformerTrainConfig::check() const {
  model.check();
  SIMULACRA_CHECK(batch >= 1, InvalidArgument, "batch must be >= 1, got {}", batch);
  SIMULACRA_CHECK(steps >= 0, InvalidArgument, "steps must be >= 0, got {}", steps);
  SIMULACRA_CHECK(eval_every >= 0, InvalidArgument, "eval_every must be >= 0, got {}", eval_every);
  SIMULACRA_CHECK(eval_windows >= 1, InvalidArgument, "eval_windows must be >= 1, got {}", eval_windows);
  SIMULACRA_CHECK(threads >= 0 && threads <= kMaxThreads, InvalidArgument, "threads must be in [0, {}], got {}",
                  kMaxThreads, threads);
  SIMULACRA_CHECK(checkpoint_every >= 0, InvalidArgument, "checkpoint_every must be >= 0, got {}", checkpoint_every);
  const AdamWConfig& o = optimizer;
  SIMULACRA_CHECK(std::isfinite(o.lr) && o.lr > 0.0, InvalidArgument, "lr must be positive and finite, got {}", o.lr);
  SIMULACRA_CHECK(std::isfinite(o.min_lr) && o.min_lr >= 0.0 && o.min_lr <= o.lr, InvalidArgument,
                  "min_lr must be in [0, lr], got {}", o.min_lr);
  SIMULACRA_CHECK(o.warmup >= 0, InvalidArgument, "warmup must be >= 0, got {}", o.warmup);
  SIMULACRA_CHECK(std::isfinite(o.beta1) && o.beta1 >= 0.0 && o.beta1 < 1.0, InvalidArgument,
                  "beta1 must be in [0, 1), got {}", o.beta1);
  SIMULACRA_CHECK(std::isfinite(o.beta2) && o.beta2 >= 0.0 && o.beta2 < 1.0, InvalidArgument,
                  "beta2 must be in [0, 1), got {}", o.beta2);
  SIMULACRA_CHECK(std::isfinite(o.eps) && o.eps > 0.0, InvalidArgument, "eps must be positive, got {}", o.eps);
  SIMULACRA_CHECK(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0, InvalidArgument,
                  "weight_decay must be >= 0, got {}", o.weight_decay);
  SIMULACRA_CHECK(std::isfinite(o.clip) && o.clip >= 0.0, InvalidArgument, "clip must be >= 0, got {}", o.clip);
}

TransformerTrainer::TransformerTrainer(TransformerTrainConfig config, TransformerData data)
    : TransformerTrainer(std::move(config), std::move(data), nullptr) {}

TransformerTrainer::TransformerTrainer(TransformerTrainConfig config, TransformerData data,
                                       std::shared_ptr<TransformerModel<float>> model)
    : config_(std::move(config)), data_(std::move(data)) {
  const int K = int(data_.train.size());
  SIMULACRA_CHECK(K >= 1, InvalidArgument, "transformer training: the data has no persona");
  SIMULACRA_CHECK(data_.names.size() == std::size_t(K), InvalidArgument,
                  "transformer training: {} names for {} training streams", data_.names.size(), K);
  SIMULACRA_CHECK(data_.heldout.empty() || data_.heldout.size() == std::size_t(K), InvalidArgument,
                  "transformer training: {} held-out streams for {} personas", data_.heldout.size(), K);
  config_.model.personas = K;
  config_.check();
  if (config_.objective == Objective::kGate) config_.model.gate = true;
  const std::size_t need = std::size_t(config_.model.context) + 1;
  log_prior_.resize(K);
  double total = 0.0;
  for (int k = 0; k < K; ++k) {
    const std::size_t n = data_.train[std::size_t(k)].size();
    SIMULACRA_CHECK(n >= need, InvalidArgument,
                    "transformer training: persona '{}' has {} training tokens, fewer than context + 1 = {}",
                    data_.names[std::size_t(k)], n, need);
    for (Token t : data_.train[std::size_t(k)])
      SIMULACRA_CHECK(t >= 0 && t < kVocab, OutOfRange, "transformer training: token {} is outside 0..{}", t,
                      kVocab - 1);
    log_prior_[k] = double(n);
    total += double(n);
  }
  log_prior_ = (log_prior_ / total).array().log();
  if (model) {
    SIMULACRA_CHECK(model->config() == config_.model, InvalidArgument,
                    "transformer training: the given model's configuration is not the trainer's");
    model_ = std::move(model);
  } else {
    model_ = std::make_shared<TransformerModel<float>>(config_.model, config_.seed);
  }
  const std::size_t P = model_->parameters().size();
  grads_.assign(P, 0.0f);
  m_.assign(P, 0.0f);
  v_.assign(P, 0.0f);
  rng_ = config_.seed ^ 0x5DEECE66Dull;
}

namespace {

// sum of g^2 in double: blocks of 2^13 (each in eight interleaved chains), each on whichever
// thread takes it (dynamically), then the blocks' sums in order, so the
// result is the same for every thread count.
double squared_norm(const std::vector<float>& g) {
  constexpr std::size_t kBlock = std::size_t(1) << 13;
  const std::ptrdiff_t blocks = std::ptrdiff_t((g.size() + kBlock - 1) / kBlock);
  std::vector<double> partial(std::size_t(blocks), 0.0);
#pragma omp parallel for schedule(dynamic, 4) if (blocks > 4)
  for (std::ptrdiff_t b = 0; b < blocks; ++b) {
    const std::size_t begin = std::size_t(b) * kBlock, end = std::min(g.size(), begin + kBlock);
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // eight chains in a fixed order (vectorisable)
    std::size_t i = begin;
    for (; i + 8 <= end; i += 8)
      for (int j = 0; j < 8; ++j) s[j] += double(g[i + j]) * double(g[i + j]);
    for (; i < end; ++i) s[0] += double(g[i]) * double(g[i]);
    partial[std::size_t(b)] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  }
  double sq = 0.0;
  for (double s : partial) sq += s;
  return sq;
}

// Uniform in 0..n-1.
std::size_t below(std::uint64_t& state, std::size_t n) {
  return std::min(n - 1, std::size_t(double(detail::splitmix64(state) >> 11) * 0x1.0p-53 * double(n)));
}

}  // namespace

void TransformerTrainer::draw_batch(std::vector<Token>& inputs, std::vector<Token>& targets, std::vector<int>& persona) {
  const int B = config_.batch, L = config_.model.context;
  // A window start uniform over every valid start of every training stream.
  std::size_t total = 0;
  for (const auto& s : data_.train) total += s.size() - std::size_t(L);
  inputs.resize(std::size_t(B) * L);
  targets.resize(inputs.size());
  persona.resize(std::size_t(B));
  for (int b = 0; b < B; ++b) {
    std::size_t at = below(rng_, total);
    int k = 0;
    while (at >= data_.train[std::size_t(k)].size() - std::size_t(L)) at -= data_.train[std::size_t(k++)].size() - std::size_t(L);
    const auto& s = data_.train[std::size_t(k)];
    std::copy(s.begin() + std::ptrdiff_t(at), s.begin() + std::ptrdiff_t(at) + L, inputs.begin() + std::ptrdiff_t(b) * L);
    std::copy(s.begin() + std::ptrdiff_t(at) + 1, s.begin() + std::ptrdiff_t(at) + L + 1,
              targets.begin() + std::ptrdiff_t(b) * L);
    persona[std::size_t(b)] = k;
  }
}

ObjectiveGradient TransformerTrainer::batch_objective(const std::vector<Token>& inputs, const std::vector<Token>& targets,
                                                      const std::vector<int>& persona, int B, Activations<float>& acts,
                                                      std::vector<RowMatrix<float>>* softmax) const {
  const int L = int(inputs.size()) / B, K = config_.model.personas, V = kVocab;
  const Eigen::Index N = Eigen::Index(B) * L;
  model_->forward(inputs.data(), B, L, acts);
  // lp_k of each target (N, K) from each row's log-softmax, in float with a
  // vectorised exp (the sum in double); the softmax rows kept when asked.
  ObjectiveBatch ob;
  ob.B = B;
  ob.L = L;
  ob.logprobs.resize(N, K);
  ob.window_persona = persona;
  if (softmax) softmax->resize(std::size_t(K));
  for (int k = 0; k < K; ++k) {
    const RowMatrix<float>& logits = acts.logits[std::size_t(k)];
    RowMatrix<float>* p = softmax ? &(*softmax)[std::size_t(k)] : nullptr;
    if (p) p->resize(N, V);
#pragma omp parallel
    {
      Eigen::ArrayXf e(V);
#pragma omp for schedule(static)
      for (Eigen::Index i = 0; i < N; ++i) {
        const auto row = logits.row(i).array();
        const float m = row.maxCoeff();
        e = (row - m).exp().transpose();
        const double sum = e.cast<double>().sum();
        ob.logprobs(i, k) = double(row[targets[std::size_t(i)]] - m) - std::log(sum);
        if (p) p->row(i) = (e * float(1.0 / sum)).matrix().transpose();
      }
    }
  }
  if (config_.objective == Objective::kGate) ob.gate_logits = acts.gate_logits.cast<double>();
  return objective_gradient(config_.objective, ob, log_prior_, config_.gate_posterior);
}

double TransformerTrainer::loss_and_gradient(const std::vector<Token>& inputs, const std::vector<Token>& targets,
                                             const std::vector<int>& persona) {
  const int B = config_.batch, K = config_.model.personas;
  const Eigen::Index N = Eigen::Index(inputs.size());
  const ObjectiveGradient g = batch_objective(inputs, targets, persona, B, acts_, &dlogits_);
  // lp = logit[target] - lse, so dlogits_k(i, v) = c ([v == target_i] - softmax_k(i)_v) with
  // c = d loss / d lp_k(i), made in place from the softmax; a head no row reads is emptied.
  for (int k = 0; k < K; ++k) {
    RowMatrix<float>& d = dlogits_[std::size_t(k)];
    if ((g.d_logprobs.col(k).array() == 0.0).all()) {
      d.resize(0, 0);
      continue;
    }
#pragma omp parallel for schedule(static)
    for (Eigen::Index i = 0; i < N; ++i) {
      const float c = float(g.d_logprobs(i, k));
      d.row(i) *= -c;
      d(i, targets[std::size_t(i)]) += c;
    }
  }
  if (config_.objective == Objective::kGate)
    dgate_ = g.d_gate.cast<float>();
  else
    dgate_.resize(0, 0);
  model_->backward(acts_, dlogits_, dgate_, grads_, workspace_);
  return g.loss;
}

TransformerProgress TransformerTrainer::update() {
  const ThreadScope threads(config_.threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<Token> inputs, targets;
  std::vector<int> persona;
  draw_batch(inputs, targets, persona);
  TransformerProgress p;
  p.loss = loss_and_gradient(inputs, targets, persona);
  // Global norm, clipping, then AdamW (decoupled decay on rank-2 tensors).
  p.grad_norm = std::sqrt(squared_norm(grads_));
  SIMULACRA_CHECK(std::isfinite(p.grad_norm), InvalidArgument,
                  "transformer training: the gradient norm is {} at step {} (learning rate too high?)", p.grad_norm,
                  step_ + 1);
  const AdamWConfig& o = config_.optimizer;
  const double scale = o.clip > 0.0 && p.grad_norm > o.clip ? o.clip / (p.grad_norm + 1e-6) : 1.0;
  p.learning_rate = learning_rate(o, step_, config_.steps);
  adamw_step(o, p.learning_rate, step_ + 1, scale, model_->layout(), grads_, model_->parameters(), m_, v_);
  ++step_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  p.step = step_;
  p.steps = config_.steps;
  p.tokens_per_second = double(step_) * config_.batch * config_.model.context / seconds_;
  return p;
}

double TransformerTrainer::evaluate() const {
  const ThreadScope threads(config_.threads);
  const int L = config_.model.context, B = config_.batch;
  std::vector<std::pair<int, std::size_t>> windows;  // (persona, start)
  std::size_t total = 0;
  for (const auto& s : data_.heldout) total += s.size() > std::size_t(L) ? s.size() - std::size_t(L) : 0;
  SIMULACRA_CHECK(total > 0, InvalidArgument, "evaluate: no held-out stream has more than context = {} tokens", L);
  const int W = config_.eval_windows;
  for (int w = 0; w < W; ++w) {
    std::size_t at = std::min(total - 1, std::size_t((double(w) + 0.5) * double(total) / double(W)));
    int k = 0;
    for (;; ++k) {
      const auto& s = data_.heldout[std::size_t(k)];
      const std::size_t n = s.size() > std::size_t(L) ? s.size() - std::size_t(L) : 0;
      if (at < n) break;
      at -= n;
    }
    windows.emplace_back(k, at);
  }
  Activations<float> acts;
  double loss = 0.0;
  std::size_t tokens = 0;
  for (std::size_t first = 0; first < windows.size(); first += std::size_t(B)) {
    const std::size_t n = std::min(windows.size() - first, std::size_t(B));
    std::vector<Token> inputs(n * std::size_t(L)), targets(inputs.size());
    std::vector<int> persona(n);
    for (std::size_t j = 0; j < n; ++j) {
      const auto& [k, at] = windows[first + j];
      const auto& s = data_.heldout[std::size_t(k)];
      std::copy(s.begin() + std::ptrdiff_t(at), s.begin() + std::ptrdiff_t(at) + L, inputs.begin() + std::ptrdiff_t(j) * L);
      std::copy(s.begin() + std::ptrdiff_t(at) + 1, s.begin() + std::ptrdiff_t(at) + L + 1,
                targets.begin() + std::ptrdiff_t(j) * L);
      persona[j] = k;
    }
    loss += batch_objective(inputs, targets, persona, int(n), acts, nullptr).loss * double(n * std::size_t(L));
    tokens += n * std::size_t(L);
  }
  return loss / double(tokens);
}

TransformerProgress TransformerTrainer::run() {
  TransformerProgress p;
  p.step = step_;
  p.steps = config_.steps;
  while (step_ < config_.steps) {
    p = update();
    const bool last = step_ == config_.steps;
    const bool has_heldout = !data_.heldout.empty();
    if (has_heldout && (last || (config_.eval_every > 0 && step_ % config_.eval_every == 0))) {
      bool any = false;
      for (const auto& s : data_.heldout) any = any || s.size() > std::size_t(config_.model.context);
      if (any) p.eval_loss = evaluate();
    }
    if (!config_.checkpoint_path.empty() &&
        (last || (config_.checkpoint_every > 0 && step_ % config_.checkpoint_every == 0)))
      save_checkpoint(config_.checkpoint_path);
    if (config_.on_progress) config_.on_progress(p);
  }
  return p;
}

}  // namespace simulacra
