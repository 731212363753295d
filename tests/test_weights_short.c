/* The short path of the weights channel (dshq_weights_create / _attach /
 * _close), region names with a leading '/', and the *_check functions that
 * say why a size is refused.  A reader in another process attaches by name
 * and adopts every byte of what the writer published. */
#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "weights_util.h"
#include "dshq/error.h"
#include "dshq/mailbox.h"
#include "dshq/telemetry.h"

#define N 5000u

static int shm_exists(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/%s", name);
    struct stat st;
    return stat(path, &st) == 0;
}

static char region[64];
static pid_t parent;

/* Whatever happens (a failed CHECK exits), the region goes. */
static void cleanup(void)
{
    if (getpid() == parent && region[0])
        dshq_region_unlink(region);
}

static void refused(int rc, int want)
{
    CHECK_EQ_INT(rc, want);
    const char *msg = dshq_strerror(rc);
    CHECK(msg && strcmp(msg, "unknown error") != 0);
}

int main(void)
{
    /* Why a size is refused. */
    uint64_t bytes = 0;
    refused(dshq_weights_layout_check(0, 4, &bytes), DSHQ_EPARAMCOUNT);
    refused(dshq_weights_layout_check(DSHQ_WEIGHTS_MAX_PARAMS + 1, 4, &bytes), DSHQ_EPARAMCOUNT);
    refused(dshq_weights_layout_check(10, 0, &bytes), DSHQ_EREADERS);
    refused(dshq_weights_layout_check(10, DSHQ_WEIGHTS_MAX_READERS + 1, &bytes), DSHQ_EREADERS);
    CHECK_EQ_INT(dshq_weights_layout_check(10, DSHQ_WEIGHTS_MAX_READERS, &bytes), 0);
    CHECK_EQ_U64(bytes, dshq_weights_layout(10, DSHQ_WEIGHTS_MAX_READERS));
    CHECK_EQ_U64(dshq_weights_layout(0, 4), 0); /* the old call still says 0 */
    refused(dshq_mailbox_bytes_check(3, &bytes), DSHQ_ECAPACITY);
    refused(dshq_mailbox_bytes_check(1, &bytes), DSHQ_ECAPACITY);
    refused(dshq_mailbox_bytes_check(1u << 21, &bytes), DSHQ_ECAPACITY);
    CHECK_EQ_INT(dshq_mailbox_bytes_check(64, &bytes), 0);
    CHECK_EQ_U64(bytes, dshq_mailbox_bytes(64));
    refused(dshq_telemetry_bytes_check(0, 4, &bytes), DSHQ_EBLOBSIZE);
    refused(dshq_telemetry_bytes_check((1u << 20) + 1, 4, &bytes), DSHQ_EBLOBSIZE);
    refused(dshq_telemetry_bytes_check(64, 4097, &bytes), DSHQ_ESLOTCOUNT);
    CHECK_EQ_INT(dshq_telemetry_bytes_check(100, 3, &bytes), 0);
    CHECK_EQ_U64(bytes, dshq_telemetry_bytes(100, 3));

    char name[64], slashed[72];
    test_region_name(name, sizeof name, "wshort");
    snprintf(region, sizeof region, "%s", name);
    parent = getpid();
    atexit(cleanup);
    snprintf(slashed, sizeof slashed, "/%s", name);
    struct dshq_weights *ch;
    /* Refused sizes leave nothing behind. */
    refused(dshq_weights_create(slashed, 0, 2, &ch), DSHQ_EPARAMCOUNT);
    refused(dshq_weights_create(slashed, N, 99, &ch), DSHQ_EREADERS);
    CHECK(!shm_exists(name));
    CHECK_EQ_INT(dshq_weights_attach(name, &ch), -ENOENT);
    /* Names: one leading '/' as POSIX; no other '/'. */
    CHECK_EQ_INT(dshq_weights_create("/a/b", N, 2, &ch), -EINVAL);
    CHECK_EQ_INT(dshq_weights_create("//x", N, 2, &ch), -EINVAL);

    /* Ten lines: create, attach a writer, publish. */
    CHECK_EQ_INT(dshq_weights_create(slashed, N, 2, &ch), 0);
    CHECK(shm_exists(name)); /* "/NAME" is /dev/shm/NAME */
    CHECK_EQ_INT(dshq_weights_create(name, N, 2, &ch), -EEXIST); /* same region */
    struct dshq_weights_writer *w;
    CHECK_EQ_INT(dshq_weights_writer_attach(ch, &w), 0);
    wt_publish(w, N, 1);
    pid_t k = fork();
    CHECK(k >= 0);
    if (k == 0) {
        /* A reader: attach by name (with and without the slash). */
        struct dshq_weights *rch, *again;
        CHECK_EQ_INT(dshq_weights_attach(name, &rch), 0);
        CHECK_EQ_INT(dshq_weights_attach(slashed, &again), 0);
        dshq_weights_close(again);
        CHECK_EQ_U64(dshq_weights_param_count(rch), N);
        struct dshq_weights_reader *rd;
        CHECK_EQ_INT(dshq_weights_reader_attach(rch, dshq_weights_shape_hash(N), &rd), 0);
        CHECK_EQ_INT(dshq_weights_wait(rch, 2, 60 * 1000000000LL), 0);
        struct dshq_weights_view v;
        CHECK_EQ_INT(dshq_weights_adopt(rd, &v), DSHQ_WEIGHTS_NEW);
        CHECK(v.version >= 3);
        CHECK_EQ_U64(weights_verify(v.params, N, v.version), N);
        CHECK_EQ_U64(v.step, weights_step(v.version));
        dshq_weights_reader_detach(rd);
        dshq_weights_close(rch);
        _exit(0);
    }
    wt_publish(w, N, 2);
    wt_publish(w, N, 3);
    int st;
    CHECK_EQ_INT(waitpid(k, &st, 0), k);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* The region API takes the slash too. */
    struct dshq_region *r;
    CHECK_EQ_INT(dshq_region_attach(slashed, DSHQ_ATTACH_RDONLY, 0, &r), 0);
    CHECK_STR(dshq_region_name(r), name);
    dshq_region_detach(r);
    dshq_weights_writer_detach(w);
    dshq_weights_close(ch); /* the creator's close removes the region */
    CHECK(!shm_exists(name));
    CHECK_EQ_INT(dshq_region_unlink(slashed), -ENOENT);
    puts("weights short path: ok");
    return 0;
}
