/* test_fault_plot — `dshq plot` input is untrusted: huge, infinite-range and
 * absurd values (mean_return 1.7e308, wall_s 1e300, -1.7e308 next to
 * 1.7e308, values that are fine alone but make an infinite range) give a
 * bounded SVG in bounded time: no endless tick loop, no "nan" or "inf" in
 * the output, at most a few dozen grid lines per axis. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"
#include "check.h"

static size_t count(const char *s, const char *what)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
        n++;
    return n;
}

static void one(const char *jsonl, const char *what)
{
    FILE *in = fmemopen((void *)jsonl, strlen(jsonl), "r");
    CHECK(in);
    struct plot_data d;
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(plot_read_jsonl(in, &d), 0);
    fclose(in);
    char *svg = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&svg, &len);
    CHECK(mf);
    CHECK_EQ_INT(plot_write_svg(mf, &d, what), 0);
    fclose(mf);
    CHECK_MSG(len < 200000, "%s: %zu bytes of SVG", what, len);
    CHECK_MSG(!strstr(svg, "nan") && !strstr(svg, "inf"), "%s: nan/inf in the SVG", what);
    CHECK_MSG(count(svg, "<line") < 4 * 70, "%s: %zu grid lines", what, count(svg, "<line"));
    CHECK(strstr(svg, "</svg>"));
    free(svg);
    plot_data_free(&d);
}

int main(void)
{
    one("{\"wall_s\":1,\"mean_return\":1.7e308,\"score_ema\":0.5}\n"
        "{\"wall_s\":2,\"mean_return\":0.1,\"score_ema\":0.6}\n", "return 1.7e308");
    one("{\"wall_s\":1,\"mean_return\":-1.7e308,\"score_ema\":0.5}\n"
        "{\"wall_s\":2,\"mean_return\":1.7e308,\"score_ema\":0.6}\n", "range overflows");
    one("{\"wall_s\":1e300,\"mean_return\":0.5,\"score_ema\":0.5}\n"
        "{\"wall_s\":2,\"mean_return\":0.1,\"score_ema\":1e300}\n", "wall 1e300");
    one("{\"wall_s\":1,\"mean_return\":9e11,\"score_ema\":0.5}\n"
        "{\"wall_s\":2,\"mean_return\":-9e11,\"score_ema\":-9e11}\n", "large but accepted");
    one("{\"wall_s\":1,\"mean_return\":1e-300,\"score_ema\":0.5}\n"
        "{\"wall_s\":1,\"mean_return\":2e-300,\"score_ema\":0.5}\n", "tiny range");
    puts("fault plot: ok");
    return 0;
}
