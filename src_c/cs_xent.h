/* csoftmax: cross-entropy losses and their gradients, computed from the logits in one pass per
 * row: softmax cross-entropy (cs_xent_*) and sigmoid cross-entropy (cs_sigmoid_xent_*).
 *
 * Softmax cross-entropy:
 *
 * For row i with logits z (n_cols = C entries), m = max z, S = sum_j exp(z_j - m):
 *   log softmax(z)_j = (z_j - m) - log S                      (log-sum-exp; never log(softmax))
 *   target t: hard labels (t = onehot(target[i])) or probabilities (a row of target_prob);
 *   c_j = class_weight[j] (hard labels only; 1 when class_weight is NULL)
 *   smoothed, weighted target (eps = label_smoothing):
 *     hard labels y:  t'_j = (1 - eps) c_y [j == y] + eps c_j / C
 *     probabilities:  t'_j = (1 - eps) t_j + eps / C
 *   l_i = -sum_j t'_j log softmax(z)_j, terms with t'_j == 0 contributing 0 (0 * -inf = 0)
 *   w_i = sample_weight[i] (1 when sample_weight is NULL)
 *   a hard label equal to ignore_index is ignored: l_i = 0, its gradient row 0, and it does
 *     not count in the mean (as PyTorch's ignore_index)
 *   reduction CS_REDUCE_NONE: loss_rows[i] = w_i l_i; *loss = sum_i w_i l_i
 *             CS_REDUCE_SUM:  the same
 *             CS_REDUCE_MEAN: the same, and *loss = sum_i w_i l_i / D, with
 *               D = sum_i w_i c_{y_i} over the rows not ignored (hard labels; PyTorch's
 *               weighted mean) or D = sum_i w_i (probabilities)
 *   grad (optional, may be NULL): d(*loss)/dz for SUM and MEAN; for NONE, row i is
 *     w_i dl_i/dz_i. Row i of the unweighted gradient is softmax(z) * sum_j t'_j - t'.
 * A row that is entirely -inf, or holds +inf or NaN, gets l_i = NaN and a NaN gradient row
 * (unless ignored). Hard labels must lie in [0, n_cols) or equal ignore_index (checked:
 * CS_EINVAL otherwise, nothing written). Each label is read once, into the call's private
 * copy (n_rows int64; CS_ENOMEM when it cannot be allocated), and checked as it is copied;
 * every later pass reads the copy. So another thread writing to target during the call
 * can change the loss, never where the call reads or writes; the other inputs are read as
 * values only (never as indices). The losses go to a cs_xent_out: out->loss_rows,
 * (n_rows,) doubles supplied by the caller, always written; out->loss receives *loss.
 * grad: (n_rows, n_cols), must not overlap the logits. The row losses are reduced serially
 * as a blocked sum (cs_common.h), so *loss does not depend on n_threads.
 */
#ifndef CS_XENT_H
#define CS_XENT_H

#include "cs_common.h"

#define CS_REDUCE_NONE 0
#define CS_REDUCE_SUM 1
#define CS_REDUCE_MEAN 2

/* The options of a softmax cross-entropy call (see above). */
typedef struct {
    const double *sample_weight; /* (n_rows,) w_i, or NULL */
    const double *class_weight;  /* (n_cols,) c_j, or NULL; must be NULL for probabilities */
    int64_t ignore_index;        /* hard labels equal to it are ignored (CS_XENT_NO_IGNORE) */
    double label_smoothing;      /* eps in [0, 1] */
    int reduction;               /* CS_REDUCE_* */
} cs_xent_opts;

#define CS_XENT_NO_IGNORE INT64_MIN

/* The losses of a cross-entropy call: the caller's array of row losses, and the reduced loss
 * the call writes. */
typedef struct {
    double *loss_rows; /* (n_rows,) l_i as above, supplied by the caller */
    double loss;       /* written by the call: the reduced loss */
} cs_xent_out;

int cs_xent_hard_f32(const float *logits, const int64_t *target, const cs_xent_opts *opts,
                     cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads);
int cs_xent_hard_f64(const double *logits, const int64_t *target, const cs_xent_opts *opts,
                     cs_xent_out *out, double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads);
int cs_xent_soft_f32(const float *logits, const float *target_prob, const cs_xent_opts *opts,
                     cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads);
int cs_xent_soft_f64(const double *logits, const double *target_prob, const cs_xent_opts *opts,
                     cs_xent_out *out, double *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                     int n_threads);

/* Sigmoid (binary) cross-entropy, one independent output per column, from the logits z
 * (n_rows, n_cols) and targets y (usually 0/1):
 *   out->loss_rows[i] = w_i sum_j (max(z_ij, 0) - y_ij z_ij + log1p(exp(-|z_ij|)))
 *                       (the exact softplus)
 *   out->loss = sum_i out->loss_rows[i], a blocked sum (cs_common.h)
 *   grad[i, j] = w_i (sigmoid(z_ij) - y_ij)   (grad may be NULL, or may be the logits)
 * w_i = sample_weight[i] (1 when sample_weight is NULL). out->loss_rows must not overlap the
 * other arrays. Returns CS_OK, or CS_EINVAL for negative sizes or a NULL out. */
int cs_sigmoid_xent_f32(const float *logits, const float *target, const double *sample_weight,
                        cs_xent_out *out, float *grad, ptrdiff_t n_rows, ptrdiff_t n_cols,
                        int n_threads);
int cs_sigmoid_xent_f64(const double *logits, const double *target,
                        const double *sample_weight, cs_xent_out *out, double *grad,
                        ptrdiff_t n_rows, ptrdiff_t n_cols, int n_threads);

#endif
