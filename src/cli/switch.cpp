// src/cli/switch.cpp — `simulacra switch`: how fast a mask swap happens, both ways.
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

namespace simulacra::cli {

const Command kSwitch{
    "switch", "MODEL --from NAME --to NAME (--text-a TEXT|--file-a F) (--text-b TEXT|--file-b F)",
    "Measure a mask swap both ways: how many tokens until the new mask takes over.",
    "A->B reads text A (in the voice of --from) then text B (in the voice of --to) as one document and\n"
    "follows the weight of --to through text B; B->A reads B then A and follows the weight of --from.\n"
    "Without switching the new mask must first pay back the evidence of the old text; fixed share caps it.\n"
    "--json prints both directions as one JSON document, the new mask's weight before every token.",
    {{"--from", "", "NAME", "", "the persona text A is written in; required"},
     {"--to", "", "NAME", "", "the persona text B is written in; required"},
     {"--text-a", "", "TEXT", "", "text A"},
     {"--file-a", "", "F", "", "read text A from F (\"-\" for stdin)"},
     {"--text-b", "", "TEXT", "", "text B"},
     {"--file-b", "", "F", "", "read text B from F (\"-\" for stdin)"},
     {"--every", "", "N", "about 12 columns", "one weight column every N tokens"},
     kJson,
     kColor,
     kMaxInput},
    1, 1};

namespace {

// Text A or B: exactly one of --text-X and --file-X.
std::string switch_text(const Args& args, const std::string& x) {
  const std::string text = "--text-" + x, file = "--file-" + x;
  if (args.has(text) && args.has(file)) throw UsageError(fmt::format("give either {} or {}, not both", text, file));
  if (!args.has(text) && !args.has(file)) throw UsageError(fmt::format("switch needs {} TEXT or {} F", text, file));
  std::string s = args.has(text) ? args.get(text) : read_input(args.get(file), max_input(args));
  if (s.empty())
    throw InvalidArgument(fmt::format("{}: text {} is empty", args.has(text) ? text : args.get(file), x == "a" ? "A" : "B"));
  return s;
}

}  // namespace

int run_switch(const Args& args) {
  const bool color = color_of(args);
  for (const char* o : {"--from", "--to"})
    if (!args.has(o)) throw UsageError(fmt::format("switch needs {} NAME", o));
  const long long every_given = args.integer("--every", 0, 1, Args::kNoLimit);
  const std::string text_a = switch_text(args, "a"), text_b = switch_text(args, "b");
  const Mixture mix = load_model(args);
  const int a = persona_index(mix, "--from", args.get("--from"));
  const int b = persona_index(mix, "--to", args.get("--to"));
  const auto both = switch_asymmetry(mix, a, b, text_a, text_b);
  if (args.has("--json")) {
    const auto direction = [](const SwitchEvidence& e, const std::string& rises) {
      json::Array weight;
      for (const double w : e.weight_b) weight.push_back(json_number(w));
      const auto tokens = [](long t) { return t < 0 ? json::Value() : json::Value(t); };
      return json::Object{{"rises", rises},
                          {"weight", std::move(weight)},
                          {"tokens_to_half", tokens(e.tokens_to_half)},
                          {"tokens_to_90", tokens(e.tokens_to_90)}};
    };
    print_json(json::Object{{"model", model_label(args)},
                            {"from", args.get("--from")},
                            {"to", args.get("--to")},
                            {"switching", switching_name(mix.config().switching)},
                            {"a_bytes", (long long)text_a.size()},
                            {"b_bytes", (long long)text_b.size()},
                            {"a_to_b", direction(both.first, args.get("--to"))},
                            {"b_to_a", direction(both.second, args.get("--from"))}});
    return 0;
  }
  const std::size_t longest = std::max(text_a.size(), text_b.size());
  const std::size_t every = every_given > 0 ? std::size_t(every_given) : std::max<std::size_t>(1, (longest + 10) / 11);
  fmt::print("A = {} bytes by {}, B = {} bytes by {} ({} switching)\n", text_a.size(), args.get("--from"),
             text_b.size(), args.get("--to"), switching_name(mix.config().switching));
  print_switch(both, args.get("--from"), args.get("--to"), a, b, every, color);
  return 0;
}

}  // namespace simulacra::cli
