/* dshq plot: metrics JSON lines (written by metrics_write_jsonl, with
 * malformed lines mixed in) become an SVG whose two polylines hold exactly
 * the valid points, inside their panels, in time order; malformed lines and
 * lines without wall_s are counted apart; the document is well-formed enough
 * (one <svg> root, balanced elements, the labels and legend).  The same file
 * goes through the real `dshq plot` binary when $DSHQ names it. */
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "run/metrics.h"
#include "cli/plot.h"
#include "check.h"

#define POINTS 60

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* Parses the points="..." of <polyline id="ID"> into xs/ys; returns n. */
static size_t polyline(const char *svg, const char *id, double *xs, double *ys, size_t max)
{
    char key[64];
    snprintf(key, sizeof key, "<polyline id=\"%s\"", id);
    const char *p = strstr(svg, key);
    CHECK_MSG(p != NULL, "no polyline %s", id);
    CHECK(strstr(p + 1, key) == NULL || strstr(p + 1, key) > strstr(p, "/>")); /* one only */
    p = strstr(p, "points=\"");
    CHECK(p);
    p += 8;
    size_t n = 0;
    while (*p != '"') {
        char *end;
        double x = strtod(p, &end);
        CHECK(end != p && *end == ',');
        double y = strtod(end + 1, &end);
        CHECK(*end == ' ' || *end == '"');
        CHECK(n < max);
        xs[n] = x;
        ys[n] = y;
        n++;
        p = *end == ' ' ? end + 1 : end;
    }
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    CHECK_MSG(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    CHECK(b);
    CHECK_EQ_U64(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void check_svg(const char *svg, size_t want_ret, size_t want_win)
{
    CHECK(strncmp(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"", 39) == 0);
    CHECK(strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
    CHECK_EQ_U64(count(svg, "<svg"), 1);
    CHECK_EQ_U64(count(svg, "<g"), count(svg, "</g>"));
    CHECK_EQ_U64(count(svg, "<text"), count(svg, "</text>"));
    CHECK_EQ_U64(count(svg, "<polyline"), 2);
    CHECK(strstr(svg, "<script") == NULL);
    CHECK(strstr(svg, ">mean episode return</text>"));
    CHECK(strstr(svg, ">score (EMA)</text>"));
    CHECK(strstr(svg, ">wall time (s)</text>"));
    CHECK(strstr(svg, ">mean return</text>"));          /* legend */
    CHECK(strstr(svg, ">score vs opponent (win 1, draw 1/2)</text>")); /* legend */
    CHECK(strstr(svg, ">100%</text>") && strstr(svg, ">0%</text>"));
    /* every '<' opens a tag that closes: self-closing or with an end tag */
    CHECK_EQ_U64(count(svg, "<"), count(svg, "/>") + 2 * count(svg, "</"));

    static double xs[POINTS * 2], ys[POINTS * 2];
    size_t n = polyline(svg, "mean_return", xs, ys, POINTS * 2);
    CHECK_EQ_U64(n, want_ret);
    for (size_t i = 0; i < n; i++) {
        CHECK(xs[i] >= 80 && xs[i] <= 870); /* inside the upper panel */
        CHECK(ys[i] >= 50 && ys[i] <= 50 + 235);
        if (i)
            CHECK(xs[i] > xs[i - 1]); /* time order */
    }
    /* The return rises in the data, so the line goes up (y shrinks). */
    CHECK(ys[n - 1] < ys[0]);
    n = polyline(svg, "score_ema", xs, ys, POINTS * 2);
    CHECK_EQ_U64(n, want_win);
    for (size_t i = 0; i < n; i++) {
        CHECK(xs[i] >= 80 && xs[i] <= 870);
        CHECK(ys[i] >= 325 && ys[i] <= 325 + 235); /* inside the lower panel */
    }
    /* score 0.5 at the first point: half way down the lower panel */
    CHECK_NEAR(ys[0], 325 + 235 / 2.0, 1.0);
}

int main(void)
{
    /* 1. The line parser on its own. */
    double w, r, v;
    int hr, hw;
    const char *good = "{\"wall_s\":1.5,\"mean_return\":-2e-1,\"score_ema\":null,"
                       "\"x\":[1,{\"y\":\"a\\\"b\"}],\"t\":true}";
    CHECK_EQ_INT(plot_parse_line(good, strlen(good), &w, &r, &hr, &v, &hw), 1);
    CHECK(w == 1.5 && hr && r == -0.2 && !hw);
    static const char *bad[] = {"", "[1,2]", "{\"wall_s\":}", "{\"wall_s\":1", "{wall_s:1}",
                                "{\"wall_s\":01}", "{\"wall_s\":1.}", "{\"wall_s\":1} x",
                                "{\"wall_s\":1,}", "{\"a\":\"\x01\"}", "{\"wall_s\":NaN}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(plot_parse_line(bad[i], strlen(bad[i]), &w, &r, &hr, &v, &hw) == 0,
                  "accepted: %s", bad[i]);
    const char *notime = "{\"wall_s\":null,\"mean_return\":1}";
    CHECK_EQ_INT(plot_parse_line(notime, strlen(notime), &w, &r, &hr, &v, &hw), -1);
    CHECK(!hr);

    /* 2. A metrics file: POINTS lines, every 10th without a return (NaN ->
     * null), every 15th without a win rate, plus junk. */
    char dir[] = "/tmp/dshq-plot-XXXXXX";
    CHECK(mkdtemp(dir));
    char in[256], out[256];
    snprintf(in, sizeof in, "%s/run.jsonl", dir);
    snprintf(out, sizeof out, "%s/curve.svg", dir);
    FILE *f = fopen(in, "w");
    CHECK(f);
    size_t want_ret = 0, want_win = 0;
    for (int i = 0; i < POINTS; i++) {
        struct metrics m;
        metrics_init(&m);
        m.wall_s = 0.5 * i;
        m.updates = (uint64_t)i;
        if (i % 10 != 3) {
            m.mean_return = -1.0 + 2.0 * i / POINTS;
            want_ret++;
        }
        if (i % 15 != 7) {
            m.score_ema = 0.5 + 0.5 * i / POINTS;
            want_win++;
        }
        CHECK_EQ_INT(metrics_write_jsonl(f, &m), 0);
        if (i == 5)
            fputs("not json at all\n", f);
        if (i == 9)
            fputs("{\"wall_s\": 4.7, \"mean_return\": \n", f); /* cut short */
        if (i == 20)
            fputs("\n   \n", f); /* blank: ignored, not counted */
        if (i == 30)
            fputs("{\"updates\": 31, \"mean_return\": 0.1}\n", f); /* no wall_s */
    }
    fputs("{\"wall_s\":99", f); /* a last line without newline, cut short */
    CHECK_EQ_INT(fclose(f), 0);

    f = fopen(in, "r");
    CHECK(f);
    struct plot_data d;
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(plot_read_jsonl(f, &d), 0);
    fclose(f);
    CHECK_EQ_U64(d.lines, POINTS + 4);
    CHECK_EQ_U64(d.malformed, 3);
    CHECK_EQ_U64(d.no_time, 1);
    CHECK_EQ_U64(d.used, POINTS);
    CHECK_EQ_U64(d.ret.n, want_ret);
    CHECK_EQ_U64(d.win.n, want_win);
    CHECK(d.ret.x[0] == 0 && d.ret.y[0] == -1.0);

    char *svg = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&svg, &len);
    CHECK(mf);
    CHECK_EQ_INT(plot_write_svg(mf, &d, "run <1> & co"), 0);
    fclose(mf);
    check_svg(svg, want_ret, want_win);
    CHECK(strstr(svg, "<title>run &lt;1&gt; &amp; co</title>"));
    free(svg);

    /* 3. An empty input still gives a valid document saying "no data". */
    struct plot_data empty;
    memset(&empty, 0, sizeof empty);
    mf = open_memstream(&svg, &len);
    CHECK_EQ_INT(plot_write_svg(mf, &empty, NULL), 0);
    fclose(mf);
    CHECK_EQ_U64(count(svg, ">no data</text>"), 2);
    CHECK_EQ_U64(count(svg, "<polyline"), 2);
    free(svg);

    /* 4. The command itself, when the test runner names the binary. */
    const char *dshq = getenv("DSHQ");
    if (dshq && access(dshq, X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s plot %s -o %s 2>%s/err.txt >/dev/null", dshq, in, out, dir);
        CHECK_EQ_INT(system(cmd), 0);
        size_t n;
        svg = slurp(out, &n);
        check_svg(svg, want_ret, want_win);
        free(svg);
        char errp[300];
        snprintf(errp, sizeof errp, "%s/err.txt", dir);
        char *msg = slurp(errp, &n);
        CHECK_MSG(strstr(msg, "skipped 4 of 64 lines (3 not JSON objects, 1 without a numeric "
                             "wall_s)") != NULL, "stderr was: %s", msg);
        free(msg);
        snprintf(cmd, sizeof cmd, "%s plot --help | grep -q 'score'", dshq);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s plot %s/missing.jsonl -o %s 2>/dev/null", dshq, dir, out);
        int st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        snprintf(cmd, sizeof cmd, "%s plot --bogus 2>/dev/null", dshq);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        unlink(errp);
        unlink(out);
        puts("plot: command checked too");
    } else {
        check_skip_part("the dshq plot command (DSHQ not set: run through make test)");
    }
    plot_data_free(&d);

    /* 5. Two runs appended to one file: each opens with a run_begin line
     * (as the trainer writes it), and the second one's time starts over.
     * Then an older file without markers, where only the time goes back. */
    f = fopen(in, "w");
    CHECK(f);
    for (int k = 0; k < 2; k++) {
        fprintf(f, "{\"run_begin\":\"r%d\",\"unix_s\":1,\"seed\":1,\"updates_base\":0}\n", k);
        for (int i = 0; i < 3 + k; i++) {
            struct metrics m;
            metrics_init(&m);
            m.wall_s = 1.0 + i;
            m.mean_return = k ? 10.0 + i : -10.0 - i;
            CHECK_EQ_INT(metrics_write_jsonl(f, &m), 0);
        }
    }
    CHECK_EQ_INT(fclose(f), 0);
    for (size_t sel = 0; sel <= 2; sel++) {
        f = fopen(in, "r");
        memset(&d, 0, sizeof d);
        d.select = sel;
        CHECK_EQ_INT(plot_read_jsonl(f, &d), 0);
        fclose(f);
        CHECK_EQ_U64(d.runs, 2);
        CHECK_EQ_U64(d.malformed + d.no_time, 0);
        CHECK_EQ_U64(d.used, sel == 0 ? 7 : sel == 1 ? 3 : 4);
        CHECK_EQ_U64(d.other_runs, sel == 0 ? 0 : sel == 1 ? 4 : 3);
        for (size_t i = 0; i < d.ret.n && sel; i++)
            CHECK(sel == 1 ? d.ret.y[i] < 0 : d.ret.y[i] > 0); /* only that run's points */
        plot_data_free(&d);
    }
    FILE *old = fopen(out, "w"); /* markers missing: the time going back splits */
    CHECK(old);
    fputs("{\"wall_s\":1,\"mean_return\":1}\n{\"wall_s\":2,\"mean_return\":1}\n"
          "{\"wall_s\":0.5,\"mean_return\":1}\n", old);
    fclose(old);
    old = fopen(out, "r");
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(plot_read_jsonl(old, &d), 0);
    fclose(old);
    CHECK_EQ_U64(d.runs, 2);
    plot_data_free(&d);
    unlink(out);
    if (dshq && access(dshq, X_OK) == 0) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "%s plot %s -o %s 2>&1 | grep -q 'holds 2 runs'", dshq, in, out);
        CHECK_EQ_INT(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "%s plot %s -o %s >/dev/null 2>&1", dshq, in, out);
        int st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2); /* refused: the curves would mix */
        snprintf(cmd, sizeof cmd, "%s plot %s -o %s --run 2 | grep -q '4 return points.*run 2 of 2'",
                 dshq, in, out);
        CHECK_EQ_INT(system(cmd), 0);
        unlink(out);
    } else {
        check_skip_part("dshq plot on a file of two runs (DSHQ not set: run through make test)");
    }
    unlink(in);
    rmdir(dir);
    puts("plot: ok");
    return 0;
}
