// src/cli/train.cpp — `simulacra train`: a pile of n-gram masks or a transformer hydra from a corpus, saved.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "commands.hpp"
#include "common.hpp"
#include "input.hpp"
#include "table.hpp"
#include "simulacra/arpa.hpp"
#include "simulacra/transformer_pile.hpp"

namespace simulacra::cli {

const Command kTrain{
    "train", "-o MODEL", "Train a pile of masks (n-gram, or a transformer hydra) on documents by persona and save it.",
    "Give one corpus option (--builtin when none is given). Each persona is a Kneser-Ney model of its own\n"
    "documents interpolated with a background model of all the text, the prior is its share of the documents;\n"
    "the order, the background weights, alpha (fixed share) and the attribution beta are chosen on held-out text.",
    {kBuiltin, kDir, kJsonl, kPlay, kTopSpeakers, kFortunes,
     {"--order", "", "auto|N", "auto", "n-gram order of every persona; auto: the best of 2..8 on held-out text"},
     {"--no-background", "", "", "", "stand-alone personas (no shared background model under them)"},
     {"--no-calibrate", "", "", "", "keep the attribution beta at 1 (exact Bayesian posteriors)"},
     {"--switching", "", "RULE", "fixed_share", "how masks swap mid-text: none, fixed_share, forgetting"},
     {"--alpha", "", "auto|X", "auto", "fixed-share rate in [0, 1]; auto picks the best of a grid on held-out text"},
     {"--beta", "", "X", "1", "likelihood tempering (> 0): above 1 sharpens the posterior"},
     {"--gamma", "", "X", "1", "with --switching forgetting: the forgetting factor in [0, 1]"},
     kSwitchAfter,
     {"--segment-bytes", "", "N", "0, a document",
      "fit the segmentation rate on held-out turns of at least N bytes of one persona (documents joined)"},
     {"--heldout", "", "F", "0.1", "share of each persona's documents held out to fit order, weights, alpha, in [0, 1)"},
     {"--seed", "", "S", "0", "seed of the held-out split (and, for transformers, of the weights and batches)"},
     {"--output", "-o", "MODEL", "", "where to write the model (a .safetensors file); required"},
     {"--arpa", "", "FILE:NAME", "",
      "join the ARPA model in FILE (KenLM, SRILM, export-arpa; docs/arpa.md) to the pile as mask NAME", true},
     {"--compact", "", "", "", "write the n-gram masks in the compact layout (docs/compact.md; needs --no-background)"},
     {"--quantize", "", "", "", "write the n-gram masks quantised to 8 bits (docs/compact.md; needs --no-background)"},
     {"--kind", "", "KIND", "ngram", "ngram: Kneser-Ney masks; transformer: a GPT hydra (the options below)"},
     {"--file", "", "PATH", "", "transformer: one persona, the file's text, its last --heldout share held out"},
     {"--layout", "", "L", "hydra", "transformer: hydra (one trunk, a head per persona) or independent (a model each)"},
     {"--objective", "", "O", "supervised", "transformer: supervised, mixture (labels unknown) or gate (learned gate)"},
     {"--gate-posterior", "", "", "", "transformer, --objective gate: combine the gate with the window posterior"},
     {"--layers", "", "N", "4", "transformer: blocks"},
     {"--heads", "", "N", "4", "transformer: attention heads (divides --width)"},
     {"--width", "", "N", "128", "transformer: embedding width"},
     {"--context", "", "N", "64", "transformer: context length"},
     {"--bias", "", "", "", "transformer: biases in linear layers and LayerNorms"},
     {"--tie-weights", "", "", "", "transformer: unembed with the token embedding"},
     {"--batch", "", "N", "12", "transformer: windows per step"},
     {"--steps", "", "N", "2000", "transformer: optimisation steps"},
     {"--lr", "", "X", "1e-3", "transformer: peak learning rate (warmup, then cosine to --min-lr)"},
     {"--min-lr", "", "X", "1e-4", "transformer: final learning rate"},
     {"--warmup", "", "N", "100", "transformer: warmup steps"},
     {"--weight-decay", "", "X", "0.1", "transformer: AdamW decoupled weight decay on matrices"},
     {"--clip", "", "X", "1", "transformer: gradient-norm clip (0: off)"},
     {"--threads", "", "N", "0, all cores", "transformer: threads"},
     {"--eval-every", "", "N", "250", "transformer: held-out loss every N steps (0: at the end only)"},
     {"--checkpoint", "", "PATH", "", "transformer: write a checkpoint (model + optimiser) here as training goes"},
     {"--checkpoint-every", "", "N", "0, at the end", "transformer: checkpoint every N steps"},
     {"--resume", "", "PATH", "", "transformer: continue from a checkpoint (same data; bit-exact)"},
     kMaxInput},
    0, 0};

namespace {

TrainConfig train_config(const Args& args) {
  TrainConfig cfg;
  cfg.order = args.get("--order", "auto") == "auto" ? TrainConfig::kAutoOrder : int(args.integer("--order", 5, 1, 1000));
  cfg.background = !args.has("--no-background");
  cfg.fit_attribution_beta = !args.has("--no-calibrate");
  cfg.segmentation_part_bytes = std::size_t(args.integer("--segment-bytes", 0, 0, Args::kNoLimit));
  cfg.mixture.switching = switching_from_name(args.choice("--switching", "fixed_share", kSwitchings));
  const bool fixed_share = cfg.mixture.switching == Switching::kFixedShare;
  if (args.has("--alpha") && !fixed_share) throw UsageError("--alpha needs --switching fixed_share");
  if (args.has("--gamma") && cfg.mixture.switching != Switching::kForgetting)
    throw UsageError("--gamma needs --switching forgetting");
  const std::string alpha = args.get("--alpha", "auto");
  cfg.fit_alpha = fixed_share && alpha == "auto";
  if (alpha != "auto") cfg.mixture.alpha = args.real("--alpha", 0, Range{0, 1});
  if (!fixed_share) cfg.mixture.alpha = 0.0;
  cfg.mixture.beta = args.real("--beta", 1.0, Range{0, INFINITY, true});
  cfg.mixture.gamma = args.real("--gamma", 1.0, Range{0, 1});
  cfg.mixture.switch_after = switch_after_of(args);
  cfg.heldout_fraction = args.real("--heldout", 0.1, Range{0, 1, false, true});
  cfg.seed = args.seed("--seed", 0);
  return cfg;
}

void print_corpus(const Corpus& corpus) {
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("documents");
  t.column("bytes");
  for (const std::string& name : corpus.personas()) {
    const auto texts = corpus.texts_of(name);
    std::size_t bytes = 0;
    for (const auto& s : texts) bytes += s.size();
    t.row({name, fmt::format("{}", texts.size()), fmt::format("{}", bytes)});
  }
  print_table(t, false);
}

void print_alpha_grid(const TrainReport& report) {
  Table t;
  t.column("alpha");
  t.column("held-out bits/byte");
  t.column("", Table::Align::kLeft);
  for (std::size_t g = 0; g < report.alpha_grid.size(); ++g)
    t.row({fmt::format("{}", report.alpha_grid[g]), fmt::format("{:.4f}", report.heldout_bits[g]),
           report.alpha_grid[g] == report.alpha ? "<- chosen" : ""});
  print_table(t, false);
}

void print_report(const TrainConfig& cfg, const TrainReport& report, const Mixture& mix) {
  const MixtureConfig& m = mix.config();
  fmt::print("order: {}", report.order);
  if (report.orders.empty()) {
    fmt::print("\n");
  } else {
    fmt::print(" (the best held-out pile of orders");
    for (std::size_t i = 0; i < report.orders.size(); ++i)
      fmt::print("{} {}: {:.4f}", i ? "," : "", report.orders[i], report.order_heldout_bits[i]);
    fmt::print(" bits/byte)\n");
  }
  if (!report.background_weights.empty()) {
    fmt::print("background: each persona's own share lambda");
    for (std::size_t k = 0; k < report.background_weights.size(); ++k)
      fmt::print("{} {} {:.3f}", k ? "," : "", mix.names()[k], report.background_weights[k]);
    fmt::print("\n");
  }
  if (report.ece_before_by_length.empty()) {
    fmt::print("attribution beta: {}\n", report.attribution_beta);
  } else {
    fmt::print("attribution beta: {:.4f} at 300 bytes, length exponent {:.3f} (calibrated on held-out segments; "
               "ECE before -> after:",
               report.attribution_beta, report.attribution_exponent);
    for (std::size_t l = 0; l < report.calibration_lengths.size(); ++l)
      fmt::print("{} {} B {:.3f} -> {:.3f}", l ? "," : "", report.calibration_lengths[l],
                 report.ece_before_by_length[l], report.ece_after_by_length[l]);
    fmt::print(")\n");
  }
  if (report.attribution_candidates.size() > 1) {
    fmt::print("attribution evidence: {} (held-out log-loss of the true persona:",
               report.attribution_own_weight < 0.0
                   ? std::string("the masks as fitted")
                   : fmt::format("each persona's own model at share {:g} over the background", report.attribution_own_weight));
    for (std::size_t c = 0; c < report.attribution_candidates.size(); ++c)
      fmt::print("{} {} {:.3f}", c ? "," : "",
                 report.attribution_candidates[c] < 0.0 ? std::string("masks")
                                                        : fmt::format("{:g}", report.attribution_candidates[c]),
                 report.attribution_candidate_logloss[c]);
    fmt::print(" nats)\n");
  }
  fmt::print("switching: {}", switching_name(m.switching));
  if (m.switching == Switching::kForgetting) fmt::print(", gamma = {}", m.gamma);
  if (m.beta != 1.0) fmt::print(", beta = {}", m.beta);
  if (m.switching != Switching::kFixedShare) {
    fmt::print("\n");
  } else if (report.alpha_grid.empty()) {
    fmt::print(", alpha = {} ({})\n", report.alpha, cfg.fit_alpha ? "no held-out documents to fit it" : "given");
  } else {
    fmt::print(", alpha = {} (the best held-out fit over {} documents)\n", report.alpha, report.heldout_documents);
    print_alpha_grid(report);
  }
  if (report.alpha_segmentation >= 0.0)
    fmt::print("segmentation: alpha = {:.3g}, beta = {} (the best log p(speakers | text) of the held-out documents "
               "joined, {} switches; read by trace --smooth and --spans)\n",
               report.alpha_segmentation, report.beta_segmentation, report.segmentation_switches);
}

void progress_line(const TrainProgress& p) {
  fmt::print(stderr, "\r\x1b[K");
  if (p.done < p.total)
    fmt::print(stderr, "{} {}/{}: {}", p.stage, p.done + 1, p.total, p.name);
  std::fflush(stderr);
}

// The trained pile with the --arpa masks added after its own, each with the
// mean of the trained masks' priors (then all renormalised). They take no
// part in the held-out fits (order, weights, alpha, beta).
Mixture with_arpa_masks(Mixture pile, const Args& args) {
  const std::vector<std::string> specs = args.all("--arpa");
  if (specs.empty()) return pile;
  if (pile.config().transition.size() != 0) throw UsageError("--arpa cannot join a pile with a transition matrix");
  std::vector<std::shared_ptr<const Persona>> personas;
  std::vector<std::string> names = pile.names();
  for (int k = 0; k < pile.size(); ++k) personas.push_back(pile.persona_ptr(k));
  const double mean = pile.prior().mean();
  for (const std::string& spec : specs) {
    const auto colon = spec.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) Args::bad("--arpa", spec, "FILE:NAME");
    const std::string path = spec.substr(0, colon), name = spec.substr(colon + 1);
    if (std::find(names.begin(), names.end(), name) != names.end())
      throw UsageError(fmt::format("--arpa {}: the pile already has a mask called '{}'", spec, name));
    auto lm = std::make_shared<NGramPersona>(load_arpa(path));
    fmt::print("ARPA mask '{}': {} (order {}, {} n-grams)\n", name, path, lm->order(), lm->num_ngrams());
    personas.push_back(std::move(lm));
    names.push_back(name);
  }
  Eigen::VectorXd prior = Eigen::VectorXd::Constant(Eigen::Index(personas.size()), mean);
  prior.head(pile.size()) = pile.prior();
  return Mixture(std::move(personas), std::move(names), prior / prior.sum(), pile.config());
}

const std::vector<std::string> kTransformerOnly = {
    "--file",  "--layout", "--objective", "--gate-posterior", "--layers", "--heads",  "--width",
    "--context", "--bias", "--tie-weights", "--batch",        "--steps",  "--lr",     "--min-lr",
    "--warmup", "--weight-decay", "--clip", "--threads",      "--eval-every", "--checkpoint",
    "--checkpoint-every", "--resume"};

TransformerTrainConfig transformer_config(const Args& args) {
  TransformerTrainConfig c;
  c.model.layers = int(args.integer("--layers", 4, 1, 1 << 16));
  c.model.heads = int(args.integer("--heads", 4, 1, 1 << 16));
  c.model.width = int(args.integer("--width", 128, 1, 1 << 20));
  c.model.context = int(args.integer("--context", 64, 1, 1 << 20));
  c.model.bias = args.has("--bias");
  c.model.tie_weights = args.has("--tie-weights");
  if (c.model.width % c.model.heads != 0)
    throw UsageError(fmt::format("--heads {} does not divide --width {}", c.model.heads, c.model.width));
  c.objective = objective_from_name(args.choice("--objective", "supervised", {"supervised", "mixture", "gate"}));
  c.gate_posterior = args.has("--gate-posterior");
  if (c.gate_posterior && c.objective != Objective::kGate) throw UsageError("--gate-posterior needs --objective gate");
  c.batch = int(args.integer("--batch", 12, 1, 1 << 20));
  c.steps = int(args.integer("--steps", 2000, 0, 1 << 30));
  c.optimizer.lr = args.real("--lr", 1e-3, Range{0, INFINITY, true});
  c.optimizer.min_lr = args.real("--min-lr", std::min(1e-4, c.optimizer.lr), Range{0, c.optimizer.lr});
  c.optimizer.warmup = int(args.integer("--warmup", 100, 0, 1 << 30));
  c.optimizer.weight_decay = args.real("--weight-decay", 0.1, Range{0, INFINITY});
  c.optimizer.clip = args.real("--clip", 1.0, Range{0, INFINITY});
  c.threads = int(args.integer("--threads", 0, 0, kMaxThreads));
  c.eval_every = int(args.integer("--eval-every", 250, 0, 1 << 30));
  c.seed = args.seed("--seed", 0);
  c.checkpoint_path = args.get("--checkpoint", "");
  c.checkpoint_every = int(args.integer("--checkpoint-every", 0, 0, 1 << 30));
  if (args.has("--checkpoint-every") && !args.has("--checkpoint"))
    throw UsageError("--checkpoint-every needs --checkpoint PATH");
  return c;
}

// The live line on a terminal; permanent lines at evaluations (and every
// 100 steps when stderr is not a terminal).
std::function<void(const TransformerProgress&)> transformer_progress(const std::string& label) {
  const bool tty = isatty(fileno(stderr));
  return [tty, label](const TransformerProgress& p) {
    const std::string line = fmt::format("{}step {}/{}  loss {:.4f}  lr {:.2e}  |g| {:.2f}  {:.0f} tokens/s", label,
                                         p.step, p.steps, p.loss, p.learning_rate, p.grad_norm, p.tokens_per_second);
    if (tty) fmt::print(stderr, "\r\x1b[K{}", line);
    if (!std::isnan(p.eval_loss)) {
      if (tty) fmt::print(stderr, "\r\x1b[K");
      fmt::print("{}  held-out {:.4f} nats/token ({:.3f} bits)\n", line, p.eval_loss, p.eval_loss / std::log(2.0));
      std::fflush(stdout);
    } else if (!tty && p.step % 100 == 0) {
      fmt::print(stderr, "{}\n", line);
    }
    std::fflush(stderr);
  };
}

int run_train_transformer(const Args& args, const std::string& output) {
  for (const char* o : {"--order", "--gamma", "--no-background", "--no-calibrate"})
    if (args.has(o)) throw UsageError(fmt::format("{} is an n-gram option; not with --kind transformer", o));
  if (args.get("--alpha", "") == "auto") throw UsageError("--alpha auto is for n-gram piles; give a number");
  TransformerTrainConfig tc = transformer_config(args);
  const double heldout = args.real("--heldout", 0.1, Range{0, 1, false, true});
  const std::string layout = args.choice("--layout", "hydra", {"hydra", "independent"});
  TransformerData data;
  if (args.has("--file")) {
    for (const char* o : {"--builtin", "--dir", "--jsonl", "--play", "--fortunes"})
      if (args.has(o)) throw UsageError(fmt::format("give --file or {}, not both", o));
    const std::string path = args.get("--file");
    data = TransformerData::from_text(read_input(path, max_input(args)), heldout, std::filesystem::path(path).stem().string());
    fmt::print("text: {} ({} training tokens, {} held out)\n", path, data.train[0].size(), data.heldout[0].size());
  } else {
    auto [corpus, source] = load_corpus(args);
    fmt::print("corpus: {} ({} documents, {} bytes, {} personas)\n", source, corpus.size(), corpus.bytes(),
               corpus.personas().size());
    print_corpus(corpus);
    data = TransformerData::from_corpus(corpus, heldout, tc.seed);
  }
  if (layout == "independent" && tc.objective != Objective::kSupervised)
    throw UsageError("--layout independent trains each persona alone: only --objective supervised");
  if (args.has("--resume") && layout == "independent") throw UsageError("--resume needs --layout hydra");
  const auto start = Clock::now();
  MixtureConfig mc;
  mc.switching = switching_from_name(args.choice("--switching", "fixed_share", kSwitchings));
  mc.alpha = mc.switching == Switching::kFixedShare ? args.real("--alpha", 1e-3, Range{0, 1}) : 0.0;
  mc.beta = args.real("--beta", 1.0, Range{0, INFINITY, true});
  mc.switch_after = switch_after_of(args);
  std::optional<Mixture> pile;
  const auto summary = [](const TransformerTrainer& t) {
    const TransformerConfig& m = t.model().config();
    fmt::print("  {} layers x {} heads, width {}, context {}, {} persona head(s): {} parameters, {:.1f} MFLOP/token\n",
               m.layers, m.heads, m.width, m.context, m.personas, m.parameter_count(),
               m.training_flops_per_token() / 1e6);
  };
  if (layout == "hydra") {
    tc.on_progress = transformer_progress("");
    TransformerTrainer trainer = args.has("--resume") ? TransformerTrainer::resume(args.get("--resume"), data, tc)
                                                      : TransformerTrainer(tc, data);
    fmt::print("training a hydra ({}{}):\n", objective_name(trainer.config().objective),
               args.has("--resume") ? fmt::format(", resumed at step {}", trainer.steps_done()) : "");
    summary(trainer);
    trainer.run();
    pile = hydra_pile(trainer.shared_model(), data, mc);
  } else {
    std::vector<std::shared_ptr<const TransformerModel<float>>> models;
    for (std::size_t k = 0; k < data.names.size(); ++k) {
      TransformerData one;
      one.names = {data.names[k]};
      one.train = {data.train[k]};
      one.heldout = {data.heldout[k]};
      TransformerTrainConfig c = tc;
      c.on_progress = transformer_progress(data.names[k] + ": ");
      if (!c.checkpoint_path.empty()) c.checkpoint_path += "." + data.names[k];
      TransformerTrainer trainer(c, std::move(one));
      fmt::print("training persona '{}' alone:\n", data.names[k]);
      summary(trainer);
      trainer.run();
      models.push_back(trainer.shared_model());
    }
    pile = independent_pile(models, data, mc);
  }
  fmt::print("trained in {:.1f} s\n", seconds_since(start));
  pile = with_arpa_masks(std::move(*pile), args);
  save(*pile, output);
  print_written(output);
  return 0;
}

}  // namespace

int run_train(const Args& args) {
  if (!args.has("--output")) throw UsageError("train needs -o MODEL, the file to write");
  const std::string kind = args.choice("--kind", "ngram", {"ngram", "transformer"});
  if (kind == "transformer" && (args.has("--compact") || args.has("--quantize")))
    throw UsageError("--compact and --quantize are n-gram options (--kind ngram)");
  if (kind == "transformer") return run_train_transformer(args, args.get("--output"));
  for (const std::string& o : kTransformerOnly)
    if (args.has(o)) throw UsageError(fmt::format("{} is a transformer option; add --kind transformer", o));
  TrainConfig cfg = train_config(args);
  const bool compact = args.has("--compact"), quantize = args.has("--quantize");
  if (compact && quantize) throw UsageError("give one of --compact and --quantize");
  if ((compact || quantize) && cfg.background)
    throw UsageError(fmt::format("{} needs --no-background (interpolated masks are saved over double n-gram models)",
                                 compact ? "--compact" : "--quantize"));
  const std::string output = args.get("--output");
  auto [corpus, source] = load_corpus(args);
  fmt::print("corpus: {} ({} documents, {} bytes, {} personas)\n", source, corpus.size(), corpus.bytes(),
             corpus.personas().size());
  print_corpus(corpus);
  if (isatty(fileno(stderr))) cfg.on_progress = progress_line;
  const auto start = Clock::now();
  TrainReport report;
  const Mixture trained = train(corpus, cfg, &report);
  if (cfg.on_progress) fmt::print(stderr, "\r\x1b[K");
  fmt::print("\n");
  print_report(cfg, report, trained);
  fmt::print("trained order-{} personas in {:.2f} s\n", report.order, seconds_since(start));
  Mixture mix = with_arpa_masks(trained, args);
  if (compact || quantize) {
    mix = compact_personas(mix, quantize);
    fmt::print("n-gram masks written {}\n", quantize ? "quantised (kind ngram_quant)" : "compact (kind ngram_compact)");
  }
  save(mix, output);
  print_written(output);
  return 0;
}

}  // namespace simulacra::cli
