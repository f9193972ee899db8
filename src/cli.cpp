// src/cli.cpp — the `simulacra` command-line tool.
//
//   simulacra train    [corpus options] -o MODEL     train a pile of masks, save it
//   simulacra score    MODEL [FILE ...|--text TEXT]   bits per byte and attribution
//   simulacra trace    MODEL [FILE|--text TEXT]       the text coloured by mask, weights
//   simulacra generate MODEL [--prompt TEXT]          sample a continuation
//   simulacra inspect  MODEL [FILE|--text TEXT]       every mask's next tokens, side by side
//   simulacra vote     MODEL --prompt P --option O... each mask's answer and the pile's
//   simulacra switch   MODEL --from A --to B ...      how fast a mask swap happens, both ways
//   simulacra demo                                    the whole story on the built-in corpus
//
// Exit status: 0 on success, 1 when the library reports an error (a missing
// file, a damaged model), 2 for a mistake in the command line.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/color.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include "cli/args.hpp"
#include "cli/demo.hpp"
#include "cli/inspect_view.hpp"
#include "cli/table.hpp"
#include "cli/trace_view.hpp"
#include "simulacra/simulacra.hpp"

namespace simulacra::cli {
namespace {

using Clock = std::chrono::steady_clock;

// ---- shared pieces --------------------------------------------------------------

const Option kColor{"--color", "", "WHEN", "auto",
                    "colour the output: always, never, or auto (when stdout is a terminal and NO_COLOR is unset)"};
const Option kText{"--text", "", "TEXT", "", "use TEXT instead of reading files"};
const std::vector<std::string> kSwitchings = {"none", "fixed_share", "forgetting"};

bool color_of(const Args& args) { return use_color(args.choice("--color", "auto", {"always", "never", "auto"})); }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The bytes of a file, or of stdin for "-".
std::string read_input(const std::string& path) {
  std::ostringstream out;
  if (path == "-") {
    out << std::cin.rdbuf();
    return out.str();
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw FileError(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FileError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  out << in.rdbuf();
  return out.str();
}

// The documents named on the command line: --text, else each FILE (the
// positional arguments from `first`), else stdin. (label, text) pairs.
std::vector<std::pair<std::string, std::string>> read_documents(const Args& args, std::size_t first) {
  const std::vector<std::string> files(args.positional.begin() + std::ptrdiff_t(first), args.positional.end());
  if (args.has("--text") && !files.empty())
    throw UsageError(fmt::format("give either --text or FILE, not both (got file '{}')", files[0]));
  if (args.has("--text")) return {{"text", args.get("--text")}};
  if (files.empty()) return {{"<stdin>", read_input("-")}};
  std::vector<std::pair<std::string, std::string>> docs;
  for (const std::string& f : files) docs.emplace_back(f == "-" ? "<stdin>" : f, read_input(f));
  return docs;
}

// The persona called `name`, for option `option`.
int persona_index(const Mixture& mix, const std::string& option, const std::string& name) {
  const auto& names = mix.names();
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end())
    throw UsageError(
        fmt::format("unknown persona '{}' for {} (the model has: {})", name, option, fmt::join(names, ", ")));
  return int(it - names.begin());
}

Steering steering_of(const Args& args, const Mixture& mix) {
  Steering s;
  if (args.has("--clamp")) s.clamp = persona_index(mix, "--clamp", args.get("--clamp"));
  for (const std::string& name : args.all("--exclude")) s.exclude.push_back(persona_index(mix, "--exclude", name));
  for (const std::string& spec : args.all("--bias")) {
    const auto eq = spec.rfind('=');
    if (eq == std::string::npos || eq == 0) Args::bad("--bias", spec, "NAME=X");
    if (s.prior_bias.size() == 0) s.prior_bias = Eigen::VectorXd::Zero(mix.size());
    s.prior_bias[persona_index(mix, "--bias", spec.substr(0, eq))] +=
        Args::to_real("--bias", spec.substr(eq + 1), Range{});
  }
  if (s.clamp >= 0 && std::count(s.exclude.begin(), s.exclude.end(), s.clamp))
    throw UsageError(fmt::format("persona '{}' is both clamped and excluded", mix.names()[std::size_t(s.clamp)]));
  if (std::set<int>(s.exclude.begin(), s.exclude.end()).size() == std::size_t(mix.size()))
    throw UsageError("--exclude leaves no persona");
  if (args.has("--expert") != args.has("--anti-expert"))
    throw UsageError("product steering needs both --expert NAME and --anti-expert NAME");
  if (args.has("--lambda") && !args.has("--expert")) throw UsageError("--lambda needs --expert and --anti-expert");
  if (args.has("--expert")) {
    s.product.expert = persona_index(mix, "--expert", args.get("--expert"));
    s.product.anti_expert = persona_index(mix, "--anti-expert", args.get("--anti-expert"));
    if (s.product.expert == s.product.anti_expert)
      throw UsageError(fmt::format("--expert and --anti-expert are both '{}'", args.get("--expert")));
    s.product.lambda = args.real("--lambda", 1.0, Range{});
  }
  mix.check(s);
  return s;
}

// Steering options, shared by score, generate, inspect and vote (read by steering_of).
const Option kClamp{"--clamp", "", "NAME", "", "speak with this persona only"};
const Option kExclude{"--exclude", "", "NAME", "", "silence this persona", true};
const Option kBias{"--bias", "", "NAME=X", "", "add X to the persona's log prior", true};
const Option kExpert{"--expert", "", "NAME", "", "product steering: add lambda x this persona's log-probs"};
const Option kAntiExpert{"--anti-expert", "", "NAME", "", "product steering: subtract lambda x this persona's"};
const Option kLambda{"--lambda", "", "X", "1", "strength of the product steering (finite)"};

// ---- train ----------------------------------------------------------------------

const Command kTrain{
    "train", "-o MODEL", "Train a pile of masks (n-gram, or a transformer hydra) on documents by persona and save it.",
    "Give one corpus option (--builtin when none is given). Each persona is a Kneser-Ney model of its own\n"
    "documents, the prior is its share of the documents; with fixed share, alpha is chosen on held-out documents.",
    {{"--builtin", "", "", "", "the corpus embedded in the library (data/personas/*.txt), the default"},
     {"--dir", "", "PATH", "", "a directory of <persona>.txt files (paragraphs are documents) or <persona>/ folders"},
     {"--jsonl", "", "PATH", "", "JSON Lines, one {\"text\": ..., \"persona\": ...} object per line"},
     {"--play", "", "PATH", "", "a play script: each speech is a document by its speaker"},
     {"--top-speakers", "", "N", "0, all", "with --play: keep the N speakers with the most text"},
     {"--fortunes", "", "PATH", "", "fortune(6) files or directories; each file is one persona", false, true},
     {"--order", "", "N", "5", "n-gram order of every persona"},
     {"--switching", "", "RULE", "fixed_share", "how masks swap mid-text: none, fixed_share, forgetting"},
     {"--alpha", "", "auto|X", "auto", "fixed-share rate in [0, 1]; auto picks the best of a grid on held-out text"},
     {"--beta", "", "X", "1", "likelihood tempering (> 0): above 1 sharpens the posterior"},
     {"--gamma", "", "X", "1", "with --switching forgetting: the forgetting factor in [0, 1]"},
     {"--heldout", "", "F", "0.1", "share of each persona's documents held out to fit alpha, in [0, 1)"},
     {"--seed", "", "S", "0", "seed of the held-out split (and, for transformers, of the weights and batches)"},
     {"--output", "-o", "MODEL", "", "where to write the model (a .safetensors file); required"},
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
     {"--resume", "", "PATH", "", "transformer: continue from a checkpoint (same data; bit-exact)"}},
    0, 0};

// The corpus chosen by the options, and a description of where it came from.
std::pair<Corpus, std::string> load_corpus(const Args& args) {
  std::vector<std::string> given;
  for (const char* o : {"--builtin", "--dir", "--jsonl", "--play", "--fortunes"})
    if (args.has(o)) given.push_back(o);
  if (given.size() > 1) throw UsageError(fmt::format("give one corpus option, not {}", fmt::join(given, " and ")));
  if (args.has("--top-speakers") && !args.has("--play")) throw UsageError("--top-speakers needs --play");
  if (args.has("--dir")) return {Corpus::from_directory(args.get("--dir")), args.get("--dir")};
  if (args.has("--jsonl")) return {Corpus::from_jsonl(args.get("--jsonl")), args.get("--jsonl")};
  if (args.has("--fortunes"))
    return {Corpus::from_fortunes(args.all("--fortunes")), fmt::format("{}", fmt::join(args.all("--fortunes"), " "))};
  if (args.has("--play")) {
    const auto top = std::size_t(args.integer("--top-speakers", 0, 0, Args::kNoLimit));
    return {Corpus::from_play(args.get("--play"), top), args.get("--play")};
  }
  Corpus builtin = Corpus::builtin();
  if (builtin.empty()) throw FileError("this build embeds no corpus (data/personas/*.txt was empty)");
  return {std::move(builtin), "the built-in corpus"};
}

TrainConfig train_config(const Args& args) {
  TrainConfig cfg;
  cfg.order = int(args.integer("--order", 5, 1, 1000));
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
  t.print(false);
}

void print_alpha_grid(const TrainReport& report) {
  Table t;
  t.column("alpha");
  t.column("held-out bits/byte");
  t.column("", Table::Align::kLeft);
  for (std::size_t g = 0; g < report.alpha_grid.size(); ++g)
    t.row({fmt::format("{}", report.alpha_grid[g]), fmt::format("{:.4f}", report.heldout_bits[g]),
           report.alpha_grid[g] == report.alpha ? "<- chosen" : ""});
  t.print(false);
}

void print_report(const TrainConfig& cfg, const TrainReport& report, const Mixture& mix) {
  const MixtureConfig& m = mix.config();
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
}

void progress_line(const TrainProgress& p) {
  fmt::print(stderr, "\r\x1b[K");
  if (p.done < p.total)
    fmt::print(stderr, "{} {}/{}: {}", p.stage == "alpha" ? "scoring alpha" : "fitting persona", p.done + 1, p.total,
               p.name);
  std::fflush(stderr);
}

// ---- train --kind transformer

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
  c.threads = int(args.integer("--threads", 0, 0, 1024));
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
  for (const char* o : {"--order", "--gamma"})
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
    data = TransformerData::from_text(read_input(path), heldout, std::filesystem::path(path).stem().string());
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
  std::vector<std::shared_ptr<const Persona>> personas;
  Eigen::VectorXd prior(Eigen::Index(data.names.size()));
  for (std::size_t k = 0; k < data.names.size(); ++k) prior[Eigen::Index(k)] = double(data.train[k].size());
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
    for (std::size_t k = 0; k < data.names.size(); ++k)
      personas.push_back(std::make_shared<TransformerPersona>(trainer.shared_model(), int(k)));
  } else {
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
      personas.push_back(std::make_shared<TransformerPersona>(trainer.shared_model(), 0));
    }
  }
  MixtureConfig mc;
  mc.switching = switching_from_name(args.choice("--switching", "fixed_share", kSwitchings));
  mc.alpha = mc.switching == Switching::kFixedShare ? args.real("--alpha", 1e-3, Range{0, 1}) : 0.0;
  mc.beta = args.real("--beta", 1.0, Range{0, INFINITY, true});
  const Mixture mix(std::move(personas), data.names, prior, mc);
  fmt::print("trained in {:.1f} s\n", seconds_since(start));
  save(mix, output);
  std::error_code ec;
  const auto size = std::filesystem::file_size(output, ec);
  fmt::print("wrote {}{}\n", output, ec ? "" : fmt::format(" ({:.1f} KiB)", double(size) / 1024));
  return 0;
}

int run_train(const Args& args) {
  if (!args.has("--output")) throw UsageError("train needs -o MODEL, the file to write");
  const std::string kind = args.choice("--kind", "ngram", {"ngram", "transformer"});
  if (kind == "transformer") return run_train_transformer(args, args.get("--output"));
  for (const std::string& o : kTransformerOnly)
    if (args.has(o)) throw UsageError(fmt::format("{} is a transformer option; add --kind transformer", o));
  TrainConfig cfg = train_config(args);
  const std::string output = args.get("--output");
  auto [corpus, source] = load_corpus(args);
  fmt::print("corpus: {} ({} documents, {} bytes, {} personas)\n", source, corpus.size(), corpus.bytes(),
             corpus.personas().size());
  print_corpus(corpus);
  if (isatty(fileno(stderr))) cfg.on_progress = progress_line;
  const auto start = Clock::now();
  TrainReport report;
  const Mixture mix = train(corpus, cfg, &report);
  if (cfg.on_progress) fmt::print(stderr, "\r\x1b[K");
  fmt::print("\n");
  print_report(cfg, report, mix);
  fmt::print("trained order-{} personas in {:.2f} s\n", cfg.order, seconds_since(start));
  save(mix, output);
  std::error_code ec;
  const auto size = std::filesystem::file_size(output, ec);
  fmt::print("wrote {}{}\n", output, ec ? "" : fmt::format(" ({:.1f} KiB)", double(size) / 1024));
  return 0;
}

// ---- score ----------------------------------------------------------------------

const Command kScore{"score", "MODEL [FILE ...]",
                     "Bits per byte of each document under the mixture and under each persona, and its author.",
                     "Each FILE is one document (\"-\" reads stdin; no FILE and no --text reads stdin).\n"
                     "The attributed persona is the most probable author of the whole document, with its\n"
                     "posterior probability.",
                     {kText, kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor}, 1, -1};

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
    std::vector<Cell> row = {label, fmt::format("{}", text.size()), fmt::format("{:.3f}", mix.bits_per_byte(text, steering))};
    const Eigen::VectorXd per = mix.persona_bits_per_byte(text);
    for (int k = 0; k < mix.size(); ++k) row.emplace_back(fmt::format("{:.3f}", per[k]));
    Eigen::Index best = 0;
    const double top = mix.attribute(text).maxCoeff(&best);
    row.emplace_back(mix.names()[std::size_t(best)], persona_style(int(best)));
    row.emplace_back(fmt::format("{:.1f}%", 100 * std::exp(top)));
    t.row(std::move(row));
  }
  fmt::print("bits per byte (lower is better), per document:\n");
  t.print(color);
  return 0;
}

// ---- trace ----------------------------------------------------------------------

const Command kTrace{"trace", "MODEL [FILE]",
                     "Show which mask speaks where: the text coloured by persona, then the weights.",
                     "The text is read as one document; each byte takes the colour of the persona that dominates\n"
                     "after reading it. The table shows the weights before each listed token, the entropy of\n"
                     "the weights in bits and the mixture's natural-log probability of the token.",
                     {kText,
                      {"--every", "", "N", "about 20 rows", "one table row every N tokens"},
                      {"--spans", "", "", "", "also list the Viterbi attribution: the most likely mask of each span"},
                      kColor},
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
  print_owned_text(text, owners_after(trace, text.size()), color);
  const std::size_t every = every_given > 0 ? std::size_t(every_given) : (tokens.size() + 19) / 20;
  fmt::print("\nweights before each token ({} bytes{}):\n", text.size(),
             text.empty() ? "" : fmt::format(", {:.3f} bits/byte", mix.bits_per_byte(text)));
  print_weights_table(trace, tokens, mix.names(), every_rows(tokens.size(), every), color);
  if (args.has("--spans")) print_spans(attribute_spans(mix, tokens), tokens, mix.names(), color);
  return 0;
}

// ---- generate -------------------------------------------------------------------


const Command kGenerate{
    "generate", "MODEL", "Sample a continuation of a prompt from the mixture, or from steered masks.", "",
    {{"--prompt", "", "TEXT", "empty, a document start", "the text to continue"},
     {"--max-tokens", "", "N", "200", "tokens (bytes) to generate at most; stops early at a document end"},
     {"--temperature", "", "T", "0.8", "sampling temperature (>= 0; 0 is greedy)"},
     {"--top-k", "", "K", "0, off", "keep the K most likely tokens"},
     {"--top-p", "", "P", "1, off", "keep the smallest set of tokens reaching probability P, in (0, 1]"},
     {"--min-p", "", "P", "0, off", "keep tokens at least P times as likely as the best, in [0, 1]"},
     {"--seed", "", "S", "0", "seed of the sampler (same seed, same text)"},
     kClamp,
     kExclude,
     kBias,
     kExpert,
     kAntiExpert,
     kLambda,
     {"--mode", "", "MODE", "mixture", "mixture: sample from the mixture; persona: draw a mask, then its token"},
     {"--show-weights", "", "", "", "print the weights after the prompt and at the end"},
     kColor},
    1, 1};

SamplerConfig sampler_config(const Args& args) {
  SamplerConfig s;
  s.temperature = args.real("--temperature", 0.8, Range{0, INFINITY});
  s.top_k = int(args.integer("--top-k", 0, 0, kVocab));
  s.top_p = args.real("--top-p", 1.0, Range{0, 1, true});
  s.min_p = args.real("--min-p", 0.0, Range{0, 1});
  s.seed = args.seed("--seed", 0);
  return s;
}

// Prior, weights after the prompt and after the whole text (steered), and
// the unsteered filter's final weights when steering is on.
void print_generation_weights(const Mixture& mix, const GenerateConfig& cfg, const std::string& prompt,
                              const Generation& gen, bool color) {
  std::vector<Token> all = encode(prompt);
  all.insert(all.end(), gen.tokens.begin(), gen.tokens.end());
  MixtureState steered = mix.begin(cfg.steering), free = mix.begin();
  steered.step(all);
  free.step(all);
  const bool steering = cfg.steering.clamp >= 0 || !cfg.steering.exclude.empty() || cfg.steering.prior_bias.size() > 0;
  Table t;
  t.column("persona", Table::Align::kLeft);
  t.column("prior");
  t.column("after prompt");
  t.column("final");
  if (steering) t.column("unsteered");
  if (cfg.mode == GenerateMode::kPersona) t.column("spoke");
  const auto pct = [](double log_w) { return fmt::format("{:.1f}%", 100 * std::exp(log_w)); };
  for (int k = 0; k < mix.size(); ++k) {
    std::vector<Cell> row = {Cell(mix.names()[std::size_t(k)], persona_style(k)), pct(std::log(mix.prior()[k])),
                             pct(gen.tokens.empty() ? steered.log_weights()[k] : gen.log_weights(0, k)),
                             pct(steered.log_weights()[k])};
    if (steering) row.emplace_back(pct(free.log_weights()[k]));
    if (cfg.mode == GenerateMode::kPersona)
      row.emplace_back(fmt::format("{}", std::count(gen.personas.begin(), gen.personas.end(), k)));
    t.row(std::move(row));
  }
  fmt::print("\nweights ({} tokens generated{}):\n", gen.tokens.size(),
             !gen.tokens.empty() && gen.tokens.back() == kBoundary ? ", ended at a document boundary" : "");
  t.print(color);
}

int run_generate(const Args& args) {
  const bool color = color_of(args);
  GenerateConfig cfg;
  cfg.max_tokens = int(args.integer("--max-tokens", 200, 0, 100'000'000));
  cfg.sampler = sampler_config(args);
  cfg.mode = generate_mode_from_name(args.choice("--mode", "mixture", {"mixture", "persona"}));
  const std::string prompt = args.get("--prompt");
  const Mixture mix = load(args.positional[0]);
  cfg.steering = steering_of(args, mix);
  const Generation gen = generate(mix, prompt, cfg);
  fmt::print("{}{}\n", paint(color, fmt::emphasis::bold, prompt), gen.text);
  if (args.has("--show-weights")) print_generation_weights(mix, cfg, prompt, gen, color);
  return 0;
}

// ---- inspect --------------------------------------------------------------------


const Command kInspect{
    "inspect", "MODEL [FILE]", "Speak to the shoggoth: every mask's next tokens after a context, and the pile's.",
    "The context (--text, or FILE, \"-\" for stdin; nothing: a document start) is read as the start of a\n"
    "document, without an end. The table's header gives each persona's weight after it ('*' marks the\n"
    "heaviest); each column lists that persona's K most likely next tokens, the last one the mixture's.",
    {{"--text", "", "CONTEXT", "empty, a document start", "use CONTEXT instead of reading FILE"},
     {"--top-k", "", "K", "10", "tokens listed per column, 1 to 257"},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor},
    1, 2};

int run_inspect(const Args& args) {
  const bool color = color_of(args);
  const int top_k = int(args.integer("--top-k", 10, 1, kVocab));
  if (args.has("--text") && args.positional.size() > 1)
    throw UsageError(fmt::format("give either --text or FILE, not both (got file '{}')", args.positional[1]));
  const std::string context =
      args.has("--text") ? args.get("--text") : args.positional.size() > 1 ? read_input(args.positional[1]) : "";
  const Mixture mix = load(args.positional[0]);
  const Steering steering = steering_of(args, mix);
  const RawView view = raw_view(mix, context, top_k, steering);
  fmt::print("after {} ({} bytes), the weights and each mask's next tokens:\n",
             context.empty() ? "a document start" : "\"" + shown_text(context.size() > 60 ? "..." + context.substr(context.size() - 60) : context) + "\"",
             context.size());
  print_raw_view(view, mix.names(), color);
  return 0;
}

// ---- vote -----------------------------------------------------------------------

const Command kVote{
    "vote", "MODEL --prompt TEXT --option TEXT...",
    "Ask a multiple-choice question: each mask's answer, and the pile's in superposition.",
    "Each option is scored as the continuation of the prompt (read from a document start, no boundary\n"
    "between them): by each persona alone, and by the mixture after its weights have read the prompt.\n"
    "Probabilities are normalised over the options; '*' marks each column's choice. The last column is\n"
    "the mixture's natural-log probability of the option, and the last row the weights after the prompt.",
    {{"--prompt", "", "TEXT", "", "the question; required (may be empty)"},
     {"--option", "", "TEXT", "", "one answer (non-empty); give at least one", true},
     kClamp, kExclude, kBias, kExpert, kAntiExpert, kLambda, kColor},
    1, 1};

int run_vote(const Args& args) {
  const bool color = color_of(args);
  if (!args.has("--prompt")) throw UsageError("vote needs --prompt TEXT");
  const std::vector<std::string> options = args.all("--option");
  if (options.empty()) throw UsageError("vote needs at least one --option TEXT");
  for (const std::string& o : options)
    if (o.empty()) Args::bad("--option", o, "a non-empty answer");
  const Mixture mix = load(args.positional[0]);
  const Steering steering = steering_of(args, mix);
  const std::string prompt = args.get("--prompt");
  const Vote v = vote(mix, prompt, options, steering);
  fmt::print("prompt: \"{}\"\n", shown_text(prompt));
  print_vote(v, options, mix.names(), color);
  return 0;
}

// ---- switch ---------------------------------------------------------------------

const Command kSwitch{
    "switch", "MODEL --from NAME --to NAME (--text-a TEXT|--file-a F) (--text-b TEXT|--file-b F)",
    "Measure a mask swap both ways: how many tokens until the new mask takes over.",
    "A->B reads text A (in the voice of --from) then text B (in the voice of --to) as one document and\n"
    "follows the weight of --to through text B; B->A reads B then A and follows the weight of --from.\n"
    "Without switching the new mask must first pay back the evidence of the old text; fixed share caps it.",
    {{"--from", "", "NAME", "", "the persona text A is written in; required"},
     {"--to", "", "NAME", "", "the persona text B is written in; required"},
     {"--text-a", "", "TEXT", "", "text A"},
     {"--file-a", "", "F", "", "read text A from F (\"-\" for stdin)"},
     {"--text-b", "", "TEXT", "", "text B"},
     {"--file-b", "", "F", "", "read text B from F (\"-\" for stdin)"},
     {"--every", "", "N", "about 12 columns", "one weight column every N tokens"},
     kColor},
    1, 1};

// Text A or B: exactly one of --text-X and --file-X.
std::string switch_text(const Args& args, const std::string& x) {
  const std::string text = "--text-" + x, file = "--file-" + x;
  if (args.has(text) && args.has(file)) throw UsageError(fmt::format("give either {} or {}, not both", text, file));
  if (!args.has(text) && !args.has(file)) throw UsageError(fmt::format("switch needs {} TEXT or {} F", text, file));
  std::string s = args.has(text) ? args.get(text) : read_input(args.get(file));
  if (s.empty())
    throw InvalidArgument(fmt::format("{}: text {} is empty", args.has(text) ? text : args.get(file), x == "a" ? "A" : "B"));
  return s;
}

int run_switch(const Args& args) {
  const bool color = color_of(args);
  for (const char* o : {"--from", "--to"})
    if (!args.has(o)) throw UsageError(fmt::format("switch needs {} NAME", o));
  const long long every_given = args.integer("--every", 0, 1, Args::kNoLimit);
  const std::string text_a = switch_text(args, "a"), text_b = switch_text(args, "b");
  const Mixture mix = load(args.positional[0]);
  const int a = persona_index(mix, "--from", args.get("--from"));
  const int b = persona_index(mix, "--to", args.get("--to"));
  const auto both = switch_asymmetry(mix, a, b, text_a, text_b);
  const std::size_t longest = std::max(text_a.size(), text_b.size());
  const std::size_t every = every_given > 0 ? std::size_t(every_given) : std::max<std::size_t>(1, (longest + 10) / 11);
  fmt::print("A = {} bytes by {}, B = {} bytes by {} ({} switching)\n", text_a.size(), args.get("--from"),
             text_b.size(), args.get("--to"), switching_name(mix.config().switching));
  print_switch(both, args.get("--from"), args.get("--to"), a, b, every, color);
  return 0;
}

// ---- demo -----------------------------------------------------------------------

const Command kDemo{"demo", "", "The pile of masks in a few seconds, on the built-in corpus.",
                    "Trains on 80% of each persona's documents, measures attribution and bits per byte on\n"
                    "the other 20%, traces a text whose mask swaps midway, and samples from every mask.",
                    {{"--order", "", "N", "5", "n-gram order of every persona"},
                     {"--seed", "", "S", "0", "seed of the split and of the samples"},
                     kColor},
                    0, 0};

int run_demo(const Args& args) {
  const bool color = color_of(args);
  TrainConfig cfg;
  cfg.order = int(args.integer("--order", 5, 1, 1000));
  cfg.seed = args.seed("--seed", 0);
  const auto start = Clock::now();
  const Corpus corpus = Corpus::builtin();
  if (corpus.empty()) throw FileError("this build embeds no corpus (data/personas/*.txt was empty)");
  const auto [train_part, heldout] = corpus.split(0.2, cfg.seed);

  section("1. Train on 80% of each persona's documents, test on the other 20%", color);
  fmt::print("built-in corpus: {} documents, {} bytes; order-{} Kneser-Ney masks, fixed-share switching\n",
             corpus.size(), corpus.bytes(), cfg.order);
  TrainReport report;
  const Mixture mix = train(train_part, cfg, &report);
  fmt::print("alpha = {} (fitted on {} documents held out of the training part)\n\n", report.alpha,
             report.heldout_documents);
  demo_evaluate(mix, train_part, heldout, color);

  section("2. The model used below", color);
  fmt::print("The 80% model is kept, so the texts traced below were never seen in training.\n");

  section("3. A mask swap, traced", color);
  demo_swap(mix, heldout, color);

  section("4. Samples: each mask alone, then the whole pile", color);
  fmt::print("200 tokens each at temperature 0.8; a document end shows as a line break.\n");
  demo_samples(mix, cfg.seed, color);

  section("Next", color);
  fmt::print("Save a model:  simulacra train --builtin --order {} -o personas.safetensors\n", cfg.order);
  fmt::print("then try:      simulacra trace personas.safetensors --text \"Arr, certainly! Here are a few steps.\"\n");
  fmt::print("demo finished in {:.2f} s\n", seconds_since(start));
  return 0;
}

// ---- dispatch -------------------------------------------------------------------

struct Entry {
  const Command* command;
  int (*run)(const Args&);
};

const std::vector<Entry> kCommands = {
    {&kTrain, run_train},     {&kScore, run_score}, {&kTrace, run_trace},   {&kGenerate, run_generate},
    {&kInspect, run_inspect}, {&kVote, run_vote},   {&kSwitch, run_switch}, {&kDemo, run_demo}};

void print_overview() {
  fmt::print(
      "simulacra: a language model that is an explicit, weighted mixture of persona sub-models (masks)\n\n"
      "usage: simulacra <command> [options]\n\ncommands:\n");
  for (const Entry& e : kCommands) fmt::print("  {:<9} {}\n", e.command->name, e.command->summary);
  fmt::print("\nRun 'simulacra <command> --help' for the options of a command.\n");
}

const Entry* find_command(const std::string& name) {
  for (const Entry& e : kCommands)
    if (e.command->name == name) return &e;
  throw UsageError(fmt::format("unknown command '{}'", name));
}

}  // namespace
}  // namespace simulacra::cli

int main(int argc, char** argv) {
  using namespace simulacra::cli;
  std::string hint = "simulacra --help";
  try {
    const std::string first = argc > 1 ? argv[1] : "";
    if (first == "--help" || first == "-h" || (first == "help" && argc == 2)) {
      print_overview();
      return 0;
    }
    if (first == "help") {
      print_help(*find_command(argv[2])->command);
      return 0;
    }
    if (first.empty()) throw UsageError("no command given");
    const Entry* entry = find_command(first);
    hint = fmt::format("simulacra {} --help", first);
    const Args args = parse(*entry->command, argc - 2, argv + 2);
    if (args.help()) {
      print_help(*entry->command);
      return 0;
    }
    return entry->run(args);
  } catch (const UsageError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "simulacra: error: {} (see '{}')\n", e.what(), hint);
    return 2;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "simulacra: error: {}\n", e.what());
    return 1;
  }
}
