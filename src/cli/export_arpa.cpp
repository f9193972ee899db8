// src/cli/export_arpa.cpp — `simulacra export-arpa`: one n-gram mask of a model file as an ARPA file.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "commands.hpp"
#include "common.hpp"
#include "input.hpp"
#include "simulacra/arpa.hpp"
#include "simulacra/background.hpp"

namespace simulacra::cli {

const Command kExportArpa{
    "export-arpa", "MODEL PERSONA OUT.arpa", "Write one n-gram mask as an ARPA file that KenLM, SRILM and others read.",
    "MODEL is a model file written by train (\"-\" reads it from stdin), PERSONA the name of one of its\n"
    "n-gram masks. Each byte is the word of its two lowercase hex digits (41 for A, 0a for a newline),\n"
    "the document boundary is </s> and the document start <s> (docs/arpa.md). A mask interpolated with\n"
    "the shared background is one model of two tries, which ARPA cannot hold: --own writes its own\n"
    "model, --background the background; train with --no-background for masks ARPA holds whole.",
    {{"--own", "", "", "", "an interpolated mask: write its own n-gram model (without the background)"},
     {"--background", "", "", "", "an interpolated mask: write the shared background model"},
     kMaxInput},
    3, 3};

int run_export_arpa(const Args& args) {
  if (args.has("--own") && args.has("--background")) throw UsageError("give --own or --background, not both");
  const Mixture mix = load_model(args);
  const std::string& name = args.positional[1];
  const std::string& out = args.positional[2];
  const Persona* persona = &mix.persona(persona_index(mix, "PERSONA", name));
  const auto* interpolated = dynamic_cast<const InterpolatedPersona*>(persona);
  if (interpolated && args.has("--own")) persona = interpolated->own().get();
  if (interpolated && args.has("--background")) persona = interpolated->background().get();
  if (!interpolated && (args.has("--own") || args.has("--background")))
    throw UsageError(fmt::format("persona '{}' is not interpolated with a background: drop --{}", name,
                                 args.has("--own") ? "own" : "background"));
  const auto* lm = dynamic_cast<const NGramPersona*>(persona);
  if (lm == nullptr) {
    if (interpolated && !args.has("--own") && !args.has("--background"))
      throw UsageError(fmt::format(
          "persona '{}' is its own model interpolated with the shared background (weight {:g}), which one ARPA file "
          "cannot hold: give --own or --background (or train with --no-background)",
          name, interpolated->weight()));
    throw UsageError(fmt::format("persona '{}' is a {} model, not an n-gram one: ARPA holds n-grams", name,
                                 persona->kind()));
  }
  save_arpa(*lm, out);
  fmt::print("wrote {} (order {}, {} n-grams)\n", out, lm->order(), lm->num_ngrams());
  return 0;
}

}  // namespace simulacra::cli
