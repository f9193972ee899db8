// Transformer files (transformer_file.hpp): a TransformerModel <-> safetensors, through the codec.
#include "simulacra/transformer_file.hpp"

#include <cstdint>

#include "simulacra/safetensors.hpp"
#include "simulacra/transformer_codec.hpp"

namespace simulacra {

namespace {

constexpr const char* kFormat = "simulacra-transformer";

template <typename T>
TensorFile to_tensor_file(const TransformerModel<T>& model) {
  TensorFile file;
  file.metadata["format"] = kFormat;
  file.metadata["format_version"] = std::to_string(kTransformerFormatVersion);
  file.metadata["vocab"] = std::to_string(kVocab);
  put_config(model.config(), file.metadata);
  put_parameters(file, "", model);
  return file;
}

// The format, version and vocabulary keys, then the configuration.
TransformerConfig read_header(const TensorFile& file, const std::string& path) {
  const auto format = file.metadata.find("format");
  SIMULACRA_CHECK(format != file.metadata.end(), FileError,
                  "{}: not a simulacra transformer (metadata \"format\" missing)", path);
  SIMULACRA_CHECK(format->second != "simulacra", FileError,
                  "{}: a simulacra mixture file, not a transformer (load it with simulacra::load)", path);
  SIMULACRA_CHECK(format->second == kFormat, FileError, "{}: not a simulacra transformer (format \"{}\")", path,
                  format->second);
  metadata_format_version(file.metadata, kTransformerFormatVersion, path);
  const std::int64_t vocab = metadata_int(file.metadata, "vocab", INT64_MIN, INT64_MAX, path);
  SIMULACRA_CHECK(vocab == kVocab, FileError, "{}: vocabulary of {} tokens, this library's is {}", path, vocab,
                  kVocab);
  return get_config(file.metadata, path);
}

// The model of a read file; `path` names it in errors.
AnyTransformerModel from_tensor_file(const TensorFile& file, const std::string& path) {
  const TransformerConfig config = read_header(file, path);
  // The precision is tok_emb's; the codec then requires it of every tensor.
  if (file.has("tok_emb")) {
    const DType d = file.get("tok_emb").dtype;
    SIMULACRA_CHECK(d == DType::F32 || d == DType::F64, FileError,
                    "{}: tensor \"tok_emb\" has dtype {}, expected F32 or F64", path, dtype_name(d));
    if (d == DType::F64) return get_model<double>(file, "", config, path);
  }
  return get_model<float>(file, "", config, path);
}

}  // namespace

void save_transformer(const TransformerModel<float>& model, const std::string& path) {
  write_safetensors(path, to_tensor_file(model));
}
void save_transformer(const TransformerModel<double>& model, const std::string& path) {
  write_safetensors(path, to_tensor_file(model));
}
std::string transformer_to_bytes(const TransformerModel<float>& model) {
  return serialize_safetensors(to_tensor_file(model));
}
std::string transformer_to_bytes(const TransformerModel<double>& model) {
  return serialize_safetensors(to_tensor_file(model));
}

AnyTransformerModel load_transformer_any(const std::string& path) {
  return from_tensor_file(read_safetensors(path), path);
}

AnyTransformerModel transformer_from_bytes(std::string_view bytes, const std::string& name) {
  return from_tensor_file(parse_safetensors(bytes, name), name);
}

TransformerModel<float> load_transformer(const std::string& path) {
  AnyTransformerModel model = load_transformer_any(path);
  if (auto* m = std::get_if<TransformerModel<float>>(&model)) return std::move(*m);
  throw FileError(fmt::format("{}: holds F64 parameters; load it with load_transformer_f64", path));
}

TransformerModel<double> load_transformer_f64(const std::string& path) {
  AnyTransformerModel model = load_transformer_any(path);
  if (auto* m = std::get_if<TransformerModel<double>>(&model)) return std::move(*m);
  throw FileError(fmt::format("{}: holds F32 parameters; load it with load_transformer", path));
}

}  // namespace simulacra
