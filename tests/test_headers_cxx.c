/* test_headers_cxx: every public header compiles on its own as C++ (g++,
 * C++11 and C++20, -Wall -Wextra -Werror -pedantic) and as C11, and a C++
 * program that includes them all links against libdshq and calls it
 * (dshq_strerror, dshq_chunk_layout_init): extern "C" and the layout
 * asserts hold in both languages.  The headers' layout asserts
 * (static_assert in C++) check the shared structs' offsets there too.
 * g++ comes with build-essential, a build dependency: no skip. */
#include <dirent.h>
#include <limits.h>

#include "check.h"

__attribute__((format(printf, 1, 2))) static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t)n < sizeof cmd);
    int st = system(cmd);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
    char inc[PATH_MAX];
    snprintf(inc, sizeof inc, "%s/include", DSHQ_SRCDIR);
    char dpath[PATH_MAX + 8];
    snprintf(dpath, sizeof dpath, "%s/dshq", inc);
    DIR *d = opendir(dpath);
    CHECK(d);
    char tmpl[] = "/tmp/dshq-cxx-XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir);
    char all[4096] = "";
    int headers = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 2, ".h") || !strncmp(e->d_name, "cxx_", 4))
            continue;
        static const char *const stds[] = {"-x c++ -std=c++11", "-x c++ -std=c++20",
                                           "-x c -std=c11"};
        for (int s = 0; s < 3; s++) {
            const char *cc = s < 2 ? "g++" : "gcc";
            int rc = sh("printf '#include <dshq/%s>\\n' | %s %s -Wall -Wextra -Werror -pedantic "
                        "-I'%s' -fsyntax-only - 2>&1",
                        e->d_name, cc, stds[s], inc);
            CHECK_MSG(rc == 0, "%s does not compile on its own with %s %s", e->d_name, cc,
                      stds[s]);
        }
        size_t len = strlen(all);
        snprintf(all + len, sizeof all - len, "#include <dshq/%s>\\n", e->d_name);
        headers++;
    }
    closedir(d);
    CHECK_MSG(headers >= 9, "found %d public headers", headers);
    /* All together in one C++ program that links and calls the C library. */
    CHECK_EQ_INT(sh("printf '%s' > '%s/all.cpp' && cat >> '%s/all.cpp' <<'EOF'\n"
                    "#include <cstdio>\n#include <cstring>\n"
                    "int main() {\n"
                    "  struct dshq_chunk_layout l;\n"
                    "  if (dshq_chunk_layout_init(&l, 4, 2, 3, 0) != 0 || l.bytes %% 64) return 1;\n"
                    "  if (!std::strstr(dshq_strerror(DSHQ_ECORRUPT), \" \")) return 2;\n"
                    "  static_assert(sizeof(struct dshq_region_header) == 128, \"abi\");\n"
                    "  std::printf(\"%%llu\\n\", (unsigned long long)l.bytes);\n"
                    "  return 0;\n}\nEOF",
                    all, dir, dir), 0);
    CHECK_EQ_INT(sh("g++ -std=c++17 -Wall -Wextra -Werror %s -I'%s' -o '%s/all' '%s/all.cpp' "
                    "'%s/libdshq.a' -pthread -lrt 2>&1",
                    TEST_UNDER_ASAN ? "-fsanitize=address,undefined"
                    : TEST_UNDER_TSAN ? "-fsanitize=thread" : "",
                    inc, dir, dir, DSHQ_BUILDDIR), 0);
    CHECK_EQ_INT(sh("'%s/all' >/dev/null", dir), 0);
    CHECK_EQ_INT(sh("rm -rf '%s'", dir), 0);
    printf("headers_cxx: %d headers compile alone as C++11, C++20 and C11; a C++ program "
           "with all of them links libdshq.a and runs\n", headers);
    return 0;
}
