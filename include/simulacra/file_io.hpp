// simulacra/file_io.hpp — whole files read and written by path, checked.
//
// Every file the library reads or writes by name goes through here (model
// files, transformer files, checkpoints, corpus files, the CLI's inputs), so
// that hostile paths are handled once:
//
//   - reading refuses anything but a regular file (a FIFO would block the
//     open, /dev/zero never ends) before opening it, and again after, on the
//     opened descriptor; its size is bounded before anything is allocated;
//   - writing is atomic (a temporary file, fsync, rename), refuses to replace
//     a directory, a device, a FIFO or a socket, writes through symbolic
//     links, keeps the replaced file's permissions, and cleans up the
//     temporaries of writers that were killed.
//
//   std::string text = simulacra::read_file("corpus.txt", std::uint64_t{1} << 30);
//   simulacra::write_file_atomic("out.bin", text);
//
// Errors are FileError whose message starts with the path: "<path>: <problem>".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "simulacra/error.hpp"

namespace simulacra {

// ---- reading ------------------------------------------------------------------

// A regular file open for reading (symbolic links followed), closed on
// destruction. The path is checked with stat() before it is opened, so that
// a FIFO, a device, a directory or a socket is refused without being opened;
// the open uses O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC (so that a FIFO
// swapped in after the check cannot block either), and fstat() of the opened
// descriptor must show a regular file again. Throws FileError
// "<path>: cannot open: <system error>" when the path is missing or
// unreadable, and "<path>: is a FIFO, not a regular file" (or a directory, a
// character device, a block device, a socket) for the others.
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile();

  const std::string& path() const { return path_; }

  // The open file descriptor (valid while this object lives), e.g. to mmap it.
  int fd() const { return fd_; }

  // The file's size in bytes when it was opened.
  std::uint64_t size() const { return size_; }

  // Reads exactly `size` bytes at `offset` into `out`. Throws FileError
  // "<path>: cannot read the <what>: <system error>" on a read error and
  // "<path>: file truncated while reading the <what>" when the file ends
  // first (it shrank after it was opened). Safe to call from several threads.
  void read_at(std::uint64_t offset, void* out, std::size_t size, std::string_view what) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The whole content of the regular file `path`, checked as InputFile does.
// A file of more than `max_bytes` bytes is refused before anything is
// allocated: FileError "<path>: is <n> bytes, more than the limit of <max>".
// Bytes appended while the file is being read are not read.
std::string read_file(const std::string& path, std::uint64_t max_bytes);

// ---- writing ------------------------------------------------------------------

// Replaces the content of `path` with the concatenation of `pieces`,
// atomically: readers see the old file or the new one, never a mixture, and
// on any failure the old file is left as it was. By what `path` is:
//
//   - nothing: a new regular file, with mode 0666 minus the umask (as any
//     created file);
//   - a regular file: replaced by a new file with the old one's permission
//     bits (mode & 0777); the owner is the writer, and other hard links to
//     the old file keep the old content;
//   - a symbolic link: followed (chains of up to 40 links, a relative link
//     read from its own directory) and the final target written as above, in
//     the target's directory; the links stay links. A dangling link's target
//     is created;
//   - anything else (a directory, a device, a FIFO, a socket): refused,
//     FileError "<path>: is a character device, not a regular file", and
//     nothing is written.
//
// The bytes go to a temporary file ".<name>.simulacra-tmp.<pid>.<n>" in the
// target's directory (<name> the target's file name, <pid> the writer's
// process id), which is fsynced, renamed over the target, and the directory
// fsynced (best effort). A writer killed mid-way (kill -9, a crash) leaves its
// temporary behind: each write_file_atomic of a target first removes that
// target's temporaries whose <pid> is not a live process on this machine.
// Throws FileError "<path>: <what failed> (<temporary>): <system error>".
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);

// The same with one piece.
inline void write_file_atomic(const std::string& path, std::string_view bytes) {
  write_file_atomic(path, std::vector<std::string_view>{bytes});
}

}  // namespace simulacra
