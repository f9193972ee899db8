// src/cli/trace.cpp — `simulacra trace`: the text coloured by mask, the weights table, the Viterbi spans.
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
#include "inspect_view.hpp"
#include "table.hpp"
#include "trace_view.hpp"

namespace simulacra::cli {

const Command kTrace{"trace", "MODEL [FILE]",
                     "Show which mask speaks where: the text coloured by persona, then the weights.",
                     "The text is read as one document; each byte takes the colour of the persona that dominates\n"
                     "after reading it. The table shows the weights before each listed token, the entropy of\n"
                     "the weights in bits and the mixture's natural-log probability of the token. With --smooth\n"
                     "each byte takes the colour of the persona most likely to have written it given the whole text.",
                     {kText,
                      {"--every", "", "N", "about 20 rows", "one table row every N tokens"},
                      {"--spans", "", "", "", "also list the Viterbi attribution: the most likely mask of each span"},
                      {"--smooth", "", "", "", "colour by the smoothed posterior (forward-backward over the whole text)"},
                      kColor,
                      kMaxInput},
                     1, 2};

int run_trace(const Args& args) {
  const bool color = color_of(args);
  const auto docs = read_documents(args, 1);
  const long long every_given = args.integer("--every", 0, 1, Args::kNoLimit);
  const Mixture mix = load(args.positional[0]);
  const std::string& text = docs[0].second;
  const std::vector<Token> tokens = encode_document(text);
  const Trace trace = mix.trace(tokens);
  print_legend(mix.names(), color);
  if (args.has("--smooth")) {
    const Smoothed smoothed = smooth(mix, tokens, trace.persona_logprobs);
    print_owned_text(text, std::vector<int>(smoothed.dominant.begin(), smoothed.dominant.begin() + long(text.size())),
                     color);
  } else {
    print_owned_text(text, owners_after(trace, text.size()), color);
  }
  const std::size_t every = every_given > 0 ? std::size_t(every_given) : (tokens.size() + 19) / 20;
  fmt::print("\nweights before each token ({} bytes{}):\n", text.size(),
             text.empty() ? "" : fmt::format(", {:.3f} bits/byte", mix.bits_per_byte(text)));
  print_weights_table(trace, tokens, mix.names(), every_rows(tokens.size(), every), color);
  if (args.has("--spans")) print_spans(attribute_spans(mix, tokens), tokens, mix.names(), color);
  return 0;
}

}  // namespace simulacra::cli
