"""Every Python block of README.md and docs/**/*.md runs, in order, per file.

Blocks are found as a Markdown renderer finds them (``tests/helpers/markdown.py``): any
fence of backticks or tildes whose language is Python, in any spelling, indented or nested
in a MyST directive. A fence with no language fails the test rather than being skipped.
Blocks written as a ``>>>`` session run as doctests, in the same namespace: a name a
session defines is seen by the blocks after it.

Blocks that load MNIST run separately, against the folder of IDX files the
``mnist_dir`` fixture finds (``CSOFTMAX_MNIST_DIR``, else ../shared/data/mnist),
and are skipped when there is none, so that no test downloads MNIST.
"""

import contextlib
import doctest
import io
from pathlib import Path

import pytest

from helpers.markdown import fenced_blocks, python_blocks

ROOT = Path(__file__).resolve().parents[1]
# Figures without code: the benchmark suite's output and the file that shows it.
FIGURES_ONLY = {"_build", "benchmarks", "benchmark_results.md"}
FILES = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").rglob("*.md")
    if not FIGURES_ONLY & set(p.relative_to(ROOT / "docs").parts)
)
NEEDS_MNIST = "load_mnist("


def blocks_of(path, *, mnist):
    """The python blocks of ``path`` that load MNIST (or those that do not)."""
    return [b for b in python_blocks(path.read_text()) if (NEEDS_MNIST in b.code) == mnist]


def run_blocks(path, blocks):
    namespace = {"__name__": "__docs__"}
    for block in blocks:
        # Pad with newlines so that a traceback names the line in the Markdown file.
        if block.code.lstrip().startswith(">>>"):
            test = doctest.DocTestParser().get_doctest(
                block.code, namespace, path.name, str(path), block.line)
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS
                                           | doctest.NORMALIZE_WHITESPACE)
            report = []
            runner.run(test, out=report.append, clear_globs=False)
            assert runner.failures == 0, "".join(report)
            namespace.update(test.globs)  # a session's names serve the blocks after it
        else:
            source = "\n" * block.line + block.code
            exec(compile(source, str(path), "exec"), namespace)


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
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


SAMPLE = """\
Text.

```python
a = 1
```

~~~py
b = 2
~~~

  ``` Python  {.numberLines}
  c = 3
  ```

````python
d = '''
```
'''
````

```{code-block} python
e = 5
```

:::{note}
not a fence
:::

````{note}
```python
f = 6
```
````

```bash
echo not python
```

```text
```python
```

- a list item

    ```python
    g = 7
    ```
"""


def test_fence_collection_is_robust():
    blocks = python_blocks(SAMPLE.replace("\n", "\r\n"))
    namespace = {}
    for b in blocks:
        exec(b.code, namespace)
    assert [k for k in namespace if len(k) == 1] == ["a", "b", "c", "d", "e", "f", "g"]
    assert [b.language for b in fenced_blocks(SAMPLE)].count("text") == 1


@pytest.mark.parametrize("fence", ["```\nx = 1\n```\n", "```pyhton\nx = 1\n```\n"])
def test_fence_without_a_known_language_is_an_error(fence):
    with pytest.raises(ValueError, match="line 1"):
        python_blocks(fence)
