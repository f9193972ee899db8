"""Trace.to_html in a real browser: Debian's chromium, headless.

Each page is loaded twice: once with --dump-dom (the DOM after the page's
script ran, with the console on stderr) and once with --screenshot. A page
passes when its script marked it data-status="ok" and the console printed
nothing (the page logs nothing itself: any console message is an error or an
uncaught exception); the check is shown to fail on pages with a deliberate
error. The screenshot's chart and text boxes (which the page writes on its
<html> element) must hold enough pixels of each leading mask's colour.

Skipped only when chromium is absent and the CI environment variable is not
set: in CI a missing browser fails the test.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import simulacra
import simulacra.plot

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
if BROWSER is None:
    if os.environ.get("CI"):
        raise RuntimeError("chromium is needed by the browser tests in CI: apt-get install chromium (scripts/setup.sh)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI runs these tests", allow_module_level=True)

WIDTH, HEIGHT = 1200, 1500


def chromium(page: Path, *flags: str) -> subprocess.CompletedProcess:
    profile = page.parent / f"profile-{page.stem}"
    return subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", f"--user-data-dir={profile}",
         "--force-device-scale-factor=1", f"--window-size={WIDTH},{HEIGHT}", "--enable-logging=stderr", "--v=0",
         *flags, page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )


def load(page: Path) -> tuple:
    """(the DOM after the script ran, the console messages)."""
    run = chromium(page, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return run.stdout, console


def problems(dom: str, console: list) -> list:
    """What is wrong with a loaded page: console messages, or a status other than ok."""
    status = re.search(r'<html[^>]* data-status="([a-z]+)"', dom)
    out = list(console)
    if status is None or status.group(1) != "ok":
        out.append(f"status {status.group(1) if status else 'missing'}")
    return out


def html_attr(dom: str, name: str) -> str:
    m = re.search(rf'<html[^>]* {name}="([^"]*)"', dom)
    assert m, f"{name} is not on <html>"
    return html.unescape(m.group(1))


def screenshot(page: Path) -> np.ndarray:
    from PIL import Image

    png = page.with_suffix(".png")
    run = chromium(page, f"--screenshot={png}")
    assert png.exists(), run.stderr[-2000:]
    with Image.open(png) as im:
        return np.asarray(im.convert("RGB")).astype(int)


def rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])


def pixels_near(img: np.ndarray, box: str, color: np.ndarray, tol: int = 24) -> int:
    x, y, w, h = (int(v) for v in box.split(","))
    region = img[y : min(y + h, img.shape[0]), x : x + w]
    return int((np.abs(region - color).max(axis=2) <= tol).sum())


def with_probe(page: Path, script: str) -> Path:
    """A copy of page with a script run after the page's own (it reports into data-probe on <html>)."""
    probe = page.with_name(page.stem + "-probe.html")
    text = page.read_text(encoding="utf-8")
    probe.write_text(text.replace("</body>", f"<script>{script}</script></body>"), encoding="utf-8")
    return probe


PROBE = """
(function () {
  const out = {};
  const spans = document.querySelectorAll('#text span');
  out.runs = spans.length;
  const target = spans[%(span)d], r = target.getClientRects()[0];
  target.parentNode.dispatchEvent(new MouseEvent('mousemove', {bubbles: true,
      clientX: r.left + Math.min(3, r.width / 2), clientY: r.top + r.height / 2}));
  out.hover = Array.from(document.querySelectorAll('#hover tr')).map(
      tr => Array.from(tr.children).map(c => c.textContent));
  out.hover_head = document.querySelector('#hover div').textContent;
  out.filtered = Array.from(spans).map(s => s.className);
  document.querySelector('button[data-view="smoothed"]').click();
  out.smoothed = Array.from(document.querySelectorAll('#text span')).map(s => s.className);
  out.text = document.getElementById('text').textContent;
  out.table = Array.from(document.querySelectorAll('#masks tr')).map(
      tr => Array.from(tr.children).map(c => c.textContent));
  document.documentElement.setAttribute('data-probe', JSON.stringify(out));
})();
"""


@pytest.fixture(scope="module")
def mixed_text(builtin):
    pirate = builtin.texts_of("pirate")[0]
    poet = builtin.texts_of("poet")[0]
    return (pirate + b"\n" + poet).decode("utf-8")


def owners_of_glyph_spans(classes: list) -> list:
    return [int(re.match(r"m(\d+)", c).group(1)) for c in classes]


def test_page_of_the_pile_renders_and_shows_every_view(pile, mixed_text, tmp_path):
    trace = pile.trace(mixed_text)
    page = tmp_path / "pile.html"
    trace.to_html(page, title="pile <trace>")
    dom, console = load(page)
    assert problems(dom, console) == []
    assert "<title>pile &lt;trace&gt;</title>" in dom

    # The screenshot: every mask that leads the filtered view somewhere is drawn in the chart, and the text
    # (coloured by the filtered view at first) carries the tinted background of each mask leading some byte.
    img = screenshot(page)
    chart_box, text_box = html_attr(dom, "data-chart-box"), html_attr(dom, "data-text-box")
    colors = [simulacra.plot.PALETTE[k] for k in range(len(trace.personas))]
    weights = np.asarray(trace.weights)
    after = np.vstack([weights[1:], weights[-1:]])
    leaders = sorted(set(np.argmax(after, axis=1).tolist()))
    assert len(leaders) >= 2, "the text is the pirate's then the poet's: two masks lead"
    for k in leaders:
        assert pixels_near(img, chart_box, rgb(colors[k])) > 2000, (trace.personas[k], chart_box)
        tint = np.round(255 - 0.13 * (255 - rgb(colors[k])))
        assert pixels_near(img, text_box, tint, tol=6) > 500, (trace.personas[k], text_box)
    # Nothing else of the screenshot is a mask's full colour: the chart's pixels are in the chart.
    background = (np.abs(img - 255).max(axis=2) <= 8).mean()
    assert 0.3 < background < 0.98

    # Hover, the view buttons and the table, driven by a probe script.
    probe = with_probe(page, PROBE % {"span": 0})
    dom, console = load(probe)
    assert problems(dom, console) == []
    data = json.loads(html_attr(dom, "data-probe"))
    header, rows = data["hover"][0], data["hover"][1:]
    assert header == ["mask", "filtered", "smoothed", "Viterbi"]
    assert data["hover_head"].startswith("token 0:")
    smoothed = pile.smooth(mixed_text)
    path = pile.attribute_spans(mixed_text).path
    for k, row in enumerate(rows):
        assert row[0] == trace.personas[k]
        assert abs(float(row[1].rstrip("%")) - 100 * after[0, k]) < 0.25
        assert abs(float(row[2].rstrip("%")) - 100 * smoothed.weights[0, k]) < 0.25
        assert row[3] == ("\u25cf" if path[0] == k else "")
    # The text is every byte once; the spans' masks are each view's owners at their characters.
    assert data["text"] == mixed_text
    assert data["runs"] > 1
    filtered_owner = np.argmax(after, axis=1)
    assert owners_of_glyph_spans(data["filtered"]) == [int(k) for i, k in enumerate(filtered_owner)
                                                       if i == 0 or k != filtered_owner[i - 1]]
    dom_smoothed = owners_of_glyph_spans(data["smoothed"])
    dominant = np.asarray(smoothed.dominant)
    assert dom_smoothed == [int(k) for i, k in enumerate(dominant) if i == 0 or k != dominant[i - 1]]
    # The table per mask: each view's shares of leading tokens.
    table = data["table"]
    assert table[0][1:4] == ["leads (filtered)", "leads (smoothed)", "leads (Viterbi)"]
    for k, row in enumerate(table[1:]):
        assert row[0] == trace.personas[k]
        assert abs(float(row[2].rstrip("%")) - 100 * np.mean(dominant == k)) < 0.051
        assert abs(float(row[3].rstrip("%")) - 100 * np.mean(np.asarray(path) == k)) < 0.051


HOSTILE = (
    b"</script><script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
    b"<!-- \x00\x01\x1b[31m \xff\xfe \xc3\x28 \xe2\x82 caf\xc3\xa9 \xf0\x9f\x98\x80 "
    + bytes(range(256))
    + b" </SCRIPT> \xe2\x80\xa8 end"
)


def test_hostile_text_renders_as_text(pile, tmp_path):
    tokens = list(HOSTILE[:40]) + [256] + list(HOSTILE[40:]) + [256]
    trace = pile.trace(tokens)
    page = tmp_path / "hostile.html"
    trace.to_html(str(page))
    source = page.read_text(encoding="utf-8")  # valid UTF-8
    outside_data = re.sub(r'(id="simulacra-data">).*?(</script>)', r"\1\2", source, flags=re.S)
    assert not re.search(r"""(src|href)\s*=""", outside_data, re.I), "no resource is loaded"
    assert re.findall(r"https?://[^\"' ]*", outside_data) == ["http://www.w3.org/2000/svg"]  # a namespace, not a load
    probe = with_probe(page, "document.documentElement.setAttribute('data-probe', JSON.stringify("
                             "{title: document.title, scripts: document.scripts.length, imgs: document.images.length,"
                             " text: document.getElementById('text').textContent}));")
    dom, console = load(probe)
    assert problems(dom, console) == []
    data = json.loads(html_attr(dom, "data-probe"))
    assert data["title"] == "simulacra trace"
    assert data["scripts"] == 3 and data["imgs"] == 0  # the page's two and the probe
    text = data["text"]
    assert text.startswith(HOSTILE[:40].decode() + "\u23ce\n" + HOSTILE[40:93].decode())
    for shown in ["\\x00\\x01\\x1b[31m", "\\xff\\xfe", "\\xc3( \\xe2\\x82 caf\u00e9 \U0001F600", "</SCRIPT>",
                  "\u2028 end\u23ce\n"]:
        assert shown in text, shown
    img = screenshot(page)
    assert pixels_near(img, html_attr(dom, "data-chart-box"), rgb(simulacra.plot.PALETTE[0]), tol=40) > 0 or \
        pixels_near(img, html_attr(dom, "data-chart-box"), rgb(simulacra.plot.PALETTE[1]), tol=40) > 0


def test_the_check_fails_on_a_broken_page(pile, tmp_path):
    page = tmp_path / "good.html"
    pile.trace("Arr, matey!").to_html(page)
    good = page.read_text(encoding="utf-8")
    # An uncaught exception in a script: the console says so.
    thrown = tmp_path / "thrown.html"
    thrown.write_text(good.replace("</body>", "<script>undefinedFunction();</script></body>"), encoding="utf-8")
    dom, console = load(thrown)
    assert any("undefinedFunction" in line for line in console), console
    assert problems(dom, console) != []
    # Damaged data: the page's script fails, reports it on the page, and the status is not ok.
    damaged = tmp_path / "damaged.html"
    damaged.write_text(good.replace('"glyphs":"', '"glyphs":"@@', 1), encoding="utf-8")
    dom, console = load(damaged)
    assert 'data-status="error"' in dom
    assert problems(dom, console) != []


def test_to_html_returns_the_page_and_its_options(pile, tmp_path):
    trace = pile.trace("Arr, matey! O silver moon.")
    page = trace.to_html()
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")
    out = tmp_path / "page.html"
    assert trace.to_html(out) is None
    assert out.read_text(encoding="utf-8") == page
    data = json.loads(re.search(r'id="simulacra-data">(.*?)</script>', page, re.S).group(1))
    assert [v["key"] for v in data["views"]] == ["filtered", "smoothed", "viterbi"]
    plain = json.loads(re.search(r'id="simulacra-data">(.*?)</script>', trace.to_html(views=False, chart_columns=5),
                                 re.S).group(1))
    assert [v["key"] for v in plain["views"]] == ["filtered"]
    assert plain["views"][0]["columns"] == 5
    assert data["colors"] == list(simulacra.plot.PALETTE[: len(trace.personas)])
    with pytest.raises(ValueError, match="chart_columns"):
        trace.to_html(chart_columns=0)
    with pytest.raises(simulacra.FileError):
        trace.to_html(tmp_path)  # a directory
