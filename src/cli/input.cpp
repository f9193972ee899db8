// src/cli/input.cpp — bounded reading of the CLI's inputs (input.hpp).
#include "input.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "simulacra/error.hpp"
#include "simulacra/file_io.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra::cli {

std::size_t max_input(const Args& args) {
  return std::size_t(args.integer("--max-input-bytes", (long long)kDefaultMaxInput, 0, Args::kNoLimit));
}

namespace {

// Closes a descriptor it opened when leaving scope.
struct Descriptor {
  int fd = -1;
  bool owned = false;
  ~Descriptor() {
    if (owned && fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string read_input(const std::string& path, std::size_t max_bytes) {
  const bool is_stdin = path == "-";
  const std::string name = is_stdin ? "<stdin>" : path;
  Descriptor in;
  if (is_stdin) {
    static bool stdin_read = false;  // a second "-" would read nothing: say so instead
    if (stdin_read) throw UsageError("stdin ('-') is read only once: give a file for the other input");
    stdin_read = true;
    in.fd = STDIN_FILENO;
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw FileError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
    if (S_ISDIR(st.st_mode)) throw FileError(fmt::format("{}: is a directory, not a file", path));
    if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
      throw FileError(fmt::format("{}: not a regular file or a pipe (a device or a socket)", path));
    if (S_ISREG(st.st_mode) && std::uint64_t(st.st_size) > max_bytes)
      throw FileError(fmt::format("{}: {} bytes is longer than the input limit of {} bytes (--max-input-bytes)", path,
                                  st.st_size, max_bytes));
    if (S_ISREG(st.st_mode)) return read_file(path, max_bytes);  // the library's checked reader
    in.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    in.owned = true;
    if (in.fd < 0) throw FileError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  }
  std::string out;
  struct stat st {};
  if (::fstat(in.fd, &st) == 0 && S_ISREG(st.st_mode) && std::uint64_t(st.st_size) <= max_bytes)
    out.reserve(std::size_t(st.st_size));
  char buffer[1 << 16];
  for (;;) {
    poll_interrupt();
    const ::ssize_t n = ::read(in.fd, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;  // poll_interrupt() above decides
      throw FileError(fmt::format("{}: cannot read: {}", name, std::strerror(errno)));
    }
    if (out.size() + std::size_t(n) > max_bytes)
      throw FileError(fmt::format("{}: longer than the input limit of {} bytes (--max-input-bytes)", name, max_bytes));
    out.append(buffer, std::size_t(n));
  }
  return out;
}

}  // namespace simulacra::cli
