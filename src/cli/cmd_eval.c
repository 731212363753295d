/* cmd_eval.c — 'dshq eval FILE': play a checkpoint against a baseline. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/host.h"
#include "cli/util.h"
#include "rl/train_loop.h"
#include "run/checkpoint.h"
#include "run/config.h"
#include "run/run.h"

int cmd_eval(int argc, char **argv)
{
    const char *file = NULL, *vs = "random";
    int episodes = 200, greedy = 0;
    uint64_t seed = 12345;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dshq eval FILE.dshq [--vs random|scripted] [--episodes N] [--greedy]\n"
                   "                 [--seed S]\n\n"
                   "Loads a checkpoint (every field validated), prints its settings, and\n"
                   "plays N episodes of its policy (left) against a baseline; prints wins,\n"
                   "draws and losses (the win rate counts wins only).\n");
            return 0;
        } else if (!strcmp(a, "--vs") && v) {
            vs = v;
            i++;
        } else if (!strcmp(a, "--episodes")) {
            episodes = (int)cli_parse_int("eval", a, v, 1, 1000000);
            i++;
        } else if (!strcmp(a, "--seed")) {
            seed = (uint64_t)cli_parse_int("eval", a, v, 0, INT64_MAX);
            i++;
        } else if (!strcmp(a, "--greedy"))
            greedy = 1;
        else if (a[0] == '-') {
            fprintf(stderr, "dshq eval: unknown option '%s' (see --help)\n", a);
            return 2;
        } else
            file = a;
    }
    int opp = rl_opponent_parse(vs);
    if (!file) {
        fprintf(stderr, "dshq eval: which checkpoint? usage: dshq eval FILE.dshq "
                        "[--vs random|scripted] [--episodes N]\n");
        return 2;
    }
    if (opp != RL_OPP_RANDOM && opp != RL_OPP_SCRIPTED) {
        fprintf(stderr, "dshq eval: --vs %s: %s\n", vs,
                opp == RL_OPP_SELF ? "a policy against itself wins as often as it loses; "
                                     "eval plays against a fixed baseline: random or scripted"
                                   : "the baselines are random and scripted");
        return 2;
    }
    static struct ckpt_meta meta;
    char err[256];
    if (ckpt_read_meta(file, &meta, err, sizeof err)) {
        fprintf(stderr, "dshq eval: %s: %s\n", file, err);
        return 1;
    }
    int d, h, l, a;
    if (run_arch_parse(meta.arch, &d, &h, &l, &a) || d != BD_OBS_DIM || a != BD_NUM_ACTIONS) {
        fprintf(stderr, "dshq eval: %s: architecture '%s' is not a Ball Drill policy of this "
                        "version\n", file, meta.arch);
        return 1;
    }
    int hid[RL_MLP_MAX_HIDDEN] = {h, h, h};
    struct rl_mlp net;
    if (rl_mlp_init(&net, d, a, hid, l)) {
        fprintf(stderr, "dshq eval: %s: cannot build network '%s'\n", file, meta.arch);
        return 1;
    }
    float *params = rl_mlp_alloc(&net);
    if (!params)
        return cli_fail("eval", "memory", -ENOMEM);
    if (ckpt_load(file, net.shape_hash, net.n_params, &meta, params, NULL, NULL, err,
                  sizeof err)) {
        fprintf(stderr, "dshq eval: %s: %s\n", file, err);
        free(params);
        return 1;
    }
    /* The checkpoint's settings (if it stores them) decide the env's rules. */
    struct run_config cfg;
    run_config_default(&cfg);
    if (meta.config_len &&
        run_config_parse(&cfg, meta.config, file, NULL, err, sizeof err) != 0)
        fprintf(stderr, "dshq eval: %s: its settings do not parse (%s); using defaults\n", file,
                err);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = cfg.max_goals;
    struct rl_eval_result r;
    int rc = rl_evaluate(&net, params, opp, episodes, greedy, &ec, seed, &r);
    free(params);
    if (rc)
        return cli_fail("eval", "evaluation", rc);
    printf("%s: %s, %llu updates, weights version %llu, %.0f s of training\n", file, meta.arch,
           (unsigned long long)meta.updates, (unsigned long long)meta.weights_version,
           meta.train_seconds);
    if (meta.config_len) {
        printf("settings:\n");
        for (const char *p = meta.config; *p;) {
            const char *nl = strchr(p, '\n');
            int len = nl ? (int)(nl - p) : (int)strlen(p);
            printf("  %.*s\n", len, p);
            p += len + (nl ? 1 : 0);
        }
    } else {
        printf("settings: not stored (an older checkpoint)\n");
    }
    printf("vs %s, %d episodes (%s):\n", vs, r.episodes, greedy ? "greedy" : "sampled");
    printf("  wins %d (%.1f%%)  draws %d (%.1f%%)  losses %d (%.1f%%)  mean length %.0f steps\n",
           r.wins, 100.0 * r.wins / r.episodes, r.draws, 100.0 * r.draws / r.episodes, r.losses,
           100.0 * r.losses / r.episodes, r.mean_len);
    return 0;
}
