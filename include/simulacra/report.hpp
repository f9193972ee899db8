// simulacra/report.hpp — the pile's results as plain-text tables: a trace's
// weights and a vote, the same for the command-line tool and for Python's
// str()/repr(), optionally in ANSI terminal colour.
//
// A TextTable lines up columns by display width (UTF-8 aware, so colour
// escapes and multi-byte characters never disturb the alignment). Persona
// k's colour is persona_style(k): twelve terminal colours, then the same
// underlined. Without colour the output is plain text (no escape at all).
//
//   simulacra::TraceTableOptions opt;
//   opt.rows = {0, 10, 20};                                  // empty: every row
//   std::string table = simulacra::format_trace_table(trace, tokens, mix.names(), opt);
//   std::string vote = simulacra::format_vote_table(mix_vote, options, mix.names());
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/color.h>

#include "simulacra/vote.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// ------------------------------------------------------------------ text and colour

// The terminal colour of persona k (k >= 0).
fmt::text_style persona_style(int k);

// `text` in `style` when `color` is true and the style sets something, else as is.
std::string paint(bool color, const fmt::text_style& style, std::string_view text);

// Columns a terminal gives `text`: one per UTF-8 character (bytes that are
// not continuation bytes).
std::size_t display_width(std::string_view text);

// One character of a text as shown, and the persona that owns it.
struct Glyph {
  std::string shown;  // the character, or its escape (token_name's); "\n" for a line break
  int owner = 0;
};

// `text` cut into glyphs: a valid UTF-8 character is one glyph owned by the
// owner of its last byte; control bytes other than newline, DEL and invalid
// UTF-8 are escaped one byte each as token_name does. owner.size() must be
// text.size() (InvalidArgument otherwise).
std::vector<Glyph> glyphs_of(std::string_view text, const std::vector<int>& owner);

// `text` for one table cell: UTF-8 kept, control bytes and invalid UTF-8
// escaped as token_name does, a newline as "\n".
std::string shown_text(std::string_view text);

// ------------------------------------------------------------------ tables

// A cell: its text and its style (used only when rendering in colour).
struct TextCell {
  TextCell(std::string t, fmt::text_style s = {}) : text(std::move(t)), style(s) {}
  TextCell(const char* t, fmt::text_style s = {}) : text(t), style(s) {}
  std::string text;
  fmt::text_style style;
};

// Columns with a header each, rows of cells, and rules ("---- label ----")
// between rows. Rendered as lines of `indent` spaces, then the cells two
// spaces apart, trailing spaces removed; every line ends with '\n'.
class TextTable {
 public:
  enum class Align { kLeft, kRight };

  void column(std::string header, Align align = Align::kRight, fmt::text_style style = {});
  // One cell per column (fewer leave the last columns empty; more are ignored).
  void row(std::vector<TextCell> cells);
  // A line across the table, "---- label ----...".
  void rule(std::string label);
  bool empty() const { return lines_.empty(); }
  std::string render(bool color, std::size_t indent = 2) const;

 private:
  struct Column {
    TextCell header;
    Align align;
  };
  struct Line {
    std::vector<TextCell> cells;  // empty for a rule
    std::string rule;
  };
  std::string render_cells(const std::vector<TextCell>& cells, const std::vector<std::size_t>& width, bool color,
                           std::size_t indent) const;

  std::vector<Column> columns_;
  std::vector<Line> lines_;
};

// ------------------------------------------------------------------ the trace and vote tables

struct TraceTableOptions {
  std::vector<std::size_t> rows;                           // rows to show, ascending; empty: every row
  std::vector<std::pair<std::size_t, std::string>> marks;  // (position, label): a rule before the first row at or after it
  bool color = false;                                      // ANSI colour (the dominant weight bold in its persona's colour)
  std::size_t indent = 2;                                  // spaces before every line
};

// The weights table of `trace` over `tokens` (the traced tokens, one per
// trace row): a header, then per shown row t its position, the token (quoted
// and escaped; the boundary as <b>), each persona's weight before the token
// in percent, the entropy of the weights in bits and the mixture's natural-log
// probability of the token. InvalidArgument if tokens, names or a row do not
// fit the trace.
std::string format_trace_table(const Trace& trace, const std::vector<Token>& tokens,
                               const std::vector<std::string>& names, const TraceTableOptions& options = {});

// The vote table: a row per option (double-quoted, escaped), a column per
// persona and one for the mixture (the option probabilities normalised over
// the options: the linear pool), then "per byte" (per_byte_choice) and
// "plurality" (plurality) when the vote holds them (a Vote from vote()
// always does; both empty leaves the two columns out), each column's choice
// marked '*' (a persona's '*' is its own answer, the one the plurality
// counts), the mixture's natural-log probability of each option, then a rule
// and the weights after the prompt. InvalidArgument if options or names do
// not fit the vote.
std::string format_vote_table(const Vote& vote, const std::vector<std::string>& options,
                              const std::vector<std::string>& names, bool color = false, std::size_t indent = 2);

}  // namespace simulacra
