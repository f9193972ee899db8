// bind_transformer_train.cpp — training the transformer hydra from Python:
// TransformerData, TransformerProgress, TransformerTrainer.
#include <chrono>
#include <cmath>

#include "bind_common.hpp"
#include "bind_transformer.hpp"
#include "simulacra/transformer_pile.hpp"

namespace simulacra::python {

namespace {

py::object eval_loss_of(const TransformerProgress& p) {
  return std::isnan(p.eval_loss) ? py::none() : py::object(py::float_(p.eval_loss));
}

// The progress callback: None, or a callable taking a TransformerProgress.
// Ctrl-C stops training between steps (KeyboardInterrupt).
std::function<void(const TransformerProgress&)> progress_of(py::handle progress) {
  if (!progress.is_none() && !PyCallable_Check(progress.ptr()))
    throw py::type_error("progress: expected None or a callable taking a TransformerProgress");
  // A borrowed handle: the std::function is copied without the GIL; PyTrainer keeps the callable alive.
  return [cb = progress](const TransformerProgress& p) {
    py::gil_scoped_acquire gil;
    check_signals();
    if (!cb.is_none()) cb(p);
  };
}

// The trainer plus the Python objects its callback needs kept alive.
struct PyTrainer {
  std::unique_ptr<TransformerTrainer> trainer;
  py::object progress;
};

}  // namespace

void bind_transformer_train(py::module_& m) {
  py::class_<TransformerData>(m, "TransformerData", R"doc(
Training text for transformer personas: one token stream per persona (its
documents as "256 doc 256 doc ..."), and a held-out stream each.

    data = simulacra.TransformerData.from_text(open("play.txt").read(), heldout=0.1)
    data = simulacra.TransformerData.from_corpus(simulacra.Corpus.builtin(), heldout=0.1, seed=0)
)doc")
      .def_static(
          "from_text",
          [](const Text& text, double heldout, const Text& name) {
            return TransformerData::from_text(text.bytes, heldout, name.bytes);
          },
          py::arg("text"), py::arg("heldout") = 0.1, py::arg("name") = Text{"text"},
          "One persona: the text's bytes, the last `heldout` share held out (nanoGPT's split).")
      .def_static("from_corpus", &TransformerData::from_corpus, py::arg("corpus"), py::arg("heldout") = 0.1,
                  py::arg("seed") = 0, "One persona per corpus persona; documents split with Corpus.split.")
      .def_property_readonly(
          "personas", [](const TransformerData& d) { return name_list(d.names); }, "The persona names.")
      .def_property_readonly(
          "train_tokens",
          [](const TransformerData& d) {
            std::vector<std::size_t> n;
            for (const auto& s : d.train) n.push_back(s.size());
            return n;
          },
          "Tokens in each training stream.")
      .def_property_readonly(
          "heldout_tokens",
          [](const TransformerData& d) {
            std::vector<std::size_t> n;
            for (const auto& s : d.heldout) n.push_back(s.size());
            return n;
          },
          "Tokens in each held-out stream.")
      .def("__repr__", [](const TransformerData& d) {
        std::size_t train = 0, held = 0;
        for (const auto& s : d.train) train += s.size();
        for (const auto& s : d.heldout) held += s.size();
        return fmt::format("TransformerData({} personas, {} training tokens, {} held out)", d.names.size(), train,
                           held);
      });

  py::class_<TransformerProgress>(m, "TransformerProgress", "One training step, as progress callbacks see it.")
      .def_readonly("step", &TransformerProgress::step, "Steps done.")
      .def_readonly("steps", &TransformerProgress::steps, "The run's total.")
      .def_readonly("loss", &TransformerProgress::loss, "This step's training loss, nats per token.")
      .def_readonly("learning_rate", &TransformerProgress::learning_rate, "The rate this step used.")
      .def_readonly("grad_norm", &TransformerProgress::grad_norm, "Global gradient norm before clipping.")
      .def_readonly("tokens_per_second", &TransformerProgress::tokens_per_second,
                    "Training tokens per second over the run so far.")
      .def_property_readonly("eval_loss", &eval_loss_of, "Held-out loss (nats per token) if evaluated, else None.")
      .def("__repr__", [](const TransformerProgress& p) {
        return fmt::format("TransformerProgress(step={}/{}, loss={:.4f}, lr={:.3g}, {:.0f} tokens/s{})", p.step,
                           p.steps, p.loss, p.learning_rate, p.tokens_per_second,
                           std::isnan(p.eval_loss) ? "" : fmt::format(", eval_loss={:.4f}", p.eval_loss));
      });

  py::class_<PyTrainer>(m, "TransformerTrainer", R"doc(
Trains a transformer hydra (one trunk, a head per persona of the data) in C++
with AdamW, warmup + cosine, clipping and seeded minibatches. Defaults are
nanoGPT's CPU run on tinyshakespeare.

    trainer = simulacra.TransformerTrainer(data, steps=2000, progress=print)
    trainer.run()
    pile = trainer.mixture()                 # the heads as personas of a Mixture
    trainer.save_checkpoint("run.safetensors")
    again = simulacra.TransformerTrainer.resume("run.safetensors", data)

objective: 'supervised' (each head its persona's windows), 'mixture' (labels
unknown; heads weighted by their posterior responsibility per window) or 'gate'
(a learned per-token gate, with gate_posterior combined with the window's
posterior). threads: OpenMP threads for this trainer's steps and evaluations,
0 (the calling thread's setting, all cores by default) to 1024 (ValueError
above); the process's own setting is left as it was. progress: None or a
callable taking a TransformerProgress, called after every step. Ctrl-C stops
training with KeyboardInterrupt (the steps done are kept).
)doc")
      .def(py::init([](const TransformerData& data, const TransformerConfig& config, const std::string& objective,
                       bool gate_posterior, int batch, int steps, double lr, double min_lr, int warmup, double beta1,
                       double beta2, double eps, double weight_decay, double clip, std::uint64_t seed, int eval_every,
                       int eval_windows, int threads, std::optional<Path> checkpoint, int checkpoint_every,
                       py::handle progress) {
             TransformerTrainConfig c;
             c.model = config;
             c.objective = objective_from_name(objective);
             c.gate_posterior = gate_posterior;
             c.batch = batch;
             c.steps = steps;
             c.optimizer = {lr, min_lr, warmup, beta1, beta2, eps, weight_decay, clip};
             c.seed = seed;
             c.eval_every = eval_every;
             c.eval_windows = eval_windows;
             c.threads = threads;
             if (checkpoint) c.checkpoint_path = checkpoint->bytes;
             c.checkpoint_every = checkpoint_every;
             c.on_progress = progress_of(progress);
             PyTrainer t{nullptr, py::reinterpret_borrow<py::object>(progress)};
             py::gil_scoped_release release;
             t.trainer = std::make_unique<TransformerTrainer>(c, data);
             return t;
           }),
           py::arg("data"), py::arg("config") = TransformerConfig{}, py::arg("objective") = "supervised",
           py::arg("gate_posterior") = false, py::arg("batch") = 12, py::arg("steps") = 2000, py::arg("lr") = 1e-3,
           py::arg("min_lr") = 1e-4, py::arg("warmup") = 100, py::arg("beta1") = 0.9, py::arg("beta2") = 0.99,
           py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.1, py::arg("clip") = 1.0, py::arg("seed") = 1,
           py::arg("eval_every") = 250, py::arg("eval_windows") = 200, py::arg("threads") = 0,
           py::arg("checkpoint") = py::none(), py::arg("checkpoint_every") = 0, py::arg("progress") = py::none(),
           "A fresh model (config.personas is set to the data's persona count). ValueError names a bad setting.")
      .def_static(
          "resume",
          [](const Path& path, const TransformerData& data, std::optional<Path> checkpoint, int checkpoint_every,
             py::handle progress) {
            TransformerTrainConfig callbacks;
            if (checkpoint) callbacks.checkpoint_path = checkpoint->bytes;
            callbacks.checkpoint_every = checkpoint_every;
            callbacks.on_progress = progress_of(progress);
            const std::string file = path.bytes;
            PyTrainer t{nullptr, py::reinterpret_borrow<py::object>(progress)};
            py::gil_scoped_release release;
            t.trainer = std::make_unique<TransformerTrainer>(TransformerTrainer::resume(file, data, callbacks));
            return t;
          },
          py::arg("path"), py::arg("data"), py::arg("checkpoint") = py::none(), py::arg("checkpoint_every") = 0,
          py::arg("progress") = py::none(),
          "Continues a run from save_checkpoint's file with the same data, bit for bit. OSError (FileError) for a "
          "bad file.")
      .def(
          "update",
          [](PyTrainer& t) {
            py::gil_scoped_release release;
            return t.trainer->update();
          },
          "One optimiser update on the next batch (no callback, no evaluation).")
      .def(
          "run",
          [](PyTrainer& t) {
            py::gil_scoped_release release;
            return t.trainer->run();
          },
          "Steps until `steps`, evaluating, checkpointing and calling progress; returns the last TransformerProgress.")
      .def(
          "evaluate",
          [](const PyTrainer& t) {
            py::gil_scoped_release release;
            return t.trainer->evaluate();
          },
          "Mean held-out loss per token under the objective (nats), over eval_windows fixed windows.")
      .def(
          "save_checkpoint",
          [](const PyTrainer& t, const Path& path) {
            const std::string file = path.bytes;
            py::gil_scoped_release release;
            t.trainer->save_checkpoint(file);
          },
          py::arg("path"), "Model, optimiser state, step and generator, written atomically.")
      .def_property_readonly(
          "steps_done", [](const PyTrainer& t) { return t.trainer->steps_done(); }, "Steps done so far.")
      .def_property_readonly(
          "personas", [](const PyTrainer& t) { return name_list(t.trainer->data().names); }, "The persona names.")
      .def_property_readonly(
          "model",
          [](const PyTrainer& t) {
            return Hydra{std::const_pointer_cast<TransformerModel<float>>(t.trainer->shared_model())};
          },
          "The model being trained (shared: its parameters() are live views).")
      .def(
          "mixture",
          [](const PyTrainer& t, const std::string& switching, double alpha, double beta) {
            MixtureConfig mc;
            mc.switching = switching_from_name(switching);
            mc.alpha = alpha;
            mc.beta = beta;
            return hydra_pile(t.trainer->shared_model(), t.trainer->data(), mc);
          },
          py::arg("switching") = "fixed_share", py::arg("alpha") = 1e-3, py::arg("beta") = 1.0,
          "The heads as personas of a Mixture (prior: each persona's share of the training tokens).");
}

}  // namespace simulacra::python
