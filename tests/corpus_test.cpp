// Tests for simulacra/corpus.hpp: documents, loaders on small files, the split.
#include "simulacra/corpus.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "testing.hpp"

namespace fs = std::filesystem;
using simulacra::Corpus;
using simulacra::FileError;
using simulacra::InvalidArgument;
using simulacra::OutOfRange;

namespace {

using Strings = std::vector<std::string>;

// A fresh directory under the system temp directory, removed afterwards.
class CorpusFilesTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string name = "simulacra_corpus_" + std::to_string(::getpid()) + "_" +
                       testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = fs::temp_directory_path() / name;
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `content` to dir_/relative (creating parent directories); returns its path.
  std::string write(const std::string& relative, const std::string& content) const {
    const fs::path p = dir_ / relative;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  std::string path(const std::string& relative) const { return (dir_ / relative).string(); }

  fs::path dir_;
};

using simulacra::testing::file_error;

Strings texts(const Corpus& c) {
  Strings out;
  for (const auto& d : c.documents()) out.push_back(d.text);
  return out;
}

Strings personas_in_order(const Corpus& c) {
  Strings out;
  for (const auto& d : c.documents()) out.push_back(d.persona);
  return out;
}

}  // namespace

TEST(ParagraphTest, SplitsOnBlankLines) {
  using simulacra::detail::split_paragraphs;
  EXPECT_EQ(split_paragraphs("a\nb\n\n\n  \t\nc\n"), (Strings{"a\nb", "c"}));
  EXPECT_EQ(split_paragraphs("\n\n  first\n  second  \n\nlast"), (Strings{"  first\n  second  ", "last"}));
  EXPECT_EQ(split_paragraphs("x\r\ny\r\n\r\nz\r\n"), (Strings{"x\r\ny", "z"}));
  EXPECT_TRUE(split_paragraphs("").empty());
  EXPECT_TRUE(split_paragraphs("\n \n\t\n").empty());
}

TEST(CorpusTest, AddAndRead) {
  Corpus c;
  EXPECT_TRUE(c.empty());
  c.add("ahoy", "pirate");
  c.add("beep", "robot");
  c.add("arr", "pirate");
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c[1].text, "beep");
  EXPECT_EQ(c[1].persona, "robot");
  EXPECT_EQ(c.personas(), (Strings{"pirate", "robot"}));
  EXPECT_EQ(c.texts_of("pirate"), (Strings{"ahoy", "arr"}));
  EXPECT_EQ(c.bytes(), 11u);
  EXPECT_THROW(c.add("text", ""), InvalidArgument);
  try {
    c[3];
    FAIL() << "no exception";
  } catch (const OutOfRange& e) {
    EXPECT_NE(std::string(e.what()).find("index 3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("size 3"), std::string::npos) << e.what();
  }
  try {
    c.texts_of("ninja");
    FAIL() << "no exception";
  } catch (const OutOfRange& e) {
    EXPECT_NE(std::string(e.what()).find("ninja"), std::string::npos) << e.what();
  }
}

TEST(CorpusTest, FromTexts) {
  const Corpus d = Corpus::from_texts({"a", "b"});
  EXPECT_EQ(personas_in_order(d), (Strings{"default", "default"}));
  const Corpus c = Corpus::from_texts({"a", "b", "c"}, {"x", "y", "x"});
  EXPECT_EQ(c.texts_of("x"), (Strings{"a", "c"}));
  try {
    Corpus::from_texts({"a", "b", "c"}, {"x", "y"});
    FAIL() << "no exception";
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("3 texts"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 personas"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Corpus::from_texts({"a"}, {""}), InvalidArgument);
}

TEST_F(CorpusFilesTest, FromDirectory) {
  write("pirate.txt", "Arr.\nMatey!\n\n\n   \nYo ho.\n");
  write("robot/b.txt", "second file\n\nstill second\n");
  write("robot/a.txt", "first file");
  write("robot/.swap", "hidden");
  write("robot/empty.txt", "");
  write(".hidden.txt", "never");
  write("zen", "one\n\ntwo");
  const Corpus c = Corpus::from_directory(dir_.string());
  EXPECT_EQ(texts(c), (Strings{"Arr.\nMatey!", "Yo ho.", "first file", "second file\n\nstill second\n", "one", "two"}));
  EXPECT_EQ(personas_in_order(c), (Strings{"pirate", "pirate", "robot", "robot", "zen", "zen"}));
}

TEST_F(CorpusFilesTest, FromDirectoryErrors) {
  EXPECT_NE(file_error([&] { Corpus::from_directory(dir_.string()); }).find("no documents"), std::string::npos);
  const std::string file = write("plain.txt", "text");
  EXPECT_NE(file_error([&] { Corpus::from_directory(file); }).find("not a directory"), std::string::npos);
  EXPECT_NE(file_error([&] { Corpus::from_directory(path("absent")); }).find(path("absent")), std::string::npos);
}

TEST_F(CorpusFilesTest, FromJsonl) {
  const std::string file = write("c.jsonl",
                                 "{\"text\": \"hello\\nworld\", \"persona\": \"greeter\", \"id\": 1}\n"
                                 "\n"
                                 "   \n"
                                 "{\"persona\": \"critic\", \"text\": \"meh\"}\r\n"
                                 "{\"text\": \"\", \"persona\": \"greeter\"}");
  const Corpus c = Corpus::from_jsonl(file);
  EXPECT_EQ(texts(c), (Strings{"hello\nworld", "meh", ""}));
  EXPECT_EQ(personas_in_order(c), (Strings{"greeter", "critic", "greeter"}));
}

TEST_F(CorpusFilesTest, FromJsonlErrorsNameTheLine) {
  const std::string good = "{\"text\": \"a\", \"persona\": \"p\"}\n\n";
  const std::pair<std::string, std::string> cases[] = {
      {"{\"text\": \"a\", \"persona\": \"p\"", "invalid JSON"},
      {"[\"a\", \"p\"]", "expected a JSON object, found array"},
      {"{\"text\": \"a\"}", "missing field \"persona\""},
      {"{\"persona\": \"p\"}", "missing field \"text\""},
      {"{\"text\": 3, \"persona\": \"p\"}", "field \"text\" is a JSON number"},
      {"{\"text\": \"a\", \"persona\": null}", "field \"persona\" is a JSON null"},
      {"{\"text\": \"a\", \"persona\": \"\"}", "\"persona\" is empty"},
  };
  for (const auto& [line, what] : cases) {
    const std::string file = write("bad.jsonl", good + line + "\n" + good);
    const std::string message = file_error([&] { Corpus::from_jsonl(file); });
    EXPECT_NE(message.find(file + ":3: "), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  }
  EXPECT_NE(file_error([&] { Corpus::from_jsonl(path("absent.jsonl")); }).find("absent.jsonl"), std::string::npos);
  const std::string blank = write("blank.jsonl", "\n\n");
  EXPECT_NE(file_error([&] { Corpus::from_jsonl(blank); }).find("no documents"), std::string::npos);
}

TEST_F(CorpusFilesTest, FromPlaySmall) {
  const std::string file = write("play.txt",
                                 "ALICE:\nHello there.\nHow are you?\n\n"
                                 "A stage direction without a speaker\n\n"
                                 "BOB:\n\n"  // a speaker line with no speech
                                 "  Bob Senior :  \nFine.\n\n"
                                 "ALICE:\nGood.\n\n"
                                 "CAROL:\nI talk the most of anyone here.\n");
  const Corpus c = Corpus::from_play(file);
  EXPECT_EQ(texts(c), (Strings{"Hello there.\nHow are you?", "Fine.", "Good.", "I talk the most of anyone here."}));
  EXPECT_EQ(personas_in_order(c), (Strings{"ALICE", "Bob Senior", "ALICE", "CAROL"}));
  // ALICE has 30 bytes of speech, CAROL 31, Bob Senior 5.
  EXPECT_EQ(Corpus::from_play(file, 1).personas(), Strings{"CAROL"});
  EXPECT_EQ(Corpus::from_play(file, 2).personas(), (Strings{"ALICE", "CAROL"}));
  EXPECT_EQ(Corpus::from_play(file, 10).size(), 4u);
  const Corpus grouped = Corpus::from_play(file, 0, {{"ALICE", "family"}, {"Bob Senior", "family"}});
  EXPECT_EQ(personas_in_order(grouped), (Strings{"family", "family", "family"}));
  // top_speakers ranks the speakers kept by the groups, not the groups.
  const Corpus top = Corpus::from_play(file, 1, {{"ALICE", "a"}, {"Bob Senior", "b"}});
  EXPECT_EQ(personas_in_order(top), (Strings{"a", "a"}));
  EXPECT_NE(file_error([&] { Corpus::from_play(file, 0, {{"NOBODY", "x"}}); }).find("no speeches"), std::string::npos);
  EXPECT_NE(file_error([&] { Corpus::from_play(path("absent.txt")); }).find("absent.txt"), std::string::npos);
}

TEST(CorpusPlayTest, TinyShakespeare) {
  SIMULACRA_REQUIRE_SHARED_DATA("tinyshakespeare.txt");
  const std::string file = simulacra::testing::shared_data("tinyshakespeare.txt");
  const Corpus c = Corpus::from_play(file);
  // Facts read off the file: 7097 non-empty speeches by 299 speakers.
  EXPECT_EQ(c.size(), 7097u);
  EXPECT_EQ(c.personas().size(), 299u);
  EXPECT_EQ(c[0].persona, "First Citizen");
  EXPECT_EQ(c[0].text, "Before we proceed any further, hear me speak.");
  EXPECT_EQ(c[1].persona, "All");
  EXPECT_EQ(c[1].text, "Speak, speak.");
  EXPECT_EQ(c[c.size() - 1].persona, "ANTONIO");
  EXPECT_EQ(c[c.size() - 1].text, "Noble Sebastian,\nThou let'st thy fortune sleep--die, rather; wink'st\nWhiles thou art waking.");

  const Corpus top = Corpus::from_play(file, 5);
  EXPECT_EQ(top.personas(), (Strings{"CORIOLANUS", "DUKE VINCENTIO", "GLOUCESTER", "KING RICHARD II", "LEONTES"}));

  const Corpus plays = Corpus::from_play(
      file, 0, {{"ROMEO", "romeo-and-juliet"}, {"JULIET", "romeo-and-juliet"}, {"GLOUCESTER", "richard-iii"}});
  EXPECT_EQ(plays.personas(), (Strings{"richard-iii", "romeo-and-juliet"}));
  EXPECT_EQ(plays.texts_of("romeo-and-juliet").size(), 160u + 124u);
  EXPECT_EQ(plays.texts_of("richard-iii").size(), 211u);
}

TEST_F(CorpusFilesTest, FromFortunes) {
  const std::string wisdom = write("wisdom", "Look before\nyou leap.\n%\n%\n  \n%\nHaste makes waste.\n%\n");
  const Corpus c = Corpus::from_fortunes({wisdom});
  EXPECT_EQ(texts(c), (Strings{"Look before\nyou leap.", "Haste makes waste."}));
  EXPECT_EQ(c.personas(), Strings{"wisdom"});

  write("fortunes/jokes", "Knock knock.\n%\nWho's there?\n");
  write("fortunes/jokes.dat", "binary index");
  write("fortunes/jokes.u8", "also not a fortune file\n");
  write("fortunes/.hidden", "no\n");
  write("fortunes/riddles", "% not a separator\n%\n%%\n");
  write("wit.txt", "A file named explicitly keeps its stem.\n");
  const Corpus d = Corpus::from_fortunes({path("fortunes"), path("wit.txt")});
  EXPECT_EQ(texts(d), (Strings{"Knock knock.", "Who's there?", "% not a separator", "%%",
                               "A file named explicitly keeps its stem."}));
  EXPECT_EQ(personas_in_order(d), (Strings{"jokes", "jokes", "riddles", "riddles", "wit"}));

  EXPECT_NE(file_error([&] { Corpus::from_fortunes({path("absent")}); }).find("absent"), std::string::npos);
  const std::string empty = write("empty", "%\n%\n");
  EXPECT_NE(file_error([&] { Corpus::from_fortunes({empty}); }).find("no fortunes"), std::string::npos);
}

// Loaders read only regular files, each of at most Corpus::kMaxFileBytes,
// refused before anything is read (a sparse file of that size plus one byte
// used to be read into memory whole).
TEST_F(CorpusFilesTest, LoadersRefuseFifosDevicesAndHugeFiles) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  const std::string fifo = file_error([&] { Corpus::from_jsonl(path("fifo")); });
  EXPECT_NE(fifo.find("Corpus::from_jsonl: " + path("fifo") + ": is a FIFO, not a regular file"), std::string::npos)
      << fifo;
  EXPECT_NE(file_error([&] { Corpus::from_fortunes({"/dev/zero"}); }).find("is a character device"),
            std::string::npos);
  const std::string huge = path("huge.txt");
  std::ofstream(huge).close();
  fs::resize_file(huge, Corpus::kMaxFileBytes + 1);
  for (const auto& message : {file_error([&] { Corpus::from_play(huge); }),
                              file_error([&] { Corpus::from_directory(dir_.string()); })})
    EXPECT_NE(message.find(huge + ": is 4294967297 bytes, more than the limit of 4294967296"), std::string::npos)
        << message;
}

TEST(CorpusTest, Builtin) {
  const Corpus c = Corpus::builtin();
  std::set<std::string> stems;
  for (const auto& [name, content] : simulacra::detail::builtin_persona_files())
    if (!simulacra::detail::split_paragraphs(content).empty()) stems.insert(std::string(name));
  EXPECT_EQ(c.personas(), Strings(stems.begin(), stems.end()));
  for (const auto& d : c.documents()) {
    EXPECT_FALSE(d.text.empty());
    EXPECT_NE(d.text.back(), '\n');
  }
}

// ---- split ------------------------------------------------------------------

namespace {

// 10 documents of "a", 3 of "b", 1 of "c", interleaved.
Corpus split_corpus() {
  Corpus c;
  for (int i = 0; i < 10; ++i) {
    c.add("a" + std::to_string(i), "a");
    if (i < 3) c.add("b" + std::to_string(i), "b");
    if (i == 5) c.add("c0", "c");
  }
  return c;
}

// Whether `part` is a subsequence of `whole` (the order is kept).
bool keeps_order(const Strings& part, const Strings& whole) {
  auto it = whole.begin();
  for (const auto& s : part) {
    it = std::find(it, whole.end(), s);
    if (it == whole.end()) return false;
    ++it;
  }
  return true;
}

}  // namespace

TEST(CorpusSplitTest, StratifiedAndOrdered) {
  const Corpus c = split_corpus();
  const auto [train, heldout] = c.split(0.2, 7);
  // a: round(2.0) = 2, b: round(0.6) = 1, c: one document stays in train.
  EXPECT_EQ(heldout.texts_of("a").size(), 2u);
  EXPECT_EQ(heldout.texts_of("b").size(), 1u);
  EXPECT_THROW(heldout.texts_of("c"), OutOfRange);
  EXPECT_EQ(train.texts_of("a").size(), 8u);
  EXPECT_EQ(train.texts_of("b").size(), 2u);
  EXPECT_EQ(train.texts_of("c"), Strings{"c0"});
  EXPECT_EQ(train.size() + heldout.size(), c.size());
  EXPECT_TRUE(keeps_order(texts(train), texts(c)));
  EXPECT_TRUE(keeps_order(texts(heldout), texts(c)));
  const Strings train_texts = texts(train);
  std::multiset<std::string> all(train_texts.begin(), train_texts.end());
  for (const auto& t : texts(heldout)) all.insert(t);
  const Strings original = texts(c);
  EXPECT_EQ(all, std::multiset<std::string>(original.begin(), original.end()));
}

TEST(CorpusSplitTest, Bounds) {
  const Corpus c = split_corpus();
  // A small fraction still holds out one document of each persona with >= 2.
  const auto [train1, heldout1] = c.split(0.01, 1);
  EXPECT_EQ(heldout1.size(), 2u);
  // A large one keeps one training document per persona.
  const auto [train2, heldout2] = c.split(0.99, 1);
  EXPECT_EQ(train2.personas(), (Strings{"a", "b", "c"}));
  EXPECT_EQ(train2.size(), 3u);
  const auto [train3, heldout3] = c.split(0.0, 1);
  EXPECT_EQ(train3.size(), c.size());
  EXPECT_TRUE(heldout3.empty());
  for (const double bad : {-0.1, 1.0, 1.5, std::nan(""), std::numeric_limits<double>::infinity()})
    EXPECT_THROW(c.split(bad, 1), InvalidArgument) << bad;
}

TEST(CorpusSplitTest, DeterministicPerSeed) {
  const Corpus c = split_corpus();
  EXPECT_EQ(texts(c.split(0.3, 42).second), texts(c.split(0.3, 42).second));
  std::set<Strings> distinct;
  for (std::uint64_t seed = 0; seed < 10; ++seed) distinct.insert(texts(c.split(0.3, seed).second));
  EXPECT_GT(distinct.size(), 5u);
}

TEST(CorpusSplitTailTest, HoldsOutTheShortestTailOfWholeDocuments) {
  // Random corpora against a brute force: per persona, the fewest last
  // documents (at most n - 1) whose bytes reach the fraction of its bytes.
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    Corpus c;
    const int docs = 1 + int(rng() % 12);
    for (int i = 0; i < docs; ++i)
      c.add(std::string(1 + rng() % 40, 'x') + std::to_string(i), std::string(1, char('a' + rng() % 3)));
    const double fraction = double(rng() % 100) / 100.0;
    const auto [train, heldout] = c.split_tail(fraction);
    EXPECT_TRUE(keeps_order(texts(train), texts(c)));
    EXPECT_TRUE(keeps_order(texts(heldout), texts(c)));
    EXPECT_EQ(train.size() + heldout.size(), c.size());
    for (const std::string& p : c.personas()) {
      const Strings all = c.texts_of(p);
      double total = 0;
      for (const auto& t : all) total += double(t.size());
      std::size_t want = 0;  // the brute force: smallest k with sum of the last k >= fraction * total
      for (std::size_t k = 0; k < all.size(); ++k) {
        double tail = 0;
        for (std::size_t j = all.size() - k; j < all.size(); ++j) tail += double(all[j].size());
        want = k;
        if (tail >= fraction * total) break;
      }
      const Strings present = heldout.personas();
      const Strings held = std::count(present.begin(), present.end(), p) ? heldout.texts_of(p) : Strings{};
      ASSERT_EQ(held.size(), want) << "trial " << trial << " persona " << p << " fraction " << fraction;
      EXPECT_TRUE(std::equal(held.begin(), held.end(), all.end() - std::ptrdiff_t(want)));  // the tail itself
    }
  }
}

TEST(CorpusSplitTailTest, Bounds) {
  const Corpus c = split_corpus();
  EXPECT_TRUE(c.split_tail(0.0).second.empty());
  const auto [train, heldout] = c.split_tail(0.99);
  EXPECT_EQ(train.personas(), (Strings{"a", "b", "c"}));  // every persona keeps its first document
  EXPECT_EQ(train.size(), 3u);
  for (const double bad : {-0.1, 1.0, 1.5, std::nan(""), std::numeric_limits<double>::infinity()})
    EXPECT_THROW(c.split_tail(bad), InvalidArgument) << bad;
}

TEST(CorpusSplitTest, EachDocumentEquallyLikely) {
  // One of 5 documents held out per seed: each should be chosen ~1/5 of the
  // time (binomial sd = sqrt(4000 * 0.2 * 0.8) ~ 25; allow 5 sd).
  Corpus c;
  for (int i = 0; i < 5; ++i) c.add(std::to_string(i), "p");
  std::map<std::string, int> count;
  const int trials = 4000;
  for (int seed = 0; seed < trials; ++seed) {
    const auto heldout = c.split(0.2, static_cast<std::uint64_t>(seed)).second;
    ASSERT_EQ(heldout.size(), 1u);
    ++count[heldout[0].text];
  }
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(count[std::to_string(i)], trials / 5, 125) << i;
}
