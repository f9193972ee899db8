// bind_model_file.cpp — model files (model_file.hpp): Mixture.save,
// simulacra.load, and pickling through save / load.
#include <fstream>
#include <iterator>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

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
