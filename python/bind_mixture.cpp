// bind_mixture.cpp — the pile of masks (mixture.hpp): the Mixture class, its
// construction and properties, ablation scopes and attribution. What is done
// with it lives beside: bind_trace, bind_state, bind_generate, bind_ngram_train,
// bind_model_file, bind_analysis.
#include <optional>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"
#include "python_persona.hpp"

namespace simulacra::python {

void bind_mixture(py::module_& m) {
  py::class_<Mixture> mixture(m, "Mixture", R"doc(
The pile of masks: personas with a prior, read as a posterior-weighted mixture
with optional switching. Before token t the weight of persona k is its
(tempered) posterior given the text so far; the prediction is the mixture.

    pile = simulacra.Mixture.fit(simulacra.Corpus.builtin(), order=5)
    tr = pile.trace("Arr, me hearties! Certainly, I'd be happy to help.")
    print(tr)                       # which mask is speaking, token by token
    print(pile.generate("Arr, ", seed=7, clamp="pirate"))

Steering arguments (clamp, exclude, prior_bias, product) take persona names or
indices; an unknown name raises IndexError. product=(expert, anti_expert, lam)
tilts predictions by lam * (log p_expert - log p_anti_expert), renormalised.
)doc");

  // ---------------------------------------------------------------- ablation scopes
  py::class_<AblationScope>(m, "Ablation", R"doc(
What Mixture.ablate returns: use it in a `with` statement. Inside the block
every call on the pile from this thread (or asyncio task) sees the ablation;
other threads and the pile itself do not. Blocks may end in any order.
)doc")
      .def("__enter__",
           [](py::object self) {
             enter_scope(self);
             return self.cast<AblationScope&>().owner;
           })
      .def(
          "__exit__",
          [](py::object self, py::handle, py::handle, py::handle) {
            exit_scope(self);
            return false;
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
      .def_property_readonly(
          "active", [](const AblationScope& s) { return s.active; }, "True inside the `with` block.");

  // ---------------------------------------------------------------- the mixture
  mixture
      .def(py::init([](py::handle personas, const std::vector<Text>& names, py::handle prior,
                       const std::string& switching, double alpha, double beta, double gamma, py::handle transition,
                       py::handle switch_after) {
             std::vector<std::shared_ptr<const Persona>> list = personas_arg(personas, texts_of(names));
             const auto K = py::ssize_t(list.size());
             const std::string k = std::to_string(K);
             MixtureConfig config;
             config.switching = switching_from_name(switching);
             config.alpha = alpha;
             config.beta = beta;
             config.gamma = gamma;
             config.switch_after = switch_after_arg(switch_after);
             if (!transition.is_none())
               config.transition = real_array(transition, "transition", K, K, "(K, K) = (" + k + ", " + k + ")");
             Eigen::VectorXd p = Eigen::VectorXd::Ones(K);
             if (!prior.is_none()) p = real_array(prior, "prior", K, -1, "(K,) = (" + k + ",)");
             return Mixture(std::move(list), texts_of(names), std::move(p), std::move(config));
           }),
           py::arg("personas"), py::arg("names"), py::arg("prior") = py::none(), py::arg("switching") = "none",
           py::arg("alpha") = 0.0, py::arg("beta") = 1.0, py::arg("gamma") = 1.0, py::arg("transition") = py::none(),
           py::arg("switch_after") = py::none(),
           "A mixture of personas (K >= 1) with unique names, a prior (K positive numbers, normalised; None: uniform) "
           "and switching 'none', 'fixed_share' (alpha), 'forgetting' (gamma) or 'transition' (a K x K row-stochastic "
           "matrix). switch_after: None (a switch may follow every token), or the tokens after which alone it may "
           "(a str / bytes: its bytes, e.g. '\\n'; or integer tokens), the document boundary always included. "
           "ValueError names a bad argument. A persona may be written in Python: an instance of a simulacra.Persona "
           "subclass or any object with next_logprobs(context) (docs/python.md, \"Any model as a mask\").")
      .def("__len__", &Mixture::size)
      .def_property_readonly(
          "personas", [](const Mixture& mix) { return name_list(mix.names()); }, "The persona names.")
      .def(
          "persona",
          [](const Mixture& mix, py::handle key) {
            return persona_object(mix.persona_ptr(persona_key(mix, key, "persona")));
          },
          py::arg("key"), "The persona model of a name or index (for a persona written in Python, the object given).")
      .def(
          "index_of", [](const Mixture& mix, const Text& name) { return mix.index_of(name.bytes); }, py::arg("name"),
          "The index of a persona; IndexError naming it if unknown.")
      .def_property_readonly(
          "prior", [](const Mixture& mix) { return f64(SeenMixture(mix)->prior()); },
          "(K,) float64 normalised prior (inside `with pile.ablate(...)`, the ablated one).")
      .def_property_readonly(
          "switching", [](const Mixture& mix) { return switching_name(mix.config().switching); },
          "'none', 'fixed_share', 'forgetting' or 'transition'.")
      .def_property_readonly(
          "alpha", [](const Mixture& mix) { return mix.config().alpha; }, "Fixed-share rate.")
      .def_property_readonly(
          "beta", [](const Mixture& mix) { return mix.config().beta; }, "Likelihood tempering.")
      .def_property_readonly(
          "gamma", [](const Mixture& mix) { return mix.config().gamma; }, "Forgetting factor.")
      .def_property_readonly(
          "switch_after",
          [](const Mixture& mix) -> py::object {
            if (mix.config().switch_after.empty()) return py::none();
            return py::cast(mix.config().switch_after);
          },
          "The sorted tokens given as switch points (a switch may follow them and, always, the document boundary), "
          "or None when a switch may follow every token.")
      .def_property_readonly(
          "transition",
          [](const Mixture& mix) -> py::object {
            if (mix.config().switching != Switching::kTransition) return py::none();
            return f64(mix.config().transition);
          },
          "(K, K) float64 transition matrix with switching='transition', else None.")
      .def(
          "ablate",
          [](py::object self, py::handle remove, py::handle reweight) {
            const Mixture& mix = self.cast<const Mixture&>();
            AblationScope scope{self, &mix, {persona_keys(mix, remove, "remove"), {}}};
            if (!reweight.is_none()) scope.ablation.reweight = per_persona(mix, reweight, 1.0, "reweight");
            mix.ablated_prior(combine(context_ablation(mix), scope.ablation));  // checks now, not at `with`
            return scope;
          },
          py::arg("remove") = py::none(), py::arg("reweight") = py::none(),
          "A context manager that removes personas (remove: a persona or a sequence of them; their prior becomes "
          "0, so they never speak) and reweights others (reweight: a dict persona -> factor >= 0, or K factors; "
          "the prior is multiplied by them and renormalised) for the calls this thread makes on the pile inside the "
          "block, until it ends (exceptions included). `with pile.ablate(remove='pirate'): pile.score(text)`. The "
          "pile itself is not changed: other threads do not see it; States begun inside keep it.")
      .def(
          "attribute",
          [](const Mixture& mix, const Text& text, std::optional<double> beta) {
            const SeenMixture seen(mix);
            Eigen::VectorXd post;
            {
              py::gil_scoped_release release;
              post = beta ? seen->attribute(text.bytes, *beta) : seen->attribute(text.bytes);
            }
            py::dict out;
            for (int k = 0; k < mix.size(); ++k) out[name_str(mix.names()[std::size_t(k)])] = std::exp(post[k]);
            return out;
          },
          py::arg("text"), py::arg("beta") = py::none(),
          "Which mask wrote this document? {name: posterior probability} given the whole document, as if one "
          "persona wrote all of it (no switching): log pi_k + beta log p_k(doc), normalised. beta=None uses the "
          "mixture's attribution tempering at the document's length, attribution_beta * (bytes / 300) ** "
          "-attribution_exponent (fitted by Mixture.fit on held-out segments so the posteriors are calibrated; beta "
          "1, exponent 0 otherwise); beta=1.0 is the exact Bayesian posterior. ValueError for beta <= 0.")
      .def_property(
          "attribution_beta", [](const Mixture& mix) { return mix.attribution_beta(); },
          [](Mixture& mix, double beta) { mix.set_attribution_beta(beta, mix.attribution_exponent()); },
          "The tempering of attribute(text) at 300 bytes: fitted by Mixture.fit, 1.0 otherwise; settable, in "
          "[1e-6, 1e6]. The trace and the filter keep their own beta.")
      .def_property(
          "attribution_exponent", [](const Mixture& mix) { return mix.attribution_exponent(); },
          [](Mixture& mix, double e) { mix.set_attribution_beta(mix.attribution_beta(), e); },
          "How the attribution beta decays with the document's length n: beta(n) = attribution_beta * (n / 300) ** "
          "-attribution_exponent; fitted by Mixture.fit, 0.0 otherwise; settable, in [0, 1].")
      .def_property(
          "attribution_own_weight",
          [](const Mixture& mix) {
            return mix.attribution_own_weight() >= 0.0 ? py::cast(mix.attribution_own_weight()) : py::none();
          },
          [](Mixture& mix, std::optional<double> w) {
            if (!w) {
              mix.set_attribution_personas({});
              return;
            }
            mix.set_attribution_personas(attribution_reweighted(mix, *w), *w);
          },
          "The own share of the evidence attribute() weighs: each mask's own model and the shared background "
          "mixed with this one share, chosen by Mixture.fit for the held-out log-loss of the true persona; None: "
          "attribute() reads the masks as they are. Settable, in [0, 1], or None.")
      .def_property_readonly(
          "attribution_order",
          [](const Mixture& mix) -> py::object {
            if (mix.attribution_personas().empty()) return py::none();
            const Persona* p = mix.attribution_personas().front().get();
            if (const auto* ip = dynamic_cast<const InterpolatedPersona*>(p)) p = ip->own().get();
            if (const auto* lm = dynamic_cast<const NGramPersona*>(p)) return py::cast(lm->order());
            return py::none();
          },
          "The n-gram order of the models attribute() weighs when they are not the masks (Mixture.fit chooses it "
          "with the own share on held-out segments: TrainReport.attribution_order; it may differ from the masks'); "
          "None: attribute() reads the masks. Setting attribution_own_weight reweights the masks themselves.")
      .def_property(
          "segmentation_alpha",
          [](const Mixture& mix) -> py::object {
            return mix.has_segmentation() ? py::cast(mix.segmentation_alpha()) : py::none();
          },
          [](Mixture& mix, std::optional<double> alpha) {
            if (alpha)
              mix.set_segmentation(*alpha, mix.segmentation_beta());
            else
              mix.clear_segmentation();
          },
          "The fixed-share rate smooth() and attribute_spans() read (fitted by Mixture.fit for segmentation), or "
          "None: they read the mixture's own alpha. Settable (None clears it, and segmentation_beta with it); in "
          "[0, 1]. The filter (trace, score, generate) keeps alpha.")
      .def_property(
          "segmentation_beta", [](const Mixture& mix) { return mix.segmentation_beta(); },
          [](Mixture& mix, double beta) {
            if (!mix.has_segmentation())
              throw py::value_error("segmentation_beta: set segmentation_alpha first (no segmentation is set)");
            mix.set_segmentation(mix.segmentation_alpha(), beta);
          },
          "The tempering of the emissions smooth() and attribute_spans() read with segmentation_alpha (fitted by "
          "Mixture.fit). Settable once segmentation_alpha is set; in (0, 1e289].")
      .def("__repr__",
           [](const Mixture& mix) {
             return fmt::format("Mixture(personas={}, switching='{}', alpha={}, beta={}, gamma={})",
                                std::string(py::repr(name_list(mix.names()))), switching_name(mix.config().switching),
                                mix.config().alpha, mix.config().beta, mix.config().gamma);
           });
}

}  // namespace simulacra::python
