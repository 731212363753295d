/* test_run_deterministic — --deterministic makes a multi-role run depend on
 * the seed and the config only: two runs (trainer + three workers as
 * threads, scheduled however the OS likes) with the same seed and an update
 * budget end with bit-identical weights, and so does the same run over the
 * MPSC ring instead of lanes; another seed ends elsewhere.  The annealing
 * moves during the run (learning rate, shaping), so the schedules are part
 * of what must repeat. */
#include "run_threads.h"

enum { WORKERS = 3, UPDATES = 4 };

static float *train(uint64_t seed, uint32_t transport, size_t *n)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = WORKERS;
    cfg.envs = 8;
    cfg.horizon = 16;
    cfg.hidden = 16;
    cfg.layers = 2;
    cfg.updates = UPDATES;
    cfg.seconds = 0;
    cfg.seed = seed;
    cfg.deterministic = 1;
    cfg.transport = transport;
    cfg.lr_end = cfg.lr * 0.1f;
    cfg.shaping_end = 0.0f;
    struct run run;
    CHECK_EQ_INT(run_threads_go(&run, &cfg, NULL, 300), 0);
    *n = run.net.n_params;
    float *w = malloc(*n * sizeof(float));
    CHECK(w);
    struct dshq_weights *wch;
    struct dshq_weights_info info;
    CHECK_EQ_INT(dshq_weights_open(run.weights_mem, run.weights_size, &wch), 0);
    CHECK_EQ_INT(dshq_weights_copy_out(wch, run.net.shape_hash, w, *n, &info), 0);
    CHECK_EQ_U64(info.version, 1 + UPDATES);
    dshq_weights_close(wch);
    /* Every update took exactly one chunk from each worker, made with the
     * newest version: no chunk was dropped for lag. */
    struct metrics m;
    CHECK_EQ_INT(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL),
                 (int)sizeof m);
    CHECK_EQ_U64(m.chunks_consumed, (uint64_t)WORKERS * UPDATES);
    CHECK_EQ_U64(m.chunks_dropped_lag, 0);
    CHECK_EQ_U64(m.policy_lag_max, 0);
    run_destroy(&run);
    return w;
}

int main(void)
{
    size_t n;
    float *a = train(11, RUN_TRANSPORT_LANES, &n);
    float *b = train(11, RUN_TRANSPORT_LANES, &n);
    float *c = train(11, RUN_TRANSPORT_MPSC, &n);
    float *d = train(12, RUN_TRANSPORT_LANES, &n);
    CHECK_MSG(memcmp(a, b, n * sizeof(float)) == 0, "same seed, different weights");
    CHECK_MSG(memcmp(a, c, n * sizeof(float)) == 0, "lanes and mpsc differ");
    CHECK_MSG(memcmp(a, d, n * sizeof(float)) != 0, "another seed gave the same weights");
    free(a);
    free(b);
    free(c);
    free(d);
    puts("run deterministic: ok");
    return 0;
}
