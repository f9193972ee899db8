// The quantised, bit-packed n-gram persona (ngram_quant.hpp).
#include "simulacra/ngram_quant.hpp"

#include <algorithm>
#include <array>
#include <limits>

#include "parallel.hpp"
#include "simulacra/detail/cursor_persona.hpp"
#include "simulacra/interrupt.hpp"

namespace simulacra {

namespace {

// The sum check walks each level in chunks of this many contexts, on the OpenMP threads when the next level
// has at least kParallelRecords records. Each parallel level is a barrier at which a helper thread that a busy
// neighbour has preempted holds everyone up (by milliseconds): at 2^15 an order-6 tinyshakespeare model went
// parallel at 3 levels and loaded in 3.9 ms idle, but in 8 to 24 ms beside two busy processes on the two cores
// (one thread: 6.4 to 10.6 ms); at 2^16, 2 levels: 4.1 ms idle, 8.6 to 9.3 ms beside them.
constexpr std::size_t kCheckChunk = 4096;
constexpr std::size_t kParallelRecords = std::size_t(1) << 16;

// A record's token (low 16 bits) and probability code (bits 16 to 23), as the loader's checks read them.
std::uint32_t decode(std::uint64_t record) {
  return QuantNGramPersona::token_of(record) | QuantNGramPersona::prob_of(record) << 16;
}

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
  // Levels 1 and 2 (tokens, level 1's child ranges and sorted children) before index() reads them; each level's
  // span of children; check_sums() checks the rest on its way, each record before it indexes through it.
  for (std::size_t n = 1; n <= std::min<std::size_t>(2, std::size_t(order)); ++n)
    for (std::uint32_t i = 0; i < out.levels_[n].size; ++i) {
      const std::uint32_t w = token_of(out.record(int(n), i));
      SIMULACRA_CHECK(n == 1 ? w == i : w < std::uint32_t(kVocab), FileError,
                      "quantised n-gram model: level {} entry {} has token {}", n, i, w);
    }
  for (std::size_t n = 1; n < std::size_t(order); ++n) {
    const std::size_t next = out.levels_[n + 1].size;
    const std::uint32_t first = out.child_of(int(n), out.record(int(n), 0));
    const std::uint32_t end = out.child_of(int(n), out.record(int(n), std::uint32_t(out.levels_[n].size)));
    SIMULACRA_CHECK(first == 0 && end == next, FileError,
                    "quantised n-gram model: level {} children span [{}, {}), expected [0, {})", n, first, end, next);
  }
  if (order >= 2) {
    const std::size_t next = out.levels_[2].size;
    for (std::uint32_t i = 0; i < out.levels_[1].size; ++i) {
      const std::uint32_t b = out.child_of(1, out.record(1, i)), e = out.child_of(1, out.record(1, i + 1));
      SIMULACRA_CHECK(b <= e && e <= next, FileError,
                      "quantised n-gram model: level 1 entry {} has child range [{}, {}) (level 2 has {})", i, b, e,
                      next);
      for (std::uint32_t c = b + 1; c < e; ++c)
        SIMULACRA_CHECK(token_of(out.record(2, c - 1)) < token_of(out.record(2, c)), FileError,
                        "quantised n-gram model: level 2 children unsorted at {}", c);
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
// (h' = h without its oldest token; h'w is stored whenever hw is). On the way, each context's child range and
// its children's tokens (in 0..kVocab-1, strictly increasing) before anything indexes through them (from_arrays
// checked levels 1 and 2). FileError for any of these, a stored n-gram whose suffix is not stored, or a sum
// outside 1 +- kSumTolerance.
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
  double root = 0.0;
  for (std::uint32_t w = 0; w < std::uint32_t(kVocab); ++w) root += prob[1][prob_of(record(1, w))];
  max_sum_error_ = std::abs(root - 1.0);
  SIMULACRA_CHECK(max_sum_error_ <= kSumTolerance, FileError,
                  "quantised n-gram model: the unigram distribution sums to {}, not 1 within {}", root, kSumTolerance);
  std::vector<double> sum_prev{root}, sum;
  std::vector<std::uint32_t> suffix(levels_[1].size, 0), next_suffix;  // level-n node -> level-(n-1) node
  // Level n's records as token | probability code << 16, written while level n - 1's children are read: the
  // suffix searches at level n touch each several times, and read the found one's probability.
  std::vector<std::uint32_t> keys(levels_[1].size), next_keys;
  for (std::uint32_t w = 0; w < levels_[1].size; ++w) keys[w] = decode(record(1, w));
  std::vector<double> chunk_error;  // the largest |sum - 1| in each chunk of contexts
  for (int n = 1; n < N; ++n) {
    const std::size_t S = levels_[std::size_t(n)].size, next = levels_[std::size_t(n) + 1].size;
    // The top level's suffixes and keys, and the sums of the contexts below it, are not read again: not stored
    // (the largest arrays, fresh pages that would be faulted in and cleared).
    const bool keep = n + 1 < N;
    if (keep) {
      sum.resize(S);
      next_suffix.resize(next);
      next_keys.resize(next);
    }
    // Contexts in chunks, on the OpenMP threads when the level is large: each context writes only its own sum
    // and its own children's suffixes and keys, so the result is the serial loop's, and so is the first failure.
    // (Choosing backoff codes writes bit fields that share bytes across contexts: serial.)
    const std::size_t chunks = (S + kCheckChunk - 1) / kCheckChunk;
    chunk_error.assign(chunks, 0.0);
    const bool parallel = choose == nullptr && next >= kParallelRecords;
    // What the loop reads, in locals (the compiler keeps them in registers).
    const std::uint8_t* const rec0 = levels_[std::size_t(n) - 1].records;
    const std::uint8_t* const rec1 = levels_[std::size_t(n)].records;
    const std::uint8_t* const rec2 = levels_[std::size_t(n) + 1].records;
    const std::uint64_t w0 = n >= 2 ? std::uint64_t(width_[std::size_t(n) - 1]) : 0;
    const std::uint64_t w1 = std::uint64_t(width_[std::size_t(n)]), w2 = std::uint64_t(width_[std::size_t(n) + 1]);
    const std::uint64_t mask0 = n >= 2 ? child_mask_[std::size_t(n) - 1] : 0, mask1 = child_mask_[std::size_t(n)];
    const double* const prob1 = prob[std::size_t(n)].data();
    const double* const prob2 = prob[std::size_t(n) + 1].data();
    const double* const backoff1 = backoff[std::size_t(n)].data();
    const float* const centres = levels_[std::size_t(n)].backoff;
    const std::uint32_t* const suffix_of = suffix.data();
    std::uint32_t* const next_suffix_of = next_suffix.data();
    const std::uint32_t* const key_at = keys.data();
    std::uint32_t* const next_key_at = next_keys.data();
    const double* const sum_of = sum_prev.data();
    double* const new_sum = sum.data();
    const int level = n;
    const detail::Failure failure = detail::for_each_index(chunks, [&](std::size_t chunk) {
      double worst = 0.0;
      const auto q_end = std::uint32_t(std::min(S, (chunk + 1) * kCheckChunk));
      for (auto q = std::uint32_t(chunk * kCheckChunk); q < q_end; ++q) {
        const std::uint64_t r = bits_at(rec1, q * w1);
        const std::uint32_t b = child_field(r, mask1), e = child_field(bits_at(rec1, (q + 1) * w1), mask1);
        SIMULACRA_CHECK(b <= e && e <= next, FileError,
                        "quantised n-gram model: level {} entry {} has child range [{}, {}) (level {} has {})", level,
                        q, b, e, level + 1, next);
        const std::uint32_t s = suffix_of[q];
        std::uint32_t sb = 0, se = 0;
        if (level >= 3) {
          sb = child_field(bits_at(rec0, s * w0), mask0);
          se = child_field(bits_at(rec0, (s + 1) * w0), mask0);
        }
        double own = 0.0, lower = 0.0;
        std::uint32_t last = 0;  // the previous child's token + 1
        for (std::uint32_t c = b; c < e; ++c) {
          const std::uint64_t rc = bits_at(rec2, c * w2);
          const std::uint32_t w = token_of(rc);
          SIMULACRA_CHECK(w < std::uint32_t(kVocab), FileError, "quantised n-gram model: level {} entry {} has token {}",
                          level + 1, c, w);
          SIMULACRA_CHECK(w >= last, FileError, "quantised n-gram model: level {} children unsorted at {}", level + 1,
                          c);
          last = w + 1;
          if (keep) next_key_at[c] = decode(rc);
          // The children of q and of its suffix are both sorted by token, so each search starts past the last one
          // found; at level 2 the suffix is a token and the bitmap index answers.
          std::uint32_t j;
          if (level == 1) {
            j = w;
          } else if (level == 2) {
            j = find2(s, Token(w));
          } else {
            // Branch-free: the last record of [sb, se) whose token is at most w (the exits of a linear or a
            // branching search are mispredicted at almost every record).
            j = kNone;
            if (sb < se) {
              const std::uint32_t* at = key_at + sb;
              for (std::uint32_t len = se - sb; len > 1;) {
                const std::uint32_t half = len / 2;
                at = (at[half] & 0xFFFF) <= w ? at + half : at;
                len -= half;
              }
              if ((*at & 0xFFFF) == w) j = std::uint32_t(at - key_at);
            }
          }
          SIMULACRA_CHECK(j != kNone, FileError,
                          "quantised n-gram model: level {} entry {} (token {}) has no stored suffix at level {}",
                          level + 1, c, w, level);
          if (level >= 3) sb = j + 1;
          if (keep) next_suffix_of[c] = j;
          own += prob2[prob_of(rc)];
          lower += prob1[key_at[j] >> 16];
        }
        if (choose != nullptr) {
          // Of the two centres either side of the backoff's log, the one that brings the sum nearer 1.
          const double rest = sum_of[s] - lower;
          const double target = (*log_gamma)[std::size_t(level)][q];
          const float* it = std::lower_bound(centres, centres + kCodes, target,
                                             [](float c, double v) { return double(c) < v; });
          std::uint32_t best = 0;
          double best_err = INFINITY;
          for (const float* c : {it - (it != centres), it - (it == centres + kCodes)}) {
            const double err = std::abs(own + std::exp(double(*c)) * rest - 1.0);
            if (err < best_err) best_err = err, best = std::uint32_t(c - centres);
          }
          put_bits((*choose)[std::size_t(level)], std::uint64_t(q) * w1 + 17, best);
        }
        const double g = backoff1[backoff_of(choose != nullptr ? bits_at(rec1, q * w1) : r)];
        const double total = own + g * (sum_of[s] - lower);
        if (keep) new_sum[q] = total;
        const double err = std::abs(total - 1.0);
        worst = std::max(worst, err);
        SIMULACRA_CHECK(err <= kSumTolerance, FileError,
                        "quantised n-gram model: the next-token distribution after level {} entry {} sums to {}, not "
                        "1 within {}",
                        level, q, total, kSumTolerance);  // false for NaN
      }
      chunk_error[chunk] = worst;
    }, parallel);
    if (failure.error) std::rethrow_exception(failure.error);
    for (const double e : chunk_error) max_sum_error_ = std::max(max_sum_error_, e);
    sum_prev.swap(sum);
    suffix.swap(next_suffix);
    keys.swap(next_keys);
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
