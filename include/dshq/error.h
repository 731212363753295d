/* error.h — error codes of libdshq.
 *
 * Every library call returns 0 (or a non-negative count) on success and a
 * negative number on failure: either a negative errno (-ENOMEM, -EEXIST, ...)
 * or one of the DSHQ_E* codes below, which name the failures that errno has
 * no word for.  dshq_strerror() describes both. */
#ifndef DSHQ_ERROR_H
#define DSHQ_ERROR_H

enum {
    DSHQ_EBASE = 4096,             /* far above any errno value */
    DSHQ_ENOTREADY = -(DSHQ_EBASE + 1),  /* region still being created */
    DSHQ_EMAGIC = -(DSHQ_EBASE + 2),     /* not a DrillSergeantHQ region */
    DSHQ_EABIMAJOR = -(DSHQ_EBASE + 3),  /* incompatible ABI major version */
    DSHQ_EABIMINOR = -(DSHQ_EBASE + 4),  /* ABI minor older than required */
    DSHQ_ESIZE = -(DSHQ_EBASE + 5),      /* file size != recorded size */
    DSHQ_EHEADER = -(DSHQ_EBASE + 6),    /* header fields inconsistent */
    DSHQ_ESECTBOUNDS = -(DSHQ_EBASE + 7),  /* section outside the region */
    DSHQ_ESECTOVERLAP = -(DSHQ_EBASE + 8), /* two sections overlap */
    DSHQ_ESECTALIGN = -(DSHQ_EBASE + 9),   /* section not 64-byte aligned */
    DSHQ_ESHAPE = -(DSHQ_EBASE + 10),      /* shape hash differs */
    DSHQ_EOWNER = -(DSHQ_EBASE + 11),      /* region owned by another user */
    DSHQ_ENOSECTION = -(DSHQ_EBASE + 12),  /* no section of that kind/name */
    DSHQ_EKIND = -(DSHQ_EBASE + 13),       /* section of unexpected kind */
    DSHQ_ECORRUPT = -(DSHQ_EBASE + 14),    /* channel control block invalid */
    DSHQ_ELIMIT = -(DSHQ_EBASE + 15),      /* a fixed limit was reached */
    DSHQ_EDEAD = -(DSHQ_EBASE + 16),       /* peer process died */
    /* Why a size or count was refused (the *_check functions of the
     * channels, and their create calls): */
    DSHQ_EPARAMCOUNT = -(DSHQ_EBASE + 40), /* weights: param_count not in 1..2^36 */
    DSHQ_EREADERS = -(DSHQ_EBASE + 41),    /* weights: max_readers not in 1..62 */
    DSHQ_ECAPACITY = -(DSHQ_EBASE + 42),   /* mailbox: capacity not a power of two in 2..2^20 */
    DSHQ_EBLOBSIZE = -(DSHQ_EBASE + 43),   /* telemetry: blob capacity not in 1..2^20 bytes */
    DSHQ_ESLOTCOUNT = -(DSHQ_EBASE + 44),  /* telemetry: heartbeat slots over 4096 */
    DSHQ_EMIN = -(DSHQ_EBASE + 64),        /* range reserved for libdshq */
};

/* Text for a return code of any libdshq call (negative errno included).
 * Never NULL; the string is static. */
const char *dshq_strerror(int rc);

#endif
