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

static inline void *role_thread_main(void *arg)
{
    struct role_thread *t = arg;
    t->rc = t->worker < 0 ? run_trainer(t->run, &t->to) : run_worker(t->run, (uint32_t)t->worker, 0);
    atomic_store_explicit(&t->done, 1, memory_order_release); /* pairs with the acquire below */
    return NULL;
}

struct run_threads {
    struct role_thread th[1 + RUN_MAX_WORKERS];
    uint32_t n;
};

/* Starts the trainer (unless no_trainer) and cfg->workers workers on an
 * already created run. */
static inline void run_threads_start(struct run *run, struct run_threads *rt,
                              const struct trainer_opts *to, int no_trainer)
{
    memset(rt, 0, sizeof *rt);
    rt->n = 1 + run->cfg.workers;
    for (uint32_t i = 0; i < rt->n; i++) {
        struct role_thread *t = &rt->th[i];
        t->run = run;
        t->worker = (int)i - 1;
        if (to)
            t->to = *to;
        t->to.quiet = 1;
        if (i == 0 && no_trainer) {
            atomic_store_explicit(&t->done, 1, memory_order_relaxed);
            continue;
        }
        CHECK_EQ_INT(pthread_create(&t->tid, NULL, role_thread_main, t), 0);
    }
}

/* Waits for the trainer to end its budget (it raises the stop flag), or
 * raises the flag itself after deadline_s; joins every role.  Fails the test
 * on the deadline or on a role's failure. */
static inline void run_threads_finish(struct run *run, struct run_threads *rt, int deadline_s,
                               int no_trainer)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int timed_out = 0;
    while (!no_trainer && !atomic_load_explicit(&rt->th[0].done, memory_order_acquire)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec > deadline_s) {
            timed_out = 1;
            break;
        }
        uint32_t e = dshq_event_prepare(&run->blk->state_changed);
        if (!run_stopping(run))
            dshq_event_wait(&run->blk->state_changed, e, 100000000);
    }
    run_stop(run->blk);
    for (uint32_t i = no_trainer ? 1 : 0; i < rt->n; i++)
        CHECK_EQ_INT(pthread_join(rt->th[i].tid, NULL), 0);
    CHECK_MSG(!timed_out, "the run did not finish within %d s", deadline_s);
    for (uint32_t i = no_trainer ? 1 : 0; i < rt->n; i++)
        CHECK_MSG(rt->th[i].rc == 0, "role %d returned %d", rt->th[i].worker, rt->th[i].rc);
}

/* Creates the run for cfg and runs it to the end of its budget. */
static inline int run_threads_go(struct run *run, const struct run_config *cfg,
                          const struct trainer_opts *to, int deadline_s)
{
    static struct run_threads rt;
    CHECK_EQ_INT(run_create(run, NULL, cfg, NULL), 0);
    run_threads_start(run, &rt, to, 0);
    run_threads_finish(run, &rt, deadline_s, 0);
    return 0;
}

#endif
