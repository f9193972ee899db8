// bind_steering.hpp — persona keys and steering arguments from Python,
// shared by bind_mixture.cpp and bind_analysis.cpp.
#pragma once

#include <string>

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

// clamp: a persona; exclude: a persona or a sequence of them; prior_bias: a
// dict name -> log bias or a sequence of K log biases; product: a tuple
// (expert, anti_expert, lam) of two personas and a number.
inline Steering make_steering(const Mixture& mix, py::handle clamp, py::handle exclude, py::handle prior_bias,
                              py::handle product) {
  Steering s;
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

}  // namespace simulacra::python
