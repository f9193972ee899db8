// tests/testing.hpp — small helpers shared by the test files: reading the
// repository's data files and the real data beside the worktree (skipping a
// test when it is absent), cutting text into paragraphs, a fixture with a
// temporary directory of its own, and the message of a FileError. Test data
// handling only; the library's own paragraph splitter (corpus.hpp) is what
// corpus_test checks, so these tests do not lean on it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra::testing {

// The whole content of a file; std::runtime_error naming it if unreadable.
inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The paragraphs of a text (separated by blank lines), without empty ones.
inline std::vector<std::string> paragraphs(const std::string& text) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b < text.size()) {
    std::size_t e = text.find("\n\n", b);
    if (e == std::string::npos) e = text.size();
    std::string p = text.substr(b, e - b);
    while (!p.empty() && p.back() == '\n') p.pop_back();
    while (!p.empty() && p.front() == '\n') p.erase(p.begin());
    if (!p.empty()) out.push_back(p);
    b = e + 2;
  }
  return out;
}

// The embedded corpus file of a persona, data/personas/<name>.txt.
inline std::string persona_file(const std::string& name) {
  return read_text(std::string(SIMULACRA_SOURCE_DIR "/data/personas/") + name + ".txt");
}

// The path of file `name` of the real data beside the worktree: in the
// directory the environment variable SIMULACRA_SHARED_DATA names when set,
// else in the one compiled in (../shared/data).
inline std::string shared_data(const std::string& name) {
  const char* dir = std::getenv("SIMULACRA_SHARED_DATA");
  return std::string(dir && *dir ? dir : SIMULACRA_SHARED_DATA) + "/" + name;
}

// In a test body, before the test reads shared_data(name): skips the test,
// naming the missing path, when that file is not there (as the Python tests
// do), instead of failing with an exception.
#define SIMULACRA_REQUIRE_SHARED_DATA(name)                                                            \
  do {                                                                                                  \
    const std::string simulacra_shared_path_ = ::simulacra::testing::shared_data(name);                 \
    if (!std::filesystem::is_regular_file(simulacra_shared_path_))                                      \
      GTEST_SKIP() << simulacra_shared_path_ << " is missing (the real data beside the worktree, "      \
                   << "../shared/data, or the directory SIMULACRA_SHARED_DATA names)";                  \
  } while (0)

using Bytes = std::vector<unsigned char>;

// A file's bytes; std::runtime_error if it cannot be opened.
inline Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Writes the first `size` of `bytes` to path (truncating it).
inline void write_bytes(const std::string& path, const Bytes& bytes, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(size));
  if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_bytes(const std::string& path, const Bytes& bytes) { write_bytes(path, bytes, bytes.size()); }

// A safetensors file's 8-byte little-endian header length, read byte by byte.
inline std::uint64_t header_length(const Bytes& file) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | file[std::size_t(i)];
  return n;
}

// While alive, an interrupt check (interrupt.hpp) that lets `n` polls pass
// and trips on every one after: a Ctrl-C arriving in the middle of a call.
class TripAfter {
 public:
  explicit TripAfter(int n) {
    left() = n;
    polls() = 0;
    previous_ = set_interrupt_check([] {
      ++polls();
      return --left() < 0;
    });
  }
  ~TripAfter() { set_interrupt_check(previous_); }
  TripAfter(const TripAfter&) = delete;
  TripAfter& operator=(const TripAfter&) = delete;
  // Polls seen so far.
  static int seen() { return polls(); }

 private:
  static std::atomic<int>& left() {
    static std::atomic<int> n{0};
    return n;
  }
  static std::atomic<int>& polls() {
    static std::atomic<int> n{0};
    return n;
  }
  InterruptCheck previous_;
};

// A test with a fresh directory of its own under the system temp directory
// (named after the process, the suite and the test, so that parallel runs
// and build trees never share one), removed afterwards.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "simulacra_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" + info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `name` inside the test's directory.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // The names of the entries of the test's directory, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path dir_;
};

// The message of the FileError that f() throws, or "" if none.
template <class F>
std::string file_error(F f) {
  try {
    f();
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace simulacra::testing
