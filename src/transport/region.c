/* region.c — create, attach, validate and destroy self-describing regions.
 *
 * Publication protocol of a region (see dshq/region.h and docs/abi.md):
 *
 *   creator                                   attacher
 *   -------                                   --------
 *   shm_open(O_CREAT|O_EXCL, 0600)            shm_open(O_RDWR or O_RDONLY)
 *   ftruncate + posix_fallocate(size)         fstat: owner, size
 *   mmap; write header and section table      mmap(file size)
 *   channels initialize their sections        state = load(acquire)    (A1)
 *   state = READY, store(release)    (C1)     validate every other field
 *
 * A1 pairs with C1: an attacher that sees READY also sees every byte the
 * creator wrote before it.  The header is then immutable except heartbeat_ns.
 * The attacher keeps a private copy of the validated section table, so later
 * writes to the shared table cannot move a section under its feet. */
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dshq/region.h"
#include "dshq/wait.h"

struct dshq_region {
    unsigned char *base;
    uint64_t size;
    int owner;    /* created by this handle */
    int readonly;
    uint32_t section_count;
    struct dshq_section sections[DSHQ_MAX_SECTIONS]; /* validated private copy */
    char name[256];
};

/* ---------------------------------------------------------------- layout */

void dshq_layout_init(struct dshq_layout *l)
{
    memset(l, 0, sizeof *l);
}

static int name_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n > 0 && n < cap;
}

int dshq_layout_add(struct dshq_layout *l, uint32_t kind, const char *name,
                    uint32_t version, uint64_t size, uint32_t align,
                    uint64_t shape_hash)
{
    int rc = 0;
    if (l->error)
        return l->error;
    if (l->count >= DSHQ_MAX_SECTIONS)
        rc = DSHQ_ELIMIT;
    else if (!name || !name_ok(name, DSHQ_SECTION_NAME_LEN) || size == 0 ||
             align < DSHQ_SECTION_ALIGN || (align & (align - 1)) ||
             size > (UINT64_C(1) << 46))
        rc = -EINVAL;
    if (rc) {
        l->error = rc;
        return rc;
    }
    struct dshq_section *s = &l->sections[l->count];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->version = version;
    s->size = size;
    s->shape_hash = shape_hash;
    memcpy(s->name, name, strlen(name));
    l->align[l->count] = align;
    return (int)l->count++;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* Assigns offsets; returns the total region size. */
static uint64_t layout_place(const struct dshq_layout *l, struct dshq_section *out)
{
    uint64_t at = sizeof(struct dshq_region_header) +
                  (uint64_t)l->count * sizeof(struct dshq_section);
    for (uint32_t i = 0; i < l->count; i++) {
        out[i] = l->sections[i];
        at = align_up(at, l->align[i]);
        out[i].offset = at;
        at += out[i].size;
    }
    return align_up(at, DSHQ_PAGE_ALIGN);
}

/* ------------------------------------------------------------ liveness */

/* Reads /proc/PID/stat once: the process state letter and its start time
 * (clock ticks since boot).  Returns 0, or -1 when the process is gone or
 * the file cannot be parsed. */
static int proc_stat(int32_t pid, char *state, uint64_t *start_ticks)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    /* Field 2 (comm) may hold spaces and ')': skip past the LAST ')'. */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return -1;
    *state = p[2]; /* field 3 */
    /* starttime is field 22: count the separators from field 2's end. */
    int field = 2;
    for (; *p && field < 22; p++)
        if (*p == ' ')
            field++;
    *start_ticks = strtoull(p, NULL, 10);
    return 0;
}

uint64_t dshq_process_start_ticks(int32_t pid)
{
    char st;
    uint64_t ticks;
    return proc_stat(pid, &st, &ticks) == 0 ? ticks : 0;
}

int dshq_process_alive(int32_t pid, uint64_t start_ticks)
{
    if (pid <= 0)
        return DSHQ_CREATOR_DEAD;
    if (kill(pid, 0) != 0 && errno == ESRCH)
        return DSHQ_CREATOR_DEAD;
    char st;
    uint64_t now;
    if (proc_stat(pid, &st, &now) != 0)
        return DSHQ_CREATOR_ALIVE; /* kill() says it exists; /proc unreadable */
    if (st == 'Z' || st == 'X')
        return DSHQ_CREATOR_DEAD; /* killed, not yet reaped */
    if (start_ticks && now && now != start_ticks)
        return DSHQ_CREATOR_DEAD; /* the pid was reused */
    return DSHQ_CREATOR_ALIVE;
}

/* -------------------------------------------------------------- create */

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void header_fill(struct dshq_region *r, const struct dshq_section *secs,
                        uint32_t count, const char *name)
{
    struct dshq_region_header *h = (struct dshq_region_header *)r->base;
    h->magic = DSHQ_REGION_MAGIC;
    h->abi_major = DSHQ_ABI_MAJOR;
    h->abi_minor = DSHQ_ABI_MINOR;
    h->header_size = sizeof *h;
    h->region_size = r->size;
    h->section_count = count;
    h->table_offset = sizeof *h;
    h->section_entry_size = sizeof(struct dshq_section);
    h->creator_pid = (int32_t)getpid();
    h->creator_uid = (uint32_t)geteuid();
    h->creator_start_ticks = dshq_process_start_ticks(h->creator_pid);
    h->created_unix_ns = realtime_ns();
    /* Relaxed: not yet published; C1 orders it. */
    atomic_store_explicit(&h->heartbeat_ns, dshq_now_ns(), memory_order_relaxed);
    snprintf(h->name, sizeof h->name, "%s", name);
    memcpy(r->base + h->table_offset, secs, count * sizeof *secs);
    memcpy(r->sections, secs, count * sizeof *secs);
    r->section_count = count;
}

/* A region name, as POSIX shm_open takes it: one leading '/' is accepted
 * and dropped ("/run-1" and "run-1" name the same region); no other '/'. */
static const char *shm_name(const char *name)
{
    return name && name[0] == '/' ? name + 1 : name;
}

static int check_shm_name(const char *name)
{
    if (!name || !name_ok(name, DSHQ_REGION_NAME_LEN) || strchr(name, '/') ||
        name[0] == '.')
        return -EINVAL;
    return 0;
}

static int region_creator_dead(const char *name)
{
    struct dshq_region *old;
    int rc = dshq_region_attach(name, DSHQ_ATTACH_RDONLY, 0, &old);
    if (rc == 0) {
        int dead = dshq_region_creator_state(old) == DSHQ_CREATOR_DEAD;
        dshq_region_detach(old);
        return dead;
    }
    return 0; /* unreadable or foreign: never replaced automatically */
}

int dshq_region_create(const char *name, const struct dshq_layout *l,
                       unsigned flags, struct dshq_region **out)
{
    name = shm_name(name);
    int rc = check_shm_name(name);
    if (rc)
        return rc;
    if (l->error)
        return l->error;
    struct dshq_region *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    struct dshq_section secs[DSHQ_MAX_SECTIONS];
    r->size = layout_place(l, secs);
    snprintf(r->name, sizeof r->name, "%s", name);
    r->owner = 1;

    char path[DSHQ_REGION_NAME_LEN + 2];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && (flags & DSHQ_CREATE_REPLACE_STALE) &&
        region_creator_dead(name)) {
        shm_unlink(path);
        fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    }
    if (fd < 0) {
        rc = -errno;
        free(r);
        return rc;
    }
    /* 0600 regardless of umask: only this user may map the region. */
    if (fchmod(fd, 0600) != 0 || ftruncate(fd, (off_t)r->size) != 0) {
        rc = -errno;
        goto fail_unlink;
    }
    /* Reserve every page now: a full /dev/shm fails here with ENOSPC
     * instead of raising SIGBUS on first touch later. */
    rc = posix_fallocate(fd, 0, (off_t)r->size);
    if (rc) {
        rc = -rc;
        goto fail_unlink;
    }
    r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (r->base == MAP_FAILED) {
        rc = -errno;
        goto fail_unlink;
    }
    close(fd);
    header_fill(r, secs, l->count, name);
    *out = r;
    return 0;

fail_unlink:
    close(fd);
    shm_unlink(path);
    free(r);
    return rc;
}

int dshq_region_create_anon(const struct dshq_layout *l, struct dshq_region **out)
{
    if (l->error)
        return l->error;
    struct dshq_region *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    struct dshq_section secs[DSHQ_MAX_SECTIONS];
    r->size = layout_place(l, secs);
    r->owner = 1;
    r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (r->base == MAP_FAILED) {
        int rc = -errno;
        free(r);
        return rc;
    }
    header_fill(r, secs, l->count, "");
    *out = r;
    return 0;
}

int dshq_region_mark_ready(struct dshq_region *r)
{
    struct dshq_region_header *h = (struct dshq_region_header *)r->base;
    if (!r->owner || r->readonly)
        return -EPERM;
    /* C1: release pairs with A1 in dshq_region_validate: everything written
     * to the header, the table and the sections is visible to an attacher
     * that reads READY. */
    atomic_store_explicit(&h->state, DSHQ_REGION_READY, memory_order_release);
    return 0;
}

/* ------------------------------------------------------------ validate */

/* Validates len bytes that claim to be a region and leaves, in *count and
 * s[DSHQ_MAX_SECTIONS], the private copy of the section table it checked.
 * Everything is read from the shared bytes ONCE, into private copies, and
 * only the copies are checked and used: a process that changes the header
 * or the table meanwhile cannot make us use a value we did not check. */
static int validate_into(const void *base, uint64_t len, uint16_t min_minor, uint32_t *count,
                         struct dshq_section *s)
{
    const struct dshq_region_header *hp = base;
    if (len == 0)
        return DSHQ_ENOTREADY; /* created, not yet sized */
    if (len < sizeof *hp)
        return DSHQ_ESIZE;
    /* A1: acquire pairs with C1 in dshq_region_mark_ready. */
    uint32_t state = atomic_load_explicit(&((struct dshq_region_header *)hp)->state,
                                          memory_order_acquire);
    struct dshq_region_header h;
    memcpy(&h, hp, sizeof h); /* a snapshot: checked fields cannot change */
    if (state != DSHQ_REGION_READY)
        return (h.magic == DSHQ_REGION_MAGIC || h.magic == 0) ? DSHQ_ENOTREADY
                                                               : DSHQ_EMAGIC;
    if (h.magic != DSHQ_REGION_MAGIC)
        return DSHQ_EMAGIC;
    if (h.abi_major != DSHQ_ABI_MAJOR)
        return DSHQ_EABIMAJOR;
    if (h.abi_minor < min_minor)
        return DSHQ_EABIMINOR;
    if (h.region_size != len)
        return DSHQ_ESIZE;
    /* A newer minor may grow the header or the entries, never shrink them. */
    if (h.header_size < sizeof h || h.header_size > len ||
        h.section_entry_size < sizeof(struct dshq_section) ||
        h.section_entry_size % 8 || h.table_offset < h.header_size ||
        h.table_offset % 8 || h.section_count > DSHQ_MAX_SECTIONS)
        return DSHQ_EHEADER;
    uint64_t table_end = (uint64_t)h.table_offset +
                         (uint64_t)h.section_count * h.section_entry_size;
    if (table_end > len)
        return DSHQ_ESECTBOUNDS;
    const unsigned char *table = (const unsigned char *)base + h.table_offset;
    for (uint32_t i = 0; i < h.section_count; i++) {
        memcpy(&s[i], table + (uint64_t)i * h.section_entry_size, sizeof s[i]);
        if (strnlen(s[i].name, sizeof s[i].name) == sizeof s[i].name)
            return DSHQ_EHEADER;
        if (s[i].offset % DSHQ_SECTION_ALIGN)
            return DSHQ_ESECTALIGN;
        if (s[i].offset < table_end || s[i].offset > len ||
            s[i].size > len - s[i].offset)
            return DSHQ_ESECTBOUNDS;
    }
    for (uint32_t i = 0; i < h.section_count; i++)
        for (uint32_t j = i + 1; j < h.section_count; j++)
            if (s[i].offset < s[j].offset + s[j].size &&
                s[j].offset < s[i].offset + s[i].size)
                return DSHQ_ESECTOVERLAP;
    *count = h.section_count;
    return 0;
}

int dshq_region_validate(const void *base, uint64_t len, uint16_t min_minor)
{
    uint32_t count;
    struct dshq_section s[DSHQ_MAX_SECTIONS];
    return validate_into(base, len, min_minor, &count, s);
}

/* -------------------------------------------------------------- attach */

int dshq_region_attach(const char *name, unsigned flags, uint16_t min_minor,
                       struct dshq_region **out)
{
    name = shm_name(name);
    int rc = check_shm_name(name);
    if (rc)
        return rc;
    int ro = (flags & DSHQ_ATTACH_RDONLY) != 0;
    char path[DSHQ_REGION_NAME_LEN + 2];
    snprintf(path, sizeof path, "/%s", name);
    int fd = shm_open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (st.st_uid != geteuid()) {
        close(fd);
        return DSHQ_EOWNER;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < sizeof(struct dshq_region_header)) {
        close(fd);
        return size == 0 ? DSHQ_ENOTREADY : DSHQ_ESIZE;
    }
    void *base = mmap(NULL, size, ro ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED)
        return -errno;
    struct dshq_region *r = calloc(1, sizeof *r);
    if (!r) {
        munmap(base, size);
        return -ENOMEM;
    }
    /* The handle keeps the validated private copy of the table, and nothing
     * else is read from the header: section_count and table_offset in the
     * shared mapping may have changed since they were checked. */
    rc = validate_into(base, size, min_minor, &r->section_count, r->sections);
    if (rc) {
        free(r);
        munmap(base, size);
        return rc;
    }
    r->base = base;
    r->size = size;
    r->readonly = ro;
    snprintf(r->name, sizeof r->name, "%s", name);
    *out = r;
    return 0;
}

void dshq_region_detach(struct dshq_region *r)
{
    if (!r)
        return;
    munmap(r->base, r->size);
    free(r);
}

int dshq_region_unlink(const char *name)
{
    name = shm_name(name);
    char path[DSHQ_REGION_NAME_LEN + 2];
    int rc = check_shm_name(name);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "/%s", name);
    return shm_unlink(path) == 0 ? 0 : -errno;
}

void dshq_region_destroy(struct dshq_region *r)
{
    if (!r)
        return;
    if (r->name[0])
        dshq_region_unlink(r->name);
    dshq_region_detach(r);
}

/* ------------------------------------------------------------- queries */

int dshq_region_find(const struct dshq_region *r, uint32_t kind, const char *name,
                     uint64_t shape_hash, void **payload, uint64_t *size)
{
    for (uint32_t i = 0; i < r->section_count; i++) {
        const struct dshq_section *s = &r->sections[i];
        if (s->kind != kind || strncmp(s->name, name, sizeof s->name) != 0)
            continue;
        if (shape_hash && s->shape_hash != shape_hash)
            return DSHQ_ESHAPE;
        if (payload)
            *payload = r->base + s->offset;
        if (size)
            *size = s->size;
        return 0;
    }
    return DSHQ_ENOSECTION;
}

void dshq_region_heartbeat(struct dshq_region *r)
{
    struct dshq_region_header *h = (struct dshq_region_header *)r->base;
    if (r->readonly)
        return;
    /* Relaxed: the heartbeat is a lone advisory timestamp; nothing is
     * published through it. */
    atomic_store_explicit(&h->heartbeat_ns, dshq_now_ns(), memory_order_relaxed);
}

int dshq_region_creator_state(const struct dshq_region *r)
{
    const struct dshq_region_header *h = (const void *)r->base;
    return dshq_process_alive(h->creator_pid, h->creator_start_ticks);
}

uint64_t dshq_region_heartbeat_age_ns(const struct dshq_region *r)
{
    struct dshq_region_header *h = (struct dshq_region_header *)r->base;
    /* Relaxed: see dshq_region_heartbeat. */
    uint64_t beat = atomic_load_explicit(&h->heartbeat_ns, memory_order_relaxed);
    uint64_t now = dshq_now_ns();
    return now > beat ? now - beat : 0;
}

const struct dshq_region_header *dshq_region_header(const struct dshq_region *r)
{
    return (const struct dshq_region_header *)r->base;
}

const struct dshq_section *dshq_region_sections(const struct dshq_region *r,
                                                uint32_t *count)
{
    *count = r->section_count;
    return r->sections;
}

void *dshq_region_base(const struct dshq_region *r) { return r->base; }
uint64_t dshq_region_size(const struct dshq_region *r) { return r->size; }
const char *dshq_region_name(const struct dshq_region *r) { return r->name; }
int dshq_region_is_owner(const struct dshq_region *r) { return r->owner; }
