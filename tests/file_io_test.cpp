// Tests for simulacra/file_io.hpp: reading only regular files (never blocking
// on a FIFO, never reading a device), the size bound, and atomic writing that
// refuses non-regular targets, writes through symbolic links, keeps modes and
// removes the temporaries of killed writers.
#include "simulacra/file_io.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <vector>

#include "testing.hpp"

namespace fs = std::filesystem;
using simulacra::FileError;

namespace {

class FileIoTest : public simulacra::testing::TempDirTest {};

std::string content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode;
}

using simulacra::testing::file_error;

// Binds a Unix-domain socket at `path` (the node stays after the descriptor is closed).
void make_socket(const std::string& path) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(s, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  ::close(s);
}

// The pid of a process that has exited (a child, reaped).
pid_t dead_pid() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

// Runs f() (which should throw FileError at once) in a thread; if it has not
// returned after 20 s it is blocked on the FIFO at `fifo`, which this then
// opens for writing so that the call can finish, and the test fails.
template <class F>
std::string error_without_blocking(const std::string& fifo, F f) {
  auto result = std::async(std::launch::async, [&] { return file_error(f); });
  if (result.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo;
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  }
  return result.get();
}

}  // namespace

// ---- reading ------------------------------------------------------------------

TEST_F(FileIoTest, ReadFileReadsRegularFilesAndLinksToThem) {
  const std::string bytes("binary \0 \xff bytes\n", 17);
  put(path("f"), bytes);
  EXPECT_EQ(simulacra::read_file(path("f"), 17), bytes);
  fs::create_symlink("f", path("link"));
  EXPECT_EQ(simulacra::read_file(path("link"), 1000), bytes);
  put(path("empty"), "");
  EXPECT_EQ(simulacra::read_file(path("empty"), 0), "");
  const simulacra::InputFile in(path("f"));
  EXPECT_EQ(in.size(), 17u);
  char part[16] = {};
  in.read_at(11, part, 4, "part");
  EXPECT_STREQ(part, "byte");
  EXPECT_NE(file_error([&] { in.read_at(11, part, 8, "tail"); }).find("truncated while reading the tail"),
            std::string::npos);
}

TEST_F(FileIoTest, ReadFileBoundsTheSize) {
  put(path("f"), std::string(100, 'x'));
  const std::string message = file_error([&] { simulacra::read_file(path("f"), 99); });
  EXPECT_NE(message.find(path("f")), std::string::npos) << message;
  EXPECT_NE(message.find("is 100 bytes, more than the limit of 99"), std::string::npos) << message;
  EXPECT_EQ(simulacra::read_file(path("f"), 100).size(), 100u);
}

TEST_F(FileIoTest, ReadFileRefusesAFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const std::string message = error_without_blocking(path("fifo"), [&] { simulacra::read_file(path("fifo"), 100); });
  EXPECT_NE(message.find(path("fifo") + ": is a FIFO, not a regular file"), std::string::npos) << message;
  fs::create_symlink("fifo", path("link"));
  EXPECT_NE(error_without_blocking(path("fifo"), [&] { simulacra::InputFile f(path("link")); }).find("a FIFO"),
            std::string::npos);
}

TEST_F(FileIoTest, ReadFileRefusesDirectoriesDevicesAndSockets) {
  EXPECT_NE(file_error([&] { simulacra::read_file(dir_.string(), 100); }).find("is a directory"), std::string::npos);
  // Reading a device is harmless to it: /dev/zero would never end, /dev/null is empty.
  for (const char* device : {"/dev/zero", "/dev/null"}) {
    if (!fs::exists(device)) continue;
    EXPECT_NE(file_error([&] { simulacra::read_file(device, 100); }).find("is a character device"), std::string::npos)
        << device;
  }
  make_socket(path("sock"));
  EXPECT_NE(file_error([&] { simulacra::read_file(path("sock"), 100); }).find("is a socket"), std::string::npos);
  const std::string missing = file_error([&] { simulacra::read_file(path("absent"), 100); });
  EXPECT_NE(missing.find(path("absent") + ": cannot open: No such file"), std::string::npos) << missing;
}

// ---- writing ------------------------------------------------------------------

TEST_F(FileIoTest, WritesANewFileWithTheUmasksMode) {
  const mode_t old = ::umask(027);
  simulacra::write_file_atomic(path("new"), std::vector<std::string_view>{"one ", "two"});
  ::umask(old);
  EXPECT_EQ(content(path("new")), "one two");
  EXPECT_EQ(mode_of(path("new")) & 0777, 0640u);
  EXPECT_EQ(listing(), std::vector<std::string>{"new"});
}

TEST_F(FileIoTest, ReplacingAFileKeepsItsMode) {
  for (const mode_t mode : {0600, 0640, 0755, 0444}) {
    put(path("model"), "old");
    ASSERT_EQ(::chmod(path("model").c_str(), mode), 0);
    simulacra::write_file_atomic(path("model"), "new content");
    EXPECT_EQ(content(path("model")), "new content");
    EXPECT_EQ(mode_of(path("model")) & 0777, mode) << std::oct << mode;
    EXPECT_TRUE(S_ISREG(mode_of(path("model"))));
  }
  EXPECT_EQ(listing(), std::vector<std::string>{"model"});
}

TEST_F(FileIoTest, WritesThroughSymbolicLinks) {
  fs::create_directories(path("real"));
  put(path("real/model"), "old");
  ASSERT_EQ(::chmod(path("real/model").c_str(), 0600), 0);
  fs::create_symlink("real/model", path("link"));  // relative, read from the link's directory
  fs::create_symlink(path("link"), path("chain"));  // absolute, to another link
  simulacra::write_file_atomic(path("chain"), "through two links");
  EXPECT_TRUE(fs::is_symlink(path("chain")));
  EXPECT_TRUE(fs::is_symlink(path("link")));
  EXPECT_EQ(content(path("real/model")), "through two links");
  EXPECT_EQ(mode_of(path("real/model")) & 0777, 0600u);
  EXPECT_EQ(listing(), (std::vector<std::string>{"chain", "link", "real"}));
  // A dangling link: its target is created.
  fs::create_symlink("real/fresh", path("dangling"));
  simulacra::write_file_atomic(path("dangling"), "created");
  EXPECT_TRUE(fs::is_symlink(path("dangling")));
  EXPECT_EQ(content(path("real/fresh")), "created");
  // A loop is an error, not a hang.
  fs::create_symlink("loop_b", path("loop_a"));
  fs::create_symlink("loop_a", path("loop_b"));
  EXPECT_NE(file_error([&] { simulacra::write_file_atomic(path("loop_a"), "x"); }).find("levels of symbolic links"),
            std::string::npos);
  // A link to a FIFO is refused as the FIFO is.
  ASSERT_EQ(::mkfifo(path("real/fifo").c_str(), 0600), 0);
  fs::create_symlink("real/fifo", path("to_fifo"));
  EXPECT_NE(file_error([&] { simulacra::write_file_atomic(path("to_fifo"), "x"); }).find("is a FIFO"),
            std::string::npos);
  EXPECT_TRUE(fs::is_fifo(path("real/fifo")));
}

TEST_F(FileIoTest, RefusesToReplaceWhatIsNotARegularFile) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  make_socket(path("sock"));
  fs::create_directories(path("dir/inner"));
  const std::pair<std::string, std::string> targets[] = {
      {"fifo", "is a FIFO"}, {"sock", "is a socket"}, {"dir", "is a directory"}};
  for (const auto& [name, what] : targets) {
    const std::string target = path(name);  // a lambda may not capture a structured binding before C++20
    const std::string message = file_error([&] { simulacra::write_file_atomic(target, "x"); });
    EXPECT_NE(message.find(path(name) + ": " + what + ", not a regular file"), std::string::npos) << message;
  }
  EXPECT_TRUE(fs::is_fifo(path("fifo")));
  EXPECT_TRUE(fs::is_socket(path("sock")));
  EXPECT_TRUE(fs::is_directory(path("dir/inner")));
  EXPECT_EQ(listing(), (std::vector<std::string>{"dir", "fifo", "sock"})) << "a temporary file was left";
}

TEST_F(FileIoTest, RefusesToReplaceADevice) {
  // A device node of our own (/dev/null's numbers) where we may make one; a
  // real /dev file is never a write target here.
  if (::mknod(path("null").c_str(), S_IFCHR | 0666, ::makedev(1, 3)) != 0)
    GTEST_SKIP() << "cannot create a device node here (" << std::strerror(errno) << "); the read side is checked in "
                 << "ReadFileRefusesDirectoriesDevicesAndSockets";
  const std::string message = file_error([&] { simulacra::write_file_atomic(path("null"), "x"); });
  EXPECT_NE(message.find(path("null") + ": is a character device, not a regular file"), std::string::npos) << message;
  EXPECT_TRUE(S_ISCHR(mode_of(path("null")))) << "the device node was replaced";
  EXPECT_EQ(listing(), std::vector<std::string>{"null"});
}

TEST_F(FileIoTest, RemovesTheTemporariesOfDeadWriters) {
  put(path("model"), "old");
  const pid_t dead = dead_pid();
  const std::string stale = ".model.simulacra-tmp." + std::to_string(dead) + ".3";
  const std::string live = ".model.simulacra-tmp." + std::to_string(::getppid()) + ".0";   // a running process
  const std::string own = ".model.simulacra-tmp." + std::to_string(::getpid()) + ".999";   // another thread's, maybe
  const std::string other = ".other.simulacra-tmp." + std::to_string(dead) + ".0";         // another target's
  const std::string odd = ".model.simulacra-tmp.12x.0";                                    // not ours
  for (const std::string& name : {stale, live, own, other, odd}) put(path(name), "partial");
  simulacra::write_file_atomic(path("model"), "new");
  EXPECT_EQ(content(path("model")), "new");
  std::vector<std::string> expected = {live, own, other, odd, "model"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listing(), expected) << "only the dead writer's temporary of this target goes";
}

TEST_F(FileIoTest, FailedWritesLeaveNothing) {
  const std::string missing = path("no/such/dir/f");
  const std::string message = file_error([&] { simulacra::write_file_atomic(missing, "x"); });
  EXPECT_NE(message.find(missing), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;
  EXPECT_TRUE(listing().empty());
}
