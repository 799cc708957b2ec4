/* C-level tests of the kernels of src_c/, on every SIMD path the build has and the CPU runs.
 *
 * Each kernel's result is compared with a plain scalar C reference written from the formula
 * in its header (softmax, log_softmax, the Jacobian, both VJPs, softmax and sigmoid
 * cross-entropy) within a tolerance scaled by the size of what was computed, and the
 * optimizer steps, which the headers define operation by operation, must match their
 * reference bit for bit (this catches a compiler that fuses a multiply-add). Masked (-inf),
 * +inf and NaN entries and logits of +-1e4 are included, and every result must be bitwise
 * identical for n_threads 1 and 2.
 *
 * It needs no Python: .ci/ctest.sh arm64 cross-compiles it with the kernels and
 * runs it under qemu, and .ci/matrix.sh builds it with each compiler. Build it by hand with
 *   cc -O2 -std=c99 -ffp-contract=off -fno-math-errno [-fopenmp] -Isrc_c \
 *      tests/c/test_kernels.c src_c/cs_*.c src_c/kernels/f*.c -lm
 * It prints one line per path and then "N passed, M failed"; it exits 1 on any failure.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_cast.h"
#include "cs_dispatch.h"
#include "cs_optim.h"
#include "cs_parallel.h"
#include "cs_softmax.h"
#include "cs_xent.h"

static long n_passed, n_failed;
static const char *current_path = "";

static void check(int ok, const char *what, ptrdiff_t i, double got, double want)
{
    if (ok) {
        n_passed++;
        return;
    }
    if (n_failed++ < 20)
        fprintf(stderr, "FAIL [%s] %s at %ld: got %.17g, want %.17g\n", current_path, what,
                (long)i, got, want);
}

/* |got - want| <= tol, NaN where NaN is wanted, the same infinity where one is wanted. */
static void check_close(double got, double want, double tol, const char *what, ptrdiff_t i)
{
    int ok;
    if (isnan(want))
        ok = isnan(got);
    else if (isinf(want))
        ok = got == want;
    else
        ok = fabs(got - want) <= tol;
    check(ok, what, i, got, want);
}

/* ---- data -------------------------------------------------------------------------------- */

static unsigned long long rng_state = 42;
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

#define N_ROWS 9
static const ptrdiff_t widths[] = {1, 3, 15, 16, 17, 33, 203};
#define N_WIDTHS (sizeof widths / sizeof widths[0])

/* Rows of logits: ordinary ones, then masked entries, a row of -inf, +inf, NaN, +-1e4. */
static void fill_logits(double *x, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < N_ROWS * n; i++)
        x[i] = 3.0 * normal();
    for (ptrdiff_t j = 0; j < n; j += 4)
        x[3 * n + j] = -INFINITY;
    for (ptrdiff_t j = 0; j < n; j++) {
        x[4 * n + j] = -INFINITY;
        x[7 * n + j] = (uniform() < 0.5 ? -1e4 : 1e4) + normal();
        x[8 * n + j] = 1e4 + normal();
    }
    if (n > 1) {
        x[5 * n + n / 2] = INFINITY;
        x[6 * n + n - 1] = NAN;
    }
}

/* ---- scalar references (double, from the formulas of the headers) ---------------------- */

/* m = max, s = sum exp(x - m); 0 when the row is all -inf or holds +inf or NaN. */
static int ref_normalizer(const double *x, ptrdiff_t n, double *m, double *s)
{
    double mx = -INFINITY;
    for (ptrdiff_t j = 0; j < n; j++) {
        if (isnan(x[j]) || x[j] == INFINITY)
            return 0;
        mx = x[j] > mx ? x[j] : mx;
    }
    if (mx == -INFINITY)
        return 0;
    double sum = 0.0;
    for (ptrdiff_t j = 0; j < n; j++)
        sum += exp(x[j] - mx);
    *m = mx;
    *s = sum;
    return 1;
}

static void ref_softmax(const double *x, double *s, ptrdiff_t n)
{
    double m, sum;
    int ok = ref_normalizer(x, n, &m, &sum);
    for (ptrdiff_t j = 0; j < n; j++)
        s[j] = ok ? exp(x[j] - m) / sum : NAN;
}

static void ref_log_softmax(const double *x, double *ls, ptrdiff_t n)
{
    double m, sum;
    int ok = ref_normalizer(x, n, &m, &sum);
    for (ptrdiff_t j = 0; j < n; j++)
        ls[j] = ok ? (x[j] - m) - log(sum) : NAN;
}

/* ---- the tests, written once for float and double -------------------------------------- */

#define CS_TEST_T float
#define CS_TEST_SUF f32
#define CS_TEST_RTOL 4e-6
#include "test_kernels_impl.h"
#undef CS_TEST_T
#undef CS_TEST_SUF
#undef CS_TEST_RTOL

#define CS_TEST_T double
#define CS_TEST_SUF f64
#define CS_TEST_RTOL 1e-12
#include "test_kernels_impl.h"
#undef CS_TEST_T
#undef CS_TEST_SUF
#undef CS_TEST_RTOL

/* float64 -> float32 with its finiteness flag: each value as a C cast rounds it, on one
 * thread and two, and a NaN, an infinity or a value beyond float's range found anywhere. */
static void test_cast(void)
{
    enum { N = 70001 };
    double *x = malloc(N * sizeof *x);
    float *out = malloc(N * sizeof *out);
    for (int i = 0; i < N; i++)
        x[i] = normal() * pow(10.0, (double)(i % 80 - 44));
    x[0] = 3.4028234663852886e38; /* FLT_MAX: finite */
    for (int n_threads = 1; n_threads <= 2; n_threads++) {
        int finite = 0;
        check(cs_cast_f64_f32(x, out, &finite, N, n_threads) == CS_OK && finite == 1,
              "cast finite", n_threads, 0, 1);
        int same = 1;
        for (int i = 0; i < N; i++)
            same &= memcmp(&out[i], &(float){(float)x[i]}, sizeof(float)) == 0;
        check(same, "cast values", n_threads, 0, 0);
        const double bad[3] = {NAN, -INFINITY, 1e39};
        const int where[3] = {0, N / 2, N - 1};
        for (int b = 0; b < 3; b++)
            for (int w = 0; w < 3; w++) {
                const double keep = x[where[w]];
                x[where[w]] = bad[b];
                check(cs_cast_f64_f32(x, out, &finite, N, n_threads) == CS_OK && finite == 0,
                      "cast non-finite", where[w], bad[b], 0);
                x[where[w]] = keep;
            }
    }
    int finite = 0;
    check(cs_cast_f64_f32(x, out, &finite, 0, 2) == CS_OK && finite == 1, "cast empty", 0, 0,
          1);
    free(x), free(out);
}

/* The finiteness check alone: NaN and both infinities found at the first, middle and last
 * position, on one thread and two; the largest finite values and subnormals pass. */
static void test_check_finite(void)
{
    enum { N = 70001 };
    float *xf = malloc(N * sizeof *xf);
    double *xd = malloc(N * sizeof *xd);
    for (int i = 0; i < N; i++) {
        xd[i] = normal() * pow(10.0, (double)(i % 600 - 300));
        xf[i] = (float)(normal() * pow(10.0, (double)(i % 70 - 40)));
    }
    xf[1] = 3.4028234663852886e38f, xf[2] = -1e-45f;
    xd[1] = -1.7976931348623157e308, xd[2] = 5e-324;
    const int where[3] = {0, N / 2, N - 1};
    for (int n_threads = 1; n_threads <= 2; n_threads++) {
        int ff = 0, fd = 0;
        check(cs_check_finite_f32(xf, &ff, N, n_threads) == CS_OK && ff == 1,
              "check finite f32", n_threads, 0, 1);
        check(cs_check_finite_f64(xd, &fd, N, n_threads) == CS_OK && fd == 1,
              "check finite f64", n_threads, 0, 1);
        const double bad[3] = {NAN, INFINITY, -INFINITY};
        for (int b = 0; b < 3; b++)
            for (int w = 0; w < 3; w++) {
                const float kf = xf[where[w]];
                const double kd = xd[where[w]];
                xf[where[w]] = (float)bad[b], xd[where[w]] = bad[b];
                check(cs_check_finite_f32(xf, &ff, N, n_threads) == CS_OK && ff == 0,
                      "check non-finite f32", where[w], bad[b], 0);
                check(cs_check_finite_f64(xd, &fd, N, n_threads) == CS_OK && fd == 0,
                      "check non-finite f64", where[w], bad[b], 0);
                xf[where[w]] = kf, xd[where[w]] = kd;
            }
    }
    int finite = 0;
    check(cs_check_finite_f64(xd, &finite, 0, 2) == CS_OK && finite == 1, "check empty", 0, 0,
          1);
    free(xf), free(xd);
}

/* cs_blocked_sum sums eight blocks side by side: the bits must be those of one block of 128
 * after another (the documented order), for every length around the block boundaries. */
static void test_blocked_sum(void)
{
    enum { N = 3 * 8 * 128 + 77 };
    double *v = malloc(N * sizeof *v);
    for (ptrdiff_t i = 0; i < N; i++)
        v[i] = (uniform() - 0.3) * (1.0 + (double)(i % 7) * 1e5);
    for (ptrdiff_t n = 0; n <= N; n += n < 2 * 8 * 128 + 3 ? 1 : 61) {
        double total = 0.0;
        for (ptrdiff_t b = 0; b < n; b += 128) {
            double block = 0.0;
            for (ptrdiff_t i = b; i < (b + 128 < n ? b + 128 : n); i++)
                block += v[i];
            total += block;
        }
        const double got = cs_blocked_sum(v, n);
        check(memcmp(&got, &total, sizeof got) == 0, "blocked sum order", n, got, total);
    }
    free(v);
}

int main(void)
{
    const int best = cs_simd_supported();
    printf("csoftmax C kernels: %d SIMD path(s) compiled, OpenMP %s\n", CS_SIMD_N_LEVELS,
           cs_openmp_enabled() ? "on" : "off");
    for (int level = 0; level < CS_SIMD_N_LEVELS; level++) {
        current_path = cs_simd_name(level);
        if (level > best) {
            printf("%-8s skipped: this CPU lacks it\n", current_path);
            continue;
        }
        if (cs_simd_set_level(level) != CS_OK || cs_simd_level() != level) {
            check(0, "cs_simd_set_level", level, cs_simd_level(), level);
            continue;
        }
        const long before_pass = n_passed, before_fail = n_failed;
        run_f32();
        run_f64();
        printf("%-8s %ld checks passed, %ld failed\n", current_path, n_passed - before_pass,
               n_failed - before_fail);
    }
    check(cs_simd_parse("auto") == CS_SIMD_AUTO && cs_simd_parse("nope") == -2, "simd_parse",
          0, 0, 0);
    test_cast();
    test_check_finite();
    test_blocked_sum();
    printf("%ld passed, %ld failed\n", n_passed, n_failed);
    return n_failed != 0;
}
