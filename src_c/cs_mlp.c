/* csoftmax: the MLP engine (see cs_mlp.h). This file owns the engine's memory and checks
 * every input; the passes themselves are the kernels of src_c/kernels/mlp_kernels.h, one per
 * dtype and instruction set. */
#include <limits.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_kernels.h"
#include "cs_mlp.h"

static cs_mlp_forward_kernel *const mlp_forward_f32[] = CS_PATHS(mlp_forward_f32);
static cs_mlp_forward_kernel *const mlp_forward_f64[] = CS_PATHS(mlp_forward_f64);
static cs_mlp_loss_grad_kernel *const mlp_loss_grad_f32[] = CS_PATHS(mlp_loss_grad_f32);
static cs_mlp_loss_grad_kernel *const mlp_loss_grad_f64[] = CS_PATHS(mlp_loss_grad_f64);
static cs_mlp_epoch_kernel *const mlp_epoch_f32[] = CS_PATHS(mlp_epoch_f32);
static cs_mlp_epoch_kernel *const mlp_epoch_f64[] = CS_PATHS(mlp_epoch_f64);

/* ---- memory ------------------------------------------------------------------------------ */

/* Bump allocation in two passes: with base == NULL it only counts bytes (and notes a size
 * that does not fit in size_t). */
typedef struct {
    char *base;
    size_t used;
    int overflow;
} cs_arena;

static void *arena_take(cs_arena *a, size_t n_items, size_t item)
{
    void *p = a->base != NULL ? a->base + a->used : NULL;
    if (n_items > (SIZE_MAX / 4 - a->used) / item) {
        a->overflow = 1;
        return NULL;
    }
    a->used += (n_items * item + 63) & ~(size_t)63; /* buffers start 64 bytes apart */
    return p;
}

static int size_ok(ptrdiff_t n) { return n >= 1 && n <= INT_MAX; }

/* Take the typed buffers of one dtype from the arena, filling the tables of B (and pointing
 * them at the caller's params) once the arena has memory. */
#define CS_MLP_LAYOUT(B, T)                                                                   \
    do {                                                                                      \
        T **tab = arena_take(a, 6 * (size_t)L, sizeof(T *));                                  \
        if (tab != NULL) {                                                                    \
            (B).coefs = tab;                                                                  \
            (B).intercepts = tab + L;                                                         \
            (B).acts = tab + 2 * L;                                                           \
            (B).deltas = tab + 3 * L;                                                         \
            (B).gcoefs = tab + 4 * L;                                                         \
            (B).gints = tab + 5 * L;                                                          \
        }                                                                                     \
        for (int l = 0; l < L; l++) {                                                         \
            T *acts = arena_take(a, (size_t)br * (size_t)u[l + 1], sizeof(T));                \
            T *deltas = arena_take(a, (size_t)br * (size_t)u[l + 1], sizeof(T));              \
            T *gcoefs = arena_take(a, (size_t)u[l] * (size_t)u[l + 1], sizeof(T));            \
            T *gints = arena_take(a, (size_t)u[l + 1], sizeof(T));                            \
            if (tab != NULL) {                                                                \
                (B).coefs[l] = params[l];                                                     \
                (B).intercepts[l] = params[L + l];                                            \
                (B).acts[l] = acts;                                                           \
                (B).deltas[l] = deltas;                                                       \
                (B).gcoefs[l] = gcoefs;                                                       \
                (B).gints[l] = gints;                                                         \
            }                                                                                 \
        }                                                                                     \
        (B).xbuf = net->spec.gather_dense ? arena_take(a, (size_t)br * (size_t)u[0], sizeof(T)) \
                                          : NULL;                                             \
        (B).ext = arena_take(a, 4 * (size_t)L, sizeof(T *));                                  \
        (B).ybuf = arena_take(a, (size_t)br * (size_t)u[L], sizeof(T));                       \
    } while (0)

/* Lay out every buffer of net in the arena: with a->base NULL this only counts the bytes. */
static void layout(cs_mlp *net, cs_arena *a, void *const *params)
{
    const int L = net->spec.n_layers;
    const ptrdiff_t br = net->spec.batch_rows, *u = net->units;
    ptrdiff_t widest = 0;
    for (int l = 0; l <= L; l++)
        widest = u[l] > widest ? u[l] : widest;
    if (net->spec.dtype == CS_FLOAT32)
        CS_MLP_LAYOUT(net->b.f32, float);
    else
        CS_MLP_LAYOUT(net->b.f64, double);
    net->yidx = arena_take(a, (size_t)br, sizeof(int64_t));
    net->rows = arena_take(a, (size_t)br, sizeof(int64_t));
    net->wbuf = arena_take(a, (size_t)br, sizeof(double));
    net->loss_rows = arena_take(a, (size_t)br, sizeof(double));
    net->colacc = arena_take(a, (size_t)widest, sizeof(double));
}

static int check_spec(const cs_mlp_spec *s)
{
    if (s->dtype != CS_FLOAT32 && s->dtype != CS_FLOAT64)
        return CS_EINVAL;
    if (s->n_layers < 1 || s->units == NULL || !size_ok(s->batch_rows) || s->n_threads < 1)
        return CS_EINVAL;
    if (s->activation < CS_ACT_IDENTITY || s->activation > CS_ACT_RELU)
        return CS_EINVAL;
    for (int l = 0; l <= s->n_layers; l++)
        if (!size_ok(s->units[l])) /* each is an int size or leading dimension for BLAS */
            return CS_EINVAL;
    return CS_OK;
}

int cs_mlp_create(cs_mlp **out, const cs_mlp_spec *spec, void *const *params, cs_blas blas)
{
    *out = NULL;
    if (spec == NULL || params == NULL || check_spec(spec) != CS_OK)
        return CS_EINVAL;
    if ((spec->dtype == CS_FLOAT32 && blas.sgemm == NULL) ||
        (spec->dtype == CS_FLOAT64 && blas.dgemm == NULL))
        return CS_EINVAL;
    for (int i = 0; i < 2 * spec->n_layers; i++)
        if (params[i] == NULL)
            return CS_EINVAL;
    cs_mlp *net = calloc(1, sizeof *net);
    if (net == NULL)
        return CS_ENOMEM;
    net->spec = *spec;
    net->blas = blas;
    net->spec.split_gemm = spec->split_gemm && blas.set_threads != NULL &&
                           blas.get_threads != NULL;
    net->units = malloc((size_t)(spec->n_layers + 1) * sizeof(ptrdiff_t));
    if (net->units == NULL) {
        free(net);
        return CS_ENOMEM;
    }
    memcpy(net->units, spec->units, (size_t)(spec->n_layers + 1) * sizeof(ptrdiff_t));
    net->spec.units = net->units;
    cs_arena arena = {NULL, 0, 0};
    layout(net, &arena, params);
    net->mem = arena.overflow ? NULL : malloc(arena.used);
    if (net->mem == NULL) {
        cs_mlp_free(net);
        return CS_ENOMEM;
    }
    arena = (cs_arena){net->mem, 0, 0};
    layout(net, &arena, params);
    *out = net;
    return CS_OK;
}

void cs_mlp_free(cs_mlp *net)
{
    if (net == NULL)
        return;
    free(net->mem);
    free(net->units);
    free(net);
}

/* ---- input checks ------------------------------------------------------------------------ */

static int check_rows(const int64_t *rows, ptrdiff_t n, ptrdiff_t limit)
{
    for (ptrdiff_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= limit)
            return CS_EINVAL;
    return CS_OK;
}

/* CSR input: row starts in order within [0, csr_nnz], column indices in [0, n_in). The
 * first and last row starts are read once: the indices checked are those between them. */
static int check_csr(const cs_mlp_data *d, ptrdiff_t n_in)
{
    const ptrdiff_t n = d->n_rows;
    if (d->csr_data == NULL || d->csr_indices == NULL || d->csr_indptr == NULL)
        return CS_EINVAL;
    int64_t first, last;
    CS_READ_ONCE_I64(first, d->csr_indptr);
    CS_READ_ONCE_I64(last, d->csr_indptr + n);
    if (first < 0 || last < first || last > d->csr_nnz)
        return CS_EINVAL;
    for (ptrdiff_t i = 0; i < n; i++)
        if (d->csr_indptr[i + 1] < d->csr_indptr[i])
            return CS_EINVAL;
    return check_rows(d->csr_indices + first, last - first, n_in);
}

/* Everything the passes read from data lies in bounds; targets are required when asked. */
static int check_data(const cs_mlp *net, const cs_mlp_data *d, int need_targets)
{
    const ptrdiff_t n = d->n_rows, n_out = net->units[net->spec.n_layers];
    if (n < 0 || (d->order != NULL && d->n_order < 0))
        return CS_EINVAL;
    if (d->x == NULL && check_csr(d, net->units[0]) != CS_OK)
        return CS_EINVAL;
    if (d->order != NULL && check_rows(d->order, d->n_order, n) != CS_OK)
        return CS_EINVAL;
    if (!need_targets)
        return CS_OK;
    if (net->spec.softmax_out)
        return d->y_idx != NULL ? check_rows(d->y_idx, n, n_out) : CS_EINVAL;
    return d->y != NULL ? CS_OK : CS_EINVAL;
}

/* ---- one BLAS thread while engines split the products ------------------------------------ */

/* An engine that splits its products over its own threads sets the BLAS to one thread for
 * the call (two thread pools on the same cores would take turns). Engines running at once in
 * several threads share this: the first to enter saves the BLAS's count and the last to
 * leave puts it back. */
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
static pthread_mutex_t blas_lock = PTHREAD_MUTEX_INITIALIZER;
#define BLAS_LOCK() pthread_mutex_lock(&blas_lock)
#define BLAS_UNLOCK() pthread_mutex_unlock(&blas_lock)
#else /* dladdr, hence thread control, is POSIX only: nothing to guard */
#define BLAS_LOCK() ((void)0)
#define BLAS_UNLOCK() ((void)0)
#endif
static int blas_users = 0, blas_saved_threads = 1;

static void blas_single_begin(const cs_mlp *net)
{
    if (!net->spec.split_gemm)
        return;
    BLAS_LOCK();
    if (blas_users++ == 0) {
        blas_saved_threads = net->blas.get_threads();
        net->blas.set_threads(1);
    }
    BLAS_UNLOCK();
}

static void blas_single_end(const cs_mlp *net)
{
    if (!net->spec.split_gemm)
        return;
    BLAS_LOCK();
    if (--blas_users == 0)
        net->blas.set_threads(blas_saved_threads);
    BLAS_UNLOCK();
}

/* ---- entry points ------------------------------------------------------------------------ */

int cs_mlp_forward(cs_mlp *net, const cs_mlp_data *data, void *logits)
{
    if (net == NULL || data == NULL || logits == NULL || check_data(net, data, 0) != CS_OK)
        return CS_EINVAL;
    cs_mlp_forward_kernel *const *table =
        net->spec.dtype == CS_FLOAT32 ? mlp_forward_f32 : mlp_forward_f64;
    blas_single_begin(net);
    const int status = table[cs_simd_level()](net, data, logits);
    blas_single_end(net);
    return status;
}

int cs_mlp_loss_grad(cs_mlp *net, const cs_mlp_data *data, double alpha, void *const *grads,
                     double *loss)
{
    if (net == NULL || data == NULL || grads == NULL || loss == NULL)
        return CS_EINVAL;
    if (data->n_rows < 1 || data->n_rows > net->spec.batch_rows || !(alpha >= 0.0) ||
        check_data(net, data, 1) != CS_OK)
        return CS_EINVAL;
    cs_mlp_loss_grad_kernel *const *table =
        net->spec.dtype == CS_FLOAT32 ? mlp_loss_grad_f32 : mlp_loss_grad_f64;
    blas_single_begin(net);
    const int status = table[cs_simd_level()](net, data, alpha, grads, loss);
    blas_single_end(net);
    return status;
}

int cs_mlp_epoch(cs_mlp *net, const cs_mlp_data *data, ptrdiff_t batch_size, double alpha,
                 cs_optim *opt, void *const *state, cs_mlp_progress *progress)
{
    if (net == NULL || data == NULL || opt == NULL || state == NULL || progress == NULL)
        return CS_EINVAL;
    if (batch_size < 1 || batch_size > net->spec.batch_rows || !(alpha >= 0.0))
        return CS_EINVAL;
    const ptrdiff_t n_visits = data->order != NULL ? data->n_order : data->n_rows;
    if (progress->n_done < 0 || progress->n_done > n_visits ||
        (progress->n_done % batch_size != 0 && progress->n_done != n_visits))
        return CS_EINVAL;
    if (opt->kind != CS_OPTIM_SGD && opt->kind != CS_OPTIM_ADAM)
        return CS_EINVAL;
    if (check_data(net, data, 1) != CS_OK)
        return CS_EINVAL;
    if (data->x != NULL && data->order != NULL && !net->spec.gather_dense)
        return CS_EINVAL; /* built without a gather buffer */
    cs_mlp_epoch_kernel *const *table =
        net->spec.dtype == CS_FLOAT32 ? mlp_epoch_f32 : mlp_epoch_f64;
    blas_single_begin(net);
    const int status =
        table[cs_simd_level()](net, data, batch_size, alpha, opt, state, progress);
    blas_single_end(net);
    return status;
}
