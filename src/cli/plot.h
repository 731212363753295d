/* plot.h — the learning curve of a run as a self-contained SVG.
 *
 * Input: the JSON lines that metrics_write_jsonl writes (--metrics FILE),
 * one object per line.  Each line gives a point at x = wall_s for mean_return
 * and for score_ema where those are numbers (null: no point).  Lines that
 * are not a JSON object are skipped and counted, and so are objects without a
 * numeric wall_s; nothing else about a line is required, so files from older
 * or newer builds plot as long as those three keys mean the same.
 *
 * Output: one SVG document (no scripts, no external references) with two
 * stacked panels sharing the time axis: mean episode return above, score
 * (0-100%) below; axes, ticks, grid, labels and a legend.  Each series is one
 * <polyline> whose id is the JSON key ("mean_return", "score_ema"). */
#ifndef DSHQ_CLI_PLOT_H
#define DSHQ_CLI_PLOT_H

#include <stddef.h>
#include <stdio.h>

/* Longer series are thinned to at most this many points (evenly, keeping
 * the first and last) so the SVG stays light. */
#define PLOT_MAX_POINTS 4000

struct plot_series {
    double *x; /* [n] seconds */
    double *y; /* [n] */
    size_t n, cap;
};

struct plot_data {
    struct plot_series ret; /* mean_return */
    struct plot_series win; /* score_ema: wins 1, draws 1/2, losses 0 */
    size_t lines;           /* non-blank lines read */
    size_t used;            /* lines that gave a time (with or without values) */
    size_t malformed;       /* skipped: not a JSON object */
    size_t no_time;         /* skipped: no numeric wall_s */
    size_t runs;            /* runs in the file (run_begin lines, or time going back) */
    size_t select;          /* in: plot only run N (1-based); 0: every line */
    size_t other_runs;      /* lines of other runs than select, skipped */
};

/* Parses one line.  Returns 1 and fills *wall (and *ret / *win with their
 * has_ flags) for a usable line, 2 for a run marker ({"run_begin":...}, the
 * line the trainer writes when a run opens), 0 for a malformed one, -1 for a
 * JSON object without a numeric wall_s.  *win reads "score_ema" (or the
 * name it had before, "win_rate_ema"). */
int plot_parse_line(const char *line, size_t len, double *wall, double *ret, int *has_ret,
                    double *win, int *has_win);

/* Reads every line of in into d (zero it first).  0, -ENOMEM or -EIO. */
int plot_read_jsonl(FILE *in, struct plot_data *d);
void plot_data_free(struct plot_data *d);

/* Writes the SVG.  title is shown on top (escaped).  0 or -EIO. */
int plot_write_svg(FILE *out, const struct plot_data *d, const char *title);

#endif
