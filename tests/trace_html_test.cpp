// Tests of the trace explorer page (trace_html.hpp): its embedded JSON read
// back with json.hpp and checked against the trace, smoothing and Viterbi
// computed here, the escaping of hostile bytes, sizes and errors. The page in
// a real browser: tests/python/test_trace_html.py.
#include "simulacra/trace_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>

#include "simulacra/error.hpp"
#include "simulacra/file_io.hpp"
#include "simulacra/json.hpp"

#include "mixture_testing.hpp"

namespace {

using namespace simulacra;
using simulacra::testing::mixture_fixtures::file_personas;
using simulacra::testing::mixture_fixtures::fixed_share;
using simulacra::testing::mixture_fixtures::forgetting;
using simulacra::testing::mixture_fixtures::kFileNames;

constexpr std::string_view kOpen = "<script type=\"application/json\" id=\"simulacra-data\">";

Mixture pile(MixtureConfig config = fixed_share(0.01)) {
  return Mixture(file_personas(), kFileNames, Eigen::Vector4d(0.25, 0.25, 0.25, 0.25), config);
}

std::size_t count(const std::string& s, std::string_view needle) {
  std::size_t n = 0;
  for (std::size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
  return n;
}

// The embedded data, parsed back.
json::Value data_of(const std::string& page) {
  const std::size_t a = page.find(kOpen);
  EXPECT_NE(a, std::string::npos);
  const std::size_t b = page.find("</script>", a);
  EXPECT_NE(b, std::string::npos);
  return json::parse(page.substr(a + kOpen.size(), b - a - kOpen.size()));
}

std::vector<std::uint8_t> unbase64(const std::string& s) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  EXPECT_EQ(s.size() % 4, 0u);
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 3 < s.size(); i += 4) {
    int v[4];
    for (int j = 0; j < 4; ++j) v[j] = s[i + j] == '=' ? 0 : value(s[i + j]);
    for (int j = 0; j < 4; ++j) EXPECT_GE(v[j], 0) << "bad base64 character " << s[i + j];
    const std::uint32_t x = std::uint32_t(v[0]) << 18 | std::uint32_t(v[1]) << 12 | std::uint32_t(v[2]) << 6 | std::uint32_t(v[3]);
    out.push_back(std::uint8_t(x >> 16));
    if (s[i + 2] != '=') out.push_back(std::uint8_t(x >> 8));
    if (s[i + 3] != '=') out.push_back(std::uint8_t(x));
  }
  return out;
}

// The owner of each token from a view's runs [start, mask, start, mask, ...].
std::vector<int> owners(const json::Value& view, std::size_t T) {
  const json::Array& runs = view.at("runs").as_array();
  std::vector<int> out(T, -1);
  for (std::size_t r = 0; r < runs.size(); r += 2) {
    const auto begin = std::size_t(runs[r].as_int64());
    const auto end = r + 2 < runs.size() ? std::size_t(runs[r + 2].as_int64()) : T;
    EXPECT_LT(begin, end);
    for (std::size_t t = begin; t < end; ++t) out[t] = int(runs[r + 1].as_int64());
  }
  return out;
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t j = 1; j < n; ++j)
      if ((static_cast<unsigned char>(s[i + j]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

int argmax_row(const Eigen::MatrixXd& m, Eigen::Index t) {
  int best = 0;
  for (Eigen::Index k = 1; k < m.cols(); ++k)
    if (m(t, k) > m(t, best)) best = int(k);
  return best;
}

TEST(TraceHtml, ViewsAreTheFilterSmoothingAndViterbi) {
  const Mixture mix = pile();
  const std::vector<Token> tokens = encode_document(
      "Arr, me hearties, hoist the mainsail! O silver moon that wanders through the quiet sky. "
      "The patient presents with a fever and a cough.");
  const Trace trace = mix.trace(tokens);
  const TraceViews views = trace_views(mix, tokens, trace);
  ASSERT_TRUE(views.smoothed && views.viterbi);
  const std::string page = trace_html(tokens, mix.names(), trace, views);
  const json::Value d = data_of(page);
  const std::size_t T = tokens.size();
  const auto K = Eigen::Index(mix.size());
  EXPECT_EQ(std::size_t(d.at("tokens").as_int64()), T);
  ASSERT_EQ(d.at("views").as_array().size(), 3u);
  for (std::size_t k = 0; k < kFileNames.size(); ++k) EXPECT_EQ(d.at("names").as_array()[k].as_string(), kFileNames[k]);

  // filtered: who leads after reading each token (row t + 1; the last: its Bayes update)
  const json::Value& f = d.at("views").as_array()[0];
  EXPECT_EQ(f.at("key").as_string(), "filtered");
  const std::vector<int> fo = owners(f, T);
  const std::vector<std::uint8_t> fw = unbase64(f.at("weights").as_string());
  ASSERT_EQ(fw.size(), T * std::size_t(K));
  Eigen::MatrixXd after = trace.log_weights.array().exp();
  for (std::size_t t = 0; t + 1 < T; ++t) after.row(Eigen::Index(t)) = after.row(Eigen::Index(t + 1));
  {  // the last row in linear space: w_k p_k / sum
    const Eigen::Index t = Eigen::Index(T - 1);
    Eigen::VectorXd u(K);
    for (Eigen::Index k = 0; k < K; ++k) u[k] = std::exp(trace.log_weights(t, k)) * std::exp(trace.persona_logprobs(t, k));
    after.row(t) = (u / u.sum()).transpose();
  }
  for (std::size_t t = 0; t < T; ++t) {
    EXPECT_EQ(fo[t], argmax_row(after, Eigen::Index(t))) << t;
    for (Eigen::Index k = 0; k < K; ++k)
      EXPECT_NEAR(fw[t * std::size_t(K) + std::size_t(k)] / 255.0, after(Eigen::Index(t), k), 0.5 / 255 + 1e-12);
  }
  // smoothed
  const json::Value& s = d.at("views").as_array()[1];
  EXPECT_EQ(s.at("key").as_string(), "smoothed");
  const Smoothed reference = smooth(mix, tokens);
  EXPECT_EQ(owners(s, T), reference.dominant);
  const std::vector<std::uint8_t> sw = unbase64(s.at("weights").as_string());
  for (std::size_t t = 0; t < T; ++t)
    for (Eigen::Index k = 0; k < K; ++k)
      EXPECT_NEAR(sw[t * std::size_t(K) + std::size_t(k)] / 255.0, reference.weights(Eigen::Index(t), k), 0.5 / 255 + 1e-9);
  // Viterbi: the path of attribute_spans scoring the text again
  const json::Value& v = d.at("views").as_array()[2];
  EXPECT_EQ(v.at("key").as_string(), "viterbi");
  EXPECT_EQ(v.find("weights"), nullptr);
  const Attribution path = attribute_spans(mix, tokens);
  EXPECT_EQ(owners(v, T), path.path);
  EXPECT_EQ(views.viterbi->path, path.path);
  EXPECT_EQ(views.viterbi->log_joint, path.log_joint);
  EXPECT_EQ(views.viterbi->filtered, path.filtered);
  EXPECT_EQ(views.viterbi->spans.size(), path.spans.size());

  // the table: leads are each view's shares, the log-probabilities each persona's sum
  const json::Array& table = d.at("table").as_array();
  ASSERT_EQ(table.size(), std::size_t(K));
  for (std::size_t view = 0; view < 3; ++view) {
    const std::vector<int> o = owners(d.at("views").as_array()[view], T);
    double total = 0;
    for (Eigen::Index k = 0; k < K; ++k) {
      const double share = double(std::count(o.begin(), o.end(), int(k))) / double(T);
      EXPECT_NEAR(table[std::size_t(k)].at("leads").as_array()[view].as_double(), share, 1e-12);
      total += share;
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
  }
  for (Eigen::Index k = 0; k < K; ++k) {
    const json::Value& m = table[std::size_t(k)];
    EXPECT_NEAR(m.at("logprob").as_double(), trace.persona_logprobs.col(k).sum(), 1e-9);
    EXPECT_NEAR(m.at("mean_weight").as_array()[0].as_double(), after.col(k).mean(), 1e-12);
    EXPECT_NEAR(m.at("mean_weight").as_array()[1].as_double(), reference.weights.col(k).mean(), 1e-9);
  }
  // the mixture's log-probabilities, to 0.01 nats
  const std::vector<std::uint8_t> lp = unbase64(d.at("logprob").as_string());
  ASSERT_EQ(lp.size(), 2 * T);
  for (std::size_t t = 0; t < T; ++t)
    EXPECT_NEAR(-(lp[2 * t] | lp[2 * t + 1] << 8) / 100.0, trace.logprobs[Eigen::Index(t)], 0.005 + 1e-12);
}

TEST(TraceHtml, HostileBytesAreEscaped) {
  std::string text = "</script><script>alert(1)</script><!-- & \"quotes\" 'x' \u00e9\u4e2d\U0001F600 ";
  for (int b = 0; b < 256; ++b) text.push_back(char(b));
  text += "\xC3\x28 \xE2\x82 \xF0\x9F\x98 tail </SCRIPT >";  // invalid UTF-8, then an upper-case end tag
  std::vector<Token> tokens = encode(text);
  tokens.insert(tokens.begin() + 20, kBoundary);  // a boundary in the middle
  tokens.push_back(kBoundary);
  const Mixture mix = pile();
  const Trace trace = mix.trace(tokens);
  const std::vector<std::string> names = {"pi</script>rate", "po\x01" "et", "sci\xff", "doc"};
  TraceHtmlOptions options;
  options.title = "<b>title</b> </script>";
  const std::string page = trace_html(tokens, names, trace, trace_views(mix, tokens, trace), options);

  EXPECT_TRUE(valid_utf8(page));
  // Only the page's own two script elements end: nothing of the text or names can close one.
  std::string lower = page;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  EXPECT_EQ(count(lower, "</script"), 2u);
  EXPECT_EQ(count(lower, "<script"), 2u);
  EXPECT_EQ(count(page, "<!--"), 0u);
  EXPECT_EQ(count(page, "<b>title"), 0u);
  EXPECT_EQ(count(page, "&lt;b&gt;title&lt;/b&gt; &lt;/script&gt;"), 2u);  // <title> and <h1>
  // No control byte but newline reaches the page.
  for (const char c : page) EXPECT_TRUE(static_cast<unsigned char>(c) >= 0x20 || c == '\n') << int(c);
  // No resource is loaded: no src or href attribute, and the only URL is the SVG namespace.
  EXPECT_EQ(count(lower, "src="), 0u);
  EXPECT_EQ(count(lower, "href="), 0u);
  EXPECT_EQ(count(lower, "http://") + count(lower, "https://"), count(page, "http://www.w3.org/2000/svg"));

  const json::Value d = data_of(page);
  EXPECT_EQ(d.at("title").as_string(), "<b>title</b> </script>");
  EXPECT_EQ(d.at("names").as_array()[0].as_string(), "pi</script>rate");
  EXPECT_EQ(d.at("names").as_array()[1].as_string(), "po\\x01et");
  EXPECT_EQ(d.at("names").as_array()[2].as_string(), "sci\\xff");
  // The glyphs cover every token; the shown text is the text with its escapes.
  const std::vector<std::uint8_t> codes = unbase64(d.at("glyphs").as_string());
  std::size_t ntok = 0, units = 0;
  for (const std::uint8_t c : codes) {
    ntok += (c & 3) + 1;
    units += ((c >> 2) & 3) + 1;
  }
  EXPECT_EQ(ntok, tokens.size());
  const std::string& shown = d.at("text").as_string();
  std::size_t utf16 = 0;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    const auto b = static_cast<unsigned char>(shown[i]);
    if ((b & 0xC0) != 0x80) utf16 += b >= 0xF0 ? 2 : 1;
  }
  EXPECT_EQ(units, utf16);
  EXPECT_EQ(shown.find("</script><script>ale\u23ce\nrt(1)</script><!-- & \"quotes\" 'x' \u00e9\u4e2d\U0001F600"), 0u);
  EXPECT_NE(shown.find("\\x00\\x01"), std::string::npos);
  EXPECT_NE(shown.find("\\xc3( \\xe2\\x82 \\xf0\\x9f\\x98 tail </SCRIPT >"), std::string::npos);
  EXPECT_EQ(count(shown, "\u23ce\n"), 2u);  // the two boundaries
  EXPECT_EQ(std::size_t(d.at("bytes").as_int64()), text.size());
}

TEST(TraceHtml, ChartIsDownsampledAndTheSizeLinear) {
  const Mixture mix = pile();
  std::string text;
  for (int i = 0; text.size() < 6000; ++i)
    text += i % 2 ? "Arr, me hearties, hoist the mainsail and swab the deck! " : "O silver moon, the roses weep. ";
  const std::vector<Token> tokens = encode_document(text);
  const Trace trace = mix.trace(tokens);
  const TraceViews views = trace_views(mix, tokens, trace);
  TraceHtmlOptions options;
  options.chart_columns = 97;
  const std::string page = trace_html(tokens, mix.names(), trace, views, options);
  const json::Value d = data_of(page);
  const std::size_t T = tokens.size(), K = 4;
  const json::Value& s = d.at("views").as_array()[1];
  EXPECT_EQ(s.at("columns").as_int64(), 97);
  const std::vector<std::uint8_t> chart = unbase64(s.at("chart").as_string());
  ASSERT_EQ(chart.size(), 97 * K);
  for (std::size_t c = 0; c < 97; ++c) {  // each column the mean of its tokens
    const std::size_t a = c * T / 97, b = (c + 1) * T / 97;
    for (std::size_t k = 0; k < K; ++k) {
      double sum = 0;
      for (std::size_t t = a; t < b; ++t) sum += views.smoothed->weights(Eigen::Index(t), Eigen::Index(k));
      EXPECT_NEAR(chart[c * K + k] / 255.0, sum / double(b - a), 0.5 / 255 + 1e-9);
    }
  }
  // Short texts keep a column per token.
  const std::vector<Token> few(tokens.begin(), tokens.begin() + 50);
  const Trace few_trace = mix.trace(few);
  const json::Value small = data_of(trace_html(few, mix.names(), few_trace, trace_views(mix, few, few_trace)));
  EXPECT_EQ(small.at("views").as_array()[0].at("columns").as_int64(), 50);
  // The page grows linearly: the bound of the header's size note, 1 + (3 + 2K) * 4/3 bytes a token plus the runs.
  std::size_t runs = 0;
  for (const json::Value& v : d.at("views").as_array()) runs += v.at("runs").as_array().size() / 2;
  EXPECT_LT(double(page.size()), (1.0 + (3.0 + 2.0 * K) * 4.0 / 3.0) * double(T) + 16.0 * double(runs) +
                                     3.0 * 97 * K * 4.0 / 3.0 + 20000.0);
}

TEST(TraceHtml, WithoutViewsAndEmpty) {
  const Mixture forget = pile(forgetting(0.9));
  const std::vector<Token> tokens = encode_document("Arr, matey.");
  const Trace trace = forget.trace(tokens);
  const TraceViews views = trace_views(forget, tokens, trace);
  EXPECT_FALSE(views.smoothed);
  EXPECT_FALSE(views.viterbi);
  const json::Value d = data_of(trace_html(tokens, forget.names(), trace, views));
  EXPECT_EQ(d.at("views").as_array().size(), 1u);
  EXPECT_EQ(d.at("table").as_array()[0].at("leads").as_array().size(), 1u);

  const Mixture mix = pile();
  const Trace none = mix.trace({});
  const json::Value e = data_of(trace_html({}, mix.names(), none, trace_views(mix, {}, none)));
  EXPECT_EQ(e.at("tokens").as_int64(), 0);
  EXPECT_EQ(e.at("text").as_string(), "");
  EXPECT_EQ(e.at("views").as_array().size(), 3u);
}

TEST(TraceHtml, BadInputIsRefused) {
  const Mixture mix = pile();
  const std::vector<Token> tokens = encode_document("Arr, matey.");
  const Trace trace = mix.trace(tokens);
  TraceViews views = trace_views(mix, tokens, trace);
  const std::vector<std::string> three(kFileNames.begin(), kFileNames.begin() + 3);
  EXPECT_THROW(trace_html(tokens, three, trace), InvalidArgument);
  EXPECT_THROW(trace_html(tokens, {}, trace), InvalidArgument);
  EXPECT_THROW(trace_html(std::vector<Token>(tokens.begin(), tokens.end() - 1), mix.names(), trace), InvalidArgument);
  std::vector<Token> bad = tokens;
  bad[2] = 300;
  EXPECT_THROW(trace_html(bad, mix.names(), trace), OutOfRange);
  TraceHtmlOptions zero;
  zero.chart_columns = 0;
  EXPECT_THROW(trace_html(tokens, mix.names(), trace, {}, zero), InvalidArgument);
  TraceViews wrong = views;
  wrong.viterbi->path[3] = 4;
  EXPECT_THROW(trace_html(tokens, mix.names(), trace, wrong), OutOfRange);
  wrong = views;
  wrong.viterbi->path.pop_back();
  EXPECT_THROW(trace_html(tokens, mix.names(), trace, wrong), InvalidArgument);
  wrong = views;
  wrong.smoothed->weights.conservativeResize(3, 4);
  EXPECT_THROW(trace_html(tokens, mix.names(), trace, wrong), InvalidArgument);
  // attribute_spans from a trace of other tokens
  EXPECT_THROW(attribute_spans(mix, std::vector<Token>(tokens.begin(), tokens.end() - 1), trace), InvalidArgument);
  EXPECT_THROW(persona_color(-1), InvalidArgument);
}

TEST(TraceHtml, WritesAtomicallyAndColoursDiffer) {
  const Mixture mix = pile();
  const std::vector<Token> tokens = encode_document("Arr, matey.");
  const Trace trace = mix.trace(tokens);
  const auto dir = std::filesystem::temp_directory_path() / ("simulacra_trace_html_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "page.html").string();
  write_trace_html(path, tokens, mix.names(), trace);
  EXPECT_EQ(read_file(path, 1 << 24), trace_html(tokens, mix.names(), trace));
  EXPECT_THROW(write_trace_html(dir.string(), tokens, mix.names(), trace), FileError);  // a directory
  std::filesystem::remove_all(dir);

  const char* tab10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  std::set<std::string> seen;
  for (int k = 0; k < 40; ++k) {
    const std::string c = persona_color(k);
    if (k < 10) {
      EXPECT_EQ(c, tab10[k]);
    }
    ASSERT_EQ(c.size(), 7u);
    EXPECT_EQ(c.find_first_not_of("0123456789abcdef", 1), std::string::npos) << c;
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 40u);
}

}  // namespace
