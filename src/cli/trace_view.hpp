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

// What the terminal shows for one character of the text, and its owner.
struct Glyph {
  std::string shown;  // the character, or its escape; "\n" for a line break
  int owner = 0;
};

// `text` cut into glyphs: a UTF-8 character is one glyph, owned by the owner
// of its last byte; control bytes other than newline, and invalid UTF-8, are
// escaped as token_name does.
inline std::vector<Glyph> glyphs_of(const std::string& text, const std::vector<int>& owner) {
  std::vector<Glyph> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t len = byte < 0x80 ? 1 : byte >= 0xC2 && byte <= 0xDF ? 2 : byte >= 0xE0 && byte <= 0xEF ? 3
                                      : byte >= 0xF0 && byte <= 0xF4 ? 4 : 0;
    for (std::size_t j = 1; j < len; ++j)
      if (i + j >= text.size() || (static_cast<unsigned char>(text[i + j]) & 0xC0) != 0x80) len = 0;
    const bool escaped = len == 0 || (byte < 32 && byte != '\n') || byte == 127;
    if (escaped) len = 1;
    out.push_back({escaped ? token_name(byte) : text.substr(i, len), owner[i + len - 1]});
    i += len;
  }
  return out;
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

// The weights table of `trace` over `tokens` at `rows` (ascending): position,
// token (quoted, escaped), each persona's weight before the token (%, the dominant one in its
// colour), the entropy of the weights (bits) and the mixture's ln p(token).
// marks: (position, label) rules drawn before the first row at or after it.
inline void print_weights_table(const Trace& trace, const std::vector<Token>& tokens,
                                const std::vector<std::string>& names, const std::vector<std::size_t>& rows,
                                bool color, const std::vector<std::pair<std::size_t, std::string>>& marks = {}) {
  Table table;
  table.column("pos");
  table.column("token", Table::Align::kLeft);
  for (std::size_t k = 0; k < names.size(); ++k) table.column(names[k], Table::Align::kRight, persona_style(int(k)));
  table.column("H bits");
  table.column("ln p");
  std::size_t next_mark = 0;
  for (std::size_t t : rows) {
    for (; next_mark < marks.size() && marks[next_mark].first <= t; ++next_mark) table.rule(marks[next_mark].second);
    const std::string name = token_name(tokens[t]);
    std::vector<Cell> cells = {fmt::format("{}", t), tokens[t] == kBoundary ? name : "'" + name + "'"};
    for (std::size_t k = 0; k < names.size(); ++k) {
      const double w = std::exp(trace.log_weights(Eigen::Index(t), Eigen::Index(k)));
      const bool top = trace.dominant[t] == int(k);
      cells.emplace_back(fmt::format("{:.1f}%", 100.0 * w),
                         top ? persona_style(int(k)) | fmt::emphasis::bold : fmt::text_style{});
    }
    cells.emplace_back(fmt::format("{:.2f}", trace.entropy[Eigen::Index(t)] / std::log(2.0)));
    cells.emplace_back(fmt::format("{:.2f}", trace.logprobs[Eigen::Index(t)]));
    table.row(std::move(cells));
  }
  table.print(color);
}

// owner[i] for print_owned_text: the dominant persona after reading byte i.
inline std::vector<int> owners_after(const Trace& trace, std::size_t bytes) {
  std::vector<int> owner(bytes);
  for (std::size_t i = 0; i < bytes; ++i) owner[i] = trace.dominant[i + 1];
  return owner;
}

}  // namespace simulacra::cli
