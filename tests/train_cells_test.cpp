// tests/train_cells_test.cpp — train() counts each cell once (ngram_train.hpp's
// TrainCells): the cells against their definition (persona, calibration fold
// by rank, split()'s side), every model of the returned pile against
// NGramPersona::fit of its documents bit for bit, and cell counts made
// elsewhere (here: in shards, merged) giving the same model file bytes.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/background.hpp"
#include "simulacra/corpus.hpp"
#include "simulacra/error.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/ngram_train.hpp"
#include "simulacra/train_fitter.hpp"

namespace {

using simulacra::Corpus;
using simulacra::NGramCounts;
using simulacra::NGramPersona;
using simulacra::TrainCells;
using simulacra::TrainConfig;

Corpus random_corpus(std::uint64_t seed, int documents) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> personas = {"ann", "bob", "cy"};
  Corpus c;
  for (int d = 0; d < documents; ++d) {
    const std::size_t k = rng() % personas.size();
    std::string text(rng() % 60, ' ');
    for (char& ch : text) ch = char('a' + (rng() % (3 + k * 2)));  // each persona its own alphabet size
    c.add(text, personas[k]);
  }
  return c;
}

TrainConfig quick_config() {
  TrainConfig cfg;
  cfg.order_grid = {2, 3, 4};
  cfg.alpha_grid = {1e-3, 1e-2};
  cfg.calibration_lengths = {20, 50};
  cfg.segmentation_beta_grid = {0.3, 1.0};
  cfg.attribution_own_weights = {0.5, 1.0};
  cfg.attribution_orders = {2, 3};
  cfg.seed = 3;
  return cfg;
}

TEST(TrainCells, EachDocumentIsInItsPersonasFoldAndSplitSide) {
  const Corpus corpus = random_corpus(1, 80);
  TrainConfig cfg = quick_config();
  const TrainCells cells = simulacra::train_cells(corpus, cfg);
  EXPECT_EQ(cells.order, 4);  // the largest order of the grid
  cfg.attribution_orders = {2, 6};  // attribute()'s evidence may be read at a larger order: counted to it
  EXPECT_EQ(simulacra::train_cells(corpus, cfg).order, 6);
  cfg.attribution_orders = {2, 3};
  EXPECT_EQ(cells.names, corpus.personas());
  const std::vector<bool> heldout = corpus.split_mask(cfg.heldout_fraction, cfg.seed);
  std::map<std::string, std::vector<std::size_t>> ranks;
  for (std::size_t i = 0; i < corpus.size(); ++i) ranks[corpus[i].persona].push_back(i);
  std::vector<std::size_t> documents(cells.size(), 0);
  for (std::size_t k = 0; k < cells.names.size(); ++k) {
    const auto& idx = ranks[cells.names[k]];
    for (std::size_t r = 0; r < idx.size(); ++r) {
      const int fold = int(r * std::size_t(cfg.calibration_folds) / idx.size());
      EXPECT_EQ(cells.cell_of[idx[r]], cells.cell(k, fold, heldout[idx[r]]));
      ++documents[cells.cell_of[idx[r]]];
    }
  }
  EXPECT_EQ(cells.documents, documents);
  // Nothing held out: every document on the training side, the fallback order when the order is "auto".
  cfg.heldout_fraction = 0.0;
  const TrainCells none = simulacra::train_cells(corpus, cfg);
  EXPECT_EQ(none.order, TrainConfig::kFallbackOrder);
  for (std::size_t c : none.cell_of) EXPECT_EQ(c % 2, 0u);
}

TEST(TrainCells, ThePilesModelsAreTheFitsOfTheirDocumentsBitForBit) {
  const Corpus corpus = random_corpus(2, 90);
  TrainConfig cfg = quick_config();
  simulacra::TrainReport rep;
  const simulacra::Mixture pile = simulacra::train(corpus, cfg, &rep);
  std::vector<std::string> all;
  for (const auto& d : corpus.documents()) all.push_back(d.text);
  const NGramPersona bg = NGramPersona::fit(all, rep.order);
  const std::string probe = "abcab ca";
  for (int k = 0; k < pile.size(); ++k) {
    const auto& mask = dynamic_cast<const simulacra::InterpolatedPersona&>(pile.persona(k));
    const NGramPersona own = NGramPersona::fit(corpus.texts_of(pile.names()[std::size_t(k)]), rep.order);
    EXPECT_EQ(mask.own()->token_logprobs(simulacra::encode_document(probe)),
              own.token_logprobs(simulacra::encode_document(probe)));
    EXPECT_EQ(mask.background()->token_logprobs(simulacra::encode_document(probe)),
              bg.token_logprobs(simulacra::encode_document(probe)));
  }
}

TEST(TrainCells, CountsMadeInShardsGiveTheSameModelFile) {
  const Corpus corpus = random_corpus(4, 100);
  for (bool background : {true, false}) {
    TrainConfig cfg = quick_config();
    cfg.background = background;
    const TrainCells cells = simulacra::train_cells(corpus, cfg);
    // Count each cell in three shards of the corpus (as workers would) and merge.
    std::vector<NGramCounts> merged(cells.size(), NGramCounts({}, cells.order));
    for (int shard = 0; shard < 3; ++shard) {
      std::vector<std::vector<std::string>> texts(cells.size());
      for (std::size_t i = std::size_t(shard); i < corpus.size(); i += 3) texts[cells.cell_of[i]].push_back(corpus[i].text);
      for (std::size_t c = 0; c < cells.size(); ++c) merged[c].merge(NGramCounts(texts[c], cells.order));
    }
    const std::string here = simulacra::save_to_bytes(simulacra::train(corpus, cfg));
    const std::string there = simulacra::save_to_bytes(simulacra::train(corpus, cfg, nullptr, &merged));
    EXPECT_EQ(here, there) << "background " << background;
    // Counts of other documents are refused.
    std::vector<NGramCounts> wrong = merged;
    wrong[0] = NGramCounts({"zzz"}, cells.order);
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, &wrong), simulacra::InvalidArgument);
    std::vector<NGramCounts> short_list(merged.begin(), merged.end() - 1);
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, &short_list), simulacra::InvalidArgument);
  }
}

TEST(TrainCells, AFitterMakingTheModelsGivesTheSameModelFile) {
  const Corpus corpus = random_corpus(5, 90);
  for (bool background : {true, false}) {
    TrainConfig cfg = quick_config();
    cfg.background = background;
    const TrainCells cells = simulacra::train_cells(corpus, cfg);
    const std::vector<NGramCounts> counts = simulacra::count_cells(corpus, cells);
    int calls = 0;
    const simulacra::CellFitter fitter = [&](const TrainCells& c, const std::vector<simulacra::CellFit>& fits) {
      ++calls;
      EXPECT_EQ(c.cell_of, cells.cell_of);
      EXPECT_EQ(fits.size(), cells.names.size() + (background ? 1 : 0));
      std::vector<simulacra::CellFit> reversed(fits.rbegin(), fits.rend());  // made in another order
      std::vector<NGramPersona> models = simulacra::fit_cells(counts, reversed);
      return std::vector<NGramPersona>(models.rbegin(), models.rend());
    };
    const std::string here = simulacra::save_to_bytes(simulacra::train(corpus, cfg));
    const std::string there = simulacra::save_to_bytes(simulacra::train(corpus, cfg, nullptr, fitter));
    EXPECT_EQ(here, there) << "background " << background;
    // Each candidate order; each calibration fold at each evidence order (the chosen one and the others of
    // attribution_orders); the refit, and the evidence's refit when its order is not the masks'.
    simulacra::TrainReport rep;
    simulacra::train(corpus, cfg, &rep);
    const int evidence_orders = 1 + int(std::count_if(cfg.attribution_orders.begin(), cfg.attribution_orders.end(),
                                                      [&](int o) { return o != rep.order; }));
    EXPECT_EQ(calls, 3 + cfg.calibration_folds * evidence_orders + 1 +
                         (rep.attribution_order != rep.order && rep.attribution_order != 0 ? 1 : 0));
    const simulacra::CellFitter short_of_one = [&](const TrainCells&, const std::vector<simulacra::CellFit>& fits) {
      std::vector<NGramPersona> models = simulacra::fit_cells(counts, fits);
      models.pop_back();
      return models;
    };
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, short_of_one), simulacra::InvalidArgument);
  }
}

TEST(TrainCells, HeldOutJobsRunOnThreadsGiveTheSameModelFile) {
  const Corpus corpus = random_corpus(6, 90);
  for (bool background : {true, false}) {
    TrainConfig cfg = quick_config();
    cfg.background = background;
    const TrainCells cells = simulacra::train_cells(corpus, cfg);
    const std::vector<NGramCounts> counts = simulacra::count_cells(corpus, cells);
    std::vector<std::size_t> maps;  // the job count of each map
    // Every job on its own thread, started last to first.
    const simulacra::JobMap threads = [&](std::size_t n, const std::function<void(std::size_t)>& run) {
      maps.push_back(n);
      std::vector<std::thread> pool;
      std::vector<std::exception_ptr> errors(n);
      for (std::size_t i = n; i-- > 0;)
        pool.emplace_back([&, i] {
          try {
            run(i);
          } catch (...) {
            errors[i] = std::current_exception();
          }
        });
      for (std::thread& t : pool) t.join();
      for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
    };
    const simulacra::CellFitter fitter = [&](const TrainCells&, const std::vector<simulacra::CellFit>& fits) {
      return simulacra::fit_cells(counts, fits);  // reads the counts only: safe from several threads
    };
    simulacra::TrainReport plain, mapped, mapped_fitter;
    const std::string here = simulacra::save_to_bytes(simulacra::train(corpus, cfg, &plain));
    const std::string there = simulacra::save_to_bytes(simulacra::train(corpus, cfg, &mapped, {}, threads));
    EXPECT_EQ(here, there) << "background " << background;
    EXPECT_EQ(maps, (std::vector<std::size_t>{3, std::size_t(cfg.calibration_folds)}));  // orders, then folds
    EXPECT_EQ(plain.order_heldout_bits, mapped.order_heldout_bits);
    EXPECT_EQ(plain.heldout_bits, mapped.heldout_bits);
    EXPECT_EQ(plain.attribution_candidate_logloss, mapped.attribution_candidate_logloss);
    EXPECT_EQ(plain.ece_after_by_length, mapped.ece_after_by_length);
    const std::string fitted = simulacra::save_to_bytes(simulacra::train(corpus, cfg, &mapped_fitter, fitter, threads));
    EXPECT_EQ(here, fitted) << "background " << background;
    // A map that skips a job, or runs one out of range, is refused.
    const simulacra::JobMap skips = [](std::size_t n, const std::function<void(std::size_t)>& run) {
      for (std::size_t i = 1; i < n; ++i) run(i);
    };
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, {}, skips), simulacra::InvalidArgument);
    const simulacra::JobMap beyond = [](std::size_t n, const std::function<void(std::size_t)>& run) { run(n); };
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, {}, beyond), simulacra::InvalidArgument);
    EXPECT_THROW(simulacra::train(corpus, cfg, nullptr, {}, simulacra::JobMap{}), simulacra::InvalidArgument);
  }
}

}  // namespace
