/* plot.c — JSON lines of metrics in, learning-curve SVG out (cli/plot.h).
 *
 * The JSON reader is deliberately small: a line must be one JSON object;
 * values of the keys we plot must be numbers (or null); every other value is
 * skipped by a grammar-checking skipper (strings with escapes, numbers,
 * literals, nested arrays and objects up to a depth limit).  Anything else
 * makes the line malformed, and it is counted, never half-used. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

/* ------------------------------------------------------------- parsing */

static const char *ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

/* A JSON string at p; copies up to cap-1 bytes of its raw content (escapes
 * kept as their second character) into out.  Returns the end or NULL. */
static const char *string_at(const char *p, const char *e, char *out, size_t cap)
{
    size_t n = 0;
    if (p >= e || *p != '"')
        return NULL;
    for (p++; p < e; p++) {
        char c = *p;
        if (c == '"') {
            if (out)
                out[n < cap ? n : cap - 1] = 0;
            return p + 1;
        }
        if ((unsigned char)c < 0x20)
            return NULL;
        if (c == '\\') {
            if (++p >= e)
                return NULL;
            c = *p;
            if (c == 'u') {
                for (int i = 0; i < 4; i++)
                    if (++p >= e || !strchr("0123456789abcdefABCDEF", *p) || !*p)
                        return NULL;
                c = '?';
            } else if (!strchr("\"\\/bfnrt", c) || !c) {
                return NULL;
            }
        }
        if (out && n + 1 < cap)
            out[n++] = c;
    }
    return NULL;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A JSON number at p (strict grammar).  Returns the end or NULL. */
static const char *number_at(const char *p, const char *e, double *v)
{
    const char *s = p;
    if (p < e && *p == '-')
        p++;
    if (p >= e || !is_digit(*p))
        return NULL;
    if (*p == '0')
        p++;
    else
        while (p < e && is_digit(*p))
            p++;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p))
            return NULL;
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p))
            return NULL;
        while (p < e && is_digit(*p))
            p++;
    }
    char buf[64];
    if ((size_t)(p - s) >= sizeof buf)
        return NULL; /* absurdly long: no metric looks like that */
    memcpy(buf, s, (size_t)(p - s));
    buf[p - s] = 0;
    if (v)
        *v = strtod(buf, NULL);
    return p;
}

static const char *literal_at(const char *p, const char *e, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(e - p) < n || memcmp(p, word, n))
        return NULL;
    return p + n;
}

static const char *value_skip(const char *p, const char *e, int depth)
{
    if (p >= e || depth > 32)
        return NULL;
    switch (*p) {
    case '"': return string_at(p, e, NULL, 0);
    case 't': return literal_at(p, e, "true");
    case 'f': return literal_at(p, e, "false");
    case 'n': return literal_at(p, e, "null");
    case '[':
    case '{': {
        char close = *p == '[' ? ']' : '}';
        int object = *p == '{';
        p = ws(p + 1, e);
        if (p < e && *p == close)
            return p + 1;
        for (;;) {
            if (object) {
                p = string_at(p, e, NULL, 0);
                if (!p)
                    return NULL;
                p = ws(p, e);
                if (p >= e || *p != ':')
                    return NULL;
                p = ws(p + 1, e);
            }
            p = value_skip(p, e, depth + 1);
            if (!p)
                return NULL;
            p = ws(p, e);
            if (p < e && *p == ',') {
                p = ws(p + 1, e);
                continue;
            }
            if (p < e && *p == close)
                return p + 1;
            return NULL;
        }
    }
    default: return number_at(p, e, NULL);
    }
}

/* The value of a key we plot: a finite number within PLOT_MAX_ABS (1),
 * null, non-number or absurd (0), or a syntax error (NULL return).  The file
 * is untrusted: 1.7e308 would make every axis range infinite. */
#define PLOT_MAX_ABS 1e12
static const char *plotted_value(const char *p, const char *e, double *v, int *ok)
{
    *ok = 0;
    if (p < e && (*p == '-' || is_digit(*p))) {
        p = number_at(p, e, v);
        if (p && isfinite(*v) && fabs(*v) <= PLOT_MAX_ABS)
            *ok = 1;
        return p;
    }
    return value_skip(p, e, 0);
}

int plot_parse_line(const char *line, size_t len, double *wall, double *ret, int *has_ret,
                    double *win, int *has_win)
{
    const char *p = line, *e = line + len;
    int has_wall = 0, marker = 0;
    *has_ret = *has_win = 0;
    p = ws(p, e);
    if (p >= e || *p != '{')
        return 0;
    p = ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            char key[32];
            p = string_at(p, e, key, sizeof key);
            if (!p)
                return 0;
            p = ws(p, e);
            if (p >= e || *p != ':')
                return 0;
            p = ws(p + 1, e);
            double v = 0;
            int ok;
            if (!strcmp(key, "wall_s")) {
                p = plotted_value(p, e, &v, &ok);
                has_wall = ok;
                *wall = v;
            } else if (!strcmp(key, "mean_return")) {
                p = plotted_value(p, e, &v, &ok);
                *has_ret = ok;
                *ret = v;
            } else if (!strcmp(key, "run_begin")) {
                p = value_skip(p, e, 0);
                marker = 1;
            } else if (!strcmp(key, "score_ema") || !strcmp(key, "win_rate_ema")) {
                /* win_rate_ema: the same score under its name before v2 */
                p = plotted_value(p, e, &v, &ok);
                *has_win = ok;
                *win = v;
            } else {
                p = value_skip(p, e, 0);
            }
            if (!p)
                return 0;
            p = ws(p, e);
            if (p < e && *p == ',') {
                p = ws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') {
                p++;
                break;
            }
            return 0;
        }
    }
    if (ws(p, e) != e)
        return 0; /* something after the object */
    if (marker) {
        *has_ret = *has_win = 0;
        return 2;
    }
    if (!has_wall) {
        *has_ret = *has_win = 0;
        return -1;
    }
    return 1;
}

static int series_add(struct plot_series *s, double x, double y)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *nx = realloc(s->x, cap * sizeof *nx);
        if (!nx)
            return -ENOMEM;
        s->x = nx;
        double *ny = realloc(s->y, cap * sizeof *ny);
        if (!ny)
            return -ENOMEM;
        s->y = ny;
        s->cap = cap;
    }
    s->x[s->n] = x;
    s->y[s->n] = y;
    s->n++;
    return 0;
}

int plot_read_jsonl(FILE *in, struct plot_data *d)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0, run = 0;
    double last_wall = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        const char *p = ws(line, line + len);
        if (p == line + len)
            continue; /* blank */
        d->lines++;
        double wall = 0, ret = 0, win = 0;
        int has_ret, has_win;
        int r = plot_parse_line(line, (size_t)len, &wall, &ret, &has_ret, &win, &has_win);
        if (r == 0) {
            d->malformed++;
            continue;
        }
        if (r < 0) {
            d->no_time++;
            continue;
        }
        /* Runs: a run_begin line opens one; so does time going backwards
         * (files written before the markers). */
        if (r == 2 || run == 0 || wall < last_wall) {
            run++;
            last_wall = 0;
            if (r == 2)
                continue;
        }
        last_wall = wall;
        d->runs = (size_t)run;
        if (d->select && (size_t)run != d->select) {
            d->other_runs++;
            continue;
        }
        d->used++;
        if (has_ret && (rc = series_add(&d->ret, wall, ret)))
            break;
        if (has_win && (rc = series_add(&d->win, wall, win)))
            break;
    }
    if (!rc && ferror(in))
        rc = -EIO;
    free(line);
    return rc;
}

void plot_data_free(struct plot_data *d)
{
    free(d->ret.x);
    free(d->ret.y);
    free(d->win.x);
    free(d->win.y);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------- drawing */

enum {
    W = 900,
    H = 620,
    LEFT = 80,
    RIGHT = 30,
    TOP = 50,
    GAP = 40,
    BOTTOM = 60,
    PANEL_H = (H - TOP - BOTTOM - GAP) / 2,
};

struct axis {
    double lo, hi, step; /* in axis units */
    double scale;        /* data value * scale = axis units (time: 1, 1/60, 1/3600) */
};

static double nice_step(double range, int want)
{
    if (!(range > 0))
        return 1;
    double raw = range / want;
    double mag = pow(10, floor(log10(raw)));
    double f = raw / mag;
    double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return nice * mag;
}

/* At most this many grid lines per axis, whatever the data (a bound on
 * every tick loop). */
#define PLOT_MAX_TICKS 64

static void axis_fit(struct axis *a, double lo, double hi, int ticks)
{
    if (!isfinite(lo) || !isfinite(hi) || !isfinite(hi - lo)) {
        lo = 0; /* nothing sane to draw: a unit axis */
        hi = 1;
    }
    if (!(hi > lo)) { /* one value, or none */
        double c = lo;
        lo = c - (fabs(c) > 0 ? fabs(c) * 0.1 : 0.5);
        hi = c + (fabs(c) > 0 ? fabs(c) * 0.1 : 0.5);
    }
    a->step = nice_step(hi - lo, ticks);
    a->lo = floor(lo / a->step + 1e-9) * a->step;
    a->hi = ceil(hi / a->step - 1e-9) * a->step;
    if (a->hi <= a->lo)
        a->hi = a->lo + a->step;
    if (!isfinite(a->step) || !(a->step > 0) || !isfinite(a->lo) || !isfinite(a->hi) ||
        (a->hi - a->lo) / a->step > PLOT_MAX_TICKS) {
        a->lo = 0;
        a->hi = 1;
        a->step = 0.25;
    }
}

static int decimals(double step)
{
    int d = (int)ceil(-log10(step) - 1e-9);
    if (fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
        d++; /* 2.5, 0.25 */
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

static double px_x(const struct axis *a, double x)
{
    return LEFT + (x * a->scale - a->lo) / (a->hi - a->lo) * (W - LEFT - RIGHT);
}

static double px_y(const struct axis *a, int top, double y)
{
    return top + PANEL_H - (y * a->scale - a->lo) / (a->hi - a->lo) * PANEL_H;
}

static void draw_panel(FILE *f, int top, const struct axis *ax, const struct axis *ay,
                       const struct plot_series *s, const char *id, const char *color,
                       const char *ylabel, const char *legend, int percent)
{
    int right = W - RIGHT;
    fprintf(f, "<g id=\"panel-%s\">\n", id);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#fafafa\" "
               "stroke=\"#444\"/>\n", LEFT, top, right - LEFT, PANEL_H);
    /* y grid and tick labels */
    int dy = percent ? 0 : decimals(ay->step);
    for (int i = 0; i <= PLOT_MAX_TICKS; i++) {
        double v = ay->lo + i * ay->step;
        if (v > ay->hi + ay->step * 1e-6)
            break;
        double y = top + PANEL_H - (v - ay->lo) / (ay->hi - ay->lo) * PANEL_H;
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                LEFT, y, right, y);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>\n",
                LEFT - 5, y, LEFT, y);
        if (percent)
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f%%</text>\n",
                    LEFT - 8, y + 4, v * 100);
        else
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", LEFT - 8,
                    y + 4, dy, v);
    }
    /* x grid (labels only under the lower panel, by the caller) */
    for (int i = 0; i <= PLOT_MAX_TICKS; i++) {
        double v = ax->lo + i * ax->step;
        if (v > ax->hi + ax->step * 1e-6)
            break;
        double x = LEFT + (v - ax->lo) / (ax->hi - ax->lo) * (right - LEFT);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n",
                x, top, x, top + PANEL_H);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#444\"/>\n",
                x, top + PANEL_H, x, top + PANEL_H + 5);
    }
    fprintf(f, "<text transform=\"translate(%d,%d) rotate(-90)\" text-anchor=\"middle\">%s"
               "</text>\n", 18, top + PANEL_H / 2, ylabel);
    /* the series: thinned evenly to PLOT_MAX_POINTS, first and last kept */
    size_t n = s->n, keep = n > PLOT_MAX_POINTS ? PLOT_MAX_POINTS : n;
    fprintf(f, "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" "
               "stroke-linejoin=\"round\" points=\"", id, color);
    for (size_t k = 0; k < keep; k++) {
        size_t i = keep > 1 ? (size_t)((double)k * (double)(n - 1) / (double)(keep - 1) + 0.5)
                            : 0;
        fprintf(f, "%s%.1f,%.1f", k ? " " : "", px_x(ax, s->x[i]), px_y(ay, top, s->y[i]));
    }
    fputs("\"/>\n", f);
    if (n == 1) /* a lone point is invisible as a line */
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                px_x(ax, s->x[0]), px_y(ay, top, s->y[0]), color);
    if (n == 0)
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#888\">no data"
                   "</text>\n", (LEFT + right) / 2, top + PANEL_H / 2);
    /* legend: above the panel's right end, clear of the data */
    fprintf(f, "<g id=\"legend-%s\">\n"
               "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
               "stroke-width=\"2.5\"/>\n"
               "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n</g>\n",
            id, right - 24, top - 10, right, top - 10, color, right - 30, top - 6, legend);
    fputs("</g>\n", f);
}

static void range_of(const struct plot_series *s, double *lo, double *hi, int xs)
{
    for (size_t i = 0; i < s->n; i++) {
        double v = xs ? s->x[i] : s->y[i];
        if (v < *lo)
            *lo = v;
        if (v > *hi)
            *hi = v;
    }
}

int plot_write_svg(FILE *f, const struct plot_data *d, const char *title)
{
    /* time axis, in s, min or h */
    double xlo = INFINITY, xhi = -INFINITY;
    range_of(&d->ret, &xlo, &xhi, 1);
    range_of(&d->win, &xlo, &xhi, 1);
    if (!(xhi >= xlo))
        xlo = xhi = 0;
    struct axis ax = {.scale = 1};
    const char *unit = "s";
    if (xhi > 3 * 3600) {
        ax.scale = 1.0 / 3600;
        unit = "h";
    } else if (xhi > 600) {
        ax.scale = 1.0 / 60;
        unit = "min";
    }
    axis_fit(&ax, xlo * ax.scale, xhi * ax.scale, 8);
    if (xlo >= 0 && ax.lo < 0)
        ax.lo = 0;

    double ylo = INFINITY, yhi = -INFINITY;
    range_of(&d->ret, &ylo, &yhi, 0);
    if (!(yhi >= ylo))
        ylo = -1, yhi = 1;
    struct axis ar = {.scale = 1};
    axis_fit(&ar, ylo, yhi, 5);
    struct axis aw = {.lo = 0, .hi = 1, .step = 0.25, .scale = 1};

    int top2 = TOP + PANEL_H + GAP;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
            W, H, W, H);
    fputs("<title>", f);
    xml_text(f, title ? title : "learning curve");
    fputs("</title>\n", f);
    fprintf(f, "<desc>DrillSergeantHQ learning curve: %zu return points, %zu score points, "
               "%zu lines read, %zu malformed, %zu without wall_s</desc>\n",
            d->ret.n, d->win.n, d->lines, d->malformed, d->no_time);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
               "font-weight=\"bold\">", W / 2);
    xml_text(f, title ? title : "learning curve");
    fputs("</text>\n", f);
    draw_panel(f, TOP, &ax, &ar, &d->ret, "mean_return", "#1f77b4", "mean episode return",
               "mean return", 0);
    draw_panel(f, top2, &ax, &aw, &d->win, "score_ema", "#d62728", "score (EMA)",
               "score vs opponent (win 1, draw 1/2)", 1);
    /* time tick labels under the lower panel */
    int dx = decimals(ax.step);
    for (int i = 0; i <= PLOT_MAX_TICKS; i++) {
        double v = ax.lo + i * ax.step;
        if (v > ax.hi + ax.step * 1e-6)
            break;
        double x = LEFT + (v - ax.lo) / (ax.hi - ax.lo) * (W - LEFT - RIGHT);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f</text>\n", x,
                top2 + PANEL_H + 20, dx, v);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">wall time (%s)</text>\n",
            (LEFT + W - RIGHT) / 2, H - 12, unit);
    fputs("</svg>\n", f);
    return ferror(f) ? -EIO : 0;
}
