// Tests of the transformer codec (transformer_codec.hpp) on its own and
// through the three formats that use it: transformer files, model files and
// training checkpoints. Hostile files are crafted the way an attacker would
// (a few hundred bytes claiming four million layers or a width of 2^24, finite
// weights that overflow) and each must be refused with FileError.
#include "simulacra/transformer_codec.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/json.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/transformer_file.hpp"
#include "simulacra/transformer_train.hpp"

namespace fs = std::filesystem;

namespace {

using simulacra::FileError;
using simulacra::Metadata;
using simulacra::Tensor;
using simulacra::TensorFile;
using simulacra::TransformerConfig;
using simulacra::TransformerModel;

TransformerConfig tiny(int personas = 1) {
  TransformerConfig c;
  c.layers = 1;
  c.heads = 2;
  c.width = 8;
  c.context = 8;
  c.personas = personas;
  return c;
}

// The FileError message of f(); fails the test (and returns "") if f returns
// or throws anything else.
std::string file_error(const std::function<void()>& f, const std::string& what) {
  try {
    f();
    ADD_FAILURE() << what << ": accepted";
  } catch (const FileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-FileError exception: " << e.what();
  }
  return "";
}

void expect_has(const std::string& message, const std::string& part, const std::string& what) {
  EXPECT_NE(message.find(part), std::string::npos) << what << ": \"" << message << "\" lacks \"" << part << "\"";
}

// ------------------------------------------------------------------ metadata values

TEST(TransformerCodecTest, IntegersAreDecimalDigitsInRange) {
  const Metadata m = {{"a", "12"},     {"neg", "-3"},   {"plus", "+1"}, {"space", " 1"},
                      {"tail", "1 "},    {"point", "1.0"}, {"hex", "0x10"}, {"exp", "1e3"},
                      {"empty", ""},     {"huge", "99999999999999999999"}};
  EXPECT_EQ(simulacra::metadata_int(m, "a", 0, 100, "f"), 12);
  EXPECT_EQ(simulacra::metadata_int(m, "neg", -5, 5, "f"), -3);
  for (const char* key : {"plus", "space", "tail", "point", "hex", "exp", "empty", "huge"})
    expect_has(file_error([&] { simulacra::metadata_int(m, key, INT64_MIN, INT64_MAX, "f"); }, key),
               "expected a decimal integer", key);
  expect_has(file_error([&] { simulacra::metadata_int(m, "a", 0, 11, "f"); }, "above"), "in [0, 11]", "above");
  expect_has(file_error([&] { simulacra::metadata_int(m, "missing", 0, 1, "f.st"); }, "missing"),
             "f.st: metadata \"missing\" missing", "missing");
}

TEST(TransformerCodecTest, Uint64sCoverTheWholeRange) {
  const Metadata m = {{"max", "18446744073709551615"}, {"over", "18446744073709551616"}, {"neg", "-1"}};
  EXPECT_EQ(simulacra::metadata_uint64(m, "max", "f"), std::numeric_limits<std::uint64_t>::max());
  file_error([&] { simulacra::metadata_uint64(m, "over", "f"); }, "2^64");
  file_error([&] { simulacra::metadata_uint64(m, "neg", "f"); }, "-1");
}

TEST(TransformerCodecTest, BooleansAndRealsHaveOneEncoding) {
  const Metadata m = {{"t", "true"}, {"f", "false"}, {"one", "1"}, {"caps", "True"}, {"r", "0.1"},
                      {"inf", "inf"}, {"junk", "0.1x"}};
  EXPECT_TRUE(simulacra::metadata_bool(m, "t", "f"));
  EXPECT_FALSE(simulacra::metadata_bool(m, "f", "f"));
  for (const char* key : {"one", "caps"})
    expect_has(file_error([&] { simulacra::metadata_bool(m, key, "f"); }, key), "expected \"true\" or \"false\"", key);
  EXPECT_EQ(simulacra::metadata_real(m, "r", "f"), 0.1);
  for (const char* key : {"inf", "junk"}) file_error([&] { simulacra::metadata_real(m, key, "f"); }, key);
  for (const double x : {0.1, 1e-8, 3e-3, 1.0 / 3.0, 123456789.123})
    EXPECT_EQ(simulacra::metadata_real({{"x", simulacra::real_text(x)}}, "x", "f"), x) << "round trip of " << x;
  EXPECT_EQ(simulacra::bool_text(true), "true");
}

TEST(TransformerCodecTest, FormatVersionsAreCheckedOneWay) {
  EXPECT_EQ(simulacra::metadata_format_version({{"format_version", "2"}}, 2, "f"), 2);
  expect_has(file_error([] { simulacra::metadata_format_version({{"format_version", "3"}}, 2, "f"); }, "3"), "newer",
             "3");
  expect_has(file_error([] { simulacra::metadata_format_version({{"format_version", "0"}}, 2, "f"); }, "0"),
             "not a valid version", "0");
  expect_has(file_error([] { simulacra::metadata_format_version({{"format_version", "1abc"}}, 2, "f"); }, "1abc"),
             "expected a decimal integer", "1abc");
}

// ------------------------------------------------------------------ the configuration

TEST(TransformerCodecTest, ConfigEqualityComparesEveryField) {
  const TransformerConfig a = tiny();
  EXPECT_TRUE(a == tiny());
  EXPECT_FALSE(a != tiny());
  const std::vector<std::function<void(TransformerConfig&)>> edits = {
      [](TransformerConfig& c) { c.layers = 2; },   [](TransformerConfig& c) { c.heads = 4; },
      [](TransformerConfig& c) { c.width = 16; },   [](TransformerConfig& c) { c.context = 9; },
      [](TransformerConfig& c) { c.personas = 2; }, [](TransformerConfig& c) { c.bias = true; },
      [](TransformerConfig& c) { c.tie_weights = true; }, [](TransformerConfig& c) { c.gate = true; }};
  for (std::size_t i = 0; i < edits.size(); ++i) {
    TransformerConfig b = a;
    edits[i](b);
    EXPECT_FALSE(a == b) << "field " << i;
    EXPECT_TRUE(a != b) << "field " << i;
  }
}

TEST(TransformerCodecTest, ConfigRoundTripsThroughMetadataAndJson) {
  for (bool flag : {false, true}) {
    TransformerConfig c = tiny(3);
    c.layers = 5;
    c.bias = flag;
    c.tie_weights = !flag;
    c.gate = flag;
    Metadata m = {{"other", "kept"}};
    simulacra::put_config(c, m);
    EXPECT_EQ(m.at("layers"), "5");
    EXPECT_EQ(m.at("bias"), flag ? "true" : "false");
    EXPECT_EQ(m.at("other"), "kept");
    EXPECT_TRUE(simulacra::get_config(m, "f") == c);
    const std::string text = simulacra::json::dump(simulacra::config_to_json(c));
    EXPECT_TRUE(simulacra::config_from_json(simulacra::json::parse(text), "f") == c) << text;
    EXPECT_NE(text.find(flag ? "\"bias\":true" : "\"bias\":false"), std::string::npos) << text;
  }
}

TEST(TransformerCodecTest, JsonEntriesTakeOnlyIntegersAndBooleans) {
  const std::string good = R"({"layers": 1, "heads": 2, "width": 8, "context": 8, "personas": 1,
                               "bias": false, "tie_weights": false, "gate": false})";
  EXPECT_TRUE(simulacra::config_from_json(simulacra::json::parse(good), "f") == tiny());
  struct Case {
    std::string from, to, expected;
  };
  for (const Case& c : std::vector<Case>{{"\"layers\": 1", "\"layers\": 1.5", "decimal integer"},
                                         {"\"layers\": 1", "\"layers\": \"1\"", "decimal integer"},
                                         {"\"layers\": 1", "\"layers\": 0", "invalid configuration"},
                                         {"\"heads\": 2", "\"heads\": 3", "invalid configuration"},
                                         {"\"bias\": false", "\"bias\": 0", "\"true\" or \"false\""},
                                         {"\"gate\": false", "\"gat\": false", "metadata \"gate\" missing"}}) {
    std::string text = good;
    text.replace(text.find(c.from), c.from.size(), c.to);
    expect_has(file_error([&] { simulacra::config_from_json(simulacra::json::parse(text), "f"); }, c.to),
               c.expected, c.to);
  }
  file_error([] { simulacra::config_from_json(simulacra::json::parse("[1]"), "f"); }, "an array");
}

// ------------------------------------------------------------------ the parameters

TEST(TransformerCodecTest, ParametersRoundTripUnderAPrefixAndNothingElseIsTaken) {
  const TransformerModel<float> model(tiny(2), 3);
  TensorFile file;
  simulacra::put_parameters(file, "transformer.0.", model);
  const float one = 1.0f;
  file.put("prior", {1}, &one);  // outside the prefix: not the codec's
  const auto again = simulacra::get_model<float>(file, "transformer.0.", tiny(2), "f");
  EXPECT_EQ(again.parameters(), model.parameters());
  EXPECT_TRUE(again.config() == tiny(2));

  TensorFile extra = file;
  extra.put("transformer.0.head.0.unembed.bias", {1}, &one);
  expect_has(file_error([&] { simulacra::get_model<float>(extra, "transformer.0.", tiny(2), "f"); }, "extra"),
             "unexpected tensor \"transformer.0.head.0.unembed.bias\"", "extra");
  EXPECT_NO_THROW(simulacra::get_model<float>(extra, "transformer.0.", tiny(2), "f",
                                              {"transformer.0.head.0.unembed.bias"}))
      << "a tensor the caller reads itself is not unexpected";
  expect_has(file_error([&] { simulacra::get_model<double>(file, "transformer.0.", tiny(2), "f"); }, "dtype"),
             "has dtype F32, expected F64", "dtype");
}

// ------------------------------------------------------------------ hostile files

class HostileFileTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("simulacra_transformer_codec_test_") + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `file` and checks it is small (the acceptance: any file of at most 1 MB is refused quickly).
  std::string write(const TensorFile& file, const std::string& name) {
    const std::string path = (dir_ / name).string();
    simulacra::write_safetensors(path, file);
    EXPECT_LE(fs::file_size(path), 1u << 20) << name;
    return path;
  }

  fs::path dir_;
};

// A pile whose one transformer entry claims `config`, holding `tensors` (prefixed) and a prior.
TensorFile pile(const std::string& config, const TensorFile& tensors) {
  TensorFile f;
  f.metadata["format"] = "simulacra";
  f.metadata["format_version"] = "2";
  f.metadata["tokenizer"] = R"({"kind": "byte", "vocab": 257, "boundary": 256})";
  f.metadata["config"] = R"({"beta": 1.0, "switching": "none", "alpha": 0.0, "gamma": 1.0})";
  f.metadata["personas"] = R"([{"name": "h", "kind": "transformer", "model": 0, "head": 0}])";
  f.metadata["transformers"] = "[" + config + "]";
  const double prior = 1.0;
  f.put("prior", {1}, &prior);
  for (const std::string& name : tensors.names()) f.put("transformer.0." + name, tensors.get(name));
  return f;
}

std::string config_text(std::int64_t layers, std::int64_t width) {
  return fmt::format(R"({{"layers": {}, "heads": 1, "width": {}, "context": 8, "personas": 1, "bias": false, )"
                     R"("tie_weights": false, "gate": false}})",
                     layers, width);
}

// The tensors of a real tiny model, and a set that passes the embeddings'
// shapes and the tensor count for `layers` layers of width 32 while holding
// far fewer bytes than they need.
TensorFile tiny_tensors() {
  TensorFile t;
  simulacra::put_parameters(t, "", TransformerModel<float>(tiny(), 1));
  return t;
}
TensorFile padded_tensors(int layers) {
  TensorFile t;
  TransformerConfig c = tiny();
  c.width = 32;
  const TransformerModel<float> model(c, 1);
  t.put("tok_emb", model.layout()[0].shape, model.parameters().data());
  t.put("pos_emb", model.layout()[1].shape, model.parameters().data());
  for (int i = 0; i < 6 * layers + 1; ++i) t.put<float>(fmt::format("pad.{}", i), {0}, nullptr);
  return t;
}

TEST_F(HostileFileTest, PilesClaimingHugeTransformersAreRefused) {
  const TensorFile none;
  struct Case {
    std::string name, config;
    TensorFile tensors;
  };
  const std::vector<Case> cases = {
      {"layers 4000000, no tensors", config_text(4000000, 8), none},
      {"width 2^24, no tensors", config_text(4, 1 << 24), none},
      {"layers 4000000", config_text(4000000, 8), tiny_tensors()},
      {"width 2^24", config_text(1, 1 << 24), tiny_tensors()},
      {"layers 2^31 - 1", config_text(2147483647, 8), tiny_tensors()},
      {"layers 2^31", config_text(2147483648LL, 8), tiny_tensors()},
      {"100 layers of width 32 in 33 KB", R"({"layers": 100, "heads": 1, "width": 32, "context": 8, "personas": 1,
                                             "bias": false, "tie_weights": false, "gate": false})",
       padded_tensors(100)},
  };
  for (const Case& c : cases) {
    const std::string path = write(pile(c.config, c.tensors), "pile.safetensors");
    const std::string message = file_error([&] { simulacra::load(path); }, c.name);
    expect_has(message, path + ": transformer 0: ", c.name);
    EXPECT_EQ(message.find("bad_alloc"), std::string::npos) << c.name << ": refused by running out of memory";
  }
  const std::string small = write(pile(config_text(4000000, 8), none), "small.safetensors");
  EXPECT_LT(fs::file_size(small), 600u) << "the issue's 560-byte pile";
}

TEST_F(HostileFileTest, TransformerFilesClaimingHugeModelsAreRefused) {
  const auto file = [](const Metadata& claims, const TensorFile& tensors) {
    TensorFile f = tensors;
    f.metadata = {{"format", "simulacra-transformer"}, {"format_version", "1"}, {"vocab", "257"}};
    simulacra::put_config(tiny(), f.metadata);
    for (const auto& [k, v] : claims) f.metadata[k] = v;
    return f;
  };
  for (const auto& [claims, tensors, expected] :
       std::vector<std::tuple<Metadata, TensorFile, std::string>>{
           {{{"layers", "4000000"}}, TensorFile(), "missing"},
           {{{"layers", "4000000"}}, tiny_tensors(), "at least"},
           {{{"width", "16777216"}, {"heads", "1"}}, tiny_tensors(), "\"tok_emb\" has shape"},
           {{{"layers", "100"}, {"width", "32"}}, padded_tensors(100), "bytes of parameters"}}) {
    const std::string path = write(file(claims, tensors), "t.safetensors");
    expect_has(file_error([&] { simulacra::load_transformer_any(path); }, expected), expected, expected);
  }
}

// A tiny trainer's checkpoint as tensors.
TensorFile checkpoint_file(const std::string& path) {
  simulacra::TransformerTrainConfig c;
  c.model = tiny();
  c.steps = 2;
  c.batch = 2;
  c.threads = 1;
  simulacra::TransformerTrainer t(c, simulacra::TransformerData::from_text(std::string(200, 'a'), 0.0));
  t.update();
  t.save_checkpoint(path);
  return simulacra::read_safetensors(path);
}

TEST_F(HostileFileTest, CheckpointsClaimingHugeModelsAreRefused) {
  const TensorFile good = checkpoint_file((dir_ / "good.safetensors").string());
  const auto data = simulacra::TransformerData::from_text(std::string(200, 'a'), 0.0);
  for (const auto& [claims, keep_tensors] : std::vector<std::pair<Metadata, bool>>{
           {{{"layers", "4000000"}}, false},
           {{{"layers", "4000000"}}, true},
           {{{"width", "16777216"}, {"heads", "1"}}, true},
           {{{"threads", "100000"}}, true}}) {
    TensorFile f;
    f.metadata = good.metadata;
    for (const auto& [k, v] : claims) f.metadata[k] = v;
    if (keep_tensors)
      for (const std::string& name : good.names()) f.put(name, good.get(name));
    const std::string path = write(f, "bad.safetensors");
    file_error([&] { simulacra::TransformerTrainer::resume(path, data); }, claims.begin()->first);
  }
}

TEST_F(HostileFileTest, PileTensorsOfNoListedTransformerAreRefused) {
  const std::string good = (dir_ / "good.safetensors").string();
  const auto model = std::make_shared<const TransformerModel<float>>(tiny(), 4);
  simulacra::save(simulacra::Mixture({std::make_shared<simulacra::TransformerPersona>(model, 0)}, {"h"},
                                     Eigen::VectorXd::Ones(1)),
                  good);
  const TensorFile file = simulacra::read_safetensors(good);
  EXPECT_NO_THROW(simulacra::load(good));
  const float one = 1.0f;
  for (const char* stray :
       {"transformer.0.h.0.ln1.bias", "transformer.1.tok_emb", "transformer.01.tok_emb", "transformer.x"}) {
    TensorFile f = file;
    f.put(stray, {1}, &one);
    const std::string path = write(f, "bad.safetensors");
    expect_has(file_error([&] { simulacra::load(path); }, stray), "unexpected tensor", stray);
  }
}

// ------------------------------------------------------------------ overflowing weights

// A float model whose weights are all finite but whose head 0 overflows:
// its LayerNorm gain and unembedding are 3e38.
TransformerModel<float> overflowing(const TransformerConfig& c) {
  TransformerModel<float> model(c, 2);
  model.tensor("head.0.ln.weight").setConstant(3e38f);
  model.tensor("head.0.unembed.weight").setConstant(3e38f);
  return model;
}

TEST_F(HostileFileTest, FiniteWeightsThatOverflowAreRefusedInEveryFormat) {
  const TransformerModel<float> model = overflowing(tiny());
  simulacra::Activations<float> acts;
  const std::vector<simulacra::Token> tokens = {256, 'T', 'h', 'e'};
  model.forward(tokens.data(), 1, 4, acts);
  ASSERT_FALSE(acts.logits[0].allFinite()) << "the crafted model must overflow";

  const std::string tf = (dir_ / "t.safetensors").string();
  simulacra::save_transformer(model, tf);
  expect_has(file_error([&] { simulacra::load_transformer(tf); }, "transformer file"), "probe forward",
             "transformer file");

  TransformerModel<double> wide(tiny(), 2);
  wide.tensor("head.0.ln.weight").setConstant(1e300);
  wide.tensor("head.0.unembed.weight").setConstant(1e300);
  simulacra::save_transformer(wide, tf);
  expect_has(file_error([&] { simulacra::load_transformer_f64(tf); }, "f64 transformer file"), "probe forward",
             "f64 transformer file");

  const std::string pf = (dir_ / "p.safetensors").string();
  const auto shared = std::make_shared<const TransformerModel<float>>(model);
  simulacra::save(simulacra::Mixture({std::make_shared<simulacra::TransformerPersona>(shared, 0)}, {"h"},
                                     Eigen::VectorXd::Ones(1)),
                  pf);
  expect_has(file_error([&] { simulacra::load(pf); }, "pile"), "probe forward", "pile");

  TensorFile ck = checkpoint_file((dir_ / "c.safetensors").string());
  TensorFile bad;
  bad.metadata = ck.metadata;
  for (const std::string& name : ck.names()) {
    Tensor t = ck.get(name);
    if (name == "head.0.ln.weight" || name == "head.0.unembed.weight")
      for (std::size_t i = 0; i < t.bytes.size(); i += 4) {
        const float big = 3e38f;
        std::memcpy(t.bytes.data() + i, &big, 4);
      }
    bad.put(name, t);
  }
  const std::string cf = write(bad, "bad.safetensors");
  const auto data = simulacra::TransformerData::from_text(std::string(200, 'a'), 0.0);
  expect_has(file_error([&] { simulacra::TransformerTrainer::resume(cf, data); }, "checkpoint"), "probe forward",
             "checkpoint");
}

}  // namespace
