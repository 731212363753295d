/* fuzz_mailbox.c — libFuzzer target for control messages as the trainer
 * decodes them.
 *
 * A mailbox section is initialized, then the input is written over it (the
 * section is shared memory: any process may scribble on it): the first
 * 2 bytes give the offset, the rest the bytes.  The trainer's side then
 * attaches as the consumer, consumes up to 64 messages with the trainer's
 * table of kinds and applies each with run_trainer_apply_msg on a real
 * (anonymous) run: nothing may read out of bounds, and every setting the
 * trainer takes must stay finite and within its range.
 * Build and run: make fuzz-run FUZZ_SECONDS=600 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rl/ppo.h"
#include "run/roles.h"

#define SLOTS 8
static struct run run;
static struct rl_ppo ppo;
static void *mem, *fresh;
static uint64_t size;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 1;
    cfg.envs = 2;
    cfg.horizon = 2;
    cfg.hidden = 8;
    cfg.layers = 1;
    if (run_create(&run, NULL, &cfg, NULL))
        abort();
    struct rl_train_config tc;
    run_config_to_train(&cfg, &tc);
    if (rl_ppo_init(&ppo, &run.net, &tc.ppo, 1))
        abort();
    size = dshq_mailbox_bytes(SLOTS);
    mem = aligned_alloc(64, size);
    fresh = aligned_alloc(64, size);
    if (!mem || !fresh || dshq_mailbox_init(fresh, size, SLOTS))
        abort();
    /* A few messages of every kind the trainer obeys, already posted. */
    struct dshq_mailbox *poster;
    if (dshq_mailbox_attach(fresh, size, 0, &poster))
        abort();
    struct dshq_msg_set_hparam h = {.param = DSHQ_HPARAM_LEARNING_RATE, .value = 0.001f};
    struct dshq_msg_pause p = {.paused = 1};
    dshq_mailbox_post(poster, DSHQ_MSG_SET_HPARAM, 1, &h, sizeof h);
    dshq_mailbox_post(poster, DSHQ_MSG_PAUSE, 1, &p, sizeof p);
    h.param = DSHQ_HPARAM_CLIP;
    h.value = 0.3f;
    dshq_mailbox_post(poster, DSHQ_MSG_SET_HPARAM, 1, &h, sizeof h);
    dshq_mailbox_post(poster, DSHQ_MSG_RESET, 1, NULL, 0);
    dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0);
    dshq_mailbox_detach(poster);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
    if (n < 2)
        return 0;
    size_t off = ((size_t)data[0] | (size_t)data[1] << 8) % size;
    data += 2;
    n -= 2;
    memcpy(mem, fresh, size);
    memcpy((uint8_t *)mem + off, data, n < size - off ? n : size - off);
    struct dshq_mailbox *mb;
    if (dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &mb))
        return 0;
    float lr = 0;
    int stop = 0;
    struct dshq_msg msg;
    for (int i = 0; i < 64 && dshq_mailbox_consume(mb, run_trainer_msg_kinds,
                                                   RUN_TRAINER_MSG_KINDS, &msg) == DSHQ_MAILBOX_MSG;
         i++)
        run_trainer_apply_msg(&run, &ppo, &msg, &lr, &stop);
    dshq_mailbox_detach(mb);
    if (!isfinite(lr) || lr < 0 || !isfinite(ppo.cfg.ent_coef) || !isfinite(ppo.cfg.clip))
        abort();
    double lo, hi;
    if (lr > 0 && (run_config_hparam_range(DSHQ_HPARAM_LEARNING_RATE, &lo, &hi) || lr < lo - 1e-9 ||
                   lr > hi + 1e-6))
        abort();
    return 0;
}
