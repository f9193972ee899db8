// Tests of the quantised n-gram persona (ngram_quant.hpp) against the double
// model it is made from: every log-probability within the bound that its
// codebooks imply (each value's distance to its nearest centre, found here by
// brute force over the 256 centres, along the back-off chain), the back-off
// form exact before rounding (the ARPA export of the double model, read back,
// quantises alike), held-out perplexity within 0.5%, distributions that sum
// to 1 within kSumTolerance, model files (copied, mapped, bytes) that give the
// same bits, and damaged files refused.
#include "simulacra/ngram_quant.hpp"

#include <cmath>
#include <random>

#include "model_file_testing.hpp"
#include "simulacra/arpa.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/ngram_compact.hpp"

namespace {

using simulacra::FileError;
using simulacra::kVocab;
using simulacra::Mixture;
using simulacra::NGramPersona;
using simulacra::QuantNGramPersona;
using simulacra::TensorFile;
using simulacra::Token;
using namespace simulacra::testing;  // NOLINT: the shared fixture and helpers

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

// Random documents over a small alphabet (so that every order has many n-grams), and some bytes above 127.
std::vector<std::string> random_docs(std::mt19937& rng, std::size_t count) {
  std::vector<std::string> docs(count);
  for (std::string& d : docs) {
    const std::size_t len = rng() % 60;
    for (std::size_t i = 0; i < len; ++i) d.push_back(char(rng() % 7 == 0 ? 200 + rng() % 50 : 'a' + rng() % 6));
  }
  return docs;
}

std::vector<Token> tokens_of(const std::string& doc) {
  std::vector<Token> t;
  for (unsigned char ch : doc) t.push_back(Token(ch));
  t.push_back(simulacra::kBoundary);
  return t;
}

// The largest distance of a value to its nearest centre, by brute force.
double worst_code_error(const std::vector<double>& values, const float* centres) {
  double worst = 0.0;
  for (double v : values) {
    double best = INFINITY;
    for (int c = 0; c < QuantNGramPersona::kCodes; ++c) best = std::min(best, std::abs(v - double(centres[c])));
    worst = std::max(worst, best);
  }
  return worst;
}

// Bound on |log p' - log p| for every probability: the worst probability code error of any order (nearest
// centre) plus the worst backoff code errors of every order (checked to be a centre either side of the value) (a token backs off through at most each context order once).
double log_bound(const NGramPersona& lm, const QuantNGramPersona& q) {
  const auto probs = simulacra::detail::stored_probabilities(lm.levels());
  double worst_p = 0.0, backoffs = 0.0;
  for (int n = 1; n <= lm.order(); ++n) {
    std::vector<double> lp;
    for (std::size_t i = 0; i < probs[std::size_t(n)].size(); ++i)
      if (n > 1 || i != NGramPersona::kStart) lp.push_back(std::log(probs[std::size_t(n)][i]));
    worst_p = std::max(worst_p, worst_code_error(lp, q.levels()[std::size_t(n)].prob));
    if (n < lm.order()) {  // the stored backoff: one of the two centres either side of the value
      const std::vector<NGramPersona::Node>& node = lm.levels()[std::size_t(n)].node;
      const float* c = q.levels()[std::size_t(n)].backoff;
      double worst_b = 0.0;
      for (std::uint32_t i = 0; i < node.size(); ++i) {
        const double v = std::log(node[i].gamma), got = double(c[QuantNGramPersona::backoff_of(q.record(n, i))]);
        double below = -INFINITY, above = INFINITY;
        for (int k = 0; k < QuantNGramPersona::kCodes; ++k) {
          if (double(c[k]) <= v) below = std::max(below, double(c[k]));
          if (double(c[k]) >= v) above = std::min(above, double(c[k]));
        }
        EXPECT_TRUE(got == below || got == above) << "level " << n << " entry " << i;
        worst_b = std::max(worst_b, std::abs(got - v));
      }
      backoffs += worst_b;
    }
  }
  return worst_p + backoffs + 1e-5;  // + the float rounding of the centres
}

void expect_close_to(const NGramPersona& lm, const QuantNGramPersona& q, const std::vector<std::string>& docs,
                     const std::string& what) {
  const double bound = log_bound(lm, q);
  double worst = 0.0;
  Eigen::VectorXd pq(kVocab);
  for (const std::string& doc : docs) {
    const std::vector<Token> t = tokens_of(doc);
    const std::vector<double> a = lm.token_logprobs(t), b = q.token_logprobs(t);
    auto s = q.begin();
    for (std::size_t i = 0; i < t.size(); ++i) {
      worst = std::max(worst, std::abs(a[i] - b[i]));
      s->next_logprobs(pq);
      ASSERT_NEAR(pq[t[i]], b[i], 1e-9) << what << ": the distribution and the walk disagree at " << i;
      ASSERT_LE(std::abs(pq.array().exp().sum() - 1.0), QuantNGramPersona::kSumTolerance) << what;
      s->advance(t[i]);
    }
  }
  EXPECT_LE(worst, bound) << what;
  EXPECT_GT(worst, 0.0) << what << ": quantisation should show";
}

TEST(QuantNGram, RandomModelsAreWithinTheCodebookBound) {
  std::mt19937 rng(11);
  for (int order : {1, 2, 3, 4, 6}) {
    const std::vector<std::string> train = random_docs(rng, 300), held = random_docs(rng, 40);
    const NGramPersona lm = NGramPersona::fit(train, order);
    const QuantNGramPersona q = QuantNGramPersona::quantise(lm);
    EXPECT_EQ(q.num_ngrams(), lm.num_ngrams());
    EXPECT_EQ(q.kind(), "ngram_quant");
    EXPECT_LE(q.max_sum_error(), QuantNGramPersona::kSumTolerance);
    std::printf("random order %d: max sum error %.3e\n", order, q.max_sum_error());
    expect_close_to(lm, q, held, "order " + std::to_string(order));
  }
}

TEST(QuantNGram, HeldOutPerplexityIsWithinHalfAPercent) {
  for (int order : {3, 6}) {
    const NGramPersona lm = NGramPersona::fit(corpus().train, order);
    const QuantNGramPersona q = QuantNGramPersona::quantise(lm);
    double a = 0.0, b = 0.0, n = 0.0;
    for (const std::string& doc : corpus().held) {
      a += lm.score_document(doc);
      b += q.score_document(doc);
      n += double(doc.size() + 1);
    }
    const double ratio = std::exp(-(b - a) / n);  // perplexity(quantised) / perplexity(double)
    EXPECT_LE(std::abs(ratio - 1.0), 5e-3) << "order " << order << ": " << ratio;
    std::printf("order %d: perplexity ratio - 1 = %+.3e, max sum error %.3e, %.2f bytes per n-gram\n", order,
                ratio - 1.0, q.max_sum_error(), double(q.memory_bytes()) / double(q.num_ngrams()));
    expect_close_to(lm, q, corpus().held, "persona corpus, order " + std::to_string(order));
    // At most 4 bytes per n-gram at order 6 (the codebooks and the level-2 index included).
    if (order == 6) {
      EXPECT_LE(double(q.memory_bytes()) / double(q.num_ngrams()), 4.0);
    }
  }
}

TEST(QuantNGram, BackoffModelsFromArpaQuantiseToTheSameModel) {
  std::mt19937 rng(5);
  const NGramPersona lm = NGramPersona::fit(random_docs(rng, 200), 4);
  // The ARPA export holds the back-off form (with negative terms once read back): the same probabilities,
  // so the same quantised model up to the printed precision.
  const NGramPersona back = simulacra::load_arpa_from_bytes(simulacra::save_arpa_to_bytes(lm), "export");
  const QuantNGramPersona a = QuantNGramPersona::quantise(lm), b = QuantNGramPersona::quantise(back);
  for (const std::string& doc : random_docs(rng, 20)) {
    const std::vector<Token> t = tokens_of(doc);
    const std::vector<double> x = a.token_logprobs(t), y = b.token_logprobs(t);
    for (std::size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(x[i], y[i], 1e-4);
  }
  EXPECT_THROW(QuantNGramPersona::quantise(NGramPersona()), simulacra::InvalidArgument);
}

TEST(QuantNGram, PilesMixSampleAndStep) {
  const NGramPersona lm = NGramPersona::fit(corpus().train, 4);
  auto q = std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(lm));
  const Mixture one({q}, {"q"}, Eigen::VectorXd::Ones(1));
  for (const std::string& doc : {std::string("Arr, matey"), corpus().held[0]}) {
    const std::vector<double> lp = q->token_logprobs(tokens_of(doc));
    double sum = 0.0;
    for (double x : lp) sum += x;
    EXPECT_NEAR(one.score(doc), sum, 1e-9);
  }
  // A state cloned mid-document continues alike.
  auto s = q->begin();
  for (unsigned char ch : std::string("To be")) s->advance(ch);
  auto c = s->clone();
  EXPECT_EQ(s->advance('!'), c->advance('!'));
  EXPECT_THROW(s->advance(kVocab), simulacra::OutOfRange);
}

class QuantFileTest : public ModelFileTest {
 protected:
  Mixture pile() const {
    auto a = std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(NGramPersona::fit(corpus().train, 6)));
    auto b = std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(NGramPersona::fit(corpus().held, 3)));
    auto c = std::make_shared<simulacra::CompactNGramPersona>(
        simulacra::CompactNGramPersona::compact(NGramPersona::fit(corpus().held, 2)));
    auto d = std::make_shared<NGramPersona>(NGramPersona::fit(corpus().held, 2));
    return Mixture({a, b, c, d}, {"six", "three", "compact", "plain"}, Eigen::Vector4d(0.4, 0.3, 0.2, 0.1));
  }
  void expect_refused(const TensorFile& file, const std::string& what) {
    simulacra::write_safetensors(path("bad.safetensors").string(), file);
    expect_file_error(path("bad.safetensors"), what);
    EXPECT_THROW(simulacra::load_mapped(path("bad.safetensors").string()), FileError) << what;
  }
};

TEST_F(QuantFileTest, SavedLoadedMappedAndPickledPilesScoreTheSameBits) {
  const Mixture m = pile();
  simulacra::save(m, path().string());
  const TensorFile raw = simulacra::read_safetensors(path().string());
  EXPECT_EQ(raw.metadata.at("format_version"), "4");
  EXPECT_TRUE(raw.has("persona.0.level.6.records") && raw.has("persona.0.level.5.backoff") &&
              raw.has("persona.0.sizes") && !raw.has("persona.0.level.6.backoff"));
  const Mixture loaded = simulacra::load(path().string());
  const Mixture mapped = simulacra::load_mapped(path().string());
  const Mixture bytes = simulacra::load_from_bytes(simulacra::save_to_bytes(m), "bytes");
  const auto alone = simulacra::persona_from_bytes(simulacra::persona_to_bytes(m.persona_ptr(0)), "persona");
  EXPECT_EQ(alone->kind(), "ngram_quant");
  for (const std::string& doc : corpus().held) {
    const std::vector<Token> t = tokens_of(doc);
    for (int k = 0; k < m.size(); ++k) {
      const std::vector<double> want = m.persona(k).token_logprobs(t);
      EXPECT_EQ(loaded.persona(k).token_logprobs(t), want);
      EXPECT_EQ(mapped.persona(k).token_logprobs(t), want);
      EXPECT_EQ(bytes.persona(k).token_logprobs(t), want);
    }
    EXPECT_EQ(alone->token_logprobs(t), m.persona(0).token_logprobs(t));
    EXPECT_EQ(mapped.score(doc), m.score(doc));
  }
  EXPECT_EQ(mapped.persona(0).kind(), "ngram_quant");
  EXPECT_EQ(simulacra::save_to_bytes(loaded), simulacra::save_to_bytes(m));  // byte for byte
  std::shared_ptr<const simulacra::Persona> keep;
  { keep = simulacra::load_mapped(path().string()).persona_ptr(0); }
  EXPECT_EQ(keep->token_logprobs(tokens_of("Arr, matey")), m.persona(0).token_logprobs(tokens_of("Arr, matey")));
}

// Writes `value` into `width` bits at bit `bit` of a U8 array.
void set_bits(std::vector<std::uint8_t>& v, std::uint64_t bit, int width, std::uint64_t value) {
  for (int i = 0; i < width; ++i) {
    const std::uint64_t b = bit + std::uint64_t(i);
    v[b / 8] = std::uint8_t((v[b / 8] & ~(1u << (b % 8))) | (((value >> i) & 1u) << (b % 8)));
  }
}

TEST_F(QuantFileTest, DamagedArraysAreFileErrors) {
  const Mixture m = pile();
  simulacra::save(m, path().string());
  const TensorFile good = simulacra::read_safetensors(path().string());
  const auto& q = dynamic_cast<const QuantNGramPersona&>(m.persona(0));
  auto put = [&](const std::string& name, auto v) {
    using T = typename decltype(v)::value_type;
    simulacra::Tensor t = good.get(name);
    t.shape = {std::int64_t(v.size())};
    t.bytes.resize(v.size() * sizeof(T));
    std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return with_tensor(good, name, t);
  };
  const std::string P = "persona.0.";
  auto records = [&](int n) { return good.get_as<std::uint8_t>(P + "level." + std::to_string(n) + ".records"); };
  auto rec_name = [&](int n) { return P + "level." + std::to_string(n) + ".records"; };
  const int W3 = q.levels()[3].width(), W2 = q.levels()[2].width(), W6 = q.levels()[6].width();
  {
    auto r = records(3);
    set_bits(r, std::uint64_t(W3) * 5, 9, 300);  // token 300
    expect_refused(put(rec_name(3), r), "token out of range");
  }
  {
    auto r = records(1);
    set_bits(r, std::uint64_t(q.levels()[1].width()) * 7, 9, 8);  // level 1 not dense
    expect_refused(put(rec_name(1), r), "level 1 not dense");
  }
  {
    // Two children swapped: unsorted.
    const std::uint64_t rec = q.record(2, 10);
    const std::uint32_t b = q.child_of(2, rec), e = q.child_of(2, q.record(2, 11));
    ASSERT_GT(e - b, 1u);
    auto r = records(3);
    const std::uint64_t t0 = q.record(3, b) & 0x1FF, t1 = q.record(3, b + 1) & 0x1FF;
    set_bits(r, std::uint64_t(W3) * b, 9, t1);
    set_bits(r, std::uint64_t(W3) * (b + 1), 9, t0);
    expect_refused(put(rec_name(3), r), "unsorted children");
  }
  {
    auto r = records(2);
    set_bits(r, std::uint64_t(W2) * 20 + 25, q.levels()[2].child_bits, q.num_ngrams(3));  // beyond the next begin
    expect_refused(put(rec_name(2), r), "decreasing child range");
    r = records(2);
    set_bits(r, std::uint64_t(W2) * q.num_ngrams(2) + 25, q.levels()[2].child_bits, q.num_ngrams(3) - 1);
    expect_refused(put(rec_name(2), r), "child ranges not covering");
    r = records(2);
    r.pop_back();
    expect_refused(put(rec_name(2), r), "records short");
    r = records(2);
    r.resize(r.size() + 64);
    expect_refused(put(rec_name(2), r), "records long");
  }
  {
    auto r = records(6);
    set_bits(r, std::uint64_t(W6) * 3 + 9, 8, (q.record(6, 3) >> 9 & 0xFF) ^ 0x80);  // a probability moved
    // Either the distribution after its context no longer sums to 1, or the code moved little: the file
    // loads. A code moved to the highest centre (p near 1) after a context with many continuations must fail.
    auto loaded_or_refused = put(rec_name(6), r);
    simulacra::write_safetensors(path("moved.safetensors").string(), loaded_or_refused);
    try {
      const Mixture back = simulacra::load(path("moved.safetensors").string());
      EXPECT_LE(dynamic_cast<const QuantNGramPersona&>(back.persona(0)).max_sum_error(),
                QuantNGramPersona::kSumTolerance);
    } catch (const FileError&) {
    }
  }
  {
    // A stored n-gram whose suffix is not stored: at level 3 (the suffix is found through the level-2 bitmap) and
    // at level 4 (by the search that starts past the last suffix found). The walk from a token path to its node:
    auto child = [&](int n, std::uint32_t node, std::uint32_t token) {  // the level-(n+1) child of a level-n node
      for (std::uint32_t c = q.child_of(n, q.record(n, node)); c < q.child_of(n, q.record(n, node + 1)); ++c)
        if ((q.record(n + 1, c) & 0x1FF) == token) return c;
      return std::uint32_t(QuantNGramPersona::kNone);
    };
    // Writes over one child of `parent` (a level-(level-1) node whose suffix context is `suffix`) a token that
    // keeps its siblings sorted and that the suffix context has no child of; expects both loads to refuse it.
    // False if no child of `parent` allows that.
    auto refused_without_suffix = [&](int level, std::uint32_t parent, std::uint32_t suffix) {
      const int pl = level - 1;
      const std::uint32_t b = q.child_of(pl, q.record(pl, parent)), e = q.child_of(pl, q.record(pl, parent + 1));
      for (std::uint32_t c = b; c < e; ++c) {
        const std::uint32_t lo = c == b ? 0 : (q.record(level, c - 1) & 0x1FF) + 1;
        const std::uint32_t hi = c + 1 == e ? 256 : (q.record(level, c + 1) & 0x1FF);
        for (std::uint32_t t = lo; t < hi; ++t) {
          if (t == (q.record(level, c) & 0x1FF) || child(pl - 1, suffix, t) != QuantNGramPersona::kNone) continue;
          auto r = records(level);
          set_bits(r, std::uint64_t(q.levels()[std::size_t(level)].width()) * c, 9, t);
          simulacra::write_safetensors(path("suffix.safetensors").string(), put(rec_name(level), r));
          for (bool mapped : {false, true}) {
            try {
              if (mapped)
                simulacra::load_mapped(path("suffix.safetensors").string());
              else
                simulacra::load(path("suffix.safetensors").string());
              ADD_FAILURE() << "level " << level << ": a stored n-gram without its suffix loaded";
            } catch (const FileError& err) {
              EXPECT_NE(std::string(err.what()).find("has no stored suffix"), std::string::npos) << err.what();
            }
          }
          return true;
        }
      }
      return false;
    };
    for (int level : {3, 4}) {
      bool done = false;
      // Contexts (a, x2[, x3]) of level-1 nodes a and their descendants, each with its suffix context (x2[, x3]).
      for (std::uint32_t a = 0; a < q.levels()[1].size && !done; ++a) {
        const std::uint32_t b2 = q.child_of(1, q.record(1, a)), e2 = q.child_of(1, q.record(1, a + 1));
        for (std::uint32_t n2 = b2; n2 < e2 && !done; ++n2) {
          const std::uint32_t x2 = q.record(2, n2) & 0x1FF;
          if (level == 3) {
            done = refused_without_suffix(3, n2, x2);
            continue;
          }
          for (std::uint32_t n3 = q.child_of(2, q.record(2, n2)); n3 < q.child_of(2, q.record(2, n2 + 1)) && !done;
               ++n3) {
            const std::uint32_t s = child(1, x2, q.record(3, n3) & 0x1FF);
            if (s != QuantNGramPersona::kNone) done = refused_without_suffix(4, n3, s);
          }
        }
      }
      EXPECT_TRUE(done) << "no n-gram at level " << level << " could lose its suffix";
    }
  }
  {
    auto c = good.get_as<float>(P + "level.4.prob");
    c[17] = 0.5f;  // a log-probability above 0
    expect_refused(put(P + "level.4.prob", c), "positive log-probability");
    c[17] = std::nanf("");
    expect_refused(put(P + "level.4.prob", c), "NaN centre");
    c = good.get_as<float>(P + "level.4.prob");
    for (float& x : c) x -= 1.0f;  // every level-4 probability / e: the sums are off
    expect_refused(put(P + "level.4.prob", c), "sums off");
    c.pop_back();
    expect_refused(put(P + "level.4.prob", c), "short codebook");
    auto g = good.get_as<float>(P + "level.2.backoff");
    g[3] = std::numeric_limits<float>::infinity();
    expect_refused(put(P + "level.2.backoff", g), "infinite backoff");
    for (float& x : g) x = 1.0f;  // every backoff e: the sums are off
    expect_refused(put(P + "level.2.backoff", g), "backoffs off");
  }
  {
    auto s = good.get_as<std::int64_t>(P + "sizes");
    s[3] += 1;
    expect_refused(put(P + "sizes", s), "sizes disagree with the records");
    s = good.get_as<std::int64_t>(P + "sizes");
    s[5] = std::int64_t(1) << 40;
    expect_refused(put(P + "sizes", s), "huge size");
    s[5] = -1;
    expect_refused(put(P + "sizes", s), "negative size");
    s.pop_back();
    expect_refused(put(P + "sizes", s), "sizes short");
  }
  {
    simulacra::Tensor t = good.get(rec_name(3));
    t.dtype = simulacra::DType::U16;
    t.shape = {t.shape[0] / 2};
    t.bytes.resize(std::size_t(t.shape[0]) * 2);
    expect_refused(with_tensor(good, rec_name(3), t), "records as U16");
  }
  {
    TensorFile f;
    f.metadata = good.metadata;
    for (const std::string& n : good.names())
      if (n != "persona.1.level.2.backoff") f.put(n, good.get(n));
    expect_refused(f, "missing backoff codebook");
  }
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
      const Mixture back = simulacra::load_mapped(path("flip.safetensors").string());
      for (int k = 0; k < back.size(); ++k) {
        auto s = back.persona(k).begin();
        Eigen::VectorXd lp(kVocab);
        for (unsigned char ch : std::string("To be, or not")) {
          s->next_logprobs(lp);
          EXPECT_NEAR(lp.array().exp().sum(), 1.0, QuantNGramPersona::kSumTolerance + 1e-6);
          s->advance(ch);
        }
      }
    } catch (const FileError&) {
    }
  }
}

// A model with levels large enough that the loader checks them on the OpenMP threads (in chunks): it loads
// with the sums of the model it was saved from, and of two damaged records the loader names the first, as a
// serial check would, whichever thread meets its damage first.
TEST_F(QuantFileTest, LargeLevelsAreCheckedInChunksWithTheSerialResult) {
  std::mt19937 rng(5);
  std::vector<std::string> docs(400);
  for (std::string& d : docs)
    for (int i = 0; i < 600; ++i) d.push_back(char(rng() % 256));  // ~60k contexts of two bytes, ~240k trigrams
  const auto q = std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(NGramPersona::fit(docs, 3)));
  ASSERT_GE(q->num_ngrams(2), std::size_t(40000));  // 10 chunks of contexts at least
  simulacra::save(Mixture({q}, {"noise"}, Eigen::VectorXd::Ones(1)), path().string());
  for (bool mapped : {false, true}) {
    const Mixture back = mapped ? simulacra::load_mapped(path().string()) : simulacra::load(path().string());
    EXPECT_EQ(dynamic_cast<const QuantNGramPersona&>(back.persona(0)).max_sum_error(), q->max_sum_error());
  }
  // Two level-3 records, one early and one late, each given its previous sibling's token.
  const TensorFile good = simulacra::read_safetensors(path().string());
  const std::string name = "persona.0.level.3.records";
  std::vector<std::uint8_t> r = good.get_as<std::uint8_t>(name);
  const auto width = std::uint64_t(q->levels()[3].width());
  std::vector<std::uint32_t> damaged;
  for (std::uint32_t start : {std::uint32_t(20000), std::uint32_t(q->num_ngrams(3) - 20000)}) {
    std::uint32_t parent = 0;
    while (q->child_of(2, q->record(2, parent + 1)) <= start) ++parent;  // the level-2 node above `start`
    // From there, the first node with two children; its second child (which has a previous sibling).
    while (q->child_of(2, q->record(2, parent + 1)) - q->child_of(2, q->record(2, parent)) < 2) ++parent;
    const std::uint32_t c = q->child_of(2, q->record(2, parent)) + 1;
    set_bits(r, width * c, 9, q->record(3, c - 1) & 0x1FF);
    damaged.push_back(c);
  }
  ASSERT_EQ(damaged.size(), 2u);
  simulacra::Tensor t = good.get(name);
  std::memcpy(t.bytes.data(), r.data(), r.size());
  simulacra::write_safetensors(path("two.safetensors").string(), with_tensor(good, name, t));
  for (bool mapped : {false, true})
    for (int trial = 0; trial < 5; ++trial) {
      try {
        if (mapped)
          simulacra::load_mapped(path("two.safetensors").string());
        else
          simulacra::load(path("two.safetensors").string());
        ADD_FAILURE() << "a model with unsorted children loaded";
      } catch (const FileError& err) {
        const std::string what = err.what(), want = "children unsorted at " + std::to_string(damaged[0]);
        EXPECT_EQ(what.substr(what.size() - std::min(what.size(), want.size())), want) << what;
      }
    }
}

}  // namespace
