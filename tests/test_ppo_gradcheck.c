/* test_ppo_gradcheck — the analytic gradient of the full PPO loss (clipped
 * surrogate + clipped value loss + entropy, through both trunks) against
 * central finite differences of an independent double-precision reference.
 *
 * Tolerance: the analytic gradient is float32 (and uses the rational tanh,
 * |error| < 4e-7), the reference is double with exact tanh.  Each checked
 * parameter must satisfy |g - g_fd| <= 1e-4 |g_fd| + 1e-5 max|g_fd|.
 * Samples are drawn away from the kinks of min/max/clip (margin 2e-3) so a
 * finite-difference step never straddles one. */
#include <math.h>

#include "check.h"
#include "rl/ppo.h"

struct problem {
    struct rl_mlp m;
    struct rl_ppo_config cfg;
    int n;
    float *obs, *adv, *ret, *logp, *value;
    int32_t *act;
};

/* Reference forward of one row in double: logits[A], value. */
static void ref_forward(const struct rl_mlp *m, const double *p, const float *x, double *logits,
                        double *value)
{
    for (int t = 0; t < 2; t++) {
        double a[2][RL_MLP_MAX_WIDTH + RL_MLP_MAX_OBS], *in = a[0], *out = a[1];
        for (int k = 0; k < m->obs_dim; k++)
            in[k] = x[k];
        int in_dim = m->obs_dim;
        for (int l = 0; l <= m->n_hidden; l++) {
            const struct rl_mlp_tensor *w = rl_mlp_weight(m, t, l), *b = rl_mlp_bias(m, t, l);
            for (int o = 0; o < w->cols; o++) {
                double s = p[b->offset + o];
                for (int k = 0; k < in_dim; k++)
                    s += in[k] * p[w->offset + (size_t)k * w->cols + o];
                out[o] = l < m->n_hidden ? tanh(s) : s;
            }
            in_dim = w->cols;
            double *tmp = in;
            in = out;
            out = tmp;
        }
        if (t == 0)
            memcpy(logits, in, sizeof(double) * m->n_actions);
        else
            *value = in[0];
    }
}

/* Per-sample pieces at p, for the loss and for choosing kink-free data. */
static void ref_sample(const struct problem *P, const double *p, int i, double *logp_a,
                       double *ent, double *v)
{
    const int A = P->m.n_actions;
    double z[RL_MLP_MAX_ACTIONS], mx, s = 0;
    ref_forward(&P->m, p, P->obs + (size_t)i * P->m.obs_dim, z, v);
    mx = z[0];
    for (int j = 1; j < A; j++)
        mx = z[j] > mx ? z[j] : mx;
    for (int j = 0; j < A; j++)
        s += exp(z[j] - mx);
    double lse = mx + log(s);
    *ent = 0;
    for (int j = 0; j < A; j++)
        *ent -= exp(z[j] - lse) * (z[j] - lse);
    *logp_a = z[P->act[i]] - lse;
}

static double ref_loss(const struct problem *P, const double *p)
{
    const struct rl_ppo_config *c = &P->cfg;
    double pl = 0, vl = 0, en = 0;
    for (int i = 0; i < P->n; i++) {
        double lp, ent, v;
        ref_sample(P, p, i, &lp, &ent, &v);
        double r = exp(lp - P->logp[i]);
        double rc = fmin(fmax(r, 1 - c->clip), 1 + c->clip);
        pl += -fmin(r * P->adv[i], rc * P->adv[i]);
        double R = P->ret[i], vo = P->value[i];
        if (c->vclip > 0) {
            double vc = vo + fmin(fmax(v - vo, -c->vclip), c->vclip);
            vl += 0.5 * fmax((v - R) * (v - R), (vc - R) * (vc - R));
        } else {
            vl += 0.5 * (v - R) * (v - R);
        }
        en += ent;
    }
    return (pl + c->vf_coef * vl - c->ent_coef * en) / P->n;
}

static void run(int layers, float vclip, float ent_coef, uint64_t seed)
{
    struct problem P;
    memset(&P, 0, sizeof P);
    const int hid[3] = {12, 9, 10};
    CHECK_EQ_INT(rl_mlp_init(&P.m, 7, 5, hid, layers), 0);
    rl_ppo_config_default(&P.cfg);
    P.cfg.vclip = vclip;
    P.cfg.ent_coef = ent_coef;
    P.cfg.vf_coef = 0.7f;
    P.n = 150; /* crosses a block boundary (RL_MLP_BLOCK = 64) */
    const int n = P.n, D = P.m.obs_dim;
    P.obs = malloc(sizeof(float) * n * D);
    P.adv = malloc(sizeof(float) * n);
    P.ret = malloc(sizeof(float) * n);
    P.logp = malloc(sizeof(float) * n);
    P.value = malloc(sizeof(float) * n);
    P.act = malloc(sizeof(int32_t) * n);
    float *params = rl_mlp_alloc(&P.m), *grads = rl_mlp_alloc(&P.m);
    double *pd = malloc(sizeof(double) * P.m.n_params);
    CHECK(P.obs && P.adv && P.ret && P.logp && P.value && P.act && params && grads && pd);

    struct rl_rng r = rl_rng_make(seed);
    rl_mlp_params_init(&P.m, params, seed);
    /* Larger weights than the init (a far-from-uniform policy, biases set)
     * so every term has a sizeable gradient. */
    for (size_t i = 0; i < P.m.n_params; i++)
        params[i] += 0.3f * (float)rl_rng_normal(&r);
    for (int i = 0; i < P.m.n_tensors; i++) { /* keep the padding at zero */
        const struct rl_mlp_tensor *t = &P.m.tensor[i];
        size_t end = t->offset + (size_t)t->rows * t->cols;
        size_t next = i + 1 < P.m.n_tensors ? P.m.tensor[i + 1].offset : P.m.n_params;
        for (size_t k = end; k < next; k++)
            params[k] = 0.0f;
    }
    for (size_t i = 0; i < P.m.n_params; i++)
        pd[i] = params[i];
    for (int i = 0; i < n * D; i++)
        P.obs[i] = (float)rl_rng_normal(&r);
    int n_clipped = 0, n_vclipped = 0;
    for (int i = 0; i < n; i++) {
        P.act[i] = (int32_t)rl_rng_below(&r, 5);
        P.adv[i] = (float)rl_rng_normal(&r);
        double lp, ent, v;
        ref_sample(&P, pd, i, &lp, &ent, &v);
        /* Old log-prob: ratio in about [0.6, 1.5], away from 1 +- clip. */
        for (;;) {
            P.logp[i] = (float)(lp + 0.9 * (rl_rng_double(&r) - 0.5));
            double ratio = exp(lp - P.logp[i]);
            if (fabs(ratio - (1 - P.cfg.clip)) > 2e-3 && fabs(ratio - (1 + P.cfg.clip)) > 2e-3)
                break;
        }
        double ratio = exp(lp - P.logp[i]);
        n_clipped += ratio < 1 - P.cfg.clip || ratio > 1 + P.cfg.clip;
        /* Old value and target away from the value-clip kinks. */
        for (;;) {
            P.value[i] = (float)(v + 2.0 * (rl_rng_double(&r) - 0.5));
            P.ret[i] = (float)(v + 2.0 * rl_rng_normal(&r));
            if (vclip <= 0)
                break;
            double d = v - P.value[i];
            double vc = P.value[i] + fmin(fmax(d, -vclip), vclip);
            double l1 = (v - P.ret[i]) * (v - P.ret[i]), l2 = (vc - P.ret[i]) * (vc - P.ret[i]);
            if (fabs(fabs(d) - vclip) > 2e-3 && fabs(l1 - l2) > 2e-3) {
                n_vclipped += fabs(d) > vclip && l2 > l1;
                break;
            }
        }
    }
    CHECK(n_clipped > 10 && n_clipped < n - 10); /* both branches exercised */
    if (vclip > 0)
        CHECK(n_vclipped > 5);

    struct rl_mlp_ws ws;
    CHECK_EQ_INT(rl_mlp_ws_init(&ws, &P.m), 0);
    struct rl_ppo_batch b = {n, P.obs, P.act, P.logp, P.value, P.adv, P.ret};
    struct rl_ppo_stats st;
    double loss = rl_ppo_loss(&P.m, params, &b, &P.cfg, &ws, grads, &st);
    double loss_ref = ref_loss(&P, pd);
    CHECK_NEAR(loss, loss_ref, 1e-5 * (1 + fabs(loss_ref)));
    CHECK(st.clip_frac > 0.05f && st.clip_frac < 0.95f);
    /* Padding gets no gradient. */
    for (int i = 0; i < P.m.n_tensors; i++) {
        const struct rl_mlp_tensor *t = &P.m.tensor[i];
        size_t end = t->offset + (size_t)t->rows * t->cols;
        size_t next = i + 1 < P.m.n_tensors ? P.m.tensor[i + 1].offset : P.m.n_params;
        for (size_t k = end; k < next; k++)
            CHECK(grads[k] == 0.0f);
    }

    /* Every tensor is checked: all of its elements when small, otherwise a
     * random subset of 40. */
    double gmax = 0;
    size_t checked = 0;
    static double fd[8192];
    static size_t idx[8192];
    for (int ti = 0; ti < P.m.n_tensors; ti++) {
        const struct rl_mlp_tensor *t = &P.m.tensor[ti];
        size_t numel = (size_t)t->rows * t->cols;
        size_t k_n = numel <= 40 ? numel : 40;
        for (size_t k = 0; k < k_n; k++) {
            size_t j = t->offset + (numel <= 40 ? k : rl_rng_below(&r, (uint32_t)numel));
            const double h = 1e-5;
            double keep = pd[j];
            pd[j] = keep + h;
            double lp = ref_loss(&P, pd);
            pd[j] = keep - h;
            double lm = ref_loss(&P, pd);
            pd[j] = keep;
            idx[checked] = j;
            fd[checked] = (lp - lm) / (2 * h);
            gmax = fmax(gmax, fabs(fd[checked]));
            checked++;
        }
    }
    double worst = 0;
    for (size_t c = 0; c < checked; c++) {
        double g = grads[idx[c]], err = fabs(g - fd[c]);
        double tol = 1e-4 * fabs(fd[c]) + 1e-5 * gmax;
        worst = fmax(worst, err / tol);
        CHECK_MSG(err <= tol, "param %zu: analytic %.9g, finite difference %.9g", idx[c], g, fd[c]);
    }
    printf("layers=%d vclip=%g ent=%g: %zu params checked, max |g|=%.3g, worst err/tol=%.3f\n",
           layers, vclip, ent_coef, checked, gmax, worst);
    rl_mlp_ws_free(&ws);
    free(P.obs);
    free(P.adv);
    free(P.ret);
    free(P.logp);
    free(P.value);
    free(P.act);
    free(params);
    free(grads);
    free(pd);
}

int main(void)
{
    for (int isa = RL_MLP_ISA_AVX512; isa >= 0; isa--) {
        rl_mlp_force_isa(isa);
        if (rl_mlp_isa_level() != isa) { /* the CPU (or DSHQ_RL_ISA) rules it out */
            check_skip_part("%s %s not checked: not available here (isa level %d)",
                            isa == RL_MLP_ISA_AVX512 ? "avx512" : "avx2+fma", "gradient check",
                            rl_mlp_isa_level());
            continue;
        }
        run(2, 0.5f, 0.05f, 11);
        run(3, 0.0f, 0.01f, 12);
        run(1, 0.3f, 0.2f, 13);
    }
    return 0;
}
