// simulacra/transformer_file.hpp — saving and loading a transformer hydra.
//
// A transformer file is a safetensors file (readable by the `safetensors`
// Python package, e.g. safetensors.torch.load_file) holding every tensor of
// transformer_layout(config) under its layout name, in PyTorch's shape, all
// F32 (a TransformerModel<float>) or all F64 (a TransformerModel<double>).
// Its `__metadata__` holds strings:
//
//   format          "simulacra-transformer"
//   format_version  "1" (a newer version is refused with a clear error)
//   vocab           "257" (tokens in and out: the bytes and the boundary)
//   layers, heads, width, context, personas     decimal integers
//   bias, tie_weights, gate                     "true" or "false"
//
// The configuration and the tensors are written and read by the transformer
// codec (transformer_codec.hpp), which model files and checkpoints share.
// Saving is atomic (write_safetensors: a temporary file, then a rename).
// Loading checks the metadata, the configuration, the size the metadata
// claims against what the file holds (before allocating it), that the
// tensors are exactly the layout's (no missing, unexpected, misshapen or
// mistyped tensor), that every value is finite and that a probe forward pass
// stays finite, and throws FileError naming the path and what is wrong:
// truncated, corrupted, foreign, newer or overflowing files never crash and
// never load.
//
//   simulacra::save_transformer(model, "hydra.safetensors");
//   simulacra::TransformerModel<float> again = simulacra::load_transformer("hydra.safetensors");
//
//   # the same weights in PyTorch:
//   state = safetensors.torch.load_file("hydra.safetensors")   # {"tok_emb": (257, C), ...}
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "simulacra/transformer.hpp"

namespace simulacra {

inline constexpr int kTransformerFormatVersion = 1;

// Writes `model` (config and parameters, bit-exact) to `path` atomically.
// FileError if the file cannot be written; `path` is then left as it was.
void save_transformer(const TransformerModel<float>& model, const std::string& path);
void save_transformer(const TransformerModel<double>& model, const std::string& path);

// A model in the precision its file stores.
using AnyTransformerModel = std::variant<TransformerModel<float>, TransformerModel<double>>;

// Reads a model written by save_transformer(), F32 or F64 as stored.
// FileError naming `path` on any problem with the file.
AnyTransformerModel load_transformer_any(const std::string& path);

// The bytes save_transformer() would write, and a model read back from such
// bytes (checked as a file is; `name` stands for the path in FileError
// messages): for pickling and shipping models between processes.
std::string transformer_to_bytes(const TransformerModel<float>& model);
std::string transformer_to_bytes(const TransformerModel<double>& model);
AnyTransformerModel transformer_from_bytes(std::string_view bytes, const std::string& name);

// Reads an F32 file as a float model; FileError for an F64 file (no silent
// rounding) or any problem with the file.
TransformerModel<float> load_transformer(const std::string& path);

// Reads an F64 file as a double model; FileError for an F32 file or any
// problem with the file.
TransformerModel<double> load_transformer_f64(const std::string& path);

}  // namespace simulacra
