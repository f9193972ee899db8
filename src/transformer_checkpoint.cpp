// Training checkpoints (transformer_train.hpp): a trainer's state <-> safetensors, through the codec.
#include <climits>
#include <cmath>

#include <fmt/ranges.h>

#include "simulacra/safetensors.hpp"
#include "simulacra/transformer_codec.hpp"
#include "simulacra/transformer_train.hpp"

namespace simulacra {

namespace {

constexpr const char* kCheckpointFormat = "simulacra-transformer-checkpoint";
// 2: the codec's "format_version" and "true" / "false"; 1 wrote "version" and "1" / "0".
constexpr int kCheckpointVersion = 2;
constexpr const char* kMoment1 = "optimizer.m";
constexpr const char* kMoment2 = "optimizer.v";

// The metadata of a version-1 checkpoint in the current encoding (others as they are).
Metadata upgraded(Metadata m, const std::string& path) {
  if (m.count("format_version") != 0) return m;
  const auto version = m.find("version");
  SIMULACRA_CHECK(version != m.end() && version->second == "1", FileError,
                  "{}: checkpoint metadata has no \"format_version\" (and no version-1 \"version\": \"1\")", path);
  m.erase(version);
  m["format_version"] = "1";
  for (const char* key : {"bias", "tie_weights", "gate", "gate_posterior"}) {
    const auto it = m.find(key);
    if (it != m.end() && (it->second == "0" || it->second == "1")) it->second = bool_text(it->second == "1");
  }
  return m;
}

// An optimiser moment: F32 [P], finite (and >= 0 for the second moment).
std::vector<float> moment(const TensorFile& f, const char* name, std::size_t P, bool nonnegative,
                          const std::string& path) {
  SIMULACRA_CHECK(f.has(name), FileError, "{}: tensor \"{}\" is missing", path, name);
  const Tensor& t = f.get(name);
  SIMULACRA_CHECK(t.dtype == DType::F32 && t.shape == std::vector<std::int64_t>{std::int64_t(P)}, FileError,
                  "{}: tensor \"{}\" is {} [{}], expected F32 [{}]", path, name, dtype_name(t.dtype),
                  fmt::join(t.shape, ", "), P);
  std::vector<float> values = f.get_as<float>(name);
  for (std::size_t i = 0; i < values.size(); ++i)
    SIMULACRA_CHECK(std::isfinite(values[i]) && (!nonnegative || values[i] >= 0.0f), FileError,
                    "{}: tensor \"{}\" holds {} at element {}", path, name, values[i], i);
  return values;
}

}  // namespace

void TransformerTrainer::save_checkpoint(const std::string& path) const {
  TensorFile f;
  Metadata& m = f.metadata;
  const AdamWConfig& o = config_.optimizer;
  m["format"] = kCheckpointFormat;
  m["format_version"] = std::to_string(kCheckpointVersion);
  put_config(config_.model, m);
  m["objective"] = objective_name(config_.objective);
  m["gate_posterior"] = bool_text(config_.gate_posterior);
  for (const auto& [key, value] : {std::pair<const char*, int>{"batch", config_.batch},
                                   {"steps", config_.steps},
                                   {"warmup", o.warmup},
                                   {"eval_every", config_.eval_every},
                                   {"eval_windows", config_.eval_windows},
                                   {"threads", config_.threads},
                                   {"step", step_}})
    m[key] = std::to_string(value);
  for (const auto& [key, value] : {std::pair<const char*, double>{"lr", o.lr},
                                   {"min_lr", o.min_lr},
                                   {"beta1", o.beta1},
                                   {"beta2", o.beta2},
                                   {"eps", o.eps},
                                   {"weight_decay", o.weight_decay},
                                   {"clip", o.clip},
                                   {"seconds", seconds_}})
    m[key] = real_text(value);
  m["seed"] = std::to_string(config_.seed);
  m["rng"] = std::to_string(rng_);
  put_parameters(f, "", *model_);
  const std::int64_t P = std::int64_t(model_->parameters().size());
  f.put(kMoment1, {P}, m_.data());
  f.put(kMoment2, {P}, v_.data());
  write_safetensors(path, f);
}

TransformerTrainer TransformerTrainer::resume(const std::string& path, TransformerData data,
                                              const TransformerTrainConfig& callbacks) {
  const TensorFile f = read_safetensors(path);
  const auto format = f.metadata.find("format");
  SIMULACRA_CHECK(format != f.metadata.end() && format->second == kCheckpointFormat, FileError,
                  "{}: not a simulacra transformer checkpoint (format \"{}\")", path,
                  format != f.metadata.end() ? format->second : std::string());
  const Metadata m = upgraded(f.metadata, path);
  metadata_format_version(m, kCheckpointVersion, path);
  const auto integer = [&](const char* key, std::int64_t lo, std::int64_t hi) {
    return int(metadata_int(m, key, lo, hi, path));
  };
  TransformerTrainConfig c;
  c.model = get_config(m, path);
  try {
    c.objective = objective_from_name(metadata_text(m, "objective", path));
  } catch (const InvalidArgument& e) {
    throw FileError(fmt::format("{}: {}", path, e.what()));
  }
  c.gate_posterior = metadata_bool(m, "gate_posterior", path);
  c.batch = integer("batch", 1, INT_MAX);
  c.steps = integer("steps", 0, INT_MAX);
  c.optimizer.lr = metadata_real(m, "lr", path);
  c.optimizer.min_lr = metadata_real(m, "min_lr", path);
  c.optimizer.warmup = integer("warmup", 0, INT_MAX);
  c.optimizer.beta1 = metadata_real(m, "beta1", path);
  c.optimizer.beta2 = metadata_real(m, "beta2", path);
  c.optimizer.eps = metadata_real(m, "eps", path);
  c.optimizer.weight_decay = metadata_real(m, "weight_decay", path);
  c.optimizer.clip = metadata_real(m, "clip", path);
  c.seed = metadata_uint64(m, "seed", path);
  c.eval_every = integer("eval_every", 0, INT_MAX);
  c.eval_windows = integer("eval_windows", 1, INT_MAX);
  c.threads = integer("threads", 0, kMaxThreads);
  c.on_progress = callbacks.on_progress;
  c.checkpoint_path = callbacks.checkpoint_path;
  c.checkpoint_every = callbacks.checkpoint_every;
  try {
    c.check();
  } catch (const InvalidArgument& e) {
    throw FileError(fmt::format("{}: {}", path, e.what()));
  }
  SIMULACRA_CHECK(c.objective != Objective::kGate || c.model.gate, FileError,
                  "{}: the objective is gate, but the model has no gate", path);
  SIMULACRA_CHECK(data.train.size() == std::size_t(c.model.personas), InvalidArgument,
                  "resume: the data has {} personas, the checkpoint {}", data.train.size(), c.model.personas);
  // The model straight from the file (never initialised first), then the optimiser state.
  auto model = std::make_shared<TransformerModel<float>>(get_model<float>(f, "", c.model, path, {kMoment1, kMoment2}));
  const std::size_t P = model->parameters().size();
  std::vector<float> m1 = moment(f, kMoment1, P, false, path), m2 = moment(f, kMoment2, P, true, path);
  const int steps = c.steps;
  TransformerTrainer t(std::move(c), std::move(data), std::move(model));
  t.m_ = std::move(m1);
  t.v_ = std::move(m2);
  t.step_ = integer("step", 0, steps);
  t.rng_ = metadata_uint64(m, "rng", path);
  t.seconds_ = metadata_real(m, "seconds", path);
  return t;
}

}  // namespace simulacra
