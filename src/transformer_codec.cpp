// The transformer codec (transformer_codec.hpp): config <-> metadata, parameters <-> tensors.
#include "simulacra/transformer_codec.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <type_traits>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/ranges.h>

namespace simulacra {

namespace {

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw FileError(fmt::format("{}: {}", where, what));
}

// The whole of `text` as a decimal T (from_chars: digits, '-' for a signed T).
template <typename T>
bool parse_decimal(const std::string& text, T& value) {
  if constexpr (std::is_integral_v<T>) {  // canonical: no leading zero ("01", "-01"), as the writers write
    const std::size_t first = !text.empty() && text[0] == '-' ? 1 : 0;
    if (text.size() > first + 1 && text[first] == '0') return false;
  }
  const char* end = text.data() + text.size();
  const auto [stop, err] = std::from_chars(text.data(), end, value);
  return !text.empty() && err == std::errc() && stop == end;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// The eight configuration fields, in the order they are written and read.
struct IntField {
  const char* key;
  int TransformerConfig::*member;
};
struct BoolField {
  const char* key;
  bool TransformerConfig::*member;
};
constexpr IntField kIntFields[] = {{"layers", &TransformerConfig::layers},
                                   {"heads", &TransformerConfig::heads},
                                   {"width", &TransformerConfig::width},
                                   {"context", &TransformerConfig::context},
                                   {"personas", &TransformerConfig::personas}};
constexpr BoolField kBoolFields[] = {{"bias", &TransformerConfig::bias},
                                     {"tie_weights", &TransformerConfig::tie_weights},
                                     {"gate", &TransformerConfig::gate}};

// The tokens of the probe forward pass: the boundary, then "The quick".
constexpr Token kProbe[] = {kBoundary, 'T', 'h', 'e', ' ', 'q', 'u', 'i', 'c', 'k'};

}  // namespace

// ------------------------------------------------------------------ metadata values

const std::string& metadata_text(const Metadata& metadata, const std::string& key, const std::string& where) {
  const auto it = metadata.find(key);
  if (it == metadata.end()) fail(where, fmt::format("metadata \"{}\" missing", key));
  return it->second;
}

std::int64_t metadata_int(const Metadata& metadata, const std::string& key, std::int64_t lo, std::int64_t hi,
                          const std::string& where) {
  const std::string& text = metadata_text(metadata, key, where);
  std::int64_t value = 0;
  if (!parse_decimal(text, value) || value < lo || value > hi)
    fail(where, fmt::format("metadata \"{}\" is \"{}\", expected a decimal integer in [{}, {}]", key, text, lo, hi));
  return value;
}

std::uint64_t metadata_uint64(const Metadata& metadata, const std::string& key, const std::string& where) {
  const std::string& text = metadata_text(metadata, key, where);
  std::uint64_t value = 0;
  if (!parse_decimal(text, value))
    fail(where, fmt::format("metadata \"{}\" is \"{}\", expected a decimal integer in [0, {}]", key, text,
                            std::numeric_limits<std::uint64_t>::max()));
  return value;
}

double metadata_real(const Metadata& metadata, const std::string& key, const std::string& where) {
  const std::string& text = metadata_text(metadata, key, where);
  double value = 0.0;
  if (!parse_decimal(text, value) || !std::isfinite(value))
    fail(where, fmt::format("metadata \"{}\" is \"{}\", expected a finite number", key, text));
  return value;
}

bool metadata_bool(const Metadata& metadata, const std::string& key, const std::string& where) {
  const std::string& text = metadata_text(metadata, key, where);
  if (text != "true" && text != "false")
    fail(where, fmt::format("metadata \"{}\" is \"{}\", expected \"true\" or \"false\"", key, text));
  return text == "true";
}

std::string bool_text(bool value) { return value ? "true" : "false"; }

std::string real_text(double value) { return fmt::format("{:.17g}", value); }

int metadata_format_version(const Metadata& metadata, int newest, const std::string& where) {
  const auto version = metadata_int(metadata, "format_version", INT_MIN, INT_MAX, where);
  if (version < 1) fail(where, fmt::format("format_version {} is not a valid version", version));
  if (version > newest)
    fail(where, fmt::format("format version {} is newer than this library reads ({}); upgrade simulacra", version,
                            newest));
  return int(version);
}

// ------------------------------------------------------------------ the configuration

void put_config(const TransformerConfig& config, Metadata& metadata) {
  for (const IntField& f : kIntFields) metadata[f.key] = std::to_string(config.*f.member);
  for (const BoolField& f : kBoolFields) metadata[f.key] = bool_text(config.*f.member);
}

TransformerConfig get_config(const Metadata& metadata, const std::string& where) {
  TransformerConfig c;
  for (const IntField& f : kIntFields) c.*f.member = int(metadata_int(metadata, f.key, INT_MIN, INT_MAX, where));
  for (const BoolField& f : kBoolFields) c.*f.member = metadata_bool(metadata, f.key, where);
  try {
    c.check();
  } catch (const InvalidArgument& e) {
    fail(where, fmt::format("invalid configuration in the metadata: {}", e.what()));
  }
  return c;
}

json::Value config_to_json(const TransformerConfig& config) {
  json::Object out;
  for (const IntField& f : kIntFields) out.emplace_back(f.key, config.*f.member);
  for (const BoolField& f : kBoolFields) out.emplace_back(f.key, config.*f.member);
  return out;
}

TransformerConfig config_from_json(const json::Value& entry, const std::string& where) {
  if (!entry.is_object())
    fail(where, fmt::format("the configuration is a JSON {}, expected an object", json::type_name(entry.type())));
  Metadata fields;
  for (const auto& [key, value] : entry.as_object()) {
    if (value.is_integer()) fields[key] = std::to_string(value.as_int64());
    else if (value.is_bool()) fields[key] = bool_text(value.as_bool());
    else fields[key] = json::dump(value);
  }
  return get_config(fields, where);
}

// ------------------------------------------------------------------ the parameters

template <typename T>
void put_parameters(TensorFile& file, const std::string& prefix, const TransformerModel<T>& model) {
  const std::vector<T>& w = model.parameters();
  for (const TensorInfo& t : model.layout()) {
    assert(t.offset + t.size <= w.size());
    file.put(prefix + t.name, t.shape, w.data() + t.offset);
  }
}

namespace {

// get_model's checks, in order; each fails with FileError "<where>: <what>".
class ModelReader {
 public:
  ModelReader(const TensorFile& file, const std::string& prefix, const TransformerConfig& config,
              const std::string& where, const std::set<std::string>& others)
      : file_(file), prefix_(prefix), c_(config), where_(where), others_(others) {}

  // The tensor prefix + name with exactly `shape` and dtype T.
  template <typename T>
  const Tensor& tensor(const std::string& name, const std::vector<std::int64_t>& shape) const {
    const std::string full = prefix_ + name;
    if (!file_.has(full)) fail(where_, fmt::format("tensor \"{}\" is missing", full));
    const Tensor& t = file_.get(full);
    if (t.shape != shape)
      fail(where_, fmt::format("tensor \"{}\" has shape [{}], expected [{}]", full, fmt::join(t.shape, ", "),
                               fmt::join(shape, ", ")));
    const DType want = detail::DTypeOf<T>::value;
    if (t.dtype != want)
      fail(where_, fmt::format("tensor \"{}\" has dtype {}, expected {}", full, dtype_name(t.dtype), dtype_name(want)));
    return t;
  }

  // The size guard: the embeddings bound the width and the context by bytes
  // present; the tensor count bounds the layers and personas, and the bytes
  // held bound the trunk (all before the layout is built).
  template <typename T>
  void guard() const {
    tensor<T>("tok_emb", {kVocab, c_.width});
    tensor<T>("pos_emb", {c_.context, c_.width});
    std::int64_t count = 0;
    double bytes = 0.0;
    for (const std::string& name : file_.names())
      if (starts_with(name, prefix_) && others_.count(name) == 0) {
        ++count;
        bytes += double(file_.get(name).bytes.size());
      }
    const std::int64_t least = 2 + 6 * std::int64_t(c_.layers) + std::int64_t(c_.personas);
    if (least > count)
      fail(where_, fmt::format("the metadata says {} layers and {} personas, which need at least {} tensors; the "
                               "file holds {}",
                               c_.layers, c_.personas, least, count));
    const double C = c_.width;
    const double need = double(sizeof(T)) * ((double(kVocab) + c_.context) * C + 12.0 * c_.layers * C * C);
    if (need > bytes)
      fail(where_, fmt::format("the metadata says {} layers of width {}, which need at least {:.0f} bytes of "
                               "parameters; the file holds {:.0f}",
                               c_.layers, c_.width, need, bytes));
  }

  // Every tensor of the layout present and well formed, none unexpected.
  template <typename T>
  void check_tensors(const std::vector<TensorInfo>& layout) const {
    std::set<std::string> expected;
    for (const TensorInfo& t : layout) {
      tensor<T>(t.name, t.shape);
      expected.insert(prefix_ + t.name);
    }
    for (const std::string& name : file_.names())
      if (starts_with(name, prefix_) && others_.count(name) == 0 && expected.count(name) == 0)
        fail(where_, fmt::format("unexpected tensor \"{}\" (not in the layout)", name));
  }

  // The parameters, copied and checked finite.
  template <typename T>
  std::vector<T> parameters(const std::vector<TensorInfo>& layout) const {
    std::size_t total = 0;
    for (const TensorInfo& t : layout) total = std::max(total, t.offset + t.size);
    std::vector<T> params(total);
    for (const TensorInfo& t : layout) {
      const Tensor& src = file_.get(prefix_ + t.name);
      assert(src.bytes.size() == t.size * sizeof(T));
      T* dst = params.data() + t.offset;
      if (t.size > 0) std::memcpy(dst, src.bytes.data(), t.size * sizeof(T));
      for (std::size_t i = 0; i < t.size; ++i)
        if (!std::isfinite(dst[i]))
          fail(where_, fmt::format("tensor \"{}\" holds {} at element {}", prefix_ + t.name, dst[i], i));
    }
    return params;
  }

  // A forward pass over the probe window must stay finite.
  template <typename T>
  void probe(const TransformerModel<T>& model) const {
    const int L = std::min<int>(c_.context, int(std::size(kProbe)));
    Activations<T> acts;
    model.forward(kProbe, 1, L, acts);
    const auto refuse = [&](const std::string& what) {
      fail(where_, fmt::format("a probe forward pass gives non-finite {} (the weights overflow)", what));
    };
    if (!acts.hidden.allFinite()) refuse("trunk outputs");
    for (std::size_t k = 0; k < acts.logits.size(); ++k)
      if (!acts.logits[k].allFinite()) refuse(fmt::format("logits of head {}", k));
    if (!acts.gate_logits.allFinite()) refuse("gate logits");
  }

 private:
  const TensorFile& file_;
  const std::string& prefix_;
  const TransformerConfig& c_;
  const std::string& where_;
  const std::set<std::string>& others_;
};

}  // namespace

template <typename T>
TransformerModel<T> get_model(const TensorFile& file, const std::string& prefix, const TransformerConfig& config,
                              const std::string& where, const std::set<std::string>& others) {
  const ModelReader reader(file, prefix, config, where, others);
  reader.guard<T>();
  const std::vector<TensorInfo> layout = transformer_layout(config);
  reader.check_tensors<T>(layout);
  TransformerModel<T> model(config, reader.parameters<T>(layout));
  reader.probe(model);
  return model;
}

template void put_parameters<float>(TensorFile&, const std::string&, const TransformerModel<float>&);
template void put_parameters<double>(TensorFile&, const std::string&, const TransformerModel<double>&);
template TransformerModel<float> get_model<float>(const TensorFile&, const std::string&, const TransformerConfig&,
                                                  const std::string&, const std::set<std::string>&);
template TransformerModel<double> get_model<double>(const TensorFile&, const std::string&, const TransformerConfig&,
                                                    const std::string&, const std::set<std::string>&);

}  // namespace simulacra
