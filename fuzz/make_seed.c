/* make_seed.c — writes a few valid region images as the fuzzer's seed corpus. */
#include <stdio.h>

#include "dshq/region.h"

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "fuzz/corpus";
    for (int n = 0; n < 4; n++) {
        struct dshq_layout l;
        dshq_layout_init(&l);
        for (int i = 0; i < n + 1; i++)
            dshq_layout_add(&l, (uint32_t)(1 + i), "sec", 1, (uint64_t)(64 << i), 64, (uint64_t)i);
        struct dshq_region *r;
        if (dshq_region_create_anon(&l, &r))
            return 1;
        dshq_region_mark_ready(r);
        char path[512];
        snprintf(path, sizeof path, "%s/seed-%d", dir, n);
        FILE *f = fopen(path, "wb");
        if (!f)
            return 1;
        fwrite(dshq_region_base(r), 1, dshq_region_size(r), f);
        fclose(f);
        dshq_region_destroy(r);
    }
    return 0;
}
