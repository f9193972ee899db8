// src/cli/common.cpp — pieces shared by the subcommands (common.hpp).
#include "common.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "input.hpp"
#include "table.hpp"

namespace simulacra::cli {

json::Value json_number(double x) { return std::isfinite(x) ? json::Value(x) : json::Value(nullptr); }

json::Value json_by_persona(const std::vector<std::string>& names, const Eigen::VectorXd& v) {
  json::Object out;
  for (std::size_t k = 0; k < names.size(); ++k) out.emplace_back(names[k], json_number(v[Eigen::Index(k)]));
  return out;
}

json::Array json_array(const Eigen::VectorXd& v) {
  json::Array out;
  for (Eigen::Index i = 0; i < v.size(); ++i) out.push_back(json_number(v[i]));
  return out;
}

void print_json(const json::Value& value) { fmt::print("{}\n", json::dump(value)); }

std::string escaped_bytes(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token t : tokens) {
    if (t == '\n') out += "\\n";
    else if (t == '\t') out += "\\t";
    else if (t == '\r') out += "\\r";
    else if (t == '\\') out += "\\\\";
    else if (t >= 0x20 && t < 0x7f) out.push_back(char(t));
    else out += fmt::format("\\x{:02x}", unsigned(t));
  }
  return out;
}

bool color_of(const Args& args) { return use_color(args.choice("--color", "auto", {"always", "never", "auto"})); }

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::vector<std::pair<std::string, std::string>> read_documents(const Args& args, std::size_t first) {
  const std::vector<std::string> files(args.positional.begin() + std::ptrdiff_t(first), args.positional.end());
  if (args.has("--text") && !files.empty())
    throw UsageError(fmt::format("give either --text or FILE, not both (got file '{}')", files[0]));
  if (args.has("--text")) return {{"text", args.get("--text")}};
  const std::size_t limit = max_input(args);
  if (files.empty()) return {{"<stdin>", read_input("-", limit)}};
  std::vector<std::pair<std::string, std::string>> docs;
  for (const std::string& f : files) docs.emplace_back(f == "-" ? "<stdin>" : f, read_input(f, limit));
  return docs;
}

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

std::vector<Token> switch_after_of(const Args& args) {
  if (!args.has("--switch-after")) return {};
  const std::string v = args.get("--switch-after");
  if (v.empty()) throw UsageError("--switch-after: give the bytes after which masks may swap, e.g. '\\n'");
  std::vector<Token> out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\') {
      out.push_back(Token(static_cast<unsigned char>(v[i])));
      continue;
    }
    const char e = i + 1 < v.size() ? v[++i] : '\0';
    if (e == 'n') out.push_back('\n');
    else if (e == 't') out.push_back('\t');
    else if (e == 'r') out.push_back('\r');
    else if (e == '\\') out.push_back('\\');
    else if (e == 'x' && i + 2 < v.size() && std::isxdigit(static_cast<unsigned char>(v[i + 1])) &&
             std::isxdigit(static_cast<unsigned char>(v[i + 2]))) {
      out.push_back(Token(std::stoi(v.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      throw UsageError(fmt::format("--switch-after: unknown escape in '{}' (use \\n \\t \\r \\\\ or \\xHH)", v));
    }
  }
  return out;
}

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


void print_written(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  fmt::print("wrote {}{}\n", path, ec ? "" : fmt::format(" ({:.1f} KiB)", double(size) / 1024));
}

}  // namespace simulacra::cli
