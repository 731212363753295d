/* fuzz_checkpoint.c — libFuzzer target for the checkpoint loader.
 *
 * The input is a checkpoint file.  Its first byte chooses a mode: odd
 * ("fix-up"), the target rewrites the header's and the body's CRC32 before
 * loading, so the values behind valid CRCs are reached (hostile Adam steps,
 * NaN times and parameters, inconsistent sizes); even, the bytes are loaded
 * as they are.  ckpt_read_meta and ckpt_load (with the count the file
 * claims, bounded) must refuse or accept without reading out of bounds; what
 * ckpt_load accepts must be finite (parameters, Adam moments >= 0, time).
 * Build and run: make fuzz-run FUZZ_SECONDS=600 */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "run/checkpoint.h"

static uint32_t crc_table[256];

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
    if (!crc_table[1])
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            crc_table[i] = c;
        }
    uint32_t c = ~0u;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fixup = data[0] & 1;
    data++;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    if (fixup && size >= CKPT_HEADER_SIZE) {
        uint32_t bc = crc32_of(buf + CKPT_HEADER_SIZE, size - CKPT_HEADER_SIZE);
        memcpy(buf + 92, &bc, 4); /* body CRC (docs/checkpoint.md) */
        uint32_t hc = crc32_of(buf, 252);
        memcpy(buf + 252, &hc, 4); /* header CRC, over bytes 0..251 */
    }
    int fd = memfd_create("ckpt", 0);
    if (fd < 0) {
        free(buf);
        return 0;
    }
    if (write(fd, buf, size) != (ssize_t)size) {
        close(fd);
        free(buf);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    static struct ckpt_meta meta;
    char err[512];
    if (ckpt_read_meta(path, &meta, err, sizeof err) == 0 && meta.param_count <= (1u << 16)) {
        uint64_t n = meta.param_count;
        float *p = malloc(n * 4), *m = malloc(n * 4), *v = malloc(n * 4);
        if (p && m && v &&
            ckpt_load(path, meta.shape_hash, n, &meta, p, m, v, err, sizeof err) == 0) {
            for (uint64_t i = 0; i < n; i++)
                if (!isfinite(p[i]) ||
                    (meta.has_optimizer && (!isfinite(m[i]) || !(v[i] >= 0) || !isfinite(v[i]))))
                    abort(); /* a loaded checkpoint is finite */
            if (!(meta.train_seconds >= 0) || meta.adam_t > CKPT_MAX_ADAM_T)
                abort();
        }
        free(p);
        free(m);
        free(v);
    }
    close(fd);
    free(buf);
    return 0;
}
