// simulacra/report.cpp — text tables of traces and votes.
#include "simulacra/report.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "simulacra/error.hpp"

namespace simulacra {

fmt::text_style persona_style(int k) {
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

std::string paint(bool color, const fmt::text_style& style, std::string_view text) {
  const bool styled = style.has_foreground() || style.has_background() || style.has_emphasis();
  return color && styled && !text.empty() ? fmt::format(style, "{}", text) : std::string(text);
}

std::size_t display_width(std::string_view text) {
  return std::size_t(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::vector<Glyph> glyphs_of(std::string_view text, const std::vector<int>& owner) {
  SIMULACRA_CHECK(owner.size() == text.size(), InvalidArgument, "glyphs_of: {} owners for {} bytes", owner.size(),
                  text.size());
  std::vector<Glyph> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    std::size_t len = byte < 0x80                   ? 1
                      : byte >= 0xC2 && byte <= 0xDF ? 2
                      : byte >= 0xE0 && byte <= 0xEF ? 3
                      : byte >= 0xF0 && byte <= 0xF4 ? 4
                                                     : 0;
    for (std::size_t j = 1; j < len; ++j)
      if (i + j >= text.size() || (static_cast<unsigned char>(text[i + j]) & 0xC0) != 0x80) len = 0;
    const bool escaped = len == 0 || (byte < 32 && byte != '\n') || byte == 127;
    if (escaped) len = 1;
    out.push_back({escaped ? token_name(byte) : std::string(text.substr(i, len)), owner[i + len - 1]});
    i += len;
  }
  return out;
}

std::string shown_text(std::string_view text) {
  std::string out;
  for (const Glyph& g : glyphs_of(text, std::vector<int>(text.size(), 0))) out += g.shown == "\n" ? "\\n" : g.shown;
  return out;
}

// ------------------------------------------------------------------ TextTable

void TextTable::column(std::string header, Align align, fmt::text_style style) {
  columns_.push_back({TextCell(std::move(header), style), align});
}

void TextTable::row(std::vector<TextCell> cells) { lines_.push_back({std::move(cells), {}}); }

void TextTable::rule(std::string label) { lines_.push_back({{}, std::move(label)}); }

std::string TextTable::render(bool color, std::size_t indent) const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = display_width(columns_[c].header.text);
  for (const Line& line : lines_)
    for (std::size_t c = 0; c < line.cells.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], display_width(line.cells[c].text));
  std::size_t total = 0;
  for (std::size_t w : width) total += w + 2;
  std::vector<TextCell> header;
  for (const Column& c : columns_) header.push_back(c.header);
  std::string out = render_cells(header, width, color, indent);
  for (const Line& line : lines_) {
    if (!line.cells.empty()) {
      out += render_cells(line.cells, width, color, indent);
      continue;
    }
    const std::string label = "---- " + line.rule + " ";
    const std::size_t pad = total > display_width(label) + 2 ? total - 2 - display_width(label) : 4;
    out += std::string(indent, ' ') + label + std::string(pad, '-') + "\n";
  }
  return out;
}

std::string TextTable::render_cells(const std::vector<TextCell>& cells, const std::vector<std::size_t>& width,
                                    bool color, std::size_t indent) const {
  std::string out(indent, ' ');
  const std::size_t n = std::min(cells.size(), width.size());
  for (std::size_t c = 0; c < n; ++c) {
    const std::string pad(width[c] - display_width(cells[c].text), ' ');
    const std::string text = paint(color, cells[c].style, cells[c].text);
    const bool last = c + 1 == n;
    if (columns_[c].align == Align::kRight)
      out += pad + text;
    else
      out += last ? text : text + pad;
    if (!last) out += "  ";
  }
  out.erase(out.find_last_not_of(' ') + 1);
  return out + "\n";
}

// ------------------------------------------------------------------ trace and vote

namespace {

std::string percent(double p) { return fmt::format("{:.1f}%", 100.0 * p); }

}  // namespace

std::string format_trace_table(const Trace& trace, const std::vector<Token>& tokens,
                               const std::vector<std::string>& names, const TraceTableOptions& options) {
  const std::size_t T = trace.size();
  SIMULACRA_CHECK(tokens.size() == T, InvalidArgument, "format_trace_table: {} tokens for {} trace rows",
                  tokens.size(), T);
  SIMULACRA_CHECK(std::size_t(trace.log_weights.cols()) == names.size() && std::size_t(trace.log_weights.rows()) == T &&
                      std::size_t(trace.entropy.size()) == T && trace.dominant.size() == T,
                  InvalidArgument, "format_trace_table: {} names for a trace of {} x {} weights", names.size(),
                  trace.log_weights.rows(), trace.log_weights.cols());
  std::vector<std::size_t> rows = options.rows;
  if (rows.empty())
    for (std::size_t t = 0; t < T; ++t) rows.push_back(t);
  for (std::size_t i = 0; i < rows.size(); ++i)
    SIMULACRA_CHECK(rows[i] < T && (i == 0 || rows[i] > rows[i - 1]), InvalidArgument,
                    "format_trace_table: row {} is out of order or outside 0..{}", rows[i], T == 0 ? 0 : T - 1);
  TextTable table;
  table.column("pos");
  table.column("token", TextTable::Align::kLeft);
  for (std::size_t k = 0; k < names.size(); ++k) table.column(names[k], TextTable::Align::kRight, persona_style(int(k)));
  table.column("H bits");
  table.column("ln p");
  std::size_t next_mark = 0;
  for (std::size_t t : rows) {
    for (; next_mark < options.marks.size() && options.marks[next_mark].first <= t; ++next_mark)
      table.rule(options.marks[next_mark].second);
    const std::string name = token_name(tokens[t]);
    std::vector<TextCell> cells = {fmt::format("{}", t), tokens[t] == kBoundary ? name : "'" + name + "'"};
    for (std::size_t k = 0; k < names.size(); ++k) {
      const bool top = trace.dominant[t] == int(k);
      cells.emplace_back(percent(std::exp(trace.log_weights(Eigen::Index(t), Eigen::Index(k)))),
                         top ? persona_style(int(k)) | fmt::emphasis::bold : fmt::text_style{});
    }
    cells.emplace_back(fmt::format("{:.2f}", trace.entropy[Eigen::Index(t)] / std::log(2.0)));
    cells.emplace_back(fmt::format("{:.2f}", trace.logprobs[Eigen::Index(t)]));
    table.row(std::move(cells));
  }
  return table.render(options.color, options.indent);
}

std::string format_vote_table(const Vote& vote, const std::vector<std::string>& options,
                              const std::vector<std::string>& names, bool color, std::size_t indent) {
  const auto K = Eigen::Index(names.size());
  const auto M = Eigen::Index(options.size());
  SIMULACRA_CHECK(vote.persona_choice.rows() == K && vote.persona_choice.cols() == M && vote.mixture_choice.size() == M &&
                      vote.mixture_logprobs.size() == M && vote.prompt_weights.size() == K,
                  InvalidArgument, "format_vote_table: {} names and {} options for a vote of {} x {} choices",
                  names.size(), options.size(), vote.persona_choice.rows(), vote.persona_choice.cols());
  const bool readings = vote.per_byte_choice.size() > 0 || vote.plurality.size() > 0;
  SIMULACRA_CHECK(!readings || (vote.per_byte_choice.size() == M && vote.plurality.size() == M), InvalidArgument,
                  "format_vote_table: {} per-byte and {} plurality entries for {} options",
                  vote.per_byte_choice.size(), vote.plurality.size(), M);
  std::vector<Eigen::Index> winner(std::size_t(K + 3), 0);
  for (Eigen::Index k = 0; k < K && M > 0; ++k) vote.persona_choice.row(k).maxCoeff(&winner[std::size_t(k)]);
  if (M > 0) vote.mixture_choice.maxCoeff(&winner[std::size_t(K)]);
  if (M > 0 && readings) {
    vote.per_byte_choice.maxCoeff(&winner[std::size_t(K + 1)]);
    vote.plurality.maxCoeff(&winner[std::size_t(K + 2)]);
  }
  TextTable t;
  t.column("option", TextTable::Align::kLeft);
  for (Eigen::Index k = 0; k < K; ++k) t.column(names[std::size_t(k)], TextTable::Align::kRight, persona_style(int(k)));
  t.column("mixture", TextTable::Align::kRight, fmt::emphasis::bold);
  if (readings) {
    t.column("per byte");
    t.column("plurality");
  }
  t.column("mixture ln p");
  const auto mark = [](double p, bool win, fmt::text_style style) {
    return TextCell(percent(p) + (win ? "*" : " "), win ? style | fmt::emphasis::bold : fmt::text_style{});
  };
  for (Eigen::Index m = 0; m < M; ++m) {
    std::vector<TextCell> row = {"\"" + shown_text(options[std::size_t(m)]) + "\""};
    for (Eigen::Index k = 0; k < K; ++k)
      row.push_back(mark(vote.persona_choice(k, m), winner[std::size_t(k)] == m, persona_style(int(k))));
    row.push_back(mark(vote.mixture_choice[m], winner[std::size_t(K)] == m, fmt::text_style{}));
    if (readings) {
      row.push_back(mark(vote.per_byte_choice[m], winner[std::size_t(K + 1)] == m, fmt::text_style{}));
      row.push_back(mark(vote.plurality[m], winner[std::size_t(K + 2)] == m, fmt::text_style{}));
    }
    row.emplace_back(fmt::format("{:.2f}", vote.mixture_logprobs[m]));
    t.row(std::move(row));
  }
  t.rule("weights after the prompt");
  std::vector<TextCell> weights = {"weight"};
  for (Eigen::Index k = 0; k < K; ++k) weights.emplace_back(percent(vote.prompt_weights[k]) + " ");
  t.row(std::move(weights));
  return t.render(color, indent);
}

}  // namespace simulacra
