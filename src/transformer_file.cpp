// Transformer files (transformer_file.hpp): a TransformerModel <-> safetensors tensors + metadata.
#include "simulacra/transformer_file.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

#include <fmt/ranges.h>

#include "simulacra/safetensors.hpp"

namespace simulacra {

namespace {

constexpr const char* kFormat = "simulacra-transformer";

template <typename T>
void save_model(const TransformerModel<T>& model, const std::string& path) {
  const TransformerConfig& c = model.config();
  TensorFile file;
  file.metadata["format"] = kFormat;
  file.metadata["format_version"] = std::to_string(kTransformerFormatVersion);
  file.metadata["vocab"] = std::to_string(kVocab);
  file.metadata["layers"] = std::to_string(c.layers);
  file.metadata["heads"] = std::to_string(c.heads);
  file.metadata["width"] = std::to_string(c.width);
  file.metadata["context"] = std::to_string(c.context);
  file.metadata["personas"] = std::to_string(c.personas);
  file.metadata["bias"] = c.bias ? "true" : "false";
  file.metadata["tie_weights"] = c.tie_weights ? "true" : "false";
  file.metadata["gate"] = c.gate ? "true" : "false";
  const std::vector<T>& params = model.parameters();
  for (const TensorInfo& t : model.layout()) {
    assert(t.offset + t.size <= params.size());
    file.put(t.name, t.shape, params.data() + t.offset);
  }
  write_safetensors(path, file);
}

// Every failure below is a FileError "<path>: <what>".
class ModelReader {
 public:
  ModelReader(const std::string& path, const TensorFile& file) : path_(path), file_(file) {}

  [[noreturn]] void fail(const std::string& what) const { throw FileError(fmt::format("{}: {}", path_, what)); }

  const std::string& meta(const std::string& key) const {
    const auto it = file_.metadata.find(key);
    if (it == file_.metadata.end()) fail(fmt::format("not a simulacra transformer (metadata \"{}\" missing)", key));
    return it->second;
  }

  // A decimal integer in int's range, nothing else (no sign, spaces or suffix).
  int meta_int(const std::string& key) const {
    const std::string& text = meta(key);
    int value = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || err != std::errc() || end != text.data() + text.size())
      fail(fmt::format("metadata \"{}\" is \"{}\", expected a decimal integer", key, text));
    return value;
  }

  bool meta_bool(const std::string& key) const {
    const std::string& text = meta(key);
    if (text != "true" && text != "false")
      fail(fmt::format("metadata \"{}\" is \"{}\", expected \"true\" or \"false\"", key, text));
    return text == "true";
  }

  void check_format() const {
    const std::string& format = meta("format");
    if (format == "simulacra")
      fail("a simulacra mixture file, not a transformer (load it with simulacra::load)");
    if (format != kFormat) fail(fmt::format("not a simulacra transformer (format \"{}\")", format));
    const int version = meta_int("format_version");
    if (version < 1) fail(fmt::format("format_version {} is not a valid version", version));
    if (version > kTransformerFormatVersion)
      fail(fmt::format("format version {} is newer than this library reads ({}); upgrade simulacra", version,
                       kTransformerFormatVersion));
    const int vocab = meta_int("vocab");
    if (vocab != kVocab) fail(fmt::format("vocabulary of {} tokens, this library's is {}", vocab, kVocab));
  }

  TransformerConfig config() const {
    TransformerConfig c;
    c.layers = meta_int("layers");
    c.heads = meta_int("heads");
    c.width = meta_int("width");
    c.context = meta_int("context");
    c.personas = meta_int("personas");
    c.bias = meta_bool("bias");
    c.tie_weights = meta_bool("tie_weights");
    c.gate = meta_bool("gate");
    try {
      c.check();
    } catch (const InvalidArgument& e) {
      fail(fmt::format("invalid configuration in the metadata: {}", e.what()));
    }
    return c;
  }

  // The tensor `name` with exactly `shape`.
  const Tensor& tensor(const std::string& name, const std::vector<std::int64_t>& shape) const {
    if (!file_.has(name)) fail(fmt::format("tensor \"{}\" is missing", name));
    const Tensor& t = file_.get(name);
    if (t.shape != shape)
      fail(fmt::format("tensor \"{}\" has shape [{}], expected [{}]", name, fmt::join(t.shape, ", "),
                       fmt::join(shape, ", ")));
    return t;
  }

  // The layout of `c`, once the file has shown it can hold it: the
  // embeddings' shapes bound the width and the context, the tensor count
  // bounds the layers and personas (so that no absurd metadata makes the
  // layout itself huge).
  std::vector<TensorInfo> layout(const TransformerConfig& c) const {
    tensor("tok_emb", {kVocab, c.width});
    tensor("pos_emb", {c.context, c.width});
    const std::int64_t least = 2 + 6 * std::int64_t(c.layers) + std::int64_t(c.personas);
    if (least > std::int64_t(file_.size()))
      fail(fmt::format("the metadata says {} layers and {} personas, which need at least {} tensors; the file holds {}",
                       c.layers, c.personas, least, file_.size()));
    std::vector<TensorInfo> layout = transformer_layout(c);
    std::set<std::string> expected;
    for (const TensorInfo& t : layout) {
      tensor(t.name, t.shape);
      expected.insert(t.name);
    }
    for (const std::string& name : file_.names())
      if (expected.count(name) == 0) fail(fmt::format("unexpected tensor \"{}\" (not in the layout)", name));
    return layout;
  }

  // The dtype every tensor shares, F32 or F64.
  DType dtype() const {
    const DType d = file_.get("tok_emb").dtype;
    if (d != DType::F32 && d != DType::F64)
      fail(fmt::format("tensor \"tok_emb\" has dtype {}, expected F32 or F64", dtype_name(d)));
    for (const std::string& name : file_.names())
      if (file_.get(name).dtype != d)
        fail(fmt::format("tensor \"{}\" has dtype {}, but \"tok_emb\" has {}: a file holds one dtype", name,
                         dtype_name(file_.get(name).dtype), dtype_name(d)));
    return d;
  }

  template <typename T>
  TransformerModel<T> model(const TransformerConfig& c, const std::vector<TensorInfo>& layout) const {
    std::size_t total = 0;
    for (const TensorInfo& t : layout) total = std::max(total, t.offset + t.size);
    std::vector<T> params(total);
    for (const TensorInfo& t : layout) {
      const Tensor& src = file_.get(t.name);
      assert(src.bytes.size() == t.size * sizeof(T));
      T* dst = params.data() + t.offset;
      if (t.size > 0) std::memcpy(dst, src.bytes.data(), t.size * sizeof(T));
      for (std::size_t i = 0; i < t.size; ++i)
        if (!std::isfinite(dst[i])) fail(fmt::format("tensor \"{}\" holds {} at element {}", t.name, dst[i], i));
    }
    try {
      return TransformerModel<T>(c, std::move(params));
    } catch (const std::invalid_argument& e) {
      fail(fmt::format("the parameters do not fit the configuration: {}", e.what()));
    }
  }

 private:
  const std::string& path_;
  const TensorFile& file_;
};

}  // namespace

void save_transformer(const TransformerModel<float>& model, const std::string& path) { save_model(model, path); }
void save_transformer(const TransformerModel<double>& model, const std::string& path) { save_model(model, path); }

AnyTransformerModel load_transformer_any(const std::string& path) {
  const TensorFile file = read_safetensors(path);
  const ModelReader reader(path, file);
  reader.check_format();
  const TransformerConfig config = reader.config();
  const std::vector<TensorInfo> layout = reader.layout(config);
  if (reader.dtype() == DType::F32) return reader.model<float>(config, layout);
  return reader.model<double>(config, layout);
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
