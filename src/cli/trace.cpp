// src/cli/trace.cpp — `simulacra trace`: the text coloured by mask, the weights table, the Viterbi spans.
#include <algorithm>
#include <cmath>
#include <cstdio>
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

namespace {

// Row t of a (T, K) matrix as a JSON array (numbers, null where not finite).
json::Array json_row(const Eigen::MatrixXd& m, Eigen::Index t, bool exp) {
  json::Array row;
  for (Eigen::Index k = 0; k < m.cols(); ++k) row.push_back(json_number(exp ? std::exp(m(t, k)) : m(t, k)));
  return row;
}

// The --json document of trace (keys: docs/cli.md).
void print_trace_json(const Args& args, const Mixture& mix, const std::string& text, const std::vector<Token>& tokens,
                      const Trace& trace, long long every_given) {
  const std::size_t every = every_given > 0 ? std::size_t(every_given) : 1;
  json::Array rows;
  for (const std::size_t t : every_rows(tokens.size(), every)) {
    const Eigen::Index i = Eigen::Index(t);
    rows.push_back(json::Object{{"t", (long long)t},
                                {"token", int(tokens[t])},
                                {"weights", json_row(trace.log_weights, i, true)},
                                {"entropy_bits", json_number(trace.entropy[i] / std::log(2.0))},
                                {"logprob", json_number(trace.logprobs[i])}});
  }
  json::Array owners;
  for (const int k : owners_after(trace, text.size())) owners.emplace_back(k);
  json::Object out{{"model", model_label(args)},
                   {"bytes", (long long)text.size()},
                   {"bits_per_byte", text.empty() ? json::Value() : json_number(mix.bits_per_byte(text))},
                   {"personas", json::Array(mix.names().begin(), mix.names().end())},
                   {"rows", std::move(rows)},
                   {"owners", std::move(owners)}};
  if (args.has("--smooth")) {
    const Smoothed smoothed = smooth(mix, tokens, trace.persona_logprobs);
    json::Array weights, dominant;
    for (const std::size_t t : every_rows(tokens.size(), every)) weights.push_back(json_row(smoothed.weights, Eigen::Index(t), false));
    for (std::size_t i = 0; i < text.size(); ++i) dominant.emplace_back(smoothed.dominant[i]);
    out.emplace_back("smoothed", json::Object{{"weights", std::move(weights)},
                                              {"owners", std::move(dominant)},
                                              {"log_likelihood", json_number(smoothed.log_likelihood)}});
  }
  if (args.has("--spans")) {
    const Attribution a = attribute_spans(mix, tokens);
    json::Array spans;
    for (const Span& s : a.spans)
      spans.push_back(json::Object{{"begin", (long long)s.begin},
                                   {"end", (long long)s.end},
                                   {"persona", mix.names()[std::size_t(s.persona)]},
                                   {"text", text.substr(std::min(s.begin, text.size()),
                                                        std::min(s.end, text.size()) - std::min(s.begin, text.size()))}});
    out.emplace_back("spans", json::Object{{"spans", std::move(spans)}, {"log_joint", json_number(a.log_joint)}});
  }
  print_json(out);
}

}  // namespace

const Command kTrace{"trace", "MODEL [FILE]",
                     "Show which mask speaks where: the text coloured by persona, then the weights.",
                     "The text is read as one document; each byte takes the colour of the persona that dominates\n"
                     "after reading it. The table shows the weights before each listed token, the entropy of\n"
                     "the weights in bits and the mixture's natural-log probability of the token. With --smooth\n"
                     "each byte takes the colour of the persona most likely to have written it given the whole text.\n"
                     "--json prints one JSON document instead: every token's weights (or every N-th with\n"
                     "--every), the owner of each byte, and the smoothed view and the spans when asked for.\n"
                     "--html PATH writes the trace explorer instead: one self-contained page with the text coloured\n"
                     "by mask in the filtered, smoothed and Viterbi views, every weight on hover, a chart of the\n"
                     "weights and a table per mask (docs/inspection.md); PATH - writes it on stdout.",
                     {kText,
                      {"--every", "", "N", "about 20 rows", "one table row every N tokens"},
                      {"--spans", "", "", "", "also list the Viterbi attribution: the most likely mask of each span"},
                      {"--smooth", "", "", "", "colour by the smoothed posterior (forward-backward over the whole text)"},
                      kJson,
                      {"--html", "", "PATH", "", "write the trace explorer page to PATH (- for stdout) instead"},
                      kColor,
                      kMaxInput},
                     1, 2};

int run_trace(const Args& args) {
  const bool color = color_of(args);
  const auto docs = read_documents(args, 1);
  const long long every_given = args.integer("--every", 0, 1, Args::kNoLimit);
  const Mixture mix = load_model(args);
  const std::string& text = docs[0].second;
  const std::vector<Token> tokens = encode_document(text);
  if (args.has("--html") && args.has("--json"))
    throw UsageError("trace: --html and --json each replace the output; give one of them");
  const Trace trace = mix.trace(tokens);
  if (args.has("--html")) {
    const std::string path = args.get("--html");
    TraceHtmlOptions options;
    options.title = "simulacra trace: " + model_label(args) + " on " + docs[0].first;
    const TraceViews views = trace_views(mix, tokens, trace);
    if (path == "-") {
      const std::string page = trace_html(tokens, mix.names(), trace, views, options);
      std::fwrite(page.data(), 1, page.size(), stdout);
      std::fflush(stdout);
    } else {
      write_trace_html(path, tokens, mix.names(), trace, views, options);
      print_written(path);
    }
    return 0;
  }
  if (args.has("--json")) {
    print_trace_json(args, mix, text, tokens, trace, every_given);
    return 0;
  }
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
