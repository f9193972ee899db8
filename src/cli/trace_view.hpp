// src/cli/trace_view.hpp — showing a Trace: the text coloured by mask, and
// the weights table.
//
// The text is traced as one document (its bytes, then the end boundary), so
// a text of n bytes has n + 1 trace rows; row t holds the weights before
// token t. Byte i belongs to the persona that dominates after reading it
// (row i + 1), so a mask swap shows where the text makes it: in colour, or,
// in the plain view, as a line of persona keys under each line of text.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "table.hpp"
#include "simulacra/simulacra.hpp"

namespace simulacra::cli {

// The key of persona k in the plain (uncoloured) view: 1-9, then A-Z, then '*'.
inline char persona_key(int k) {
  return k < 9 ? char('1' + k) : k < 35 ? char('A' + k - 9) : '*';
}

// The legend: each persona's name in its colour, or its key in the plain view.
inline void print_legend(const std::vector<std::string>& names, bool color) {
  std::string legend = color ? "colours:" : "key (the line under the text shows who dominates after each byte):";
  for (std::size_t k = 0; k < names.size(); ++k)
    legend += color ? "  " + paint(true, persona_style(int(k)), "■ " + names[k])
                    : fmt::format("  {} {}", persona_key(int(k)), names[k]);
  fmt::print("{}\n", legend);
}

// Prints `text` with byte i attributed to persona owner[i]. In colour, each
// character takes its owner's colour; in the plain view, the text is wrapped
// at `width` columns (at a space when there is one) and each line has a line
// of persona keys under it.
inline void print_owned_text(const std::string& text, const std::vector<int>& owner, bool color,
                             std::size_t width = 80) {
  const std::vector<Glyph> glyphs = glyphs_of(text, owner);
  if (color) {
    std::string out;
    for (std::size_t i = 0, j = 0; i < glyphs.size(); i = j) {  // runs of one owner; line breaks stay uncoloured
      std::string run;
      for (j = i; j < glyphs.size() && glyphs[j].owner == glyphs[i].owner && glyphs[j].shown != "\n"; ++j)
        run += glyphs[j].shown;
      out += paint(true, persona_style(glyphs[i].owner), run);
      if (j == i) out += glyphs[j++].shown;
    }
    fmt::print("{}\n", out);
    return;
  }
  std::vector<std::vector<Glyph>> lines(1);
  std::size_t cols = 0;  // display width of lines.back()
  for (const Glyph& g : glyphs) {
    if (g.shown == "\n") {
      lines.emplace_back();
      cols = 0;
      continue;
    }
    const std::size_t w = display_width(g.shown);
    if (cols + w > width && !lines.back().empty()) {  // wrap after the line's last space, else here
      std::vector<Glyph>& line = lines.back();
      auto space = std::find_if(line.rbegin(), line.rend(), [](const Glyph& x) { return x.shown == " "; });
      const auto cut = space == line.rend() ? line.end() : space.base();
      std::vector<Glyph> rest(cut, line.end());
      line.erase(cut, line.end());
      cols = 0;
      for (const Glyph& r : rest) cols += display_width(r.shown);
      lines.push_back(std::move(rest));
    }
    lines.back().push_back(g);
    cols += w;
  }
  for (const auto& line : lines) {
    std::string shown, keys;
    for (const Glyph& g : line) {
      shown += g.shown;
      keys.append(display_width(g.shown), persona_key(g.owner));
    }
    if (line.empty())
      fmt::print("\n");
    else
      fmt::print("{}\n{}\n", shown, keys);
  }
}

// Rows 0, every, 2 * every, ... and the last one.
inline std::vector<std::size_t> every_rows(std::size_t rows, std::size_t every) {
  std::vector<std::size_t> out;
  for (std::size_t t = 0; t < rows; t += every) out.push_back(t);
  if (rows > 0 && out.back() != rows - 1) out.push_back(rows - 1);
  return out;
}

// The weights table of `trace` over `tokens` at `rows` (ascending), as
// format_trace_table makes it (report.hpp). marks: (position, label) rules
// drawn before the first row at or after it.
inline void print_weights_table(const Trace& trace, const std::vector<Token>& tokens,
                                const std::vector<std::string>& names, const std::vector<std::size_t>& rows,
                                bool color, const std::vector<std::pair<std::size_t, std::string>>& marks = {}) {
  TraceTableOptions options;
  options.rows = rows;
  options.marks = marks;
  options.color = color;
  fmt::print("{}", format_trace_table(trace, tokens, names, options));
}

// owner[i] for print_owned_text: the dominant persona after reading byte i.
inline std::vector<int> owners_after(const Trace& trace, std::size_t bytes) {
  std::vector<int> owner(bytes);
  for (std::size_t i = 0; i < bytes; ++i) owner[i] = trace.dominant[i + 1];
  return owner;
}

}  // namespace simulacra::cli
