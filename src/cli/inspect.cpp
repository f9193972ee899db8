// src/cli/inspect.cpp — `simulacra inspect`: every mask's next tokens after a context, side by side.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "inspect_view.hpp"
#include "input.hpp"
#include "table.hpp"

namespace simulacra::cli {

const Command kInspect{
    "inspect", "MODEL [FILE]", "Speak to the shoggoth: every mask's next tokens after a context, and the pile's.",
    "The context (--text, or FILE, \"-\" for stdin; nothing: a document start) is read as the start of a\n"
    "document, without an end. The table's header gives each persona's weight after it ('*' marks the\n"
    "heaviest); each column lists that persona's K most likely next tokens, the last one the mixture's.\n"
    "With --characteristic N, each mask's N most characteristic tokens over the contexts of the text\n"
    "instead: the log-ratio (nats) of its expected count of the token to the masks' average, among the\n"
    "tokens it has support for (an expected count of at least --min-count and, for an n-gram mask, seen\n"
    "in its training text); positive scores only, so a list may be shorter than N. Steering does not\n"
    "apply there (each mask is compared as it is). --json prints the same as one JSON document (docs/cli.md).",
    {{"--text", "", "CONTEXT", "empty, a document start", "use CONTEXT instead of reading FILE"},
     {"--top-k", "", "K", "10", "tokens listed per column, 1 to 257"},
     {"--characteristic", "", "N", "", "list each mask's N most characteristic tokens over the text (1 to 257)"},
     {"--min-count", "", "X", fmt::format("{}", kCharacteristicMinCount),
      "with --characteristic: the expected-count floor of a token (>= 0)"},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kJson, kColor, kMaxInput},
    1, 2};

namespace {

// A token for JSON: its id and its name as the tables show it.
json::Object json_token(Token t) { return json::Object{{"token", int(t)}, {"text", token_name(t)}}; }

json::Array json_tokens(const std::vector<TokenProb>& list) {
  json::Array out;
  for (const TokenProb& e : list) {
    json::Object o = json_token(e.token);
    o.emplace_back("prob", json_number(e.prob));
    out.emplace_back(std::move(o));
  }
  return out;
}

// One row per mask: its characteristic tokens with their scores, best first.
void print_characteristic(const Mixture& mix, const std::string& text, int n, double min_count, bool color,
                          bool as_json, const std::string& model) {
  const auto lists = characteristic_tokens(mix, text, n, min_count);
  if (as_json) {
    json::Object per;
    for (int k = 0; k < mix.size(); ++k) {
      json::Array list;
      for (const TokenScore& e : lists[std::size_t(k)]) {
        json::Object o = json_token(e.token);
        o.emplace_back("score", json_number(e.score));
        list.emplace_back(std::move(o));
      }
      per.emplace_back(mix.names()[std::size_t(k)], std::move(list));
    }
    print_json(json::Object{{"model", model},
                            {"bytes", (long long)text.size()},
                            {"min_count", min_count},
                            {"personas", json::Array(mix.names().begin(), mix.names().end())},
                            {"characteristic", std::move(per)}});
    return;
  }
  fmt::print("each mask's characteristic tokens over {} bytes (log-ratio of expected counts, nats):\n", text.size());
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("tokens", Table::Align::kLeft);
  for (int k = 0; k < mix.size(); ++k) {
    std::string cells;
    for (const TokenScore& e : lists[std::size_t(k)])
      cells += fmt::format("{}{} {:.2f}", cells.empty() ? "" : "   ", token_name(e.token), e.score);
    t.row({Cell(mix.names()[std::size_t(k)], persona_style(k)), cells.empty() ? "(none with support)" : cells});
  }
  print_table(t, color);
}

}  // namespace

int run_inspect(const Args& args) {
  const bool color = color_of(args);
  const int top_k = int(args.integer("--top-k", 10, 1, kVocab));
  if (args.has("--text") && args.positional.size() > 1)
    throw UsageError(fmt::format("give either --text or FILE, not both (got file '{}')", args.positional[1]));
  const std::string context =
      args.has("--text") ? args.get("--text") : args.positional.size() > 1 ? read_input(args.positional[1], max_input(args)) : "";
  const Mixture mix = load_model(args);
  if (args.has("--characteristic")) {
    if (context.empty()) throw UsageError("--characteristic needs a text (--text or FILE)");
    print_characteristic(mix, context, int(args.integer("--characteristic", 10, 1, kVocab)),
                         args.real("--min-count", kCharacteristicMinCount, Range{0, INFINITY}), color,
                         args.has("--json"), model_label(args));
    return 0;
  }
  if (args.has("--min-count")) throw UsageError("--min-count goes with --characteristic");
  const Steering steering = steering_of(args, mix);
  const RawView view = raw_view(mix, context, top_k, steering);
  if (args.has("--json")) {
    json::Object next;
    for (int k = 0; k < mix.size(); ++k) next.emplace_back(mix.names()[std::size_t(k)], json_tokens(view.personas[std::size_t(k)]));
    print_json(json::Object{{"model", model_label(args)},
                            {"context", context},
                            {"personas", json::Array(mix.names().begin(), mix.names().end())},
                            {"weights", json_by_persona(mix.names(), view.weights)},
                            {"next", std::move(next)},
                            {"mixture", json_tokens(view.mixture)}});
    return 0;
  }
  fmt::print("after {} ({} bytes), the weights and each mask's next tokens:\n",
             context.empty() ? "a document start" : "\"" + shown_text(context.size() > 60 ? "..." + context.substr(context.size() - 60) : context) + "\"",
             context.size());
  print_raw_view(view, mix.names(), color);
  return 0;
}

}  // namespace simulacra::cli
