// tests/cli_test.cpp — the `simulacra` command-line tool, run as a subprocess.
//
// The tool's path is compiled in (SIMULACRA_CLI_PATH, the simulacra_cli
// target's file; CMake builds the tool before this test); every test fails
// when it is missing. The suite trains one small model on a two-persona
// corpus written to a temporary directory and runs the other commands on it.
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

namespace fs = std::filesystem;

namespace {

fs::path cli_path() { return SIMULACRA_CLI_PATH; }

// `s` as one shell word.
std::string quote(const std::string& s) {
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
Outcome run(const std::string& args, const std::string& input = "/dev/null") {
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

bool has(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

void write_file(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

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

  static fs::path dir_;
  static std::string model_;
  static Outcome train_;
};

fs::path CliTest::dir_;
std::string CliTest::model_;
Outcome CliTest::train_;

TEST_F(CliTest, TopLevelHelpListsEveryCommand) {
  for (const char* form : {"--help", "-h", "help"}) {
    const Outcome r = run(form);
    EXPECT_EQ(r.status, 0) << form;
    for (const char* command : {"train", "score", "trace", "generate", "inspect", "vote", "switch", "demo"})
      EXPECT_TRUE(has(r.output, command)) << form;
  }
}

TEST_F(CliTest, EveryCommandHelpListsEveryOption) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {"train",
       {"--builtin", "--dir", "--jsonl", "--play", "--top-speakers", "--fortunes", "--order", "--switching", "--alpha",
        "--beta", "--gamma", "--heldout", "--seed", "-o", "--output"}},
      {"score", {"--text", "--color"}},
      {"trace", {"--text", "--every", "--spans", "--color"}},
      {"inspect", {"--text", "--top-k", "--characteristic", "--min-count", "--clamp", "--exclude", "--bias", "--color"}},
      {"vote", {"--prompt", "--option", "--clamp", "--exclude", "--bias", "--color"}},
      {"switch", {"--from", "--to", "--text-a", "--file-a", "--text-b", "--file-b", "--every", "--color"}},
      {"generate",
       {"--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--seed", "--clamp", "--exclude",
        "--bias", "--mode", "--show-weights"}},
      {"demo", {"--order", "--seed"}}};
  for (const auto& [command, options] : commands) {
    for (const std::string& form : {command + " --help", "help " + command}) {
      const Outcome r = run(form);
      EXPECT_EQ(r.status, 0) << form;
      EXPECT_TRUE(has(r.output, "usage: simulacra " + command)) << r.output;
      for (const std::string& option : options) EXPECT_TRUE(has(r.output, option)) << form << " lacks " << option;
      EXPECT_TRUE(has(r.output, "default")) << form;
    }
  }
}

TEST_F(CliTest, UnknownCommandExitsTwo) {
  const Outcome r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.output, "frobnicate")) << r.output;
  EXPECT_TRUE(has(r.output, "--help")) << r.output;
  EXPECT_EQ(run("").status, 2);
}

TEST_F(CliTest, UnknownOptionExitsTwo) {
  for (const char* command : {"train", "score", "trace", "generate", "inspect", "vote", "switch", "demo"}) {
    const Outcome r = run(std::string(command) + " --no-such-option");
    EXPECT_EQ(r.status, 2) << command;
    EXPECT_TRUE(has(r.output, "--no-such-option")) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

TEST_F(CliTest, BadValuesExitTwoNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --order zero -o x.safetensors", "--order"},
      {"train --heldout 1.5 -o x.safetensors", "--heldout"},
      {"train --switching sometimes -o x.safetensors", "--switching"},
      {"train --dir a --jsonl b -o x.safetensors", "--jsonl"},
      {"train", "-o"},
      {"generate " + quote(model_) + " --temperature -1", "--temperature"},
      {"generate " + quote(model_) + " --top-p 0", "--top-p"},
      {"generate " + quote(model_) + " --clamp nobody", "nobody"},
      {"generate " + quote(model_) + " --bias pirate", "--bias"},
      {"trace " + quote(model_) + " --text hi --every 0", "--every"},
      {"trace " + quote(model_) + " --text hi --color sometimes", "--color"},
      {"score", "MODEL"},
      {"inspect " + quote(model_) + " --top-k 0", "--top-k"},
      {"inspect " + quote(model_) + " --text hi --clamp nobody", "nobody"},
      {"inspect " + quote(model_) + " --exclude ghost", "ghost"},
      {"vote " + quote(model_) + " --prompt hi", "--option"},
      {"vote " + quote(model_) + " --option A", "--prompt"},
      {"vote " + quote(model_) + " --prompt hi --option A --option ''", "--option"},
      {"switch " + quote(model_) + " --from pirate --to nobody --text-a Arr --text-b O", "nobody"},
      {"switch " + quote(model_) + " --from ghost --to poet --text-a Arr --text-b O", "ghost"},
      {"switch " + quote(model_) + " --to poet --text-a Arr --text-b O", "--from"},
      {"switch " + quote(model_) + " --from pirate --to poet --text-b O", "--text-a"},
      {"switch " + quote(model_) + " --from pirate --to poet --text-a A --file-a x --text-b O", "--file-a"}};
  for (const auto& [args, culprit] : cases) {
    const Outcome r = run(args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    EXPECT_TRUE(has(r.output, culprit)) << args << ": " << r.output;
  }
}

TEST_F(CliTest, TrainWritesTheModel) {
  EXPECT_EQ(train_.status, 0) << train_.output;
  EXPECT_TRUE(has(train_.output, "pirate")) << train_.output;
  EXPECT_TRUE(has(train_.output, "poet")) << train_.output;
  EXPECT_TRUE(has(train_.output, "alpha")) << train_.output;
  EXPECT_TRUE(has(train_.output, model_)) << train_.output;
  EXPECT_TRUE(fs::exists(model_));
}

// The attributed persona of the score row of `document`: the next-to-last field.
std::string attributed(const std::string& output, const std::string& document) {
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

// A tiny hydra from the shell: trains, evaluates, checkpoints, resumes, and
// the file it writes works with the other commands.
TEST_F(CliTest, TrainsATransformerHydra) {
  const std::string out = (dir_ / "hydra.safetensors").string(), ckpt = (dir_ / "hydra.ckpt").string();
  const std::string tiny = " --kind transformer --dir " + quote((dir_ / "corpus").string()) +
                           " --layers 1 --heads 2 --width 16 --context 16 --batch 4 --warmup 2 --eval-every 5"
                           " --threads 1 --heldout 0.3";
  const Outcome r = run("train" + tiny + " --steps 10 --checkpoint " + quote(ckpt) + " -o " + quote(out));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"hydra", "held-out", "step 10/10", "parameters", "wrote"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  const Outcome score = run("score " + quote(out) + " " + doc("pirate_doc.txt"));
  EXPECT_EQ(score.status, 0) << score.output;
  const Outcome resumed =
      run("train" + tiny + " --steps 10 --resume " + quote(ckpt) + " -o " + quote(out + ".2"));
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(has(resumed.output, "resumed at step 10")) << resumed.output;
  const Outcome independent = run("train" + tiny + " --steps 3 --layout independent -o " + quote(out + ".3"));
  EXPECT_EQ(independent.status, 0) << independent.output;
  // Options of the other kind are usage errors.
  EXPECT_EQ(run("train" + tiny + " --order 3 -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train --layers 2 -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train" + tiny + " --gate-posterior -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train" + tiny + " --heads 3 -o " + quote(out)).status, 2);
}

TEST_F(CliTest, ScoreAttributesEachDocumentToItsPersona) {
  const Outcome r = run("score " + quote(model_) + " " + doc("pirate_doc.txt") + " " + doc("poet_doc.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "bits per byte")) << r.output;
  EXPECT_EQ(attributed(r.output, "pirate_doc.txt"), "pirate") << r.output;
  EXPECT_EQ(attributed(r.output, "poet_doc.txt"), "poet") << r.output;
}

TEST_F(CliTest, ScoreReadsTextAndStdin) {
  const Outcome text = run("score " + quote(model_) + " --text " + quote("Arr, ye dogs!"));
  EXPECT_EQ(text.status, 0) << text.output;
  EXPECT_TRUE(has(text.output, "pirate")) << text.output;
  const Outcome stdin_run = run("score " + quote(model_) + " -", (dir_ / "poet_doc.txt").string());
  EXPECT_EQ(stdin_run.status, 0) << stdin_run.output;
  EXPECT_TRUE(has(stdin_run.output, "<stdin>")) << stdin_run.output;
}

TEST_F(CliTest, TraceWithoutColorHasNoEscapes) {
  const Outcome r = run("trace " + quote(model_) + " --color never " + doc("pirate_doc.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(has(r.output, "\x1b")) << r.output;
  EXPECT_TRUE(has(r.output, "pirate")) << r.output;
  EXPECT_TRUE(has(r.output, "poet")) << r.output;
  EXPECT_TRUE(has(r.output, "hoist the sails")) << r.output;
  EXPECT_TRUE(has(r.output, "<b>")) << "the last row is the document end: " << r.output;
  // Piped output is not a terminal: no colour by default either.
  EXPECT_FALSE(has(run("trace " + quote(model_) + " --text Arr").output, "\x1b"));
}

TEST_F(CliTest, TraceInColorAndEveryRow) {
  const Outcome colored = run("trace " + quote(model_) + " --color always --text " + quote("Arr, matey"));
  ASSERT_EQ(colored.status, 0) << colored.output;
  EXPECT_TRUE(has(colored.output, "\x1b[")) << colored.output;
  const Outcome every = run("trace " + quote(model_) + " --color never --every 1 --text " + quote("Ar\x01"));
  ASSERT_EQ(every.status, 0) << every.output;
  for (const char* row : {"'A'", "'r'", "'\\x01'", "<b>"}) EXPECT_TRUE(has(every.output, row)) << row << every.output;
}

TEST_F(CliTest, GenerateIsReproducibleForASeed) {
  const std::string args = "generate " + quote(model_) + " --prompt " + quote("Arr, ") + " --max-tokens 60 --seed 7";
  const Outcome first = run(args), second = run(args);
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_EQ(first.output, second.output);
  EXPECT_EQ(first.output.rfind("Arr, ", 0), 0u) << "the prompt comes first: " << first.output;
}

// The CLI's sampler defaults are the library's (SamplerConfig{}: llama.cpp's),
// as Python's generate() takes them; 1 and 0 turn the truncations off.
TEST_F(CliTest, GenerateDefaultsAreTheLibrarys) {
  const std::string base = "generate " + quote(model_) + " --max-tokens 80 --seed 3";
  const Outcome plain = run(base);
  ASSERT_EQ(plain.status, 0) << plain.output;
  const simulacra::SamplerConfig d;
  EXPECT_EQ(plain.output, run(base + fmt::format(" --temperature {} --top-p {} --min-p {} --top-k {}", d.temperature,
                                                 d.top_p, d.min_p, d.top_k)).output);
  const Outcome off = run(base + " --top-p 1 --min-p 0");
  ASSERT_EQ(off.status, 0) << off.output;
  EXPECT_NE(plain.output, off.output);
  for (const char* bad : {" --top-p nan", " --top-p 1.5", " --min-p -0.1", " --min-p 2"}) {
    const Outcome r = run(base + bad);
    EXPECT_EQ(r.status, 2) << bad << r.output;
  }
}

TEST_F(CliTest, GenerateSteersAndShowsWeights) {
  const Outcome r = run("generate " + quote(model_) + " --clamp poet --max-tokens 40 --show-weights --mode persona");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "100.0%")) << "poet is clamped: " << r.output;
  const Outcome biased = run("generate " + quote(model_) + " --bias pirate=2 --exclude poet --max-tokens 20");
  EXPECT_EQ(biased.status, 0) << biased.output;
}

// Product steering from the shell: scoring and generation accept it, and a
// half-given or degenerate request is a usage error naming the option.
TEST_F(CliTest, ProductSteeringScoresAndGenerates) {
  const std::string score = "score " + quote(model_) + " --color never " + doc("pirate_doc.txt");
  const Outcome plain = run(score);
  const Outcome steered = run(score + " --expert poet --anti-expert pirate --lambda 1.5");
  ASSERT_EQ(plain.status, 0) << plain.output;
  ASSERT_EQ(steered.status, 0) << steered.output;
  EXPECT_NE(plain.output, steered.output) << "the mixture column moves under product steering";
  EXPECT_EQ(attributed(steered.output, "pirate_doc.txt"), "pirate") << "attribution is not steered";
  const Outcome gen = run("generate " + quote(model_) + " --expert pirate --anti-expert poet --max-tokens 30 --seed 2");
  EXPECT_EQ(gen.status, 0) << gen.output;
  const Outcome half = run(score + " --expert poet");
  EXPECT_EQ(half.status, 2) << half.output;
  EXPECT_TRUE(has(half.output, "--anti-expert")) << half.output;
  const Outcome same = run(score + " --expert poet --anti-expert poet");
  EXPECT_EQ(same.status, 2) << same.output;
  const Outcome nan = run(score + " --expert poet --anti-expert pirate --lambda nan");
  EXPECT_EQ(nan.status, 2) << nan.output;
  EXPECT_TRUE(has(nan.output, "--lambda")) << nan.output;
}

TEST_F(CliTest, InspectShowsEveryPersonaAndTheMixture) {
  const Outcome r = run("inspect " + quote(model_) + " --text " + quote("Arr, the ") + " --top-k 3");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"pirate", "poet", "mixture", "rank", "%"}) EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_FALSE(has(r.output, "\x1b")) << "piped output is uncoloured";
  // --top-k 3: a title line, the header and three ranks.
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 5) << r.output;
  // A document start (no context), a file and steering also work.
  EXPECT_EQ(run("inspect " + quote(model_)).status, 0);
  const Outcome file = run("inspect " + quote(model_) + " " + doc("poet_doc.txt") + " --clamp poet --color always");
  EXPECT_EQ(file.status, 0) << file.output;
  EXPECT_TRUE(has(file.output, "100.0%")) << "poet is clamped: " << file.output;
  EXPECT_TRUE(has(file.output, "\x1b[")) << file.output;
  EXPECT_EQ(run("inspect " + quote(model_) + " --bias pirate=1 --exclude poet --text Arr").status, 0);
}

// --characteristic: a row per mask, only tokens its training text holds.
TEST_F(CliTest, InspectListsCharacteristicTokens) {
  const std::string text = std::string(kPirate) + kPoet;
  const Outcome r = run("inspect " + quote(model_) + " --characteristic 5 --min-count 1 --text " + quote(text));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "characteristic tokens")) << r.output;
  for (const char* word : {"pirate", "poet", "nats"}) EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 5").status, 2) << "a text is needed";
  EXPECT_EQ(run("inspect " + quote(model_) + " --min-count 2 --text hi").status, 2) << "--min-count alone";
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 0 --text hi").status, 2);
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 3 --min-count -1 --text hi").status, 2);
}

TEST_F(CliTest, VoteShowsEveryOptionAndPersona) {
  const Outcome r = run("vote " + quote(model_) + " --prompt " + quote("Ahoy, ye ") + " --option dogs --option " +
                        quote("silver moon"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"\"dogs\"", "\"silver moon\"", "pirate", "poet", "mixture", "weights after the prompt", "*"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_TRUE(has(r.output, "mixture chooses")) << r.output;
  const Outcome missing = run("vote " + quote(model_) + " --prompt hi");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_TRUE(has(missing.output, "--option")) << missing.output;
}

TEST_F(CliTest, SwitchMeasuresBothDirections) {
  const Outcome r = run("switch " + quote(model_) + " --from pirate --to poet --file-a " + doc("pirate_doc.txt") +
                        " --text-b " + quote("O silver moon, the willow weeps and the evening sighs.") + " --every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"A->B", "B->A", "pirate -> poet", "poet -> pirate", "to 50%", "to 90%"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  const Outcome missing = run("switch " + quote(model_) + " --from pirate --to nobody --text-a Arr --text-b O");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_TRUE(has(missing.output, "nobody")) << missing.output;
  const Outcome empty = run("switch " + quote(model_) + " --from pirate --to poet --text-a '' --text-b O");
  EXPECT_EQ(empty.status, 1) << empty.output;
  EXPECT_TRUE(has(empty.output, "simulacra: error:")) << empty.output;
}

TEST_F(CliTest, TraceSpansListsTheAttribution) {
  const Outcome r = run("trace " + quote(model_) + " --spans --color never --text " +
                        quote("Arr, matey, hoist the sails, ye dogs! O silver moon, the willow weeps softly."));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "Viterbi attribution")) << r.output;
  EXPECT_TRUE(has(r.output, "starts with")) << r.output;
  EXPECT_TRUE(has(r.output, "\"Arr, matey")) << "the first span starts the text: " << r.output;
  EXPECT_FALSE(has(run("trace " + quote(model_) + " --text Arr").output, "Viterbi")) << "only with --spans";
}

// Switch points from the shell: saved in the model, and the smoothed view
// keeps one mask per line (no switch can happen inside a line).
TEST_F(CliTest, SwitchAfterAndSmoothedTrace) {
  const std::string lines = (dir_ / "lines.safetensors").string();
  const Outcome t = run("train --dir " + quote((dir_ / "corpus").string()) + " --order 3 --alpha 0.05 --switch-after " +
                        quote("\\n") + " -o " + quote(lines));
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_EQ(simulacra::load(lines).config().switch_after, std::vector<simulacra::Token>{'\n'});
  const std::string first = "Arr, matey, hoist the sails, ye dogs!";
  const Outcome r = run("trace " + quote(lines) + " --smooth --color never --text " +
                        quote(first + "\nO silver moon, the willow weeps softly."));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::size_t at = r.output.find(first + "\n");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string keys = r.output.substr(at + first.size() + 1, first.size());
  EXPECT_EQ(keys, std::string(first.size(), keys[0])) << r.output;
  const Outcome bad = run("train --dir " + quote((dir_ / "corpus").string()) + " --switch-after " + quote("\\q") +
                          " -o " + quote(lines));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_TRUE(has(bad.output, "--switch-after")) << bad.output;
}

TEST_F(CliTest, MissingModelExitsOneNamingThePath) {
  const std::string missing = (dir_ / "no-such-model.safetensors").string();
  for (const std::string& args :
       {"score " + quote(missing) + " --text hi", "trace " + quote(missing) + " --text hi", "generate " + quote(missing),
        "inspect " + quote(missing), "vote " + quote(missing) + " --prompt hi --option A",
        "switch " + quote(missing) + " --from a --to b --text-a A --text-b B"}) {
    const Outcome r = run(args);
    EXPECT_EQ(r.status, 1) << args;
    EXPECT_TRUE(has(r.output, "simulacra: error:")) << r.output;
    EXPECT_TRUE(has(r.output, missing)) << r.output;
  }
  const Outcome file = run("score " + quote(model_) + " " + doc("no-such-document.txt"));
  EXPECT_EQ(file.status, 1);
  EXPECT_TRUE(has(file.output, "no-such-document.txt")) << file.output;
}

TEST_F(CliTest, DamagedModelExitsOne) {
  const Outcome r = run("generate " + doc("pirate_doc.txt"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(has(r.output, "simulacra: error:")) << r.output;
}

TEST_F(CliTest, DemoPrintsAccuracy) {
  const Outcome r = run("demo");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "attribution accuracy:")) << r.output;
  EXPECT_TRUE(has(r.output, "swap")) << r.output;
  EXPECT_TRUE(has(r.output, "clamped to")) << r.output;
  EXPECT_TRUE(has(r.output, "simulacra train")) << r.output;
  EXPECT_FALSE(has(r.output, "\x1b")) << "piped output is uncoloured";
}

// Every input the tool reads is bounded: a regular file by its size before
// reading, stdin and pipes as they are read; devices and directories are
// refused. Each is a user error (exit 1) naming the input and the limit.
TEST_F(CliTest, InputsAreBounded) {
  const Outcome device = run("score " + quote(model_) + " /dev/zero");
  EXPECT_EQ(device.status, 1) << device.output;
  EXPECT_TRUE(has(device.output, "/dev/zero: not a regular file")) << device.output;
  const Outcome dir = run("score " + quote(model_) + " " + quote(dir_.string()));
  EXPECT_EQ(dir.status, 1) << dir.output;
  EXPECT_TRUE(has(dir.output, "is a directory")) << dir.output;
  const Outcome piped = run("score " + quote(model_) + " - --max-input-bytes 100000", "/dev/zero");
  EXPECT_EQ(piped.status, 1) << piped.output;
  EXPECT_TRUE(has(piped.output, "<stdin>: longer than the input limit of 100000 bytes")) << piped.output;
  // The default limit holds too: stdin from /dev/zero ends with the error.
  const Outcome unbounded = run("score " + quote(model_), "/dev/zero");
  EXPECT_EQ(unbounded.status, 1) << unbounded.output;
  EXPECT_TRUE(has(unbounded.output, "longer than the input limit of 134217728 bytes")) << unbounded.output;
  // A regular file over the limit is refused by its size, by every command that reads files.
  const std::string doc_path = (dir_ / "pirate_doc.txt").string();
  for (const std::string& args :
       {"score " + quote(model_) + " " + quote(doc_path), "trace " + quote(model_) + " " + quote(doc_path),
        "inspect " + quote(model_) + " " + quote(doc_path),
        "switch " + quote(model_) + " --from pirate --to poet --file-a " + quote(doc_path) + " --text-b O",
        "train --kind transformer --file " + quote(doc_path) + " -o " + quote((dir_ / "x.safetensors").string())}) {
    const Outcome r = run(args + " --max-input-bytes 10");
    EXPECT_EQ(r.status, 1) << args << ": " << r.output;
    EXPECT_TRUE(has(r.output, "input limit of 10 bytes")) << args << ": " << r.output;
  }
  // At the limit exactly, the file is read.
  EXPECT_EQ(run("score " + quote(model_) + " " + quote(doc_path) + " --max-input-bytes " +
                std::to_string(fs::file_size(doc_path)))
                .status,
            0);
  // A FIFO is read (up to the limit) like stdin.
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] { write_file(fifo, "Arr, matey, hoist the sails!"); });
  const Outcome from_fifo = run("score " + quote(model_) + " " + quote(fifo));
  writer.join();
  EXPECT_EQ(from_fifo.status, 0) << from_fifo.output;
  EXPECT_EQ(attributed(from_fifo.output, "fifo"), "pirate") << from_fifo.output;
}

// The tool started with `args`, its stdin the read end of a pipe the test
// keeps open (so a command reading stdin waits), its output to /dev/null.
struct Child {
  pid_t pid = -1;
  int stdin_write = -1;
};

Child spawn(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    close(fds[1]);
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    std::vector<char*> argv;
    const std::string path = cli_path().string();
    argv.push_back(const_cast<char*>(path.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(fds[0]);
  return {pid, fds[1]};
}

// Waits for the child up to `timeout` (then kills it); its exit status, or
// -1 if it did not exit normally in time.
int wait_for(const Child& child, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(child.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Ctrl-C while a command waits for its input: the read returns, the tool
// stops with exit status 130 (a generous timeout fails instead of hanging).
TEST_F(CliTest, InterruptWhileReadingExits130) {
  const Child child = spawn({"score", model_, "-"});
  ASSERT_GT(child.pid, 0);
  ASSERT_EQ(write(child.stdin_write, "Arr, ", 5), 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(child.pid, SIGINT);
  EXPECT_EQ(wait_for(child, std::chrono::seconds(20)), 130);
  close(child.stdin_write);
}

// Ctrl-C during a long score of a large generated file (about 5 MB, several
// seconds of scoring): the tool polls its interrupt flag between the steps
// of scoring, as the library's long calls do inside them, and exits 130.
TEST_F(CliTest, InterruptDuringLongScoreExits130) {
  const std::string big = (dir_ / "big.txt").string();
  {
    std::ofstream out(big, std::ios::binary);
    for (int i = 0; i < 12000; ++i) out << (i % 2 ? kPirate : kPoet);
  }
  const Child child = spawn({"score", model_, big});
  ASSERT_GT(child.pid, 0);
  close(child.stdin_write);
  std::this_thread::sleep_for(std::chrono::seconds(1));  // reading done, scoring under way
  kill(child.pid, SIGINT);
  EXPECT_EQ(wait_for(child, std::chrono::seconds(60)), 130);
  fs::remove(big);
}

}  // namespace
