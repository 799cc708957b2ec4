/* Part of test_kernels.c: the tests for one dtype, CS_TEST_T (float or double) with suffix
 * CS_TEST_SUF and relative tolerance CS_TEST_RTOL. */
#define TCAT_(a, b) a##_##b
#define TCAT(a, b) TCAT_(a, b)
#define TF(name) TCAT(name, CS_TEST_SUF)
#define T CS_TEST_T
#define RTOL CS_TEST_RTOL
/* Results below 4x the smallest normal number keep fewer digits: an absolute slack. */
#define TINY (sizeof(T) == 4 ? 4.8e-38 : 8.9e-308)

static void TF(test_rows)(ptrdiff_t n)
{
    const ptrdiff_t rows = N_ROWS, size = N_ROWS * n;
    double *xd = malloc((size_t)size * sizeof *xd), *ref = malloc((size_t)n * sizeof *ref);
    double *loss_rows = malloc(N_ROWS * sizeof(double));
    T *x = malloc((size_t)size * sizeof *x), *s = malloc((size_t)size * sizeof *s);
    T *ls = malloc((size_t)size * sizeof *ls), *dy = malloc((size_t)size * sizeof *dy);
    T *out = malloc((size_t)size * sizeof *out), *jac = malloc((size_t)(size * n) * sizeof *jac);
    T *yb = malloc((size_t)size * sizeof *yb);
    int64_t target[N_ROWS];
    if (!xd || !ref || !loss_rows || !x || !s || !ls || !dy || !out || !jac || !yb) {
        check(0, "malloc", n, 0, 0);
        return;
    }
    fill_logits(xd, n);
    for (ptrdiff_t i = 0; i < size; i++) {
        x[i] = (T)xd[i];
        xd[i] = (double)x[i]; /* the references see the rounded input */
        dy[i] = (T)normal();
        yb[i] = (T)(uniform() < 0.5);
    }
    for (ptrdiff_t i = 0; i < rows; i++)
        target[i] = (int64_t)(uniform() * (double)n);

    /* softmax and log_softmax */
    check(TF(cs_softmax)(x, NULL, s, rows, n, 1) == CS_OK, "softmax status", n, 0, 0);
    check(TF(cs_log_softmax)(x, NULL, ls, rows, n, 1) == CS_OK, "log_softmax status", n, 0, 0);
    for (ptrdiff_t i = 0; i < rows; i++) {
        ref_softmax(xd + i * n, ref, n);
        for (ptrdiff_t j = 0; j < n; j++)
            check_close(s[i * n + j], ref[j], RTOL * ref[j] + TINY, "softmax", i * n + j);
        ref_log_softmax(xd + i * n, ref, n);
        for (ptrdiff_t j = 0; j < n; j++)
            check_close(ls[i * n + j], ref[j], RTOL * (fabs(ref[j]) + 1.0), "log_softmax",
                        i * n + j);
    }
    for (ptrdiff_t j = 0; n > 1 && j < n; j += 4) /* masked entries get exactly 0 */
        check(s[3 * n + j] == 0, "softmax of -inf", 3 * n + j, s[3 * n + j], 0.0);

    /* the Jacobian diag(s) - s s^T */
    if (n <= 33) {
        check(TF(cs_softmax_jacobian)(x, jac, rows, n, 1) == CS_OK, "jacobian status", n, 0, 0);
        for (ptrdiff_t i = 0; i < rows; i++) {
            ref_softmax(xd + i * n, ref, n);
            for (ptrdiff_t j = 0; j < n; j++)
                for (ptrdiff_t k = 0; k < n; k++) {
                    const double want = ref[j] * ((j == k) - ref[k]);
                    check_close(jac[(i * n + j) * n + k], want,
                                RTOL * ref[j] * ((j == k) + ref[k]) + TINY, "jacobian",
                                (i * n + j) * n + k);
                }
        }
    }

    /* VJPs: s * (dy - <dy, s>) and dy - exp(ls) * sum(dy) */
    check(TF(cs_softmax_vjp)(s, dy, NULL, out, rows, n, 1, NULL) == CS_OK, "vjp status", n, 0, 0);
    for (ptrdiff_t i = 0; i < rows; i++) {
        double dot = 0.0, scale = 0.0;
        for (ptrdiff_t k = 0; k < n; k++) {
            dot += (double)s[i * n + k] * (double)dy[i * n + k];
            scale += fabs((double)s[i * n + k] * (double)dy[i * n + k]);
        }
        for (ptrdiff_t j = 0; j < n; j++) {
            const double y = s[i * n + j], g = dy[i * n + j];
            check_close(out[i * n + j], y * (g - dot), RTOL * fabs(y) * (fabs(g) + scale) + TINY,
                        "softmax_vjp", i * n + j);
        }
    }
    check(TF(cs_log_softmax_vjp)(ls, dy, NULL, out, rows, n, 1) == CS_OK, "log_vjp status", n, 0, 0);
    for (ptrdiff_t i = 0; i < rows; i++) {
        double sum = 0.0, scale = 0.0;
        for (ptrdiff_t k = 0; k < n; k++) {
            sum += (double)dy[i * n + k];
            scale += fabs((double)dy[i * n + k]);
        }
        for (ptrdiff_t j = 0; j < n; j++) {
            const double e = exp((double)ls[i * n + j]), g = dy[i * n + j];
            check_close(out[i * n + j], g - e * sum, RTOL * (fabs(g) + e * scale) + TINY,
                        "log_softmax_vjp", i * n + j);
        }
    }

    /* softmax cross-entropy with hard labels and label smoothing 0.1, per row */
    const double eps = 0.1;
    cs_xent_out losses = {loss_rows, 0.0};
    const cs_xent_opts smooth = {NULL, NULL, CS_XENT_NO_IGNORE, eps, CS_REDUCE_NONE};
    check(TF(cs_xent_hard)(x, target, &smooth, &losses, out, rows, n, 1) == CS_OK,
          "xent status", n, 0, 0);
    for (ptrdiff_t i = 0; i < rows; i++) {
        ref_log_softmax(xd + i * n, ref, n);
        double want = 0.0, scale = 0.0;
        for (ptrdiff_t j = 0; j < n; j++) {
            const double t = (1.0 - eps) * (j == target[i]) + eps / (double)n;
            want -= t * ref[j];
            scale += fabs(t * ref[j]);
        }
        check_close(loss_rows[i], want, RTOL * (scale + 1.0), "xent loss", i);
        ref_softmax(xd + i * n, ref, n);
        for (ptrdiff_t j = 0; j < n; j++) {
            const double t = (1.0 - eps) * (j == target[i]) + eps / (double)n;
            check_close(out[i * n + j], ref[j] - t, RTOL * (ref[j] + t) + TINY, "xent grad",
                        i * n + j);
        }
    }

    /* sigmoid cross-entropy on the finite rows 0-2 and 7-8 */
    for (int part = 0; part < 2; part++) {
        const ptrdiff_t r0 = part == 0 ? 0 : 7, nr = part == 0 ? 3 : 2;
        check(TF(cs_sigmoid_xent)(x + r0 * n, yb + r0 * n, NULL, &losses, out, nr, n, 1) ==
                  CS_OK,
              "sigmoid xent status", n, 0, 0);
        for (ptrdiff_t i = 0; i < nr; i++) {
            double want = 0.0, scale = 0.0;
            for (ptrdiff_t j = 0; j < n; j++) {
                const double z = xd[(r0 + i) * n + j], y = yb[(r0 + i) * n + j];
                want += (z > 0 ? z : 0.0) - y * z + log1p(exp(-fabs(z)));
                scale += fabs(z) + 1.0;
                const double sig = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
                check_close(out[i * n + j], sig - y, RTOL + TINY, "sigmoid xent grad",
                            (r0 + i) * n + j);
            }
            check_close(loss_rows[i], want, RTOL * scale, "sigmoid xent loss", r0 + i);
        }
    }
    free(xd), free(ref), free(loss_rows), free(x), free(s), free(ls), free(dy), free(out);
    free(jac), free(yb);
}

/* Results do not depend on n_threads: 64 rows of 1000, enough to be split over threads. */
static void TF(test_threads)(void)
{
    const ptrdiff_t rows = 64, n = 1000, size = rows * n;
    T *x = malloc((size_t)size * sizeof *x), *a = malloc((size_t)size * sizeof *a);
    T *b = malloc((size_t)size * sizeof *b);
    int64_t *target = malloc((size_t)rows * sizeof *target);
    double *la = malloc((size_t)rows * sizeof *la), *lb = malloc((size_t)rows * sizeof *lb);
    if (!x || !a || !b || !target || !la || !lb) {
        check(0, "malloc", 0, 0, 0);
        return;
    }
    for (ptrdiff_t i = 0; i < size; i++)
        x[i] = (T)(3.0 * normal());
    for (ptrdiff_t i = 0; i < rows; i++)
        target[i] = i % n;
    TF(cs_softmax)(x, NULL, a, rows, n, 1);
    TF(cs_softmax)(x, NULL, b, rows, n, 2);
    check(memcmp(a, b, (size_t)size * sizeof *a) == 0, "softmax n_threads 1 vs 2", 0, 0, 0);
    cs_xent_out out_a = {la, 0.0}, out_b = {lb, 0.0};
    const cs_xent_opts mean = {NULL, NULL, CS_XENT_NO_IGNORE, 0.0, CS_REDUCE_MEAN};
    TF(cs_xent_hard)(x, target, &mean, &out_a, a, rows, n, 1);
    TF(cs_xent_hard)(x, target, &mean, &out_b, b, rows, n, 2);
    check(memcmp(a, b, (size_t)size * sizeof *a) == 0 && out_a.loss == out_b.loss,
          "xent n_threads 1 vs 2", 0, out_b.loss, out_a.loss);
    free(x), free(a), free(b), free(target), free(la), free(lb);
}

/* The optimizer steps are defined operation by operation: bitwise equal to this reference. */
static void TF(test_optim)(void)
{
    enum { N = 37 };
    T p[N], g[N], s1[N], s2[N], rp[N], r1[N], r2[N];
    const double l2 = 1e-3;
    for (int kind = 0; kind < 3; kind++) {
        for (int i = 0; i < N; i++) {
            rp[i] = p[i] = (T)normal();
            g[i] = (T)normal();
            r1[i] = s1[i] = (T)(0.1 * normal());
            r2[i] = s2[i] = (T)(0.01 * uniform());
        }
        cs_optim o = {kind == 2 ? CS_OPTIM_ADAM : CS_OPTIM_SGD, 0.01, 0.9, kind == 1,
                      0.9, 0.999, 1e-8, 3, 0.0};
        cs_optim_begin_step(&o);
        double sq;
        T *const state[2] = {s1, s2};
        check(TF(cs_optim_update)(&o, p, g, state, N, l2, &sq, 1) == CS_OK, "optim status",
              kind, 0, 0);
        /* the squared norm of the weights before the step: eight interleaved sums (element
         * i in sum i % 8), folded as kernels/optim_kernels.h documents */
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 0; i < N; i++)
            acc[i % 8] += (double)rp[i] * (double)rp[i];
        const double want_sq =
            ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
        for (int i = 0; i < N; i++) {
            const T w = rp[i];
            const T gi = g[i] + (T)l2 * w;
            if (o.kind == CS_OPTIM_SGD) {
                const T u = (T)o.momentum * r1[i] - (T)o.step_size * gi;
                r1[i] = u;
                rp[i] = w + (o.nesterov ? (T)o.momentum * u - (T)o.step_size * gi : u);
            } else {
                const T mi = (T)o.beta_1 * r1[i] + (T)(1.0 - o.beta_1) * gi;
                const T vi = (T)o.beta_2 * r2[i] + (T)(1.0 - o.beta_2) * (gi * gi);
                r1[i] = mi;
                r2[i] = vi;
                const T root = (T)(sizeof(T) == 4 ? (double)sqrtf((float)vi) : sqrt((double)vi));
                rp[i] = w + (-(T)o.step_size * mi) / (root + (T)o.epsilon);
            }
        }
        check(memcmp(p, rp, sizeof p) == 0 && memcmp(s1, r1, sizeof s1) == 0 &&
                  memcmp(s2, r2, sizeof s2) == 0,
              kind == 2 ? "adam step bitwise" : "sgd step bitwise", kind, p[0], rp[0]);
        check(sq == want_sq, "optim sq_norm", kind, sq, want_sq);
    }
}

/* A step large enough to split over threads: the same bits from 1 and 2 threads (and the
 * squared norm, which stays on the calling thread). */
static void TF(test_optim_threads)(void)
{
    const ptrdiff_t n = 100003;
    T *p[2], *s1[2], *s2[2], *g = malloc((size_t)n * sizeof *g);
    for (int k = 0; k < 2; k++) {
        p[k] = malloc((size_t)n * sizeof(T));
        s1[k] = malloc((size_t)n * sizeof(T));
        s2[k] = malloc((size_t)n * sizeof(T));
    }
    for (ptrdiff_t i = 0; i < n; i++) {
        p[0][i] = p[1][i] = (T)normal();
        g[i] = (T)normal();
        s1[0][i] = s1[1][i] = (T)(0.1 * normal());
        s2[0][i] = s2[1][i] = (T)(0.01 * uniform());
    }
    for (int kind = 0; kind < 2; kind++) {
        double sq[2];
        for (int k = 0; k < 2; k++) {
            cs_optim o = {kind, 0.01, 0.9, 0, 0.9, 0.999, 1e-8, 3, 0.0};
            cs_optim_begin_step(&o);
            T *const state[2] = {s1[k], s2[k]};
            check(TF(cs_optim_update)(&o, p[k], g, state, n, 1e-3, sq + k, k + 1) == CS_OK,
                  "optim status (threads)", kind, 0, 0);
        }
        check(memcmp(p[0], p[1], (size_t)n * sizeof(T)) == 0 &&
                  memcmp(s1[0], s1[1], (size_t)n * sizeof(T)) == 0 &&
                  memcmp(s2[0], s2[1], (size_t)n * sizeof(T)) == 0 && sq[0] == sq[1],
              "optim n_threads 1 vs 2", kind, p[1][n - 1], p[0][n - 1]);
    }
    const cs_optim bad = {7, 0.01, 0.9, 0, 0.9, 0.999, 1e-8, 3, 0.0};
    double sq;
    T *const state[2] = {s1[0], s2[0]};
    check(TF(cs_optim_update)(&bad, p[0], g, state, n, 0.0, &sq, 2) == CS_EINVAL,
          "optim unknown kind", 7, 0, 0);
    for (int k = 0; k < 2; k++)
        free(p[k]), free(s1[k]), free(s2[k]);
    free(g);
}

static void TF(run)(void)
{
    for (size_t w = 0; w < N_WIDTHS; w++)
        TF(test_rows)(widths[w]);
    TF(test_threads)();
    TF(test_optim)();
    TF(test_optim_threads)();
}

#undef TCAT_
#undef TCAT
#undef TF
#undef T
#undef RTOL
#undef TINY
