// tests/cli_testing.hpp — what the command-line tests share: the tool run as a
// subprocess (its path compiled in as SIMULACRA_CLI_PATH, the simulacra_cli
// target's file; CMake builds the tool before these tests; every test fails
// when it is missing), and the CliTest fixture, which trains one small model
// on a two-persona corpus written to a temporary directory. Included by one
// source per test executable (cli_test, cli_input_test).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "simulacra/model_file.hpp"
#include "simulacra/sampling.hpp"
#include "testing.hpp"

namespace fs = std::filesystem;

namespace {

inline fs::path cli_path() { return SIMULACRA_CLI_PATH; }

// `s` as one shell word.
inline std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Outcome {
  int status = -1;     // exit status, -1 if the tool did not exit normally
  std::string output;  // stdout and stderr together
};

// Runs `simulacra <args>` (args already shell-quoted) with stdin read from
// `input` (a file path; /dev/null by default).
inline Outcome run(const std::string& args, const std::string& input = "/dev/null") {
  const std::string command = quote(cli_path().string()) + " " + args + " < " + quote(input) + " 2>&1";
  Outcome result;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

inline void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

const char* const kPirate =
    "Arr, me hearties! Hoist the mainsail and swab the deck, ye scurvy dogs.\n\n"
    "Avast ye! The treasure be buried on the isle, arr, and the map be in me boot.\n\n"
    "Shiver me timbers, matey! The Cap'n wants his rum and his parrot, arr.\n\n"
    "Ahoy! Ye landlubbers be walkin' the plank at dawn, says the Cap'n.\n\n"
    "Arr, the sea be rough tonight, me hearties. Batten the hatches, ye dogs!\n\n"
    "Yo ho ho, matey! A pirate's life be the life for me, arr, with gold and rum.\n";
const char* const kPoet =
    "O silver moon, that wanders through the quiet sky of night, sing to me.\n\n"
    "The roses weep their petals on the garden path, and autumn softly sighs.\n\n"
    "Beneath the willow, dreams of summer linger like a half-remembered song.\n\n"
    "The river murmurs secrets to the stones, and evening folds its wings.\n\n"
    "O gentle heart, the stars are lanterns hung upon the velvet dark.\n\n"
    "Soft falls the snow on sleeping fields, a hush of white and silver light.\n";

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("simulacra_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_ / "corpus");
    write_file(dir_ / "corpus" / "pirate.txt", kPirate);
    write_file(dir_ / "corpus" / "poet.txt", kPoet);
    write_file(dir_ / "pirate_doc.txt", "Arr, matey, hoist the sails and find the treasure, ye dogs!");
    write_file(dir_ / "poet_doc.txt", "O silver river, the willow weeps and the evening sighs softly.");
    model_ = (dir_ / "model.safetensors").string();
    train_ = run("train --dir " + quote((dir_ / "corpus").string()) + " --order 3 -o " + quote(model_));
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    ASSERT_TRUE(fs::is_regular_file(cli_path()))
        << "the simulacra executable is not at " << cli_path() << "; build the simulacra_cli target";
  }

  static std::string doc(const char* name) { return quote((dir_ / name).string()); }

  inline static fs::path dir_;
  inline static std::string model_;
  inline static Outcome train_;
};

// The attributed persona of the score row of `document`: the next-to-last field.
inline std::string attributed(const std::string& output, const std::string& document) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!has(line, document)) continue;
    std::istringstream fields(line);
    std::vector<std::string> words;
    for (std::string w; fields >> w;) words.push_back(w);
    return words.size() >= 2 ? words[words.size() - 2] : "";
  }
  return "";
}

}  // namespace
