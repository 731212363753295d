/* test_mlp_doc — docs/learner.md tells the truth about the default network:
 * every row "| `name` | [rows][cols] | offset |" of its tensor table matches
 * the code, every tensor has a row, and the shape hash it prints is the one
 * the code computes.  DSHQ_LEARNER_DOC overrides the path (default: run from
 * the repository root). */
#include <inttypes.h>

#include "check.h"
#include "rl/mlp.h"

int main(void)
{
    const char *path = getenv("DSHQ_LEARNER_DOC");
    path = path ? path : "docs/learner.md";
    FILE *f = fopen(path, "r");
    CHECK_MSG(f != NULL, "cannot open %s (run from the repository root)", path);
    struct rl_mlp m;
    const int hid[2] = {RL_MLP_DEFAULT_HIDDEN, RL_MLP_DEFAULT_HIDDEN};
    CHECK_EQ_INT(rl_mlp_init(&m, 28, 30, hid, RL_MLP_DEFAULT_LAYERS), 0);
    int seen[RL_MLP_MAX_TENSORS] = {0}, rows = 0, hash_seen = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        char name[32];
        int r, c;
        size_t off;
        if (sscanf(line, "| `%31[^`]` | [%d][%d] | %zu |", name, &r, &c, &off) == 4) {
            const struct rl_mlp_tensor *t = rl_mlp_find(&m, name);
            CHECK_MSG(t != NULL, "docs name a tensor the code lacks: %s", name);
            CHECK_MSG(t->rows == r && t->cols == c && t->offset == off,
                      "%s: docs [%d][%d] @%zu, code [%d][%d] @%zu", name, r, c, off, t->rows,
                      t->cols, t->offset);
            seen[t - m.tensor]++;
            rows++;
        }
        const char *h = strstr(line, "shape hash **`0x");
        if (h) {
            uint64_t v = strtoull(h + strlen("shape hash **`0x"), NULL, 16);
            CHECK_MSG(v == m.shape_hash, "docs hash %016" PRIx64 ", code %016" PRIx64, v,
                      m.shape_hash);
            hash_seen = 1;
        }
    }
    fclose(f);
    CHECK_EQ_INT(rows, m.n_tensors);
    for (int i = 0; i < m.n_tensors; i++)
        CHECK_MSG(seen[i] == 1, "tensor %s appears %d times in the docs", m.tensor[i].name, seen[i]);
    CHECK(hash_seen);
    return 0;
}
