"""Sphinx configuration of csoftmax's documentation.

Build (from the repository root, after ``pip install -e ".[docs]"``):

    sphinx-build -W --keep-going docs docs/_build/html

The site builds offline: formulas are MathML written at build time (``_ext/mathml.py``),
nothing is fetched, and the tutorials run during the build (sphinx-gallery) on small
data: the MNIST folder of ``CSOFTMAX_MNIST_DIR`` when set, else scikit-learn's bundled
8x8 digits.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
# Document this checkout, not whichever csoftmax is installed: sphinx-build's own directory,
# not the working directory, heads sys.path. (A checkout without the compiled extension
# falls back to the installed package.)
if any((HERE.parent / "csoftmax").glob("_core*.so")) or any(
        (HERE.parent / "csoftmax").glob("_core*.pyd")):
    sys.path.insert(0, str(HERE.parent))

# A checkout with ../shared/data/mnist beside it (as on CI) trains the tutorials on MNIST.
_shared_mnist = HERE.parents[1] / "shared" / "data" / "mnist"
if not os.environ.get("CSOFTMAX_MNIST_DIR") and _shared_mnist.is_dir():
    os.environ["CSOFTMAX_MNIST_DIR"] = str(_shared_mnist)
os.environ.setdefault("MPLBACKEND", "Agg")

import csoftmax  # noqa: E402

project = "csoftmax"
author = "the csoftmax developers"
copyright = "the csoftmax developers"
release = version = csoftmax.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
    "mathml",
    "sklearn_docstrings",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# benchmarks/ holds the benchmark suite's output, which performance.rst shows through
# benchmark_results.md; neither is a page of its own.
exclude_patterns = ["_build", "auto_tutorials/*.ipynb", "auto_tutorials/*.py",
                    "auto_tutorials/*.zip", "tutorials/*.rst", "benchmarks",
                    "benchmark_results.md"]
html_math_renderer = "mathml"

# MyST: $...$ and $$...$$ math, as GitHub renders it too.
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 2

# No default options: a directive's own :members: list would be overridden by them.
autodoc_default_options = {}
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "tutorials",
    "gallery_dirs": "auto_tutorials",
    "filename_pattern": r"/plot_",
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "show_signature": False,
    "reset_modules": ("matplotlib",),
    "within_subsection_order": "FileNameSortKey",
    "min_reported_time": 1,
}

plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]

html_theme = "pydata_sphinx_theme"
html_title = f"csoftmax {release}"
html_static_path = ["_static"]
html_css_files = ["csoftmax.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_sidebars = {"**": []}
html_show_sourcelink = False
html_copy_source = False
