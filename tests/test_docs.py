"""Every ```python block of README.md and docs/*.md runs, in order, per file."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FILES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# The README's estimator example needs MNIST from the network; it runs in test_datasets and
# test_main against local and offline data instead.
NEEDS_NETWORK = "load_mnist()"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_code_blocks_run(path):
    blocks = [b for b in BLOCK.findall(path.read_text()) if NEEDS_NETWORK not in b]
    assert blocks, f"{path.name} has no runnable python block"
    namespace = {}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
