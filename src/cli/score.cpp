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
                     "posterior probability.",
                     {kText, kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor, kMaxInput}, 1, -1};

int run_score(const Args& args) {
  const bool color = color_of(args);
  const auto docs = read_documents(args, 1);
  const Mixture mix = load(args.positional[0]);
  const Steering steering = steering_of(args, mix);
  Table t;
  t.column("document", Table::Align::kLeft);
  t.column("bytes");
  t.column("mixture");
  for (int k = 0; k < mix.size(); ++k) t.column(mix.names()[std::size_t(k)], Table::Align::kRight, persona_style(k));
  t.column("attributed", Table::Align::kLeft);
  t.column("posterior");
  for (const auto& [label, text] : docs) {
    if (text.empty()) throw InvalidArgument(fmt::format("{}: the document is empty", label));
    // Polls between the long calls too, so Ctrl-C stops a long document's scoring.
    poll_interrupt();
    std::vector<Cell> row = {label, fmt::format("{}", text.size()), fmt::format("{:.3f}", mix.bits_per_byte(text, steering))};
    poll_interrupt();
    const Eigen::VectorXd per = mix.persona_bits_per_byte(text);
    poll_interrupt();
    for (int k = 0; k < mix.size(); ++k) row.emplace_back(fmt::format("{:.3f}", per[k]));
    Eigen::Index best = 0;
    const double top = mix.attribute(text).maxCoeff(&best);
    row.emplace_back(mix.names()[std::size_t(best)], persona_style(int(best)));
    row.emplace_back(fmt::format("{:.1f}%", 100 * std::exp(top)));
    t.row(std::move(row));
  }
  fmt::print("bits per byte (lower is better), per document:\n");
  print_table(t, color);
  return 0;
}

}  // namespace simulacra::cli
