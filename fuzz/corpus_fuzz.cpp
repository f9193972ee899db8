// fuzz/corpus_fuzz.cpp — the corpus loaders on arbitrary bytes. The first
// byte picks the loader (mod 4) and, for plays, top_speakers (byte / 4 mod 4):
//   0 from_play      the rest is the play's text
//   1 from_fortunes  the rest is a fortune file
//   2 from_jsonl     the rest is the JSON Lines text
//   3 from_directory the rest is NUL-separated (name, content) pairs; a name
//                    "persona/doc" makes a persona directory, other names a
//                    persona file (at most 16 entries, '/' beyond the first
//                    and "." / ".." names mapped to '_')
#include <algorithm>
#include <string>
#include <vector>

#include "fuzzing.hpp"
#include "simulacra/corpus.hpp"

namespace {

namespace fs = std::filesystem;

// A file or directory name: no '/', not "." or "..", not empty.
std::string entry_name(std::string name) {
  for (char& c : name)
    if (c == '/') c = '_';
  if (name.empty() || name == "." || name == "..") name = "_" + name;
  return name;
}

// Lays out the (name, content) pairs of `spec` below `root` (emptied first).
void make_directory(const fs::path& root, std::string_view spec) {
  std::error_code ec;
  fs::remove_all(root, ec);
  fs::create_directory(root);
  std::vector<std::string_view> fields;
  for (std::size_t start = 0; start <= spec.size() && fields.size() < 32;) {
    const std::size_t end = std::min(spec.find('\0', start), spec.size());
    fields.push_back(spec.substr(start, end - start));
    start = end + 1;
  }
  for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
    const std::string_view name = fields[i];
    const std::size_t slash = name.find('/');
    fs::path target = root / entry_name(std::string(name.substr(0, slash)));
    if (slash != std::string_view::npos) {
      fs::create_directory(target, ec);
      target /= entry_name(std::string(name.substr(slash + 1)));
    }
    if (!fs::is_directory(target, ec)) simulacra::fuzzing::write_file(target, fields[i + 1]);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace simulacra;
  if (size == 0) return 0;
  const unsigned mode = data[0] % 4, top_speakers = data[0] / 4 % 4;
  if (mode == 3) {
    static const fuzzing::ScratchPath directory(".corpus.d");
    make_directory(directory.path(), fuzzing::as_text(data + 1, size - 1));
    fuzzing::expect_typed_errors([&] { Corpus::from_directory(directory.string()); });
    return 0;
  }
  fuzzing::on_input_file(data + 1, size - 1, [&](const std::string& path) {
    if (mode == 0) Corpus::from_play(path, top_speakers);
    if (mode == 1) Corpus::from_fortunes({path});
    if (mode == 2) Corpus::from_jsonl(path);
  });
  return 0;
}
