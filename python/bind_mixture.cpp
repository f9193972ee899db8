// bind_mixture.cpp — the pile of masks (mixture.hpp) and what is done with
// it: traces, predictions, reader states, generation (sampling.hpp),
// training (train.hpp) and model files (model_file.hpp).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>

#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// ------------------------------------------------------------------ results

// A result array built on first access, then handed out read-only.
template <class Make>
py::object cached(py::object& slot, Make make) {
  if (!slot) slot = frozen(make());
  return slot;
}

py::array_t<float> weights_of(const Eigen::MatrixXd& log_weights) { return f32(log_weights.array().exp().matrix()); }
py::array_t<float> weights_of(const Eigen::VectorXd& log_weights) { return f32(log_weights.array().exp().matrix()); }

// A quoted, readable token for tables: 'A', ' ', '\n', <b>.
std::string shown_token(Token t) { return t == kBoundary ? "<b>" : "'" + token_name(t) + "'"; }

struct TraceResult {
  Trace trace;
  std::vector<Token> tokens;
  std::vector<std::string> names;
  py::object weights, log_weights, persona_logprobs, logprobs, entropy, dominant, token_array;

  // A plain-text table of the first and last rows (all rows when max_rows <= 0).
  std::string table(int max_rows) const {
    const auto T = Eigen::Index(trace.size());
    const double total = trace.total_logprob();
    std::string out = fmt::format("Trace: {} tokens, {} personas, log p = {:.4f} nats", T, names.size(), total);
    if (T > 0) out += fmt::format(" ({:.3f} bits/token)", -total / double(T) / std::log(2.0));
    std::vector<std::size_t> width;
    std::size_t dom_width = 8;
    for (const auto& n : names) {
      width.push_back(std::max<std::size_t>(n.size(), 6));
      dom_width = std::max(dom_width, n.size());
    }
    out += fmt::format("\n{:>6}  {:<7} {:>8}  {:<{}}", "t", "token", "log p", "dominant", dom_width);
    for (std::size_t k = 0; k < names.size(); ++k) out += fmt::format("  {:>{}}", names[k], width[k]);
    auto row = [&](Eigen::Index t) {
      out += fmt::format("\n{:>6}  {:<7} {:>8.3f}  {:<{}}", t, shown_token(tokens[std::size_t(t)]), trace.logprobs[t],
                         names[std::size_t(trace.dominant[std::size_t(t)])], dom_width);
      for (std::size_t k = 0; k < names.size(); ++k)
        out += fmt::format("  {:>{}.3f}", std::exp(trace.log_weights(t, Eigen::Index(k))), width[k]);
    };
    if (max_rows <= 0 || T <= max_rows) {
      for (Eigen::Index t = 0; t < T; ++t) row(t);
    } else {
      const Eigen::Index head = max_rows / 2, tail = max_rows - head;
      for (Eigen::Index t = 0; t < head; ++t) row(t);
      out += fmt::format("\n{:>6}  ({} rows not shown)", "...", T - head - tail);
      for (Eigen::Index t = T - tail; t < T; ++t) row(t);
    }
    return out;
  }
};

struct PredictionResult {
  Prediction prediction;
  std::vector<std::string> names;
};

struct GenerationResult {
  Generation generation;
  std::vector<std::string> names;
};

// What an on_step callback sees: a copy, safe to keep.
struct StepView {
  int index = 0;
  Token token = 0;
  int persona = -1;
  std::string persona_name;
  Eigen::VectorXd log_weights;
  Eigen::VectorXd logprobs;  // (kVocab) the distribution the token was drawn from
};

py::object persona_or_none(int k, const std::string& name) {
  if (k < 0) return py::none();
  return name_str(name);
}

// ------------------------------------------------------------------ files

// A temporary directory (Python's tempfile), removed when this goes away.
class TempDir {
 public:
  TempDir() : dir_(py::module_::import("tempfile").attr("TemporaryDirectory")(py::arg("prefix") = "simulacra-")) {}
  ~TempDir() {
    try {
      dir_.attr("cleanup")();
    } catch (py::error_already_set&) {  // a leftover temporary directory is not worth an exception here
    }
  }
  std::string file(const char* name) const {
    py::object path = py::module_::import("os").attr("path").attr("join")(dir_.attr("name"), name);
    return py::module_::import("os").attr("fsencode")(path).cast<std::string>();
  }

 private:
  py::object dir_;
};

py::bytes mixture_to_bytes(const Mixture& mix) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  std::string content;
  {
    py::gil_scoped_release release;
    save(mix, path);
    std::ifstream in(path, std::ios::binary);
    content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw FileError(fmt::format("{}: cannot read back the saved model", path));
  }
  return py::bytes(content);
}

Mixture mixture_from_bytes(const py::bytes& state) {
  TempDir dir;
  const std::string path = dir.file("model.safetensors");
  const std::string content = state;
  py::gil_scoped_release release;
  {
    std::ofstream out(path, std::ios::binary);
    out.write(content.data(), std::streamsize(content.size()));
    if (!out) throw FileError(fmt::format("{}: cannot write the pickled model", path));
  }
  return load(path);
}

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

void bind_mixture(py::module_& m) {
  py::class_<Mixture> mixture(m, "Mixture", R"doc(
The pile of masks: personas with a prior, read as a posterior-weighted mixture
with optional switching. Before token t the weight of persona k is its
(tempered) posterior given the text so far; the prediction is the mixture.

    pile = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=5)
    tr = pile.trace("Arr, me hearties! Certainly, I'd be happy to help.")
    print(tr)                       # which mask is speaking, token by token
    print(pile.generate("Arr, ", seed=7, clamp="pirate"))

Steering arguments (clamp, exclude, prior_bias, product) take persona names or
indices; an unknown name raises IndexError. product=(expert, anti_expert, lam)
tilts predictions by lam * (log p_expert - log p_anti_expert), renormalised.
)doc");

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

  // ---------------------------------------------------------------- trace
  py::class_<TraceResult>(m, "Trace", R"doc(
The inspection record of a text: one row per token (the text's bytes, no end
boundary). Arrays are read-only float32 unless noted; natural logs.
)doc")
      .def_property_readonly(
          "weights", [](TraceResult& r) { return cached(r.weights, [&] { return weights_of(r.trace.log_weights); }); },
          "(T, K) weight of each persona before each token (steered).")
      .def_property_readonly(
          "log_weights", [](TraceResult& r) { return cached(r.log_weights, [&] { return f32(r.trace.log_weights); }); },
          "(T, K) natural-log weights before each token.")
      .def_property_readonly(
          "persona_logprobs",
          [](TraceResult& r) { return cached(r.persona_logprobs, [&] { return f32(r.trace.persona_logprobs); }); },
          "(T, K) log p_k(x_t | x_<t) of each persona.")
      .def_property_readonly(
          "logprobs", [](TraceResult& r) { return cached(r.logprobs, [&] { return f32(r.trace.logprobs); }); },
          "(T,) log p(x_t | x_<t) under the mixture.")
      .def_property_readonly(
          "entropy", [](TraceResult& r) { return cached(r.entropy, [&] { return f32(r.trace.entropy); }); },
          "(T,) entropy of the weights before each token, nats.")
      .def_property_readonly(
          "dominant", [](TraceResult& r) { return cached(r.dominant, [&] { return i32(r.trace.dominant); }); },
          "(T,) int32: the persona with the largest weight before each token.")
      .def_property_readonly(
          "tokens", [](TraceResult& r) { return cached(r.token_array, [&] { return i32(r.tokens); }); },
          "(T,) int32: the traced tokens.")
      .def_property_readonly(
          "text", [](const TraceResult& r) { return py::bytes(decode(r.tokens)); },
          "The traced bytes (a boundary token shows as a newline).")
      .def_property_readonly(
          "personas", [](const TraceResult& r) { return name_list(r.names); }, "The persona names (columns).")
      .def_property_readonly(
          "total_logprob", [](const TraceResult& r) { return r.trace.total_logprob(); },
          "Natural-log probability of all traced tokens under the mixture (float64 sum).")
      .def("__len__", [](const TraceResult& r) { return r.trace.size(); })
      .def(
          "table", [](const TraceResult& r, int max_rows) { return readable(r.table(max_rows)); },
          py::arg("max_rows") = 0, "The trace as a plain-text table; max_rows > 0 shows the first and last rows only.")
      .def("__str__", [](const TraceResult& r) { return readable(r.table(10)); })
      .def("__repr__", [](const TraceResult& r) { return readable(r.table(10)); });

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
  py::class_<AblationScope>(m, "Ablation", R"doc(
What Mixture.ablate returns: use it in a `with` statement. Inside the block
every call on the pile from this thread (or asyncio task) sees the ablation;
other threads and the pile itself do not. Blocks may end in any order.
)doc")
      .def("__enter__",
           [](py::object self) {
             enter_scope(self);
             return self.cast<AblationScope&>().owner;
           })
      .def(
          "__exit__",
          [](py::object self, py::handle, py::handle, py::handle) {
            exit_scope(self);
            return false;
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
      .def_property_readonly(
          "active", [](const AblationScope& s) { return s.active; }, "True inside the `with` block.");

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
            return s.step(tokens_arg(x, "step"));
          },
          py::arg("token_or_text"),
          "Consumes one token (an int; 256 is the boundary) or a text (str / bytes) or a sequence of tokens; returns "
          "the mixture's natural-log probability of what was consumed.")
      .def_property_readonly(
          "weights", [](const MixtureState& s) { return weights_of(s.log_weights()); },
          "(K,) float32 steered weights before the next token.")
      .def_property_readonly(
          "log_weights", [](const MixtureState& s) { return f32(s.log_weights()); },
          "(K,) float32 natural-log steered weights before the next token.")
      .def_property_readonly(
          "personas", [](const MixtureState& s) { return name_list(s.mixture().names()); }, "The persona names.")
      .def(
          "predict", [](const MixtureState& s) { return PredictionResult{s.predict(), s.mixture().names()}; },
          "The next-token prediction.")
      .def(
          "copy", [](const MixtureState& s) { return MixtureState(s); }, py::keep_alive<0, 1>(),
          "An independent copy (for look-ahead).")
      .def("__copy__", [](const MixtureState& s) { return MixtureState(s); }, py::keep_alive<0, 1>());

  // ---------------------------------------------------------------- generation
  py::class_<StepView>(m, "GenerationStep", "One generated token, as an on_step callback sees it.")
      .def_readonly("index", &StepView::index, "0-based index of the generated token.")
      .def_readonly("token", &StepView::token, "The token drawn (256: the boundary).")
      .def_property_readonly(
          "persona", [](const StepView& s) { return persona_or_none(s.persona, s.persona_name); },
          "The persona that spoke it (mode='persona'), else None.")
      .def_property_readonly(
          "weights", [](const StepView& s) { return weights_of(s.log_weights); },
          "(K,) float32 steered weights before the token.")
      .def_property_readonly(
          "logprobs", [](const StepView& s) { return f32(s.logprobs); },
          "(257,) float32 log-probabilities the token was drawn from, before the sampler chain: the mixture's, "
          "or the speaking persona's in mode='persona'.")
      .def(
          "top_k",
          [](const StepView& s, int k) {
            SIMULACRA_CHECK(k >= 1, InvalidArgument, "top_k: k must be >= 1, got {}", k);
            std::vector<int> order(static_cast<std::size_t>(s.logprobs.size()));
            for (std::size_t i = 0; i < order.size(); ++i) order[i] = int(i);
            const auto n = std::min<std::size_t>(std::size_t(k), order.size());
            std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(n), order.end(), [&](int a, int b) {
              return s.logprobs[a] > s.logprobs[b] || (s.logprobs[a] == s.logprobs[b] && a < b);
            });
            py::list out;
            for (std::size_t i = 0; i < n; ++i) {
              const Token t = order[i];
              out.append(py::make_tuple(t == kBoundary ? py::bytes("") : py::bytes(std::string(1, char(t))),
                                        std::exp(s.logprobs[t])));
            }
            return out;
          },
          py::arg("k") = 10,
          "The k most likely next tokens of that distribution as [(token bytes, probability)], most likely first "
          "(ties: lower token first; the boundary is b\"\").")
      .def("__repr__", [](const StepView& s) {
        return readable(fmt::format("GenerationStep(index={}, token={} {})", s.index, s.token, shown_token(s.token)));
      });

  py::class_<GenerationResult>(m, "Generation", "A generated continuation (the prompt excluded). str() is its text.")
      .def_property_readonly(
          "text", [](const GenerationResult& r) { return readable(r.generation.text); },
          "The generated text as str (invalid UTF-8 replaced; .bytes is exact; the boundary left out).")
      .def_property_readonly(
          "bytes", [](const GenerationResult& r) { return py::bytes(r.generation.text); }, "The generated bytes.")
      .def_property_readonly(
          "tokens", [](const GenerationResult& r) { return i32(r.generation.tokens); },
          "(T,) int32 generated tokens (a final boundary included).")
      .def_property_readonly(
          "weights", [](const GenerationResult& r) { return weights_of(r.generation.log_weights); },
          "(T, K) float32 steered weights before each generated token.")
      .def_property_readonly(
          "log_weights", [](const GenerationResult& r) { return f32(r.generation.log_weights); },
          "(T, K) float32 natural-log steered weights.")
      .def_property_readonly(
          "personas",
          [](const GenerationResult& r) {
            py::list out;
            for (int k : r.generation.personas)
              out.append(persona_or_none(k, k >= 0 ? r.names[std::size_t(k)] : std::string()));
            return out;
          },
          "(T) the persona that spoke each token (mode='persona'), else None for each.")
      .def("__len__", [](const GenerationResult& r) { return r.generation.tokens.size(); })
      .def("__str__", [](const GenerationResult& r) { return readable(r.generation.text); })
      .def("__repr__", [](const GenerationResult& r) {
        return fmt::format("Generation(tokens={}, text={})", r.generation.tokens.size(),
                           std::string(py::repr(readable(r.generation.text))));
      });

  // ---------------------------------------------------------------- the mixture
  mixture
      .def(py::init([](const std::vector<std::shared_ptr<Persona>>& personas, const std::vector<Text>& names,
                       py::handle prior, const std::string& switching, double alpha, double beta, double gamma,
                       py::handle transition) {
             const auto K = py::ssize_t(personas.size());
             const std::string k = std::to_string(K);
             MixtureConfig config;
             config.switching = switching_from_name(switching);
             config.alpha = alpha;
             config.beta = beta;
             config.gamma = gamma;
             if (!transition.is_none())
               config.transition = real_array(transition, "transition", K, K, "(K, K) = (" + k + ", " + k + ")");
             Eigen::VectorXd p = Eigen::VectorXd::Ones(K);
             if (!prior.is_none()) p = real_array(prior, "prior", K, -1, "(K,) = (" + k + ",)");
             std::vector<std::shared_ptr<const Persona>> list(personas.begin(), personas.end());
             return Mixture(std::move(list), texts_of(names), std::move(p), std::move(config));
           }),
           py::arg("personas"), py::arg("names"), py::arg("prior") = py::none(), py::arg("switching") = "none",
           py::arg("alpha") = 0.0, py::arg("beta") = 1.0, py::arg("gamma") = 1.0, py::arg("transition") = py::none(),
           "A mixture of personas (K >= 1) with unique names, a prior (K positive numbers, normalised; None: uniform) "
           "and switching 'none', 'fixed_share' (alpha), 'forgetting' (gamma) or 'transition' (a K x K row-stochastic "
           "matrix). ValueError names a bad argument.")
      .def_static(
          "fit",
          [](const Corpus& corpus, int order, const std::string& switching, std::optional<double> alpha, double beta,
             double gamma, py::handle transition, double heldout_fraction, std::uint64_t seed,
             std::optional<std::vector<double>> alpha_grid, py::handle progress, bool return_report) -> py::object {
            TrainConfig cfg;
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
          py::arg("progress") = py::none(), py::arg("return_report") = false,
          "Trains one Kneser-Ney persona per persona of the corpus (prior: document shares). With fixed_share and "
          "alpha=None, alpha is chosen on a held-out share of the documents over alpha_grid. progress: None, True "
          "(a tqdm bar, if tqdm is installed) or a callable taking a TrainProgress. Returns the Mixture, or "
          "(Mixture, TrainReport) with return_report=True. Ctrl-C stops it with KeyboardInterrupt.")
      .def("__len__", &Mixture::size)
      .def_property_readonly(
          "personas", [](const Mixture& mix) { return name_list(mix.names()); }, "The persona names.")
      .def(
          "persona",
          [](const Mixture& mix, py::handle key) {
            return std::const_pointer_cast<Persona>(mix.persona_ptr(persona_key(mix, key, "persona")));
          },
          py::arg("key"), "The persona model of a name or index.")
      .def(
          "index_of", [](const Mixture& mix, const Text& name) { return mix.index_of(name.bytes); }, py::arg("name"),
          "The index of a persona; IndexError naming it if unknown.")
      .def_property_readonly(
          "prior", [](const Mixture& mix) { return f64(SeenMixture(mix)->prior()); },
          "(K,) float64 normalised prior (inside `with pile.ablate(...)`, the ablated one).")
      .def_property_readonly(
          "switching", [](const Mixture& mix) { return switching_name(mix.config().switching); },
          "'none', 'fixed_share', 'forgetting' or 'transition'.")
      .def_property_readonly(
          "alpha", [](const Mixture& mix) { return mix.config().alpha; }, "Fixed-share rate.")
      .def_property_readonly(
          "beta", [](const Mixture& mix) { return mix.config().beta; }, "Likelihood tempering.")
      .def_property_readonly(
          "gamma", [](const Mixture& mix) { return mix.config().gamma; }, "Forgetting factor.")
      .def_property_readonly(
          "transition",
          [](const Mixture& mix) -> py::object {
            if (mix.config().switching != Switching::kTransition) return py::none();
            return f64(mix.config().transition);
          },
          "(K, K) float64 transition matrix with switching='transition', else None.")
      .def(
          "ablate",
          [](py::object self, py::handle remove, py::handle reweight) {
            const Mixture& mix = self.cast<const Mixture&>();
            AblationScope scope{self, &mix, {persona_keys(mix, remove, "remove"), {}}};
            if (!reweight.is_none()) scope.ablation.reweight = per_persona(mix, reweight, 1.0, "reweight");
            mix.ablated_prior(combine(context_ablation(mix), scope.ablation));  // checks now, not at `with`
            return scope;
          },
          py::arg("remove") = py::none(), py::arg("reweight") = py::none(),
          "A context manager that removes personas (remove: a persona or a sequence of them; their prior becomes "
          "0, so they never speak) and reweights others (reweight: a dict persona -> factor >= 0, or K factors; "
          "the prior is multiplied by them and renormalised) for the calls this thread makes on the pile inside the "
          "block, until it ends (exceptions included). `with pile.ablate(remove='pirate'): pile.score(text)`. The "
          "pile itself is not changed: other threads do not see it; States begun inside keep it.")
      .def(
          "trace",
          [](const Mixture& mix, py::handle text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            TraceResult r;
            r.tokens = tokens_arg(text, "text");
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            r.names = mix.names();
            {
              py::gil_scoped_release release;
              r.trace = mix.trace(r.tokens, s, [](double) { check_signals_nogil(); });  // Ctrl-C stops it
            }
            return r;
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "The trace of a text read from a document start: its bytes (str / bytes), or a sequence of tokens (where "
          "256 marks a document boundary). No end boundary is added.")
      .def(
          "score",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.score(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(), "Natural-log probability of a document (its bytes and the end boundary).")
      .def(
          "bits_per_byte",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.bits_per_byte(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "-score / (bytes * ln 2): bits per byte of a document, the end boundary's cost included. ValueError for "
          "an empty text.")
      .def(
          "perplexity",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.perplexity(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "exp(-score / (bytes + 1)): per-token perplexity of a document, the end boundary counted as a token.")
      .def(
          "persona_perplexity",
          [](const Mixture& mix, const Text& text) {
            Eigen::VectorXd ppl;
            {
              py::gil_scoped_release release;
              ppl = mix.persona_perplexity(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = ppl[k];
            return out;
          },
          py::arg("text"), "Per-token perplexity of the document under each persona alone: {name: perplexity}.")
      .def(
          "persona_bits_per_byte",
          [](const Mixture& mix, const Text& text) {
            Eigen::VectorXd bits;
            {
              py::gil_scoped_release release;
              bits = mix.persona_bits_per_byte(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = bits[k];
            return out;
          },
          py::arg("text"), "Bits per byte of the document under each persona alone: {name: bits}.")
      .def(
          "attribute",
          [](const Mixture& mix, const Text& text) {
            const SeenMixture seen(mix);
            Eigen::VectorXd post;
            {
              py::gil_scoped_release release;
              post = seen->attribute(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = std::exp(post[k]);
            return out;
          },
          py::arg("text"),
          "Which mask wrote this document? {name: posterior probability} given the whole document, as if one "
          "persona wrote all of it (no switching, beta = 1).")
      .def(
          "attribution_accuracy",
          [](const Mixture& mix, const Corpus& corpus) {
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            return attribution_accuracy(*seen, corpus);
          },
          py::arg("corpus"),
           "Share of the corpus's documents whose most probable author is their labelled persona.")
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
            MixtureState state = mix.begin(make_steering(mix, clamp, exclude, prior_bias, product));
            state.step(encode(context.bytes));
            return PredictionResult{state.predict(), mix.names()};
          },
          py::arg("context") = Text{}, py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "The next-token prediction after reading `context` from a document start.")
      .def(
          "generate",
          [](const Mixture& mix, const Text& prompt, int max_tokens, double temperature, int top_k, double top_p,
             double min_p, std::uint64_t seed, py::handle clamp, py::handle exclude, py::handle prior_bias, py::handle product,
             const std::string& mode, bool stop_at_boundary, py::handle on_step) {
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
            if (!on_step.is_none()) {
              if (!PyCallable_Check(on_step.ptr()))
                throw py::type_error("on_step: expected None or a callable taking a GenerationStep");
              cfg.on_step = [cb = on_step, &mix](const GenerationStep& step) {
                py::gil_scoped_acquire gil;
                check_signals();
                StepView view{step.index, step.token, step.persona,
                              step.persona >= 0 ? mix.names()[std::size_t(step.persona)] : std::string(),
                              step.log_weights, step.logprobs};
                const py::object go_on = cb(std::move(view));
                if (go_on.is_none()) return true;
                const int truth = PyObject_IsTrue(go_on.ptr());
                if (truth < 0) throw py::error_already_set();
                return truth != 0;
              };
            } else {
              cfg.on_step = [n = 0](const GenerationStep&) mutable {
                if (++n % 256 == 0) check_signals_nogil();
                return true;
              };
            }
            GenerationResult r{{}, mix.names()};
            {
              py::gil_scoped_release release;
              r.generation = generate(mix, prompt.bytes, cfg);
            }
            return r;
          },
          py::arg("prompt") = Text{}, py::arg("max_tokens") = 200, py::arg("temperature") = 1.0, py::arg("top_k") = 0,
          py::arg("top_p") = 1.0, py::arg("min_p") = 0.0, py::arg("seed") = 0, py::arg("clamp") = py::none(),
          py::arg("exclude") = py::none(), py::arg("prior_bias") = py::none(), py::arg("product") = py::none(), py::arg("mode") = "mixture",
          py::arg("stop_at_boundary") = true, py::arg("on_step") = py::none(),
          "Reads the prompt, then samples up to max_tokens tokens (top-k, top-p, min-p, then temperature; 0 is "
          "greedy) from the mixture (mode='mixture') or from a persona drawn from the weights (mode='persona'). "
          "on_step(step) is called after each token and may return False to stop. Same seed, same output.")
      .def(
          "save",
          [](const Mixture& mix, const Path& path) {
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            save(*seen, path.bytes);
          },
          py::arg("path"), "Writes the model to a safetensors file, atomically. OSError if it cannot be written.")
      .def("__repr__",
           [](const Mixture& mix) {
             return fmt::format("Mixture(personas={}, switching='{}', alpha={}, beta={}, gamma={})",
                                std::string(py::repr(name_list(mix.names()))), switching_name(mix.config().switching),
                                mix.config().alpha, mix.config().beta, mix.config().gamma);
           })
      .def(py::pickle([](const Mixture& mix) { return mixture_to_bytes(*SeenMixture(mix)); },
                      [](const py::bytes& state) { return mixture_from_bytes(state); }));

  m.def(
      "load",
      [](const Path& path) {
        py::gil_scoped_release release;
        return load(path.bytes);
      },
      py::arg("path"),
      "Reads a model written by Mixture.save(). simulacra.FileError (an OSError) naming the path and the problem for "
      "a missing, truncated, corrupted, foreign or newer file.");
}

}  // namespace simulacra::python
