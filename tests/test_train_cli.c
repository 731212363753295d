/* test_train_cli — `dshq train` as a user meets it: one set of settings for
 * both modes (same flags, ranges and --help), --config FILE and
 * --print-config, --deterministic across real processes (two runs, the same
 * weights bit for bit), the config stored in the checkpoint and printed by
 * `dshq eval`, --resume saying what it takes and refusing another network,
 * weights versions continuing across a resume, and the small things: "1
 * worker", `ctl --help` exits 0, `ctl set lr 0` is refused before posting,
 * `eval --vs self` says why not. */
#include <errno.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "cli_run.h"
#include "run/checkpoint.h"

#define HAS(out, text) CHECK_MSG(strstr(out, text), "missing '%s' in:\n%s", text, out)

static float *load(const char *path, struct ckpt_meta *meta, uint64_t shape, uint64_t n)
{
    float *p = malloc(n * sizeof(float));
    char err[256];
    CHECK(p);
    CHECK_MSG(ckpt_load(path, shape, n, meta, p, NULL, NULL, err, sizeof err) == 0, "%s", err);
    return p;
}

int main(void)
{
    if (access(cli_bin(), X_OK) != 0) {
        printf("skip: %s not built\n", cli_bin());
        return TEST_SKIP;
    }
    static char out[65536];
    char dir[128], cfgfile[256];
    snprintf(dir, sizeof dir, "/tmp/dshq-cli-%d", (int)getpid());
    CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);

    /* --help: every setting, in both modes, the same text. */
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --help"), 0);
    static const char *flags[] = {"--lr X", "--hidden X", "--layers X", "--lane-slots X",
                                  "--transport X", "--when-full X", "--deterministic",
                                  "--config FILE", "--print-config", "--resume FILE"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        HAS(out, flags[i]);
    static char out2[65536];
    CHECK_EQ_INT(cli_run(out2, sizeof out2, "train --single-process --help"), 0);
    CHECK_STR(out, out2);

    /* The same ranges in both modes: the MLP's width limit, a power of two. */
    for (int single = 0; single < 2; single++) {
        const char *mode = single ? "--single-process" : "";
        CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --hidden 300 --print-config", mode), 2);
        HAS(out, "hidden needs an integer in [8, 256]");
        CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --lane-slots 3 --print-config", mode), 2);
        HAS(out, "power of two");
        CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --lr 0 --print-config", mode), 2);
        CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --bogus", mode), 2);
    }

    /* --config FILE, overridden by a flag wherever it stands; --print-config
     * writes a file that reads back to the same settings. */
    snprintf(cfgfile, sizeof cfgfile, "%s/a.cfg", dir);
    FILE *f = fopen(cfgfile, "w");
    CHECK(f);
    fputs("# a comment\nlr = 0.0002\nseed = 5\n\nhidden = 32\ntransport = mpsc\n", f);
    fclose(f);
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --seed 6 --config %s --print-config", cfgfile), 0);
    HAS(out, "lr = 0.0002\n");
    HAS(out, "seed = 6\n");
    HAS(out, "hidden = 32\n");
    HAS(out, "transport = mpsc\n");
    char cfg2[256];
    snprintf(cfg2, sizeof cfg2, "%s/b.cfg", dir);
    f = fopen(cfg2, "w");
    fputs(out, f);
    fclose(f);
    CHECK_EQ_INT(cli_run(out2, sizeof out2, "train --config %s --print-config", cfg2), 0);
    CHECK_STR(out, out2);
    f = fopen(cfgfile, "w");
    fputs("lr = 0.0002\nhiden = 32\n", f);
    fclose(f);
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --config %s --print-config", cfgfile), 2);
    HAS(out, "a.cfg:2: unknown setting 'hiden'");

    /* The single-process loop takes the settings too. */
    CHECK_EQ_INT(cli_run(out, sizeof out,
                      "train --single-process --updates 2 --envs 4 --horizon 8 --hidden 8 "
                      "--layers 1 --lr 0.0005 --lane-slots 4 --eval-episodes 2 --quiet"),
                 0);
    HAS(out, "done: 2 updates");

    /* --deterministic across processes: two runs, the same weights.  One
     * worker says so in the singular. */
    const char *common = "--deterministic --updates 3 --workers 2 --envs 8 --horizon 16 "
                         "--hidden 16 --layers 1 --eval-episodes 0";
    char ck1[256], ck2[256];
    snprintf(ck1, sizeof ck1, "%s/det1-%d.dshq", dir, (int)getpid());
    snprintf(ck2, sizeof ck2, "%s/det2-%d.dshq", dir, (int)getpid());
    CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --run det1-%d --checkpoint-dir %s", common,
                      (int)getpid(), dir), 0);
    HAS(out, "2 workers x 8 envs");
    HAS(out, "deterministic");
    CHECK_EQ_INT(cli_run(out, sizeof out, "train %s --run det2-%d --checkpoint-dir %s", common,
                      (int)getpid(), dir), 0);
    static struct ckpt_meta m1, m2;
    char err[256];
    CHECK_MSG(ckpt_read_meta(ck1, &m1, err, sizeof err) == 0, "%s", err);
    float *w1 = load(ck1, &m1, m1.shape_hash, m1.param_count);
    float *w2 = load(ck2, &m2, m1.shape_hash, m1.param_count);
    CHECK_MSG(memcmp(w1, w2, m1.param_count * sizeof(float)) == 0,
              "two --deterministic runs ended with different weights");
    CHECK_EQ_U64(m1.updates, 3);
    CHECK_EQ_U64(m1.weights_version, 4);
    /* The checkpoint stores the settings; eval prints them. */
    CHECK(m1.config_len > 0);
    CHECK(strstr(m1.config, "deterministic = 1\n") && strstr(m1.config, "hidden = 16\n"));
    CHECK_EQ_INT(cli_run(out, sizeof out, "eval %s --episodes 4", ck1), 0);
    HAS(out, "settings:");
    HAS(out, "  hidden = 16");
    HAS(out, "wins ");
    CHECK_EQ_INT(cli_run(out, sizeof out, "eval %s --vs self", ck1), 2);
    HAS(out, "against itself");
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --updates 1 --workers 1 --envs 4 --horizon 8 "
                      "--hidden 8 --layers 1 --eval-episodes 0 --run one-%d --checkpoint-dir %s",
                      (int)getpid(), dir), 0);
    HAS(out, ": 1 worker x 4 envs");

    /* --resume: another network is refused with the reason; the same one
     * says what it takes and continues the counters and the versions. */
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --resume %s --hidden 32 --updates 1 --run r-%d "
                      "--checkpoint-dir %s", ck1, (int)getpid(), dir), 2);
    HAS(out, "network is 16 wide x 1 layers, but --hidden 32 was asked for");
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --resume %s --print-config", ck1), 0);
    HAS(out, "hidden = 16\nlayers = 1\n");
    HAS(out, "deterministic = 0\n"); /* a run setting: this command line's */
    CHECK_EQ_INT(cli_run(out, sizeof out, "train --resume %s --updates 2 --workers 1 --envs 8 "
                      "--horizon 16 --eval-episodes 0 --run det1-%d --checkpoint-dir %s", ck1,
                      (int)getpid(), dir), 0);
    HAS(out, "from the checkpoint: hidden=16 layers=1 seed=1");
    static struct ckpt_meta m3;
    CHECK_MSG(ckpt_read_meta(ck1, &m3, err, sizeof err) == 0, "%s", err);
    CHECK_EQ_U64(m3.updates, 5);
    CHECK_EQ_U64(m3.weights_version, 6); /* 4, then two more; not 1 + 2 */

    /* ctl: help is not an error; a bad value is refused before posting. */
    CHECK_EQ_INT(cli_run(out, sizeof out, "ctl --help"), 0);
    HAS(out, "usage: dshq ctl");
    CHECK_EQ_INT(cli_run(out, sizeof out, "ctl no-such-run-%d set lr 0", (int)getpid()), 2);
    HAS(out, "nothing posted");
    CHECK_EQ_INT(cli_run(out, sizeof out, "ctl no-such-run-%d set lr 0.001", (int)getpid()), 1);

    free(w1);
    free(w2);
    char rm[256];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CHECK_EQ_INT(system(rm), 0);
    puts("train cli: ok");
    return 0;
}
