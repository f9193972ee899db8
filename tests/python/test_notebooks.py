"""Every notebook in examples/notebooks runs headless without a cell error (outputs are not written back)."""

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = Path(__file__).parents[2] / "examples" / "notebooks"
KERNEL = "simulacra-test-python"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory):
    """A kernel spec running this very interpreter (the one simulacra is installed in)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "simulacra tests",
                "language": "python",
            }
        )
    )
    return root


def test_notebooks_exist():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == [
        "jailbreak_mask_swap.ipynb",
        "masks_of_a_play.ipynb",
        "pile_of_masks.ipynb",
    ]


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebook_runs(path, kernel_path, monkeypatch, request):
    if path.stem == "masks_of_a_play":
        request.getfixturevalue("shakespeare")  # skips when the play is missing
    committed = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in committed.cells if c.cell_type == "code"), (
        f"{path.name} has committed outputs"
    )
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(
        committed,
        kernel_name=KERNEL,
        timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on any cell error
    outputs = [o for c in committed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # Plots and the HTML trace were displayed.
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert any("simulacra-trace" in o.get("data", {}).get("text/html", "") for o in outputs)


def test_render_notebooks_writes_a_self_contained_page(kernel_path, monkeypatch, tmp_path):
    """docs/render_notebooks.py: the notebook run and rendered with its outputs, plots embedded, no CDN scripts."""
    pytest.importorskip("nbconvert")
    import importlib.util

    spec = importlib.util.spec_from_file_location("render_notebooks", NOTEBOOKS.parents[1] / "docs" / "render_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    page = module.render(NOTEBOOKS / "pile_of_masks.ipynb", tmp_path, timeout=120, kernel_name=KERNEL)
    html = page.read_text(encoding="utf-8")
    assert page == tmp_path / "pile_of_masks.html"
    assert "simulacra-trace" in html                      # the trace's HTML view
    assert html.count("data:image/png;base64") >= 2        # the plots, embedded
    assert "What the steering shows" in html               # the prose with the numbers it reads
    assert "Vote: 6 personas" in html                      # an output
    assert 'src="http' not in html                          # nothing fetched from the network
