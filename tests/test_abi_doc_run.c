/* docs/abi.md tells the truth about a training run's shared block. */
#include "abi_doc.h"
#include "app/run.h"
#include "check.h"
#include "dshq/hash.h"

int main(void)
{
    static const struct abi_field blk[] = {
        ABI_FIELD(struct run_block, version),     ABI_FIELD(struct run_block, workers),
        ABI_FIELD(struct run_block, envs),        ABI_FIELD(struct run_block, horizon),
        ABI_FIELD(struct run_block, obs_dim),     ABI_FIELD(struct run_block, n_actions),
        ABI_FIELD(struct run_block, hidden),      ABI_FIELD(struct run_block, layers),
        ABI_FIELD(struct run_block, seed),        ABI_FIELD(struct run_block, mlp_shape),
        ABI_FIELD(struct run_block, max_lag),     ABI_FIELD(struct run_block, max_updates),
        ABI_FIELD(struct run_block, duration_s),  ABI_FIELD(struct run_block, state),
        ABI_FIELD(struct run_block, state_changed), ABI_FIELD(struct run_block, pad0),
        ABI_FIELD(struct run_block, start_ns),    ABI_FIELD(struct run_block, progress_ppm),
        ABI_FIELD(struct run_block, shaping_milli), ABI_FIELD(struct run_block, paused),
        ABI_FIELD(struct run_block, reserved),    ABI_FIELD(struct run_block, worker),
    };
    static const struct abi_field ws[] = {
        ABI_FIELD(struct run_worker_stats, steps),    ABI_FIELD(struct run_worker_stats, chunks),
        ABI_FIELD(struct run_worker_stats, episodes), ABI_FIELD(struct run_worker_stats, wins),
        ABI_FIELD(struct run_worker_stats, losses),   ABI_FIELD(struct run_worker_stats, ret_micro),
        ABI_FIELD(struct run_worker_stats, len_sum),  ABI_FIELD(struct run_worker_stats, restarts),
        ABI_FIELD(struct run_worker_stats, pid),      ABI_FIELD(struct run_worker_stats, version),
    };
    int errors = abi_doc_check("run_block", sizeof(struct run_block), blk,
                               sizeof blk / sizeof blk[0]);
    errors += abi_doc_check("run_worker_stats", sizeof(struct run_worker_stats), ws,
                            sizeof ws / sizeof ws[0]);
    CHECK_EQ_INT(errors, 0);
    /* The canonical string in the document is the one the code hashes. */
    CHECK_EQ_U64(run_block_shape_hash(),
                 dshq_shape_hash("run/v1;bytes=8320;workers=64;worker_line=128"));
    puts("abi doc (run): ok");
    return 0;
}
