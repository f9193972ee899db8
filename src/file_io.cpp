// simulacra/file_io.cpp — checked reading and atomic writing of whole files.
#include "simulacra/file_io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <system_error>

namespace simulacra {

namespace {

std::string system_error(int err) { return std::error_code(err, std::generic_category()).message(); }

// What a non-regular file is, for messages: "a directory", "a FIFO", ...
const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::string& path, mode_t mode) {
  throw FileError(fmt::format("{}: is {}, not a regular file", path, kind_of(mode)));
}

// The directory part of `path` ("." for a bare name) and its file name.
std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}
std::string name_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// An open file descriptor, closed on destruction.
struct Descriptor {
  int fd = -1;
  Descriptor() = default;
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  ~Descriptor() { close(); }
  // Closes now; returns ::close's result (0 if already closed).
  int close() {
    const int was = fd;
    fd = -1;
    return was >= 0 ? ::close(was) : 0;
  }
};

}  // namespace

// ---- reading ------------------------------------------------------------------

InputFile::InputFile(const std::string& path) : path_(path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw FileError(fmt::format("{}: cannot open: {}", path, system_error(errno)));
  if (!S_ISREG(st.st_mode)) not_regular(path, st.st_mode);
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) throw FileError(fmt::format("{}: cannot open: {}", path, system_error(errno)));
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    throw FileError(fmt::format("{}: cannot stat: {}", path, system_error(err)));
  }
  if (!S_ISREG(st.st_mode)) {  // swapped after the check
    ::close(fd_);
    not_regular(path, st.st_mode);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() { ::close(fd_); }

void InputFile::read_at(std::uint64_t offset, void* out, std::size_t size, std::string_view what) const {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    const ssize_t got = ::pread(fd_, p, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw FileError(fmt::format("{}: cannot read the {}: {}", path_, what, system_error(errno)));
    if (got == 0) throw FileError(fmt::format("{}: file truncated while reading the {}", path_, what));
    p += got;
    size -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
}

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
  const InputFile file(path);
  if (file.size() > max_bytes)
    throw FileError(fmt::format("{}: is {} bytes, more than the limit of {}", path, file.size(), max_bytes));
  std::string out(static_cast<std::size_t>(file.size()), '\0');
  file.read_at(0, out.data(), out.size(), "file");
  return out;
}

// ---- writing ------------------------------------------------------------------

namespace {

constexpr int kMaxSymlinks = 40;  // as Linux's path resolution (ELOOP)
constexpr std::string_view kTempTag = ".simulacra-tmp.";

// The file that writing `path` must replace: `path` itself, or the end of its
// chain of symbolic links. *exists and *mode tell whether it is a regular file
// already, and its permission bits. Refuses anything but a regular file.
std::string resolve_target(const std::string& path, bool* exists, mode_t* mode) {
  std::string target = path;
  for (int links = 0;; ++links) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno != ENOENT) throw FileError(fmt::format("{}: cannot inspect {}: {}", path, target, system_error(errno)));
      *exists = false;  // a new file (a missing directory fails when the temporary is created)
      return target;
    }
    if (S_ISREG(st.st_mode)) {
      *exists = true;
      *mode = st.st_mode & 0777;
      return target;
    }
    if (!S_ISLNK(st.st_mode)) not_regular(target == path ? path : fmt::format("{} (via {})", target, path), st.st_mode);
    if (links == kMaxSymlinks)
      throw FileError(fmt::format("{}: more than {} levels of symbolic links", path, kMaxSymlinks));
    std::string link(PATH_MAX, '\0');
    const ssize_t n = ::readlink(target.c_str(), link.data(), link.size());
    if (n < 0) throw FileError(fmt::format("{}: cannot read the link {}: {}", path, target, system_error(errno)));
    if (n == 0 || std::size_t(n) == link.size())
      throw FileError(fmt::format("{}: the link {} is empty or longer than {} bytes", path, target, PATH_MAX));
    link.resize(static_cast<std::size_t>(n));
    target = link.front() == '/' ? link : directory_of(target) + "/" + link;
  }
}

// Removes the temporaries of `target` left by writers that no longer run:
// ".<name>.simulacra-tmp.<pid>.<n>" whose <pid> is not a live process.
void remove_stale_temporaries(const std::string& target) {
  const std::string dir = directory_of(target);
  const std::string prefix = "." + name_of(target) + std::string(kTempTag);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;  // the write itself will report the problem
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rest = name.substr(prefix.size());  // "<pid>.<n>"
    const auto dot = rest.find('.');
    if (dot == 0 || dot == std::string_view::npos || dot > 9) continue;
    long long pid = 0;
    bool digits = true;
    for (const char c : rest.substr(0, dot)) {
      digits = digits && c >= '0' && c <= '9';
      if (digits) pid = pid * 10 + (c - '0');
    }
    if (!digits || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) stale.emplace_back(name);
  }
  ::closedir(d);
  for (const std::string& name : stale) ::unlink((dir + "/" + name).c_str());
}

std::atomic<unsigned> temp_counter{0};

// A file being written under a temporary name next to its target; removed
// unless committed.
class TempFile {
 public:
  TempFile(const std::string& path, const std::string& target, bool exists, mode_t mode)
      : path_(path),
        target_(target),
        temp_(fmt::format("{}/.{}{}{}.{}", directory_of(target), name_of(target), kTempTag, ::getpid(), temp_counter++)) {
    // Replacing a file: private until it has the old file's mode.
    file_.fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? 0600 : 0666);
    if (file_.fd < 0) fail("cannot create the temporary file");
    created_ = true;
    if (exists && ::fchmod(file_.fd, mode) != 0) fail("cannot set the mode of the temporary file");
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    file_.close();
    if (created_ && !committed_) ::unlink(temp_.c_str());
  }

  void write(std::string_view bytes) {
    const char* p = bytes.data();
    std::size_t size = bytes.size();
    while (size > 0) {
      const ssize_t n = ::write(file_.fd, p, size);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("cannot write");
      p += n;
      size -= static_cast<std::size_t>(n);
    }
  }

  // fsync, close, rename over the target, then fsync the directory so the
  // rename itself is durable (best effort: some file systems refuse).
  void commit() {
    if (::fsync(file_.fd) != 0) fail("cannot flush to disk");
    if (file_.close() != 0) fail("cannot close");
    if (::rename(temp_.c_str(), target_.c_str()) != 0) fail("cannot rename the temporary file over it");
    committed_ = true;
    Descriptor d;
    d.fd = ::open(directory_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.fd >= 0) ::fsync(d.fd);
  }

 private:
  // Throws FileError with the current errno; call right after the failure.
  [[noreturn]] void fail(const char* what) const {
    const int err = errno;
    throw FileError(fmt::format("{}: {} ({}): {}", path_, what, temp_, system_error(err)));
  }

  std::string path_, target_, temp_;
  Descriptor file_;
  bool created_ = false, committed_ = false;
};

}  // namespace

void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  bool exists = false;
  mode_t mode = 0;
  const std::string target = resolve_target(path, &exists, &mode);
  remove_stale_temporaries(target);
  TempFile out(path, target, exists, mode);
  for (const std::string_view piece : pieces) out.write(piece);
  out.commit();
}

}  // namespace simulacra
