/* test_fault_checkpoint — checkpoints as untrusted files and saves under
 * faults (docs/reliability.md):
 *   valid CRCs around hostile values (Adam step 2^63, a NaN or negative
 *   training time, a NaN parameter, an infinite first moment, a negative
 *   second moment)                               -> CKPT_EVALUE, arrays untouched
 *   a save of NaN parameters                     -> refused, previous file intact
 *   a stale PATH.tmp-PID-K from a killed save     -> removed by the next save
 *   a save killed mid-write (SIGKILL in a child) -> previous file intact, loads
 *   a save on a "full disk" (RLIMIT_FSIZE)       -> fails, previous file intact,
 *                                                   no temp file left */
#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "run/checkpoint.h"
#include "check.h"

#define N 1000
#define SHAPE 0x5eed5eed5eed5eedull
#define H_ADAM_T 64
#define H_TRAIN_SECONDS 80
#define H_BODY_CRC 92
#define H_HEADER_CRC 252

static char g_dir[128], g_path[256];

static size_t read_file(const char *path, unsigned char **out)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = malloc((size_t)n);
    CHECK(*out && fread(*out, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    return (size_t)n;
}

static void write_file(const char *path, const unsigned char *b, size_t len)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(b, 1, len, f) == len);
    CHECK_EQ_INT(fclose(f), 0);
}

/* Recomputes both CRCs, so the loader reaches the values behind them. */
static void fix_crcs(unsigned char *b, size_t len)
{
    uint32_t bc = (uint32_t)crc32(0, b + CKPT_HEADER_SIZE, (uInt)(len - CKPT_HEADER_SIZE));
    memcpy(b + H_BODY_CRC, &bc, 4);
    uint32_t hc = (uint32_t)crc32(0, b, H_HEADER_CRC);
    memcpy(b + H_HEADER_CRC, &hc, 4);
}

static float p0[N], m0[N], v0[N];

static void save_good(const char *path)
{
    struct ckpt_meta *m = calloc(1, sizeof *m);
    m->shape_hash = SHAPE;
    m->param_count = N;
    m->adam_t = 77;
    m->train_seconds = 12.5;
    m->updates = 7;
    snprintf(m->arch, sizeof m->arch, "mlp-test");
    char err[256];
    CHECK_MSG(ckpt_save(path, m, p0, m0, v0, err, sizeof err) == 0, "%s", err);
    free(m);
}

static int load(const char *path, float *p, char *err, size_t errlen)
{
    static float m[N], v[N];
    struct ckpt_meta *meta = malloc(sizeof *meta);
    int rc = ckpt_load(path, SHAPE, N, meta, p, m, v, err, errlen);
    free(meta);
    return rc;
}

static void hostile(const char *what, size_t off, const void *val, size_t vlen)
{
    unsigned char *b;
    size_t len = read_file(g_path, &b);
    memcpy(b + off, val, vlen);
    fix_crcs(b, len);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/hostile.dshq", g_dir);
    write_file(bad, b, len);
    float p[N];
    for (int i = 0; i < N; i++)
        p[i] = -1234.5f;
    char err[512];
    int rc = load(bad, p, err, sizeof err);
    CHECK_MSG(rc == CKPT_EVALUE, "%s: got %d (%s)", what, rc, err);
    for (int i = 0; i < N; i++)
        CHECK_MSG(p[i] == -1234.5f, "%s: the caller's array was written", what);
    free(b);
    unlink(bad);
}

static int count_temps(void)
{
    DIR *d = opendir(g_dir);
    CHECK(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strstr(e->d_name, ".tmp-") != NULL;
    closedir(d);
    return n;
}

static void expect_previous(const char *what)
{
    float p[N];
    char err[512];
    int rc = load(g_path, p, err, sizeof err);
    CHECK_MSG(rc == 0, "%s: the previous checkpoint does not load: %s", what, err);
    for (int i = 0; i < N; i++)
        CHECK_MSG(p[i] == p0[i], "%s: parameter %d changed", what, i);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/dshq-test-fault-ckpt-%d", (int)getpid());
    CHECK_EQ_INT(mkdir(g_dir, 0700), 0);
    snprintf(g_path, sizeof g_path, "%s/run.dshq", g_dir);
    for (int i = 0; i < N; i++) {
        p0[i] = 0.001f * (float)(i - N / 2);
        m0[i] = 0.0001f * (float)i;
        v0[i] = 0.00001f * (float)i;
    }
    save_good(g_path);
    expect_previous("good file");

    /* Valid CRCs, hostile values. */
    uint64_t t63 = UINT64_C(1) << 63;
    hostile("adam_t 2^63", H_ADAM_T, &t63, 8);
    double dn = NAN, neg = -5.0, inf = INFINITY;
    hostile("NaN training time", H_TRAIN_SECONDS, &dn, 8);
    hostile("negative training time", H_TRAIN_SECONDS, &neg, 8);
    hostile("infinite training time", H_TRAIN_SECONDS, &inf, 8);
    float fn = NAN, fi = INFINITY, fneg = -1.0f;
    hostile("NaN parameter", CKPT_HEADER_SIZE + 4 * 17, &fn, 4);
    hostile("infinite first moment", CKPT_HEADER_SIZE + 4 * (N + 3), &fi, 4);
    hostile("negative second moment", CKPT_HEADER_SIZE + 4 * (2 * N + 5), &fneg, 4);

    /* Saving NaN parameters is refused; the previous file stays. */
    {
        struct ckpt_meta *m = calloc(1, sizeof *m);
        m->shape_hash = SHAPE;
        m->param_count = N;
        snprintf(m->arch, sizeof m->arch, "mlp-test");
        float bad[N];
        memcpy(bad, p0, sizeof bad);
        bad[N - 1] = NAN;
        char err[256];
        CHECK_EQ_INT(ckpt_save(g_path, m, bad, NULL, NULL, err, sizeof err), CKPT_EVALUE);
        free(m);
        expect_previous("NaN save refused");
    }

    /* A stale temp file of a dead save is removed by the next save. */
    {
        char stale[400];
        snprintf(stale, sizeof stale, "%s.tmp-999999-3", g_path);
        write_file(stale, (const unsigned char *)"partial", 7);
        CHECK_EQ_INT(count_temps(), 1);
        save_good(g_path);
        CHECK_EQ_INT(count_temps(), 0);
        CHECK(access(stale, F_OK) != 0);
    }

    /* Killed mid-write: a child saves a large file in a loop and is killed;
     * whatever instant it died at, the file at g_path loads and is one of
     * the complete versions. */
    for (int round = 0; round < 5; round++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            for (;;)
                save_good(g_path);
        }
        /* No timing assumption: the parent waits for the child to have
         * written some temp file or to have saved at least once, any order. */
        struct timespec ts = {0, 2000000 * (round + 1)};
        nanosleep(&ts, NULL);
        CHECK_EQ_INT(kill(pid, SIGKILL), 0);
        int st;
        CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
        expect_previous("killed mid-write");
    }
    save_good(g_path); /* removes what the killed child left */
    CHECK_EQ_INT(count_temps(), 0);

    /* A full disk: the file-size limit makes write() fail with EFBIG. */
    {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {4096, 4096};
            setrlimit(RLIMIT_FSIZE, &rl);
            struct ckpt_meta *m = calloc(1, sizeof *m);
            m->shape_hash = SHAPE;
            m->param_count = N;
            snprintf(m->arch, sizeof m->arch, "mlp-test");
            float other[N];
            for (int i = 0; i < N; i++)
                other[i] = 1.0f;
            char err[256];
            int rc = ckpt_save(g_path, m, other, m0, v0, err, sizeof err);
            _exit(rc == CKPT_EIO ? 0 : 1);
        }
        int st;
        CHECK_EQ_INT(waitpid(pid, &st, 0), pid);
        CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the full-disk save did not fail");
        expect_previous("full disk");
        CHECK_EQ_INT(count_temps(), 0);
    }

    unlink(g_path);
    rmdir(g_dir);
    puts("fault checkpoint: ok");
    return 0;
}
