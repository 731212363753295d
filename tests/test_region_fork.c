/* Across real processes: a child attaches to the parent's region by name and
 * sees the same bytes (and the parent sees the child's); a creator that is
 * killed stops its heartbeat, is reported dead, and its region can then be
 * replaced (but never while the creator lives). */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/wait.h"

static void make_layout(struct dshq_layout *l)
{
    dshq_layout_init(l);
    dshq_layout_add(l, DSHQ_SECTION_RAW, "data", 1, 1 << 20, 4096, dshq_shape_hash("data"));
}

static int wait_child(pid_t pid)
{
    int st;
    CHECK_EQ_INT(test_waitpid(pid, &st, 30), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "fork");
    struct dshq_layout l;
    make_layout(&l);

    /* 1. Parent creates, child attaches and checks every byte, then writes. */
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    uint32_t *p;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "data", 0, (void **)&p, NULL), 0);
    for (uint32_t i = 0; i < (1 << 18); i++)
        p[i] = i * 2654435761u;
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    pid_t c = test_fork(); /* dies with us if a check fails */
    CHECK(c >= 0);
    if (c == 0) {
        struct dshq_region *a;
        CHECK_EQ_INT(dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &a), 0);
        uint32_t *q;
        CHECK_EQ_INT(dshq_region_find(a, DSHQ_SECTION_RAW, "data", dshq_shape_hash("data"),
                                      (void **)&q, NULL), 0);
        for (uint32_t i = 0; i < (1 << 18); i++)
            CHECK_EQ_U64(q[i], i * 2654435761u);
        for (uint32_t i = 0; i < (1 << 18); i++)
            q[i] = ~q[i];
        CHECK_EQ_INT(dshq_region_creator_state(a), DSHQ_CREATOR_ALIVE);
        dshq_region_detach(a);
        _exit(0);
    }
    CHECK_EQ_INT(wait_child(c), 0);
    for (uint32_t i = 0; i < (1 << 18); i++)
        CHECK_EQ_U64(p[i], ~(i * 2654435761u));
    dshq_region_destroy(r);

    /* 2. A child creates and beats; the parent watches; kill -9 stops it. */
    struct dshq_region *ev_region;
    struct dshq_layout el;
    dshq_layout_init(&el);
    dshq_layout_add(&el, DSHQ_SECTION_RAW, "ev", 1, 64, 64, 0);
    CHECK_EQ_INT(dshq_region_create_anon(&el, &ev_region), 0);
    struct dshq_event *ready;
    dshq_region_find(ev_region, DSHQ_SECTION_RAW, "ev", 0, (void **)&ready, NULL);
    uint32_t snap = dshq_event_prepare(ready);
    c = test_fork();
    CHECK(c >= 0);
    if (c == 0) {
        struct dshq_region *cr;
        CHECK_EQ_INT(dshq_region_create(name, &l, 0, &cr), 0);
        CHECK_EQ_INT(dshq_region_mark_ready(cr), 0);
        dshq_event_notify(ready);
        for (;;) {
            dshq_region_heartbeat(cr);
            usleep(1000);
        }
    }
    while (dshq_event_wait(ready, snap, (int64_t)(30e9 * test_time_scale())) == 0 &&
           atomic_load(&ready->seq) == snap)
        ;
    CHECK_MSG(atomic_load(&ready->seq) != snap, "child never created its region");
    struct dshq_region *a;
    CHECK_EQ_INT(dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &a), 0);
    CHECK_EQ_INT(dshq_region_header(a)->creator_pid, c);
    CHECK_EQ_INT(dshq_region_creator_state(a), DSHQ_CREATOR_ALIVE);
    uint64_t b0 = atomic_load(&((struct dshq_region_header *)dshq_region_header(a))->heartbeat_ns);
    uint64_t deadline = test_deadline_ns(30);
    while (atomic_load(&((struct dshq_region_header *)dshq_region_header(a))->heartbeat_ns) == b0)
        CHECK_MSG(test_now_ns() < deadline, "heartbeat of a live creator never moved");
    /* Alive creator: its name cannot be taken, even with REPLACE_STALE. */
    struct dshq_region *r2;
    CHECK_EQ_INT(dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, &r2), -EEXIST);

    CHECK_EQ_INT(kill(c, SIGKILL), 0);
    /* Dead but not yet reaped (a zombie) already counts as dead.  waitid
     * with WNOWAIT returns once the child has died and leaves it a zombie:
     * the state is checked at that exact point, not after a guessed sleep. */
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK_EQ_INT(waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT), 0);
    CHECK_EQ_INT(si.si_pid, c);
    CHECK_EQ_INT(si.si_code, CLD_KILLED);
    CHECK_EQ_INT(dshq_region_creator_state(a), DSHQ_CREATOR_DEAD);
    CHECK_EQ_INT(wait_child(c), 128 + SIGKILL);
    CHECK_EQ_INT(dshq_region_creator_state(a), DSHQ_CREATOR_DEAD);
    uint64_t b1 = atomic_load(&((struct dshq_region_header *)dshq_region_header(a))->heartbeat_ns);
    usleep(20000);
    CHECK_EQ_U64(atomic_load(&((struct dshq_region_header *)dshq_region_header(a))->heartbeat_ns), b1);
    CHECK(dshq_region_heartbeat_age_ns(a) >= 20000000ull);
    dshq_region_detach(a);

    /* Stale: plain create still refuses; REPLACE_STALE takes the name. */
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r2), -EEXIST);
    CHECK_EQ_INT(dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, &r2), 0);
    CHECK_EQ_INT(dshq_region_header(r2)->creator_pid, getpid());
    dshq_region_destroy(r2);
    dshq_region_destroy(ev_region);

    /* 3. Liveness of arbitrary processes, pid reuse included. */
    CHECK_EQ_INT(dshq_process_alive(getpid(), dshq_process_start_ticks(getpid())), DSHQ_CREATOR_ALIVE);
    CHECK_EQ_INT(dshq_process_alive(getpid(), dshq_process_start_ticks(getpid()) + 1),
                 DSHQ_CREATOR_DEAD);
    CHECK_EQ_INT(dshq_process_alive(0, 0), DSHQ_CREATOR_DEAD);
    puts("region fork: ok");
    return 0;
}
