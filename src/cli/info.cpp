// src/cli/info.cpp — `simulacra info`: what a model file holds (personas, sizes, switching, fitted parameters).
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "input.hpp"
#include "simulacra/background.hpp"
#include "simulacra/file_io.hpp"
#include "simulacra/model_file.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/transformer.hpp"
#include "table.hpp"

namespace simulacra::cli {

const Command kInfo{
    "info", "MODEL", "Describe a model file: personas, orders, sizes, switching, fitted parameters.",
    "MODEL is a model file written by train (\"-\" reads it from stdin). One row per persona: its kind,\n"
    "order, stored n-grams and their bytes in memory, and its prior; then the switching rule and its\n"
    "parameters, and the parameters train fitted on held-out text: the attribution tempering (beta at\n"
    "300 bytes, its length exponent, the own share of the attribution models) and the segmentation rate.\n"
    "A transformer persona lists its shape and parameters instead of n-grams.",
    {kJson, kColor, kMaxInput},
    1, 1};

namespace {

// What one persona is, as info shows it. -1: does not apply.
struct PersonaInfo {
  std::string kind;
  long long order = -1;
  long long ngrams = -1;         // stored n-grams, every order
  long long bytes = -1;          // bytes in memory (n-grams) or of the float parameters (transformer)
  json::Object detail;           // kind-specific fields
  std::string detail_text;       // the same for the table
};

PersonaInfo describe(const Persona& p) {
  PersonaInfo info;
  info.kind = p.kind();
  if (const auto* ng = dynamic_cast<const NGramPersona*>(&p)) {
    info.order = ng->order();
    info.ngrams = (long long)ng->num_ngrams();
    info.bytes = (long long)ng->memory_bytes();
    json::Array per_order;
    for (int n = 1; n <= ng->order(); ++n) per_order.emplace_back(ng->num_ngrams(n));
    info.detail.emplace_back("ngrams_per_order", std::move(per_order));
  } else if (const auto* ip = dynamic_cast<const InterpolatedPersona*>(&p)) {
    const PersonaInfo own = describe(*ip->own());
    const PersonaInfo bg = describe(*ip->background());
    info.order = own.order;
    info.ngrams = own.ngrams;
    info.bytes = own.bytes;
    info.detail = own.detail;
    info.detail.emplace_back("own_kind", own.kind);
    info.detail.emplace_back("weight", ip->weight());
    info.detail.emplace_back("background",
                             json::Object{{"kind", bg.kind}, {"order", bg.order}, {"ngrams", bg.ngrams}, {"bytes", bg.bytes}});
    info.detail_text = fmt::format("own weight {:.4g} over a {} background of order {} ({} n-grams)", ip->weight(),
                                   bg.kind, bg.order, bg.ngrams);
  } else if (const auto* tp = dynamic_cast<const TransformerPersona*>(&p)) {
    const TransformerConfig& c = tp->model()->config();
    info.bytes = (long long)(c.parameter_count() * std::int64_t(sizeof(float)));
    info.detail = json::Object{{"head", tp->head()},     {"layers", c.layers},   {"heads", c.heads},
                               {"width", c.width},       {"context", c.context}, {"personas", c.personas},
                               {"parameters", c.parameter_count()}};
    info.detail_text = fmt::format("head {} of {}: {} layers, {} heads, width {}, context {}, {} parameters",
                                   tp->head(), c.personas, c.layers, c.heads, c.width, c.context, c.parameter_count());
  }
  return info;
}

std::string or_dash(long long x) { return x < 0 ? "-" : fmt::format("{}", x); }

}  // namespace

int run_info(const Args& args) {
  const bool color = color_of(args);
  const std::string& path = args.positional[0];
  // One read: the metadata and the mixture come from the same bytes.
  const std::string bytes = path == "-" ? read_input("-", max_input(args)) : read_file(path, std::uint64_t(1) << 40);
  const std::string name = path == "-" ? "<stdin>" : path;
  const Mixture mix = load_from_bytes(bytes, name);
  const TensorFile file = parse_safetensors(bytes, name);
  const auto version_it = file.metadata.find("format_version");
  const long long format_version = version_it == file.metadata.end() ? -1 : std::stoll(version_it->second);
  const MixtureConfig& cfg = mix.config();

  std::vector<PersonaInfo> personas;
  for (int k = 0; k < mix.size(); ++k) personas.push_back(describe(mix.persona(k)));

  if (args.has("--json")) {
    json::Array list;
    for (int k = 0; k < mix.size(); ++k) {
      const PersonaInfo& p = personas[std::size_t(k)];
      json::Object o{{"name", mix.names()[std::size_t(k)]},
                     {"kind", p.kind},
                     {"order", p.order < 0 ? json::Value() : json::Value(p.order)},
                     {"ngrams", p.ngrams < 0 ? json::Value() : json::Value(p.ngrams)},
                     {"bytes", p.bytes < 0 ? json::Value() : json::Value(p.bytes)},
                     {"prior", mix.prior()[k]}};
      for (const auto& member : p.detail) o.push_back(member);
      list.emplace_back(std::move(o));
    }
    json::Array switch_after;
    for (const Token t : cfg.switch_after) switch_after.emplace_back(int(t));
    json::Object switching{{"rule", switching_name(cfg.switching)},
                           {"beta", cfg.beta},
                           {"alpha", cfg.alpha},
                           {"gamma", cfg.gamma},
                           {"switch_after", std::move(switch_after)}};
    if (cfg.switching == Switching::kTransition) {
      json::Array rows;
      for (Eigen::Index i = 0; i < cfg.transition.rows(); ++i) {
        json::Array row;
        for (Eigen::Index j = 0; j < cfg.transition.cols(); ++j) row.emplace_back(cfg.transition(i, j));
        rows.emplace_back(std::move(row));
      }
      switching.emplace_back("transition", std::move(rows));
    }
    print_json(json::Object{
        {"model", name},
        {"file_bytes", (long long)bytes.size()},
        {"format_version", format_version},
        {"personas", std::move(list)},
        {"switching", std::move(switching)},
        {"attribution",
         json::Object{{"beta", mix.attribution_beta()},
                      {"exponent", mix.attribution_exponent()},
                      {"reference_bytes", Mixture::kAttributionReferenceBytes},
                      {"own_weight", mix.attribution_own_weight() < 0 ? json::Value() : json::Value(mix.attribution_own_weight())}}},
        {"segmentation", mix.has_segmentation() ? json::Value(json::Object{{"alpha", mix.segmentation_alpha()},
                                                                          {"beta", mix.segmentation_beta()}})
                                                : json::Value()}});
    return 0;
  }

  fmt::print("{}: {} bytes, model file format version {}, {} persona{}\n", name, bytes.size(), format_version,
             mix.size(), mix.size() == 1 ? "" : "s");
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("kind", Table::Align::kLeft);
  t.column("order");
  t.column("n-grams");
  t.column("bytes");
  t.column("prior");
  bool any_detail = false;
  for (const PersonaInfo& p : personas) any_detail = any_detail || !p.detail_text.empty();
  if (any_detail) t.column("", Table::Align::kLeft);
  for (int k = 0; k < mix.size(); ++k) {
    const PersonaInfo& p = personas[std::size_t(k)];
    std::vector<Cell> row = {Cell(mix.names()[std::size_t(k)], persona_style(k)), p.kind, or_dash(p.order),
                             or_dash(p.ngrams), or_dash(p.bytes), fmt::format("{:.4f}", mix.prior()[k])};
    if (any_detail) row.emplace_back(p.detail_text);
    t.row(std::move(row));
  }
  print_table(t, color);
  std::string rule = switching_name(cfg.switching);
  if (cfg.switching == Switching::kFixedShare) rule += fmt::format(" (alpha {:.6g})", cfg.alpha);
  if (cfg.switching == Switching::kForgetting) rule += fmt::format(" (gamma {:.6g})", cfg.gamma);
  fmt::print("switching: {}, beta {:.6g}, switch after: {}\n", rule, cfg.beta,
             cfg.switch_after.empty() ? "every byte" : "'" + escaped_bytes(cfg.switch_after) + "'");
  fmt::print("attribution: beta {:.6g} at {:.0f} bytes, exponent {:.6g}, own weight {}\n", mix.attribution_beta(),
             Mixture::kAttributionReferenceBytes, mix.attribution_exponent(),
             mix.attribution_own_weight() < 0 ? "none (the masks)" : fmt::format("{:.6g}", mix.attribution_own_weight()));
  fmt::print("segmentation: {}\n", mix.has_segmentation() ? fmt::format("alpha {:.6g}, beta {:.6g}",
                                                                        mix.segmentation_alpha(), mix.segmentation_beta())
                                                           : "none (the switching above)");
  return 0;
}

}  // namespace simulacra::cli
