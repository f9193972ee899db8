// src/cli/table.hpp — colour decisions and tables for the command-line tool.
//
// Tables, persona colours and escaping are the library's (simulacra/report.hpp),
// shared with Python's str()/repr(); this file decides whether stdout gets
// colour (use_color: stdout a terminal and NO_COLOR unset, unless --color
// always|never says otherwise) and prints tables.
//
//   Table t;
//   t.column("persona", Table::Align::kLeft);
//   t.column("bits/byte");
//   t.row({"pirate", "2.113"});
//   print_table(t, color);
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "simulacra/report.hpp"

namespace simulacra::cli {

using Table = TextTable;
using Cell = TextCell;

// --color mode ("always", "never", "auto") to a decision for stdout.
inline bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(fileno(stdout)) && !(no_color && *no_color);
}

inline void print_table(const Table& table, bool color) { fmt::print("{}", table.render(color)); }

}  // namespace simulacra::cli
