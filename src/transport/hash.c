/* hash.c — FNV-1a 64, the shape hash of libdshq (see dshq/hash.h). */
#include <stdarg.h>
#include <stdio.h>

#include "dshq/hash.h"

uint64_t dshq_fnv1a64(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= DSHQ_FNV64_PRIME;
    }
    return h;
}

uint64_t dshq_shape_hash(const char *canonical)
{
    size_t n = 0;
    while (canonical[n])
        n++;
    return dshq_fnv1a64(DSHQ_FNV64_OFFSET, canonical, n);
}

uint64_t dshq_shape_hashf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf)
        return 0;
    return dshq_fnv1a64(DSHQ_FNV64_OFFSET, buf, (size_t)n);
}
