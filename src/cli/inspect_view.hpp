// src/cli/inspect_view.hpp — tables for looking under the masks: the raw view
// (inspect), the superposition vote (vote), mask swaps (switch) and the
// Viterbi spans of a text (trace --spans).
//
// Every table is a Table (table.hpp): persona columns take the persona's
// colour, the winning cell is bold, and in the plain view winners carry a
// '*' so that nothing depends on colour.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "table.hpp"
#include "trace_view.hpp"
#include "simulacra/simulacra.hpp"

namespace simulacra::cli {

// One token for a cell: 'x' quoted, the boundary as <b>.
inline std::string quoted_token(Token t) { return t == kBoundary ? token_name(t) : "'" + token_name(t) + "'"; }

inline std::string percent(double p) { return fmt::format("{:.1f}%", 100.0 * p); }

// The raw view as one table: a row per rank, a column per persona (header:
// name and weight; the heaviest persona's header bold) and the mixture.
inline void print_raw_view(const RawView& view, const std::vector<std::string>& names, bool color) {
  Eigen::Index top = 0;
  view.weights.maxCoeff(&top);
  Table t;
  t.column("rank");
  for (std::size_t k = 0; k < names.size(); ++k) {
    fmt::text_style style = persona_style(int(k));
    if (Eigen::Index(k) == top) style |= fmt::emphasis::bold;
    t.column(fmt::format("{} {}{}", names[k], percent(view.weights[Eigen::Index(k)]),
                         Eigen::Index(k) == top ? "*" : ""),
             Table::Align::kLeft, style);
  }
  t.column("mixture", Table::Align::kLeft, fmt::emphasis::bold);
  const auto cell = [](const std::vector<TokenProb>& list, std::size_t r) -> std::string {
    if (r >= list.size()) return "";
    return fmt::format("{} {}", quoted_token(list[r].token), percent(list[r].prob));
  };
  for (std::size_t r = 0; r < view.mixture.size(); ++r) {
    std::vector<Cell> row = {fmt::format("{}", r + 1)};
    for (std::size_t k = 0; k < names.size(); ++k) row.emplace_back(cell(view.personas[k], r));
    row.emplace_back(cell(view.mixture, r));
    t.row(std::move(row));
  }
  print_table(t, color);
}

// The vote table (format_vote_table, report.hpp) and the pile's choice in each of its three readings.
inline void print_vote(const Vote& vote, const std::vector<std::string>& options,
                       const std::vector<std::string>& names, bool color) {
  fmt::print("{}", format_vote_table(vote, options, names, color));
  const auto choice = [&](const Eigen::VectorXd& reading) {
    Eigen::Index m = 0;
    reading.maxCoeff(&m);
    return fmt::format("\"{}\" ({})", shown_text(options[std::size_t(m)]), percent(reading[m]));
  };
  fmt::print("* marks each column's choice; the mixture chooses {} as a linear pool,\n"
             "{} per byte, {} by the plurality of the masks' own answers\n",
             choice(vote.mixture_choice), choice(vote.per_byte_choice), choice(vote.plurality));
}

// "never" or the token count.
inline std::string tokens_or_never(long t) { return t < 0 ? "never" : fmt::format("{}", t); }

// Both directions of a swap: a summary row each, then the new mask's weight
// every `every` tokens.
inline void print_switch(const std::pair<SwitchEvidence, SwitchEvidence>& both, const std::string& from,
                         const std::string& to, int from_k, int to_k, std::size_t every, bool color) {
  struct Direction {
    std::string label, swap, rises;
    int rises_k;
    const SwitchEvidence* e;
  };
  const std::vector<Direction> dirs = {{"A->B", from + " -> " + to, to, to_k, &both.first},
                                       {"B->A", to + " -> " + from, from, from_k, &both.second}};
  Table summary;
  summary.column("swap", Table::Align::kLeft);
  summary.column("", Table::Align::kLeft);
  summary.column("tokens");
  summary.column("weight at swap");
  summary.column("to 50%");
  summary.column("to 90%");
  summary.column("final weight");
  for (const Direction& d : dirs) {
    const auto& w = d.e->weight_b;
    summary.row({Cell(d.label, fmt::emphasis::bold), d.swap, fmt::format("{}", w.size()),
                 w.empty() ? "" : percent(w.front()), tokens_or_never(d.e->tokens_to_half),
                 tokens_or_never(d.e->tokens_to_90), w.empty() ? "" : percent(w.back())});
  }
  fmt::print("tokens of the new text until the new mask's weight passes 50% and 90%:\n");
  print_table(summary, color);

  std::size_t longest = 0;
  for (const Direction& d : dirs) longest = std::max(longest, d.e->weight_b.size());
  fmt::print("\nweight of the new mask before token t of the new text, every {} tokens:\n", every);
  Table t;
  t.column("t", Table::Align::kLeft);
  const std::vector<std::size_t> at = every_rows(longest, every);
  for (std::size_t pos : at) t.column(fmt::format("{}", pos));
  for (const Direction& d : dirs) {
    std::vector<Cell> row = {Cell(d.label + " " + d.rises, persona_style(d.rises_k))};
    for (std::size_t pos : at)
      row.emplace_back(pos < d.e->weight_b.size() ? fmt::format("{:.0f}%", 100.0 * d.e->weight_b[pos]) : "");
    t.row(std::move(row));
  }
  print_table(t, color);
}

// The Viterbi attribution as a list of spans: token range, persona and the
// span's first bytes.
inline void print_spans(const Attribution& a, const std::vector<Token>& tokens,
                        const std::vector<std::string>& names, bool color, std::size_t preview = 24) {
  Table t;
  t.column("begin");
  t.column("end");
  t.column("tokens");
  t.column("persona", Table::Align::kLeft);
  t.column("starts with", Table::Align::kLeft);
  for (const Span& s : a.spans) {
    std::string start;
    for (std::size_t i = s.begin; i < s.end && i < s.begin + preview; ++i) {
      if (tokens[i] == kBoundary) {
        start += "<b>";
      } else {
        start.push_back(char(tokens[i]));
      }
    }
    std::string text = shown_text(start);
    if (s.end - s.begin > preview) text += "...";
    t.row({fmt::format("{}", s.begin), fmt::format("{}", s.end), fmt::format("{}", s.end - s.begin),
           Cell(names[std::size_t(s.persona)], persona_style(s.persona)), "\"" + text + "\""});
  }
  fmt::print("\nViterbi attribution ({} span{}, ln p(path, text) = {:.2f}):\n", a.spans.size(),
             a.spans.size() == 1 ? "" : "s", a.log_joint);
  print_table(t, color);
}

}  // namespace simulacra::cli
