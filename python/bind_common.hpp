// bind_common.hpp — what every bind_<topic>.cpp shares: how texts, paths,
// persona keys and arrays cross the boundary, and how long calls release the
// GIL yet stop on Ctrl-C.
//
// Texts: wherever a text is taken, `str` (encoded as UTF-8; lone surrogates
// from "surrogateescape" decoding map back to their bytes), `bytes` and
// `bytearray` are accepted (the Text caster below). Texts given back are
// `bytes` where exactness matters and `str` decoded with errors="replace"
// where they are for reading.
//
// Arrays out are fresh, C-contiguous numpy arrays: float32 for weights and
// log-probabilities unless a function says float64, int32 for tokens.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <climits>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/simulacra.hpp"

namespace simulacra::python {

namespace py = pybind11;

// A text argument: its bytes.
struct Text {
  std::string bytes;
};

// A filesystem path argument (str, bytes or os.PathLike), as os.fsencode gives it.
struct Path {
  std::string bytes;
};

// ------------------------------------------------------------------ texts and names

// Python str from bytes that are meant to be read (invalid UTF-8 replaced).
inline py::str readable(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), Py_ssize_t(bytes.size()), "replace");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

// Python str for a name (persona, speaker) that must round-trip back to the
// same bytes: undecodable bytes become lone surrogates ("surrogateescape").
inline py::str name_str(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), Py_ssize_t(bytes.size()), "surrogateescape");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
}

// A quoted, readable token for tables: 'A', ' ', '\n', <b>.
inline std::string shown_token(Token t) { return t == kBoundary ? "<b>" : "'" + token_name(t) + "'"; }

inline py::list name_list(const std::vector<std::string>& names) {
  py::list out;
  for (const auto& n : names) out.append(name_str(n));
  return out;
}

// The name of an object's type, for error messages: "float", "list".
inline std::string type_name(py::handle obj) { return py::str(py::type::handle_of(obj).attr("__name__")); }

// The bytes of a str / bytes / bytearray object; nullopt for any other type.
// Throws error_already_set for a str that cannot be encoded.
inline std::optional<std::string> text_bytes(py::handle obj) {
  PyObject* o = obj.ptr();
  if (PyUnicode_Check(o)) {
    Py_ssize_t n = 0;
    if (const char* s = PyUnicode_AsUTF8AndSize(o, &n)) return std::string(s, std::size_t(n));
    PyErr_Clear();  // lone surrogates: try the escape that decoding used
    PyObject* b = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
    if (!b) throw py::error_already_set();
    std::string out(PyBytes_AS_STRING(b), std::size_t(PyBytes_GET_SIZE(b)));
    Py_DECREF(b);
    return out;
  }
  if (PyBytes_Check(o)) return std::string(PyBytes_AS_STRING(o), std::size_t(PyBytes_GET_SIZE(o)));
  if (PyByteArray_Check(o)) return std::string(PyByteArray_AS_STRING(o), std::size_t(PyByteArray_GET_SIZE(o)));
  return std::nullopt;
}

// The bytes of a text argument called `what`; TypeError naming it otherwise.
inline std::string text_arg(py::handle obj, const char* what) {
  if (auto b = text_bytes(obj)) return std::move(*b);
  throw py::type_error(std::string(what) + ": expected str or bytes, got " + type_name(obj));
}

inline std::vector<std::string> texts_of(const std::vector<Text>& texts) {
  std::vector<std::string> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(t.bytes);
  return out;
}

// The value of an integer argument (int, numpy integer; not bool, not an
// array); nullopt for anything else. Values beyond long long saturate.
inline std::optional<long long> index_value(py::handle obj) {
  if (!PyIndex_Check(obj.ptr()) || PyBool_Check(obj.ptr()) || py::isinstance<py::array>(obj)) return std::nullopt;
  auto i = py::reinterpret_steal<py::object>(PyNumber_Index(obj.ptr()));
  if (!i) throw py::error_already_set();
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
  if (overflow) return overflow > 0 ? LLONG_MAX : LLONG_MIN;
  if (v == -1 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

// ------------------------------------------------------------------ arrays

// A fresh C-contiguous numpy copy of a vector (1-D) or a matrix (2-D), as
// float32 or float64 (Scalar).
template <class Scalar, class Derived>
py::array_t<Scalar> to_numpy(const Eigen::MatrixBase<Derived>& m) {
  if constexpr (Derived::ColsAtCompileTime == 1) {
    py::array_t<Scalar> out(py::ssize_t(m.size()));
    auto o = out.template mutable_unchecked<1>();
    for (Eigen::Index i = 0; i < m.size(); ++i) o(i) = Scalar(m(i));
    return out;
  } else {
    py::array_t<Scalar> out({py::ssize_t(m.rows()), py::ssize_t(m.cols())});
    auto o = out.template mutable_unchecked<2>();
    for (Eigen::Index i = 0; i < m.rows(); ++i)
      for (Eigen::Index j = 0; j < m.cols(); ++j) o(i, j) = Scalar(m(i, j));
    return out;
  }
}

template <class Derived>
py::array_t<float> f32(const Eigen::MatrixBase<Derived>& m) {
  return to_numpy<float>(m);
}

template <class Derived>
py::array_t<double> f64(const Eigen::MatrixBase<Derived>& m) {
  return to_numpy<double>(m);
}

// A fresh int32 (n) copy of a vector of ints (tokens, persona indices).
inline py::array_t<std::int32_t> i32(const std::vector<int>& v) {
  py::array_t<std::int32_t> out(py::ssize_t(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// (K) or (T, K) weights, exp(log_weights), as float32.
template <class Derived>
py::array_t<float> weights_of(const Eigen::MatrixBase<Derived>& log_weights) {
  return f32(log_weights.array().exp().matrix());
}

// Marks an array read-only (results cached on an object are handed out as is).
inline py::array frozen(py::array a) {
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

// "(3, 4)": the shape of an array, as numpy prints it.
inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

// `obj` as a float64 array of the given shape (-1: any length), converted
// from any real-valued array-like. TypeError naming `what` for a non-numeric
// input, ValueError naming it and the expected shape for a wrong shape.
inline Eigen::MatrixXd real_array(py::handle obj, const char* what, py::ssize_t rows, py::ssize_t cols,
                                  const std::string& expected) {
  py::module_ np = py::module_::import("numpy");
  py::array a;
  try {
    a = np.attr("asarray")(obj);
  } catch (py::error_already_set&) {
    throw py::type_error(std::string(what) + ": expected an array of real numbers of shape " + expected);
  }
  const char kind = py::str(a.dtype().attr("kind")).cast<std::string>()[0];
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(what) + ": expected real numbers of shape " + expected + ", got dtype " +
                         std::string(py::str(a.dtype())));
  const bool matrix = cols >= 0;
  const bool ok = a.ndim() == (matrix ? 2 : 1) && (rows < 0 || a.shape(0) == rows) && (!matrix || a.shape(1) == cols);
  if (!ok) throw py::value_error(std::string(what) + ": expected shape " + expected + ", got " + shape_str(a));
  auto d = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!d) throw py::error_already_set();
  const Eigen::Index r = Eigen::Index(a.shape(0)), c = matrix ? Eigen::Index(a.shape(1)) : 1;
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(d.data(), r, c);
}

// The elements of a non-empty integer array as tokens, row-major. TypeError
// naming `what` and `shape` ("(n,)", "(B, L)") for a non-integer dtype.
// Narrowing to Token must not wrap: values beyond int32 raise IndexError
// here, at position i, or at (i / row, i % row) when row > 0; the library
// checks 0..kVocab-1 itself.
inline std::vector<Token> integer_tokens(const py::array& a, const char* what, const char* shape, py::ssize_t row) {
  const char kind = py::str(a.dtype().attr("kind")).cast<std::string>()[0];
  if (kind != 'i' && kind != 'u')
    throw py::type_error(std::string(what) + ": expected integer tokens of shape " + shape + ", got dtype " +
                         std::string(py::str(a.dtype())));
  auto d = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!d) throw py::error_already_set();
  std::vector<Token> out(std::size_t(d.size()));
  for (py::ssize_t i = 0; i < d.size(); ++i) {
    const std::int64_t t = d.data()[i];
    if (t < INT32_MIN || t > INT32_MAX) {
      const std::string at = row > 0 ? fmt::format("({}, {})", i / row, i % row) : fmt::format("position {}", i);
      throw OutOfRange(fmt::format("{}: token {} at {} is outside 0..{}", what, t, at, kVocab - 1));
    }
    out[std::size_t(i)] = Token(t);
  }
  return out;
}

// Tokens from an integer array-like (1-D). TypeError for non-integers,
// ValueError for another shape. The library checks the range 0..kVocab-1
// (IndexError); values that do not even fit a Token raise it here.
inline std::vector<Token> token_array(py::handle obj, const char* what) {
  py::module_ np = py::module_::import("numpy");
  py::array a;
  try {
    a = np.attr("asarray")(obj);
  } catch (py::error_already_set&) {
    throw py::type_error(std::string(what) + ": expected a 1-D array of integer tokens");
  }
  if (a.ndim() == 0)
    throw py::type_error(std::string(what) + ": expected a sequence of integer tokens, got " + type_name(obj));
  if (a.ndim() != 1) throw py::value_error(std::string(what) + ": expected shape (n,), got " + shape_str(a));
  if (a.size() == 0) return {};  // np.asarray([]) is float64
  return integer_tokens(a, what, "(n,)", 0);
}

// Tokens of a text (str / bytes: its bytes, no boundary) or of an integer
// sequence (token ids, boundaries allowed).
inline std::vector<Token> tokens_arg(py::handle obj, const char* what) {
  if (auto b = text_bytes(obj)) return encode(*b);
  return token_array(obj, what);
}

// MixtureConfig::switch_after from None (every token), a text (its bytes:
// "\n", b".!?") or an iterable of token ids. ValueError for an empty one
// (None means every token), TypeError for anything else; the range is
// checked by the mixture (ValueError).
inline std::vector<Token> switch_after_arg(py::handle obj) {
  if (obj.is_none()) return {};
  std::vector<Token> out;
  if (auto b = text_bytes(obj)) {
    for (unsigned char c : *b) out.push_back(Token(c));
  } else if (py::isinstance<py::iterable>(obj)) {
    for (py::handle v : obj) {
      const auto i = index_value(v);
      if (!i) throw py::type_error("switch_after: expected None, str, bytes or integer tokens, got an element of type " +
                                   type_name(v));
      out.push_back(*i < INT_MIN ? INT_MIN : *i > INT_MAX ? INT_MAX : Token(*i));
    }
  } else {
    throw py::type_error("switch_after: expected None, str, bytes or a set of integer tokens, got " + type_name(obj));
  }
  if (out.empty()) throw py::value_error("switch_after: is empty (None lets a switch follow every token)");
  return out;
}

// ------------------------------------------------------------------ long calls

// Raises the pending Python exception if a signal (Ctrl-C) arrived. Needs the GIL.
inline void check_signals() {
  if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

// The library's long loops poll an interrupt check (interrupt.hpp) while
// the GIL is released. The module installs one (install_interrupt_check, in
// module.cpp) that, on the main thread and at most every 20 ms, takes the
// GIL and asks the interpreter whether a signal arrived (PyErr_CheckSignals
// runs the Python handlers). The exception a handler raised
// (KeyboardInterrupt for Ctrl-C) is kept, and raised in its place when the
// library's Interrupted reaches the binding (the exception translator).
// install_interrupt_check (bind.hpp) installs it.

// ------------------------------------------------------------------ pickling

// __getstate__ / __setstate__ of a persona class P: the model-file bytes of a
// pile of that one persona (model_file.hpp's persona_to_bytes), in memory,
// checked on the way back as a loaded file is.
template <class P>
auto persona_pickle() {
  return py::pickle(
      [](const std::shared_ptr<P>& p) {
        std::string bytes;
        {
          py::gil_scoped_release release;
          bytes = persona_to_bytes(p);
        }
        return py::bytes(bytes);
      },
      [](const py::bytes& state) {
        const std::string_view content = state;  // valid while `state` lives, GIL or not
        std::shared_ptr<const Persona> back;
        {
          py::gil_scoped_release release;
          back = persona_from_bytes(content, "pickled persona");
        }
        auto typed = std::dynamic_pointer_cast<const P>(back);
        if (!typed) throw FileError("pickled persona: holds a persona of kind '" + back->kind() + "'");
        return std::const_pointer_cast<P>(typed);
      });
}

}  // namespace simulacra::python

namespace pybind11::detail {

template <>
struct type_caster<simulacra::python::Text> {
  PYBIND11_TYPE_CASTER(simulacra::python::Text, const_name("str | bytes"));
  bool load(handle src, bool) {
    auto b = simulacra::python::text_bytes(src);
    if (!b) return false;
    value.bytes = std::move(*b);
    return true;
  }
  static handle cast(const simulacra::python::Text& t, return_value_policy, handle) {
    return bytes(t.bytes).release();
  }
};

template <>
struct type_caster<simulacra::python::Path> {
  PYBIND11_TYPE_CASTER(simulacra::python::Path, const_name("str | os.PathLike[str]"));
  bool load(handle src, bool) {
    if (!PyUnicode_Check(src.ptr()) && !PyBytes_Check(src.ptr()) && !PyObject_HasAttrString(src.ptr(), "__fspath__"))
      return false;
    object b = module_::import("os").attr("fsencode")(src);
    value.bytes = b.cast<std::string>();
    return true;
  }
  static handle cast(const simulacra::python::Path& p, return_value_policy, handle) {
    return module_::import("os").attr("fsdecode")(bytes(p.bytes)).release();
  }
};

}  // namespace pybind11::detail
