// bind_stream.cpp — generation token by token (GenerationStream,
// sampling.hpp): Mixture.stream and the Stream iterator it returns.
#include <memory>

#include "bind.hpp"
#include "bind_common.hpp"
#include "bind_steering.hpp"

namespace simulacra::python {

namespace {

// What Mixture.stream returns: the C++ stream and the Python pile it reads
// (kept alive while the stream is). `running` guards against a second
// thread calling __next__ while one is inside it with the GIL released.
struct Stream {
  py::object owner;
  std::unique_ptr<GenerationStream> stream;  // null once closed
  bool running = false;
};

// A token as the stream yields it: its byte, or b"" for the boundary.
py::bytes token_bytes(Token t) { return t == kBoundary ? py::bytes("") : py::bytes(std::string(1, char(t))); }

}  // namespace

void bind_stream(py::module_& m) {
  const SamplerConfig kDefaults;  // the keyword defaults are generate()'s
  py::class_<Stream>(m, "Stream", R"doc(
What Mixture.stream returns: an iterator yielding each generated token as bytes
(one byte, or b"" for the document boundary) as soon as it is drawn; the tokens
are those generate() returns with the same arguments. Breaking out of the loop
is enough to stop; close() (or leaving a `with` block) frees it at once, after
which it yields nothing. tokens, bytes and weights give what was drawn so far.
)doc")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__",
           [](Stream& s) {
             if (!s.stream) throw py::stop_iteration();
             if (s.running) throw py::value_error("stream: already running in another thread");
             s.running = true;
             bool drew = false;
             try {
               py::gil_scoped_release release;
               drew = s.stream->next();
             } catch (...) {
               s.running = false;
               throw;
             }
             s.running = false;
             if (!drew) throw py::stop_iteration();
             return token_bytes(s.stream->step().token);
           })
      .def(
          "close",
          [](Stream& s) {
            if (s.running) throw py::value_error("stream: cannot close while running in another thread");
            s.stream.reset();
          },
          "Stops the stream: it frees its reader and yields nothing more. Closing twice is fine.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](Stream& s, py::handle, py::handle, py::handle) {
            if (!s.running) s.stream.reset();
            return false;
          },
          py::arg("exc_type"), py::arg("exc_value"), py::arg("traceback"))
      .def_property_readonly(
          "closed", [](const Stream& s) { return !s.stream; }, "True after close() or the end of a `with` block.")
      .def_property_readonly(
          "done", [](const Stream& s) { return !s.stream || s.stream->done(); },
          "True once the stream yields nothing more (max_tokens drawn, the boundary drawn, or closed).")
      .def_property_readonly(
          "tokens",
          [](const Stream& s) { return i32(s.stream ? s.stream->generation().tokens : std::vector<Token>{}); },
          "(T,) int32 tokens drawn so far (empty once closed).")
      .def_property_readonly(
          "bytes",
          [](const Stream& s) { return py::bytes(s.stream ? s.stream->generation().text : std::string()); },
          "The bytes drawn so far, the boundary left out (empty once closed).")
      .def_property_readonly(
          "weights",
          [](const Stream& s) {
            const int K = s.owner.cast<const Mixture&>().size();
            return weights_of(s.stream ? s.stream->generation().log_weights : Eigen::MatrixXd(0, K));
          },
          "(T, K) float32 steered weights before each token drawn so far.");

  auto mixture = py::reinterpret_borrow<py::class_<Mixture>>(m.attr("Mixture"));
  mixture.def(
      "stream",
      [](py::object self, const Text& prompt, int max_tokens, double temperature, int top_k, double top_p,
         double min_p, std::uint64_t seed, py::handle clamp, py::handle exclude, py::handle prior_bias,
         py::handle product, const std::string& mode, bool stop_at_boundary) {
        const Mixture& mix = self.cast<const Mixture&>();
        const GenerateConfig cfg = generate_config(mix, max_tokens, temperature, top_k, top_p, min_p, seed, clamp,
                                                   exclude, prior_bias, product, mode, stop_at_boundary);
        Stream s{self, nullptr};
        {
          py::gil_scoped_release release;
          s.stream = std::make_unique<GenerationStream>(mix, prompt.bytes, cfg);
        }
        return s;
      },
      py::arg("prompt") = Text{}, py::arg("max_tokens") = 200, py::arg("temperature") = kDefaults.temperature,
      py::arg("top_k") = kDefaults.top_k, py::arg("top_p") = kDefaults.top_p, py::arg("min_p") = kDefaults.min_p,
      py::arg("seed") = kDefaults.seed, py::arg("clamp") = py::none(), py::arg("exclude") = py::none(),
      py::arg("prior_bias") = py::none(), py::arg("product") = py::none(), py::arg("mode") = "mixture",
      py::arg("stop_at_boundary") = true,
      "generate() token by token: reads the prompt, then returns a Stream, an iterator yielding each token as bytes "
      "(b\"\" for the boundary) as it is drawn. The arguments are generate()'s (on_step aside: the loop body sees "
      "every token), and so are the tokens: b\"\".join(pile.stream(p, seed=s)) == pile.generate(p, seed=s).bytes. "
      "Each token is drawn with the GIL released; Ctrl-C stops the loop (KeyboardInterrupt). Bad arguments raise "
      "here, before any token.");
}

}  // namespace simulacra::python
