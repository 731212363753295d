/* cmd_serve.c — `dshq serve`: the browser page (web/) on 127.0.0.1.
 *
 * The page runs the C core as WebAssembly threads over a SharedArrayBuffer,
 * which a browser grants only to a cross-origin isolated page: every
 * response carries
 *     Cross-Origin-Opener-Policy: same-origin
 *     Cross-Origin-Embedder-Policy: require-corp
 *     Cross-Origin-Resource-Policy: same-origin
 * and .wasm files are application/wasm (streaming compilation needs it).
 * Only files under the web folder are served (no "..", no hidden names);
 * GET and HEAD only; bound to the loopback address only.  HTTP by
 * libmicrohttpd (Debian's libmicrohttpd-dev). */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/util.h"

static const struct {
    const char *ext, *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".png", "image/png"},
    {".svg", "image/svg+xml"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".md", "text/plain; charset=utf-8"},
};

static const char *mime_for(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof mime_types / sizeof mime_types[0]; i++)
            if (!strcmp(dot, mime_types[i].ext))
                return mime_types[i].type;
    return "application/octet-stream";
}

/* 1 when url is a plain relative file path we may serve: no "..", no
 * component starting with '.', only printable characters. */
static int url_ok(const char *url)
{
    if (url[0] != '/')
        return 0;
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p < 32 || (unsigned char)*p >= 127 || *p == '\\')
            return 0;
        if (*p == '/' && p[1] == '.')
            return 0;
    }
    return 1;
}

static void add_isolation_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned code, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    add_isolation_headers(r);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static int quiet_log;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_len, void **state)
{
    (void)version, (void)upload, (void)upload_len, (void)state;
    const char *root = cls;
    if (strcmp(method, "GET") && strcmp(method, "HEAD"))
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    if (!url_ok(url))
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    char path[PATH_MAX];
    const char *rel = strcmp(url, "/") ? url : "/index.html";
    if ((size_t)snprintf(path, sizeof path, "%s%s", root, rel) >= sizeof path)
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        if (!quiet_log)
            fprintf(stderr, "dshq serve: 404 %s\n", url);
        if (!strncmp(url, "/dist/", 6))
            return reply_text(c, MHD_HTTP_NOT_FOUND,
                              "not built: run 'make web' in the source tree first\n");
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    add_isolation_headers(r);
    MHD_add_response_header(r, "Content-Type", mime_for(path));
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The web folder: --root, else web/ beside the build folder of this
 * executable (build/dshq -> ../web), else ./web. */
static int find_root(const char *given, char *out, size_t len)
{
    char buf[PATH_MAX];
    if (given) {
        if (!realpath(given, out))
            return -errno;
        return 0;
    }
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 16);
    if (n > 0) {
        buf[n] = 0;
        char *slash = strrchr(buf, '/');
        if (slash) {
            strcpy(slash, "/../web/index.html");
            char real[PATH_MAX];
            if (realpath(buf, real)) {
                *strrchr(real, '/') = 0;
                snprintf(out, len, "%s", real);
                return 0;
            }
        }
    }
    if (realpath("web/index.html", buf)) {
        *strrchr(buf, '/') = 0;
        snprintf(out, len, "%s", buf);
        return 0;
    }
    return -ENOENT;
}

static void open_browser(const char *url)
{
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("xdg-open", "xdg-open", url, (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        fprintf(stderr, "dshq serve: --open: cannot start a browser; open %s yourself\n", url);
}

int cmd_serve(int argc, char **argv)
{
    long port = 8088;
    int want_open = 0;
    const char *root_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("usage: dshq serve [--port P] [--open] [--root DIR] [--quiet]\n\n"
                   "Serves the DrillSergeantHQ page (web/, built by 'make web') on\n"
                   "http://127.0.0.1:P/ (P = 8088; 0 picks a free port) with the headers that\n"
                   "make it cross-origin isolated (COOP/COEP/CORP), so the browser grants\n"
                   "SharedArrayBuffer and wasm threads.  Open the printed URL, press Train.\n"
                   "  --open    also start the desktop's browser on it (xdg-open)\n"
                   "  --root    the folder to serve (default: web/ beside build/)\n"
                   "  --quiet   do not log missing files\n"
                   "Ctrl-C stops it.\n");
            return 0;
        } else if (!strcmp(a, "--port") && i + 1 < argc) {
            char *end;
            port = strtol(argv[++i], &end, 10);
            if (*end || port < 0 || port > 65535) {
                fprintf(stderr, "dshq serve: --port %s: a number 0..65535\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--open")) {
            want_open = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet_log = 1;
        } else if (!strcmp(a, "--root") && i + 1 < argc) {
            root_arg = argv[++i];
        } else {
            fprintf(stderr, "dshq serve: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    static char root[PATH_MAX];
    int rc = find_root(root_arg, root, sizeof root);
    if (rc) {
        fprintf(stderr, "dshq serve: cannot find the web folder%s%s: %s\n"
                        "  hint: run it from the source tree, or pass --root path/to/web\n",
                root_arg ? " " : "", root_arg ? root_arg : "", strerror(-rc));
        return 1;
    }
    char probe[PATH_MAX + 32];
    snprintf(probe, sizeof probe, "%s/dist/dshq.wasm", root);
    if (access(probe, R_OK))
        fprintf(stderr, "dshq serve: %s/dist/ is not built: run 'make web' first\n", root);

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* Block the stop signals before the server's threads start, so they
     * inherit the mask and sigwait below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                             MHD_USE_ERROR_LOG,
                         (uint16_t)port, NULL, NULL, handle, root, MHD_OPTION_SOCK_ADDR, &sa,
                         MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "dshq serve: cannot listen on 127.0.0.1:%ld (in use?)\n"
                        "  hint: pick another with --port P, or --port 0 for any free one\n",
                port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = info ? info->port : (unsigned)port;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", bound);
    printf("dshq serve: %s  (serving %s; Ctrl-C stops)\n", url, root);
    fflush(stdout);
    if (want_open)
        open_browser(url);
    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    MHD_stop_daemon(d);
    if (want_open)
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    return 0;
}
