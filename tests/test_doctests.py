"""The Examples sections of every public module run as doctests.

A docstring example is documentation a reader copies; one that prints a wrong number is
worse than none. Each module below must also hold at least the number of examples listed,
so that an example cannot silently stop being collected.
"""

import doctest
import importlib

import pytest

# module -> the least number of doctest examples it must hold
MODULES = {
    "csoftmax": 0,
    "csoftmax.functional": 10,
    "csoftmax.losses": 5,
    "csoftmax.testing": 5,
    "csoftmax.datasets": 2,
    "csoftmax._utils": 2,  # simd_backend and set_simd_backend are public
    "csoftmax.neural_network": 0,
    "csoftmax.neural_network._estimator": 5,  # MLPClassifier
    "csoftmax.__main__": 0,
}
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = []
    for test in tests:
        runner.run(test, out=report.append)
    n_examples = sum(len(t.examples) for t in tests)
    assert n_examples >= MODULES[name], f"{name} holds only {n_examples} examples"
    assert runner.failures == 0, "".join(report)
