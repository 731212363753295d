/* metrics.c — the field table of struct metrics, its shape hash and its
 * JSON-lines form. */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "run/metrics.h"
#include "dshq/hash.h"

#define U64(f) {#f, offsetof(struct metrics, f), 0}
#define F64(f) {#f, offsetof(struct metrics, f), 1}

const struct metrics_field metrics_fields[] = {
    U64(steps),
    U64(updates),
    U64(episodes),
    U64(weights_version),
    U64(chunks_consumed),
    U64(chunks_dropped_lag),
    U64(chunks_dropped_full),
    U64(policy_lag_min),
    U64(policy_lag_max),
    U64(opponent),
    U64(paused),
    F64(wall_s),
    F64(steps_per_s),
    F64(updates_per_s),
    F64(policy_loss),
    F64(value_loss),
    F64(entropy),
    F64(approx_kl),
    F64(clip_fraction),
    F64(explained_variance),
    F64(mean_return),
    F64(score_ema),
    F64(episode_length),
    F64(policy_lag_mean),
    F64(learning_rate),
    F64(entropy_coef),
    F64(shaping_coef),
    F64(clip),
};
const size_t metrics_field_count = sizeof metrics_fields / sizeof metrics_fields[0];

uint64_t metrics_shape_hash(void)
{
    /* Relaxed: every thread computes the same value; caching is an optimization. */
    static _Atomic uint64_t cached;
    uint64_t c = atomic_load_explicit(&cached, memory_order_relaxed);
    if (c)
        return c;
    char buf[2048];
    size_t n = (size_t)snprintf(buf, sizeof buf, "metrics/v%d;size=%zu", METRICS_VERSION,
                                sizeof(struct metrics));
    for (size_t i = 0; i < metrics_field_count && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, ";%s:%s@%zu", metrics_fields[i].name,
                              metrics_fields[i].is_double ? "f64" : "u64",
                              metrics_fields[i].offset);
    uint64_t h = dshq_shape_hash(buf);
    atomic_store_explicit(&cached, h, memory_order_relaxed);
    return h;
}

void metrics_init(struct metrics *m)
{
    memset(m, 0, sizeof *m);
    for (size_t i = 0; i < metrics_field_count; i++)
        if (metrics_fields[i].is_double) {
            double nan = NAN;
            memcpy((unsigned char *)m + metrics_fields[i].offset, &nan, sizeof nan);
        }
}

double metrics_get(const struct metrics *m, size_t i)
{
    const unsigned char *p = (const unsigned char *)m + metrics_fields[i].offset;
    if (metrics_fields[i].is_double) {
        double d;
        memcpy(&d, p, sizeof d);
        return d;
    }
    uint64_t u;
    memcpy(&u, p, sizeof u);
    return (double)u;
}

int metrics_write_jsonl(FILE *f, const struct metrics *m)
{
    char line[4096];
    size_t n = 0;
    line[n++] = '{';
    for (size_t i = 0; i < metrics_field_count; i++) {
        const struct metrics_field *fd = &metrics_fields[i];
        const unsigned char *p = (const unsigned char *)m + fd->offset;
        int w;
        if (fd->is_double) {
            double d;
            memcpy(&d, p, sizeof d);
            if (isfinite(d))
                w = snprintf(line + n, sizeof line - n, "%s\"%s\":%.9g", i ? "," : "",
                             fd->name, d);
            else
                w = snprintf(line + n, sizeof line - n, "%s\"%s\":null", i ? "," : "",
                             fd->name);
        } else {
            uint64_t u;
            memcpy(&u, p, sizeof u);
            w = snprintf(line + n, sizeof line - n, "%s\"%s\":%llu", i ? "," : "", fd->name,
                         (unsigned long long)u);
        }
        if (w < 0 || (size_t)w >= sizeof line - n - 2)
            return -EOVERFLOW;
        n += (size_t)w;
    }
    line[n++] = '}';
    line[n++] = '\n';
    if (fwrite(line, 1, n, f) != n)
        return errno ? -errno : -EIO;
    return 0;
}

const char *metrics_role_name(uint32_t role)
{
    switch (role) {
    case METRICS_ROLE_LAUNCHER: return "launcher";
    case METRICS_ROLE_TRAINER: return "trainer";
    case METRICS_ROLE_WORKER: return "worker";
    case METRICS_ROLE_SHOW: return "show";
    case METRICS_ROLE_MONITOR: return "monitor";
    default: return "?";
    }
}

const char *metrics_opponent_name(uint64_t opp)
{
    switch (opp) {
    case METRICS_OPP_NONE: return "none";
    case METRICS_OPP_RANDOM: return "random";
    case METRICS_OPP_SCRIPTED: return "scripted";
    case METRICS_OPP_SELF: return "self";
    default: return "?";
    }
}
