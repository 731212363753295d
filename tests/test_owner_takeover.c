/* Take-overs from a dead role holder, per channel, across real processes:
 * the mailbox consumer, the telemetry writer, a telemetry heartbeat slot
 * (a 1-slot block) and the weights writer.  Each round a child takes the
 * role and dies without giving it up; then CONTENDERS processes try to take
 * it at the same moment.  Exactly one must win; every other gets -EBUSY
 * (DSHQ_ELIMIT for the heartbeat slot) while the winner lives.  Before the
 * one-word owner protocol, the mailbox and telemetry recorded pid and start
 * time in two words: a taker could read the new pid with the dead holder's
 * start time, judge the live winner dead, and win too.
 *
 * OWNER_TAKEOVER_ROUNDS (default 150) rounds per role; the two-word
 * protocol failed within 5 to 60 rounds of the mailbox consumer. */
#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "dshq/error.h"
#include "dshq/mailbox.h"
#include "dshq/region.h"
#include "dshq/telemetry.h"
#include "dshq/weights.h"

#define CONTENDERS 4
enum { ROLE_MAILBOX, ROLE_TELEMETRY, ROLE_HEARTBEAT, ROLE_WEIGHTS, ROLES };
static const char *role_name[ROLES] = {"mailbox consumer", "telemetry writer",
                                       "heartbeat slot", "weights writer"};

struct shared {
    _Atomic int go, arrived, winners, busy, finished, bad;
};

static void *mb_mem, *tel_mem, *w_mem;
static uint64_t mb_size, tel_size, w_size;

/* 1 won, 0 lost as expected, -1 an unexpected result. */
static int take(int role)
{
    int rc;
    switch (role) {
    case ROLE_MAILBOX: {
        struct dshq_mailbox *mb;
        rc = dshq_mailbox_attach(mb_mem, mb_size, DSHQ_MAILBOX_CONSUMER, &mb);
        return rc == 0 ? 1 : rc == -EBUSY ? 0 : -1;
    }
    case ROLE_TELEMETRY: {
        struct dshq_telemetry *t;
        rc = dshq_telemetry_attach(tel_mem, tel_size, DSHQ_TELEMETRY_WRITER, &t);
        return rc == 0 ? 1 : rc == -EBUSY ? 0 : -1;
    }
    case ROLE_HEARTBEAT: {
        struct dshq_telemetry *t;
        if (dshq_telemetry_attach(tel_mem, tel_size, 0, &t))
            return -1;
        rc = dshq_telemetry_register(t, 7, (uint32_t)getpid());
        return rc == 0 ? 1 : rc == DSHQ_ELIMIT ? 0 : -1;
    }
    default: {
        struct dshq_weights *ch;
        struct dshq_weights_writer *w;
        if (dshq_weights_open(w_mem, w_size, &ch))
            return -1;
        rc = dshq_weights_writer_attach(ch, &w);
        return rc == 0 ? 1 : rc == -EBUSY ? 0 : -1;
    }
    }
}

static void round_once(struct shared *sh, int role, int round)
{
    pid_t victim = fork();
    CHECK(victim >= 0);
    if (victim == 0)
        _exit(take(role) == 1 ? 0 : 3); /* takes the role and dies holding it */
    CHECK_CHILD_OK(victim, 120.0);
    atomic_store(&sh->arrived, 0);
    atomic_store(&sh->winners, 0);
    atomic_store(&sh->busy, 0);
    atomic_store(&sh->finished, 0);
    pid_t kids[CONTENDERS];
    for (int i = 0; i < CONTENDERS; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            atomic_fetch_add(&sh->arrived, 1);
            test_await_at_least(&sh->go, round, 120.0);
            int r = take(role);
            if (r < 0)
                atomic_fetch_add(&sh->bad, 1);
            atomic_fetch_add(r == 1 ? &sh->winners : &sh->busy, 1);
            atomic_fetch_add(&sh->finished, 1);
            if (r == 1) /* alive until everyone decided */
                test_await_at_least(&sh->finished, CONTENDERS, 120.0);
            _exit(0);
        }
    }
    test_await_at_least(&sh->arrived, CONTENDERS, 120.0);
    atomic_store(&sh->go, round);
    for (int i = 0; i < CONTENDERS; i++)
        CHECK_CHILD_OK(kids[i], 120.0);
    CHECK_EQ_INT(atomic_load(&sh->bad), 0);
    CHECK_MSG(atomic_load(&sh->winners) == 1, "%s, round %d: %d winners", role_name[role], round,
              atomic_load(&sh->winners));
}

int main(void)
{
    const char *env = getenv("OWNER_TAKEOVER_ROUNDS");
    int rounds = env ? atoi(env) : 150;
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                          dshq_mailbox_bytes(8), 64, dshq_mailbox_shape_hash()) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                          dshq_telemetry_bytes(64, 1), 64, dshq_telemetry_shape_hash()) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_WEIGHTS, "policy", DSHQ_WEIGHTS_VERSION,
                          dshq_weights_layout(16, 1), DSHQ_PAGE_ALIGN, 1) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MAILBOX, "control", 0, &mb_mem, &mb_size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_TELEMETRY, "telemetry", 0, &tel_mem, &tel_size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_WEIGHTS, "policy", 0, &w_mem, &w_size), 0);
    CHECK_EQ_INT(dshq_mailbox_init(mb_mem, mb_size, 8), 0);
    CHECK_EQ_INT(dshq_telemetry_init(tel_mem, tel_size, 64, 1), 0);
    CHECK_EQ_INT(dshq_weights_init(w_mem, w_size, 16, 1, 1), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);
    int round = 0;
    for (int role = 0; role < ROLES; role++) {
        for (int i = 0; i < rounds; i++)
            round_once(sh, role, ++round);
        printf("%s: %d take-overs by %d processes at once, one winner each\n", role_name[role],
               rounds, CONTENDERS);
    }
    dshq_region_destroy(r);
    return 0;
}
