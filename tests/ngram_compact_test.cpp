// Tests of the compact n-gram persona (ngram_compact.hpp) against the double
// model it is made from (itself checked against the brute-force Kneser-Ney
// reference in ngram_test): every probability within the derived rounding
// bound, held-out perplexity within 0.01%, distributions that sum to 1 within
// the derived tolerance, model files (copied and mapped) that give the same
// bits, damaged files refused, and two processes sharing one mapping.
#include "simulacra/ngram_compact.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "model_file_testing.hpp"
#include "simulacra/mixture.hpp"

namespace {

using simulacra::CompactNGramPersona;
using simulacra::FileError;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::TensorFile;
using simulacra::Token;
using namespace simulacra::testing;  // NOLINT: the shared fixture and helpers

// The embedded persona corpora as paragraphs: every fifth held out.
struct Corpus {
  std::vector<std::string> train, held;
};
const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus out;
    std::size_t i = 0;
    for (const char* name : {"assistant", "doctor", "pirate", "poet", "scientist", "trickster"})
      for (std::string& p : paragraphs(persona_file(name))) (i++ % 5 == 4 ? out.held : out.train).push_back(p);
    return out;
  }();
  return c;
}
const NGramPersona& model6() {
  static const NGramPersona lm = NGramPersona::fit(corpus().train, 6);
  return lm;
}

std::vector<Token> tokens_of(const std::string& doc) {
  std::vector<Token> t(doc.begin(), doc.end());
  for (Token& x : t) x = Token(static_cast<unsigned char>(x));
  t.push_back(simulacra::kBoundary);
  return t;
}

TEST(CompactNGram, EveryProbabilityIsWithinTheRoundingBound) {
  for (int order : {1, 2, 3, 6}) {
    const NGramPersona lm = order == 6 ? model6() : NGramPersona::fit(corpus().train, order);
    const CompactNGramPersona small = CompactNGramPersona::compact(lm);
    const double bound = std::log1p(CompactNGramPersona::prob_rel_error(order));
    double worst = 0.0;
    for (const std::string& doc : corpus().held) {
      const std::vector<Token> t = tokens_of(doc);
      const std::vector<double> a = lm.token_logprobs(t), b = small.token_logprobs(t);
      for (std::size_t i = 0; i < t.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
      // And the whole distribution at every position: relative error bounded, sum within order * tolerance.
      auto sa = lm.begin();
      auto sb = small.begin();
      Eigen::VectorXd pa(kVocab), pb(kVocab);
      for (std::size_t i = 0; i < t.size(); i += 7) {
        sa->next_logprobs(pa);
        sb->next_logprobs(pb);
        ASSERT_LE((pa - pb).cwiseAbs().maxCoeff(), bound) << "order " << order << " position " << i;
        ASSERT_LE(std::abs(pb.array().exp().sum() - 1.0), order * CompactNGramPersona::kSumTolerance);
        for (std::size_t j = i; j < std::min(i + 7, t.size()); ++j) {
          sa->advance(t[j]);
          sb->advance(t[j]);
        }
      }
    }
    EXPECT_LE(worst, bound) << "order " << order;
    EXPECT_GT(worst, 0.0) << "order " << order << ": rounding should show";  // the bound is not vacuous
    EXPECT_EQ(small.num_ngrams(), lm.num_ngrams());
  }
}

TEST(CompactNGram, HeldOutPerplexityIsWithinAHundredthOfAPercent) {
  const CompactNGramPersona small = CompactNGramPersona::compact(model6());
  double a = 0.0, b = 0.0, n = 0.0;
  for (const std::string& doc : corpus().held) {
    a += model6().score_document(doc);
    b += small.score_document(doc);
    n += double(doc.size() + 1);
  }
  const double ratio = std::exp(-(b - a) / n);  // perplexity(compact) / perplexity(double)
  EXPECT_LE(std::abs(ratio - 1.0), 1e-4) << ratio;
  EXPECT_LT(small.memory_bytes() * 3, model6().memory_bytes());
}

TEST(CompactNGram, RefusesBackoffModelsWithNegativeTerms) {
  std::vector<NGramPersona::Level> levels(2);
  levels[0].node.resize(1);
  levels[0].node[0].gamma = 2.0;
  levels[0].node[0].child_end = kVocab + 1;
  levels[1].node.resize(kVocab + 1);
  for (int w = 0; w <= kVocab; ++w) {
    levels[1].node[std::size_t(w)].token = std::uint16_t(w);
    levels[1].node[std::size_t(w)].disc = -1.0 / kVocab;  // p = 2/257 - 1/257
  }
  const NGramPersona lm = NGramPersona::from_levels(1, levels, {simulacra::Discounts{}});
  EXPECT_THROW(CompactNGramPersona::compact(lm), simulacra::InvalidArgument);
  EXPECT_THROW(CompactNGramPersona::compact(NGramPersona()), simulacra::InvalidArgument);
}

class CompactFileTest : public ModelFileTest {
 protected:
  Mixture pile() const {
    auto a = std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(model6()));
    auto b = std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(NGramPersona::fit(corpus().held, 3)));
    auto c = std::make_shared<NGramPersona>(NGramPersona::fit(corpus().held, 2));
    return Mixture({a, b, c}, {"six", "three", "plain"}, Eigen::Vector3d(0.5, 0.3, 0.2));
  }
  // Expects load and load_mapped to refuse `file` with a FileError.
  void expect_refused(const TensorFile& file, const std::string& what) {
    simulacra::write_safetensors(path("bad.safetensors").string(), file);
    expect_file_error(path("bad.safetensors"), what);
    EXPECT_THROW(simulacra::load_mapped(path("bad.safetensors").string()), FileError) << what;
  }
};

TEST_F(CompactFileTest, SavedLoadedAndMappedPilesScoreTheSameBits) {
  const Mixture m = pile();
  simulacra::save(m, path().string());
  const TensorFile raw = simulacra::read_safetensors(path().string());
  EXPECT_EQ(raw.metadata.at("format_version"), "4");
  EXPECT_TRUE(raw.has("persona.0.level.6.key") && raw.has("persona.0.level.5.backoff"));
  const Mixture loaded = simulacra::load(path().string());
  const Mixture mapped = simulacra::load_mapped(path().string());
  const Mixture bytes = simulacra::load_from_bytes(simulacra::save_to_bytes(m), "bytes");
  for (const std::string& doc : corpus().held) {
    const std::vector<Token> t = tokens_of(doc);
    for (int k = 0; k < 3; ++k) {
      const std::vector<double> want = m.persona(k).token_logprobs(t);
      EXPECT_EQ(loaded.persona(k).token_logprobs(t), want);
      EXPECT_EQ(mapped.persona(k).token_logprobs(t), want);
      EXPECT_EQ(bytes.persona(k).token_logprobs(t), want);
    }
    EXPECT_EQ(mapped.score(doc), m.score(doc));
  }
  EXPECT_EQ(mapped.persona(0).kind(), "ngram_compact");
  // The mapping outlives the pile it came from: personas keep it alive.
  std::shared_ptr<const simulacra::Persona> keep;
  { keep = simulacra::load_mapped(path().string()).persona_ptr(0); }
  EXPECT_EQ(keep->token_logprobs(tokens_of("Arr, matey")), m.persona(0).token_logprobs(tokens_of("Arr, matey")));
}

TEST_F(CompactFileTest, DamagedArraysAreFileErrors) {
  simulacra::save(pile(), path().string());
  const TensorFile good = simulacra::read_safetensors(path().string());
  auto u32 = [&](const std::string& name) { return good.get_as<std::uint32_t>(name); };
  auto put_u32 = [&](const std::string& name, std::vector<std::uint32_t> v) {
    simulacra::Tensor t;
    t.dtype = simulacra::DType::U32;
    t.shape = {std::int64_t(v.size())};
    t.bytes.resize(v.size() * 4);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return with_tensor(good, name, t);
  };
  auto put_f32 = [&](const std::string& name, std::vector<float> v) {
    simulacra::Tensor t;
    t.shape = {std::int64_t(v.size())};
    t.bytes.resize(v.size() * 4);
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return with_tensor(good, name, t);
  };
  const std::string L3 = "persona.0.level.3.", L2 = "persona.0.level.2.";
  {
    auto k = u32(L3 + "key");
    k[5] = (k[5] & ~0x1FFu) | 300u;  // token 300
    expect_refused(put_u32(L3 + "key", k), "token out of range");
  }
  {
    auto c = u32(L2 + "child");
    const std::uint32_t b = c[10];
    auto k = u32(L3 + "key");
    ASSERT_GT(c[11] - b, 1u);
    std::swap(k[b], k[b + 1]);  // children out of order
    expect_refused(put_u32(L3 + "key", k), "unsorted children");
  }
  {
    auto k = u32(L3 + "key");
    k[7] = 0x7FC00000u | (k[7] & 0x1FFu);  // NaN term
    expect_refused(put_u32(L3 + "key", k), "NaN term");
    k = u32(L3 + "key");
    k[7] = 0xBF800000u | (k[7] & 0x1FFu);  // -1
    expect_refused(put_u32(L3 + "key", k), "negative term");
    k = u32(L3 + "key");
    k[7] = (0x3E000000u) | (k[7] & 0x1FFu);  // a term moved: the sum is off
    expect_refused(put_u32(L3 + "key", k), "sum off");
  }
  {
    auto c = u32(L2 + "child");
    c[20] = c.back() + 5;  // beyond the next level
    expect_refused(put_u32(L2 + "child", c), "child range out of bounds");
    c = u32(L2 + "child");
    std::swap(c[20], c[21]);  // decreasing
    expect_refused(put_u32(L2 + "child", c), "decreasing child range");
    c = u32(L2 + "child");
    c.back() -= 1;  // does not cover the next level
    expect_refused(put_u32(L2 + "child", c), "child ranges not covering");
    c = u32(L2 + "child");
    c.pop_back();  // wrong shape
    expect_refused(put_u32(L2 + "child", c), "child array short");
    c = u32("persona.0.level.0.child");
    c[1] = 0xFFFFFFFFu;
    expect_refused(put_u32("persona.0.level.0.child", c), "huge root range");
  }
  {
    auto g = good.get_as<float>(L2 + "backoff");
    g[3] = 1.5f;
    expect_refused(put_f32(L2 + "backoff", g), "backoff above 1");
    g[3] = std::numeric_limits<float>::infinity();
    expect_refused(put_f32(L2 + "backoff", g), "infinite backoff");
    g.pop_back();
    expect_refused(put_f32(L2 + "backoff", g), "backoff array short");
  }
  {
    auto k = u32("persona.0.level.1.key");
    std::swap(k[3], k[4]);  // the dense level 1 out of place
    expect_refused(put_u32("persona.0.level.1.key", k), "level 1 not dense");
  }
  {
    // The wrong dtype: keys as F32.
    simulacra::Tensor t = good.get(L3 + "key");
    t.dtype = simulacra::DType::F32;
    expect_refused(with_tensor(good, L3 + "key", t), "keys as F32");
  }
  {
    // A missing array.
    TensorFile f;
    f.metadata = good.metadata;
    for (const std::string& n : good.names())
      if (n != "persona.1.level.2.backoff") f.put(n, good.get(n));
    expect_refused(f, "missing backoff array");
  }
  // Truncated files, through both loaders.
  const Bytes file = read_bytes(path());
  for (std::size_t i = 1; i < 24; ++i) {
    write_bytes(path("cut.safetensors"), file, file.size() * i / 24);
    expect_file_error(path("cut.safetensors"), "truncated");
    EXPECT_THROW(simulacra::load_mapped(path("cut.safetensors").string()), FileError);
  }
  // Flipped data bytes: each file either loads with proper distributions or is a FileError, mapped or not.
  std::mt19937 rng(7);
  const std::size_t data = std::size_t(8 + header_length(file));
  for (int trial = 0; trial < 60; ++trial) {
    Bytes damaged = file;
    damaged[data + rng() % (file.size() - data)] ^= std::uint8_t(1u << (rng() % 8));
    write_bytes(path("flip.safetensors"), damaged);
    try {
      const Mixture m = simulacra::load_mapped(path("flip.safetensors").string());
      for (int k = 0; k < m.size(); ++k) {
        auto s = m.persona(k).begin();
        Eigen::VectorXd lp(kVocab);
        for (unsigned char ch : std::string("To be, or not")) {
          s->next_logprobs(lp);
          EXPECT_NEAR(lp.array().exp().sum(), 1.0, 6 * CompactNGramPersona::kSumTolerance + 1e-9);
          s->advance(ch);
        }
      }
    } catch (const FileError&) {
    }
  }
}

// Shared_Clean kB of the mapping of `file` in /proc/<pid>/smaps (0 when unmapped).
long shared_clean_kb(pid_t pid, const std::string& file) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  std::string line;
  bool ours = false;
  long kb = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) && line.find('-') < 16) {
      ours = line.size() >= file.size() && line.compare(line.size() - file.size(), file.size(), file) == 0;
    } else if (ours && line.rfind("Shared_Clean:", 0) == 0) {
      kb += std::stol(line.substr(13));
    }
  }
  return kb;
}

TEST_F(CompactFileTest, TwoProcessesShareOneMapping) {
  const Mixture m = Mixture({std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(model6()))}, {"six"},
                            Eigen::VectorXd::Ones(1));
  simulacra::save(m, path().string());
  const std::string file = std::filesystem::canonical(path()).string();
  int ready[2], done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();  // before any mapping: the two map the file independently
  ASSERT_GE(child, 0);
  if (child == 0) {
    const Mixture theirs = simulacra::load_mapped(file);  // validation reads every array: all pages resident
    const char ok = theirs.score("To be") == m.score("To be") ? 'y' : 'n';
    (void)!write(ready[1], &ok, 1);
    char c;
    (void)!read(done[0], &c, 1);
    _exit(0);
  }
  char ok = 0;
  ASSERT_EQ(read(ready[0], &ok, 1), 1);
  const long alone = shared_clean_kb(child, file);
  const Mixture mine = simulacra::load_mapped(file);
  const long shared = shared_clean_kb(getpid(), file);
  const long theirs = shared_clean_kb(child, file);
  const char c = 'x';
  (void)!write(done[1], &c, 1);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(ok, 'y');
  EXPECT_EQ(mine.score("To be"), m.score("To be"));
  const long file_kb = long(std::filesystem::file_size(file) / 1024);
  EXPECT_EQ(alone, 0) << "one process maps the file: nothing is shared yet";
  EXPECT_GE(shared, file_kb * 9 / 10) << "shared " << shared << " kB of a " << file_kb << " kB file";
  EXPECT_GE(theirs, file_kb * 9 / 10) << "shared " << theirs << " kB of a " << file_kb << " kB file";
}

}  // namespace
