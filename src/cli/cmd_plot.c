/* cmd_plot.c — 'dshq plot FILE.jsonl -o curve.svg': the learning curve of
 * a run (mean return and score against training time) as an SVG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/plot.h"

static void plot_usage(FILE *f)
{
    fprintf(f,
            "usage: dshq plot FILE.jsonl [-o OUT.svg] [--title TEXT] [--run N]\n\n"
            "Draws the learning curve of a run from the metrics that 'dshq train\n"
            "--metrics FILE.jsonl' wrote: mean episode return (upper panel) and\n"
            "score against the current opponent (lower panel; wins 1, draws 1/2,\n"
            "losses 0) against training time.\n"
            "The result is one self-contained SVG file; open it in a browser.\n\n"
            "  FILE.jsonl     one JSON object per line with wall_s, mean_return and\n"
            "                 score_ema ('-' reads standard input).  Lines that are\n"
            "                 not JSON objects, or have no numeric wall_s, are skipped\n"
            "                 and counted; null values leave a gap in that series.\n"
            "  -o OUT.svg     where to write (default: FILE with .svg for .jsonl)\n"
            "  --title TEXT   title on top (default: the input's name)\n"
            "  --run N        plot the N-th run of the file (1 = the first).  Each\n"
            "                 'dshq train' appends a run, opened by a run_begin line;\n"
            "                 a file that holds several is refused without --run.\n");
}

int cmd_plot(int argc, char **argv)
{
    const char *in_path = NULL, *out_path = NULL, *title = NULL;
    size_t select = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            plot_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
            if (++i >= argc) {
                fprintf(stderr, "dshq plot: %s needs a file name\n", argv[i - 1]);
                return 2;
            }
            out_path = argv[i];
        } else if (!strcmp(argv[i], "--title")) {
            if (++i >= argc) {
                fprintf(stderr, "dshq plot: --title needs a text\n");
                return 2;
            }
            title = argv[i];
        } else if (!strcmp(argv[i], "--run")) {
            char *end;
            long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || v < 1) {
                fprintf(stderr, "dshq plot: --run needs a run number, 1 or more\n");
                return 2;
            }
            select = (size_t)v;
            i++;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            fprintf(stderr, "dshq plot: unknown option '%s' (see --help)\n", argv[i]);
            return 2;
        } else if (!in_path) {
            in_path = argv[i];
        } else {
            fprintf(stderr, "dshq plot: one input file only ('%s' is a second)\n", argv[i]);
            return 2;
        }
    }
    if (!in_path) {
        plot_usage(stderr);
        return 2;
    }
    char def_out[4096];
    if (!out_path) {
        if (!strcmp(in_path, "-")) {
            fprintf(stderr, "dshq plot: reading standard input: say where to write with -o\n");
            return 2;
        }
        size_t n = strlen(in_path);
        size_t stem = n > 6 && !strcmp(in_path + n - 6, ".jsonl") ? n - 6 : n;
        if (snprintf(def_out, sizeof def_out, "%.*s.svg", (int)stem, in_path) >=
            (int)sizeof def_out) {
            fprintf(stderr, "dshq plot: input name too long\n");
            return 2;
        }
        out_path = def_out;
    }

    FILE *in = strcmp(in_path, "-") ? fopen(in_path, "r") : stdin;
    if (!in) {
        fprintf(stderr, "dshq plot: cannot open %s: %s\n", in_path, strerror(errno));
        if (errno == ENOENT)
            fprintf(stderr, "  hint: write metrics with 'dshq train --metrics %s'\n", in_path);
        return 1;
    }
    struct plot_data d;
    memset(&d, 0, sizeof d);
    d.select = select;
    int rc = plot_read_jsonl(in, &d);
    if (in != stdin)
        fclose(in);
    if (rc) {
        fprintf(stderr, "dshq plot: reading %s: %s\n", in_path, strerror(-rc));
        plot_data_free(&d);
        return 1;
    }
    if (!select && d.runs > 1) {
        fprintf(stderr, "dshq plot: %s holds %zu runs (each 'dshq train --metrics' appends "
                        "one); their curves would overlap\n"
                        "  hint: pick one with --run N (1..%zu), or give each run its own file\n",
                in_path, d.runs, d.runs);
        plot_data_free(&d);
        return 2;
    }
    if (select && select > d.runs) {
        fprintf(stderr, "dshq plot: %s holds %zu run%s, not %zu\n", in_path, d.runs,
                d.runs == 1 ? "" : "s", select);
        plot_data_free(&d);
        return 2;
    }
    if (d.malformed || d.no_time)
        fprintf(stderr, "dshq plot: %s: skipped %zu of %zu lines (%zu not JSON objects, "
                        "%zu without a numeric wall_s)\n", in_path, d.malformed + d.no_time,
                d.lines, d.malformed, d.no_time);
    if (d.used == 0)
        fprintf(stderr, "dshq plot: %s has no usable line; the plot will be empty\n", in_path);

    FILE *out = fopen(out_path, "w");
    if (!out) {
        fprintf(stderr, "dshq plot: cannot create %s: %s\n", out_path, strerror(errno));
        plot_data_free(&d);
        return 1;
    }
    rc = plot_write_svg(out, &d, title ? title : in_path);
    if (fclose(out) && !rc)
        rc = -errno;
    if (rc) {
        fprintf(stderr, "dshq plot: writing %s: %s\n", out_path, strerror(-rc));
        unlink(out_path);
        plot_data_free(&d);
        return 1;
    }
    printf("wrote %s: %zu return points, %zu score points from %zu lines", out_path, d.ret.n,
           d.win.n, d.lines);
    if (select)
        printf(" (run %zu of %zu)", select, d.runs);
    printf("\n");
    plot_data_free(&d);
    return 0;
}
