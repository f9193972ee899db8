// src/cli/common.hpp — pieces shared by the subcommands of the `simulacra`
// tool: shared options, the documents a command reads, persona names and
// steering options.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "args.hpp"
#include "simulacra/json.hpp"
#include "simulacra/simulacra.hpp"

namespace simulacra::cli {

using Clock = std::chrono::steady_clock;

// Options shared by several commands. Inline, so that every command's
// Command (a static object in another file) is initialised after them.
inline const Option kColor{"--color", "", "WHEN", "auto",
                    "colour the output: always, never, or auto (when stdout is a terminal and NO_COLOR is unset)"};
inline const Option kText{"--text", "", "TEXT", "", "use TEXT instead of reading files"};
// Steering options, shared by score, generate, inspect and vote (read by steering_of).
inline const Option kClamp{"--clamp", "", "NAME", "", "speak with this persona only"};
inline const Option kExclude{"--exclude", "", "NAME", "", "silence this persona", true};
inline const Option kBias{"--bias", "", "NAME=X", "", "add X to the persona's log prior", true};
inline const Option kExpert{"--expert", "", "NAME", "", "product steering: add lambda x this persona's log-probs"};
inline const Option kAntiExpert{"--anti-expert", "", "NAME", "", "product steering: subtract lambda x this persona's"};
inline const Option kLambda{"--lambda", "", "X", "1", "strength of the product steering (finite)"};
// The names --switching accepts.
inline const std::vector<std::string> kSwitchings = {"none", "fixed_share", "forgetting"};
// Switch points, shared by the training commands (read by switch_after_of).
inline const Option kSwitchAfter{"--switch-after", "", "BYTES", "every byte",
                                 "masks may swap only after these bytes (escapes \\n \\t \\r \\\\ \\xHH; "
                                 "a document end always)"};

// The corpus options, shared by train and discover (read by load_corpus).
inline const Option kBuiltin{"--builtin", "", "", "", "the corpus embedded in the library (data/personas/*.txt), the default"};
inline const Option kDir{"--dir", "", "PATH", "",
                         "a directory of <persona>.txt files (paragraphs are documents) or <persona>/ folders"};
inline const Option kJsonl{"--jsonl", "", "PATH", "", "JSON Lines, one {\"text\": ..., \"persona\": ...} object per line"};
inline const Option kPlay{"--play", "", "PATH", "", "a play script: each speech is a document by its speaker"};
inline const Option kTopSpeakers{"--top-speakers", "", "N", "0, all", "with --play: keep the N speakers with the most text"};
inline const Option kFortunes{"--fortunes", "", "PATH", "", "fortune(6) files or directories; each file is one persona",
                              false, true};

// The corpus the corpus options choose (the built-in one when none is
// given), and a description of where it came from. UsageError for two
// corpus options or --top-speakers without --play.
std::pair<Corpus, std::string> load_corpus(const Args& args);

// --json: one JSON document on stdout instead of the tables (its keys:
// docs/cli.md). Shared by info, score, trace, inspect, vote and switch.
inline const Option kJson{"--json", "", "", "", "print one JSON document on stdout instead of the tables (docs/cli.md)"};

// A number for a JSON document: null when it is not finite (JSON has no
// infinity or NaN; e.g. the log-probability of a token an excluded mask
// cannot produce).
json::Value json_number(double x);

// {"name": v[k], ...} over the mixture's personas, in their order.
json::Value json_by_persona(const std::vector<std::string>& names, const Eigen::VectorXd& v);

// v as a JSON array (numbers, null where not finite).
json::Array json_array(const Eigen::VectorXd& v);

// Prints `value` as compact JSON and a newline.
void print_json(const json::Value& value);

// The bytes of `tokens` written as --switch-after reads them: printable
// ASCII as is, \n \t \r \\ and \xHH for the others.
std::string escaped_bytes(const std::vector<Token>& tokens);

// The model named by MODEL (the first positional argument): load(path), or
// for "-" the model file's bytes read from stdin (under --max-input-bytes
// when the command declares it, else kDefaultMaxInput). These two are in
// model.cpp, linked into `simulacra` only (not the light simulacra-demo).
Mixture load_model(const Args& args);

// How MODEL is named in output: its path, or "<stdin>" for "-".
std::string model_label(const Args& args);

// MixtureConfig::switch_after from --switch-after: the bytes of its value
// with C escapes read (\n, \t, \r, \\, \xHH); empty when the option is not
// given. UsageError for an empty value or a bad escape.
std::vector<Token> switch_after_of(const Args& args);

// Whether stdout gets colour, from --color.
bool color_of(const Args& args);

double seconds_since(Clock::time_point start);

// The documents named on the command line: --text, else each FILE (the
// positional arguments from `first`), else stdin; read with read_input
// under the --max-input-bytes limit. (label, text) pairs.
std::vector<std::pair<std::string, std::string>> read_documents(const Args& args, std::size_t first);

// The index of the persona called `name`, given for option `option`;
// UsageError listing the model's personas when there is none.
int persona_index(const Mixture& mix, const std::string& option, const std::string& name);

// The steering the options ask for (UsageError for a contradictory request).
Steering steering_of(const Args& args, const Mixture& mix);

// "wrote PATH (N KiB)" after a model is saved.
void print_written(const std::string& path);

}  // namespace simulacra::cli
