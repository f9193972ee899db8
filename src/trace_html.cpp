// The trace explorer page (trace_html.hpp).
#include "simulacra/trace_html.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

#include <fmt/format.h>

#include "simulacra/error.hpp"
#include "simulacra/file_io.hpp"
#include "simulacra/json.hpp"
#include "simulacra/report.hpp"

namespace simulacra {
namespace {

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t v = std::uint32_t(bytes[i]) << 16;
    if (n > 1) v |= std::uint32_t(bytes[i + 1]) << 8;
    if (n > 2) v |= bytes[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += n > 1 ? kAlphabet[(v >> 6) & 63] : '=';
    out += n > 2 ? kAlphabet[v & 63] : '=';
  }
  return out;
}

// w in [0, 1] as 0..255.
std::uint8_t quantised(double w) {
  if (!(w > 0)) return 0;  // NaN too
  return w >= 1 ? 255 : std::uint8_t(std::lround(w * 255.0));
}

// UTF-16 code units of a valid UTF-8 string (what a JavaScript string counts).
std::size_t utf16_units(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) n += b >= 0xF0 ? 2 : 1;
  }
  return n;
}

std::string html_escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// JSON text safe inside a <script> element: '<', '>' and '&' only occur in
// strings, where their \u escapes mean the same.
std::string script_safe(const std::string& json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (const char c : json_text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

// A view: the mask of each token and, for a weighted view, its (T, K) weights.
struct View {
  std::string key, label;
  std::vector<int> owner;  // (T)
  Eigen::MatrixXd weights; // (T, K); one-hot rows for the Viterbi view
};

// Row t of the filter's weights after reading token t (see the header).
Eigen::MatrixXd filtered_after(const Trace& trace) {
  const Eigen::Index T = Eigen::Index(trace.size()), K = trace.log_weights.cols();
  Eigen::MatrixXd w(T, K);
  if (T == 0) return w;
  if (T > 1) w.topRows(T - 1) = trace.log_weights.bottomRows(T - 1).array().exp();
  Eigen::VectorXd last = (trace.log_weights.row(T - 1) + trace.persona_logprobs.row(T - 1)).transpose();
  const double top = last.maxCoeff();
  if (!std::isfinite(top)) {  // no persona can produce it: the weights stay (as in the filter)
    last = trace.log_weights.row(T - 1).transpose();
  } else {
    last = (last.array() - top).exp();
    last /= last.sum();
    last = last.array().log();
  }
  w.row(T - 1) = last.array().exp().transpose();
  return w;
}

int argmax(const Eigen::MatrixXd& w, Eigen::Index t) {
  int best = 0;
  for (Eigen::Index k = 1; k < w.cols(); ++k)
    if (w(t, k) > w(t, best)) best = int(k);
  return best;
}

json::Array runs_of(const std::vector<int>& owner) {
  json::Array out;
  for (std::size_t t = 0; t < owner.size(); ++t)
    if (t == 0 || owner[t] != owner[t - 1]) {
      out.emplace_back(static_cast<long long>(t));
      out.emplace_back(owner[t]);
    }
  return out;
}

json::Value number_or_null(double x) { return std::isfinite(x) ? json::Value(x) : json::Value(); }

// The page's look and behaviour; the data come in the JSON element.
constexpr std::string_view kStyle = R"CSS(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#222;background:#fff}
header,main{padding:0 18px}
h1{font-size:18px;margin:12px 0 2px}
.summary{color:#555;margin-bottom:6px}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.views{margin:6px 0}
.views button{font:inherit;margin-right:4px;padding:2px 10px;border:1px solid #bbb;background:#f4f4f4;border-radius:3px;cursor:pointer}
.views button.on{background:#333;color:#fff;border-color:#333}
#chart{position:sticky;top:0;background:#fff;padding:4px 0;z-index:2;border-bottom:1px solid #ddd}
.lane{display:flex;align-items:center;margin:2px 0}
.lane b{width:80px;font-weight:normal;font-size:12px;color:#555}
.lane svg{flex:1;height:48px;cursor:crosshair;background:#fafafa}
#text{font:13px/1.6 ui-monospace,"DejaVu Sans Mono",monospace;white-space:pre-wrap;word-break:break-all;margin:10px 0 16px}
#text .esc{opacity:.65;outline:1px dotted currentColor}
#text .flash{outline:2px solid #000}
#hover{position:fixed;right:12px;bottom:12px;background:#fff;border:1px solid #aaa;border-radius:4px;padding:6px 9px;
 font-size:12px;box-shadow:0 2px 8px rgba(0,0,0,.15);display:none;z-index:3;max-width:46vw}
#hover table,#masks{border-collapse:collapse}
#hover td,#hover th{padding:0 6px;text-align:right}
#masks td,#masks th{padding:3px 10px;border-bottom:1px solid #e4e4e4;text-align:right}
#hover td:first-child,#masks td:first-child,#hover th:first-child,#masks th:first-child{text-align:left}
#errors{display:none;background:#fee;color:#900;border:1px solid #c00;padding:8px;margin:8px 18px;white-space:pre-wrap}
.note{color:#777;font-size:12px}
)CSS";

constexpr std::string_view kScript = R"JS(
"use strict";
(function () {
  const errors = document.getElementById("errors");
  function report(message) {
    errors.style.display = "block";
    errors.textContent += message + "\n";
    document.documentElement.setAttribute("data-status", "error");
  }
  window.addEventListener("error", function (e) { report("error: " + e.message); });
  window.addEventListener("unhandledrejection", function (e) { report("unhandled rejection: " + e.reason); });
  try {
    render(JSON.parse(document.getElementById("simulacra-data").textContent));
    if (document.documentElement.getAttribute("data-status") !== "error")
      document.documentElement.setAttribute("data-status", "ok");
  } catch (e) {
    report("error: " + (e && e.stack ? e.stack : e));
  }

  function bytes(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; ++i) out[i] = s.charCodeAt(i);
    return out;
  }
  function el(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function rgba(hex, a) {
    return "rgba(" + [1, 3, 5].map(function (i) { return parseInt(hex.substr(i, 2), 16); }).join(",") + "," + a + ")";
  }
  // The last index i with a[i] <= x (a ascending, a[0] <= x).
  function floorIndex(a, x) {
    let lo = 0, hi = a.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a[mid] <= x) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  function render(d) {
    const K = d.names.length, T = d.tokens;
    document.getElementById("title").textContent = d.title;
    document.getElementById("summary").textContent = d.summary;
    let css = "";
    for (let k = 0; k < K; ++k)
      css += ".m" + k + "{color:" + d.colors[k] + ";background:" + rgba(d.colors[k], 0.13) + "}\n";
    document.getElementById("mask-style").textContent = css;
    const legend = document.getElementById("legend");
    for (let k = 0; k < K; ++k) {
      const s = el("span");
      const i = el("i");
      i.style.background = d.colors[k];
      s.appendChild(i);
      s.appendChild(document.createTextNode(d.names[k]));
      legend.appendChild(s);
    }

    // Glyphs: code = (tokens - 1) | (UTF-16 units - 1) << 2 | escaped << 4.
    const codes = bytes(d.glyphs), G = codes.length;
    const unitStart = new Int32Array(G + 1), tokenStart = new Int32Array(G + 1);
    for (let g = 0; g < G; ++g) {
      tokenStart[g + 1] = tokenStart[g] + (codes[g] & 3) + 1;
      unitStart[g + 1] = unitStart[g] + ((codes[g] >> 2) & 3) + 1;
    }
    if (tokenStart[G] !== T || unitStart[G] !== d.text.length) throw new Error("the glyphs do not cover the text");

    const views = d.views.map(function (v) {
      const owner = new Int32Array(T);
      for (let r = 0; r < v.runs.length; r += 2) {
        const end = r + 2 < v.runs.length ? v.runs[r + 2] : T;
        owner.fill(v.runs[r + 1], v.runs[r], end);
      }
      return { key: v.key, label: v.label, owner: owner, weights: v.weights ? bytes(v.weights) : null,
               chart: bytes(v.chart), columns: v.columns };
    });
    const logprob = bytes(d.logprob);

    // ---- the text, as runs of one mask (escapes in their own element)
    const text = document.getElementById("text");
    let nodeStarts = [], nodes = [];
    function draw(view) {
      text.textContent = "";
      nodeStarts = [];
      nodes = [];
      const frag = document.createDocumentFragment();
      let g = 0;
      while (g < G) {
        const k = view.owner[tokenStart[g + 1] - 1], escaped = (codes[g] >> 4) & 1;
        let h = g + 1;
        if (!escaped)
          while (h < G && !((codes[h] >> 4) & 1) && view.owner[tokenStart[h + 1] - 1] === k) ++h;
        const span = el("span", { class: "m" + k + (escaped ? " esc" : "") });
        const node = document.createTextNode(d.text.substring(unitStart[g], unitStart[h]));
        span.appendChild(node);
        frag.appendChild(span);
        node._simulacraStart = unitStart[g];
        nodeStarts.push(unitStart[g]);
        nodes.push(node);
        g = h;
      }
      text.appendChild(frag);
    }

    // ---- the chart: a lane per view, each column the mean weights of its tokens
    const chart = document.getElementById("chart");
    const cursors = [];
    views.forEach(function (v) {
      const lane = el("div", { class: "lane" });
      lane.appendChild(el("b", {}, v.label));
      const P = v.columns;
      const s = svg("svg", { viewBox: "0 0 " + P + " 1", preserveAspectRatio: "none" });
      const base = new Float64Array(P + 1);
      const sum = new Float64Array(P);
      for (let c = 0; c < P; ++c) for (let k = 0; k < K; ++k) sum[c] += v.chart[c * K + k];
      for (let k = 0; k < K; ++k) {
        let top = "", bottom = "";
        for (let c = 0; c < P; ++c) {
          const lo = base[c], hi = lo + (sum[c] > 0 ? v.chart[c * K + k] / sum[c] : 0);
          top += (c ? "L" : "M") + c + " " + (1 - lo).toFixed(4) + "H" + (c + 1);
          bottom = "L" + (c + 1) + " " + (1 - hi).toFixed(4) + "H" + c + bottom;
          base[c] = hi;
        }
        s.appendChild(svg("path", { d: top + bottom + "Z", fill: d.colors[k], "shape-rendering": "crispEdges" }));
      }
      const cursor = svg("line", { x1: 0, x2: 0, y1: 0, y2: 1, stroke: "#000", "stroke-width": P / 400,
                                   visibility: "hidden" });
      s.appendChild(cursor);
      cursors.push({ line: cursor, columns: P });
      s.addEventListener("click", function (e) {
        const r = s.getBoundingClientRect();
        jump(Math.min(T - 1, Math.floor((e.clientX - r.left) / r.width * T)));
      });
      lane.appendChild(s);
      chart.appendChild(lane);
    });

    // ---- hover: every mask's weight in every view
    const hover = document.getElementById("hover");
    function glyphAt(node, offset) {
      if (!node || node._simulacraStart === undefined) return -1;
      return Math.min(G - 1, floorIndex(unitStart, node._simulacraStart + Math.min(offset, node.length - 1)));
    }
    function caret(x, y) {
      if (document.caretPositionFromPoint) {
        const p = document.caretPositionFromPoint(x, y);
        return p ? [p.offsetNode, p.offset] : null;
      }
      const r = document.caretRangeFromPoint ? document.caretRangeFromPoint(x, y) : null;
      return r ? [r.startContainer, r.startOffset] : null;
    }
    function show(g) {
      const t = tokenStart[g + 1] - 1;
      const shown = d.text.substring(unitStart[g], unitStart[g + 1]).replace("\n", "");
      hover.textContent = "";
      const lp = logprob[2 * t] | (logprob[2 * t + 1] << 8);
      hover.appendChild(el("div", {}, "token " + t + (tokenStart[g + 1] - tokenStart[g] > 1 ? " (bytes " + tokenStart[g] +
                          ".." + t + ")" : "") + ": \u201c" + shown + "\u201d   ln p = " +
                          (lp === 65535 ? "-\u221e" : (-lp / 100).toFixed(2))));
      const table = el("table");
      const head = el("tr");
      head.appendChild(el("th", {}, "mask"));
      views.forEach(function (v) { head.appendChild(el("th", {}, v.label)); });
      table.appendChild(head);
      for (let k = 0; k < K; ++k) {
        const row = el("tr");
        const name = el("td", { class: "m" + k }, d.names[k]);
        row.appendChild(name);
        views.forEach(function (v) {
          const lead = v.owner[t] === k;
          const cell = el("td", {}, v.weights ? pct(v.weights[t * K + k] / 255) : (lead ? "\u25cf" : ""));
          if (lead) cell.style.fontWeight = "bold";
          row.appendChild(cell);
        });
        table.appendChild(row);
      }
      hover.appendChild(table);
      hover.style.display = "block";
      cursors.forEach(function (c) {
        const x = (t + 0.5) / T * c.columns;
        c.line.setAttribute("x1", x);
        c.line.setAttribute("x2", x);
        c.line.setAttribute("visibility", "visible");
      });
    }
    text.addEventListener("mousemove", function (e) {
      const c = caret(e.clientX, e.clientY);
      const g = c ? glyphAt(c[0], c[1]) : -1;
      if (g >= 0) show(g);
    });
    function jump(t) {
      if (T === 0) return;
      const g = floorIndex(tokenStart, t), u = unitStart[g];
      const i = floorIndex(nodeStarts, u);
      const span = nodes[i].parentNode;
      span.scrollIntoView({ block: "center" });
      span.classList.add("flash");
      setTimeout(function () { span.classList.remove("flash"); }, 900);
      show(g);
    }

    // ---- the view buttons
    const buttons = document.getElementById("views");
    views.forEach(function (v, i) {
      const b = el("button", { type: "button", "data-view": v.key }, v.label);
      b.addEventListener("click", function () { select(i); });
      buttons.appendChild(b);
    });
    function select(i) {
      Array.prototype.forEach.call(buttons.children, function (b, j) { b.className = i === j ? "on" : ""; });
      draw(views[i]);
    }
    select(0);

    // ---- the table per mask
    const masks = document.getElementById("masks");
    const head = el("tr");
    head.appendChild(el("th", {}, "mask"));
    views.forEach(function (v) { head.appendChild(el("th", {}, "leads (" + v.label + ")")); });
    views.forEach(function (v) { if (v.weights) head.appendChild(el("th", {}, "mean weight (" + v.label + ")")); });
    head.appendChild(el("th", {}, "own ln p (nats)"));
    head.appendChild(el("th", {}, "bits / token"));
    masks.appendChild(head);
    d.table.forEach(function (m, k) {
      const row = el("tr");
      row.appendChild(el("td", { class: "m" + k }, d.names[k]));
      m.leads.forEach(function (x) { row.appendChild(el("td", {}, pct(x))); });
      m.mean_weight.forEach(function (x) { row.appendChild(el("td", {}, pct(x))); });
      row.appendChild(el("td", {}, m.logprob === null ? "-\u221e" : m.logprob.toFixed(2)));
      row.appendChild(el("td", {}, m.bits_per_token === null ? "\u221e" : m.bits_per_token.toFixed(3)));
      masks.appendChild(row);
    });

    // Where the parts are drawn, for tests and tools (page coordinates, CSS pixels).
    function box(e) {
      const r = e.getBoundingClientRect();
      return [Math.round(r.left + scrollX), Math.round(r.top + scrollY), Math.round(r.width), Math.round(r.height)].join(",");
    }
    document.documentElement.setAttribute("data-chart-box", box(chart));
    document.documentElement.setAttribute("data-text-box", box(text));
    document.documentElement.setAttribute("data-text-runs", String(nodes.length));
  }
})();
)JS";

}  // namespace

std::string persona_color(int k) {
  SIMULACRA_CHECK(k >= 0, InvalidArgument, "persona_color: persona {} is negative", k);
  static constexpr const char* kTab10[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  if (k < 10) return kTab10[k];
  // HSL(h, 65%, 45%) with h a golden angle apart per persona.
  const double h = std::fmod(double(k - 10) * 137.50776405 + 15.0, 360.0) / 60.0, s = 0.65, l = 0.45;
  const double c = (1 - std::abs(2 * l - 1)) * s, x = c * (1 - std::abs(std::fmod(h, 2.0) - 1)), m = l - c / 2;
  double r = 0, g = 0, b = 0;
  switch (int(h)) {
    case 0: r = c, g = x; break;
    case 1: r = x, g = c; break;
    case 2: g = c, b = x; break;
    case 3: g = x, b = c; break;
    case 4: r = x, b = c; break;
    default: r = c, b = x;
  }
  const auto byte = [m](double v) { return int(std::lround((v + m) * 255)); };
  return fmt::format("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b));
}

TraceViews trace_views(const Mixture& mixture, const std::vector<Token>& tokens, const Trace& trace) {
  TraceViews views;
  if (mixture.segmentation_config().switching == Switching::kForgetting) return views;
  views.smoothed = smooth(mixture, tokens, trace.persona_logprobs);
  views.viterbi = attribute_spans(mixture, tokens, trace);
  return views;
}

std::string trace_html(const std::vector<Token>& tokens, const std::vector<std::string>& names, const Trace& trace,
                       const TraceViews& views, const TraceHtmlOptions& options) {
  const std::size_t T = tokens.size(), K = names.size();
  SIMULACRA_CHECK(K >= 1, InvalidArgument, "trace_html: no persona names");
  SIMULACRA_CHECK(trace.size() == T && std::size_t(trace.log_weights.rows()) == T &&
                      std::size_t(trace.log_weights.cols()) == K && std::size_t(trace.persona_logprobs.rows()) == T &&
                      std::size_t(trace.persona_logprobs.cols()) == K && trace.dominant.size() == T,
                  InvalidArgument, "trace_html: {} tokens and {} names for a trace of {} x {} weights", T, K,
                  trace.log_weights.rows(), trace.log_weights.cols());
  SIMULACRA_CHECK(options.chart_columns >= 1, InvalidArgument, "trace_html: chart_columns must be at least 1");
  for (std::size_t t = 0; t < T; ++t)
    SIMULACRA_CHECK(tokens[t] >= 0 && tokens[t] < kVocab, OutOfRange,
                    "trace_html: token {} at position {} is outside 0..{}", tokens[t], t, kVocab - 1);
  if (views.smoothed)
    SIMULACRA_CHECK(std::size_t(views.smoothed->weights.rows()) == T && std::size_t(views.smoothed->weights.cols()) == K &&
                        views.smoothed->dominant.size() == T,
                    InvalidArgument, "trace_html: smoothed weights of {} x {} for {} tokens and {} personas",
                    views.smoothed->weights.rows(), views.smoothed->weights.cols(), T, K);
  if (views.viterbi) {
    SIMULACRA_CHECK(views.viterbi->path.size() == T, InvalidArgument, "trace_html: a Viterbi path of {} for {} tokens",
                    views.viterbi->path.size(), T);
    for (std::size_t t = 0; t < T; ++t)
      SIMULACRA_CHECK(views.viterbi->path[t] >= 0 && std::size_t(views.viterbi->path[t]) < K, OutOfRange,
                      "trace_html: the Viterbi path's mask {} at position {} is outside 0..{}", views.viterbi->path[t],
                      t, K - 1);
  }

  // ---- the views
  std::vector<View> all;
  {
    View f{"filtered", "filtered", std::vector<int>(T), filtered_after(trace)};
    for (std::size_t t = 0; t < T; ++t) f.owner[t] = t + 1 < T ? trace.dominant[t + 1] : argmax(f.weights, Eigen::Index(t));
    all.push_back(std::move(f));
  }
  if (views.smoothed) all.push_back({"smoothed", "smoothed", views.smoothed->dominant, views.smoothed->weights});
  if (views.viterbi) {
    View v{"viterbi", "Viterbi", views.viterbi->path, Eigen::MatrixXd::Zero(Eigen::Index(T), Eigen::Index(K))};
    for (std::size_t t = 0; t < T; ++t) v.weights(Eigen::Index(t), v.owner[t]) = 1.0;
    all.push_back(std::move(v));
  }

  // ---- the glyphs: the bytes between boundaries as glyphs_of cuts them
  std::string shown;
  std::vector<std::uint8_t> codes;
  std::size_t bytes = 0;
  const auto add_glyph = [&](const std::string& s, std::size_t ntok, bool escaped) {
    shown += s;
    const std::size_t units = utf16_units(s);
    codes.push_back(std::uint8_t((ntok - 1) | (units - 1) << 2 | (escaped ? 16 : 0)));
  };
  for (std::size_t t = 0; t < T;) {
    if (tokens[t] == kBoundary) {
      add_glyph("\u23ce\n", 1, true);
      ++t;
      continue;
    }
    std::size_t end = t;
    std::string segment;
    std::vector<int> index;  // the token of each byte: glyphs_of's owner is then its last token
    for (; end < T && tokens[end] != kBoundary; ++end) {
      segment.push_back(static_cast<char>(tokens[end]));
      index.push_back(int(end));
    }
    bytes += segment.size();
    std::size_t first = t;
    for (const Glyph& g : glyphs_of(segment, index)) {
      const std::size_t last = std::size_t(g.owner), ntok = last + 1 - first;
      const bool escaped = ntok == 1 ? g.shown != std::string(1, static_cast<char>(tokens[first])) : false;
      add_glyph(g.shown, ntok, escaped);
      first = last + 1;
    }
    t = end;
  }

  // ---- per-token data and the chart
  const std::size_t P = std::max<std::size_t>(1, std::min(T, options.chart_columns));
  json::Array view_json;
  for (const View& v : all) {
    json::Object o{{"key", v.key}, {"label", v.label}, {"runs", runs_of(v.owner)}};
    if (v.key != "viterbi") {
      std::vector<std::uint8_t> w(T * K);
      for (std::size_t t = 0; t < T; ++t)
        for (std::size_t k = 0; k < K; ++k) w[t * K + k] = quantised(v.weights(Eigen::Index(t), Eigen::Index(k)));
      o.emplace_back("weights", base64(w));
    }
    std::vector<std::uint8_t> chart(P * K, 0);
    for (std::size_t c = 0; c < P && T > 0; ++c) {
      const std::size_t a = c * T / P, b = (c + 1) * T / P;
      for (std::size_t k = 0; k < K; ++k) {
        const double mean = v.weights.block(Eigen::Index(a), Eigen::Index(k), Eigen::Index(b - a), 1).mean();
        chart[c * K + k] = quantised(mean);
      }
    }
    o.emplace_back("chart", base64(chart));
    o.emplace_back("columns", static_cast<long long>(T > 0 ? P : 1));
    view_json.emplace_back(std::move(o));
  }
  std::vector<std::uint8_t> logprob(2 * T);
  for (std::size_t t = 0; t < T; ++t) {
    const double lp = trace.logprobs[Eigen::Index(t)];
    const double v = std::isfinite(lp) ? std::round(-lp * 100.0) : 65535.0;
    const auto q = std::uint16_t(std::clamp(v, 0.0, 65535.0));
    logprob[2 * t] = std::uint8_t(q & 0xFF);
    logprob[2 * t + 1] = std::uint8_t(q >> 8);
  }

  // ---- the table per mask
  json::Array table;
  for (std::size_t k = 0; k < K; ++k) {
    json::Array leads, mean;
    for (const View& v : all) {
      const auto n = std::count(v.owner.begin(), v.owner.end(), int(k));
      leads.emplace_back(T ? double(n) / double(T) : 0.0);
      if (v.key != "viterbi") mean.emplace_back(T ? v.weights.col(Eigen::Index(k)).mean() : 0.0);
    }
    const double own = T ? trace.persona_logprobs.col(Eigen::Index(k)).sum() : 0.0;
    table.emplace_back(json::Object{{"leads", std::move(leads)},
                                    {"mean_weight", std::move(mean)},
                                    {"logprob", number_or_null(own)},
                                    {"bits_per_token", T ? number_or_null(-own / (double(T) * std::log(2.0))) : json::Value(0.0)}});
  }

  std::string summary = fmt::format("{} tokens ({} bytes), {} masks; mixture ln p = {:.2f} nats", T, bytes, K,
                                    T ? trace.total_logprob() : 0.0);
  if (views.smoothed) summary += fmt::format("; smoothed log-likelihood {:.2f}", views.smoothed->log_likelihood);
  if (views.viterbi) summary += fmt::format("; Viterbi: {} spans, log joint {:.2f}", views.viterbi->spans.size(),
                                            views.viterbi->log_joint);
  if (T > options.chart_columns) summary += fmt::format("; chart: {} columns of about {} tokens", P, (T + P - 1) / P);
  json::Array shown_names, colors;
  for (std::size_t k = 0; k < K; ++k) {
    shown_names.emplace_back(shown_text(names[k]));
    colors.emplace_back(persona_color(int(k)));
  }
  const std::string title = shown_text(options.title);
  const json::Value data(json::Object{{"version", 1},
                                      {"title", title},
                                      {"summary", summary},
                                      {"names", std::move(shown_names)},
                                      {"colors", std::move(colors)},
                                      {"tokens", static_cast<long long>(T)},
                                      {"bytes", static_cast<long long>(bytes)},
                                      {"text", shown},
                                      {"glyphs", base64(codes)},
                                      {"logprob", base64(logprob)},
                                      {"views", std::move(view_json)},
                                      {"table", std::move(table)}});

  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"simulacra trace_html\">\n";
  out += "<title>" + html_escaped(title) + "</title>\n<style>";
  out += kStyle;
  out += "</style>\n<style id=\"mask-style\"></style>\n</head>\n<body>\n";
  out += "<header><h1 id=\"title\">" + html_escaped(title) + "</h1><div class=\"summary\" id=\"summary\"></div>";
  out += "<div class=\"legend\" id=\"legend\"></div>";
  out += "<div class=\"views\"><span class=\"note\">colour by: </span><span id=\"views\"></span></div>";
  out += "<noscript>This page draws the trace with JavaScript; the data are in the page as JSON.</noscript></header>\n";
  out += "<div id=\"errors\"></div>\n<main>\n<div id=\"chart\"></div>\n";
  out += "<div class=\"note\">The chart: each mask's weight over the text (a lane per view); click to jump there. "
         "Hover a character for every mask's weight.</div>\n";
  out += "<div id=\"text\"></div>\n<table id=\"masks\"></table>\n";
  out += "<p class=\"note\">filtered: the filter's weights after reading each token; smoothed: the posterior given "
         "the whole text (forward-backward); Viterbi: the most likely path of masks. Own ln p: the mask's natural-log "
         "probability of the traced tokens alone.</p>\n</main>\n<div id=\"hover\"></div>\n";
  out += "<script type=\"application/json\" id=\"simulacra-data\">";
  out += script_safe(json::dump(data));
  out += "</script>\n<script>";
  out += kScript;
  out += "</script>\n</body>\n</html>\n";
  return out;
}

void write_trace_html(const std::string& path, const std::vector<Token>& tokens, const std::vector<std::string>& names,
                      const Trace& trace, const TraceViews& views, const TraceHtmlOptions& options) {
  write_file_atomic(path, trace_html(tokens, names, trace, views, options));
}

}  // namespace simulacra
