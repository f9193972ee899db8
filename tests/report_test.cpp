// Tests for simulacra/report.hpp: the trace and vote tables, and the text
// helpers under them. The expected tables are written out by hand, column
// by column, from small traces and votes whose numbers are chosen here.
#include "simulacra/report.hpp"

#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"

namespace {

using simulacra::InvalidArgument;
using simulacra::kBoundary;
using simulacra::Token;

// Two tokens ('A', then the boundary), personas "a" and "bb".
simulacra::Trace two_rows() {
  simulacra::Trace t;
  t.log_weights.resize(2, 2);
  t.log_weights << std::log(0.25), std::log(0.75), std::log(0.5), std::log(0.5);
  t.persona_logprobs = Eigen::MatrixXd::Zero(2, 2);
  t.logprobs.resize(2);
  t.logprobs << -1.5, -0.25;
  t.entropy.resize(2);
  t.entropy << 0.81 * std::log(2.0), std::log(2.0);
  t.dominant = {1, 0};
  return t;
}

const std::vector<Token> kTokens = {'A', kBoundary};
const std::vector<std::string> kNames = {"a", "bb"};

std::string strip_escapes(const std::string& s) { return std::regex_replace(s, std::regex("\x1b\\[[0-9;]*m"), ""); }

TEST(TraceTableTest, EveryRowByHand) {
  const std::string expected =
      "  pos  token      a     bb  H bits   ln p\n"
      "    0  'A'    25.0%  75.0%    0.81  -1.50\n"
      "    1  <b>    50.0%  50.0%    1.00  -0.25\n";
  EXPECT_EQ(simulacra::format_trace_table(two_rows(), kTokens, kNames), expected);
}

TEST(TraceTableTest, ChosenRowsAndMarks) {
  simulacra::TraceTableOptions opt;
  opt.rows = {1};
  opt.marks = {{1, "swap"}};
  opt.indent = 0;
  const std::string expected =
      "pos  token      a     bb  H bits   ln p\n"
      "---- swap -----------------------------\n"
      "  1  <b>    50.0%  50.0%    1.00  -0.25\n";
  EXPECT_EQ(simulacra::format_trace_table(two_rows(), kTokens, kNames, opt), expected);
}

TEST(TraceTableTest, ColourOnlyAddsEscapes) {
  simulacra::TraceTableOptions opt;
  opt.color = true;
  const std::string colored = simulacra::format_trace_table(two_rows(), kTokens, kNames, opt);
  EXPECT_NE(colored.find("\x1b["), std::string::npos);
  EXPECT_EQ(strip_escapes(colored), simulacra::format_trace_table(two_rows(), kTokens, kNames));
  EXPECT_EQ(simulacra::format_trace_table(two_rows(), kTokens, kNames).find('\x1b'), std::string::npos);
}

TEST(TraceTableTest, RejectsWhatDoesNotFit) {
  simulacra::TraceTableOptions opt;
  EXPECT_THROW(simulacra::format_trace_table(two_rows(), {'A'}, kNames), InvalidArgument);
  EXPECT_THROW(simulacra::format_trace_table(two_rows(), kTokens, {"a"}), InvalidArgument);
  opt.rows = {2};
  EXPECT_THROW(simulacra::format_trace_table(two_rows(), kTokens, kNames, opt), InvalidArgument);
  opt.rows = {1, 0};
  EXPECT_THROW(simulacra::format_trace_table(two_rows(), kTokens, kNames, opt), InvalidArgument);
}

simulacra::Vote two_options() {
  simulacra::Vote v;
  v.persona_choice.resize(2, 2);
  v.persona_choice << 0.9, 0.1, 0.2, 0.8;
  v.persona_logprobs = v.persona_choice.array().log();
  v.mixture_choice.resize(2);
  v.mixture_choice << 0.6, 0.4;
  v.mixture_logprobs.resize(2);
  v.mixture_logprobs << -1.0, -2.0;
  v.prompt_weights.resize(2);
  v.prompt_weights << 0.5, 0.5;
  return v;
}

TEST(VoteTableTest, ByHand) {
  const std::string expected =
      "  option       a       b  mixture  mixture ln p\n"
      "  \"yes\"   90.0%*  20.0%    60.0%*         -1.00\n"
      "  \"no\"    10.0%   80.0%*   40.0%          -2.00\n"
      "  ---- weights after the prompt ---------------\n"
      "  weight  50.0%   50.0%\n";
  EXPECT_EQ(simulacra::format_vote_table(two_options(), {"yes", "no"}, {"a", "b"}), expected);
  const std::string colored = simulacra::format_vote_table(two_options(), {"yes", "no"}, {"a", "b"}, true);
  EXPECT_EQ(strip_escapes(colored), expected);
  EXPECT_THROW(simulacra::format_vote_table(two_options(), {"yes"}, {"a", "b"}), InvalidArgument);
  EXPECT_THROW(simulacra::format_vote_table(two_options(), {"yes", "no"}, {"a"}), InvalidArgument);
}

TEST(ReportTextTest, ShownTextEscapesControlsAndInvalidUtf8) {
  EXPECT_EQ(simulacra::shown_text("caf\xC3\xA9\n\x01\xFF"), "caf\xC3\xA9\\n\\x01\\xff");
  EXPECT_EQ(simulacra::display_width("caf\xC3\xA9"), 4u);
  const std::vector<simulacra::Glyph> g = simulacra::glyphs_of("a\xC3\xA9", {0, 1, 2});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[1].shown, "\xC3\xA9");
  EXPECT_EQ(g[1].owner, 2) << "a character belongs to the owner of its last byte";
  EXPECT_THROW(simulacra::glyphs_of("ab", {0}), InvalidArgument);
}

}  // namespace
