/* hash.h — the shape hash: FNV-1a 64 over a canonical layout description.
 *
 * A shape hash names a layout.  Two parties agree on a layout when they hash
 * the same canonical string, so the string is the contract: lowercase ASCII
 * "key=value" pairs joined by ';', in a fixed order chosen by the owner of the
 * layout, for example "weights/v1;params=12450;arch=mlp-42-128-128-30+1".
 * FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the
 * bytes of that string is identical on every platform and endianness. */
#ifndef DSHQ_HASH_H
#define DSHQ_HASH_H

#include <stddef.h>
#include <stdint.h>
#include "dshq/cxx_begin.h"

#define DSHQ_FNV64_OFFSET UINT64_C(0xcbf29ce484222325)
#define DSHQ_FNV64_PRIME UINT64_C(0x100000001b3)

/* FNV-1a 64 over len bytes, continuing from h (start with DSHQ_FNV64_OFFSET). */
uint64_t dshq_fnv1a64(uint64_t h, const void *data, size_t len);

/* Shape hash of a NUL-terminated canonical description. */
uint64_t dshq_shape_hash(const char *canonical);

/* printf-style: formats the canonical description (at most 1023 bytes) and
 * hashes it.  Returns 0 only if formatting failed. */
uint64_t dshq_shape_hashf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#include "dshq/cxx_end.h"
#endif
