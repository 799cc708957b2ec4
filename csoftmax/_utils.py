"""Validation helpers shared by the public functions and the estimator."""

import numbers
import os

import numpy as np
from numpy.exceptions import AxisError
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from csoftmax import _core

_SIMD_NAMES = _core.simd_names()

#: The dtypes the kernels compute in.
NATIVE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

#: The machine's CPU count, read once: os.cpu_count() reads /sys on every call (about 9
#: microseconds here, longer than a whole softmax of 200 x 10).
_CPU_COUNT = os.cpu_count() or 1

#: [True] in a child forked after a parallel kernel ran (GNU OpenMP cannot start a team
#: there): set once, right after the fork, so that check_n_threads reads a flag.
_FORKED = [False]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _FORKED.__setitem__(0, _core.parallel_forked()))


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return _CPU_COUNT


def check_n_threads(n_threads):
    """Resolve `n_threads` to a thread count >= 1: the one rule, which every kernel and
    engine receives unchanged from here.

    None means all usable cores: OpenMP's default team size (which follows OMP_NUM_THREADS,
    OMP_THREAD_LIMIT and threadpoolctl's limits), read without a system call. A negative
    value counts back from the usable cores, as in joblib: -1 is all, -2 all but one. 0 is
    an error. A positive value is capped by the machine's CPU count: more threads cannot
    run at once, and OpenMP fails to start tens of thousands of them. In a child forked
    after a parallel kernel ran, every count is 1 (GNU OpenMP cannot start a team there).
    """
    if n_threads is None:
        return _core.max_threads()  # at least 1, and 1 in a fork child after a team ran
    if type(n_threads) is int and n_threads > 0:  # the common case, without the ABC check
        if _FORKED[0]:
            return 1
        return n_threads if n_threads < _CPU_COUNT else _CPU_COUNT
    if isinstance(n_threads, (bool, np.bool_)) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an int or None; got {n_threads!r}.")
    n_threads = int(n_threads)
    if n_threads == 0:
        raise ValueError(
            "n_threads=0 is not a thread count: use None for all usable cores, a positive "
            "count, or a negative one (-1 = all cores, -2 = all but one)."
        )
    if _FORKED[0]:
        return 1
    if n_threads < 0:
        n_max = max(1, min(_core.max_threads(), _usable_cores()))
        return max(1, n_max + 1 + n_threads)
    return min(n_threads, _CPU_COUNT)


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


def normalize_axes(axis, ndim):
    """The axes a softmax normalises over, as a tuple of non-negative ints.

    An int is one axis, a tuple several (taken together, in the order given), and None
    all of them, as in ``scipy.special.softmax``.
    """
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, tuple):
        if not axis:
            raise ValueError("axis=() names no axis; pass an int, a tuple of ints or None.")
        if any(isinstance(a, (bool, np.bool_)) or not isinstance(a, numbers.Integral)
               for a in axis):
            raise TypeError(f"axis must be an int, a tuple of ints or None; got {axis!r}.")
        return normalize_axis_tuple(tuple(_axis_int(a, ndim) for a in axis), ndim, "axis")
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int, a tuple of ints or None; got {axis!r}.")
    return (normalize_axis_index(_axis_int(axis, ndim), ndim),)


def zero_d_axis(axis):
    """Whether a 0-d input takes `axis`: None, -1, 0 or (). Compared without ``in``, which
    would compare a NumPy integer with () and raise NumPy's "truth value of an empty array"
    error instead of the AxisError normalize_axes gives."""
    if axis is None or (isinstance(axis, tuple) and not axis):
        return True
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        return False
    return int(axis) in (-1, 0)


def _axis_int(axis, ndim):
    """int(axis), with the AxisError NumPy gives an out-of-range axis also for one beyond
    a C long (NumPy's own check raises OverflowError there)."""
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise AxisError(axis, ndim)
    return axis


class RowLayout:
    """How an array of `shape` maps to C-contiguous (n_rows, n_cols) rows, the kernels'
    layout: the axes in `axes` are moved last and flattened into one row."""

    def __init__(self, shape, axes):
        self.axes = axes
        self.dest = tuple(range(len(shape) - len(axes), len(shape)))
        self.batch_shape = tuple(n for i, n in enumerate(shape) if i not in axes)
        self.moved_shape = self.batch_shape + tuple(shape[a] for a in axes)
        self.n_cols = int(np.prod([shape[a] for a in axes], dtype=np.int64))
        self.n_rows = int(np.prod(self.batch_shape, dtype=np.int64))

    def move(self, a):
        """View of `a` with the row axes last."""
        return np.moveaxis(a, self.axes, self.dest)

    def rows(self, a, dtype):
        """`a` as C-contiguous rows of `dtype` (a view when it already is one)."""
        return c_array(self.move(a), dtype).reshape(self.n_rows, self.n_cols)

    def rows_view(self, a):
        """A writeable rows view of `a`, or None when its layout does not allow one."""
        moved = self.move(a)
        if not (moved.flags.c_contiguous and moved.flags.aligned):
            return None
        return moved.reshape(self.n_rows, self.n_cols)

    def unrows(self, res):
        """Rows back in the original layout (a view)."""
        return np.moveaxis(res.reshape(self.moved_shape), self.dest, self.axes)


def check_where(where, shape):
    """The `where=` mask of the softmax family as a bool array of `shape` (a read-only
    broadcast view when it has fewer dimensions or ones)."""
    w = np.asarray(where)
    if w.dtype != np.bool_:
        raise TypeError(f"where must be a bool array; got dtype {w.dtype}.")
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(
            f"where has shape {w.shape}, which does not broadcast to the input's shape "
            f"{shape}."
        ) from None


def c_array(a, dtype):
    """`a` as a C-contiguous ndarray of `dtype`, aligned as C reads it (a view when it is
    one already): np.ascontiguousarray keeps a misaligned buffer, whose doubles C may not
    read."""
    if type(a) is np.ndarray and a.dtype == dtype:
        flags = a.flags
        if flags.c_contiguous and flags.aligned:
            return a  # what np.require returns, without its Python-level checks
    return np.require(np.asarray(a, dtype=dtype), requirements=["C", "A"])


def check_out(out, shape, dtype, name="out"):
    """Validate an output buffer: an ndarray of `shape`, writeable, of `dtype` or a wider
    float dtype (the result is then computed in `dtype` and cast, as NumPy ufuncs do)."""
    if not isinstance(out, np.ndarray):
        raise ValueError(f"{name} must be a NumPy array; got {type(out).__name__}.")
    if out.shape != shape:
        raise ValueError(f"{name} has shape {out.shape}; expected {shape}.")
    if out.dtype != dtype and not (
        out.dtype.kind == "f" and np.can_cast(dtype, out.dtype, casting="safe")
    ):
        raise ValueError(
            f"{name} has dtype {out.dtype}; expected {dtype} (the result dtype) or a wider "
            "float dtype."
        )
    if not out.flags.writeable:
        raise ValueError(f"{name} is read-only; pass a writeable array.")


def direct_target(out, layout, dtype, inputs):
    """Rows view of `out` the kernel can write straight into: same dtype, a C-contiguous
    rows layout, and no partial overlap with the input rows (exact aliasing is allowed
    when the kernel allows it, which the caller says by listing only such inputs)."""
    if out is None or out.dtype != dtype:
        return None
    target = layout.rows_view(np.asarray(out))  # an ndarray view of a subclass too
    if target is None:
        return None
    for r in inputs:
        if np.may_share_memory(r, target) and not (
            r.ctypes.data == target.ctypes.data and r.strides == target.strides
        ):
            return None
    return target


def simd_backend():
    """The SIMD path the kernels use now.

    Returns
    -------
    name : str
        "avx512", "avx2" or "portable" on x86-64; "portable" elsewhere (on ARM64 that path
        is NEON code, NEON being part of its baseline).

    See Also
    --------
    set_simd_backend : Choose the path.

    Examples
    --------
    >>> import csoftmax
    >>> csoftmax.simd_backend() in ("avx512", "avx2", "portable")
    True
    """
    return _SIMD_NAMES[_core.simd_level()]


def set_simd_backend(name):
    """Choose the SIMD path the kernels use, for the whole process.

    Parameters
    ----------
    name : {"auto", "avx512", "avx2", "portable"}
        "auto" is the best path this CPU has. The portable path is the C code compiled for
        the architecture's baseline (SSE2 on x86-64, NEON on ARM64); on x86-64 the AVX2+FMA
        and AVX-512 paths are compiled in too and chosen at run time from the CPU's
        features. Other architectures have "portable" only. Every path computes the same
        bits.

    Raises
    ------
    ValueError
        If `name` is not one of the names above, or names a path this CPU cannot run.

    See Also
    --------
    simd_backend : The path in use.

    Notes
    -----
    The environment variable CSOFTMAX_SIMD, read once at import, takes the same names.

    Examples
    --------
    >>> import csoftmax
    >>> before = csoftmax.simd_backend()
    >>> csoftmax.set_simd_backend("portable")
    >>> csoftmax.simd_backend()
    'portable'
    >>> csoftmax.set_simd_backend(before)
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
        set_simd_backend(name)
    except ValueError as exc:
        import warnings

        warnings.warn(
            f"CSOFTMAX_SIMD={name!r} is not used: {exc} Using {simd_backend()!r}.",
            RuntimeWarning,
            stacklevel=3,
        )
