// module.cpp — the `simulacra._core` extension: one bind_<topic>() per topic
// file, plus the mapping of the library's exceptions.
//
//   InvalidArgument (std::invalid_argument) -> ValueError
//   OutOfRange      (std::out_of_range)     -> IndexError
//   FileError       (std::runtime_error)    -> simulacra.FileError, a subclass of OSError
//
// These are pybind11's own mappings for the standard types, with one change:
// a message is decoded with errors="backslashreplace", since it may quote
// bytes of a damaged file or a non-UTF-8 name (pybind11 would raise
// UnicodeDecodeError instead of the error itself).
#include <cstring>

#include <pybind11/gil_safe_call_once.h>

#include "bind_common.hpp"
#include "bind_transformer.hpp"

namespace simulacra::python {
void bind_tokenizer(py::module_& m);
void bind_analysis(py::module_& m);
void bind_report(py::module_& m);
}  // namespace simulacra::python

namespace {

namespace py = pybind11;

PYBIND11_CONSTINIT py::gil_safe_call_once_and_store<py::object> file_error_type;

void raise(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, Py_ssize_t(std::strlen(message)), "backslashreplace");
  if (!text) return;  // the decoding error is set
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

}  // namespace

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
    } catch (const simulacra::FileError& e) {
      raise(file_error_type.get_stored().ptr(), e.what());
    } catch (const std::invalid_argument& e) {
      raise(PyExc_ValueError, e.what());
    } catch (const std::out_of_range& e) {
      raise(PyExc_IndexError, e.what());
    }
  });

  bind_tokenizer(m);
  bind_corpus(m);
  bind_ngram(m);
  bind_mixture(m);
  bind_analysis(m);  // methods of Mixture: after bind_mixture
  bind_transformer(m);  // TransformerPersona derives from Persona: after bind_ngram
  bind_transformer_train(m);
  bind_report(m);
}
