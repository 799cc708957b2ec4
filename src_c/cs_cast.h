/* csoftmax: the estimator's input, cast and checked in one pass.
 *
 * A float32 fit of float64 data converts the data once; the finiteness check that input
 * validation makes (NaN, inf, and values beyond float's range, which the cast turns into
 * inf) is taken from the same pass instead of a second one over the converted copy. Input
 * already of the dtype the engine works in (for training or prediction) is only checked,
 * without the temporary arrays (or the floating-point flags of a sum) of a NumPy check.
 */
#ifndef CS_CAST_H
#define CS_CAST_H

#include "cs_common.h"

/* out[i] = (float)x[i] for 0 <= i < n (rounded to nearest), on up to n_threads threads
 * (cs_parallel.h); *finite = 1 when every out[i] is finite, 0 when any is NaN or infinite
 * (out is then filled all the same). x and out must not overlap. Returns CS_OK. */
int cs_cast_f64_f32(const double *x, float *out, int *finite, ptrdiff_t n, int n_threads);

/* *finite = 1 when every x[i], 0 <= i < n, is finite, 0 when any is NaN or infinite; read
 * on up to n_threads threads. Returns CS_OK. */
int cs_check_finite_f32(const float *x, int *finite, ptrdiff_t n, int n_threads);
int cs_check_finite_f64(const double *x, int *finite, ptrdiff_t n, int n_threads);

/* Advice that the buffer [p, p + nbytes), allocated and not yet written, be backed by small
 * pages: Linux's MADV_NOHUGEPAGE on the whole pages inside it, and nothing elsewhere (or when
 * the kernel refuses; the advice changes no value). NumPy advises huge pages for arrays of
 * 4 MiB and more; in a virtual machine whose balloon reports free memory to the host, the
 * first write to a huge page new to the process costs the host's faults, and the cast's
 * output, written once and then read row by row, gains nothing from huge pages
 * (docs/performance.rst has the measurements). */
void cs_advise_small_pages(void *p, size_t nbytes);

#endif
