/* checkpoint.h — `.dshq` checkpoint files: a policy's parameters (and,
 * optionally, its Adam state) with everything needed to resume and to
 * refuse a file that is not what it claims.
 *
 * The format is in docs/checkpoint.md.  In short, all little-endian:
 *
 *   0    header, 256 bytes: magic "DSHQCKPT", format version, header size,
 *        shape hash, parameter count, counters, flags, body CRC32, body size,
 *        architecture string, header CRC32 (last 4 bytes)
 *   256  body: params f32[param_count]
 *              then, if flags & CKPT_FLAG_OPTIMIZER: adam_m f32[param_count],
 *                                                   adam_v f32[param_count]
 *              then, if flags & CKPT_FLAG_CONFIG: config_len bytes of text,
 *                    "key = value" lines (run/config.h), covered by the body CRC
 *
 * The API is generic over float blocks: the learner keeps all its
 * parameters in one contiguous float array, so a checkpoint needs nothing of
 * its headers.  Saving is atomic (temporary file in the same directory,
 * fsync, rename, fsync of the directory): a crash leaves the old file or the
 * new one, never a mix.  Loading checks everything, never reads or writes out
 * of bounds, and fills the caller's arrays only when every check passed. */
#ifndef DSHQ_RUN_CHECKPOINT_H
#define DSHQ_RUN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#define CKPT_MAGIC "DSHQCKPT"
#define CKPT_FORMAT_VERSION 1
#define CKPT_HEADER_SIZE 256
#define CKPT_ARCH_LEN 128
#define CKPT_MAX_PARAMS (UINT64_C(1) << 28) /* 1 GiB of f32; far above any policy here */
#define CKPT_FLAG_OPTIMIZER 1u
#define CKPT_FLAG_CONFIG 2u  /* the body ends with the run's config as text */
#define CKPT_CONFIG_MAX 4096 /* config text bytes, exclusive bound */

/* Results: 0 or one of these (each with its own message in err). */
enum {
    CKPT_OK = 0,
    CKPT_EIO = -1,        /* open/read/write/fsync/rename failed (errno text in err) */
    CKPT_ETRUNC = -2,     /* the file ends before the header or the body does */
    CKPT_EMAGIC = -3,     /* not a checkpoint */
    CKPT_EVERSION = -4,   /* a format version this build does not read */
    CKPT_EHEADERCRC = -5, /* header damaged (its CRC32 does not match) */
    CKPT_EHEADER = -6,    /* header fields inconsistent with each other */
    CKPT_ESHAPE = -7,     /* another network layout (shape hash) */
    CKPT_ECOUNT = -8,     /* another parameter count than the caller's buffers */
    CKPT_ETRAILING = -9,  /* bytes after the body */
    CKPT_ECRC = -10,      /* body damaged (its CRC32 does not match) */
    CKPT_ENOMEM = -11,
    CKPT_EINVAL = -12,    /* bad arguments */
    CKPT_EVALUE = -13,    /* valid CRCs around hostile values: a NaN or infinite
                           * parameter or Adam moment, a negative second moment,
                           * an Adam step or a training time out of range */
};
/* Bounds of the values behind the CRCs (docs/checkpoint.md). */
#define CKPT_MAX_ADAM_T (UINT64_C(1) << 40)
#define CKPT_MAX_TRAIN_SECONDS 1.0e9

/* What a checkpoint says about itself (process-local). */
struct ckpt_meta {
    uint64_t shape_hash;      /* the network layout's shape hash */
    uint64_t param_count;     /* floats in params (and in adam_m, adam_v) */
    uint64_t steps;           /* samples the learner trained on */
    uint64_t updates;         /* PPO updates */
    uint64_t env_steps;       /* environment steps collected */
    uint64_t weights_version; /* last version published */
    uint64_t adam_t;          /* Adam's step count (0 without optimizer state) */
    uint64_t created_unix_ns; /* save: ignored (set to now); load: when it was written */
    double train_seconds;     /* training wall time so far */
    uint32_t has_optimizer;   /* load: 1 if the file holds adam_m/adam_v */
    char arch[CKPT_ARCH_LEN]; /* e.g. "mlp-42-64x2-30", NUL-terminated */
    uint32_t config_len;      /* bytes of config text (0: none, e.g. an older file) */
    char config[CKPT_CONFIG_MAX]; /* the text, NUL-terminated on load when zeroed first */
};

/* Writes path atomically.  adam_m and adam_v: both NULL (no optimizer state)
 * or both param_count floats.  0 or CKPT_E*, with a message in err. */
int ckpt_save(const char *path, const struct ckpt_meta *meta, const float *params,
              const float *adam_m, const float *adam_v, char *err, size_t errlen);

/* Reads and checks path.  expected_shape_hash and expected_params must match
 * the file (CKPT_ESHAPE, CKPT_ECOUNT); params has room for expected_params
 * floats.  adam_m/adam_v: both NULL, or both with room for expected_params;
 * filled only when the file has optimizer state (meta->has_optimizer).
 * Nothing is written to params/adam_m/adam_v unless the result is 0. */
int ckpt_load(const char *path, uint64_t expected_shape_hash, uint64_t expected_params,
              struct ckpt_meta *meta, float *params, float *adam_m, float *adam_v,
              char *err, size_t errlen);

/* Reads and checks only the header (magic, version, header CRC, fields, file
 * size): what a tool needs before it knows the network. */
int ckpt_read_meta(const char *path, struct ckpt_meta *meta, char *err, size_t errlen);

/* Short name of a result ("truncated", "bad body CRC"). */
const char *ckpt_strerror(int rc);

#endif
