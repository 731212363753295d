/* fuzz_chunk.c — libFuzzer target for a chunk as the trainer reads it.
 *
 * The input becomes the bytes of one rollout slot (chunk + the run layer's
 * trailer) of a fixed small layout.  Its first byte chooses how much of it
 * is kept honest, so the checks behind the header are reached: bit 0 stamps
 * a valid header over the input, bit 1 seals it (a matching checksum).  The
 * target runs the trainer's checks (run_chunk_verify, run_chunk_validate)
 * and, on a chunk they accept, the guarded PPO update the trainer runs
 * (run_ppo_update_checked): nothing may read out of bounds, and the
 * parameters must stay finite whatever the chunk held.
 * Build and run: make fuzz-run FUZZ_SECONDS=600 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rl/env.h"
#include "rl/ppo.h"
#include "run/chunk_rollout.h"
#include "run/roles.h"

static struct dshq_chunk_layout L;
static struct rl_mlp net;
static struct rl_ppo ppo;
static float *backup;
static unsigned char *slot;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int hid[1] = {8};
    if (dshq_chunk_layout_init(&L, 4, 2, BD_OBS_DIM, bd_spec_hash()) ||
        rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, 1))
        abort();
    struct rl_ppo_config pc;
    rl_ppo_config_default(&pc);
    pc.epochs = 1;
    pc.minibatches = 1;
    if (rl_ppo_init(&ppo, &net, &pc, 1))
        abort();
    backup = malloc(3 * (size_t)net.n_params * sizeof(float));
    slot = aligned_alloc(64, L.bytes + RUN_CHUNK_TRAILER);
    if (!backup || !slot)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    const uint64_t total = L.bytes + RUN_CHUNK_TRAILER;
    memset(slot, 0, total);
    memcpy(slot, data, size < total ? size : total);
    if (mode & 1)
        dshq_chunk_stamp(&L, slot, mode >> 4 & 3, 1, 1);
    if (mode & 2)
        run_chunk_seal(&L, slot);
    /* The avail the trainer would see: the slot, or a short one. */
    uint64_t avail = mode & 4 ? total : (size < total ? size : total);
    (void)run_chunk_verify(&L, slot, avail);
    struct dshq_chunk_header h;
    if (run_chunk_validate(&L, slot, avail, 3, BD_NUM_ACTIONS, &h) != RUN_CHUNK_OK)
        return 0;
    struct rl_rollout_view v = run_chunk_view(&L, slot);
    struct rl_ppo_stats st;
    int rc = run_ppo_update_checked(&ppo, &v, 1, 1e-3f, &st, backup);
    if (rc < 0)
        abort(); /* a checked chunk has the right shape */
    for (int i = 0; i < net.n_params; i++)
        if (!isfinite(ppo.params[i]))
            abort(); /* never NaN after a guarded update */
    return 0;
}
