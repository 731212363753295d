/* config.c — the training config: defaults, the key table, parsing and
 * checking (config.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dshq/mailbox.h"
#include "run/config.h"

#define OFF(f) offsetof(struct run_config, f)

/* One table for flags, file keys, ranges and help; the CLI builds its
 * getopt_long options and its --help from it. */
const struct run_config_key run_config_keys[] = {
    {"workers", RUN_KEY_U32, OFF(workers), 1, RUN_MAX_WORKERS, NULL,
     "rollout workers (default: cores - 1, at least 1; --single-process: unused)"},
    {"envs", RUN_KEY_U32, OFF(envs), 1, 65536, NULL, "envs per worker (default 64)"},
    {"horizon", RUN_KEY_U32, OFF(horizon), 2, 4096, NULL,
     "steps per chunk; one chunk per worker per update (default 128)"},
    {"hidden", RUN_KEY_U32, OFF(hidden), 8, RL_MLP_MAX_WIDTH, NULL,
     "hidden width of the policy and value trunks (default 64)"},
    {"layers", RUN_KEY_U32, OFF(layers), 1, RL_MLP_MAX_HIDDEN, NULL,
     "hidden layers per trunk (default 2)"},
    {"seed", RUN_KEY_U64, OFF(seed), 0, 9.2e18, NULL, "seed of everything (default 1)"},
    {"updates", RUN_KEY_U64, OFF(updates), 0, 1e9, NULL,
     "stop after U updates (0: by --seconds); sets --seconds 0"},
    {"seconds", RUN_KEY_F64, OFF(seconds), 0, 1e7, NULL,
     "training-time budget, pauses excluded (default 300; 0: by --updates)"},
    {"max-lag", RUN_KEY_U32, OFF(max_lag), 0, 1000000, NULL,
     "drop chunks made with a policy more than L versions old (default 4)"},
    {"lane-slots", RUN_KEY_U32, OFF(lane_slots), 2, 64, NULL,
     "chunk slots per worker, a power of two (default 2)"},
    {"transport", RUN_KEY_CHOICE, OFF(transport), 0, 1, "lanes|mpsc",
     "chunks travel in one SPSC lane per worker, or one shared MPSC ring"},
    {"when-full", RUN_KEY_CHOICE, OFF(when_full), 0, 1, "block|drop",
     "a worker whose ring is full waits, or drops the chunk (counted)"},
    {"deterministic", RUN_KEY_FLAG, OFF(deterministic), 0, 1, NULL,
     "result depends only on seed and config: fixed worker order, one chunk each"},
    {"opponent", RUN_KEY_CHOICE, OFF(opponents), 0, 2, "mix|random|scripted",
     "training opponents (mix: random or scripted, half and half)"},
    {"self-play", RUN_KEY_F32, OFF(self_play), 0, 1, NULL,
     "share of episodes against the learner itself (the rest: --opponent)"},
    {"self-play-end", RUN_KEY_F32, OFF(self_play_end), 0, 1, NULL,
     "that share at the end of the run (linear)"},
    {"lr", RUN_KEY_F32, OFF(lr), 1e-9, 1, NULL, "Adam learning rate at the start"},
    {"lr-end", RUN_KEY_F32, OFF(lr_end), 0, 1, NULL, "learning rate at the end (linear)"},
    {"gamma", RUN_KEY_F32, OFF(gamma), 0, 1, NULL, "discount"},
    {"lambda", RUN_KEY_F32, OFF(lambda), 0, 1, NULL, "GAE lambda"},
    {"clip", RUN_KEY_F32, OFF(clip), 0.001, 10, NULL, "PPO ratio clip epsilon"},
    {"vf-coef", RUN_KEY_F32, OFF(vf_coef), 0, 100, NULL, "value loss weight"},
    {"ent-coef", RUN_KEY_F32, OFF(ent_coef), 0, 10, NULL, "entropy bonus weight"},
    {"max-grad-norm", RUN_KEY_F32, OFF(max_grad_norm), 0, 1e6, NULL,
     "global gradient-norm clip (0: none)"},
    {"epochs", RUN_KEY_U32, OFF(epochs), 1, 100, NULL, "passes over the data per update"},
    {"minibatches", RUN_KEY_U32, OFF(minibatches), 1, 4096, NULL, "minibatches per epoch"},
    {"shaping", RUN_KEY_F32, OFF(shaping), 0, 100, NULL,
     "ball-towards-goal shaping (the approach term keeps its ratio to it)"},
    {"shaping-end", RUN_KEY_F32, OFF(shaping_end), 0, 100, NULL,
     "scale of both shaping terms at the end of the run (linear)"},
    {"max-goals", RUN_KEY_U32, OFF(max_goals), 1, 100, NULL, "goals that end an episode"},
};
const size_t run_config_key_count = sizeof run_config_keys / sizeof run_config_keys[0];

void run_config_default(struct run_config *c)
{
    struct rl_train_config d;
    rl_train_config_default(&d);
    memset(c, 0, sizeof *c);
    c->version = RUN_CONFIG_VERSION;
    c->workers = 1;
    c->envs = (uint32_t)d.envs;
    c->horizon = (uint32_t)d.horizon;
    c->hidden = (uint32_t)d.hidden;
    c->layers = (uint32_t)d.layers;
    c->max_lag = 4;
    c->lane_slots = 2;
    c->seed = d.seed;
    c->seconds = 300;
    c->lr = d.ppo.lr;
    c->lr_end = d.ppo.lr_end;
    c->gamma = d.ppo.gamma;
    c->lambda = d.ppo.lambda;
    c->clip = d.ppo.clip;
    c->vf_coef = d.ppo.vf_coef;
    c->ent_coef = d.ppo.ent_coef;
    c->max_grad_norm = d.ppo.max_grad_norm;
    c->epochs = (uint32_t)d.ppo.epochs;
    c->minibatches = (uint32_t)d.ppo.minibatches;
    c->shaping = d.shaping_coef;
    c->approach = d.approach_coef;
    c->shaping_end = d.shaping_end;
    c->max_goals = (uint32_t)d.max_goals;
}

static int choice_index(const char *choices, const char *v)
{
    size_t n = strlen(v);
    int i = 0;
    for (const char *p = choices; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && !strncmp(p, v, n))
            return i;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

static void choice_name(const char *choices, uint32_t idx, char *buf, size_t len)
{
    const char *p = choices;
    for (uint32_t i = 0; i < idx && p; i++) {
        p = strchr(p, '|');
        if (p)
            p++;
    }
    if (!p) {
        snprintf(buf, len, "?");
        return;
    }
    const char *bar = strchr(p, '|');
    snprintf(buf, len, "%.*s", (int)(bar ? bar - p : (long)strlen(p)), p);
}

static const struct run_config_key *find_key(const char *name)
{
    for (size_t i = 0; i < run_config_key_count; i++)
        if (!strcmp(run_config_keys[i].name, name))
            return &run_config_keys[i];
    return NULL;
}

int run_config_set(struct run_config *c, const char *name, const char *value, char *err,
                   size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    const struct run_config_key *k = find_key(name);
    if (!k) {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return -ENOENT;
    }
    unsigned char *field = (unsigned char *)c + k->offset;
    if (k->type == RUN_KEY_CHOICE) {
        int i = choice_index(k->choices, value);
        if (i < 0) {
            snprintf(err, errlen, "%s is one of %s, not '%s'", name, k->choices, value);
            return -EINVAL;
        }
        uint32_t u = (uint32_t)i;
        memcpy(field, &u, sizeof u);
        return 0;
    }
    if (k->type == RUN_KEY_FLAG && (!value || !*value)) {
        uint32_t one = 1;
        memcpy(field, &one, sizeof one);
        return 0;
    }
    char *end;
    errno = 0;
    int integer = k->type != RUN_KEY_F32 && k->type != RUN_KEY_F64;
    double v = 0;
    unsigned long long u = 0;
    if (integer) {
        u = value && *value != '-' ? strtoull(value, &end, 10) : 0;
        v = (double)u;
    } else {
        v = value ? strtod(value, &end) : 0;
    }
    if (!value || !*value || (integer && *value == '-') || errno || *end || !isfinite(v) ||
        v < k->min || v > k->max) {
        snprintf(err, errlen, "%s needs %s in [%g, %g], got '%s'", name,
                 integer ? "an integer" : "a number", k->min, k->max, value ? value : "");
        return -EINVAL;
    }
    switch (k->type) {
    case RUN_KEY_U32:
    case RUN_KEY_FLAG: {
        uint32_t x = (uint32_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case RUN_KEY_U64: {
        uint64_t x = (uint64_t)u;
        memcpy(field, &x, sizeof x);
        break;
    }
    case RUN_KEY_F32: {
        float x = (float)v;
        if (k->offset == OFF(shaping)) /* the approach term keeps its ratio */
            c->approach = c->shaping > 0 ? c->approach * x / c->shaping : 0.5f * x;
        memcpy(field, &x, sizeof x);
        break;
    }
    default: {
        memcpy(field, &v, sizeof v);
        break;
    }
    }
    /* The two budgets exclude each other; shaping keeps the approach ratio. */
    if (!strcmp(name, "updates") && u)
        c->seconds = 0;
    else if (!strcmp(name, "seconds") && v > 0)
        c->updates = 0;
    return 0;
}

void run_config_format(const struct run_config *c, const struct run_config_key *k, char *buf,
                       size_t len)
{
    const unsigned char *field = (const unsigned char *)c + k->offset;
    uint32_t u32;
    uint64_t u64;
    float f;
    double d;
    switch (k->type) {
    case RUN_KEY_CHOICE:
        memcpy(&u32, field, sizeof u32);
        choice_name(k->choices, u32, buf, len);
        break;
    case RUN_KEY_U32:
    case RUN_KEY_FLAG:
        memcpy(&u32, field, sizeof u32);
        snprintf(buf, len, "%u", u32);
        break;
    case RUN_KEY_U64:
        memcpy(&u64, field, sizeof u64);
        snprintf(buf, len, "%llu", (unsigned long long)u64);
        break;
    case RUN_KEY_F32:
        memcpy(&f, field, sizeof f);
        /* The shortest text that reads back as the same float. */
        if (f == (float)(long long)f && f < 1e9f && f > -1e9f) {
            snprintf(buf, len, "%.0f", (double)f);
            break;
        }
        for (int p = 1; p <= 9; p++) {
            snprintf(buf, len, "%.*g", p, (double)f);
            if (strtof(buf, NULL) == f)
                break;
        }
        break;
    default:
        memcpy(&d, field, sizeof d);
        if (d == (double)(long long)d && d < 1e15 && d > -1e15) {
            snprintf(buf, len, "%.0f", d);
            break;
        }
        for (int p = 1; p <= 17; p++) {
            snprintf(buf, len, "%.*g", p, d);
            if (strtod(buf, NULL) == d)
                break;
        }
        break;
    }
}

void run_config_write(FILE *f, const struct run_config *c)
{
    for (size_t i = 0; i < run_config_key_count; i++) {
        char v[64];
        run_config_format(c, &run_config_keys[i], v, sizeof v);
        fprintf(f, "%s = %s\n", run_config_keys[i].name, v);
    }
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = 0;
    return s;
}

int run_config_parse(struct run_config *c, const char *text, const char *name,
                     uint8_t *seen, char *err, size_t errlen)
{
    char line[512], msg[256];
    int n = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        n++;
        if (len >= sizeof line) {
            snprintf(err, errlen, "%s:%d: line too long", name, n);
            return -EINVAL;
        }
        memcpy(line, p, len);
        line[len] = 0;
        p += len + (nl ? 1 : 0);
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", name, n);
            return -EINVAL;
        }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        const struct run_config_key *k = find_key(key);
        int rc;
        if (k && k->type == RUN_KEY_FLAG && (!strcmp(val, "0") || !strcmp(val, "1"))) {
            uint32_t x = (uint32_t)(val[0] - '0');
            memcpy((unsigned char *)c + k->offset, &x, sizeof x);
            rc = 0;
        } else {
            rc = run_config_set(c, key, val, msg, sizeof msg);
        }
        if (rc) {
            snprintf(err, errlen, "%s:%d: %s", name, n, msg);
            return rc;
        }
        if (seen)
            seen[k - run_config_keys] = 1;
    }
    return 0;
}

int run_config_load(struct run_config *c, const char *path, uint8_t *seen, char *err,
                    size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: %s", path, strerror(e));
        return -e;
    }
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, f);
    int bad = ferror(f) || !feof(f);
    fclose(f);
    if (bad) {
        snprintf(err, errlen, "%s: unreadable or over %zu bytes", path, sizeof text - 1);
        return -EINVAL;
    }
    text[n] = 0;
    return run_config_parse(c, text, path, seen, err, errlen);
}

int run_config_check(const struct run_config *c, char *err, size_t errlen)
{
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (c->version != RUN_CONFIG_VERSION) {
        snprintf(err, errlen, "config version %u, this build reads %d", c->version,
                 RUN_CONFIG_VERSION);
        return -EINVAL;
    }
    for (size_t i = 0; i < run_config_key_count; i++) {
        const struct run_config_key *k = &run_config_keys[i];
        const unsigned char *field = (const unsigned char *)c + k->offset;
        double v;
        uint32_t u32;
        uint64_t u64;
        float f;
        switch (k->type) {
        case RUN_KEY_U64:
            memcpy(&u64, field, sizeof u64);
            v = (double)u64;
            break;
        case RUN_KEY_F32:
            memcpy(&f, field, sizeof f);
            v = f;
            break;
        case RUN_KEY_F64:
            memcpy(&v, field, sizeof v);
            break;
        default:
            memcpy(&u32, field, sizeof u32);
            v = u32;
            break;
        }
        if (!isfinite(v) || v < k->min || v > k->max) {
            snprintf(err, errlen, "%s = %g is outside [%g, %g]", k->name, v, k->min, k->max);
            return -EINVAL;
        }
    }
    if (!isfinite(c->approach) || c->approach < 0 || c->approach > 100) {
        snprintf(err, errlen, "approach shaping %g is outside [0, 100]", (double)c->approach);
        return -EINVAL;
    }
    if (c->lane_slots & (c->lane_slots - 1)) {
        snprintf(err, errlen, "lane-slots = %u is not a power of two", c->lane_slots);
        return -EINVAL;
    }
    if (!c->updates && !(c->seconds > 0)) {
        snprintf(err, errlen, "no budget: set updates or seconds");
        return -EINVAL;
    }
    return 0;
}

void run_config_to_train(const struct run_config *c, struct rl_train_config *tc)
{
    rl_train_config_default(tc);
    tc->envs = (int)c->envs;
    tc->horizon = (int)c->horizon;
    tc->hidden = (int)c->hidden;
    tc->layers = (int)c->layers;
    tc->seed = c->seed;
    tc->ppo.lr = c->lr;
    tc->ppo.lr_end = c->lr_end;
    tc->ppo.gamma = c->gamma;
    tc->ppo.lambda = c->lambda;
    tc->ppo.clip = c->clip;
    tc->ppo.vf_coef = c->vf_coef;
    tc->ppo.ent_coef = c->ent_coef;
    tc->ppo.max_grad_norm = c->max_grad_norm;
    tc->ppo.epochs = (int)c->epochs;
    tc->ppo.minibatches = (int)c->minibatches;
    tc->shaping_coef = c->shaping;
    tc->approach_coef = c->approach;
    tc->shaping_end = c->shaping_end;
    tc->max_goals = (int)c->max_goals;
    /* The baselines' split (--opponent), then the self-play share on top. */
    struct rl_opponent_mix base = tc->mix;
    if (c->opponents == RUN_OPP_RANDOM || c->opponents == RUN_OPP_SCRIPTED) {
        memset(&base, 0, sizeof base);
        base.p[c->opponents == RUN_OPP_RANDOM ? RL_OPP_RANDOM : RL_OPP_SCRIPTED] = 1.0f;
    }
    float sum = base.p[RL_OPP_RANDOM] + base.p[RL_OPP_SCRIPTED];
    for (int end = 0; end < 2; end++) {
        struct rl_opponent_mix *m = end ? &tc->mix_end : &tc->mix;
        float self = end ? c->self_play_end : c->self_play;
        m->p[RL_OPP_RANDOM] = sum > 0 ? (1.0f - self) * base.p[RL_OPP_RANDOM] / sum : 0;
        m->p[RL_OPP_SCRIPTED] = sum > 0 ? (1.0f - self) * base.p[RL_OPP_SCRIPTED] / sum : 0;
        m->p[RL_OPP_SELF] = self;
    }
}

int run_config_hparam_range(uint32_t param, double *min, double *max)
{
    const char *name = param == DSHQ_HPARAM_LEARNING_RATE ? "lr"
                     : param == DSHQ_HPARAM_ENTROPY_COEF  ? "ent-coef"
                     : param == DSHQ_HPARAM_SHAPING_COEF  ? "shaping"
                     : param == DSHQ_HPARAM_CLIP          ? "clip"
                                                          : NULL;
    const struct run_config_key *k = name ? find_key(name) : NULL;
    if (!k)
        return -EINVAL;
    *min = k->min;
    *max = k->max;
    return 0;
}
