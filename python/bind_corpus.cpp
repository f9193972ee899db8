// bind_corpus.cpp — labelled documents and their loaders (corpus.hpp).
#include "bind_common.hpp"

namespace simulacra::python {

namespace {

// Iterates a corpus by index, so that add() during iteration is safe.
struct CorpusIterator {
  py::object corpus;
  std::size_t next = 0;
};

std::size_t wrap_index(std::ptrdiff_t i, std::size_t size) {
  if (i < 0) i += std::ptrdiff_t(size);
  if (i < 0)
    throw OutOfRange(fmt::format("Corpus: document index {} is out of range for size {}", i - std::ptrdiff_t(size),
                                 size));
  return std::size_t(i);  // the library checks the upper end
}

std::vector<std::string> path_list(py::handle paths) {
  py::object single = py::module_::import("os").attr("PathLike");
  if (PyUnicode_Check(paths.ptr()) || PyBytes_Check(paths.ptr()) || py::isinstance(paths, single))
    return {paths.cast<Path>().bytes};
  std::vector<std::string> out;
  for (py::handle p : paths) out.push_back(p.cast<Path>().bytes);
  return out;
}

}  // namespace

void bind_corpus(py::module_& m) {
  py::class_<Document>(m, "Document", "One document and the persona it belongs to.")
      .def_property_readonly(
          "text", [](const Document& d) { return readable(d.text); },
          "The text as str (invalid UTF-8 replaced by U+FFFD; .raw has the exact bytes).")
      .def_property_readonly(
          "raw", [](const Document& d) { return py::bytes(d.text); }, "The document's exact bytes.")
      .def_property_readonly(
          "persona", [](const Document& d) { return name_str(d.persona); }, "The persona's name.")
      .def("__eq__",
           [](const Document& a, const Document& b) { return a.text == b.text && a.persona == b.persona; })
      .def("__hash__",
           [](const Document& d) { return py::hash(py::make_tuple(py::bytes(d.text), name_str(d.persona))); })
      .def("__repr__", [](const Document& d) {
        std::string shown = py::repr(readable(d.text.size() > 60 ? d.text.substr(0, 57) : d.text));
        if (d.text.size() > 60) shown.insert(shown.size() - 1, "...");
        return fmt::format("Document(persona={}, text={})", std::string(py::repr(name_str(d.persona))), shown);
      });

  py::class_<CorpusIterator>(m, "_CorpusIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](CorpusIterator& it) {
        const Corpus& c = it.corpus.cast<const Corpus&>();
        if (it.next >= c.size()) throw py::stop_iteration();
        return c[it.next++];
      });

  py::class_<Corpus>(m, "Corpus", R"doc(
Documents labelled with the persona that wrote them: the training and
evaluation data of a mixture. Texts may be str (UTF-8) or bytes.

    corpus = simulacra.Corpus.from_play("tinyshakespeare.txt", top_speakers=5)
    train, heldout = corpus.split(0.1, seed=42)
)doc")
      .def(py::init<>(), "An empty corpus.")
      .def_static(
          "from_texts",
          [](const std::vector<Text>& texts, std::optional<std::vector<Text>> personas) {
            return Corpus::from_texts(texts_of(texts), personas ? texts_of(*personas) : std::vector<std::string>{});
          },
          py::arg("texts"), py::arg("personas") = py::none(),
          "texts[i] written by personas[i]; without personas every document belongs to 'default'.")
      .def_static(
          "from_directory", [](const Path& path) { return Corpus::from_directory(path.bytes); }, py::arg("path"),
          py::call_guard<py::gil_scoped_release>(),
          "One entry per persona: <persona>.<ext> (its paragraphs are the documents) or <persona>/ (each file is "
          "one document).")
      .def_static(
          "from_jsonl", [](const Path& path) { return Corpus::from_jsonl(path.bytes); }, py::arg("path"),
          py::call_guard<py::gil_scoped_release>(),
          "JSON Lines with string fields 'text' and 'persona', one object per line.")
      .def_static(
          "from_play",
          [](const Path& path, std::optional<std::size_t> top_speakers, std::optional<py::dict> groups) {
            std::map<std::string, std::string> g;
            if (groups)
              for (auto item : *groups) g[text_arg(item.first, "groups key")] = text_arg(item.second, "groups value");
            py::gil_scoped_release release;
            return Corpus::from_play(path.bytes, top_speakers.value_or(0), g);
          },
          py::arg("path"), py::arg("top_speakers") = py::none(), py::arg("groups") = py::none(),
          "A play script ('Speaker:' line, then the speech); each speech is a document by its speaker. "
          "groups maps speakers to personas (others dropped); top_speakers keeps the speakers with the most text.")
      .def_static(
          "from_fortunes",
          [](py::handle paths) {
            std::vector<std::string> list = path_list(paths);
            py::gil_scoped_release release;
            return Corpus::from_fortunes(list);
          },
          py::arg("paths"),
          "fortune(6) files ('%' lines separate entries); the persona is the file's name. A path or a list of "
          "paths; a directory expands to its files without an extension.")
      .def_static("builtin", &Corpus::builtin, "The default corpus embedded in the library (data/personas/*.txt).")
      .def("__len__", &Corpus::size)
      .def(
          "__getitem__", [](const Corpus& c, std::ptrdiff_t i) { return c[wrap_index(i, c.size())]; },
          py::arg("index"))
      .def("__iter__", [](py::object self) { return CorpusIterator{self, 0}; })
      .def_property_readonly(
          "personas", [](const Corpus& c) { return name_list(c.personas()); }, "The distinct persona names, sorted.")
      .def_property_readonly("bytes", &Corpus::bytes, "The total size of all texts in bytes.")
      .def(
          "add", [](Corpus& c, const Text& text, const Text& persona) { c.add(text.bytes, persona.bytes); },
          py::arg("text"), py::arg("persona"), "Appends a document. ValueError for an empty persona.")
      .def(
          "texts_of",
          [](const Corpus& c, const Text& persona) {
            py::list out;
            for (const auto& t : c.texts_of(persona.bytes)) out.append(py::bytes(t));
            return out;
          },
          py::arg("persona"), "The exact bytes of the persona's documents. IndexError if it has none.")
      .def(
          "split", [](const Corpus& c, double fraction, std::uint64_t seed) { return c.split(fraction, seed); },
          py::arg("fraction"), py::arg("seed") = 0,
          "(train, heldout): a seeded, per-persona share `fraction` of the documents held out; every persona keeps "
          "at least one training document.")
      .def("split_tail", &Corpus::split_tail, py::arg("fraction"),
           "(train, heldout) by position: the shortest tail of each persona's documents holding `fraction` of its "
           "bytes held out, so the held-out text comes after the training text; the first document stays in train.")
      .def("__repr__",
           [](const Corpus& c) {
             return fmt::format("Corpus(documents={}, personas={}, bytes={})", c.size(),
                                std::string(py::repr(name_list(c.personas()))), c.bytes());
           })
      .def(py::pickle(
          [](const Corpus& c) {
            py::list texts, personas;
            for (const Document& d : c.documents()) {
              texts.append(py::bytes(d.text));
              personas.append(py::bytes(d.persona));
            }
            return py::make_tuple(texts, personas);
          },
          [](const py::tuple& state) {
            if (state.size() != 2) throw py::value_error("Corpus: bad pickled state");
            return Corpus::from_texts(texts_of(state[0].cast<std::vector<Text>>()),
                                      texts_of(state[1].cast<std::vector<Text>>()));
          }));
}

}  // namespace simulacra::python
