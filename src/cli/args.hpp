// src/cli/args.hpp — the command-line grammar shared by every subcommand.
//
// A Command describes a subcommand: its synopsis, its positional arguments and
// its options. parse() turns argv into Args, typed getters read the values.
// Every mistake of the user (unknown option, missing or bad value) throws
// UsageError, whose message names the culprit; main() prints it with a hint
// to use --help and exits 2.
//
//   Command cmd{"score", "MODEL [FILE ...]", "Score documents.", "", {
//       {"--text", "", "TEXT", "", "score TEXT instead of files"}}, 1, -1};
//   Args args = parse(cmd, argc - 2, argv + 2);
//   std::string text = args.get("--text");
#pragma once

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace simulacra::cli {

// A mistake in the command line (exit status 2).
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The accepted values of a real option: a finite number in an interval.
struct Range {
  double lo = -INFINITY, hi = INFINITY;
  bool lo_open = false, hi_open = false;

  bool contains(double x) const { return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi); }
  // " in [0, 1)", " > 0", or "" for every number.
  std::string text() const {
    if (std::isinf(hi)) return std::isinf(lo) ? "" : fmt::format(" {} {}", lo_open ? ">" : ">=", lo);
    return fmt::format(" in {}{}, {}{}", lo_open ? '(' : '[', lo, hi, hi_open ? ')' : ']');
  }
};

struct Option {
  std::string name;          // long form, "--order"
  std::string short_name;    // "-o", or empty
  std::string metavar;       // value placeholder, "N"; empty for a flag
  std::string default_text;  // shown as "(default: ...)"; empty: nothing shown
  std::string help;          // one line
  bool repeat = false;       // may be given more than once, values collected
  bool greedy = false;       // takes every following argument up to the next option (one or more)
};

struct Command {
  std::string name;          // "train"
  std::string synopsis;      // what follows the options in the usage line: "MODEL [FILE ...]"
  std::string summary;       // one line for the command list
  std::string description;   // a paragraph for --help (may be empty)
  std::vector<Option> options;
  int min_positional = 0;    // positional arguments required
  int max_positional = 0;    // at most (-1: unlimited)
};

// The parsed command line of one subcommand.
class Args {
 public:
  explicit Args(const Command& command) : command_(&command) {}

  std::vector<std::string> positional;

  bool help() const { return help_; }
  // Whether the command has the option `name` at all.
  bool declares(const std::string& name) const {
    for (const Option& o : command_->options)
      if (o.name == name) return true;
    return false;
  }
  bool has(const std::string& name) const { return values_.count(lookup(name).name) > 0; }
  // The (last) value of `name`, or `fallback` when it was not given.
  std::string get(const std::string& name, const std::string& fallback = "") const {
    const auto it = values_.find(lookup(name).name);
    return it == values_.end() ? fallback : it->second.back();
  }
  // Every value of a repeated or greedy option, in order.
  std::vector<std::string> all(const std::string& name) const {
    const auto it = values_.find(lookup(name).name);
    return it == values_.end() ? std::vector<std::string>{} : it->second;
  }

  static constexpr long long kNoLimit = std::numeric_limits<long long>::max();

  // Typed values; UsageError naming the option and the value when it does
  // not parse or lies outside [lo, hi].
  long long integer(const std::string& name, long long fallback, long long lo, long long hi) const {
    if (!has(name)) return fallback;
    const std::string v = get(name);
    errno = 0;
    char* end = nullptr;
    const long long x = std::strtoll(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || errno == ERANGE) bad(name, v, "an integer");
    if (x < lo || x > hi)
      bad(name, v, fmt::format("an integer{}", Range{double(lo), hi == kNoLimit ? INFINITY : double(hi)}.text()));
    return x;
  }
  std::uint64_t seed(const std::string& name, std::uint64_t fallback) const {
    if (!has(name)) return fallback;
    const std::string v = get(name);
    errno = 0;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
    if (v.empty() || v[0] == '-' || *end != '\0' || errno == ERANGE) bad(name, v, "a non-negative 64-bit integer");
    return x;
  }
  double real(const std::string& name, double fallback, const Range& range) const {
    return has(name) ? to_real(name, get(name), range) : fallback;
  }
  static double to_real(const std::string& name, const std::string& v, const Range& range) {
    char* end = nullptr;
    const double x = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(x) || !range.contains(x)) bad(name, v, "a number" + range.text());
    return x;
  }
  // One of `choices`.
  std::string choice(const std::string& name, const std::string& fallback,
                     const std::vector<std::string>& choices) const {
    const std::string v = get(name, fallback);
    for (const auto& c : choices)
      if (v == c) return v;
    bad(name, v, fmt::format("one of: {}", fmt::join(choices, ", ")));
  }

  [[noreturn]] static void bad(const std::string& name, const std::string& value, const std::string& expected) {
    throw UsageError(fmt::format("bad value '{}' for {}: expected {}", value, name, expected));
  }

 private:
  friend Args parse(const Command&, int, char**);
  const Option& lookup(const std::string& name) const {
    for (const Option& o : command_->options)
      if (o.name == name || (!o.short_name.empty() && o.short_name == name)) return o;
    throw std::logic_error("cli: option " + name + " is not declared");  // a bug in this file's callers
  }

  const Command* command_;
  std::map<std::string, std::vector<std::string>> values_;
  bool help_ = false;
};

// Parses the arguments after the subcommand's name. "--name=value" and
// "--name value" both work; "-" is a positional argument (stdin); after
// "--" every argument is positional.
inline Args parse(const Command& command, int argc, char** argv) {
  Args args(command);
  bool options_done = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    const bool is_option = !options_done && arg.size() > 1 && arg[0] == '-';
    if (!is_option) {
      args.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      args.help_ = true;
      continue;
    }
    std::string inline_value;
    bool has_inline = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = arg.substr(eq + 1);
      arg.resize(eq);
      has_inline = true;
    }
    const Option* opt = nullptr;
    for (const Option& o : command.options)
      if (o.name == arg || (!o.short_name.empty() && o.short_name == arg)) opt = &o;
    if (!opt) throw UsageError(fmt::format("unknown option '{}' for '{}'", arg, command.name));
    auto& slot = args.values_[opt->name];
    if (!slot.empty() && !opt->repeat) throw UsageError(fmt::format("option {} given more than once", opt->name));
    if (opt->metavar.empty()) {
      if (has_inline) throw UsageError(fmt::format("option {} takes no value", opt->name));
      slot.push_back("1");
    } else if (has_inline) {
      slot.push_back(inline_value);
    } else if (opt->greedy) {
      while (i + 1 < argc && !(argv[i + 1][0] == '-' && argv[i + 1][1] != '\0')) slot.push_back(argv[++i]);
      if (slot.empty()) throw UsageError(fmt::format("option {} needs at least one {}", opt->name, opt->metavar));
    } else {
      if (i + 1 >= argc) throw UsageError(fmt::format("option {} needs a value {}", opt->name, opt->metavar));
      slot.push_back(argv[++i]);
    }
  }
  if (args.help_) return args;
  const int n = static_cast<int>(args.positional.size());
  if (n < command.min_positional)
    throw UsageError(fmt::format("'{}' needs {}", command.name, command.synopsis));
  if (command.max_positional >= 0 && n > command.max_positional)
    throw UsageError(fmt::format("unexpected argument '{}' for '{}'",
                                 args.positional[std::size_t(command.max_positional)], command.name));
  return args;
}

// The --help text of a command: usage line, description, every option with
// its default.
inline void print_help(const Command& command) {
  fmt::print("usage: simulacra {} [options]{}{}\n\n{}\n", command.name, command.synopsis.empty() ? "" : " ",
             command.synopsis, command.summary);
  if (!command.description.empty()) fmt::print("\n{}\n", command.description);
  fmt::print("\noptions:\n");
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Option& o : command.options) {
    std::string left = o.short_name.empty() ? o.name : o.short_name + ", " + o.name;
    if (!o.metavar.empty()) left += " " + o.metavar + (o.greedy ? "..." : "");
    std::string right = o.help;
    if (o.repeat) right += " (repeatable)";
    if (!o.default_text.empty()) right += fmt::format(" (default: {})", o.default_text);
    rows.emplace_back(std::move(left), std::move(right));
  }
  rows.emplace_back("-h, --help", "print this help and exit");
  std::size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.first.size());
  for (const auto& r : rows) fmt::print("  {:<{}}  {}\n", r.first, width, r.second);
}

}  // namespace simulacra::cli
