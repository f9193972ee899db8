// tests/cli_test.cpp — the `simulacra` command-line tool, run as a subprocess
// (cli_testing.hpp): help, usage errors, and every command on a small model.
// Missing and damaged files, bounded inputs and Ctrl-C: cli_input_test.cpp.
#include <iterator>

#include "simulacra/json.hpp"

#include "cli_testing.hpp"
#include "simulacra/arpa.hpp"
#include "simulacra/model_file.hpp"

namespace {


TEST_F(CliTest, TopLevelHelpListsEveryCommand) {
  for (const char* form : {"--help", "-h", "help"}) {
    const Outcome r = run(form);
    EXPECT_EQ(r.status, 0) << form;
    for (const char* command : {"train", "discover", "score", "trace", "generate", "inspect", "vote", "switch", "info", "demo"})
      EXPECT_TRUE(has(r.output, command)) << form;
  }
}

TEST_F(CliTest, EveryCommandHelpListsEveryOption) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {"train",
       {"--builtin", "--dir", "--jsonl", "--play", "--top-speakers", "--fortunes", "--order", "--switching", "--alpha",
        "--beta", "--gamma", "--segment-bytes", "--heldout", "--seed", "-o", "--output"}},
      {"discover",
       {"--builtin", "--dir", "--play", "--fortunes", "--k", "--order", "--smoothing", "--mu", "--iterations",
        "--restarts", "--hard", "--beta", "--heldout", "--seed", "-o"}},
      {"score", {"--text", "--lines", "--json", "--color"}},
      {"info", {"--json", "--color", "--max-input-bytes"}},
      {"trace", {"--text", "--every", "--spans", "--json", "--color"}},
      {"inspect", {"--text", "--top-k", "--characteristic", "--min-count", "--clamp", "--exclude", "--bias", "--color"}},
      {"vote", {"--prompt", "--option", "--clamp", "--exclude", "--bias", "--color"}},
      {"switch", {"--from", "--to", "--text-a", "--file-a", "--text-b", "--file-b", "--every", "--color"}},
      {"generate",
       {"--prompt", "--max-tokens", "--temperature", "--top-k", "--top-p", "--min-p", "--seed", "--clamp", "--exclude",
        "--bias", "--mode", "--show-weights", "--num-samples", "--prompt-file"}},
      {"demo", {"--order", "--seed", "--play"}}};
  for (const auto& [command, options] : commands) {
    for (const std::string& form : {command + " --help", "help " + command}) {
      const Outcome r = run(form);
      EXPECT_EQ(r.status, 0) << form;
      EXPECT_TRUE(has(r.output, "usage: simulacra " + command)) << r.output;
      for (const std::string& option : options) EXPECT_TRUE(has(r.output, option)) << form << " lacks " << option;
      EXPECT_TRUE(has(r.output, "default")) << form;
    }
  }
}

TEST_F(CliTest, UnknownCommandExitsTwo) {
  const Outcome r = run("frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(has(r.output, "frobnicate")) << r.output;
  EXPECT_TRUE(has(r.output, "--help")) << r.output;
  EXPECT_EQ(run("").status, 2);
}

TEST_F(CliTest, UnknownOptionExitsTwo) {
  for (const char* command : {"train", "discover", "score", "trace", "generate", "inspect", "vote", "switch", "info", "demo"}) {
    const Outcome r = run(std::string(command) + " --no-such-option");
    EXPECT_EQ(r.status, 2) << command;
    EXPECT_TRUE(has(r.output, "--no-such-option")) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

TEST_F(CliTest, BadValuesExitTwoNamingTheOption) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"train --order zero -o x.safetensors", "--order"},
      {"train --heldout 1.5 -o x.safetensors", "--heldout"},
      {"train --switching sometimes -o x.safetensors", "--switching"},
      {"train --dir a --jsonl b -o x.safetensors", "--jsonl"},
      {"train", "-o"},
      {"discover --k 0", "--k"},
      {"discover --k 5..2", "--k"},
      {"discover --smoothing laplace", "--smoothing"},
      {"discover --mu 0", "--mu"},
      {"generate " + quote(model_) + " --temperature -1", "--temperature"},
      {"generate " + quote(model_) + " --top-p 0", "--top-p"},
      {"generate " + quote(model_) + " --clamp nobody", "nobody"},
      {"generate " + quote(model_) + " --bias pirate", "--bias"},
      {"trace " + quote(model_) + " --text hi --every 0", "--every"},
      {"trace " + quote(model_) + " --text hi --color sometimes", "--color"},
      {"score", "MODEL"},
      {"inspect " + quote(model_) + " --top-k 0", "--top-k"},
      {"inspect " + quote(model_) + " --text hi --clamp nobody", "nobody"},
      {"inspect " + quote(model_) + " --exclude ghost", "ghost"},
      {"vote " + quote(model_) + " --prompt hi", "--option"},
      {"vote " + quote(model_) + " --option A", "--prompt"},
      {"vote " + quote(model_) + " --prompt hi --option A --option ''", "--option"},
      {"switch " + quote(model_) + " --from pirate --to nobody --text-a Arr --text-b O", "nobody"},
      {"switch " + quote(model_) + " --from ghost --to poet --text-a Arr --text-b O", "ghost"},
      {"switch " + quote(model_) + " --to poet --text-a Arr --text-b O", "--from"},
      {"switch " + quote(model_) + " --from pirate --to poet --text-b O", "--text-a"},
      {"switch " + quote(model_) + " --from pirate --to poet --text-a A --file-a x --text-b O", "--file-a"}};
  for (const auto& [args, culprit] : cases) {
    const Outcome r = run(args);
    EXPECT_EQ(r.status, 2) << args << ": " << r.output;
    EXPECT_TRUE(has(r.output, culprit)) << args << ": " << r.output;
  }
}

TEST_F(CliTest, TrainWritesTheModel) {
  EXPECT_EQ(train_.status, 0) << train_.output;
  EXPECT_TRUE(has(train_.output, "pirate")) << train_.output;
  EXPECT_TRUE(has(train_.output, "poet")) << train_.output;
  EXPECT_TRUE(has(train_.output, "alpha")) << train_.output;
  EXPECT_TRUE(has(train_.output, model_)) << train_.output;
  if (has(train_.output, "calibrated on held-out segments")) {  // the fixture's corpus may hold too little
    EXPECT_TRUE(has(train_.output, "attribution evidence:")) << train_.output;
  }
  EXPECT_TRUE(fs::exists(model_));
}

// --compact and --quantize write the n-gram masks in the smaller layouts; the pile scores as the double
// one (the same posteriors' winner), and the options are refused with a background or together.
TEST_F(CliTest, TrainWritesCompactAndQuantisedMasks) {
  const std::string corpus = " --dir " + quote((dir_ / "corpus").string()) + " --order 3 --no-background --alpha 0.01";
  const std::string plain = (dir_ / "plain.safetensors").string(), compact = (dir_ / "compact.safetensors").string(),
                    quant = (dir_ / "quant.safetensors").string();
  ASSERT_EQ(run("train" + corpus + " -o " + quote(plain)).status, 0);
  const Outcome c = run("train" + corpus + " --compact -o " + quote(compact));
  ASSERT_EQ(c.status, 0) << c.output;
  EXPECT_TRUE(has(c.output, "ngram_compact")) << c.output;
  const Outcome q = run("train" + corpus + " --quantize -o " + quote(quant));
  ASSERT_EQ(q.status, 0) << q.output;
  EXPECT_TRUE(has(q.output, "ngram_quant")) << q.output;
  const simulacra::Mixture a = simulacra::load(plain), b = simulacra::load(compact), m = simulacra::load(quant);
  ASSERT_EQ(b.size(), a.size());
  ASSERT_EQ(m.size(), a.size());
  for (int k = 0; k < a.size(); ++k) {
    EXPECT_EQ(a.persona(k).kind(), "ngram");
    EXPECT_EQ(b.persona(k).kind(), "ngram_compact");
    EXPECT_EQ(m.persona(k).kind(), "ngram_quant");
  }
  const std::string text = "Arr, the sea be calling, matey!";
  EXPECT_NEAR(b.score(text), a.score(text), 1e-3 * std::abs(a.score(text)));
  EXPECT_NEAR(m.score(text), a.score(text), 0.05 * std::abs(a.score(text)));
  const Outcome s = run("score " + quote(quant) + " " + doc("pirate_doc.txt"));
  EXPECT_EQ(s.status, 0) << s.output;
  EXPECT_EQ(run("train --dir " + quote((dir_ / "corpus").string()) + " --order 3 --compact -o " + quote(compact)).status,
            2);  // interpolated masks
  EXPECT_EQ(run("train" + corpus + " --compact --quantize -o " + quote(compact)).status, 2);
}

// Discovery on the two-persona corpus: the masks against the labels, a pile that the other commands read.
TEST_F(CliTest, DiscoverFindsTheMasksAndSavesThePile) {
  const std::string out = (dir_ / "found.safetensors").string();
  const Outcome r = run("discover --dir " + quote((dir_ / "corpus").string()) +
                        " --k 1..3 --order 3 --heldout 0.25 --restarts 2 --seed 1 -o " + quote(out));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* part : {"held-out log-likelihood", "<- chosen", "iteration", "objective", "mask0", "NMI",
                           "adjusted Rand", "purity", "matched accuracy", "what each mask is", "wrote"})
    EXPECT_TRUE(has(r.output, part)) << part << " missing from " << r.output;
  const Outcome s = run("score " + quote(out) + " " + doc("pirate_doc.txt"));
  EXPECT_EQ(s.status, 0) << s.output;
  EXPECT_TRUE(has(s.output, "mask0")) << s.output;
}

// A tiny hydra from the shell: trains, evaluates, checkpoints, resumes, and
// the file it writes works with the other commands.
TEST_F(CliTest, TrainsATransformerHydra) {
  const std::string out = (dir_ / "hydra.safetensors").string(), ckpt = (dir_ / "hydra.ckpt").string();
  const std::string tiny = " --kind transformer --dir " + quote((dir_ / "corpus").string()) +
                           " --layers 1 --heads 2 --width 16 --context 16 --batch 4 --warmup 2 --eval-every 5"
                           " --threads 1 --heldout 0.3";
  const Outcome r = run("train" + tiny + " --steps 10 --checkpoint " + quote(ckpt) + " -o " + quote(out));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"hydra", "held-out", "step 10/10", "parameters", "wrote"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  const Outcome score = run("score " + quote(out) + " " + doc("pirate_doc.txt"));
  EXPECT_EQ(score.status, 0) << score.output;
  const Outcome resumed =
      run("train" + tiny + " --steps 10 --resume " + quote(ckpt) + " -o " + quote(out + ".2"));
  EXPECT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_TRUE(has(resumed.output, "resumed at step 10")) << resumed.output;
  const Outcome independent = run("train" + tiny + " --steps 3 --layout independent -o " + quote(out + ".3"));
  EXPECT_EQ(independent.status, 0) << independent.output;
  // Options of the other kind are usage errors.
  EXPECT_EQ(run("train" + tiny + " --order 3 -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train --layers 2 -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train" + tiny + " --gate-posterior -o " + quote(out)).status, 2);
  EXPECT_EQ(run("train" + tiny + " --heads 3 -o " + quote(out)).status, 2);
}

TEST_F(CliTest, ScoreAttributesEachDocumentToItsPersona) {
  const Outcome r = run("score " + quote(model_) + " " + doc("pirate_doc.txt") + " " + doc("poet_doc.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "bits per byte")) << r.output;
  EXPECT_EQ(attributed(r.output, "pirate_doc.txt"), "pirate") << r.output;
  EXPECT_EQ(attributed(r.output, "poet_doc.txt"), "poet") << r.output;
}

TEST_F(CliTest, ScoreReadsTextAndStdin) {
  const Outcome text = run("score " + quote(model_) + " --text " + quote("Arr, ye dogs!"));
  EXPECT_EQ(text.status, 0) << text.output;
  EXPECT_TRUE(has(text.output, "pirate")) << text.output;
  const Outcome stdin_run = run("score " + quote(model_) + " -", (dir_ / "poet_doc.txt").string());
  EXPECT_EQ(stdin_run.status, 0) << stdin_run.output;
  EXPECT_TRUE(has(stdin_run.output, "<stdin>")) << stdin_run.output;
}

TEST_F(CliTest, TraceWithoutColorHasNoEscapes) {
  const Outcome r = run("trace " + quote(model_) + " --color never " + doc("pirate_doc.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(has(r.output, "\x1b")) << r.output;
  EXPECT_TRUE(has(r.output, "pirate")) << r.output;
  EXPECT_TRUE(has(r.output, "poet")) << r.output;
  EXPECT_TRUE(has(r.output, "hoist the sails")) << r.output;
  EXPECT_TRUE(has(r.output, "<b>")) << "the last row is the document end: " << r.output;
  // Piped output is not a terminal: no colour by default either.
  EXPECT_FALSE(has(run("trace " + quote(model_) + " --text Arr").output, "\x1b"));
}

TEST_F(CliTest, TraceInColorAndEveryRow) {
  const Outcome colored = run("trace " + quote(model_) + " --color always --text " + quote("Arr, matey"));
  ASSERT_EQ(colored.status, 0) << colored.output;
  EXPECT_TRUE(has(colored.output, "\x1b[")) << colored.output;
  const Outcome every = run("trace " + quote(model_) + " --color never --every 1 --text " + quote("Ar\x01"));
  ASSERT_EQ(every.status, 0) << every.output;
  for (const char* row : {"'A'", "'r'", "'\\x01'", "<b>"}) EXPECT_TRUE(has(every.output, row)) << row << every.output;
}

TEST_F(CliTest, GenerateIsReproducibleForASeed) {
  const std::string args = "generate " + quote(model_) + " --prompt " + quote("Arr, ") + " --max-tokens 60 --seed 7";
  const Outcome first = run(args), second = run(args);
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_EQ(first.output, second.output);
  EXPECT_EQ(first.output.rfind("Arr, ", 0), 0u) << "the prompt comes first: " << first.output;
}

// The CLI's sampler defaults are the library's (SamplerConfig{}: llama.cpp's),
// as Python's generate() takes them; 1 and 0 turn the truncations off.
TEST_F(CliTest, GenerateDefaultsAreTheLibrarys) {
  const std::string base = "generate " + quote(model_) + " --max-tokens 80 --seed 3";
  const Outcome plain = run(base);
  ASSERT_EQ(plain.status, 0) << plain.output;
  const simulacra::SamplerConfig d;
  EXPECT_EQ(plain.output, run(base + fmt::format(" --temperature {} --top-p {} --min-p {} --top-k {}", d.temperature,
                                                 d.top_p, d.min_p, d.top_k)).output);
  const Outcome off = run(base + " --top-p 1 --min-p 0");
  ASSERT_EQ(off.status, 0) << off.output;
  EXPECT_NE(plain.output, off.output);
  for (const char* bad : {" --top-p nan", " --top-p 1.5", " --min-p -0.1", " --min-p 2"}) {
    const Outcome r = run(base + bad);
    EXPECT_EQ(r.status, 2) << bad << r.output;
  }
}

TEST_F(CliTest, GenerateSteersAndShowsWeights) {
  const Outcome r = run("generate " + quote(model_) + " --clamp poet --max-tokens 40 --show-weights --mode persona");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "100.0%")) << "poet is clamped: " << r.output;
  const Outcome biased = run("generate " + quote(model_) + " --bias pirate=2 --exclude poet --max-tokens 20");
  EXPECT_EQ(biased.status, 0) << biased.output;
}

// Product steering from the shell: scoring and generation accept it, and a
// half-given or degenerate request is a usage error naming the option.
TEST_F(CliTest, ProductSteeringScoresAndGenerates) {
  const std::string score = "score " + quote(model_) + " --color never " + doc("pirate_doc.txt");
  const Outcome plain = run(score);
  const Outcome steered = run(score + " --expert poet --anti-expert pirate --lambda 1.5");
  ASSERT_EQ(plain.status, 0) << plain.output;
  ASSERT_EQ(steered.status, 0) << steered.output;
  EXPECT_NE(plain.output, steered.output) << "the mixture column moves under product steering";
  EXPECT_EQ(attributed(steered.output, "pirate_doc.txt"), "pirate") << "attribution is not steered";
  const Outcome gen = run("generate " + quote(model_) + " --expert pirate --anti-expert poet --max-tokens 30 --seed 2");
  EXPECT_EQ(gen.status, 0) << gen.output;
  const Outcome half = run(score + " --expert poet");
  EXPECT_EQ(half.status, 2) << half.output;
  EXPECT_TRUE(has(half.output, "--anti-expert")) << half.output;
  const Outcome same = run(score + " --expert poet --anti-expert poet");
  EXPECT_EQ(same.status, 2) << same.output;
  const Outcome nan = run(score + " --expert poet --anti-expert pirate --lambda nan");
  EXPECT_EQ(nan.status, 2) << nan.output;
  EXPECT_TRUE(has(nan.output, "--lambda")) << nan.output;
}

TEST_F(CliTest, InspectShowsEveryPersonaAndTheMixture) {
  const Outcome r = run("inspect " + quote(model_) + " --text " + quote("Arr, the ") + " --top-k 3");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"pirate", "poet", "mixture", "rank", "%"}) EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_FALSE(has(r.output, "\x1b")) << "piped output is uncoloured";
  // --top-k 3: a title line, the header and three ranks.
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 5) << r.output;
  // A document start (no context), a file and steering also work.
  EXPECT_EQ(run("inspect " + quote(model_)).status, 0);
  const Outcome file = run("inspect " + quote(model_) + " " + doc("poet_doc.txt") + " --clamp poet --color always");
  EXPECT_EQ(file.status, 0) << file.output;
  EXPECT_TRUE(has(file.output, "100.0%")) << "poet is clamped: " << file.output;
  EXPECT_TRUE(has(file.output, "\x1b[")) << file.output;
  EXPECT_EQ(run("inspect " + quote(model_) + " --bias pirate=1 --exclude poet --text Arr").status, 0);
}

// --characteristic: a row per mask, only tokens its training text holds.
TEST_F(CliTest, InspectListsCharacteristicTokens) {
  const std::string text = std::string(kPirate) + kPoet;
  const Outcome r = run("inspect " + quote(model_) + " --characteristic 5 --min-count 1 --text " + quote(text));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "characteristic tokens")) << r.output;
  for (const char* word : {"pirate", "poet", "nats"}) EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 5").status, 2) << "a text is needed";
  EXPECT_EQ(run("inspect " + quote(model_) + " --min-count 2 --text hi").status, 2) << "--min-count alone";
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 0 --text hi").status, 2);
  EXPECT_EQ(run("inspect " + quote(model_) + " --characteristic 3 --min-count -1 --text hi").status, 2);
}

TEST_F(CliTest, VoteShowsEveryOptionAndPersona) {
  const Outcome r = run("vote " + quote(model_) + " --prompt " + quote("Ahoy, ye ") + " --option dogs --option " +
                        quote("silver moon"));
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"\"dogs\"", "\"silver moon\"", "pirate", "poet", "mixture", "weights after the prompt", "*"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  EXPECT_TRUE(has(r.output, "mixture chooses")) << r.output;
  const Outcome missing = run("vote " + quote(model_) + " --prompt hi");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_TRUE(has(missing.output, "--option")) << missing.output;
}

TEST_F(CliTest, SwitchMeasuresBothDirections) {
  const Outcome r = run("switch " + quote(model_) + " --from pirate --to poet --file-a " + doc("pirate_doc.txt") +
                        " --text-b " + quote("O silver moon, the willow weeps and the evening sighs.") + " --every 10");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const char* word : {"A->B", "B->A", "pirate -> poet", "poet -> pirate", "to 50%", "to 90%"})
    EXPECT_TRUE(has(r.output, word)) << word << r.output;
  const Outcome missing = run("switch " + quote(model_) + " --from pirate --to nobody --text-a Arr --text-b O");
  EXPECT_EQ(missing.status, 2) << missing.output;
  EXPECT_TRUE(has(missing.output, "nobody")) << missing.output;
  const Outcome empty = run("switch " + quote(model_) + " --from pirate --to poet --text-a '' --text-b O");
  EXPECT_EQ(empty.status, 1) << empty.output;
  EXPECT_TRUE(has(empty.output, "simulacra: error:")) << empty.output;
}

TEST_F(CliTest, TraceSpansListsTheAttribution) {
  const Outcome r = run("trace " + quote(model_) + " --spans --color never --text " +
                        quote("Arr, matey, hoist the sails, ye dogs! O silver moon, the willow weeps softly."));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "Viterbi attribution")) << r.output;
  EXPECT_TRUE(has(r.output, "starts with")) << r.output;
  EXPECT_TRUE(has(r.output, "\"Arr, matey")) << "the first span starts the text: " << r.output;
  EXPECT_FALSE(has(run("trace " + quote(model_) + " --text Arr").output, "Viterbi")) << "only with --spans";
}

// Switch points from the shell: saved in the model, and the smoothed view
// keeps one mask per line (no switch can happen inside a line).
TEST_F(CliTest, SwitchAfterAndSmoothedTrace) {
  const std::string lines = (dir_ / "lines.safetensors").string();
  const Outcome t = run("train --dir " + quote((dir_ / "corpus").string()) + " --order 3 --alpha 0.05 --switch-after " +
                        quote("\\n") + " -o " + quote(lines));
  ASSERT_EQ(t.status, 0) << t.output;
  EXPECT_EQ(simulacra::load(lines).config().switch_after, std::vector<simulacra::Token>{'\n'});
  const std::string first = "Arr, matey, hoist the sails, ye dogs!";
  const Outcome r = run("trace " + quote(lines) + " --smooth --color never --text " +
                        quote(first + "\nO silver moon, the willow weeps softly."));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::size_t at = r.output.find(first + "\n");
  ASSERT_NE(at, std::string::npos) << r.output;
  const std::string keys = r.output.substr(at + first.size() + 1, first.size());
  EXPECT_EQ(keys, std::string(first.size(), keys[0])) << r.output;
  const Outcome bad = run("train --dir " + quote((dir_ / "corpus").string()) + " --switch-after " + quote("\\q") +
                          " -o " + quote(lines));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_TRUE(has(bad.output, "--switch-after")) << bad.output;
}

// export-arpa writes a stand-alone mask as ARPA (the file load_arpa reads
// back as the same model), refuses an interpolated one without --own or
// --background, and train --arpa FILE:NAME brings an ARPA model into a pile.
TEST_F(CliTest, ExportArpaAndJoinAnArpaMask) {
  const std::string plain = (dir_ / "plain.safetensors").string();
  const Outcome t = run("train --dir " + quote((dir_ / "corpus").string()) + " --order 3 --no-background -o " +
                        quote(plain));
  ASSERT_EQ(t.status, 0) << t.output;
  const std::string arpa = (dir_ / "pirate.arpa").string();
  const Outcome e = run("export-arpa " + quote(plain) + " pirate " + quote(arpa));
  ASSERT_EQ(e.status, 0) << e.output;
  EXPECT_TRUE(has(e.output, "wrote " + arpa)) << e.output;
  const simulacra::Mixture pile = simulacra::load(plain);
  const auto& lm = dynamic_cast<const simulacra::NGramPersona&>(pile.persona(pile.index_of("pirate")));
  const simulacra::NGramPersona back = simulacra::load_arpa(arpa);
  const std::string text = "Arr, matey, the treasure!";
  EXPECT_NEAR(back.score_document(text), lm.score_document(text), 1e-12 * std::abs(lm.score_document(text)));

  // The default pile's masks are interpolated with the background.
  const Outcome refused = run("export-arpa " + quote(model_) + " pirate " + quote(arpa + ".2"));
  EXPECT_EQ(refused.status, 2) << refused.output;
  EXPECT_TRUE(has(refused.output, "--own or --background")) << refused.output;
  EXPECT_FALSE(fs::exists(arpa + ".2"));
  const Outcome own = run("export-arpa " + quote(model_) + " pirate " + quote(arpa + ".2") + " --own");
  EXPECT_EQ(own.status, 0) << own.output;
  const Outcome unknown = run("export-arpa " + quote(model_) + " nobody " + quote(arpa + ".3"));
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_TRUE(has(unknown.output, "unknown persona 'nobody'")) << unknown.output;

  // The ARPA model joins a trained pile as a mask named on the command line.
  const std::string joined = (dir_ / "joined.safetensors").string();
  const Outcome j = run("train --dir " + quote((dir_ / "corpus").string()) + " --order 2 --arpa " +
                        quote(arpa + ":kenlm") + " -o " + quote(joined));
  ASSERT_EQ(j.status, 0) << j.output;
  EXPECT_TRUE(has(j.output, "ARPA mask 'kenlm'")) << j.output;
  const simulacra::Mixture mix = simulacra::load(joined);
  ASSERT_EQ(mix.size(), 3);
  EXPECT_EQ(mix.names()[2], "kenlm");
  EXPECT_NEAR(mix.prior()[2], (mix.prior()[0] + mix.prior()[1]) / 2, 1e-12) << "the mean of the trained priors";
  const auto& joined_lm = dynamic_cast<const simulacra::NGramPersona&>(mix.persona(2));
  EXPECT_NEAR(joined_lm.score_document(text), back.score_document(text), 1e-12 * std::abs(back.score_document(text)));
  const Outcome info = run("info " + quote(joined));
  EXPECT_TRUE(has(info.output, "kenlm")) << info.output;
  const Outcome bad = run("train --dir " + quote((dir_ / "corpus").string()) + " --arpa " + quote(arpa) + " -o " +
                          quote(joined));
  EXPECT_EQ(bad.status, 2) << bad.output;
  EXPECT_TRUE(has(bad.output, "FILE:NAME")) << bad.output;
  const Outcome clash = run("train --dir " + quote((dir_ / "corpus").string()) + " --arpa " +
                            quote(arpa + ":poet") + " -o " + quote(joined));
  EXPECT_EQ(clash.status, 2) << clash.output;
  EXPECT_TRUE(has(clash.output, "already has a mask called 'poet'")) << clash.output;
  write_file(dir_ / "broken.arpa", "\\data\\\nngram 1=2\n\n\\1-grams:\n-1\tzz\n");
  const Outcome broken = run("train --dir " + quote((dir_ / "corpus").string()) + " --arpa " +
                             quote((dir_ / "broken.arpa").string() + ":x") + " -o " + quote(joined));
  EXPECT_EQ(broken.status, 1) << broken.output;
  EXPECT_TRUE(has(broken.output, "broken.arpa: line 5: word 'zz'")) << broken.output;
}

}  // namespace

TEST_F(CliTest, TraceHtmlWritesTheExplorer) {
  const std::string page = (dir_ / "trace.html").string();
  const Outcome r = run("trace " + quote(model_) + " " + doc("pirate_doc.txt") + " --html " + quote(page));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(has(r.output, "wrote " + page)) << r.output;
  std::ifstream in(page, std::ios::binary);
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  const std::string open = "<script type=\"application/json\" id=\"simulacra-data\">";
  const std::size_t a = html.find(open), b = html.find("</script>", a);
  ASSERT_NE(a, std::string::npos);
  const simulacra::json::Value data = simulacra::json::parse(html.substr(a + open.size(), b - a - open.size()));
  EXPECT_EQ(data.at("bytes").as_int64(), 59);  // the document's bytes, then the end boundary
  EXPECT_EQ(data.at("tokens").as_int64(), 60);
  EXPECT_EQ(data.at("views").as_array().size(), 3u);  // filtered, smoothed, Viterbi
  EXPECT_EQ(data.at("names").as_array()[0].as_string(), "pirate");
  // "-" writes the page on stdout, the same page.
  const Outcome out = run("trace " + quote(model_) + " " + doc("pirate_doc.txt") + " --html -");
  ASSERT_EQ(out.status, 0) << out.output;
  EXPECT_EQ(out.output, html);
  // --html and --json each replace the output.
  const Outcome both = run("trace " + quote(model_) + " --text Arr --json --html -");
  EXPECT_EQ(both.status, 2) << both.output;
  EXPECT_TRUE(has(both.output, "--html")) << both.output;
  // A directory is not written over.
  const Outcome dir = run("trace " + quote(model_) + " --text Arr --html " + quote(dir_.string()));
  EXPECT_NE(dir.status, 0);
  EXPECT_TRUE(has(dir.output, dir_.string())) << dir.output;
}
