// Tests of batch.hpp: every entry of a batch is bit for bit the one-at-a-time
// call, the work is spread over the threads, and errors and interrupts name
// the failing document.
#include "simulacra/batch.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include <omp.h>

#include "mixture_testing.hpp"

namespace {

using namespace simulacra::testing::mixture_fixtures;
using simulacra::attribute_batch;
using simulacra::InvalidArgument;
using simulacra::OutOfRange;
using simulacra::score_batch;

// Every paragraph of the four persona files: documents of uneven lengths.
std::vector<std::string> documents() {
  std::vector<std::string> out;
  for (const std::string& name : kFileNames)
    for (const std::string& p : paragraphs(persona_file(name))) out.push_back(p);
  out.push_back("");  // the empty document: only the end boundary
  return out;
}

Mixture fixed_share_pile() {
  MixtureConfig c;
  c.switching = Switching::kFixedShare;
  c.alpha = 0.01;
  return Mixture(file_personas(), kFileNames, Eigen::Vector4d(0.1, 0.2, 0.3, 0.4), c);
}

// A persona that reads as `base` does, records the OpenMP thread that read
// each document, waits `delay` per document, and throws InvalidArgument for a
// document holding the byte 'X'.
class ProbePersona final : public Persona {
 public:
  ProbePersona(std::shared_ptr<const Persona> base, std::chrono::microseconds delay)
      : base_(std::move(base)), delay_(delay) {}
  std::string kind() const override { return "probe"; }
  std::unique_ptr<PersonaState> begin() const override { return base_->begin(); }
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      threads_.insert(omp_get_thread_num());
    }
    for (std::size_t t = 0; t < n; ++t)
      SIMULACRA_CHECK(tokens[t] != 'X', InvalidArgument, "probe: the byte X at {}", t);
    std::this_thread::sleep_for(delay_);
    base_->token_logprobs(tokens, n, out);
  }
  std::set<int> threads() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return threads_;
  }

 private:
  std::shared_ptr<const Persona> base_;
  std::chrono::microseconds delay_;
  mutable std::mutex mutex_;
  mutable std::set<int> threads_;
};

// Sets the OpenMP team size for a scope.
class Threads {
 public:
  explicit Threads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(saved_); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
  int saved_;
};

TEST(ScoreBatchTest, EqualsScoreOfEachDocument) {
  const Mixture mix = fixed_share_pile();
  const std::vector<std::string> texts = documents();
  const Eigen::VectorXd lp = score_batch(mix, texts);
  ASSERT_EQ(lp.size(), Eigen::Index(texts.size()));
  for (std::size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(lp[Eigen::Index(i)], mix.score(texts[i])) << "text " << i;
}

TEST(ScoreBatchTest, EqualsSteeredScore) {
  const Mixture mix = fixed_share_pile();
  const std::vector<std::string> texts = {"Arr, matey!", "O moon, O river", "The data suggest", ""};
  Steering s;
  s.prior_bias = Eigen::Vector4d(1.0, 0.0, -1.0, 0.5);
  s.exclude = {3};
  s.product = {0, 1, 1.5};
  s.ablation.remove = {2};
  const Eigen::VectorXd lp = score_batch(mix, texts, s);
  for (std::size_t i = 0; i < texts.size(); ++i)
    EXPECT_EQ(lp[Eigen::Index(i)], mix.score(texts[i], s)) << "text " << i;
  EXPECT_NE(lp[0], mix.score(texts[0]));  // the steering was applied
}

TEST(AttributeBatchTest, EqualsAttributeOfEachDocument) {
  Mixture mix = fixed_share_pile();
  mix.set_attribution_beta(0.4, 0.3);  // each document's own beta(n)
  const std::vector<std::string> texts = documents();
  const Eigen::MatrixXd post = attribute_batch(mix, texts);
  const Eigen::MatrixXd exact = attribute_batch(mix, texts, 1.0);
  ASSERT_EQ(post.rows(), Eigen::Index(texts.size()));
  ASSERT_EQ(post.cols(), mix.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const Eigen::VectorXd want = mix.attribute(texts[i]), want_exact = mix.attribute(texts[i], 1.0);
    for (int k = 0; k < mix.size(); ++k) {
      EXPECT_EQ(post(Eigen::Index(i), k), want[k]) << "text " << i << " persona " << k;
      EXPECT_EQ(exact(Eigen::Index(i), k), want_exact[k]) << "text " << i << " persona " << k;
    }
  }
}

TEST(BatchTest, EmptyBatch) {
  const Mixture mix = fixed_share_pile();
  EXPECT_EQ(score_batch(mix, {}).size(), 0);
  const Eigen::MatrixXd post = attribute_batch(mix, {});
  EXPECT_EQ(post.rows(), 0);
  EXPECT_EQ(post.cols(), 4);
}

TEST(BatchTest, SpreadsDocumentsOverTheThreads) {
  const Threads two(2);
  auto probe = std::make_shared<ProbePersona>(file_personas()[0], std::chrono::microseconds(2000));
  const Mixture mix({probe, file_personas()[1]}, {"a", "b"}, Eigen::Vector2d(0.5, 0.5));
  const std::vector<std::string> texts(40, "Arr, matey! Ahoy.");
  score_batch(mix, texts);
  EXPECT_EQ(probe->threads(), (std::set<int>{0, 1}));
}

TEST(BatchTest, ErrorNamesTheFirstBadDocument) {
  auto probe = std::make_shared<ProbePersona>(file_personas()[0], std::chrono::microseconds(0));
  const Mixture mix({probe, file_personas()[1]}, {"a", "b"}, Eigen::Vector2d(0.5, 0.5));
  std::vector<std::string> texts(30, "Arr, matey!");
  texts[7] = "an X here";
  texts[21] = "and X there";
  for (int run = 0; run < 2; ++run) {
    try {
      run == 0 ? void(score_batch(mix, texts)) : void(attribute_batch(mix, texts));
      ADD_FAILURE() << "no error";
    } catch (const InvalidArgument& e) {
      EXPECT_EQ(std::string(e.what()), "texts[7]: probe: the byte X at 3");
    }
  }
}

TEST(BatchTest, ChecksItsArgumentsBeforeAnyWork) {
  const Mixture mix = fixed_share_pile();
  EXPECT_THROW(attribute_batch(mix, {"a"}, 0.0), InvalidArgument);
  EXPECT_THROW(attribute_batch(mix, {"a"}, -1.0), InvalidArgument);
  Steering s;
  s.clamp = 9;
  EXPECT_THROW(score_batch(mix, {"a"}, s), OutOfRange);
}

std::atomic<int> polls{0};

TEST(BatchTest, InterruptStopsTheBatch) {
  const Mixture mix = fixed_share_pile();
  const std::vector<std::string> texts(2000, "Arr, matey! Ahoy there.");
  polls = 0;
  simulacra::set_interrupt_check([] { return ++polls > 3; });
  EXPECT_THROW(score_batch(mix, texts), simulacra::Interrupted);
  EXPECT_THROW(attribute_batch(mix, texts), simulacra::Interrupted);
  simulacra::set_interrupt_check(nullptr);
  EXPECT_EQ(score_batch(mix, {"Arr"})[0], mix.score("Arr"));
}

}  // namespace
