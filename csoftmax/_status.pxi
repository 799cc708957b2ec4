# Shared by the wrapper modules: C status codes -> Python exceptions, and the per-module
# SIMD/thread queries (each extension module links its own copy of cs_dispatch.c).

cdef inline int _raise_for(int status) except -1:
    if status == CS_ENOMEM:
        raise MemoryError("csoftmax: a kernel could not allocate its scratch memory")
    if status != CS_OK:
        raise ValueError("csoftmax: a kernel rejected its arguments (status %d)" % status)
    return 0


def simd_supported():
    """Best SIMD level of this CPU: 0 portable, 1 AVX2+FMA, 2 AVX-512."""
    return cs_simd_supported()


def simd_level():
    """SIMD level in use by this module's kernels."""
    return cs_simd_level()


def set_simd_level(int level):
    """Use SIMD level `level` (0, 1 or 2) from now on; ValueError if the CPU lacks it."""
    _raise_for(cs_simd_set_level(level))


def max_threads():
    """OpenMP's default team size here (1 without OpenMP)."""
    return cs_max_threads()
