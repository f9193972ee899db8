// Model files (model_file.hpp): a Mixture <-> safetensors tensors + metadata.
#include "simulacra/model_file.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "simulacra/json.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/transformer.hpp"

namespace simulacra {

namespace {

std::string level_key(std::size_t k, std::size_t n, const char* field) {
  return fmt::format("persona.{}.level.{}.{}", k, n, field);
}

void put_ngram(TensorFile& file, std::size_t k, const NGramPersona& lm) {
  const int N = lm.order();
  std::vector<double> disc3;
  for (int n = 1; n <= N; ++n) {
    const Discounts& d = lm.discounts(n);
    disc3.insert(disc3.end(), {d.d1, d.d2, d.d3, d.fallback ? 1.0 : 0.0});
  }
  file.put(fmt::format("persona.{}.discounts", k), {N, 4}, disc3.data());
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

template <class T>
std::vector<T> get_vector(const TensorFile& file, const std::string& name, std::int64_t expected_size,
                          const std::string& path) {
  std::vector<std::int64_t> shape;
  std::vector<T> v = file.get_as<T>(name, &shape);
  SIMULACRA_CHECK(shape.size() == 1 && (expected_size < 0 || shape[0] == expected_size), FileError,
                  "{}: tensor '{}' has the wrong shape (expected [{}])", path, name, expected_size);
  return v;
}

std::shared_ptr<const Persona> get_ngram(const TensorFile& file, std::size_t k, int order, const std::string& path) {
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
  std::vector<std::int64_t> shape;
  const std::vector<double> d = file.get_as<double>(fmt::format("persona.{}.discounts", k), &shape);
  SIMULACRA_CHECK(shape == std::vector<std::int64_t>({order, 4}), FileError,
                  "{}: persona {} discounts have the wrong shape", path, k);
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
    return std::make_shared<NGramPersona>(NGramPersona::from_levels(order, std::move(levels), std::move(discounts)));
  } catch (const FileError& e) {
    throw FileError(fmt::format("{}: persona {}: {}", path, k, e.what()));
  }
}

// ---- transformer personas: one entry per distinct model (a hydra's heads share it)

json::Value transformer_config_json(const TransformerConfig& c) {
  return json::Object{{"layers", c.layers},         {"heads", c.heads},     {"width", c.width},
                      {"context", c.context},       {"personas", c.personas}, {"bias", c.bias},
                      {"tie_weights", c.tie_weights}, {"gate", c.gate}};
}

void put_transformer(TensorFile& file, std::size_t m, const TransformerModel<float>& model) {
  const std::vector<float>& w = model.parameters();
  for (const TensorInfo& info : model.layout())
    file.put(fmt::format("transformer.{}.{}", m, info.name), info.shape, w.data() + info.offset);
}

std::shared_ptr<const TransformerModel<float>> get_transformer(const TensorFile& file, std::size_t m,
                                                               const json::Value& cfg, const std::string& path) {
  TransformerConfig c;
  const auto field = [&](const char* key) {
    const std::int64_t x = cfg.at(key).as_int64();
    SIMULACRA_CHECK(x >= 1 && x <= (1 << 24), FileError, "{}: transformer {} has {} = {}", path, m, key, x);
    return int(x);
  };
  c.layers = field("layers");
  c.heads = field("heads");
  c.width = field("width");
  c.context = field("context");
  c.personas = field("personas");
  c.bias = cfg.at("bias").as_bool();
  c.tie_weights = cfg.at("tie_weights").as_bool();
  c.gate = cfg.at("gate").as_bool();
  try {
    c.check();
  } catch (const InvalidArgument& e) {
    throw FileError(fmt::format("{}: transformer {}: {}", path, m, e.what()));
  }
  std::vector<float> w(std::size_t(c.parameter_count()));
  for (const TensorInfo& info : transformer_layout(c)) {
    const std::string name = fmt::format("transformer.{}.{}", m, info.name);
    std::vector<std::int64_t> shape;
    const std::vector<float> values = file.get_as<float>(name, &shape);
    SIMULACRA_CHECK(shape == info.shape, FileError, "{}: tensor '{}' has the wrong shape", path, name);
    for (float x : values) SIMULACRA_CHECK(std::isfinite(x), FileError, "{}: tensor '{}' holds {}", path, name, x);
    std::copy(values.begin(), values.end(), w.begin() + std::ptrdiff_t(info.offset));
  }
  return std::make_shared<const TransformerModel<float>>(c, std::move(w));
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

}  // namespace

void save(const Mixture& mixture, const std::string& path) {
  TensorFile file;
  const MixtureConfig& c = mixture.config();
  file.metadata["format"] = "simulacra";
  file.metadata["format_version"] = "1";  // 2 below when a transformer persona needs it
  file.metadata["tokenizer"] =
      json::dump(json::Object{{"kind", "byte"}, {"vocab", kVocab}, {"boundary", kBoundary}});
  file.metadata["config"] = json::dump(json::Object{
      {"beta", c.beta}, {"switching", switching_name(c.switching)}, {"alpha", c.alpha}, {"gamma", c.gamma}});
  json::Array personas, transformers;
  std::vector<const TransformerModel<float>*> models;  // distinct transformer models, in order of first use
  for (int k = 0; k < mixture.size(); ++k) {
    const std::string& name = mixture.names()[std::size_t(k)];
    if (const auto* lm = dynamic_cast<const NGramPersona*>(&mixture.persona(k))) {
      personas.push_back(json::Object{{"name", name}, {"kind", "ngram"}, {"order", lm->order()}});
      put_ngram(file, std::size_t(k), *lm);
    } else if (const auto* tp = dynamic_cast<const TransformerPersona*>(&mixture.persona(k))) {
      auto it = std::find(models.begin(), models.end(), tp->model().get());
      if (it == models.end()) {
        put_transformer(file, models.size(), *tp->model());
        transformers.push_back(transformer_config_json(tp->model()->config()));
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
  // Version 1 files hold n-gram personas only: older readers keep reading them.
  if (!models.empty()) {
    file.metadata["format_version"] = std::to_string(kFormatVersion);
    file.metadata["transformers"] = json::dump(transformers);
  }
  file.put("prior", {mixture.size()}, mixture.prior().data());
  if (c.switching == Switching::kTransition) {
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> a = c.transition;
    file.put("transition", {a.rows(), a.cols()}, a.data());
  }
  write_safetensors(path, file);
}

Mixture load(const std::string& path) {
  const TensorFile file = read_safetensors(path);
  SIMULACRA_CHECK(meta(file, "format", path) == "simulacra", FileError, "{}: not a simulacra model (format '{}')",
                  path, meta(file, "format", path));
  const std::string& version = meta(file, "format_version", path);
  int v = 0;
  try {
    v = std::stoi(version);
  } catch (const std::exception&) {
    throw FileError(fmt::format("{}: format_version '{}' is not a number", path, version));
  }
  SIMULACRA_CHECK(v >= 1 && v <= kFormatVersion, FileError,
                  "{}: format version {} is newer than this library reads ({}); upgrade simulacra", path, v,
                  kFormatVersion);
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
    for (std::size_t k = 0; k < list.size(); ++k) {
      const std::string& kind = list[k].at("kind").as_string();
      names.push_back(list[k].at("name").as_string());
      if (kind == "ngram") {
        const std::int64_t order = list[k].at("order").as_int64();
        SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "{}: persona {} has order {}", path, k, order);
        models.push_back(get_ngram(file, k, int(order), path));
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
    if (mc.switching == Switching::kTransition) {
      std::vector<std::int64_t> shape;
      const std::vector<double> a = file.get_as<double>("transition", &shape);
      SIMULACRA_CHECK(shape == std::vector<std::int64_t>({K, K}), FileError, "{}: transition matrix has the wrong shape",
                      path);
      mc.transition = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
          a.data(), K, K);
    }
    return Mixture(std::move(models), std::move(names), Eigen::Map<const Eigen::VectorXd>(prior.data(), K), mc);
  } catch (const FileError& e) {
    const std::string what = e.what();
    if (what.find(path) != std::string::npos) throw;
    throw FileError(fmt::format("{}: {}", path, what));
  } catch (const std::exception& e) {  // bad JSON fields, bad values: the file is damaged
    throw FileError(fmt::format("{}: damaged model file: {}", path, e.what()));
  }
}

}  // namespace simulacra
