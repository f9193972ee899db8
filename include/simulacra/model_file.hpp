// simulacra/model_file.hpp — saving and loading a trained pile of masks.
//
// A model file is a safetensors file (readable by the `safetensors` Python
// package) whose `__metadata__` holds:
//
//   format          "simulacra"
//   format_version  "1" (a newer version is refused with a clear error)
//   tokenizer       JSON: {"kind": "byte", "vocab": 257, "boundary": 256}
//   config          JSON: {"beta": .., "switching": "fixed_share", "alpha": .., "gamma": ..}
//   personas        JSON: [{"name": "pirate", "kind": "ngram", "order": 5},
//                          {"name": "bard", "kind": "transformer", "model": 0, "head": 1}, ...]
//   transformers    JSON (version 2, with transformer personas): one TransformerConfig per
//                   distinct model, [{"layers": 4, "heads": 4, "width": 128, ...}]; the heads of
//                   a hydra share one model entry and its tensors "transformer.<m>.<name>"
//
// and whose tensors are the prior, the transition matrix (when used) and each
// persona's trie arrays (see docs/file-format.md). Saving is atomic: a
// temporary file in the same directory, then a rename; a failure leaves no
// file behind. Loading checks every array and throws FileError naming the
// path and what is wrong: truncated, corrupted, foreign or newer files.
//
//   simulacra::save(mixture, "pile.safetensors");
//   simulacra::Mixture again = simulacra::load("pile.safetensors");
#pragma once

#include <string>

#include "simulacra/mixture.hpp"

namespace simulacra {

// The newest version this library writes and reads: 2 adds transformer
// personas (files with n-gram personas only are still written as 1).
inline constexpr int kFormatVersion = 2;

// Writes `mixture` to `path` atomically. InvalidArgument if a persona's kind
// cannot be saved; FileError if the file cannot be written.
void save(const Mixture& mixture, const std::string& path);

// Reads a mixture written by save(). FileError on any problem with the file.
Mixture load(const std::string& path);

}  // namespace simulacra
