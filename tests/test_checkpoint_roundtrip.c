/* Checkpoints round-trip bit for bit: parameters of every finite float class
 * (-0, subnormals, the largest and smallest; NaN and infinities are refused
 * on save and on load: test_fault_checkpoint), with and without Adam state,
 * every counter of the metadata; saving over an existing file replaces it
 * atomically and leaves no temporary file behind; ckpt_read_meta reads the
 * header alone. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "run/checkpoint.h"
#include "check.h"

#define N 12345

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t next32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Any finite bit pattern (non-negative ones when nonneg: Adam's second
 * moments); non-finite patterns have their exponent cleared. */
static void fill_bits(float *v, size_t n, int nonneg)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = next32();
        if ((u & 0x7f800000u) == 0x7f800000u)
            u &= ~0x00800000u;
        if (nonneg)
            u &= 0x7fffffffu;
        memcpy(&v[i], &u, 4);
    }
    uint32_t special[] = {0x00000000u, 0x80000000u, 0x00000001u, 0x7f7fffffu,
                          0xff7fffffu, 0x00800000u, 0x80000001u};
    for (size_t i = 0; i < sizeof special / 4 && i < n; i++)
        if (!nonneg || !(special[i] >> 31))
            memcpy(&v[i], &special[i], 4);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    CHECK(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

int main(void)
{
    char dir[] = "/tmp/dshq-ckpt-XXXXXX";
    CHECK(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/policy.dshq", dir);

    static float p[N], m[N], v[N], p2[N], m2[N], v2[N];
    fill_bits(p, N, 0);
    fill_bits(m, N, 0);
    fill_bits(v, N, 1);
    struct ckpt_meta meta = {
        .shape_hash = 0x0123456789abcdefull,
        .param_count = N,
        .steps = 1ull << 40,
        .updates = 777,
        .env_steps = 123456789ull,
        .weights_version = 778,
        .adam_t = 776,
        .train_seconds = 299.75,
    };
    snprintf(meta.arch, sizeof meta.arch, "mlp-42-128-128-30+1-tanh");
    char err[512] = "";

    /* 1. With optimizer state. */
    CHECK_MSG(ckpt_save(path, &meta, p, m, v, err, sizeof err) == 0, "%s", err);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_U64(st.st_size, CKPT_HEADER_SIZE + 3 * 4 * N);
    memset(p2, 0xa5, sizeof p2);
    memset(m2, 0xa5, sizeof m2);
    memset(v2, 0xa5, sizeof v2);
    struct ckpt_meta got;
    CHECK_MSG(ckpt_load(path, meta.shape_hash, N, &got, p2, m2, v2, err, sizeof err) == 0,
              "%s", err);
    CHECK(memcmp(p, p2, sizeof p) == 0);
    CHECK(memcmp(m, m2, sizeof m) == 0);
    CHECK(memcmp(v, v2, sizeof v) == 0);
    CHECK_EQ_U64(got.shape_hash, meta.shape_hash);
    CHECK_EQ_U64(got.param_count, N);
    CHECK_EQ_U64(got.steps, meta.steps);
    CHECK_EQ_U64(got.updates, 777);
    CHECK_EQ_U64(got.env_steps, meta.env_steps);
    CHECK_EQ_U64(got.weights_version, 778);
    CHECK_EQ_U64(got.adam_t, 776);
    CHECK(got.train_seconds == 299.75);
    CHECK_EQ_INT(got.has_optimizer, 1);
    CHECK_STR(got.arch, "mlp-42-128-128-30+1-tanh");
    CHECK(got.created_unix_ns > 1600000000ull * 1000000000ull);
    /* Loading without asking for the optimizer state is fine too. */
    memset(p2, 0, sizeof p2);
    CHECK_EQ_INT(ckpt_load(path, meta.shape_hash, N, &got, p2, NULL, NULL, err, sizeof err), 0);
    CHECK(memcmp(p, p2, sizeof p) == 0);
    struct ckpt_meta hdr;
    CHECK_EQ_INT(ckpt_read_meta(path, &hdr, err, sizeof err), 0);
    CHECK_EQ_U64(hdr.param_count, N);
    CHECK_EQ_U64(hdr.updates, 777);
    CHECK_STR(hdr.arch, got.arch);

    /* 2. Without: saved over the old file, which is replaced whole. */
    fill_bits(p, N, 0);
    meta.updates = 900;
    meta.adam_t = 55; /* ignored without optimizer state: stored as 0 */
    CHECK_MSG(ckpt_save(path, &meta, p, NULL, NULL, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_U64(st.st_size, CKPT_HEADER_SIZE + 4 * N);
    memset(m2, 0x3c, sizeof m2);
    memcpy(v2, m2, sizeof v2);
    CHECK_EQ_INT(ckpt_load(path, meta.shape_hash, N, &got, p2, m2, v2, err, sizeof err), 0);
    CHECK(memcmp(p, p2, sizeof p) == 0);
    CHECK_EQ_INT(got.has_optimizer, 0);
    CHECK_EQ_U64(got.adam_t, 0);
    CHECK_EQ_U64(got.updates, 900);
    for (size_t i = 0; i < N; i++) /* untouched: the file has no optimizer state */
        CHECK(memcmp(&m2[i], &v2[i], 4) == 0);
    CHECK_EQ_INT(count_entries(dir), 1); /* no temporary left behind */

    /* 3. A tiny network (1 parameter) and a long architecture string, cut
     * to fit. */
    struct ckpt_meta one = meta;
    one.param_count = 1;
    memset(one.arch, 'x', sizeof one.arch); /* unterminated on purpose */
    float x = -0.0f, y = 1;
    CHECK_EQ_INT(ckpt_save(path, &one, &x, NULL, NULL, err, sizeof err), 0);
    CHECK_EQ_INT(ckpt_load(path, one.shape_hash, 1, &got, &y, NULL, NULL, err, sizeof err), 0);
    CHECK(signbit(y) && y == 0);
    CHECK_EQ_U64(strlen(got.arch), CKPT_ARCH_LEN - 1);

    /* 4. Bad arguments are refused before anything is written. */
    CHECK_EQ_INT(ckpt_save(path, &meta, p, m, NULL, err, sizeof err), CKPT_EINVAL);
    struct ckpt_meta zero = meta;
    zero.param_count = 0;
    CHECK_EQ_INT(ckpt_save(path, &zero, p, NULL, NULL, err, sizeof err), CKPT_EINVAL);
    char bad[300];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.dshq", dir);
    CHECK_EQ_INT(ckpt_save(bad, &meta, p, NULL, NULL, err, sizeof err), CKPT_EIO);
    CHECK(strstr(err, "No such file") != NULL);
    CHECK_EQ_INT(count_entries(dir), 1);

    unlink(path);
    rmdir(dir);
    puts("checkpoint round trip: ok");
    return 0;
}
