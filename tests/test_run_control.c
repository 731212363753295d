/* test_run_control — the trainer's control messages mean what they say
 * (roles as threads over an anonymous region):
 *   - `set shaping X` holds: the anneal (here 1 -> 0) no longer overwrites it;
 *   - out-of-range or unknown hyperparameters are refused and counted in the
 *     run block (ctl_refused), and the learning rate in force is not 0;
 *   - a pause pauses the --seconds budget and the schedules: while paused
 *     for longer than the whole budget the run neither ends nor progresses,
 *     and after the resume it trains to the end of its budget. */
#include <unistd.h>

#include "run_threads.h"

static void post_hparam(struct dshq_mailbox *mb, uint32_t param, float value)
{
    struct dshq_msg_set_hparam h = {.param = param, .value = value};
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_SET_HPARAM, 1, &h, sizeof h), 0);
}

static void shaping_and_refusals(void)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 2;
    cfg.envs = 8;
    cfg.horizon = 16;
    cfg.hidden = 16;
    cfg.layers = 1;
    cfg.updates = 6;
    cfg.seconds = 0;
    cfg.max_lag = 1000;
    cfg.shaping_end = 0.0f; /* the anneal would take the scale to 1/6 by update 6 */
    struct run run;
    CHECK_EQ_INT(run_create(&run, NULL, &cfg, NULL), 0);
    struct dshq_mailbox *mb;
    CHECK_EQ_INT(dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb), 0);
    post_hparam(mb, DSHQ_HPARAM_SHAPING_COEF, 0.5f);
    post_hparam(mb, DSHQ_HPARAM_LEARNING_RATE, 0.0f);  /* refused: lr must be > 0 */
    post_hparam(mb, DSHQ_HPARAM_CLIP, 50.0f);          /* refused: clip <= 10 */
    post_hparam(mb, 99, 1.0f);                         /* refused: no such parameter */
    dshq_mailbox_detach(mb);
    static struct run_threads rt;
    run_threads_start(&run, &rt, NULL, 0);
    run_threads_finish(&run, &rt, 300, 0);

    CHECK_EQ_U64(atomic_load(&run.blk->shaping_set), 1);
    CHECK_EQ_U64(atomic_load(&run.blk->shaping_milli), 500);
    CHECK_EQ_U64(atomic_load(&run.blk->ctl_refused), 3);
    struct metrics m;
    CHECK_EQ_INT(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL),
                 (int)sizeof m);
    CHECK_EQ_U64(m.updates, 6);
    CHECK_NEAR(m.shaping_coef, cfg.shaping * 0.5, 1e-6);
    CHECK(m.learning_rate > 0);
    CHECK_NEAR(m.clip, cfg.clip, 1e-6);
    run_destroy(&run);
}

/* Polls cond (re-evaluated) until true or deadline_s; the sleep only paces
 * the polling. */
#define WAIT_FOR(cond, deadline_s)                                           \
    do {                                                                     \
        int ok_ = 0;                                                         \
        for (int i_ = 0; i_ < (deadline_s) * 100 && !(ok_ = (cond)); i_++)  \
            usleep(10000);                                                   \
        CHECK_MSG(ok_, "timed out waiting for " #cond);                      \
    } while (0)

static void pause_holds_the_budget(void)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 1;
    cfg.envs = 4;
    cfg.horizon = 8;
    cfg.hidden = 8;
    cfg.layers = 1;
    cfg.seconds = 0.3;
    cfg.updates = 0;
    cfg.max_lag = 1000;
    struct run run;
    CHECK_EQ_INT(run_create(&run, NULL, &cfg, NULL), 0);
    struct dshq_mailbox *mb;
    CHECK_EQ_INT(dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb), 0);
    struct dshq_msg_pause p = {.paused = 1};
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 1, &p, sizeof p), 0);
    static struct run_threads rt;
    run_threads_start(&run, &rt, NULL, 0);
    WAIT_FOR(atomic_load(&run.blk->paused) == 1, 60);
    WAIT_FOR(run_state(&run) == RUN_RUNNING, 60);
    /* The trainer has seen the pause; one more telemetry tick makes sure its
     * loop has gone round since. */
    struct metrics m;
    WAIT_FOR(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(), &m,
                                 sizeof m, NULL) == (int)sizeof m && m.paused == 1, 60);
    uint64_t progress = atomic_load(&run.blk->progress_ppm);
    CHECK(progress < 1000000 / 10);
    /* Paused for more than three budgets: a pause that let the clock run
     * would end the run here, and the progress would move. */
    usleep(1000000);
    CHECK_EQ_INT(run_state(&run), RUN_RUNNING);
    CHECK_EQ_U64(atomic_load(&run.blk->progress_ppm), progress);
    p.paused = 0;
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 1, &p, sizeof p), 0);
    dshq_mailbox_detach(mb);
    run_threads_finish(&run, &rt, 300, 0);
    CHECK_EQ_INT(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL),
                 (int)sizeof m);
    CHECK(m.wall_s >= 0.3); /* it trained its whole budget after the pause */
    CHECK_EQ_U64(m.paused, 0);
    run_destroy(&run);
}

int main(void)
{
    shaping_and_refusals();
    pause_holds_the_budget();
    puts("run control: ok");
    return 0;
}
