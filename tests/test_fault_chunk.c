/* test_fault_chunk — chunks are untrusted input (docs/reliability.md):
 *   run_chunk_validate refuses each damage with its own reason: bad magic,
 *     version, header size, byte count; another T/E/obs_dim/hash; a producer
 *     id that is no worker; action indices -1, n_actions, 2^30; done/trunc 2;
 *     NaN, infinite and huge floats in every array; a positive log-prob
 *   run_chunk_verify catches one flipped bit anywhere in the chunk
 *   rl_ppo_update refuses an out-of-range action (-ERANGE) before indexing
 *   run_ppo_update_checked undoes a non-finite update (lr = inf, NaN) exactly
 *   whole runs (threads) with a hostile worker, in verify mode and not: the
 *     trainer refuses and counts against that worker only, never crashes,
 *     its parameters stay finite and it keeps updating. */
#include <math.h>

#include "rl/env.h"
#include "rl/ppo.h"
#include "run/chunk_rollout.h"
#include "run_threads.h"

#define CT 8
#define CE 4
#define W 3

static struct dshq_chunk_layout L;
static unsigned char *good, *c;

static void fill_good(void)
{
    struct rl_rollout_buf b = run_chunk_buf(&L, good);
    for (int i = 0; i < CT * CE * BD_OBS_DIM; i++)
        b.obs[i] = 0.01f * (float)(i % 97) - 0.3f;
    for (int i = 0; i < CT * CE; i++) {
        b.act[i] = i % BD_NUM_ACTIONS;
        b.rew[i] = (i % 5) * 0.1f - 0.2f;
        b.done[i] = i % 7 == 0;
        b.trunc[i] = 0;
        b.logp[i] = -3.4f;
        b.value[i] = 0.25f;
        b.final_value[i] = 0;
    }
    for (int e = 0; e < CE; e++)
        b.bootstrap_value[e] = 0.1f;
    for (int i = 0; i < CE * BD_OBS_DIM; i++)
        b.bootstrap_obs[i] = 0.2f;
    dshq_chunk_stamp(&L, good, 1, 42, 5);
    run_chunk_seal(&L, good);
}

static int check_copy(void)
{
    struct dshq_chunk_header h;
    return run_chunk_validate(&L, c, L.bytes + RUN_CHUNK_TRAILER, W, BD_NUM_ACTIONS, &h);
}

#define RESET() memcpy(c, good, L.bytes + RUN_CHUNK_TRAILER)
#define EXPECT(fault, what)                                                                     \
    do {                                                                                        \
        int got_ = check_copy();                                                                \
        CHECK_MSG(got_ == (fault), "%s: got %s, want %s", what, run_chunk_fault_name(got_),     \
                  run_chunk_fault_name(fault));                                                 \
    } while (0)

static void put_f32(uint64_t off, float x) { memcpy(c + off, &x, 4); }
static void put_i32(uint64_t off, int32_t x) { memcpy(c + off, &x, 4); }

static void validate_cases(void)
{
    RESET();
    EXPECT(RUN_CHUNK_OK, "good chunk");
    CHECK_EQ_INT(run_chunk_verify(&L, c, L.bytes + RUN_CHUNK_TRAILER), RUN_CHUNK_OK);
    struct dshq_chunk_header *h = (struct dshq_chunk_header *)c;
    RESET(); h->magic ^= 1; EXPECT(RUN_CHUNK_EHEADER, "magic");
    RESET(); h->version = 9; EXPECT(RUN_CHUNK_EHEADER, "version");
    RESET(); h->header_size = 32; EXPECT(RUN_CHUNK_EHEADER, "header size");
    RESET(); h->bytes = UINT64_MAX; EXPECT(RUN_CHUNK_EHEADER, "bytes huge");
    RESET(); h->bytes = 64; EXPECT(RUN_CHUNK_EHEADER, "bytes small");
    RESET(); h->T = 1u << 31; EXPECT(RUN_CHUNK_ESHAPE, "T huge");
    RESET(); h->E = CE + 1; EXPECT(RUN_CHUNK_ESHAPE, "E");
    RESET(); h->obs_dim = 0; EXPECT(RUN_CHUNK_ESHAPE, "obs_dim");
    RESET(); h->shape_hash ^= 1; EXPECT(RUN_CHUNK_ESHAPE, "shape hash");
    RESET(); h->content_hash ^= 1; EXPECT(RUN_CHUNK_ESHAPE, "content hash");
    RESET(); h->producer_id = W; EXPECT(RUN_CHUNK_EPRODUCER, "producer = workers");
    RESET(); h->producer_id = UINT32_MAX; EXPECT(RUN_CHUNK_EPRODUCER, "producer huge");
    const int32_t bad_act[] = {-1, BD_NUM_ACTIONS, 1 << 30, INT32_MIN};
    for (size_t k = 0; k < sizeof bad_act / sizeof bad_act[0]; k++)
        for (int i = 0; i < CT * CE; i += 5) {
            RESET();
            put_i32(L.off_act + 4 * (uint64_t)i, bad_act[k]);
            EXPECT(RUN_CHUNK_EACTION, "action");
        }
    RESET(); c[L.off_done + 3] = 2; EXPECT(RUN_CHUNK_EFLAG, "done 2");
    RESET(); c[L.off_trunc + CT * CE - 1] = 255; EXPECT(RUN_CHUNK_EFLAG, "trunc 255");
    const float bad_f[] = {NAN, -NAN, INFINITY, -INFINITY, 1e30f, -3e38f, 2e6f};
    const struct { uint64_t off, n; const char *name; } arr[] = {
        {L.off_obs, (uint64_t)CT * CE * BD_OBS_DIM, "obs"}, {L.off_rew, CT * CE, "rew"},
        {L.off_logp, CT * CE, "logp"}, {L.off_value, CT * CE, "value"},
        {L.off_final_value, CT * CE, "final_value"}, {L.off_boot_value, CE, "boot_value"},
        {L.off_final_obs, (uint64_t)CE * BD_OBS_DIM, "final_obs"}};
    for (size_t a = 0; a < sizeof arr / sizeof arr[0]; a++)
        for (size_t k = 0; k < sizeof bad_f / sizeof bad_f[0]; k++) {
            RESET();
            put_f32(arr[a].off + 4 * ((k * 13) % arr[a].n), bad_f[k]);
            EXPECT(RUN_CHUNK_EFLOAT, arr[a].name);
        }
    RESET(); put_f32(L.off_logp, 0.5f); EXPECT(RUN_CHUNK_EFLOAT, "positive log-prob");
    /* Too few readable bytes. */
    RESET();
    struct dshq_chunk_header hh;
    CHECK_EQ_INT(run_chunk_validate(&L, c, L.bytes - 1, W, BD_NUM_ACTIONS, &hh), RUN_CHUNK_EHEADER);
    CHECK_EQ_INT(run_chunk_validate(&L, c, 10, W, BD_NUM_ACTIONS, &hh), RUN_CHUNK_EHEADER);

    /* The seal: one flipped bit anywhere in the chunk (header included) or
     * in the trailer is caught. */
    for (uint64_t i = 0; i < L.bytes + 32; i += 1 + i / 64) {
        RESET();
        c[i] ^= (unsigned char)(1u << (i % 8));
        CHECK_MSG(run_chunk_verify(&L, c, L.bytes + RUN_CHUNK_TRAILER) == RUN_CHUNK_ECHECKSUM,
                  "bit flip at byte %llu not caught", (unsigned long long)i);
    }
    RESET();
    CHECK_EQ_INT(run_chunk_verify(&L, c, L.bytes + RUN_CHUNK_TRAILER - 1), RUN_CHUNK_ECHECKSUM);
}

static int all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return 0;
    return 1;
}

static void ppo_cases(void)
{
    struct rl_mlp net;
    int hid[1] = {16};
    CHECK_EQ_INT(rl_mlp_init(&net, BD_OBS_DIM, BD_NUM_ACTIONS, hid, 1), 0);
    struct rl_ppo_config pc;
    rl_ppo_config_default(&pc);
    struct rl_ppo ppo;
    CHECK_EQ_INT(rl_ppo_init(&ppo, &net, &pc, 7), 0);
    size_t np = (size_t)net.n_params;
    float *before = malloc(np * sizeof(float)), *backup = malloc(3 * np * sizeof(float));
    CHECK(before && backup);
    memcpy(before, ppo.params, np * sizeof(float));

    /* An out-of-range action reaches PPO only through a race; it is
     * refused there, before the loss indexes with it. */
    RESET();
    put_i32(L.off_act + 4 * 9, 1 << 30);
    struct rl_rollout_view v = run_chunk_view(&L, c);
    struct rl_ppo_stats st;
    CHECK_EQ_INT(rl_ppo_update(&ppo, &v, 1, 1e-3f, &st), -ERANGE);
    CHECK(memcmp(before, ppo.params, np * sizeof(float)) == 0);
    put_i32(L.off_act + 4 * 9, -1);
    CHECK_EQ_INT(run_ppo_update_checked(&ppo, &v, 1, 1e-3f, &st, backup), 2);
    CHECK(memcmp(before, ppo.params, np * sizeof(float)) == 0);

    /* A non-finite step is undone exactly: parameters, moments, counters. */
    RESET();
    v = run_chunk_view(&L, c);
    const float bad_lr[] = {INFINITY, NAN};
    for (int k = 0; k < 2; k++) {
        int64_t t0 = ppo.adam.t, u0 = ppo.updates;
        CHECK_EQ_INT(run_ppo_update_checked(&ppo, &v, 1, bad_lr[k], &st, backup), 1);
        CHECK(memcmp(before, ppo.params, np * sizeof(float)) == 0);
        CHECK(ppo.adam.t == t0 && ppo.updates == u0);
        CHECK(all_finite(ppo.adam.m, np) && all_finite(ppo.adam.v, np));
    }
    /* And a good one goes through. */
    CHECK_EQ_INT(run_ppo_update_checked(&ppo, &v, 1, 1e-3f, &st, backup), 0);
    CHECK(memcmp(before, ppo.params, np * sizeof(float)) != 0);
    CHECK(all_finite(ppo.params, np));
    rl_ppo_free(&ppo);
    free(before);
    free(backup);
}

/* A whole run with worker 1 hostile (every chunk damaged).  verify: the
 * trainer checksums copies.  The trainer must end its budget normally. */
static void hostile_run(uint32_t transport, int verify)
{
    struct run_config cfg;
    run_config_default(&cfg);
    cfg.workers = 3;
    cfg.envs = 4;
    cfg.horizon = 8;
    cfg.hidden = 16;
    cfg.layers = 1;
    cfg.updates = 0;
    cfg.seconds = 100000; /* the test stops it once enough happened */
    cfg.max_lag = 1000;
    cfg.transport = transport;
    run_worker_set_hostile(UINT64_C(1) << 1, 1);
    struct trainer_opts to = {.verify_chunks = verify, .max_bad_updates = 1000};
    static struct run run;
    static struct run_threads rt;
    CHECK_EQ_INT(run_create(&run, NULL, &cfg, NULL), 0);
    run_threads_start(&run, &rt, &to, 0);
    const struct run_faults *f = &run.blk->faults;
    /* Until the trainer refused at least 10 chunks and made 12 updates
     * (a generous deadline; polled, not slept on). */
    struct timespec t0, now, nap = {0, 10000000};
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct metrics mm;
        int ok = dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &mm, sizeof mm, NULL) == (int)sizeof mm;
        if (ok && mm.updates >= 12 &&
            atomic_load_explicit(&f->chunks_refused, memory_order_relaxed) >= 10)
            break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        CHECK_MSG(now.tv_sec - t0.tv_sec < 300, "no progress within 300 s");
        CHECK_MSG(!atomic_load_explicit(&rt.th[0].done, memory_order_acquire),
                  "the trainer ended early (rc %d)", rt.th[0].rc);
        nanosleep(&nap, NULL);
    }
    run_stop(run.blk);
    run_threads_finish(&run, &rt, 300, 0);
    run_worker_set_hostile(0, 1);
    uint64_t refused = atomic_load_explicit(&f->chunks_refused, memory_order_relaxed);
    uint64_t r1 = atomic_load_explicit(&f->refused[1], memory_order_relaxed);
    uint64_t unk = atomic_load_explicit(&f->refused_unknown, memory_order_relaxed);
    CHECK_MSG(refused > 0, "nothing refused (transport %u verify %d)", transport, verify);
    CHECK_EQ_U64(refused, r1 + unk + atomic_load_explicit(&f->refused[0], memory_order_relaxed) +
                              atomic_load_explicit(&f->refused[2], memory_order_relaxed));
    if (transport == RUN_TRANSPORT_LANES) {
        /* Only worker 1 wrote bad chunks, and only into its own lane. */
        CHECK_EQ_U64(atomic_load_explicit(&f->refused[0], memory_order_relaxed), 0);
        CHECK_EQ_U64(atomic_load_explicit(&f->refused[2], memory_order_relaxed), 0);
    }
    if (verify) {
        CHECK(atomic_load_explicit(&f->chunks_verified, memory_order_relaxed) > 0);
        /* Nothing damaged gets past a checksum over the private copy. */
        CHECK_EQ_U64(atomic_load_explicit(&f->updates_skipped, memory_order_relaxed), 0);
    }
    struct metrics m;
    CHECK_EQ_INT(dshq_telemetry_read(run.telemetry_mem, run.telemetry_size, metrics_shape_hash(),
                                     &m, sizeof m, NULL),
                 (int)sizeof m);
    CHECK(m.updates >= 12);
    CHECK(isfinite(m.policy_loss) && isfinite(m.value_loss));
    CHECK_EQ_U64(atomic_load_explicit(&f->failed, memory_order_relaxed), 0);
    /* The published policy is finite. */
    float *p = rl_mlp_alloc(&run.net);
    struct dshq_weights *wch;
    CHECK_EQ_INT(dshq_weights_open(run.weights_mem, run.weights_size, &wch), 0);
    CHECK_EQ_INT(dshq_weights_copy_out(wch, run.net.shape_hash, p, run.net.n_params, NULL), 0);
    dshq_weights_close(wch);
    CHECK(all_finite(p, (size_t)run.net.n_params));
    free(p);
    printf("hostile run (%s, verify %d): refused %llu (worker 1: %llu), skipped %llu\n",
           transport == RUN_TRANSPORT_MPSC ? "mpsc" : "lanes", verify,
           (unsigned long long)refused, (unsigned long long)r1,
           (unsigned long long)atomic_load_explicit(&f->updates_skipped, memory_order_relaxed));
    run_destroy(&run);
}

int main(void)
{
    CHECK_EQ_INT(dshq_chunk_layout_init(&L, CT, CE, BD_OBS_DIM, bd_spec_hash()), 0);
    good = aligned_alloc(64, L.bytes + RUN_CHUNK_TRAILER);
    c = aligned_alloc(64, L.bytes + RUN_CHUNK_TRAILER);
    CHECK(good && c);
    memset(good, 0, L.bytes + RUN_CHUNK_TRAILER);
    fill_good();
    validate_cases();
    ppo_cases();
    hostile_run(RUN_TRANSPORT_LANES, 1);
    hostile_run(RUN_TRANSPORT_LANES, 0);
    hostile_run(RUN_TRANSPORT_MPSC, 1);
    hostile_run(RUN_TRANSPORT_MPSC, 0);
    free(good);
    free(c);
    puts("fault chunk: ok");
    return 0;
}
