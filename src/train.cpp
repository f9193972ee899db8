// Supervised training (train.hpp).
#include "simulacra/train.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include "simulacra/interrupt.hpp"
#include "simulacra/ngram.hpp"

namespace simulacra {

namespace {

std::vector<std::shared_ptr<const Persona>> fit_personas(const Corpus& corpus, const std::vector<std::string>& names,
                                                         const TrainConfig& config, const char* stage) {
  const std::vector<std::string> present = corpus.personas();
  std::vector<std::shared_ptr<const Persona>> personas;
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (config.on_progress) config.on_progress({stage, names[k], int(k), int(names.size())});
    // A persona absent from this part (all its documents held out) learns only the end of a document.
    const bool has = std::binary_search(present.begin(), present.end(), names[k]);
    const std::vector<std::string> texts = has ? corpus.texts_of(names[k]) : std::vector<std::string>{""};
    personas.push_back(std::make_shared<NGramPersona>(NGramPersona::fit(texts, config.order)));
  }
  if (config.on_progress) config.on_progress({stage, "", int(names.size()), int(names.size())});
  return personas;
}

}  // namespace

Mixture train(const Corpus& corpus, const TrainConfig& config, TrainReport* report) {
  SIMULACRA_CHECK(corpus.size() > 0, InvalidArgument, "train: the corpus has no documents");
  NGramPersona::check_order(config.order, "train");
  SIMULACRA_CHECK(std::isfinite(config.heldout_fraction) && config.heldout_fraction >= 0.0 &&
                      config.heldout_fraction < 1.0,
                  InvalidArgument, "train: heldout_fraction must be in [0, 1), got {}", config.heldout_fraction);
  for (double a : config.alpha_grid)
    SIMULACRA_CHECK(std::isfinite(a) && a >= 0.0 && a <= 1.0, InvalidArgument,
                    "train: alpha_grid value {} is outside [0, 1]", a);

  const std::vector<std::string> names = corpus.personas();
  Mixture::check(config.mixture, int(names.size()));
  Eigen::VectorXd prior(Eigen::Index(names.size()));
  for (std::size_t k = 0; k < names.size(); ++k) prior[Eigen::Index(k)] = double(corpus.texts_of(names[k]).size());

  MixtureConfig mcfg = config.mixture;
  TrainReport rep;
  const bool fit_alpha = config.fit_alpha && mcfg.switching == Switching::kFixedShare && !config.alpha_grid.empty() &&
                         config.heldout_fraction > 0.0;
  if (fit_alpha) {
    auto [train_part, heldout] = corpus.split(config.heldout_fraction, config.seed);
    if (heldout.size() > 0) {
      Mixture probe(fit_personas(train_part, names, config, "persona"), names, prior, mcfg);
      // The held-out documents in a seeded order, as one stream.
      std::vector<std::size_t> order(heldout.size());
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::mt19937_64 rng(config.seed ^ 0x5DEECE66Dull);
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
      std::vector<Token> stream;
      std::size_t bytes = 0;
      for (std::size_t i : order) {
        const auto doc = encode_document(heldout[i].text);
        stream.insert(stream.end(), doc.begin(), doc.end());
        bytes += heldout[i].text.size();
      }
      const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> lp = probe.persona_logprobs(stream);  // rows: tokens
      double best = -INFINITY;
      for (std::size_t g = 0; g < config.alpha_grid.size(); ++g) {
        if (config.on_progress)
          config.on_progress({"alpha", fmt::format("{}", config.alpha_grid[g]), int(g), int(config.alpha_grid.size())});
        MixtureConfig trial = mcfg;
        trial.alpha = config.alpha_grid[g];
        probe.set_config(trial);
        Posterior post(probe, {});
        double total = 0.0;
        InterruptPoller poll;
        for (Eigen::Index t = 0; t < lp.rows(); ++t) {
          poll.tick();
          total += post.update(lp.row(t).data());
        }
        rep.alpha_grid.push_back(trial.alpha);
        rep.heldout_bits.push_back(-total / (double(std::max<std::size_t>(bytes, 1)) * std::log(2.0)));
        if (total > best) {
          best = total;
          mcfg.alpha = trial.alpha;
        }
      }
      rep.heldout_documents = heldout.size();
    }
  }
  Mixture mixture(fit_personas(corpus, names, config, fit_alpha ? "refit" : "persona"), names, prior, mcfg);
  rep.alpha = mixture.config().alpha;
  if (report) *report = std::move(rep);
  return mixture;
}

double attribution_accuracy(const Mixture& mixture, const Corpus& corpus) {
  SIMULACRA_CHECK(corpus.size() > 0, InvalidArgument, "attribution_accuracy: the corpus has no documents");
  std::size_t right = 0;
  for (const Document& doc : corpus.documents()) {
    poll_interrupt();
    Eigen::Index best = 0;
    mixture.attribute(doc.text).maxCoeff(&best);
    right += mixture.names()[std::size_t(best)] == doc.persona;
  }
  return double(right) / double(corpus.size());
}

}  // namespace simulacra
