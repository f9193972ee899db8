// bind_analysis.cpp — experiments on the pile of masks, as methods of
// Mixture: the superposition vote (vote.hpp) and mask swaps (switch_evidence.hpp), Viterbi
// attribution of a text to masks (attribution.hpp), and the raw view,
// divergence matrix and characteristic tokens (inspect.hpp).
//
// Tokens in result lists are `bytes`: one byte for tokens 0..255, b"" for the
// document boundary (256).
#include <algorithm>
#include <cmath>
#include <optional>

#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// ------------------------------------------------------------------ results

// The bytes of one token: its byte, or b"" for the boundary.
py::bytes token_bytes(Token t) { return t == kBoundary ? py::bytes("") : py::bytes(std::string(1, char(t))); }

template <class Item, class Value>
py::list token_list(const std::vector<Item>& items, Value value) {
  py::list out;
  for (const auto& item : items) out.append(py::make_tuple(token_bytes(item.token), value(item)));
  return out;
}

py::object count_or_none(long t) { return t < 0 ? py::object(py::none()) : py::object(py::int_(t)); }

struct VoteResult {
  Vote vote;
  std::vector<std::string> options;
  std::vector<std::string> names;
};

struct AttributionResult {
  Attribution attribution;
  std::vector<std::string> names;
};

struct RawViewResult {
  RawView view;
  std::vector<std::string> names;
};

std::string evidence_repr(const SwitchEvidence& e) {
  const std::string last = e.weight_b.empty() ? "None" : fmt::format("{:.4f}", e.weight_b.back());
  return fmt::format("SwitchEvidence(tokens={}, tokens_to_half={}, tokens_to_90={}, final_weight_b={})",
                     e.weight_b.size(), e.tokens_to_half < 0 ? "None" : std::to_string(e.tokens_to_half),
                     e.tokens_to_90 < 0 ? "None" : std::to_string(e.tokens_to_90), last);
}

}  // namespace

void bind_analysis(py::module_& m) {
  // ---------------------------------------------------------------- vote
  py::class_<VoteResult>(m, "Vote", R"doc(
The answer of every persona, and of the mixture, to one multiple-choice
question (Mixture.vote). K personas, M options; natural logs; arrays float32.
Three readings of the pile, each summing to 1 over the options: mixture_choice
(the linear pool), per_byte_choice (length-normalised) and plurality (the
weight of the masks whose own answer each option is). repr() is a table of them.
)doc")
      .def_property_readonly(
          "persona_logprobs", [](const VoteResult& r) { return f32(r.vote.persona_logprobs); },
          "(K, M) log p_k(option | prompt) of each persona alone, summed over the option's tokens.")
      .def_property_readonly(
          "mixture_logprobs", [](const VoteResult& r) { return f32(r.vote.mixture_logprobs); },
          "(M,) log p(option | prompt) under the (steered) mixture.")
      .def_property_readonly(
          "persona_choice", [](const VoteResult& r) { return f32(r.vote.persona_choice); },
          "(K, M) each persona's option probabilities, normalised over the options.")
      .def_property_readonly(
          "mixture_choice", [](const VoteResult& r) { return f32(r.vote.mixture_choice); },
          "(M,) the linear pool: the mixture's option probabilities, normalised over the options (with beta = 1, "
          "no switching and no product steering exactly sum_k w_k p_k(option), w = prompt_weights).")
      .def_property_readonly(
          "prompt_weights", [](const VoteResult& r) { return f32(r.vote.prompt_weights); },
          "(K,) steered persona weights after reading the prompt.")
      .def_property_readonly(
          "per_byte_logprobs", [](const VoteResult& r) { return f32(r.vote.per_byte_logprobs); },
          "(M,) mixture_logprobs divided by each option's length in bytes.")
      .def_property_readonly(
          "per_byte_choice", [](const VoteResult& r) { return f32(r.vote.per_byte_choice); },
          "(M,) exp(per_byte_logprobs) normalised over the options: the pool with length taken out.")
      .def_property_readonly(
          "persona_answers", [](const VoteResult& r) { return i32(r.vote.persona_answers); },
          "(K,) int32 each persona's own answer: the index of its most likely option (ties: the lower index).")
      .def_property_readonly(
          "plurality", [](const VoteResult& r) { return f32(r.vote.plurality); },
          "(M,) the weight-weighted plurality: the sum of prompt_weights over the personas answering each option.")
      .def_property_readonly(
          "options", [](const VoteResult& r) { return name_list(r.options); }, "The options (columns).")
      .def_property_readonly(
          "personas", [](const VoteResult& r) { return name_list(r.names); }, "The persona names (rows).");

  // ---------------------------------------------------------------- mask swaps
  py::class_<SwitchEvidence>(m, "SwitchEvidence", "The weight of persona b while the mixture reads text_b after text_a.")
      .def_property_readonly(
          "weight_b",
          [](const SwitchEvidence& e) {
            return f32(Eigen::Map<const Eigen::VectorXd>(e.weight_b.data(), Eigen::Index(e.weight_b.size())));
          },
          "(T_b,) float32 weight of persona b before each token of text_b (weight_b[0]: after all of text_a).")
      .def_property_readonly(
          "tokens_to_half", [](const SwitchEvidence& e) { return count_or_none(e.tokens_to_half); },
          "First t with weight_b[t] > 0.5, or None if never.")
      .def_property_readonly(
          "tokens_to_90", [](const SwitchEvidence& e) { return count_or_none(e.tokens_to_90); },
          "First t with weight_b[t] > 0.9, or None if never.")
      .def("__len__", [](const SwitchEvidence& e) { return e.weight_b.size(); })
      .def("__repr__", &evidence_repr);

  // ---------------------------------------------------------------- attribution
  py::class_<AttributionResult>(m, "Attribution", "Who spoke when: the Viterbi attribution of a text to masks.")
      .def_property_readonly(
          "path", [](const AttributionResult& r) { return i32(r.attribution.path); },
          "(T,) int32 most likely persona per token (Viterbi).")
      .def_property_readonly(
          "spans",
          [](const AttributionResult& r) {
            py::list out;
            for (const Span& s : r.attribution.spans)
              out.append(py::make_tuple(s.begin, s.end, name_str(r.names[std::size_t(s.persona)])));
            return out;
          },
          "The path as maximal runs (begin, end, persona name), tiling [0, T) in order.")
      .def_property_readonly(
          "log_joint", [](const AttributionResult& r) { return r.attribution.log_joint; },
          "Natural-log p(path, tokens) of the best path.")
      .def_property_readonly(
          "filtered", [](const AttributionResult& r) { return i32(r.attribution.filtered); },
          "(T,) int32 online dominant persona before each token (as Trace.dominant).")
      .def_property_readonly(
          "personas", [](const AttributionResult& r) { return name_list(r.names); }, "The persona names.")
      .def("__len__", [](const AttributionResult& r) { return r.attribution.path.size(); })
      .def("__repr__", [](const AttributionResult& r) {
        std::string spans;
        for (std::size_t i = 0; i < r.attribution.spans.size(); ++i) {
          if (i == 8) {
            spans += fmt::format(", ... ({} more)", r.attribution.spans.size() - i);
            break;
          }
          const Span& s = r.attribution.spans[i];
          spans += fmt::format("{}[{}, {}) {}", i ? ", " : "", s.begin, s.end, r.names[std::size_t(s.persona)]);
        }
        return readable(fmt::format("Attribution(tokens={}, log_joint={:.4f}, spans: {})", r.attribution.path.size(),
                                    r.attribution.log_joint, spans));
      });

  // ---------------------------------------------------------------- raw view
  py::class_<RawViewResult>(m, "RawView", R"doc(
What every mask and the pile would say next after a context (Mixture.raw_view).
Tokens are bytes (b"" for the document boundary); probabilities are linear.
str() is an aligned table.
)doc")
      .def_property_readonly(
          "weights", [](const RawViewResult& r) { return f32(r.view.weights); },
          "(K,) float32 steered weights after the context.")
      .def_property_readonly(
          "personas",
          [](const RawViewResult& r) {
            py::dict out;
            for (std::size_t k = 0; k < r.names.size(); ++k)
              out[name_str(r.names[k])] = token_list(r.view.personas[k], [](const TokenProb& p) { return p.prob; });
            return out;
          },
          "{name: [(token bytes, prob), ...]} each persona's top tokens, most likely first.")
      .def_property_readonly(
          "mixture", [](const RawViewResult& r) { return token_list(r.view.mixture, [](const TokenProb& p) { return p.prob; }); },
          "[(token bytes, prob), ...] the mixture's top tokens, most likely first.")
      .def("__str__", [](const RawViewResult& r) { return readable(format_raw_view(r.view, r.names)); })
      .def("__repr__", [](const RawViewResult& r) { return readable(format_raw_view(r.view, r.names)); });

  // ---------------------------------------------------------------- methods of Mixture
  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def(
          "vote",
          [](const Mixture& mix, const Text& prompt, const std::vector<Text>& options, py::handle clamp,
             py::handle exclude, py::handle prior_bias, py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            VoteResult r{{}, texts_of(options), mix.names()};
            {
              py::gil_scoped_release release;
              r.vote = vote(mix, prompt.bytes, r.options, s);
            }
            return r;
          },
          py::arg("prompt"), py::arg("options"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "The superposition vote: each persona alone and the mixture score every option as a continuation of "
          "`prompt` (read from a document start, no boundaries); the pile's answer in three readings (linear "
          "pool, per byte, plurality). ValueError for no options or an empty option.")
      .def(
          "switch_evidence",
          [](const Mixture& mix, py::handle a, py::handle b, const Text& text_a, const Text& text_b) {
            const int ia = persona_key(mix, a, "a"), ib = persona_key(mix, b, "b");
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            return switch_evidence(*seen, ia, ib, text_a.bytes, text_b.bytes);
          },
          py::arg("a"), py::arg("b"), py::arg("text_a"), py::arg("text_b"),
          "A mask swap: persona b's weight before each token of text_b, read after text_a as one stream from a "
          "document start (the mixture's own switching, no steering).")
      .def(
          "switch_asymmetry",
          [](const Mixture& mix, py::handle a, py::handle b, const Text& text_a, const Text& text_b) {
            const int ia = persona_key(mix, a, "a"), ib = persona_key(mix, b, "b");
            const SeenMixture seen(mix);
            py::gil_scoped_release release;
            return switch_asymmetry(*seen, ia, ib, text_a.bytes, text_b.bytes);
          },
          py::arg("a"), py::arg("b"), py::arg("text_a"), py::arg("text_b"),
          "Both directions of a swap: (switch_evidence(a, b, text_a, text_b), switch_evidence(b, a, text_b, text_a)).")
      .def(
          "attribute_spans",
          [](const Mixture& mix, py::handle text) {
            const std::vector<Token> tokens = tokens_arg(text, "text");
            AttributionResult r{{}, mix.names()};
            const SeenMixture seen(mix);
            {
              py::gil_scoped_release release;
              r.attribution = attribute_spans(*seen, tokens);
            }
            return r;
          },
          py::arg("text"),
          "Who spoke when: the Viterbi path of masks for a text (its bytes, or a sequence of tokens) under the prior "
          "and switching rule, read as an HMM. ValueError with switching='forgetting'.")
      .def(
          "raw_view",
          [](const Mixture& mix, const Text& context, int top_k, py::handle clamp, py::handle exclude,
             py::handle prior_bias, py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            RawViewResult r{{}, mix.names()};
            {
              py::gil_scoped_release release;
              r.view = raw_view(mix, context.bytes, top_k, s);
            }
            return r;
          },
          py::arg("context") = Text{}, py::arg("top_k") = 10, py::arg("clamp") = py::none(),
          py::arg("exclude") = py::none(), py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "Speak to the shoggoth: after `context`, each persona's and the mixture's top_k next tokens with the "
          "weights. ValueError for top_k < 1.")
      .def(
          "divergence_matrix",
          [](const Mixture& mix, const Text& text) {
            Eigen::MatrixXd d;
            {
              py::gil_scoped_release release;
              d = divergence_matrix(mix, text.bytes);
            }
            return f64(d);
          },
          py::arg("text"),
          "(K, K) float64 Jensen-Shannon divergences (nats) between the personas' next-token distributions, "
          "averaged over the contexts of `text`. ValueError for an empty text.")
      .def(
          "characteristic_tokens",
          [](const Mixture& mix, const Text& text, int n, double min_count) {
            std::vector<std::vector<TokenScore>> lists;
            {
              py::gil_scoped_release release;
              lists = characteristic_tokens(mix, text.bytes, n, min_count);
            }
            py::dict out;
            for (std::size_t k = 0; k < lists.size(); ++k)
              out[name_str(mix.names()[k])] = token_list(lists[k], [](const TokenScore& s) { return s.score; });
            return out;
          },
          py::arg("text"), py::arg("n") = 10, py::arg("min_count") = kCharacteristicMinCount,
          "{name: [(token bytes, score), ...]} each persona's (at most) n tokens it would emit most often relative "
          "to the average of all personas over the contexts of `text` (log-ratio of expected counts, nats), highest "
          "first, among tokens with support: an expected count >= min_count and, for an n-gram persona, seen in its "
          "training text; positive scores only. ValueError for n < 1, min_count < 0 or NaN, or an empty text.");
}

}  // namespace simulacra::python
