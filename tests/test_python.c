/* test_python: the Python package's pytest suite (python/tests) against this
 * build's libdshq_py.so: chunks as numpy views across processes (every
 * value, no copy, errors after release/close), weights, control, telemetry,
 * config, the vector env, and the cross-checks of the C MLP and PPO loss
 * against PyTorch autograd (those skip inside pytest, with the reason, when
 * python3-torch is missing).
 *
 * Python: $PYTHON, else /usr/bin/python3 (Debian's, where python3-numpy and
 * python3-pytest install), else python3 on PATH; the first with numpy and
 * pytest.  None: exit 77 (skip), saying which was missing and how to get it.
 * Sanitizer builds: the library needs its runtime in the interpreter, so
 * it is preloaded (leak reports off: the interpreter's own are not ours). */
#include <limits.h>

#include "check.h"

static int has_modules(const char *py)
{
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import numpy, pytest' >/dev/null 2>&1", py);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void)
{
    const char *cands[3] = {getenv("PYTHON"), "/usr/bin/python3", "python3"};
    const char *py = NULL;
    for (int i = 0; i < 3 && !py; i++)
        if (cands[i] && *cands[i] && has_modules(cands[i]))
            py = cands[i];
    if (!py) {
        fprintf(stderr, "test_python: skipped: no Python 3 with numpy and pytest "
                        "(tried $PYTHON, /usr/bin/python3, python3); "
                        "install python3-numpy python3-pytest (scripts/install-deps.sh)\n");
        return TEST_SKIP;
    }
    char lib[PATH_MAX];
    snprintf(lib, sizeof lib, "%s/libdshq_py.so", DSHQ_BUILDDIR);
    CHECK_MSG(access(lib, R_OK) == 0, "%s missing (make python)", lib);
    setenv("DSHQ_PY_LIB", lib, 1);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    const char *pre = "";
    char preload[PATH_MAX + 64] = "";
    if (TEST_UNDER_ASAN || TEST_UNDER_TSAN) {
        FILE *f = popen(TEST_UNDER_ASAN ? "cc -print-file-name=libasan.so"
                                        : "cc -print-file-name=libtsan.so", "r");
        char path[PATH_MAX] = "";
        if (f) {
            if (!fgets(path, sizeof path, f))
                path[0] = 0;
            pclose(f);
        }
        path[strcspn(path, "\n")] = 0;
        CHECK_MSG(path[0] == '/', "cannot find the sanitizer runtime");
        snprintf(preload, sizeof preload, "LD_PRELOAD='%s' ", path);
        pre = preload;
        setenv("ASAN_OPTIONS", "detect_leaks=0", 1);
        /* TSan: the interpreter's own threads and forks are not ours. */
        setenv("TSAN_OPTIONS", "report_signal_unsafe=0 die_after_fork=0", 1);
    }
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cd '%s/python' && %s'%s' -m pytest -q -p no:cacheprovider tests 2>&1",
             DSHQ_SRCDIR, pre, py);
    fprintf(stderr, "+ %s\n", cmd);
    fflush(stderr);
    int st = system(cmd);
    CHECK_MSG(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0, "pytest failed (status %d)",
              st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    printf("python: pytest passed with %s\n", py);
    return 0;
}
