// bind_segment_discovery.cpp — masks that switch inside one stream, learned
// from it (segment_discovery.hpp).
#include "bind_common.hpp"

namespace simulacra::python {

void bind_segment_discovery(py::module_& m) {
  py::class_<SegmentDiscovery>(m, "SegmentDiscovery", R"doc(
Masks discovered in one unlabelled stream (simulacra.discover_segments): the
pile (personas, prior, the learned switching) of the EM iteration that
explained the stream best, its smoothed weights and its Viterbi path, one row
per byte of the stream (as Mixture.smooth and Mixture.trace read a text).
)doc")
      .def_property_readonly("mixture", [](const SegmentDiscovery& r) { return r.mixture; },
                             "The discovered pile (a copy): masks 'mask0'.. or the names given.")
      .def_property_readonly("weights", [](const SegmentDiscovery& r) { return f64(r.weights); },
                             "(T, K) float64 p(mask k wrote token t | the stream); rows sum to 1.")
      .def_property_readonly("path", [](const SegmentDiscovery& r) { return i32(r.path); },
                             "(T,) int32 the Viterbi path: the mask of each token.")
      .def_property_readonly("chunk_starts", [](const SegmentDiscovery& r) { return r.chunk_starts; },
                             "Byte offset of each chunk the M-step weighted.")
      .def_property_readonly("log_likelihood", [](const SegmentDiscovery& r) { return r.log_likelihood; },
                             "log p(stream) in nats after each EM iteration; the kept pile has the largest.")
      .def_property_readonly("iterations", [](const SegmentDiscovery& r) { return r.iterations; },
                             "EM iterations run.")
      .def("__repr__", [](const SegmentDiscovery& r) {
        return fmt::format("SegmentDiscovery(k={}, iterations={}, chunks={}, log_likelihood={:.6g})", r.mixture.size(),
                           r.iterations, r.chunk_starts.size(),
                           r.log_likelihood.empty() ? 0.0 : r.log_likelihood.back());
      });

  m.def(
      "discover_segments",
      [](const Text& stream, int k, int order, const std::string& smoothing, double mu, int iterations,
         double tolerance, std::size_t chunk_bytes, const std::string& switching, double initial_alpha,
         py::handle switch_after, int kmeans_restarts, std::uint64_t seed, std::optional<std::vector<Text>> names) {
        SegmentDiscoveryConfig cfg;
        cfg.order = order;
        cfg.smoothing = {weighted_smoothing_from_name(smoothing), mu};
        cfg.iterations = iterations;
        cfg.tolerance = tolerance;
        cfg.chunk_bytes = chunk_bytes;
        if (switching != "transition" && switching != "fixed_share")
          throw py::value_error("switching: expected 'transition' or 'fixed_share', got '" + switching + "'");
        cfg.learn_transition = switching == "transition";
        cfg.initial_alpha = initial_alpha;
        cfg.switch_after = switch_after_arg(switch_after);
        cfg.kmeans_restarts = kmeans_restarts;
        cfg.seed = seed;
        if (names) cfg.names = texts_of(*names);
        py::gil_scoped_release release;
        return discover_segments(stream.bytes, k, cfg);
      },
      py::arg("stream"), py::arg("k"), py::arg("order") = 4, py::arg("smoothing") = "dirichlet", py::arg("mu") = 2.0,
      py::arg("iterations") = 10, py::arg("tolerance") = 1e-6, py::arg("chunk_bytes") = 256,
      py::arg("switching") = "transition", py::arg("initial_alpha") = 1e-3, py::arg("switch_after") = py::none(),
      py::arg("kmeans_restarts") = 4, py::arg("seed") = 0, py::arg("names") = py::none(),
      "Finds k masks that take turns inside one unlabelled stream (str or bytes) by EM over the persona HMM: "
      "E-step the smoothed responsibilities (forward-backward) after Baum-Welch refits the switching "
      "(switching='transition': a K x K matrix; 'fixed_share': one rate); M-step every persona refitted on the "
      "stream's chunks of about chunk_bytes (cut after a switch point when switch_after is given), each weighted "
      "by its mean responsibility. Starts from k-means++ on the chunks' profiles; keeps the iteration with the "
      "highest log p(stream). Releases the GIL; Ctrl-C stops it.");
}

}  // namespace simulacra::python
