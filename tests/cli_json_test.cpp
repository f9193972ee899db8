// tests/cli_json_test.cpp — the `simulacra` tool as a part of a pipeline
// (cli_testing.hpp runs it as a subprocess): --version, info, the --json
// documents of score, trace, inspect, vote and switch parsed back with the
// library's json.hpp and checked against the library's own results on the
// same model, score --lines (JSON Lines), "-" for stdin (texts and the
// model), and generate --num-samples / --prompt-file.
#include "cli_testing.hpp"

#include <cmath>
#include <numeric>

#include "simulacra/attribution.hpp"
#include "simulacra/background.hpp"
#include "simulacra/inspect.hpp"
#include "simulacra/json.hpp"
#include "simulacra/ngram.hpp"
#include "simulacra/safetensors.hpp"
#include "simulacra/smoothing.hpp"
#include "simulacra/switch_evidence.hpp"
#include "simulacra/tokenizer.hpp"
#include "simulacra/transformer.hpp"
#include "simulacra/vote.hpp"

namespace {

namespace json = simulacra::json;

// Runs the tool, expects exit 0, and parses its output as one JSON document.
json::Value json_of(const std::string& args, const std::string& input = "/dev/null") {
  const Outcome r = run(args, input);
  EXPECT_EQ(r.status, 0) << args << "\n" << r.output;
  try {
    return json::parse(r.output);
  } catch (const std::exception& e) {
    ADD_FAILURE() << args << ": not one JSON document: " << e.what() << "\n" << r.output;
    return json::Value();
  }
}

// Every line of `text` (without its '\n').
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

double sum_of(const json::Value& v) {
  double s = 0;
  if (v.is_array())
    for (const json::Value& x : v.as_array()) s += x.as_double();
  else
    for (const auto& [key, x] : v.as_object()) s += x.as_double();
  return s;
}

class CliJsonTest : public CliTest {
 protected:
  static simulacra::Mixture model() { return simulacra::load(model_); }
  static std::string read(const char* name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
};

TEST_F(CliJsonTest, TrainedTheModel) { ASSERT_EQ(train_.status, 0) << train_.output; }

TEST_F(CliJsonTest, VersionPrintsTheProjectAndFormatVersions) {
  for (const char* form : {"--version", "version"}) {
    const Outcome r = run(form);
    EXPECT_EQ(r.status, 0) << form;
    EXPECT_TRUE(has(r.output, std::string("simulacra ") + SIMULACRA_EXPECTED_VERSION + "\n")) << r.output;
    EXPECT_TRUE(has(r.output, fmt::format("model file format version {}", simulacra::kFormatVersion))) << r.output;
  }
  const json::Value v = json_of("version --json");
  EXPECT_EQ(v.at("version").as_string(), SIMULACRA_EXPECTED_VERSION);
  EXPECT_EQ(v.at("format_version").as_int64(), simulacra::kFormatVersion);
  EXPECT_EQ(run("version --frobnicate").status, 2);
  EXPECT_TRUE(has(run("--help").output, "version"));
}

TEST_F(CliJsonTest, InfoDescribesTheModelAsTheLibraryReadsIt) {
  const simulacra::Mixture mix = model();
  const simulacra::TensorFile file = simulacra::read_safetensors(model_);
  const json::Value v = json_of("info --json " + quote(model_));
  EXPECT_EQ(v.at("format_version").as_int64(), std::stoll(file.metadata.at("format_version")));
  EXPECT_EQ(v.at("file_bytes").as_int64(), std::int64_t(fs::file_size(model_)));
  const json::Array& personas = v.at("personas").as_array();
  ASSERT_EQ(personas.size(), std::size_t(mix.size()));
  double prior = 0;
  for (int k = 0; k < mix.size(); ++k) {
    const json::Value& p = personas[std::size_t(k)];
    EXPECT_EQ(p.at("name").as_string(), mix.names()[std::size_t(k)]);
    EXPECT_EQ(p.at("kind").as_string(), mix.persona(k).kind());
    // train's default: each mask interpolated with a shared background; info lists its own model's sizes.
    const simulacra::Persona* own = &mix.persona(k);
    if (const auto* ip = dynamic_cast<const simulacra::InterpolatedPersona*>(own)) {
      own = ip->own().get();
      EXPECT_DOUBLE_EQ(p.at("weight").as_double(), ip->weight());
      const auto* bg = dynamic_cast<const simulacra::NGramPersona*>(ip->background().get());
      ASSERT_NE(bg, nullptr);
      EXPECT_EQ(p.at("background").at("ngrams").as_int64(), std::int64_t(bg->num_ngrams()));
      EXPECT_EQ(p.at("background").at("order").as_int64(), bg->order());
    }
    const auto* ng = dynamic_cast<const simulacra::NGramPersona*>(own);
    ASSERT_NE(ng, nullptr);
    EXPECT_EQ(p.at("order").as_int64(), 3);
    EXPECT_EQ(p.at("ngrams").as_int64(), std::int64_t(ng->num_ngrams()));
    EXPECT_EQ(p.at("bytes").as_int64(), std::int64_t(ng->memory_bytes()));
    std::int64_t per_order = 0;
    for (const json::Value& n : p.at("ngrams_per_order").as_array()) per_order += n.as_int64();
    EXPECT_EQ(per_order, p.at("ngrams").as_int64());
    EXPECT_DOUBLE_EQ(p.at("prior").as_double(), mix.prior()[k]);
    prior += p.at("prior").as_double();
  }
  EXPECT_NEAR(prior, 1.0, 1e-12);
  const json::Value& sw = v.at("switching");
  EXPECT_EQ(sw.at("rule").as_string(), simulacra::switching_name(mix.config().switching));
  EXPECT_DOUBLE_EQ(sw.at("alpha").as_double(), mix.config().alpha);
  EXPECT_DOUBLE_EQ(sw.at("beta").as_double(), mix.config().beta);
  EXPECT_EQ(sw.at("switch_after").as_array().size(), mix.config().switch_after.size());
  EXPECT_DOUBLE_EQ(v.at("attribution").at("beta").as_double(), mix.attribution_beta());
  EXPECT_DOUBLE_EQ(v.at("attribution").at("exponent").as_double(), mix.attribution_exponent());
  if (mix.has_segmentation())
    EXPECT_DOUBLE_EQ(v.at("segmentation").at("alpha").as_double(), mix.segmentation_alpha());
  else
    EXPECT_TRUE(v.at("segmentation").is_null());

  const Outcome plain = run("info --color never " + quote(model_));
  EXPECT_EQ(plain.status, 0) << plain.output;
  for (const std::string& s : {std::string("format version"), std::string("pirate"), std::string("poet"),
                               std::string("switching: "), std::string("attribution: beta"),
                               fmt::format(" {} ", personas[0].at("ngrams").as_int64())})
    EXPECT_TRUE(has(plain.output, s)) << s << "\n" << plain.output;
  // The model from stdin: the same document but for its name.
  json::Value piped = json_of("info --json -", model_);
  EXPECT_EQ(piped.at("model").as_string(), "<stdin>");
  EXPECT_EQ(piped.at("personas"), v.at("personas"));
  EXPECT_EQ(run("info " + doc("pirate_doc.txt")).status, 1);  // not a model file
}

// A tiny hydra: info lists each head's shape and parameters, no n-grams, format version 2.
TEST_F(CliJsonTest, InfoDescribesATransformerHydra) {
  const std::string out = (dir_ / "info_hydra.safetensors").string();
  const Outcome r = run("train --kind transformer --dir " + quote((dir_ / "corpus").string()) +
                        " --layers 1 --heads 2 --width 16 --context 16 --batch 4 --warmup 1 --steps 2"
                        " --eval-every 0 --threads 1 --heldout 0.3 -o " + quote(out));
  ASSERT_EQ(r.status, 0) << r.output;
  const simulacra::Mixture mix = simulacra::load(out);
  const json::Value v = json_of("info --json " + quote(out));
  EXPECT_EQ(v.at("format_version").as_int64(), 2);
  const json::Array& personas = v.at("personas").as_array();
  ASSERT_EQ(personas.size(), std::size_t(mix.size()));
  for (int k = 0; k < mix.size(); ++k) {
    const auto* tp = dynamic_cast<const simulacra::TransformerPersona*>(&mix.persona(k));
    ASSERT_NE(tp, nullptr);
    const json::Value& p = personas[std::size_t(k)];
    EXPECT_EQ(p.at("kind").as_string(), "transformer");
    EXPECT_TRUE(p.at("order").is_null());
    EXPECT_TRUE(p.at("ngrams").is_null());
    EXPECT_EQ(p.at("head").as_int64(), tp->head());
    EXPECT_EQ(p.at("layers").as_int64(), 1);
    EXPECT_EQ(p.at("heads").as_int64(), 2);
    EXPECT_EQ(p.at("width").as_int64(), 16);
    EXPECT_EQ(p.at("context").as_int64(), 16);
    EXPECT_EQ(p.at("parameters").as_int64(), tp->model()->config().parameter_count());
    EXPECT_EQ(p.at("bytes").as_int64(), 4 * tp->model()->config().parameter_count());
  }
  const Outcome plain = run("info " + quote(out));
  EXPECT_EQ(plain.status, 0) << plain.output;
  EXPECT_TRUE(has(plain.output, "1 layers, 2 heads, width 16, context 16")) << plain.output;
}

TEST_F(CliJsonTest, ScoreJsonMatchesTheLibrary) {
  const simulacra::Mixture mix = model();
  const json::Value v = json_of("score --json " + quote(model_) + " " + doc("pirate_doc.txt") + " " + doc("poet_doc.txt"));
  const json::Array& docs = v.at("documents").as_array();
  ASSERT_EQ(docs.size(), 2u);
  const char* files[] = {"pirate_doc.txt", "poet_doc.txt"};
  const char* authors[] = {"pirate", "poet"};
  for (std::size_t d = 0; d < 2; ++d) {
    const std::string text = read(files[d]);
    const json::Value& j = docs[d];
    EXPECT_EQ(j.at("bytes").as_int64(), std::int64_t(text.size()));
    EXPECT_NEAR(j.at("bits_per_byte").as_double(), mix.bits_per_byte(text), 1e-12);
    const Eigen::VectorXd per = mix.persona_bits_per_byte(text);
    const Eigen::VectorXd post = mix.attribute(text).array().exp();
    for (int k = 0; k < mix.size(); ++k) {
      const std::string& name = mix.names()[std::size_t(k)];
      EXPECT_NEAR(j.at("persona_bits_per_byte").at(name).as_double(), per[k], 1e-12);
      EXPECT_NEAR(j.at("attribution").at(name).as_double(), post[k], 1e-12);
    }
    EXPECT_NEAR(sum_of(j.at("attribution")), 1.0, 1e-9);
    EXPECT_EQ(j.at("attributed").as_string(), authors[d]);
    EXPECT_NEAR(j.at("posterior").as_double(), post.maxCoeff(), 1e-12);
  }
  // The plain table is still the default.
  const Outcome plain = run("score --color never " + quote(model_) + " " + doc("pirate_doc.txt"));
  EXPECT_TRUE(has(plain.output, "bits per byte (lower is better), per document:")) << plain.output;
  EXPECT_EQ(attributed(plain.output, "pirate_doc.txt"), "pirate");
}

TEST_F(CliJsonTest, ScoreLinesGivesOneResultPerLine) {
  const std::string text = "Arr, hoist the sails, ye dogs!\n\nO silver moon, the willow weeps.\nArr matey";
  write_file(dir_ / "lines.txt", text);
  const simulacra::Mixture mix = model();
  const Outcome r = run("score --lines --json " + quote(model_) + " " + doc("lines.txt"));
  ASSERT_EQ(r.status, 0) << r.output;
  const std::vector<std::string> out = lines_of(r.output);
  const std::vector<std::string> in = {"Arr, hoist the sails, ye dogs!", "", "O silver moon, the willow weeps.", "Arr matey"};
  ASSERT_EQ(out.size(), in.size()) << r.output;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const json::Value j = json::parse(out[i]);
    EXPECT_EQ(j.at("line").as_int64(), std::int64_t(i + 1));
    EXPECT_EQ(j.at("bytes").as_int64(), std::int64_t(in[i].size()));
    if (in[i].empty()) {
      EXPECT_TRUE(j.at("bits_per_byte").is_null());
      EXPECT_TRUE(j.at("attributed").is_null());
      continue;
    }
    EXPECT_NEAR(j.at("bits_per_byte").as_double(), mix.bits_per_byte(in[i]), 1e-12);
    Eigen::Index best = 0;
    mix.attribute(in[i]).maxCoeff(&best);
    EXPECT_EQ(j.at("attributed").as_string(), mix.names()[std::size_t(best)]);
  }
  EXPECT_EQ(json::parse(out[0]).at("attributed").as_string(), "pirate");
  EXPECT_EQ(json::parse(out[2]).at("attributed").as_string(), "poet");
  // The plain form: a row per line, from stdin too.
  const Outcome plain = run("score --lines --color never " + quote(model_) + " -", (dir_ / "lines.txt").string());
  ASSERT_EQ(plain.status, 0) << plain.output;
  EXPECT_TRUE(has(plain.output, "per line:")) << plain.output;
  for (int i = 1; i <= 4; ++i) EXPECT_TRUE(has(plain.output, fmt::format("<stdin>:{} ", i))) << plain.output;
  EXPECT_EQ(attributed(plain.output, "<stdin>:3"), "poet");
}

TEST_F(CliJsonTest, TraceJsonMatchesTheLibrary) {
  const simulacra::Mixture mix = model();
  const std::string text = read("pirate_doc.txt");
  const std::vector<simulacra::Token> tokens = simulacra::encode_document(text);
  const simulacra::Trace trace = mix.trace(tokens);
  const json::Value v = json_of("trace --json --spans --smooth " + quote(model_) + " " + doc("pirate_doc.txt"));
  EXPECT_EQ(v.at("bytes").as_int64(), std::int64_t(text.size()));
  EXPECT_NEAR(v.at("bits_per_byte").as_double(), mix.bits_per_byte(text), 1e-12);
  const json::Array& rows = v.at("rows").as_array();
  ASSERT_EQ(rows.size(), tokens.size());  // every token without --every
  for (std::size_t t = 0; t < rows.size(); ++t) {
    EXPECT_EQ(rows[t].at("t").as_int64(), std::int64_t(t));
    EXPECT_EQ(rows[t].at("token").as_int64(), std::int64_t(tokens[t]));
    EXPECT_NEAR(rows[t].at("logprob").as_double(), trace.logprobs[Eigen::Index(t)], 1e-12);
    EXPECT_NEAR(sum_of(rows[t].at("weights")), 1.0, 1e-9);
    for (int k = 0; k < mix.size(); ++k)
      EXPECT_NEAR(rows[t].at("weights").as_array()[std::size_t(k)].as_double(),
                  std::exp(trace.log_weights(Eigen::Index(t), k)), 1e-12);
  }
  const json::Array& owners = v.at("owners").as_array();
  ASSERT_EQ(owners.size(), text.size());
  for (std::size_t i = 0; i < owners.size(); ++i) EXPECT_EQ(owners[i].as_int64(), trace.dominant[i + 1]);
  // The spans tile the tokens and agree with attribute_spans.
  const simulacra::Attribution a = simulacra::attribute_spans(mix, tokens);
  const json::Array& spans = v.at("spans").at("spans").as_array();
  ASSERT_EQ(spans.size(), a.spans.size());
  std::int64_t next = 0;
  for (std::size_t s = 0; s < spans.size(); ++s) {
    EXPECT_EQ(spans[s].at("begin").as_int64(), next);
    next = spans[s].at("end").as_int64();
    EXPECT_EQ(spans[s].at("persona").as_string(), mix.names()[std::size_t(a.spans[s].persona)]);
  }
  EXPECT_EQ(next, std::int64_t(tokens.size()));
  EXPECT_NEAR(v.at("spans").at("log_joint").as_double(), a.log_joint, 1e-9);
  const simulacra::Smoothed sm = simulacra::smooth(mix, tokens, trace.persona_logprobs);
  EXPECT_EQ(v.at("smoothed").at("owners").as_array().size(), text.size());
  EXPECT_NEAR(v.at("smoothed").at("log_likelihood").as_double(), sm.log_likelihood, 1e-9);
  // --every thins the rows as in the table: 0, N, 2N, ... and the last.
  const json::Value thin = json_of("trace --json --every 10 " + quote(model_) + " " + doc("pirate_doc.txt"));
  const json::Array& some = thin.at("rows").as_array();
  EXPECT_EQ(some.size(), (tokens.size() - 1) / 10 + 1 + ((tokens.size() - 1) % 10 != 0));
  EXPECT_EQ(some.back().at("t").as_int64(), std::int64_t(tokens.size() - 1));
}

TEST_F(CliJsonTest, VoteJsonMatchesTheLibrary) {
  const simulacra::Mixture mix = model();
  const std::string prompt = "Ahoy! The treasure be ";
  const std::vector<std::string> options = {"buried, arr", "like a silver moon"};
  const simulacra::Vote lib = simulacra::vote(mix, prompt, options);
  const json::Value v = json_of("vote --json " + quote(model_) + " --prompt " + quote(prompt) + " --option " +
                                quote(options[0]) + " --option " + quote(options[1]));
  EXPECT_EQ(v.at("prompt").as_string(), prompt);
  ASSERT_EQ(v.at("options").as_array().size(), 2u);
  for (std::size_t m = 0; m < 2; ++m) {
    EXPECT_NEAR(v.at("mixture_choice").as_array()[m].as_double(), lib.mixture_choice[Eigen::Index(m)], 1e-12);
    EXPECT_NEAR(v.at("mixture_logprobs").as_array()[m].as_double(), lib.mixture_logprobs[Eigen::Index(m)], 1e-12);
    EXPECT_NEAR(v.at("plurality").as_array()[m].as_double(), lib.plurality[Eigen::Index(m)], 1e-12);
  }
  EXPECT_NEAR(sum_of(v.at("mixture_choice")), 1.0, 1e-12);
  EXPECT_NEAR(sum_of(v.at("prompt_weights")), 1.0, 1e-12);
  for (int k = 0; k < mix.size(); ++k) {
    const std::string& name = mix.names()[std::size_t(k)];
    EXPECT_EQ(v.at("persona_answers").at(name).as_string(), options[std::size_t(lib.persona_answers[std::size_t(k)])]);
    EXPECT_NEAR(sum_of(v.at("persona_choice").at(name)), 1.0, 1e-12);
  }
  EXPECT_EQ(v.at("persona_answers").at("pirate").as_string(), options[0]);
  Eigen::Index best = 0;
  lib.mixture_choice.maxCoeff(&best);
  EXPECT_EQ(v.at("choice").at("mixture").as_string(), options[std::size_t(best)]);
}

TEST_F(CliJsonTest, InspectJsonMatchesTheLibrary) {
  const simulacra::Mixture mix = model();
  const std::string context = "Arr, the ";
  const simulacra::RawView lib = simulacra::raw_view(mix, context, 5);
  const json::Value v = json_of("inspect --json --top-k 5 " + quote(model_) + " --text " + quote(context));
  EXPECT_EQ(v.at("context").as_string(), context);
  EXPECT_NEAR(sum_of(v.at("weights")), 1.0, 1e-12);
  const json::Array& mixture = v.at("mixture").as_array();
  ASSERT_EQ(mixture.size(), 5u);
  for (std::size_t r = 0; r < 5; ++r) {
    EXPECT_EQ(mixture[r].at("token").as_int64(), std::int64_t(lib.mixture[r].token));
    EXPECT_NEAR(mixture[r].at("prob").as_double(), lib.mixture[r].prob, 1e-12);
    EXPECT_EQ(mixture[r].at("text").as_string(), simulacra::token_name(lib.mixture[r].token));
  }
  for (int k = 0; k < mix.size(); ++k) {
    const json::Array& next = v.at("next").at(mix.names()[std::size_t(k)]).as_array();
    ASSERT_EQ(next.size(), 5u);
    for (std::size_t r = 0; r < 5; ++r)
      EXPECT_NEAR(next[r].at("prob").as_double(), lib.personas[std::size_t(k)][r].prob, 1e-12);
  }
  const json::Value c = json_of("inspect --json --characteristic 4 " + quote(model_) + " " + doc("pirate_doc.txt"));
  const auto lists = simulacra::characteristic_tokens(mix, read("pirate_doc.txt"), 4, simulacra::kCharacteristicMinCount);
  for (int k = 0; k < mix.size(); ++k) {
    const json::Array& got = c.at("characteristic").at(mix.names()[std::size_t(k)]).as_array();
    ASSERT_EQ(got.size(), lists[std::size_t(k)].size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].at("token").as_int64(), std::int64_t(lists[std::size_t(k)][i].token));
      EXPECT_NEAR(got[i].at("score").as_double(), lists[std::size_t(k)][i].score, 1e-12);
    }
  }
}

TEST_F(CliJsonTest, SwitchJsonMatchesTheLibrary) {
  const simulacra::Mixture mix = model();
  const std::string a = read("pirate_doc.txt"), b = read("poet_doc.txt");
  const auto lib = simulacra::switch_asymmetry(mix, 0, 1, a, b);
  // Text B from stdin.
  const json::Value v = json_of("switch --json " + quote(model_) + " --from pirate --to poet --file-a " +
                                    doc("pirate_doc.txt") + " --file-b -",
                                (dir_ / "poet_doc.txt").string());
  EXPECT_EQ(v.at("a_bytes").as_int64(), std::int64_t(a.size()));
  EXPECT_EQ(v.at("b_bytes").as_int64(), std::int64_t(b.size()));
  const std::pair<const char*, const simulacra::SwitchEvidence*> dirs[] = {{"a_to_b", &lib.first}, {"b_to_a", &lib.second}};
  for (const auto& [key, e] : dirs) {
    const json::Value& d = v.at(key);
    const json::Array& w = d.at("weight").as_array();
    ASSERT_EQ(w.size(), e->weight_b.size()) << key;
    for (std::size_t t = 0; t < w.size(); ++t) EXPECT_NEAR(w[t].as_double(), e->weight_b[t], 1e-12);
    if (e->tokens_to_half < 0)
      EXPECT_TRUE(d.at("tokens_to_half").is_null());
    else
      EXPECT_EQ(d.at("tokens_to_half").as_int64(), e->tokens_to_half);
  }
  EXPECT_EQ(v.at("a_to_b").at("rises").as_string(), "poet");
}

TEST_F(CliJsonTest, StdinWorksForTextsAndTheModel) {
  const json::Value file = json_of("score --json " + quote(model_) + " " + doc("poet_doc.txt"));
  const json::Value piped = json_of("score --json " + quote(model_) + " -", (dir_ / "poet_doc.txt").string());
  const json::Value implicit = json_of("score --json " + quote(model_), (dir_ / "poet_doc.txt").string());
  const json::Value& f = file.at("documents").as_array()[0];
  for (const json::Value* p : {&piped, &implicit}) {
    const json::Value& d = p->at("documents").as_array()[0];
    EXPECT_EQ(d.at("document").as_string(), "<stdin>");
    EXPECT_EQ(d.at("bits_per_byte"), f.at("bits_per_byte"));
    EXPECT_EQ(d.at("attribution"), f.at("attribution"));
  }
  // The model itself from stdin, the text from a file.
  const json::Value model_in = json_of("score --json - " + doc("poet_doc.txt"), model_);
  EXPECT_EQ(model_in.at("documents").as_array()[0].at("bits_per_byte"), f.at("bits_per_byte"));
  const json::Value traced = json_of("trace --json - --text 'Arr!'", model_);
  EXPECT_EQ(traced.at("rows").as_array().size(), 5u);
  EXPECT_EQ(json_of("inspect --json " + quote(model_) + " -", (dir_ / "pirate_doc.txt").string())
                .at("context")
                .as_string(),
            read("pirate_doc.txt"));
  // stdin cannot be read twice: a usage error, not a silently empty text.
  const Outcome twice = run("score - -", model_);
  EXPECT_EQ(twice.status, 2) << twice.output;
  EXPECT_TRUE(has(twice.output, "stdin")) << twice.output;
}

TEST_F(CliJsonTest, GenerateDrawsSamplesAndReadsAPromptFile) {
  const std::string base = "generate " + quote(model_) + " --max-tokens 30 --color never";
  const Outcome many = run(base + " --prompt 'Arr, ' --seed 11 --num-samples 3");
  ASSERT_EQ(many.status, 0) << many.output;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(has(many.output, fmt::format("--- sample {}, seed {}\n", i, 11 + i))) << many.output;
  // Sample i is what one sample with seed 11 + i prints.
  for (int i = 0; i < 3; ++i) {
    const Outcome one = run(base + fmt::format(" --prompt 'Arr, ' --seed {}", 11 + i));
    ASSERT_EQ(one.status, 0);
    EXPECT_FALSE(has(one.output, "--- sample")) << one.output;
    EXPECT_TRUE(has(many.output, fmt::format("seed {}\n", 11 + i) + one.output)) << one.output << "\n" << many.output;
  }
  write_file(dir_ / "prompt.txt", "Arr, ");
  const Outcome given = run(base + " --prompt 'Arr, ' --seed 4");
  EXPECT_EQ(run(base + " --prompt-file " + doc("prompt.txt") + " --seed 4").output, given.output);
  EXPECT_EQ(run(base + " --prompt-file - --seed 4", (dir_ / "prompt.txt").string()).output, given.output);
  EXPECT_EQ(run(base + " --prompt x --prompt-file " + doc("prompt.txt")).status, 2);
  EXPECT_EQ(run(base + " --num-samples 0").status, 2);
  EXPECT_EQ(run(base + " --prompt-file " + quote((dir_ / "missing.txt").string())).status, 1);
}

TEST_F(CliJsonTest, EveryJsonCommandListsTheOption) {
  for (const char* command : {"info", "score", "trace", "inspect", "vote", "switch"})
    EXPECT_TRUE(has(run(std::string(command) + " --help").output, "--json")) << command;
  const Outcome score = run("score --help");
  EXPECT_TRUE(has(score.output, "--lines")) << score.output;
  const Outcome gen = run("generate --help");
  EXPECT_TRUE(has(gen.output, "--num-samples") && has(gen.output, "--prompt-file")) << gen.output;
}

}  // namespace
