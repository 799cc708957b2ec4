/* Kernel body (see kernel.h), part of the MLP engine (mlp_kernels.h): row-major products
 * on column-major BLAS, split into blocks fixed by the shape. */

/* C = A B in BLAS's column-major terms, with alpha = 1 and beta = 0. */
#if CS_F32
#define CS_GEMM(net, ta, tb, m, n, k, a, lda, b, ldb, c, ldc) \
    (net)->blas.sgemm(&(ta), &(tb), &(m), &(n), &(k), &one, (T *)(a), &(lda), (T *)(b), &(ldb), \
                      &zero, (c), &(ldc))
#else
#define CS_GEMM(net, ta, tb, m, n, k, a, lda, b, ldb, c, ldc) \
    (net)->blas.dgemm(&(ta), &(tb), &(m), &(n), &(k), &one, (T *)(a), &(lda), (T *)(b), &(ldb), \
                      &zero, (c), &(ldc))
#endif

/* c (m, n) = a (m, k) @ b (k, n). Up to CS_GEMV_MAX_ROWS rows go through ?gemv, a row at a
 * time, when cs_blas has it: ?gemm first packs all of b, which a few rows do not repay.
 * Which call computes a block depends only on its shape, never on the thread count. */
#define CS_GEMV_MAX_ROWS 16
static void mm(const cs_mlp *net, const T *a, const T *b, T *c, int m, int k, int n)
{
    char no = 'N';
    T one = 1, zero = 0;
#if CS_F32
    cs_sgemv_fn gemv = net->blas.sgemv;
#else
    cs_dgemv_fn gemv = net->blas.dgemv;
#endif
    if (m <= CS_GEMV_MAX_ROWS && gemv != NULL) {
        int inc = 1;
        for (int i = 0; i < m; i++)
            gemv(&no, &n, &k, &one, (T *)b, &n, (T *)a + (ptrdiff_t)i * k, &inc, &zero,
                 c + (ptrdiff_t)i * n, &inc);
        return;
    }
    CS_GEMM(net, no, no, n, m, k, b, n, a, k, c, n);
}

/* c (m, k) = d (m, n) @ w.T, w: (k, n) */
static void mm_nt(const cs_mlp *net, const T *d, const T *w, T *c, int m, int n, int k)
{
    char tr = 'T', no = 'N';
    T one = 1, zero = 0;
    CS_GEMM(net, tr, no, k, m, n, w, n, d, n, c, k);
}

/* g (k, n) = a.T @ d, a: (m, k) with row stride lda, d: (m, n) */
static void mm_tn(const cs_mlp *net, const T *a, const T *d, T *g, int m, int k, int n,
                  int lda)
{
    char no = 'N', tr = 'T';
    T one = 1, zero = 0;
    CS_GEMM(net, no, tr, n, k, m, d, n, a, lda, g, n);
}

/* The three products, split into blocks of rows of their result (one per CS_GEMM_BLOCK_ROWS
 * rows, at most CS_GEMM_MAX_BLOCKS; two from 2 * CS_GEMM_MIN_BLOCK_ROWS rows, since BLAS
 * runs on one thread meanwhile), spread over the threads, each
 * block a call to the (then single-threaded) BLAS. The blocks depend only on the shape,
 * never on the thread count, so every entry is computed by the same BLAS call whatever
 * n_threads is (BLAS's kernels may sum in another order for another shape).
 * The kinds of product (cs_gemm_kind) are below. */
typedef enum {
    GEMM_AB,  /* c = a @ b,   (m, k) x (k, n), blocks of the m rows of c */
    GEMM_ABT, /* c = a @ b.T, (m, n) x (k, n)^T, blocks of the m rows of c */
    GEMM_ATB  /* c = a.T @ b, (m, k)^T x (m, n), blocks of the k rows of c */
} cs_gemm_kind;

#define CS_GEMM_BLOCK_ROWS 96
#define CS_GEMM_MIN_BLOCK_ROWS 32
#define CS_GEMM_MAX_BLOCKS 4

typedef struct {
    const cs_mlp *net;
    const T *a, *b;
    T *c;
    cs_gemm_kind kind;
    int m, k, n;
    ptrdiff_t rows, blocks; /* of c */
} gemm_args;

/* Blocks [blk0, blk1), one BLAS call each (never merged: the calls are the same whichever
 * thread makes them). */
static void gemm_block(const void *ctx, ptrdiff_t blk0, ptrdiff_t blk1)
{
    const gemm_args *g = ctx;
    for (ptrdiff_t blk = blk0; blk < blk1; blk++) {
        const ptrdiff_t r0 = g->rows * blk / g->blocks;
        const int rows = (int)(g->rows * (blk + 1) / g->blocks - r0);
        if (rows == 0)
            continue;
        if (g->kind == GEMM_AB)
            mm(g->net, g->a + r0 * g->k, g->b, g->c + r0 * g->n, rows, g->k, g->n);
        else if (g->kind == GEMM_ABT)
            mm_nt(g->net, g->a + r0 * g->n, g->b, g->c + r0 * g->k, rows, g->n, g->k);
        else
            mm_tn(g->net, g->a + r0, g->b, g->c + r0 * g->n, g->m, rows, g->n, g->k);
    }
}

static void gemm(const cs_mlp *net, cs_gemm_kind kind, const T *a, const T *b, T *c, int m, int k,
                 int n)
{
    const ptrdiff_t rows = kind == GEMM_ATB ? k : m;
    ptrdiff_t blocks = rows / CS_GEMM_BLOCK_ROWS;
    blocks = blocks > CS_GEMM_MAX_BLOCKS ? CS_GEMM_MAX_BLOCKS : blocks;
    if (blocks < 2) /* BLAS runs on one thread here: two blocks as soon as they are worth it */
        blocks = rows >= 2 * CS_GEMM_MIN_BLOCK_ROWS ? 2 : 1;
    if (!net->spec.split_gemm) /* BLAS's own threads do the whole product */
        blocks = 1;
    gemm_args g = {net, a, b, c, kind, m, k, n, rows, blocks};
    cs_run_rows(gemm_block, &g, blocks, (ptrdiff_t)m * k * n / blocks, net->n_threads);
}

#undef CS_GEMM
