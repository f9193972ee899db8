// Tests of loading damaged model files (model_file.hpp). Damaged files are
// made by hand, byte by byte or through the TensorFile API, and must raise
// FileError with a message, never another exception and never a crash; a
// file that loads must be a model: every next-token distribution sums to 1.
#include "simulacra/model_file.hpp"

#include <cstdio>
#include <random>

#include "model_file_testing.hpp"

namespace {

using simulacra::FileError;
using simulacra::Mixture;
using simulacra::MixtureConfig;
using simulacra::NGramPersona;
using simulacra::Steering;
using simulacra::Switching;
using simulacra::TensorFile;
using simulacra::Token;
using simulacra::Trace;
using namespace simulacra::testing;  // NOLINT: the shared fixture and helpers

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
      {"format_version", "1abc"},        {"format_version", " 1"},
      {"format_version", "1 "},          {"format_version", "+1"},
      {"format_version", "01"},          {"format_version", "1.0"},
      {"format_version", ""},            {"format_version", "99999999999999999999"},
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

// -------------------------------------------- distributions that sum to 1

// The sum of p(w | context) over the vocabulary after each prefix of each
// text, for persona k of `m`, as the largest distance from 1.
double worst_normalisation(const Mixture& m, int k, const std::vector<std::string>& texts) {
  double worst = 0.0;
  Eigen::VectorXd lp(simulacra::kVocab);
  for (const std::string& text : texts) {
    const auto state = m.persona(k).begin();
    for (const Token t : simulacra::encode_document(text)) {
      state->next_logprobs(lp);
      worst = std::max(worst, std::abs(lp.array().exp().sum() - 1.0));
      state->advance(t);
    }
  }
  return worst;
}

// Values that each pass the range checks ([0, 1], finite) but break the
// identity that makes a context's distribution sum to 1: a whole level's
// terms set to 1 (the distribution summed to 129), one term raised, one
// backoff lowered.
TEST_F(ModelFileTest, TermsAndBackoffsThatBreakNormalisationAreFileErrors) {
  simulacra::save(mixture(), path().string());
  const TensorFile file = simulacra::read_safetensors(path().string());
  const auto edited = [&](const std::string& name, auto edit) {
    std::vector<std::int64_t> shape;
    std::vector<double> v = file.get_as<double>(name, &shape);
    edit(v);
    TensorFile one;
    one.put(name, shape, v.data());
    return with_tensor(file, name, one.get(name));
  };
  const std::vector<std::pair<std::string, TensorFile>> cases = {
      {"every level-2 term of persona 0 set to 1",
       edited("persona.0.level.2.disc", [](std::vector<double>& v) { std::fill(v.begin(), v.end(), 1.0); })},
      {"the largest level-1 term of persona 1 raised by 0.01",
       edited("persona.1.level.1.disc", [](std::vector<double>& v) { *std::max_element(v.begin(), v.end()) += 0.01; })},
      {"the root backoff of persona 2 halved",
       edited("persona.2.level.0.gamma", [](std::vector<double>& v) { v[0] /= 2; })},
      {"a level-1 backoff of persona 0 set to 0",
       edited("persona.0.level.1.gamma", [](std::vector<double>& v) { v['a'] = 0.0; })},
  };
  for (const auto& [what, damaged] : cases) {
    simulacra::write_safetensors(path("sum.safetensors").string(), damaged);
    try {
      simulacra::load(path("sum.safetensors").string());
      ADD_FAILURE() << what << ": loaded";
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find("not 1"), std::string::npos) << what << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find("sum.safetensors"), std::string::npos) << e.what();
    }
  }
  // The same through the bytes: one level-2 term of persona 0 set to 1.0.
  const Bytes bytes = read_bytes(path());
  Bytes damaged = bytes;
  const double one = 1.0;
  std::memcpy(damaged.data() + data_offset(bytes, "persona.0.level.2.disc"), &one, sizeof one);
  expect_file_error(fresh_copy(damaged), "a level-2 term set to 1.0 in the bytes");
}

// The property the checks stand for: a model that loads is a model. For
// trained piles of many shapes, and for every damaged copy of one (a term or
// backoff byte changed) that the loader accepts, every next-token
// distribution along the training texts and a foreign text sums to 1.
TEST_F(ModelFileTest, EveryFileThatLoadsHasDistributionsThatSumToOne) {
  std::mt19937 rng(2024);
  const std::string alphabet = "ab ,.\n\xff";
  const auto random_text = [&](std::size_t n) {
    std::string t;
    for (std::size_t i = 0; i < n; ++i) t.push_back(alphabet[rng() % alphabet.size()]);
    return t;
  };
  double worst = 0.0;
  for (int trial = 0; trial < 12; ++trial) {
    std::vector<std::string> docs;
    for (std::size_t d = 0, n = 1 + rng() % 6; d < n; ++d) docs.push_back(random_text(rng() % 60));
    const int order = 1 + int(rng() % 6);
    const Mixture m({std::make_shared<NGramPersona>(NGramPersona::fit(docs, order))}, {"p"}, Eigen::VectorXd::Ones(1));
    simulacra::save(m, path().string());
    docs.push_back("text the model never saw: 0123 xyz");
    worst = std::max(worst, worst_normalisation(simulacra::load(path().string()), 0, docs));
  }
  EXPECT_LT(worst, 1e-12) << "trained models";

  const Mixture original = mixture();
  simulacra::save(original, path().string());
  const Bytes file = read_bytes(path());
  std::vector<std::string> texts = {"arr matey, the sea be rough", "ahoy, hoist the sails", "walk the plank, arr!",
                                    "o gentle moon, thy silver light", "the rose, the thorn, the dew", "0123456789",
                                    "31415 92653 58979", "42 17 99 \xff\xfe 100", "a text none of them saw"};
  int loaded = 0, refused = 0;
  const simulacra::json::Value header =
      simulacra::json::parse(std::string(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(header_length(file))));
  for (const auto& [name, info] : header.as_object()) {
    if (name.find(".disc") == std::string::npos && name.find(".gamma") == std::string::npos) continue;
    const std::size_t begin = data_offset(file, name);
    const std::size_t size = std::size_t(info.at("data_offsets").as_array()[1].as_int64() -
                                         info.at("data_offsets").as_array()[0].as_int64());
    for (int flip = 0; flip < 6; ++flip) {
      // A byte among the value's high ones (the low ones change it by less than the tolerance).
      Bytes damaged = file;
      const std::size_t at = begin + 8 * (rng() % (size / 8)) + 4 + rng() % 4;
      damaged[at] ^= static_cast<unsigned char>(1u << (rng() % 8));
      const fs::path p = fresh_copy(damaged);
      try {
        const Mixture m = simulacra::load(p.string());
        ++loaded;
        for (int k = 0; k < m.size(); ++k)
          EXPECT_LT(worst_normalisation(m, k, texts), 2e-9) << name << " byte " << at << " persona " << k;
      } catch (const FileError&) {
        ++refused;
      }
      fs::remove(p);
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded + refused, 100);
  std::printf("trained models: worst |sum - 1| = %.3g; damaged copies: %d refused, %d loaded\n", worst, refused,
              loaded);
}

}  // namespace
