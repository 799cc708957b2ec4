# csoftmax._core: the softmax family (cs_softmax.h), one entry per operation: `rows`
# (softmax, log_softmax and their VJPs) and `softmax_jacobian`. Included by _core.pyx.

cdef enum:
    _SOFTMAX, _LOG_SOFTMAX, _SOFTMAX_VJP, _LOG_SOFTMAX_VJP

ROW_SOFTMAX, ROW_LOG_SOFTMAX = _SOFTMAX, _LOG_SOFTMAX
ROW_SOFTMAX_VJP, ROW_LOG_SOFTMAX_VJP = _SOFTMAX_VJP, _LOG_SOFTMAX_VJP


cdef int _row_kernel(int op, bint f32, const void **p, ptrdiff_t n, ptrdiff_t c, int n_threads,
                     cs_vjp_check *bad) noexcept nogil:
    """p: x, dy, the mask and out."""
    cdef const void *x = p[0]
    cdef const void *dy = p[1]
    cdef const unsigned char *w = <const unsigned char *>p[2]
    cdef void *out = <void *>p[3]
    if op == _SOFTMAX:
        return (cs_softmax_f32(<const float *>x, w, <float *>out, n, c, n_threads) if f32 else
                cs_softmax_f64(<const double *>x, w, <double *>out, n, c, n_threads))
    if op == _LOG_SOFTMAX:
        return (cs_log_softmax_f32(<const float *>x, w, <float *>out, n, c, n_threads) if f32
                else cs_log_softmax_f64(<const double *>x, w, <double *>out, n, c, n_threads))
    if op == _SOFTMAX_VJP:
        return (cs_softmax_vjp_f32(<const float *>x, <const float *>dy, w, <float *>out, n, c,
                                   n_threads, bad) if f32 else
                cs_softmax_vjp_f64(<const double *>x, <const double *>dy, w, <double *>out, n,
                                   c, n_threads, bad))
    if op == _LOG_SOFTMAX_VJP:
        return (cs_log_softmax_vjp_f32(<const float *>x, <const float *>dy, w, <float *>out,
                                       n, c, n_threads) if f32 else
                cs_log_softmax_vjp_f64(<const double *>x, <const double *>dy, w,
                                       <double *>out, n, c, n_threads))
    return CS_EINVAL


def rows(int op, x, dy, out, axis, int n_threads, where=None, double y_eps=0.0):
    """Row kernel `op` (ROW_*) over the last axis of x, with dy for a VJP, written to out (a
    new array when None), on `n_threads` threads (a count csoftmax._utils resolved), over the
    elements `where` keeps (None: all): the result, or None when the arrays are not in the
    kernel's layout. The softmax VJP raises ValueError when x (its y) cannot be a softmax
    output (cs_softmax.h: y_eps is the machine epsilon of the dtype y was rounded to, 0 for
    x's own), after writing out.

    That layout: x (and dy) exact ndarrays, C-contiguous float32 or float64 of one dtype and
    shape, 1 or 2 dimensions, not empty; axis an int naming the last axis; where None or a
    C-contiguous bool ndarray of x's shape apart from out; out None, or such an array of x's
    dtype and shape, writeable, and the very memory of an input or apart from them.
    """
    if type(x) is not np.ndarray or type(axis) is not int:
        return None
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int ndim = cnp.PyArray_NDIM(xa), typenum = cnp.PyArray_TYPE(xa)
    if ndim < 1 or ndim > 2 or (axis != -1 and axis != ndim - 1):
        return None
    if typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE:
        return None
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(xa)
    if not _plain(x, ndim, typenum, NULL) or cnp.PyArray_SIZE(xa) == 0:
        return None
    cdef bint vjp = op == _SOFTMAX_VJP or op == _LOG_SOFTMAX_VJP
    if vjp and not _plain(dy, ndim, typenum, shape):
        return None
    if where is not None and not (_plain(where, ndim, cnp.NPY_BOOL, shape)
                                  and (out is None or _apart(out, where))):
        return None
    cdef cnp.ndarray res
    if out is None:
        res = cnp.PyArray_EMPTY(ndim, shape, typenum, 0)
    elif (_writeable(out, ndim, typenum, shape) and _same_or_apart(out, x)
          and (not vjp or _same_or_apart(out, dy))):
        res = <cnp.ndarray>out
    else:
        return None
    cdef ptrdiff_t n = shape[0] if ndim == 2 else 1
    cdef ptrdiff_t c = shape[ndim - 1]
    cdef const void *p[4]
    p[0] = cnp.PyArray_DATA(xa)
    p[1] = cnp.PyArray_DATA(<cnp.ndarray>dy) if vjp else NULL
    p[2] = cnp.PyArray_DATA(<cnp.ndarray>where) if where is not None else NULL
    p[3] = cnp.PyArray_DATA(res)
    cdef bint f32 = typenum == cnp.NPY_FLOAT
    cdef int status
    cdef cs_vjp_check check
    check.eps = max(y_eps, np.finfo(np.float32 if f32 else np.float64).eps)
    check.bad_row = -1
    with nogil:
        status = _row_kernel(op, f32, p, n, c, n_threads,
                             &check if op == _SOFTMAX_VJP else NULL)
    _raise_for(status)
    if check.bad_row >= 0:
        masked = ", or 0 where all is masked," if where is not None else ""
        raise ValueError(
            f"softmax_vjp: y is not a softmax output (slice {check.bad_row} along the axis "
            f"has an entry outside [0, 1] or does not sum to 1{masked} within "
            f"{(c + 8) * check.eps:.2g}): pass y = softmax(x), the forward output, not the "
            "logits x.")
    return res


def softmax_jacobian(x, out, int n_threads):
    """out[i] = the softmax Jacobian of row x[i], on `n_threads` threads: x a C-contiguous
    float32 or float64 (n_rows, n_cols) ndarray, not empty, out a writeable C-contiguous
    (n_rows, n_cols, n_cols) ndarray of its dtype that shares no memory with it."""
    if type(x) is not np.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>x) != 2:
        raise ValueError("csoftmax: softmax_jacobian takes 2-D rows")
    cdef cnp.ndarray xa = <cnp.ndarray>x
    cdef int typenum = cnp.PyArray_TYPE(xa)
    cdef cnp.npy_intp shape[3]
    shape[0] = cnp.PyArray_DIMS(xa)[0]
    shape[1] = shape[2] = cnp.PyArray_DIMS(xa)[1]
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE)
            or not _plain(x, 2, typenum, shape) or cnp.PyArray_SIZE(xa) == 0
            or not _writeable(out, 3, typenum, shape) or not _apart(out, x)):
        raise ValueError("csoftmax: softmax_jacobian's arrays are not in the kernel's layout")
    cdef const void *px = cnp.PyArray_DATA(xa)
    cdef void *po = cnp.PyArray_DATA(<cnp.ndarray>out)
    cdef int status
    with nogil:
        if typenum == cnp.NPY_FLOAT:
            status = cs_softmax_jacobian_f32(<const float *>px, <float *>po, shape[0],
                                             shape[1], n_threads)
        else:
            status = cs_softmax_jacobian_f64(<const double *>px, <double *>po, shape[0],
                                             shape[1], n_threads)
    _raise_for(status)
    return out
