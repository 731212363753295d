/* `dshq train --mpi` as a 3-rank Open MPI job on this machine
 * (mpirun --oversubscribe), bounded by deadlines:
 *
 *  1. shared-memory transport, --when-full drop, ended by --seconds: chunks
 *     from both remote ranks reach rank 0's lanes with their checksum
 *     verified, or are dropped there and counted; every 7th
 *     chunk is damaged on purpose after its checksum (test hook), and rank 0
 *     must find exactly those; every chunk a rank forwarded is accounted
 *     for (taken, dropped, after the stop, or damaged); the weights version
 *     advances on every rank; every region is gone afterwards.
 *  2. TCP, ended by `dshq ctl RUN stop`: across two network namespaces joined
 *     by a veth pair (ranks 1-2 in the second one, started through a
 *     launch agent that enters it), so the bytes cross a network stack, and
 *     the veth counted at least the chunk bytes rank 0 took; where
 *     namespaces cannot be made, TCP on loopback (--mca btl tcp,self).
 *     `dshq top --once` shows a line per remote rank while it runs.
 *
 * Skipped (exit 77) with the reason where Open MPI is absent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "mpi/mpi_host.h"
#include "run/run.h"

static const char *dshq_bin(void)
{
    const char *p = getenv("DSHQ");
    return p ? p : "build/dshq";
}

static int have_cmd(const char *cmd)
{
    char buf[256];
    snprintf(buf, sizeof buf, "command -v %s >/dev/null 2>&1", cmd);
    return system(buf) == 0;
}

/* Runs argv with stdout+stderr into log; returns the pid (own group).  If
 * the test dies, the child gets SIGTERM (not test_fork's SIGKILL): mpirun
 * then ends its ranks, which live in process groups of their own. */
static pid_t start(const char *log, char *const argv[])
{
    pid_t pid = test_fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid, double seconds)
{
    int st = 0;
    /* test_waitpid kills the child with SIGKILL after the deadline; ask
     * mpirun to end its ranks first. */
    uint64_t deadline = test_deadline_ns(seconds);
    pid_t r = 0;
    while ((r = waitpid(pid, &st, WNOHANG)) == 0 && test_now_ns() < deadline)
        test_sleep_ms(20);
    if (r == 0) {
        fprintf(stderr, "pid %d still running after %.0f s: SIGTERM\n", (int)pid,
                seconds * test_time_scale());
        kill(pid, SIGTERM);
        r = test_waitpid(pid, &st, 15);
    }
    if (r != pid) {
        kill(-pid, SIGKILL);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

struct rank_line {
    unsigned long long chunks, failures, dropped, there, after, lag_max, wversion, wmsgs;
    double mib, lag_mean;
};
struct fwd_line {
    unsigned long long forwarded, adopted, newest, unknown, damaged;
    double mib;
};

static int parse_rank(const char *log, int r, struct rank_line *x)
{
    char key[32];
    snprintf(key, sizeof key, "  rank %d lane ", r);
    const char *p = strstr(log, key);
    if (!p || !(p = strstr(p, ": chunks ")))
        return -1;
    return sscanf(p, ": chunks %llu (%lf MiB), checksum failures %llu, dropped %llu (here) + "
                     "%llu (there), after stop %llu, lag mean %lf max %llu, weights version "
                     "%llu (%llu messages)",
                  &x->chunks, &x->mib, &x->failures, &x->dropped, &x->there, &x->after,
                  &x->lag_mean, &x->lag_max, &x->wversion, &x->wmsgs) == 10 ? 0 : -1;
}

static int parse_fwd(const char *log, int r, struct fwd_line *x)
{
    char key[48];
    snprintf(key, sizeof key, "dshq train: rank %d: forwarded ", r);
    const char *p = strstr(log, key);
    if (!p)
        return -1;
    return sscanf(p + strlen(key) - strlen("forwarded "),
                  "forwarded %llu chunks (%lf MiB) to rank 0, weights versions adopted %llu "
                  "(newest %llu), %llu with an unknown version, %llu damaged on purpose",
                  &x->forwarded, &x->mib, &x->adopted, &x->newest, &x->unknown,
                  &x->damaged) == 6 ? 0 : -1;
}

/* The checks common to both parts; returns rank 0's total chunk MiB. */
static double check_log(const char *name, const char *log, int corrupt_every)
{
    const char *fin = strstr(log, "== run '");
    CHECK_MSG(fin, "no summary of rank 0:\n%s", log);
    unsigned long long updates = 0, version = 0;
    const char *u = strstr(log, "  updates ");
    CHECK_MSG(u && sscanf(u, "  updates %llu (weights version %llu)", &updates, &version) == 2,
              "no updates line:\n%s", log);
    CHECK_MSG(updates >= 2, "only %llu updates", updates);
    double mib = 0;
    for (int r = 1; r <= 2; r++) {
        struct rank_line x;
        struct fwd_line f;
        CHECK_MSG(parse_rank(log, r, &x) == 0, "no line for rank %d at rank 0:\n%s", r, log);
        CHECK_MSG(parse_fwd(log, r, &f) == 0, "no line of rank %d itself:\n%s", r, log);
        fprintf(stderr, "%s rank %d: forwarded %llu, taken %llu, bad %llu (damaged %llu), "
                        "dropped %llu, after stop %llu, weights v%llu adopted %llu\n",
                name, r, f.forwarded, x.chunks, x.failures, f.damaged, x.dropped, x.after,
                f.newest, f.adopted);
        CHECK_MSG(x.chunks > 0, "rank %d: no chunk reached rank 0", r);
        /* Every damaged chunk found, and nothing else. */
        CHECK_EQ_U64(x.failures, f.damaged);
        if (corrupt_every)
            CHECK_MSG(f.forwarded < (unsigned long long)corrupt_every || f.damaged > 0,
                      "rank %d: the test hook damaged nothing", r);
        /* Every forwarded chunk is accounted for at rank 0. */
        CHECK_EQ_U64(x.chunks + x.failures + x.dropped + x.after, f.forwarded);
        /* The weights version advanced on this rank, in rank 0's numbering. */
        CHECK_MSG(f.adopted >= 2 && f.newest >= 2 && f.newest <= version,
                  "rank %d: adopted %llu versions, newest %llu (rank 0 at %llu)", r, f.adopted,
                  f.newest, version);
        CHECK_EQ_U64(x.wversion, f.newest);
        CHECK_EQ_U64(f.unknown, 0);
        mib += x.mib;
    }
    return mib;
}

static void check_gone(const char *region)
{
    const char *suffix[] = {"", "-rank1", "-rank2", "-mpi"};
    for (int i = 0; i < 4; i++) {
        char path[256];
        snprintf(path, sizeof path, "/dev/shm/%s%s", region, suffix[i]);
        CHECK_MSG(access(path, F_OK) != 0, "%s is still there", path);
    }
}

static void common_args(char **argv, int *n, const char *run, const char *ckdir)
{
    argv[(*n)++] = (char *)dshq_bin();
    argv[(*n)++] = "train";
    argv[(*n)++] = "--mpi";
    argv[(*n)++] = "--run";
    argv[(*n)++] = (char *)run;
    argv[(*n)++] = "--workers";
    argv[(*n)++] = "1";
    argv[(*n)++] = "--envs";
    argv[(*n)++] = "16";
    argv[(*n)++] = "--horizon";
    argv[(*n)++] = "32";
    argv[(*n)++] = "--eval-episodes";
    argv[(*n)++] = "0";
    argv[(*n)++] = "--quiet";
    argv[(*n)++] = "--checkpoint-dir";
    argv[(*n)++] = (char *)ckdir;
}

/* Under TSan: Open MPI's own libraries are not instrumented and take their
 * locks in orders TSan flags (e.g. mca_btl_tcp_add_procs); its reports
 * about them are suppressed, never ours (src/, the roles). */
static char tsan_opts[512];

static void mpirun_head(char **argv, int *n)
{
    argv[(*n)++] = "mpirun";
    argv[(*n)++] = "--oversubscribe";
    if (getuid() == 0)
        argv[(*n)++] = "--allow-run-as-root";
    argv[(*n)++] = "-np";
    argv[(*n)++] = "3";
    argv[(*n)++] = "-x";
    argv[(*n)++] = "DSHQ_MPI_TEST_CORRUPT_EVERY=7";
    argv[(*n)++] = "-x";
    argv[(*n)++] = "ASAN_OPTIONS=detect_leaks=0";
    if (tsan_opts[0]) {
        argv[(*n)++] = "-x";
        argv[(*n)++] = tsan_opts;
    }
}

/* Part 1: shared memory, --seconds. */
static void part_seconds(const char *tmp)
{
    char region[128], log[256];
    test_region_name(region, sizeof region, "mpis");
    snprintf(log, sizeof log, "%s/seconds.log", tmp);
    char *argv[64];
    int n = 0;
    mpirun_head(argv, &n);
    common_args(argv, &n, region + strlen(RUN_REGION_PREFIX), tmp);
    argv[n++] = "--seconds";
    argv[n++] = "4";
    argv[n++] = "--when-full"; /* part 2 runs the default, block */
    argv[n++] = "drop";
    argv[n] = NULL;
    pid_t pid = start(log, argv);
    int rc = finish(pid, 150);
    char *out = slurp(log);
    CHECK_MSG(rc == 0, "mpirun exited %d:\n%s", rc, out);
    check_log("seconds", out, 7);
    check_gone(region);
    free(out);
}

static char cleanup_ns[64], cleanup_veth[32];
static void remove_netns(void)
{
    if (cleanup_ns[0])
        sh("ip netns del %s 2>/dev/null; ip link del %s 2>/dev/null", cleanup_ns, cleanup_veth);
    cleanup_ns[0] = 0;
}

/* Part 2: TCP (two namespaces or loopback), `dshq ctl stop`. */
static void part_ctl_stop(const char *tmp)
{
    char region[128], log[256], agent[256], ns[64], va[32], vb[32];
    test_region_name(region, sizeof region, "mpit");
    const char *run = region + strlen(RUN_REGION_PREFIX);
    snprintf(log, sizeof log, "%s/stop.log", tmp);
    snprintf(ns, sizeof ns, "dshqmpi%ld", (long)getpid());
    snprintf(va, sizeof va, "dqa%ld", (long)getpid() % 100000);
    snprintf(vb, sizeof vb, "dqb%ld", (long)getpid() % 100000);
    int netns = getuid() == 0 && have_cmd("ip") && have_cmd("unshare") &&
                sh("ip netns add %s 2>/dev/null", ns) == 0;
    if (netns) { /* removed at exit, whatever happens below */
        snprintf(cleanup_ns, sizeof cleanup_ns, "%s", ns);
        snprintf(cleanup_veth, sizeof cleanup_veth, "%s", va);
        atexit(remove_netns);
    }
    if (netns &&
        sh("ip link add %s type veth peer name %s && ip link set %s netns %s && "
           "ip addr add 10.231.%ld.1/24 dev %s && ip link set %s up && "
           "ip netns exec %s ip addr add 10.231.%ld.2/24 dev %s && "
           "ip netns exec %s ip link set %s up && ip netns exec %s ip link set lo up && "
           "ip netns exec %s unshare --uts /bin/true",
           va, vb, vb, ns, (long)getpid() % 250, va, va, ns, (long)getpid() % 250, vb, ns, vb,
           ns, ns) != 0) {
        remove_netns();
        netns = 0;
    }
    char *argv[80];
    int n = 0;
    char host[128], subnet[64];
    mpirun_head(argv, &n);
    if (netns) {
        snprintf(agent, sizeof agent, "%s/agent.sh", tmp);
        FILE *f = fopen(agent, "w");
        CHECK(f);
        fprintf(f, "#!/bin/sh\n# mpirun's launch agent: 'agent HOST CMD...' runs CMD in "
                   "network namespace HOST\nhost=$1; shift\n"
                   "exec ip netns exec \"$host\" unshare --uts /bin/sh -c \"hostname $host; $*\"\n");
        fclose(f);
        chmod(agent, 0755);
        snprintf(host, sizeof host, "localhost:1,%s:2", ns);
        snprintf(subnet, sizeof subnet, "10.231.%ld.0/24", (long)getpid() % 250);
        argv[n++] = "--host";
        argv[n++] = host;
        argv[n++] = "--mca";
        argv[n++] = "plm_rsh_agent";
        argv[n++] = agent;
        argv[n++] = "--mca";
        argv[n++] = "btl_tcp_if_include";
        argv[n++] = subnet;
        argv[n++] = "--mca";
        argv[n++] = "oob_tcp_if_include";
        argv[n++] = subnet;
    } else {
        check_skip_part("network namespaces (needs root and iproute2): TCP on loopback instead");
    }
    argv[n++] = "--mca";
    argv[n++] = "btl";
    argv[n++] = "tcp,self";
    common_args(argv, &n, run, tmp);
    argv[n++] = "--seconds";
    argv[n++] = "600";
    argv[n] = NULL;
    unsigned long long rx0 = 0, rx1 = 0;
    char stat_path[128];
    snprintf(stat_path, sizeof stat_path, "/sys/class/net/%s/statistics/rx_bytes", va);
    if (netns) {
        char *s = slurp(stat_path);
        rx0 = strtoull(s, NULL, 10);
        free(s);
    }
    pid_t pid = start(log, argv);

    /* Wait until rank 0's weights advanced and both ranks were heard. */
    uint64_t deadline = test_deadline_ns(120);
    int seen = 0;
    uint64_t last_v = 0;
    char top_log[256];
    snprintf(top_log, sizeof top_log, "%s/top.log", tmp);
    while (!seen && test_now_ns() < deadline) {
        test_sleep_ms(200);
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            char *out = slurp(log);
            CHECK_MSG(0, "mpirun ended before the stop:\n%s", out);
        }
        struct run r;
        if (run_attach(&r, region, DSHQ_ATTACH_RDONLY) != 0)
            continue;
        struct dshq_weights *w;
        uint64_t v = 0;
        if (dshq_weights_open(r.weights_mem, r.weights_size, &w) == 0) {
            v = dshq_weights_version(w);
            dshq_weights_close(w);
        }
        run_detach(&r);
        last_v = v;
        if (v < 6)
            continue;
        char *targv[] = {(char *)dshq_bin(), "top", "--once", (char *)run, NULL};
        pid_t t = start(top_log, targv);
        CHECK_EQ_INT(finish(t, 30), 0);
        char *top = slurp(top_log);
        seen = strstr(top, "rank 1 (lane") && strstr(top, "rank 2 (lane") &&
               !strstr(top, "rank 1 (lane 1): chunks 0 ") && !strstr(top, "rank 2 (lane 2): chunks 0 ");
        if (seen)
            fprintf(stderr, "top:\n%s", top);
        free(top);
    }
    CHECK_MSG(seen, "the run never showed chunks from both ranks in `dshq top` (weights v%llu); "
                    "top:\n%s\nrun:\n%s", (unsigned long long)last_v, slurp(top_log), slurp(log));
    char ctl_log[256];
    snprintf(ctl_log, sizeof ctl_log, "%s/ctl.log", tmp);
    char *cargv[] = {(char *)dshq_bin(), "ctl", (char *)run, "stop", NULL};
    CHECK_EQ_INT(finish(start(ctl_log, cargv), 30), 0);
    int rc = finish(pid, 90);
    char *out = slurp(log);
    CHECK_MSG(rc == 0, "mpirun exited %d after ctl stop:\n%s", rc, out);
    double mib = check_log(netns ? "netns tcp" : "loopback tcp", out, 7);
    if (netns) {
        char *s = slurp(stat_path);
        rx1 = strtoull(s, NULL, 10);
        free(s);
        fprintf(stderr, "veth %s received %.1f MiB; rank 0 took %.1f MiB of chunks\n", va,
                (double)(rx1 - rx0) / (1 << 20), mib);
        CHECK_MSG((double)(rx1 - rx0) >= mib * (1 << 20),
                  "the veth counted %llu bytes, fewer than the %.0f chunk bytes taken",
                  rx1 - rx0, mib * (1 << 20));
        remove_netns();
    }
    check_gone(region);
    free(out);
}

int main(void)
{
    if (!mpi_host_available()) {
        printf("skip: dshq was built without Open MPI (scripts/install-deps.sh installs "
               "openmpi-bin libopenmpi-dev; rebuild)\n");
        return TEST_SKIP;
    }
    if (!have_cmd("mpirun")) {
        printf("skip: no mpirun on PATH (openmpi-bin)\n");
        return TEST_SKIP;
    }
    char tmp[] = "/tmp/dshq-mpi-XXXXXX";
    CHECK(mkdtemp(tmp));
    if (TEST_UNDER_TSAN) {
        char supp[256];
        snprintf(supp, sizeof supp, "%s/tsan-openmpi.supp", tmp);
        FILE *f = fopen(supp, "w");
        CHECK(f);
        fprintf(f, "# Open MPI internals (uninstrumented)\n");
        const char *kinds[] = {"race", "deadlock", "mutex", "thread", "signal"};
        const char *libs[] = {"libmpi.so", "libopen-pal.so", "libopen-rte.so", "libpmix.so",
                              "libevent*", "mca_*"};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            for (size_t j = 0; j < sizeof libs / sizeof libs[0]; j++)
                fprintf(f, "%s:%s\n", kinds[k], libs[j]);
        for (size_t j = 0; j < 3; j++) /* one library each, never unloaded */
            fprintf(f, "called_from_lib:%s\n", libs[j]);
        fclose(f);
        const char *old = getenv("TSAN_OPTIONS");
        snprintf(tsan_opts, sizeof tsan_opts, "TSAN_OPTIONS=%s%ssuppressions=%s",
                 old ? old : "", old && *old ? " " : "", supp);
    }
    part_seconds(tmp);
    part_ctl_stop(tmp);
    sh("rm -rf %s", tmp);
    printf("ok\n");
    return 0;
}
