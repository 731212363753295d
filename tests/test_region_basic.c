/* Region life cycle in one process: layout, create, ready, attach, find,
 * detach, destroy; the anonymous variant; exclusive creation; names. */
#include <errno.h>
#include <sys/stat.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/region.h"

static void make_layout(struct dshq_layout *l)
{
    dshq_layout_init(l);
    CHECK_EQ_INT(dshq_layout_add(l, DSHQ_SECTION_RAW, "small", 1, 100, 64, dshq_shape_hash("a")), 0);
    CHECK_EQ_INT(dshq_layout_add(l, DSHQ_SECTION_RAW, "paged", 2, 5000, 4096, 0), 1);
    CHECK_EQ_INT(dshq_layout_add(l, DSHQ_SECTION_WEIGHTS, "w", 1, 64, 64, dshq_shape_hash("b")), 2);
}

static void check_sections(struct dshq_region *r)
{
    void *p1, *p2, *p3;
    uint64_t sz;
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "small", dshq_shape_hash("a"), &p1, &sz), 0);
    CHECK_EQ_U64(sz, 100);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "paged", 0, &p2, &sz), 0);
    CHECK_EQ_U64(sz, 5000);
    CHECK_EQ_INT(((uintptr_t)p2 - (uintptr_t)dshq_region_base(r)) % 4096, 0);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_WEIGHTS, "w", 0, &p3, NULL), 0);
    CHECK_EQ_INT(((uintptr_t)p1 - (uintptr_t)dshq_region_base(r)) % 64, 0);
    CHECK((char *)p1 + 100 <= (char *)p2 && (char *)p2 + 5000 <= (char *)p3);
    CHECK((char *)p3 + 64 <= (char *)dshq_region_base(r) + dshq_region_size(r));
    /* Wrong shape, wrong kind, wrong name. */
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "small", dshq_shape_hash("x"), &p1, NULL),
                 DSHQ_ESHAPE);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_LANES, "small", 0, &p1, NULL), DSHQ_ENOSECTION);
    CHECK_EQ_INT(dshq_region_find(r, DSHQ_SECTION_RAW, "nope", 0, &p1, NULL), DSHQ_ENOSECTION);
}

int main(void)
{
    char name[64];
    test_region_name(name, sizeof name, "basic");
    struct dshq_layout l;
    make_layout(&l);

    /* Bad layouts are refused and the error is sticky. */
    struct dshq_layout bad;
    dshq_layout_init(&bad);
    CHECK_EQ_INT(dshq_layout_add(&bad, 1, "x", 1, 64, 48, 0), -EINVAL);  /* align not pow2 */
    CHECK_EQ_INT(dshq_layout_add(&bad, 1, "y", 1, 64, 64, 0), -EINVAL);  /* sticky */
    dshq_layout_init(&bad);
    CHECK_EQ_INT(dshq_layout_add(&bad, 1, "x", 1, 0, 64, 0), -EINVAL);   /* empty */
    dshq_layout_init(&bad);
    CHECK_EQ_INT(dshq_layout_add(&bad, 1, "a-name-that-is-far-too-long", 1, 8, 64, 0), -EINVAL);
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_create(name, &bad, 0, &r), -EINVAL);
    dshq_layout_init(&bad);
    for (int i = 0; i < DSHQ_MAX_SECTIONS; i++)
        CHECK_EQ_INT(dshq_layout_add(&bad, 1, "s", 1, 8, 64, 0), i);
    CHECK_EQ_INT(dshq_layout_add(&bad, 1, "s", 1, 8, 64, 0), DSHQ_ELIMIT);

    /* Bad names. */
    CHECK_EQ_INT(dshq_region_create("a/b", &l, 0, &r), -EINVAL);
    CHECK_EQ_INT(dshq_region_create("", &l, 0, &r), -EINVAL);
    CHECK_EQ_INT(dshq_region_attach("dshq-test-does-not-exist", 0, 0, &r), -ENOENT);

    /* Create: file is 0600, sized, INIT until marked ready. */
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat st;
    CHECK_EQ_INT(stat(path, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_U64((uint64_t)st.st_size, dshq_region_size(r));
    CHECK_EQ_INT(dshq_region_size(r) % 4096, 0);
    struct dshq_region *a;
    CHECK_EQ_INT(dshq_region_attach(name, 0, 0, &a), DSHQ_ENOTREADY);
    /* Exclusive: a second create of the same name fails. */
    struct dshq_region *r2;
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r2), -EEXIST);
    /* ... even with REPLACE_STALE, because the creator (us) is alive. */
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    CHECK_EQ_INT(dshq_region_create(name, &l, DSHQ_CREATE_REPLACE_STALE, &r2), -EEXIST);

    check_sections(r);
    CHECK_EQ_INT(dshq_region_attach(name, 0, DSHQ_ABI_MINOR, &a), 0);
    check_sections(a);
    CHECK_EQ_INT(dshq_region_is_owner(a), 0);
    CHECK_EQ_INT(dshq_region_creator_state(a), DSHQ_CREATOR_ALIVE);
    const struct dshq_region_header *h = dshq_region_header(a);
    CHECK_EQ_INT(h->creator_pid, getpid());
    CHECK_EQ_INT(h->section_count, 3);
    CHECK_STR(h->name, name);
    /* A write through one mapping is seen through the other. */
    void *pr, *pa;
    dshq_region_find(r, DSHQ_SECTION_RAW, "paged", 0, &pr, NULL);
    dshq_region_find(a, DSHQ_SECTION_RAW, "paged", 0, &pa, NULL);
    CHECK(pr != pa);
    memset(pr, 0x5a, 5000);
    for (int i = 0; i < 5000; i++)
        CHECK_EQ_INT(((unsigned char *)pa)[i], 0x5a);
    /* Read-only attach maps the same bytes. */
    struct dshq_region *ro;
    CHECK_EQ_INT(dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &ro), 0);
    dshq_region_find(ro, DSHQ_SECTION_RAW, "paged", 0, &pa, NULL);
    CHECK_EQ_INT(((unsigned char *)pa)[4999], 0x5a);
    dshq_region_detach(ro);
    dshq_region_detach(a);
    dshq_region_destroy(r);
    CHECK_EQ_INT(stat(path, &st), -1);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK_EQ_INT(dshq_region_unlink(name), -ENOENT);

    /* Anonymous: same header and sections, validated the same way. */
    CHECK_EQ_INT(dshq_region_create_anon(&l, &r), 0);
    CHECK_EQ_INT(dshq_region_validate(dshq_region_base(r), dshq_region_size(r), 0), DSHQ_ENOTREADY);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    CHECK_EQ_INT(dshq_region_validate(dshq_region_base(r), dshq_region_size(r), 0), 0);
    check_sections(r);
    CHECK_STR(dshq_region_name(r), "");
    dshq_region_destroy(r);
    puts("region basic: ok");
    return 0;
}
