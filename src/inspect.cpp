// simulacra/inspect.cpp — raw view, divergence matrix, characteristic tokens.
#include "simulacra/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>

#include <fmt/format.h>

#include "simulacra/background.hpp"
#include "simulacra/error.hpp"
#include "simulacra/interrupt.hpp"
#include "simulacra/ngram.hpp"

namespace simulacra {

namespace {

// Indices 0..n-1 of the `count` largest values, value descending, ties to the lower index.
std::vector<int> top_indices(const Eigen::Ref<const Eigen::VectorXd>& values, int count) {
  std::vector<int> idx(static_cast<std::size_t>(values.size()));
  std::iota(idx.begin(), idx.end(), 0);
  count = std::min(count, static_cast<int>(idx.size()));
  std::partial_sort(idx.begin(), idx.begin() + count, idx.end(), [&](int a, int b) {
    return values[a] > values[b] || (values[a] == values[b] && a < b);
  });
  idx.resize(static_cast<std::size_t>(count));
  return idx;
}

std::vector<TokenProb> top_tokens(const Eigen::VectorXd& probs, int count) {
  std::vector<TokenProb> out;
  for (int v : top_indices(probs, count)) out.push_back({v, probs[v]});
  return out;
}

// Rows of the probability matrices: kVocab, padded with zeros to whole
// packets, so that every column is aligned and no scalar tail is left.
constexpr int kRows = (kVocab + 3) / 4 * 4;

// Calls visit(p, count) for the contexts of `tokens` (read from a document
// start), p (kRows, K) with column k = p_k(. | context), count the number of
// contexts that share it.
//
// When every persona is an n-gram model, contexts are grouped by the joint
// trie context of all personas (which fixes every distribution), each group
// visited once with its count, distributions from next_probs (no log / exp
// round trip). Otherwise each context is visited once, from the personas'
// incremental states (next_logprobs, then exp).

template <typename Visit>
void for_each_context(const Mixture& mixture, const std::vector<Token>& tokens, Visit visit) {
  const int K = mixture.size();
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(kRows, K);
  std::vector<const NGramPersona*> lms;
  for (int k = 0; k < K; ++k)
    if (const auto* lm = dynamic_cast<const NGramPersona*>(&mixture.persona(k))) lms.push_back(lm);

  if (static_cast<int>(lms.size()) < K) {
    std::vector<std::unique_ptr<PersonaState>> states;
    for (int k = 0; k < K; ++k) states.push_back(mixture.persona(k).begin());
    InterruptPoller poll(256);  // a context costs K distributions and the visit
    for (Token token : tokens) {
      poll.tick();
      for (int k = 0; k < K; ++k) {
        auto col = p.col(k).head(kVocab);
        states[std::size_t(k)]->next_logprobs(col);
        col = col.array().exp();
      }
      visit(p, 1.0);
      for (auto& state : states) state->advance(token);
    }
    return;
  }

  std::vector<NGramPersona::Cursor> cursors;
  std::size_t key_size = 0;  // uint32 node ids in a joint context
  for (const auto* lm : lms) {
    cursors.emplace_back(*lm);
    key_size += std::size_t(lm->order());
  }
  // Distinct joint contexts (the personas' node ids, concatenated), in order of appearance.
  std::unordered_map<std::string, std::size_t> index;
  std::vector<const std::string*> keys;
  std::vector<double> counts;
  std::string key(key_size * sizeof(std::uint32_t), '\0');
  InterruptPoller poll;
  for (Token token : tokens) {
    poll.tick();
    std::size_t at = 0;
    for (int k = 0; k < K; ++k) {
      const std::size_t bytes = std::size_t(lms[std::size_t(k)]->order()) * sizeof(std::uint32_t);
      std::memcpy(&key[at], cursors[std::size_t(k)].context(), bytes);
      at += bytes;
    }
    const auto [it, fresh] = index.emplace(key, counts.size());
    if (fresh) {
      keys.push_back(&it->first);
      counts.push_back(0.0);
    }
    counts[it->second] += 1.0;
    for (auto& cursor : cursors) cursor.advance(token);
  }
  std::vector<std::uint32_t> ctx(key_size);
  InterruptPoller group_poll(256);
  for (std::size_t g = 0; g < keys.size(); ++g) {
    group_poll.tick();
    std::memcpy(ctx.data(), keys[g]->data(), key_size * sizeof(std::uint32_t));
    std::size_t at = 0;
    for (int k = 0; k < K; ++k) {
      lms[std::size_t(k)]->next_probs(ctx.data() + at, p.col(k).head(kVocab));
      at += std::size_t(lms[std::size_t(k)]->order());
    }
    visit(p, counts[g]);
  }
}

// Smallest normal double: probabilities are floored here before a log, so
// that 0 log 0 = 0 without a (non-vectorised) select.
constexpr double kFloor = std::numeric_limits<double>::min();

// sum_v p_v log p_v with 0 log 0 = 0.
template <typename Derived>
double neg_entropy(const Eigen::ArrayBase<Derived>& p) {
  return (p * p.max(kFloor).log()).sum();
}

// Whether `lm` saw token v in its training text: its unigram (dense, one
// node per token) has a positive discounted term exactly when its adjusted
// count is >= 1 (every discount D(a) is below a, or the fallback's are). The
// boundary ends every document, but above order 1 its unigram holds no mass
// of its own: it is always seen.
bool seen_in_training(const NGramPersona& lm, Token v) {
  return v == kBoundary || lm.levels()[1].node[std::size_t(v)].disc > 0.0;
}

// The n-gram model whose training text a persona's support is read from: the
// persona itself, or the own model of a persona interpolated with a shared
// background (background.hpp: the background saw every persona's text, so
// it says nothing of what this one saw). Null for other kinds.
const NGramPersona* own_ngram(const Persona& persona) {
  if (const auto* lm = dynamic_cast<const NGramPersona*>(&persona)) return lm;
  if (const auto* ip = dynamic_cast<const InterpolatedPersona*>(&persona))
    return dynamic_cast<const NGramPersona*>(ip->own().get());
  return nullptr;
}

}  // namespace

// ===================================================================== raw view

RawView raw_view(const Mixture& mixture, const std::string& context, int top_k, const Steering& steering) {
  SIMULACRA_CHECK(top_k >= 1, InvalidArgument, "raw_view: top_k must be >= 1, got {}", top_k);
  top_k = std::min(top_k, kVocab);
  const Prediction pred = mixture.predict(context, steering);
  RawView view;
  // Scalar exp: Eigen's vectorised exp may map -inf (an excluded mask) to a denormal, not to 0.
  view.weights = pred.log_weights.unaryExpr([](double lw) { return std::exp(lw); });
  for (int k = 0; k < mixture.size(); ++k) {
    Eigen::VectorXd probs = pred.persona_logprobs.row(k).transpose();  // contiguous, as the persona's own
    probs = probs.array().exp();
    view.personas.push_back(top_tokens(probs, top_k));
  }
  const Eigen::VectorXd mix = pred.logprobs.array().exp();
  view.mixture = top_tokens(mix, top_k);
  return view;
}

std::string format_raw_view(const RawView& view, const std::vector<std::string>& names) {
  const std::size_t K = view.personas.size();
  SIMULACRA_CHECK(names.size() == K, InvalidArgument, "format_raw_view: {} names for {} personas", names.size(), K);
  SIMULACRA_CHECK(view.weights.size() == static_cast<Eigen::Index>(K), InvalidArgument,
                  "format_raw_view: {} weights for {} personas", view.weights.size(), K);
  // columns[c][0] is the header, columns[c][1 + r] the cell of rank r.
  std::vector<std::vector<std::string>> columns(K + 2);
  std::size_t rows = view.mixture.size();
  for (const auto& list : view.personas) rows = std::max(rows, list.size());
  columns[0].push_back("rank");
  for (std::size_t r = 0; r < rows; ++r) columns[0].push_back(fmt::format("{}", r + 1));
  auto fill = [rows](std::vector<std::string>& column, const std::vector<TokenProb>& list) {
    for (std::size_t r = 0; r < rows; ++r)
      column.push_back(r < list.size() ? fmt::format("{:<4} {:.4f}", token_name(list[r].token), list[r].prob) : "");
  };
  for (std::size_t k = 0; k < K; ++k) {
    columns[k + 1].push_back(fmt::format("{} (w={:.4f})", names[k], view.weights[static_cast<Eigen::Index>(k)]));
    fill(columns[k + 1], view.personas[k]);
  }
  columns[K + 1].push_back("mixture");
  fill(columns[K + 1], view.mixture);

  std::vector<std::size_t> width;
  for (const auto& column : columns) {
    std::size_t w = 0;
    for (const auto& cell : column) w = std::max(w, cell.size());
    width.push_back(w);
  }
  std::string out;
  for (std::size_t r = 0; r <= rows; ++r) {
    std::string line;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c > 0) line += " | ";
      line += c == 0 ? fmt::format("{:>{}}", columns[c][r], width[c]) : fmt::format("{:<{}}", columns[c][r], width[c]);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (r == 0) {
      std::string rule;
      for (std::size_t c = 0; c < columns.size(); ++c) rule += (c > 0 ? "-+-" : "") + std::string(width[c], '-');
      out += rule + "\n";
    }
  }
  return out;
}

// ================================================================= divergence

Eigen::MatrixXd divergence_matrix(const Mixture& mixture, const std::string& text) {
  SIMULACRA_CHECK(!text.empty(), InvalidArgument, "divergence_matrix: text is empty");
  const int K = mixture.size();
  const std::vector<Token> tokens = encode(text);
  Eigen::MatrixXd total = Eigen::MatrixXd::Zero(K, K);  // upper triangle: sum_t JS
  Eigen::VectorXd neg_h(K);                             // (K) sum_v p log p of this context
  Eigen::ArrayXd m(kRows);
  for_each_context(mixture, tokens, [&](const Eigen::MatrixXd& p, double count) {
    // Columns are aligned and padded like m: identical personas give bitwise identical sums.
    for (int k = 0; k < K; ++k) neg_h[k] = neg_entropy(p.col(k).array());
    for (int i = 0; i < K; ++i)
      for (int j = i + 1; j < K; ++j) {
        m = 0.5 * (p.col(i).array() + p.col(j).array());
        // JS = H(m) - (H(p_i) + H(p_j)) / 2 = (neg_h_i + neg_h_j) / 2 - neg_h(m)
        total(i, j) += count * (0.5 * (neg_h[i] + neg_h[j]) - neg_entropy(m));
      }
  });
  Eigen::MatrixXd js = Eigen::MatrixXd::Zero(K, K);
  const double ln2 = std::log(2.0);
  for (int i = 0; i < K; ++i)
    for (int j = i + 1; j < K; ++j)
      js(i, j) = js(j, i) = std::clamp(total(i, j) / static_cast<double>(tokens.size()), 0.0, ln2);
  return js;
}

// ============================================================ characteristic

std::vector<std::vector<TokenScore>> characteristic_tokens(const Mixture& mixture, const std::string& text, int n,
                                                           double min_count) {
  SIMULACRA_CHECK(n >= 1, InvalidArgument, "characteristic_tokens: n must be >= 1, got {}", n);
  SIMULACRA_CHECK(min_count >= 0.0, InvalidArgument, "characteristic_tokens: min_count must be >= 0, got {}",
                  min_count);
  SIMULACRA_CHECK(!text.empty(), InvalidArgument, "characteristic_tokens: text is empty");
  const int K = mixture.size();
  const std::vector<Token> tokens = encode(text);
  Eigen::MatrixXd expected = Eigen::MatrixXd::Zero(kRows, K);  // (kRows, K) E_k(v) = sum_t p_k(v | c_t)
  for_each_context(mixture, tokens, [&](const Eigen::MatrixXd& p, double count) { expected += count * p; });
  const Eigen::ArrayXd log_mean = expected.topRows(kVocab).rowwise().mean().array().max(kFloor).log();  // log Ebar
  std::vector<std::vector<TokenScore>> out(static_cast<std::size_t>(K));
  for (int k = 0; k < K; ++k) {
    const NGramPersona* lm = own_ngram(mixture.persona(k));
    Eigen::VectorXd score(kVocab);  // -inf: no support
    for (int v = 0; v < kVocab; ++v) {
      const double e = expected(v, k);
      const bool support = e >= min_count && e > 0.0 && (lm == nullptr || seen_in_training(*lm, v));
      score[v] = support ? std::log(e) - log_mean[v] : -INFINITY;
    }
    for (int v : top_indices(score, std::min(n, kVocab)))
      if (score[v] > 0.0) out[std::size_t(k)].push_back({v, score[v]});
  }
  return out;
}

}  // namespace simulacra
