// simulacra/transformer_pile.hpp — a pile of masks from trained transformers.
//
// Two layouts (docs/transformer.md): a hydra, one trunk with a head per
// persona (TransformerTrainer on all the streams), or independent models,
// one single-head model per persona, each trained on its own stream. Either
// way the pile's personas are TransformerPersonas, named and ordered as the
// training data's streams, and the prior is each persona's share of the
// training tokens (data.train[k].size()).
//
//   TransformerTrainer trainer(config, data);
//   trainer.run();
//   Mixture pile = simulacra::hydra_pile(trainer.shared_model(), trainer.data(), mixture_config);
#pragma once

#include <memory>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"
#include "simulacra/transformer.hpp"
#include "simulacra/transformer_train.hpp"

namespace simulacra {

// (K) the prior of a pile trained on `data`: stream k's training tokens,
// normalised to sum to 1. InvalidArgument if there is no stream or no
// training token at all.
Eigen::VectorXd stream_prior(const TransformerData& data);

// The hydra's pile: persona k is head k of `model`, named data.names[k],
// with the stream prior. InvalidArgument if model is null or its number of
// heads is not the number of streams; the mixture config as Mixture checks it.
Mixture hydra_pile(std::shared_ptr<const TransformerModel<float>> model, const TransformerData& data,
                   const MixtureConfig& config);

// The pile of independent models: persona k is head 0 of models[k], named
// data.names[k], with the stream prior. InvalidArgument if the number of
// models is not the number of streams, or a model is null or has more than
// one head.
Mixture independent_pile(const std::vector<std::shared_ptr<const TransformerModel<float>>>& models,
                         const TransformerData& data, const MixtureConfig& config);

}  // namespace simulacra
