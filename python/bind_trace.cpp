// bind_trace.cpp — traces and scores of a text under the pile (Mixture::trace,
// score, bits_per_byte, perplexity and the per-persona scores).
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// A result array built on first access, then handed out read-only.
template <class Make>
py::object cached(py::object& slot, Make make) {
  if (!slot) slot = frozen(make());
  return slot;
}

struct TraceResult {
  Trace trace;
  std::vector<Token> tokens;
  std::vector<std::string> names;
  std::shared_ptr<const Mixture> mixture;  // the pile as it was when traced (personas shared): for to_html's views
  py::object weights, log_weights, persona_logprobs, logprobs, entropy, dominant, token_array;
};

}  // namespace

void bind_trace(py::module_& m) {
  // ---------------------------------------------------------------- trace
  py::class_<TraceResult>(m, "Trace", R"doc(
The inspection record of a text: one row per token (the text's bytes, no end
boundary). Arrays are read-only float32 unless noted; natural logs.
)doc")
      .def_property_readonly(
          "weights", [](TraceResult& r) { return cached(r.weights, [&] { return weights_of(r.trace.log_weights); }); },
          "(T, K) weight of each persona before each token (steered).")
      .def_property_readonly(
          "log_weights", [](TraceResult& r) { return cached(r.log_weights, [&] { return f32(r.trace.log_weights); }); },
          "(T, K) natural-log weights before each token.")
      .def_property_readonly(
          "persona_logprobs",
          [](TraceResult& r) { return cached(r.persona_logprobs, [&] { return f32(r.trace.persona_logprobs); }); },
          "(T, K) log p_k(x_t | x_<t) of each persona.")
      .def_property_readonly(
          "logprobs", [](TraceResult& r) { return cached(r.logprobs, [&] { return f32(r.trace.logprobs); }); },
          "(T,) log p(x_t | x_<t) under the mixture.")
      .def_property_readonly(
          "entropy", [](TraceResult& r) { return cached(r.entropy, [&] { return f32(r.trace.entropy); }); },
          "(T,) entropy of the weights before each token, nats.")
      .def_property_readonly(
          "dominant", [](TraceResult& r) { return cached(r.dominant, [&] { return i32(r.trace.dominant); }); },
          "(T,) int32: the persona with the largest weight before each token.")
      .def_property_readonly(
          "tokens", [](TraceResult& r) { return cached(r.token_array, [&] { return i32(r.tokens); }); },
          "(T,) int32: the traced tokens.")
      .def_property_readonly(
          "text", [](const TraceResult& r) { return py::bytes(decode(r.tokens)); },
          "The traced bytes (a boundary token shows as a newline).")
      .def_property_readonly(
          "personas", [](const TraceResult& r) { return name_list(r.names); }, "The persona names (columns).")
      .def_property_readonly(
          "total_logprob", [](const TraceResult& r) { return r.trace.total_logprob(); },
          "Natural-log probability of all traced tokens under the mixture (float64 sum).")
      .def(
          "to_html",
          [](const TraceResult& r, const std::optional<Path>& path, const std::string& title, std::size_t chart_columns,
             bool views) -> py::object {
            TraceHtmlOptions options;
            options.title = title;
            options.chart_columns = chart_columns;
            std::string page;
            {
              py::gil_scoped_release release;
              const TraceViews v = views && r.mixture ? trace_views(*r.mixture, r.tokens, r.trace) : TraceViews{};
              if (path)
                write_trace_html(path->bytes, r.tokens, r.names, r.trace, v, options);
              else
                page = trace_html(r.tokens, r.names, r.trace, v, options);
            }
            if (path) return py::none();
            return py::str(page);
          },
          py::arg("path") = py::none(), py::kw_only(), py::arg("title") = "simulacra trace",
          py::arg("chart_columns") = 2000, py::arg("views") = true,
          "The trace explorer: one self-contained HTML page (no network) with the text coloured by mask in the "
          "filtered, smoothed and Viterbi views, every mask's weight on hover, a stacked chart of the weights and a "
          "table per mask (simulacra/trace_html.hpp). The smoothed and Viterbi views come from the mixture as it was "
          "when traced (none under switching 'forgetting', or with views=False). Writes the page to `path` "
          "atomically, or returns it as a str when path is None.")
      .def(
          "summary",
          [](const TraceResult& r) {
            const TraceSummary s = summarize(r.trace);
            py::dict out;
            out["tokens"] = s.tokens;
            out["total_logprob"] = s.total_logprob;
            out["bits_per_token"] = s.bits_per_token;
            out["leader_changes"] = s.leader_changes;
            for (const auto& [key, v] : {std::pair<const char*, const Eigen::VectorXd*>{"lead_share", &s.lead_share},
                                         {"mean_weight", &s.mean_weight},
                                         {"final_weight", &s.final_weight}}) {
              py::dict per;
              for (Eigen::Index k = 0; k < v->size(); ++k) per[name_str(r.names[std::size_t(k)])] = (*v)[k];
              out[key] = per;
            }
            return out;
          },
          "The trace in a few numbers (simulacra::summarize): tokens, total_logprob (nats), bits_per_token, "
          "leader_changes, and per persona name lead_share (share of tokens it leads), mean_weight and "
          "final_weight (before the last token; empty for an empty trace).")
      .def("__len__", [](const TraceResult& r) { return r.trace.size(); });

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture
      .def(
          "trace",
          [](const Mixture& mix, py::handle text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            TraceResult r;
            r.tokens = tokens_arg(text, "text");
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            r.names = mix.names();
            r.mixture = std::make_shared<const Mixture>(*SeenMixture(mix));  // an ablation context included, as smooth() sees it
            {
              py::gil_scoped_release release;
              r.trace = mix.trace(r.tokens, s);
            }
            return r;
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "The trace of a text read from a document start: its bytes (str / bytes), or a sequence of tokens (where "
          "256 marks a document boundary). No end boundary is added.")
      .def(
          "score",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.score(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(), "Natural-log probability of a document (its bytes and the end boundary).")
      .def(
          "bits_per_byte",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.bits_per_byte(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "-score / (bytes * ln 2): bits per byte of a document, the end boundary's cost included. ValueError for "
          "an empty text.")
      .def(
          "perplexity",
          [](const Mixture& mix, const Text& text, py::handle clamp, py::handle exclude, py::handle prior_bias,
             py::handle product) {
            const Steering s = make_steering(mix, clamp, exclude, prior_bias, product);
            py::gil_scoped_release release;
            return mix.perplexity(text.bytes, s);
          },
          py::arg("text"), py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
          py::arg("prior_bias") = py::none(), py::arg("product") = py::none(),
          "exp(-score / (bytes + 1)): per-token perplexity of a document, the end boundary counted as a token.")
      .def(
          "persona_perplexity",
          [](const Mixture& mix, const Text& text) {
            Eigen::VectorXd ppl;
            {
              py::gil_scoped_release release;
              ppl = mix.persona_perplexity(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = ppl[k];
            return out;
          },
          py::arg("text"), "Per-token perplexity of the document under each persona alone: {name: perplexity}.")
      .def(
          "persona_bits_per_byte",
          [](const Mixture& mix, const Text& text) {
            Eigen::VectorXd bits;
            {
              py::gil_scoped_release release;
              bits = mix.persona_bits_per_byte(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = bits[k];
            return out;
          },
          py::arg("text"), "Bits per byte of the document under each persona alone: {name: bits}.");
}

}  // namespace simulacra::python
