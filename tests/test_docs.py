"""Every Python block of README.md, docs/**/*.md and docs/**/*.rst runs, in order, per file.

Blocks are found as a Markdown renderer finds them (``tests/helpers/markdown.py``): any
fence of backticks or tildes whose language is Python, in any spelling, indented or nested
in a MyST directive. A fence with no language fails the test rather than being skipped.
Blocks written as a ``>>>`` session run as doctests, in the same namespace: a name a
session defines is seen by the blocks after it.

Blocks that load MNIST run separately, against the folder of IDX files the
``mnist_dir`` fixture finds (``CSOFTMAX_MNIST_DIR``, else ../shared/data/mnist),
and are skipped when there is none, so that no test downloads MNIST.

reStructuredText pages hold their code in ``code-block`` directives
(``tests/helpers/rst.py``); those with Python among them run the same way. Blocks that
import the ``export`` extra (skl2onnx, onnxruntime) run, after the page's other blocks, in
a test that skips without it; CI installs the extra and runs that test.
"""

import contextlib
import doctest
import io
import re
from pathlib import Path

import pytest

from helpers import rst
from helpers.checkout import checkout_file
from helpers.markdown import fenced_blocks, python_blocks

ROOT = Path(__file__).resolve().parents[1]
# Figures without code: the benchmark suite's output and the file that shows it.
FIGURES_ONLY = {"_build", "benchmarks", "benchmark_results.md"}
# Pages Sphinx writes during a build (the tutorials' pages, run as their .py sources by
# sphinx-gallery) are not sources.
GENERATED = {"_build", "auto_tutorials", "sg_execution_times.rst"}
RST_FILES = sorted(
    p for p in (ROOT / "docs").rglob("*.rst")
    if not GENERATED & set(p.relative_to(ROOT / "docs").parts)
    and rst.python_blocks(p.read_text())
)
FILES = [ROOT / "README.md"] + sorted(
    p for p in (ROOT / "docs").rglob("*.md")
    if not FIGURES_ONLY & set(p.relative_to(ROOT / "docs").parts)
) + RST_FILES
NEEDS_MNIST = "load_mnist("
EXPORT_MODULES = ("skl2onnx", "onnxruntime")  # the `export` extra


def needs_export(block):
    return any(re.search(rf"^\s*(import|from) {m}\b", block.code, re.M)
               for m in EXPORT_MODULES)


def all_blocks(path):
    if not path.exists():  # README.md, when the tests run outside a source checkout
        return []
    parse = rst.python_blocks if path.suffix == ".rst" else python_blocks
    return parse(path.read_text())


def blocks_of(path, *, mnist, export=False):
    """The python blocks of ``path`` that load MNIST (or those that do not); those that
    need the export extra only if ``export``."""
    return [b for b in all_blocks(path)
            if (NEEDS_MNIST in b.code) == mnist and (export or not needs_export(b))]


EXPORT_FILES = [p for p in FILES if any(needs_export(b) for b in all_blocks(p))]


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
    checkout_file(str(path.relative_to(ROOT)))
    blocks = blocks_of(path, mnist=False)
    assert blocks, f"{path.name} has no runnable python block"
    run_blocks(path, blocks)


@pytest.mark.parametrize("path", EXPORT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_export_blocks_run(path):
    for module in EXPORT_MODULES:
        pytest.importorskip(module)
    run_blocks(path, blocks_of(path, mnist=False, export=True))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_readme_estimator_example_runs_on_mnist(mnist_dir, monkeypatch):
    # The shared folder holds only the 10,000 test images (n_train == 0); a
    # full MNIST folder works the same way, with its own split.
    monkeypatch.setenv("CSOFTMAX_MNIST_DIR", str(mnist_dir))
    blocks = blocks_of(checkout_file("README.md"), mnist=True)
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


RST_SAMPLE = """\
Title
=====

.. code-block:: python
   :caption: first

   a = 1
   if a:
       b = 2

Prose.

  .. code:: py

     c = 3

.. code-block:: bash

   echo not python

.. note::

   .. sourcecode:: Python

      d = 4

::

   literal = "not code"
"""


def test_rst_code_block_collection():
    blocks = rst.python_blocks(RST_SAMPLE)
    namespace = {}
    for b in blocks:
        exec(b.code, namespace)
    assert [k for k in namespace if len(k) == 1] == ["a", "b", "c", "d"]
    assert "literal" not in namespace
    lines = RST_SAMPLE.split("\n")
    assert [lines[b.line] for b in blocks] == ["   a = 1", "     c = 3", "      d = 4"]


@pytest.mark.parametrize("directive", [".. code-block::\n\n   x = 1\n",
                                       ".. code-block:: pyhton\n\n   x = 1\n"])
def test_rst_block_without_a_known_language_is_an_error(directive):
    with pytest.raises(ValueError, match="line 2"):
        rst.python_blocks(directive)
