// Model files (model_file.hpp): a Mixture <-> safetensors tensors + metadata.
#include "simulacra/model_file.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>
#include <type_traits>

#include <sys/mman.h>

#include "simulacra/file_io.hpp"

#include "simulacra/background.hpp"
#include "simulacra/json.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/ngram_compact.hpp"
#include "simulacra/ngram_quant.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/transformer.hpp"
#include "simulacra/transformer_codec.hpp"

namespace simulacra {

namespace {

// An n-gram model's tensors are "<prefix>.discounts" and "<prefix>.level.<n>.<field>",
// the prefix "persona.<k>" (a persona's own model) or "background.<m>" (a shared background).
std::string persona_prefix(std::size_t k) { return fmt::format("persona.{}", k); }
std::string background_prefix(std::size_t m) { return fmt::format("background.{}", m); }
std::string attribution_prefix(std::size_t k) { return fmt::format("attribution.{}", k); }

std::string level_key(const std::string& prefix, std::size_t n, const char* field) {
  return fmt::format("{}.level.{}.{}", prefix, n, field);
}

// "<prefix>.discounts" (N, 4): d1, d2, d3 and the fallback flag of each order.
template <class Model>
void put_discounts(TensorFile& file, const std::string& k, const Model& lm) {
  const int N = lm.order();
  std::vector<double> rows;
  for (int n = 1; n <= N; ++n) {
    const Discounts& d = lm.discounts(n);
    rows.insert(rows.end(), {d.d1, d.d2, d.d3, d.fallback ? 1.0 : 0.0});
  }
  file.put(k + ".discounts", {N, 4}, rows.data());
}

void put_ngram(TensorFile& file, const std::string& k, const NGramPersona& lm) {
  const int N = lm.order();
  put_discounts(file, k, lm);
  for (std::size_t n = 0; n <= std::size_t(N); ++n) {
    const NGramPersona::Level& L = lm.levels()[n];
    const auto size = std::int64_t(L.node.size());
    std::vector<std::uint16_t> token(L.node.size());
    std::vector<double> disc(L.node.size()), gamma(L.node.size());
    std::vector<std::uint32_t> child_begin(L.node.size() + 1, 0);
    for (std::size_t i = 0; i < L.node.size(); ++i) {
      token[i] = L.node[i].token;
      disc[i] = L.node[i].disc;
      gamma[i] = L.node[i].gamma;
      child_begin[i] = L.node[i].child_begin;
      child_begin[i + 1] = L.node[i].child_end;
    }
    if (n > 0) {
      file.put(level_key(k, n, "token"), {size}, token.data());
      file.put(level_key(k, n, "disc"), {size}, disc.data());
    }
    if (n < std::size_t(N)) {
      file.put(level_key(k, n, "gamma"), {size}, gamma.data());
      file.put(level_key(k, n, "child_begin"), {size + 1}, child_begin.data());
    }
  }
}

// A compact model's tensors: "<prefix>.discounts" as put_ngram's, and per level n
// "<prefix>.level.<n>.key" (U32, n >= 1), ".backoff" (F32) and ".child" (U32, S + 1), n < N:
// the persona's arrays byte for byte (ngram_compact.hpp), so that load_mapped uses them in place.
void put_compact(TensorFile& file, const std::string& k, const CompactNGramPersona& lm) {
  const int N = lm.order();
  put_discounts(file, k, lm);
  for (std::size_t n = 0; n <= std::size_t(N); ++n) {
    const CompactNGramPersona::Level& L = lm.levels()[n];
    const auto size = std::int64_t(L.size);
    if (n > 0) file.put(level_key(k, n, "key"), {size}, L.key);
    if (n < std::size_t(N)) {
      file.put(level_key(k, n, "backoff"), {size}, L.gamma);
      file.put(level_key(k, n, "child"), {size + 1}, L.child);
    }
  }
}

// A quantised model's tensors: "<prefix>.discounts" as put_ngram's, "<prefix>.sizes" (I64 [N]: stored n-grams
// per order), and per level n = 1..N "<prefix>.level.<n>.records" (U8: the bit-packed records and their
// padding, byte for byte as in memory), ".prob" (F32 [256]) and, n < N, ".backoff" (F32 [256]) codebooks.
void put_quant(TensorFile& file, const std::string& k, const QuantNGramPersona& lm) {
  const int N = lm.order();
  put_discounts(file, k, lm);
  std::vector<std::int64_t> sizes;
  for (int n = 1; n <= N; ++n) sizes.push_back(std::int64_t(lm.num_ngrams(n)));
  file.put(k + ".sizes", {N}, sizes.data());
  for (std::size_t n = 1; n <= std::size_t(N); ++n) {
    const QuantNGramPersona::Level& L = lm.levels()[n];
    file.put(level_key(k, n, "records"), {std::int64_t(L.bytes)}, L.records);
    file.put(level_key(k, n, "prob"), {QuantNGramPersona::kCodes}, L.prob);
    if (n < std::size_t(N)) file.put(level_key(k, n, "backoff"), {QuantNGramPersona::kCodes}, L.backoff);
  }
}

// The names of a compact or quantised model's large arrays, which load_mapped leaves in the mapping.
bool compact_array(const std::string& name) {
  auto ends = [&](std::string_view tail) {
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return name.find(".level.") != std::string::npos &&
         (ends(".key") || ends(".backoff") || ends(".child") || ends(".records"));
}

// The mapped tensors of a file being loaded by load_mapped (null when copying), and what keeps them alive.
struct InPlace {
  const std::map<std::string, TensorView>* views = nullptr;
  std::shared_ptr<const void> keep;
};

template <class T>
std::vector<T> get_vector(const TensorFile& file, const std::string& name, std::int64_t expected_size,
                          const std::string& path) {
  std::vector<std::int64_t> shape;
  std::vector<T> v = file.get_as<T>(name, &shape);
  SIMULACRA_CHECK(shape.size() == 1 && (expected_size < 0 || shape[0] == expected_size), FileError,
                  "{}: tensor '{}' has the wrong shape (expected [{}])", path, name, expected_size);
  return v;
}

// Refuses a model whose next-token distributions do not sum to 1. With every
// probability >= 0 (from_levels checks the terms and backoffs), every context's
// distribution sums to 1 exactly when each context node's backoff plus its
// continuations' terms (the start boundary, never predicted, excluded) is 1:
// p_n(. | h) sums to sum_w disc(hw) + gamma(h) * 1 by induction from the
// uniform base (docs/file-format.md). The tolerance is far above the rounding
// of a trained model (at most 258 terms: ~1e-13) and far below any damage
// that matters.
void check_normalised(const NGramPersona& lm) {
  constexpr double kTolerance = 1e-9;
  for (int n = 0; n < lm.order(); ++n) {
    const std::vector<NGramPersona::Node>& parent = lm.levels()[std::size_t(n)].node;
    const std::vector<NGramPersona::Node>& child = lm.levels()[std::size_t(n) + 1].node;
    for (std::size_t i = 0; i < parent.size(); ++i) {
      double sum = parent[i].gamma;
      for (std::uint32_t c = parent[i].child_begin; c < parent[i].child_end; ++c)
        if (child[c].token != NGramPersona::kStart) sum += child[c].disc;
      SIMULACRA_CHECK(std::abs(sum - 1.0) <= kTolerance, FileError,
                      "the next-token distribution after level {} entry {} sums to {} (backoff {} plus the terms of "
                      "its {} continuations), not 1",
                      n, i, sum, parent[i].gamma, parent[i].child_end - parent[i].child_begin);
    }
  }
}

// `k` is the tensors' prefix, `who` names the model in messages ("persona 3", "background 0").
std::shared_ptr<const NGramPersona> get_ngram(const TensorFile& file, const std::string& k, const std::string& who,
                                              int order, const std::string& path) {
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: {} has order {}", path, who, order);
  std::vector<std::int64_t> shape;
  const std::vector<double> d = file.get_as<double>(k + ".discounts", &shape);
  SIMULACRA_CHECK(shape == std::vector<std::int64_t>({order, 4}), FileError, "{}: {} discounts have the wrong shape",
                  path, who);
  std::vector<Discounts> discounts;
  for (int n = 0; n < order; ++n) discounts.push_back({d[4 * n], d[4 * n + 1], d[4 * n + 2], d[4 * n + 3] != 0.0});
  std::vector<NGramPersona::Level> levels(std::size_t(order) + 1);
  for (std::size_t n = 0; n <= std::size_t(order); ++n) {
    NGramPersona::Level& L = levels[n];
    std::int64_t size = 1;
    if (n > 0) {
      const auto token = get_vector<std::uint16_t>(file, level_key(k, n, "token"), -1, path);
      size = std::int64_t(token.size());
      const auto disc = get_vector<double>(file, level_key(k, n, "disc"), size, path);
      L.node.resize(token.size());
      for (std::size_t i = 0; i < L.node.size(); ++i) {
        L.node[i].token = token[i];
        L.node[i].disc = disc[i];
      }
    }
    L.node.resize(std::size_t(size));
    if (n < std::size_t(order)) {
      const auto gamma = get_vector<double>(file, level_key(k, n, "gamma"), size, path);
      const auto cb = get_vector<std::uint32_t>(file, level_key(k, n, "child_begin"), size + 1, path);
      for (std::size_t i = 0; i < L.node.size(); ++i) {
        L.node[i].gamma = gamma[i];
        L.node[i].child_begin = cb[i];
        L.node[i].child_end = cb[i + 1];
      }
    }
  }
  try {
    auto lm = std::make_shared<NGramPersona>(NGramPersona::from_levels(order, std::move(levels), std::move(discounts)));
    check_normalised(*lm);
    return lm;
  } catch (const FileError& e) {
    throw FileError(fmt::format("{}: {}: {}", path, who, e.what()));
  }
}

// The arrays of a compact model loaded by copying: the levels point into them.
struct CompactBuffers {
  std::vector<std::vector<std::uint32_t>> u32;
  std::vector<std::vector<float>> f32;
  std::shared_ptr<const void> mapping;  // when some arrays are in place
};

std::shared_ptr<const CompactNGramPersona> get_compact(const TensorFile& file, const InPlace& in_place,
                                                       const std::string& k, const std::string& who, int order,
                                                       const std::string& path) {
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: {} has order {}", path, who, order);
  std::vector<std::int64_t> shape;
  const std::vector<double> d = file.get_as<double>(k + ".discounts", &shape);
  SIMULACRA_CHECK(shape == std::vector<std::int64_t>({order, 4}), FileError, "{}: {} discounts have the wrong shape",
                  path, who);
  std::vector<Discounts> discounts;
  for (int n = 0; n < order; ++n) discounts.push_back({d[4 * n], d[4 * n + 1], d[4 * n + 2], d[4 * n + 3] != 0.0});
  auto buffers = std::make_shared<CompactBuffers>();
  buffers->mapping = in_place.keep;
  buffers->u32.reserve(2 * std::size_t(order) + 2);  // no reallocation: the levels point into them
  buffers->f32.reserve(std::size_t(order) + 1);
  // The array `name` of `dtype`: in place when mapped and aligned, else copied into the buffers.
  auto array = [&](const std::string& name, DType dtype, std::int64_t expected, auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    std::int64_t size = 0;
    const T* data = nullptr;
    const std::pair<const std::string, TensorView>* view = nullptr;
    if (in_place.views != nullptr) {
      const auto it = in_place.views->find(name);
      if (it != in_place.views->end()) view = &*it;
    }
    if (view != nullptr) {
      SIMULACRA_CHECK(view->second.dtype == dtype, FileError, "{}: tensor '{}' has dtype {}, expected {}", path, name,
                      dtype_name(view->second.dtype), dtype_name(dtype));
      SIMULACRA_CHECK(view->second.shape.size() == 1, FileError, "{}: tensor '{}' has the wrong shape", path, name);
      size = view->second.shape[0];
      if (reinterpret_cast<std::uintptr_t>(view->second.data) % alignof(T) == 0) {
        data = reinterpret_cast<const T*>(view->second.data);
      } else {  // another tensor before it left it unaligned: copy this one
        std::vector<T> copy(static_cast<std::size_t>(size));
        if (size > 0) std::memcpy(copy.data(), view->second.data, view->second.size);
        if constexpr (std::is_same_v<T, float>) data = buffers->f32.emplace_back(std::move(copy)).data();
        else data = buffers->u32.emplace_back(std::move(copy)).data();
      }
    } else {
      std::vector<T> copy = get_vector<T>(file, name, -1, path);
      size = std::int64_t(copy.size());
      if constexpr (std::is_same_v<T, float>) data = buffers->f32.emplace_back(std::move(copy)).data();
      else data = buffers->u32.emplace_back(std::move(copy)).data();
    }
    SIMULACRA_CHECK(expected < 0 || size == expected, FileError, "{}: tensor '{}' has the wrong shape (expected [{}])",
                    path, name, expected);
    return std::make_pair(data, size);
  };
  std::vector<CompactNGramPersona::Level> levels(std::size_t(order) + 1);
  for (std::size_t n = 0; n <= std::size_t(order); ++n) {
    CompactNGramPersona::Level& L = levels[n];
    std::int64_t size = 1;
    if (n > 0) {
      const auto [key, s] = array(level_key(k, n, "key"), DType::U32, -1, static_cast<std::uint32_t*>(nullptr));
      L.key = key;
      size = s;
    }
    L.size = std::size_t(size);
    if (n < std::size_t(order)) {
      L.gamma = array(level_key(k, n, "backoff"), DType::F32, size, static_cast<float*>(nullptr)).first;
      L.child = array(level_key(k, n, "child"), DType::U32, size + 1, static_cast<std::uint32_t*>(nullptr)).first;
    }
  }
  try {
    return std::make_shared<CompactNGramPersona>(
        CompactNGramPersona::from_arrays(order, std::move(levels), std::move(discounts), std::move(buffers)));
  } catch (const FileError& e) {
    throw FileError(fmt::format("{}: {}: {}", path, who, e.what()));
  }
}

// The arrays of a quantised model loaded by copying (records when not mapped, and the codebooks).
struct QuantBuffers {
  std::vector<std::vector<std::uint8_t>> records;
  std::vector<std::vector<float>> codebooks;
  std::shared_ptr<const void> mapping;  // when the records are in place
};

std::shared_ptr<const QuantNGramPersona> get_quant(const TensorFile& file, const InPlace& in_place,
                                                   const std::string& k, const std::string& who, int order,
                                                   const std::string& path) {
  using Q = QuantNGramPersona;
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: {} has order {}", path, who, order);
  std::vector<std::int64_t> shape;
  const std::vector<double> d = file.get_as<double>(k + ".discounts", &shape);
  SIMULACRA_CHECK(shape == std::vector<std::int64_t>({order, 4}), FileError, "{}: {} discounts have the wrong shape",
                  path, who);
  std::vector<Discounts> discounts;
  for (int n = 0; n < order; ++n) discounts.push_back({d[4 * n], d[4 * n + 1], d[4 * n + 2], d[4 * n + 3] != 0.0});
  const std::vector<std::int64_t> sizes = get_vector<std::int64_t>(file, k + ".sizes", order, path);
  for (int n = 0; n < order; ++n)
    SIMULACRA_CHECK(sizes[std::size_t(n)] >= 0 && sizes[std::size_t(n)] < std::int64_t(NGramPersona::kNone), FileError,
                    "{}: {} has {} n-grams of order {}", path, who, sizes[std::size_t(n)], n + 1);
  auto buffers = std::make_shared<QuantBuffers>();
  buffers->mapping = in_place.keep;
  buffers->records.reserve(std::size_t(order));  // no reallocation: the levels point into them
  buffers->codebooks.reserve(2 * std::size_t(order));
  // A codebook (F32 [256]), copied from the views when mapped there, else from the file.
  auto codebook = [&](const std::string& name) {
    std::vector<float> c;
    const auto it = in_place.views != nullptr ? in_place.views->find(name) : std::map<std::string, TensorView>::const_iterator();
    if (in_place.views != nullptr && it != in_place.views->end()) {
      SIMULACRA_CHECK(it->second.dtype == DType::F32 && it->second.shape == std::vector<std::int64_t>({Q::kCodes}),
                      FileError, "{}: tensor '{}' has the wrong dtype or shape (expected F32 [{}])", path, name,
                      Q::kCodes);
      c.resize(Q::kCodes);
      std::memcpy(c.data(), it->second.data, sizeof(float) * std::size_t(Q::kCodes));
    } else {
      c = get_vector<float>(file, name, Q::kCodes, path);
    }
    return buffers->codebooks.emplace_back(std::move(c)).data();
  };
  std::vector<Q::Level> levels(std::size_t(order) + 1);
  for (std::size_t n = 1; n <= std::size_t(order); ++n) {
    Q::Level& L = levels[n];
    L.size = std::size_t(sizes[n - 1]);
    const std::string name = level_key(k, n, "records");
    const TensorView* view = nullptr;
    if (in_place.views != nullptr) {
      const auto it = in_place.views->find(name);
      if (it != in_place.views->end()) view = &it->second;
    }
    if (view != nullptr) {
      SIMULACRA_CHECK(view->dtype == DType::U8 && view->shape.size() == 1, FileError,
                      "{}: tensor '{}' has dtype {} and {} dimensions, expected U8 and 1", path, name,
                      dtype_name(view->dtype), view->shape.size());
      L.records = reinterpret_cast<const std::uint8_t*>(view->data);  // any alignment: read by memcpy
      L.bytes = view->size;
    } else {
      const std::vector<std::uint8_t>& r = buffers->records.emplace_back(get_vector<std::uint8_t>(file, name, -1, path));
      L.records = r.data();
      L.bytes = r.size();
    }
    L.prob = codebook(level_key(k, n, "prob"));
    if (n < std::size_t(order)) {
      L.backoff = codebook(level_key(k, n, "backoff"));  // its name is a compact model's array: maybe in the views
      L.child_bits = Q::child_bits_for(std::size_t(sizes[n]));
    }
  }
  try {
    return std::make_shared<Q>(Q::from_arrays(order, std::move(levels), std::move(discounts), std::move(buffers)));
  } catch (const FileError& e) {
    throw FileError(fmt::format("{}: {}: {}", path, who, e.what()));
  }
}

// ---- transformer personas: one entry per distinct model (a hydra's heads share
// it), its config in "transformers" and its tensors "transformer.<m>.<name>",
// both through the transformer codec.

std::string transformer_prefix(std::size_t m) { return fmt::format("transformer.{}.", m); }

void put_transformer(TensorFile& file, std::size_t m, const TransformerModel<float>& model) {
  put_parameters(file, transformer_prefix(m), model);
}

std::shared_ptr<const TransformerModel<float>> get_transformer(const TensorFile& file, std::size_t m,
                                                               const json::Value& cfg, const std::string& path) {
  const std::string where = fmt::format("{}: transformer {}", path, m);
  return std::make_shared<const TransformerModel<float>>(
      get_model<float>(file, transformer_prefix(m), config_from_json(cfg, where), where));
}

// FileError for a tensor "transformer.<m>.*" that is not one of the file's `count` models'.
void check_transformer_names(const TensorFile& file, std::size_t count, const std::string& path) {
  const std::string head = "transformer.";
  for (const std::string& name : file.names()) {
    if (name.compare(0, head.size(), head) != 0) continue;
    std::size_t m = 0;
    const char* first = name.data() + head.size();
    const auto [end, err] = std::from_chars(first, name.data() + name.size(), m);
    const bool ours = err == std::errc() && end != first && m < count &&
                      name.compare(0, transformer_prefix(m).size(), transformer_prefix(m)) == 0;
    SIMULACRA_CHECK(ours, FileError, "{}: unexpected tensor '{}' (the file has {} transformer models)", path, name,
                    count);
  }
}

const std::string& meta(const TensorFile& file, const std::string& key, const std::string& path) {
  auto it = file.metadata.find(key);
  SIMULACRA_CHECK(it != file.metadata.end(), FileError, "{}: not a simulacra model (metadata '{}' missing)", path, key);
  return it->second;
}

json::Value meta_json(const TensorFile& file, const std::string& key, const std::string& path) {
  try {
    return json::parse(meta(file, key, path));
  } catch (const InvalidArgument& e) {
    throw FileError(fmt::format("{}: metadata '{}' is not valid JSON: {}", path, key, e.what()));
  }
}

// Whether attribute()'s models are the masks reweighted (attribution_reweighted at the mixture's own share):
// then the file holds the share alone.
bool is_reweighted_masks(const Mixture& mixture) {
  const std::vector<std::shared_ptr<const Persona>>& evidence = mixture.attribution_personas();
  if (mixture.attribution_own_weight() < 0.0 || int(evidence.size()) != mixture.size()) return false;
  for (int k = 0; k < mixture.size(); ++k) {
    const Persona* mask = &mixture.persona(k);
    const auto* mi = dynamic_cast<const InterpolatedPersona*>(mask);
    const auto* ei = dynamic_cast<const InterpolatedPersona*>(evidence[std::size_t(k)].get());
    if (mi ? !(ei && ei->own() == mi->own() && ei->background() == mi->background() &&
               ei->weight() == mixture.attribution_own_weight())
           : evidence[std::size_t(k)].get() != mask)
      return false;
  }
  return true;
}

// The tensors and metadata of `mixture`'s file.
TensorFile to_tensor_file(const Mixture& mixture) {
  TensorFile file;
  const MixtureConfig& c = mixture.config();
  file.metadata["format"] = "simulacra";
  file.metadata["format_version"] = "1";  // 2 below when a transformer persona needs it
  file.metadata["tokenizer"] =
      json::dump(json::Object{{"kind", "byte"}, {"vocab", kVocab}, {"boundary", kBoundary}});
  json::Object config{{"beta", c.beta},
                      {"switching", switching_name(c.switching)},
                      {"alpha", c.alpha},
                      {"gamma", c.gamma},
                      {"attribution_beta", mixture.attribution_beta()},
                      {"attribution_exponent", mixture.attribution_exponent()}};
  if (!c.switch_after.empty()) {  // absent: a switch may follow every token (so older files read as before)
    json::Array tokens;
    for (Token v : c.switch_after) tokens.push_back(std::int64_t(v));
    config.emplace_back("switch_after", std::move(tokens));
  }
  if (mixture.attribution_own_weight() >= 0.0)  // absent: attribute() reads the masks (older readers ignore it)
    config.emplace_back("attribution_own_weight", mixture.attribution_own_weight());
  if (mixture.has_segmentation()) {  // absent: smoothing and spans read the config (older readers ignore these)
    config.emplace_back("segmentation_alpha", mixture.segmentation_alpha());
    config.emplace_back("segmentation_beta", mixture.segmentation_beta());
  }
  file.metadata["config"] = json::dump(config);
  json::Array personas, transformers, backgrounds;
  std::vector<const TransformerModel<float>*> models;  // distinct transformer models, in order of first use
  std::vector<const Persona*> shared;                   // distinct background models, in order of first use
  bool compact = false;                                 // some persona is a CompactNGramPersona
  for (int k = 0; k < mixture.size(); ++k) {
    const std::string& name = mixture.names()[std::size_t(k)];
    const auto* ip = dynamic_cast<const InterpolatedPersona*>(&mixture.persona(k));
    const auto* own = ip ? dynamic_cast<const NGramPersona*>(ip->own().get()) : nullptr;
    const auto* bg = ip ? dynamic_cast<const NGramPersona*>(ip->background().get()) : nullptr;
    if (const auto* lm = dynamic_cast<const NGramPersona*>(&mixture.persona(k))) {
      personas.push_back(json::Object{{"name", name}, {"kind", "ngram"}, {"order", lm->order()}});
      put_ngram(file, persona_prefix(std::size_t(k)), *lm);
    } else if (own && bg) {
      auto it = std::find(shared.begin(), shared.end(), bg);
      if (it == shared.end()) {
        put_ngram(file, background_prefix(shared.size()), *bg);
        backgrounds.push_back(json::Object{{"kind", "ngram"}, {"order", bg->order()}});
        shared.push_back(bg);
        it = shared.end() - 1;
      }
      personas.push_back(json::Object{{"name", name},
                                      {"kind", "interpolated"},
                                      {"order", own->order()},
                                      {"weight", ip->weight()},
                                      {"background", std::int64_t(it - shared.begin())}});
      put_ngram(file, persona_prefix(std::size_t(k)), *own);
    } else if (const auto* cp = dynamic_cast<const CompactNGramPersona*>(&mixture.persona(k))) {
      personas.push_back(json::Object{{"name", name}, {"kind", "ngram_compact"}, {"order", cp->order()}});
      put_compact(file, persona_prefix(std::size_t(k)), *cp);
      compact = true;
    } else if (const auto* qp = dynamic_cast<const QuantNGramPersona*>(&mixture.persona(k))) {
      personas.push_back(json::Object{{"name", name}, {"kind", "ngram_quant"}, {"order", qp->order()}});
      put_quant(file, persona_prefix(std::size_t(k)), *qp);
      compact = true;
    } else if (const auto* tp = dynamic_cast<const TransformerPersona*>(&mixture.persona(k))) {
      auto it = std::find(models.begin(), models.end(), tp->model().get());
      if (it == models.end()) {
        put_transformer(file, models.size(), *tp->model());
        transformers.push_back(config_to_json(tp->model()->config()));
        models.push_back(tp->model().get());
        it = models.end() - 1;
      }
      personas.push_back(json::Object{
          {"name", name}, {"kind", "transformer"}, {"model", std::int64_t(it - models.begin())}, {"head", tp->head()}});
    } else {
      throw InvalidArgument(fmt::format("save: persona '{}' of kind '{}' cannot be saved", name,
                                        mixture.persona(k).kind()));
    }
  }
  file.metadata["personas"] = json::dump(personas);
  // attribute()'s own models when they are not the masks reweighted (another order, say): "attribution_personas",
  // entries as the personas' (n-gram or interpolated over a shared background), tensors "attribution.<k>.*".
  // Absent: attribute() reads the masks, reweighted by attribution_own_weight when that is present.
  const std::vector<std::shared_ptr<const Persona>>& evidence = mixture.attribution_personas();
  if (!evidence.empty() && !is_reweighted_masks(mixture)) {
    json::Array list;
    for (std::size_t k = 0; k < evidence.size(); ++k) {
      const std::string& name = mixture.names()[k];
      const auto* ip = dynamic_cast<const InterpolatedPersona*>(evidence[k].get());
      const auto* own = ip ? dynamic_cast<const NGramPersona*>(ip->own().get()) : nullptr;
      const auto* bg = ip ? dynamic_cast<const NGramPersona*>(ip->background().get()) : nullptr;
      if (const auto* lm = dynamic_cast<const NGramPersona*>(evidence[k].get())) {
        list.push_back(json::Object{{"kind", "ngram"}, {"order", lm->order()}});
        put_ngram(file, attribution_prefix(k), *lm);
      } else if (own && bg) {
        auto it = std::find(shared.begin(), shared.end(), bg);
        if (it == shared.end()) {
          put_ngram(file, background_prefix(shared.size()), *bg);
          backgrounds.push_back(json::Object{{"kind", "ngram"}, {"order", bg->order()}});
          shared.push_back(bg);
          it = shared.end() - 1;
        }
        list.push_back(json::Object{{"kind", "interpolated"},
                                    {"order", own->order()},
                                    {"weight", ip->weight()},
                                    {"background", std::int64_t(it - shared.begin())}});
        put_ngram(file, attribution_prefix(k), *own);
      } else {
        throw InvalidArgument(fmt::format("save: the attribution model of persona '{}' (kind '{}') cannot be saved: "
                                          "only n-gram and interpolated n-gram models can",
                                          name, evidence[k]->kind()));
      }
    }
    file.metadata["attribution_personas"] = json::dump(list);
  }
  // Version 1 files hold n-gram personas only: older readers keep reading them.
  if (!models.empty()) {
    file.metadata["format_version"] = "2";
    file.metadata["transformers"] = json::dump(transformers);
  }
  // Version 3 adds interpolated personas and their shared backgrounds.
  if (!shared.empty()) {
    file.metadata["format_version"] = "3";
    file.metadata["backgrounds"] = json::dump(backgrounds);
  }
  // Version 4 adds compact and quantised n-gram personas.
  if (compact) file.metadata["format_version"] = "4";
  file.put("prior", {mixture.size()}, mixture.prior().data());
  if (c.switching == Switching::kTransition) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a = c.transition;
    file.put("transition", {a.rows(), a.cols()}, a.data());
  }
  return file;
}

// The mixture in `file`; `path` names it in messages.
Mixture from_tensor_file(const TensorFile& file, const std::string& path, const InPlace& in_place = {}) {
  SIMULACRA_CHECK(meta(file, "format", path) == "simulacra", FileError, "{}: not a simulacra model (format '{}')",
                  path, meta(file, "format", path));
  const int v = metadata_format_version(file.metadata, kFormatVersion, path);
  try {
    const json::Value tok = meta_json(file, "tokenizer", path);
    SIMULACRA_CHECK(tok.at("kind").as_string() == "byte" && tok.at("vocab").as_int64() == kVocab &&
                        tok.at("boundary").as_int64() == kBoundary,
                    FileError, "{}: unsupported tokenizer {}", path, meta(file, "tokenizer", path));
    const json::Value cfg = meta_json(file, "config", path);
    const json::Value personas = meta_json(file, "personas", path);
    std::vector<std::shared_ptr<const Persona>> models;
    std::vector<std::string> names;
    const json::Array& list = personas.as_array();
    SIMULACRA_CHECK(!list.empty(), FileError, "{}: the model has no personas", path);
    std::vector<std::shared_ptr<const TransformerModel<float>>> transformers;
    if (v >= 2 && file.metadata.count("transformers")) {
      const json::Value configs = meta_json(file, "transformers", path);
      for (std::size_t m = 0; m < configs.as_array().size(); ++m)
        transformers.push_back(get_transformer(file, m, configs.as_array()[m], path));
    }
    check_transformer_names(file, transformers.size(), path);
    std::vector<std::shared_ptr<const NGramPersona>> shared;
    if (v >= 3 && file.metadata.count("backgrounds")) {
      const json::Value list = meta_json(file, "backgrounds", path);
      for (std::size_t m = 0; m < list.as_array().size(); ++m) {
        const json::Value& b = list.as_array()[m];
        SIMULACRA_CHECK(b.at("kind").as_string() == "ngram", FileError, "{}: background {} has unsupported kind '{}'",
                        path, m, b.at("kind").as_string());
        const std::int64_t order = b.at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: background {} has order {}",
                        path, m, order);
        shared.push_back(get_ngram(file, background_prefix(m), fmt::format("background {}", m), int(order), path));
      }
    }
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string& kind = list[k].at("kind").as_string();
      names.push_back(list[k].at("name").as_string());
      if (kind == "ngram") {
        const std::int64_t order = list[k].at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
        models.push_back(get_ngram(file, persona_prefix(k), fmt::format("persona {}", k), int(order), path));
      } else if (kind == "ngram_compact" && v >= 4) {
        const std::int64_t order = list[k].at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
        models.push_back(get_compact(file, in_place, persona_prefix(k), fmt::format("persona {}", k), int(order), path));
      } else if (kind == "ngram_quant" && v >= 4) {
        const std::int64_t order = list[k].at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
        models.push_back(get_quant(file, in_place, persona_prefix(k), fmt::format("persona {}", k), int(order), path));
      } else if (kind == "interpolated") {
        const std::int64_t order = list[k].at("order").as_int64(), m = list[k].at("background").as_int64();
        const double weight = list[k].at("weight").as_double();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
        SIMULACRA_CHECK(m >= 0 && std::size_t(m) < shared.size(), FileError,
                        "{}: persona {} names background {}, the file has {}", path, k, m, shared.size());
        SIMULACRA_CHECK(std::isfinite(weight) && weight >= 0.0 && weight <= 1.0, FileError,
                        "{}: persona {} has interpolation weight {}, not in [0, 1]", path, k, weight);
        models.push_back(std::make_shared<InterpolatedPersona>(
            get_ngram(file, persona_prefix(k), fmt::format("persona {}", k), int(order), path), shared[std::size_t(m)],
            weight));
      } else if (kind == "transformer") {
        const std::int64_t m = list[k].at("model").as_int64(), head = list[k].at("head").as_int64();
        SIMULACRA_CHECK(m >= 0 && std::size_t(m) < transformers.size(), FileError,
                        "{}: persona {} names transformer {}, the file has {}", path, k, m, transformers.size());
        SIMULACRA_CHECK(head >= 0 && head < transformers[std::size_t(m)]->config().personas, FileError,
                        "{}: persona {} names head {} of a transformer with {}", path, k, head,
                        transformers[std::size_t(m)]->config().personas);
        models.push_back(std::make_shared<TransformerPersona>(transformers[std::size_t(m)], int(head)));
      } else {
        throw FileError(fmt::format("{}: persona {} has unsupported kind '{}'", path, k, kind));
      }
    }
    const auto K = std::int64_t(list.size());
    const std::vector<double> prior = get_vector<double>(file, "prior", K, path);
    MixtureConfig mc;
    mc.beta = cfg.at("beta").as_double();
    mc.switching = switching_from_name(cfg.at("switching").as_string());
    mc.alpha = cfg.at("alpha").as_double();
    mc.gamma = cfg.at("gamma").as_double();
    if (const json::Value* after = cfg.find("switch_after"))
      for (const json::Value& v : after->as_array()) {
        const std::int64_t t = v.as_int64();
        SIMULACRA_CHECK(t >= 0 && t < kVocab, FileError, "{}: switch_after token {} is outside 0..{}", path, t,
                        kVocab - 1);
        mc.switch_after.push_back(Token(t));
      }
    // Absent before issue 9: beta 1, exponent 0.
    const json::Value* attribution_beta = cfg.find("attribution_beta");
    const json::Value* attribution_exponent = cfg.find("attribution_exponent");
    // Absent when not fitted (and before it existed): segmentation reads the config.
    const json::Value* segmentation_alpha = cfg.find("segmentation_alpha");
    const json::Value* segmentation_beta = cfg.find("segmentation_beta");
    const json::Value* attribution_own_weight = cfg.find("attribution_own_weight");
    if (mc.switching == Switching::kTransition) {
      std::vector<std::int64_t> shape;
      const std::vector<double> a = file.get_as<double>("transition", &shape);
      SIMULACRA_CHECK(shape == std::vector<std::int64_t>({K, K}), FileError, "{}: transition matrix has the wrong shape",
                      path);
      mc.transition = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          a.data(), K, K);
    }
    Mixture mixture(std::move(models), std::move(names), Eigen::Map<const Eigen::VectorXd>(prior.data(), K), mc);
    mixture.set_attribution_beta(attribution_beta ? attribution_beta->as_double() : 1.0,
                                 attribution_exponent ? attribution_exponent->as_double() : 0.0);
    if (segmentation_alpha)
      mixture.set_segmentation(segmentation_alpha->as_double(), segmentation_beta ? segmentation_beta->as_double() : 1.0);
    double own_weight = -1.0;
    if (attribution_own_weight) {
      own_weight = attribution_own_weight->as_double();
      SIMULACRA_CHECK(own_weight >= 0.0 && own_weight <= 1.0, FileError,
                      "{}: attribution_own_weight {} is outside [0, 1]", path, own_weight);
    }
    if (file.metadata.count("attribution_personas")) {  // attribute()'s own models (absent before them)
      const json::Value evidence = meta_json(file, "attribution_personas", path);
      const json::Array& entries = evidence.as_array();
      SIMULACRA_CHECK(std::int64_t(entries.size()) == K, FileError, "{}: {} attribution models for {} personas", path,
                      entries.size(), K);
      std::vector<std::shared_ptr<const Persona>> models;
      for (std::size_t k = 0; k < entries.size(); ++k) {
        const std::string& kind = entries[k].at("kind").as_string();
        const std::int64_t order = entries[k].at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError,
                        "{}: attribution model {} has order {}", path, k, order);
        const std::string who = fmt::format("attribution model {}", k);
        if (kind == "ngram") {
          models.push_back(get_ngram(file, attribution_prefix(k), who, int(order), path));
        } else if (kind == "interpolated") {
          const std::int64_t m = entries[k].at("background").as_int64();
          const double weight = entries[k].at("weight").as_double();
          SIMULACRA_CHECK(m >= 0 && std::size_t(m) < shared.size(), FileError,
                          "{}: attribution model {} names background {}, the file has {}", path, k, m, shared.size());
          SIMULACRA_CHECK(std::isfinite(weight) && weight >= 0.0 && weight <= 1.0, FileError,
                          "{}: attribution model {} has interpolation weight {}, not in [0, 1]", path, k, weight);
          models.push_back(std::make_shared<InterpolatedPersona>(
              get_ngram(file, attribution_prefix(k), who, int(order), path), shared[std::size_t(m)], weight));
        } else {
          throw FileError(fmt::format("{}: attribution model {} has unsupported kind '{}'", path, k, kind));
        }
      }
      mixture.set_attribution_personas(std::move(models), own_weight);
    } else if (own_weight >= 0.0) {
      mixture.set_attribution_personas(attribution_reweighted(mixture, own_weight), own_weight);
    }
    return mixture;
  } catch (const FileError& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw FileError(fmt::format("{}: {}", path, what));
  } catch (const std::exception& e) {  // bad JSON fields, bad values: the file is damaged
    throw FileError(fmt::format("{}: damaged model file: {}", path, e.what()));
  }
}

}  // namespace

void save(const Mixture& mixture, const std::string& path) { write_safetensors(path, to_tensor_file(mixture)); }

std::string save_to_bytes(const Mixture& mixture) { return serialize_safetensors(to_tensor_file(mixture)); }

Mixture load(const std::string& path) { return from_tensor_file(read_safetensors(path), path); }

Mixture load_mapped(const std::string& path) {
  const InputFile input(path);  // a regular file, or FileError
  const std::uint64_t size = input.size();
  SIMULACRA_CHECK(size >= 8, FileError, "{}: file is {} bytes, shorter than the 8-byte header length", path, size);
  void* addr = ::mmap(nullptr, std::size_t(size), PROT_READ, MAP_PRIVATE, input.fd(), 0);
  SIMULACRA_CHECK(addr != MAP_FAILED, FileError, "{}: cannot map the file: {}", path, std::strerror(errno));
  const std::shared_ptr<const void> mapping(addr, [length = std::size_t(size)](void* a) { ::munmap(a, length); });
  const std::string_view bytes(static_cast<const char*>(addr), std::size_t(size));
  std::map<std::string, TensorView> views;
  const TensorFile file = parse_safetensors_in_place(bytes, path, compact_array, &views);
  return from_tensor_file(file, path, InPlace{&views, mapping});
}

Mixture load_from_bytes(std::string_view bytes, const std::string& name) {
  return from_tensor_file(parse_safetensors(bytes, name), name);
}

Mixture compact_personas(const Mixture& pile, bool quantize) {
  std::vector<std::shared_ptr<const Persona>> personas;
  for (int k = 0; k < pile.size(); ++k) {
    const std::shared_ptr<const Persona>& p = pile.persona_ptr(k);
    SIMULACRA_CHECK(dynamic_cast<const InterpolatedPersona*>(p.get()) == nullptr, InvalidArgument,
                    "compact: persona '{}' is interpolated with a background model, which is saved over double "
                    "n-gram models only (train with --no-background)",
                    pile.names()[std::size_t(k)]);
    if (const auto* lm = dynamic_cast<const NGramPersona*>(p.get())) {
      if (quantize)
        personas.push_back(std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(*lm)));
      else
        personas.push_back(std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(*lm)));
    } else {
      personas.push_back(p);
    }
  }
  Mixture out(std::move(personas), pile.names(), pile.prior(), pile.config());
  out.set_attribution_beta(pile.attribution_beta(), pile.attribution_exponent());
  if (pile.has_segmentation()) out.set_segmentation(pile.segmentation_alpha(), pile.segmentation_beta());
  if (!pile.attribution_personas().empty())
    out.set_attribution_personas(pile.attribution_personas(), pile.attribution_own_weight());
  return out;
}

std::string persona_to_bytes(std::shared_ptr<const Persona> persona) {
  SIMULACRA_CHECK(persona != nullptr, InvalidArgument, "persona_to_bytes: the persona is null");
  return save_to_bytes(Mixture({std::move(persona)}, {"persona"}, Eigen::VectorXd::Ones(1)));
}

std::shared_ptr<const Persona> persona_from_bytes(std::string_view bytes, const std::string& name) {
  const Mixture pile = load_from_bytes(bytes, name);
  SIMULACRA_CHECK(pile.size() == 1, FileError, "{}: holds {} personas, expected one", name, pile.size());
  return pile.persona_ptr(0);
}

}  // namespace simulacra
