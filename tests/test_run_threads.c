/* test_run_threads — a whole training run (trainer + two workers) as threads
 * of one process over an anonymous region, through the role functions that
 * `dshq train` forks: the weights version advances by one per update,
 * every update consumed one chunk per worker, both workers produced, the
 * telemetry and the run block say so, and every role returned once the
 * trainer raised the stop flag.  Run for both transports; also under TSan. */
#include "run/metrics.h"
#include "run_threads.h"

static void one_run(uint32_t transport)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 2;
    cfg.envs = 8;
    cfg.horizon = 16;
    cfg.hidden = 16;
    cfg.layers = 1;
    cfg.updates = 5;
    cfg.seconds = 0;
    cfg.max_lag = 1000; /* every chunk counts; lag is not what this test is about */
    cfg.transport = transport;
    struct run run;
    CHECK_EQ_INT(run_threads_go(&run, &cfg, NULL, 300), 0);

    struct metrics m;
    CHECK_EQ_INT(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL),
                 (int)sizeof m);
    CHECK_EQ_U64(m.updates, 5);
    CHECK_EQ_U64(m.weights_version, 6); /* version 1 at the start, one per update */
    CHECK_EQ_U64(m.chunks_consumed, 10);
    CHECK_EQ_U64(m.steps, 5 * 2 * 8 * 16);
    CHECK(isfinite(m.policy_loss) && isfinite(m.value_loss) && m.entropy > 0);
    struct dshq_ring_stats rs;
    CHECK_EQ_INT(run_rollouts_stats(&run, &rs), 0);
    CHECK(rs.consumed >= 10);
    for (int w = 0; w < 2; w++) {
        uint64_t chunks = atomic_load_explicit(&run.blk->worker[w].chunks, memory_order_relaxed);
        CHECK_MSG(chunks >= 1, "worker %d produced nothing", w);
        CHECK(atomic_load_explicit(&run.blk->worker[w].steps, memory_order_relaxed) >=
              chunks * 8 * 16);
    }
    struct dshq_weights *wch;
    CHECK_EQ_INT(dshq_weights_open(run.weights_mem, run.weights_size, &wch), 0);
    CHECK_EQ_U64(dshq_weights_version(wch), 6);
    dshq_weights_close(wch);
    run_destroy(&run);
}

int main(void)
{
    one_run(RUN_TRANSPORT_LANES);
    one_run(RUN_TRANSPORT_MPSC);
    puts("run threads: ok");
    return 0;
}
