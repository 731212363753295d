/* Mailbox, one process, exact states: empty, fill to FULL (nothing
 * overwritten), wrap-around, the slot state words at each step, the sender
 * fields, unknown types and versions skipped and counted, the consumer role,
 * and a damaged control block refused. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/mailbox.h"

#define CAP 4u

static const struct dshq_msg_kind known[] = {
    {DSHQ_MSG_STOP, 1},
    {DSHQ_MSG_PAUSE, 1},
    {DSHQ_MSG_SET_HPARAM, 1},
    {DSHQ_MSG_RESET, 1},
};
#define NKNOWN (sizeof known / sizeof known[0])

static struct dshq_mailbox_slot *slots(void *mem)
{
    return (struct dshq_mailbox_slot *)((unsigned char *)mem + sizeof(struct dshq_mailbox_ctrl));
}

static uint64_t state(void *mem, uint32_t i)
{
    return atomic_load_explicit(&slots(mem)[i].state, memory_order_relaxed);
}

static void post_pause(struct dshq_mailbox *mb, uint32_t paused, int want)
{
    struct dshq_msg_pause p = {.paused = paused};
    CHECK_EQ_INT(dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 1, &p, sizeof p), want);
}

int main(void)
{
    CHECK_EQ_U64(dshq_mailbox_bytes(3), 0);
    CHECK_EQ_U64(dshq_mailbox_bytes(1), 0);
    CHECK_EQ_U64(dshq_mailbox_bytes(CAP), 256 + CAP * 128);
    CHECK_EQ_U64(dshq_mailbox_shape_hash(), dshq_shape_hash(DSHQ_MAILBOX_SHAPE_STRING));

    uint64_t size = dshq_mailbox_bytes(CAP);
    void *mem = aligned_alloc(64, size);
    CHECK(mem);
    CHECK_EQ_INT(dshq_mailbox_init(mem, size, 6), -EINVAL);
    CHECK_EQ_INT(dshq_mailbox_init(mem, size - 1, CAP), -ENOSPC);
    CHECK_EQ_INT(dshq_mailbox_init(mem, size, CAP), 0);
    for (uint32_t i = 0; i < CAP; i++)
        CHECK_EQ_U64(state(mem, i), i); /* free for position i */

    struct dshq_mailbox *poster, *cons, *cons2;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &poster), 0);
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons), 0);
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons2), -EBUSY);

    struct dshq_msg m;
    CHECK_EQ_INT(dshq_mailbox_consume(poster, known, NKNOWN, &m), -EPERM);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, &m, 33), -EINVAL);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 4), -EINVAL);

    /* Fill: 4 posts fit, the 5th is refused, nothing is overwritten. */
    uint64_t t0 = dshq_now_ns();
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), 0);
    post_pause(poster, 1, 0);
    struct dshq_msg_set_hparam hp = {.param = DSHQ_HPARAM_LEARNING_RATE, .value = 3e-4f};
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_SET_HPARAM, 1, &hp, sizeof hp), 0);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_RESET, 1, NULL, 0), 0);
    for (uint32_t i = 0; i < CAP; i++)
        CHECK_EQ_U64(state(mem, i), i + 1); /* committed for position i */
    post_pause(poster, 0, DSHQ_MAILBOX_FULL);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), DSHQ_MAILBOX_FULL);
    struct dshq_msg *claim;
    CHECK_EQ_INT(dshq_mailbox_claim(poster, &claim), DSHQ_MAILBOX_FULL);
    struct dshq_mailbox_stats st;
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.capacity, CAP);
    CHECK_EQ_U64(st.tail, 4);
    CHECK_EQ_U64(st.head, 0);
    CHECK_EQ_U64(st.posted, 4);
    CHECK_EQ_U64(st.full, 3);
    CHECK_EQ_INT(st.consumer_pid, getpid());

    /* Consume the first: the STOP, with the sender fields filled in. */
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_STOP);
    CHECK_EQ_U64(m.version, 1);
    CHECK_EQ_INT(m.sender_pid, getpid());
    CHECK(m.sender_tid != 0);
    CHECK_EQ_U64(m.sequence, 1);
    CHECK(m.sent_ns >= t0 && m.sent_ns <= dshq_now_ns());
    for (int i = 0; i < DSHQ_MSG_PAYLOAD_BYTES; i++)
        CHECK_EQ_INT(m.payload[i], 0);
    CHECK_EQ_U64(state(mem, 0), 0 + CAP); /* released: free for position 4 */

    /* Wrap-around: position 4 goes into slot 0; the 6th post is FULL again. */
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_USER + 7, 1, NULL, 0), 0);
    CHECK_EQ_U64(state(mem, 0), CAP + 1);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), DSHQ_MAILBOX_FULL);

    /* The rest, in order. */
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_PAUSE);
    CHECK_EQ_U64(m.sequence, 2);
    struct dshq_msg_pause pp;
    memcpy(&pp, m.payload, sizeof pp);
    CHECK_EQ_U64(pp.paused, 1);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_SET_HPARAM);
    struct dshq_msg_set_hparam hq;
    memcpy(&hq, m.payload, sizeof hq);
    CHECK_EQ_U64(hq.param, DSHQ_HPARAM_LEARNING_RATE);
    CHECK(hq.value == 3e-4f);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_RESET);
    CHECK_EQ_U64(m.sequence, 4);
    /* The unknown type (USER+7) is skipped and counted, never handed out. */
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.consumed, 4);
    CHECK_EQ_U64(st.unknown_type, 1);
    CHECK_EQ_U64(st.unknown_version, 0);
    CHECK_EQ_U64(st.head, 5);
    CHECK_EQ_U64(st.tail, 5);

    /* Unknown version of a known type: skipped, counted apart; the message
     * behind it still arrives.  Type 0 is unknown too. */
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 2, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_NONE, 1, NULL, 0), 0);
    post_pause(poster, 0, 0);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_PAUSE);
    CHECK_EQ_U64(m.sequence, 8);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.unknown_version, 1);
    CHECK_EQ_U64(st.unknown_type, 2);
    CHECK_EQ_U64(st.consumed, 5);
    CHECK_EQ_U64(st.posted, 8);
    /* A consumer that knows nothing counts everything as unknown. */
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, NULL, 0, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.unknown_type, 3);

    /* Claim/commit in place; a second claim on the same handle is refused
     * while one is outstanding; the claim word names this process. */
    struct dshq_msg *c1, *c2;
    CHECK_EQ_INT(dshq_mailbox_claim(poster, &c1), 0);
    uint64_t pos = st.tail; /* 9 */
    CHECK_EQ_U64(pos, 9);
    uint64_t w = state(mem, (uint32_t)(pos & (CAP - 1)));
    CHECK(w & DSHQ_MAILBOX_CLAIMED);
    CHECK_EQ_U64((w >> 32) & DSHQ_MAILBOX_TAG_MASK, pos);
    CHECK_EQ_INT((int32_t)(uint32_t)w, getpid());
    CHECK_EQ_INT(dshq_mailbox_claim(poster, &c2), -EINVAL);
    /* While it is being written the consumer waits for it: EMPTY. */
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_EMPTY);
    c1->type = DSHQ_MSG_RESET;
    c1->version = 1;
    memset(c1->payload, 0, sizeof c1->payload);
    CHECK_EQ_INT(dshq_mailbox_commit(poster, c1), 0);
    CHECK_EQ_INT(dshq_mailbox_commit(poster, c1), -EINVAL);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.type, DSHQ_MSG_RESET);
    CHECK_EQ_U64(m.sequence, 10);

    /* The consumer role passes on at detach. */
    dshq_mailbox_detach(cons);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_INT(st.consumer_pid, 0);
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons2), 0);
    CHECK_EQ_INT(dshq_mailbox_consume(cons2, known, NKNOWN, &m), DSHQ_MAILBOX_EMPTY);
    CHECK_EQ_INT(dshq_mailbox_post(poster, DSHQ_MSG_STOP, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_consume(cons2, known, NKNOWN, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_U64(m.sequence, 11);
    dshq_mailbox_detach(cons2);
    dshq_mailbox_detach(poster);

    /* A damaged control block is refused, each with its own code. */
    struct dshq_mailbox *x;
    struct dshq_mailbox_ctrl *ctl = mem;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size - 1, 0, &x), DSHQ_ESIZE);
    ctl->capacity = 3;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &x), DSHQ_ECORRUPT);
    ctl->capacity = 1u << 30;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &x), DSHQ_ECORRUPT);
    ctl->capacity = CAP;
    ctl->slots_offset = 64;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &x), DSHQ_ECORRUPT);
    ctl->slots_offset = 256;
    ctl->magic ^= 1;
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, 0, &x), DSHQ_EMAGIC);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), DSHQ_EMAGIC);
    ctl->magic ^= 1;
    /* An impossible slot state is reported, not interpreted. */
    CHECK_EQ_INT(dshq_mailbox_attach(mem, size, DSHQ_MAILBOX_CONSUMER, &cons), 0);
    CHECK_EQ_INT(dshq_mailbox_stats(mem, size, &st), 0);
    CHECK_EQ_U64(st.head, 11);
    atomic_store_explicit(&slots(mem)[11 & (CAP - 1)].state, 12345, memory_order_relaxed);
    CHECK_EQ_INT(dshq_mailbox_consume(cons, known, NKNOWN, &m), DSHQ_ECORRUPT);
    dshq_mailbox_detach(cons);

    CHECK_STR(dshq_msg_type_name(DSHQ_MSG_SET_HPARAM), "set_hparam");
    CHECK(dshq_msg_type_name(99) == NULL);
    CHECK_STR(dshq_hparam_name(DSHQ_HPARAM_CLIP), "clip");
    free(mem);
    puts("mailbox basic: ok");
    return 0;
}
