// simulacra/corpus.hpp — documents labelled with the persona that wrote them.
//
// A Corpus is the training and evaluation data of a mixture: a list of
// documents, each with the name of its persona. Loaders read the common
// on-disk layouts; split() holds out a stratified, seeded part for evaluation.
//
//   auto corpus = simulacra::Corpus::from_play("tinyshakespeare.txt", /*top_speakers=*/5);
//   auto [train, heldout] = corpus.split(0.1, /*seed=*/42);
//   for (const auto& name : train.personas())
//     fmt::print("{}: {} documents\n", name, train.texts_of(name).size());
//
// Paragraphs. Several loaders cut a text into paragraphs: maximal runs of
// non-blank lines, where a blank line is empty or whitespace-only. Lines
// end at '\n'; a paragraph keeps its inner newlines but not the newline
// (nor a '\r' before it) that ends its last line.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra {

// One document and the persona it belongs to.
struct Document {
  std::string text;     // the document's bytes
  std::string persona;  // the persona's name, never empty
};

class Corpus {
 public:
  Corpus() = default;

  // ---- building and reading -------------------------------------------------

  // Appends a document. Throws InvalidArgument if `persona` is empty. Empty
  // texts are allowed.
  void add(std::string text, std::string persona);

  std::size_t size() const { return documents_.size(); }
  bool empty() const { return documents_.empty(); }

  // Document `i`; throws OutOfRange naming the index and the size.
  const Document& operator[](std::size_t i) const;

  // All documents, in the order they were added.
  const std::vector<Document>& documents() const { return documents_; }

  // The distinct persona names, sorted.
  std::vector<std::string> personas() const;

  // The texts of `persona`'s documents, in corpus order. Throws OutOfRange
  // naming the persona if it has no document.
  std::vector<std::string> texts_of(const std::string& persona) const;

  // The total size of all texts in bytes.
  std::size_t bytes() const;

  // (train, heldout): for each persona with n documents, k of them go to
  // heldout and the rest to train, where k = round(heldout_fraction * n),
  // raised to 1 when n >= 2 and heldout_fraction > 0, and lowered to n - 1
  // so that every persona keeps at least one training document. The k are
  // chosen by a Fisher-Yates draw from std::mt19937_64(seed) (bias-free
  // bounded draws, personas in sorted order), so a seed gives the same split
  // with every standard library. Both parts keep the corpus order. Throws
  // InvalidArgument unless heldout_fraction is finite and in [0, 1).
  std::pair<Corpus, Corpus> split(double heldout_fraction, std::uint64_t seed) const;
  // split()'s choice as one flag per document: true where it goes to heldout.
  std::vector<bool> split_mask(double heldout_fraction, std::uint64_t seed) const;

  // (train, heldout) by position, for text that comes in order (a play, a
  // log): for each persona, the shortest tail of its documents (in corpus
  // order) holding at least heldout_fraction of its bytes goes to heldout,
  // so every held-out byte comes after all of that persona's training text.
  // A persona's first document always stays in train (a persona with one
  // document holds nothing out). Both parts keep the corpus order. Throws
  // InvalidArgument unless heldout_fraction is finite and in [0, 1).
  std::pair<Corpus, Corpus> split_tail(double heldout_fraction) const;

  // ---- loaders ----------------------------------------------------------------
  // File loaders throw FileError naming the path when it cannot be read or
  // yields no documents. Files are read with read_file (file_io.hpp): only
  // regular files (a FIFO or a device named directly is refused without
  // being opened), each of at most kMaxFileBytes.

  // The largest file a loader reads: 4 GiB (an n-gram corpus holds at most
  // 2^32 - 1 tokens anyway).
  static constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 32;

  // texts[i] by personas[i]; with `personas` empty, every document has the
  // persona "default". Throws InvalidArgument naming both sizes when they
  // differ, or when a persona is empty.
  static Corpus from_texts(const std::vector<std::string>& texts, const std::vector<std::string>& personas = {});

  // A directory with one entry per persona, visited in name order, hidden
  // entries (names starting with '.') skipped:
  //   <persona>.<ext>  a regular file whose paragraphs are the documents
  //   <persona>/       a directory whose every regular, non-hidden, non-empty
  //                    file (in name order) is one document, whole
  static Corpus from_directory(const std::string& path);

  // JSON Lines: one object per non-blank line with string fields "text" and
  // "persona" (other fields ignored). Errors read "path:line: what".
  static Corpus from_jsonl(const std::string& path);

  // A play script whose blocks (paragraphs) start with a speaker line
  // "Speaker Name:" followed by the speech, e.g. tinyshakespeare.txt. Each
  // non-empty speech is a document by its speaker (the name trimmed of
  // surrounding whitespace); blocks without a speaker line are skipped.
  // With `groups` non-empty, speakers missing from it are dropped and each
  // other speech takes the persona groups[speaker]. With top_speakers > 0,
  // only the speeches of the top_speakers speakers (among those in `groups`,
  // if given) with the most bytes of speech, ties broken by name, are kept.
  // Throws InvalidArgument if `groups` maps a speaker to an empty name.
  static Corpus from_play(const std::string& path, std::size_t top_speakers = 0,
                          const std::map<std::string, std::string>& groups = {});

  // fortune(6) files: entries separated by lines that are exactly "%", each
  // entry a document (trailing newline stripped, blank entries skipped) whose
  // persona is the file's stem. A directory expands to its regular files
  // without an extension, in name order (so fortunes/riddles, not
  // riddles.dat or riddles.u8).
  static Corpus from_fortunes(const std::vector<std::string>& paths);

  // The default corpus embedded in the library at build time: each
  // data/personas/<persona>.txt, cut into paragraphs. Empty if the build
  // embedded no files.
  static Corpus builtin();

 private:
  std::vector<Document> documents_;
};

namespace detail {

// Generated by cmake/embed_corpus.cmake: (persona name, file content) of each
// embedded data/personas/*.txt, in file name order.
const std::vector<std::pair<std::string_view, std::string_view>>& builtin_persona_files();

// The paragraphs of `text` (see "Paragraphs" above), in order.
std::vector<std::string> split_paragraphs(std::string_view text);

}  // namespace detail

}  // namespace simulacra
