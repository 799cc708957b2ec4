/* csoftmax: the fused element-wise pieces of an MLP training step.
 *
 * The GEMMs are done by BLAS (the Cython driver in csoftmax/_mlp.pyx calls scipy's
 * cython_blas); these kernels fuse everything around them so that each array is swept once.
 * Arrays are C-contiguous; `act` is one of the CS_ACT_* codes. Element-wise kernels are
 * parallel over rows for large inputs; results never depend on n_threads.
 */
#ifndef CS_MLP_H
#define CS_MLP_H

#include "cs_common.h"

#define CS_ACT_IDENTITY 0
#define CS_ACT_LOGISTIC 1
#define CS_ACT_TANH 2
#define CS_ACT_RELU 3

/* z[i, j] = act(z[i, j] + b[j]) in place; z: (n_rows, n_cols), b: (n_cols,). */
int cs_mlp_bias_act_f32(float *z, const float *b, int act, ptrdiff_t n_rows, ptrdiff_t n_cols,
                        int n_threads);
int cs_mlp_bias_act_f64(double *z, const double *b, int act, ptrdiff_t n_rows,
                        ptrdiff_t n_cols, int n_threads);

/* delta *= act'(.) expressed through the activation's output a = act(z):
 * identity 1, logistic a (1 - a), tanh 1 - a^2, relu [a > 0]. Both (n_rows, n_cols). */
int cs_mlp_act_backward_f32(float *delta, const float *a, int act, ptrdiff_t n_rows,
                            ptrdiff_t n_cols, int n_threads);
int cs_mlp_act_backward_f64(double *delta, const double *a, int act, ptrdiff_t n_rows,
                            ptrdiff_t n_cols, int n_threads);

/* Binary log-loss of sigmoid outputs, from the logits z (n_rows, n_cols) and 0/1 targets y:
 *   loss_rows[i] = w_i * sum_j (max(z, 0) - y z + log1p(exp(-|z|)))     (exact softplus form)
 *   grad[i, j] = w_i * scale * (sigmoid(z) - y)                          (grad may be z)
 * w_i = sample_weight[i] (1 when NULL). Returns CS_OK. */
int cs_mlp_logistic_loss_f32(const float *z, const float *y, const double *sample_weight,
                             double scale, double *loss_rows, float *grad, ptrdiff_t n_rows,
                             ptrdiff_t n_cols);
int cs_mlp_logistic_loss_f64(const double *z, const double *y, const double *sample_weight,
                             double scale, double *loss_rows, double *grad, ptrdiff_t n_rows,
                             ptrdiff_t n_cols);

/* out[j] = sum_i d[i, j], accumulated in double (acc: n_cols doubles of scratch), rows in
 * order. */
int cs_mlp_col_sum_f32(const float *d, double *acc, float *out, ptrdiff_t n_rows,
                       ptrdiff_t n_cols);
int cs_mlp_col_sum_f64(const double *d, double *acc, double *out, ptrdiff_t n_rows,
                       ptrdiff_t n_cols);

/* One Adam step on n parameters, with the L2 term fused in:
 *   g = grad + l2 * p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p -= lr * m / (sqrt(v) + eps)
 * Returns sum(p^2) of the parameters before the step (for the loss's L2 term), in double. */
double cs_mlp_adam_f32(float *p, const float *grad, float *m, float *v, ptrdiff_t n, double l2,
                       double lr, double b1, double b2, double eps);
double cs_mlp_adam_f64(double *p, const double *grad, double *m, double *v, ptrdiff_t n,
                       double l2, double lr, double b1, double b2, double eps);

/* One SGD step with momentum (Nesterov's when nesterov != 0), L2 fused in:
 *   g = grad + l2 * p;  vel = momentum vel - lr g;
 *   p += nesterov ? momentum vel - lr g : vel
 * Returns sum(p^2) before the step, in double. */
double cs_mlp_sgd_f32(float *p, const float *grad, float *vel, ptrdiff_t n, double l2, double lr,
                      double momentum, int nesterov);
double cs_mlp_sgd_f64(double *p, const double *grad, double *vel, ptrdiff_t n, double l2,
                      double lr, double momentum, int nesterov);

/* sum(p^2) in double; grad += l2 * p (for full-batch L-BFGS). */
double cs_mlp_l2_f32(const float *p, float *grad, ptrdiff_t n, double l2);
double cs_mlp_l2_f64(const double *p, double *grad, ptrdiff_t n, double l2);

/* Sparse first layer. X is CSR (data, indices, indptr; int64 indices) and the batch is its
 * rows `rows[0..n_rows)`:
 *   csr_matmul:  z (n_rows, n_out) = X[rows] @ w, w: (n_features, n_out)
 *   csr_tmatmul: g (n_features, n_out) = X[rows]^T @ d, d: (n_rows, n_out)
 * Column indices must lie in [0, n_features) (the Python layer checks). */
int cs_mlp_csr_matmul_f32(const float *data, const int64_t *indices, const int64_t *indptr,
                          const int64_t *rows, const float *w, float *z, ptrdiff_t n_rows,
                          ptrdiff_t n_out);
int cs_mlp_csr_matmul_f64(const double *data, const int64_t *indices, const int64_t *indptr,
                          const int64_t *rows, const double *w, double *z, ptrdiff_t n_rows,
                          ptrdiff_t n_out);
int cs_mlp_csr_tmatmul_f32(const float *data, const int64_t *indices, const int64_t *indptr,
                           const int64_t *rows, const float *d, float *g, ptrdiff_t n_rows,
                           ptrdiff_t n_features, ptrdiff_t n_out);
int cs_mlp_csr_tmatmul_f64(const double *data, const int64_t *indices, const int64_t *indptr,
                           const int64_t *rows, const double *d, double *g, ptrdiff_t n_rows,
                           ptrdiff_t n_features, ptrdiff_t n_out);

#endif
