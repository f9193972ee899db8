// bind_report.cpp — the library's trace and vote tables (report.hpp) for
// the Python side: simulacra.display gives Trace its table() / str() /
// repr() and Vote its repr() through these two functions, so Python prints
// the same tables as the command-line tool.
//
// Thin: the arrays a Trace or a Vote hands out are put back into the
// library's structs and formatted there.
#include <optional>
#include <utility>

#include "bind.hpp"
#include "bind_common.hpp"

namespace simulacra::python {

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

Eigen::MatrixXd matrix(const Array& a, const char* what) {
  SIMULACRA_CHECK(a.ndim() == 2, InvalidArgument, "{}: expected a 2-D array, got {} dimensions", what, a.ndim());
  Eigen::MatrixXd m(a.shape(0), a.shape(1));
  auto v = a.unchecked<2>();
  for (py::ssize_t i = 0; i < a.shape(0); ++i)
    for (py::ssize_t j = 0; j < a.shape(1); ++j) m(i, j) = v(i, j);
  return m;
}

Eigen::VectorXd vector(const Array& a, const char* what) {
  SIMULACRA_CHECK(a.ndim() == 1, InvalidArgument, "{}: expected a 1-D array, got {} dimensions", what, a.ndim());
  Eigen::VectorXd out(a.shape(0));
  auto v = a.unchecked<1>();
  for (py::ssize_t i = 0; i < a.shape(0); ++i) out[i] = v(i);
  return out;
}

std::vector<std::int64_t> integers(const IntArray& a, const char* what) {
  SIMULACRA_CHECK(a.ndim() == 1, InvalidArgument, "{}: expected a 1-D array, got {} dimensions", what, a.ndim());
  auto v = a.unchecked<1>();
  std::vector<std::int64_t> out(std::size_t(a.shape(0)));
  for (py::ssize_t i = 0; i < a.shape(0); ++i) out[std::size_t(i)] = v(i);
  return out;
}

std::vector<std::string> texts(const std::vector<Text>& in) {
  std::vector<std::string> out;
  for (const Text& t : in) out.push_back(t.bytes);
  return out;
}

}  // namespace

void bind_report(py::module_& m) {
  m.def(
      "format_trace_table",
      [](const Array& log_weights, const Array& entropy, const Array& logprobs, const IntArray& dominant,
         const IntArray& tokens, const std::vector<Text>& personas, const std::vector<std::size_t>& rows,
         const std::vector<std::pair<std::size_t, std::string>>& marks, bool color) {
        Trace trace;
        trace.log_weights = matrix(log_weights, "format_trace_table: log_weights");
        trace.entropy = vector(entropy, "format_trace_table: entropy");
        trace.logprobs = vector(logprobs, "format_trace_table: logprobs");
        for (std::int64_t d : integers(dominant, "format_trace_table: dominant")) trace.dominant.push_back(int(d));
        std::vector<Token> token_ids;
        for (std::int64_t t : integers(tokens, "format_trace_table: tokens")) {
          SIMULACRA_CHECK(t >= 0 && t < kVocab, OutOfRange, "format_trace_table: token {} is outside 0..{}", t,
                          kVocab - 1);
          token_ids.push_back(Token(t));
        }
        for (int d : trace.dominant)
          SIMULACRA_CHECK(d >= 0 && std::size_t(d) < personas.size(), OutOfRange,
                          "format_trace_table: dominant persona {} is outside 0..{}", d, personas.size());
        TraceTableOptions options;
        options.rows = rows;
        options.marks = marks;
        options.color = color;
        return readable(format_trace_table(trace, token_ids, texts(personas), options));
      },
      py::arg("log_weights"), py::arg("entropy"), py::arg("logprobs"), py::arg("dominant"), py::arg("tokens"),
      py::arg("personas"), py::arg("rows") = std::vector<std::size_t>{},
      py::arg("marks") = std::vector<std::pair<std::size_t, std::string>>{}, py::arg("color") = false,
      "The weights table of a trace (simulacra/report.hpp): rows to show (empty: all), (position, label) rules.");
  m.def(
      "format_vote_table",
      [](const Array& persona_choice, const Array& mixture_choice, const Array& mixture_logprobs,
         const Array& prompt_weights, const std::vector<Text>& options, const std::vector<Text>& personas,
         bool color, const std::optional<Array>& per_byte_choice, const std::optional<Array>& plurality) {
        Vote vote;
        vote.persona_choice = matrix(persona_choice, "format_vote_table: persona_choice");
        vote.mixture_choice = vector(mixture_choice, "format_vote_table: mixture_choice");
        vote.mixture_logprobs = vector(mixture_logprobs, "format_vote_table: mixture_logprobs");
        vote.prompt_weights = vector(prompt_weights, "format_vote_table: prompt_weights");
        if (per_byte_choice) vote.per_byte_choice = vector(*per_byte_choice, "format_vote_table: per_byte_choice");
        if (plurality) vote.plurality = vector(*plurality, "format_vote_table: plurality");
        return readable(format_vote_table(vote, texts(options), texts(personas), color));
      },
      py::arg("persona_choice"), py::arg("mixture_choice"), py::arg("mixture_logprobs"), py::arg("prompt_weights"),
      py::arg("options"), py::arg("personas"), py::arg("color") = false, py::arg("per_byte_choice") = py::none(),
      py::arg("plurality") = py::none(),
      "The vote table (simulacra/report.hpp): a row per option, a column per persona, the mixture and, when "
      "given (both or neither), the per-byte and plurality readings.");
}

}  // namespace simulacra::python
