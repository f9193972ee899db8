// bind_state.cpp — reading a text token by token: the reader State
// (MixtureState), its next-token Prediction, Mixture.begin and Mixture.predict.
#include <algorithm>
#include <cmath>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

struct PredictionResult {
  Prediction prediction;
  std::vector<std::string> names;
};

}  // namespace

void bind_state(py::module_& m) {
  // ---------------------------------------------------------------- prediction
  py::class_<PredictionResult>(m, "Prediction", "What the mixture predicts for the next token.")
      .def_property_readonly(
          "weights", [](const PredictionResult& r) { return weights_of(r.prediction.log_weights); },
          "(K,) float32 steered weights.")
      .def_property_readonly(
          "log_weights", [](const PredictionResult& r) { return f32(r.prediction.log_weights); },
          "(K,) float32 natural-log steered weights.")
      .def_property_readonly(
          "persona_logprobs", [](const PredictionResult& r) { return f32(r.prediction.persona_logprobs); },
          "(K, 257) float32: log p_k(next token | context) of each persona.")
      .def_property_readonly(
          "logprobs", [](const PredictionResult& r) { return f32(r.prediction.logprobs); },
          "(257,) float32: log p(next token | context) of the mixture.")
      .def_property_readonly(
          "personas", [](const PredictionResult& r) { return name_list(r.names); }, "The persona names.")
      .def("__repr__", [](const PredictionResult& r) {
        const Eigen::VectorXd& lp = r.prediction.logprobs;
        std::vector<int> order(std::size_t(lp.size()));
        for (std::size_t i = 0; i < order.size(); ++i) order[i] = int(i);
        std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                          [&](int a, int b) { return lp[a] > lp[b]; });
        std::string top, weights;
        for (int i = 0; i < 5; ++i)
          top += fmt::format("{}{} {:.3f}", i ? ", " : "", shown_token(Token(order[std::size_t(i)])),
                             std::exp(lp[order[std::size_t(i)]]));
        for (std::size_t k = 0; k < r.names.size(); ++k)
          weights += fmt::format("{}{} {:.3f}", k ? ", " : "", r.names[k],
                                 std::exp(r.prediction.log_weights[Eigen::Index(k)]));
        return readable(fmt::format("Prediction(top: {}; weights: {})", top, weights));
      });

  // ---------------------------------------------------------------- reader state
  py::class_<MixtureState>(m, "State", R"doc(
One reader of a text: every persona's state plus the posterior filter. Made by
Mixture.begin(); keeps its mixture alive.
)doc")
      .def(
          "step",
          [](MixtureState& s, py::handle x) {
            if (auto token = index_value(x)) {
              SIMULACRA_CHECK(*token >= 0 && *token < kVocab, OutOfRange, "step: token {} is outside 0..{}", *token,
                              kVocab - 1);
              return s.step(Token(*token));
            }
            const std::vector<Token> tokens = tokens_arg(x, "step");
            py::gil_scoped_release release;
            return s.step(tokens);
          },
          py::arg("token_or_text"),
          "Consumes one token (an int; 256 is the boundary) or a text (str / bytes) or a sequence of tokens; returns "
          "the mixture's natural-log probability of what was consumed. Atomic: IndexError for a bad token, or "
          "KeyboardInterrupt, leaves the state as it was.")
      .def_property_readonly(
          "weights", [](const MixtureState& s) { return weights_of(s.log_weights()); },
          "(K,) float32 steered weights before the next token.")
      .def_property_readonly(
          "log_weights", [](const MixtureState& s) { return f32(s.log_weights()); },
          "(K,) float32 natural-log steered weights before the next token.")
      .def_property_readonly(
          "personas", [](const MixtureState& s) { return name_list(s.mixture().names()); }, "The persona names.")
      .def(
          "predict",
          [](const MixtureState& s) {
            PredictionResult r{{}, s.mixture().names()};
            py::gil_scoped_release release;
            r.prediction = s.predict();
            return r;
          },
          "The next-token prediction.")
      .def(
          "copy", [](const MixtureState& s) { return MixtureState(s); }, py::keep_alive<0, 1>(),
          "An independent copy (for look-ahead).")
      .def("__copy__", [](const MixtureState& s) { return MixtureState(s); }, py::keep_alive<0, 1>());

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def(
          "begin",
          [](const Mixture& mix, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            return mix.begin(make_steering(mix, clamp, exclude, prior_bias, product));
          },
          py::arg("clamp") = py::none(), py::arg("exclude") = py::none(), py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          py::keep_alive<0, 1>(), "A reader State at the start of a document.")
      .def(
          "predict",
          [](const Mixture& mix, const Text& context, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            PredictionResult r{{}, mix.names()};
            py::gil_scoped_release release;
            r.prediction = mix.predict(context.bytes, s);
            return r;
          },
          py::arg("context") = Text{}, py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "The next-token prediction after reading `context` from a document start.");
}

}  // namespace simulacra::python
