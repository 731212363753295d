/* test_run_config — the one training config: every key formats and parses
 * back to the same bytes, ranges are enforced when set and when checked (a
 * config read from shared memory or a file that is out of range, NaN, of
 * another version or without a budget is refused), the budgets exclude each
 * other, --shaping keeps the approach ratio, the key = value parser reports
 * FILE:LINE, and the learner's view (opponent mix with self-play) is what
 * the settings say. */
#include <errno.h>
#include <math.h>

#include "check.h"
#include "dshq/mailbox.h"
#include "run/config.h"

int main(void)
{
    struct run_config d, c;
    run_config_default(&d);
    char err[256];
    CHECK_EQ_INT(run_config_check(&d, err, sizeof err), 0);
    CHECK_EQ_U64(d.version, RUN_CONFIG_VERSION);

    /* Every key: format, set from that text, same bytes. */
    c = d;
    c.lr = 3e-4f;
    c.seconds = 12.5;
    c.seed = 123456789012345ULL;
    c.transport = RUN_TRANSPORT_MPSC;
    c.deterministic = 1;
    c.self_play = 0.25f;
    for (size_t i = 0; i < run_config_key_count; i++) {
        struct run_config e = d;
        e.updates = c.updates; /* the budgets exclude each other: keep c's pair */
        char v[64];
        run_config_format(&c, &run_config_keys[i], v, sizeof v);
        const char *name = run_config_keys[i].name;
        const char *arg = v; /* a flag is set by its name alone, or to 0 */
        if (run_config_keys[i].type == RUN_KEY_FLAG)
            arg = strcmp(v, "0") ? NULL : "0";
        CHECK_MSG(run_config_set(&e, name, arg, err, sizeof err) == 0, "%s: %s", name, err);
        char w[64];
        run_config_format(&e, &run_config_keys[i], w, sizeof w);
        CHECK_STR(v, w);
    }
    /* The whole config as text and back. */
    char text[8192];
    FILE *f = fmemopen(text, sizeof text, "w");
    run_config_write(f, &c);
    fclose(f);
    struct run_config back = d;
    uint8_t seen[64] = {0};
    CHECK_EQ_INT(run_config_parse(&back, text, "text", seen, err, sizeof err), 0);
    CHECK(memcmp(&back, &c, sizeof c) == 0);
    for (size_t i = 0; i < run_config_key_count; i++)
        CHECK(seen[i]);

    /* Ranges when set. */
    c = d;
    CHECK_EQ_INT(run_config_set(&c, "hidden", "300", err, sizeof err), -EINVAL);
    CHECK(strstr(err, "hidden needs an integer in [8, 256]"));
    CHECK_EQ_INT(run_config_set(&c, "lr", "0", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(run_config_set(&c, "lr", "nan", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(run_config_set(&c, "workers", "-1", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(run_config_set(&c, "envs", "4x", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(run_config_set(&c, "transport", "tcp", err, sizeof err), -EINVAL);
    CHECK_EQ_INT(run_config_set(&c, "no-such", "1", err, sizeof err), -ENOENT);
    CHECK(memcmp(&c, &d, sizeof c) == 0); /* refused values changed nothing */

    /* Budgets, shaping ratio. */
    CHECK_EQ_INT(run_config_set(&c, "updates", "7", err, sizeof err), 0);
    CHECK(c.updates == 7 && c.seconds == 0);
    CHECK_EQ_INT(run_config_set(&c, "seconds", "2", err, sizeof err), 0);
    CHECK(c.updates == 0 && c.seconds == 2);
    CHECK_EQ_INT(run_config_set(&c, "shaping", "2", err, sizeof err), 0);
    CHECK_NEAR(c.approach / c.shaping, d.approach / d.shaping, 1e-6);

    /* Checks on a config that did not come through run_config_set. */
    struct run_config bad;
    bad = d; bad.version = 9;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    bad = d; bad.lr = NAN;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    bad = d; bad.lane_slots = 3;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "power of two"));
    bad = d; bad.workers = RUN_MAX_WORKERS + 1;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    bad = d; bad.transport = 2;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    bad = d; bad.seconds = 0; bad.updates = 0;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);
    bad = d; bad.approach = -1;
    CHECK_EQ_INT(run_config_check(&bad, err, sizeof err), -EINVAL);

    /* The parser: comments, blanks, flags as 0/1, errors with their line. */
    c = d;
    CHECK_EQ_INT(run_config_parse(&c, "# x\n\n  lr = 0.002  # y\ndeterministic = 1\n", "f", NULL,
                                  err, sizeof err), 0);
    CHECK(c.lr == 0.002f && c.deterministic == 1);
    CHECK_EQ_INT(run_config_parse(&c, "lr = 0.002\nlr 0.003\n", "f", NULL, err, sizeof err),
                 -EINVAL);
    CHECK_STR(err, "f:2: expected 'key = value'");

    /* The learner's view. */
    struct rl_train_config tc;
    c = d;
    c.opponents = RUN_OPP_SCRIPTED;
    c.self_play = 0.2f;
    c.self_play_end = 0.6f;
    c.hidden = 32;
    c.epochs = 3;
    run_config_to_train(&c, &tc);
    CHECK(tc.hidden == 32 && tc.ppo.epochs == 3 && tc.ppo.lr == c.lr);
    CHECK_NEAR(tc.mix.p[RL_OPP_SCRIPTED], 0.8, 1e-6);
    CHECK_NEAR(tc.mix.p[RL_OPP_RANDOM], 0.0, 1e-6);
    CHECK_NEAR(tc.mix.p[RL_OPP_SELF], 0.2, 1e-6);
    CHECK_NEAR(tc.mix_end.p[RL_OPP_SCRIPTED], 0.4, 1e-6);
    CHECK_NEAR(tc.mix_end.p[RL_OPP_SELF], 0.6, 1e-6);
    run_config_to_train(&d, &tc);
    CHECK_NEAR(tc.mix.p[RL_OPP_RANDOM], 0.5, 1e-6);
    CHECK_NEAR(tc.mix.p[RL_OPP_SCRIPTED], 0.5, 1e-6);
    CHECK_NEAR(tc.mix.p[RL_OPP_SELF], 0.0, 1e-6);

    /* Control-message ranges are the flags' ranges. */
    double lo, hi;
    CHECK_EQ_INT(run_config_hparam_range(DSHQ_HPARAM_LEARNING_RATE, &lo, &hi), 0);
    CHECK(lo > 0 && hi == 1);
    CHECK_EQ_INT(run_config_hparam_range(DSHQ_HPARAM_CLIP, &lo, &hi), 0);
    CHECK(lo == 0.001 && hi == 10);
    CHECK_EQ_INT(run_config_hparam_range(77, &lo, &hi), -EINVAL);
    puts("run config: ok");
    return 0;
}
