// tests/model_file_testing.hpp — what the model-file tests share: a
// temporary directory per test, a three-persona mixture under every switching
// rule, and checks that a damaged file is refused with a FileError.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing.hpp"

#include "simulacra/error.hpp"
#include "simulacra/json.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/safetensors.hpp"

namespace simulacra::testing {

namespace fs = std::filesystem;

// Absolute file offset of tensor `name`'s data, from the header JSON.
inline std::size_t data_offset(const Bytes& file, const std::string& name) {
  const std::uint64_t n = header_length(file);
  const std::string header(file.begin() + 8, file.begin() + 8 + std::ptrdiff_t(n));
  const simulacra::json::Value h = simulacra::json::parse(header);
  return std::size_t(8 + n + std::uint64_t(h.at(name).at("data_offsets").as_array()[0].as_int64()));
}

inline double double_at(const Bytes& file, std::size_t offset) {
  double d = 0.0;
  std::memcpy(&d, file.data() + offset, sizeof d);  // little-endian host assumed (x86-64, aarch64)
  return d;
}

// Whether a and b have the same shape and bits. Empty matrices have null
// data, which memcmp must not see (undefined even for 0 bytes).
inline bool same_bits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), std::size_t(a.size()) * sizeof(double)) == 0);
}

// Expects load(path) to throw FileError with a non-empty message (and
// nothing else); `what` describes the damage for the failure message.
inline void expect_file_error(const fs::path& path, const std::string& what) {
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
inline bool load_or_file_error(const fs::path& path, const std::string& what) {
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
inline std::set<std::string> listing(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A copy of `file` with tensor `name` replaced by `replacement`.
inline TensorFile with_tensor(const TensorFile& file, const std::string& name, const simulacra::Tensor& replacement) {
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
class ModelFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
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

}  // namespace simulacra::testing
