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

namespace simulacra::cli {

const Command kInspect{
    "inspect", "MODEL [FILE]", "Speak to the shoggoth: every mask's next tokens after a context, and the pile's.",
    "The context (--text, or FILE, \"-\" for stdin; nothing: a document start) is read as the start of a\n"
    "document, without an end. The table's header gives each persona's weight after it ('*' marks the\n"
    "heaviest); each column lists that persona's K most likely next tokens, the last one the mixture's.",
    {{"--text", "", "CONTEXT", "empty, a document start", "use CONTEXT instead of reading FILE"},
     {"--top-k", "", "K", "10", "tokens listed per column, 1 to 257"},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor, kMaxInput},
    1, 2};

int run_inspect(const Args& args) {
  const bool color = color_of(args);
  const int top_k = int(args.integer("--top-k", 10, 1, kVocab));
  if (args.has("--text") && args.positional.size() > 1)
    throw UsageError(fmt::format("give either --text or FILE, not both (got file '{}')", args.positional[1]));
  const std::string context =
      args.has("--text") ? args.get("--text") : args.positional.size() > 1 ? read_input(args.positional[1], max_input(args)) : "";
  const Mixture mix = load(args.positional[0]);
  const Steering steering = steering_of(args, mix);
  const RawView view = raw_view(mix, context, top_k, steering);
  fmt::print("after {} ({} bytes), the weights and each mask's next tokens:\n",
             context.empty() ? "a document start" : "\"" + shown_text(context.size() > 60 ? "..." + context.substr(context.size() - 60) : context) + "\"",
             context.size());
  print_raw_view(view, mix.names(), color);
  return 0;
}

}  // namespace simulacra::cli
