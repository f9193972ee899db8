// simulacra/transformer_pile.cpp — piles of trained transformer personas.
#include "simulacra/transformer_pile.hpp"

#include <fmt/format.h>

#include "simulacra/error.hpp"

namespace simulacra {

Eigen::VectorXd stream_prior(const TransformerData& data) {
  SIMULACRA_CHECK(!data.train.empty() && data.train.size() == data.names.size(), InvalidArgument,
                  "stream_prior: {} training streams for {} names", data.train.size(), data.names.size());
  Eigen::VectorXd prior(Eigen::Index(data.train.size()));
  for (std::size_t k = 0; k < data.train.size(); ++k) prior[Eigen::Index(k)] = double(data.train[k].size());
  SIMULACRA_CHECK(prior.sum() > 0, InvalidArgument, "stream_prior: the training streams have no token");
  return prior / prior.sum();
}

Mixture hydra_pile(std::shared_ptr<const TransformerModel<float>> model, const TransformerData& data,
                   const MixtureConfig& config) {
  SIMULACRA_CHECK(model != nullptr, InvalidArgument, "hydra_pile: no model");
  SIMULACRA_CHECK(std::size_t(model->config().personas) == data.names.size(), InvalidArgument,
                  "hydra_pile: the model has {} heads for {} streams", model->config().personas, data.names.size());
  const Eigen::VectorXd prior = stream_prior(data);
  std::vector<std::shared_ptr<const Persona>> personas;
  for (std::size_t k = 0; k < data.names.size(); ++k) personas.push_back(std::make_shared<TransformerPersona>(model, int(k)));
  return Mixture(std::move(personas), data.names, prior, config);
}

Mixture independent_pile(const std::vector<std::shared_ptr<const TransformerModel<float>>>& models,
                         const TransformerData& data, const MixtureConfig& config) {
  SIMULACRA_CHECK(models.size() == data.names.size(), InvalidArgument, "independent_pile: {} models for {} streams",
                  models.size(), data.names.size());
  const Eigen::VectorXd prior = stream_prior(data);
  std::vector<std::shared_ptr<const Persona>> personas;
  for (std::size_t k = 0; k < models.size(); ++k) {
    SIMULACRA_CHECK(models[k] != nullptr && models[k]->config().personas == 1, InvalidArgument,
                    "independent_pile: model {} ('{}') must be a single-head model", k, data.names[k]);
    personas.push_back(std::make_shared<TransformerPersona>(models[k], 0));
  }
  return Mixture(std::move(personas), data.names, prior, config);
}

}  // namespace simulacra
