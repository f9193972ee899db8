// bind_tokenizer.cpp — byte tokens plus the document boundary (tokenizer.hpp).
#include "bind_common.hpp"

namespace simulacra::python {

void bind_tokenizer(py::module_& m) {
  m.attr("VOCAB") = kVocab;
  m.attr("BOUNDARY") = kBoundary;
  m.attr("FORMAT_VERSION") = kFormatVersion;

  m.def(
      "encode", [](const Text& text) { return i32(encode(text.bytes)); }, py::arg("text"),
      "The tokens of a text: its bytes (str is UTF-8 encoded), no boundary. int32 array.");
  m.def(
      "encode_document", [](const Text& text) { return i32(encode_document(text.bytes)); }, py::arg("text"),
      "The tokens of a document: its bytes followed by the end boundary. int32 array.");
  m.def(
      "decode",
      [](py::handle tokens, const Text& boundary) {
        return py::bytes(decode(token_array(tokens, "tokens"), boundary.bytes));
      },
      py::arg("tokens"), py::arg("boundary") = Text{"\n"},
      "The bytes of integer tokens; a boundary token becomes `boundary`. IndexError for a token outside 0..256.");
  m.def(
      "token_name", [](Token t) { return token_name(t); }, py::arg("token"),
      "A readable name of one token: printable ASCII as itself, '\\n'-style escapes, '<b>' for the boundary.");
}

}  // namespace simulacra::python
