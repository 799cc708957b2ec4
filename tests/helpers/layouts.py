"""Memory layouts a kernel must accept: the same 2-D values, stored differently."""

import numpy as np

LAYOUTS = ["C", "readonly", "memmap", "fortran", "strided", "negative_strides", "byteswapped"]


def make_layout(a, layout, tmp_path, name="x"):
    """Return an array equal to the 2-D array ``a`` with the requested memory layout.

    ``tmp_path`` holds the file of a ``"memmap"`` array, named after ``name``.
    """
    if layout == "C":
        return np.array(a, order="C")
    if layout == "readonly":
        b = np.array(a, order="C")
        b.setflags(write=False)
        return b
    if layout == "memmap":
        path = tmp_path / f"{name}.dat"
        w = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
        w[...] = a
        w.flush()
        del w
        return np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    if layout == "fortran":
        b = np.asfortranarray(a)
        assert not b.flags.c_contiguous
        return b
    if layout == "strided":
        big = np.zeros((2 * a.shape[0], 3 * a.shape[1]), dtype=a.dtype)
        big[::2, ::3] = a
        return big[::2, ::3]
    if layout == "negative_strides":
        b = a[::-1, ::-1].copy()[::-1, ::-1]
        assert b.strides[0] < 0 and b.strides[1] < 0
        return b
    if layout == "byteswapped":  # non-native byte order on any machine (">f8" here)
        b = a.astype(a.dtype.newbyteorder())
        assert not b.dtype.isnative
        return b
    raise AssertionError(layout)
