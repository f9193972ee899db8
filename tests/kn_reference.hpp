// tests/kn_reference.hpp — a brute-force interpolated modified Kneser-Ney
// model to check simulacra::NGramPersona against.
//
// Written from the formulas of Chen & Goodman (1998) with KenLM's conventions
// (the specification in include/simulacra/ngram.hpp), sharing no code with the
// library: n-grams live in std::map<std::vector<int>, long>, and every
// probability is the recursion evaluated directly,
//
//   p_0(w)     = 1 / V
//   p_n(w | h) = max(a(hw) - D_n(a(hw)), 0) / S(h) + gamma_n(h) p_{n-1}(w | h')
//   gamma_n(h) = (D_n1 N1(h.) + D_n2 N2(h.) + D_n3+ N3+(h.)) / S(h),  S(h) = sum_x a(hx)
//
// with p_n(w | h) = p_{n-1}(w | h') where S(h) = 0. Slow and plain on purpose.
//
//   kn_reference::Model ref({"abba", "cadabra"}, 3);
//   double p = ref.prob({kn_reference::kStart, 'a'}, 'b');   // p(b | <s> a), not a log
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kn_reference {

inline constexpr int kEnd = 256;    // document boundary, predicted at the end of a document
inline constexpr int kStart = 257;  // start-of-document symbol, context only
inline constexpr int kV = 257;      // number of predicted tokens: bytes and kEnd

using Gram = std::vector<int>;
using Counts = std::map<Gram, long>;

// The discounts of one order.
struct Discount {
  double d1 = 0.5, d2 = 1.0, d3 = 1.5;
  bool fallback = true;

  double of(long a) const { return a == 0 ? 0.0 : a == 1 ? d1 : a == 2 ? d2 : d3; }
};

class Model {
 public:
  // documents: raw bytes; order N >= 1.
  Model(const std::vector<std::string>& documents, int order) : order_(order) {
    raw_.resize(order + 1);
    adjusted_.resize(order + 1);
    contexts_.resize(order + 1);
    discounts_.resize(order + 1);
    // Raw counts: every contiguous substring of [kStart, bytes..., kEnd] whose
    // last token is not kStart (that excludes exactly the unigram <s>).
    for (const std::string& doc : documents) {
      Gram seq{kStart};
      for (char c : doc) seq.push_back(static_cast<unsigned char>(c));
      seq.push_back(kEnd);
      for (int n = 1; n <= order; ++n)
        for (std::size_t i = 0; i + n <= seq.size(); ++i)
          if (seq[i + n - 1] != kStart) ++raw_[n][Gram(seq.begin() + i, seq.begin() + i + n)];
    }
    // Adjusted counts: raw at the top order or after <s>; otherwise the number
    // of distinct tokens v for which the (n+1)-gram v s was seen.
    for (int n = 1; n <= order; ++n) {
      Counts left;  // N1+(. s): each distinct (n+1)-gram v s adds one to s
      if (n < order)
        for (const auto& [longer, unused] : raw_[n + 1]) ++left[Gram(longer.begin() + 1, longer.end())];
      for (const auto& [s, c] : raw_[n]) adjusted_[n][s] = n == order || s[0] == kStart ? c : left[s];
    }
    // Discounts from count-of-counts; context sums and N1/N2/N3+.
    for (int n = 1; n <= order; ++n) {
      std::array<double, 5> t{};
      for (const auto& [s, a] : adjusted_[n])
        if (a >= 1 && a <= 4) t[a] += 1;
      Discount d;
      if (t[1] > 0 && t[2] > 0 && t[3] > 0) {
        const double y = t[1] / (t[1] + 2 * t[2]);
        const double d1 = 1 - 2 * y * t[2] / t[1];
        const double d2 = 2 - 3 * y * t[3] / t[2];
        const double d3 = 3 - 4 * y * t[4] / t[3];
        if (d1 >= 0 && d1 <= 1 && d2 >= 0 && d2 <= 2 && d3 >= 0 && d3 <= 3) d = Discount{d1, d2, d3, false};
      }
      discounts_[n] = d;
      for (const auto& [s, a] : adjusted_[n]) {
        Stats& st = contexts_[n][Gram(s.begin(), s.end() - 1)];
        st.sum += a;
        (a == 1 ? st.n1 : a == 2 ? st.n2 : st.n3) += 1;
      }
    }
  }

  int order() const { return order_; }
  const Discount& discount(int n) const { return discounts_[n]; }
  const Counts& raw(int n) const { return raw_[n]; }
  const Counts& adjusted(int n) const { return adjusted_[n]; }

  // p(w | history), not a log. history = kStart then the bytes of the current
  // document so far; only its last N-1 tokens matter.
  double prob(const Gram& history, int w) const {
    const int n = std::min<int>(order_, static_cast<int>(history.size()) + 1);
    return interpolate(n, Gram(history.end() - (n - 1), history.end()), w);
  }

  // Natural-log probability of each token of a stream of documents separated
  // by kEnd, starting at a document start.
  std::vector<double> score(const std::vector<int>& tokens) const {
    std::vector<double> out;
    Gram history{kStart};
    for (int w : tokens) {
      out.push_back(std::log(prob(history, w)));
      if (w == kEnd) {
        history = {kStart};
      } else {
        history.push_back(w);
        if (static_cast<int>(history.size()) > order_) history.erase(history.begin());
      }
    }
    return out;
  }

  // (kV) natural-log probabilities of the next token after `context`, the
  // text of the current document so far.
  std::vector<double> next_logprobs(std::string_view context) const {
    Gram history{kStart};
    for (char c : context) history.push_back(static_cast<unsigned char>(c));
    std::vector<double> out(kV);
    for (int w = 0; w < kV; ++w) out[w] = std::log(prob(history, w));
    return out;
  }

 private:
  struct Stats {
    long sum = 0;                 // S(h) = sum_x a(hx)
    long n1 = 0, n2 = 0, n3 = 0;  // continuations x with a(hx) = 1, 2, >= 3
  };

  // p_n(w | h) with |h| = n - 1.
  double interpolate(int n, const Gram& h, int w) const {
    if (n == 0) return 1.0 / kV;
    const double lower = interpolate(n - 1, n >= 2 ? Gram(h.begin() + 1, h.end()) : Gram{}, w);
    const auto ctx = contexts_[n].find(h);
    if (ctx == contexts_[n].end() || ctx->second.sum == 0) return lower;
    const Stats& st = ctx->second;
    Gram hw = h;
    hw.push_back(w);
    const auto found = adjusted_[n].find(hw);
    const long a = found == adjusted_[n].end() ? 0 : found->second;
    const Discount& d = discounts_[n];
    const double gamma = (d.d1 * st.n1 + d.d2 * st.n2 + d.d3 * st.n3) / st.sum;
    return std::max(a - d.of(a), 0.0) / st.sum + gamma * lower;
  }

  int order_;
  std::vector<Counts> raw_;                       // [n]: raw counts of order-n n-grams
  std::vector<Counts> adjusted_;                  // [n]: adjusted counts a(s)
  std::vector<std::map<Gram, Stats>> contexts_;   // [n]: statistics of each order-n context
  std::vector<Discount> discounts_;               // [n]: discounts of order n
};

}  // namespace kn_reference
