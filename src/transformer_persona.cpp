// Head k of a transformer model as a persona (transformer.hpp): the KV-cache
// state for incremental reading, and batched scoring over the same windows.
#include <algorithm>
#include <map>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "transformer_kernels.hpp"

namespace simulacra {

using detail::log_softmax;

namespace {

// Rows per forward() when TransformerPersona::token_logprobs batches its windows, and
// the forward FLOPs per batch at most (beyond one window): about 0.1 s of a
// core, so Ctrl-C stops the scoring within a fraction of a second.
constexpr std::size_t kScoreRows = 768;
constexpr double kScoreFlops = 2e9;

class TransformerState final : public PersonaState {
 public:
  TransformerState(std::shared_ptr<const TransformerModel<float>> model, int head)
      : model_(std::move(model)), head_(head) {
    model_->reset(cache_);
    read(kBoundary);
  }

  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_logprobs: out has {} elements, expected {}",
                    out.size(), kVocab);
    out = logprobs_.cast<double>();
  }

  double advance(Token token) override {
    SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "advance: token {} is outside 0..{}", token, kVocab - 1);
    const double lp = logprobs_[token];
    if (token == kBoundary) model_->reset(cache_);  // a new document starts from [kBoundary]
    read(token);
    return lp;
  }

  std::unique_ptr<PersonaState> clone() const override { return std::make_unique<TransformerState>(*this); }

 private:
  void read(Token token) { logprobs_ = model_->head_logprobs(head_, model_->append(cache_, token)); }

  std::shared_ptr<const TransformerModel<float>> model_;
  int head_;
  TransformerModel<float>::Cache cache_;
  Eigen::VectorXf logprobs_;  // (V) natural-log next-token distribution
};

}  // namespace

TransformerPersona::TransformerPersona(std::shared_ptr<const TransformerModel<float>> model, int head)
    : model_(std::move(model)), head_(head) {
  SIMULACRA_CHECK(model_ != nullptr, InvalidArgument, "TransformerPersona: the model is null");
  SIMULACRA_CHECK(head >= 0 && head < model_->config().personas, OutOfRange,
                  "TransformerPersona: head {} is outside 0..{}", head, model_->config().personas - 1);
}

std::unique_ptr<PersonaState> TransformerPersona::begin() const {
  return std::make_unique<TransformerState>(model_, head_);
}

void TransformerPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  for (std::size_t t = 0; t < n; ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "TransformerPersona::token_logprobs: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  if (n == 0) return;
  // Input t predicts tokens[t]: the document start, then every token but the
  // last. A boundary input (after a predicted boundary) starts a document.
  std::vector<Token> in(n);
  in[0] = kBoundary;
  std::copy(tokens, tokens + n - 1, in.begin() + 1);

  // The windows of append()'s cache rule: inputs [start, start + length), of
  // which those from start + first on are scored. The first window of a
  // document starts at its first input; each next one begins with the last
  // context / 2 inputs of the previous (full) window.
  struct Window {
    std::size_t start, first;
  };
  const std::size_t context = std::size_t(model_->config().context), keep = context / 2, stride = context - keep;
  std::map<std::size_t, std::vector<Window>> by_length;
  for (std::size_t a = 0; a < n;) {
    std::size_t e = a + 1;
    while (e < n && in[e] != kBoundary) ++e;
    const std::size_t M = e - a;  // inputs of this document
    by_length[std::min(context, M)].push_back({a, 0});
    for (std::size_t s = stride; s + keep < M; s += stride)
      by_length[std::min(context, M - s)].push_back({a + s, keep});
    a = e;
  }

  // Batches of up to kScoreRows rows and about kScoreFlops (one window at
  // least), with an interrupt poll before each.
  const double flops_per_row = model_->config().training_flops_per_token() / 3.0;
  const std::size_t rows = std::size_t(std::clamp(kScoreFlops / flops_per_row, 1.0, double(kScoreRows)));
  Activations<float> acts;
  std::vector<Token> batch;
  Eigen::VectorXd row(kVocab);
  for (const auto& [length, windows] : by_length) {
    const std::size_t per_batch = std::max<std::size_t>(1, rows / length);
    for (std::size_t w0 = 0; w0 < windows.size(); w0 += per_batch) {
      poll_interrupt();
      const std::size_t count = std::min(per_batch, windows.size() - w0);
      batch.resize(count * length);
      for (std::size_t w = 0; w < count; ++w)
        std::copy_n(in.data() + windows[w0 + w].start, length, batch.data() + w * length);
      model_->forward(batch.data(), int(count), int(length), acts);
      const RowMatrix<float>& logits = acts.logits[std::size_t(head_)];
      for (std::size_t w = 0; w < count; ++w) {
        const Window& win = windows[w0 + w];
        for (std::size_t i = win.first; i < length; ++i) {
          row = logits.row(Eigen::Index(w * length + i)).transpose().cast<double>();
          log_softmax(row.data(), kVocab);
          out[win.start + i] = row[tokens[win.start + i]];
        }
      }
    }
  }
}

}  // namespace simulacra
