"""Runs every notebook of examples/notebooks and renders it, outputs included, to docs/notebooks/<name>.html
(run: .venv/bin/python docs/render_notebooks.py [--out DIR] [NAME ...]).

The .ipynb files are committed without outputs (tests/python/test_notebooks.py checks that); the pages here
are what they show when run with this library: self-contained HTML (plots embedded as PNG, no network).
Needs the installed simulacra package, matplotlib, nbclient and nbconvert (the `test` extra); the play
notebook needs ../shared/data/tinyshakespeare.txt.
"""

import argparse
import re
import sys
from pathlib import Path

import nbclient
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "examples" / "notebooks"


def render(path: Path, out_dir: Path, timeout: int = 300, kernel_name: str = "python3") -> Path:
    """Executes the notebook at `path` (working directory: its folder; "python3" is this interpreter's own
    kernel) and writes its HTML page to out_dir / <stem>.html; returns that path. CellExecutionError on a
    cell error."""
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(nb, kernel_name=kernel_name, timeout=timeout, allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    html, _ = HTMLExporter(embed_images=True).from_notebook_node(nb)
    # Self-contained: the template's scripts from a CDN (require.js, MathJax) go; nothing here needs them.
    html = re.sub(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>', "", html)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{path.stem}.html"
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)  # never a half-written page
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook stems (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "notebooks", help="where the pages go")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        known = {p.stem: p for p in paths}
        missing = [n for n in args.names if n not in known]
        if missing:
            sys.exit(f"render_notebooks: no notebook named {', '.join(missing)} (have: {', '.join(known)})")
        paths = [known[n] for n in args.names]
    for path in paths:
        target = render(path, args.out)
        print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
              f"{target.stat().st_size // 1024} KB", flush=True)


if __name__ == "__main__":
    main()
