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
    /* Check the request before touching the run: a bad one posts nothing. */
    const char *what = argv[2];
    uint32_t type;
    uint8_t payload[DSHQ_MSG_PAYLOAD_BYTES] = {0};
    size_t len = 0;
    if (!strcmp(what, "stop"))
        type = DSHQ_MSG_STOP;
    else if (!strcmp(what, "pause") || !strcmp(what, "resume")) {
        struct dshq_msg_pause p = {.paused = !strcmp(what, "pause")};
        type = DSHQ_MSG_PAUSE;
        memcpy(payload, &p, sizeof p);
        len = sizeof p;
    } else if (!strcmp(what, "reset"))
        type = DSHQ_MSG_RESET;
    else if (!strcmp(what, "set") && argc == 5) {
        static const struct { const char *name; uint32_t id; } params[] = {
            {"lr", DSHQ_HPARAM_LEARNING_RATE}, {"ent", DSHQ_HPARAM_ENTROPY_COEF},
            {"shaping", DSHQ_HPARAM_SHAPING_COEF}, {"clip", DSHQ_HPARAM_CLIP}};
        struct dshq_msg_set_hparam h = {0};
        for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
            if (!strcmp(argv[3], params[i].name))
                h.param = params[i].id;
        if (!h.param) {
            fprintf(stderr, "dshq ctl: unknown parameter '%s' (lr, ent, shaping, clip)\n", argv[3]);
            return 2;
        }
        double lo, hi;
        run_config_hparam_range(h.param, &lo, &hi);
        char *end;
        double v = strtod(argv[4], &end);
        if (*end || end == argv[4] || !(v >= lo && v <= hi)) {
            fprintf(stderr, "dshq ctl: %s must be a number in [%g, %g], not '%s'; nothing "
                            "posted\n", argv[3], lo, hi, argv[4]);
            return 2;
        }
        h.value = (float)v;
        type = DSHQ_MSG_SET_HPARAM;
        memcpy(payload, &h, sizeof h);
        len = sizeof h;
    } else {
        fprintf(stderr, "dshq ctl: %s '%s' (see --help)\n",
                !strcmp(what, "set") ? "set needs PARAM VALUE, not" : "unknown request", what);
        return 2;
    }
    struct run run;
    if (type == DSHQ_MSG_STOP) {
        /* A damaged run block must not make a run unstoppable: the stop
         * flag needs no config. */
        char region[80];
        if (cli_region_name(argv[1], region, sizeof region) == 0 &&
            run_attach(&run, region, 0) == DSHQ_ECORRUPT) {
            char why[320] = "?";
            run_diagnose(region, why, sizeof why);
            int src = run_stop_region(region);
            if (src)
                return cli_fail("ctl", region, src);
            printf("raised the stop flag of %s directly: its run block is damaged (%s)\n",
                   region, why);
            return 0;
        }
        if (run.region)
            run_detach(&run);
    }
    if (cli_attach_run("ctl", &run, argv[1], 0))
        return 1;
    struct dshq_mailbox *mb;
    int rc = dshq_mailbox_attach(run.mailbox_mem, run.mailbox_size, 0, &mb);
    if (rc) {
        run_detach(&run);
        return cli_fail("ctl", "mailbox", rc);
    }
    rc = dshq_mailbox_post(mb, type, 1, len ? payload : NULL, len);
    if (rc == DSHQ_MAILBOX_FULL) {
        fprintf(stderr, "dshq ctl: the mailbox of %s is full (is the trainer stuck?)\n", argv[1]);
        rc = 1;
    } else if (rc < 0)
        rc = cli_fail("ctl", "post", rc);
    else
        printf("posted '%s' to %s\n", what, run.region_name);
    dshq_mailbox_detach(mb);
    run_detach(&run);
    return rc;
}
