// bind_transformer.hpp — the C++ type behind Python's TransformerModel, for
// the binding files that hand models out (bind_transformer_train.cpp).
// bind_transformer() registers it; other files may return a Hydra once it has
// run (module.cpp calls it before them).
#pragma once

#include <memory>
#include <variant>

#include "bind_common.hpp"
#include "simulacra/transformer.hpp"

namespace simulacra::python {

// Python's TransformerModel: a float or a double model (its dtype), shared
// with the personas made from it and with whatever else holds it (a trainer).
//
//   return Hydra{std::make_shared<TransformerModel<float>>(config, seed)};
struct Hydra {
  using FloatModel = std::shared_ptr<TransformerModel<float>>;
  using DoubleModel = std::shared_ptr<TransformerModel<double>>;

  std::variant<FloatModel, DoubleModel> model;

  const TransformerConfig& config() const {
    return std::visit([](const auto& m) -> const TransformerConfig& { return m->config(); }, model);
  }
  // The model's address: which model a forward result came from.
  const void* identity() const {
    return std::visit([](const auto& m) -> const void* { return m.get(); }, model);
  }
  bool is_float() const { return std::holds_alternative<FloatModel>(model); }
};

}  // namespace simulacra::python
