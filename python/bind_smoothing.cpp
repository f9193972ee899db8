// bind_smoothing.cpp — smoothed posteriors (smoothing.hpp: Smoothed,
// Mixture.smooth) and the switching fits (switching_fit.hpp: Baum-Welch on
// an unlabelled stream, the supervised rate on joined documents).
#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

struct SmoothedResult {
  Smoothed smoothed;
  std::vector<Token> tokens;
  std::vector<std::string> names;
};

// The documents of a Corpus or of a sequence of Document.
std::vector<Document> documents_arg(py::handle obj) {
  if (py::isinstance<Corpus>(obj)) return obj.cast<const Corpus&>().documents();
  return obj.cast<std::vector<Document>>();
}

}  // namespace

void bind_smoothing(py::module_& m) {
  // ---------------------------------------------------------------- smoothing
  py::class_<SmoothedResult>(m, "Smoothed", R"doc(
Who was speaking at each token given the whole text (forward-backward over the
persona HMM of the mixture's switching rule): Mixture.smooth. One row per
token, the same tokens as Mixture.trace(text). Arrays are float64.
)doc")
      .def_property_readonly(
          "weights", [](const SmoothedResult& r) { return f64(r.smoothed.weights); },
          "(T, K) float64 p(mask k spoke token t | the whole text); rows sum to 1.")
      .def_property_readonly(
          "dominant", [](const SmoothedResult& r) { return i32(r.smoothed.dominant); },
          "(T,) int32 the most probable mask at each token.")
      .def_property_readonly(
          "log_likelihood", [](const SmoothedResult& r) { return r.smoothed.log_likelihood; },
          "Natural-log p(text) under the HMM (beta = 1: the trace's total_logprob).")
      .def_property_readonly(
          "tokens", [](const SmoothedResult& r) { return i32(r.tokens); }, "(T,) int32 the tokens.")
      .def_property_readonly(
          "personas", [](const SmoothedResult& r) { return name_list(r.names); }, "The persona names (columns).")
      .def("__len__", [](const SmoothedResult& r) { return r.smoothed.size(); })
      .def("__repr__", [](const SmoothedResult& r) {
        return fmt::format("Smoothed(tokens={}, personas={}, log_likelihood={:.4f})", r.smoothed.size(),
                           r.names.size(), r.smoothed.log_likelihood);
      });

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture.def(
      "smooth",
      [](const Mixture& mix, py::handle text) {
        SmoothedResult r;
        r.tokens = tokens_arg(text, "text");
        r.names = mix.names();
        const SeenMixture seen(mix);
        py::gil_scoped_release release;
        r.smoothed = smooth(*seen, r.tokens);
        return r;
      },
      py::arg("text"),
      "Smoothed posteriors of a text read from a document start (its bytes, or tokens; no end boundary added): "
      "p(mask at t | whole text) by forward-backward under the switching rule, its switch points and beta. "
      "ValueError under 'forgetting' (not a hidden Markov model).");

  // ---------------------------------------------------------------- fits
  py::class_<FixedShareEm>(m, "FixedShareEm", "A fixed-share rate fitted by Baum-Welch (fit_fixed_share_em).")
      .def_readonly("alpha", &FixedShareEm::alpha, "The fitted rate.")
      .def_readonly("alphas", &FixedShareEm::alphas, "The rate at each iteration (the first: initial_alpha).")
      .def_readonly("log_likelihood", &FixedShareEm::log_likelihood,
                    "Natural-log p(stream) at each of alphas (never falls).")
      .def("__repr__", [](const FixedShareEm& e) {
        return fmt::format("FixedShareEm(alpha={:.6g}, iterations={}, log_likelihood={:.4f})", e.alpha,
                           e.alphas.size(), e.log_likelihood.back());
      });
  py::class_<TransitionEm>(m, "TransitionEm", "A transition matrix fitted by Baum-Welch (fit_transition_em).")
      .def_property_readonly(
          "transition", [](const TransitionEm& e) { return f64(e.transition); }, "(K, K) float64 fitted matrix.")
      .def_readonly("log_likelihood", &TransitionEm::log_likelihood,
                    "Natural-log p(stream) at each iteration's matrix (never falls).");
  py::class_<SegmentationFit>(m, "SegmentationFit",
                              "Fixed-share rates fitted for segmentation and for compression on the same held-out "
                              "streams (fit_switching_segmentation).")
      .def_readonly("alpha_segmentation", &SegmentationFit::alpha_segmentation,
                    "The rate maximising sum log p(true persona sequence | text).")
      .def_readonly("beta_segmentation", &SegmentationFit::beta_segmentation,
                    "The tempering alpha_segmentation was fitted at (the mixture's beta without a beta_grid).")
      .def_readonly("alpha_compression", &SegmentationFit::alpha_compression,
                    "The rate maximising sum log p(text).")
      .def_readonly("segmentation_nats", &SegmentationFit::segmentation_nats,
                    "sum log p(persona sequence | text) at alpha_segmentation.")
      .def_readonly("compression_nats", &SegmentationFit::compression_nats, "sum log p(text) at alpha_compression.")
      .def_readonly("grid", &SegmentationFit::grid, "The candidate rates.")
      .def_readonly("grid_segmentation", &SegmentationFit::grid_segmentation, "sum log p(z | x) at each candidate.")
      .def_readonly("grid_compression", &SegmentationFit::grid_compression, "sum log p(x) at each candidate.")
      .def_readonly("tokens", &SegmentationFit::tokens, "Tokens in the streams.")
      .def_readonly("switches", &SegmentationFit::switches, "Changes of speaker in the streams.")
      .def("__repr__", [](const SegmentationFit& f) {
        return fmt::format("SegmentationFit(alpha_segmentation={:.6g}, alpha_compression={:.6g}, tokens={}, "
                           "switches={})",
                           f.alpha_segmentation, f.alpha_compression, f.tokens, f.switches);
      });

  m.def(
      "fit_fixed_share_em",
      [](const Mixture& mix, py::handle stream, int max_iterations, double tolerance, double initial_alpha) {
        const std::vector<Token> tokens = tokens_arg(stream, "stream");
        const EmOptions o{max_iterations, tolerance, initial_alpha};
        const SeenMixture seen(mix);
        py::gil_scoped_release release;
        return fit_fixed_share_em(*seen, tokens, o);
      },
      py::arg("mixture"), py::arg("stream"), py::arg("max_iterations") = 200, py::arg("tolerance") = 1e-10,
      py::arg("initial_alpha") = 1e-3,
      "Baum-Welch for the fixed-share rate on an unlabelled stream (its bytes, or tokens): the rate maximising "
      "log p(stream) under the mixture's prior, beta and switch points. Stops when log p rises by less than "
      "tolerance nats per token.");
  m.def(
      "fit_transition_em",
      [](const Mixture& mix, py::handle stream, py::handle initial, int max_iterations, double tolerance,
         double initial_alpha) {
        const std::vector<Token> tokens = tokens_arg(stream, "stream");
        const auto K = py::ssize_t(mix.size());
        const std::string k = std::to_string(K);
        Eigen::MatrixXd a;
        if (!initial.is_none()) a = real_array(initial, "initial", K, K, "(K, K) = (" + k + ", " + k + ")");
        const EmOptions o{max_iterations, tolerance, initial_alpha};
        const SeenMixture seen(mix);
        py::gil_scoped_release release;
        return fit_transition_em(*seen, tokens, a, o);
      },
      py::arg("mixture"), py::arg("stream"), py::arg("initial") = py::none(), py::arg("max_iterations") = 200,
      py::arg("tolerance") = 1e-10, py::arg("initial_alpha") = 1e-3,
      "Baum-Welch for a (K, K) transition matrix on an unlabelled stream, from `initial` (None: fixed share at "
      "initial_alpha as a matrix).");
  m.def(
      "fit_switching_segmentation",
      [](const Mixture& mix, py::handle documents, std::size_t part_bytes, std::uint64_t seed,
         std::optional<std::vector<double>> grid, int refine_iterations, std::optional<std::vector<double>> beta_grid) {
        const std::vector<Document> docs = documents_arg(documents);
        SegmentationFitOptions o;
        if (grid) o.grid = *grid;
        if (beta_grid) o.beta_grid = *beta_grid;
        o.refine_iterations = refine_iterations;
        o.part_bytes = part_bytes;
        o.seed = seed;
        const SeenMixture seen(mix);
        py::gil_scoped_release release;
        return fit_switching_segmentation(*seen, docs, o);
      },
      py::arg("mixture"), py::arg("documents"), py::arg("part_bytes") = 0, py::arg("seed") = 0,
      py::arg("grid") = py::none(), py::arg("refine_iterations") = 40, py::arg("beta_grid") = py::none(),
      "The fixed-share rates for segmentation (max log p(persona sequence | text)) and compression (max log "
      "p(text)) on one stream joining `documents` (a Corpus or Documents; held out from the mixture's training): "
      "each persona's documents in a seeded order, joined into parts of at least part_bytes bytes, the parts laid "
      "end to end so neighbours differ in persona. beta_grid: tempering candidates for segmentation (the best "
      "(beta, alpha) pair is kept: beta_segmentation).");
}

}  // namespace simulacra::python
