/* ppo.h — proximal policy optimisation (clipped surrogate) on the MLP.
 *
 * One update consumes one or more rollout windows through struct
 * rl_rollout_view (read in place): GAE per window, then `epochs` passes of
 * `minibatches` shuffled minibatches, each one forward + loss + backward +
 * global-norm clipping + an Adam step.  The per-sample loss is
 *
 *   L = -min(r A, clip(r, 1-eps, 1+eps) A)                 r = pi(a|s)/pi_old(a|s)
 *       + vf_coef * 1/2 max((V-R)^2, (V_clip-R)^2)         V_clip = V_old + clip(V-V_old, +-vclip)
 *       - ent_coef * H(pi(.|s))
 *
 * averaged over the minibatch, with A normalised per minibatch when norm_adv.
 * With vclip <= 0 the value loss is the plain 1/2 (V-R)^2.
 *
 * A struct rl_ppo belongs to one trainer thread. */
#ifndef RL_PPO_H
#define RL_PPO_H

#include <stddef.h>
#include <stdint.h>

#include "rl/adam.h"
#include "rl/mlp.h"
#include "rl/rng.h"
#include "rl/rollout.h"

struct rl_ppo_config {
    float gamma;         /* discount */
    float lambda;        /* GAE lambda */
    float clip;          /* ratio clip epsilon */
    float vclip;         /* value clip range; <= 0 disables value clipping */
    float vf_coef;       /* value loss weight */
    float ent_coef;      /* entropy bonus weight */
    float max_grad_norm; /* global-norm clip; <= 0 disables */
    float lr;            /* Adam learning rate at the start */
    float lr_end;        /* ... and at the end of the run (linear annealing) */
    float adam_beta1, adam_beta2, adam_eps;
    int epochs;          /* passes over the data per update */
    int minibatches;     /* minibatches per epoch */
    int norm_adv;        /* normalise advantages per minibatch */
    float target_kl;     /* stop the epochs early past this approx KL; <= 0: never */
};

/* The project's defaults (docs/learner.md explains each). */
void rl_ppo_config_default(struct rl_ppo_config *c);

/* Metrics of one loss evaluation or one update (means over its minibatches). */
struct rl_ppo_stats {
    float loss;          /* total loss */
    float policy_loss;   /* clipped surrogate term */
    float value_loss;    /* 1/2 squared error term (before vf_coef) */
    float entropy;       /* mean policy entropy, nats */
    float approx_kl;     /* mean of (r - 1) - log r */
    float clip_frac;     /* fraction of samples with |r - 1| > clip */
    float explained_var; /* 1 - Var(R - V_old) / Var(R) over the whole update */
    float grad_norm;     /* mean global gradient norm before clipping */
    float adv_mean;      /* mean raw advantage */
    float ret_mean;      /* mean value target */
    int epochs_run;      /* < epochs when target_kl stopped early */
    int samples;         /* samples in the update */
};

/* A minibatch, contiguous (the loss reads it, never writes it). */
struct rl_ppo_batch {
    int n;
    const float *obs;   /* [n][obs_dim] */
    const int32_t *act; /* [n] */
    const float *logp;  /* [n] behaviour log-prob of act */
    const float *value; /* [n] value estimate at collection */
    const float *adv;   /* [n] advantages, as the loss should use them */
    const float *ret;   /* [n] value targets */
};

/* Mean PPO loss of the batch at params.  When grads is not NULL, ADDS
 * d(loss)/d(params) into it.  st (may be NULL) gets the batch's metrics. */
double rl_ppo_loss(const struct rl_mlp *m, const float *params, const struct rl_ppo_batch *b,
                   const struct rl_ppo_config *cfg, struct rl_mlp_ws *ws, float *grads,
                   struct rl_ppo_stats *st);

/* Normalises x[0..n) to mean 0 and standard deviation 1 (+1e-8 guard). */
void rl_ppo_normalize(float *x, int n);

struct rl_ppo {
    struct rl_mlp net;          /* architecture */
    struct rl_ppo_config cfg;
    float *params;              /* [net.n_params] the learner's weights */
    float *grads;               /* [net.n_params] */
    struct rl_adam adam;        /* moments [net.n_params] */
    struct rl_mlp_ws ws;
    struct rl_rng rng;          /* minibatch shuffles */
    int64_t updates;            /* rl_ppo_update calls so far */
    /* per-update scratch, grown on demand */
    size_t cap;                 /* samples the arrays below hold */
    float *adv, *ret;           /* [cap] */
    float *value, *logp;        /* [cap] gathered from the views */
    int32_t *act;               /* [cap] */
    const float **obs_ptr;      /* [cap] rows of the views' obs, in place */
    uint32_t *perm;             /* [cap] */
    size_t mb_cap;
    float *mb_obs;              /* [mb_cap][obs_dim] */
    float *mb_adv, *mb_ret, *mb_value, *mb_logp; /* [mb_cap] */
    int32_t *mb_act;            /* [mb_cap] */
};

/* Allocates the learner: params initialised from seed (rl_mlp_params_init),
 * Adam state, workspaces.  Returns 0 or a negative errno. */
int rl_ppo_init(struct rl_ppo *p, const struct rl_mlp *net, const struct rl_ppo_config *cfg,
                uint64_t seed);
void rl_ppo_free(struct rl_ppo *p);

/* One PPO update on n_views windows (all of net.obs_dim) at learning rate lr.
 * Returns 0 or a negative errno (-EINVAL for a view of the wrong shape,
 * -ENOMEM, -ERANGE for an action index outside [0, n_actions): nothing is
 * changed then).  out (may be NULL) gets the update's metrics. */
int rl_ppo_update(struct rl_ppo *p, const struct rl_rollout_view *views, int n_views, float lr,
                  struct rl_ppo_stats *out);

#endif
