// bind_ngram_counts.cpp — mergeable n-gram counts (ngram_counts.hpp): count
// shards apart (in processes, on Dask workers), merge, fit one persona.
#include <pybind11/operators.h>

#include "bind_common.hpp"

namespace simulacra::python {

void bind_ngram_counts(py::module_& m) {
  py::class_<NGramCounts>(m, "NGramCounts", R"doc(
The raw counts of every n-gram of orders 1..order of a set of documents:
what Kneser-Ney needs, and mergeable exactly. The persona of merged shard
counts is bit for bit NGramPersona.fit of all the documents at once.

    a = simulacra.NGramCounts(shard_a, order=5)
    b = simulacra.NGramCounts(shard_b, order=5)
    lm = (a + b).to_persona()          # == NGramPersona.fit(shard_a + shard_b, 5)
    wire = a.to_bytes()                # compact; NGramCounts.from_bytes(wire) == a; pickles the same way

A document is counted whole in one shard, so no n-gram is lost at a shard
boundary (n-grams never cross documents).
)doc")
      .def(py::init([](const std::vector<Text>& texts, int order) {
             std::vector<std::string> docs = texts_of(texts);
             py::gil_scoped_release release;
             return NGramCounts(docs, order);
           }),
           py::arg("texts"), py::arg("order"),
           "Counts the n-grams of documents (a list of str or bytes; an empty list gives empty counts, the identity "
           "of merging). ValueError for an order outside 1..1000.")
      .def_property_readonly("order", &NGramCounts::order)
      .def_property_readonly("num_documents", &NGramCounts::num_documents, "Documents counted.")
      .def_property_readonly("num_tokens", &NGramCounts::num_tokens,
                             "Tokens predicted: every byte and one end boundary per document.")
      .def_property_readonly(
          "num_ngrams", [](const NGramCounts& c) { return c.num_ngrams(); },
          "Stored n-grams of every order (order 1 is a dense table of 258 entries).")
      .def_property_readonly(
          "ngrams_per_order",
          [](const NGramCounts& c) {
            std::vector<std::size_t> out;
            for (int n = 1; n <= c.order(); ++n) out.push_back(c.num_ngrams(n));
            return out;
          },
          "Stored n-grams of order 1, 2, ..., order.")
      .def(
          "count",
          [](const NGramCounts& c, const Text& ngram, bool start) {
            std::vector<int> tokens;
            if (start) tokens.push_back(NGramPersona::kStart);
            for (unsigned char b : ngram.bytes) tokens.push_back(b);
            return c.count(tokens);
          },
          py::arg("ngram"), py::arg("start") = false,
          "Occurrences of the byte n-gram `ngram` (after the document start when start=True); 0 if never seen.")
      .def(
          "merge",
          [](NGramCounts& c, const NGramCounts& other) -> NGramCounts& {
            py::gil_scoped_release release;
            return c.merge(other);
          },
          py::arg("other"), py::return_value_policy::reference_internal,
          "Adds other's counts in place and returns self. ValueError if the orders differ.")
      .def(
          "__add__",
          [](const NGramCounts& a, const NGramCounts& b) {
            py::gil_scoped_release release;
            return merge(a, b);
          },
          py::is_operator())
      .def(
          "__iadd__",
          [](NGramCounts& a, const NGramCounts& b) -> NGramCounts& {
            py::gil_scoped_release release;
            return a.merge(b);
          },
          py::is_operator(), py::return_value_policy::reference_internal)
      .def("truncated", &NGramCounts::truncated, py::arg("order"),
           "The counts of a lower order (what counting at that order gives).")
      .def(
          "to_persona",
          [](const NGramCounts& c) {
            py::gil_scoped_release release;
            return c.to_persona();
          },
          "The Kneser-Ney persona of these counts (NGramPersona.fit of the counted documents, bit for bit). "
          "ValueError if nothing was counted.")
      .def(
          "to_bytes",
          [](const NGramCounts& c) {
            std::string bytes;
            {
              py::gil_scoped_release release;
              bytes = c.to_bytes();
            }
            return py::bytes(bytes);
          },
          "The compact serialisation (varints; a few bytes per stored n-gram).")
      .def_static(
          "from_bytes",
          [](const py::bytes& data) {
            const std::string_view view = data;  // valid while `data` lives
            py::gil_scoped_release release;
            return NGramCounts::from_bytes(view);
          },
          py::arg("data"), "The inverse of to_bytes. simulacra.FileError for damaged or foreign bytes.")
      .def(py::pickle([](const NGramCounts& c) { return py::bytes(c.to_bytes()); },
                      [](const py::bytes& data) { return NGramCounts::from_bytes(std::string_view(data)); }))
      .def(py::self == py::self)
      .def(py::self != py::self)
      .def("__repr__", [](const NGramCounts& c) {
        return fmt::format("NGramCounts(order={}, num_documents={}, num_tokens={}, num_ngrams={})", c.order(),
                           c.num_documents(), c.num_tokens(), c.num_ngrams());
      });
}

}  // namespace simulacra::python
