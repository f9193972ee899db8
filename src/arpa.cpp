// ARPA files (arpa.hpp): an NGramPersona's trie <-> the back-off text format.
//
// Reading keeps the n-grams of each order in flat arrays sorted
// lexicographically, which is the trie's order (children contiguous, sorted
// by token, in their parents' order), so linking a level to the one below is
// a binary search per n-gram and building the trie one pass.
#include "simulacra/arpa.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "simulacra/file_io.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

using Node = NGramPersona::Node;
using Level = NGramPersona::Level;
constexpr std::uint16_t kStart = NGramPersona::kStart;
constexpr std::uint16_t kUnk = 0xFFFF;       // <unk> while parsing (n-grams with it are dropped)
constexpr int kUnigrams = kVocab + 1;        // level-1 nodes: the bytes, </s> and <s>
constexpr double kLogZero = -99.0;           // how ARPA writes a probability or backoff of 0
constexpr double kRescaleAbove = 1e-12;      // a context's sum further from 1 is rescaled
constexpr double kReconstruction = 1e-9;     // relative error allowed in p(hw) = gamma p(w|h') + disc

std::string word_of(std::uint16_t t) {
  if (t == kBoundary) return "</s>";
  if (t == kStart) return "<s>";
  if (t == kUnk) return "<unk>";
  return fmt::format("{:02x}", t);
}

// log10 of a probability or backoff for writing: the shortest form that reads back as the same double.
std::string log10_text(double x) { return x > 0.0 ? fmt::format("{}", std::log10(x)) : fmt::format("{}", kLogZero); }

// ---- reading -------------------------------------------------------------------

// Lines of the text with their numbers (from 1), a trailing '\r' removed.
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) return false;
    const std::size_t end = std::min(text_.find('\n', pos_), text_.size());
    line = text_.substr(pos_, end - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos_ = end + 1;
    ++number_;
    return true;
  }
  // The next line that is not blank (spaces and tabs only); false at the end.
  bool next_nonblank(std::string_view& line) {
    while (next(line))
      if (line.find_first_not_of(" \t") != std::string_view::npos) return true;
    return false;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_ = 0;
};

std::string_view trim(std::string_view s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A line for a message: at most 60 characters.
std::string quoted(std::string_view line) {
  return line.size() <= 60 ? fmt::format("'{}'", line) : fmt::format("'{}...'", line.substr(0, 60));
}

// The fields of a line separated by spaces and tabs.
void split(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i == line.size()) break;
    std::size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    out.push_back(line.substr(i, j - i));
    i = j;
  }
}

bool parse_double(std::string_view s, double& out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool parse_count(std::string_view s, std::uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The n-grams of one order n >= 2 as read, n words each.
struct Order {
  int n = 0;
  std::vector<std::uint16_t> words;
  std::vector<double> logp;          // log10 p(w | h) (for an implied n-gram: unused)
  std::vector<double> logbo;         // log10 gamma (0 when the column is absent)
  std::vector<std::uint64_t> line;   // the line it is on (for an implied one: the line that implied it)
  std::vector<char> implied;         // added as the suffix of a stored n-gram
  std::size_t size() const { return logp.size(); }
  const std::uint16_t* at(std::size_t i) const { return words.data() + i * std::size_t(n); }
};

bool less_words(const std::uint16_t* a, const std::uint16_t* b, int n) {
  return std::lexicographical_compare(a, a + n, b, b + n);
}

std::string words_text(const std::uint16_t* w, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += word_of(w[i]);
  }
  return s;
}

// Sorts an order's n-grams by their words (a stable sort: skipped when they already are).
void sort_order(Order& o) {
  const std::size_t m = o.size();
  const int n = o.n;
  bool sorted = true;
  for (std::size_t i = 1; i < m && sorted; ++i) sorted = !less_words(o.at(i), o.at(i - 1), n);
  if (sorted) return;
  std::vector<std::uint32_t> perm(m);
  std::iota(perm.begin(), perm.end(), 0u);
  std::stable_sort(perm.begin(), perm.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return less_words(o.at(a), o.at(b), n); });
  Order s;
  s.n = n;
  s.words.reserve(o.words.size());
  s.logp.reserve(m);
  s.logbo.reserve(m);
  s.line.reserve(m);
  s.implied.reserve(m);
  for (std::uint32_t i : perm) {
    s.words.insert(s.words.end(), o.at(i), o.at(i) + n);
    s.logp.push_back(o.logp[i]);
    s.logbo.push_back(o.logbo[i]);
    s.line.push_back(o.line[i]);
    s.implied.push_back(o.implied[i]);
  }
  o = std::move(s);
}

// Index of the n-gram with words w[0..o.n) in the sorted order o, or kNone.
std::uint32_t find_words(const Order& o, const std::uint16_t* w, std::size_t size) {
  std::size_t lo = 0, hi = size;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (less_words(o.at(mid), w, o.n))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < size && std::equal(w, w + o.n, o.at(lo)) ? std::uint32_t(lo) : NGramPersona::kNone;
}
std::uint32_t find_words(const Order& o, const std::uint16_t* w) { return find_words(o, w, o.size()); }

class Reader {
 public:
  Reader(std::string_view text, const std::string& name) : text_(text), name_(name), lines_(text) {}

  NGramPersona read() {
    read_header();
    for (int n = 1; n <= order_; ++n) read_section(n);
    std::string_view line;
    if (!lines_.next_nonblank(line)) fail_at_end("missing \\end\\ (the file is truncated?)");
    if (trim(line) != "\\end\\") {
      if (trim(line)[0] != '\\')
        fail("more n-grams of order {} than the header's {}", order_, counts_[std::size_t(order_)]);
      fail("expected \\end\\, found {}", quoted(line));
    }
    return build();
  }

 private:
  template <class... A>
  [[noreturn]] void fail(fmt::format_string<A...> f, A&&... a) const {
    throw FileError(fmt::format("{}: line {}: {}", name_, lines_.number(), fmt::format(f, std::forward<A>(a)...)));
  }
  template <class... A>
  [[noreturn]] void fail_line(std::uint64_t line, fmt::format_string<A...> f, A&&... a) const {
    throw FileError(fmt::format("{}: line {}: {}", name_, line, fmt::format(f, std::forward<A>(a)...)));
  }
  [[noreturn]] void fail_at_end(std::string_view what) const {
    throw FileError(fmt::format("{}: line {}: {}", name_, lines_.number(), what));
  }

  void read_header() {
    std::string_view line;
    for (;;) {  // text before \data\ is allowed (SRILM and others write comments there)
      if (!lines_.next(line)) fail_at_end("no \\data\\ section: not an ARPA file");
      if (trim(line) == "\\data\\") break;
    }
    counts_.push_back(0);
    std::uint64_t need = 0;  // the fewest bytes the counted n-grams take: "p w1 ... wn\n", words >= 2 bytes
    while (lines_.next_nonblank(line)) {
      const std::string_view t = trim(line);
      if (t.substr(0, 5) != "ngram") break;
      const std::string_view rest = trim(t.substr(5));
      const std::size_t eq = rest.find('=');
      std::uint64_t n = 0, c = 0;
      if (eq == std::string_view::npos || !parse_count(trim(rest.substr(0, eq)), n) ||
          !parse_count(trim(rest.substr(eq + 1)), c))
        fail("malformed count line {} (expected 'ngram N=COUNT')", quoted(line));
      if (n != counts_.size()) fail("count of order {} where order {} was expected", n, counts_.size());
      if (n > std::uint64_t(NGramPersona::kMaxOrder))
        fail("order {} is above the largest n-gram order, {}", n, NGramPersona::kMaxOrder);
      if (c > text_.size() || (need += c * (3 * n + 2)) > text_.size())
        fail("the header counts more n-grams than a file of {} bytes can hold", text_.size());
      counts_.push_back(c);
    }
    if (counts_.size() == 1) fail("\\data\\ has no 'ngram N=COUNT' lines");
    order_ = int(counts_.size() - 1);
    pending_ = line;  // the first line after the counts (a section header)
    has_pending_ = !trim(line).empty() && trim(line).substr(0, 5) != "ngram";
    if (!has_pending_) fail_at_end("the file ends after its \\data\\ counts");
  }

  void read_section(int n) {
    std::string_view line = pending_;
    if (!has_pending_ && !lines_.next_nonblank(line)) fail_at_end(fmt::format("missing the \\{}-grams: section", n));
    has_pending_ = false;
    const std::string expected = fmt::format("\\{}-grams:", n);
    if (trim(line) != expected) {
      if (trim(line)[0] != '\\' && n > 1)
        fail("more n-grams of order {} than the header's {}", n - 1, counts_[std::size_t(n) - 1]);
      fail("expected {}, found {}", expected, quoted(line));
    }
    Order o;
    o.n = n;
    const std::uint64_t count = counts_[std::size_t(n)];
    if (n >= 2) {
      o.words.reserve(count * std::uint64_t(n));
      o.logp.reserve(count);
      o.logbo.reserve(count);
      o.line.reserve(count);
      o.implied.reserve(count);
    }
    std::vector<std::string_view> f;
    std::vector<std::uint16_t> w(std::size_t(n), 0);
    InterruptPoller poll;
    for (std::uint64_t k = 0; k < count; ++k) {
      poll.tick();
      if (!lines_.next_nonblank(line))
        fail_at_end(fmt::format("the file ends after {} of the {} n-grams of order {}", k, count, n));
      if (trim(line)[0] == '\\') fail("section {} ends after {} n-grams, the header says {}", expected, k, count);
      split(line, f);
      if (f.size() != std::size_t(n) + 1 && f.size() != std::size_t(n) + 2)
        fail("{} fields where an n-gram of order {} has {} or {}: {}", f.size(), n, n + 1, n + 2, quoted(line));
      bool unk = false;
      for (int i = 0; i < n; ++i) {
        w[std::size_t(i)] = word(f[std::size_t(i) + 1], i, n);
        unk = unk || w[std::size_t(i)] == kUnk;
      }
      double logp = 0.0, logbo = 0.0;
      if (!parse_double(f[0], logp)) fail("the probability {} is not a number", quoted(f[0]));
      if (f.size() == std::size_t(n) + 2 && !parse_double(f.back(), logbo))
        fail("the backoff {} is not a number", quoted(f.back()));
      const bool ignored_p = n == 1 && (w[0] == kStart || w[0] == kUnk);  // <s> never predicted; <unk> never asked
      if (!ignored_p && !(std::isfinite(logp) && logp <= 0.0 && logp >= -300.0))
        fail("log10 probability {} is outside [-300, 0]", f[0]);
      if (!(w[0] == kUnk && n == 1) && !(std::isfinite(logbo) && std::abs(logbo) <= 300.0))
        fail("log10 backoff {} is outside [-300, 300]", f.back());
      if (n == 1) {
        unigram(w[0], logp, logbo);
        continue;
      }
      if (unk) continue;  // never asked: every byte is a word
      o.words.insert(o.words.end(), w.begin(), w.end());
      o.logp.push_back(logp);
      o.logbo.push_back(logbo);
      o.line.push_back(lines_.number());
      o.implied.push_back(0);
    }
    if (n >= 2) orders_.push_back(std::move(o));
  }

  // The token of word `s` at position i of an n-gram of order n.
  std::uint16_t word(std::string_view s, int i, int n) const {
    std::uint16_t t = 0;
    if (s.size() == 2 && hex_digit(s[0]) >= 0 && hex_digit(s[1]) >= 0)
      t = std::uint16_t(hex_digit(s[0]) * 16 + hex_digit(s[1]));
    else if (s == "</s>")
      t = kBoundary;
    else if (s == "<s>")
      t = kStart;
    else if (s == "<unk>")
      t = kUnk;
    else
      fail("word {} is not a byte (two lowercase hex digits), <s>, </s> or <unk>", quoted(s));
    if (t == kStart && i != 0) fail("<s> after the start of an n-gram");
    if (t == kBoundary && i != n - 1) fail("</s> before the end of an n-gram");
    return t;
  }

  void unigram(std::uint16_t t, double logp, double logbo) {
    if (t == kUnk) {
      if (has_unk_) fail("<unk> listed twice");
      has_unk_ = true;
      unk_p_ = std::isfinite(logp) ? std::pow(10.0, std::max(logp, -300.0)) : 0.0;
      return;
    }
    if (uni_line_[t] != 0) fail("unigram {} listed twice (also on line {})", word_of(t), uni_line_[t]);
    uni_line_[t] = lines_.number();
    uni_logp_[t] = logp;
    uni_logbo_[t] = logbo;
  }

  // Adds the missing suffixes of every order's n-grams to the order below
  // (top down, so that the added ones' own suffixes are added too).
  void close_suffixes() {
    for (std::size_t k = orders_.size(); k-- > 1;) {
      const Order& o = orders_[k];
      Order& lower = orders_[k - 1];
      const std::size_t before = lower.size();
      for (std::size_t i = 0; i < o.size(); ++i) {
        const std::uint16_t* s = o.at(i) + 1;
        if (find_words(lower, s, before) != NGramPersona::kNone) continue;  // the sorted part
        lower.words.insert(lower.words.end(), s, s + lower.n);
        lower.logp.push_back(0.0);
        lower.logbo.push_back(0.0);
        lower.line.push_back(o.line[i]);
        lower.implied.push_back(1);  // repeats are merged by dedupe
      }
      if (lower.size() != before) dedupe(lower);
    }
  }

  // Sorts an order and removes repeated implied n-grams (a repeated stored one is an error).
  void dedupe(Order& o) {
    sort_order(o);
    std::size_t out = 0;
    for (std::size_t i = 0; i < o.size(); ++i) {
      if (out > 0 && std::equal(o.at(i), o.at(i) + o.n, o.at(out - 1))) {
        if (!o.implied[i] && !o.implied[out - 1])
          fail_line(o.line[i], "n-gram '{}' listed twice (also on line {})", words_text(o.at(i), o.n), o.line[out - 1]);
        if (o.implied[out - 1] && !o.implied[i]) {  // keep the stored one
          o.logp[out - 1] = o.logp[i];
          o.logbo[out - 1] = o.logbo[i];
          o.line[out - 1] = o.line[i];
          o.implied[out - 1] = 0;
        }
        continue;
      }
      if (out != i) {
        std::copy(o.at(i), o.at(i) + o.n, o.words.begin() + std::ptrdiff_t(out * std::size_t(o.n)));
        o.logp[out] = o.logp[i];
        o.logbo[out] = o.logbo[i];
        o.line[out] = o.line[i];
        o.implied[out] = o.implied[i];
      }
      ++out;
    }
    o.words.resize(out * std::size_t(o.n));
    o.logp.resize(out);
    o.logbo.resize(out);
    o.line.resize(out);
    o.implied.resize(out);
  }

  NGramPersona build() {
    for (Order& o : orders_) dedupe(o);
    close_suffixes();
    const std::size_t N = std::size_t(order_);
    // parent[n][i] / suffix[n][i]: level-(n-1) node of level-n node i without its last / first word.
    std::vector<std::vector<std::uint32_t>> parent(N + 1), suffix(N + 1);
    for (std::size_t n = 2; n <= N; ++n) {
      const Order& o = orders_[n - 2];
      parent[n].resize(o.size());
      suffix[n].resize(o.size());
      for (std::size_t i = 0; i < o.size(); ++i) {
        const std::uint16_t* w = o.at(i);
        std::uint32_t p = w[0], s = w[1];
        if (n > 2) {
          p = find_words(orders_[n - 3], w);
          s = find_words(orders_[n - 3], w + 1);
        }
        const bool stored_context = n > 2 ? p != NGramPersona::kNone : uni_line_[w[0]] != 0 || o.implied[i];
        if (!stored_context)
          fail_line(o.line[i], "n-gram '{}' has the context '{}', which is not stored", words_text(w, int(n)),
                    words_text(w, int(n) - 1));
        if (s == NGramPersona::kNone)  // close_suffixes added every suffix
          fail_line(o.line[i], "n-gram '{}' has no suffix '{}'", words_text(w, int(n)), words_text(w + 1, int(n) - 1));
        parent[n][i] = p;
        suffix[n][i] = s;
      }
    }

    // The trie's shape: tokens and child ranges.
    std::vector<Level> levels(N + 1);
    levels[0].node.resize(1);
    levels[0].node[0].child_end = kUnigrams;
    levels[0].node[0].gamma = 0.0;  // ARPA's unigrams are the bottom: p(w) = disc(w)
    levels[1].node.resize(kUnigrams);
    for (std::uint16_t t = 0; t < kUnigrams; ++t) levels[1].node[t].token = t;
    for (std::size_t n = 2; n <= N; ++n) {
      const Order& o = orders_[n - 2];
      levels[n].node.resize(o.size());
      for (std::size_t i = 0; i < o.size(); ++i) levels[n].node[i].token = o.at(i)[n - 1];
    }
    for (std::size_t n = 1; n < N; ++n) {
      std::vector<std::uint32_t> begin(levels[n].node.size() + 1, 0);
      for (std::uint32_t p : parent[n + 1]) ++begin[p + 1];
      for (std::size_t i = 1; i < begin.size(); ++i) begin[i] += begin[i - 1];
      for (std::size_t i = 0; i < levels[n].node.size(); ++i) {
        levels[n].node[i].child_begin = begin[i];
        levels[n].node[i].child_end = begin[i + 1];
      }
    }

    // Unigrams: the bottom of the back-off, normalised over the 257 byte tokens.
    std::vector<std::vector<double>> prob(N + 1);  // p(w | h) of every node, as the walk computes it
    prob[1].assign(kUnigrams, 0.0);
    const double unk = has_unk_ ? unk_p_ : 1e-100;  // KenLM's probability of an unknown word without <unk>
    double total = 0.0;
    for (int t = 0; t < kVocab; ++t) {
      prob[1][std::size_t(t)] = uni_line_[std::size_t(t)] ? std::pow(10.0, uni_logp_[std::size_t(t)]) : unk;
      total += prob[1][std::size_t(t)];
    }
    if (!(std::abs(total - 1.0) <= kArpaTolerance))
      throw FileError(fmt::format("{}: the unigram probabilities of the {} byte tokens sum to {}, not 1 (within {})",
                                  name_, kVocab, total, kArpaTolerance));
    for (int t = 0; t < kVocab; ++t) {
      if (std::abs(total - 1.0) > kRescaleAbove) prob[1][std::size_t(t)] /= total;
      levels[1].node[std::size_t(t)].disc = prob[1][std::size_t(t)];
    }

    // Each context's backoff, its continuations' probabilities and terms, level by level.
    InterruptPoller poll;
    for (std::size_t n = 1; n < N; ++n) {
      const Order* o = n >= 2 ? &orders_[n - 2] : nullptr;
      const Order& kids = orders_[n - 1];
      prob[n + 1].resize(kids.size());
      for (std::size_t c = 0; c < levels[n].node.size(); ++c) {
        poll.tick();
        Node& ctx = levels[n].node[c];
        const bool stored = o ? !o->implied[c] : uni_line_[c] != 0;
        const double logbo = !stored ? 0.0 : o ? o->logbo[c] : uni_logbo_[c];
        if (ctx.token == kBoundary) {  // nothing follows </s> (the walk starts a new document)
          ctx.gamma = 1.0;
          continue;
        }
        double gamma = std::pow(10.0, logbo);
        double stored_sum = 0.0, lower_sum = 0.0;
        for (std::uint32_t k = ctx.child_begin; k < ctx.child_end; ++k) {
          const double lower = prob[n][suffix[n + 1][k]];
          const double p = kids.implied[k] ? gamma * lower : std::pow(10.0, kids.logp[k]);
          prob[n + 1][k] = p;
          stored_sum += p;
          lower_sum += lower;
        }
        const double sum = stored_sum + gamma * (1.0 - lower_sum);
        if (!(std::abs(sum - 1.0) <= kArpaTolerance)) {
          const std::uint64_t line = o ? o->line[c] : uni_line_[c];
          const std::string words = o ? words_text(o->at(c), int(n)) : word_of(std::uint16_t(c));
          fail_line(line, "the distribution after '{}' sums to {}, not 1 (within {}): its {} stored continuations "
                          "take {}, its backoff {} times the lower order's rest {}",
                    words, sum, kArpaTolerance, ctx.child_end - ctx.child_begin, stored_sum, gamma, 1.0 - lower_sum);
        }
        if (std::abs(sum - 1.0) > kRescaleAbove) {
          gamma /= sum;
          for (std::uint32_t k = ctx.child_begin; k < ctx.child_end; ++k)
            prob[n + 1][k] = std::min(prob[n + 1][k] / sum, 1.0);
        }
        ctx.gamma = gamma;
        for (std::uint32_t k = ctx.child_begin; k < ctx.child_end; ++k) {
          const double lower = prob[n][suffix[n + 1][k]];
          const double p = prob[n + 1][k];
          Node& kid = levels[n + 1].node[k];
          kid.disc = p - gamma * lower;
          const double walk = gamma * lower + kid.disc;  // what advance() will compute
          if (!(std::abs(walk - p) <= kReconstruction * p))
            fail_line(kids.line[k], "p({}) = {} is too small beside its back-off value {} to be held as their "
                                    "difference in double precision",
                      words_text(kids.at(k), int(n) + 1), p, gamma * lower);
          prob[n + 1][k] = walk;
        }
      }
    }
    return NGramPersona::from_levels(order_, std::move(levels),
                                     std::vector<Discounts>(N, Discounts{0.0, 0.0, 0.0, false}));
  }

  std::string_view text_;
  const std::string& name_;
  Lines lines_;
  std::vector<std::uint64_t> counts_;  // counts_[n], n >= 1 (from the header)
  int order_ = 0;
  std::string_view pending_;
  bool has_pending_ = false;
  std::vector<Order> orders_;  // orders 2..N
  std::uint64_t uni_line_[kUnigrams] = {};
  double uni_logp_[kUnigrams] = {};
  double uni_logbo_[kUnigrams] = {};
  bool has_unk_ = false;
  double unk_p_ = 0.0;
};

}  // namespace

// ---- writing -------------------------------------------------------------------

std::string save_arpa_to_bytes(const NGramPersona& lm) {
  SIMULACRA_CHECK(lm.order() >= 1, InvalidArgument, "save_arpa: the model is empty (fit or load one first)");
  const std::size_t N = std::size_t(lm.order());
  const std::vector<Level>& levels = lm.levels();
  const std::vector<std::vector<double>> prob = detail::stored_probabilities(levels);
  std::vector<std::string> word(kUnigrams);
  for (std::uint16_t t = 0; t < kUnigrams; ++t) word[t] = word_of(t);

  fmt::memory_buffer out;
  const auto it = std::back_inserter(out);
#define put(...) fmt::format_to(it, __VA_ARGS__)
  put("\\data\\\nngram 1={}\n", kUnigrams + 1);
  for (std::size_t n = 2; n <= N; ++n) put("ngram {}={}\n", n, levels[n].node.size());
  put("\n\\1-grams:\n");
  const bool top1 = N == 1;
  put("{}\t<unk>{}\n", kLogZero, top1 ? "" : "\t0");
  if (top1)
    put("{}\t<s>\n", kLogZero);
  else
    put("{}\t<s>\t{}\n", kLogZero, log10_text(levels[1].node[kStart].gamma));
  for (std::uint16_t t = 0; t < kVocab; ++t) {
    put("{}\t{}", log10_text(prob[1][t]), word[t]);
    if (!top1 && t != kBoundary) put("\t{}", log10_text(levels[1].node[t].gamma));
    put("\n");
  }
  // parent[i]: the level-(n-1) node of level-n node i, for spelling out its words.
  std::vector<std::vector<std::uint32_t>> parent(N + 1);
  InterruptPoller poll;
  for (std::size_t n = 2; n <= N; ++n) {
    parent[n].resize(levels[n].node.size());
    for (std::size_t p = 0; p < levels[n - 1].node.size(); ++p)
      for (std::uint32_t c = levels[n - 1].node[p].child_begin; c < levels[n - 1].node[p].child_end; ++c)
        parent[n][c] = std::uint32_t(p);
    put("\n\\{}-grams:\n", n);
    std::vector<std::uint16_t> w(n);
    for (std::size_t i = 0; i < levels[n].node.size(); ++i) {
      poll.tick();
      std::uint32_t at = std::uint32_t(i);
      for (std::size_t k = n; k >= 1; --k) {
        w[k - 1] = levels[k].node[at].token;
        if (k > 1) at = parent[k][at];
      }
      put("{}\t{}", log10_text(prob[n][i]), word[w[0]]);
      for (std::size_t k = 1; k < n; ++k) put(" {}", word[w[k]]);
      if (n < N && w[n - 1] != kBoundary) put("\t{}", log10_text(levels[n].node[i].gamma));
      put("\n");
    }
  }
  put("\n\\end\\\n");
#undef put
  return std::string(out.data(), out.size());
}

void save_arpa(const NGramPersona& lm, const std::string& path) { write_file_atomic(path, save_arpa_to_bytes(lm)); }

NGramPersona load_arpa_from_bytes(std::string_view text, const std::string& name) {
  return Reader(text, name).read();
}

NGramPersona load_arpa(const std::string& path) { return load_arpa_from_bytes(read_file(path, kMaxArpaBytes), path); }

}  // namespace simulacra
