/* csoftmax: the softmax family over the last axis of a C-contiguous (n_rows, n_cols) batch.
 *
 * Shared contract:
 *   - x, y, dy, out: C-contiguous, row-major; n_rows, n_cols >= 0 (nothing happens when either
 *     is 0). n_threads >= 1 (the Python layer resolves None / negative values).
 *   - A row that is entirely -inf, or holds +inf or NaN, has an undefined softmax: its output
 *     row is NaN (the NaN's sign bit is unspecified and may differ between SIMD paths).
 *     -inf entries of any other row get probability 0 (log-probability -inf).
 *   - Sums are lane sums in double (cs_common.h); each row is handled by one thread, so
 *     results do not depend on n_threads.
 *   - where: NULL, or an (n_rows, n_cols) mask of bytes, nonzero where an element takes part
 *     (JAX's `where`): the max and the sums run over those elements only; the others get 0
 *     (softmax, both VJPs) or -inf (log_softmax). A row where no element takes part is all
 *     0 (-inf), with a zero gradient. An undefined row (above) is NaN where elements take
 *     part. A row whose every byte is nonzero gives the bits of the unmasked call.
 *   - Return CS_OK (no kernel here can fail once its arguments are valid).
 */
#ifndef CS_SOFTMAX_H
#define CS_SOFTMAX_H

#include "cs_common.h"

/* out[i, :] = exp(x[i, :] - m_i) / sum_j exp(x[i, j] - m_i), m_i = max_j x[i, j].
 * out may be x (in place). */
int cs_softmax_f32(const float *x, const unsigned char *where, float *out, ptrdiff_t n_rows,
                   ptrdiff_t n_cols, int n_threads);
int cs_softmax_f64(const double *x, const unsigned char *where, double *out, ptrdiff_t n_rows,
                   ptrdiff_t n_cols, int n_threads);

/* out[i, :] = (x[i, :] - m_i) - log sum_j exp(x[i, j] - m_i). out may be x. */
int cs_log_softmax_f32(const float *x, const unsigned char *where, float *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);
int cs_log_softmax_f64(const double *x, const unsigned char *where, double *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);

/* out: (n_rows, n_cols, n_cols); out[i] = diag(s_i) - s_i s_i^T with s_i = softmax(x[i, :]).
 * out must not overlap x. */
int cs_softmax_jacobian_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads);
int cs_softmax_jacobian_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads);

/* Vector-Jacobian product of softmax given its output y = softmax(x):
 * out[i, :] = y[i, :] * (dy[i, :] - <dy[i, :], y[i, :]>). Equals J^T dy = J dy (J symmetric).
 * out may be y or dy.
 * When check is not NULL, y is checked, in the pass that reads it, to be a softmax output:
 * every entry (that takes part) in [-tol, 1 + tol], and the row's sum within tol of 1, or 0
 * with a mask, tol = (n_cols + 8) x check->eps (the machine epsilon of the dtype y was
 * rounded to, at least that of the kernel's dtype); rows holding NaN pass. check->bad_row is
 * then the lowest row that fails, or -1. Every row is written either way. */
typedef struct {
    double eps;
    ptrdiff_t bad_row;
} cs_vjp_check;

int cs_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where, float *out,
                       ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads, cs_vjp_check *check);
int cs_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                       double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads,
                       cs_vjp_check *check);

/* Vector-Jacobian product of log-softmax given its output y = log_softmax(x):
 * out[i, :] = dy[i, :] - exp(y[i, :]) * sum_j dy[i, j]. out may be y or dy. */
int cs_log_softmax_vjp_f32(const float *y, const float *dy, const unsigned char *where,
                           float *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);
int cs_log_softmax_vjp_f64(const double *y, const double *dy, const unsigned char *where,
                           double *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);

#endif
