// bind_transformer.cpp — the transformer hydra (transformer.hpp) and its
// files (transformer_file.hpp).
//
// One Python TransformerModel class holds a float or a double model (its
// dtype). Parameters are handed out as writable zero-copy views into the
// model's flat array; forward results hold the C++ activations that
// backward needs; gradients are views into one fresh flat array.
#include <cstring>
#include <memory>
#include <variant>

#include "bind_transformer.hpp"

#include "simulacra/adamw.hpp"
#include "simulacra/transformer_file.hpp"

namespace simulacra::python {

namespace {

using FloatModel = Hydra::FloatModel;
using DoubleModel = Hydra::DoubleModel;

// Python's TransformerForward: what forward() computed, kept for backward().
struct ForwardResult {
  std::variant<FloatModel, DoubleModel> model;  // the model that ran it (kept alive)
  std::variant<Activations<float>, Activations<double>> acts;
  py::object logits, hidden, gate;  // read-only numpy copies of the outputs
};

// np.dtype(obj), which must be float32 or float64; true for float32.
bool float32_dtype(py::handle obj) {
  if (obj.is_none()) throw py::type_error("dtype: expected 'float32' or 'float64', got None");
  py::dtype dt;
  try {
    dt = py::dtype::from_args(py::reinterpret_borrow<py::object>(obj));
  } catch (py::error_already_set&) {
    throw py::type_error("dtype: expected 'float32' or 'float64', got " + std::string(py::repr(obj)));
  }
  if (dt.equal(py::dtype::of<float>())) return true;
  if (dt.equal(py::dtype::of<double>())) return false;
  throw py::value_error("dtype: expected 'float32' or 'float64', got " + std::string(py::str(dt)));
}

// A fresh array of `shape` holding a copy of `count` elements at `data`,
// marked read-only.
template <typename T>
py::array frozen_copy(std::vector<py::ssize_t> shape, const T* data, std::size_t count) {
  py::array_t<T> out(shape);
  if (count > 0) std::memcpy(out.mutable_data(), data, count * sizeof(T));
  return frozen(out);
}

// Integer tokens of shape (B, L) from an array-like. TypeError for
// non-integers, ValueError for another number of dimensions; values beyond
// int32 raise IndexError here, the library checks 0..kVocab-1 itself.
std::vector<Token> token_windows(py::handle obj, int& B, int& L) {
  py::array a;
  try {
    a = py::module_::import("numpy").attr("asarray")(obj);
  } catch (py::error_already_set&) {
    throw py::type_error("tokens: expected an integer array of shape (B, L)");
  }
  if (a.ndim() != 2) throw py::value_error("tokens: expected shape (B, L), got " + shape_str(a));
  if (a.shape(0) > INT_MAX || a.shape(1) > INT_MAX) throw py::value_error("tokens: too large, got " + shape_str(a));
  B = int(a.shape(0));
  L = int(a.shape(1));
  if (a.size() == 0) return {};  // the library names the empty dimension
  return integer_tokens(a, "tokens", "(B, L)", L);
}

// `obj` as a C-contiguous array of exactly dtype T and the given shape.
// TypeError naming `what` for another dtype, ValueError for another shape.
template <typename T>
py::array_t<T, py::array::c_style> exact_array(py::handle obj, const char* what, const std::vector<py::ssize_t>& shape,
                                               const std::string& expected) {
  const std::string dtype_name = std::is_same_v<T, float> ? "float32" : "float64";
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(fmt::format("{}: expected a numpy {} array of shape {}, got {}", what, dtype_name, expected,
                                     type_name(obj)));
  auto a = py::reinterpret_borrow<py::array>(obj);
  if (!a.dtype().equal(py::dtype::of<T>()))
    throw py::type_error(fmt::format("{}: expected dtype {} (the model's), got {}", what, dtype_name,
                                     std::string(py::str(a.dtype()))));
  bool ok = a.ndim() == py::ssize_t(shape.size());
  for (std::size_t i = 0; ok && i < shape.size(); ++i) ok = a.shape(py::ssize_t(i)) == shape[i];
  if (!ok) throw py::value_error(fmt::format("{}: expected shape {}, got {}", what, expected, shape_str(a)));
  auto c = py::array_t<T, py::array::c_style>::ensure(a);
  if (!c) throw py::error_already_set();
  return c;
}

// "(3, 2, 5, 257) = (K, B, L, 257)"
std::string shape_text(const std::vector<py::ssize_t>& shape, const char* symbols) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + ") = " + symbols;
}

template <typename T>
ForwardResult run_forward(const std::shared_ptr<TransformerModel<T>>& model, py::handle tokens) {
  int B = 0, L = 0;
  const std::vector<Token> windows = token_windows(tokens, B, L);
  Activations<T> acts;
  {
    py::gil_scoped_release release;
    model->forward(windows.data(), B, L, acts);
  }
  const TransformerConfig& c = model->config();
  const py::ssize_t N = py::ssize_t(B) * L, K = c.personas;
  py::array_t<T> logits({K, py::ssize_t(B), py::ssize_t(L), py::ssize_t(kVocab)});
  for (py::ssize_t k = 0; k < K; ++k)
    std::memcpy(logits.mutable_data() + k * N * kVocab, acts.logits[std::size_t(k)].data(),
                std::size_t(N * kVocab) * sizeof(T));
  ForwardResult r;
  r.model = model;
  r.logits = frozen(logits);
  r.hidden = frozen_copy<T>({B, L, c.width}, acts.hidden.data(), std::size_t(acts.hidden.size()));
  r.gate = py::none();
  if (c.gate) r.gate = frozen_copy<T>({B, L, K}, acts.gate_logits.data(), std::size_t(acts.gate_logits.size()));
  r.acts = std::move(acts);
  return r;
}

// dict name -> gradient, each a view into one flat array owned by a capsule.
template <typename T>
py::dict run_backward(const TransformerModel<T>& model, const ForwardResult& fwd, py::handle dlogits,
                      py::handle dgate) {
  const Activations<T>& acts = std::get<Activations<T>>(fwd.acts);
  const TransformerConfig& c = model.config();
  const py::ssize_t B = acts.B, L = acts.L, N = B * L, K = c.personas;
  const std::vector<py::ssize_t> logit_shape = {K, B, L, kVocab};
  const auto dl = exact_array<T>(dlogits, "dlogits", logit_shape, shape_text(logit_shape, "(K, B, L, 257)"));
  std::vector<RowMatrix<T>> dlogit_matrices(static_cast<std::size_t>(K));
  for (py::ssize_t k = 0; k < K; ++k)
    dlogit_matrices[std::size_t(k)] = Eigen::Map<const RowMatrix<T>>(dl.data() + k * N * kVocab, N, kVocab);
  RowMatrix<T> dgate_matrix;
  if (!dgate.is_none()) {
    if (!c.gate) throw py::value_error("dgate: the model has no gate (config.gate is False); pass None");
    const std::vector<py::ssize_t> gate_shape = {B, L, K};
    const auto dg = exact_array<T>(dgate, "dgate", gate_shape, shape_text(gate_shape, "(B, L, K)"));
    dgate_matrix = Eigen::Map<const RowMatrix<T>>(dg.data(), N, K);
  }
  auto grads = std::make_unique<std::vector<T>>();
  {
    // Without the GIL: backward only reads the activations (its buffers are its own).
    py::gil_scoped_release release;
    model.backward(acts, dlogit_matrices, dgate_matrix, *grads);
  }
  T* data = grads->data();
  py::capsule owner(grads.release(), [](void* p) { delete static_cast<std::vector<T>*>(p); });
  py::dict out;
  for (const TensorInfo& t : model.layout())
    out[py::str(t.name)] =
        py::array_t<T>(std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()), data + t.offset, owner);
  return out;
}

// The Python model of a model read from a file or bytes, in its stored precision.
Hydra hydra_of(AnyTransformerModel any) {
  return std::visit(
      [](auto& model) {
        using Model = std::decay_t<decltype(model)>;
        return Hydra{std::make_shared<Model>(std::move(model))};
      },
      any);
}

}  // namespace

void bind_transformer(py::module_& m) {
  // ---------------------------------------------------------------- configuration
  py::class_<TransformerConfig>(m, "TransformerConfig", R"doc(
The shape of a transformer hydra: a causal pre-LayerNorm GPT trunk over the 257
tokens with `personas` heads (each its own LayerNorm and unembedding, or
tok_emb when tie_weights), an optional learned gate, biases on or off.

    cfg = simulacra.TransformerConfig(layers=4, heads=4, width=128, context=64, personas=3)
    cfg.parameter_count, cfg.training_flops_per_token
)doc")
      .def(py::init([](int layers, int heads, int width, int context, int personas, bool bias, bool tie_weights,
                       bool gate) {
             TransformerConfig c;
             c.layers = layers;
             c.heads = heads;
             c.width = width;
             c.context = context;
             c.personas = personas;
             c.bias = bias;
             c.tie_weights = tie_weights;
             c.gate = gate;
             c.check();
             return c;
           }),
           py::arg("layers") = 4, py::arg("heads") = 4, py::arg("width") = 128, py::arg("context") = 64,
           py::arg("personas") = 1, py::arg("bias") = false, py::arg("tie_weights") = false, py::arg("gate") = false,
           "ValueError naming the first bad field (sizes >= 1, heads dividing width).")
      .def_readonly("layers", &TransformerConfig::layers, "Transformer blocks.")
      .def_readonly("heads", &TransformerConfig::heads, "Attention heads (dividing width).")
      .def_readonly("width", &TransformerConfig::width, "Embedding width C.")
      .def_readonly("context", &TransformerConfig::context, "Longest window L the model reads.")
      .def_readonly("personas", &TransformerConfig::personas, "K heads on the trunk.")
      .def_readonly("bias", &TransformerConfig::bias, "Biases in linear layers and LayerNorms.")
      .def_readonly("tie_weights", &TransformerConfig::tie_weights, "Every head's unembedding is tok_emb.")
      .def_readonly("gate", &TransformerConfig::gate, "A learned gate over the heads from the trunk output.")
      .def_property_readonly("parameter_count", &TransformerConfig::parameter_count, "Number of scalar parameters.")
      .def_property_readonly("training_flops_per_token", &TransformerConfig::training_flops_per_token,
                             "Forward + backward FLOPs per token at window length `context` (PaLM's accounting).")
      .def("__eq__",
           [](const TransformerConfig& a, const TransformerConfig& b) { return a == b; },
           py::is_operator())
      .def("__repr__", [](const TransformerConfig& c) {
        return fmt::format("TransformerConfig(layers={}, heads={}, width={}, context={}, personas={}, bias={}, "
                           "tie_weights={}, gate={})",
                           c.layers, c.heads, c.width, c.context, c.personas, c.bias ? "True" : "False",
                           c.tie_weights ? "True" : "False", c.gate ? "True" : "False");
      });

  // ---------------------------------------------------------------- forward result
  py::class_<ForwardResult>(m, "TransformerForward", R"doc(
What TransformerModel.forward computed: the outputs (read-only arrays of the
model's dtype) and the intermediates TransformerModel.backward needs.
)doc")
      .def_property_readonly(
          "logits", [](const ForwardResult& r) { return r.logits; }, "(K, B, L, 257) logits of every head.")
      .def_property_readonly(
          "hidden", [](const ForwardResult& r) { return r.hidden; }, "(B, L, C) trunk output h.")
      .def_property_readonly(
          "gate", [](const ForwardResult& r) { return r.gate; }, "(B, L, K) gate logits, or None without a gate.")
      .def("__repr__", [](const ForwardResult& r) {
        return "TransformerForward(logits=" + shape_str(r.logits.cast<py::array>()) + ")";
      });

  // ---------------------------------------------------------------- persona
  py::class_<TransformerPersona, Persona, std::shared_ptr<TransformerPersona>>(m, "TransformerPersona", R"doc(
Head k of a float32 TransformerModel as a persona, usable in a Mixture beside
n-gram personas. It shares the model: changing the model's parameters changes
the persona. A document is read with the boundary token as its first input.

    pirate = model.persona(0)
    pile = simulacra.Mixture([pirate, simulacra.NGramPersona.fit(texts, order=5)], ["neural", "ngram"])
)doc")
      .def_property_readonly("head", &TransformerPersona::head, "The head k of the model.")
      .def(persona_pickle<TransformerPersona>())
      .def("__repr__", [](const TransformerPersona& p) {
        const TransformerConfig& c = p.model()->config();
        return fmt::format("TransformerPersona(head={}, layers={}, width={}, context={})", p.head(), c.layers, c.width,
                           c.context);
      });

  // ---------------------------------------------------------------- model
  py::class_<Hydra>(m, "TransformerModel", R"doc(
A transformer hydra: one GPT trunk, `config.personas` heads, an optional gate,
with a hand-written backward pass. float32 for training and inference, float64
for gradient checks.

    model = simulacra.TransformerModel(simulacra.TransformerConfig(personas=2), seed=1)
    out = model.forward(tokens)                  # tokens: (B, L) ints in 0..256
    grads = model.backward(out, dlogits)         # dict name -> array, the layout's shapes
    model.parameters()["tok_emb"][0] += 0.1      # writable views into the model
    model.save("hydra.safetensors")              # safetensors.torch.load_file reads it
)doc")
      .def(py::init([](const TransformerConfig& config, std::uint64_t seed, py::handle dtype) {
             if (float32_dtype(dtype)) return Hydra{std::make_shared<TransformerModel<float>>(config, seed)};
             return Hydra{std::make_shared<TransformerModel<double>>(config, seed)};
           }),
           py::arg("config"), py::arg("seed") = 0, py::arg("dtype") = "float32",
           "GPT-2 initialisation from a seed; dtype 'float32' or 'float64'. ValueError for a bad config or dtype.")
      .def_property_readonly(
          "config", [](const Hydra& h) { return TransformerConfig(h.config()); }, "The configuration (a copy).")
      .def_property_readonly(
          "dtype", [](const Hydra& h) { return h.is_float() ? py::dtype::of<float>() : py::dtype::of<double>(); },
          "numpy.float32 or numpy.float64: the dtype of parameters, outputs and gradients.")
      .def_property_readonly(
          "layout",
          [](const Hydra& h) {
            py::list out;
            for (const TensorInfo& t : transformer_layout(h.config()))
              out.append(py::make_tuple(t.name, py::tuple(py::cast(t.shape))));
            return out;
          },
          "[(name, shape), ...]: the parameter tensors in the flat array's order, PyTorch's shapes.")
      .def(
          "parameters",
          [](py::object self) {
            const Hydra& h = self.cast<const Hydra&>();
            py::dict out;
            std::visit(
                [&](const auto& model) {
                  auto* data = model->parameters().data();
                  using T = std::remove_pointer_t<decltype(data)>;
                  for (const TensorInfo& t : model->layout())
                    out[py::str(t.name)] = py::array_t<T>(std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()),
                                                          data + t.offset, self);
                },
                h.model);
            return out;
          },
          "dict name -> writable numpy view into the model's parameters (zero-copy; keeps the model alive).")
      .def(
          "forward",
          [](const Hydra& h, py::handle tokens) {
            return std::visit([&](const auto& model) { return run_forward(model, tokens); }, h.model);
          },
          py::arg("tokens"),
          "Runs B windows of L tokens ((B, L) integers in 0..256, 1 <= L <= context). TypeError for non-integer "
          "tokens, ValueError for a bad shape, IndexError for a token out of range.")
      .def(
          "backward",
          [](const Hydra& h, const ForwardResult& fwd, py::handle dlogits, py::handle dgate) {
            const void* ran = std::visit([](const auto& m) -> const void* { return m.get(); }, fwd.model);
            if (ran != h.identity()) throw py::value_error("forward_result: computed by another model");
            return std::visit([&](const auto& model) { return run_backward(*model, fwd, dlogits, dgate); }, h.model);
          },
          py::arg("forward_result"), py::arg("dlogits"), py::arg("dgate") = py::none(),
          "Gradients of a loss given dL/dlogits ((K, B, L, 257)) and dL/dgate ((B, L, K), or None for zero), as a "
          "dict name -> array in the parameters' shapes. Arrays must have the model's dtype (TypeError) and these "
          "shapes (ValueError).")
      .def(
          "save",
          [](const Hydra& h, const Path& path) {
            py::gil_scoped_release release;
            std::visit([&](const auto& model) { save_transformer(*model, path.bytes); }, h.model);
          },
          py::arg("path"), "Writes the model (config and parameters, its dtype) to a safetensors file, atomically.")
      .def_static(
          "load",
          [](const Path& path) {
            AnyTransformerModel any = [&] {
              py::gil_scoped_release release;
              return load_transformer_any(path.bytes);
            }();
            return hydra_of(std::move(any));
          },
          py::arg("path"), "Reads a model saved by save(), in the dtype stored. simulacra.FileError on any problem.")
      .def(py::pickle(
          [](const Hydra& h) {
            std::string bytes;
            {
              py::gil_scoped_release release;
              bytes = std::visit([](const auto& model) { return transformer_to_bytes(*model); }, h.model);
            }
            return py::bytes(bytes);
          },
          [](const py::bytes& state) {
            const std::string_view content = state;  // valid while `state` lives, GIL or not
            AnyTransformerModel any = [&] {
              py::gil_scoped_release release;
              return transformer_from_bytes(content, "pickled TransformerModel");
            }();
            return hydra_of(std::move(any));
          }))
      .def(
          "adamw_step",
          [](const Hydra& h, py::handle grads, py::handle m, py::handle v, double lr, int step, double beta1,
             double beta2, double eps, double weight_decay, double grad_scale) {
            if (!h.is_float()) throw py::value_error("adamw_step: needs a float32 model, this one is float64");
            TransformerModel<float>& model = *std::get<FloatModel>(h.model);
            const py::ssize_t P = py::ssize_t(model.parameters().size());
            const std::vector<py::ssize_t> shape = {P};
            const std::string expected = fmt::format("({},)", P);
            const auto g = exact_array<float>(grads, "grads", shape, expected);
            auto moment = [&](py::handle obj, const char* what) {
              auto a = exact_array<float>(obj, what, shape, expected);
              if (a.ptr() != obj.ptr() || !a.writeable())
                throw py::value_error(fmt::format("{}: expected a writable contiguous array (updated in place)", what));
              return a;
            };
            auto ma = moment(m, "m"), va = moment(v, "v");
            std::vector<float> gv(g.data(), g.data() + P), mv(ma.data(), ma.data() + P), vv(va.data(), va.data() + P);
            AdamWConfig c;
            c.beta1 = beta1;
            c.beta2 = beta2;
            c.eps = eps;
            c.weight_decay = weight_decay;
            {
              py::gil_scoped_release release;
              adamw_step(c, lr, step, grad_scale, model.layout(), gv, model.parameters(), mv, vv);
            }
            std::copy(mv.begin(), mv.end(), ma.mutable_data());
            std::copy(vv.begin(), vv.end(), va.mutable_data());
          },
          py::arg("grads"), py::arg("m"), py::arg("v"), py::kw_only(), py::arg("lr"), py::arg("step"),
          py::arg("beta1") = 0.9, py::arg("beta2") = 0.99, py::arg("eps") = 1e-8, py::arg("weight_decay") = 0.1,
          py::arg("grad_scale") = 1.0,
          "One AdamW step of the trainer's optimiser (simulacra/adamw.hpp) on the parameters, in place: grads, m "
          "and v are flat float32 arrays in the layout's order (m and v, the moments, updated in place); step is "
          "the 1-based step count; weight decay only on rank-2 tensors. float32 models only (ValueError).")
      .def(
          "persona",
          [](const Hydra& h, int k) {
            if (!h.is_float()) throw py::value_error("persona: needs a float32 model, this one is float64");
            return std::make_shared<TransformerPersona>(std::get<FloatModel>(h.model), k);
          },
          py::arg("k"), "Head k as a Persona for a Mixture (float32 models only). IndexError outside 0..K-1.")
      .def("__repr__", [](const Hydra& h) {
        const TransformerConfig& c = h.config();
        return fmt::format("TransformerModel(layers={}, heads={}, width={}, context={}, personas={}, dtype={})",
                           c.layers, c.heads, c.width, c.context, c.personas, h.is_float() ? "float32" : "float64");
      });
}

}  // namespace simulacra::python
