/* chunks.c — a producer and a consumer of rollout chunks in two processes,
 * built against an installed libdshq only (see examples/Makefile):
 *
 *   cc chunks.c $(pkg-config --cflags --libs dshq) -o chunks && ./chunks
 *
 * The parent creates a named region (/dev/shm/dshq-example-PID) with one
 * rollout lane of chunks, forks, and consumes; the child attaches to the
 * region by its name, claims a slot, writes a chunk in place, commits.  The
 * consumer reads each chunk where the producer wrote it and checks every
 * value.  Exit 0 when all N chunks arrived intact, 1 otherwise. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dshq/chunk.h>
#include <dshq/error.h>
#include <dshq/region.h>
#include <dshq/rollout.h>

enum { T = 16, E = 8, OBS_DIM = 4, CHUNKS = 64 };

static float value_at(uint64_t seq, size_t i) { return (float)(seq * 1000 + i % 997); }

static int produce(const char *name, const struct dshq_chunk_layout *cl)
{
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    struct dshq_lane_producer *p;
    int rc = dshq_region_attach(name, 0, 0, &r);
    if (rc == 0)
        rc = dshq_region_find(r, DSHQ_SECTION_LANES, "rollouts", cl->shape_hash, &sec, &size);
    if (rc == 0)
        rc = dshq_lane_producer_open(sec, size, 0, &p);
    if (rc) {
        fprintf(stderr, "producer: %s\n", dshq_strerror(rc));
        return 1;
    }
    for (uint64_t seq = 1; seq <= CHUNKS; seq++) {
        struct dshq_slot s;
        if ((rc = dshq_lane_claim(p, 10 * INT64_C(1000000000), &s)) != 0) {
            fprintf(stderr, "producer: claim: %s\n", rc > 0 ? "full" : dshq_strerror(rc));
            return 1;
        }
        struct dshq_chunk_view v;
        dshq_chunk_view(cl, s.data, &v); /* typed pointers into the slot */
        for (size_t i = 0; i < (size_t)T * E * OBS_DIM; i++)
            v.obs[i] = value_at(seq, i);
        for (size_t i = 0; i < (size_t)T * E; i++) {
            v.act[i] = (int32_t)((seq + i) % 5);
            v.rew[i] = value_at(seq, i) * 0.5f;
        }
        dshq_chunk_stamp(cl, s.data, 0, seq, 1);
        dshq_lane_commit(p);
    }
    dshq_lane_producer_close(p);
    dshq_region_detach(r);
    return 0;
}

int main(void)
{
    char name[64];
    snprintf(name, sizeof name, "dshq-example-%d", (int)getpid());
    struct dshq_chunk_layout cl;
    dshq_chunk_layout_init(&cl, T, E, OBS_DIM, 0);
    struct dshq_ring_params rp = {.slot_size = cl.bytes, .capacity = 4, .producers = 1,
                                  .policy = DSHQ_RING_BLOCK};
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_LANES, "rollouts", DSHQ_LANES_VERSION, dshq_lanes_size(&rp),
                    DSHQ_PAGE_ALIGN, cl.shape_hash);
    struct dshq_region *r;
    void *sec;
    uint64_t size;
    int rc = dshq_region_create(name, &l, 0, &r);
    if (rc == 0)
        rc = dshq_region_find(r, DSHQ_SECTION_LANES, "rollouts", cl.shape_hash, &sec, &size);
    if (rc == 0)
        rc = dshq_lanes_init(sec, size, &rp);
    if (rc == 0)
        rc = dshq_region_mark_ready(r);
    if (rc) {
        fprintf(stderr, "chunks: cannot make the region %s: %s\n", name, dshq_strerror(rc));
        return 1;
    }
    struct dshq_lane_consumer *c;
    if ((rc = dshq_lane_consumer_open(sec, size, &c))) {
        fprintf(stderr, "chunks: consumer: %s\n", dshq_strerror(rc));
        dshq_region_destroy(r);
        return 1;
    }
    fflush(stdout);
    pid_t child = fork();
    if (child == 0)
        _exit(produce(name, &cl)); /* attaches by name: a separate mapping */

    int bad = 0, got = 0;
    for (uint64_t seq = 1; seq <= CHUNKS && !bad; seq++) {
        struct dshq_slot s;
        if ((rc = dshq_lane_poll(c, 10 * INT64_C(1000000000), &s)) != 0) {
            fprintf(stderr, "chunks: poll: %s\n", rc > 0 ? "nothing within 10 s" : dshq_strerror(rc));
            bad = 1;
            break;
        }
        if (dshq_chunk_check(&cl, s.data, s.size) != 0 || dshq_chunk_hdr(s.data)->seq != seq) {
            fprintf(stderr, "chunks: chunk %llu: bad header\n", (unsigned long long)seq);
            bad = 1;
        }
        const float *obs = dshq_chunk_obs(&cl, s.data);
        const int32_t *act = dshq_chunk_act(&cl, s.data);
        const float *rew = dshq_chunk_rew(&cl, s.data);
        for (size_t i = 0; i < (size_t)T * E * OBS_DIM && !bad; i++)
            bad = obs[i] != value_at(seq, i);
        for (size_t i = 0; i < (size_t)T * E && !bad; i++)
            bad = act[i] != (int32_t)((seq + i) % 5) || rew[i] != value_at(seq, i) * 0.5f;
        if (bad)
            fprintf(stderr, "chunks: chunk %llu: wrong contents\n", (unsigned long long)seq);
        dshq_lane_release(c, &s);
        got += !bad;
    }
    int status = 0;
    waitpid(child, &status, 0);
    dshq_lane_consumer_close(c);
    dshq_region_destroy(r);
    int ok = !bad && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    printf("chunks: %d of %d chunks of %ux%ux%u read in place, every value checked: %s\n", got,
           CHUNKS, (unsigned)T, (unsigned)E, (unsigned)OBS_DIM, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
