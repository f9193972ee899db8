// simulacra/inspect.hpp — looking under the masks.
//
// Three views of a pile of masks, all in natural logs:
//
//  * raw_view ("speak to the shoggoth"): after a context, every persona's own
//    next-token distribution side by side with the weights and the mixture's,
//    each as its top_k tokens, so that a reader sees what each mask would say
//    and which one is speaking.
//  * divergence_matrix: how different the masks are, as the Jensen-Shannon
//    divergence of their next-token distributions averaged over the contexts
//    of a text.
//  * characteristic_tokens: what makes each mask itself, as the tokens it
//    would emit most often relative to the average of all masks on a text,
//    among the tokens it has real support for.
//
// The "contexts of a text" are the T prefixes read from a document start:
// before token t (t = 0..T-1) of encode(text), the context is tokens 0..t-1
// (the first context is the document start itself). No end boundary is added.
//
//   auto view = simulacra::raw_view(mix, "Arr, the sea", 5);
//   std::cout << simulacra::format_raw_view(view, mix.names());
//   Eigen::MatrixXd js = simulacra::divergence_matrix(mix, text);   // (K, K)
//   auto favourites = simulacra::characteristic_tokens(mix, text, 10);
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "simulacra/mixture.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// ===================================================================== raw view

// One token with its probability (linear, not log).
struct TokenProb {
  Token token;
  double prob;
};

// What every mask and the pile would say next.
struct RawView {
  Eigen::VectorXd weights;                       // (K) steered weights after the context (probabilities, sum 1)
  std::vector<std::vector<TokenProb>> personas;  // K lists: persona k's top_k next tokens, most likely first
  std::vector<TokenProb> mixture;                // the mixture's top_k next tokens, most likely first
};

// Reads `context` (its bytes, from a document start, no end boundary) with a
// MixtureState under `steering`, then reports exp(log_weights) and the top_k
// tokens of each persona's distribution p_k(. | context) and of the mixture's
// p(. | context). Lists are sorted by probability, descending; ties go to the
// lower token id. top_k larger than kVocab is clamped to kVocab.
// Throws InvalidArgument for top_k < 1, and what Mixture::check throws for a
// bad steering request.
RawView raw_view(const Mixture& mixture, const std::string& context, int top_k = 10, const Steering& steering = {});

// One aligned text table of a raw view: a header row with each persona's name
// and weight and a "mixture" column, then one row per rank, each cell the
// token (token_name) and its probability. names must hold one name per
// persona of the view; InvalidArgument otherwise.
std::string format_raw_view(const RawView& view, const std::vector<std::string>& names);

// ================================================================= divergence

// (K, K) symmetric matrix of Jensen-Shannon divergences between the personas'
// next-token distributions, averaged over the T contexts of `text`:
//
//   D(i, j) = (1/T) sum_t JS(p_i(. | c_t), p_j(. | c_t))
//   JS(p, q) = H(m) - (H(p) + H(q)) / 2,   m = (p + q) / 2,   H(p) = -sum_v p_v log p_v
//
// in nats, each entry in [0, ln 2] (0 log 0 = 0), zero on the diagonal.
// Two personas with identical distributions give exactly 0.
// Cost: one pass over the text with one reader per persona, O(T K^2 kVocab).
// Throws InvalidArgument for empty text.
Eigen::MatrixXd divergence_matrix(const Mixture& mixture, const std::string& text);

// ============================================================ characteristic

// One token with a score (nats).
struct TokenScore {
  Token token;
  double score;
};

// Each persona's most characteristic next tokens over the T contexts of
// `text`: the tokens it would emit more often than the average of all
// personas would (uniform prior, not the mixture's prior or posterior), among
// the tokens it has real support for. With E_k(v) = sum_t p_k(v | c_t), the
// number of times persona k expects to emit v over the text's contexts, and
// Ebar(v) = (1/K) sum_j E_j(v), the score is the log-ratio of expected counts
//
//   s_k(v) = log E_k(v) - log Ebar(v)      (nats; exp(s) = "k emits v exp(s) times as often")
//
// A candidate must have support: E_k(v) >= min_count (a count floor: a
// ratio of counts that small is noise; 5 is the usual rule of thumb for an
// expected count, as in a chi-square test), and, for an NGramPersona (or one
// interpolated with a background: its own model), v must occur in its
// training text (adjusted unigram count >= 1; the boundary
// ends every document and always has support; a persona of
// another kind has no counts, and the expected-count floor alone applies).
// Only positive scores are listed: a token the persona emits less often than
// the average is not characteristic of it. Without the support a sparse
// persona's list fills with bytes it never saw: its smoothing leaks more
// uniform mass than the others', so every unseen byte has the same positive
// ratio (an average log-ratio of the probabilities, without support, lists
// control bytes first for a Shakespeare speaker: docs/inspection.md).
//
// Returns K lists of at most min(n, kVocab) tokens (fewer when fewer have
// support and a positive score), highest score first, ties to the lower token
// id. Throws InvalidArgument for n < 1, a min_count that is NaN or < 0, or an
// empty text.
constexpr double kCharacteristicMinCount = 5.0;  // the default count floor of characteristic_tokens
std::vector<std::vector<TokenScore>> characteristic_tokens(const Mixture& mixture, const std::string& text,
                                                           int n = 10, double min_count = kCharacteristicMinCount);

}  // namespace simulacra
