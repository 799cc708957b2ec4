/* csoftmax: the optimizers of the MLP engine, each step fused with the L2 term.
 *
 * One cs_optim struct holds an optimizer's hyper-parameters and its scalar state; the
 * per-parameter state arrays (velocities, or Adam's moments) belong to the caller, who keeps
 * them between calls (the estimator pickles them). The struct is the single owner of Adam's
 * step count t, of its bias correction and of the learning rate it reports.
 *
 * SGD with momentum mu and learning rate lr (Nesterov's variant when nesterov != 0):
 *   g = grad + l2 p;  vel = mu vel - lr g;  p += nesterov ? mu vel - lr g : vel
 * Adam (Kingma and Ba 2014, in the form with the bias correction folded into the step size):
 *   t += 1;  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)                  (cs_optim_begin_step)
 *   g = grad + l2 p;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *   p -= lr_t m / (sqrt(v) + eps)
 * Arithmetic is in the parameters' dtype, in the order written above, as scikit-learn's.
 */
#ifndef CS_OPTIM_H
#define CS_OPTIM_H

#include "cs_common.h"

#define CS_OPTIM_SGD 0
#define CS_OPTIM_ADAM 1

typedef struct {
    int kind;             /* CS_OPTIM_SGD or CS_OPTIM_ADAM */
    double learning_rate; /* SGD: the current rate (schedules change it); Adam: the initial */
    double momentum;      /* SGD */
    int nesterov;         /* SGD */
    double beta_1, beta_2, epsilon; /* Adam */
    int64_t t;            /* Adam: steps taken so far */
    double step_size;     /* the rate of the step in progress (set by cs_optim_begin_step) */
} cs_optim;

/* Start one optimizer step: Adam counts it and bias-corrects its step size. */
void cs_optim_begin_step(cs_optim *opt);

/* The learning rate the optimizer reports: SGD its rate, Adam the bias-corrected rate of its
 * last step (the initial rate before the first). */
double cs_optim_learning_rate(const cs_optim *opt);

/* Update n parameters p with their gradient and state arrays state[0] (velocity, or Adam's
 * first moment) and state[1] (Adam's second moment; not read by SGD, which takes a one-element
 * state), each of n elements, with the L2 term l2 * p added to the gradient. *sq_norm receives sum(p^2) of the parameters before the step, in double.
 * Nothing may alias. The update is split over up to n_threads threads (cs_run_rows); every
 * element is computed on its own, so the result is the same for any n_threads. Returns
 * CS_OK, or CS_EINVAL for an unknown kind. */
int cs_optim_update_f32(const cs_optim *opt, float *p, const float *grad, float *const *state,
                        ptrdiff_t n, double l2, double *sq_norm, int n_threads);
int cs_optim_update_f64(const cs_optim *opt, double *p, const double *grad,
                        double *const *state, ptrdiff_t n, double l2, double *sq_norm,
                        int n_threads);

#endif
