"""Every ```python block of README.md and docs/*.md runs, in order, per file.

Blocks that load MNIST run separately, against the folder of IDX files the
``mnist_dir`` fixture finds (``CSOFTMAX_MNIST_DIR``, else ../shared/data/mnist),
and are skipped when there is none, so that no test downloads MNIST.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
NEEDS_MNIST = "load_mnist("


def blocks_of(path, *, mnist):
    """The python blocks of ``path`` that load MNIST (or those that do not)."""
    return [b for b in BLOCK.findall(path.read_text()) if (NEEDS_MNIST in b) == mnist]


def run_blocks(path, blocks):
    namespace = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_code_blocks_run(path):
    blocks = blocks_of(path, mnist=False)
    assert blocks, f"{path.name} has no runnable python block"
    run_blocks(path, blocks)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_estimator_example_runs_on_mnist(mnist_dir, monkeypatch):
    # The shared folder holds only the 10,000 test images (n_train == 0); a
    # full MNIST folder works the same way, with its own split.
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", str(mnist_dir))
    blocks = blocks_of(ROOT / "README.md", mnist=True)
    assert len(blocks) == 1

    with contextlib.redirect_stdout(io.StringIO()) as out:
        run_blocks(ROOT / "README.md", blocks)

    assert float(out.getvalue()) > 0.9  # the printed test accuracy
