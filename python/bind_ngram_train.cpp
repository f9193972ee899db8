// bind_ngram_train.cpp — supervised training of an n-gram pile (ngram_train.hpp): TrainProgress,
// TrainReport, Mixture.fit and Mixture.attribution_accuracy.
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"
#include "simulacra/train_fitter.hpp"

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

void bind_ngram_train(py::module_& m) {
  // ---------------------------------------------------------------- training records
  py::class_<TrainProgress>(m, "TrainProgress", "Where a training run is (given to progress callbacks).")
      .def_readonly("stage", &TrainProgress::stage,
                    "'order' (trying order `name`), 'persona' (fitting persona `name`; '' for the background), "
                    "'alpha' (scoring a grid point), 'calibration' (fitting the attribution beta) or 'refit' (fitting "
                    "persona `name` on the whole corpus with the chosen hyper-parameters).")
      .def_property_readonly(
          "name", [](const TrainProgress& p) { return name_str(p.name); },
          "Persona name, or the order / alpha value as text.")
      .def_readonly("done", &TrainProgress::done, "Steps of this stage finished.")
      .def_readonly("total", &TrainProgress::total, "Steps of this stage in all.")
      .def("__repr__", [](const TrainProgress& p) {
        return fmt::format("TrainProgress(stage='{}', name={}, done={}, total={})", p.stage,
                           std::string(py::repr(name_str(p.name))), p.done, p.total);
      });

  py::class_<TrainReport>(m, "TrainReport",
                          "What training chose (order, background weights, alpha, attribution beta) and the held-out "
                          "figures it chose them by.")
      .def_readonly("alpha", &TrainReport::alpha, "The alpha of the returned mixture's filter (the compression rate).")
      .def_readonly("alpha_compression", &TrainReport::alpha_compression,
                    "The rate maximising the held-out likelihood of the text (= alpha).")
      .def_readonly("alpha_segmentation", &TrainReport::alpha_segmentation,
                    "The rate maximising log p(true speakers | text) on the held-out documents joined end to end, "
                    "used by smooth() and attribute_spans() (-1.0 when not fitted).")
      .def_readonly("beta_segmentation", &TrainReport::beta_segmentation, "The tempering fitted with alpha_segmentation.")
      .def_readonly("segmentation_switches", &TrainReport::segmentation_switches,
                    "Changes of speaker in the joined held-out stream the segmentation was fitted on.")
      .def_readonly("alpha_grid", &TrainReport::alpha_grid, "The candidates scored (empty when alpha was not fitted).")
      .def_readonly("heldout_bits", &TrainReport::heldout_bits, "Held-out bits per byte of each candidate.")
      .def_readonly("heldout_documents", &TrainReport::heldout_documents, "Documents in the held-out stream.")
      .def_readonly("order", &TrainReport::order, "The n-gram order of the returned mixture.")
      .def_readonly("orders", &TrainReport::orders, "The orders tried (empty unless order='auto').")
      .def_readonly("order_heldout_bits", &TrainReport::order_heldout_bits,
                    "Held-out bits per byte of the pile at each order tried (at its best alpha).")
      .def_readonly("background_weights", &TrainReport::background_weights,
                    "Per persona (name order), lambda: the share of its own model against the background (empty "
                    "without background).")
      .def_readonly("attribution_beta", &TrainReport::attribution_beta,
                    "The attribution beta of the returned mixture at 300 bytes (1.0 when not calibrated).")
      .def_readonly("attribution_exponent", &TrainReport::attribution_exponent,
                    "Its decay with the document's length (0.0 when not calibrated).")
      .def_readonly("attribution_own_weight", &TrainReport::attribution_own_weight,
                    "The own share of attribute()'s evidence chosen on held-out segments (-1.0: the masks as fitted "
                    "for compression).")
      .def_readonly("attribution_order", &TrainReport::attribution_order,
                    "The n-gram order of attribute()'s evidence chosen on held-out segments (0: not calibrated; it "
                    "may differ from order, the masks').")
      .def_readonly("attribution_candidates", &TrainReport::attribution_candidates,
                    "The own shares tried (-1.0 first: the masks' own fitted weights; without background, -1.0 at "
                    "another order: the stand-alone models).")
      .def_readonly("attribution_candidate_orders", &TrainReport::attribution_candidate_orders,
                    "The order of each candidate (the masks' order first, then each of attribution_orders).")
      .def_readonly("attribution_candidate_logloss", &TrainReport::attribution_candidate_logloss,
                    "Held-out log-loss of the true persona (nats per segment) at each, its tempering fitted.")
      .def_readonly("calibration_lengths", &TrainReport::calibration_lengths,
                    "Segment lengths (bytes) the beta was fitted on (those with a held-out segment).")
      .def_readonly("calibration_segments", &TrainReport::calibration_segments, "Held-out segments of each length.")
      .def_readonly("ece_before_by_length", &TrainReport::ece_before_by_length,
                    "ECE (10 bins) of attribute() at beta 1 on the segments of each length.")
      .def_readonly("ece_after_by_length", &TrainReport::ece_after_by_length,
                    "ECE (10 bins) at the fitted beta on the segments of each length.")
      .def_readonly("ece_before", &TrainReport::ece_before, "ECE of all calibration segments at beta 1.")
      .def_readonly("ece_after", &TrainReport::ece_after, "ECE of all calibration segments at the fitted beta.")
      .def_readonly("train_seconds", &TrainReport::train_seconds, "Wall time of the training run.")
      .def("__repr__", [](const TrainReport& r) {
        return fmt::format(
            "TrainReport(order={}, alpha={}, alpha_segmentation={}, beta_segmentation={}, attribution_beta={}, attribution_exponent={}, attribution_own_weight={}, attribution_order={}, ece_before={:.4f}, "
            "ece_after={:.4f}, "
            "background_weights={}, orders={}, order_heldout_bits={}, heldout_documents={})",
            r.order, r.alpha, r.alpha_segmentation, r.beta_segmentation, r.attribution_beta, r.attribution_exponent, r.attribution_own_weight, r.attribution_order, r.ece_before, r.ece_after,
            std::string(py::repr(py::cast(r.background_weights))), std::string(py::repr(py::cast(r.orders))),
            std::string(py::repr(py::cast(r.order_heldout_bits))), r.heldout_documents);
      });

  py::class_<TrainCells>(m, "TrainCells", R"doc(
How Mixture.fit counts: every model it fits is the Kneser-Ney model of whole
cells of documents, a cell being one persona's documents in one calibration
fold on one side of the held-out split. Each cell is counted once, at `order`
(the largest order fit may need). Mixture.fit(..., counter=f) hands these to f,
which returns the NGramCounts of every cell (cell_of[i] is document i's cell).
)doc")
      .def_readonly("order", &TrainCells::order, "The counting order.")
      .def_property_readonly(
          "names", [](const TrainCells& c) { return name_list(c.names); }, "The personas, sorted.")
      .def_readonly("folds", &TrainCells::folds, "Calibration folds.")
      .def_property_readonly(
          "cell_of", [](const TrainCells& c) { return c.cell_of; }, "The cell of each document of the corpus.")
      .def_property_readonly(
          "documents", [](const TrainCells& c) { return c.documents; }, "Documents in each cell.")
      .def_property_readonly("size", &TrainCells::size, "Number of cells.")
      .def("cell", &TrainCells::cell, py::arg("persona"), py::arg("fold"), py::arg("heldout"),
           "The cell of persona index k (in names), fold f, held out or not.")
      .def("__repr__", [](const TrainCells& c) {
        return fmt::format("TrainCells(order={}, personas={}, folds={}, cells={}, documents={})", c.order,
                           c.names.size(), c.folds, c.size(), c.cell_of.size());
      });

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def_static(
          "fit",
          [](const Corpus& corpus, py::handle order, bool background, bool calibrate, bool segmentation,
             const std::string& switching,
             std::optional<double> alpha, double beta, double gamma, py::handle transition, double heldout_fraction,
             std::uint64_t seed, std::optional<std::vector<double>> alpha_grid, std::optional<std::vector<int>> order_grid,
             std::optional<std::vector<int>> calibration_lengths, py::handle progress,
             bool return_report, py::handle switch_after, int calibration_folds,
             std::optional<std::vector<double>> attribution_own_weights, std::size_t segmentation_part_bytes,
             py::handle counter, py::handle fitter, py::handle job_map, std::optional<std::vector<int>> attribution_orders) -> py::object {
            TrainConfig cfg;
            cfg.mixture.switch_after = switch_after_arg(switch_after);
            if (py::isinstance<py::str>(order)) {
              if (order.cast<std::string>() != "auto")
                throw py::value_error("order: expected 'auto' or an int, got '" + order.cast<std::string>() + "'");
              cfg.order = TrainConfig::kAutoOrder;
            } else {
              if (!py::isinstance<py::int_>(order) || py::isinstance<py::bool_>(order))
                throw py::type_error("order: expected 'auto' or an int");
              cfg.order = order.cast<int>();
              if (cfg.order == TrainConfig::kAutoOrder) throw py::value_error("order: must be >= 1 or 'auto', got 0");
            }
            cfg.background = background;
            cfg.fit_attribution_beta = calibrate;
            cfg.fit_segmentation = segmentation;
            if (order_grid) cfg.order_grid = *order_grid;
            if (calibration_lengths) cfg.calibration_lengths = *calibration_lengths;
            cfg.calibration_folds = calibration_folds;
            cfg.segmentation_part_bytes = segmentation_part_bytes;
            if (attribution_own_weights) cfg.attribution_own_weights = *attribution_own_weights;
            if (attribution_orders) cfg.attribution_orders = *attribution_orders;
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
            // counter: the cells' counts made elsewhere (simulacra.dask.fit_mixture counts them on a cluster).
            std::optional<std::vector<NGramCounts>> counts;
            if (!counter.is_none()) {
              if (!PyCallable_Check(counter.ptr())) throw py::type_error("counter: expected None or a callable");
              TrainCells cells;
              {
                py::gil_scoped_release release;
                cells = train_cells(corpus, cfg);
              }
              counts = counter(cells).cast<std::vector<NGramCounts>>();
            }
            // fitter: every model made elsewhere (simulacra.dask.fit_mixture builds them on the workers).
            CellFitter fit;
            if (!fitter.is_none()) {
              if (!PyCallable_Check(fitter.ptr())) throw py::type_error("fitter: expected None or a callable");
              if (counts) throw py::type_error("fitter: counter and fitter cannot both be given");
              fit = [f = py::handle(fitter)](const TrainCells& cells, const std::vector<CellFit>& fits) {
                py::gil_scoped_acquire gil;
                check_signals();
                py::list requests;
                for (const CellFit& c : fits) requests.append(py::make_tuple(c.cells, c.order, c.blank_if_empty));
                return f(cells, requests).cast<std::vector<NGramPersona>>();
              };
            }
            // job_map: the held-out stages' independent jobs run elsewhere (train_fitter.hpp: JobMap).
            JobMap jobs;
            if (!job_map.is_none()) {
              if (!PyCallable_Check(job_map.ptr())) throw py::type_error("job_map: expected None or a callable");
              if (counts) throw py::type_error("job_map: counter and job_map cannot both be given");
              jobs = [m = py::handle(job_map)](std::size_t n, const std::function<void(std::size_t)>& run) {
                py::gil_scoped_acquire gil;
                check_signals();
                // run(i) releases the GIL, so a thread pool's threads run jobs side by side.
                const py::cpp_function py_run(
                    [&run, n](std::size_t i) {
                      if (i >= n) throw py::index_error("job_map: job " + std::to_string(i) + " of " + std::to_string(n));
                      py::gil_scoped_release release;
                      run(i);
                    },
                    py::arg("job"));
                m(n, py_run);
              };
            }
            TrainReport report;
            std::optional<Mixture> result;
            {
              py::gil_scoped_release release;
              if (jobs)
                result.emplace(train(corpus, cfg, &report, fit, jobs));
              else
                result.emplace(fit ? train(corpus, cfg, &report, fit) : train(corpus, cfg, &report, counts ? &*counts : nullptr));
            }
            if (return_report) return py::make_tuple(std::move(*result), std::move(report));
            return py::cast(std::move(*result));
          },
          py::arg("corpus"), py::arg("order") = "auto", py::arg("background") = true, py::arg("calibrate") = true,
          py::arg("segmentation") = true,
          py::arg("switching") = "fixed_share", py::arg("alpha") = py::none(), py::arg("beta") = 1.0,
          py::arg("gamma") = 1.0, py::arg("transition") = py::none(), py::arg("heldout_fraction") = 0.1,
          py::arg("seed") = 0, py::arg("alpha_grid") = py::none(), py::arg("order_grid") = py::none(),
          py::arg("calibration_lengths") = py::none(), py::arg("progress") = py::none(),
          py::arg("return_report") = false, py::arg("switch_after") = py::none(),
          py::arg("calibration_folds") = TrainConfig{}.calibration_folds, py::arg("attribution_own_weights") = py::none(),
          py::arg("segmentation_part_bytes") = 0, py::arg("counter") = py::none(), py::arg("fitter") = py::none(),
          py::arg("job_map") = py::none(),
          py::arg("attribution_orders") = py::none(),
          "Trains one Kneser-Ney persona per persona of the corpus (prior: document shares), each interpolated with "
          "a background model of all the text (background=True; its weight fitted on the persona's held-out "
          "documents). order='auto' tries order_grid (default 2..8) and keeps the best held-out likelihood of the "
          "pile; with fixed_share and alpha=None, alpha is chosen on the held-out documents over alpha_grid; with "
          "calibrate=True the attribution tempering of attribute() is fitted on held-out segments of calibration_lengths "
          "bytes (default 100, 300, 1000, 3000), cross-fitted over calibration_folds folds, together with the evidence "
          "attribute() weighs: the masks, or each persona's own model and the background mixed with one own share of "
          "attribution_own_weights (default 0.25, 0.5, 0.75, 1), at the chosen order and at each order of "
          "attribution_orders (default 2, 3, 4, 5; [] for the chosen order only; with a fixed order, those up to it), the lowest held-out log-loss of the "
          "true persona winning (TrainReport.attribution_order); with fixed_share and segmentation=True the rate and tempering that "
          "smooth() and attribute_spans() read are fitted for segmentation (the likelihood of the true speakers of "
          "the held-out documents joined end to end; with segmentation_part_bytes > 0 each persona's documents are first "
          "joined into parts of at least that many bytes, for turns longer than the documents), while the filter keeps the compression rate. Then everything is refitted on the whole corpus. progress: None, "
          "True (a tqdm bar, if tqdm is installed) or a callable taking a TrainProgress. Returns the Mixture, or "
          "(Mixture, TrainReport) with return_report=True. switch_after: as in Mixture(). counter: None (the n-grams are "
          "counted here) or a callable taking the TrainCells of this training (every model is fitted from merged "
          "counts of these cells of documents) and returning a list of their NGramCounts, e.g. counted on a cluster "
          "(simulacra.dask.fit_mixture); ValueError if they are not the counts of the cells. fitter: None, or a "
          "callable (cells, fits) making every model instead (nothing is counted here): fits is a list of "
          "(cell indices, order, blank_if_empty), one per model of a stage (the K personas, then the background), "
          "each the NGramPersona of those cells' merged counts truncated to order (no document: the model of one "
          "empty document when blank_if_empty); it returns the list of models (simulacra.dask.fit_mixture builds "
          "them on the workers). job_map: None (the held-out jobs run here one after another) or a callable (n, run) "
          "that calls run(i) for every i in range(n), in any order and on any threads, and returns when all are done: "
          "one job per candidate order (its pile fitted and scored on the held-out stream over the alpha grid) and one "
          "per calibration fold; run releases the GIL, so e.g. lambda n, run: list(ThreadPoolExecutor(4).map(run, "
          "range(n))) runs them side by side; the result is the same bit for bit (a fitter must then be thread-safe; "
          "run must not be kept past the call). Ctrl-C stops it with KeyboardInterrupt.")
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
