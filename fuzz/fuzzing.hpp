// fuzz/fuzzing.hpp — what the libFuzzer harnesses share: the input as a
// file for the loaders that read paths, and the rule that bad input may end
// only in one of the library's typed exceptions (anything else escapes, and
// libFuzzer reports it with the input that caused it).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "simulacra/error.hpp"

namespace simulacra::fuzzing {

// A path in the temporary directory, unique to this process, removed (with
// whatever is below it) when the harness exits.
class ScratchPath {
 public:
  explicit ScratchPath(const std::string& suffix)
      : path_(std::filesystem::temp_directory_path() /
              ("simulacra_fuzz_" + std::to_string(::getpid()) + suffix)) {}
  ~ScratchPath() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchPath(const ScratchPath&) = delete;
  ScratchPath& operator=(const ScratchPath&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string string() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

// Writes `bytes` to `path`, replacing what was there.
inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `f`; InvalidArgument, OutOfRange and FileError are the contract's
// answers to bad input, so they are swallowed; everything else propagates.
template <class F>
void expect_typed_errors(F&& f) {
  try {
    f();
  } catch (const InvalidArgument&) {
  } catch (const OutOfRange&) {
  } catch (const FileError&) {
  }
}

// Writes the input to this process's scratch file and runs f(path) under
// expect_typed_errors: for the readers that take a path.
template <class F>
void on_input_file(const std::uint8_t* data, std::size_t size, F&& f) {
  static const ScratchPath file(".input");
  write_file(file.path(), as_text(data, size));
  expect_typed_errors([&] { f(file.string()); });
}

}  // namespace simulacra::fuzzing
