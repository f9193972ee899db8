// bind_ngram.cpp — the persona interface, the Kneser-Ney n-gram persona and a
// persona interpolated with a shared background (persona.hpp, ngram.hpp,
// background.hpp).
#include "bind_common.hpp"
#include "python_persona.hpp"
#include "simulacra/arpa.hpp"
#include "simulacra/ngram_compact.hpp"
#include "simulacra/ngram_quant.hpp"

namespace simulacra::python {

void bind_ngram(py::module_& m) {
  py::class_<Persona, PersonaTrampoline, std::shared_ptr<Persona>>(m, "Persona", R"doc(
A mask: a next-token model p_k(x_t | x_<t) over the 257 tokens (bytes and the
document boundary). All log-probabilities are natural logs.

Any model can be a mask (docs/python.md, "Any model as a mask"): subclass
Persona, or pass any object with the same methods, and define

    next_logprobs(context) -> (257,) log-probabilities of the next token, given
        context, a numpy int32 array of the current document's tokens so far
    token_logprobs(tokens) -> (n,) log p of each token of one document from its
        start (optional, the fast path; the boundary 256 only as the last token)
    kind -> str (optional; "python")

    class Uniform(simulacra.Persona):
        def next_logprobs(self, context):
            return np.full(257, -np.log(257))

    pile = simulacra.Mixture([Uniform(), pirate], ["uniform", "pirate"])
)doc")
      .def(py::init<>(), "The base of a persona written in Python (define next_logprobs(context)).")
      .def_property_readonly("kind", &Persona::kind, "The model family: 'ngram', ...")
      .def(
          "score",
          [](const Persona& p, const Text& text) {
            const std::vector<Token> doc = encode_document(text.bytes);
            py::gil_scoped_release release;
            double total = 0.0;
            for (double lp : p.token_logprobs(doc)) total += lp;
            return total;
          },
          py::arg("text"), "log p(text + end boundary | document start): the log-probability of one document.")
      .def(
          "token_logprobs",
          [](const Persona& p, const Text& text) {
            const std::vector<Token> doc = encode_document(text.bytes);
            Eigen::VectorXd out(Eigen::Index(doc.size()));
            {
              py::gil_scoped_release release;
              p.token_logprobs(doc.data(), doc.size(), out.data());
            }
            return f64(out);
          },
          py::arg("text"),
          "(len(bytes) + 1,) float64: log p of each byte of the document and of its end boundary.")
      .def(
          "next_logprobs",
          [](const Persona& p, const Text& context) {
            auto state = p.begin();
            for (unsigned char byte : context.bytes) state->advance(Token(byte));
            Eigen::VectorXd out(kVocab);
            state->next_logprobs(out);
            return f32(out);
          },
          py::arg("context") = Text{},
          "(257,) float32: log p(next token | context), where context is the document read so far.");

  py::class_<Discounts>(m, "Discounts", "The three Kneser-Ney discounts of one order (unpacks as d1, d2, d3).")
      .def_readonly("d1", &Discounts::d1, "Discount of an n-gram with adjusted count 1.")
      .def_readonly("d2", &Discounts::d2, "... with adjusted count 2.")
      .def_readonly("d3", &Discounts::d3, "... with adjusted count 3 or more.")
      .def_readonly("fallback", &Discounts::fallback,
                    "True when the count-of-counts were degenerate and (0.5, 1, 1.5) was used.")
      .def("__iter__", [](const Discounts& d) { return py::iter(py::make_tuple(d.d1, d.d2, d.d3)); })
      .def("__repr__", [](const Discounts& d) {
        return fmt::format("Discounts(d1={}, d2={}, d3={}, fallback={})", d.d1, d.d2, d.d3,
                           d.fallback ? "True" : "False");
      });

  py::class_<NGramPersona, Persona, std::shared_ptr<NGramPersona>>(m, "NGramPersona", R"doc(
An interpolated modified Kneser-Ney n-gram persona (Chen & Goodman 1998), any
order, full next-token distribution in one call.

    lm = simulacra.NGramPersona.fit(["Arr, matey!", "Ahoy, matey!"], order=3)
    lm.score("Arr!")            # log p(A r r ! <b> | <b>)
)doc")
      .def_static(
          "fit",
          [](const std::vector<Text>& texts, int order) {
            std::vector<std::string> docs = texts_of(texts);
            py::gil_scoped_release release;
            return NGramPersona::fit(docs, order);
          },
          py::arg("texts"), py::arg("order"),
          "Trains an order-`order` model on documents (a list of str or bytes). ValueError if order < 1 or there "
          "are no documents.")
      .def_property_readonly("order", &NGramPersona::order)
      .def(
          "score",
          [](const NGramPersona& lm, const Text& text) {
            py::gil_scoped_release release;
            return lm.score_document(text.bytes);
          },
          py::arg("text"), "log p(text + end boundary | document start): the log-probability of one document.")
      .def(
          "next_logprobs",
          [](const NGramPersona& lm, const Text& context) { return f32(lm.next_logprobs(context.bytes)); },
          py::arg("context") = Text{},
          "(257,) float32: log p(next token | context), where context is the document read so far.")
      .def_property_readonly(
          "num_ngrams", [](const NGramPersona& lm) { return lm.num_ngrams(); },
          "Stored n-grams of every order (order 1 is the dense table of 258 entries).")
      .def_property_readonly(
          "ngrams_per_order",
          [](const NGramPersona& lm) {
            std::vector<std::size_t> out;
            for (int n = 1; n <= lm.order(); ++n) out.push_back(lm.num_ngrams(n));
            return out;
          },
          "Stored n-grams of order 1, 2, ..., order.")
      .def_property_readonly("memory_bytes", &NGramPersona::memory_bytes, "Bytes held by the trie arrays.")
      .def("discounts", &NGramPersona::discounts, py::arg("n"),
           "The discounts of order n (1..order). IndexError outside that range.")
      .def(
          "to_arpa",
          [](const NGramPersona& lm, const Path& path) {
            py::gil_scoped_release release;
            save_arpa(lm, path.bytes);
          },
          py::arg("path"),
          "Writes the model as an ARPA file (docs/arpa.md: byte b is the word '%02x', the boundary </s>), "
          "atomically. OSError if it cannot be written.")
      .def_static(
          "from_arpa",
          [](const Path& path) {
            py::gil_scoped_release release;
            return load_arpa(path.bytes);
          },
          py::arg("path"),
          "Reads an ARPA file (written by to_arpa, KenLM, SRILM, ...) as an n-gram persona answering its back-off "
          "queries. simulacra.FileError naming the path and line on any problem.")
      .def(
          "compact",
          [](const NGramPersona& lm, bool quantize) -> py::object {
            if (quantize) {
              std::shared_ptr<QuantNGramPersona> q;
              {
                py::gil_scoped_release release;
                q = std::make_shared<QuantNGramPersona>(QuantNGramPersona::quantise(lm));
              }
              return py::cast(q);
            }
            std::shared_ptr<CompactNGramPersona> c;
            {
              py::gil_scoped_release release;
              c = std::make_shared<CompactNGramPersona>(CompactNGramPersona::compact(lm));
            }
            return py::cast(c);
          },
          py::arg("quantize") = false,
          "The same model in the compact layout (docs/compact.md): 4 bytes per top-order n-gram, 12 per other, "
          "probabilities within a relative 3.1e-5 of this model's; ValueError for a back-off model with negative "
          "terms (from an ARPA file). quantize=True: a QuantNGramPersona instead (8-bit codebooks, bit-packed "
          "records, about 3.6 bytes per n-gram, held-out perplexity within 0.5%; any model).")
      .def(persona_pickle<NGramPersona>())
      .def("__repr__", [](const NGramPersona& lm) {
        return fmt::format("NGramPersona(order={}, num_ngrams={}, memory_bytes={})", lm.order(), lm.num_ngrams(),
                           lm.memory_bytes());
      });

  py::class_<CompactNGramPersona, Persona, std::shared_ptr<CompactNGramPersona>>(m, "CompactNGramPersona", R"doc(
A Kneser-Ney n-gram persona in the compact layout (docs/compact.md): made by
NGramPersona.compact(), scoring as that model up to the rounding of its stored
numbers, saved in model files as kind "ngram_compact" and loaded in place by
simulacra.load(path, mmap=True).

    small = simulacra.NGramPersona.fit(texts, 6).compact()
    small.score("Arr!")
)doc")
      .def_property_readonly("order", &CompactNGramPersona::order)
      .def(
          "score",
          [](const CompactNGramPersona& lm, const Text& text) {
            py::gil_scoped_release release;
            return lm.score_document(text.bytes);
          },
          py::arg("text"), "log p(text + end boundary | document start): the log-probability of one document.")
      .def(
          "next_logprobs",
          [](const CompactNGramPersona& lm, const Text& context) { return f32(lm.next_logprobs(context.bytes)); },
          py::arg("context") = Text{},
          "(257,) float32: log p(next token | context), where context is the document read so far.")
      .def_property_readonly(
          "num_ngrams", [](const CompactNGramPersona& lm) { return lm.num_ngrams(); },
          "Stored n-grams of every order (order 1 is the dense table of 258 entries).")
      .def_property_readonly(
          "ngrams_per_order",
          [](const CompactNGramPersona& lm) {
            std::vector<std::size_t> out;
            for (int n = 1; n <= lm.order(); ++n) out.push_back(lm.num_ngrams(n));
            return out;
          },
          "Stored n-grams of order 1, 2, ..., order.")
      .def_property_readonly("memory_bytes", &CompactNGramPersona::memory_bytes,
                             "Bytes held by the trie arrays and the level-2 index.")
      .def("discounts", &CompactNGramPersona::discounts, py::arg("n"),
           "The discounts of order n (1..order). IndexError outside that range.")
      .def_property_readonly_static(
          "prob_rel_error_bound", [](py::object) { return CompactNGramPersona::kTermRelError; },
          "Relative rounding error of a stored term (2^-15 + 2^-24); a probability of an order-N model is within "
          "(1 + this) (1 + 2^-24)^N - 1.")
      .def(persona_pickle<CompactNGramPersona>())
      .def("__repr__", [](const CompactNGramPersona& lm) {
        return fmt::format("CompactNGramPersona(order={}, num_ngrams={}, memory_bytes={})", lm.order(),
                           lm.num_ngrams(), lm.memory_bytes());
      });

  py::class_<QuantNGramPersona, Persona, std::shared_ptr<QuantNGramPersona>>(m, "QuantNGramPersona", R"doc(
An n-gram persona quantised to 8 bits and bit-packed (docs/compact.md, KenLM's
quantised trie): made by NGramPersona.compact(quantize=True), answering the
model's back-off form with every log-probability and log-backoff one of 256
centres per order; saved in model files as kind "ngram_quant" and loaded in
place by simulacra.load(path, mmap=True). Its next-token distributions sum to
1 within sum_tolerance (checked when made and loaded).

    tiny = simulacra.NGramPersona.fit(texts, 6).compact(quantize=True)
    tiny.score("Arr!")
)doc")
      .def_property_readonly("order", &QuantNGramPersona::order)
      .def(
          "score",
          [](const QuantNGramPersona& lm, const Text& text) {
            py::gil_scoped_release release;
            return lm.score_document(text.bytes);
          },
          py::arg("text"), "log p(text + end boundary | document start): the log-probability of one document.")
      .def(
          "next_logprobs",
          [](const QuantNGramPersona& lm, const Text& context) { return f32(lm.next_logprobs(context.bytes)); },
          py::arg("context") = Text{},
          "(257,) float32: log p(next token | context), where context is the document read so far.")
      .def_property_readonly(
          "num_ngrams", [](const QuantNGramPersona& lm) { return lm.num_ngrams(); },
          "Stored n-grams of every order (order 1 is the dense table of 258 entries).")
      .def_property_readonly(
          "ngrams_per_order",
          [](const QuantNGramPersona& lm) {
            std::vector<std::size_t> out;
            for (int n = 1; n <= lm.order(); ++n) out.push_back(lm.num_ngrams(n));
            return out;
          },
          "Stored n-grams of order 1, 2, ..., order.")
      .def_property_readonly("memory_bytes", &QuantNGramPersona::memory_bytes,
                             "Bytes held by the record arrays, the codebooks and the level-2 index.")
      .def_property_readonly("max_sum_error", &QuantNGramPersona::max_sum_error,
                             "The largest |sum - 1| over every stored context's next-token distribution.")
      .def("discounts", &QuantNGramPersona::discounts, py::arg("n"),
           "The discounts of order n (1..order). IndexError outside that range.")
      .def_property_readonly_static(
          "sum_tolerance", [](py::object) { return QuantNGramPersona::kSumTolerance; },
          "Bound on |sum of a next-token distribution - 1|, checked for every stored context.")
      .def(persona_pickle<QuantNGramPersona>())
      .def("__repr__", [](const QuantNGramPersona& lm) {
        return fmt::format("QuantNGramPersona(order={}, num_ngrams={}, memory_bytes={})", lm.order(),
                           lm.num_ngrams(), lm.memory_bytes());
      });

  py::class_<InterpolatedPersona, Persona, std::shared_ptr<InterpolatedPersona>>(m, "InterpolatedPersona", R"doc(
A persona over a shared body: lambda p_own + (1 - lambda) p_background, token by
token (the n-gram hydra; Mixture.fit makes every mask one). Both models are
shared, not copied.

    bg = simulacra.NGramPersona.fit(all_texts, 3)
    own = simulacra.NGramPersona.fit(pirate_texts, 3)
    lam = simulacra.fit_interpolation_weight(own.token_logprobs(held), bg.token_logprobs(held))
    pirate = simulacra.InterpolatedPersona(own, bg, lam)
)doc")
      .def(py::init([](py::handle own, py::handle background, double weight) {
             return std::make_shared<InterpolatedPersona>(persona_arg(own, "own", ""),
                                                          persona_arg(background, "background", ""), weight);
           }),
           py::arg("own"), py::arg("background"), py::arg("weight"),
           "lambda = weight, the share of `own`, in [0, 1]. ValueError otherwise and for a None model. Either "
           "model may be a persona written in Python.")
      .def_property_readonly("own", [](const InterpolatedPersona& p) { return persona_object(p.own()); },
                             "The persona's own model.")
      .def_property_readonly(
          "background", [](const InterpolatedPersona& p) { return persona_object(p.background()); },
          "The shared background model.")
      .def_property_readonly("weight", &InterpolatedPersona::weight, "lambda, the share of the own model.")
      .def(persona_pickle<InterpolatedPersona>())
      .def("__repr__", [](const InterpolatedPersona& p) {
        return fmt::format("InterpolatedPersona(weight={}, own={}, background={})", p.weight(), p.own()->kind(),
                           p.background()->kind());
      });

  m.def(
      "fit_interpolation_weight",
      [](const std::vector<double>& own, const std::vector<double>& background) {
        py::gil_scoped_release release;
        return fit_interpolation_weight(own, background);
      },
      py::arg("own"), py::arg("background"),
      "The lambda in [0, 1] maximising sum_t log(lambda e^own_t + (1 - lambda) e^background_t): the held-out "
      "per-token log-probabilities of the same tokens under the two models (EM's fixed point, exact to 1e-12). "
      "ValueError if the sizes differ, a value is NaN or +inf, or a token is impossible under both.");
}

}  // namespace simulacra::python
