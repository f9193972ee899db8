// simulacra/model_file.hpp — saving and loading a trained pile of masks.
//
// A model file is a safetensors file (readable by the `safetensors` Python
// package) whose `__metadata__` holds:
//
//   format          "simulacra"
//   format_version  "1", "2" or "3", the lowest that holds the model (a newer version is
//                   refused with a clear error)
//   tokenizer       JSON: {"kind": "byte", "vocab": 257, "boundary": 256}
//   config          JSON: {"beta": .., "switching": "fixed_share", "alpha": .., "gamma": ..,
//                          "attribution_beta": .., "attribution_exponent": ..} (absent in
//                          older files: 1 and 0)
//   personas        JSON: [{"name": "pirate", "kind": "ngram", "order": 5},
//                          {"name": "bard", "kind": "transformer", "model": 0, "head": 1},
//                          {"name": "fool", "kind": "interpolated", "order": 3, "weight": 0.6,
//                           "background": 0}, ...]
//   backgrounds     JSON (version 3, with interpolated personas): one entry per distinct
//                   background model, [{"kind": "ngram", "order": 3}], its tensors "background.<m>.*"
//   transformers    JSON (version 2, with transformer personas): one TransformerConfig per
//                   distinct model, [{"layers": 4, "heads": 4, "width": 128, ...}]; the heads of
//                   a hydra share one model entry and its tensors "transformer.<m>.<name>"
//
// and whose tensors are the prior, the transition matrix (when used) and each
// persona's trie arrays (see docs/file-format.md). Saving is atomic
// (write_file_atomic in file_io.hpp: a temporary file in the target's
// directory, then a rename; symbolic links are written through, the replaced
// file's permissions kept, a directory, device, FIFO or socket refused); a
// failure leaves the old file as it was. Loading checks every array and
// throws FileError naming the path and what is wrong: truncated, corrupted,
// foreign or newer files, and n-gram personas whose next-token distributions
// would not sum to 1.
//
// The same bytes can live in memory instead of a file (pickling, a database
// column, a network message):
//
//   simulacra::save(mixture, "pile.safetensors");
//   simulacra::Mixture again = simulacra::load("pile.safetensors");
//   std::string bytes = simulacra::save_to_bytes(mixture);  // == the file's content
//   simulacra::Mixture copy = simulacra::load_from_bytes(bytes, "cached pile");
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "simulacra/mixture.hpp"

namespace simulacra {

// The newest version this library writes and reads: 2 adds transformer
// personas, 3 interpolated personas over a shared background, 4 compact n-gram
// personas (kind "ngram_compact", ngram_compact.hpp) (files with
// n-gram personas only are still written as 1).
inline constexpr int kFormatVersion = 4;

// Writes `mixture` to `path` atomically. InvalidArgument if a persona's kind
// cannot be saved; FileError if the file cannot be written.
void save(const Mixture& mixture, const std::string& path);

// Reads a mixture written by save(). FileError on any problem with the file;
// `format_version` must be a plain decimal integer from 1 to kFormatVersion.
Mixture load(const std::string& path);

// Reads a mixture as load() does, but maps the file (mmap, MAP_PRIVATE,
// read-only) and leaves the arrays of its compact n-gram personas
// (ngram_compact.hpp) in the mapping instead of copying them: they are
// validated in place, once, and the personas keep the mapping alive. Other
// personas are copied as load() copies them. Processes mapping the same file
// share its pages (the page cache). A file is read as it is when loaded:
// simulacra replaces model files by renaming (save), which leaves a mapped
// file's old inode intact; a file truncated or rewritten in place by another
// program while mapped is outside what this guards (a read of a truncated
// page is SIGBUS, rewritten arrays are not checked again).
Mixture load_mapped(const std::string& path);

// The bytes save() would write to a file. InvalidArgument as save().
std::string save_to_bytes(const Mixture& mixture);

// Reads a mixture from the bytes of a model file, checked as load() checks a
// file. `name` (e.g. "pickled model") stands for the path in the FileError
// messages.
Mixture load_from_bytes(std::string_view bytes, const std::string& name);

// The pile with every stand-alone NGramPersona mask in the compact layout
// (CompactNGramPersona::compact) or, with quantize, quantised
// (QuantNGramPersona::quantise); other masks, the prior, the config, the
// attribution beta and the segmentation as they are. Masks interpolated
// with a background (InterpolatedPersona) are saved over double models only:
// InvalidArgument for a pile holding one. compact's InvalidArgument for a
// back-off model with negative terms (an ARPA mask; quantize takes those).
Mixture compact_personas(const Mixture& pile, bool quantize);

// One persona alone in memory (for pickling and shipping to other
// processes): the model-file bytes of a pile of that one persona, and back.
// InvalidArgument for a null persona or a kind that cannot be saved;
// persona_from_bytes throws FileError as load_from_bytes, and for bytes
// holding more than one persona.
std::string persona_to_bytes(std::shared_ptr<const Persona> persona);
std::shared_ptr<const Persona> persona_from_bytes(std::string_view bytes, const std::string& name);

}  // namespace simulacra
