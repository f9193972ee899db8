// Tests of ARPA files (arpa.hpp). The reference is a back-off model written
// here from the ARPA definition alone, sharing no code with the library: the
// file's n-grams in a std::map, and
//
//   p(w | h) = 10^logp(hw)                      if hw is listed
//            = 10^logbo(h) p(w | h')            otherwise (logbo = 0 for an unlisted h)
//
// evaluated directly. An exported fitted model must answer every query as
// the model itself does (which checks the Kneser-Ney -> ARPA mapping), a
// read file as the reference does (which checks the ARPA -> trie mapping,
// Katz-style back-off included), and damaged files are FileErrors.
#include "simulacra/arpa.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "simulacra/file_io.hpp"
#include "simulacra/model_file.hpp"
#include "testing.hpp"

namespace {

using simulacra::FileError;
using simulacra::NGramPersona;
using simulacra::Token;
constexpr int kStart = 257;

// ---- the reference ----------------------------------------------------------------

struct Reference {
  std::map<std::vector<int>, std::pair<double, double>> grams;  // words -> (log10 p, log10 backoff)
  int order = 0;

  explicit Reference(const std::string& text) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.size() > 2 && line[0] == '\\' && line.find("-grams:") != std::string::npos) {
        n = std::stoi(line.substr(1));
        order = std::max(order, n);
        continue;
      }
      if (n == 0 || line.empty() || line[0] == '\\') continue;
      std::istringstream f(line);
      std::vector<std::string> fields;
      for (std::string s; f >> s;) fields.push_back(s);
      std::vector<int> w;
      bool unk = false;
      for (int i = 1; i <= n; ++i) {
        const std::string& s = fields[std::size_t(i)];
        unk = unk || s == "<unk>";
        w.push_back(s == "</s>" ? 256 : s == "<s>" ? kStart : s == "<unk>" ? -1 : std::stoi(s, nullptr, 16));
      }
      grams[w] = {std::stod(fields[0]), int(fields.size()) == n + 2 ? std::stod(fields.back()) : 0.0};
    }
  }

  // p(w | h), h the whole history (the last order - 1 words are used).
  double prob(std::vector<int> h, int w) const {
    if (int(h.size()) > order - 1) h.erase(h.begin(), h.end() - (order - 1));
    std::vector<int> hw = h;
    hw.push_back(w);
    const auto it = grams.find(hw);
    if (it != grams.end()) return std::pow(10.0, it->second.first);
    if (h.empty()) {
      const auto unk = grams.find({-1});
      return unk != grams.end() ? std::pow(10.0, unk->second.first) : 1e-100;
    }
    const auto ctx = grams.find(h);
    const double bo = ctx == grams.end() ? 1.0 : std::pow(10.0, ctx->second.second);
    return bo * prob(std::vector<int>(h.begin() + 1, h.end()), w);
  }

  // Natural-log probabilities of each byte of `doc` and of the end, from <s>.
  std::vector<double> document(const std::string& doc) const {
    std::vector<int> h = {kStart};
    std::vector<double> out;
    for (unsigned char c : doc) {
      out.push_back(std::log(prob(h, c)));
      h.push_back(c);
    }
    out.push_back(std::log(prob(h, 256)));
    return out;
  }
};

std::vector<double> model_document(const NGramPersona& lm, const std::string& doc) {
  NGramPersona::Cursor cursor(lm);
  std::vector<double> out;
  for (unsigned char c : doc) out.push_back(cursor.advance(c));
  out.push_back(cursor.advance(simulacra::kBoundary));
  return out;
}

void expect_close(const std::vector<double>& a, const std::vector<double>& b, double rel, const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_NEAR(a[i], b[i], rel * std::max(1.0, std::abs(b[i]))) << what << " at token " << i;
}

std::vector<std::string> corpus() {
  return simulacra::testing::paragraphs(simulacra::testing::persona_file("pirate"));
}

std::string message_of(const std::string& text) {
  try {
    simulacra::load_arpa_from_bytes(text, "t.arpa");
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}

// ---- export: the file answers as the model does ---------------------------------------

TEST(ArpaTest, ExportedFileAnswersAsTheModel) {
  const std::vector<std::string> docs = corpus();
  const std::vector<std::string> train(docs.begin() + 2, docs.end());
  for (int order : {1, 2, 3, 4, 6, 8}) {
    const NGramPersona lm = NGramPersona::fit(train, order);
    const std::string text = simulacra::save_arpa_to_bytes(lm);
    const Reference ref(text);
    EXPECT_EQ(ref.order, order);
    EXPECT_EQ(ref.grams.size(), lm.num_ngrams() + 1) << "every stored n-gram, <s> and <unk>";  // kStart is <s>
    for (std::size_t d = 0; d < 2; ++d)
      expect_close(ref.document(docs[d]), model_document(lm, docs[d]), 1e-12, fmt::format("order {} doc {}", order, d));
    // Every token after a few contexts, including unseen bytes.
    for (const std::string ctx : {"", "A", "Arr, me", "zq\x01"}) {
      const Eigen::VectorXd lp = lm.next_logprobs(ctx);
      std::vector<int> h = {kStart};
      for (unsigned char c : ctx) h.push_back(c);
      for (int w = 0; w < simulacra::kVocab; ++w)
        EXPECT_NEAR(std::log(ref.prob(h, w)), lp[w], 1e-12 * std::max(1.0, std::abs(lp[w]))) << order << " " << w;
    }
  }
}

TEST(ArpaTest, ExportFormat) {
  const NGramPersona lm = NGramPersona::fit({"AB", "A\n"}, 3);
  const std::string text = simulacra::save_arpa_to_bytes(lm);
  EXPECT_EQ(text.rfind("\\data\\\nngram 1=259\nngram 2=", 0), 0u) << text.substr(0, 40);
  EXPECT_NE(text.find("\n-99\t<unk>\t0\n"), std::string::npos);
  EXPECT_NE(text.find("\t<s> 41\t"), std::string::npos) << "document start, then 'A', with a backoff";
  EXPECT_NE(text.find("\t41 0a\t"), std::string::npos) << "a newline is 0a";
  EXPECT_NE(text.find("\t42 </s>\n"), std::string::npos) << "no backoff after </s>";
  EXPECT_EQ(text.substr(text.size() - 8), "\n\n\\end\\\n");
  const NGramPersona uni = NGramPersona::fit({"AB"}, 1);
  const std::string t1 = simulacra::save_arpa_to_bytes(uni);
  EXPECT_NE(t1.find("\n-99\t<s>\n"), std::string::npos) << "no backoffs at the top order";
  EXPECT_THROW(simulacra::save_arpa_to_bytes(NGramPersona()), simulacra::InvalidArgument);
}

// ---- round trip -------------------------------------------------------------------

TEST(ArpaTest, RoundTripGivesTheSameModel) {
  const std::vector<std::string> docs = corpus();
  const std::vector<std::string> train(docs.begin() + 2, docs.end());
  for (int order : {1, 2, 3, 5, 8}) {
    const NGramPersona lm = NGramPersona::fit(train, order);
    const std::string text = simulacra::save_arpa_to_bytes(lm);
    const NGramPersona back = simulacra::load_arpa_from_bytes(text, "round trip");
    ASSERT_EQ(back.order(), order);
    for (int n = 1; n <= order; ++n) EXPECT_EQ(back.num_ngrams(n), lm.num_ngrams(n)) << n;
    // Log-probabilities equal to the printed precision (shortest round-trip log10: ~1e-15 relative).
    for (std::size_t d = 0; d < 2; ++d)
      expect_close(model_document(back, docs[d]), model_document(lm, docs[d]), 1e-13, fmt::format("order {}", order));
    for (const std::string ctx : {"", "A", "Arr, me", "zzz\x01"}) {
      const Eigen::VectorXd a = lm.next_logprobs(ctx), b = back.next_logprobs(ctx);
      for (int w = 0; w < simulacra::kVocab; ++w) EXPECT_NEAR(b[w], a[w], 1e-13 * std::abs(a[w])) << ctx << " " << w;
    }
    // Written again: the same n-grams with the same numbers to the printed precision.
    const Reference r1(text), r2(simulacra::save_arpa_to_bytes(back));
    ASSERT_EQ(r1.grams.size(), r2.grams.size());
    for (auto a = r1.grams.begin(), b = r2.grams.begin(); a != r1.grams.end(); ++a, ++b) {
      ASSERT_EQ(a->first, b->first);
      EXPECT_NEAR(a->second.first, b->second.first, 1e-13 * std::max(1.0, std::abs(a->second.first)));
      EXPECT_NEAR(a->second.second, b->second.second, 1e-13 * std::max(1.0, std::abs(a->second.second)));
    }
  }
}

class ArpaFileTest : public simulacra::testing::TempDirTest {};

TEST_F(ArpaFileTest, SavedFileLoadsAndJoinsAModelFile) {
  const std::vector<std::string> docs = corpus();
  const NGramPersona lm = NGramPersona::fit(docs, 4);
  simulacra::save_arpa(lm, path("p.arpa"));
  EXPECT_EQ(simulacra::read_file(path("p.arpa"), 1u << 30), simulacra::save_arpa_to_bytes(lm));
  auto back = std::make_shared<NGramPersona>(simulacra::load_arpa(path("p.arpa")));
  expect_close(model_document(*back, docs[0]), model_document(lm, docs[0]), 1e-13, "file");
  // A read model (root backoff 0, terms from the probabilities) saves and loads in a model file.
  simulacra::Mixture mix({back}, {"arpa"}, Eigen::VectorXd::Ones(1));
  simulacra::save(mix, path("m.safetensors"));
  const simulacra::Mixture again = simulacra::load(path("m.safetensors"));
  const auto& loaded = dynamic_cast<const NGramPersona&>(again.persona(0));
  expect_close(model_document(loaded, docs[1]), model_document(*back, docs[1]), 0.0, "model file");
}

// ---- hand-written files ------------------------------------------------------------

// An order-2 back-off model over 'a' (61), 'b' (62) and </s> written by hand
// (Katz style): after 'a' the stored p(a | a) = 0.1 is below its back-off
// value gamma(a) p(a) = 1.2 * 0.5, and gamma(a) = 1.2 > 1. Tabs and spaces
// mixed, a missing backoff column, CRLF line ends, text before \data\.
const char* const kKatz =
    "produced by hand\r\n"
    "\\data\\\r\n"
    "ngram  1=5\r\n"
    "ngram 2 = 5\r\n"
    "\r\n"
    "\\1-grams:\r\n"
    "-0.3010299956639812\t61\t0.07918124604762482\r\n"
    "-0.6020599913279624 62\t-0.3010299956639812\r\n"
    "-0.6020599913279624\t</s>\r\n"
    "-99\t<s>\t-99\r\n"
    "-100\t<unk>\r\n"
    "\r\n"
    "\\2-grams:\r\n"
    "-1\t61 61\r\n"
    "-0.22184874961635637\t61 62\r\n"
    "-0.20411998265592479  62 62\r\n"
    "-0.3010299956639812\t<s> 61\r\n"
    "-0.3010299956639812 <s>\t62\r\n"
    "\r\n"
    "\\end\\\r\n";

std::string katz_text() { return kKatz; }

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

TEST(ArpaTest, HandWrittenKatzModel) {
  const std::string text = katz_text();
  const NGramPersona lm = simulacra::load_arpa_from_bytes(text, "katz");
  ASSERT_EQ(lm.order(), 2);
  const Reference ref(text);
  auto p = [&](const std::string& ctx, int w) { return std::exp(lm.next_logprobs(ctx)[w]); };
  // By hand: p(a|<s>) = p(b|<s>) = 0.5 (stored); p(</s>|<s>) = gamma(<s>) p(</s>) = 1e-99 * 0.25.
  EXPECT_NEAR(p("", 'a'), 0.5, 1e-15);
  EXPECT_NEAR(p("", 'b'), 0.5, 1e-15);
  EXPECT_NEAR(p("", 256), 0.25e-99, 1e-112);
  // After 'a': stored 0.1 (below its back-off value 0.6: a negative term) and 0.6; </s> backs off: 1.2 * 0.25.
  EXPECT_NEAR(p("xa", 'a'), 0.1, 1e-15);
  EXPECT_NEAR(p("xa", 'b'), 0.6, 1e-15);
  EXPECT_NEAR(p("xa", 256), 0.3, 1e-15);
  EXPECT_LT(lm.levels()[2].node[lm.levels()[1].node['a'].child_begin].disc, 0.0);
  EXPECT_GT(lm.levels()[1].node['a'].gamma, 1.0);
  // After 'b': p(b|b) = 0.625 stored, the others 0.5 p(w).
  EXPECT_NEAR(p("ab", 'a'), 0.25, 1e-15);
  EXPECT_NEAR(p("ab", 'b'), 0.625, 1e-15);
  EXPECT_NEAR(p("ab", 256), 0.125, 1e-15);
  // Every token and context as the reference says (unlisted bytes: <unk>'s 1e-100).
  for (const std::string doc : {"", "a", "ab", "ba", "aab", "abba", "zab"})
    expect_close(model_document(lm, doc), ref.document(doc), 1e-13, doc);
}

// A random back-off model of order 4 over a few bytes, its backoffs the
// normalising ones, its probabilities drawn freely (so that many stored ones
// lie below their back-off value), and some n-grams pruned so that stored
// n-grams miss their suffix ("a b c" without "b c").
std::string random_backoff_model(std::uint64_t seed, int order) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.05, 1.0);
  const std::vector<int> alphabet = {'a', 'b', 'c', 256};
  std::map<std::vector<int>, double> p, bo;  // p(hw) stored; bo(h)
  // Unigrams over all 257 tokens.
  double total = 0.0;
  std::vector<double> uni(257);
  for (double& x : uni) total += (x = u(rng));
  for (int w = 0; w < 257; ++w) p[{w}] = uni[std::size_t(w)] / total;
  // Contexts: all sequences over the alphabet (and <s> first) up to order - 1, each kept with probability 0.7.
  std::vector<std::vector<int>> level = {{}};
  for (int n = 1; n < order; ++n) {
    std::vector<std::vector<int>> next;
    for (const auto& h : level)
      for (int w : n == 1 ? std::vector<int>{'a', 'b', 'c', kStart} : std::vector<int>{'a', 'b', 'c'}) {
        if (!h.empty() && h[0] == kStart && w == kStart) continue;
        std::vector<int> hw = h;
        hw.push_back(w);
        if (n > 1 && (p.count(hw) == 0 || rng() % 10 >= 7)) continue;  // the context must be stored
        next.push_back(hw);
      }
    // Continuations of each context: random probabilities, the rest of the mass to the back-off.
    for (const auto& h : next) {
      std::vector<int> stored;
      for (int w : alphabet)
        if (rng() % 3 != 0) stored.push_back(w);
      double mass = stored.empty() ? 0.0 : u(rng) * 0.9, lower = 0.0, sum = 0.0;
      std::vector<double> q;
      for (std::size_t i = 0; i < stored.size(); ++i) sum += (q.emplace_back(u(rng)));
      for (std::size_t i = 0; i < stored.size(); ++i) {
        std::vector<int> hw = h;
        hw.push_back(stored[i]);
        p[hw] = mass * q[i] / sum;
      }
      // the lower order's mass of the stored continuations, by the back-off definition
      std::vector<int> h1(h.begin() + 1, h.end());
      for (int w : stored) {
        // p(w | h1) by back-off over what is defined so far
        std::vector<int> g = h1;
        double factor = 1.0, pr = 0.0;
        for (;;) {
          std::vector<int> gw = g;
          gw.push_back(w);
          if (p.count(gw)) {
            pr = factor * p[gw];
            break;
          }
          if (bo.count(g)) factor *= bo[g];
          g.erase(g.begin());
        }
        lower += pr;
      }
      bo[h] = (1.0 - mass) / (1.0 - lower);
    }
    level = next;
  }
  std::map<int, std::vector<std::string>> lines;
  auto word = [](int t) { return t == 256 ? std::string("</s>") : t == kStart ? std::string("<s>") : fmt::format("{:02x}", t); };
  for (const auto& [g, pr] : p) {
    std::string s = fmt::format("{}\t", std::log10(pr));
    for (std::size_t i = 0; i < g.size(); ++i) s += (i ? " " : "") + word(g[i]);
    if (bo.count(g)) s += fmt::format("\t{}", std::log10(bo[g]));
    lines[int(g.size())].push_back(s);
  }
  for (const auto& [h, b] : bo)
    if (!p.count(h)) lines[int(h.size())].push_back(fmt::format("-99\t{}\t{}", word(h[0]), std::log10(b)));  // <s>
  std::string out = "\\data\\\n";
  for (int n = 1; n <= order; ++n) out += fmt::format("ngram {}={}\n", n, lines[n].size());
  for (int n = 1; n <= order; ++n) {
    out += fmt::format("\n\\{}-grams:\n", n);
    std::vector<std::string>& l = lines[n];
    std::shuffle(l.begin(), l.end(), rng);  // any order
    for (const auto& s : l) out += s + "\n";
  }
  return out + "\n\\end\\\n";
}

TEST(ArpaTest, RandomBackoffModelsAnswerAsTheReference) {
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    const int order = 2 + int(seed % 3);
    const std::string text = random_backoff_model(seed, order);
    const Reference ref(text);
    const NGramPersona lm = simulacra::load_arpa_from_bytes(text, "random");
    for (const std::string doc : {"", "a", "abc", "cab", "aabbcc", "abcabcab", "ccccb", "bacx"})
      expect_close(model_document(lm, doc), ref.document(doc), 1e-12, fmt::format("seed {} '{}'", seed, doc));
    for (const std::string ctx : {"", "a", "ab", "abc", "cba", "bb"}) {
      const Eigen::VectorXd lp = lm.next_logprobs(ctx);
      std::vector<int> h = {kStart};
      for (char c : ctx) h.push_back(c);
      for (int w = 0; w < simulacra::kVocab; ++w)
        EXPECT_NEAR(lp[w], std::log(ref.prob(h, w)), 1e-12 * std::abs(lp[w])) << seed << " '" << ctx << "' " << w;
      EXPECT_NEAR(lp.array().exp().sum(), 1.0, 1e-12);
    }
  }
}

TEST(ArpaTest, UnkNgramsAreDroppedAndUnlistedBytesScoreAsUnk) {
  std::string text = katz_text();
  text = replace_all(text, "-100\t<unk>", "-2\t<unk>");
  text = replace_all(text, "ngram 2 = 5", "ngram 2 = 6");
  text = replace_all(text, "-1\t61 61", "-1\t61 61\r\n-0.5 61 <unk>");
  // 254 unlisted bytes at 0.01 each: the unigrams sum to 3.54, too far from 1.
  EXPECT_NE(message_of(text).find("unigram probabilities"), std::string::npos) << message_of(text);
  text = replace_all(text, "-2\t<unk>", "-5\t<unk>");  // 254e-5 more: rescaled
  const NGramPersona lm = simulacra::load_arpa_from_bytes(text, "unk");
  const double T = 1.0 + 254e-5;                        // the unigrams' sum
  const double S = 0.625 + 0.5 * (1.0 - 0.25 / T);      // after 'b', also rescaled
  const Eigen::VectorXd lp = lm.next_logprobs("b");
  EXPECT_NEAR(std::exp(lp['z']), 0.5 * 1e-5 / T / S, 1e-18);
  EXPECT_NEAR(std::exp(lp['a']), 0.5 * 0.5 / T / S, 1e-13);
  EXPECT_NEAR(std::exp(lp['b']), 0.625 / S, 1e-13);
  EXPECT_NEAR(lp.array().exp().sum(), 1.0, 1e-12);
}

// ---- damaged files --------------------------------------------------------------------

TEST(ArpaTest, DamagedFilesAreFileErrorsNamingTheLine) {
  const std::string good = katz_text();
  auto with = [&](const std::string& from, const std::string& to) {
    EXPECT_NE(good.find(from), std::string::npos) << from;
    return replace_all(good, from, to);
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "no \\data\\"},
      {"hello\nworld\n", "no \\data\\"},
      {"\\data\\\n\n\\1-grams:\n", "no 'ngram N=COUNT'"},
      {with("ngram 2 = 5", "ngram 3 = 5"), "line 4: count of order 3 where order 2"},
      {with("ngram 2 = 5", "ngram 2 = x"), "line 4: malformed count line"},
      {with("ngram 2 = 5", "ngram 2 = 99999999999999"), "line 4: the header counts more n-grams"},
      {with("ngram 2 = 5", "ngram 2 = 400"), "line 4: the header counts more n-grams"},
      {with("ngram 2 = 5", "ngram 2 = 6"), "line 20: section \\2-grams: ends after 5"},
      {with("ngram 2 = 5", "ngram 2 = 4"), "line 18: more n-grams of order 2 than the header's 4"},
      {with("ngram  1=5", "ngram  1=4"), "line 11: more n-grams of order 1 than the header's 4"},
      {with("\\2-grams:", "\\3-grams:"), "line 13: expected \\2-grams:"},
      {good.substr(0, good.find("\\end")), "missing \\end\\"},
      {good.substr(0, good.find("-1\t61 61")), "ends after 0 of the 5 n-grams of order 2"},
      {with("-1\t61 61", "nan\t61 61"), "line 14: log10 probability nan"},
      {with("-1\t61 61", "inf\t61 61"), "line 14: log10 probability inf"},
      {with("-1\t61 61", "0.5\t61 61"), "line 14: log10 probability 0.5 is outside"},
      {with("-1\t61 61", "-1x\t61 61"), "line 14: the probability '-1x' is not a number"},
      {with("-1\t61 61", "-1\t61 61 nan"), "line 14: log10 backoff nan"},
      {with("-1\t61 61", "-1\t61 4A"), "line 14: word '4A' is not a byte"},
      {with("-1\t61 61", "-1\t61 hello"), "line 14: word 'hello' is not a byte"},
      {with("-1\t61 61", "-1\t61 <s>"), "line 14: <s> after the start"},
      {with("-1\t61 61", "-1\t</s> 61"), "line 14: </s> before the end"},
      {with("-1\t61 61", "-1\t61 61 61 0"), "line 14: 5 fields where an n-gram of order 2"},
      {with("-1\t61 61", "-1\t61"), "line 14: 2 fields"},
      {with("-1\t61 61", "-1\t61 62"), "line 15: n-gram '61 62' listed twice (also on line 14)"},
      {with("-0.6020599913279624\t</s>", "-0.6020599913279624\t61"), "line 9: unigram 61 listed twice"},
      {with("-1\t61 61", "-1\t63 61"), "line 14: n-gram '63 61' has the context '63', which is not stored"},
      {with("\t61\t0.07918124604762482", "\t61\t0.5"), "the distribution after '61' sums to"},
      {with("-0.3010299956639812\t61\t", "-0.2\t61\t"), "unigram probabilities of the 257 byte tokens sum to"},
      {with("ngram  1=5", "ngram 1001=5"), "line 3: count of order 1001"},
      {with("ngram 2 = 5", "ngram 2 = 5\r\nngram 3=0"), "line 21: expected \\3-grams:"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string m = message_of(text);
    EXPECT_NE(m.find(expected), std::string::npos) << "expected '" << expected << "', got '" << m << "'";
    EXPECT_EQ(m.rfind("t.arpa: ", 0), 0u) << m;
  }
  // A trigram whose context bigram is not stored.
  std::string tri = with("ngram 2 = 5", "ngram 2 = 5\r\nngram 3=1");
  tri = replace_all(tri, "\r\n\\end\\", "\\3-grams:\r\n-1\t62 61 61\r\n\r\n\\end\\");
  EXPECT_NE(message_of(tri).find("line 21: n-gram '62 61 61' has the context '62 61', which is not stored"),
            std::string::npos)
      << message_of(tri);
  // A stored probability far below its back-off value: not representable as a difference.
  const std::string tiny = replace_all(with("-1\t61 61", "-250\t61 61"), "-0.22184874961635637\t61 62",
                                       "-0.15490195998574319\t61 62");
  EXPECT_NE(message_of(tiny).find("too small beside its back-off value"), std::string::npos) << message_of(tiny);
}

TEST(ArpaTest, EveryTruncationIsAFileError) {
  const std::string good = katz_text();
  const std::size_t end = good.find("\\end\\");
  for (std::size_t size = 0; size < end; ++size)
    EXPECT_NE(message_of(good.substr(0, size)), "") << "cut to " << size << " bytes";
  EXPECT_EQ(message_of(good.substr(0, end + 5)), "") << "\\end\\ without its newline is whole";
}

TEST_F(ArpaFileTest, HostilePathsAreFileErrors) {
  EXPECT_THROW(simulacra::load_arpa("/dev/zero"), FileError);
  EXPECT_THROW(simulacra::load_arpa(path("missing.arpa")), FileError);
  EXPECT_THROW(simulacra::load_arpa(dir_.string()), FileError);
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_THROW(simulacra::load_arpa(path("fifo")), FileError);  // refused, not blocked on
  const NGramPersona lm = NGramPersona::fit({"AB"}, 2);
  EXPECT_THROW(simulacra::save_arpa(lm, path("fifo")), FileError);
  EXPECT_THROW(simulacra::save_arpa(lm, dir_.string()), FileError);
  EXPECT_TRUE(std::filesystem::is_fifo(path("fifo")));
  EXPECT_EQ(listing(), std::vector<std::string>{"fifo"}) << "no temporaries left behind";
}

// ---- from_levels: back-off models are checked -----------------------------------------

TEST(ArpaTest, FromLevelsChecksBackoffModelsProbabilities) {
  const NGramPersona lm = NGramPersona::fit({"abab", "abba"}, 2);
  auto levels = lm.levels();
  std::vector<simulacra::Discounts> d(2, simulacra::Discounts{0, 0, 0, false});
  // A negative term that keeps p(b | a) >= 0 is a back-off model; one that makes it negative is refused.
  const std::uint32_t a = levels[1].node['a'].child_begin;
  levels[2].node[a].disc = -1e-3;
  EXPECT_NO_THROW(NGramPersona::from_levels(2, levels, d));
  levels[2].node[a].disc = -0.9;
  try {
    NGramPersona::from_levels(2, levels, d);
    ADD_FAILURE() << "a negative probability was accepted";
  } catch (const FileError& e) {
    EXPECT_NE(std::string(e.what()).find("has probability -"), std::string::npos) << e.what();
  }
  levels = lm.levels();
  levels[1].node['a'].gamma = 1.5;  // accepted (a Katz backoff), the probabilities are checked
  EXPECT_NO_THROW(NGramPersona::from_levels(2, levels, d));
  levels[1].node['a'].gamma = -0.5;
  EXPECT_THROW(NGramPersona::from_levels(2, levels, d), FileError);
  levels = lm.levels();
  levels[2].node[a].disc = 1.5;
  EXPECT_THROW(NGramPersona::from_levels(2, levels, d), FileError);
}

}  // namespace
