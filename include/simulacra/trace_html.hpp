// simulacra/trace_html.hpp — a trace as one self-contained HTML page: the
// trace explorer of the command-line tool (`simulacra trace --html`) and of
// Python (Trace.to_html).
//
// The page shows a traced text three ways, each token attributed to a mask:
//
//   filtered  the filter's own reading, who leads after reading the token
//             (Trace row t + 1, as `simulacra trace` colours it; the last
//             token: its row's weights times each persona's probability of
//             it, renormalised, untempered);
//   smoothed  the forward-backward posterior given the whole text
//             (smoothing.hpp), when given;
//   Viterbi   the single most likely path of masks (attribution.hpp), when
//             given.
//
// and on it: the text coloured by the dominant mask of the chosen view (a
// button per view), every mask's weight in every view on hover of a
// character, a stacked area chart of the weights over the text (a lane per
// view; a click scrolls the text there), and a table per mask: the share of
// tokens it leads in each view, its mean weight, and its own log-probability
// of the traced tokens. Colours: persona_color(k).
//
// The page needs nothing but a browser: inline CSS, a small inline script,
// the data as JSON in a <script type="application/json"> element (every '<',
// '>' and '&' written as a \u escape, so no text can close the element), no
// URL at all. The text is shown as report.hpp's glyphs_of cuts it (valid
// UTF-8 kept, control bytes and invalid UTF-8 shown as "\xNN"-style escapes,
// the document boundary as "⏎" and a line break), so the JSON is valid UTF-8
// whatever the bytes.
//
// Size and cost are linear in the tokens: per token the page holds its
// shown character (1 byte for ASCII), its glyph code (1 byte), its weights in
// each weighted view quantised to 1/255 (K bytes each) and its mixture
// log-probability to 0.01 nats (2 bytes), all but the text base64 (4/3), plus
// each view's runs of one mask. About 1 + (3 + 2K) * 4/3 bytes per token with
// the smoothed view: a 1 MB text with 4 masks gives a page of about 16 MB
// (measured: 21.1 MB for 1 MB under the 6 masks of the embedded corpus,
// written in 1.9 s, drawn by headless chromium in about 9 s). The chart has at most chart_columns
// columns (each the mean weights of its tokens), whatever the length; the text
// is always complete, drawn as one element per run of one mask.
//
//   auto tokens = simulacra::encode_document(text);
//   simulacra::Trace trace = mix.trace(tokens);
//   simulacra::TraceViews views = simulacra::trace_views(mix, tokens, trace);
//   simulacra::write_trace_html("trace.html", tokens, mix.names(), trace, views);
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "simulacra/attribution.hpp"
#include "simulacra/mixture.hpp"
#include "simulacra/smoothing.hpp"
#include "simulacra/tokenizer.hpp"

namespace simulacra {

// Persona k's colour on the page, "#rrggbb": matplotlib's tab10 for k < 10
// (the palette of simulacra.plot), then hues a golden angle apart.
std::string persona_color(int k);

// The readings of a traced text besides the filter's.
struct TraceViews {
  std::optional<Smoothed> smoothed;
  std::optional<Attribution> viterbi;
};

// The smoothed and Viterbi readings of `tokens` under `mixture`, from
// `trace` (that mixture's trace of them) without scoring again; both left
// out when the segmentation rule has no HMM (kForgetting).
TraceViews trace_views(const Mixture& mixture, const std::vector<Token>& tokens, const Trace& trace);

struct TraceHtmlOptions {
  std::string title = "simulacra trace";  // the page's title and heading (any bytes: escaped)
  std::size_t chart_columns = 2000;       // at most this many chart columns (>= 1)
};

// The page of `trace` over `tokens` (one trace row per token) with persona
// `names`, and the views given. InvalidArgument when the sizes disagree (the
// trace, the names, a view's rows or path) or chart_columns is 0,
// OutOfRange for a token outside 0..kVocab-1 or a path's mask outside
// 0..K-1.
std::string trace_html(const std::vector<Token>& tokens, const std::vector<std::string>& names, const Trace& trace,
                       const TraceViews& views = {}, const TraceHtmlOptions& options = {});

// The same page written to `path` with write_file_atomic (file_io.hpp).
void write_trace_html(const std::string& path, const std::vector<Token>& tokens, const std::vector<std::string>& names,
                      const Trace& trace, const TraceViews& views = {}, const TraceHtmlOptions& options = {});

}  // namespace simulacra
