// src/cli/table.hpp — colours and aligned tables for the command-line tool.
//
// Colours are ANSI terminal colours (fmt/color.h), one per persona, used only
// when wanted (use_color): stdout a terminal and NO_COLOR unset, unless
// --color always|never says otherwise. A Table lines up columns by display
// width (UTF-8 aware), so colour escapes never disturb the alignment.
//
//   Table t;
//   t.column("persona", Table::Align::kLeft);
//   t.column("bits/byte");
//   t.row({"pirate", "2.113"});
//   t.print(color);
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>
#include <unistd.h>

namespace simulacra::cli {

// --color mode ("always", "never", "auto") to a decision for stdout.
inline bool use_color(const std::string& mode) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  const char* no_color = std::getenv("NO_COLOR");
  return isatty(fileno(stdout)) && !(no_color && *no_color);
}

// The colour of persona k: twelve distinct terminal colours, then the same
// colours underlined.
inline fmt::text_style persona_style(int k) {
  static constexpr fmt::terminal_color kPalette[] = {
      fmt::terminal_color::bright_blue,    fmt::terminal_color::bright_red,   fmt::terminal_color::bright_green,
      fmt::terminal_color::bright_magenta, fmt::terminal_color::bright_yellow, fmt::terminal_color::bright_cyan,
      fmt::terminal_color::blue,           fmt::terminal_color::red,          fmt::terminal_color::green,
      fmt::terminal_color::magenta,        fmt::terminal_color::yellow,       fmt::terminal_color::cyan};
  constexpr int n = int(sizeof kPalette / sizeof kPalette[0]);
  fmt::text_style style = fmt::fg(kPalette[k % n]);
  if (k >= n) style |= fmt::emphasis::underline;
  return style;
}

// `text` in `style` when colouring, else as is.
inline std::string paint(bool color, const fmt::text_style& style, std::string_view text) {
  const bool styled = style.has_foreground() || style.has_background() || style.has_emphasis();
  return color && styled && !text.empty() ? fmt::format(style, "{}", text) : std::string(text);
}

// Columns a terminal gives `text`: one per UTF-8 character.
inline std::size_t display_width(std::string_view text) {
  return std::size_t(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

struct Cell {
  Cell(std::string t, fmt::text_style s = {}) : text(std::move(t)), style(s) {}
  Cell(const char* t, fmt::text_style s = {}) : text(t), style(s) {}
  std::string text;
  fmt::text_style style;
};

class Table {
 public:
  enum class Align { kLeft, kRight };

  void column(std::string header, Align align = Align::kRight, fmt::text_style style = {}) {
    columns_.push_back({Cell(std::move(header), style), align});
  }
  // One cell per column.
  void row(std::vector<Cell> cells) { lines_.push_back({std::move(cells), {}}); }
  // A line across the table, "---- label ----".
  void rule(std::string label) { lines_.push_back({{}, std::move(label)}); }
  bool empty() const { return lines_.empty(); }

  void print(bool color, std::size_t indent = 2) const {
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = display_width(columns_[c].header.text);
    for (const Line& line : lines_)
      for (std::size_t c = 0; c < line.cells.size() && c < width.size(); ++c)
        width[c] = std::max(width[c], display_width(line.cells[c].text));
    std::size_t total = 0;
    for (std::size_t w : width) total += w + 2;
    std::vector<Cell> header;
    for (const Column& c : columns_) header.push_back(c.header);
    print_cells(header, width, color, indent);
    for (const Line& line : lines_) {
      if (line.cells.empty()) {
        const std::string label = "---- " + line.rule + " ";
        const std::size_t pad = total > display_width(label) + 2 ? total - 2 - display_width(label) : 4;
        fmt::print("{:{}}{}{}\n", "", indent, label, std::string(pad, '-'));
      } else {
        print_cells(line.cells, width, color, indent);
      }
    }
  }

 private:
  struct Column {
    Cell header;
    Align align;
  };
  struct Line {
    std::vector<Cell> cells;  // empty for a rule
    std::string rule;
  };

  void print_cells(const std::vector<Cell>& cells, const std::vector<std::size_t>& width, bool color,
                   std::size_t indent) const {
    std::string out(indent, ' ');
    for (std::size_t c = 0; c < cells.size() && c < width.size(); ++c) {
      const std::string pad(width[c] - display_width(cells[c].text), ' ');
      const std::string text = paint(color, cells[c].style, cells[c].text);
      const bool last = c + 1 == cells.size();
      if (columns_[c].align == Align::kRight)
        out += pad + text;
      else
        out += last ? text : text + pad;
      if (!last) out += "  ";
    }
    out.erase(out.find_last_not_of(' ') + 1);
    fmt::print("{}\n", out);
  }

  std::vector<Column> columns_;
  std::vector<Line> lines_;
};

}  // namespace simulacra::cli
