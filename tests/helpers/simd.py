"""The SIMD paths this CPU runs, for tests that repeat a check on each."""

import csoftmax
from csoftmax import _core


def runnable_paths():
    """The names of the SIMD paths this CPU runs, in _core's order (set_simd_backend refuses
    the others); the backend in use is put back."""
    previous, paths = csoftmax.simd_backend(), []
    try:
        for name in _core.simd_names():
            try:
                csoftmax.set_simd_backend(name)
            except ValueError:
                continue
            paths.append(name)
    finally:
        csoftmax.set_simd_backend(previous)
    return paths
