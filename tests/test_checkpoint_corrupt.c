/* Every damaged checkpoint is refused with its own error, and the caller's
 * arrays are left untouched:
 *   truncated at every byte offset           -> CKPT_ETRUNC
 *   every header byte flipped                -> EMAGIC (0-7), EVERSION (8-11),
 *                                               EHEADERCRC (12-255)
 *   every body byte flipped                  -> CKPT_ECRC
 *   a byte appended                          -> CKPT_ETRAILING
 *   headers with a valid CRC but inconsistent fields -> CKPT_EHEADER
 *   other version / magic / shape / count    -> EVERSION / EMAGIC / ESHAPE / ECOUNT
 *   missing file, a directory                -> CKPT_EIO */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>

#include "run/checkpoint.h"
#include "check.h"

#define N 100
#define SHAPE 0x5eed5eed5eed5eedull

static char g_path[256];
static unsigned char g_good[CKPT_HEADER_SIZE + 3 * 4 * N];
static size_t g_good_len;
static float g_sentinel[N];

static void write_file(const unsigned char *b, size_t len)
{
    /* A new file each time: truncating one that has data makes ext4 flush
     * it on close (auto_da_alloc), thousands of times here. */
    unlink(g_path);
    FILE *f = fopen(g_path, "wb");
    CHECK(f);
    CHECK_EQ_U64(fwrite(b, 1, len, f), len);
    CHECK_EQ_INT(fclose(f), 0);
}

/* Loads g_path and checks the result code; the arrays must stay untouched
 * on failure and the message must name the file. */
static void expect(int want, const char *what, long where)
{
    static float p[N], m[N], v[N];
    memcpy(p, g_sentinel, sizeof p);
    memcpy(m, g_sentinel, sizeof m);
    memcpy(v, g_sentinel, sizeof v);
    char err[512] = "";
    struct ckpt_meta meta;
    int rc = ckpt_load(g_path, SHAPE, N, &meta, p, m, v, err, sizeof err);
    CHECK_MSG(rc == want, "%s at %ld: got %d (%s: %s), want %d (%s)", what, where, rc,
              ckpt_strerror(rc), err, want, ckpt_strerror(want));
    if (want != 0) {
        CHECK_MSG(strstr(err, g_path) != NULL, "message without the path: %s", err);
        CHECK(memcmp(p, g_sentinel, sizeof p) == 0);
        CHECK(memcmp(m, g_sentinel, sizeof m) == 0);
        CHECK(memcmp(v, g_sentinel, sizeof v) == 0);
    }
}

static void put32(unsigned char *p, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}
static void put64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(x >> (8 * i));
}

/* A copy of the good file with a header patch and a recomputed header CRC. */
static unsigned char g_tmp[sizeof g_good];
static unsigned char *patched(void)
{
    memcpy(g_tmp, g_good, g_good_len);
    return g_tmp;
}
static void reseal_and_expect(int want, const char *what)
{
    put32(g_tmp + 252, (uint32_t)crc32(0L, g_tmp, 252));
    write_file(g_tmp, g_good_len);
    expect(want, what, -1);
}

int main(void)
{
    char dir[] = "/tmp/dshq-ckptbad-XXXXXX";
    CHECK(mkdtemp(dir));
    snprintf(g_path, sizeof g_path, "%s/c.dshq", dir);
    for (int i = 0; i < N; i++)
        g_sentinel[i] = -1234.5f;

    float p[N], m[N], v[N];
    for (int i = 0; i < N; i++) {
        p[i] = (float)i * 0.25f - 3;
        m[i] = (float)i * 1e-3f;
        v[i] = (float)i * 1e-6f;
    }
    struct ckpt_meta meta = {.shape_hash = SHAPE, .param_count = N, .updates = 5, .adam_t = 5};
    snprintf(meta.arch, sizeof meta.arch, "test-arch");
    char err[512];
    CHECK_MSG(ckpt_save(g_path, &meta, p, m, v, err, sizeof err) == 0, "%s", err);
    FILE *f = fopen(g_path, "rb");
    CHECK(f);
    g_good_len = fread(g_good, 1, sizeof g_good, f);
    fclose(f);
    CHECK_EQ_U64(g_good_len, sizeof g_good);
    expect(0, "good file", 0);
    CHECK(memcmp(g_good, CKPT_MAGIC, 8) == 0);

    /* Truncated at every offset. */
    for (size_t len = 0; len < g_good_len; len++) {
        write_file(g_good, len);
        expect(CKPT_ETRUNC, "truncated", (long)len);
    }
    /* ckpt_read_meta notices a short body too. */
    write_file(g_good, g_good_len - 1);
    CHECK_EQ_INT(ckpt_read_meta(g_path, &meta, err, sizeof err), CKPT_ETRUNC);

    /* One byte appended. */
    memcpy(g_tmp, g_good, g_good_len);
    write_file(g_tmp, g_good_len);
    f = fopen(g_path, "ab");
    CHECK(f);
    fputc(0, f);
    fclose(f);
    expect(CKPT_ETRAILING, "appended", (long)g_good_len);

    /* Every header byte flipped (each of a few bit masks). */
    static const unsigned char masks[] = {0x01, 0x80, 0xff};
    for (size_t i = 0; i < CKPT_HEADER_SIZE; i++)
        for (size_t k = 0; k < sizeof masks; k++) {
            unsigned char *b = patched();
            b[i] ^= masks[k];
            write_file(b, g_good_len);
            int want = i < 8 ? CKPT_EMAGIC : i < 12 ? CKPT_EVERSION : CKPT_EHEADERCRC;
            expect(want, "header byte flipped", (long)i);
        }
    /* Every body byte flipped. */
    for (size_t i = CKPT_HEADER_SIZE; i < g_good_len; i++) {
        unsigned char *b = patched();
        b[i] ^= (unsigned char)(1u << (i % 8));
        write_file(b, g_good_len);
        expect(CKPT_ECRC, "body byte flipped", (long)i);
    }

    /* Wrong magic, wrong versions (older and newer). */
    memcpy(patched(), "NOTACKPT", 8);
    write_file(g_tmp, g_good_len);
    expect(CKPT_EMAGIC, "magic", 0);
    put32(patched() + 8, 2);
    reseal_and_expect(CKPT_EVERSION, "version 2");
    put32(patched() + 8, 0);
    reseal_and_expect(CKPT_EVERSION, "version 0");

    /* Valid header CRC, inconsistent fields. */
    put32(patched() + 12, 512);
    reseal_and_expect(CKPT_EHEADER, "header size");
    put32(patched() + 88, 3);
    reseal_and_expect(CKPT_EHEADER, "unknown flag");
    put64(patched() + 24, 0);
    reseal_and_expect(CKPT_EHEADER, "zero parameters");
    put64(patched() + 24, 1ull << 40);
    reseal_and_expect(CKPT_EHEADER, "absurd parameter count");
    put64(patched() + 96, 3 * 4 * N + 4);
    reseal_and_expect(CKPT_EHEADER, "body size");
    put32(patched() + 88, 0); /* no optimizer: body size and adam_t disagree */
    reseal_and_expect(CKPT_EHEADER, "flags vs body size");
    memset(patched() + 104, 0, 128);
    reseal_and_expect(CKPT_EHEADER, "empty architecture");
    memset(patched() + 104, 'x', 128);
    reseal_and_expect(CKPT_EHEADER, "unterminated architecture");
    patched()[240] = 1;
    reseal_and_expect(CKPT_EHEADER, "reserved byte");

    /* A consistent file for another network, or another size. */
    put64(patched() + 16, SHAPE ^ 1);
    reseal_and_expect(CKPT_ESHAPE, "shape");
    write_file(g_good, g_good_len);
    {
        float q[N + 1];
        struct ckpt_meta mm;
        CHECK_EQ_INT(ckpt_load(g_path, SHAPE, N + 1, &mm, q, NULL, NULL, err, sizeof err),
                     CKPT_ECOUNT);
        CHECK(strstr(err, "100 parameters") != NULL);
        CHECK_EQ_INT(ckpt_load(g_path, SHAPE ^ 1, N, &mm, q, NULL, NULL, err, sizeof err),
                     CKPT_ESHAPE);
        CHECK(strstr(err, "test-arch") != NULL);
    }

    /* Not there, not a file. */
    unlink(g_path);
    expect(CKPT_EIO, "missing", 0);
    CHECK_EQ_INT(mkdir(g_path, 0700), 0);
    expect(CKPT_EIO, "directory", 0);
    rmdir(g_path);
    rmdir(dir);
    puts("checkpoint corruption: every case refused with its error");
    return 0;
}
