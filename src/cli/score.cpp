// src/cli/score.cpp — `simulacra score`: bits per byte of documents under the mixture and each persona, and their author.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "input.hpp"
#include "table.hpp"

namespace simulacra::cli {

const Command kScore{"score", "MODEL [FILE ...]",
                     "Bits per byte of each document under the mixture and under each persona, and its author.",
                     "Each FILE is one document (\"-\" reads stdin; no FILE and no --text reads stdin).\n"
                     "The attributed persona is the most probable author of the whole document, with its\n"
                     "posterior probability. With --lines each line (up to a '\\n', which is not scored) is a\n"
                     "document of its own, as KenLM's query reads its input: one result per line, an empty\n"
                     "line with no figures. --json prints one JSON document (with --lines: one JSON object per\n"
                     "line, JSON Lines); the keys are listed in docs/cli.md.",
                     {kText,
                      {"--lines", "", "", "", "score each line of the input as a document of its own"},
                      kJson, kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor, kMaxInput},
                     1, -1};

namespace {

// The figures of one scored document (empty: none, for an empty line).
struct Scored {
  std::string label;
  long long line = 0;  // 1-based with --lines, 0 otherwise
  std::size_t bytes = 0;
  double mixture = NAN;
  Eigen::VectorXd per;          // (K) bits per byte under each persona
  Eigen::VectorXd attribution;  // (K) posterior over authors
  Eigen::Index best = -1;
};

Scored score_one(const Mixture& mix, const Steering& steering, std::string label, long long line,
                 const std::string& text) {
  Scored s;
  s.label = std::move(label);
  s.line = line;
  s.bytes = text.size();
  if (text.empty()) return s;
  // Polls between the long calls too, so Ctrl-C stops a long document's scoring.
  poll_interrupt();
  s.mixture = mix.bits_per_byte(text, steering);
  poll_interrupt();
  s.per = mix.persona_bits_per_byte(text);
  poll_interrupt();
  s.attribution = mix.attribute(text).array().exp();
  s.attribution.maxCoeff(&s.best);
  return s;
}

json::Value to_json(const Scored& s, const std::vector<std::string>& names) {
  json::Object o{{"document", s.label}};
  if (s.line > 0) o.emplace_back("line", s.line);
  o.emplace_back("bytes", (long long)s.bytes);
  const bool scored = s.best >= 0;
  o.emplace_back("bits_per_byte", scored ? json_number(s.mixture) : json::Value());
  o.emplace_back("persona_bits_per_byte", scored ? json_by_persona(names, s.per) : json::Value());
  o.emplace_back("attributed", scored ? json::Value(names[std::size_t(s.best)]) : json::Value());
  o.emplace_back("posterior", scored ? json_number(s.attribution[s.best]) : json::Value());
  o.emplace_back("attribution", scored ? json_by_persona(names, s.attribution) : json::Value());
  return o;
}

}  // namespace

int run_score(const Args& args) {
  const bool color = color_of(args);
  const bool lines = args.has("--lines"), as_json = args.has("--json");
  const auto docs = read_documents(args, 1);
  const Mixture mix = load_model(args);
  const Steering steering = steering_of(args, mix);
  const std::vector<std::string>& names = mix.names();
  std::vector<Scored> results;
  for (const auto& [label, text] : docs) {
    if (!lines) {
      if (text.empty()) throw InvalidArgument(fmt::format("{}: the document is empty", label));
      results.push_back(score_one(mix, steering, label, 0, text));
      continue;
    }
    long long number = 0;
    for (std::size_t begin = 0; begin < text.size();) {
      const std::size_t nl = text.find('\n', begin);
      const std::size_t end = nl == std::string::npos ? text.size() : nl;
      Scored s = score_one(mix, steering, label, ++number, text.substr(begin, end - begin));
      if (as_json) {
        print_json(to_json(s, names));  // JSON Lines: each line's result as soon as it is known
        std::fflush(stdout);
      } else {
        results.push_back(std::move(s));
      }
      begin = end + 1;
    }
  }
  if (as_json) {
    if (lines) return 0;
    json::Array documents;
    for (const Scored& s : results) documents.push_back(to_json(s, names));
    print_json(json::Object{{"model", model_label(args)},
                            {"personas", json::Array(names.begin(), names.end())},
                            {"documents", std::move(documents)}});
    return 0;
  }
  Table t;
  t.column(lines ? "line" : "document", Table::Align::kLeft);
  t.column("bytes");
  t.column("mixture");
  for (int k = 0; k < mix.size(); ++k) t.column(names[std::size_t(k)], Table::Align::kRight, persona_style(k));
  t.column("attributed", Table::Align::kLeft);
  t.column("posterior");
  for (const Scored& s : results) {
    std::vector<Cell> row = {lines ? fmt::format("{}:{}", s.label, s.line) : s.label, fmt::format("{}", s.bytes)};
    if (s.best < 0) {
      for (int c = 0; c < mix.size() + 3; ++c) row.emplace_back("-");
    } else {
      row.emplace_back(fmt::format("{:.3f}", s.mixture));
      for (int k = 0; k < mix.size(); ++k) row.emplace_back(fmt::format("{:.3f}", s.per[k]));
      row.emplace_back(names[std::size_t(s.best)], persona_style(int(s.best)));
      row.emplace_back(fmt::format("{:.1f}%", 100 * s.attribution[s.best]));
    }
    t.row(std::move(row));
  }
  fmt::print("bits per byte (lower is better), per {}:\n", lines ? "line" : "document");
  print_table(t, color);
  return 0;
}

}  // namespace simulacra::cli
