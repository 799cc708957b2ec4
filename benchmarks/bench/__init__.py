"""The parts of the benchmark suite that ``benchmarks/suite.py`` runs.

Each section module (``kernels``, ``training``, ``contention``, ``latency``, ``grid``,
``scaling``) has a ``run(ctx)`` that measures, prints its tables and returns a
:class:`bench.report.Section`; ``report`` writes sections to Markdown and PNG files. The
peers the suite compares with (NumPy, SciPy, scikit-learn, PyTorch) live in ``peers``,
``fits`` and ``torch_mlp``; PyTorch is optional everywhere.
"""
