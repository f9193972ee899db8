// bind_train.cpp — supervised training (train.hpp): TrainProgress,
// TrainReport, Mixture.fit and Mixture.attribution_accuracy.
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// ------------------------------------------------------------------ progress

// The Python progress callable of Mixture.fit(progress=...): None / False for
// none, True for a tqdm bar (None when tqdm is missing), else the callable.
py::object progress_callable(py::handle progress) {
  if (progress.is_none() || progress.is(py::bool_(false))) return py::none();
  if (progress.is(py::bool_(true))) return py::module_::import("simulacra._progress").attr("tqdm_progress")();
  if (!PyCallable_Check(progress.ptr()))
    throw py::type_error("progress: expected None, a bool, or a callable taking a TrainProgress");
  return py::reinterpret_borrow<py::object>(progress);
}

}  // namespace

void bind_train(py::module_& m) {
  // ---------------------------------------------------------------- training records
  py::class_<TrainProgress>(m, "TrainProgress", "Where a training run is (given to progress callbacks).")
      .def_readonly("stage", &TrainProgress::stage,
                    "'persona' (fitting persona `name`), 'alpha' (scoring a grid point) or 'refit' (fitting persona "
                    "`name` on the whole corpus after alpha was chosen).")
      .def_property_readonly(
          "name", [](const TrainProgress& p) { return name_str(p.name); }, "Persona name, or the alpha value as text.")
      .def_readonly("done", &TrainProgress::done, "Steps of this stage finished.")
      .def_readonly("total", &TrainProgress::total, "Steps of this stage in all.")
      .def("__repr__", [](const TrainProgress& p) {
        return fmt::format("TrainProgress(stage='{}', name={}, done={}, total={})", p.stage,
                           std::string(py::repr(name_str(p.name))), p.done, p.total);
      });

  py::class_<TrainReport>(m, "TrainReport", "What training chose: alpha and the held-out scores of the grid.")
      .def_readonly("alpha", &TrainReport::alpha, "The alpha of the returned mixture.")
      .def_readonly("alpha_grid", &TrainReport::alpha_grid, "The candidates scored (empty when alpha was not fitted).")
      .def_readonly("heldout_bits", &TrainReport::heldout_bits, "Held-out bits per byte of each candidate.")
      .def_readonly("heldout_documents", &TrainReport::heldout_documents, "Documents in the held-out stream.")
      .def("__repr__", [](const TrainReport& r) {
        return fmt::format("TrainReport(alpha={}, alpha_grid={}, heldout_bits={}, heldout_documents={})", r.alpha,
                           std::string(py::repr(py::cast(r.alpha_grid))),
                           std::string(py::repr(py::cast(r.heldout_bits))), r.heldout_documents);
      });

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def_static(
          "fit",
          [](const Corpus& corpus, int order, const std::string& switching, std::optional<double> alpha, double beta,
             double gamma, py::handle transition, double heldout_fraction, std::uint64_t seed,
             std::optional<std::vector<double>> alpha_grid, py::handle progress, bool return_report,
             py::handle switch_after) -> py::object {
            TrainConfig cfg;
            cfg.mixture.switch_after = switch_after_arg(switch_after);
            cfg.order = order;
            cfg.mixture.switching = switching_from_name(switching);
            cfg.mixture.beta = beta;
            cfg.mixture.gamma = gamma;
            if (alpha) {
              cfg.fit_alpha = false;
              cfg.mixture.alpha = *alpha;
            } else if (cfg.mixture.switching != Switching::kFixedShare) {
              cfg.mixture.alpha = 0.0;
            }
            if (!transition.is_none()) {
              const auto K = py::ssize_t(corpus.personas().size());
              const std::string k = std::to_string(K);
              cfg.mixture.transition = real_array(transition, "transition", K, K, "(K, K) = (" + k + ", " + k + ")");
            }
            if (alpha_grid) cfg.alpha_grid = *alpha_grid;
            cfg.heldout_fraction = heldout_fraction;
            cfg.seed = seed;
            const py::object callback = progress_callable(progress);
            cfg.on_progress = [cb = py::handle(callback)](const TrainProgress& p) {
              py::gil_scoped_acquire gil;
              check_signals();
              if (!cb.is_none()) cb(p);
            };
            TrainReport report;
            std::optional<Mixture> result;
            {
              py::gil_scoped_release release;
              result.emplace(train(corpus, cfg, &report));
            }
            if (return_report) return py::make_tuple(std::move(*result), std::move(report));
            return py::cast(std::move(*result));
          },
          py::arg("corpus"), py::arg("order") = 5, py::arg("switching") = "fixed_share", py::arg("alpha") = py::none(),
          py::arg("beta") = 1.0, py::arg("gamma") = 1.0, py::arg("transition") = py::none(),
          py::arg("heldout_fraction") = 0.1, py::arg("seed") = 0, py::arg("alpha_grid") = py::none(),
          py::arg("progress") = py::none(), py::arg("return_report") = false, py::arg("switch_after") = py::none(),
          "Trains one Kneser-Ney persona per persona of the corpus (prior: document shares). With fixed_share and "
          "alpha=None, alpha is chosen on a held-out share of the documents over alpha_grid. progress: None, True "
          "(a tqdm bar, if tqdm is installed) or a callable taking a TrainProgress. Returns the Mixture, or "
          "(Mixture, TrainReport) with return_report=True. switch_after: as in Mixture(). Ctrl-C stops it with "
          "KeyboardInterrupt.")
      .def(
          "attribution_accuracy",
          [](const Mixture& mix, const Corpus& corpus) {
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            return attribution_accuracy(*seen, corpus);
          },
          py::arg("corpus"),
           "Share of the corpus's documents whose most probable author is their labelled persona.");
}

}  // namespace simulacra::python
