/* Telemetry block, exact behaviour: nothing published yet, the writer role
 * (one holder, taken over from a dead one), sizes and shapes refused with
 * their codes, a writer that died mid-publish (seq left odd: readers give up
 * with -EAGAIN after bounded retries; the next writer repairs it), and the
 * heartbeat table: register, beat, ages, liveness, unregister, a dead
 * process's slot reported dead and then reused, a full table. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/region.h"
#include "dshq/telemetry.h"
#include "dshq/wait.h"

#define BLOB 100u /* rounded up to 128 */
#define SLOTS 3u

static void child_does(void (*fn)(void *, uint64_t), void *mem, uint64_t size)
{
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        fn(mem, size);
        _exit(0);
    }
    int st;
    CHECK_EQ_INT(waitpid(c, &st, 0), c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void become_writer_and_die(void *mem, uint64_t size)
{
    struct dshq_telemetry *t;
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &t), 0);
    uint32_t v = 0xabcdef01;
    CHECK_EQ_INT(dshq_telemetry_publish(t, 77, &v, sizeof v), 0);
    /* exits holding the role */
}

static void register_and_die(void *mem, uint64_t size)
{
    struct dshq_telemetry *t;
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, 0, &t), 0);
    CHECK(dshq_telemetry_register(t, 9, 99) >= 0);
}

int main(void)
{
    CHECK_EQ_U64(dshq_telemetry_bytes(0, 4), 0);
    CHECK_EQ_U64(dshq_telemetry_bytes(BLOB, DSHQ_TELEMETRY_MAX_SLOTS + 1), 0);
    uint64_t size = dshq_telemetry_bytes(BLOB, SLOTS);
    CHECK_EQ_U64(size, 128 + 128 + SLOTS * 64);
    CHECK_EQ_U64(dshq_telemetry_shape_hash(), dshq_shape_hash(DSHQ_TELEMETRY_SHAPE_STRING));

    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                          size, 64, dshq_telemetry_shape_hash()) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    void *mem;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_TELEMETRY, "telemetry", 0, &mem, &size), 0);
    CHECK_EQ_INT(dshq_telemetry_init(mem, size - 1, BLOB, SLOTS), -ENOSPC);
    CHECK_EQ_INT(dshq_telemetry_init(mem, size, BLOB, SLOTS), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    struct dshq_telemetry_ctrl *ctl = mem;
    CHECK_EQ_U64(ctl->blob_capacity, 128);

    unsigned char out[256];
    struct dshq_telemetry_info info;
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0, out, sizeof out, &info), -ENODATA);

    struct dshq_telemetry *w, *w2, *ro;
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, 0, &ro), 0);
    CHECK_EQ_INT(dshq_telemetry_publish(ro, 1, out, 8), -EPERM);
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &w), 0);
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &w2), -EBUSY);
    CHECK_EQ_INT(dshq_telemetry_publish(w, 1, out, 129), -EMSGSIZE);

    /* Publish 100 bytes; read them back exactly, with the info. */
    unsigned char blob[BLOB];
    for (uint32_t i = 0; i < BLOB; i++)
        blob[i] = (unsigned char)(i * 7 + 3);
    uint64_t t0 = dshq_now_ns();
    CHECK_EQ_INT(dshq_telemetry_publish(w, 0x1234, blob, BLOB), 0);
    memset(out, 0xee, sizeof out);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0x1234, out, sizeof out, &info), (int)BLOB);
    CHECK(memcmp(out, blob, BLOB) == 0);
    CHECK_EQ_INT(out[BLOB], 0xee); /* nothing past the published size */
    CHECK_EQ_U64(info.publications, 1);
    CHECK_EQ_U64(info.shape_hash, 0x1234);
    CHECK_EQ_U64(info.size, BLOB);
    CHECK_EQ_INT(info.writer_pid, getpid());
    CHECK_EQ_INT(info.writer_alive, DSHQ_CREATOR_ALIVE);
    CHECK_EQ_U64(info.tries, 1);
    CHECK(info.published_ns >= t0 && info.published_ns <= dshq_now_ns());
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0, out, sizeof out, NULL), (int)BLOB);

    /* Wrong shape: refused, but the info says what is there. */
    memset(&info, 0, sizeof info);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0x9999, out, sizeof out, &info), DSHQ_ESHAPE);
    CHECK_EQ_U64(info.shape_hash, 0x1234);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0x1234, out, BLOB - 1, &info), -EMSGSIZE);

    /* A shorter second publication replaces the first. */
    CHECK_EQ_INT(dshq_telemetry_publish(w, 0x1234, "hello", 5), 0);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0x1234, out, sizeof out, &info), 5);
    CHECK(memcmp(out, "hello", 5) == 0);
    CHECK_EQ_U64(info.publications, 2);
    CHECK_EQ_U64(atomic_load(&ctl->seq), 4);

    /* The writer role: given back at detach, taken over from a dead holder. */
    dshq_telemetry_detach(w);
    child_does(become_writer_and_die, mem, size);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 77, out, sizeof out, &info), 4);
    CHECK_EQ_U64(info.publications, 3);
    CHECK_EQ_INT(info.writer_alive, DSHQ_CREATOR_DEAD);
    CHECK(info.writer_pid != getpid());
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &w), 0);

    /* A writer that died mid-publish leaves seq odd: readers retry a bounded
     * number of times and say -EAGAIN; the next publish repairs it. */
    atomic_store(&ctl->seq, 7);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0, out, sizeof out, &info), -EAGAIN);
    CHECK_EQ_INT(dshq_telemetry_publish(w, 0x55, "ok", 2), 0);
    CHECK_EQ_U64(atomic_load(&ctl->seq), 10);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0x55, out, sizeof out, &info), 2);
    CHECK_EQ_U64(info.publications, 5);

    /* Heartbeats. */
    struct dshq_heartbeat hb[8];
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), 0);
    int s0 = dshq_telemetry_register(ro, 2, 0);
    int s1 = dshq_telemetry_register(ro, 3, 5);
    CHECK_EQ_INT(s0, 0);
    CHECK_EQ_INT(s1, 1);
    struct timespec ts = {0, 20 * 1000000};
    nanosleep(&ts, NULL);
    CHECK_EQ_INT(dshq_telemetry_beat(ro, s1), 0);
    CHECK_EQ_INT(dshq_telemetry_beat(ro, s1), 0);
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), 2);
    CHECK_EQ_U64(hb[0].slot, 0);
    CHECK_EQ_U64(hb[0].role, 2);
    CHECK_EQ_U64(hb[0].beats, 0);
    CHECK(hb[0].age_ns >= 20 * 1000000); /* registered, never beat since */
    CHECK_EQ_U64(hb[1].slot, 1);
    CHECK_EQ_U64(hb[1].role, 3);
    CHECK_EQ_U64(hb[1].index, 5);
    CHECK_EQ_INT(hb[1].pid, getpid());
    CHECK_EQ_U64(hb[1].start_ticks, dshq_process_start_ticks(getpid()));
    CHECK_EQ_U64(hb[1].beats, 2);
    CHECK(hb[1].age_ns < hb[0].age_ns);
    CHECK(hb[1].heartbeat_ns > hb[1].registered_ns);
    CHECK_EQ_INT(hb[1].alive, DSHQ_CREATOR_ALIVE);
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 1), 1); /* max respected */

    /* A dead process's slot: shown dead, then reused when the table is full. */
    child_does(register_and_die, mem, size);
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), 3);
    CHECK_EQ_U64(hb[2].role, 9);
    CHECK_EQ_U64(hb[2].index, 99);
    CHECK_EQ_INT(hb[2].alive, DSHQ_CREATOR_DEAD);
    int s2 = dshq_telemetry_register(ro, 4, 1);
    CHECK_EQ_INT(s2, 2); /* the dead one's */
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), 3);
    CHECK_EQ_U64(hb[2].role, 4);
    CHECK_EQ_INT(hb[2].alive, DSHQ_CREATOR_ALIVE);
    CHECK_EQ_INT(dshq_telemetry_register(ro, 5, 0), DSHQ_ELIMIT); /* all live */

    /* Unregister empties the slot; beating it then is refused. */
    CHECK_EQ_INT(dshq_telemetry_unregister(ro, s0), 0);
    CHECK_EQ_INT(dshq_telemetry_beat(ro, s0), DSHQ_EDEAD);
    CHECK_EQ_INT(dshq_telemetry_unregister(ro, s0), DSHQ_EDEAD);
    CHECK_EQ_INT(dshq_telemetry_beat(ro, 17), -EINVAL);
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), 2);
    CHECK_EQ_U64(hb[0].slot, 1);
    CHECK_EQ_U64(hb[1].slot, 2);
    CHECK_EQ_INT(dshq_telemetry_register(ro, 5, 0), 0);

    /* A damaged control block is refused. */
    ctl->slots_offset += 64;
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, 0, out, sizeof out, &info), DSHQ_ECORRUPT);
    ctl->slots_offset -= 64;
    ctl->magic = 0;
    CHECK_EQ_INT(dshq_telemetry_heartbeats(mem, size, hb, 8), DSHQ_EMAGIC);
    ctl->magic = DSHQ_TELEMETRY_MAGIC;
    CHECK_EQ_INT(dshq_telemetry_read(mem, size - 1, 0, out, sizeof out, &info), DSHQ_ESIZE);

    dshq_telemetry_detach(w);
    dshq_telemetry_detach(ro);
    dshq_region_destroy(r);
    puts("telemetry basic: ok");
    return 0;
}
