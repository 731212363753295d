/* The metrics blob: its field table covers struct metrics byte for byte, in
 * offset order; its shape hash is the hash of the canonical string built
 * from the table in docs/abi.md; the JSON line holds every field with its exact value (null for
 * NaN); and a struct metrics travels through the telemetry block intact. */
#include <math.h>
#include <stdlib.h>

#include "run/metrics.h"
#include "check.h"
#include "doc_text.h"
#include "dshq/hash.h"
#include "dshq/telemetry.h"

int main(void)
{
    /* 1. The table tiles the struct: no gap, no overlap, every byte. */
    size_t at = 0;
    for (size_t i = 0; i < metrics_field_count; i++) {
        CHECK_EQ_U64(metrics_fields[i].offset, at);
        at += 8;
    }
    CHECK_EQ_U64(at, sizeof(struct metrics));
    CHECK_EQ_U64(offsetof(struct metrics, clip), 216);
    CHECK_STR(metrics_fields[metrics_field_count - 1].name, "clip");

    /* 2. Shape hash = hash of the canonical string, built from the table in
     * docs/abi.md (not from the code's own field table): the version and
     * size from the section, then name:type@offset of every documented row. */
    char *md = doc_load("DSHQ_ABI_DOC", "docs/abi.md");
    const char *sec = doc_section(md, "### struct metrics (");
    CHECK_MSG(sec != NULL, "docs/abi.md has no '### struct metrics (' section");
    unsigned doc_size = 0, doc_ver = 0;
    CHECK_EQ_INT(sscanf(sec, "### struct metrics (%u bytes)", &doc_size), 1);
    const char *tag = strstr(sec, "`metrics/v");
    CHECK(tag != NULL);
    CHECK_EQ_INT(sscanf(tag, "`metrics/v%u;", &doc_ver), 1);
    char canon[2048];
    size_t n = (size_t)snprintf(canon, sizeof canon, "metrics/v%u;size=%u", doc_ver, doc_size);
    doc_cells cells;
    int rows = 0;
    for (int r = 0; doc_row_n(md, "### struct metrics (", r, cells) >= 4; r++, rows++) {
        CHECK_MSG(!strncmp(cells[3], "u64", 3) || !strncmp(cells[3], "f64", 3),
                  "docs/abi.md metrics row %d: type '%s' is neither u64 nor f64", r, cells[3]);
        n += (size_t)snprintf(canon + n, sizeof canon - n, ";%s:%.3s@%s", cells[2], cells[3],
                              cells[0]);
        CHECK(n < sizeof canon);
    }
    CHECK_EQ_INT(rows, (int)metrics_field_count);
    CHECK_EQ_U64(doc_size, sizeof(struct metrics));
    CHECK_MSG(metrics_shape_hash() == dshq_shape_hash(canon),
              "the code's metrics shape hash is not the hash of the layout docs/abi.md gives: %s",
              canon);
    free(md);

    /* 3. JSON line. */
    struct metrics m;
    metrics_init(&m);
    CHECK_EQ_U64(m.steps, 0);
    CHECK(isnan(m.mean_return) && isnan(m.clip));
    m.steps = 123456789012ull;
    m.updates = 42;
    m.wall_s = 12.5;
    m.mean_return = -0.25;
    m.score_ema = 0.875;
    m.learning_rate = 3e-4;
    m.policy_lag_max = 3;
    m.steps_per_s = INFINITY; /* not finite: null as well */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f);
    CHECK_EQ_INT(metrics_write_jsonl(f, &m), 0);
    CHECK_EQ_INT(metrics_write_jsonl(f, &m), 0);
    fclose(f);
    CHECK(len > 0 && buf[len - 1] == '\n');
    char *nl = strchr(buf, '\n');
    CHECK(nl == buf + len / 2 - 1); /* two identical lines */
    *nl = 0;
    CHECK(buf[0] == '{' && nl[-1] == '}');
    CHECK(strstr(buf, "{\"steps\":123456789012,\"updates\":42,") == buf);
    CHECK(strstr(buf, "\"wall_s\":12.5,") != NULL);
    CHECK(strstr(buf, "\"mean_return\":-0.25,") != NULL);
    CHECK(strstr(buf, "\"score_ema\":0.875,") != NULL);
    CHECK(strstr(buf, "\"learning_rate\":0.0003,") != NULL);
    CHECK(strstr(buf, "\"policy_lag_max\":3,") != NULL);
    CHECK(strstr(buf, "\"steps_per_s\":null,") != NULL);
    CHECK(strstr(buf, "\"clip\":null}") != NULL);
    int keys = 0;
    for (char *p = buf; (p = strchr(p, ':')) != NULL; p++)
        keys++;
    CHECK_EQ_INT(keys, (int)metrics_field_count);
    free(buf);
    CHECK_NEAR(metrics_get(&m, 0), 123456789012.0, 0);
    CHECK_STR(metrics_role_name(METRICS_ROLE_WORKER), "worker");
    CHECK_STR(metrics_opponent_name(METRICS_OPP_SCRIPTED), "scripted");

    /* 4. Through the telemetry block, bit for bit, refused under another shape. */
    uint64_t size = dshq_telemetry_bytes(sizeof m, 4);
    void *mem = aligned_alloc(64, size);
    CHECK(mem);
    CHECK_EQ_INT(dshq_telemetry_init(mem, size, sizeof m, 4), 0);
    struct dshq_telemetry *t;
    CHECK_EQ_INT(dshq_telemetry_attach(mem, size, DSHQ_TELEMETRY_WRITER, &t), 0);
    CHECK_EQ_INT(dshq_telemetry_publish(t, metrics_shape_hash(), &m, sizeof m), 0);
    struct metrics back;
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, metrics_shape_hash(), &back, sizeof back, NULL),
                 (int)sizeof m);
    CHECK(memcmp(&back, &m, sizeof m) == 0);
    CHECK_EQ_INT(dshq_telemetry_read(mem, size, metrics_shape_hash() ^ 1, &back, sizeof back,
                                     NULL), DSHQ_ESHAPE);
    dshq_telemetry_detach(t);
    free(mem);
    puts("telemetry metrics: ok");
    return 0;
}
