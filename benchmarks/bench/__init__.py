"""The parts of the benchmark suite that ``benchmarks/suite.py`` runs.

Each section module (``kernels``, ``training``, ``contention``, ``latency``, ``calls``,
``grid``, ``scaling``, ``streaming``) has a ``run(ctx)`` that measures, prints its tables
and returns a :class:`bench.report.Section`; ``report`` writes sections to Markdown and PNG
files, ``record`` to ``results.json``, and ``blocks`` renders from that the figures the
README and the docs quote. ``call_child`` and ``grid_child`` are the scripts the sections
run in fresh processes. The
peers the suite compares with (NumPy, SciPy, scikit-learn, PyTorch) live in ``peers``,
``fits`` and ``torch_mlp``; PyTorch is optional everywhere.
"""
