/* test_run_threads — a whole training run (trainer + two workers) as threads
 * of one process over an anonymous region, through the role functions that
 * `dshq train` forks: the weights version advances by one per update,
 * the trainer consumed one chunk per worker per update (one from each worker
 * in the deterministic mode), the telemetry and the run block say so, and
 * every role returned once the trainer raised the stop flag.  Run for both transports; also under TSan. */
#include "run/metrics.h"
#include "run_threads.h"

static void one_run(uint32_t transport, uint32_t deterministic)
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
    cfg.deterministic = deterministic;
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
    /* Who made the chunks depends on the schedule in the asynchronous mode
     * (a worker may fill the ring before the other one runs); in the
     * deterministic mode every update takes one chunk from each worker. */
    uint64_t made = 0;
    for (int w = 0; w < 2; w++) {
        uint64_t chunks = atomic_load_explicit(&run.blk->worker[w].chunks, memory_order_relaxed);
        if (deterministic)
            CHECK_MSG(chunks >= 5, "worker %d made %llu chunks, not one per update", w,
                      (unsigned long long)chunks);
        CHECK(atomic_load_explicit(&run.blk->worker[w].steps, memory_order_relaxed) >=
              chunks * 8 * 16);
        made += chunks;
    }
    CHECK_MSG(made >= 10, "the workers made %llu chunks, the trainer consumed 10",
              (unsigned long long)made);
    struct dshq_weights *wch;
    CHECK_EQ_INT(dshq_weights_open(run.weights_mem, run.weights_size, &wch), 0);
    CHECK_EQ_U64(dshq_weights_version(wch), 6);
    dshq_weights_close(wch);
    run_destroy(&run);
}

int main(void)
{
    one_run(RUN_TRANSPORT_LANES, 0);
    one_run(RUN_TRANSPORT_MPSC, 0);
    one_run(RUN_TRANSPORT_LANES, 1);
    one_run(RUN_TRANSPORT_MPSC, 1);
    puts("run threads: ok");
    return 0;
}
