/* The one-word owner protocol (src/transport/owner.h), across real
 * processes: a dead holder's role is taken over by exactly one of several
 * processes that try at the same moment, round after round; the losers see
 * the live winner (-EBUSY).  The same for reclaim.  Plus the single-process
 * rules: free/take/held/drop, a reused pid (same pid, another start time) is
 * dead, a dead reclaimer's marked word is taken over, drop never frees
 * another holder's word. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "transport/owner.h"

#define CONTENDERS 4
#define ROUNDS 60

struct shared {
    _Atomic uint64_t word;
    _Atomic uint64_t dead;    /* the dead holder's word of this round */
    _Atomic int go;           /* round number the contenders may start */
    _Atomic int arrived, winners, busy, finished, bad;
};

/* One round: a child takes the word and dies; CONTENDERS children then take
 * over (mode 0: dshq_owner_take, mode 1: dshq_owner_reclaim_begin) at once. */
static void round_once(struct shared *sh, int round, int mode)
{
    pid_t victim = fork();
    CHECK(victim >= 0);
    if (victim == 0) {
        if (mode == 0)
            _exit(dshq_owner_take(&sh->word, NULL) >= 0 ? 0 : 3);
        /* mode 1: the dead holder may itself be a dead reclaimer (marked) */
        uint64_t me = dshq_owner_self();
        atomic_store(&sh->word, round % 2 ? me | DSHQ_OWNER_MARK : me);
        _exit(0);
    }
    CHECK_CHILD_OK(victim, 120.0);
    uint64_t dead = atomic_load(&sh->word);
    CHECK_EQ_INT(dshq_owner_pid(dead), victim);
    CHECK_EQ_INT(dshq_owner_alive(dead), 0);
    atomic_store(&sh->dead, dead);
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
            uint64_t prev = 0;
            int won;
            if (mode == 0) {
                int rc = dshq_owner_take(&sh->word, &prev);
                won = rc == DSHQ_OWNER_TOOK_OVER;
                if (!won && rc != -EBUSY)
                    atomic_fetch_add(&sh->bad, 1);
            } else {
                won = dshq_owner_reclaim_begin(&sh->word, &prev);
            }
            if (won) {
                if (prev != atomic_load(&sh->dead))
                    atomic_fetch_add(&sh->bad, 1);
                atomic_fetch_add(&sh->winners, 1);
            } else {
                atomic_fetch_add(&sh->busy, 1);
            }
            atomic_fetch_add(&sh->finished, 1);
            /* The winner stays alive until every contender decided, so a
             * loser can only have lost to a live holder. */
            if (won)
                test_await_at_least(&sh->finished, CONTENDERS, 120.0);
            _exit(0);
        }
    }
    test_await_at_least(&sh->arrived, CONTENDERS, 120.0);
    atomic_store(&sh->go, round);
    for (int i = 0; i < CONTENDERS; i++)
        CHECK_CHILD_OK(kids[i], 120.0);
    CHECK_EQ_INT(atomic_load(&sh->bad), 0);
    CHECK_MSG(atomic_load(&sh->winners) == 1, "round %d mode %d: %d winners", round, mode,
              atomic_load(&sh->winners));
    CHECK_EQ_INT(atomic_load(&sh->busy), CONTENDERS - 1);
    uint64_t w = atomic_load(&sh->word);
    int pid = dshq_owner_pid(w);
    int found = 0;
    for (int i = 0; i < CONTENDERS; i++)
        found |= kids[i] == pid;
    CHECK_MSG(found, "round %d: the word names pid %d, not a contender", round, pid);
    CHECK_EQ_INT(!!(w & DSHQ_OWNER_MARK), mode == 1);
}

int main(void)
{
    struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
                             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED);

    /* Single process rules. */
    _Atomic uint64_t w = 0;
    uint64_t me = dshq_owner_self();
    CHECK_EQ_INT(dshq_owner_pid(me), getpid());
    CHECK_EQ_INT(dshq_owner_alive(me), 1);
    CHECK_EQ_INT(dshq_owner_alive(0), 0);
    CHECK_EQ_INT(dshq_owner_held(&w), 0);
    CHECK_EQ_INT(dshq_owner_drop(&w), 0);
    CHECK_EQ_INT(dshq_owner_take(&w, NULL), DSHQ_OWNER_TOOK);
    CHECK_EQ_U64(atomic_load(&w), me);
    CHECK_EQ_INT(dshq_owner_held(&w), 1);
    CHECK_EQ_INT(dshq_owner_take(&w, NULL), -EBUSY); /* not re-entrant */
    CHECK_EQ_INT(dshq_owner_take_free(&w), -EBUSY);
    CHECK_EQ_INT(dshq_owner_reclaim_begin(&w, NULL), 0); /* alive: no reclaim */
    CHECK_EQ_INT(dshq_owner_drop(&w), 1);
    CHECK_EQ_U64(atomic_load(&w), 0);
    CHECK_EQ_INT(dshq_owner_take_free(&w), 0);
    CHECK_EQ_INT(dshq_owner_drop(&w), 1);
    /* Our pid with another start time: a reused pid, so dead. */
    uint64_t reused = me ^ (UINT64_C(1) << 40);
    CHECK_EQ_INT(dshq_owner_alive(reused), 0);
    atomic_store(&w, reused);
    CHECK_EQ_INT(dshq_owner_drop(&w), 0); /* not ours: left alone */
    CHECK_EQ_U64(atomic_load(&w), reused);
    uint64_t prev = 0;
    CHECK_EQ_INT(dshq_owner_take(&w, &prev), DSHQ_OWNER_TOOK_OVER);
    CHECK_EQ_U64(prev, reused);
    CHECK_EQ_INT(dshq_owner_drop(&w), 1);
    /* A marked word naming a live process (a reclaimer at work) is busy. */
    atomic_store(&w, me | DSHQ_OWNER_MARK);
    CHECK_EQ_INT(dshq_owner_take(&w, NULL), -EBUSY);
    CHECK_EQ_INT(dshq_owner_alive(me | DSHQ_OWNER_MARK), 1);
    dshq_owner_reclaim_end(&w);
    CHECK_EQ_U64(atomic_load(&w), 0);

    /* Across processes: exactly one winner per round. */
    int round = 0;
    for (int i = 0; i < ROUNDS; i++)
        round_once(sh, ++round, 0);
    for (int i = 0; i < ROUNDS; i++)
        round_once(sh, ++round, 1);
    printf("owner race: %d rounds x %d contenders, one winner each\n", round, CONTENDERS);
    munmap(sh, sizeof *sh);
    return 0;
}
