"""The size limits of the hand-written sources (.ci/check_sizes.py): files of at most 600
lines, functions of at most 80, at most 8 parameters outside the copied public signatures."""

import importlib.util
from pathlib import Path

import pytest

_SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "check_sizes.py"


@pytest.fixture(scope="module")
def checker():
    if not _SCRIPT.exists():
        pytest.skip("no .ci/check_sizes.py (not a source checkout)")
    spec = importlib.util.spec_from_file_location("check_sizes", _SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_python_and_cython_sources_keep_the_limits(checker):
    assert checker.python_problems() == []


def test_c_sources_keep_the_limits(checker):
    text = (_SCRIPT.parent.parent / "src_c" / "cs_parallel.c").read_text()
    functions = {name: (length, n) for name, _, length, n in checker.c_functions(text)}
    assert functions["cs_run_rows"][1] == 5 and 20 < functions["cs_run_rows"][0] < 40
    assert functions["cs_openmp_enabled"][1] == 0
    assert checker.c_problems() == []


def test_the_checker_finds_each_kind_of_excess(checker):
    body = "\n".join(f"    x{i} = {i}" for i in range(80))
    python = f'def long(a):\n    """Doc.\n\n    More.\n    """\n{body}\n\n\ndef short(a):\n    return a\n'
    found = {name: length for name, _, length, _ in checker.python_functions(python)}
    assert found == {"long": 81, "short": 2}  # the docstring does not count
    cython = ("cdef int f(int a, double *b, c, d, e, f, g, h, i) except -1:\n"
              "    cdef int x = g(a, b)\n    return 0\n\n\n"
              "cdef class K:\n    def m(self, a, b):\n        '''Doc.'''\n        return a\n")
    found = {name: (length, n) for name, _, length, n in checker.cython_functions(cython)}
    assert found == {"f": (3, 9), "K.m": (2, 2)}
    c = ("static int f(const float *restrict x, int (*fn)(int, int), ptrdiff_t n)\n{\n"
         "    return fn(1, 2);\n}\n#define M(a) { a }\nint g(void) { return 0; }\n")
    assert checker.c_functions(c) == [("f", 1, 4, 3), ("g", 6, 1, 0)]
