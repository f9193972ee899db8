"""The README's examples are the files in examples/, and the Python one runs."""

import re
import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_block(language):
    blocks = re.findall(r"```" + language + r"\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) == 1, f"expected one {language} block in README.md"
    return blocks[0]


def test_readme_cpp_example_is_the_compiled_file():
    assert readme_block("cpp") == (ROOT / "examples" / "readme_example.cpp").read_text()


def test_readme_python_example_is_the_file_and_runs(tmp_path, monkeypatch, capsys):
    source = ROOT / "examples" / "readme_example.py"
    assert readme_block("python") == source.read_text()
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(source), run_name="__main__")
    out = capsys.readouterr().out
    accuracy = float(re.search(r"held-out attribution: ([0-9.]+)%", out).group(1))
    assert accuracy >= 95.0
    assert (tmp_path / "pile.safetensors").stat().st_size > 0
