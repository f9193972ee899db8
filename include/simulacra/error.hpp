// simulacra/error.hpp — the exception hierarchy and the checks that raise it.
//
// User errors (bad arguments, unknown personas, damaged files) are exceptions
// derived from the standard ones, so that C++ callers can catch the standard
// type and pybind11 maps them to ValueError / IndexError / OSError:
//
//   InvalidArgument : std::invalid_argument   -> ValueError
//   OutOfRange      : std::out_of_range       -> IndexError
//   FileError       : std::runtime_error      -> OSError (bad, damaged, foreign files)
//
// Bugs (broken internal invariants) are asserts, never exceptions.
#pragma once

#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace simulacra {

// A bad argument value: empty text, NaN or negative hyperparameter, bad shape.
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// An index or name outside what exists: unknown persona, token >= vocabulary.
class OutOfRange : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

// A file that cannot be read, written, or understood: missing, truncated,
// corrupted, foreign, or written by a newer version of the format.
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace simulacra

// SIMULACRA_CHECK(cond, Exception, fmt, args...): throw Exception with a
// formatted message unless cond holds. The message names what was wrong.
#define SIMULACRA_CHECK(cond, Exception, ...)           \
  do {                                                  \
    if (!(cond)) throw Exception(fmt::format(__VA_ARGS__)); \
  } while (0)
