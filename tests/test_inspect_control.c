/* 'dshq inspect' shows the control plane: the mailbox's counters (posted,
 * consumed, unknown types and versions, refused when full, dead posters) and
 * the telemetry block's decoded metrics and heartbeat table, with a live and
 * a dead process told apart; a snapshot of another layout is named, not
 * decoded.  Checked through inspect_region's JSON, on a real named region
 * attached read-only as the tool does. */
#include <errno.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "cli/inspect.h"
#include "run/metrics.h"
#include "check.h"
#include "dshq/mailbox.h"
#include "dshq/region.h"
#include "dshq/telemetry.h"

static char *inspect_json(const char *name)
{
    struct dshq_region *ro;
    CHECK_EQ_INT(dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &ro), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK(f);
    struct report rep;
    report_init(&rep, f, 1);
    inspect_region(&rep, ro);
    fclose(f);
    dshq_region_detach(ro);
    return buf;
}

/* The JSON object that directly encloses position AT of DOC: [*start, *end).
 * Braces inside strings (with their escapes) do not count. */
static void enclosing_object(const char *doc, const char *at, const char **start,
                             const char **end)
{
    const char *stack[64];
    int depth = 0, in_str = 0;
    *start = *end = NULL;
    for (const char *p = doc; *p; p++) {
        if (p == at) {
            CHECK_MSG(depth > 0 && !in_str, "anchor outside any object");
            *start = stack[depth - 1];
        }
        if (in_str) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '{') {
            CHECK(depth < 64);
            stack[depth++] = p;
        } else if (*p == '}') {
            CHECK(depth > 0);
            depth--;
            if (*start && stack[depth] == *start) {
                *end = p + 1;
                return;
            }
        }
    }
    CHECK_MSG(0, "unterminated JSON object");
}

/* "key":value text inside the object that holds ANCHOR (its nested objects
 * included), never in a neighbouring object. */
static void expect_field(const char *doc, const char *anchor, const char *key_value)
{
    const char *a = strstr(doc, anchor);
    CHECK_MSG(a != NULL, "no %s in:\n%s", anchor, doc);
    const char *s, *e;
    enclosing_object(doc, a, &s, &e);
    size_t n = (size_t)(e - s), k = strlen(key_value);
    int found = 0;
    for (size_t i = 0; i + k <= n && !found; i++)
        found = !memcmp(s + i, key_value, k);
    CHECK_MSG(found, "no %s in the object holding %s in:\n%.*s", key_value, anchor, (int)n, s);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "insp");
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_MAILBOX, "control", DSHQ_MAILBOX_VERSION,
                          dshq_mailbox_bytes(4), 64, dshq_mailbox_shape_hash()) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_TELEMETRY, "telemetry", DSHQ_TELEMETRY_VERSION,
                          dshq_telemetry_bytes(sizeof(struct metrics), 8), 64,
                          dshq_telemetry_shape_hash()) >= 0);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    void *mb_mem, *tm_mem;
    uint64_t mb_size, tm_size;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_MAILBOX, "control", 0, &mb_mem, &mb_size), 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_TELEMETRY, "telemetry", 0, &tm_mem, &tm_size),
                 0);
    CHECK_EQ_INT(dshq_mailbox_init(mb_mem, mb_size, 4), 0);
    CHECK_EQ_INT(dshq_telemetry_init(tm_mem, tm_size, sizeof(struct metrics), 8), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);

    char *doc = inspect_json(name);
    expect_field(doc, "\"kind\":\"telemetry\"", "\"snapshot\":\"none published yet\"");
    free(doc);

    /* Mailbox: 3 posted (1 unknown type, 1 unknown version), 1 refused. */
    struct dshq_mailbox *p, *c;
    CHECK_EQ_INT(dshq_mailbox_attach(mb_mem, mb_size, 0, &p), 0);
    CHECK_EQ_INT(dshq_mailbox_attach(mb_mem, mb_size, DSHQ_MAILBOX_CONSUMER, &c), 0);
    CHECK_EQ_INT(dshq_mailbox_post(p, DSHQ_MSG_STOP, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_post(p, 4242, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_post(p, DSHQ_MSG_RESET, 7, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_post(p, DSHQ_MSG_RESET, 1, NULL, 0), 0);
    CHECK_EQ_INT(dshq_mailbox_post(p, DSHQ_MSG_RESET, 1, NULL, 0), DSHQ_MAILBOX_FULL);
    static const struct dshq_msg_kind known[] = {{DSHQ_MSG_STOP, 1}, {DSHQ_MSG_RESET, 1}};
    struct dshq_msg m;
    CHECK_EQ_INT(dshq_mailbox_consume(c, known, 2, &m), DSHQ_MAILBOX_MSG);
    CHECK_EQ_INT(dshq_mailbox_consume(c, known, 2, &m), DSHQ_MAILBOX_MSG);

    /* Telemetry: a metrics snapshot, our heartbeat, and a dead worker's. */
    struct dshq_telemetry *t;
    CHECK_EQ_INT(dshq_telemetry_attach(tm_mem, tm_size, DSHQ_TELEMETRY_WRITER, &t), 0);
    struct metrics mt;
    metrics_init(&mt);
    mt.steps = 987654;
    mt.weights_version = 321;
    mt.score_ema = 0.75;
    mt.opponent = METRICS_OPP_SCRIPTED;
    CHECK_EQ_INT(dshq_telemetry_publish(t, metrics_shape_hash(), &mt, sizeof mt), 0);
    CHECK_EQ_INT(dshq_telemetry_register(t, METRICS_ROLE_TRAINER, 0), 0);
    pid_t k = fork();
    CHECK(k >= 0);
    if (k == 0) {
        struct dshq_telemetry *tc;
        CHECK_EQ_INT(dshq_telemetry_attach(tm_mem, tm_size, 0, &tc), 0);
        CHECK_EQ_INT(dshq_telemetry_register(tc, METRICS_ROLE_WORKER, 3), 1);
        _exit(0);
    }
    int st;
    CHECK_EQ_INT(waitpid(k, &st, 0), k);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

    doc = inspect_json(name);
    const char *mbox = "\"kind\":\"mailbox\"";
    expect_field(doc, mbox, "\"posted\":4");
    expect_field(doc, mbox, "\"consumed\":2");
    expect_field(doc, mbox, "\"unknown_type\":1");
    expect_field(doc, mbox, "\"unknown_version\":1");
    expect_field(doc, mbox, "\"refused_full\":1");
    expect_field(doc, mbox, "\"dead_poster_skipped\":0");
    expect_field(doc, mbox, "\"consumer\":\"alive\"");
    const char *tele = "\"kind\":\"telemetry\"";
    expect_field(doc, tele, "\"publications\":1");
    expect_field(doc, tele, "\"steps\":987654");
    expect_field(doc, tele, "\"weights_version\":321");
    expect_field(doc, tele, "\"score_ema\":0.75");
    expect_field(doc, tele, "\"opponent\":\"scripted\"");
    expect_field(doc, tele, "\"mean_return\":\"n/a\"");
    expect_field(doc, tele, "\"role\":\"trainer\"");
    expect_field(doc, "\"role\":\"trainer\"", "\"state\":\"alive\"");
    expect_field(doc, "\"role\":\"worker\"", "\"index\":3");
    expect_field(doc, "\"role\":\"worker\"", "\"state\":\"dead\"");
    free(doc);

    /* Another layout in the blob: named, not decoded. */
    CHECK_EQ_INT(dshq_telemetry_publish(t, 0x1111, "abc", 3), 0);
    doc = inspect_json(name);
    expect_field(doc, tele, "another layout");
    expect_field(doc, tele, "\"snapshot_shape_hash\":\"0x");
    CHECK(strstr(doc, "\"steps\":") == NULL);
    free(doc);

    dshq_telemetry_detach(t);
    dshq_mailbox_detach(c);
    dshq_mailbox_detach(p);
    dshq_region_destroy(r);
    puts("inspect control: ok");
    return 0;
}
