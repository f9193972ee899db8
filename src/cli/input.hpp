// src/cli/input.hpp — every text the command-line tool reads (FILE
// arguments, --file options and stdin) goes through read_input, which
// bounds it.
//
// A path is checked before it is opened: a regular file (read by the
// library's simulacra::read_file) or a pipe (a FIFO, or stdin as "-",
// whatever it is) is read; a directory, a device or a
// socket is refused. At most `max_bytes` are read (kDefaultMaxInput unless
// --max-input-bytes says otherwise): a longer input is refused with a
// FileError naming the path and the limit (a regular file by its size,
// before reading; a pipe after at most 64 KiB past the limit), so `simulacra score MODEL - < /dev/zero` ends with an error in
// bounded memory. The read stops with Interrupted when SIGINT arrives.
#pragma once

#include <cstddef>
#include <string>

#include "args.hpp"

namespace simulacra::cli {

// 128 MiB: the longest input read when --max-input-bytes is not given.
inline constexpr std::size_t kDefaultMaxInput = std::size_t(128) << 20;

// The --max-input-bytes option, shared by every command that reads input
// (inline: initialised before the Commands that copy it).
inline const Option kMaxInput{"--max-input-bytes", "", "N", "134217728, 128 MiB",
                              "refuse an input (a FILE or stdin) longer than N bytes"};

// The limit given by --max-input-bytes (the command must declare kMaxInput).
std::size_t max_input(const Args& args);

// The bytes of the file at `path`, or of stdin for "-" (see above).
// FileError naming the path when it cannot be read, is not a regular file
// or a pipe, or is longer than max_bytes; UsageError when "-" is read a
// second time in one run (e.g. MODEL and FILE both "-").
std::string read_input(const std::string& path, std::size_t max_bytes);

}  // namespace simulacra::cli
