// bind_model_file.cpp — model files (model_file.hpp): Mixture.save,
// simulacra.load, and pickling through the in-memory save_to_bytes / load_from_bytes.
#include <string>
#include <string_view>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// ------------------------------------------------------------------ pickling

py::bytes mixture_to_bytes(const Mixture& mix) {
  std::string content;
  {
    py::gil_scoped_release release;
    content = save_to_bytes(mix);
  }
  return py::bytes(content);
}

Mixture mixture_from_bytes(const py::bytes& state) {
  const std::string_view content = state;  // valid while `state` lives, GIL or not
  py::gil_scoped_release release;
  return load_from_bytes(content, "pickled Mixture");
}

}  // namespace

void bind_model_file(py::module_& m) {
  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def(
          "save",
          [](const Mixture& mix, const Path& path) {
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            save(*seen, path.bytes);
          },
          py::arg("path"), "Writes the model to a safetensors file, atomically. OSError if it cannot be written.")
      .def(
          "compact",
          [](const Mixture& mix, bool quantize) {
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            return compact_personas(*seen, quantize);
          },
          py::arg("quantize") = false,
          "The pile with every stand-alone NGramPersona mask compact (NGramPersona.compact) or, quantize=True, "
          "quantised; other masks, the prior and the settings as they are (docs/compact.md). ValueError for a "
          "pile with masks interpolated with a background (Mixture.fit(background=False) or train "
          "--no-background make piles without).")
      .def(py::pickle([](const Mixture& mix) { return mixture_to_bytes(*SeenMixture(mix)); },
                      [](const py::bytes& state) { return mixture_from_bytes(state); }));

  m.def(
      "load",
      [](const Path& path, bool mmap) {
        py::gil_scoped_release release;
        return mmap ? load_mapped(path.bytes) : load(path.bytes);
      },
      py::arg("path"), py::arg("mmap") = false,
      "Reads a model written by Mixture.save(). simulacra.FileError (an OSError) naming the path and the problem for "
      "a missing, truncated, corrupted, foreign or newer file. mmap=True maps the file and leaves the arrays of its "
      "compact n-gram personas (NGramPersona.compact) in the mapping, validated in place: no copy, and processes "
      "loading the same file share its pages (docs/compact.md).");
}

}  // namespace simulacra::python
