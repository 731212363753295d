/* dshq_region_attach against a header that changes under it: a child
 * process flips section_count (2 <-> 200) and table_offset (valid <-> far
 * beyond the region) in the shared header as fast as it can while the
 * parent attaches thousands of times.  Every attach must either refuse
 * (DSHQ_EHEADER / DSHQ_ESECTBOUNDS) or return a handle whose section table
 * is the one that was validated: 2 sections with their names.  Before the
 * fix, attach validated a private copy of the header and then re-read
 * section_count and table_offset from the shared mapping: a heap buffer
 * overflow (ASan: WRITE in region.c) or a table of 200 entries.
 *
 * REGION_ATTACH_RACE_ROUNDS (default 4000) sets how many attaches. */
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "dshq/error.h"
#include "dshq/region.h"

static void flipper(const char *name)
{
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_attach(name, 0, 0, &r), 0);
    struct dshq_region_header *h = dshq_region_base(r);
    volatile uint32_t *count = &h->section_count;
    volatile uint32_t *table = &h->table_offset;
    uint32_t good_count = *count, good_table = *table;
    pid_t parent = getppid();
    for (uint64_t i = 0;; i++) {
        *count = (i & 1) ? 200 : good_count;
        *table = (i & 2) ? good_table + (1u << 30) : good_table;
        if ((i & 0xfffff) == 0 && getppid() != parent) {
            /* The parent is gone (it crashed: the bug): remove its region. */
            dshq_region_unlink(name);
            _exit(0);
        }
    }
}

int main(void)
{
    const char *env = getenv("REGION_ATTACH_RACE_ROUNDS");
    long rounds = env ? atol(env) : 4000;
    char name[64];
    test_region_name(name, sizeof name, "attachrace");
    struct dshq_layout l;
    dshq_layout_init(&l);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_RAW, "alpha", 1, 256, 64, 0) >= 0);
    CHECK(dshq_layout_add(&l, DSHQ_SECTION_RAW, "beta", 1, 256, 64, 0) >= 0);
    struct dshq_region *owner;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &owner), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(owner), 0);
    pid_t k = fork();
    CHECK(k >= 0);
    if (k == 0)
        flipper(name);
    long ok = 0, refused = 0, wrong = 0;
    for (long i = 0; i < rounds; i++) {
        struct dshq_region *r;
        int rc = dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &r);
        if (rc == DSHQ_EHEADER || rc == DSHQ_ESECTBOUNDS) {
            refused++;
            continue;
        }
        if (rc != 0) {
            wrong++;
            fprintf(stderr, "attach: unexpected %d\n", rc);
            continue;
        }
        uint32_t n;
        const struct dshq_section *s = dshq_region_sections(r, &n);
        if (n != 2 || strcmp(s[0].name, "alpha") || strcmp(s[1].name, "beta"))
            wrong++;
        void *p;
        uint64_t size;
        if (dshq_region_find(r, DSHQ_SECTION_RAW, "beta", 0, &p, &size) != 0 || size != 256)
            wrong++;
        dshq_region_detach(r);
        ok++;
    }
    kill(k, SIGKILL);
    int st;
    CHECK_EQ_INT(waitpid(k, &st, 0), k);
    dshq_region_destroy(owner);
    printf("attach race: %ld attached, %ld refused, %ld wrong\n", ok, refused, wrong);
    CHECK_EQ_INT(wrong, 0);
    CHECK(ok + refused == rounds);
    return 0;
}
