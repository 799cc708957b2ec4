"""Code shared by the test modules (pytest puts ``tests/`` on ``sys.path``).

- :mod:`helpers.numerics`: dtypes, thread counts, the kernels' tolerances and
  ``assert_close_scaled``;
- :mod:`helpers.layouts`: the memory layouts every kernel must accept;
- :mod:`helpers.softmax_reference`: float64 references and checks for
  :mod:`csoftmax.functional`;
- :mod:`helpers.mlp_reference`: a plain-NumPy oracle for the compiled MLP engine;
- :mod:`helpers.markdown`: the fenced code blocks of a Markdown file;
- :mod:`helpers.rst`: the code-block directives of a reStructuredText file;
- :mod:`helpers.checkout`: files of the source checkout (README.md, pyproject.toml,
  docs/, benchmarks/) and the skip of the tests that read them when the suite runs
  against an installed package from outside the tree;
- :mod:`helpers.estimator`: data, parameters and comparisons of the
  ``MLPClassifier`` tests.
"""
