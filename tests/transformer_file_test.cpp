// Tests of saving and loading a transformer (transformer_file.hpp).
//
// A saved and reloaded model must be the same model to the bit (parameters
// compared with memcmp, so -0.0 vs 0.0, a denormal or a last-bit difference
// fails), in float and in double, for every shape of configuration. Damaged
// files are made byte by byte or through the TensorFile API, and loading
// them must throw FileError naming the file, never another exception and
// never crash.
#include "simulacra/transformer_file.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing.hpp"
#include "transformer_testing.hpp"

#include "simulacra/error.hpp"
#include "simulacra/json.hpp"
#include "simulacra/safetensors.hpp"

namespace fs = std::filesystem;

namespace {

using simulacra::DType;
using simulacra::FileError;
using simulacra::Tensor;
using simulacra::TensorFile;
using simulacra::TransformerConfig;
using simulacra::TransformerModel;
using simulacra::tiny_config;

using simulacra::testing::Bytes;
using simulacra::testing::header_length;
using simulacra::testing::read_bytes;
using simulacra::testing::write_bytes;

// ------------------------------------------------------------------ helpers

// A model whose parameters are random values of every magnitude, including
// -0.0, a denormal and the largest finite values (bit-exactness, not sense).
// The extremes sit in tok_emb's row 0 (byte 0), which the loader's probe
// forward pass does not read; tied, that row is also every head's
// unembedding and the largest values would overflow the probe's logits, so
// they are 1e30 there.
template <typename T>
TransformerModel<T> random_model(const TransformerConfig& c, unsigned seed) {
  TransformerModel<T> model(c, seed);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T>& p = model.parameters();
  for (T& x : p) x = T(normal(rng) * std::pow(10.0, double(rng() % 7) - 3.0));
  p[0] = T(-0.0);
  p[1] = std::numeric_limits<T>::denorm_min();
  p[2] = c.tie_weights ? T(1e30) : std::numeric_limits<T>::max();
  p[3] = -p[2];
  return model;
}

template <typename T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

// The FileError message of load_transformer_any(path); fails the test (and
// returns "") if it loads or throws anything else.
std::string load_error(const fs::path& path, const std::string& what) {
  try {
    simulacra::load_transformer_any(path.string());
    ADD_FAILURE() << what << ": the damaged file loaded";
  } catch (const FileError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path.string()), std::string::npos)
        << what << ": message does not name the file: " << message;
    return message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-FileError exception: " << e.what();
  }
  return "";
}

// Loads a possibly damaged file: it loads (then the model must run a forward
// pass) or throws FileError. Returns whether it loaded.
bool load_or_file_error(const fs::path& path, const std::string& what) {
  try {
    const auto any = simulacra::load_transformer_any(path.string());
    const auto& model = std::get<TransformerModel<float>>(any);
    simulacra::Activations<float> acts;
    const std::vector<simulacra::Token> tokens = {256, 'a', 'b'};
    model.forward(tokens.data(), 1, 3, acts);
    EXPECT_EQ(acts.logits.size(), std::size_t(model.config().personas)) << what;
    return true;
  } catch (const FileError& e) {
    EXPECT_GT(std::strlen(e.what()), 0u) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-FileError exception: " << e.what();
  }
  return false;
}

// A copy of `file` with tensor `name` replaced (or removed, when `replacement` is null).
TensorFile with_tensor(const TensorFile& file, const std::string& name, const Tensor* replacement) {
  TensorFile out;
  out.metadata = file.metadata;
  for (const std::string& n : file.names()) {
    if (n != name) out.put(n, file.get(n));
    else if (replacement != nullptr) out.put(n, *replacement);
  }
  return out;
}

class TransformerFileTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("simulacra_transformer_file_test_") + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path path(const std::string& name = "hydra.safetensors") const { return dir_ / name; }

  // A saved float model with every optional tensor, read back as tensors.
  TensorFile saved_file() {
    simulacra::save_transformer(random_model<float>(tiny_config(true, false, true, 2), 5), path().string());
    return simulacra::read_safetensors(path().string());
  }

  // Writes `file` and expects loading it to fail with a message containing `expected`.
  void expect_refused(const TensorFile& file, const std::string& expected, const std::string& what) {
    simulacra::write_safetensors(path("bad.safetensors").string(), file);
    const std::string message = load_error(path("bad.safetensors"), what);
    EXPECT_NE(message.find(expected), std::string::npos)
        << what << ": \"" << message << "\" lacks \"" << expected << "\"";
  }

  fs::path dir_;
};

// -------------------------------------------------------------- round trip

TEST_F(TransformerFileTest, RoundTripIsBitExactInFloatAndDouble) {
  unsigned seed = 1;
  for (bool bias : {false, true})
    for (bool tie : {false, true})
      for (bool gate : {false, true})
        for (int personas : {1, 3}) {
          const TransformerConfig c = tiny_config(bias, tie, gate, personas);
          const std::string what = fmt::format("bias={} tie={} gate={} K={}", bias, tie, gate, personas);
          const auto f = random_model<float>(c, ++seed);
          simulacra::save_transformer(f, path("f32.safetensors").string());
          const TransformerModel<float> f2 = simulacra::load_transformer(path("f32.safetensors").string());
          EXPECT_TRUE(f2.config() == c) << what;
          EXPECT_TRUE(same_bits(f2.parameters(), f.parameters())) << what;

          const auto d = random_model<double>(c, ++seed);
          simulacra::save_transformer(d, path("f64.safetensors").string());
          const TransformerModel<double> d2 = simulacra::load_transformer_f64(path("f64.safetensors").string());
          EXPECT_TRUE(d2.config() == c) << what;
          EXPECT_TRUE(same_bits(d2.parameters(), d.parameters())) << what;
        }
}

TEST_F(TransformerFileTest, FileHoldsTheLayoutInPyTorchShapesAndTheConfigInTheMetadata) {
  const TransformerConfig c = tiny_config(true, false, true, 3);
  const auto model = random_model<double>(c, 9);
  simulacra::save_transformer(model, path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());

  const std::map<std::string, std::string> expected = {
      {"format", "simulacra-transformer"}, {"format_version", "1"}, {"vocab", "257"},  {"layers", "2"},
      {"heads", "2"},  {"width", "8"}, {"context", "6"}, {"personas", "3"}, {"bias", "true"},
      {"tie_weights", "false"}, {"gate", "true"}};
  EXPECT_EQ(file.metadata, expected);

  std::set<std::string> names;
  for (const simulacra::TensorInfo& t : model.layout()) {
    names.insert(t.name);
    ASSERT_TRUE(file.has(t.name)) << t.name;
    std::vector<std::int64_t> shape;
    const std::vector<double> values = file.get_as<double>(t.name, &shape);
    EXPECT_EQ(shape, t.shape) << t.name;
    EXPECT_EQ(std::memcmp(values.data(), model.parameters().data() + t.offset, t.size * sizeof(double)), 0) << t.name;
  }
  const std::vector<std::string> stored = file.names();
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()), names);
  EXPECT_EQ(file.get("tok_emb").shape, (std::vector<std::int64_t>{257, 8}));
  EXPECT_EQ(file.get("h.1.attn.qkv.weight").shape, (std::vector<std::int64_t>{24, 8}));
  EXPECT_EQ(file.get("h.0.mlp.proj.weight").shape, (std::vector<std::int64_t>{8, 32}));
  EXPECT_EQ(file.get("head.2.unembed.weight").shape, (std::vector<std::int64_t>{257, 8}));
  EXPECT_EQ(file.get("gate.bias").shape, (std::vector<std::int64_t>{3}));
}

TEST_F(TransformerFileTest, EachPrecisionLoadsOnlyAsItself) {
  const TransformerConfig c = tiny_config(false, true, false, 1);
  simulacra::save_transformer(random_model<float>(c, 3), path("f32.safetensors").string());
  simulacra::save_transformer(random_model<double>(c, 3), path("f64.safetensors").string());
  EXPECT_EQ(simulacra::load_transformer_any(path("f32.safetensors").string()).index(), 0u);
  EXPECT_EQ(simulacra::load_transformer_any(path("f64.safetensors").string()).index(), 1u);
  EXPECT_THROW(simulacra::load_transformer_f64(path("f32.safetensors").string()), FileError);
  EXPECT_THROW(simulacra::load_transformer(path("f64.safetensors").string()), FileError);
}

TEST_F(TransformerFileTest, SavingIntoAMissingDirectoryFailsAndSavingOverAFileReplacesIt) {
  const auto model = random_model<float>(tiny_config(false, false, false, 1), 4);
  EXPECT_THROW(simulacra::save_transformer(model, (dir_ / "nowhere" / "m.safetensors").string()), FileError);
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));

  simulacra::save_transformer(random_model<float>(tiny_config(true, true, true, 2), 8), path().string());
  simulacra::save_transformer(model, path().string());
  EXPECT_TRUE(same_bits(simulacra::load_transformer(path().string()).parameters(), model.parameters()));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // no temporary left
}

// ---------------------------------------------------------- damaged files

TEST_F(TransformerFileTest, TruncatedFilesAreFileErrors) {
  saved_file();
  const Bytes file = read_bytes(path());
  std::vector<std::size_t> sizes = {0, 1, 7, 8, 9, file.size() - 1, std::size_t(8 + header_length(file))};
  for (std::size_t i = 1; i < 40; ++i) sizes.push_back(file.size() * i / 40);
  for (std::size_t size : sizes) {
    write_bytes(path("cut.safetensors"), file, size);
    load_error(path("cut.safetensors"), "truncated to " + std::to_string(size) + " bytes");
  }
}

TEST_F(TransformerFileTest, FlippedBytesAreFileErrorsOrHarmless) {
  saved_file();
  const Bytes file = read_bytes(path());
  const std::size_t data = std::size_t(8 + header_length(file));
  // Every header byte and every 13th data byte (a stride prime to 4 reaches
  // every byte of the floats: exponent bytes make NaN and infinity), one bit
  // or all bits flipped in turn.
  int loaded = 0, refused = 0;
  for (std::size_t at = 0, i = 0; at < file.size(); at += at < data ? 1 : 13, ++i) {
    const unsigned char mask = i % 2 == 0 ? 0x01 : 0xFF;
    Bytes damaged = file;
    damaged[at] ^= mask;
    const fs::path p = path("flip." + std::to_string(at) + ".safetensors");
    write_bytes(p, damaged);
    (load_or_file_error(p, "byte " + std::to_string(at) + " ^ " + std::to_string(mask)) ? loaded : refused)++;
    fs::remove(p);
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded, 0);
}

TEST_F(TransformerFileTest, NonFiniteParametersAreFileErrors) {
  const TensorFile file = saved_file();
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    Tensor t = file.get("h.1.mlp.fc.bias");
    std::memcpy(t.bytes.data() + 4 * 5, &bad, sizeof bad);
    expect_refused(with_tensor(file, "h.1.mlp.fc.bias", &t), "\"h.1.mlp.fc.bias\" holds", "non-finite at 5");
  }
}

TEST_F(TransformerFileTest, WrongShapesNamesAndDTypesAreFileErrors) {
  const TensorFile file = saved_file();

  Tensor transposed = file.get("h.0.mlp.fc.weight");  // (32, 8) stored as (8, 32): same bytes
  transposed.shape = {8, 32};
  expect_refused(with_tensor(file, "h.0.mlp.fc.weight", &transposed), "\"h.0.mlp.fc.weight\" has shape [8, 32]",
                 "transposed");

  Tensor flat = file.get("pos_emb");
  flat.shape = {flat.numel()};
  expect_refused(with_tensor(file, "pos_emb", &flat), "\"pos_emb\" has shape", "flattened");

  expect_refused(with_tensor(file, "head.1.ln.bias", nullptr), "\"head.1.ln.bias\" is missing", "missing tensor");

  TensorFile extra = file;
  const float one = 1.0f;
  extra.put("head.1.unembed.bias", {1}, &one);
  expect_refused(extra, "unexpected tensor \"head.1.unembed.bias\"", "extra tensor");

  Tensor wide = file.get("gate.weight");  // as doubles: same shape, another dtype
  std::vector<double> as_double(std::size_t(wide.numel()), 0.5);
  wide.dtype = DType::F64;
  wide.bytes.assign(reinterpret_cast<const unsigned char*>(as_double.data()),
                    reinterpret_cast<const unsigned char*>(as_double.data() + as_double.size()));
  expect_refused(with_tensor(file, "gate.weight", &wide), "\"gate.weight\" has dtype F64", "mixed dtypes");

  Tensor ints = file.get("tok_emb");
  ints.dtype = DType::I32;
  expect_refused(with_tensor(file, "tok_emb", &ints), "expected F32 or F64", "integer tensor");
}

TEST_F(TransformerFileTest, BadMetadataIsAFileError) {
  const TensorFile file = saved_file();
  struct Case {
    std::string key, value, expected;  // value "" removes the key
  };
  const std::vector<Case> cases = {
      {"format", "", "metadata \"format\" missing"},
      {"format", "simulacra", "mixture file"},
      {"format", "gpt2", "format \"gpt2\""},
      {"format_version", "2", "newer"},
      {"format_version", "0", "not a valid version"},
      {"format_version", "1.0", "expected a decimal integer"},
      {"vocab", "50257", "vocabulary"},
      {"layers", "", "metadata \"layers\" missing"},
      {"layers", "two", "expected a decimal integer"},
      {"layers", " 2", "expected a decimal integer"},
      {"layers", "99999999999", "expected a decimal integer"},
      {"layers", "0", "invalid configuration"},
      {"layers", "3", "\"h.2.ln1.weight\" is missing"},
      {"layers", "2000000000", "at least"},
      {"personas", "2000000000", "at least"},
      {"layers", "1", "unexpected tensor \"h.1."},
      {"heads", "3", "invalid configuration"},
      {"heads", "4", ""},  // a valid head count changes nothing stored: the file loads
      {"width", "16", "\"tok_emb\" has shape [257, 8], expected [257, 16]"},
      {"width", "-8", "invalid configuration"},
      {"context", "7", "\"pos_emb\" has shape [6, 8], expected [7, 8]"},
      {"context", "1000000000", "\"pos_emb\" has shape"},
      {"personas", "3", "\"head.2.ln.weight\" is missing"},
      {"bias", "yes", "expected \"true\" or \"false\""},
      {"bias", "false", "unexpected tensor"},
      {"tie_weights", "true", "unexpected tensor \"head.0.unembed.weight\""},
      {"gate", "False", "expected \"true\" or \"false\""},
      {"gate", "false", "unexpected tensor \"gate.bias\""},
  };
  for (const Case& c : cases) {
    TensorFile damaged = file;
    if (c.value.empty()) damaged.metadata.erase(c.key);
    else damaged.metadata[c.key] = c.value;
    const std::string what = c.key + "=\"" + c.value + "\"";
    if (c.expected.empty()) {
      simulacra::write_safetensors(path("ok.safetensors").string(), damaged);
      EXPECT_EQ(simulacra::load_transformer(path("ok.safetensors").string()).config().heads, 4) << what;
    } else {
      expect_refused(damaged, c.expected, what);
    }
  }
}

TEST_F(TransformerFileTest, ForeignSafetensorsAndMissingFilesAreFileErrors) {
  TensorFile foreign;
  const float w[4] = {1, 2, 3, 4};
  foreign.put("transformer.wte.weight", {2, 2}, w);
  expect_refused(foreign, "metadata \"format\" missing", "a foreign file");
  load_error(path("absent.safetensors"), "missing file");
  load_error(dir_, "a directory");
}

}  // namespace
