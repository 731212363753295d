/* docs/abi.md tells the truth about a training run's shared block. */
#include "abi_doc.h"
#include "run/run.h"
#include "check.h"
#include "dshq/hash.h"

int main(void)
{
    static const struct abi_field cfg[] = {
        ABI_FIELD(struct run_config, version),       ABI_FIELD(struct run_config, workers),
        ABI_FIELD(struct run_config, envs),          ABI_FIELD(struct run_config, horizon),
        ABI_FIELD(struct run_config, hidden),        ABI_FIELD(struct run_config, layers),
        ABI_FIELD(struct run_config, max_lag),       ABI_FIELD(struct run_config, lane_slots),
        ABI_FIELD(struct run_config, transport),     ABI_FIELD(struct run_config, when_full),
        ABI_FIELD(struct run_config, deterministic), ABI_FIELD(struct run_config, opponents),
        ABI_FIELD(struct run_config, seed),          ABI_FIELD(struct run_config, updates),
        ABI_FIELD(struct run_config, seconds),       ABI_FIELD(struct run_config, lr),
        ABI_FIELD(struct run_config, lr_end),        ABI_FIELD(struct run_config, gamma),
        ABI_FIELD(struct run_config, lambda),        ABI_FIELD(struct run_config, clip),
        ABI_FIELD(struct run_config, vf_coef),       ABI_FIELD(struct run_config, ent_coef),
        ABI_FIELD(struct run_config, max_grad_norm), ABI_FIELD(struct run_config, epochs),
        ABI_FIELD(struct run_config, minibatches),   ABI_FIELD(struct run_config, shaping),
        ABI_FIELD(struct run_config, approach),      ABI_FIELD(struct run_config, shaping_end),
        ABI_FIELD(struct run_config, max_goals),     ABI_FIELD(struct run_config, self_play),
        ABI_FIELD(struct run_config, self_play_end), ABI_FIELD(struct run_config, reserved),
    };
    static const struct abi_field blk[] = {
        ABI_FIELD(struct run_block, config),        ABI_FIELD(struct run_block, version),
        ABI_FIELD(struct run_block, obs_dim),       ABI_FIELD(struct run_block, n_actions),
        ABI_FIELD(struct run_block, pad0),          ABI_FIELD(struct run_block, mlp_shape),
        ABI_FIELD(struct run_block, version_base),  ABI_FIELD(struct run_block, updates_base),
        ABI_FIELD(struct run_block, reserved0),     ABI_FIELD(struct run_block, state),
        ABI_FIELD(struct run_block, state_changed), ABI_FIELD(struct run_block, pad1),
        ABI_FIELD(struct run_block, start_ns),      ABI_FIELD(struct run_block, progress_ppm),
        ABI_FIELD(struct run_block, shaping_milli), ABI_FIELD(struct run_block, paused),
        ABI_FIELD(struct run_block, shaping_set),   ABI_FIELD(struct run_block, pad2),
        ABI_FIELD(struct run_block, ctl_refused),   ABI_FIELD(struct run_block, reserved1),
        ABI_FIELD(struct run_block, worker),        ABI_FIELD(struct run_block, faults),
    };
    static const struct abi_field fl[] = {
        ABI_FIELD(struct run_faults, chunks_refused), ABI_FIELD(struct run_faults, chunks_verified),
        ABI_FIELD(struct run_faults, refused_unknown), ABI_FIELD(struct run_faults, updates_skipped),
        ABI_FIELD(struct run_faults, checkpoints),    ABI_FIELD(struct run_faults, verify),
        ABI_FIELD(struct run_faults, last_reason),    ABI_FIELD(struct run_faults, failed),
        ABI_FIELD(struct run_faults, reserved),
        /* An array of RUN_MAX_WORKERS atomics: ABI_IS_ATOMIC knows small
         * arrays only, so this entry says it by hand. */
        {"refused", offsetof(struct run_faults, refused), sizeof(((struct run_faults *)0)->refused),
         1},
    };
    static const struct abi_field ws[] = {
        ABI_FIELD(struct run_worker_stats, steps),    ABI_FIELD(struct run_worker_stats, chunks),
        ABI_FIELD(struct run_worker_stats, episodes), ABI_FIELD(struct run_worker_stats, wins),
        ABI_FIELD(struct run_worker_stats, losses),   ABI_FIELD(struct run_worker_stats, ret_micro),
        ABI_FIELD(struct run_worker_stats, len_sum),  ABI_FIELD(struct run_worker_stats, restarts),
        ABI_FIELD(struct run_worker_stats, pid),      ABI_FIELD(struct run_worker_stats, version),
    };
    int errors = abi_doc_check_strict("run_config", sizeof(struct run_config), cfg,
                               sizeof cfg / sizeof cfg[0]);
    errors += abi_doc_check_strict("run_block", sizeof(struct run_block), blk,
                               sizeof blk / sizeof blk[0]);
    errors += abi_doc_check_strict("run_worker_stats", sizeof(struct run_worker_stats), ws,
                            sizeof ws / sizeof ws[0]);
    errors += abi_doc_check_strict("run_faults", sizeof(struct run_faults), fl, sizeof fl / sizeof fl[0]);
    CHECK_EQ_INT(errors, 0);
    /* The canonical string in the document is the one the code hashes. */
    CHECK_EQ_U64(run_block_shape_hash(),
                 dshq_shape_hash("run/v3;bytes=8000;workers=56;worker_line=128;config=192/v1"));
    puts("abi doc (run): ok");
    return 0;
}
