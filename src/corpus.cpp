// simulacra/corpus.cpp — labelled documents, their loaders, and the held-out split.
#include "simulacra/corpus.hpp"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>
#include <system_error>

#include <fmt/ranges.h>

#include "simulacra/file_io.hpp"
#include "simulacra/json.hpp"

namespace simulacra {

namespace fs = std::filesystem;

namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r\v\f") == std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\v\f");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\v\f");
  return s.substr(first, last - first + 1);
}

// Calls f(line) for each '\n'-terminated line of `text` (without the '\n');
// a last line without '\n' counts, an empty tail after the last '\n' does not.
template <class F>
void for_each_line(std::string_view text, F f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const auto end = nl == std::string_view::npos ? text.size() : nl;
    f(text.substr(pos, end - pos));
    pos = end + 1;
  }
}

bool is_hidden(const fs::path& p) { return p.filename().string().rfind('.', 0) == 0; }

// The whole content of the regular file `path` (file_io.hpp's read_file,
// up to Corpus::kMaxFileBytes); FileError names `who` and the path.
std::string read_corpus_file(const std::string& path, std::string_view who) {
  try {
    return read_file(path, Corpus::kMaxFileBytes);
  } catch (const FileError& e) {
    throw FileError(fmt::format("{}: {}", who, e.what()));
  }
}

// The non-hidden entries of directory `path` accepted by `keep`, sorted by name.
template <class Keep>
std::vector<fs::path> list_directory(const std::string& path, std::string_view who, Keep keep) {
  std::error_code ec;
  std::vector<fs::path> out;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec))
    if (!is_hidden(it->path()) && keep(*it)) out.push_back(it->path());
  if (ec) throw FileError(fmt::format("{}: {}: cannot list: {}", who, path, ec.message()));
  std::sort(out.begin(), out.end());
  return out;
}

bool is_regular(const fs::directory_entry& e) {
  std::error_code ec;
  return e.is_regular_file(ec);
}

// A uniform integer in [0, range), without modulo bias: draws below
// 2^64 mod range are rejected so the accepted ones split evenly.
std::uint64_t bounded(std::mt19937_64& rng, std::uint64_t range) {
  assert(range > 0);
  const std::uint64_t threshold = (0 - range) % range;
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= threshold) return x % range;
  }
}

}  // namespace

namespace detail {

std::vector<std::string> split_paragraphs(std::string_view text) {
  std::vector<std::string> out;
  std::string current;
  bool open = false;
  const auto close = [&] {
    if (!current.empty() && current.back() == '\r') current.pop_back();
    out.push_back(std::move(current));
    current.clear();
    open = false;
  };
  for_each_line(text, [&](std::string_view line) {
    if (is_blank(line)) {
      if (open) close();
      return;
    }
    if (open) current.push_back('\n');
    current.append(line);
    open = true;
  });
  if (open) close();
  return out;
}

}  // namespace detail

// ---- building and reading -------------------------------------------------------

void Corpus::add(std::string text, std::string persona) {
  SIMULACRA_CHECK(!persona.empty(), InvalidArgument, "Corpus::add: persona must not be empty (document {})",
                  documents_.size());
  documents_.push_back({std::move(text), std::move(persona)});
}

const Document& Corpus::operator[](std::size_t i) const {
  SIMULACRA_CHECK(i < documents_.size(), OutOfRange, "Corpus: document index {} is out of range for size {}", i,
                  documents_.size());
  return documents_[i];
}

std::vector<std::string> Corpus::personas() const {
  std::set<std::string> names;
  for (const Document& d : documents_) names.insert(d.persona);
  return {names.begin(), names.end()};
}

std::vector<std::string> Corpus::texts_of(const std::string& persona) const {
  std::vector<std::string> out;
  for (const Document& d : documents_)
    if (d.persona == persona) out.push_back(d.text);
  SIMULACRA_CHECK(!out.empty(), OutOfRange, "Corpus::texts_of: unknown persona \"{}\"", persona);
  return out;
}

std::size_t Corpus::bytes() const {
  std::size_t n = 0;
  for (const Document& d : documents_) n += d.text.size();
  return n;
}

std::vector<bool> Corpus::split_mask(double heldout_fraction, std::uint64_t seed) const {
  SIMULACRA_CHECK(std::isfinite(heldout_fraction) && heldout_fraction >= 0.0 && heldout_fraction < 1.0,
                  InvalidArgument, "Corpus::split: heldout_fraction must be in [0, 1), got {}", heldout_fraction);
  std::map<std::string, std::vector<std::size_t>> by_persona;  // sorted names -> document indices
  for (std::size_t i = 0; i < documents_.size(); ++i) by_persona[documents_[i].persona].push_back(i);

  std::mt19937_64 rng(seed);
  std::vector<bool> heldout(documents_.size(), false);
  for (auto& [persona, indices] : by_persona) {
    const std::size_t n = indices.size();
    auto k = static_cast<std::size_t>(std::llround(heldout_fraction * static_cast<double>(n)));
    if (heldout_fraction > 0.0 && n >= 2) k = std::max<std::size_t>(k, 1);
    k = std::min(k, n - 1);
    // Partial Fisher-Yates: indices[0..k) become a uniform k-subset.
    for (std::size_t i = 0; i < k; ++i) {
      const auto j = i + static_cast<std::size_t>(bounded(rng, n - i));
      std::swap(indices[i], indices[j]);
      heldout[indices[i]] = true;
    }
  }
  return heldout;
}

std::pair<Corpus, Corpus> Corpus::split(double heldout_fraction, std::uint64_t seed) const {
  const std::vector<bool> heldout = split_mask(heldout_fraction, seed);
  std::pair<Corpus, Corpus> parts;
  for (std::size_t i = 0; i < documents_.size(); ++i)
    (heldout[i] ? parts.second : parts.first).documents_.push_back(documents_[i]);
  return parts;
}

std::pair<Corpus, Corpus> Corpus::split_tail(double heldout_fraction) const {
  SIMULACRA_CHECK(std::isfinite(heldout_fraction) && heldout_fraction >= 0.0 && heldout_fraction < 1.0,
                  InvalidArgument, "Corpus::split_tail: heldout_fraction must be in [0, 1), got {}",
                  heldout_fraction);
  std::map<std::string, std::vector<std::size_t>> by_persona;  // name -> document indices, in corpus order
  for (std::size_t i = 0; i < documents_.size(); ++i) by_persona[documents_[i].persona].push_back(i);

  std::vector<bool> heldout(documents_.size(), false);
  for (const auto& [persona, indices] : by_persona) {
    double total = 0.0;
    for (std::size_t i : indices) total += static_cast<double>(documents_[i].text.size());
    const double target = heldout_fraction * total;
    double tail = 0.0;
    // Walk back from the last document until the tail holds the target; the first stays in train.
    for (std::size_t j = indices.size(); j > 1 && tail < target; --j) {
      heldout[indices[j - 1]] = true;
      tail += static_cast<double>(documents_[indices[j - 1]].text.size());
    }
  }

  std::pair<Corpus, Corpus> parts;
  for (std::size_t i = 0; i < documents_.size(); ++i)
    (heldout[i] ? parts.second : parts.first).documents_.push_back(documents_[i]);
  return parts;
}

// ---- loaders ------------------------------------------------------------------

Corpus Corpus::from_texts(const std::vector<std::string>& texts, const std::vector<std::string>& personas) {
  SIMULACRA_CHECK(personas.empty() || personas.size() == texts.size(), InvalidArgument,
                  "Corpus::from_texts: {} texts but {} personas (give one per text, or none)", texts.size(),
                  personas.size());
  Corpus c;
  for (std::size_t i = 0; i < texts.size(); ++i) c.add(texts[i], personas.empty() ? "default" : personas[i]);
  return c;
}

Corpus Corpus::from_directory(const std::string& path) {
  constexpr std::string_view who = "Corpus::from_directory";
  std::error_code ec;
  if (!fs::is_directory(path, ec)) throw FileError(fmt::format("{}: {}: not a directory", who, path));
  Corpus c;
  const auto entries = list_directory(path, who, [](const fs::directory_entry& e) {
    std::error_code ec2;
    return e.is_regular_file(ec2) || e.is_directory(ec2);
  });
  for (const fs::path& entry : entries) {
    if (fs::is_directory(entry, ec)) {
      const std::string persona = entry.filename().string();
      for (const fs::path& file : list_directory(entry.string(), who, is_regular)) {
        std::string text = read_corpus_file(file.string(), who);
        if (!text.empty()) c.add(std::move(text), persona);
      }
    } else {
      const std::string persona = entry.stem().string();
      for (std::string& p : detail::split_paragraphs(read_corpus_file(entry.string(), who))) c.add(std::move(p), persona);
    }
  }
  if (c.empty()) throw FileError(fmt::format("{}: {}: no documents found", who, path));
  return c;
}

Corpus Corpus::from_jsonl(const std::string& path) {
  constexpr std::string_view who = "Corpus::from_jsonl";
  const std::string text = read_corpus_file(path, who);
  Corpus c;
  std::size_t line_number = 0;
  for_each_line(text, [&](std::string_view line) {
    ++line_number;
    if (is_blank(line)) return;
    const auto fail = [&](const std::string& what) {
      return FileError(fmt::format("{}: {}:{}: {}", who, path, line_number, what));
    };
    json::Value v;
    try {
      v = json::parse(line);
    } catch (const InvalidArgument& e) {
      throw fail(fmt::format("invalid JSON ({})", e.what()));
    }
    if (!v.is_object()) throw fail(fmt::format("expected a JSON object, found {}", json::type_name(v.type())));
    std::string fields[2];
    const char* names[2] = {"text", "persona"};
    for (int i = 0; i < 2; ++i) {
      const json::Value* f = v.find(names[i]);
      if (f == nullptr) throw fail(fmt::format("missing field \"{}\"", names[i]));
      if (!f->is_string())
        throw fail(fmt::format("field \"{}\" is a JSON {}, expected a string", names[i], json::type_name(f->type())));
      fields[i] = f->as_string();
    }
    if (fields[1].empty()) throw fail("field \"persona\" is empty");
    c.add(std::move(fields[0]), std::move(fields[1]));
  });
  if (c.empty()) throw FileError(fmt::format("{}: {}: no documents found", who, path));
  return c;
}

Corpus Corpus::from_play(const std::string& path, std::size_t top_speakers,
                         const std::map<std::string, std::string>& groups) {
  constexpr std::string_view who = "Corpus::from_play";
  for (const auto& [speaker, group] : groups)
    SIMULACRA_CHECK(!group.empty(), InvalidArgument, "{}: groups maps speaker \"{}\" to an empty name", who, speaker);

  struct Speech {
    std::string speaker, text;
  };
  std::vector<Speech> speeches;
  std::map<std::string, std::size_t> speaker_bytes;
  for (std::string& block : detail::split_paragraphs(read_corpus_file(path, who))) {
    const auto nl = block.find('\n');
    const std::string_view first = trim(std::string_view(block).substr(0, nl));
    if (first.size() < 2 || first.back() != ':') continue;
    std::string speaker(trim(first.substr(0, first.size() - 1)));
    if (speaker.empty() || nl == std::string::npos) continue;
    if (!groups.empty() && groups.count(speaker) == 0) continue;
    std::string text = block.substr(nl + 1);
    speaker_bytes[speaker] += text.size();
    speeches.push_back({std::move(speaker), std::move(text)});
  }

  std::set<std::string> kept;  // with top_speakers > 0: the speakers kept
  if (top_speakers > 0) {
    std::vector<std::pair<std::string, std::size_t>> ranked(speaker_bytes.begin(), speaker_bytes.end());
    std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    for (std::size_t i = 0; i < std::min(top_speakers, ranked.size()); ++i) kept.insert(ranked[i].first);
  }

  Corpus c;
  for (Speech& s : speeches) {
    if (top_speakers > 0 && kept.count(s.speaker) == 0) continue;
    c.add(std::move(s.text), groups.empty() ? s.speaker : groups.at(s.speaker));
  }
  if (c.empty()) throw FileError(fmt::format("{}: {}: no speeches found", who, path));
  return c;
}

Corpus Corpus::from_fortunes(const std::vector<std::string>& paths) {
  constexpr std::string_view who = "Corpus::from_fortunes";
  std::vector<fs::path> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      for (const fs::path& f : list_directory(path, who, [](const fs::directory_entry& e) {
             return is_regular(e) && !e.path().has_extension();
           }))
        files.push_back(f);
    } else {
      files.emplace_back(path);
    }
  }
  Corpus c;
  for (const fs::path& file : files) {
    const std::string persona = file.stem().string();
    std::string entry;
    const auto finish = [&] {
      if (!is_blank(entry)) c.add(std::move(entry), persona);
      entry.clear();
    };
    bool first_line = true;
    for_each_line(read_corpus_file(file.string(), who), [&](std::string_view line) {
      if (line == "%") {
        finish();
        first_line = true;
        return;
      }
      if (!first_line) entry.push_back('\n');
      entry.append(line);
      first_line = false;
    });
    finish();
  }
  if (c.empty()) throw FileError(fmt::format("{}: no fortunes found in {}", who, fmt::join(paths, ", ")));
  return c;
}

Corpus Corpus::builtin() {
  Corpus c;
  for (const auto& [persona, text] : detail::builtin_persona_files())
    for (std::string& p : detail::split_paragraphs(text)) c.add(std::move(p), std::string(persona));
  return c;
}

}  // namespace simulacra
