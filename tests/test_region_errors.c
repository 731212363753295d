/* Every way a region can be bad is refused by attach with its own error,
 * before anything else is read.  Each case starts from a good region and
 * breaks one thing through the creator's mapping (or the file). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "check.h"
#include "dshq/hash.h"
#include "dshq/region.h"

static char name[64];
static struct dshq_region *r;

static struct dshq_region_header *fresh(void)
{
    struct dshq_layout l;
    dshq_layout_init(&l);
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "one", 1, 256, 64, dshq_shape_hash("one"));
    dshq_layout_add(&l, DSHQ_SECTION_RAW, "two", 1, 3 * 4096, 64, 0); /* several pages */
    if (r)
        dshq_region_destroy(r);
    CHECK_EQ_INT(dshq_region_create(name, &l, 0, &r), 0);
    CHECK_EQ_INT(dshq_region_mark_ready(r), 0);
    return (struct dshq_region_header *)dshq_region_base(r);
}

static struct dshq_section *table(struct dshq_region_header *h)
{
    return (struct dshq_section *)((char *)h + h->table_offset);
}

static int attach_rc(uint16_t min_minor)
{
    struct dshq_region *a = NULL;
    int rc = dshq_region_attach(name, 0, min_minor, &a);
    if (rc == 0)
        dshq_region_detach(a);
    return rc;
}

static void resize_file(off_t size)
{
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    CHECK_EQ_INT(truncate(path, size), 0);
}

int main(void)
{
    test_region_name(name, sizeof name, "errors");
    struct dshq_region_header *h;

    h = fresh();
    CHECK_EQ_INT(attach_rc(0), 0);

    /* Not ready: state still INIT. */
    atomic_store(&h->state, DSHQ_REGION_INIT);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ENOTREADY);

    /* Bad magic, ready or not. */
    h = fresh();
    h->magic ^= 1;
    CHECK_EQ_INT(attach_rc(0), DSHQ_EMAGIC);
    atomic_store(&h->state, 0x12345678);
    CHECK_EQ_INT(attach_rc(0), DSHQ_EMAGIC);

    /* ABI major mismatch; minor too old for the caller. */
    h = fresh();
    h->abi_major = DSHQ_ABI_MAJOR + 1;
    CHECK_EQ_INT(attach_rc(0), DSHQ_EABIMAJOR);
    h = fresh();
    CHECK_EQ_INT(attach_rc(DSHQ_ABI_MINOR), 0);
    CHECK_EQ_INT(attach_rc(DSHQ_ABI_MINOR + 1), DSHQ_EABIMINOR);

    /* File size different from the recorded size: truncated, grown, tiny,
     * empty (empty = a creator that has not sized it yet). */
    h = fresh();
    uint64_t size = h->region_size;
    h->region_size += 4096;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESIZE);
    h = fresh();
    resize_file((off_t)size - 4096);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESIZE);
    h = fresh();
    resize_file((off_t)size + 4096);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESIZE);
    h = fresh();
    resize_file(100);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESIZE);
    h = fresh();
    resize_file(0);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ENOTREADY);

    /* Inconsistent header fields. */
    h = fresh();
    h->header_size = 64;
    CHECK_EQ_INT(attach_rc(0), DSHQ_EHEADER);
    h = fresh();
    h->section_count = DSHQ_MAX_SECTIONS + 1;
    CHECK_EQ_INT(attach_rc(0), DSHQ_EHEADER);
    h = fresh();
    h->section_entry_size = 32;
    CHECK_EQ_INT(attach_rc(0), DSHQ_EHEADER);
    h = fresh();
    memset(table(h)[0].name, 'x', DSHQ_SECTION_NAME_LEN); /* no NUL */
    CHECK_EQ_INT(attach_rc(0), DSHQ_EHEADER);

    /* Section table reaching past the end. */
    h = fresh();
    h->table_offset = (uint32_t)(h->region_size - 64);
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTBOUNDS);

    /* Section out of bounds: past the end, overflowing, inside the table. */
    h = fresh();
    table(h)[1].size = h->region_size;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTBOUNDS);
    h = fresh();
    table(h)[1].offset = UINT64_MAX - 63;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTBOUNDS);
    h = fresh();
    table(h)[0].offset = 0;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTBOUNDS);

    /* Misaligned. */
    h = fresh();
    table(h)[1].offset += 8;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTALIGN);

    /* Overlapping. */
    h = fresh();
    table(h)[1].offset = table(h)[0].offset + 64;
    CHECK_EQ_INT(attach_rc(0), DSHQ_ESECTOVERLAP);

    /* Shape-hash mismatch where the caller gives one. */
    h = fresh();
    struct dshq_region *a;
    CHECK_EQ_INT(dshq_region_attach(name, 0, 0, &a), 0);
    void *p;
    CHECK_EQ_INT(dshq_region_find(a, DSHQ_SECTION_RAW, "one", dshq_shape_hash("one"), &p, NULL), 0);
    CHECK_EQ_INT(dshq_region_find(a, DSHQ_SECTION_RAW, "one", dshq_shape_hash("two"), &p, NULL),
                 DSHQ_ESHAPE);
    dshq_region_detach(a);

    /* A region owned by another user is refused (needs root to chown). */
    h = fresh();
    if (geteuid() == 0) {
        char path[128];
        snprintf(path, sizeof path, "/dev/shm/%s", name);
        CHECK_EQ_INT(chown(path, 65534, 65534), 0);
        CHECK_EQ_INT(attach_rc(0), DSHQ_EOWNER);
        CHECK_EQ_INT(chown(path, 0, 0), 0);
        CHECK_EQ_INT(attach_rc(0), 0);
    } else {
        check_skip_part("a region owned by another user (needs root to give the file away)");
    }

    /* Error texts are distinct. */
    int codes[] = {DSHQ_ENOTREADY, DSHQ_EMAGIC,      DSHQ_EABIMAJOR,  DSHQ_EABIMINOR,
                   DSHQ_ESIZE,     DSHQ_EHEADER,     DSHQ_ESECTBOUNDS, DSHQ_ESECTOVERLAP,
                   DSHQ_ESECTALIGN, DSHQ_ESHAPE,     DSHQ_EOWNER};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = i + 1; j < sizeof codes / sizeof codes[0]; j++)
            CHECK(strcmp(dshq_strerror(codes[i]), dshq_strerror(codes[j])) != 0);

    dshq_region_destroy(r);
    puts("region errors: ok");
    return 0;
}
