// simulacra/arpa.hpp — n-gram personas as ARPA files, the back-off language
// model text format that SRILM, KenLM, IRSTLM and others read and write.
//
// Words are bytes: each byte is the word of its two lowercase hex digits
// ("41" for 'A', "0a" for a newline), the document boundary (kBoundary) is
// </s> and the document start <s>, so the document "AB" is the sentence
// "41 42" and any ARPA tool scores it as p(41 | <s>) p(42 | <s> 41)
// p(</s> | <s> 41 42), which is what NGramPersona::score_document("AB")
// computes (in natural log; ARPA is log10).
//
// An ARPA file stores, per n-gram hw, log10 p(w | h) (the full interpolated
// probability) and log10 of its backoff weight gamma(hw); a query backs off:
//
//   p(w | h) = p(hw)                       if hw is stored
//            = gamma(h) p(w | h')          otherwise (gamma = 1 for an unstored h)
//
// Writing: every stored n-gram of the trie, its probability as advance()
// computes it, numbers in the shortest decimal form that reads back as the
// same double (so the log10 values round-trip exactly and the probabilities
// to ~1e-15 relative: one rounding of log10, one of 10^x); a probability or
// backoff of exactly 0 is written as -99. <s> is the unigram
// "-99 <s> backoff" (never predicted) and <unk> is "-99 <unk> 0" (the byte
// vocabulary is complete: no word is ever unknown, and KenLM wants the line).
// Backoffs are left out at the highest order and after </s>.
//
// Reading (docs/arpa.md): the trie is rebuilt with disc(hw) = p(hw) -
// gamma(h) p(w | h'), which is negative where a back-off (Katz) model stores
// less than it would back off to, so the model answers exactly the ARPA
// query above. Missing backoff columns mean 0, the <s> probability is
// ignored, n-grams with <unk> are dropped (no byte is unknown), a byte the
// file does not list scores as <unk> does (as in KenLM; 10^-100 when there
// is no <unk> either), a missing suffix n-gram of a stored one is added with
// its backed-off probability and backoff 1 (which answers every query the
// same), and each context's distribution over the 257 byte tokens is
// rescaled to sum to 1 when it is off by more than 1e-12 (printing
// precision, <unk> mass: at most kArpaTolerance, else FileError). The
// discounts of a read model are 0 (ARPA holds probabilities, not discounts).
// Errors are FileError "<path>: line <n>: <problem>" (a word that is not two
// lowercase hex digits, <s>, </s> or <unk>; counts that disagree with the
// sections; a missing section or \end\; NaN; a stored n-gram whose context is
// not stored; ...), raised before anything large is allocated: the header's
// counts are checked against the file's size first.
//
//   auto lm = simulacra::NGramPersona::fit({"Arr, matey!", "Ahoy, matey!"}, 3);
//   simulacra::save_arpa(lm, "pirate.arpa");        // kenlm.Model("pirate.arpa") reads it
//   simulacra::NGramPersona again = simulacra::load_arpa("pirate.arpa");
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "simulacra/ngram.hpp"

namespace simulacra {

// The largest ARPA file load_arpa reads (4 GiB); a larger one is refused
// before it is read.
inline constexpr std::uint64_t kMaxArpaBytes = std::uint64_t(4) << 30;

// How far from 1 a context's distribution over the byte tokens may sum in a
// file that is read (then rescaled to 1): room for 6-digit printing and for
// the <unk> mass of a model trained on text without every byte.
inline constexpr double kArpaTolerance = 0.01;

// Writes `lm` to `path` as an ARPA file, atomically (write_file_atomic in
// file_io.hpp). InvalidArgument if `lm` is empty; FileError if the file
// cannot be written.
void save_arpa(const NGramPersona& lm, const std::string& path);

// The text save_arpa would write.
std::string save_arpa_to_bytes(const NGramPersona& lm);

// Reads an ARPA file (a regular file of at most kMaxArpaBytes, read as
// file_io.hpp's read_file does) into an n-gram persona. FileError naming the
// path and the line on any problem.
NGramPersona load_arpa(const std::string& path);

// Reads ARPA text; `name` stands for the path in the FileError messages.
NGramPersona load_arpa_from_bytes(std::string_view text, const std::string& name);

}  // namespace simulacra
