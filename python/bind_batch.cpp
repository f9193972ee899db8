// bind_batch.cpp — many documents at once (batch.hpp): Mixture.score_batch
// and Mixture.attribute_batch, the GIL released once for the whole batch.
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// The bytes of every text of an iterable of str / bytes. TypeError for a
// single text (a str is an iterable of characters, not of documents), a
// non-iterable, or an element that is not a text, naming its index.
std::vector<std::string> texts_arg(py::handle texts) {
  if (text_bytes(texts).has_value())
    throw py::type_error("texts: expected a sequence of str or bytes, got a single " + type_name(texts) +
                         " (wrap it in a list)");
  if (!py::isinstance<py::iterable>(texts))
    throw py::type_error("texts: expected a sequence of str or bytes, got " + type_name(texts));
  std::vector<std::string> out;
  for (py::handle item : texts) {
    auto b = text_bytes(item);
    if (!b)
      throw py::type_error(fmt::format("texts[{}]: expected str or bytes, got {}", out.size(), type_name(item)));
    out.push_back(std::move(*b));
  }
  return out;
}

}  // namespace

void bind_batch(py::module_& m) {
  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def(
          "score_batch",
          [](const Mixture& mix, py::handle texts, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const std::vector<std::string> docs = texts_arg(texts);
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            Eigen::VectorXd lp;
            {
              py::gil_scoped_release release;
              lp = score_batch(mix, docs, s);
            }
            return f64(lp);
          },
          py::arg("texts"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "(N,) float64: score(text) of each document of `texts` (a sequence of str / bytes), with the same steering "
          "arguments, equal to the one-at-a-time calls bit for bit. The GIL is released once for the whole batch and "
          "the documents are read on every core (OpenMP). TypeError naming texts[i] for an element that is not a "
          "text; an error while reading a document names it (texts[i]: ...).")
      .def(
          "attribute_batch",
          [](const Mixture& mix, py::handle texts, std::optional<double> beta) {
            const std::vector<std::string> docs = texts_arg(texts);
            const SeenMixture seen(mix);
            Eigen::MatrixXd post;
            {
              py::gil_scoped_release release;
              post = beta ? attribute_batch(*seen, docs, *beta) : attribute_batch(*seen, docs);
            }
            return f64(post);
          },
          py::arg("texts"), py::arg("beta") = py::none(),
          "(N, K) float64 natural-log posteriors over the personas (columns in the pile's order, as `personas`): row "
          "i is attribute(texts[i], beta) as logs, equal to the one-at-a-time calls bit for bit (math.exp of an entry is the probability "
          "attribute() returns). beta=None: the attribution tempering at each document's own length. "
          "The GIL is released once for the whole batch and the documents are read on every core. ValueError for "
          "beta <= 0; TypeError naming texts[i] for an element that is not a text.");
}

}  // namespace simulacra::python
