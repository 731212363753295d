/* test_install: `make install` into a staged DESTDIR gives a usable library.
 *
 *  - the staged tree holds bin/dshq, lib/libdshq.{a,so,so.1,so.1.0.0} with
 *    soname libdshq.so.1, include/dshq/ headers, lib/pkgconfig/dshq.pc and the
 *    man pages dshq.1 and libdshq.3;
 *  - examples/chunks.c, copied out of the tree, builds with examples/Makefile
 *    through pkg-config against the staged install only (shared and static)
 *    and runs: a producer and a consumer of chunks in two processes, every
 *    value checked;
 *  - `make uninstall` leaves no file behind.
 * The compiler and pkg-config are the build's own dependencies: no skip. */
#include <limits.h>

#include "check.h"

#ifndef DSHQ_SRCDIR
#error "built by the Makefile with DSHQ_SRCDIR and DSHQ_BUILDDIR"
#endif

/* Runs a shell command; returns its exit status (-1 if it did not exit). */
__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t)n < sizeof cmd);
    fprintf(stderr, "+ %s\n", cmd);
    fflush(stderr);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
    char tmpl[] = "/tmp/dshq-install-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir);
    const char *prefix = "/opt/dshq";
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/stage%s", dir, prefix);
    /* The sanitizer builds' library needs the same runtime in the example. */
    const char *san = TEST_UNDER_ASAN ? "-fsanitize=address,undefined"
                      : TEST_UNDER_TSAN ? "-fsanitize=thread" : "";

    CHECK_EQ_INT(sh("make -s --no-print-directory -C '%s' BUILD='%s' PREFIX=%s "
                    "DESTDIR='%s/stage' install >/dev/null",
                    DSHQ_SRCDIR, DSHQ_BUILDDIR, prefix, dir), 0);
    static const char *const files[] = {
        "bin/dshq", "lib/libdshq.a", "lib/libdshq.so", "lib/libdshq.so.1",
        "lib/libdshq.so.1.0.0", "lib/pkgconfig/dshq.pc", "include/dshq/region.h",
        "include/dshq/chunk.h", "include/dshq/rollout.h", "include/dshq/weights.h",
        "include/dshq/mailbox.h", "include/dshq/telemetry.h", "include/dshq/wait.h",
        "include/dshq/error.h", "include/dshq/hash.h", "include/dshq/cxx_begin.h",
        "include/dshq/cxx_end.h", "share/man/man1/dshq.1", "share/man/man3/libdshq.3"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[PATH_MAX + 64];
        snprintf(p, sizeof p, "%s/%s", root, files[i]);
        CHECK_MSG(access(p, R_OK) == 0, "%s not installed", p);
    }
    CHECK_EQ_INT(sh("readelf -d '%s/lib/libdshq.so.1.0.0' | grep -q 'SONAME.*\\[libdshq.so.1\\]'",
                    root), 0);
    CHECK_EQ_INT(sh("'%s/bin/dshq' --help | grep -q 'train'", root), 0);
    /* The pc file names the final prefix; the sysroot maps it into the stage. */
    CHECK_EQ_INT(sh("grep -qx 'prefix=%s' '%s/lib/pkgconfig/dshq.pc'", prefix, root), 0);

    /* The example, built outside the tree through pkg-config only. */
    const char *env = "PKG_CONFIG_PATH='%s/lib/pkgconfig' PKG_CONFIG_SYSROOT_DIR='%s/stage'";
    char penv[PATH_MAX * 3];
    snprintf(penv, sizeof penv, env, root, dir);
    CHECK_EQ_INT(sh("mkdir '%s/ex' && cp '%s/examples/chunks.c' '%s/examples/Makefile' '%s/ex/'",
                    dir, DSHQ_SRCDIR, DSHQ_SRCDIR, dir), 0);
    CHECK_EQ_INT(sh("%s make -s -C '%s/ex' CFLAGS='-O2 -Wall -Wextra -Werror %s' chunks", penv,
                    dir, san), 0);
    CHECK_EQ_INT(sh("ldd '%s/ex/chunks' | grep -q 'libdshq.so.1'", dir), 0);
    CHECK_EQ_INT(sh("LD_LIBRARY_PATH='%s/lib' '%s/ex/chunks' | grep -q ': ok$'", root, dir), 0);
    CHECK_EQ_INT(sh("%s make -s -C '%s/ex' clean && %s make -s -C '%s/ex' STATIC=1 "
                    "CFLAGS='-O2 -Wall -Wextra -Werror %s' chunks", penv, dir, penv, dir, san), 0);
    CHECK_EQ_INT(sh("! ldd '%s/ex/chunks' | grep -q libdshq", dir), 0);
    CHECK_EQ_INT(sh("'%s/ex/chunks' | grep -q ': ok$'", dir), 0);

    CHECK_EQ_INT(sh("make -s --no-print-directory -C '%s' BUILD='%s' PREFIX=%s "
                    "DESTDIR='%s/stage' uninstall >/dev/null",
                    DSHQ_SRCDIR, DSHQ_BUILDDIR, prefix, dir), 0);
    CHECK_EQ_INT(sh("test -z \"$(find '%s/stage' -type f -o -type l)\"", dir), 0);
    CHECK_EQ_INT(sh("rm -rf '%s'", dir), 0);
    printf("install: staged install complete, example built by pkg-config (shared and static) "
           "and ran, uninstall left nothing\n");
    return 0;
}
