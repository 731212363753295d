/* run_threads.h — one whole training run with its roles as threads of this
 * process over an anonymous region: the same role functions `dshq train`
 * forks (src/run/roles.h), which is what proves them free of process-level
 * assumptions (and lets TSan see every shared access of a run).
 *
 * run_threads_go() creates the run, starts the trainer and the workers,
 * waits for the trainer to end its budget (a generous deadline, never a
 * timing assertion), raises the stop flag, joins everyone and leaves the
 * region mapped for the caller's checks. */
#ifndef DSHQ_TESTS_RUN_THREADS_H
#define DSHQ_TESTS_RUN_THREADS_H

#include <pthread.h>
#include <time.h>

#include "check.h"
#include "run/metrics.h"
#include "run/roles.h"

struct role_thread {
    pthread_t tid;
    struct run *run;
    int worker;            /* -1: the trainer */
    struct trainer_opts to;
    _Atomic int done;
    int rc;
};

static void *role_thread_main(void *arg)
{
    struct role_thread *t = arg;
    t->rc = t->worker < 0 ? run_trainer(t->run, &t->to) : run_worker(t->run, (uint32_t)t->worker, 0);
    atomic_store_explicit(&t->done, 1, memory_order_release); /* pairs with the acquire below */
    return NULL;
}

/* Runs cfg to the end of its budget.  0 on success; the trainer's and the
 * workers' results must be 0.  deadline_s bounds the whole run. */
static int run_threads_go(struct run *run, const struct run_config *cfg,
                          const struct trainer_opts *to, int deadline_s)
{
    CHECK_EQ_INT(run_create(run, NULL, cfg, NULL), 0);
    struct role_thread th[1 + RUN_MAX_WORKERS];
    memset(th, 0, sizeof th);
    uint32_t n = 1 + cfg->workers;
    for (uint32_t i = 0; i < n; i++) {
        th[i].run = run;
        th[i].worker = (int)i - 1;
        if (to)
            th[i].to = *to;
        th[i].to.quiet = 1;
        CHECK_EQ_INT(pthread_create(&th[i].tid, NULL, role_thread_main, &th[i]), 0);
    }
    /* Wait for the trainer to finish its budget; it raises the stop flag. */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int timed_out = 0;
    while (!atomic_load_explicit(&th[0].done, memory_order_acquire)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > deadline_s) {
            timed_out = 1;
            run_stop(run->blk);
            break;
        }
        uint32_t e = dshq_event_prepare(&run->blk->state_changed);
        if (!run_stopping(run))
            dshq_event_wait(&run->blk->state_changed, e, 100000000);
    }
    for (uint32_t i = 0; i < n; i++)
        CHECK_EQ_INT(pthread_join(th[i].tid, NULL), 0);
    CHECK_MSG(!timed_out, "the run did not finish within %d s", deadline_s);
    CHECK(run_stopping(run));
    for (uint32_t i = 0; i < n; i++)
        CHECK_MSG(th[i].rc == 0, "role %d returned %d", th[i].worker, th[i].rc);
    return 0;
}

#endif
