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

// clamp: a persona; exclude: a persona or a sequence of them; prior_bias: a
// dict name -> log bias or a sequence of K log biases.
inline Steering make_steering(const Mixture& mix, py::handle clamp, py::handle exclude, py::handle prior_bias) {
  Steering s;
  if (!clamp.is_none()) s.clamp = persona_key(mix, clamp, "clamp");
  if (!exclude.is_none()) {
    const bool one = text_bytes(exclude).has_value() || index_value(exclude).has_value();
    if (one) {
      s.exclude.push_back(persona_key(mix, exclude, "exclude"));
    } else {
      if (!py::isinstance<py::iterable>(exclude))
        throw py::type_error("exclude: expected a persona name or index, or a sequence of them");
      for (py::handle item : exclude) s.exclude.push_back(persona_key(mix, item, "exclude"));
    }
  }
  if (!prior_bias.is_none()) {
    const std::string expected = fmt::format("(K,) = ({},)", mix.size());
    if (py::isinstance<py::dict>(prior_bias)) {
      s.prior_bias = Eigen::VectorXd::Zero(mix.size());
      for (auto item : py::reinterpret_borrow<py::dict>(prior_bias))
        s.prior_bias[persona_key(mix, item.first, "prior_bias")] = number(item.second, "prior_bias value");
    } else {
      s.prior_bias = real_array(prior_bias, "prior_bias", mix.size(), -1, expected);
    }
  }
  return s;
}

}  // namespace simulacra::python
