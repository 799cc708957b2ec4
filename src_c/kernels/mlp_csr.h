/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): the products of CSR
 * input rows with a weight matrix, forward and transposed, split over the threads.
 *
 * The caller's row starts and column indices were checked by cs_mlp.c before the call, and
 * are read here again: each is read once per use (CS_READ_ONCE_I64) and checked before it
 * is used, so that another thread writing to them during the call can change the product,
 * never where it reads or writes. A row start is clamped to [0, nnz]; a nonzero whose
 * column index is out of [0, n_in) is left out. */

typedef struct {
    const T *data;
    const int64_t *indices, *indptr, *rows;
    T *dense;               /* z (n_rows, n_out) or d (n_rows, n_out) */
    T *g;                   /* (n_in, n_out) for the transposed product */
    ptrdiff_t n_rows, n_out;
    ptrdiff_t nnz, n_in;    /* the length of data and indices; the rows of g */
} csr_args;

/* The nonzeros [*lo, *hi) of CSR row r, within [0, nnz]. */
CS_INLINE void csr_span(const csr_args *a, int64_t r, int64_t *lo, int64_t *hi)
{
    int64_t p0, p1;
    CS_READ_ONCE_I64(p0, a->indptr + r);
    CS_READ_ONCE_I64(p1, a->indptr + r + 1);
    *lo = p0 > 0 ? p0 : 0;
    *hi = p1 < a->nnz ? p1 : a->nnz;
}

/* The column index of nonzero p, read once: -1 when it is out of [0, n_in), and the nonzero
 * is then left out. */
CS_INLINE int64_t csr_column(const int64_t *indices, uint64_t n_in, int64_t p)
{
    int64_t k;
    CS_READ_ONCE_I64(k, indices + p);
    return (uint64_t)k < n_in ? k : -1;
}

/* z[i] = X[rows[i]] @ w for the rows [row0, row1) (w is passed as g). */
static void csr_matmul_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const csr_args *a = ctx;
    const ptrdiff_t n_out = a->n_out;
    const T *data = a->data, *w = a->g;
    const int64_t *indices = a->indices;
    const uint64_t n_in = (uint64_t)a->n_in;
    if (n_out < 1)
        return;
    for (ptrdiff_t i = row0; i < row1; i++) {
        T *zi = a->dense + i * n_out;
        for (ptrdiff_t j = 0; j < n_out; j++)
            zi[j] = 0;
        int64_t lo, hi;
        csr_span(a, a->rows[i], &lo, &hi);
        for (int64_t p = lo; p < hi; p++) {
            const int64_t k = csr_column(indices, n_in, p);
            if (CS_UNLIKELY(k < 0))
                continue;
            const T v = data[p];
            const T *wk = w + k * n_out;
            for (ptrdiff_t j = 0; j < n_out; j++)
                zi[j] += v * wk[j];
        }
    }
}

/* g[:, col0:col1] = X[rows]^T @ d[:, col0:col1], rows in order (g zeroed first by caller). */
static void csr_tmatmul_block(const void *ctx, ptrdiff_t col0, ptrdiff_t col1)
{
    const csr_args *a = ctx;
    const ptrdiff_t n_out = a->n_out;
    const T *data = a->data;
    T *g = a->g;
    const int64_t *indices = a->indices;
    const uint64_t n_in = (uint64_t)a->n_in;
    for (ptrdiff_t i = 0; i < a->n_rows; i++) {
        const T *di = a->dense + i * n_out;
        int64_t lo, hi;
        csr_span(a, a->rows[i], &lo, &hi);
        for (int64_t p = lo; p < hi; p++) {
            const int64_t k = csr_column(indices, n_in, p);
            if (CS_UNLIKELY(k < 0))
                continue;
            const T v = data[p];
            T *gk = g + k * n_out;
            for (ptrdiff_t j = col0; j < col1; j++)
                gk[j] += v * di[j];
        }
    }
}
