/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): the products of CSR
 * input rows with a weight matrix, forward and transposed, split over the threads. */

typedef struct {
    const T *data;
    const int64_t *indices, *indptr, *rows;
    T *dense;               /* z (n_rows, n_out) or d (n_rows, n_out) */
    T *g;                   /* (n_features, n_out) for the transposed product */
    ptrdiff_t n_rows, n_out;
} csr_args;

/* z[i] = X[rows[i]] @ w for the rows [row0, row1) (w is passed as g). */
static void csr_matmul_block(const void *ctx, ptrdiff_t row0, ptrdiff_t row1)
{
    const csr_args *a = ctx;
    const ptrdiff_t n_out = a->n_out;
    for (ptrdiff_t i = row0; i < row1; i++) {
        T *zi = a->dense + i * n_out;
        for (ptrdiff_t j = 0; j < n_out; j++)
            zi[j] = 0;
        const int64_t r = a->rows[i];
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++) {
            const T v = a->data[p];
            const T *wk = a->g + a->indices[p] * n_out;
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
    for (ptrdiff_t i = 0; i < a->n_rows; i++) {
        const T *di = a->dense + i * n_out;
        const int64_t r = a->rows[i];
        for (int64_t p = a->indptr[r]; p < a->indptr[r + 1]; p++) {
            const T v = a->data[p];
            T *gk = a->g + a->indices[p] * n_out;
            for (ptrdiff_t j = col0; j < col1; j++)
                gk[j] += v * di[j];
        }
    }
}
