// Tests of supervised training of an n-gram pile (ngram_train.hpp).
//
// References computed here: the prior from counting documents; each persona
// refitted with NGramPersona::fit on its own documents (scores must agree
// exactly: same data, same code path); the held-out bits of the two grid
// points whose value does not depend on the held-out order (alpha = 0: the
// Bayesian marginal of the whole stream; alpha = 1: every token predicted
// with the prior weights), recomputed from our own split with our own
// log-sum-exp, to 1e-9 bits per byte. The acceptance test trains on the
// embedded corpus and measures attribution on held-out documents.
#include "simulacra/ngram_train.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/background.hpp"
#include "simulacra/corpus.hpp"
#include "simulacra/error.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/switching_fit.hpp"

#include "testing.hpp"

namespace {

using simulacra::Corpus;
using simulacra::InvalidArgument;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::Switching;
using simulacra::TrainConfig;
using simulacra::TrainProgress;
using simulacra::TrainReport;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// log(sum exp(x)), written here so the reference shares nothing with the library.
double reference_log_sum_exp(const std::vector<double>& x) {
  double m = -std::numeric_limits<double>::infinity();
  for (double v : x) m = std::max(m, v);
  if (std::isinf(m)) return m;
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  return m + std::log(s);
}

// Three personas with 2, 3 and 5 documents, interleaved.
Corpus animals() {
  return Corpus::from_texts(
      {"meow purr meow", "woof bark woof", "tweet chirp tweet", "purr purr hiss", "grr woof woof",
       "bark bark grr", "chirp chirp", "meow meow purr", "woof woof bark", "growl woof"},
      {"cat", "dog", "bird", "cat", "dog", "dog", "bird", "cat", "dog", "dog"});
}

// Three personas with 8 documents each: a stratified 0.25 split holds out
// 2 of each, so the train part has the same document shares as the whole.
Corpus balanced() {
  return Corpus::from_texts(
      {"arr matey, the sea be rough", "o gentle moon, thy silver light", "the mitochondria is the powerhouse",
       "ahoy, hoist the mainsail", "my heart doth sing of spring", "we measured the reaction rate",
       "walk the plank, ye scurvy dog", "the rose, the thorn, the dew", "the hypothesis was falsified",
       "shiver me timbers, arr", "soft winds whisper through the pines", "entropy always increases overall",
       "yo ho ho and a bottle of rum", "the lark ascends at dawn", "the sample was centrifuged twice",
       "dead men tell no tales, matey", "thy eyes like stars in night", "we observed a significant effect",
       "avast, ye landlubbers", "autumn leaves fall soft and slow", "the control group showed no change",
       "the captain's parrot squawks", "o muse, sing of the sea", "data were analysed by regression"},
      {"pirate", "poet", "scientist", "pirate", "poet", "scientist", "pirate", "poet", "scientist",
       "pirate", "poet", "scientist", "pirate", "poet", "scientist", "pirate", "poet", "scientist",
       "pirate", "poet", "scientist", "pirate", "poet", "scientist"});
}

// The stand-alone protocol (no background, no calibration) at a given order.
TrainConfig small_config(int order = 3) {
  TrainConfig c;
  c.order = order;
  c.background = false;
  c.fit_attribution_beta = false;
  return c;
}

// ------------------------------------------------------------- the model

TEST(TrainTest, PriorIsTheDocumentShares) {
  TrainReport report;
  const Mixture mix = simulacra::train(animals(), small_config(), &report);
  ASSERT_EQ(mix.names(), (std::vector<std::string>{"bird", "cat", "dog"}));
  ASSERT_EQ(mix.prior().size(), 3);
  EXPECT_NEAR(mix.prior()[0], 2.0 / 10.0, 1e-15);
  EXPECT_NEAR(mix.prior()[1], 3.0 / 10.0, 1e-15);
  EXPECT_NEAR(mix.prior()[2], 5.0 / 10.0, 1e-15);
}

TEST(TrainTest, EachPersonaIsItsOwnDocumentsFit) {
  const Corpus corpus = animals();
  for (bool fit_alpha : {false, true}) {
    for (int order : {1, 2, 4}) {
      SCOPED_TRACE(testing::Message() << "order " << order << " fit_alpha " << fit_alpha);
      TrainConfig cfg = small_config(order);
      cfg.fit_alpha = fit_alpha;
      const Mixture mix = simulacra::train(corpus, cfg);
      for (int k = 0; k < mix.size(); ++k) {
        const std::string& name = mix.names()[std::size_t(k)];
        // The persona's documents, in corpus order, picked out here.
        std::vector<std::string> own;
        for (const auto& d : corpus.documents())
          if (d.persona == name) own.push_back(d.text);
        const NGramPersona ref = NGramPersona::fit(own, order);
        const auto* lm = dynamic_cast<const NGramPersona*>(&mix.persona(k));
        ASSERT_NE(lm, nullptr) << name;
        EXPECT_EQ(lm->order(), order);
        EXPECT_EQ(lm->num_ngrams(), ref.num_ngrams());
        for (const std::string text : {"meow woof tweet", "purr", "", "zzz grr chirp\n\xff"}) {
          const auto tokens = simulacra::encode_document(text);
          EXPECT_EQ(lm->token_logprobs(tokens), ref.token_logprobs(tokens)) << name << " on '" << text << "'";
        }
      }
    }
  }
}

TEST(TrainTest, PersonaWithoutBytesPredictsTheEnd) {
  const Corpus corpus = Corpus::from_texts({"", "hello there", "", "general kenobi"}, {"mute", "jedi", "mute", "jedi"});
  TrainConfig cfg = small_config(3);
  const Mixture mix = simulacra::train(corpus, cfg);
  const int mute = mix.index_of("mute");
  const NGramPersona ref = NGramPersona::fit({"", ""}, 3);
  const auto doc = simulacra::encode_document("");
  EXPECT_EQ(mix.persona(mute).token_logprobs(doc), ref.token_logprobs(doc));
  // The end of a document is its most likely first token.
  auto state = mix.persona(mute).begin();
  Eigen::VectorXd lp(simulacra::kVocab);
  state->next_logprobs(lp);
  Eigen::Index best = 0;
  lp.maxCoeff(&best);
  EXPECT_EQ(best, simulacra::kBoundary);
}

// ------------------------------------------------------- choosing alpha

TEST(TrainTest, ChosenAlphaHasTheLowestHeldOutBits) {
  const Corpus corpus = balanced();
  TrainConfig cfg = small_config(3);
  cfg.alpha_grid = {0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 1.0};
  cfg.heldout_fraction = 0.25;
  cfg.seed = 17;
  TrainReport report;
  const Mixture mix = simulacra::train(corpus, cfg, &report);

  ASSERT_EQ(report.alpha_grid, cfg.alpha_grid);
  ASSERT_EQ(report.heldout_bits.size(), cfg.alpha_grid.size());
  for (double b : report.heldout_bits) EXPECT_TRUE(std::isfinite(b) && b > 0.0) << b;
  const auto best = std::min_element(report.heldout_bits.begin(), report.heldout_bits.end());
  const double best_alpha = cfg.alpha_grid[std::size_t(best - report.heldout_bits.begin())];
  EXPECT_EQ(report.alpha, best_alpha);
  EXPECT_EQ(mix.config().alpha, best_alpha);
  EXPECT_EQ(mix.config().switching, Switching::kFixedShare);

  // Our own split: the same held-out documents.
  const auto [train_part, heldout] = corpus.split(0.25, 17);
  ASSERT_EQ(heldout.size(), 6u);
  EXPECT_EQ(report.heldout_documents, heldout.size());

  // The personas fitted on the train part; the prior is 1/3 each (the train
  // part's shares equal the whole corpus's here, so either reading agrees).
  const std::vector<std::string> names = {"pirate", "poet", "scientist"};
  std::vector<NGramPersona> personas;
  for (const std::string& name : names) personas.push_back(NGramPersona::fit(train_part.texts_of(name), 3));
  const double log_prior = std::log(1.0 / 3.0);

  // alpha = 0: the Bayesian marginal of the stream, whatever its order:
  // log sum_k pi_k prod_docs p_k(doc). alpha = 1: each token predicted with
  // the prior weights, sum over tokens of log sum_k pi_k p_k(x_t | x_<t).
  std::vector<double> doc_sums(names.size(), log_prior);
  double every_token_prior = 0.0;
  std::size_t bytes = 0;
  for (const auto& d : heldout.documents()) {
    const auto tokens = simulacra::encode_document(d.text);
    bytes += d.text.size();
    std::vector<std::vector<double>> lp;
    for (std::size_t k = 0; k < names.size(); ++k) {
      lp.push_back(personas[k].token_logprobs(tokens));
      for (double v : lp.back()) doc_sums[k] += v;
    }
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      std::vector<double> terms;
      for (std::size_t k = 0; k < names.size(); ++k) terms.push_back(log_prior + lp[k][t]);
      every_token_prior += reference_log_sum_exp(terms);
    }
  }
  const double denom = double(bytes) * std::log(2.0);
  const double bits_alpha0 = -reference_log_sum_exp(doc_sums) / denom;
  const double bits_alpha1 = -every_token_prior / denom;
  EXPECT_NEAR(report.heldout_bits.front(), bits_alpha0, 1e-9);
  EXPECT_NEAR(report.heldout_bits.back(), bits_alpha1, 1e-9);
  std::printf("held-out bits/byte: alpha=0 %.6f (reference %.6f), alpha=1 %.6f (reference %.6f), chosen alpha %g\n",
              report.heldout_bits.front(), bits_alpha0, report.heldout_bits.back(), bits_alpha1, report.alpha);
}

TEST(TrainTest, AlphaIsNotFittedWithoutFixedShareOrWhenTurnedOff) {
  TrainConfig cfg = small_config(2);
  cfg.fit_alpha = false;
  cfg.mixture.alpha = 0.0123;
  TrainReport report;
  Mixture mix = simulacra::train(balanced(), cfg, &report);
  EXPECT_TRUE(report.alpha_grid.empty());
  EXPECT_TRUE(report.heldout_bits.empty());
  EXPECT_EQ(report.alpha, 0.0123);
  EXPECT_EQ(mix.config().alpha, 0.0123);

  cfg.fit_alpha = true;
  cfg.mixture = simulacra::MixtureConfig{};
  cfg.mixture.switching = Switching::kForgetting;
  cfg.mixture.gamma = 0.9;
  report = TrainReport{};
  mix = simulacra::train(balanced(), cfg, &report);
  EXPECT_TRUE(report.alpha_grid.empty());
  EXPECT_EQ(mix.config().switching, Switching::kForgetting);
  EXPECT_EQ(mix.config().gamma, 0.9);
}

// --------------------------------------------------------- bad input

TEST(TrainTest, BadConfigsAreInvalid) {
  const Corpus corpus = animals();
  auto expect_invalid = [&](TrainConfig cfg, const char* what) {
    EXPECT_THROW(simulacra::train(corpus, cfg), InvalidArgument) << what;
  };
  TrainConfig c = small_config();
  c.order = -3;
  expect_invalid(c, "order -3");
  c.order = simulacra::NGramPersona::kMaxOrder + 1;
  expect_invalid(c, "order above the limit");
  c.order = 1000000000;
  expect_invalid(c, "order 10^9");
  for (double f : {1.0, kNaN, -0.1, 1.5, std::numeric_limits<double>::infinity()}) {
    c = small_config();
    c.heldout_fraction = f;
    expect_invalid(c, "heldout_fraction");
  }
  for (double a : {-0.1, kNaN, 1.5}) {
    c = small_config();
    c.alpha_grid = {0.0, a, 0.1};
    expect_invalid(c, "alpha_grid value");
  }
  EXPECT_THROW(simulacra::train(Corpus{}, small_config()), InvalidArgument);
}

// The segmentation rate and beta: the best of the grid of log p(z | x) on the
// held-out documents joined end to end (fit_switching_segmentation, run here
// on a probe fitted as train() fits it), set on the mixture and reported;
// the filter keeps the compression rate.
TEST(TrainTest, SegmentationIsFittedOnTheHeldOutDocumentsAndSet) {
  TrainConfig cfg = small_config(3);
  cfg.heldout_fraction = 0.25;
  cfg.segmentation_beta_grid = {0.2, 1.0};
  TrainReport report;
  const Mixture mix = simulacra::train(balanced(), cfg, &report);
  ASSERT_GE(report.alpha_segmentation, 0.0);
  EXPECT_TRUE(report.beta_segmentation == 0.2 || report.beta_segmentation == 1.0);
  EXPECT_EQ(mix.segmentation_alpha(), report.alpha_segmentation);
  EXPECT_EQ(mix.segmentation_beta(), report.beta_segmentation);
  EXPECT_EQ(mix.config().alpha, report.alpha);
  EXPECT_EQ(report.alpha_compression, report.alpha);
  EXPECT_GT(report.segmentation_switches, 0u);

  auto [train_part, heldout] = balanced().split(cfg.heldout_fraction, cfg.seed);
  std::vector<std::shared_ptr<const simulacra::Persona>> personas;
  for (const std::string& name : mix.names())
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(train_part.texts_of(name), 3)));
  const Mixture probe(personas, mix.names(), mix.prior(), mix.config());
  simulacra::SegmentationFitOptions options;
  options.seed = cfg.seed;
  options.beta_grid = cfg.segmentation_beta_grid;
  const simulacra::SegmentationFit seg = simulacra::fit_switching_segmentation(probe, heldout.documents(), options);
  EXPECT_EQ(seg.alpha_segmentation, report.alpha_segmentation);
  EXPECT_EQ(seg.beta_segmentation, report.beta_segmentation);

  cfg.fit_segmentation = false;
  TrainReport off;
  EXPECT_FALSE(simulacra::train(balanced(), cfg, &off).has_segmentation());
  EXPECT_EQ(off.alpha_segmentation, -1.0);
  cfg.fit_segmentation = true;
  cfg.segmentation_beta_grid = {std::nan("")};
  EXPECT_THROW(simulacra::train(balanced(), cfg), simulacra::InvalidArgument);
}

// ------------------------------------------------------------ progress

TEST(TrainTest, ProgressCoversEveryPersonaAndGridPoint) {
  TrainConfig cfg = small_config(2);
  cfg.alpha_grid = {0.0, 0.01, 0.1, 0.5};
  cfg.heldout_fraction = 0.25;
  std::vector<TrainProgress> events;
  cfg.on_progress = [&](const TrainProgress& p) { events.push_back(p); };
  simulacra::train(balanced(), cfg);

  // Stages: "persona" (fits on the train part), "alpha" (grid points),
  // "segmentation" (its fit, begun and done), "refit" (fits on the whole
  // corpus once alpha is chosen).
  std::set<std::string> persona_names, refit_names;
  std::vector<int> alpha_done;
  std::vector<std::string> alpha_names;
  int segmentation_events = 0;
  for (const TrainProgress& p : events) {
    EXPECT_GE(p.done, 0);
    EXPECT_LE(p.done, p.total);
    if (p.stage == "persona" || p.stage == "refit") {
      EXPECT_EQ(p.total, 3);
      if (!p.name.empty()) (p.stage == "persona" ? persona_names : refit_names).insert(p.name);
    } else if (p.stage == "segmentation") {
      EXPECT_EQ(p.total, 1);
      ++segmentation_events;
    } else if (p.stage == "alpha") {
      EXPECT_EQ(p.total, 4);
      alpha_done.push_back(p.done);
      alpha_names.push_back(p.name);
    } else {
      ADD_FAILURE() << "unknown stage '" << p.stage << "'";
    }
  }
  const std::set<std::string> all = {"pirate", "poet", "scientist"};
  EXPECT_EQ(persona_names, all);
  EXPECT_EQ(refit_names, all);
  EXPECT_EQ(alpha_done, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(segmentation_events, 2);  // begun and done
  // The alpha value as text: each names a distinct grid point.
  EXPECT_EQ(std::set<std::string>(alpha_names.begin(), alpha_names.end()).size(), 4u);
  for (const std::string& n : alpha_names) EXPECT_FALSE(n.empty());

  // Without fitting alpha, every persona is still reported.
  cfg.fit_alpha = false;
  events.clear();
  simulacra::train(balanced(), cfg);
  std::set<std::string> names;
  for (const TrainProgress& p : events) {
    EXPECT_NE(p.stage, "alpha");
    if (!p.name.empty()) names.insert(p.name);
  }
  EXPECT_EQ(names, all);
}

struct Cancelled {
  std::string where;
};

TEST(TrainTest, ExceptionFromProgressPropagates) {
  for (const std::string stage : {"persona", "alpha", "refit"}) {
    TrainConfig cfg = small_config(2);
    cfg.heldout_fraction = 0.25;
    cfg.on_progress = [&](const TrainProgress& p) {
      if (p.stage == stage) throw Cancelled{p.stage};
    };
    try {
      simulacra::train(balanced(), cfg);
      ADD_FAILURE() << "training was not cancelled at stage " << stage;
    } catch (const Cancelled& c) {
      EXPECT_EQ(c.where, stage);
    }
  }
  TrainConfig cfg = small_config(2);
  cfg.on_progress = [](const TrainProgress&) { throw std::runtime_error("user stop"); };
  try {
    simulacra::train(balanced(), cfg);
    ADD_FAILURE() << "training was not cancelled";
  } catch (const simulacra::FileError&) {
    ADD_FAILURE() << "the callback's exception was rewrapped";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "user stop");
  }
}

// --------------------------------------------------------- attribution

TEST(TrainTest, AttributionAccuracyCountsArgmaxAuthors) {
  const Corpus corpus = balanced();
  TrainConfig cfg = small_config(3);
  cfg.fit_alpha = false;
  const Mixture mix = simulacra::train(corpus, cfg);
  const Corpus probe = Corpus::from_texts(
      {"arr, the parrot be mine, matey", "o silver moon of spring", "we measured the effect by regression",
       "the sea be the poet's muse", "ahoy, matey"},
      {"pirate", "poet", "scientist", "alien", "poet"});
  // Reference: argmax of log prior + sum of the persona's token scores.
  std::size_t right = 0;
  for (const auto& d : probe.documents()) {
    const auto tokens = simulacra::encode_document(d.text);
    int best = -1;
    double best_score = -std::numeric_limits<double>::infinity();
    for (int k = 0; k < mix.size(); ++k) {
      double s = std::log(mix.prior()[k]);
      for (double v : mix.persona(k).token_logprobs(tokens)) s += v;
      if (s > best_score) best_score = s, best = k;
    }
    right += mix.names()[std::size_t(best)] == d.persona;  // "alien" is never right
  }
  EXPECT_DOUBLE_EQ(simulacra::attribution_accuracy(mix, probe), double(right) / double(probe.size()));
  EXPECT_THROW(simulacra::attribution_accuracy(mix, Corpus{}), InvalidArgument);
}

// The acceptance test: on the embedded corpus, a model trained on 80% of each
// persona's documents attributes >= 95% of the held-out 20% to their author.
TEST(TrainTest, BuiltinCorpusAttributionAccuracy) {
  const Corpus corpus = Corpus::builtin();
  ASSERT_EQ(corpus.personas().size(), 6u) << "the embedded corpus should have 6 personas";
  for (std::uint64_t seed : {1, 2, 3}) {
    const auto [train_part, heldout] = corpus.split(0.2, seed);
    ASSERT_EQ(train_part.personas().size(), 6u);
    TrainConfig cfg;
    cfg.order = 5;
    cfg.seed = seed;
    TrainReport report;
    const Mixture mix = simulacra::train(train_part, cfg, &report);
    const double acc = simulacra::attribution_accuracy(mix, heldout);
    std::printf("seed %llu: %zu train / %zu held-out documents, alpha %g, attribution accuracy %.4f\n",
                static_cast<unsigned long long>(seed), train_part.size(), heldout.size(), report.alpha, acc);
    EXPECT_GE(acc, 0.95) << "seed " << seed;
  }
}

// Training polls the interrupt check (interrupt.hpp) while fitting and scoring.
TEST(TrainTest, StopsAtATrippedCheck) {
  using simulacra::testing::TripAfter;
  for (int n : {0, 3, 30}) {
    TripAfter trip(n);
    EXPECT_THROW(simulacra::train(balanced(), small_config(2)), simulacra::Interrupted) << n;
  }
  EXPECT_NO_THROW(simulacra::train(balanced(), small_config(2)));
}


// ------------------------------------------------- order, background, calibration

TEST(TrainTest, AutoOrderKeepsTheBestHeldOutPile) {
  TrainConfig cfg = small_config();
  cfg.order = TrainConfig::kAutoOrder;
  cfg.order_grid = {1, 2, 3};
  cfg.heldout_fraction = 0.25;
  TrainReport report;
  const Mixture mix = simulacra::train(balanced(), cfg, &report);
  ASSERT_EQ(report.orders, cfg.order_grid);
  ASSERT_EQ(report.order_heldout_bits.size(), 3u);
  const auto best = std::min_element(report.order_heldout_bits.begin(), report.order_heldout_bits.end());
  EXPECT_EQ(report.order, report.orders[std::size_t(best - report.order_heldout_bits.begin())]);
  EXPECT_EQ(dynamic_cast<const NGramPersona&>(mix.persona(0)).order(), report.order);
  // The chosen order's alpha grid is the one reported.
  EXPECT_NEAR(*std::min_element(report.heldout_bits.begin(), report.heldout_bits.end()), *best, 1e-12);
}

TEST(TrainTest, BackgroundWeightsMaximiseEachPersonasHeldOutText) {
  TrainConfig cfg = small_config(2);
  cfg.background = true;
  cfg.heldout_fraction = 0.25;
  TrainReport report;
  const Corpus corpus = balanced();
  const Mixture mix = simulacra::train(corpus, cfg, &report);
  ASSERT_EQ(report.background_weights.size(), 3u);
  // The same split, models and held-out text rebuilt here.
  auto [train_part, heldout] = corpus.split(0.25, cfg.seed);
  std::vector<std::string> all;
  for (const auto& d : train_part.documents()) all.push_back(d.text);
  const NGramPersona bg = NGramPersona::fit(all, 2);
  for (int k = 0; k < 3; ++k) {
    const std::string& name = mix.names()[std::size_t(k)];
    const NGramPersona own = NGramPersona::fit(train_part.texts_of(name), 2);
    std::vector<simulacra::Token> text;
    for (const auto& t : heldout.texts_of(name)) {
      const auto doc = simulacra::encode_document(t);
      text.insert(text.end(), doc.begin(), doc.end());
    }
    const auto a = own.token_logprobs(text), b = bg.token_logprobs(text);
    const auto loglik = [&](double lam) {
      double s = 0.0;
      for (std::size_t t = 0; t < a.size(); ++t) s += std::log(lam * std::exp(a[t]) + (1 - lam) * std::exp(b[t]));
      return s;
    };
    const double lam = report.background_weights[std::size_t(k)];
    for (double step : {-0.01, 0.01}) {
      if (lam + step >= 0.0 && lam + step <= 1.0) {
        EXPECT_GE(loglik(lam), loglik(lam + step)) << name;
      }
    }
    const auto& p = dynamic_cast<const simulacra::InterpolatedPersona&>(mix.persona(k));
    EXPECT_EQ(p.weight(), lam);
  }
}

TEST(TrainTest, CalibrationSetsTheAttributionBeta) {
  TrainConfig cfg = small_config(2);
  cfg.fit_attribution_beta = true;
  cfg.calibration_lengths = {10, 20, 1000000};
  cfg.heldout_fraction = 0.25;
  TrainReport report;
  const Mixture mix = simulacra::train(balanced(), cfg, &report);
  EXPECT_EQ(mix.attribution_beta(), report.attribution_beta);
  EXPECT_GT(report.attribution_beta, 0.0);
  EXPECT_EQ(report.calibration_lengths, (std::vector<int>{10, 20}));  // no segment of a million bytes
  ASSERT_EQ(report.ece_before_by_length.size(), 2u);
  ASSERT_EQ(report.ece_after_by_length.size(), 2u);
  EXPECT_EQ(mix.attribution_exponent(), report.attribution_exponent);
  EXPECT_EQ(mix.attribute("arr matey"), mix.attribute("arr matey", mix.attribution_beta_at(9)));
  // Without calibration the posterior stays exact.
  EXPECT_EQ(simulacra::train(balanced(), small_config(2)).attribution_beta(), 1.0);
}

TEST(TrainTest, BadOrderGridsAndCalibrationsAreInvalid) {
  TrainConfig cfg = small_config();
  cfg.order = TrainConfig::kAutoOrder;
  cfg.order_grid = {};
  EXPECT_THROW(simulacra::train(animals(), cfg), InvalidArgument);
  cfg.order_grid = {2, 0};
  EXPECT_THROW(simulacra::train(animals(), cfg), InvalidArgument);
  cfg = small_config();
  cfg.calibration_lengths = {100, 0};
  EXPECT_THROW(simulacra::train(animals(), cfg), InvalidArgument);
  cfg = small_config();
  cfg.calibration_folds = 1;
  EXPECT_THROW(simulacra::train(animals(), cfg), InvalidArgument);
  cfg = small_config();
  cfg.order = -1;
  EXPECT_THROW(simulacra::train(animals(), cfg), InvalidArgument);
}

}  // namespace
