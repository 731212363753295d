/* test_chunk_layout.c — the chunk offsets match the formulas of chunk.h and
 * docs/abi.md: a hand-computed case, a sweep of shapes (order, alignment, no
 * overlap, no waste beyond alignment), typed views, stamp/check and the
 * self-describing header, and refused shapes.  The formulas are READ from
 * the "Chunk layout" table of docs/abi.md (array order, offset and size
 * expressions, shapes and element types) and evaluated for every shape of
 * the sweep; the page's worked example is read and checked too. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "doc_text.h"
#include "dshq/chunk.h"
#include "dshq/error.h"
#include "dshq/hash.h"

static uint64_t a64(uint64_t x)
{
    return (x + 63) / 64 * 64;
}

static void hand_case(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 2, 3, 5, 0), 0);
    /* T=2 E=3 D=5: T*E = 6, T*E*D = 30 (worked out by hand). */
    CHECK_EQ_U64(l.off_obs, 64);         /* 64 + 120 = 184 */
    CHECK_EQ_U64(l.off_act, 192);        /* 192 + 24 = 216 */
    CHECK_EQ_U64(l.off_rew, 256);        /* 256 + 24 = 280 */
    CHECK_EQ_U64(l.off_done, 320);       /* 320 + 6 = 326 */
    CHECK_EQ_U64(l.off_trunc, 384);      /* 384 + 6 = 390 */
    CHECK_EQ_U64(l.off_logp, 448);       /* 448 + 24 = 472 */
    CHECK_EQ_U64(l.off_value, 512);       /* 512 + 24 = 536 */
    CHECK_EQ_U64(l.off_final_value, 576); /* 576 + 24 = 600 */
    CHECK_EQ_U64(l.off_boot_value, 640);  /* 640 + 12 = 652 */
    CHECK_EQ_U64(l.off_final_obs, 704);   /* 704 + 60 = 764 */
    CHECK_EQ_U64(l.bytes, 768);
    CHECK_EQ_U64(l.shape_hash,
                 dshq_shape_hash("chunk/v1;t=2;e=3;obs_dim=5;content=0000000000000000"));

    /* A typical rollout window: T=128 E=64 D=32. */
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 128, 64, 32, UINT64_C(0xabcdef)), 0);
    CHECK_EQ_U64(l.off_act, 1048640);
    CHECK_EQ_U64(l.off_rew, 1081408);
    CHECK_EQ_U64(l.off_done, 1114176);
    CHECK_EQ_U64(l.off_trunc, 1122368);
    CHECK_EQ_U64(l.off_logp, 1130560);
    CHECK_EQ_U64(l.off_value, 1163328);
    CHECK_EQ_U64(l.off_final_value, 1196096);
    CHECK_EQ_U64(l.off_boot_value, 1228864);
    CHECK_EQ_U64(l.off_final_obs, 1229120);
    CHECK_EQ_U64(l.bytes, 1237312);
    CHECK_EQ_U64(l.shape_hash,
                 dshq_shape_hash("chunk/v1;t=128;e=64;obs_dim=32;content=0000000000abcdef"));
}

/* ---- the Chunk layout table of docs/abi.md ------------------------------
 * | array | type | shape | offset | size |, offsets and sizes written with
 * T, E, D, array names (their offsets), numbers, "·" (times), "+", A(x) =
 * x rounded up to 64 and parentheses. */
enum { N_ARRAYS = 11 };
static const char *const array_names[N_ARRAYS] = {
    "header", "obs", "act", "rew", "done", "trunc", "logp", "value", "final_value", "boot_value",
    "final_obs"};
static char doc_off[N_ARRAYS][DOC_CELL_LEN], doc_bytes[DOC_CELL_LEN];

struct expr_env {
    const char *p;
    uint64_t T, E, D, off[N_ARRAYS];
};

static uint64_t expr_sum(struct expr_env *x);

static void expr_space(struct expr_env *x)
{
    while (*x->p == ' ')
        x->p++;
}

static uint64_t expr_factor(struct expr_env *x)
{
    expr_space(x);
    const char *p = x->p;
    if ((p[0] == 'A' || p[0] == 'P') && p[1] == '(') {
        uint64_t align = p[0] == 'A' ? 64 : 4096;
        x->p += 2;
        uint64_t v = expr_sum(x);
        expr_space(x);
        CHECK_MSG(*x->p == ')', "abi.md chunk formula: ')' expected at '%s'", x->p);
        x->p++;
        return (v + align - 1) / align * align;
    }
    if (*p == '(') {
        x->p++;
        uint64_t v = expr_sum(x);
        expr_space(x);
        CHECK_MSG(*x->p == ')', "abi.md chunk formula: ')' expected at '%s'", x->p);
        x->p++;
        return v;
    }
    if (*p >= '0' && *p <= '9')
        return strtoull(p, (char **)&x->p, 10);
    size_t n = 0;
    while ((p[n] >= 'a' && p[n] <= 'z') || (p[n] >= 'A' && p[n] <= 'Z') || p[n] == '_')
        n++;
    CHECK_MSG(n > 0, "abi.md chunk formula: cannot read '%s'", p);
    x->p += n;
    if (n == 1 && *p == 'T')
        return x->T;
    if (n == 1 && *p == 'E')
        return x->E;
    if (n == 1 && *p == 'D')
        return x->D;
    for (int i = 0; i < N_ARRAYS; i++)
        if (strlen(array_names[i]) == n && !strncmp(array_names[i], p, n))
            return x->off[i];
    CHECK_MSG(0, "abi.md chunk formula: unknown name '%.*s'", (int)n, p);
    return 0;
}

static uint64_t expr_product(struct expr_env *x)
{
    uint64_t v = expr_factor(x);
    for (;;) {
        expr_space(x);
        if (!strncmp(x->p, "\xc2\xb7", 2)) /* · */
            x->p += 2;
        else if (*x->p == '*')
            x->p++;
        else
            return v;
        v *= expr_factor(x);
    }
}

static uint64_t expr_sum(struct expr_env *x)
{
    uint64_t v = expr_product(x);
    for (;;) {
        expr_space(x);
        if (*x->p != '+')
            return v;
        x->p++;
        v += expr_product(x);
    }
}

static uint64_t expr_eval(const char *text, struct expr_env *x)
{
    x->p = text;
    uint64_t v = expr_sum(x);
    expr_space(x);
    CHECK_MSG(*x->p == 0, "abi.md chunk formula '%s': left over '%s'", text, x->p);
    return v;
}

/* Reads the table; checks its order, and that each size is its type's
 * element size times its shape. */
static void read_doc_formulas(void)
{
    char *md = doc_load("DSHQ_ABI_DOC", "docs/abi.md");
    doc_cells c;
    for (int i = 0; i < N_ARRAYS; i++) {
        CHECK_MSG(doc_row_n(md, "### Chunk layout", i, c) >= 5, "abi.md chunk table: row %d", i);
        CHECK_MSG(!strcmp(c[0], array_names[i]), "abi.md chunk table row %d is '%s', want '%s'",
                  i, c[0], array_names[i]);
        snprintf(doc_off[i], sizeof doc_off[i], "%s", c[3]);
        if (i == 0)
            continue;
        /* size == sizeof(type) x the shape's product, written the same way */
        int elem = !strcmp(c[1], "u8") ? 1 : (!strcmp(c[1], "f32") || !strcmp(c[1], "i32")) ? 4 : 0;
        CHECK_MSG(elem, "abi.md chunk table: %s has type '%s'", c[0], c[1]);
        char want[128] = "", *w = want;
        if (elem > 1)
            w += sprintf(w, "%d", elem);
        for (const char *p = c[2]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                w += sprintf(w, "%s%c", w == want ? "" : "\xc2\xb7", *p);
        CHECK_MSG(!strcmp(want, c[4]), "abi.md chunk table: %s is %s %s but its size says '%s'",
                  c[0], c[1], c[2], c[4]);
    }
    CHECK_MSG(doc_row_n(md, "### Chunk layout", N_ARRAYS, c) >= 4 &&
                  !strncmp(c[3], "bytes = ", 8),
              "abi.md chunk table: the last row gives 'bytes = ...'");
    snprintf(doc_bytes, sizeof doc_bytes, "%.200s", c[3] + 8);
    CHECK_MSG(doc_row_n(md, "### Chunk layout", N_ARRAYS + 1, c) == 0,
              "abi.md chunk table has rows this test does not know");

    /* The worked example: "T=2, E=3, D=5 gives obs 64, act 192, ..., bytes 768". */
    const char *ex = strstr(md, "T=2, E=3, D=5 gives ");
    CHECK_MSG(ex, "abi.md: the worked example T=2, E=3, D=5 is gone");
    ex += strlen("T=2, E=3, D=5 gives ");
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 2, 3, 5, 0), 0);
    const uint64_t got[N_ARRAYS + 1] = {0, l.off_obs, l.off_act, l.off_rew, l.off_done,
                                        l.off_trunc, l.off_logp, l.off_value, l.off_final_value,
                                        l.off_boot_value, l.off_final_obs, l.bytes};
    for (int i = 1; i <= N_ARRAYS; i++) {
        const char *name = i < N_ARRAYS ? array_names[i] : "bytes";
        while (*ex == ' ' || *ex == ',' || *ex == '\n')
            ex++;
        CHECK_MSG(!strncmp(ex, name, strlen(name)), "abi.md worked example: '%s' expected at '%.20s'",
                  name, ex);
        ex += strlen(name);
        char *end;
        uint64_t v = strtoull(ex, &end, 10);
        CHECK_MSG(end != ex && v == got[i], "abi.md worked example: %s %" PRIu64 ", the code %" PRIu64,
                  name, v, got[i]);
        ex = end;
    }
    free(md);
}

/* The offsets and size of layout L as the document's formulas give them. */
static void doc_offsets(uint32_t T, uint32_t E, uint32_t D, uint64_t off[N_ARRAYS],
                        uint64_t *bytes)
{
    struct expr_env x = {.T = T, .E = E, .D = D};
    for (int i = 0; i < N_ARRAYS; i++)
        off[i] = x.off[i] = expr_eval(doc_off[i], &x);
    *bytes = expr_eval(doc_bytes, &x);
}

/* Every shape: the formulas, and the properties they are meant to give. */
static void sweep(void)
{
    static const uint32_t dims[] = {1, 2, 3, 7, 8, 13, 16, 31, 64, 65, 100, 257};
    const size_t n = sizeof dims / sizeof dims[0];
    /* Big enough for the largest shape; never touched, so never resident. */
    unsigned char *base = aligned_alloc(64, UINT64_C(72) << 20);
    CHECK(base);
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
            for (size_t c = 0; c < n; c++) {
                uint32_t T = dims[a], E = dims[b], D = dims[c];
                uint64_t te = (uint64_t)T * E;
                struct dshq_chunk_layout l;
                CHECK_EQ_INT(dshq_chunk_layout_init(&l, T, E, D, 7), 0);
                CHECK(l.T == T && l.E == E && l.obs_dim == D && l.content_hash == 7);
                uint64_t off[11] = {0,          l.off_obs,   l.off_act,  l.off_rew,
                                    l.off_done, l.off_trunc, l.off_logp, l.off_value,
                                    l.off_final_value, l.off_boot_value, l.off_final_obs};
                uint64_t len[11] = {64,     4 * te * D, 4 * te,          4 * te,
                                    te,     te,         4 * te,          4 * te,
                                    4 * te, 4 * (uint64_t)E, 4 * (uint64_t)E * D};
                for (int i = 1; i < 11; i++) {
                    CHECK_EQ_U64(off[i] % 64, 0);
                    CHECK_EQ_U64(off[i], a64(off[i - 1] + len[i - 1])); /* the formula */
                }
                CHECK_EQ_U64(l.bytes, a64(off[10] + len[10]));
                CHECK_EQ_U64(l.bytes % 64, 0);
                /* ...and as docs/abi.md writes them. */
                uint64_t doff[N_ARRAYS], dbytes;
                doc_offsets(T, E, D, doff, &dbytes);
                for (int i = 0; i < N_ARRAYS; i++)
                    CHECK_MSG(off[i] == doff[i], "T=%u E=%u D=%u: %s at %" PRIu64
                              ", docs/abi.md says %" PRIu64, T, E, D, array_names[i], off[i], doff[i]);
                CHECK_MSG(l.bytes == dbytes, "T=%u E=%u D=%u: %" PRIu64 " bytes, docs/abi.md says %" PRIu64,
                          T, E, D, l.bytes, dbytes);

                /* Views point where the offsets say. */
                CHECK(l.bytes <= UINT64_C(72) << 20);
                struct dshq_chunk_view v;
                dshq_chunk_view(&l, base, &v);
                CHECK((unsigned char *)v.hdr == base);
                CHECK((unsigned char *)v.obs == base + l.off_obs);
                CHECK((unsigned char *)v.act == base + l.off_act);
                CHECK((unsigned char *)v.rew == base + l.off_rew);
                CHECK(v.done == base + l.off_done);
                CHECK(v.trunc == base + l.off_trunc);
                CHECK((unsigned char *)v.logp == base + l.off_logp);
                CHECK((unsigned char *)v.value == base + l.off_value);
                CHECK((unsigned char *)v.final_value == base + l.off_final_value);
                CHECK((unsigned char *)v.boot_value == base + l.off_boot_value);
                CHECK((unsigned char *)v.final_obs == base + l.off_final_obs);
                CHECK(dshq_chunk_obs(&l, base) == v.obs);
                CHECK(dshq_chunk_act(&l, base) == v.act);
                CHECK(dshq_chunk_rew(&l, base) == v.rew);
                CHECK(dshq_chunk_done(&l, base) == v.done);
                CHECK(dshq_chunk_trunc(&l, base) == v.trunc);
                CHECK(dshq_chunk_logp(&l, base) == v.logp);
                CHECK(dshq_chunk_value(&l, base) == v.value);
                CHECK(dshq_chunk_final_value(&l, base) == v.final_value);
                CHECK(dshq_chunk_boot_value(&l, base) == v.boot_value);
                CHECK(dshq_chunk_final_obs(&l, base) == v.final_obs);
                CHECK(dshq_chunk_hdr(base) == v.hdr);
            }
    free(base);
}

/* Writing every element through the view touches each byte of the arrays
 * exactly once and nothing of the header. */
static void coverage(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 5, 3, 7, 0), 0);
    unsigned char *buf = aligned_alloc(64, l.bytes);
    unsigned char *count = calloc(l.bytes, 1);
    CHECK(buf && count);
    memset(buf, 0, l.bytes);
    struct dshq_chunk_view v;
    dshq_chunk_view(&l, buf, &v);
#define MARK(ptr, n)                                                            \
    for (uint64_t i_ = 0; i_ < (uint64_t)(n) * sizeof *(ptr); i_++)             \
        count[(unsigned char *)(ptr) - buf + i_]++
    MARK(v.obs, 5 * 3 * 7);
    MARK(v.act, 5 * 3);
    MARK(v.rew, 5 * 3);
    MARK(v.done, 5 * 3);
    MARK(v.trunc, 5 * 3);
    MARK(v.logp, 5 * 3);
    MARK(v.value, 5 * 3);
    MARK(v.final_value, 5 * 3);
    MARK(v.boot_value, 3);
    MARK(v.final_obs, 3 * 7);
#undef MARK
    uint64_t used = 0;
    for (uint64_t i = 0; i < l.bytes; i++) {
        CHECK(count[i] <= 1);
        if (i < 64)
            CHECK_EQ_INT(count[i], 0);
        used += count[i];
    }
    CHECK_EQ_U64(used, 4 * 105 + 4 * 15 * 5 + 2 * 15 + 4 * 3 + 4 * 21);
    /* [t][e][k] indexing: the last obs element ends where obs ends. */
    CHECK((unsigned char *)&v.obs[(4 * 3 + 2) * 7 + 6] + 4 == buf + 64 + 4 * 105);
    free(buf);
    free(count);
}

static void stamp_and_check(void)
{
    struct dshq_chunk_layout l, m, back;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 4, 2, 3, 99), 0);
    unsigned char *c = aligned_alloc(64, l.bytes);
    CHECK(c);
    memset(c, 0xee, l.bytes);
    dshq_chunk_stamp(&l, c, 17, 12345, 678);
    const struct dshq_chunk_header *h = (const void *)c;
    CHECK_EQ_U64(h->magic, DSHQ_CHUNK_MAGIC);
    CHECK_EQ_INT(h->version, DSHQ_CHUNK_VERSION);
    CHECK_EQ_INT(h->header_size, 64);
    CHECK_EQ_INT(h->producer_id, 17);
    CHECK_EQ_U64(h->seq, 12345);
    CHECK_EQ_U64(h->policy_version, 678);
    CHECK_EQ_U64(h->shape_hash, l.shape_hash);
    CHECK_EQ_INT(h->T, 4);
    CHECK_EQ_INT(h->E, 2);
    CHECK_EQ_INT(h->obs_dim, 3);
    CHECK_EQ_U64(h->bytes, l.bytes);
    CHECK_EQ_U64(h->content_hash, 99);
    CHECK_EQ_INT(c[64], 0xee); /* the stamp wrote the header only */

    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes), 0);
    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes - 1), DSHQ_ECORRUPT); /* too short */
    CHECK_EQ_INT(dshq_chunk_check(&l, c, 63), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&m, 4, 2, 3, 98), 0); /* other content */
    CHECK_EQ_INT(dshq_chunk_check(&m, c, l.bytes), DSHQ_ESHAPE);
    CHECK_EQ_INT(dshq_chunk_layout_init(&m, 2, 4, 3, 99), 0); /* same size, other shape */
    CHECK_EQ_U64(m.bytes, l.bytes);
    CHECK_EQ_INT(dshq_chunk_check(&m, c, l.bytes), DSHQ_ESHAPE);

    /* A consumer that did not know the shape rebuilds it from the header. */
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, l.bytes), 0);
    CHECK(memcmp(&back, &l, sizeof l) == 0);
    ((struct dshq_chunk_header *)c)->T = 5; /* lies about its shape */
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, 1 << 20), DSHQ_ECORRUPT);
    ((struct dshq_chunk_header *)c)->T = 4;
    ((struct dshq_chunk_header *)c)->magic ^= 1;
    CHECK_EQ_INT(dshq_chunk_check(&l, c, l.bytes), DSHQ_ECORRUPT);
    CHECK_EQ_INT(dshq_chunk_layout_from_header(&back, c, l.bytes), DSHQ_ECORRUPT);
    free(c);
}

static void refused(void)
{
    struct dshq_chunk_layout l;
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 0, 1, 1, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1, 0, 1, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1, 1, 0, 0), -EINVAL);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, UINT32_MAX, UINT32_MAX, UINT32_MAX, 0), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1u << 20, 1u << 20, 1, 0), DSHQ_ELIMIT);
    CHECK_EQ_INT(dshq_chunk_layout_init(&l, 1u << 14, 1u << 14, 1u << 14, 0), DSHQ_ELIMIT);
    CHECK_EQ_U64(l.bytes, 0);
}

int main(void)
{
    read_doc_formulas();
    hand_case();
    sweep();
    coverage();
    stamp_and_check();
    refused();
    return 0;
}
