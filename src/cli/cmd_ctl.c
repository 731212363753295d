/* cmd_ctl.c — 'dshq ctl RUN ...': control messages to a running training. */
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
#include "run/config.h"

int cmd_ctl(int argc, char **argv)
{
    int help = argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
    if (argc < 3 || help) {
        fprintf(help ? stdout : stderr,
               "usage: dshq ctl RUN stop | pause | resume | reset | set PARAM VALUE\n\n"
               "Posts a control message to a running training's mailbox.\n"
               "  stop     finish: checkpoint, evaluate, summary\n"
               "  pause    stop updating the policy (workers idle when their lanes fill)\n"
               "  resume   continue\n"
               "  reset    start learning over from fresh weights (counters continue)\n"
               "  set      PARAM is lr (0 < X <= 1), ent (0..10), shaping (0..100; a set\n"
               "           value holds: the shaping anneal stops) or clip (0.001..10);\n"
               "           out-of-range values are refused here, and counted by the trainer\n"
               "           if they reach it\n");
        return help ? 0 : 2;
    }
    struct run run;
    if (cli_attach_run("ctl", &run, argv[1], 0))
        return 1;
    struct dshq_mailbox *mb;
    int rc = dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb);
    if (rc) {
        run_detach(&run);
        return cli_fail("ctl", "mailbox", rc);
    }
    const char *what = argv[2];
    if (!strcmp(what, "stop"))
        rc = dshq_mailbox_post(mb, DSHQ_MSG_STOP, 1, NULL, 0);
    else if (!strcmp(what, "pause") || !strcmp(what, "resume")) {
        struct dshq_msg_pause p = {.paused = !strcmp(what, "pause")};
        rc = dshq_mailbox_post(mb, DSHQ_MSG_PAUSE, 1, &p, sizeof p);
    } else if (!strcmp(what, "reset"))
        rc = dshq_mailbox_post(mb, DSHQ_MSG_RESET, 1, NULL, 0);
    else if (!strcmp(what, "set") && argc >= 5) {
        static const struct { const char *name; uint32_t id; } params[] = {
            {"lr", DSHQ_HPARAM_LEARNING_RATE}, {"ent", DSHQ_HPARAM_ENTROPY_COEF},
            {"shaping", DSHQ_HPARAM_SHAPING_COEF}, {"clip", DSHQ_HPARAM_CLIP}};
        struct dshq_msg_set_hparam h = {0};
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (!strcmp(argv[3], params[i].name))
                h.param = params[i].id;
        if (!h.param) {
            fprintf(stderr, "dshq ctl: unknown parameter '%s' (lr, ent, shaping, clip)\n", argv[3]);
            rc = 2;
            goto out;
        }
        double lo, hi;
        run_config_hparam_range(h.param, &lo, &hi);
        char *end;
        double v = strtod(argv[4], &end);
        if (*end || end == argv[4] || !(v >= lo && v <= hi)) {
            fprintf(stderr, "dshq ctl: %s must be a number in [%g, %g], not '%s'; nothing "
                            "posted\n", argv[3], lo, hi, argv[4]);
            rc = 2;
            goto out;
        }
        h.value = (float)v;
        rc = dshq_mailbox_post(mb, DSHQ_MSG_SET_HPARAM, 1, &h, sizeof h);
    } else {
        fprintf(stderr, "dshq ctl: unknown request '%s' (see --help)\n", what);
        rc = 2;
        goto out;
    }
    if (rc == DSHQ_MAILBOX_FULL) {
        fprintf(stderr, "dshq ctl: the mailbox of %s is full (is the trainer stuck?)\n", argv[1]);
        rc = 1;
    } else if (rc < 0)
        rc = cli_fail("ctl", "post", rc);
    else
        printf("posted '%s' to %s\n", what, run.region_name);
out:
    dshq_mailbox_detach(mb);
    run_detach(&run);
    return rc;
}

