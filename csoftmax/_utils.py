"""Validation helpers shared by the public functions and the estimator."""

import numbers
import os

import numpy as np

from csoftmax import _core

_SIMD_NAMES = _core.simd_names()


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_n_threads(n_threads):
    """Resolve `n_threads` to a thread count >= 1.

    None means all usable cores: OpenMP's default team size (which follows OMP_NUM_THREADS,
    OMP_THREAD_LIMIT and threadpoolctl's limits) capped by the cores this process may run on.
    A negative value counts back from that, as in joblib: -1 is all, -2 all but one.
    """
    n_max = max(1, min(_core.max_threads(), _usable_cores()))
    if n_threads is None:
        return n_max
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an int or None; got {n_threads!r}.")
    n_threads = int(n_threads)
    if n_threads == 0:
        raise ValueError(
            "n_threads=0 is not a thread count: use None for all usable cores, a positive "
            "count, or a negative one (-1 = all cores, -2 = all but one)."
        )
    if n_threads < 0:
        return max(1, n_max + 1 + n_threads)
    return n_threads


def result_dtype(*arrays):
    """float32 if every array is float32, else float64 (ints, bools, float16 -> float64)."""
    if all(a.dtype.type is np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def check_real(x, name):
    """np.asarray(x), with a TypeError naming `name` unless it holds real numbers."""
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers (float, int or bool); got dtype {x.dtype}."
        )
    return x


def simd_backend():
    """The SIMD path the kernels use now: "avx512", "avx2" or "portable" on x86-64;
    "portable" elsewhere (on ARM64 that path is NEON code, NEON being part of its baseline)."""
    return _SIMD_NAMES[_core.simd_level()]


def set_simd_backend(name):
    """Choose the SIMD path: "auto" (the best this CPU has), "avx512", "avx2" or "portable".

    The portable path is the C code compiled for the architecture's baseline (SSE2 on
    x86-64, NEON on ARM64); on x86-64 the AVX2+FMA and AVX-512 paths are compiled in too and
    chosen at run time from the CPU's features. Other architectures have "portable" only. The environment variable CSOFTMAX_SIMD, read once at
    import, takes the same names. Raises ValueError for an unknown name or a path this CPU
    cannot run.
    """
    level = _core.simd_parse(name) if isinstance(name, str) else -2
    if level == -2:
        raise ValueError(
            f"set_simd_backend: name must be one of 'auto', {', '.join(map(repr, _SIMD_NAMES))}; "
            f"got {name!r}."
        )
    best = _core.simd_supported()
    if level > best:
        raise ValueError(
            f"set_simd_backend: this CPU does not support {name!r}; it supports up to "
            f"{_SIMD_NAMES[best]!r}."
        )
    _core.set_simd_level(level)


def apply_simd_environment():
    """Apply CSOFTMAX_SIMD, if set; a value set_simd_backend refuses gives a RuntimeWarning
    naming it, and the best path is used."""
    name = os.environ.get("CSOFTMAX_SIMD")
    if name is None:
        return
    try:
        set_simd_backend(name.strip())
    except ValueError as exc:
        import warnings

        warnings.warn(
            f"CSOFTMAX_SIMD={name!r} is not used: {exc} Using {simd_backend()!r}.",
            RuntimeWarning,
            stacklevel=3,
        )
