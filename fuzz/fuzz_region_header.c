/* fuzz_region_header.c — libFuzzer target for region validation.
 *
 * The input is taken as the bytes of a mapped region file (its length is the
 * file size).  dshq_region_validate must never read outside them, whatever
 * they hold; when it accepts them, every section it accepted is touched end
 * to end, so AddressSanitizer would catch a section that escapes the input.
 * Build and run: make fuzz-run FUZZ_SECONDS=600 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dshq/region.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private, exactly sized, 64-byte aligned copy, as mmap would give. */
    void *buf = NULL;
    if (posix_memalign(&buf, 64, size ? size : 1))
        return 0;
    memcpy(buf, data, size);
    if (dshq_region_validate(buf, size, 0) == 0) {
        const struct dshq_region_header *h = buf;
        const unsigned char *base = buf;
        volatile unsigned sum = 0;
        for (uint32_t i = 0; i < h->section_count; i++) {
            struct dshq_section s;
            memcpy(&s, base + h->table_offset + (size_t)i * h->section_entry_size, sizeof s);
            for (uint64_t b = 0; b < s.size; b++)
                sum += base[s.offset + b];
        }
        (void)sum;
    }
    free(buf);
    return 0;
}
