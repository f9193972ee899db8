// Tests of saving and loading a pile of masks (model_file.hpp): round trips,
// the file layout, models in memory, and where save() may write. Damaged
// files are in model_file_damage_test.cpp.
//
// A saved and reloaded mixture must be the same model to the bit: names,
// prior, switching configuration, every persona's trie arrays, and the trace
// of a text (compared with memcmp, so -0.0 vs 0.0 or a last-bit difference
// fails). The file layout is checked by reading its bytes here (header length,
// alignment, metadata, the prior's raw doubles).
#include "simulacra/model_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <future>

#include "model_file_testing.hpp"

#include "simulacra/transformer.hpp"

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

TEST_F(ModelFileTest, RoundTripsSwitchPoints) {
  const std::vector<Token> text = simulacra::encode_document("arr, the moon\nbe 42. matey!\no rose");
  MixtureConfig config;
  config.switching = Switching::kFixedShare;
  config.alpha = 0.2;
  config.switch_after = {'.', '\n'};
  const Mixture original = mixture(config);
  simulacra::save(original, path().string());
  const Mixture loaded = simulacra::load(path().string());
  EXPECT_EQ(loaded.config().switch_after, (std::vector<Token>{'\n', '.'}));
  EXPECT_TRUE(same_bits(loaded.trace(text).log_weights, original.trace(text).log_weights));
  // Without switch points the key is absent (files read by older versions as before).
  config.switch_after.clear();
  const std::string bytes = simulacra::save_to_bytes(mixture(config));
  EXPECT_EQ(bytes.find("switch_after"), std::string::npos);
  EXPECT_TRUE(simulacra::load_from_bytes(bytes, "memory").config().switch_after.empty());
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


// A file written by save() through a symbolic link lands in the link's target,
// keeps the target's mode, and leaves the link a link.
TEST_F(ModelFileTest, SavingThroughASymlinkWritesItsTargetAndKeepsTheMode) {
  simulacra::save(mixture(), path().string());
  ASSERT_EQ(::chmod(path().c_str(), 0600), 0);
  fs::create_symlink("pile.safetensors", path("current.safetensors"));
  const Mixture second(personas(), {"x", "y", "z"}, Eigen::Vector3d(1, 2, 3));
  simulacra::save(second, path("current.safetensors").string());
  EXPECT_TRUE(fs::is_symlink(path("current.safetensors")));
  EXPECT_EQ(simulacra::load(path().string()).names(), second.names());
  struct stat st {};
  ASSERT_EQ(::stat(path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "a private model must stay private";
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"current.safetensors", "pile.safetensors"}));
}

// save() over a device or a FIFO refuses and leaves it as it was (as root,
// `-o /dev/null` used to replace /dev/null with a model file).
TEST_F(ModelFileTest, SavingOverADeviceOrAFifoIsAFileError) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  std::vector<std::string> targets = {"fifo"};
  if (::mknod(path("null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0) targets.push_back("null");
  for (const std::string& name : targets) {
    try {
      simulacra::save(mixture(), path(name).string());
      ADD_FAILURE() << "saved over " << name;
    } catch (const FileError& e) {
      EXPECT_NE(std::string(e.what()).find(path(name).string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  if (targets.size() == 2) {
    EXPECT_TRUE(fs::is_character_file(path("null"))) << "the device node was replaced";
  }
  EXPECT_EQ(listing(dir_).size(), targets.size()) << "a temporary file was left";
}

// A save killed with kill -9 leaves its temporary; the next save of the same
// path removes it. A child saves in a loop and is killed once its temporary
// is seen (retried when the rename won the race).
TEST_F(ModelFileTest, ASaveAfterAKilledSaveRemovesItsTemporary) {
  const Mixture model = mixture();
  const std::string prefix = ".pile.safetensors.simulacra-tmp.";
  const auto temporaries = [&] {
    std::size_t n = 0;
    for (const std::string& name : listing(dir_)) n += name.rfind(prefix, 0) == 0;
    return n;
  };
  for (int attempt = 0; attempt < 20 && temporaries() == 0; ++attempt) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (;;) simulacra::save(model, path().string());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (temporaries() == 0 && std::chrono::steady_clock::now() < deadline) {
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
  }
  ASSERT_GE(temporaries(), 1u) << "no save was killed before its rename";
  simulacra::save(model, path().string());
  EXPECT_EQ(listing(dir_), (std::set<std::string>{"pile.safetensors"}));
  EXPECT_EQ(simulacra::load(path().string()).names(), model.names());
}

// load() of a FIFO used to block forever in open().
TEST_F(ModelFileTest, LoadingAFifoIsAFileErrorWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  auto result = std::async(std::launch::async, [&]() -> std::string {
    try {
      simulacra::load(path("fifo").string());
    } catch (const FileError& e) {
      return e.what();
    }
    return "";
  });
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "load() blocked on a FIFO";
    const int w = ::open(path("fifo").c_str(), O_WRONLY | O_NONBLOCK);  // let it finish
    if (w >= 0) ::close(w);
  }
  const std::string message = result.get();
  EXPECT_NE(message.find("is a FIFO, not a regular file"), std::string::npos) << message;
}

// ------------------------------------------------------------ in memory

TEST_F(ModelFileTest, SaveToBytesIsTheFileAndLoadsBack) {
  const std::vector<Token> text = simulacra::encode_document("arr, the moon be 42 matey");
  for (const MixtureConfig& config : every_switching_rule()) {
    SCOPED_TRACE(simulacra::switching_name(config.switching));
    const Mixture original = mixture(config);
    const std::string bytes = simulacra::save_to_bytes(original);
    simulacra::save(original, path().string());
    const Bytes file = read_bytes(path());
    EXPECT_EQ(bytes, std::string(file.begin(), file.end()));
    const Mixture again = simulacra::load_from_bytes(bytes, "cached pile");
    EXPECT_EQ(again.names(), original.names());
    EXPECT_TRUE(same_bits(again.prior(), original.prior()));
    EXPECT_TRUE(same_bits(again.trace(text).logprobs, original.trace(text).logprobs));
  }
  const std::string bytes = simulacra::save_to_bytes(mixture());
  for (const std::size_t cut : {std::size_t{0}, std::size_t{7}, std::size_t{100}, bytes.size() - 1}) {
    try {
      simulacra::load_from_bytes(std::string_view(bytes).substr(0, cut), "cached pile");
      ADD_FAILURE() << "bytes cut at " << cut << " loaded";
    } catch (const FileError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("cached pile: ", 0), 0u) << e.what();
    }
  }
}

}  // namespace
