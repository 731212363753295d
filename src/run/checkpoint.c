/* checkpoint.c — write and read `.dshq` checkpoint files (docs/checkpoint.md).
 *
 * The header is encoded field by field into a byte array in little-endian
 * order (never by dumping a struct), so the file is the same on every host.
 * Load order, each failure with its own code:
 *
 *   file < 8 bytes                  -> ETRUNC      magic            -> EMAGIC
 *   file < 12 bytes                 -> ETRUNC      format version   -> EVERSION
 *   file < 256 bytes                -> ETRUNC      header CRC32     -> EHEADERCRC
 *   field consistency               -> EHEADER     shape hash       -> ESHAPE
 *   param count vs caller           -> ECOUNT      file < header+body -> ETRUNC
 *   file > header+body              -> ETRAILING   body CRC32       -> ECRC
 *
 * The version is checked before the header CRC because a later format may
 * lay its header out differently; the magic first so that "not a checkpoint
 * at all" is never reported as damage. */
#include <errno.h>
#include <math.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run/checkpoint.h"

/* Byte offsets of the v1 header (docs/checkpoint.md). */
enum {
    H_MAGIC = 0,
    H_VERSION = 8,
    H_HEADER_SIZE = 12,
    H_SHAPE = 16,
    H_PARAMS = 24,
    H_STEPS = 32,
    H_UPDATES = 40,
    H_ENV_STEPS = 48,
    H_WVERSION = 56,
    H_ADAM_T = 64,
    H_CREATED = 72,
    H_TRAIN_SECONDS = 80,
    H_FLAGS = 88,
    H_BODY_CRC = 92,
    H_BODY_SIZE = 96,
    H_ARCH = 104,
    H_CONFIG_LEN = H_ARCH + CKPT_ARCH_LEN, /* 232: bytes of config text after the floats */
    H_RESERVED = 236,
    H_HEADER_CRC = 252,
};
_Static_assert(H_CONFIG_LEN == 232, "header layout");
_Static_assert(H_HEADER_CRC + 4 == CKPT_HEADER_SIZE, "header CRC is the last field");

/* CRC-32 (the zlib / PNG / Ethernet one: reflected, polynomial 0xEDB88320,
 * initial and final xor ~0), here so that the run layer needs no zlib (a
 * browser build has none).  crc32_update(0, ...) starts a CRC; feeding the
 * data in pieces gives the same result as at once. */
struct crc32_table {
    uint32_t t[256];
};

static void crc32_table_init(struct crc32_table *c)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t r = i;
        for (int k = 0; k < 8; k++)
            r = (r >> 1) ^ (0xEDB88320u & (0u - (r & 1u)));
        c->t[i] = r;
    }
}

static uint32_t crc32_update(const struct crc32_table *c, uint32_t crc, const void *data,
                             size_t n)
{
    const unsigned char *p = data;
    crc = ~crc;
    while (n--)
        crc = c->t[(crc ^ *p++) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

static uint32_t crc32_of(uint32_t crc, const void *data, size_t n)
{
    struct crc32_table c;
    crc32_table_init(&c);
    return crc32_update(&c, crc, data, n);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int host_is_le(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

const char *ckpt_strerror(int rc)
{
    switch (rc) {
    case CKPT_OK: return "ok";
    case CKPT_EIO: return "I/O error";
    case CKPT_ETRUNC: return "truncated";
    case CKPT_EMAGIC: return "not a checkpoint (bad magic)";
    case CKPT_EVERSION: return "unsupported format version";
    case CKPT_EHEADERCRC: return "header damaged (bad header CRC)";
    case CKPT_EHEADER: return "inconsistent header";
    case CKPT_ESHAPE: return "other network shape";
    case CKPT_ECOUNT: return "other parameter count";
    case CKPT_ETRAILING: return "trailing bytes after the body";
    case CKPT_ECRC: return "body damaged (bad CRC)";
    case CKPT_ENOMEM: return "out of memory";
    case CKPT_EINVAL: return "invalid arguments";
    default: return "unknown checkpoint error";
    }
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- save */

static int write_all(int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes n floats as little-endian f32, folding them into *crc. */
static int write_floats(int fd, const float *v, uint64_t n, const struct crc32_table *ct,
                        uint32_t *crc)
{
    unsigned char buf[1 << 16];
    const int le = host_is_le();
    while (n) {
        size_t k = n > sizeof buf / 4 ? sizeof buf / 4 : (size_t)n;
        if (le) {
            memcpy(buf, v, k * 4);
        } else {
            for (size_t i = 0; i < k; i++) {
                uint32_t u;
                memcpy(&u, &v[i], 4);
                put32(buf + 4 * i, u);
            }
        }
        *crc = crc32_update(ct, *crc, buf, k * 4);
        int rc = write_all(fd, buf, k * 4);
        if (rc)
            return rc;
        v += k;
        n -= k;
    }
    return 0;
}

static void header_encode(unsigned char *h, const struct ckpt_meta *m, uint32_t flags,
                          uint32_t body_crc, uint64_t body_size, uint64_t created)
{
    memset(h, 0, CKPT_HEADER_SIZE);
    memcpy(h + H_MAGIC, CKPT_MAGIC, 8);
    put32(h + H_VERSION, CKPT_FORMAT_VERSION);
    put32(h + H_HEADER_SIZE, CKPT_HEADER_SIZE);
    put64(h + H_SHAPE, m->shape_hash);
    put64(h + H_PARAMS, m->param_count);
    put64(h + H_STEPS, m->steps);
    put64(h + H_UPDATES, m->updates);
    put64(h + H_ENV_STEPS, m->env_steps);
    put64(h + H_WVERSION, m->weights_version);
    put64(h + H_ADAM_T, flags & CKPT_FLAG_OPTIMIZER ? m->adam_t : 0);
    put64(h + H_CREATED, created);
    uint64_t ts;
    memcpy(&ts, &m->train_seconds, 8);
    put64(h + H_TRAIN_SECONDS, ts);
    put32(h + H_FLAGS, flags);
    put32(h + H_BODY_CRC, body_crc);
    put64(h + H_BODY_SIZE, body_size);
    put32(h + H_CONFIG_LEN, flags & CKPT_FLAG_CONFIG ? m->config_len : 0);
    memcpy(h + H_ARCH, m->arch, strnlen(m->arch, CKPT_ARCH_LEN - 1));
    put32(h + H_HEADER_CRC, crc32_of(0, h, H_HEADER_CRC));
}

/* fsyncs the directory holding path, so the rename itself is durable. */
static int sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return -ENAMETOOLONG;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* Removes PATH.tmp-PID-K files that a save killed mid-write left behind
 * (any PID but ours: saves of one path are not concurrent across
 * processes).  Best effort: an error leaves a file, never fails the save. */
static void remove_stale_temps(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t dl = slash ? (size_t)(slash - path) : 0;
    if (dl >= sizeof dir - 1)
        return;
    if (slash) {
        memcpy(dir, path, dl ? dl : 1);
        dir[dl ? dl : 1] = 0;
    } else {
        strcpy(dir, ".");
    }
    char prefix[512], mine[600];
    if ((size_t)snprintf(prefix, sizeof prefix, "%s.tmp-", base) >= sizeof prefix)
        return;
    snprintf(mine, sizeof mine, "%s%ld-", prefix, (long)getpid());
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) || !strncmp(e->d_name, mine, strlen(mine)))
            continue;
        char full[4600];
        if ((size_t)snprintf(full, sizeof full, "%s/%s", dir, e->d_name) < sizeof full)
            unlink(full);
    }
    closedir(d);
}

int ckpt_save(const char *path, const struct ckpt_meta *meta, const float *params,
              const float *adam_m, const float *adam_v, char *err, size_t errlen)
{
    if (!path || !meta || !params || (!adam_m) != (!adam_v))
        return fail(err, errlen, CKPT_EINVAL,
                    "checkpoint: need a path, meta and params; adam_m and adam_v together");
    if (meta->param_count == 0 || meta->param_count > CKPT_MAX_PARAMS)
        return fail(err, errlen, CKPT_EINVAL, "checkpoint: parameter count %llu out of range",
                    (unsigned long long)meta->param_count);
    if (meta->config_len >= CKPT_CONFIG_MAX)
        return fail(err, errlen, CKPT_EINVAL, "checkpoint: config text of %u bytes is too long",
                    meta->config_len);
    uint32_t flags = (adam_m ? CKPT_FLAG_OPTIMIZER : 0) | (meta->config_len ? CKPT_FLAG_CONFIG : 0);
    uint64_t n = meta->param_count;
    uint64_t body_size = n * 4 * (adam_m ? 3 : 1) + meta->config_len;

    /* Never save what is not finite: the previous file stays. */
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(params[i]) || (adam_m && (!isfinite(adam_m[i]) || !isfinite(adam_v[i]) ||
                                                adam_v[i] < 0)))
            return fail(err, errlen, CKPT_EVALUE, "checkpoint %s not saved: value %llu is not "
                        "finite", path, (unsigned long long)i);
    if (meta->adam_t > CKPT_MAX_ADAM_T ||
        !(meta->train_seconds >= 0 && meta->train_seconds <= CKPT_MAX_TRAIN_SECONDS))
        return fail(err, errlen, CKPT_EVALUE, "checkpoint %s not saved: Adam step or training "
                    "time out of range", path);
    remove_stale_temps(path);

    char tmp[4096];
    /* Distinguishes concurrent saves of one process; relaxed: only uniqueness. */
    static _Atomic unsigned counter;
    unsigned k = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-%ld-%u", path, (long)getpid(), k) >=
        sizeof tmp)
        return fail(err, errlen, CKPT_EINVAL, "checkpoint: path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(err, errlen, CKPT_EIO, "cannot create %s: %s", tmp, strerror(errno));

    unsigned char h[CKPT_HEADER_SIZE];
    memset(h, 0, sizeof h); /* placeholder until the body CRC is known */
    struct crc32_table ct;
    crc32_table_init(&ct);
    uint32_t crc = 0;
    const char *what = "write";
    int rc = write_all(fd, h, sizeof h);
    if (!rc)
        rc = write_floats(fd, params, n, &ct, &crc);
    if (!rc && adam_m)
        rc = write_floats(fd, adam_m, n, &ct, &crc);
    if (!rc && adam_m)
        rc = write_floats(fd, adam_v, n, &ct, &crc);
    if (!rc && meta->config_len) {
        crc = crc32_update(&ct, crc, meta->config, meta->config_len);
        rc = write_all(fd, meta->config, meta->config_len);
    }
    if (!rc) {
        header_encode(h, meta, flags, crc, body_size, realtime_ns());
        ssize_t w = pwrite(fd, h, sizeof h, 0);
        rc = w == (ssize_t)sizeof h ? 0 : (w < 0 ? -errno : -EIO);
    }
    if (!rc && fsync(fd)) {
        rc = -errno;
        what = "fsync";
    }
    if (close(fd) && !rc) {
        rc = -errno;
        what = "close";
    }
    if (!rc && rename(tmp, path)) {
        rc = -errno;
        what = "rename";
    }
    if (rc) {
        unlink(tmp);
        return fail(err, errlen, CKPT_EIO, "cannot save checkpoint %s (%s): %s", path, what,
                    strerror(-rc));
    }
    rc = sync_dir(path);
    if (rc)
        return fail(err, errlen, CKPT_EIO, "saved %s but could not fsync its directory: %s",
                    path, strerror(-rc));
    return 0;
}

/* ---------------------------------------------------------------- load */

static int read_all(int fd, void *buf, size_t len, uint64_t off)
{
    unsigned char *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ENODATA; /* shorter than fstat said: it shrank under us */
        p += r;
        len -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Opens path and checks the header.  On success *fd_out is open, *fsize the
 * file size, meta filled (has_optimizer from the flags). */
static int header_load(const char *path, struct ckpt_meta *meta, int *fd_out,
                       uint64_t *fsize, uint32_t *body_crc, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(err, errlen, CKPT_EIO, "cannot open checkpoint %s: %s", path,
                    strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        int e = errno;
        close(fd);
        return fail(err, errlen, CKPT_EIO, "checkpoint %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail(err, errlen, CKPT_EIO, "checkpoint %s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    unsigned char h[CKPT_HEADER_SIZE];
    size_t have = size < sizeof h ? (size_t)size : sizeof h;
    int rc = read_all(fd, h, have, 0);
    if (rc) {
        close(fd);
        if (rc == -ENODATA)
            return fail(err, errlen, CKPT_ETRUNC, "checkpoint %s: truncated (it shrank while "
                        "being read)", path);
        return fail(err, errlen, CKPT_EIO, "cannot read checkpoint %s: %s", path,
                    strerror(-rc));
    }
#define BAD(code, ...)                                                         \
    do {                                                                       \
        close(fd);                                                             \
        return fail(err, errlen, code, __VA_ARGS__);                           \
    } while (0)
    if (have < 8)
        BAD(CKPT_ETRUNC, "checkpoint %s: truncated: %zu bytes, not even a magic number",
            path, have);
    if (memcmp(h + H_MAGIC, CKPT_MAGIC, 8) != 0)
        BAD(CKPT_EMAGIC, "%s is not a DrillSergeantHQ checkpoint (bad magic)", path);
    if (have < 12)
        BAD(CKPT_ETRUNC, "checkpoint %s: truncated: %zu bytes, header is %d", path, have,
            CKPT_HEADER_SIZE);
    uint32_t version = get32(h + H_VERSION);
    if (version != CKPT_FORMAT_VERSION)
        BAD(CKPT_EVERSION, "checkpoint %s: format version %u, this build reads version %d "
            "(written by a %s build)", path, version, CKPT_FORMAT_VERSION,
            version > CKPT_FORMAT_VERSION ? "newer" : "older");
    if (have < CKPT_HEADER_SIZE)
        BAD(CKPT_ETRUNC, "checkpoint %s: truncated: %zu bytes, header is %d", path, have,
            CKPT_HEADER_SIZE);
    uint32_t hcrc = crc32_of(0, h, H_HEADER_CRC);
    if (hcrc != get32(h + H_HEADER_CRC))
        BAD(CKPT_EHEADERCRC, "checkpoint %s: header damaged (CRC32 %08x, recorded %08x)",
            path, hcrc, get32(h + H_HEADER_CRC));

    memset(meta, 0, sizeof *meta);
    uint32_t header_size = get32(h + H_HEADER_SIZE);
    uint32_t flags = get32(h + H_FLAGS);
    uint64_t body_size = get64(h + H_BODY_SIZE);
    meta->shape_hash = get64(h + H_SHAPE);
    meta->param_count = get64(h + H_PARAMS);
    meta->steps = get64(h + H_STEPS);
    meta->updates = get64(h + H_UPDATES);
    meta->env_steps = get64(h + H_ENV_STEPS);
    meta->weights_version = get64(h + H_WVERSION);
    meta->adam_t = get64(h + H_ADAM_T);
    meta->created_unix_ns = get64(h + H_CREATED);
    uint64_t ts = get64(h + H_TRAIN_SECONDS);
    memcpy(&meta->train_seconds, &ts, 8);
    meta->has_optimizer = flags & CKPT_FLAG_OPTIMIZER ? 1 : 0;
    meta->config_len = get32(h + H_CONFIG_LEN);
    memcpy(meta->arch, h + H_ARCH, CKPT_ARCH_LEN);

    if (header_size != CKPT_HEADER_SIZE)
        BAD(CKPT_EHEADER, "checkpoint %s: header size %u, expected %d", path, header_size,
            CKPT_HEADER_SIZE);
    if (flags & ~(CKPT_FLAG_OPTIMIZER | CKPT_FLAG_CONFIG))
        BAD(CKPT_EHEADER, "checkpoint %s: unknown flags 0x%x", path, flags);
    if (meta->param_count == 0 || meta->param_count > CKPT_MAX_PARAMS)
        BAD(CKPT_EHEADER, "checkpoint %s: parameter count %llu out of range", path,
            (unsigned long long)meta->param_count);
    if (!(flags & CKPT_FLAG_CONFIG) ? meta->config_len != 0
                                    : meta->config_len == 0 || meta->config_len >= CKPT_CONFIG_MAX)
        BAD(CKPT_EHEADER, "checkpoint %s: config length %u with flags 0x%x", path,
            meta->config_len, flags);
    uint64_t want_body = meta->param_count * 4 * (meta->has_optimizer ? 3 : 1) + meta->config_len;
    if (body_size != want_body)
        BAD(CKPT_EHEADER, "checkpoint %s: body size %llu, but %llu parameters%s need %llu",
            path, (unsigned long long)body_size, (unsigned long long)meta->param_count,
            meta->has_optimizer ? " with optimizer state" : "",
            (unsigned long long)want_body);
    if (!meta->has_optimizer && meta->adam_t != 0)
        BAD(CKPT_EHEADER, "checkpoint %s: Adam step %llu but no optimizer state", path,
            (unsigned long long)meta->adam_t);
    if (meta->adam_t > CKPT_MAX_ADAM_T)
        BAD(CKPT_EVALUE, "checkpoint %s: Adam step %llu out of range (at most %llu)", path,
            (unsigned long long)meta->adam_t, (unsigned long long)CKPT_MAX_ADAM_T);
    if (!(meta->train_seconds >= 0 && meta->train_seconds <= CKPT_MAX_TRAIN_SECONDS))
        BAD(CKPT_EVALUE, "checkpoint %s: training time %g s is not a time", path,
            meta->train_seconds);
    if (memchr(meta->arch, 0, CKPT_ARCH_LEN) == NULL || meta->arch[0] == 0)
        BAD(CKPT_EHEADER, "checkpoint %s: architecture string missing or unterminated", path);
    for (int i = H_RESERVED; i < H_HEADER_CRC; i++)
        if (h[i])
            BAD(CKPT_EHEADER, "checkpoint %s: reserved header byte %d is not zero", path, i);
    /* The file size against the body is checked by the callers after shape
     * and count, which are the more useful messages. */
    *fd_out = fd;
    *fsize = size;
    *body_crc = get32(h + H_BODY_CRC);
#undef BAD
    return 0;
}

static int size_check(const char *path, uint64_t fsize, const struct ckpt_meta *meta,
                      char *err, size_t errlen)
{
    uint64_t want = CKPT_HEADER_SIZE + meta->param_count * 4 * (meta->has_optimizer ? 3 : 1) +
                    meta->config_len;
    if (fsize < want)
        return fail(err, errlen, CKPT_ETRUNC, "checkpoint %s: truncated: %llu bytes, "
                    "header and body need %llu", path, (unsigned long long)fsize,
                    (unsigned long long)want);
    if (fsize > want)
        return fail(err, errlen, CKPT_ETRAILING, "checkpoint %s: %llu bytes after the body",
                    path, (unsigned long long)(fsize - want));
    return 0;
}

int ckpt_read_meta(const char *path, struct ckpt_meta *meta, char *err, size_t errlen)
{
    if (!path || !meta)
        return fail(err, errlen, CKPT_EINVAL, "checkpoint: need a path and meta");
    int fd;
    uint64_t fsize;
    uint32_t body_crc;
    int rc = header_load(path, meta, &fd, &fsize, &body_crc, err, errlen);
    if (rc)
        return rc;
    rc = size_check(path, fsize, meta, err, errlen);
    /* The config text (not CRC-checked here; ckpt_load checks the body). */
    if (!rc && meta->config_len &&
        read_all(fd, meta->config, meta->config_len,
                 fsize - meta->config_len) != 0)
        rc = fail(err, errlen, CKPT_EIO, "cannot read the config of checkpoint %s", path);
    close(fd);
    return rc;
}

static void floats_decode(float *dst, const unsigned char *src, uint64_t n)
{
    if (host_is_le()) {
        memcpy(dst, src, n * 4);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint32_t u = get32(src + 4 * i);
        memcpy(&dst[i], &u, 4);
    }
}

/* Index of the first bad float of the body (params, then m, then v), or
 * UINT64_MAX when all are good. */
static uint64_t body_values_check(const unsigned char *body, uint64_t n, int has_opt)
{
    uint64_t total = n * (has_opt ? 3 : 1);
    for (uint64_t i = 0; i < total; i++) {
        uint32_t u = get32(body + 4 * i);
        float x;
        memcpy(&x, &u, 4);
        if (!isfinite(x) || (i >= 2 * n && x < 0))
            return i;
    }
    return UINT64_MAX;
}

int ckpt_load(const char *path, uint64_t expected_shape_hash, uint64_t expected_params,
              struct ckpt_meta *meta, float *params, float *adam_m, float *adam_v,
              char *err, size_t errlen)
{
    if (!path || !meta || !params || (!adam_m) != (!adam_v))
        return fail(err, errlen, CKPT_EINVAL,
                    "checkpoint: need a path, meta and params; adam_m and adam_v together");
    struct ckpt_meta m;
    int fd;
    uint64_t fsize;
    uint32_t body_crc;
    int rc = header_load(path, &m, &fd, &fsize, &body_crc, err, errlen);
    if (rc)
        return rc;
    if (m.shape_hash != expected_shape_hash) {
        close(fd);
        return fail(err, errlen, CKPT_ESHAPE, "checkpoint %s holds another network: shape "
                    "hash %016llx (%s), this build expects %016llx", path,
                    (unsigned long long)m.shape_hash, m.arch,
                    (unsigned long long)expected_shape_hash);
    }
    if (m.param_count != expected_params) {
        close(fd);
        return fail(err, errlen, CKPT_ECOUNT, "checkpoint %s has %llu parameters, expected "
                    "%llu", path, (unsigned long long)m.param_count,
                    (unsigned long long)expected_params);
    }
    rc = size_check(path, fsize, &m, err, errlen);
    if (rc) {
        close(fd);
        return rc;
    }
    uint64_t body_size = fsize - CKPT_HEADER_SIZE;
    unsigned char *body = malloc(body_size);
    if (!body) {
        close(fd);
        return fail(err, errlen, CKPT_ENOMEM, "checkpoint %s: no memory for %llu bytes", path,
                    (unsigned long long)body_size);
    }
    rc = read_all(fd, body, body_size, CKPT_HEADER_SIZE);
    close(fd);
    if (rc) {
        free(body);
        if (rc == -ENODATA)
            return fail(err, errlen, CKPT_ETRUNC, "checkpoint %s: truncated while being read",
                        path);
        return fail(err, errlen, CKPT_EIO, "cannot read checkpoint %s: %s", path,
                    strerror(-rc));
    }
    uint32_t crc = crc32_of(0, body, body_size);
    if (crc != body_crc) {
        free(body);
        return fail(err, errlen, CKPT_ECRC, "checkpoint %s: body damaged (CRC32 %08x, "
                    "recorded %08x)", path, crc, body_crc);
    }
    uint64_t n = m.param_count;
    /* Valid CRCs do not make the values sane: every float finite, second
     * moments not negative; checked before anything reaches the caller. */
    uint64_t bad = body_values_check(body, n, m.has_optimizer);
    if (bad != UINT64_MAX) {
        free(body);
        return fail(err, errlen, CKPT_EVALUE, "checkpoint %s: %s %llu is %s", path,
                    bad < n ? "parameter" : bad < 2 * n ? "Adam first moment" : "Adam second moment",
                    (unsigned long long)(bad % n),
                    bad < 2 * n ? "not finite" : "not finite or negative");
    }
    floats_decode(params, body, n);
    if (m.has_optimizer && adam_m) {
        floats_decode(adam_m, body + n * 4, n);
        floats_decode(adam_v, body + n * 8, n);
    }
    if (m.config_len)
        memcpy(m.config, body + body_size - m.config_len, m.config_len);
    free(body);
    *meta = m;
    return 0;
}
