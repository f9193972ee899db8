// python_persona.cpp — personas written in Python (python_persona.hpp): the
// adapter, its incremental state, the trampoline of simulacra.Persona and
// the persona arguments of Mixture and InterpolatedPersona.
#include "python_persona.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <typeinfo>

namespace simulacra::python {

namespace {

// A member of the persona protocol on `obj`, None if absent. On an instance
// of a simulacra.Persona subclass only what Python code defines counts (its
// own attributes, or a class above simulacra.Persona in the MRO): the
// members simulacra.Persona itself has are the C++ base's, not the model.
py::object protocol_member(py::handle obj, const char* name) {
  const py::type base = py::type::of<Persona>();
  if (!py::isinstance(obj, base)) return py::getattr(obj, name, py::none());
  const py::object own = py::getattr(obj, "__dict__", py::none());
  if (py::isinstance<py::dict>(own) && own.contains(name)) return own[name];
  for (py::handle cls : py::type::handle_of(obj).attr("__mro__")) {
    if (cls.is(base)) return py::none();
    if (cls.attr("__dict__").contains(name)) return py::getattr(obj, name);
  }
  return py::none();
}

// A fresh int32 (n) numpy array of tokens.
py::array_t<std::int32_t> token_array_of(const Token* tokens, std::size_t n) {
  py::array_t<std::int32_t> out{py::ssize_t(n)};
  std::copy(tokens, tokens + n, out.mutable_data());
  return out;
}

// What `method` of the persona `label` returned, as a C-contiguous float64
// (n) array: TypeError if it is not an array of floating point numbers,
// ValueError for another shape (`expected` says which).
py::array_t<double> float_result(const py::object& result, const std::string& label, const char* method,
                                 py::ssize_t n, const std::string& expected) {
  py::array a;
  if (py::isinstance<py::array>(result)) {
    a = py::reinterpret_borrow<py::array>(result);
  } else {
    try {
      a = py::module_::import("numpy").attr("asarray")(result);
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_Exception)) throw;  // KeyboardInterrupt and the like: as they are
      throw py::type_error(fmt::format("{}: {} returned {}, which is not an array of log-probabilities ({})", label,
                                       method, type_name(result), e.what()));
    }
  }
  if (a.dtype().kind() != 'f') {
    const std::string dtype = py::str(a.dtype());
    const std::string what = result.is(a) ? "dtype " + dtype : type_name(result) + " (dtype " + dtype + ")";
    throw py::type_error(fmt::format(
        "{}: {} returned {}, expected floating point log-probabilities (float64; float32 is converted)", label,
        method, what));
  }
  if (a.ndim() != 1 || a.shape(0) != n)
    throw InvalidArgument(
        fmt::format("{}: {} returned shape {}, expected {}", label, method, shape_str(a), expected));
  auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!d) throw py::error_already_set();
  return d;
}

// The first entry of v (n) that is no log-probability (NaN, or above
// kPythonPersonaTolerance: +inf included), or n.
std::size_t first_bad(const double* v, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    if (!(v[i] <= kPythonPersonaTolerance)) return i;
  return n;
}

// The error for v, returned by `method` `where` ("for token 'A'", "at position 3").
[[noreturn]] void bad_value(double v, const std::string& label, const char* method, const std::string& where) {
  if (std::isnan(v)) throw InvalidArgument(fmt::format("{}: {} returned NaN {}", label, method, where));
  throw InvalidArgument(fmt::format("{}: {} returned {} {}: a log-probability is at most 0", label, method, v, where));
}

// log sum_i exp(v[i]), -inf when every entry is -inf.
double logsumexp(const double* v, int n) {
  const double m = *std::max_element(v, v + n);
  if (m == -std::numeric_limits<double>::infinity()) return m;
  return m + std::log((Eigen::Map<const Eigen::ArrayXd>(v, n) - m).exp().sum());
}

// The incremental state of a Python persona: the tokens of the current
// document, and the distribution after them once asked for (so that
// next_logprobs then advance costs one Python call).
class PythonState final : public PersonaState {
 public:
  explicit PythonState(std::shared_ptr<const PythonPersona> persona)
      : persona_(std::move(persona)), dist_(kVocab) {}

  void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
    SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_logprobs: output has size {}, expected {}",
                    out.size(), kVocab);
    fill();
    out = dist_;
  }

  double advance(Token token) override {
    SIMULACRA_CHECK(token >= 0 && token < kVocab, OutOfRange, "advance: token {} is outside 0..{}", token,
                    kVocab - 1);
    fill();
    const double lp = dist_[token];
    cached_ = false;
    if (token == kBoundary)
      context_.clear();
    else
      context_.push_back(token);
    return lp;
  }

  std::unique_ptr<PersonaState> clone() const override { return std::make_unique<PythonState>(*this); }

 private:
  void fill() const {
    if (cached_) return;
    persona_->next_logprobs(context_, dist_.data());
    cached_ = true;
  }

  std::shared_ptr<const PythonPersona> persona_;
  std::vector<Token> context_;  // the current document so far
  mutable Eigen::VectorXd dist_;
  mutable bool cached_ = false;  // dist_ is log p(. | context_)
};

std::string label_of(py::handle obj, const std::string& name) {
  return name.empty() ? "persona " + type_name(obj) : fmt::format("persona '{}' ({})", name, type_name(obj));
}

}  // namespace

// ---------------------------------------------------------------- PythonPersona

PythonPersona::PythonPersona(py::object model, std::string label)
    : model_(std::move(model)), label_(std::move(label)) {
  next_ = protocol_member(model_, "next_logprobs");
  if (next_.is_none() || !PyCallable_Check(next_.ptr()))
    throw py::type_error(label_ +
                         ": a Python persona needs a method next_logprobs(context) returning the (257,) "
                         "log-probabilities of the next token");
  batched_ = protocol_member(model_, "token_logprobs");
  if (!batched_.is_none() && !PyCallable_Check(batched_.ptr()))
    throw py::type_error(label_ + ": token_logprobs is not callable (it is " + type_name(batched_) + ")");
  py::object kind = protocol_member(model_, "kind");
  if (kind.is_none()) {
    kind_ = "python";
    return;
  }
  if (PyCallable_Check(kind.ptr())) kind = kind();
  if (!py::isinstance<py::str>(kind)) throw py::type_error(label_ + ": kind must be a str, got " + type_name(kind));
  kind_ = kind.cast<std::string>();
}

PythonPersona::~PythonPersona() {
  if (!Py_IsInitialized()) {  // the interpreter is gone: nothing to release
    model_.release();
    next_.release();
    batched_.release();
    return;
  }
  py::gil_scoped_acquire gil;
  batched_ = py::object();
  next_ = py::object();
  model_ = py::object();
}

std::unique_ptr<PersonaState> PythonPersona::begin() const {
  return std::make_unique<PythonState>(shared_from_this());
}

void PythonPersona::next_logprobs(const std::vector<Token>& context, double* out) const {
  py::gil_scoped_acquire gil;
  next_logprobs_held(context, out);
}

void PythonPersona::next_logprobs_held(const std::vector<Token>& context, double* out) const {
  const py::object result = next_(token_array_of(context.data(), context.size()));
  const py::array_t<double> lp = float_result(result, label_, "next_logprobs", kVocab, "(257,)");
  const double* v = lp.data();
  if (const std::size_t t = first_bad(v, kVocab); t < kVocab)
    bad_value(v[t], label_, "next_logprobs", "for token " + shown_token(Token(t)));
  const double lse = logsumexp(v, kVocab);
  if (!(std::abs(lse) <= kPythonPersonaTolerance))
    throw InvalidArgument(fmt::format(
        "{}: next_logprobs is not a distribution after a context of {} tokens: its probabilities sum to {:.9g} "
        "(logsumexp {:.3g}; the tolerance is {:g})",
        label_, context.size(), std::exp(lse), lse, kPythonPersonaTolerance));
  std::copy(v, v + kVocab, out);
}

void PythonPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  for (std::size_t t = 0; t < n; ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "token_logprobs: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  if (n == 0) return;
  py::gil_scoped_acquire gil;
  if (batched_.is_none()) {  // one next_logprobs call per token
    std::vector<Token> context;
    std::vector<double> dist(kVocab);
    for (std::size_t t = 0; t < n; ++t) {
      next_logprobs_held(context, dist.data());
      out[t] = dist[std::size_t(tokens[t])];
      if (tokens[t] == kBoundary)
        context.clear();
      else
        context.push_back(tokens[t]);
    }
    return;
  }
  // One token_logprobs call per document: up to and including each boundary.
  for (std::size_t start = 0; start < n;) {
    std::size_t end = start;
    while (end < n && tokens[end] != kBoundary) ++end;
    if (end < n) ++end;
    const py::ssize_t len = py::ssize_t(end - start);
    const py::object result = batched_(token_array_of(tokens + start, end - start));
    const py::array_t<double> lp =
        float_result(result, label_, "token_logprobs", len, fmt::format("({},) for {} tokens", len, len));
    const double* v = lp.data();
    if (const std::size_t t = first_bad(v, std::size_t(len)); t < std::size_t(len))
      bad_value(v[t], label_, "token_logprobs", fmt::format("at position {} (token {})", t, shown_token(tokens[start + t])));
    std::copy(v, v + len, out + start);
    start = end;
  }
}

// ---------------------------------------------------------------- the trampoline

std::shared_ptr<PythonPersona> PersonaTrampoline::over_self() const {
  const py::handle self =
      py::detail::get_object_handle(static_cast<const Persona*>(this), py::detail::get_type_info(typeid(Persona)));
  if (!self)
    throw InvalidArgument(
        "a simulacra.Persona subclass instance was used after Python released it (pass the instance itself to "
        "Mixture or InterpolatedPersona: they keep it)");
  return std::make_shared<PythonPersona>(py::reinterpret_borrow<py::object>(self), label_of(self, ""));
}

std::string PersonaTrampoline::kind() const {
  py::gil_scoped_acquire gil;
  return over_self()->kind();
}

std::unique_ptr<PersonaState> PersonaTrampoline::begin() const {
  py::gil_scoped_acquire gil;
  return over_self()->begin();  // the state keeps the adapter, and so the instance
}

void PersonaTrampoline::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  std::shared_ptr<PythonPersona> p;
  {
    py::gil_scoped_acquire gil;
    p = over_self();
  }
  p->token_logprobs(tokens, n, out);
}

// ---------------------------------------------------------------- arguments

std::shared_ptr<const Persona> persona_arg(py::handle obj, const std::string& what, const std::string& name) {
  if (obj.is_none()) return nullptr;  // the library names it ("the background model is null")
  if (py::isinstance<Persona>(obj)) {
    auto p = obj.cast<std::shared_ptr<Persona>>();
    if (!dynamic_cast<const PersonaTrampoline*>(p.get())) return p;  // a C++ persona
  } else if (!py::hasattr(obj, "next_logprobs")) {
    throw py::type_error(what + ": expected a persona (a simulacra.Persona, or an object with a method "
                                "next_logprobs(context)), got " +
                         type_name(obj));
  }
  return std::make_shared<PythonPersona>(py::reinterpret_borrow<py::object>(obj), label_of(obj, name));
}

std::vector<std::shared_ptr<const Persona>> personas_arg(py::handle personas, const std::vector<std::string>& names) {
  if (text_bytes(personas).has_value() || !py::isinstance<py::iterable>(personas))
    throw py::type_error("personas: expected a sequence of personas, got " + type_name(personas));
  std::vector<std::shared_ptr<const Persona>> out;
  for (py::handle p : personas) {
    const std::size_t i = out.size();
    out.push_back(persona_arg(p, fmt::format("personas[{}]", i), i < names.size() ? names[i] : std::string()));
  }
  return out;
}

py::object persona_object(const std::shared_ptr<const Persona>& persona) {
  if (const auto* p = dynamic_cast<const PythonPersona*>(persona.get())) return p->model();
  return py::cast(std::const_pointer_cast<Persona>(persona));
}

}  // namespace simulacra::python
