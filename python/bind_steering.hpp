// bind_steering.hpp — persona keys, steering arguments and ablation scopes
// from Python, shared by the bind_<topic>.cpp files of the mixture.
#pragma once

#include <optional>
#include <string>

#include <pybind11/gil_safe_call_once.h>

#include "bind_common.hpp"

namespace simulacra::python {

// ------------------------------------------------------------------ steering

inline double number(py::handle obj, const std::string& what) {
  const double v = PyFloat_AsDouble(obj.ptr());
  if (v == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(what + ": expected a number, got " + type_name(obj));
  }
  return v;
}

// A persona given by name (str / bytes) or index; IndexError if there is none.
inline int persona_key(const Mixture& mix, py::handle key, const char* what) {
  if (auto name = text_bytes(key)) return mix.index_of(*name);
  if (auto index = index_value(key)) {
    const long long k = *index;
    SIMULACRA_CHECK(k >= 0 && k < mix.size(), OutOfRange, "{}: persona index {} is outside 0..{}", what, k,
                    mix.size() - 1);
    return int(k);
  }
  throw py::type_error(std::string(what) + ": expected a persona name or index, got " + type_name(key));
}

// One persona or a sequence of them (None: none).
inline std::vector<int> persona_keys(const Mixture& mix, py::handle keys, const char* what) {
  std::vector<int> out;
  if (keys.is_none()) return out;
  if (text_bytes(keys).has_value() || index_value(keys).has_value()) return {persona_key(mix, keys, what)};
  if (!py::isinstance<py::iterable>(keys))
    throw py::type_error(std::string(what) + ": expected a persona name or index, or a sequence of them, got " +
                         type_name(keys));
  for (py::handle item : keys) out.push_back(persona_key(mix, item, what));
  return out;
}

// K numbers: a dict persona -> number (others `fallback`) or a sequence of K.
inline Eigen::VectorXd per_persona(const Mixture& mix, py::handle values, double fallback, const char* what) {
  if (py::isinstance<py::dict>(values)) {
    Eigen::VectorXd v = Eigen::VectorXd::Constant(mix.size(), fallback);
    for (auto item : py::reinterpret_borrow<py::dict>(values))
      v[persona_key(mix, item.first, what)] = number(item.second, std::string(what) + " value");
    return v;
  }
  return real_array(values, what, mix.size(), -1, fmt::format("(K,) = ({},)", mix.size()));
}

// ------------------------------------------------------------------ ablation scopes

// Python's `with pile.ablate(...)`. An entered scope steers every call made on
// its pile from the context that entered it (contextvars: a thread, an
// asyncio task) until it is exited; the Mixture itself is never changed, so
// scopes in other threads, or exited in any order, cannot leave a stale prior.
struct AblationScope {
  py::object owner;  // the Python Mixture, kept alive while the scope is
  const Mixture* mixture;
  Ablation ablation;
  bool active = false;  // inside the `with` block
};

// The context variable holding the tuple of scopes entered in this context.
inline py::object& ablation_scopes() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> var;
  return var
      .call_once_and_store_result([] {
        return py::module_::import("contextvars")
            .attr("ContextVar")("simulacra_ablations", py::arg("default") = py::tuple());
      })
      .get_stored();
}

// The ablation the calling context applies to `mix`: its active scopes, outer first, combined.
inline Ablation context_ablation(const Mixture& mix) {
  Ablation out;
  for (py::handle item : ablation_scopes().attr("get")()) {
    const auto& scope = item.cast<const AblationScope&>();
    if (scope.active && scope.mixture == &mix) out = combine(out, scope.ablation);
  }
  return out;
}

// Enters / exits a scope in the calling context (ValueError if it is already active).
inline void enter_scope(py::handle scope_obj) {
  auto& scope = scope_obj.cast<AblationScope&>();
  if (scope.active) throw py::value_error("ablate: this ablation is already active");
  scope.mixture->ablated_prior(combine(context_ablation(*scope.mixture), scope.ablation));  // throws if nobody is left
  py::list scopes(ablation_scopes().attr("get")());
  scopes.append(scope_obj);
  ablation_scopes().attr("set")(py::tuple(scopes));
  scope.active = true;
}

inline void exit_scope(py::handle scope_obj) {
  py::list kept;
  for (py::handle item : ablation_scopes().attr("get")())
    if (!item.is(scope_obj)) kept.append(item);
  ablation_scopes().attr("set")(py::tuple(kept));
  scope_obj.cast<AblationScope&>().active = false;
}

// The pile as the calling context sees it, for calls that take no steering:
// `mix` itself, or inside `with mix.ablate(...)` its ablated view (the same
// personas, the ablated prior).
class SeenMixture {
 public:
  explicit SeenMixture(const Mixture& mix) : mix_(&mix) {
    const Ablation a = context_ablation(mix);
    if (a.active()) mix_ = &view_.emplace(mix.ablated(a));
  }
  SeenMixture(const SeenMixture&) = delete;
  SeenMixture& operator=(const SeenMixture&) = delete;
  const Mixture& operator*() const { return *mix_; }
  const Mixture* operator->() const { return mix_; }

 private:
  std::optional<Mixture> view_;
  const Mixture* mix_;
};

// clamp: a persona; exclude: a persona or a sequence of them; prior_bias: a
// dict name -> log bias or a sequence of K log biases; product: a tuple
// (expert, anti_expert, lam) of two personas and a number. The calling
// context's ablation scopes on `mix` are part of it.
inline Steering make_steering(const Mixture& mix, py::handle clamp, py::handle exclude, py::handle prior_bias,
                              py::handle product) {
  Steering s;
  s.ablation = context_ablation(mix);
  if (!clamp.is_none()) s.clamp = persona_key(mix, clamp, "clamp");
  if (!exclude.is_none()) s.exclude = persona_keys(mix, exclude, "exclude");
  if (!prior_bias.is_none()) s.prior_bias = per_persona(mix, prior_bias, 0.0, "prior_bias");
  if (!product.is_none()) {
    if (!py::isinstance<py::tuple>(product) && !py::isinstance<py::list>(product))
      throw py::type_error("product: expected a tuple (expert, anti_expert, lam), got " + type_name(product));
    const py::sequence seq = py::reinterpret_borrow<py::sequence>(product);
    if (seq.size() != 3)
      throw py::value_error(fmt::format("product: expected (expert, anti_expert, lam), got {} items", seq.size()));
    s.product.expert = persona_key(mix, seq[0], "product expert");
    s.product.anti_expert = persona_key(mix, seq[1], "product anti_expert");
    s.product.lambda = number(seq[2], "product lam");
  }
  return s;
}

// The GenerateConfig of generate()'s and stream()'s keyword arguments (on_step aside).
inline GenerateConfig generate_config(const Mixture& mix, int max_tokens, double temperature, int top_k, double top_p,
                                      double min_p, std::uint64_t seed, py::handle clamp, py::handle exclude,
                                      py::handle prior_bias, py::handle product, const std::string& mode,
                                      bool stop_at_boundary) {
  GenerateConfig cfg;
  cfg.max_tokens = max_tokens;
  cfg.sampler.temperature = temperature;
  cfg.sampler.top_k = top_k;
  cfg.sampler.top_p = top_p;
  cfg.sampler.min_p = min_p;
  cfg.sampler.seed = seed;
  cfg.steering = make_steering(mix, clamp, exclude, prior_bias, product);
  cfg.mode = generate_mode_from_name(mode);
  cfg.stop_at_boundary = stop_at_boundary;
  return cfg;
}

}  // namespace simulacra::python
