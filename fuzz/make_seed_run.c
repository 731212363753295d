/* make_seed_run.c — seed corpora for the run-layer fuzz targets:
 *   DIR/checkpoint/  a small valid checkpoint, as is (0x00) and fix-up (0x01)
 *   DIR/chunk/       a valid stamped and sealed chunk (mode 0x07), and raw
 *   DIR/mailbox/     offset 0, nothing written (the posted messages stand)
 *   DIR/metrics/     a few metrics lines with a run marker
 * Usage: make_seed_run DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rl/env.h"
#include "run/checkpoint.h"
#include "run/chunk_rollout.h"

static void put(const char *dir, const char *sub, const char *name, const void *a, size_t alen,
                const void *b, size_t blen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fwrite(a, 1, alen, f);
    if (b)
        fwrite(b, 1, blen, f);
    fclose(f);
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    const char *dir = argv[1];
    mkdir(dir, 0755);
    /* checkpoint */
    enum { N = 64 };
    float p[N], m[N], v[N];
    for (int i = 0; i < N; i++)
        p[i] = 0.01f * i, m[i] = 0.001f * i, v[i] = 0.0001f * i;
    struct ckpt_meta *meta = calloc(1, sizeof *meta);
    meta->shape_hash = 42;
    meta->param_count = N;
    meta->adam_t = 3;
    meta->train_seconds = 1.5;
    snprintf(meta->arch, sizeof meta->arch, "mlp-28-8x1-30");
    meta->config_len = (uint32_t)snprintf(meta->config, sizeof meta->config, "seed = 1\n");
    char err[256], tmp[] = "/tmp/dshq-seed-XXXXXX";
    int fd = mkstemp(tmp);
    close(fd);
    if (ckpt_save(tmp, meta, p, m, v, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    FILE *f = fopen(tmp, "rb");
    static unsigned char file[1 << 16];
    size_t n = fread(file, 1, sizeof file, f);
    fclose(f);
    unlink(tmp);
    unsigned char z = 0, o = 1;
    put(dir, "checkpoint", "valid", &z, 1, file, n);
    put(dir, "checkpoint", "valid-fixup", &o, 1, file, n);
    /* chunk: the fuzz target's layout */
    struct dshq_chunk_layout L;
    dshq_chunk_layout_init(&L, 4, 2, BD_OBS_DIM, bd_spec_hash());
    unsigned char *c = aligned_alloc(64, L.bytes + RUN_CHUNK_TRAILER);
    memset(c, 0, L.bytes + RUN_CHUNK_TRAILER);
    struct rl_rollout_buf b = run_chunk_buf(&L, c);
    for (int i = 0; i < 4 * 2; i++) {
        b.act[i] = i % BD_NUM_ACTIONS;
        b.logp[i] = -3.4f;
        b.rew[i] = 0.1f * i;
    }
    dshq_chunk_stamp(&L, c, 0, 1, 1);
    run_chunk_seal(&L, c);
    unsigned char m7 = 0x07, m0 = 0x00;
    put(dir, "chunk", "sealed", &m7, 1, c, L.bytes + RUN_CHUNK_TRAILER);
    put(dir, "chunk", "raw", &m0, 1, c, L.bytes + RUN_CHUNK_TRAILER);
    free(c);
    /* mailbox */
    unsigned char off[2] = {0, 0};
    put(dir, "mailbox", "untouched", off, 2, NULL, 0);
    /* metrics */
    const char *lines =
        "{\"run_begin\":\"r\",\"unix_s\":1,\"seed\":1,\"updates_base\":0}\n"
        "{\"steps\":100,\"updates\":1,\"wall_s\":0.5,\"mean_return\":-0.5,\"score_ema\":0.25}\n"
        "{\"steps\":200,\"updates\":2,\"wall_s\":1.0,\"mean_return\":null,\"score_ema\":0.5}\n";
    put(dir, "metrics", "lines", lines, strlen(lines), NULL, 0);
    free(meta);
    return 0;
}
