/* test_run_when_full — --when-full and --transport reach the worker: with no
 * trainer consuming, a worker fills its ring (its lane, or the MPSC ring)
 * and then either waits (block: nothing is dropped, the ring counts the
 * blocked claims) or drops (drop: the ring counts every dropped chunk and
 * the worker keeps stepping its envs).  Both end on the run's stop flag.
 * The test plays the trainer's weights side itself (one publish). */
#include <unistd.h>

#include "run_threads.h"

#define WAIT_FOR(cond, deadline_s)                                           \
    do {                                                                     \
        int ok_ = 0;                                                         \
        for (int i_ = 0; i_ < (deadline_s) * 100 && !(ok_ = (cond)); i_++)  \
            usleep(10000); /* paces the polling only */                      \
        CHECK_MSG(ok_, "timed out waiting for " #cond);                      \
    } while (0)

static struct dshq_ring_stats stats(const struct run *run)
{
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(run_rollouts_stats(run, &rs), 0);
    return rs;
}

static void one(uint32_t transport, uint32_t when_full)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 1;
    cfg.envs = 4;
    cfg.horizon = 8;
    cfg.hidden = 8;
    cfg.layers = 1;
    cfg.lane_slots = 2;
    cfg.transport = transport;
    cfg.when_full = when_full;
    struct run run;
    CHECK_EQ_INT(run_create(&run, NULL, &cfg, NULL), 0);
    struct dshq_weights *wch;
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_open(run.weights_mem, run.weights_size, &wch), 0);
    CHECK_EQ_INT(dshq_weights_writer_attach(wch, &w), 0);
    float *params = rl_mlp_alloc(&run.net);
    CHECK(params);
    rl_mlp_params_init(&run.net, params, 3);
    CHECK(dshq_weights_publish(w, params, 0) == 1);

    static struct run_threads rt;
    run_threads_start(&run, &rt, NULL, 1);
    uint32_t cap = stats(&run).capacity;
    WAIT_FOR(stats(&run).committed == cap, 60);
    if (when_full == RUN_FULL_DROP) {
        WAIT_FOR(stats(&run).dropped >= 3, 60);
        /* It kept collecting while it dropped. */
        WAIT_FOR(atomic_load(&run.blk->worker[0].steps) >= (cap + 3) * 8 * 4, 60);
        CHECK_EQ_U64(stats(&run).committed, cap);
        CHECK_EQ_U64(stats(&run).blocked, 0);
    } else {
        WAIT_FOR(stats(&run).blocked >= 2, 60);
        CHECK_EQ_U64(stats(&run).dropped, 0);
        CHECK_EQ_U64(stats(&run).committed, cap);
    }
    run_threads_finish(&run, &rt, 60, 1);
    free(params);
    dshq_weights_writer_detach(w);
    dshq_weights_close(wch);
    run_destroy(&run);
}

int main(void)
{
    for (uint32_t t = 0; t < 2; t++)
        for (uint32_t p = 0; p < 2; p++)
            one(t, p);
    puts("run when-full: ok");
    return 0;
}
