/* Narrow rows are the row loop's special case: a C-level proof by comparison of bytes.
 *
 * Rows of at most CS_NARROW_MAX columns (src_c/kernels/narrow.h) are computed in columns,
 * a group of rows at a time, and must give exactly the bytes the row loop (kernels/rows.h)
 * gives. The kernels are linked twice into this program: as the extension builds them, and
 * compiled again with -DCS_FORCE_ROW_PATH, which sends every row through the row loop and
 * names the exported kernels <kernel>_rowpath_<dtype>_<level> (kernels/kernel.h). For every
 * width from 1 to a little past the narrow limit, float and double, several row counts and
 * every SIMD path the CPU runs, softmax, log_softmax, both VJPs and softmax cross-entropy with
 * hard labels (plain, and with sample weights, label smoothing and an ignored label; with and
 * without the gradient) are run through both builds on the same random rows, with -inf
 * entries, fully masked rows, +inf and NaN, and the outputs compared byte for byte. The
 * narrow build runs the rows in two blocks, as cs_run_rows may split them, so groups also
 * start at rows that are not multiples of the group size.
 *
 * .ci/ctest.sh builds and runs it; by hand (add the AVX2 and AVX-512 units on x86-64):
 *   for f in src_c/kernels/f*.c; do cc -O2 -std=c99 -ffp-contract=off -fno-math-errno \
 *      -Isrc_c -DCS_FORCE_ROW_PATH -c $f -o $(basename $f .c)_rowpath.o; done
 *   cc -O2 -std=c99 -ffp-contract=off -fno-math-errno -Isrc_c tests/c/test_narrow.c \
 *      src_c/cs_*.c src_c/kernels/f*.c *_rowpath.o -lm
 * It prints one line per path and then "N passed, M failed"; it exits 1 on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_kernels.h"
#include "cs_simd.h" /* CS_WF, CS_WD: the TW of kernels/kernel.h */

/* The row-loop-only kernels (declared for every level, as cs_kernels.h declares its own). */
#define DECLARE_ROWPATH(base, dtype)                                                          \
    cs_block_kernel base##_rowpath_##dtype##_portable, base##_rowpath_##dtype##_avx2,        \
        base##_rowpath_##dtype##_avx512
DECLARE_ROWPATH(softmax_block, f32);
DECLARE_ROWPATH(softmax_block, f64);
DECLARE_ROWPATH(log_softmax_block, f32);
DECLARE_ROWPATH(log_softmax_block, f64);
DECLARE_ROWPATH(vjp_block, f32);
DECLARE_ROWPATH(vjp_block, f64);
DECLARE_ROWPATH(log_vjp_block, f32);
DECLARE_ROWPATH(log_vjp_block, f64);
DECLARE_ROWPATH(xent_block, f32);
DECLARE_ROWPATH(xent_block, f64);

enum { SOFTMAX, LOG_SOFTMAX, VJP, LOG_VJP, XENT, N_OPS };
static const char *const op_names[N_OPS] = {"softmax", "log_softmax", "softmax_vjp",
                                            "log_softmax_vjp", "xent_hard"};

/* kernels[build][op][level], build 0 as shipped, 1 the row loop only */
typedef cs_block_kernel *const kernel_table[2][N_OPS][CS_SIMD_N_LEVELS];
static kernel_table kernels_f32 = {
    {CS_PATHS(softmax_block_f32), CS_PATHS(log_softmax_block_f32), CS_PATHS(vjp_block_f32),
     CS_PATHS(log_vjp_block_f32), CS_PATHS(xent_block_f32)},
    {CS_PATHS(softmax_block_rowpath_f32), CS_PATHS(log_softmax_block_rowpath_f32),
     CS_PATHS(vjp_block_rowpath_f32), CS_PATHS(log_vjp_block_rowpath_f32),
     CS_PATHS(xent_block_rowpath_f32)}};
static kernel_table kernels_f64 = {
    {CS_PATHS(softmax_block_f64), CS_PATHS(log_softmax_block_f64), CS_PATHS(vjp_block_f64),
     CS_PATHS(log_vjp_block_f64), CS_PATHS(xent_block_f64)},
    {CS_PATHS(softmax_block_rowpath_f64), CS_PATHS(log_softmax_block_rowpath_f64),
     CS_PATHS(vjp_block_rowpath_f64), CS_PATHS(log_vjp_block_rowpath_f64),
     CS_PATHS(xent_block_rowpath_f64)}};

static long n_passed, n_failed;

static unsigned long long rng_state = 7;
static double uniform(void) /* in [0, 1) */
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) * 0x1.0p-53;
}
static double normal(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* One case: a dtype (size 4 or 8) on one level, rows x n. */
typedef struct {
    size_t size;
    kernel_table *kernels;
    int level;
    ptrdiff_t rows, n;
    int trial;
} narrow_case;

static void store(const narrow_case *c, void *dst, ptrdiff_t i, double v)
{
    if (c->size == 4)
        ((float *)dst)[i] = (float)v;
    else
        ((double *)dst)[i] = v;
}

static double load(const narrow_case *c, const void *src, ptrdiff_t i)
{
    return c->size == 4 ? (double)((const float *)src)[i] : ((const double *)src)[i];
}

/* The first column holding row i's max (0 when every entry is -inf or NaN). */
static int64_t row_argmax(const narrow_case *c, const void *x, ptrdiff_t i)
{
    int64_t best = 0;
    for (ptrdiff_t j = 1; j < c->n; j++)
        if (load(c, x, i * c->n + j) > load(c, x, i * c->n + best) ||
            load(c, x, i * c->n + best) != load(c, x, i * c->n + best))
            best = j;
    return best;
}

/* Logits of trial 0: 1 in 5 entries -inf, row 1 fully masked, a +inf in row 5 and a NaN in
 * row 6; trial 1: finite (the plain groups of the cross-entropy); trial 2: every third row
 * fully masked, the others finite. */
static void fill_logits(const narrow_case *c, void *x)
{
    const ptrdiff_t rows = c->rows, n = c->n;
    for (ptrdiff_t i = 0; i < rows; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double v = 3.0 * normal();
            if ((c->trial == 0 && (uniform() < 0.2 || i == 1)) || (c->trial == 2 && i % 3 == 0))
                v = -INFINITY;
            store(c, x, i * n + j, v);
        }
    if (c->trial == 0 && rows > 6) {
        store(c, x, 5 * n + n / 2, INFINITY);
        store(c, x, 6 * n + n - 1, NAN);
    }
}

/* Run op through both builds (the shipped one in two blocks) and compare the outputs. */
static void compare(const narrow_case *c, int op, void *args, void *out, void *out_row,
                    size_t out_bytes, double *loss_rows)
{
    cs_block_kernel *fast = (*c->kernels)[0][op][c->level];
    cs_block_kernel *row = (*c->kernels)[1][op][c->level];
    double *loss_row = loss_rows + c->rows;
    const ptrdiff_t split = c->rows / 3;
    void **target_out =
        op == XENT ? &((cs_xent_args *)args)->grad : &((cs_softmax_args *)args)->out;
    if (out != NULL)
        memset(out, 0x5a, out_bytes), memset(out_row, 0x5a, out_bytes);
    memset(loss_rows, 0x5a, 2 * (size_t)c->rows * sizeof *loss_rows);
    if (op == XENT)
        ((cs_xent_args *)args)->loss_rows = loss_rows;
    *target_out = out;
    fast(args, 0, split);
    fast(args, split, c->rows);
    if (op == XENT)
        ((cs_xent_args *)args)->loss_rows = loss_row;
    *target_out = out != NULL ? out_row : NULL;
    row(args, 0, c->rows);
    const int same = (out == NULL || memcmp(out, out_row, out_bytes) == 0) &&
                     (op != XENT || memcmp(loss_rows, loss_row, (size_t)c->rows * 8) == 0);
    if (same) {
        n_passed++;
        return;
    }
    if (n_failed++ < 20)
        fprintf(stderr, "FAIL [%s] %s f%d: narrow rows differ from the row loop (n %ld, rows "
                        "%ld, trial %d%s)\n",
                cs_simd_name(c->level), op_names[op], (int)(8 * c->size), (long)c->n,
                (long)c->rows, c->trial, out == NULL ? ", no gradient" : "");
}

/* The cross-entropy, plain and weighted/smoothed/ignoring, with and without the gradient. */
static void compare_xent(const narrow_case *c, const void *x, void *out, void *out_row,
                         double *loss_rows)
{
    const ptrdiff_t rows = c->rows, n = c->n;
    int64_t *target = malloc((size_t)rows * sizeof *target);
    double *weight = malloc((size_t)rows * sizeof *weight);
    if (target == NULL || weight == NULL)
        abort();
    for (ptrdiff_t i = 0; i < rows; i++) { /* every other label at its row's max: groups mix
                                              * rows whose log s is log1p of the other terms */
        target[i] = i % 2 == 0 ? row_argmax(c, x, i) : (int64_t)(uniform() * (double)n);
        weight[i] = 2.0 * uniform();
    }
    for (int variant = 0; variant < 4; variant++) {
        const int weighted = variant >= 2;
        cs_xent_args a = {.logits = x, .target = target, .n_cols = n,
                          .sample_weight = weighted ? weight : NULL,
                          .ignore_index = weighted ? 0 : CS_XENT_NO_IGNORE,
                          .any_ignored = weighted,
                          .label_smoothing = weighted ? 0.1 : 0.0,
                          .grad_scale = weighted ? 1.0 / (double)rows : 1.0};
        const int with_grad = variant % 2 == 0;
        compare(c, XENT, &a, with_grad ? out : NULL, out_row,
                (size_t)(rows * n) * c->size, loss_rows);
    }
    free(target), free(weight);
}

static void run_case(const narrow_case *c)
{
    const size_t bytes = (size_t)(c->rows * c->n) * c->size;
    void *x = malloc(bytes), *y = malloc(bytes), *ly = malloc(bytes), *dy = malloc(bytes);
    void *out = malloc(bytes), *out_row = malloc(bytes);
    double *loss_rows = malloc(2 * (size_t)c->rows * sizeof *loss_rows);
    if (!x || !y || !ly || !dy || !out || !out_row || !loss_rows)
        abort();
    fill_logits(c, x);
    for (ptrdiff_t i = 0; i < c->rows * c->n; i++)
        store(c, dy, i, normal());
    cs_softmax_args a = {.in = x, .n_cols = c->n};
    compare(c, SOFTMAX, &a, out, out_row, bytes, loss_rows);
    memcpy(y, out_row, bytes);
    compare(c, LOG_SOFTMAX, &a, out, out_row, bytes, loss_rows);
    memcpy(ly, out_row, bytes);
    cs_softmax_args v = {.in = y, .dy = dy, .n_cols = c->n};
    compare(c, VJP, &v, out, out_row, bytes, loss_rows);
    v.in = ly;
    compare(c, LOG_VJP, &v, out, out_row, bytes, loss_rows);
    compare_xent(c, x, out, out_row, loss_rows);
    free(x), free(y), free(ly), free(dy), free(out), free(out_row), free(loss_rows);
}

int main(void)
{
    static const ptrdiff_t row_counts[] = {1, 2, 7, 8, 9, 33};
    const int best = cs_simd_supported();
    for (int level = 0; level < CS_SIMD_N_LEVELS; level++) {
        if (level > best) {
            printf("%-8s skipped: this CPU lacks it\n", cs_simd_name(level));
            continue;
        }
        const long before = n_passed + n_failed, before_fail = n_failed;
        for (int f32 = 1; f32 >= 0; f32--) {
            /* up to a little past 16 TW columns, the widest narrow row (CS_NARROW_MAX,
             * kernels/narrow.h) */
            const ptrdiff_t widest = 16 * (f32 ? CS_WF : CS_WD) + 2;
            for (ptrdiff_t n = 1; n <= widest; n++)
                for (size_t r = 0; r < sizeof row_counts / sizeof *row_counts; r++)
                    for (int trial = 0; trial < 3; trial++) {
                        const narrow_case c = {f32 ? 4 : 8, f32 ? &kernels_f32 : &kernels_f64,
                                               level, row_counts[r], n, trial};
                        run_case(&c);
                    }
        }
        printf("%-8s narrow rows vs the row loop: %ld comparisons, %ld differ\n",
               cs_simd_name(level), n_passed + n_failed - before, n_failed - before_fail);
    }
    printf("%ld passed, %ld failed\n", n_passed, n_failed);
    return n_failed != 0;
}
