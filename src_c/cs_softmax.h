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
 *   - Return CS_OK (no kernel here can fail once its arguments are valid).
 */
#ifndef CS_SOFTMAX_H
#define CS_SOFTMAX_H

#include "cs_common.h"

/* out[i, :] = exp(x[i, :] - m_i) / sum_j exp(x[i, j] - m_i), m_i = max_j x[i, j].
 * out may be x (in place). */
int cs_softmax_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);
int cs_softmax_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                   int n_threads);

/* out[i, :] = (x[i, :] - m_i) - log sum_j exp(x[i, j] - m_i). out may be x. */
int cs_log_softmax_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                       int n_threads);
int cs_log_softmax_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                       int n_threads);

/* out: (n_rows, n_cols, n_cols); out[i] = diag(s_i) - s_i s_i^T with s_i = softmax(x[i, :]).
 * out must not overlap x. */
int cs_softmax_jacobian_f32(const float *x, float *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads);
int cs_softmax_jacobian_f64(const double *x, double *out, ptrdiff_t n_rows, ptrdiff_t n_cols,
                            int n_threads);

/* Vector-Jacobian product of softmax given its output y = softmax(x):
 * out[i, :] = y[i, :] * (dy[i, :] - <dy[i, :], y[i, :]>). Equals J^T dy = J dy (J symmetric).
 * out may be y or dy. */
int cs_softmax_vjp_f32(const float *y, const float *dy, float *out, ptrdiff_t n_rows,
                       ptrdiff_t n_cols, int n_threads);
int cs_softmax_vjp_f64(const double *y, const double *dy, double *out, ptrdiff_t n_rows,
                       ptrdiff_t n_cols, int n_threads);

/* Vector-Jacobian product of log-softmax given its output y = log_softmax(x):
 * out[i, :] = dy[i, :] - exp(y[i, :]) * sum_j dy[i, j]. out may be y or dy. */
int cs_log_softmax_vjp_f32(const float *y, const float *dy, float *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols, int n_threads);
int cs_log_softmax_vjp_f64(const double *y, const double *dy, double *out, ptrdiff_t n_rows,
                           ptrdiff_t n_cols, int n_threads);

#endif
