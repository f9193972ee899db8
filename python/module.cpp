// module.cpp — the `simulacra._core` extension: one bind_<topic>() per topic
// file (declared in bind.hpp), the mapping of the library's exceptions, and
// the interrupt check that lets Ctrl-C stop long calls.
//
//   InvalidArgument (std::invalid_argument) -> ValueError
//   OutOfRange      (std::out_of_range)     -> IndexError
//   FileError       (std::runtime_error)    -> simulacra.FileError, a subclass of OSError
//   Interrupted     (std::runtime_error)    -> what the signal handler raised: KeyboardInterrupt for Ctrl-C
//
// These are pybind11's own mappings for the standard types, with one change:
// a message is decoded with errors="backslashreplace", since it may quote
// bytes of a damaged file or a non-UTF-8 name (pybind11 would raise
// UnicodeDecodeError instead of the error itself).
#include <atomic>
#include <chrono>
#include <cstring>

#include <pybind11/gil_safe_call_once.h>
#include <pythread.h>

#include "bind.hpp"
#include "bind_common.hpp"

namespace {

namespace py = pybind11;

PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> file_error_type;

// ------------------------------------------------------------------ Ctrl-C

std::atomic<unsigned long> main_thread{0};  // PyThread_get_thread_ident() of the interpreter's main thread

// The exception a signal handler raised during a poll, until it is raised for Interrupted (main thread only).
PyObject* pending = nullptr;

void keep_pending() {
#if PY_VERSION_HEX >= 0x030C0000
  PyObject* e = PyErr_GetRaisedException();
#else
  PyObject *type = nullptr, *value = nullptr, *traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (value != nullptr && traceback != nullptr) PyException_SetTraceback(value, traceback);
  Py_XDECREF(type);
  Py_XDECREF(traceback);
  PyObject* e = value;
#endif
  Py_XDECREF(pending);
  pending = e;
}

bool python_interrupt_check() noexcept {
  // Only the main thread runs signal handlers; elsewhere there is nothing to ask.
  if (PyThread_get_thread_ident() != main_thread.load(std::memory_order_relaxed)) return false;
  using Clock = std::chrono::steady_clock;
  static Clock::time_point last;  // main thread only
  const Clock::time_point now = Clock::now();
  if (now - last < std::chrono::milliseconds(20)) return false;
  last = now;
  const PyGILState_STATE gil = PyGILState_Ensure();
  const bool stop = PyErr_CheckSignals() != 0;
  if (stop) keep_pending();
  PyGILState_Release(gil);
  return stop;
}

// Sets the Python error for an Interrupted: the handler's exception, or KeyboardInterrupt.
void raise_interrupted() {
  if (pending != nullptr) {
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(pending);
#else
    PyErr_Restore(Py_NewRef(reinterpret_cast<PyObject*>(Py_TYPE(pending))), pending, PyException_GetTraceback(pending));
#endif
    pending = nullptr;
  } else {
    PyErr_SetNone(PyExc_KeyboardInterrupt);
  }
}

// Removes the check when the module goes away (the interpreter ends before the library's statics).
void remove_interrupt_check(PyObject*) { simulacra::set_interrupt_check(nullptr); }

void raise(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, Py_ssize_t(std::strlen(message)), "backslashreplace");
  if (!text) return;  // the decoding error is set
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

}  // namespace

void simulacra::python::install_interrupt_check(py::module_& m) {
  main_thread = py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>();
  simulacra::set_interrupt_check(&python_interrupt_check);
  PyObject* guard = PyCapsule_New(&main_thread, nullptr, &remove_interrupt_check);  // dropped with the module
  if (guard == nullptr) throw py::error_already_set();
  m.add_object("_interrupt_guard", py::reinterpret_steal<py::object>(guard));
}

PYBIND11_MODULE(_core, m) {
  using namespace simulacra::python;
  m.doc() = "simulacra: a language model that is an explicit, inspectable mixture of persona sub-models";

  file_error_type.call_once_and_store_result([&]() {
    py::object type = py::exception<simulacra::FileError>(m, "FileError", PyExc_OSError);
    type.attr("__module__") = "simulacra";
    type.attr("__doc__") =
        "A model or corpus file that cannot be read, written or understood (missing, truncated, corrupted, "
        "foreign, or newer than this library). A subclass of OSError.";
    return type;
  });
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const simulacra::Interrupted&) {
      raise_interrupted();
    } catch (const simulacra::FileError& e) {
      raise(file_error_type.get_stored().ptr(), e.what());
    } catch (const std::invalid_argument& e) {
      raise(PyExc_ValueError, e.what());
    } catch (const std::out_of_range& e) {
      raise(PyExc_IndexError, e.what());
    }
  });

  install_interrupt_check(m);
  bind_tokenizer(m);
  bind_corpus(m);
  bind_ngram(m);
  bind_ngram_counts(m);
  bind_mixture(m);
  bind_trace(m);  // these add methods to Mixture: after bind_mixture
  bind_state(m);
  bind_generate(m);
  bind_ngram_train(m);
  bind_model_file(m);
  bind_analysis(m);
  bind_smoothing(m);
  bind_cluster_metrics(m);
  bind_discovery(m);
  bind_segment_discovery(m);
  bind_transformer(m);  // TransformerPersona derives from Persona: after bind_ngram
  bind_transformer_train(m);
  bind_report(m);
  bind_batch(m);  // these add methods to Mixture: after bind_mixture
  bind_stream(m);
}
