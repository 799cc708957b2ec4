# csoftmax._core: softmax cross-entropy (cs_xent.h), its one entry `cross_entropy`.
# Included by _core.pyx.

REDUCTIONS = {"none": CS_REDUCE_NONE, "sum": CS_REDUCE_SUM, "mean": CS_REDUCE_MEAN}
#: The ignore_index that ignores no label (the labels are checked to be classes first).
NO_IGNORE = CS_XENT_NO_IGNORE


cdef int _xent_kernel(cnp.ndarray z, cnp.ndarray target, cs_xent_opts *o,
                      cnp.ndarray loss_rows, double *loss, cnp.ndarray grad,
                      int n_threads) except -1:
    """Run the hard (int64 target) or soft cross-entropy kernel of z's dtype without the GIL;
    returns its status. The caller checked the layout of every array."""
    cdef const void *pz = cnp.PyArray_DATA(z)
    cdef const void *pt = cnp.PyArray_DATA(target)
    cdef cs_xent_out out
    out.loss_rows = <double *>cnp.PyArray_DATA(loss_rows)
    out.loss = loss[0]
    cdef void *g = NULL if grad is None else cnp.PyArray_DATA(grad)
    cdef ptrdiff_t n = cnp.PyArray_DIMS(z)[0], c = cnp.PyArray_DIMS(z)[1]
    cdef bint hard = cnp.PyArray_TYPE(target) == cnp.NPY_INT64
    cdef bint f32 = cnp.PyArray_TYPE(z) == cnp.NPY_FLOAT
    cdef int status
    with nogil:
        if hard:
            status = (cs_xent_hard_f32(<const float *>pz, <const int64_t *>pt, o, &out,
                                       <float *>g, n, c, n_threads) if f32 else
                      cs_xent_hard_f64(<const double *>pz, <const int64_t *>pt, o, &out,
                                       <double *>g, n, c, n_threads))
        else:
            status = (cs_xent_soft_f32(<const float *>pz, <const float *>pt, o, &out,
                                       <float *>g, n, c, n_threads) if f32 else
                      cs_xent_soft_f64(<const double *>pz, <const double *>pt, o, &out,
                                       <double *>g, n, c, n_threads))
    loss[0] = out.loss
    return status


cdef bint _xent_options(cs_xent_opts *o, tuple options, bint hard):
    """Fill o from options = (axis, ignore_index, label_smoothing, reduction); False when
    they are not of the kernel's types and ranges (axis the int 1)."""
    if options is None or len(options) != 4:
        return False
    axis, ignore_index, label_smoothing, reduction = options
    if (type(axis) is not int or axis != 1 or type(ignore_index) is not int
            or type(label_smoothing) is not float or type(reduction) is not str):
        return False
    code = REDUCTIONS.get(reduction)
    if (code is None or not 0.0 <= <double>label_smoothing <= 1.0
            or not -0x8000000000000000 <= ignore_index <= 0x7fffffffffffffff):
        return False
    o.ignore_index = ignore_index if hard else CS_XENT_NO_IGNORE
    o.label_smoothing = label_smoothing
    o.reduction = code
    return True


def cross_entropy(logits, target, class_weight, sample_weight, tuple options,
                  bint return_grad, out, int n_threads):
    """Softmax cross-entropy of (n_rows, n_cols) logits on `n_threads` threads (a count
    csoftmax._utils resolved): the loss (reduced per options[2]), with the gradient when
    `return_grad` (written to out, or a new array when out is None), as
    csoftmax.cross_entropy returns them for such logits; or None when the arguments are
    not in the kernel's layout, or a label is not a class.

    That layout: logits an exact C-contiguous float32/float64 2-D ndarray, not empty;
    target its int64 label per row (hard) or probabilities of its dtype and shape (soft);
    class_weight (hard labels only) and sample_weight None or C-contiguous float64 arrays
    of one weight per class and per row, finite and non-negative (the caller checks their
    values); options (axis, ignore_index, label_smoothing, reduction) the class axis 1, an
    int, a float in [0, 1] and a key of REDUCTIONS; out None, or with return_grad an array of the logits' dtype
    and shape, writeable and apart from every input.
    """
    if type(logits) is not np.ndarray or cnp.PyArray_NDIM(<cnp.ndarray>logits) != 2:
        return None
    cdef cnp.ndarray z = <cnp.ndarray>logits
    cdef int typenum = cnp.PyArray_TYPE(z)
    if ((typenum != cnp.NPY_FLOAT and typenum != cnp.NPY_DOUBLE)
            or not _plain(logits, 2, typenum, NULL) or cnp.PyArray_SIZE(z) == 0):
        return None
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(z)
    cdef bint hard = _plain(target, 1, cnp.NPY_INT64, shape)
    if not hard and not (_plain(target, 2, typenum, shape) and class_weight is None):
        return None
    cdef cs_xent_opts o
    if not _xent_options(&o, options, hard):
        return None
    if ((class_weight is not None and not _plain(class_weight, 1, cnp.NPY_DOUBLE, shape + 1))
            or (sample_weight is not None
                and not _plain(sample_weight, 1, cnp.NPY_DOUBLE, shape))):
        return None
    o.class_weight = o.sample_weight = NULL
    if class_weight is not None:
        o.class_weight = <const double *>cnp.PyArray_DATA(<cnp.ndarray>class_weight)
    if sample_weight is not None:
        o.sample_weight = <const double *>cnp.PyArray_DATA(<cnp.ndarray>sample_weight)
    cdef cnp.ndarray grad = None
    if out is not None:  # the kernel reads every input after writing the gradient
        if not (return_grad and _writeable(out, 2, typenum, shape) and _apart(out, z)
                and _apart(out, target) and _apart(out, class_weight)
                and _apart(out, sample_weight)):
            return None
        grad = <cnp.ndarray>out
    elif return_grad:
        grad = cnp.PyArray_EMPTY(2, shape, typenum, 0)
    cdef cnp.ndarray loss_rows = cnp.PyArray_EMPTY(1, shape, cnp.NPY_DOUBLE, 0)
    cdef double loss = 0.0
    cdef int status = _xent_kernel(z, <cnp.ndarray>target, &o, loss_rows, &loss, grad,
                                   n_threads)
    if status == CS_EINVAL and hard:
        return None  # a label out of range: csoftmax.losses names it
    _raise_for(status)
    dtype = z.dtype
    result = (loss_rows.astype(dtype, copy=False) if o.reduction == CS_REDUCE_NONE
              else dtype.type(loss))
    return (result, grad) if return_grad else result
