/* rollout.c — owned storage for one rollout window (see rollout.h). */
#include "rl/rollout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static size_t up64(size_t x) { return (x + 63) & ~(size_t)63; }

int rl_rollout_buf_alloc(struct rl_rollout_buf *b, int T, int E, int obs_dim, int with_trunc_obs)
{
    memset(b, 0, sizeof *b);
    if (T < 1 || E < 1 || obs_dim < 1)
        return -EINVAL;
    const size_t te = (size_t)T * (size_t)E, ted = te * (size_t)obs_dim;
    const size_t ed = (size_t)E * (size_t)obs_dim;
    size_t off[11], n = 0;
    /* obs act rew done trunc logp value final_value bootstrap_value trunc_obs bootstrap_obs */
    const size_t bytes[11] = {ted * 4, te * 4, te * 4, te,     te,    te * 4,
                              te * 4,  te * 4, (size_t)E * 4, with_trunc_obs ? ted * 4 : 0, ed * 4};
    for (int i = 0; i < 11; i++) {
        off[i] = n;
        n += up64(bytes[i]);
    }
    unsigned char *mem = aligned_alloc(64, n);
    if (!mem)
        return -ENOMEM;
    memset(mem, 0, n);
    b->T = T;
    b->E = E;
    b->obs_dim = obs_dim;
    b->obs = (float *)(mem + off[0]);
    b->act = (int32_t *)(mem + off[1]);
    b->rew = (float *)(mem + off[2]);
    b->done = mem + off[3];
    b->trunc = mem + off[4];
    b->logp = (float *)(mem + off[5]);
    b->value = (float *)(mem + off[6]);
    b->final_value = (float *)(mem + off[7]);
    b->bootstrap_value = (float *)(mem + off[8]);
    b->trunc_obs = with_trunc_obs ? (float *)(mem + off[9]) : NULL;
    b->bootstrap_obs = (float *)(mem + off[10]);
    return 0;
}

void rl_rollout_buf_free(struct rl_rollout_buf *b)
{
    free(b->obs); /* the block starts with obs */
    memset(b, 0, sizeof *b);
}
