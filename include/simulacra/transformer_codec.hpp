// simulacra/transformer_codec.hpp — one codec for a transformer inside a file.
//
// Three formats hold transformers: transformer files (transformer_file.hpp),
// the transformer entries of model files (model_file.hpp) and training
// checkpoints (transformer_train.hpp). Each writes and reads its transformer
// through this codec, so that they share one integer parser, one boolean
// encoding, one version key, one set of limits and one validation:
//
//   config    layers, heads, width, context, personas   decimal integers ("4": digits,
//                                                       a leading '-' only, nothing else)
//             bias, tie_weights, gate                    "true" or "false"
//             as string metadata (transformer files, checkpoints) or as the
//             members of a JSON object (a model file's "transformers" entries:
//             JSON integers and booleans, read through the same parser)
//   version   "format_version", a decimal integer
//   tensors   prefix + name for every tensor of transformer_layout(config),
//             in PyTorch's shape, all of one dtype (F32 or F64)
//
// Reading a model (get_model) is safe on hostile input: before anything
// proportional to the configuration is allocated or built, the file must hold
// tok_emb [257, width] and pos_emb [context, width] (so the width and context
// are bounded by bytes actually present), at least 2 + 6 layers + personas
// tensors under the prefix and at least the bytes that the embeddings and the
// trunk's weight matrices of that configuration need. Only then is the layout
// built (so its size is bounded by the file's tensor count), every tensor
// checked (present, shape, dtype; none unexpected under the prefix), the
// parameters copied (exactly the bytes the file holds), every value checked
// finite, and a probe forward pass run over one short window (the boundary
// then "The quick", cut to the context) whose trunk output, logits and gate
// logits must all be finite: finite weights that overflow (3e38) are refused.
// The probe is a cheap check, not a proof: it does not read every embedding
// row, so an input that no probe token reaches can still overflow later.
// Any file of at most 1 MB is thus refused or read in well under a second and
// in memory proportional to its size.
//
// Every failure is a FileError "<where>: <what>", `where` naming the file and
// the entry ("pile.safetensors: transformer 0").
//
//   Metadata meta;
//   put_config(model.config(), meta);                       // write side
//   put_parameters(file, "transformer.0.", model);
//   ...
//   const TransformerConfig c = get_config(meta, path);     // read side
//   TransformerModel<float> m = get_model<float>(file, "transformer.0.", c, path);
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "simulacra/json.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/transformer.hpp"

namespace simulacra {

// String metadata, as a safetensors file's `__metadata__` holds it.
using Metadata = std::map<std::string, std::string>;

// ---- metadata values ------------------------------------------------------------

// The value of `key`. FileError "<where>: metadata "<key>" missing".
const std::string& metadata_text(const Metadata& metadata, const std::string& key, const std::string& where);

// The files' one integer parser: `key` as a canonical decimal integer
// (digits, a leading '-' allowed; no leading zero, '+', space, point or
// suffix) in [lo, hi].
// FileError naming the key, its text and the range otherwise.
std::int64_t metadata_int(const Metadata& metadata, const std::string& key, std::int64_t lo, std::int64_t hi,
                          const std::string& where);
// The same for the whole uint64 range (seeds, generator states).
std::uint64_t metadata_uint64(const Metadata& metadata, const std::string& key, const std::string& where);
// A finite real written by real_text (shortest round-trip form); FileError otherwise.
double metadata_real(const Metadata& metadata, const std::string& key, const std::string& where);
// "true" or "false", nothing else.
bool metadata_bool(const Metadata& metadata, const std::string& key, const std::string& where);

// The encodings the writers use: "true" / "false", and 17 significant digits.
std::string bool_text(bool value);
std::string real_text(double value);

// "format_version" as a version in 1..newest. FileError "format version N
// is newer than this library reads (newest); upgrade simulacra" above it,
// "format_version N is not a valid version" below 1.
int metadata_format_version(const Metadata& metadata, int newest, const std::string& where);

// ---- the configuration ----------------------------------------------------------

// Writes the eight fields of `config` into `metadata` (other keys untouched).
void put_config(const TransformerConfig& config, Metadata& metadata);

// Reads the eight fields and checks them (TransformerConfig::check):
// FileError "<where>: invalid configuration in the metadata: ..." for a bad
// value, or naming the key for a missing or unparsable one.
TransformerConfig get_config(const Metadata& metadata, const std::string& where);

// The same fields as a JSON object {"layers": 4, ..., "bias": false} (model
// files); config_from_json reads one through get_config's parser (JSON
// integers as their decimal text, booleans as "true" / "false"; any other
// JSON value is refused), other members ignored.
json::Value config_to_json(const TransformerConfig& config);
TransformerConfig config_from_json(const json::Value& entry, const std::string& where);

// ---- the parameters -------------------------------------------------------------

// Adds every tensor of `model`'s layout to `file` as prefix + name.
template <typename T>
void put_parameters(TensorFile& file, const std::string& prefix, const TransformerModel<T>& model);

// The model of `config` whose tensors are `file`'s prefix + name, read and
// checked as the header comment says. Every tensor whose name starts with
// `prefix` must be one of the layout's, except the names in `others` (tensors
// of the same file that the caller reads itself, e.g. a checkpoint's
// optimiser state next to a model stored without a prefix).
template <typename T>
TransformerModel<T> get_model(const TensorFile& file, const std::string& prefix, const TransformerConfig& config,
                              const std::string& where, const std::set<std::string>& others = {});

extern template void put_parameters<float>(TensorFile&, const std::string&, const TransformerModel<float>&);
extern template void put_parameters<double>(TensorFile&, const std::string&, const TransformerModel<double>&);
extern template TransformerModel<float> get_model<float>(const TensorFile&, const std::string&,
                                                         const TransformerConfig&, const std::string&,
                                                         const std::set<std::string>&);
extern template TransformerModel<double> get_model<double>(const TensorFile&, const std::string&,
                                                           const TransformerConfig&, const std::string&,
                                                           const std::set<std::string>&);

}  // namespace simulacra
