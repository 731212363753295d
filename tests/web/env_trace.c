/* env_trace — one fingerprint of the Ball Drill env and of the MLP, built
 * natively and for wasm; `make test-web` compares the two builds' lines.
 *
 * env: 16 envs, 3000 steps from seed 12345, the actions of a fixed integer
 * generator on both sides: FNV-1a 64 of every observation, reward, done and
 * truncation flag.  mlp: a network initialised from a seed, its forward
 * pass (logits and values) and one gradient on a fixed batch.  Equal lines
 * mean bit-identical results for the same seed and actions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/env.h"
#include "rl/mlp.h"

enum { E = 16, STEPS = 3000 };

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

int main(void)
{
    struct bd_env *env;
    if (bd_env_create(&env, NULL, E))
        return 1;
    bd_env_reset(env, 12345);
    static float obs[2][E][BD_OBS_DIM], rew[2][E];
    uint8_t done[E], trunc[E];
    int32_t act[2][E];
    uint64_t s = 99, h = BD_FNV_OFFSET;
    for (int t = 0; t < STEPS; t++) {
        for (int e = 0; e < E; e++) {
            act[0][e] = (int32_t)(lcg(&s) % BD_NUM_ACTIONS);
            act[1][e] = (int32_t)(lcg(&s) % BD_NUM_ACTIONS);
        }
        struct bd_step_out out = {.obs = {&obs[0][0][0], &obs[1][0][0]},
                                  .rew = {rew[0], rew[1]}, .done = done, .trunc = trunc};
        bd_env_step(env, act[0], act[1], &out);
        h = bd_fnv1a64(h, obs, sizeof obs);
        h = bd_fnv1a64(h, rew, sizeof rew);
        h = bd_fnv1a64(h, done, sizeof done);
        h = bd_fnv1a64(h, trunc, sizeof trunc);
    }
    bd_env_destroy(env);
    printf("env %016llx\n", (unsigned long long)h);

    struct rl_mlp net;
    int hid[RL_MLP_MAX_HIDDEN] = {64, 64, 64};
    if (rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, 2))
        return 1;
    float *p = rl_mlp_alloc(&net);
    if (!p)
        return 1;
    rl_mlp_params_init(&net, p, 7);
    enum { B = 32 };
    static float x[B * BD_OBS_DIM], logits[B * BD_NUM_ACTIONS], values[B];
    for (int i = 0; i < B * BD_OBS_DIM; i++)
        x[i] = (float)((int)(lcg(&s) % 2001) - 1000) / 500.0f;
    rl_mlp_forward(&net, p, x, B, logits, values);
    uint64_t hm = BD_FNV_OFFSET;
    hm = bd_fnv1a64(hm, logits, sizeof logits);
    hm = bd_fnv1a64(hm, values, sizeof values);
    printf("mlp %016llx\n", (unsigned long long)hm);
    free(p);
    return 0;
}
