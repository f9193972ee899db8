// The quantised, bit-packed n-gram persona (ngram_quant.hpp).
#include "simulacra/ngram_quant.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "simulacra/detail/cursor_persona.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

// The buffers of a model quantised in memory: the levels point into them.
struct OwnedArrays {
  std::vector<std::vector<std::uint8_t>> records;
  std::vector<std::array<float, QuantNGramPersona::kCodes>> prob, backoff;
};

// KenLM's quantiser: equal-population bins over the finite values (sorted),
// each bin's centre the mean of its values; a code of its own (centre -inf)
// when some value is -inf. Centres are sorted; unused codes repeat the last.
std::array<float, QuantNGramPersona::kCodes> codebook(std::vector<double> values) {
  std::array<float, QuantNGramPersona::kCodes> out;
  const bool neg_inf = std::any_of(values.begin(), values.end(), [](double x) { return x == kNegInf; });
  const bool zero = std::any_of(values.begin(), values.end(), [](double x) { return x == 0.0; });
  values.erase(std::remove_if(values.begin(), values.end(), [](double x) { return x == kNegInf || x == 0.0; }),
               values.end());
  std::sort(values.begin(), values.end());
  std::vector<float> centres;
  if (neg_inf) centres.push_back(-std::numeric_limits<float>::infinity());
  if (zero) centres.push_back(0.0f);  // exact: a backoff of 1 (a context without continuations), a probability 1
  const std::size_t bins = std::size_t(QuantNGramPersona::kCodes) - centres.size(), n = values.size();
  for (std::size_t i = 0; i < bins; ++i) {
    const std::size_t b = i * n / bins, e = (i + 1) * n / bins;
    if (e <= b) continue;
    double sum = 0.0;
    for (std::size_t j = b; j < e; ++j) sum += values[j];
    centres.push_back(float(sum / double(e - b)));
  }
  std::sort(centres.begin(), centres.end());
  centres.erase(std::unique(centres.begin(), centres.end()), centres.end());
  if (centres.empty()) centres.push_back(0.0f);
  std::size_t k = 0;
  for (; k < centres.size(); ++k) out[k] = centres[k];
  for (; k < out.size(); ++k) out[k] = centres.back();
  return out;
}

// The code of the centre nearest x.
std::uint32_t encode(const std::array<float, QuantNGramPersona::kCodes>& centres, double x) {
  if (x == kNegInf) return 0;  // only when the codebook has a -inf centre
  const auto it = std::lower_bound(centres.begin(), centres.end(), x, [](float c, double v) { return double(c) < v; });
  if (it == centres.end()) return std::uint32_t(centres.size() - 1);
  if (it == centres.begin()) return 0;
  const auto prev = std::find(centres.begin(), centres.end(), *(it - 1));  // first code of that centre
  return x - double(*(it - 1)) < double(*it) - x ? std::uint32_t(prev - centres.begin())
                                                  : std::uint32_t(it - centres.begin());
}

void put_bits(std::vector<std::uint8_t>& buf, std::uint64_t bit, std::uint64_t value) {
  std::uint64_t v;
  std::memcpy(&v, buf.data() + (bit >> 3), sizeof v);
  v |= value << (bit & 7);
  std::memcpy(buf.data() + (bit >> 3), &v, sizeof v);
}

}  // namespace

int QuantNGramPersona::child_bits_for(std::size_t next_size) {
  int bits = 0;
  while (bits < 64 && (std::uint64_t(1) << bits) <= std::uint64_t(next_size)) ++bits;
  return bits;
}

QuantNGramPersona QuantNGramPersona::quantise(const NGramPersona& lm) {
  const int N = lm.order();
  SIMULACRA_CHECK(N >= 1, InvalidArgument, "quantise: the model is empty (fit or load one first)");
  const std::vector<NGramPersona::Level>& src = lm.levels();
  for (int n = 1; n < N; ++n)
    for (std::size_t i = 0; i < src[std::size_t(n)].node.size(); ++i) {
      const double g = src[std::size_t(n)].node[i].gamma;
      SIMULACRA_CHECK(std::isfinite(g) && g >= 0.0, InvalidArgument, "quantise: level {} entry {} has backoff {}", n,
                      i, g);
    }
  const std::vector<std::vector<double>> probs = detail::stored_probabilities(src);
  auto owned = std::make_shared<OwnedArrays>();
  owned->records.resize(std::size_t(N) + 1);
  owned->prob.resize(std::size_t(N) + 1);
  owned->backoff.resize(std::size_t(N) + 1);
  std::vector<Level> levels(std::size_t(N) + 1);
  levels[0].size = 1;
  std::vector<std::vector<double>> log_gamma(std::size_t(N) + 1);  // of every context, per level
  for (std::size_t n = 1; n <= std::size_t(N); ++n) {
    const std::vector<NGramPersona::Node>& node = src[n].node;
    const bool inner = n < std::size_t(N);
    std::vector<double> lp(node.size());
    for (std::size_t i = 0; i < node.size(); ++i) lp[i] = std::log(std::max(probs[n][i], 0.0));
    std::vector<double> binned = lp;
    if (n == 1) binned.erase(binned.begin() + kStart);  // the start boundary is never predicted
    owned->prob[n] = codebook(std::move(binned));
    std::vector<double>& lg = log_gamma[n];
    if (inner) {
      for (const NGramPersona::Node& x : node) lg.push_back(std::log(x.gamma));
      owned->backoff[n] = codebook(lg);
    }
    Level& L = levels[n];
    L.size = node.size();
    L.prob = owned->prob[n].data();
    L.backoff = inner ? owned->backoff[n].data() : nullptr;
    L.child_bits = inner ? child_bits_for(src[n + 1].node.size()) : 0;
    const int W = L.width();
    const std::size_t count = node.size() + (inner ? 1 : 0);
    std::vector<std::uint8_t>& buf = owned->records[n];
    buf.assign(Level::bytes_for(count, W), 0);
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t r = 0;
      if (i < node.size()) {
        const std::uint32_t pc = n == 1 && i == kStart ? 0 : encode(owned->prob[n], lp[i]);
        r = std::uint64_t(node[i].token) | std::uint64_t(pc) << 9;
      }
      if (inner) r |= std::uint64_t(i < node.size() ? node[i].child_begin : node.back().child_end) << 25;
      put_bits(buf, std::uint64_t(i) * std::uint64_t(W), r);
    }
    L.records = buf.data();
    L.bytes = buf.size();
  }
  std::vector<Discounts> discounts;
  for (int n = 1; n <= N; ++n) discounts.push_back(lm.discounts(n));
  QuantNGramPersona out;
  out.order_ = N;
  out.levels_ = std::move(levels);
  out.discounts_ = std::move(discounts);
  std::vector<std::vector<std::uint8_t>>& owned_records = owned->records;
  out.storage_ = std::move(owned);
  out.index();
  try {
    out.check_sums(&owned_records, &log_gamma);
  } catch (const FileError& e) {
    throw InvalidArgument(fmt::format("quantise: {}", e.what()));
  }
  return out;
}

QuantNGramPersona QuantNGramPersona::from_arrays(int order, std::vector<Level> levels, std::vector<Discounts> discounts,
                                                 std::shared_ptr<const void> storage) {
  SIMULACRA_CHECK(order >= 1 && order <= NGramPersona::kMaxOrder, FileError, "quantised n-gram model: order {}",
                  order);
  SIMULACRA_CHECK(levels.size() == std::size_t(order) + 1, FileError,
                  "quantised n-gram model: {} levels for order {}", levels.size(), order);
  SIMULACRA_CHECK(discounts.size() == std::size_t(order), FileError,
                  "quantised n-gram model: {} discount sets for order {}", discounts.size(), order);
  for (const Discounts& d : discounts)
    SIMULACRA_CHECK(d.d1 >= 0 && d.d1 <= 1 && d.d2 >= 0 && d.d2 <= 2 && d.d3 >= 0 && d.d3 <= 3, FileError,
                    "quantised n-gram model: discounts ({}, {}, {}) outside [0, k]", d.d1, d.d2, d.d3);
  levels[0] = Level{};
  levels[0].size = 1;
  SIMULACRA_CHECK(levels[1].size == std::size_t(kVocab) + 1, FileError,
                  "quantised n-gram model: level 1 has {} entries, expected {}", levels[1].size, kVocab + 1);
  for (std::size_t n = 1; n <= std::size_t(order); ++n) {
    const Level& L = levels[n];
    const bool inner = n < std::size_t(order);
    SIMULACRA_CHECK(L.size < std::numeric_limits<std::uint32_t>::max(), FileError,
                    "quantised n-gram model: level {} has {} entries, more than 2^32 - 2", n, L.size);
    SIMULACRA_CHECK(L.records && L.prob && (L.backoff != nullptr) == inner, FileError,
                    "quantised n-gram model: level {} misses an array (or has a backoff codebook at the top)", n);
    if (inner) {
      const int want = child_bits_for(levels[n + 1].size);
      SIMULACRA_CHECK(L.child_bits == want, FileError,
                      "quantised n-gram model: level {} has {}-bit children, expected {} for {} records", n,
                      L.child_bits, want, levels[n + 1].size);
    }
    const std::size_t want_bytes = Level::bytes_for(L.size + (inner ? 1 : 0), L.width());
    SIMULACRA_CHECK(L.bytes == want_bytes, FileError,
                    "quantised n-gram model: level {} records take {} bytes, expected {} ({} records of {} bits and "
                    "{} bytes of padding)",
                    n, L.bytes, want_bytes, L.size + (inner ? 1 : 0), L.width(), int(kPadBytes));
    for (int c = 0; c < kCodes; ++c) {
      const float p = L.prob[c];
      SIMULACRA_CHECK(p <= 0.0f && (p == -std::numeric_limits<float>::infinity() || std::isfinite(p)), FileError,
                      "quantised n-gram model: level {} probability centre {} is {} (a log-probability: at most 0)",
                      n, c, p);  // false for NaN
      if (inner)
        SIMULACRA_CHECK(L.backoff[c] < std::numeric_limits<float>::infinity(), FileError,
                        "quantised n-gram model: level {} backoff centre {} is {}", n, c, L.backoff[c]);
    }
  }
  QuantNGramPersona out;
  out.order_ = order;
  out.levels_ = std::move(levels);
  out.discounts_ = std::move(discounts);
  out.storage_ = std::move(storage);
  out.width_.assign(std::size_t(order) + 1, 0);
  out.child_mask_.assign(std::size_t(order) + 1, 0);
  for (std::size_t n = 1; n <= std::size_t(order); ++n) {
    out.width_[n] = out.levels_[n].width();
    out.child_mask_[n] = (std::uint64_t(1) << out.levels_[n].child_bits) - 1;
  }
  // Tokens, child ranges, sorted children (before anything indexes through them).
  for (std::size_t n = 1; n <= std::size_t(order); ++n) {
    const Level& L = out.levels_[n];
    poll_interrupt();
    for (std::uint32_t i = 0; i < L.size; ++i) {
      const std::uint32_t w = token_of(out.record(int(n), i));
      SIMULACRA_CHECK(n == 1 ? w == i : w < std::uint32_t(kVocab), FileError,
                      "quantised n-gram model: level {} entry {} has token {}", n, i, w);
    }
    if (n == std::size_t(order)) break;
    const std::size_t next = out.levels_[n + 1].size;
    const std::uint32_t first = out.child_of(int(n), out.record(int(n), 0));
    const std::uint32_t end = out.child_of(int(n), out.record(int(n), std::uint32_t(L.size)));
    SIMULACRA_CHECK(first == 0 && end == next, FileError,
                    "quantised n-gram model: level {} children span [{}, {}), expected [0, {})", n, first, end, next);
    for (std::uint32_t i = 0; i < L.size; ++i) {
      const std::uint32_t b = out.child_of(int(n), out.record(int(n), i));
      const std::uint32_t e = out.child_of(int(n), out.record(int(n), i + 1));
      SIMULACRA_CHECK(b <= e && e <= next, FileError,
                      "quantised n-gram model: level {} entry {} has child range [{}, {}) (level {} has {})", n, i, b,
                      e, n + 1, next);
      for (std::uint32_t c = b + 1; c < e; ++c)
        SIMULACRA_CHECK(token_of(out.record(int(n) + 1, c - 1)) < token_of(out.record(int(n) + 1, c)), FileError,
                        "quantised n-gram model: level {} children unsorted at {}", n + 1, c);
    }
  }
  out.index();
  out.check_sums();
  return out;
}

void QuantNGramPersona::index() {
  const std::size_t N = std::size_t(order_);
  width_.assign(N + 1, 0);
  child_mask_.assign(N + 1, 0);
  for (std::size_t n = 1; n <= N; ++n) {
    width_[n] = levels_[n].width();
    child_mask_[n] = (std::uint64_t(1) << levels_[n].child_bits) - 1;
  }
  l1_child_.clear();
  l2_bits_.clear();
  l2_rank_.clear();
  if (order_ < 2) return;
  const std::size_t S1 = levels_[1].size;
  l1_child_.resize(S1 + 1);
  for (std::uint32_t c = 0; c <= S1; ++c) l1_child_[c] = child_of(1, record(1, c));
  l2_bits_.assign(S1 * kWords, 0);
  l2_rank_.assign(S1 * kWords, 0);
  for (std::size_t c = 0; c < S1; ++c) {
    for (std::uint32_t i = l1_child_[c]; i < l1_child_[c + 1]; ++i) {
      const std::uint32_t w = token_of(record(2, i));
      l2_bits_[c * kWords + w / 64] |= std::uint64_t(1) << (w % 64);
    }
    std::uint16_t rank = 0;
    for (std::size_t j = 0; j < kWords; ++j) {
      l2_rank_[c * kWords + j] = rank;
      rank = std::uint16_t(rank + __builtin_popcountll(l2_bits_[c * kWords + j]));
    }
  }
}

// S(h) for every stored context h, level by level through suffix links:
//   S(root) = sum_w p(w),  S(h) = sum_{w in C(h)} p(w | h) + gamma(h) (S(h') - sum_{w in C(h)} p(w | h'))
// (h' = h without its oldest token; h'w is stored whenever hw is). FileError for a
// stored n-gram whose suffix is not stored or a sum outside 1 +- kSumTolerance.
void QuantNGramPersona::check_sums(std::vector<std::vector<std::uint8_t>>* choose,
                                   const std::vector<std::vector<double>>* log_gamma) {
  const int N = order_;
  // exp of every centre, per level: one table look-up per value below.
  std::vector<std::array<double, kCodes>> prob(std::size_t(N) + 1), backoff(std::size_t(N) + 1);
  for (std::size_t n = 1; n <= std::size_t(N); ++n)
    for (int c = 0; c < kCodes; ++c) {
      prob[n][std::size_t(c)] = std::exp(double(levels_[n].prob[c]));
      if (levels_[n].backoff) backoff[n][std::size_t(c)] = std::exp(double(levels_[n].backoff[c]));
    }
  auto p = [&](int n, std::uint32_t i) { return prob[std::size_t(n)][prob_of(record(n, i))]; };
  double root = 0.0;
  for (std::uint32_t w = 0; w < std::uint32_t(kVocab); ++w) root += p(1, w);
  max_sum_error_ = std::abs(root - 1.0);
  SIMULACRA_CHECK(max_sum_error_ <= kSumTolerance, FileError,
                  "quantised n-gram model: the unigram distribution sums to {}, not 1 within {}", root, kSumTolerance);
  std::vector<double> sum_prev{root}, sum;
  std::vector<std::uint32_t> suffix(levels_[1].size, 0), next_suffix;  // level-n node -> level-(n-1) node
  for (int n = 1; n < N; ++n) {
    poll_interrupt();
    const std::size_t S = levels_[std::size_t(n)].size;
    sum.assign(S, 0.0);
    next_suffix.assign(levels_[std::size_t(n) + 1].size, 0);
    for (std::uint32_t q = 0; q < S; ++q) {
      const std::uint64_t r = record(n, q);
      const std::uint32_t b = child_of(n, r), e = child_of(n, record(n, q + 1));
      const std::uint32_t s = suffix[q];
      std::uint32_t sb = 0, se = 0;
      if (n >= 3) {
        sb = child_of(n - 1, record(n - 1, s));
        se = child_of(n - 1, record(n - 1, s + 1));
      }
      double own = 0.0, lower = 0.0;
      for (std::uint32_t c = b; c < e; ++c) {
        const auto w = Token(token_of(record(n + 1, c)));
        // The children of q and of its suffix are both sorted by token (checked before this), so each search
        // starts past the last one found; at level 2 the suffix is a token and the bitmap index answers.
        const std::uint32_t j = n == 1 ? std::uint32_t(w) : n == 2 ? find2(s, w) : find(n, sb, se, w);
        SIMULACRA_CHECK(j != kNone, FileError,
                        "quantised n-gram model: level {} entry {} (token {}) has no stored suffix at level {}", n + 1,
                        c, w, n);
        if (n >= 3) sb = j + 1;
        next_suffix[c] = j;
        own += p(n + 1, c);
        lower += p(n, j);
      }
      const float* centres = levels_[std::size_t(n)].backoff;
      if (choose != nullptr) {
        // Of the two centres either side of the backoff's log, the one that brings the sum nearer 1.
        const double rest = sum_prev[s] - lower;
        const double target = (*log_gamma)[std::size_t(n)][q];
        const float* it = std::lower_bound(centres, centres + kCodes, target,
                                           [](float c, double v) { return double(c) < v; });
        std::uint32_t best = 0;
        double best_err = INFINITY;
        for (const float* c : {it - (it != centres), it - (it == centres + kCodes)}) {
          const double err = std::abs(own + std::exp(double(*c)) * rest - 1.0);
          if (err < best_err) best_err = err, best = std::uint32_t(c - centres);
        }
        put_bits((*choose)[std::size_t(n)], std::uint64_t(q) * std::uint64_t(width_[std::size_t(n)]) + 17, best);
      }
      const double g = backoff[std::size_t(n)][backoff_of(record(n, q))];
      const double total = own + g * (sum_prev[s] - lower);
      sum[q] = total;
      const double err = std::abs(total - 1.0);
      max_sum_error_ = std::max(max_sum_error_, err);
      SIMULACRA_CHECK(err <= kSumTolerance, FileError,
                      "quantised n-gram model: the next-token distribution after level {} entry {} sums to {}, not 1 "
                      "within {}",
                      n, q, total, kSumTolerance);  // false for NaN
    }
    sum_prev.swap(sum);
    suffix.swap(next_suffix);
  }
}

std::size_t QuantNGramPersona::num_ngrams() const {
  std::size_t total = 0;
  for (int n = 1; n <= order_; ++n) total += levels_[std::size_t(n)].size;
  return total;
}

std::size_t QuantNGramPersona::memory_bytes() const {
  std::size_t bytes = l2_bits_.size() * sizeof(std::uint64_t) + l2_rank_.size() * sizeof(std::uint16_t) +
                      l1_child_.size() * sizeof(std::uint32_t);
  for (int n = 1; n <= order_; ++n) {
    const Level& L = levels_[std::size_t(n)];
    bytes += L.bytes + std::size_t(kCodes) * sizeof(float) * (L.backoff ? 2 : 1);
  }
  return bytes;
}

void QuantNGramPersona::next_probs(const std::uint32_t* ctx, Eigen::Ref<Eigen::VectorXd> out) const {
  SIMULACRA_CHECK(out.size() == kVocab, InvalidArgument, "next_probs: output has size {}, expected {}", out.size(),
                  kVocab);
  int top = 0;
  while (top + 1 < order_ && ctx[top + 1] != kNone) ++top;
  const float* p1 = levels_[1].prob;
  for (int w = 0; w < kVocab; ++w) out[w] = std::exp(double(p1[prob_of(record(1, std::uint32_t(w)))]));
  for (int n = 1; n <= top; ++n) {
    const std::uint64_t r = record(n, ctx[n]);
    out *= std::exp(double(levels_[std::size_t(n)].backoff[backoff_of(r)]));
    const float* pn = levels_[std::size_t(n) + 1].prob;
    for (std::uint32_t c = child_of(n, r), e = child_of(n, record(n, ctx[n] + 1)); c < e; ++c) {
      const std::uint64_t k = record(n + 1, c);
      out[token_of(k)] = std::exp(double(pn[prob_of(k)]));
    }
  }
}

std::unique_ptr<PersonaState> QuantNGramPersona::begin() const {
  return std::make_unique<detail::CursorState<QuantNGramPersona>>(*this);
}

void QuantNGramPersona::token_logprobs(const Token* tokens, std::size_t n, double* out) const {
  detail::cursor_token_logprobs(*this, tokens, n, out);
}

double QuantNGramPersona::score_document(std::string_view text) const { return detail::cursor_score_document(*this, text); }

Eigen::VectorXd QuantNGramPersona::next_logprobs(std::string_view context) const {
  return detail::cursor_next_logprobs(*this, context);
}

}  // namespace simulacra
