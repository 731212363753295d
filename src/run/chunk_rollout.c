/* chunk_rollout.c — chunk <-> rollout window (chunk_rollout.h). */
#include "run/chunk_rollout.h"

struct rl_rollout_buf run_chunk_buf(const struct dshq_chunk_layout *layout, void *chunk)
{
    struct dshq_chunk_view cv;
    dshq_chunk_view(layout, chunk, &cv);
    struct rl_rollout_buf b = {
        .T = (int)layout->T, .E = (int)layout->E, .obs_dim = (int)layout->obs_dim,
        .obs = cv.obs, .act = cv.act, .rew = cv.rew, .done = cv.done, .trunc = cv.trunc,
        .logp = cv.logp, .value = cv.value, .final_value = cv.final_value,
        .bootstrap_value = cv.boot_value, .trunc_obs = NULL, .bootstrap_obs = cv.final_obs,
    };
    return b;
}

struct rl_rollout_view run_chunk_view(const struct dshq_chunk_layout *layout, const void *chunk)
{
    /* dshq_chunk_view takes a writable pointer; the view hands out const. */
    struct rl_rollout_buf b = run_chunk_buf(layout, (void *)chunk);
    return rl_rollout_buf_view(&b);
}
