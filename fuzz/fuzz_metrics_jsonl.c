/* fuzz_metrics_jsonl.c — libFuzzer target for the metrics JSONL reader of
 * `dshq plot` (src/cli/plot.c).
 *
 * The input is a metrics file.  plot_read_jsonl must parse it without
 * reading out of bounds, and plot_write_svg must finish (bounded tick
 * loops) with a document that holds no "nan" or "inf".
 * Build and run: make fuzz-run FUZZ_SECONDS=600 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/plot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    struct plot_data d;
    memset(&d, 0, sizeof d);
    int rc = plot_read_jsonl(in, &d);
    fclose(in);
    if (rc == 0) {
        char *svg = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&svg, &len);
        if (out) {
            plot_write_svg(out, &d, "fuzz");
            fclose(out);
            if (svg && (strstr(svg, "nan") || strstr(svg, "inf") || len > (16u << 20)))
                abort();
            free(svg);
        }
    }
    plot_data_free(&d);
    return 0;
}
