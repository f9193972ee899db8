// Tests of saving and loading a pile of masks (model_file.hpp).
//
// A saved and reloaded mixture must be the same model to the bit: names,
// prior, switching configuration, every persona's trie arrays, and the trace
// of a text (compared with memcmp, so -0.0 vs 0.0 or a last-bit difference
// fails). The file layout is checked by reading its bytes here (header length,
// alignment, metadata, the prior's raw doubles). Damaged files are made by
// hand, byte by byte or through the TensorFile API, and must raise FileError
// with a message, never another exception and never a crash.
#include "simulacra/model_file.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing.hpp"

#include "simulacra/error.hpp"
#include "simulacra/json.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/transformer.hpp"

namespace fs = std::filesystem;

namespace {

using simulacra::FileError;
using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::NGramPersona;
using simulacra::Persona;
using simulacra::PersonaState;
using simulacra::Steering;
using simulacra::Switching;
using simulacra::TensorFile;
using simulacra::Token;
using simulacra::Trace;

using simulacra::testing::Bytes;
using simulacra::testing::header_length;
using simulacra::testing::read_bytes;
using simulacra::testing::write_bytes;

// ------------------------------------------------------------------ helpers

// Absolute file offset of tensor `name`'s data, from the header JSON.
std::size_t data_offset(const Bytes& file, const std::string& name) {
  const std::uint64_t n = header_length(file);
  const std::string header(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(n));
  const simulacra::json::Value h = simulacra::json::parse(header);
  return std::size_t(8 + n + std::uint64_t(h.at(name).at("data_offsets").as_array()[0].as_int64()));
}

double double_at(const Bytes& file, std::size_t offset) {
  double d = 0.0;
  std::memcpy(&d, file.data() + offset, sizeof d);  // little-endian host assumed (x86-64, aarch64)
  return d;
}

bool same_bits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(double)) == 0);
}

// Expects load(path) to throw FileError with a non-empty message (and
// nothing else); `what` describes the damage for the failure message.
void expect_file_error(const fs::path& path, const std::string& what) {
  try {
    simulacra::load(path.string());
    ADD_FAILURE() << what << ": the damaged file loaded";
  } catch (const FileError& e) {
    EXPECT_GT(std::strlen(e.what()), 0u) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-FileError exception: " << e.what();
  }
}

// Loads a possibly damaged file: it must either load (and then trace a text
// without crashing) or throw FileError. Returns whether it loaded.
bool load_or_file_error(const fs::path& path, const std::string& what) {
  try {
    const Mixture m = simulacra::load(path.string());
    const Trace tr = m.trace(simulacra::encode_document("arr, the moon! 42"));
    EXPECT_EQ(tr.size(), 18u);
    return true;
  } catch (const FileError& e) {
    EXPECT_GT(std::strlen(e.what()), 0u) << what;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": threw a non-FileError exception: " << e.what();
  }
  return false;
}

// The files in `dir`, by name.
std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A copy of `file` with tensor `name` replaced by `replacement`.
TensorFile with_tensor(const TensorFile& file, const std::string& name, const simulacra::Tensor& replacement) {
  TensorFile out;
  out.metadata = file.metadata;
  for (const std::string& n : file.names()) out.put(n, n == name ? replacement : file.get(n));
  return out;
}

// A persona that cannot be saved (not an n-gram model).
class UniformPersona final : public Persona {
 public:
  std::string kind() const override { return "uniform"; }
  std::unique_ptr<PersonaState> begin() const override { return std::make_unique<State>(); }

 private:
  struct State final : PersonaState {
    void next_logprobs(Eigen::Ref<Eigen::VectorXd> out) const override {
      out.setConstant(-std::log(double(simulacra::kVocab)));
    }
    double advance(Token) override { return -std::log(double(simulacra::kVocab)); }
    std::unique_ptr<PersonaState> clone() const override { return std::make_unique<State>(*this); }
  };
};

// A temporary directory per test, and a three-persona mixture.
class ModelFileTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("simulacra_model_file_test_") + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<std::shared_ptr<const Persona>> personas() {
    return {
        std::make_shared<NGramPersona>(NGramPersona::fit(
            {"arr matey, the sea be rough", "ahoy, hoist the sails", "walk the plank, arr!", ""}, 3)),
        std::make_shared<NGramPersona>(
            NGramPersona::fit({"o gentle moon, thy silver light", "the rose, the thorn, the dew"}, 2)),
        std::make_shared<NGramPersona>(
            NGramPersona::fit({"0123456789", "31415 92653 58979", "42 17 99 \xff\xfe 100"}, 4)),
    };
  }

  static Mixture mixture(const MixtureConfig& config = {}) {
    // Names that need escaping in JSON; a prior whose normalisation is not exact.
    return Mixture(personas(), {"pirate", "po\xc3\xa8te \"quoted\"", "digits\\1"}, Eigen::Vector3d(0.123, 0.456, 0.789),
                   config);
  }

  static std::vector<MixtureConfig> every_switching_rule() {
    std::vector<MixtureConfig> out(4);
    out[0].beta = 1.3;
    out[0].switching = Switching::kNone;
    out[1].beta = 0.9;
    out[1].switching = Switching::kFixedShare;
    out[1].alpha = 0.0123456789;
    out[2].beta = 1.1;
    out[2].switching = Switching::kForgetting;
    out[2].gamma = 0.87;
    out[3].switching = Switching::kTransition;
    out[3].transition.resize(3, 3);
    out[3].transition << 0.9, 0.05, 0.05,  //
        1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0,   //
        0.1, 0.7, 0.2;
    return out;
  }

  fs::path path(const std::string& name = "pile.safetensors") const { return dir_ / name; }

  // Writes `bytes` to a new file (rewriting one file thousands of times can
  // make the file system flush it to disk each time) and returns its path.
  fs::path fresh_copy(const Bytes& bytes) {
    const fs::path p = path("damaged." + std::to_string(copies_++) + ".safetensors");
    write_bytes(p, bytes);
    return p;
  }

  fs::path dir_;
  int copies_ = 0;
};

// -------------------------------------------------------------- round trip

TEST_F(ModelFileTest, SaveLoadRoundTripsEverySwitchingRule) {
  const std::vector<Token> text = simulacra::encode_document("arr, the moon be 42 \xff matey! o rose");
  for (const MixtureConfig& config : every_switching_rule()) {
    SCOPED_TRACE(simulacra::switching_name(config.switching));
    const Mixture original = mixture(config);
    simulacra::save(original, path().string());
    const Mixture loaded = simulacra::load(path().string());

    EXPECT_EQ(loaded.names(), original.names());
    ASSERT_EQ(loaded.size(), 3);
    for (int k = 0; k < 3; ++k) EXPECT_EQ(loaded.prior()[k], original.prior()[k]) << "prior " << k;
    const MixtureConfig& a = original.config();
    const MixtureConfig& b = loaded.config();
    EXPECT_EQ(b.switching, a.switching);
    EXPECT_EQ(b.beta, a.beta);
    EXPECT_EQ(b.alpha, a.alpha);
    EXPECT_EQ(b.gamma, a.gamma);
    EXPECT_TRUE(same_bits(b.transition, a.transition));

    // Every persona's arrays, entry by entry.
    for (int k = 0; k < 3; ++k) {
      const auto& x = dynamic_cast<const NGramPersona&>(original.persona(k));
      const auto* y = dynamic_cast<const NGramPersona*>(&loaded.persona(k));
      ASSERT_NE(y, nullptr);
      ASSERT_EQ(y->order(), x.order());
      for (int n = 1; n <= x.order(); ++n) {
        EXPECT_EQ(y->discounts(n).d1, x.discounts(n).d1);
        EXPECT_EQ(y->discounts(n).d2, x.discounts(n).d2);
        EXPECT_EQ(y->discounts(n).d3, x.discounts(n).d3);
        EXPECT_EQ(y->discounts(n).fallback, x.discounts(n).fallback);
      }
      for (int n = 0; n <= x.order(); ++n) {
        const auto& lx = x.levels()[std::size_t(n)];
        const auto& ly = y->levels()[std::size_t(n)];
        ASSERT_EQ(ly.node.size(), lx.node.size());
        for (std::size_t i = 0; i < lx.node.size(); ++i) {
          EXPECT_EQ(ly.node[i].token, lx.node[i].token);
          EXPECT_EQ(ly.node[i].disc, lx.node[i].disc);
          EXPECT_EQ(ly.node[i].gamma, lx.node[i].gamma);
          EXPECT_EQ(ly.node[i].child_begin, lx.node[i].child_begin);
          EXPECT_EQ(ly.node[i].child_end, lx.node[i].child_end);
        }
      }
    }

    // The traces agree to the bit, plain and steered.
    Steering steered;
    steered.exclude = {1};
    steered.prior_bias = Eigen::Vector3d(0.5, -1.0, 2.0);
    for (const Steering& s : {Steering{}, steered}) {
      const Trace ta = original.trace(text, s);
      const Trace tb = loaded.trace(text, s);
      EXPECT_TRUE(same_bits(tb.log_weights, ta.log_weights));
      EXPECT_TRUE(same_bits(tb.persona_logprobs, ta.persona_logprobs));
      EXPECT_TRUE(same_bits(tb.logprobs, ta.logprobs));
      EXPECT_TRUE(same_bits(tb.entropy, ta.entropy));
      EXPECT_EQ(tb.dominant, ta.dominant);
    }
  }
}

TEST_F(ModelFileTest, RoundTripsAnyPrior) {
  // Priors whose normalised form does not sum to exactly 1 in floating point:
  // the loaded prior must still be the saved one, bit for bit.
  const std::vector<Eigen::Vector3d> priors = {
      {1, 1, 1},         {0.1, 0.2, 0.7},   {0.123, 0.456, 0.789}, {1e-3, 1, 1e3},    {3, 7, 11},
      {0.3, 0.3, 0.4},   {6.519, 7.889, 0.948}, {7.218, 2.295, 9.453}, {5.419, 9.392, 3.818},
      {2.174, 4.227, 0.3}, {1.867, 9.926, 8.601}};
  const std::vector<Token> text = simulacra::encode_document("ahoy, o moon 31415");
  for (const Eigen::Vector3d& prior : priors) {
    const Mixture original(personas(), {"a", "b", "c"}, prior);
    simulacra::save(original, path().string());
    const Mixture loaded = simulacra::load(path().string());
    for (int k = 0; k < 3; ++k)
      EXPECT_EQ(loaded.prior()[k], original.prior()[k])
          << "prior (" << prior.transpose() << ") entry " << k << ": sum of the saved prior "
          << original.prior().sum() - 1.0 << " away from 1";
    const Trace ta = original.trace(text), tb = loaded.trace(text);
    EXPECT_TRUE(same_bits(tb.log_weights, ta.log_weights)) << "prior (" << prior.transpose() << ")";
    EXPECT_TRUE(same_bits(tb.logprobs, ta.logprobs)) << "prior (" << prior.transpose() << ")";
  }
}

TEST_F(ModelFileTest, FileLayoutIsSafetensorsWithSimulacraMetadata) {
  const Mixture original = mixture(every_switching_rule()[3]);
  simulacra::save(original, path().string());
  const Bytes file = read_bytes(path());
  ASSERT_GE(file.size(), 8u);
  const std::uint64_t n = header_length(file);
  ASSERT_LE(8 + n, file.size());
  EXPECT_EQ((8 + n) % 8, 0u) << "the data buffer must start at a multiple of 8";
  const std::string header(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(n));
  EXPECT_NE(header.find("\"__metadata__\""), std::string::npos);
  EXPECT_EQ(header.front(), '{');

  const simulacra::json::Value h = simulacra::json::parse(header);
  const simulacra::json::Value& meta = h.at("__metadata__");
  EXPECT_EQ(meta.at("format").as_string(), "simulacra");
  EXPECT_EQ(meta.at("format_version").as_string(), "1");
  const simulacra::json::Value tok = simulacra::json::parse(meta.at("tokenizer").as_string());
  EXPECT_EQ(tok.at("kind").as_string(), "byte");
  EXPECT_EQ(tok.at("vocab").as_int64(), 257);
  EXPECT_EQ(tok.at("boundary").as_int64(), 256);
  const simulacra::json::Value cfg = simulacra::json::parse(meta.at("config").as_string());
  EXPECT_EQ(cfg.at("switching").as_string(), "transition");
  const simulacra::json::Value ps = simulacra::json::parse(meta.at("personas").as_string());
  ASSERT_EQ(ps.as_array().size(), 3u);
  EXPECT_EQ(ps.as_array()[1].at("name").as_string(), original.names()[1]);
  EXPECT_EQ(ps.as_array()[1].at("kind").as_string(), "ngram");
  EXPECT_EQ(ps.as_array()[2].at("order").as_int64(), 4);

  // The prior's raw doubles, read from the data buffer.
  EXPECT_EQ(h.at("prior").at("dtype").as_string(), "F64");
  const std::size_t at = data_offset(file, "prior");
  for (int k = 0; k < 3; ++k) EXPECT_EQ(double_at(file, at + 8 * std::size_t(k)), original.prior()[k]);
  // The transition matrix, row-major.
  const std::size_t ta = data_offset(file, "transition");
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      EXPECT_EQ(double_at(file, ta + 8 * std::size_t(3 * i + j)), original.config().transition(i, j));
  // No transition tensor without transition switching.
  simulacra::save(mixture(every_switching_rule()[1]), path().string());
  EXPECT_FALSE(simulacra::read_safetensors(path().string()).has("transition"));
}

// ---------------------------------------------------------- damaged files

// A mixed pile: two heads of one transformer hydra and a Kneser-Ney model.
// Version 2, one model entry for both heads, identical traces after loading;
// damaged transformer tensors are FileErrors.
TEST_F(ModelFileTest, MixedPileWithTransformerHeadsRoundTrips) {
  simulacra::TransformerConfig cfg;
  cfg.layers = 1;
  cfg.heads = 2;
  cfg.width = 8;
  cfg.context = 8;
  cfg.personas = 2;
  cfg.bias = true;
  const auto hydra = std::make_shared<const simulacra::TransformerModel<float>>(cfg, 3);
  const auto kn = std::make_shared<simulacra::NGramPersona>(simulacra::NGramPersona::fit({"arr matey", "ahoy"}, 3));
  const Mixture original({std::make_shared<simulacra::TransformerPersona>(hydra, 1), kn,
                          std::make_shared<simulacra::TransformerPersona>(hydra, 0)},
                         {"head1", "kn", "head0"}, Eigen::Vector3d(0.2, 0.5, 0.3));
  simulacra::save(original, path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());
  EXPECT_EQ(file.metadata.at("format_version"), "2");
  EXPECT_EQ(simulacra::json::parse(file.metadata.at("transformers")).as_array().size(), 1u) << "heads share a model";
  const Mixture again = simulacra::load(path().string());
  ASSERT_EQ(again.names(), original.names());
  EXPECT_EQ(again.persona(0).kind(), "transformer");
  const auto tokens = simulacra::encode_document("ahoy, matey! a longer text than the context of eight tokens");
  const auto a = original.trace(tokens), b = again.trace(tokens);
  EXPECT_TRUE((a.logprobs.array() == b.logprobs.array()).all()) << "bit-identical after a round trip";
  // A non-finite weight, a wrong shape, a missing tensor, a bad head: FileError each.
  const auto damaged = [&](auto edit, const std::string& what) {
    TensorFile f = file;
    edit(f);
    simulacra::write_safetensors(path("bad.safetensors").string(), f);
    expect_file_error(path("bad.safetensors"), what);
  };
  for (const bool reshape : {false, true}) {
    // The file again with tok_emb holding a NaN, or with a wrong shape.
    TensorFile f;
    f.metadata = file.metadata;
    for (const std::string& name : {std::string("prior")}) f.put(name, file.get(name));
    for (const auto& info : simulacra::transformer_layout(cfg)) {
      simulacra::Tensor t = file.get("transformer.0." + info.name);
      if (info.name == "tok_emb") {
        if (reshape) {
          t.shape = {t.shape[1], t.shape[0]};
        } else {
          const float nan = NAN;
          std::memcpy(t.bytes.data() + 4 * 17, &nan, sizeof nan);
        }
      }
      f.put("transformer.0." + info.name, t);
    }
    for (int n = 0; n <= 3; ++n)
      for (const char* field : {"token", "disc", "gamma", "child_begin"}) {
        const std::string name = fmt::format("persona.1.level.{}.{}", n, field);
        if (file.has(name)) f.put(name, file.get(name));
      }
    f.put("persona.1.discounts", file.get("persona.1.discounts"));
    simulacra::write_safetensors(path("bad.safetensors").string(), f);
    expect_file_error(path("bad.safetensors"), reshape ? "transposed tok_emb" : "NaN in tok_emb");
  }
  damaged([](TensorFile& f) {
    f.metadata["personas"] = R"([{"name": "h", "kind": "transformer", "model": 0, "head": 5}])";
    f.metadata["config"] = R"({"beta": 1.0, "switching": "none", "alpha": 0.0, "gamma": 1.0})";
  }, "head 5 of a two-headed model");
  damaged([](TensorFile& f) { f.metadata["transformers"] = R"([{"layers": 1}])"; }, "incomplete config");
  damaged([](TensorFile& f) { f.metadata["personas"] = R"([{"name": "h", "kind": "transformer", "model": 3, "head": 0}])"; },
          "model 3 of 1");
}

TEST_F(ModelFileTest, TruncatedFilesAreFileErrors) {
  simulacra::save(mixture(every_switching_rule()[3]), path().string());
  const Bytes file = read_bytes(path());
  std::vector<std::size_t> sizes = {0, 1, 2, 3, 4, 5, 6, 7, 8, file.size() - 1};
  for (std::size_t i = 1; i < 20; ++i) sizes.push_back(file.size() * i / 20);
  sizes.push_back(std::size_t(8 + header_length(file)));  // header only, no data
  for (std::size_t size : sizes) {
    write_bytes(path("cut.safetensors"), file, size);
    expect_file_error(path("cut.safetensors"), "truncated to " + std::to_string(size) + " bytes");
  }
}

TEST_F(ModelFileTest, FlippedHeaderBytesAreFileErrorsOrHarmless) {
  simulacra::save(mixture(every_switching_rule()[3]), path().string());
  const Bytes file = read_bytes(path());
  const std::size_t n = std::size_t(header_length(file));
  const std::string header(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(n));

  // Structural bytes whose damage can only break the file: the opening brace,
  // the quote opening "__metadata__", the closing brace, a tensor name's
  // first letter ("prior" -> "qrior"), and the high byte of the length.
  std::vector<std::pair<std::size_t, unsigned char>> fatal = {
      {8, 0xFF},
      {8 + header.find("\"__metadata__\""), 0xFF},
      {8 + header.find_last_of('}'), 0xFF},
      {8 + header.find("\"prior\"") + 1, 0x01},
      {7, 0x01},
      {0, 0x04},  // header length + 4: the header would take 4 data bytes
  };
  for (const auto& [at, mask] : fatal) {
    Bytes damaged = file;
    damaged[at] ^= mask;
    write_bytes(path("flip.safetensors"), damaged);
    expect_file_error(path("flip.safetensors"), "header byte " + std::to_string(at) + " flipped");
  }

  // Every header byte, one bit (even offsets) or all bits (odd offsets)
  // flipped: a FileError or a file that still loads and works (e.g. a
  // changed alpha digit), never anything else.
  int loaded = 0, refused = 0;
  for (std::size_t at = 0; at < 8 + n; ++at) {
    const unsigned char mask = at % 2 == 0 ? 0x01 : 0xFF;
    Bytes damaged = file;
    damaged[at] ^= mask;
    const fs::path damaged_path = fresh_copy(damaged);
    (load_or_file_error(damaged_path, "header byte " + std::to_string(at) + " ^ " + std::to_string(mask)) ? loaded
                                                                                                          : refused)++;
    fs::remove(damaged_path);
  }
  EXPECT_GT(refused, loaded);
}

TEST_F(ModelFileTest, BadProbabilitiesInTheDataAreFileErrors) {
  simulacra::save(mixture(), path().string());
  const Bytes file = read_bytes(path());
  for (const std::string name : {"persona.0.level.2.disc", "persona.2.level.1.disc", "persona.1.level.1.gamma",
                                 "persona.0.level.0.gamma", "prior"}) {
    const std::size_t at = data_offset(file, name);
    // Flipping bit 6 of the top byte of a double in [0, 1] makes it > 1.
    Bytes big = file;
    big[at + 7] ^= 0x40;
    ASSERT_GT(double_at(big, at), 1.0) << name << ": test premise";
    if (name != "prior") {
      write_bytes(path("big.safetensors"), big);
      expect_file_error(path("big.safetensors"), name + "[0] > 1");
    }
    // The two top bytes 0x7FF8: a quiet NaN.
    Bytes nan = file;
    nan[at + 7] = 0x7F;
    nan[at + 6] = 0xF8;
    ASSERT_TRUE(std::isnan(double_at(nan, at))) << name << ": test premise";
    write_bytes(path("nan.safetensors"), nan);
    expect_file_error(path("nan.safetensors"), name + "[0] NaN");
    // A negative value.
    Bytes neg = file;
    neg[at + 7] ^= 0x80;
    if (double_at(neg, at) < 0.0) {
      write_bytes(path("neg.safetensors"), neg);
      expect_file_error(path("neg.safetensors"), name + "[0] < 0");
    }
  }
}

TEST_F(ModelFileTest, FlippedDataBytesAreFileErrorsOrHarmless) {
  simulacra::save(mixture(every_switching_rule()[3]), path().string());
  const Bytes file = read_bytes(path());
  const std::size_t begin = std::size_t(8 + header_length(file));
  // Every 7th data byte (a stride prime to 8 reaches every byte position of
  // the doubles), one bit or all bits flipped in turn: never a crash or a
  // foreign exception.
  for (std::size_t at = begin, i = 0; at < file.size(); at += 7, ++i) {
    const unsigned char mask = i % 2 == 0 ? 0x01 : 0xFF;
    Bytes damaged = file;
    damaged[at] ^= mask;
    const fs::path damaged_path = fresh_copy(damaged);
    load_or_file_error(damaged_path, "data byte " + std::to_string(at) + " ^ " + std::to_string(mask));
    fs::remove(damaged_path);
  }
}

TEST_F(ModelFileTest, InconsistentChildRangesAreFileErrors) {
  simulacra::save(mixture(), path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());
  for (const std::string name : {"persona.0.level.1.child_begin", "persona.2.level.2.child_begin",
                                 "persona.1.level.0.child_begin"}) {
    std::vector<std::int64_t> shape;
    const std::vector<std::uint32_t> cb = file.get_as<std::uint32_t>(name, &shape);
    ASSERT_GE(cb.size(), 2u);

    // Non-monotonic: swap the first two different adjacent entries.
    std::vector<std::uint32_t> swapped = cb;
    const auto it = std::adjacent_find(swapped.begin(), swapped.end(), [](auto a, auto b) { return a < b; });
    ASSERT_NE(it, swapped.end()) << name;
    std::iter_swap(it, it + 1);
    TensorFile damaged;
    damaged.put(name + ".tmp", shape, swapped.data());
    simulacra::write_safetensors(path("cb.safetensors").string(),
                                 with_tensor(file, name, damaged.get(name + ".tmp")));
    expect_file_error(path("cb.safetensors"), name + " non-monotonic");

    // Past the end of the next level.
    std::vector<std::uint32_t> past = cb;
    past.back() += 1000;
    TensorFile damaged2;
    damaged2.put(name + ".tmp", shape, past.data());
    simulacra::write_safetensors(path("cb2.safetensors").string(),
                                 with_tensor(file, name, damaged2.get(name + ".tmp")));
    expect_file_error(path("cb2.safetensors"), name + " past the next level");
  }
}

TEST_F(ModelFileTest, NewerOrForeignMetadataIsAFileError) {
  simulacra::save(mixture(), path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());
  ASSERT_EQ(file.metadata.at("format_version"), "1");

  TensorFile newer = file;
  newer.metadata["format_version"] = std::to_string(simulacra::kFormatVersion + 1);
  simulacra::write_safetensors(path("v2.safetensors").string(), newer);
  try {
    simulacra::load(path("v2.safetensors").string());
    ADD_FAILURE() << "a format_version " << simulacra::kFormatVersion + 1 << " file loaded";
  } catch (const FileError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("version"), std::string::npos) << msg;
    EXPECT_NE(msg.find("v2.safetensors"), std::string::npos) << "the message should name the path: " << msg;
  }

  // Other metadata damage: each must be refused.
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"format_version", "one"},         {"format_version", "0"},
      {"format", "simulacra-mixture"},   {"tokenizer", R"({"kind": "bpe", "vocab": 50257, "boundary": 50256})"},
      {"tokenizer", "not json"},         {"config", R"({"beta": 1, "switching": "teleport", "alpha": 0, "gamma": 1})"},
      {"config", R"({"beta": -1, "switching": "none", "alpha": 0, "gamma": 1})"},
      {"personas", "[]"},                {"personas", R"([{"name": "x", "kind": "transformer", "order": 5}])"},
      {"personas", R"([{"name": "a", "kind": "ngram", "order": 3}])"},  // 1 persona, prior of 3
  };
  for (const auto& [key, value] : bad) {
    TensorFile damaged = file;
    damaged.metadata[key] = value;
    simulacra::write_safetensors(path("meta.safetensors").string(), damaged);
    expect_file_error(path("meta.safetensors"), key + " = " + value);
  }
  for (const std::string key : {"format", "format_version", "tokenizer", "config", "personas"}) {
    TensorFile damaged = file;
    damaged.metadata.erase(key);
    simulacra::write_safetensors(path("meta.safetensors").string(), damaged);
    expect_file_error(path("meta.safetensors"), "metadata " + key + " missing");
  }
}

TEST_F(ModelFileTest, ForeignSafetensorsIsAFileError) {
  TensorFile foreign;
  const std::vector<float> w = {1, 2, 3, 4};
  foreign.put("weight", {2, 2}, w.data());
  simulacra::write_safetensors(path("foreign.safetensors").string(), foreign);
  expect_file_error(path("foreign.safetensors"), "a foreign safetensors file");
  // A model file missing one of its tensors.
  simulacra::save(mixture(), path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());
  TensorFile missing;
  missing.metadata = file.metadata;
  for (const std::string& n : file.names())
    if (n != "persona.1.level.2.disc") missing.put(n, file.get(n));
  simulacra::write_safetensors(path("missing.safetensors").string(), missing);
  expect_file_error(path("missing.safetensors"), "a missing tensor");
  // A tensor of the wrong dtype.
  const std::vector<float> prior32 = {0.2f, 0.3f, 0.5f};
  TensorFile retyped;
  retyped.put("prior", {3}, prior32.data());
  simulacra::write_safetensors(path("retyped.safetensors").string(),
                               with_tensor(file, "prior", retyped.get("prior")));
  expect_file_error(path("retyped.safetensors"), "an F32 prior");
}

TEST_F(ModelFileTest, MissingFileOrDirectoryIsAFileError) {
  expect_file_error(path("does_not_exist.safetensors"), "a missing file");
  expect_file_error(dir_, "a directory");
  expect_file_error(path("no_dir") / "x.safetensors", "a file in a missing directory");
}

// ------------------------------------------------------------------ saving

TEST_F(ModelFileTest, SavingIntoAMissingDirectoryFailsAndLeavesNothing) {
  const fs::path target = path("no_such_dir") / "pile.safetensors";
  try {
    simulacra::save(mixture(), target.string());
    ADD_FAILURE() << "saving into a missing directory succeeded";
  } catch (const FileError& e) {
    EXPECT_GT(std::strlen(e.what()), 0u);
  }
  EXPECT_FALSE(fs::exists(path("no_such_dir")));
  EXPECT_TRUE(listing(dir_).empty());
}

TEST_F(ModelFileTest, SavingOverAModelReplacesItAtomically) {
  const Mixture first = mixture(every_switching_rule()[0]);
  const Mixture second(personas(), {"x", "y", "z"}, Eigen::Vector3d(1, 2, 3), every_switching_rule()[3]);
  simulacra::save(first, path().string());
  simulacra::save(second, path().string());
  const Mixture loaded = simulacra::load(path().string());
  EXPECT_EQ(loaded.names(), second.names());
  EXPECT_EQ(loaded.config().switching, Switching::kTransition);
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"pile.safetensors"})) << "temporary files were left behind";

  // A save that fails (a persona that cannot be saved) leaves the old file as it was.
  const Bytes before = read_bytes(path());
  const Mixture unsaveable({std::make_shared<UniformPersona>(), personas()[0]}, {"u", "p"}, Eigen::Vector2d(1, 1));
  EXPECT_THROW(simulacra::save(unsaveable, path().string()), simulacra::InvalidArgument);
  EXPECT_EQ(read_bytes(path()), before);
  EXPECT_EQ(simulacra::load(path().string()).names(), second.names());
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"pile.safetensors"}));

  // Saving over a directory fails and leaves the directory and no temporary file.
  fs::create_directory(path("sub"));
  EXPECT_THROW(simulacra::save(first, path("sub").string()), FileError);
  EXPECT_TRUE(fs::is_directory(path("sub")));
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"pile.safetensors", "sub"}));
}

}  // namespace
