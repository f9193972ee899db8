// Tests of transformer training (transformer_train.hpp): the objectives
// against finite differences and brute-force sums, the schedule, and the
// trainer (learning, resume bit for bit, checkpoints, bad input).
#include "simulacra/transformer_train.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <omp.h>

#include "simulacra/error.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/safetensors.hpp"

#include "testing.hpp"

namespace {

using simulacra::Objective;
using simulacra::ObjectiveBatch;
using simulacra::RowMatrix;
using simulacra::TransformerData;
using simulacra::TransformerTrainConfig;
using simulacra::TransformerTrainer;

// A batch of random per-head log-probabilities (each a log of a number in
// (0.01, 1)) and gate logits.
ObjectiveBatch random_batch(int B, int L, int K, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(0.01, 1.0), g(-2.0, 2.0);
  ObjectiveBatch b;
  b.B = B;
  b.L = L;
  b.logprobs.resize(B * L, K);
  b.gate_logits.resize(B * L, K);
  for (int i = 0; i < B * L; ++i)
    for (int k = 0; k < K; ++k) {
      b.logprobs(i, k) = std::log(u(gen));
      b.gate_logits(i, k) = g(gen);
    }
  for (int w = 0; w < B; ++w) b.window_persona.push_back(w % K);
  return b;
}

Eigen::VectorXd log_prior(int K) {
  Eigen::VectorXd p = Eigen::VectorXd::LinSpaced(K, 1.0, double(K));
  return (p / p.sum()).array().log();
}

// Central differences of the loss in every log-probability and gate logit.
void check_against_finite_differences(Objective objective, bool posterior) {
  const int B = 3, L = 5, K = 3;
  ObjectiveBatch batch = random_batch(B, L, K, 7);
  const auto g = simulacra::objective_gradient(objective, batch, log_prior(K), posterior);
  const double h = 1e-6;
  double worst = 0.0;
  for (int i = 0; i < B * L; ++i) {
    for (int k = 0; k < K; ++k) {
      for (int which = 0; which < (objective == Objective::kGate ? 2 : 1); ++which) {
        RowMatrix<double>& x = which == 0 ? batch.logprobs : batch.gate_logits;
        const double keep = x(i, k);
        x(i, k) = keep + h;
        const double up = simulacra::objective_gradient(objective, batch, log_prior(K), posterior).loss;
        x(i, k) = keep - h;
        const double down = simulacra::objective_gradient(objective, batch, log_prior(K), posterior).loss;
        x(i, k) = keep;
        const double numeric = (up - down) / (2 * h);
        const double analytic = which == 0 ? g.d_logprobs(i, k) : g.d_gate(i, k);
        worst = std::max(worst, std::abs(numeric - analytic));
      }
    }
  }
  // The loss is O(1) with derivatives O(1 / N): differences to 1e-9 absolute.
  EXPECT_LE(worst, 1e-9);
}

TEST(ObjectiveTest, SupervisedGradientMatchesFiniteDifferences) {
  check_against_finite_differences(Objective::kSupervised, false);
}
TEST(ObjectiveTest, MixtureGradientMatchesFiniteDifferences) {
  check_against_finite_differences(Objective::kMixture, false);
}
TEST(ObjectiveTest, GateGradientMatchesFiniteDifferences) { check_against_finite_differences(Objective::kGate, false); }
TEST(ObjectiveTest, GateWithPosteriorGradientMatchesFiniteDifferences) {
  check_against_finite_differences(Objective::kGate, true);
}

// The losses written out in linear space.
TEST(ObjectiveTest, LossesEqualTheirDefinitions) {
  const int B = 2, L = 4, K = 3;
  const ObjectiveBatch batch = random_batch(B, L, K, 11);
  const Eigen::VectorXd lp = log_prior(K);
  double supervised = 0.0, mixture = 0.0, gate = 0.0, gate_post = 0.0;
  for (int b = 0; b < B; ++b) {
    double marginal = 0.0;
    for (int k = 0; k < K; ++k) {
      double prod = std::exp(lp[k]);
      for (int t = 0; t < L; ++t) prod *= std::exp(batch.logprobs(b * L + t, k));
      marginal += prod;
    }
    mixture -= std::log(marginal);
    for (int t = 0; t < L; ++t) {
      supervised -= batch.logprobs(b * L + t, batch.window_persona[std::size_t(b)]);
      // gate: w = softmax(gate); with the posterior: w ∝ softmax(gate) pi prod_{s<t} p(s).
      double z = 0.0, zp = 0.0, p = 0.0, pp = 0.0;
      for (int k = 0; k < K; ++k) {
        const double e = std::exp(batch.gate_logits(b * L + t, k));
        double post = std::exp(lp[k]);
        for (int s = 0; s < t; ++s) post *= std::exp(batch.logprobs(b * L + s, k));
        z += e;
        zp += e * post;
        p += e * std::exp(batch.logprobs(b * L + t, k));
        pp += e * post * std::exp(batch.logprobs(b * L + t, k));
      }
      gate -= std::log(p / z);
      gate_post -= std::log(pp / zp);
    }
  }
  const double N = B * L;
  EXPECT_NEAR(simulacra::objective_gradient(Objective::kSupervised, batch, lp, false).loss, supervised / N, 1e-12);
  EXPECT_NEAR(simulacra::objective_gradient(Objective::kMixture, batch, lp, false).loss, mixture / N, 1e-12);
  EXPECT_NEAR(simulacra::objective_gradient(Objective::kGate, batch, lp, false).loss, gate / N, 1e-12);
  EXPECT_NEAR(simulacra::objective_gradient(Objective::kGate, batch, lp, true).loss, gate_post / N, 1e-12);
}

TEST(ObjectiveTest, BadShapesThrow) {
  ObjectiveBatch batch = random_batch(2, 3, 2, 1);
  EXPECT_THROW(simulacra::objective_gradient(Objective::kMixture, batch, log_prior(3), false),
               simulacra::InvalidArgument);
  batch.window_persona = {0, 5};
  EXPECT_THROW(simulacra::objective_gradient(Objective::kSupervised, batch, log_prior(2), false),
               simulacra::OutOfRange);
  batch.gate_logits.resize(1, 2);
  EXPECT_THROW(simulacra::objective_gradient(Objective::kGate, batch, log_prior(2), false), simulacra::InvalidArgument);
  EXPECT_THROW(simulacra::objective_from_name("adversarial"), simulacra::InvalidArgument);
  for (Objective o : {Objective::kSupervised, Objective::kMixture, Objective::kGate})
    EXPECT_EQ(simulacra::objective_from_name(simulacra::objective_name(o)), o);
}

TEST(ScheduleTest, WarmupThenCosineToTheFloor) {
  simulacra::AdamWConfig c;  // lr 1e-3, min 1e-4, warmup 100
  EXPECT_DOUBLE_EQ(simulacra::learning_rate(c, 0, 2000), 1e-3 / 101);
  EXPECT_DOUBLE_EQ(simulacra::learning_rate(c, 99, 2000), 1e-3 * 100 / 101);
  EXPECT_DOUBLE_EQ(simulacra::learning_rate(c, 100, 2000), 1e-3);
  EXPECT_NEAR(simulacra::learning_rate(c, 1050, 2000), 0.5 * (1e-3 + 1e-4), 1e-15);
  EXPECT_DOUBLE_EQ(simulacra::learning_rate(c, 2000, 2000), 1e-4);
  for (int s = 101; s < 2000; ++s)
    EXPECT_LE(simulacra::learning_rate(c, s, 2000), simulacra::learning_rate(c, s - 1, 2000));
}

// ------------------------------------------------------------------ the trainer

TransformerTrainConfig tiny_config(Objective objective = Objective::kSupervised) {
  TransformerTrainConfig c;
  c.model.layers = 1;
  c.model.heads = 2;
  c.model.width = 16;
  c.model.context = 16;
  c.objective = objective;
  c.batch = 4;
  c.steps = 40;
  c.optimizer.warmup = 5;
  c.optimizer.lr = 3e-3;
  c.eval_every = 0;
  c.eval_windows = 8;
  c.threads = 2;
  return c;
}

// A checkpoint path in the temporary directory, unique to this process (test
// runs of several build trees may share the directory).
std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid()) + ".safetensors";
}

TransformerData two_voices() {
  TransformerData d;
  d.names = {"a", "b"};
  std::string a, b;
  for (int i = 0; i < 60; ++i) {
    a += "abab abab abab. ";
    b += "xyzzy xyzzy! ";
  }
  d.train = {simulacra::encode(a), simulacra::encode(b)};
  d.heldout = {simulacra::encode(a.substr(0, 200)), simulacra::encode(b.substr(0, 200))};
  return d;
}

TEST(TransformerTrainerTest, EveryObjectiveLearns) {
  for (Objective o : {Objective::kSupervised, Objective::kMixture, Objective::kGate}) {
    SCOPED_TRACE(simulacra::objective_name(o));
    TransformerTrainer trainer(tiny_config(o), two_voices());
    const double before = trainer.evaluate();
    EXPECT_NEAR(before, std::log(257.0), 0.3) << "a fresh model is near uniform";
    int calls = 0;
    trainer = TransformerTrainer(
        [&] {
          auto c = tiny_config(o);
          c.on_progress = [&](const simulacra::TransformerProgress& p) {
            ++calls;
            EXPECT_EQ(p.step, calls);
            EXPECT_TRUE(std::isfinite(p.loss) && p.learning_rate > 0 && p.tokens_per_second > 0);
          };
          return c;
        }(),
        two_voices());
    const auto last = trainer.run();
    EXPECT_EQ(calls, 40);
    EXPECT_EQ(trainer.steps_done(), 40);
    EXPECT_LT(last.eval_loss, before - 1.5) << "held-out loss falls";
  }
}

TEST(TransformerTrainerTest, SupervisedHeadsSpecialise) {
  auto c = tiny_config();
  c.steps = 80;
  TransformerTrainer trainer(c, two_voices());
  trainer.run();
  simulacra::TransformerPersona a(trainer.shared_model(), 0), b(trainer.shared_model(), 1);
  const auto text = simulacra::encode("abab abab abab. abab abab");
  double own = 0.0, other = 0.0;
  for (double x : a.token_logprobs(text)) own += x;
  for (double x : b.token_logprobs(text)) other += x;
  EXPECT_GT(own, other + 10.0) << "head a knows its voice better than head b";
}

TEST(TransformerTrainerTest, ResumeIsBitExact) {
  const std::string path = temp_path("resume_checkpoint");
  auto c = tiny_config(Objective::kGate);
  c.gate_posterior = true;
  c.steps = 12;
  TransformerTrainer straight(c, two_voices());
  straight.run();
  TransformerTrainer first(c, two_voices());
  for (int i = 0; i < 5; ++i) first.update();
  first.save_checkpoint(path);
  TransformerTrainer resumed = TransformerTrainer::resume(path, two_voices());
  EXPECT_EQ(resumed.steps_done(), 5);
  EXPECT_EQ(resumed.model().parameters(), first.model().parameters());
  resumed.run();
  EXPECT_EQ(resumed.steps_done(), 12);
  EXPECT_TRUE(resumed.model().parameters() == straight.model().parameters()) << "resume continues bit for bit";
  std::remove(path.c_str());
}

TEST(TransformerTrainerTest, BadCheckpointsAreFileErrors) {
  const std::string path = temp_path("bad_checkpoint");
  TransformerTrainer t(tiny_config(), two_voices());
  t.update();
  t.save_checkpoint(path);
  const std::string good = simulacra::testing::read_text(path);
  for (std::size_t cut : {std::size_t(0), std::size_t(7), std::size_t(100), good.size() / 2, good.size() - 1}) {
    std::ofstream(path, std::ios::binary) << good.substr(0, cut);
    EXPECT_THROW(TransformerTrainer::resume(path, two_voices()), simulacra::FileError) << "cut at " << cut;
  }
  EXPECT_THROW(TransformerTrainer::resume(path + ".missing", two_voices()), simulacra::FileError);
  std::ofstream(path, std::ios::binary) << good;
  TransformerData one = two_voices();
  one.names.pop_back();
  one.train.pop_back();
  one.heldout.pop_back();
  EXPECT_THROW(TransformerTrainer::resume(path, one), simulacra::InvalidArgument);
  std::remove(path.c_str());
}

// The checkpoint of `trainer` at `path`, its metadata edited by `edit`.
template <typename Edit>
void save_edited(const TransformerTrainer& trainer, const std::string& path, Edit edit) {
  trainer.save_checkpoint(path);
  simulacra::TensorFile f = simulacra::read_safetensors(path);
  edit(f.metadata);
  simulacra::write_safetensors(path, f);
}

TEST(TransformerTrainerTest, SeedsFrom2To63OnResume) {
  const std::string path = temp_path("seed_checkpoint");
  auto c = tiny_config();
  c.steps = 6;
  for (const std::uint64_t seed : {(std::uint64_t(1) << 63) + 12345, ~std::uint64_t(0)}) {
    c.seed = seed;
    TransformerTrainer straight(c, two_voices());
    straight.run();
    TransformerTrainer first(c, two_voices());
    for (int i = 0; i < 3; ++i) first.update();
    first.save_checkpoint(path);
    TransformerTrainer resumed = TransformerTrainer::resume(path, two_voices());
    EXPECT_EQ(resumed.config().seed, seed);
    resumed.run();
    EXPECT_TRUE(resumed.model().parameters() == straight.model().parameters()) << seed;
  }
  std::remove(path.c_str());
}

TEST(TransformerTrainerTest, VersionOneCheckpointsStillResume) {
  const std::string path = temp_path("v1_checkpoint");
  auto c = tiny_config(Objective::kGate);
  c.steps = 8;
  TransformerTrainer first(c, two_voices());
  for (int i = 0; i < 3; ++i) first.update();
  first.save_checkpoint(path);
  const simulacra::TensorFile current = simulacra::read_safetensors(path);
  EXPECT_EQ(current.metadata.at("format_version"), "2");
  EXPECT_EQ(current.metadata.at("gate"), "true");
  EXPECT_EQ(current.metadata.count("version"), 0u);
  TransformerTrainer from_current = TransformerTrainer::resume(path, two_voices());
  from_current.run();
  // Version 1 wrote "version": "1" and booleans as "1" / "0".
  save_edited(first, path, [](std::map<std::string, std::string>& m) {
    m.erase("format_version");
    m["version"] = "1";
    for (const char* key : {"bias", "tie_weights", "gate", "gate_posterior"}) m[key] = m[key] == "true" ? "1" : "0";
  });
  TransformerTrainer from_v1 = TransformerTrainer::resume(path, two_voices());
  EXPECT_EQ(from_v1.steps_done(), 3);
  EXPECT_TRUE(from_v1.config().model.gate);
  from_v1.run();
  EXPECT_TRUE(from_v1.model().parameters() == from_current.model().parameters());
  save_edited(first, path, [](std::map<std::string, std::string>& m) { m["format_version"] = "3"; });
  EXPECT_THROW(TransformerTrainer::resume(path, two_voices()), simulacra::FileError);
  std::remove(path.c_str());
}

TEST(TransformerTrainerTest, ThreadsAreCappedAtTheApiBoundary) {
  for (const int threads : {100000, simulacra::kMaxThreads + 1, -1}) {
    auto c = tiny_config();
    c.threads = threads;
    EXPECT_THROW(TransformerTrainer(c, two_voices()), simulacra::InvalidArgument) << threads;
  }
  auto c = tiny_config();
  c.threads = simulacra::kMaxThreads;
  EXPECT_NO_THROW(c.check());
  // A checkpoint asking for more threads is refused too (train --resume reads it).
  const std::string path = temp_path("threads_checkpoint");
  save_edited(TransformerTrainer(tiny_config(), two_voices()), path,
              [](std::map<std::string, std::string>& m) { m["threads"] = "100000"; });
  try {
    TransformerTrainer::resume(path, two_voices());
    ADD_FAILURE() << "a checkpoint with 100000 threads resumed";
  } catch (const simulacra::FileError& e) {
    EXPECT_NE(std::string(e.what()).find("threads"), std::string::npos) << e.what();
  }
  std::remove(path.c_str());
}

TEST(TransformerTrainerTest, TrainingLeavesTheProcessThreadCountAlone) {
  const int before = omp_get_max_threads();
  auto c = tiny_config();
  c.threads = before + 1;
  c.steps = 3;
  TransformerTrainer t(c, two_voices());
  EXPECT_EQ(omp_get_max_threads(), before) << "constructing";
  t.update();
  EXPECT_EQ(omp_get_max_threads(), before) << "step";
  t.evaluate();
  EXPECT_EQ(omp_get_max_threads(), before) << "evaluate";
  t.run();
  EXPECT_EQ(omp_get_max_threads(), before) << "run";
}

TEST(TransformerTrainerTest, BadConfigAndDataThrow) {
  const auto with = [](auto edit) {
    auto c = tiny_config();
    edit(c);
    return c;
  };
  using C = TransformerTrainConfig;
  for (const C& c : {with([](C& c) { c.batch = 0; }), with([](C& c) { c.steps = -1; }),
                     with([](C& c) { c.optimizer.lr = NAN; }), with([](C& c) { c.optimizer.min_lr = 1.0; }),
                     with([](C& c) { c.optimizer.beta2 = 1.0; }), with([](C& c) { c.optimizer.weight_decay = -1; }),
                     with([](C& c) { c.eval_windows = 0; }), with([](C& c) { c.model.heads = 3; })})
    EXPECT_THROW(TransformerTrainer(c, two_voices()), simulacra::InvalidArgument);
  TransformerData shortd = two_voices();
  shortd.train[1].resize(10);
  EXPECT_THROW(TransformerTrainer(tiny_config(), shortd), simulacra::InvalidArgument);
  EXPECT_THROW(TransformerData::from_text("", 0.1), simulacra::InvalidArgument);
  EXPECT_THROW(TransformerData::from_text("abc", 1.0), simulacra::InvalidArgument);
  TransformerData none = two_voices();
  none.heldout = {{}, {}};
  EXPECT_THROW(TransformerTrainer(tiny_config(), none).evaluate(), simulacra::InvalidArgument);
}

TEST(TransformerDataTest, TextSplitsAtTheTail) {
  const TransformerData d = TransformerData::from_text("0123456789", 0.2, "digits");
  ASSERT_EQ(d.train.size(), 1u);
  EXPECT_EQ(d.train[0], simulacra::encode("01234567"));
  EXPECT_EQ(d.heldout[0], simulacra::encode("89"));
  EXPECT_EQ(d.names[0], "digits");
}

}  // namespace
