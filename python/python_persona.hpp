// python_persona.hpp — any model as a mask: personas written in Python.
//
// A Python object joins a Mixture (or an InterpolatedPersona) as a persona
// when it is an instance of a subclass of simulacra.Persona, or any object
// with the same methods (duck typing):
//
//   next_logprobs(context) -> (257,) array
//       context: a fresh numpy int32 array (n,) of the tokens of the current
//       document so far (bytes 0..255; never the boundary: after one the
//       context restarts, empty at a document start). Returns the natural-log
//       probabilities of the 257 next tokens (256 bytes, the boundary 256).
//   token_logprobs(tokens) -> (n,) array                       (optional)
//       tokens: a fresh numpy int32 array (n,) (n >= 1) of one document from
//       its start; the boundary 256 appears at most once, as the last token.
//       Returns log p(tokens[t] | tokens[<t]) for every t. The whole-sequence
//       path (trace, score, attribution): one call per document instead of
//       one next_logprobs call per token.
//   kind                                                        (optional)
//       a str, or a method returning one; "python" when absent.
//
// A subclass of simulacra.Persona need only define next_logprobs (the
// members it inherits — score(text), token_logprobs(text), next_logprobs(text)
// — are the C++ base's, and are not taken for the protocol).
//
// What is returned is checked (PythonPersona::next_logprobs): any floating
// dtype, converted to float64 (float32 is upcast exactly); the shape; no NaN,
// no +inf; |logsumexp| <= kPythonPersonaTolerance for a distribution, and
// every log-probability <= kPythonPersonaTolerance. A failure raises
// TypeError (not an array, not floating point) or ValueError (the rest),
// naming the persona ("persona 'torch' (TinyLM)") and what was wrong. The
// values are used as returned (not renormalised), so the per-token path and
// the distribution path agree to what the model itself gives.
//
// The GIL: the library runs with it released; a PythonPersona takes it
// (py::gil_scoped_acquire) only around its calls into Python, from whichever
// thread calls it (the OpenMP threads of score_batch / attribute_batch
// included: they then take turns). An exception raised in Python
// (py::error_already_set) travels through the library unchanged and is
// raised to the caller as itself.
//
// Not savable: save() and pickling raise ValueError naming the persona.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bind_common.hpp"

namespace simulacra::python {

// How far a Python persona's distribution may be from summing to 1 (in
// |logsumexp|, nats), and a log-probability above 0.
inline constexpr double kPythonPersonaTolerance = 1e-6;

// A persona whose model is a Python object (the protocol above). Holds a
// reference to it (released with the GIL taken). Construct with the GIL held.
class PythonPersona : public Persona, public std::enable_shared_from_this<PythonPersona> {
 public:
  // label: how errors name it, e.g. "persona 'torch' (TinyLM)". TypeError if
  // the object has no callable next_logprobs, or a kind that is not a str.
  PythonPersona(py::object model, std::string label);
  ~PythonPersona() override;
  PythonPersona(const PythonPersona&) = delete;
  PythonPersona& operator=(const PythonPersona&) = delete;

  std::string kind() const override { return kind_; }
  std::unique_ptr<PersonaState> begin() const override;
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;

  // out (kVocab) = model.next_logprobs(context), checked. Takes the GIL.
  void next_logprobs(const std::vector<Token>& context, double* out) const;

  const py::object& model() const { return model_; }
  const std::string& label() const { return label_; }
  bool has_batched() const { return !batched_.is_none(); }

 private:
  void next_logprobs_held(const std::vector<Token>& context, double* out) const;  // the GIL is held
  py::object model_, next_, batched_;  // the object, its next_logprobs and token_logprobs (None: absent)
  std::string kind_, label_;
};

// The trampoline of simulacra.Persona: the C++ side of an instance of a
// Python subclass. Its virtuals (what the inherited score(text),
// token_logprobs(text), next_logprobs(text) call) run a PythonPersona over
// the instance. A Mixture does not keep the trampoline: persona_arg wraps
// the instance in a PythonPersona holding a reference to it.
class PersonaTrampoline : public Persona {
 public:
  std::string kind() const override;
  std::unique_ptr<PersonaState> begin() const override;
  void token_logprobs(const Token* tokens, std::size_t n, double* out) const override;

 private:
  std::shared_ptr<PythonPersona> over_self() const;  // takes the GIL
};

// A persona argument: a C++ persona (n-gram, transformer, ...) as is; a
// Python one (a subclass instance or any object with next_logprobs) wrapped
// in a PythonPersona labelled "persona '<name>' (<type>)" (name empty: by its
// type alone); None as a null pointer (which the library refuses, naming
// it). TypeError naming `what` for an object that is neither. The GIL is held.
std::shared_ptr<const Persona> persona_arg(py::handle obj, const std::string& what, const std::string& name);

// The personas of a Mixture: persona_arg of each element of a sequence,
// named names[i] (where there is one) and "personas[i]" in errors. TypeError
// for a text or a non-iterable.
std::vector<std::shared_ptr<const Persona>> personas_arg(py::handle personas, const std::vector<std::string>& names);

// What Python is given for a persona of a pile: the object a PythonPersona
// wraps, or the C++ persona.
py::object persona_object(const std::shared_ptr<const Persona>& persona);

}  // namespace simulacra::python
