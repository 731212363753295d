/* ppo.c — the PPO loss, its gradient, and the update loop over rollout views. */
#include "rl/ppo.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rl/gae.h"

void rl_ppo_config_default(struct rl_ppo_config *c)
{
    memset(c, 0, sizeof *c);
    c->gamma = 0.99f;
    c->lambda = 0.95f;
    c->clip = 0.2f;
    c->vclip = 0.0f;
    c->vf_coef = 0.5f;
    c->ent_coef = 0.01f;
    c->max_grad_norm = 0.5f;
    c->lr = 1e-3f;
    c->lr_end = 1e-3f;
    c->adam_beta1 = 0.9f;
    c->adam_beta2 = 0.999f;
    c->adam_eps = 1e-5f;
    c->epochs = 2;
    c->minibatches = 8;
    c->norm_adv = 1;
    c->target_kl = 0.0f;
}

void rl_ppo_normalize(float *x, int n)
{
    if (n <= 0)
        return;
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++)
        s += x[i];
    double mean = s / n;
    for (int i = 0; i < n; i++)
        ss += ((double)x[i] - mean) * ((double)x[i] - mean);
    /* Unbiased std like the common implementations; a single sample has none. */
    double sd = n > 1 ? sqrt(ss / (n - 1)) : 0.0;
    float fm = (float)mean, inv = (float)(1.0 / (sd + 1e-8));
    for (int i = 0; i < n; i++)
        x[i] = (x[i] - fm) * inv;
}

double rl_ppo_loss(const struct rl_mlp *m, const float *params, const struct rl_ppo_batch *b,
                   const struct rl_ppo_config *cfg, struct rl_mlp_ws *ws, float *grads,
                   struct rl_ppo_stats *st)
{
    const int A = m->n_actions, D = m->obs_dim, n = b->n;
    float dlogits[RL_MLP_BLOCK * A];
    float dvalue[RL_MLP_BLOCK];
    float logp_all[A];
    const float inv_n = 1.0f / (float)n;
    double s_pl = 0, s_vl = 0, s_ent = 0, s_kl = 0, s_clip = 0;
    for (int r0 = 0; r0 < n; r0 += RL_MLP_BLOCK) {
        const int rows = n - r0 < RL_MLP_BLOCK ? n - r0 : RL_MLP_BLOCK;
        rl_mlp_forward_train(m, params, b->obs + (size_t)r0 * D, rows, ws);
        for (int r = 0; r < rows; r++) {
            const int i = r0 + r;
            const float *z = ws->logits + (size_t)r * A;
            float *dz = dlogits + (size_t)r * A;
            /* log-softmax, probabilities and entropy */
            float mx = z[0];
            for (int j = 1; j < A; j++)
                mx = z[j] > mx ? z[j] : mx;
            float sum = 0.0f;
            for (int j = 0; j < A; j++)
                sum += expf(z[j] - mx);
            const float lse = mx + logf(sum);
            float ent = 0.0f;
            for (int j = 0; j < A; j++) {
                logp_all[j] = z[j] - lse;
                dz[j] = expf(logp_all[j]); /* p_j for now */
                ent -= dz[j] * logp_all[j];
            }
            /* clipped surrogate */
            const int a = b->act[i];
            const float adv = b->adv[i];
            const float logratio = logp_all[a] - b->logp[i];
            const float ratio = expf(logratio);
            const float rc = ratio < 1.0f - cfg->clip   ? 1.0f - cfg->clip
                             : ratio > 1.0f + cfg->clip ? 1.0f + cfg->clip
                                                        : ratio;
            const float s1 = ratio * adv, s2 = rc * adv;
            /* min picks the unclipped term (gradient -A r) or the clipped
             * constant (no gradient); ties are inside the clip range. */
            const float dl_dlogp = s1 <= s2 ? -adv * ratio : 0.0f;
            s_pl += -(s1 <= s2 ? s1 : s2);
            s_ent += ent;
            s_kl += (ratio - 1.0f) - logratio;
            s_clip += fabsf(ratio - 1.0f) > cfg->clip;
            /* dL/dz_j = dl_dlogp (1[j=a] - p_j) + ent_coef p_j (log p_j + H) */
            for (int j = 0; j < A; j++) {
                const float p = dz[j];
                dz[j] = (dl_dlogp * ((j == a) - p) + cfg->ent_coef * p * (logp_all[j] + ent)) *
                        inv_n;
            }
            /* value loss */
            const float v = ws->value[r], R = b->ret[i], vold = b->value[i];
            float dv, vl;
            if (cfg->vclip > 0.0f) {
                const float dvo = v - vold;
                const float vc = vold + (dvo < -cfg->vclip  ? -cfg->vclip
                                         : dvo > cfg->vclip ? cfg->vclip
                                                            : dvo);
                const float l1 = (v - R) * (v - R), l2 = (vc - R) * (vc - R);
                if (l1 >= l2) {
                    vl = 0.5f * l1;
                    dv = v - R;
                } else {
                    vl = 0.5f * l2;
                    dv = fabsf(dvo) < cfg->vclip ? vc - R : 0.0f;
                }
            } else {
                vl = 0.5f * (v - R) * (v - R);
                dv = v - R;
            }
            s_vl += vl;
            dvalue[r] = cfg->vf_coef * dv * inv_n;
        }
        if (grads)
            rl_mlp_backward(m, params, b->obs + (size_t)r0 * D, rows, ws, dlogits, dvalue, grads);
    }
    const double pl = s_pl / n, vl = s_vl / n, ent = s_ent / n;
    const double loss = pl + cfg->vf_coef * vl - cfg->ent_coef * ent;
    if (st) {
        memset(st, 0, sizeof *st);
        st->loss = (float)loss;
        st->policy_loss = (float)pl;
        st->value_loss = (float)vl;
        st->entropy = (float)ent;
        st->approx_kl = (float)(s_kl / n);
        st->clip_frac = (float)(s_clip / n);
        st->samples = n;
    }
    return loss;
}

int rl_ppo_init(struct rl_ppo *p, const struct rl_mlp *net, const struct rl_ppo_config *cfg,
                uint64_t seed)
{
    memset(p, 0, sizeof *p);
    if (cfg->epochs < 1 || cfg->minibatches < 1)
        return -EINVAL;
    p->net = *net;
    p->cfg = *cfg;
    p->rng = rl_rng_make(rl_rng_derive(seed, 0x5050));
    p->params = rl_mlp_alloc(net);
    p->grads = rl_mlp_alloc(net);
    if (!p->params || !p->grads) {
        rl_ppo_free(p);
        return -ENOMEM;
    }
    rl_mlp_params_init(net, p->params, seed);
    int rc = rl_adam_init(&p->adam, net->n_params, cfg->adam_beta1, cfg->adam_beta2, cfg->adam_eps);
    if (!rc)
        rc = rl_mlp_ws_init(&p->ws, net);
    if (rc) {
        rl_ppo_free(p);
        return rc;
    }
    return 0;
}

static void free_scratch(struct rl_ppo *p)
{
    free(p->adv);
    free(p->ret);
    free(p->value);
    free(p->logp);
    free(p->act);
    free(p->obs_ptr);
    free(p->perm);
    free(p->mb_obs);
    free(p->mb_adv);
    free(p->mb_ret);
    free(p->mb_value);
    free(p->mb_logp);
    free(p->mb_act);
}

void rl_ppo_free(struct rl_ppo *p)
{
    free(p->params);
    free(p->grads);
    rl_adam_free(&p->adam);
    rl_mlp_ws_free(&p->ws);
    free_scratch(p);
    memset(p, 0, sizeof *p);
}

static int reserve(struct rl_ppo *p, size_t n, size_t mb)
{
    if (n > p->cap) {
        free(p->adv);
        free(p->ret);
        free(p->value);
        free(p->logp);
        free(p->act);
        free(p->obs_ptr);
        free(p->perm);
        p->adv = malloc(n * sizeof(float));
        p->ret = malloc(n * sizeof(float));
        p->value = malloc(n * sizeof(float));
        p->logp = malloc(n * sizeof(float));
        p->act = malloc(n * sizeof(int32_t));
        p->obs_ptr = malloc(n * sizeof(float *));
        p->perm = malloc(n * sizeof(uint32_t));
        p->cap = n;
        if (!p->adv || !p->ret || !p->value || !p->logp || !p->act || !p->obs_ptr || !p->perm) {
            p->cap = 0;
            return -ENOMEM;
        }
    }
    if (mb > p->mb_cap) {
        free(p->mb_obs);
        free(p->mb_adv);
        free(p->mb_ret);
        free(p->mb_value);
        free(p->mb_logp);
        free(p->mb_act);
        p->mb_obs = malloc(mb * (size_t)p->net.obs_dim * sizeof(float));
        p->mb_adv = malloc(mb * sizeof(float));
        p->mb_ret = malloc(mb * sizeof(float));
        p->mb_value = malloc(mb * sizeof(float));
        p->mb_logp = malloc(mb * sizeof(float));
        p->mb_act = malloc(mb * sizeof(int32_t));
        p->mb_cap = mb;
        if (!p->mb_obs || !p->mb_adv || !p->mb_ret || !p->mb_value || !p->mb_logp || !p->mb_act) {
            p->mb_cap = 0;
            return -ENOMEM;
        }
    }
    return 0;
}

int rl_ppo_update(struct rl_ppo *p, const struct rl_rollout_view *views, int n_views, float lr,
                  struct rl_ppo_stats *out)
{
    const struct rl_ppo_config *cfg = &p->cfg;
    const int D = p->net.obs_dim;
    size_t N = 0;
    for (int k = 0; k < n_views; k++) {
        if (views[k].obs_dim != D || views[k].T < 1 || views[k].E < 1)
            return -EINVAL;
        N += (size_t)views[k].T * (size_t)views[k].E;
    }
    if (N == 0 || N > UINT32_MAX)
        return -EINVAL;
    const int M = cfg->minibatches < (int)N ? cfg->minibatches : (int)N;
    const size_t mb_max = (N + (size_t)M - 1) / (size_t)M;
    if (reserve(p, N, mb_max))
        return -ENOMEM;

    /* GAE per window, then gather the per-sample scalars; observations stay
     * in the views and are read through obs_ptr. */
    size_t base = 0;
    for (int k = 0; k < n_views; k++) {
        const struct rl_rollout_view *v = &views[k];
        const size_t n = (size_t)v->T * (size_t)v->E;
        rl_gae(v, cfg->gamma, cfg->lambda, p->adv + base, p->ret + base);
        for (size_t i = 0; i < n; i++) {
            p->value[base + i] = v->value[i];
            p->logp[base + i] = v->logp[i];
            /* Rollouts may come from another process: an action index is
             * read once and bounds-checked here, before the loss indexes
             * logp_all with it (the private copy is what is used). */
            const int32_t a = v->act[i];
            if (a < 0 || a >= p->net.n_actions)
                return -ERANGE;
            p->act[base + i] = a;
            p->obs_ptr[base + i] = v->obs + i * (size_t)D;
        }
        base += n;
    }
    double s_adv = 0, s_ret = 0, s_r2 = 0, s_e = 0, s_e2 = 0;
    for (size_t i = 0; i < N; i++) {
        double r = p->ret[i], e = r - p->value[i];
        s_adv += p->adv[i];
        s_ret += r;
        s_r2 += r * r;
        s_e += e;
        s_e2 += e * e;
    }
    const double var_r = s_r2 / N - (s_ret / N) * (s_ret / N);
    const double var_e = s_e2 / N - (s_e / N) * (s_e / N);

    for (size_t i = 0; i < N; i++)
        p->perm[i] = (uint32_t)i;
    struct rl_ppo_stats acc = {0}, st;
    int n_mb = 0, epoch;
    double s_gn = 0;
    for (epoch = 0; epoch < cfg->epochs; epoch++) {
        for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
            uint32_t j = rl_rng_below(&p->rng, (uint32_t)(i + 1)), t = p->perm[i];
            p->perm[i] = p->perm[j];
            p->perm[j] = t;
        }
        double epoch_kl = 0;
        for (int mb = 0; mb < M; mb++) {
            const size_t lo = N * (size_t)mb / (size_t)M, hi = N * (size_t)(mb + 1) / (size_t)M;
            const int n = (int)(hi - lo);
            for (int r = 0; r < n; r++) {
                const uint32_t s = p->perm[lo + (size_t)r];
                memcpy(p->mb_obs + (size_t)r * D, p->obs_ptr[s], (size_t)D * sizeof(float));
                p->mb_act[r] = p->act[s];
                p->mb_logp[r] = p->logp[s];
                p->mb_value[r] = p->value[s];
                p->mb_adv[r] = p->adv[s];
                p->mb_ret[r] = p->ret[s];
            }
            if (cfg->norm_adv)
                rl_ppo_normalize(p->mb_adv, n);
            struct rl_ppo_batch b = {n, p->mb_obs, p->mb_act, p->mb_logp, p->mb_value, p->mb_adv,
                                     p->mb_ret};
            memset(p->grads, 0, p->net.n_params * sizeof(float));
            rl_ppo_loss(&p->net, p->params, &b, cfg, &p->ws, p->grads, &st);
            s_gn += rl_adam_clip_grad_norm(p->grads, p->net.n_params, cfg->max_grad_norm);
            rl_adam_step(&p->adam, p->params, p->grads, lr);
            acc.loss += st.loss;
            acc.policy_loss += st.policy_loss;
            acc.value_loss += st.value_loss;
            acc.entropy += st.entropy;
            acc.approx_kl += st.approx_kl;
            acc.clip_frac += st.clip_frac;
            epoch_kl += st.approx_kl;
            n_mb++;
        }
        if (cfg->target_kl > 0.0f && epoch_kl / M > cfg->target_kl) {
            epoch++;
            break;
        }
    }
    p->updates++;
    if (out) {
        memset(out, 0, sizeof *out);
        out->loss = acc.loss / n_mb;
        out->policy_loss = acc.policy_loss / n_mb;
        out->value_loss = acc.value_loss / n_mb;
        out->entropy = acc.entropy / n_mb;
        out->approx_kl = acc.approx_kl / n_mb;
        out->clip_frac = acc.clip_frac / n_mb;
        out->grad_norm = (float)(s_gn / n_mb);
        out->explained_var = var_r > 1e-12 ? (float)(1.0 - var_e / var_r) : 0.0f;
        out->adv_mean = (float)(s_adv / N);
        out->ret_mean = (float)(s_ret / N);
        out->epochs_run = epoch;
        out->samples = (int)N;
    }
    return 0;
}
