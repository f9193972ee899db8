// tests/cli_input_test.cpp — the `simulacra` command-line tool on bad input,
// run as a subprocess (cli_testing.hpp): missing and damaged model files, the
// demo, inputs bounded in size and kind, and Ctrl-C while reading or scoring.
#include "cli_testing.hpp"

namespace {

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

TEST_F(CliTest, DemoShowsThePileOnAPlay) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const std::string play = simulacra::testing::shared_data("tinyshakespeare.txt");
  const Outcome r = run("demo --play " + quote(play));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "5. On real text")) << r.output;
  EXPECT_TRUE(has(r.output, "the 8 speakers ranked 9 to 16")) << r.output;
  EXPECT_TRUE(has(r.output, "Who wrote a window of held-out text?")) << r.output;
  EXPECT_TRUE(has(r.output, "one pooled order-")) << r.output;
  EXPECT_TRUE(has(r.output, "smoothed  ")) << r.output;
  // Without --play, a missing default play is skipped with a hint; a missing --play is an error naming it.
  const fs::path home = fs::current_path(), nowhere = dir_ / "no-shared-beside-me";  // no ../shared/data here
  fs::create_directories(nowhere);
  fs::current_path(nowhere);
  const Outcome skipped = run("demo");
  fs::current_path(home);
  EXPECT_TRUE(has(skipped.output, "pass --play PATH")) << skipped.output;
  const Outcome missing = run("demo --play " + quote((dir_ / "no-such-play.txt").string()));
  EXPECT_EQ(missing.status, 1) << missing.output;
  EXPECT_TRUE(has(missing.output, "no-such-play.txt")) << missing.output;
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
