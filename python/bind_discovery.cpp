// bind_discovery.cpp — personas on weighted documents (ngram_weighted.hpp:
// fit_weighted), k-means++ on n-gram profiles (kmeans.hpp: kmeans) and
// discovery of the masks by EM (discovery.hpp: Discovery, discover).
#include <cstring>
#include <iterator>
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"

namespace simulacra::python {

namespace {

// The texts of a Corpus (its documents in order) or of a sequence of str / bytes.
std::vector<std::string> documents_arg(py::handle obj, const char* what) {
  if (py::isinstance<Corpus>(obj)) {
    std::vector<std::string> out;
    for (const Document& d : obj.cast<const Corpus&>().documents()) out.push_back(d.text);
    return out;
  }
  if (text_bytes(obj)) throw py::type_error(std::string(what) + ": expected a sequence of texts, got one text");
  if (!py::isinstance<py::iterable>(obj))
    throw py::type_error(std::string(what) + ": expected a Corpus or a sequence of str / bytes, got " + type_name(obj));
  std::vector<std::string> out;
  for (py::handle t : obj) out.push_back(text_arg(t, what));
  return out;
}

// The values of k: an int, or an iterable (range, list) of ints.
std::vector<int> k_arg(py::handle obj) {
  if (auto i = index_value(obj)) return {int(std::max<long long>(std::min<long long>(*i, INT_MAX), INT_MIN))};
  if (!py::isinstance<py::iterable>(obj)) throw py::type_error("k: expected an int or a range of ints, got " + type_name(obj));
  std::vector<int> out;
  for (py::handle v : obj) {
    const auto i = index_value(v);
    if (!i) throw py::type_error("k: expected ints, got an element of type " + type_name(v));
    out.push_back(int(std::max<long long>(std::min<long long>(*i, INT_MAX), INT_MIN)));
  }
  return out;
}

struct DiscoveryResult {
  std::shared_ptr<Discovery> discovery;
};

// A row-major matrix as a fresh (rows, cols) float64 array, and back (any real array of that shape).
py::array_t<double> row_major_array(const DiscoveryMatrix& m) {
  py::array_t<double> out({py::ssize_t(m.rows()), py::ssize_t(m.cols())});
  if (m.size() > 0) std::memcpy(out.mutable_data(), m.data(), sizeof(double) * std::size_t(m.size()));
  return out;
}

DiscoveryMatrix row_major_matrix(py::handle obj, const char* what, py::ssize_t rows, py::ssize_t cols) {
  const auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(obj);
  if (!a || a.ndim() != 2 || (rows >= 0 && a.shape(0) != rows) || (cols >= 0 && a.shape(1) != cols))
    throw py::value_error(fmt::format("{}: expected a 2-d array of real numbers of shape ({}, {})", what,
                                      rows >= 0 ? std::to_string(rows) : "N", cols >= 0 ? std::to_string(cols) : "K"));
  return Eigen::Map<const DiscoveryMatrix>(a.data(), Eigen::Index(a.shape(0)), Eigen::Index(a.shape(1)));
}

// The hooks of a Python executor (an object with shards, distribute, loglik and counts; simulacra.dask).
DiscoveryExecutor executor_of(py::handle obj, std::size_t documents) {
  DiscoveryExecutor e;
  for (const char* name : {"shards", "distribute", "loglik", "counts"})
    if (!py::hasattr(obj, name))
      throw py::type_error(std::string("executor: expected an object with shards, distribute, loglik and counts; ") +
                           "it has no " + name);
  e.shards = obj.attr("shards").cast<int>();
  e.distribute = [obj](std::vector<DiscoveryShard> shards) {
    py::gil_scoped_acquire gil;
    py::list list;
    for (DiscoveryShard& s : shards) list.append(py::cast(std::move(s)));
    obj.attr("distribute")(list);
  };
  e.loglik = [obj, documents](const DiscoveryMatrix& log_theta) {
    py::gil_scoped_acquire gil;
    check_signals();
    py::object out = obj.attr("loglik")(row_major_array(log_theta));
    return row_major_matrix(out, "executor.loglik", py::ssize_t(documents), py::ssize_t(log_theta.cols()));
  };
  e.counts = [obj](const DiscoveryMatrix& responsibilities) {
    py::gil_scoped_acquire gil;
    check_signals();
    py::object out = obj.attr("counts")(row_major_array(responsibilities));
    std::vector<DiscoveryBlockCounts> blocks;
    for (py::handle part : out) {
      if (!py::isinstance<py::bytes>(part))
        throw py::type_error("executor.counts: expected an iterable of bytes (DiscoveryShard.counts), got an element "
                             "of type " + type_name(part));
      std::vector<DiscoveryBlockCounts> b = block_counts_from_bytes(std::string_view(part.cast<py::bytes>()));
      std::move(b.begin(), b.end(), std::back_inserter(blocks));
    }
    return blocks;
  };
  return e;
}

}  // namespace

void bind_discovery(py::module_& m) {
  // ---------------------------------------------------------------- weighted fits
  m.def(
      "fit_weighted",
      [](py::handle texts, py::handle weights, int order, const std::string& smoothing, double mu) {
        const std::vector<std::string> docs = documents_arg(texts, "texts");
        const Eigen::MatrixXd w = real_array(weights, "weights", py::ssize_t(docs.size()), -1,
                                             "(" + std::to_string(docs.size()) + ",)");
        const std::vector<double> wv(w.data(), w.data() + w.size());
        const WeightedFitConfig cfg{weighted_smoothing_from_name(smoothing), mu};
        py::gil_scoped_release release;
        return std::make_shared<NGramPersona>(fit_weighted(docs, wv, order, cfg));
      },
      py::arg("texts"), py::arg("weights"), py::arg("order"), py::arg("smoothing") = "dirichlet", py::arg("mu") = 2.0,
      "An n-gram persona of weighted documents (one weight >= 0 each; 0: absent): smoothing='dirichlet' "
      "(interpolated Dirichlet prior on expected counts, concentration mu) or 'expected_kneser_ney' (Zhang & Chiang "
      "2014; weights in [0, 1] read as the probability of each occurrence). With weights 0 / 1 expected Kneser-Ney "
      "is NGramPersona.fit of the documents of weight 1. A kind-'ngram' model: saves and loads unchanged.");

  // ---------------------------------------------------------------- k-means
  py::class_<KMeansResult>(m, "KMeans", "k-means++ and Lloyd iterations (kmeans): the kept restart.")
      .def_property_readonly(
          "assignments", [](const KMeansResult& r) { return i32(r.assignments); }, "(N,) int32 cluster of each point.")
      .def_property_readonly(
          "centroids", [](const KMeansResult& r) { return f64(r.centroids); }, "(k, D) float64 the centres.")
      .def_readonly("objective", &KMeansResult::objective, "Sum of squared distances to the assigned centres.")
      .def_readonly("objective_history", &KMeansResult::objective_history,
                    "The objective after each assignment step of the kept restart (never increases).")
      .def_readonly("restart_objectives", &KMeansResult::restart_objectives, "The final objective of every restart.")
      .def_readonly("restart", &KMeansResult::restart, "The kept restart (the lowest objective).")
      .def_readonly("iterations", &KMeansResult::iterations, "Lloyd iterations of the kept restart.")
      .def("__repr__", [](const KMeansResult& r) {
        return fmt::format("KMeans(k={}, objective={:.6g}, iterations={}, restart={})", r.centroids.rows(),
                           r.objective, r.iterations, r.restart);
      });
  m.def(
      "kmeans",
      [](py::handle points, int k, int restarts, int max_iterations, std::uint64_t seed, int min_n, int max_n,
         bool sublinear_tf, bool idf) {
        KMeansConfig cfg;
        cfg.k = k;
        cfg.restarts = restarts;
        cfg.max_iterations = max_iterations;
        cfg.seed = seed;
        const bool sequence = py::isinstance<py::list>(points) || py::isinstance<py::tuple>(points);
        const bool texts = py::isinstance<Corpus>(points) ||
                           (sequence && py::len(points) > 0 && text_bytes(points[py::int_(0)]).has_value());
        if (texts) {
          const std::vector<std::string> docs = documents_arg(points, "points");
          ProfileConfig profiles;
          profiles.min_n = min_n, profiles.max_n = max_n, profiles.sublinear_tf = sublinear_tf, profiles.idf = idf;
          py::gil_scoped_release release;
          return kmeans(ngram_profiles(docs, profiles), cfg);
        }
        const py::array a = py::module_::import("numpy").attr("asarray")(points);
        if (a.ndim() != 2) throw py::value_error("points: expected shape (N, D) or texts, got " + shape_str(a));
        const Eigen::MatrixXd x = real_array(a, "points", -1, a.shape(1), "(N, D)");
        py::gil_scoped_release release;
        return kmeans(x, cfg);
      },
      py::arg("points"), py::arg("k"), py::arg("restarts") = 4, py::arg("max_iterations") = 100, py::arg("seed") = 0,
      py::arg("min_n") = 3, py::arg("max_n") = 5, py::arg("sublinear_tf") = true, py::arg("idf") = true,
      "k-means++ seeding and Lloyd iterations, `restarts` times, keeping the lowest objective; deterministic for a "
      "seed. points: an (N, D) array, or texts (a list of str / bytes, or a Corpus), clustered by their unit-norm "
      "TF-IDF profiles of byte min_n..max_n-grams hashed into 2^18 buckets ((1 + log tf) * (1 + log((1 + N) / "
      "(1 + df))); sublinear_tf / idf False: raw counts).");

  // ---------------------------------------------------------------- discovery
  py::class_<DiscoveryProgress>(m, "DiscoveryProgress", "Where a discovery run is (given to progress callbacks).")
      .def_readonly("k", &DiscoveryProgress::k, "The number of masks of this run.")
      .def_readonly("restart", &DiscoveryProgress::restart, "The restart, 0..restarts-1.")
      .def_readonly("iteration", &DiscoveryProgress::iteration, "EM iterations done in this restart.")
      .def_readonly("log_likelihood", &DiscoveryProgress::log_likelihood, "Training log-likelihood after them (nats).")
      .def("__repr__", [](const DiscoveryProgress& p) {
        return fmt::format("DiscoveryProgress(k={}, restart={}, iteration={}, log_likelihood={:.4f})", p.k, p.restart,
                           p.iteration, p.log_likelihood);
      });

  py::class_<DiscoveryResult>(m, "Discovery", R"doc(
The masks found by simulacra.discover: a Mixture of K n-gram personas fitted
by EM on unlabelled documents, and how each document was attributed.
)doc")
      .def_property_readonly(
          "mixture", [](const DiscoveryResult& r) { return r.discovery->mixture; },
          "The discovered pile (a Mixture like a fitted one: K 'ngram' personas, prior pi).")
      .def_property_readonly(
          "responsibilities", [](const DiscoveryResult& r) { return f64(r.discovery->responsibilities); },
          "(N, K) float64 p(mask k wrote document d) under the returned mixture (one-hot with hard EM).")
      .def_property_readonly(
          "assignments", [](const DiscoveryResult& r) { return i32(r.discovery->assignments); },
          "(N,) int32 the most responsible mask of each document.")
      .def_property_readonly(
          "log_likelihoods", [](const DiscoveryResult& r) { return r.discovery->log_likelihoods; },
          "Per EM iteration of the kept run: sum over training documents of log sum_k pi_k p_k(d).")
      .def_property_readonly(
          "objective", [](const DiscoveryResult& r) { return r.discovery->objective; },
          "Per EM iteration: the objective EM climbs (with Dirichlet personas and beta 1 it never falls once the "
          "annealing is over, from the iteration after the first E-step at beta on): the "
          "log-likelihood plus the log Dirichlet prior of the personas, up to a constant (hard EM: the "
          "classification log-likelihood plus the prior).")
      .def_property_readonly(
          "heldout_log_likelihood", [](const DiscoveryResult& r) { return r.discovery->heldout_log_likelihood; },
          "Held-out log-likelihood of the kept run (0.0 without held-out documents).")
      .def_property_readonly(
          "heldout", [](const DiscoveryResult& r) { return i32(r.discovery->heldout); },
          "(H,) int32 indices of the held-out documents (they do not train the personas).")
      .def_property_readonly(
          "restart_scores", [](const DiscoveryResult& r) { return r.discovery->restart_scores; },
          "Per restart: the held-out log-likelihood (the final objective without held-out documents) of its better "
          "run (annealed or plain, with anneal < 1).")
      .def_property_readonly(
          "restart", [](const DiscoveryResult& r) { return r.discovery->restart; }, "The kept restart.")
      .def_property_readonly(
          "annealed", [](const DiscoveryResult& r) { return r.discovery->annealed; },
          "Whether the kept run is the annealed one (with anneal < 1 each start runs EM annealed and plain, and "
          "keeps the better held-out score).")
      .def_property_readonly(
          "k", [](const DiscoveryResult& r) { return r.discovery->k; }, "The number of masks (the chosen one for a range).")
      .def_property_readonly(
          "k_values", [](const DiscoveryResult& r) { return r.discovery->k_values; }, "The values of k tried.")
      .def_property_readonly(
          "heldout_by_k", [](const DiscoveryResult& r) { return r.discovery->heldout_by_k; },
          "Held-out log-likelihood of the best run at each of k_values (empty without held-out documents).")
      .def_property_readonly(
          "seconds", [](const DiscoveryResult& r) { return r.discovery->seconds; }, "Wall time of the run.")
      .def(
          "describe",
          [](const DiscoveryResult& r, py::handle texts, int n, int top, double min_count, int sample_bytes,
             std::uint64_t seed) {
            const std::vector<std::string> docs = documents_arg(texts, "texts");
            py::gil_scoped_release release;
            return describe_masks(r.discovery->mixture, docs, r.discovery->responsibilities,
                                  {n, top, min_count, sample_bytes, seed});
          },
          py::arg("texts"), py::arg("n") = 4, py::arg("top") = 8, py::arg("min_count") = 5.0,
          py::arg("sample_bytes") = 80, py::arg("seed") = 0,
          "What each mask is: describe_masks(self.mixture, texts, self.responsibilities, ...), texts being the "
          "documents discover() was given.")
      .def("__repr__", [](const DiscoveryResult& r) {
        const Discovery& d = *r.discovery;
        return fmt::format("Discovery(k={}, documents={}, iterations={}, log_likelihood={:.4f}, heldout={:.4f})", d.k,
                           d.assignments.size(), d.log_likelihoods.size(),
                           d.log_likelihoods.empty() ? 0.0 : d.log_likelihoods.back(), d.heldout_log_likelihood);
      });

  py::class_<CharacteristicNGram>(m, "CharacteristicNGram", "An n-gram that marks a mask (describe_masks).")
      .def_property_readonly("ngram", [](const CharacteristicNGram& g) { return py::bytes(g.ngram); }, "Its bytes.")
      .def_readonly("count", &CharacteristicNGram::count, "Its weighted count under the mask, sum_d r_dk n_d(g).")
      .def_readonly("lift", &CharacteristicNGram::lift,
                    "log(its share of the mask's n-grams / its share of all n-grams), natural log.")
      .def("__repr__", [](const CharacteristicNGram& g) {
        return fmt::format("CharacteristicNGram({}, count={:.1f}, lift={:.3f})", std::string(py::repr(py::bytes(g.ngram))),
                           g.count, g.lift);
      });
  py::class_<MaskDescription>(m, "MaskDescription", "What one discovered mask is: its n-grams and a sample.")
      .def_readonly("name", &MaskDescription::name, "The mask's name in the mixture.")
      .def_readonly("bytes", &MaskDescription::bytes, "The text it took: sum_d r_dk |d|.")
      .def_readonly("ngrams", &MaskDescription::ngrams, "Its most characteristic n-grams, the first most.")
      .def_property_readonly("sample", [](const MaskDescription& d) { return py::bytes(d.sample); },
                             "A short sample from the mask alone (bytes).")
      .def("__repr__", [](const MaskDescription& d) {
        return fmt::format("MaskDescription({}, bytes={:.0f}, ngrams={})", d.name, d.bytes, d.ngrams.size());
      });
  m.def(
      "describe_masks",
      [](const Mixture& mixture, py::handle texts, py::handle responsibilities, int n, int top, double min_count,
         int sample_bytes, std::uint64_t seed) {
        const std::vector<std::string> docs = documents_arg(texts, "texts");
        const Eigen::MatrixXd r = real_array(responsibilities, "responsibilities", py::ssize_t(docs.size()),
                                             py::ssize_t(mixture.size()),
                                             fmt::format("(N, K) = ({}, {})", docs.size(), mixture.size()));
        py::gil_scoped_release release;
        return describe_masks(mixture, docs, r, {n, top, min_count, sample_bytes, seed});
      },
      py::arg("mixture"), py::arg("texts"), py::arg("responsibilities"), py::arg("n") = 4, py::arg("top") = 8,
      py::arg("min_count") = 5.0, py::arg("sample_bytes") = 80, py::arg("seed") = 0,
      "What each mask is: for every mask of `mixture`, its most characteristic byte n-grams of length n (the lift "
      "log(c_k(g) / C_k) - log(c(g) / C) of the responsibility-weighted counts, among those with c_k(g) >= "
      "min_count) and a sample of sample_bytes from the mask alone (seed + k). responsibilities: (N, K) weights "
      "of the documents (one-hot for labels). A list of MaskDescription.");

  py::class_<DiscoveryShard>(m, "DiscoveryShard", R"doc(
Documents [begin, begin + size) of a discovery (whole blocks of
block_documents): their predictive n-grams in the discovery's numbering, for
the E-step and the M-step's counting elsewhere (simulacra.dask.discover).
Made by discover for its executor; pickles through to_bytes.
)doc")
      .def_property_readonly("begin", &DiscoveryShard::begin, "The index of its first document.")
      .def_property_readonly("size", &DiscoveryShard::size, "Its documents.")
      .def_property_readonly("num_predictive", &DiscoveryShard::num_predictive,
                             "P, the predictive n-grams of the discovery (rows of log_theta).")
      .def_property_readonly("block_documents", &DiscoveryShard::block_documents, "The documents of a block.")
      .def(
          "loglik",
          [](const DiscoveryShard& s, py::handle log_theta) {
            const DiscoveryMatrix lt = row_major_matrix(log_theta, "log_theta", py::ssize_t(s.num_predictive()), -1);
            DiscoveryMatrix out;
            {
              py::gil_scoped_release release;
              out = s.loglik(lt);
            }
            return row_major_array(out);
          },
          py::arg("log_theta"),
          "(size, K) float64 log p_k(d) of its documents (natural log), given (P, K) log_theta: "
          "sum_j n_d(j) log_theta[j, k].")
      .def(
          "counts",
          [](const DiscoveryShard& s, py::handle responsibilities) {
            const DiscoveryMatrix r = row_major_matrix(responsibilities, "responsibilities", py::ssize_t(s.size()), -1);
            std::string out;
            {
              py::gil_scoped_release release;
              out = block_counts_to_bytes(s.counts(r));
            }
            return py::bytes(out);
          },
          py::arg("responsibilities"),
          "The M-step's block counts of its training documents given their (size, K) responsibilities, serialised "
          "(bytes for the executor's counts).")
      .def("to_bytes", [](const DiscoveryShard& s) { return py::bytes(s.to_bytes()); }, "The serialisation.")
      .def_static(
          "from_bytes", [](const py::bytes& data) { return DiscoveryShard::from_bytes(std::string_view(data)); },
          py::arg("data"), "The inverse of to_bytes. simulacra.FileError for damaged bytes.")
      .def(py::pickle([](const DiscoveryShard& s) { return py::bytes(s.to_bytes()); },
                      [](const py::bytes& data) { return DiscoveryShard::from_bytes(std::string_view(data)); }))
      .def("__repr__", [](const DiscoveryShard& s) {
        return fmt::format("DiscoveryShard(begin={}, size={}, num_predictive={})", s.begin(), s.size(),
                           s.num_predictive());
      });

  m.def(
      "discovery_beta",
      [](int iteration, int iterations, double beta, double anneal) {
        DiscoveryConfig cfg;
        cfg.iterations = iterations;
        cfg.beta = beta;
        cfg.anneal = anneal;
        return discovery_beta(cfg, iteration);
      },
      py::arg("iteration"), py::arg("iterations") = 40, py::arg("beta") = 1.0, py::arg("anneal") = 0.1,
      "The E-step tempering discover uses after M-step `iteration` (1-based) of `iterations`: beta * anneal^(1 - "
      "(iteration - 1) / H) for iteration <= H = iterations // 2 (H = 0 when anneal is 1), beta after. ValueError "
      "for an iteration below 1 or an anneal outside (0, 1].");

  m.def(
      "discover",
      [](py::handle texts, py::handle k, int order, const std::string& smoothing, double mu, int iterations,
         double tolerance, int restarts, bool hard, double beta, double anneal, double heldout_fraction,
         std::uint64_t seed,
         std::optional<std::vector<Text>> names, py::handle initial_responsibilities, py::handle progress,
         int block_documents, py::handle executor) {
        const std::vector<std::string> docs = documents_arg(texts, "texts");
        const std::vector<int> ks = k_arg(k);
        DiscoveryConfig cfg;
        cfg.order = order;
        cfg.smoothing = {weighted_smoothing_from_name(smoothing), mu};
        cfg.iterations = iterations;
        cfg.tolerance = tolerance;
        cfg.restarts = restarts;
        cfg.hard = hard;
        cfg.beta = beta;
        cfg.anneal = anneal;
        cfg.heldout_fraction = heldout_fraction;
        cfg.seed = seed;
        if (names) cfg.names = texts_of(*names);
        cfg.block_documents = block_documents;
        if (!executor.is_none()) cfg.executor = executor_of(executor, docs.size());
        if (!initial_responsibilities.is_none()) {
          if (ks.size() != 1) throw py::value_error("initial_responsibilities: needs a single k");
          const std::string shape = fmt::format("(N, K) = ({}, {})", docs.size(), ks.empty() ? 0 : ks[0]);
          cfg.initial_responsibilities = real_array(initial_responsibilities, "initial_responsibilities",
                                                    py::ssize_t(docs.size()), ks[0], shape);
        }
        py::object callback = py::none();
        if (progress.is(py::bool_(true))) {
          const int total = int(ks.size()) * (cfg.initial_responsibilities.size() > 0 ? 1 : restarts) * iterations *
                            (anneal < 1.0 ? 2 : 1);  // annealed and plain runs
          callback = py::module_::import("simulacra._progress").attr("tqdm_discovery_progress")(total, iterations);
        } else if (!progress.is_none() && !progress.is(py::bool_(false))) {
          if (!PyCallable_Check(progress.ptr()))
            throw py::type_error("progress: expected None, a bool, or a callable taking a DiscoveryProgress");
          callback = py::reinterpret_borrow<py::object>(progress);
        }
        cfg.on_progress = [cb = py::handle(callback)](const DiscoveryProgress& p) {
          py::gil_scoped_acquire gil;
          check_signals();
          if (!cb.is_none()) cb(p);
        };
        std::shared_ptr<Discovery> found;
        {
          py::gil_scoped_release release;
          found = std::make_shared<Discovery>(ks.size() == 1 ? discover(docs, ks[0], cfg) : discover(docs, ks, cfg));
        }
        if (!callback.is_none() && py::hasattr(callback, "close")) callback.attr("close")();
        return DiscoveryResult{std::move(found)};
      },
      py::arg("texts"), py::arg("k"), py::arg("order") = 2, py::arg("smoothing") = "dirichlet", py::arg("mu") = 2.0,
      py::arg("iterations") = 40, py::arg("tolerance") = 1e-7, py::arg("restarts") = 3, py::arg("hard") = false,
      py::arg("beta") = 1.0, py::arg("anneal") = 0.1, py::arg("heldout_fraction") = 0.1, py::arg("seed") = 0,
      py::arg("names") = py::none(),
      py::arg("initial_responsibilities") = py::none(), py::arg("progress") = py::none(),
      py::arg("block_documents") = 1024, py::arg("executor") = py::none(),
      "Finds k masks in unlabelled documents (a list of str / bytes, or a Corpus whose labels are ignored) by EM "
      "over documents: E-step responsibilities pi_k p_k(d)^b normalised (hard=True: the best mask only), M-step "
      "every persona refitted on its fractionally weighted documents and pi from mean responsibilities; "
      "deterministic annealing: b rises geometrically from anneal * beta at the first E-step to beta over the first "
      "half of the iterations (anneal=1: b = beta throughout; simulacra.discovery_beta); restarts "
      "from k-means++ on TF-IDF byte 3..5-gram profiles, the best held-out likelihood kept. smoothing='dirichlet' "
      "(personas centred on a shared background; the objective never falls) or 'expected_kneser_ney'. k may be a "
      "range: each value is run on the same held-out split and the k with the best held-out likelihood is kept "
      "(Discovery.k, .heldout_by_k). progress: None, True (a tqdm bar) or a callable taking a DiscoveryProgress. "
      "block_documents: the M-step sums each block of this many documents' fractional counts, then the blocks in "
      "order (the rounding depends on it, nothing else does). executor: where the E-step and the counting run "
      "(None: here; simulacra.dask.discover gives one that runs them on a Dask cluster, with the same result bit "
      "for bit). Releases the GIL; Ctrl-C stops it.");
}

}  // namespace simulacra::python
