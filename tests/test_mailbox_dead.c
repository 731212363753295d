/* Mailbox: a poster that dies between claim and commit does not wedge the
 * consumer.
 *
 * 1. A child claims a slot and stops there.  While it lives, the consumer
 *    waits for it (EMPTY) even though a later message is committed behind
 *    it.  Once it is SIGKILLed — a zombie, not yet reaped — the consumer
 *    skips its slot (dead_skipped = 1) and delivers the later message.
 * 2. A claim whose poster died before moving the tail (built by hand: a
 *    claim word naming a reaped pid, tail not moved): the next poster helps
 *    the tail past it, and the consumer skips it.
 * 3. A poster judged dead that commits after all gets DSHQ_EDEAD and does
 *    not touch the slot it lost. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/mailbox.h"
#include "dshq/region.h"

#define CAP 4u

static const struct dshq_msg_kind known[] = {{DSHQ_MSG_STOP, 1}, {DSHQ_MSG_RESET, 1}};

static struct dshq_mailbox_slot *slot_at(void *mem, uint64_t pos)
{
    return (struct dshq_mailbox_slot *)((unsigned char *)mem + sizeof(struct dshq_mailbox_ctrl)) +
           (pos & (CAP - 1));
}

static pid_t reaped_pid(void)
{
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0)
        _exit(0);
    int st;
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    return c;
}

int main(void)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                          dshq_mailbox_bytes(CAP), 64, dshq_mailbox_shape_hash()) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    void *mem;
    uint64_t size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MAILBOX, "control", 0, &mem, &size), 0);
    CHECK_EQ_INT(dshq_mailbox_init(mem, size, CAP), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct dshq_mailbox *cons, *poster;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons), 0);
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &poster), 0);
    struct dshq_msg m;
    struct dshq_mailbox_stats st;

    /* 1. Killed mid-claim. */
    int go[2];
    CHECK_EQ_INT(pipe(go), 0);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        struct dshq_mailbox *mine;
        struct dshq_msg *slot;
        CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &mine), 0);
        CHECK_EQ_INT(dshq_mailbox_claim(mine, &slot), 0);
        slot->type = DSHQ_MSG_STOP; /* half-written: version never set */
        CHECK_EQ_INT(write(go[1], "c", 1), 1);
        for (;;)
            pause(); /* never commits */
    }
    char b;
    CHECK_EQ_INT(read(go[0], &b, 1), 1);
    uint64_t w = atomic_load_explicit(&slot_at(mem, 0)->state, memory_order_relaxed);
    CHECK(w & DSHQ_MAILBOX_CLAIMED);
    CHECK_EQ_INT((int32_t)(uint32_t)w, c);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_RESET, 1, NULL, 0), 0); /* position 1 */
    for (int i = 0; i < 3; i++) /* alive: wait for it, do not skip it */
        CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 2, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_INT(dshq_mailbox_wait(cons, 1000000), 0); /* a claim at the head: look now */
    CHECK_EQ_INT(kill(c, SIGKILL), 0);
    /* Until the kill lands the child still counts as alive. */
    uint64_t deadline = dshq_now_ns() + UINT64_C(10) * 1000000000u;
    int rc;
    while ((rc = dshq_mailbox_consume(cons, known, 2, &m)) == DSHQ_MAILBOX_EMPTY)
        CHECK_MSG(dshq_now_ns() < deadline, "the dead poster's slot was never skipped");
    CHECK_EQ_INT(rc, DSHQ_MAILBOX_MSG); /* the zombie is dead already */
    CHECK_EQ_U64(m.type, DSHQ_MSG_RESET);
    CHECK_EQ_INT(m.sender_pid, getpid());
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.dead_skipped, 1);
    CHECK_EQ_U64(st.consumed, 1);
    CHECK_EQ_U64(st.head, 2);
    CHECK_EQ_U64(atomic_load_explicit(&slot_at(mem, 0)->state, memory_order_relaxed), 0 + CAP);
    int wst;
    CHECK_EQ_INT(waitpid(c, &wst, 0), c);
    CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
    /* The lost slot is reused normally on the next lap. */
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 2, &m), DSHQ_MAILBOX_EMPTY);

    /* 2. Died after its claim but before moving the tail (positions 2 and 3
     * are free; tail = 2).  Forge the claim of a dead pid on position 2. */
    CHECK_EQ_U64(atomic_load_explicit(&((struct dshq_mailbox_ctrl *)mem)->tail,
                                      memory_order_relaxed), 2);
    pid_t dead = reaped_pid();
    uint64_t forged = DSHQ_MAILBOX_CLAIMED | (UINT64_C(2) << 32) | (uint32_t)dead;
    atomic_store_explicit(&slot_at(mem, 2)->state, forged, memory_order_relaxed);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), 0); /* lands on 3 */
    CHECK_EQ_U64(atomic_load_explicit(&slot_at(mem, 3)->state, memory_order_relaxed), 4);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 2, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_STOP);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.dead_skipped, 2);
    CHECK_EQ_U64(st.head, 4);
    CHECK_EQ_U64(st.tail, 4);

    /* 3. A poster judged dead commits late: DSHQ_EDEAD, slot untouched. */
    struct dshq_msg *mine;
    CHECK_EQ_INT(dshq_mailbox_claim(poster, &mine), 0); /* position 4, slot 0 */
    forged = DSHQ_MAILBOX_CLAIMED | (UINT64_C(4) << 32) | (uint32_t)dead;
    atomic_store_explicit(&slot_at(mem, 4)->state, forged, memory_order_relaxed);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 2, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_U64(atomic_load_explicit(&slot_at(mem, 4)->state, memory_order_relaxed), 4 + CAP);
    mine->type = DSHQ_MSG_STOP;
    mine->version = 1;
    CHECK_EQ_INT(dshq_mailbox_commit(poster, mine), DSHQ_EDEAD);
    CHECK_EQ_U64(atomic_load_explicit(&slot_at(mem, 4)->state, memory_order_relaxed), 4 + CAP);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.dead_skipped, 3);
    CHECK_EQ_U64(st.posted, 2);
    /* And the mailbox goes on working. */
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, 2, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.sequence, 4);

    /* 4. A consumer that died leaves its role to the next one. */
    dshq_mailbox_detach(cons);
    pid_t cc = fork();
    CHECK(cc >= 0);
    if (cc == 0) {
        struct dshq_mailbox *x;
        CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &x), 0);
        _exit(0); /* dies holding the role */
    }
    CHECK_EQ_INT(waitpid(cc, &wst, 0), cc);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_INT(st.consumer_pid, cc);
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons), 0);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_INT(st.consumer_pid, getpid());

    dshq_mailbox_detach(cons);
    dshq_mailbox_detach(poster);
    dshq_region_destroy(r);
    puts("mailbox dead poster: ok");
    return 0;
}
