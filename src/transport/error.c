/* error.c — text for libdshq's return codes. */
#include <string.h>

#include "dshq/error.h"

const char *dshq_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case DSHQ_ENOTREADY: return "region not ready yet (its creator is still initializing it)";
    case DSHQ_EMAGIC: return "bad magic: not a DrillSergeantHQ region";
    case DSHQ_EABIMAJOR: return "incompatible ABI major version";
    case DSHQ_EABIMINOR: return "ABI minor version older than required";
    case DSHQ_ESIZE: return "file size differs from the size recorded in the header (truncated?)";
    case DSHQ_EHEADER: return "inconsistent region header";
    case DSHQ_ESECTBOUNDS: return "section lies outside the region";
    case DSHQ_ESECTOVERLAP: return "two sections overlap";
    case DSHQ_ESECTALIGN: return "section not 64-byte aligned";
    case DSHQ_ESHAPE: return "shape hash mismatch: the data has another layout than expected";
    case DSHQ_EOWNER: return "region owned by another user";
    case DSHQ_ENOSECTION: return "no such section in the region";
    case DSHQ_EKIND: return "section of an unexpected kind";
    case DSHQ_ECORRUPT: return "channel control block is corrupt";
    case DSHQ_ELIMIT: return "a fixed limit was reached";
    case DSHQ_EDEAD: return "peer process died";
    case DSHQ_EPARAMCOUNT: return "weights: param_count must be 1 to 2^36 floats";
    case DSHQ_EREADERS: return "weights: max_readers must be 1 to 62";
    case DSHQ_ECAPACITY: return "mailbox: capacity must be a power of two from 2 to 2^20";
    case DSHQ_EBLOBSIZE: return "telemetry: blob capacity must be 1 to 2^20 bytes";
    case DSHQ_ESLOTCOUNT: return "telemetry: at most 4096 heartbeat slots";
    default: break;
    }
    if (rc < 0 && rc > -DSHQ_EBASE)
        return strerror(-rc);
    return "unknown error";
}
