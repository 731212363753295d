/* host.c — the web host: the C entry points the page (web/app.js) calls.
 *
 * The browser build is one WebAssembly module with a shared memory (its
 * buffer is a SharedArrayBuffer).  A training run here is what `dshq train`
 * makes of /dev/shm, made of that memory instead: web_train() creates the
 * run's region anonymously (run_create with no name: mmap of anonymous
 * memory, i.e. a block of the wasm heap), then starts the trainer and the
 * rollout workers as pthreads, which Emscripten runs as Web Workers over the
 * same memory.  They meet only through the run's channels (weights, rollout
 * lanes or MPSC ring, mailbox, telemetry) with the same C code and byte
 * layout as natively; wait/notify is Atomics.wait/notify (src/transport/
 * wait.c).  Nothing bulk crosses postMessage.
 *
 * The page's own thread (the browser's main thread) calls only what never
 * blocks: creating and destroying a run when no role runs on it, the show's
 * simulation (show_sim_*: relaxed loads, an O(1) adopt of the weights
 * channel, one env tick), telemetry reads (a seqlock copy with bounded
 * retries), mailbox posts (never wait) and flag stores.  Joins are replaced
 * by per-role done flags the page polls (web_roles_running).
 *
 * The show runs on the main thread (docs/web.md says why): web_frame()
 * advances it to now, web_show_state() returns its state for drawing.
 *
 * Errors: functions return 0 or a negative errno / CKPT_* code, and leave a
 * sentence in web_error(). */
#include <emscripten/emscripten.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl/train_loop.h"
#include "run/checkpoint.h"
#include "run/metrics.h"
#include "run/roles.h"
#include "run/show.h"

#define WEB_API EMSCRIPTEN_KEEPALIVE

/* One role thread: its done flag is the only thing the page's thread reads
 * from it, so the region is destroyed only after every flag is set. */
struct web_role {
    pthread_t tid;
    int worker;          /* -1: trainer */
    _Atomic int done;    /* D1: release store by the role's thread when its function returned */
    int rc;
};

static struct {
    int have_run;
    struct run run;
    struct show_sim show;
    int have_show;
    struct web_role roles[1 + RUN_MAX_WORKERS];
    uint32_t n_roles;
    struct trainer_opts to;
    char ckpt_path[256], resume_path[256];
    char err[512];
    char text[16384];
    float state[64];
    double metrics[64];
} W;

/* The show swaps to a newer policy at most once per swap_s seconds (0: at
 * each new version); web_show_swap_interval sets it, kept across runs. */
static double swap_s = 1.0;

static void web_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(W.err, sizeof W.err, fmt, ap);
    va_end(ap);
}

WEB_API const char *web_error(void) { return W.err; }

static void *role_main(void *arg)
{
    struct web_role *r = arg;
    r->rc = r->worker < 0 ? run_trainer(&W.run, &W.to) : run_worker(&W.run, (uint32_t)r->worker, 0);
    /* D1: pairs with D2 in web_roles_running: the role is done with the run. */
    atomic_store_explicit(&r->done, 1, memory_order_release);
    return NULL;
}

/* Roles of the current run still running (0: none, the run may go). */
WEB_API int web_roles_running(void)
{
    int n = 0;
    for (uint32_t i = 0; i < W.n_roles; i++)
        n += !atomic_load_explicit(&W.roles[i].done, memory_order_acquire); /* D2 */
    return n;
}

/* Exit status of the trainer of the last run (0 clean), -1 while it runs. */
WEB_API int web_trainer_rc(void)
{
    if (!W.n_roles || !atomic_load_explicit(&W.roles[0].done, memory_order_acquire))
        return -1;
    return W.roles[0].rc;
}

static void close_run(void)
{
    if (W.have_show)
        show_sim_close(&W.show);
    W.have_show = 0;
    if (W.have_run)
        run_destroy(&W.run);
    W.have_run = 0;
    W.n_roles = 0;
}

static int open_show(uint64_t seed)
{
    if (show_sim_open(&W.show, &W.run, "scripted", seed ? seed : 7)) {
        web_fail("the show could not open on the run");
        return -EINVAL;
    }
    W.have_show = 1;
    W.show.min_swap_ns = (uint64_t)(swap_s * 1e9);
    return 0;
}

/* Waits the transport attempted on this (the main) thread: must stay 0
 * (src/transport/wait.c counts them). */
extern _Atomic uint32_t dshq_wasm_main_thread_waits;
WEB_API int web_main_thread_waits(void)
{
    return (int)atomic_load_explicit(&dshq_wasm_main_thread_waits, memory_order_relaxed);
}

/* ------------------------------------------------------------ config */

/* The settable keys as JSON: [{"name","type","min","max","choices","help",
 * "value"}...] with the defaults as values.  Valid until the next call. */
WEB_API const char *web_config_keys(void)
{
    struct run_config c;
    run_config_default(&c);
    size_t at = 0;
    at += (size_t)snprintf(W.text + at, sizeof W.text - at, "[");
    for (size_t i = 0; i < run_config_key_count && at < sizeof W.text; i++) {
        const struct run_config_key *k = &run_config_keys[i];
        char val[64], help[256];
        run_config_format(&c, k, val, sizeof val);
        size_t h = 0;
        for (const char *p = k->help; p && *p && h + 2 < sizeof help; p++) {
            if (*p == '"' || *p == '\\')
                help[h++] = '\\';
            help[h++] = *p == '\n' ? ' ' : *p;
        }
        help[h] = 0;
        at += (size_t)snprintf(W.text + at, sizeof W.text - at,
                               "%s{\"name\":\"%s\",\"type\":%d,\"min\":%.17g,\"max\":%.17g,"
                               "\"choices\":\"%s\",\"help\":\"%s\",\"value\":\"%s\"}",
                               i ? "," : "", k->name, k->type, k->min, k->max,
                               k->choices ? k->choices : "", help, val);
    }
    if (at < sizeof W.text)
        snprintf(W.text + at, sizeof W.text - at, "]");
    return W.text;
}

static int parse_config(struct run_config *c, const char *text)
{
    char err[256];
    run_config_default(c); /* the native defaults: a 300 s budget the schedules anneal over */
    if (text && *text && run_config_parse(c, text, "settings", NULL, err, sizeof err)) {
        web_fail("%s", err);
        return -EINVAL;
    }
    if (run_config_check(c, err, sizeof err)) {
        web_fail("%s", err);
        return -EINVAL;
    }
    return 0;
}

/* ------------------------------------------------------------ runs */

/* An idle run (no roles): the show plays on it, the policy side random until
 * a version is published.  config_text: "key = value" lines or "". */
WEB_API int web_idle(const char *config_text, double seed)
{
    if (web_roles_running()) {
        web_fail("a training is still running: stop it first");
        return -EBUSY;
    }
    close_run();
    struct run_config c;
    int rc = parse_config(&c, config_text);
    if (rc)
        return rc;
    c.workers = 1;
    if ((rc = run_create(&W.run, NULL, &c, NULL))) {
        web_fail("cannot create the run's region: %s", dshq_strerror(rc));
        return rc;
    }
    W.have_run = 1;
    return open_show((uint64_t)seed);
}

/* Starts a training: the run's region in this memory, the trainer and
 * cfg.workers rollout workers as threads.  resume: a checkpoint file in the
 * module's file system to continue ("" for a fresh run); ckpt: where the
 * trainer saves ("" for nowhere), every ckpt_every_s and when it ends. */
WEB_API int web_train(const char *config_text, const char *resume, const char *ckpt,
                      double ckpt_every_s)
{
    if (web_roles_running()) {
        web_fail("a training is already running");
        return -EBUSY;
    }
    struct run_config c;
    int rc = parse_config(&c, config_text);
    if (rc)
        return rc;
    struct run_start start = {0, 0};
    if (resume && *resume) {
        struct ckpt_meta *meta = calloc(1, sizeof *meta);
        char err[256];
        int d, h, l, n;
        if (!meta)
            return -ENOMEM;
        if ((rc = ckpt_read_meta(resume, meta, err, sizeof err))) {
            web_fail("cannot resume from %s: %s", resume, err);
            free(meta);
            return rc;
        }
        if (run_arch_parse(meta->arch, &d, &h, &l, &n) || d != BD_OBS_DIM ||
            n != BD_NUM_ACTIONS) {
            web_fail("%s: '%s' is not a Ball Drill policy of this version", resume, meta->arch);
            free(meta);
            return -EINVAL;
        }
        /* The network is the checkpoint's; the rest of the settings the page's. */
        c.hidden = (uint32_t)h;
        c.layers = (uint32_t)l;
        start.version_base = meta->weights_version ? meta->weights_version - 1 : 0;
        start.updates_base = meta->updates;
        free(meta);
        snprintf(W.resume_path, sizeof W.resume_path, "%s", resume);
    }
    close_run();
    if ((rc = run_create(&W.run, NULL, &c, &start))) {
        web_fail("cannot create the run's region: %s", dshq_strerror(rc));
        return rc;
    }
    W.have_run = 1;
    memset(&W.to, 0, sizeof W.to);
    snprintf(W.ckpt_path, sizeof W.ckpt_path, "%s", ckpt ? ckpt : "");
    W.to.checkpoint_path = W.ckpt_path[0] ? W.ckpt_path : NULL;
    W.to.resume = resume && *resume ? W.resume_path : NULL;
    W.to.checkpoint_every_s = ckpt_every_s > 0 ? ckpt_every_s : 180;
    W.to.run_label = "web";
    W.to.quiet = 1;
    W.n_roles = 1 + c.workers;
    for (uint32_t i = 0; i < W.n_roles; i++) {
        struct web_role *r = &W.roles[i];
        r->worker = (int)i - 1;
        r->rc = 0;
        atomic_store_explicit(&r->done, 0, memory_order_relaxed); /* before the thread exists */
    }
    for (uint32_t i = 0; i < W.n_roles; i++) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&W.roles[i].tid, &at, role_main, &W.roles[i]);
        pthread_attr_destroy(&at);
        if (rc) {
            web_fail("cannot start thread %u: %s", i, strerror(rc));
            for (uint32_t j = i; j < W.n_roles; j++)
                atomic_store_explicit(&W.roles[j].done, 1, memory_order_relaxed);
            run_stop(W.run.blk);
            return -rc;
        }
    }
    return open_show(c.seed + 1);
}

/* Raises the run's stop flag: every role returns soon (the trainer saves its
 * checkpoint first); the page polls web_roles_running(). */
WEB_API void web_stop(void)
{
    if (W.have_run)
        run_stop(W.run.blk);
}

/* Control messages to the trainer (the mailbox, as `dshq ctl` posts them). */
static int post(uint32_t type, const void *payload, uint32_t len)
{
    if (!W.have_run || !web_roles_running()) {
        web_fail("no training is running");
        return -ESRCH;
    }
    struct dshq_mailbox *mb;
    int rc = dshq_mailbox_attach(W.run.mailbox_mem, W.run.mailbox_size, 0, &mb);
    if (rc) {
        web_fail("mailbox: %s", dshq_strerror(rc));
        return rc;
    }
    rc = dshq_mailbox_post(mb, type, 1, payload, len);
    dshq_mailbox_detach(mb);
    if (rc)
        web_fail("mailbox: %s", dshq_strerror(rc));
    return rc;
}

WEB_API int web_ctl_pause(int on)
{
    struct dshq_msg_pause p;
    memset(&p, 0, sizeof p);
    p.paused = on ? 1u : 0u;
    return post(DSHQ_MSG_PAUSE, &p, sizeof p);
}

/* param: DSHQ_HPARAM_* (1 lr, 2 entropy, 3 shaping, 4 clip). */
WEB_API int web_ctl_set(int param, double value)
{
    double lo, hi;
    if (run_config_hparam_range((uint32_t)param, &lo, &hi) || !isfinite(value) || value < lo ||
        value > hi) {
        web_fail("value %g out of range", value);
        return -EINVAL;
    }
    struct dshq_msg_set_hparam p;
    memset(&p, 0, sizeof p);
    p.param = (uint32_t)param;
    p.value = (float)value;
    return post(DSHQ_MSG_SET_HPARAM, &p, sizeof p);
}

/* ------------------------------------------------------------ checkpoints */

/* Loads the policy of a checkpoint file into an idle run (its settings and
 * network) and publishes it, so the show plays it. */
WEB_API int web_play_checkpoint(const char *path)
{
    if (web_roles_running()) {
        web_fail("stop the training first");
        return -EBUSY;
    }
    struct ckpt_meta *meta = calloc(1, sizeof *meta);
    float *params = NULL;
    char err[256];
    int d, h, l, n, rc;
    if (!meta)
        return -ENOMEM;
    /* The header (CRC-checked) names the network; the whole file, settings
     * included, is checked by ckpt_load before any of it is used. */
    if ((rc = ckpt_read_meta(path, meta, err, sizeof err))) {
        web_fail("%s: %s", path, err);
        goto out;
    }
    rc = -EINVAL;
    if (run_arch_parse(meta->arch, &d, &h, &l, &n) || d != BD_OBS_DIM || n != BD_NUM_ACTIONS) {
        web_fail("%s: '%s' is not a Ball Drill policy of this version", path, meta->arch);
        goto out;
    }
    int hid[RL_MLP_MAX_HIDDEN] = {h, h, h};
    struct rl_mlp net;
    if (rl_mlp_init(&net, d, n, hid, l)) {
        web_fail("%s: cannot build network '%s'", path, meta->arch);
        goto out;
    }
    rc = -ENOMEM;
    if (!(params = rl_mlp_alloc(&net)))
        goto out;
    memset(meta, 0, sizeof *meta);
    if ((rc = ckpt_load(path, net.shape_hash, net.n_params, meta, params, NULL, NULL, err,
                        sizeof err))) {
        web_fail("%s: %s", path, err);
        goto out;
    }
    rc = -EINVAL;
    struct run_config c;
    run_config_default(&c);
    if (meta->config_len && run_config_parse(&c, meta->config, path, NULL, err, sizeof err)) {
        web_fail("%s: its settings do not parse: %s", path, err);
        goto out;
    }
    c.hidden = (uint32_t)h;
    c.layers = (uint32_t)l;
    c.workers = 1;
    if (run_config_check(&c, err, sizeof err)) {
        web_fail("%s: %s", path, err);
        goto out;
    }
    close_run();
    struct run_start start = {meta->weights_version ? meta->weights_version - 1 : 0,
                              meta->updates};
    if ((rc = run_create(&W.run, NULL, &c, &start))) {
        web_fail("cannot create a region: %s", dshq_strerror(rc));
        goto out;
    }
    W.have_run = 1;
    rc = -EINVAL;
    if (W.run.net.shape_hash != net.shape_hash || W.run.net.n_params != net.n_params) {
        web_fail("%s: the run's network differs from the checkpoint's", path);
        goto out;
    }
    struct dshq_weights *wch;
    struct dshq_weights_writer *w;
    if ((rc = dshq_weights_open(W.run.weights_mem, W.run.weights_size, &wch)) == 0) {
        if ((rc = dshq_weights_writer_attach(wch, &w)) == 0) {
            int64_t v = dshq_weights_publish(w, params, meta->updates);
            rc = v < 0 ? (int)v : 0;
            dshq_weights_writer_detach(w);
        }
        dshq_weights_close(wch);
    }
    if (rc) {
        web_fail("publish: %s", dshq_strerror(rc));
        goto out;
    }
    rc = open_show(c.seed + 1);
out:
    free(params);
    free(meta);
    return rc;
}

/* A checkpoint's header as JSON ({"arch","updates","version","seconds",
 * "config"}), or NULL (web_error says why). */
WEB_API const char *web_checkpoint_info(const char *path)
{
    struct ckpt_meta *meta = calloc(1, sizeof *meta);
    char err[256];
    if (!meta || ckpt_read_meta(path, meta, err, sizeof err)) {
        web_fail("%s: %s", path, meta ? err : "out of memory");
        free(meta);
        return NULL;
    }
    size_t at = (size_t)snprintf(W.text, sizeof W.text,
                                 "{\"arch\":\"%s\",\"updates\":%llu,\"version\":%llu,"
                                 "\"seconds\":%.3f,\"config\":\"",
                                 meta->arch, (unsigned long long)meta->updates,
                                 (unsigned long long)meta->weights_version, meta->train_seconds);
    for (const char *p = meta->config; *p && at + 4 < sizeof W.text; p++) {
        if (*p == '\n') {
            W.text[at++] = '\\';
            W.text[at++] = 'n';
        } else if (*p == '"' || *p == '\\') {
            W.text[at++] = '\\';
            W.text[at++] = *p;
        } else if ((unsigned char)*p >= 32) {
            W.text[at++] = *p;
        }
    }
    snprintf(W.text + at, sizeof W.text - at, "\"}");
    free(meta);
    return W.text;
}

/* Plays a checkpoint against a baseline (opp: RL_OPP_RANDOM / _SCRIPTED),
 * as `dshq eval` does: out[0..3] = wins, draws, losses, mean length. */
WEB_API int web_eval(const char *path, int opp, int episodes, int greedy, double seed,
                     double *out)
{
    struct ckpt_meta *meta = calloc(1, sizeof *meta);
    char err[256];
    int d, h, l, n, rc = -EINVAL;
    float *params = NULL;
    if (!meta)
        return -ENOMEM;
    if ((rc = ckpt_read_meta(path, meta, err, sizeof err))) {
        web_fail("%s: %s", path, err);
        goto out;
    }
    rc = -EINVAL;
    if (run_arch_parse(meta->arch, &d, &h, &l, &n) || d != BD_OBS_DIM || n != BD_NUM_ACTIONS) {
        web_fail("%s: not a Ball Drill policy", path);
        goto out;
    }
    int hid[RL_MLP_MAX_HIDDEN] = {h, h, h};
    struct rl_mlp net;
    if (rl_mlp_init(&net, d, n, hid, l) || !(params = rl_mlp_alloc(&net)))
        goto out;
    if ((rc = ckpt_load(path, net.shape_hash, net.n_params, meta, params, NULL, NULL, err,
                        sizeof err))) {
        web_fail("%s: %s", path, err);
        goto out;
    }
    struct run_config c;
    run_config_default(&c);
    if (meta->config_len)
        run_config_parse(&c, meta->config, path, NULL, err, sizeof err);
    struct bd_config ec;
    bd_config_default(&ec);
    ec.max_goals = c.max_goals;
    struct rl_eval_result r;
    if ((rc = rl_evaluate(&net, params, opp, episodes, greedy, &ec, (uint64_t)seed, &r))) {
        web_fail("evaluation: %s", strerror(-rc));
        goto out;
    }
    out[0] = r.wins;
    out[1] = r.draws;
    out[2] = r.losses;
    out[3] = r.mean_len;
out:
    free(params);
    free(meta);
    return rc;
}

/* ------------------------------------------------------------ show */

/* Advances the show to now (the module's monotonic clock). */
WEB_API void web_frame(void)
{
    if (W.have_show)
        show_sim_advance(&W.show, dshq_now_ns());
}

WEB_API void web_show_input(int in)
{
    if (W.have_show)
        show_sim_input(&W.show, (enum show_input)in);
}

WEB_API void web_show_speed(double speed)
{
    if (W.have_show && isfinite(speed))
        W.show.speed = speed < 0.25 ? 0.25 : speed > 4 ? 4 : speed;
}

WEB_API void web_show_swap_interval(double seconds)
{
    if (isfinite(seconds) && seconds >= 0 && seconds <= 3600)
        swap_s = seconds;
    if (W.have_show)
        W.show.min_swap_ns = (uint64_t)(swap_s * 1e9);
}

WEB_API void web_show_pause(int on)
{
    if (W.have_show)
        W.show.paused = on != 0;
}

/* "Poke the world": moves the ball (what 0) or a player (1 left, 2 right)
 * of the show's match to (x, y), at rest.  The show's env only: nothing of
 * it reaches training. */
WEB_API void web_show_poke(int what, double x, double y)
{
    if (!W.have_show || !isfinite(x) || !isfinite(y))
        return;
    struct bd_state st;
    bd_env_get_state(W.show.env, 0, &st);
    float lim_x = BD_HALF_X - 0.6f, lim_y = BD_HALF_Y - 0.6f;
    float px = (float)(x < -lim_x ? -lim_x : x > lim_x ? lim_x : x);
    float py = (float)(y < -lim_y ? -lim_y : y > lim_y ? lim_y : y);
    if (what == 0) {
        st.ball.x = px;
        st.ball.y = py;
        st.ball.vx = st.ball.vy = 0;
    } else if (what == 1 || what == 2) {
        struct bd_player *p = &st.p[what - 1];
        p->x = px;
        p->y = py;
        p->vx = p->vy = 0;
    } else {
        return;
    }
    bd_env_set_state(W.show.env, 0, &st);
    bd_env_observe(W.show.env, W.show.obs[0], W.show.obs[1]);
}

/* The show's state for drawing (a float array of the module's memory):
 *  0 ball x, y, vx, vy   4 left x, y, hc, hs   8 right x, y, hc, hs
 * 12 goals left, right  14 tick  15 policy version  16 versions adopted
 * 17 wins 18 draws 19 losses  20 speed  21 paused  22 human (0, 1, 2)
 * 23 seconds since the current version was adopted  24 has a policy */
WEB_API float *web_show_state(void)
{
    memset(W.state, 0, sizeof W.state);
    if (!W.have_show)
        return W.state;
    struct show_sim *s = &W.show;
    struct bd_state st;
    bd_env_get_state(s->env, 0, &st);
    float *o = W.state;
    o[0] = st.ball.x, o[1] = st.ball.y, o[2] = st.ball.vx, o[3] = st.ball.vy;
    for (int i = 0; i < 2; i++) {
        o[4 + 4 * i] = st.p[i].x;
        o[5 + 4 * i] = st.p[i].y;
        o[6 + 4 * i] = st.p[i].hc;
        o[7 + 4 * i] = st.p[i].hs;
    }
    o[12] = (float)st.goals[0], o[13] = (float)st.goals[1];
    o[14] = (float)st.tick;
    o[15] = s->view.params ? (float)(W.run.blk->version_base + s->view.version) : 0;
    o[16] = (float)s->versions;
    o[17] = (float)s->wins, o[18] = (float)s->draws, o[19] = (float)s->losses;
    o[20] = (float)s->speed, o[21] = (float)s->paused, o[22] = (float)s->human;
    o[23] = s->adopted_ns ? (float)((double)(dshq_now_ns() - s->adopted_ns) / 1e9) : 0;
    o[24] = s->view.params ? 1.0f : 0.0f;
    return o;
}

/* ------------------------------------------------------------ telemetry */

/* The newest telemetry and the run's counters (a double array):
 *  0..27  struct metrics fields in metrics_fields order (NaN: not yet)
 * 40 episodes vs scripted  41 wins vs scripted  42 losses vs scripted
 * 43 run state  44 roles running  45 workers  46 telemetry read rc
 * 47 chunks dropped (ring full)  48 control messages refused */
WEB_API double *web_metrics(void)
{
    for (size_t i = 0; i < sizeof W.metrics / sizeof W.metrics[0]; i++)
        W.metrics[i] = NAN;
    if (!W.have_run)
        return W.metrics;
    struct metrics m;
    int rc = dshq_telemetry_read(W.run.telemetry_mem, W.run.telemetry_size, metrics_shape_hash(),
                                 &m, sizeof m, NULL);
    if (rc == (int)sizeof m)
        for (size_t i = 0; i < metrics_field_count && i < 40; i++)
            W.metrics[i] = metrics_get(&m, i);
    uint64_t ep = 0, wi = 0, lo = 0;
    for (uint32_t w = 0; w < W.run.cfg.workers && w < RUN_MAX_WORKERS; w++) {
        struct run_worker_stats *ws = &W.run.blk->worker[w];
        /* Relaxed: counters only, each read on its own (a rate, not a protocol). */
        ep += atomic_load_explicit(&ws->episodes[RL_OPP_SCRIPTED], memory_order_relaxed);
        wi += atomic_load_explicit(&ws->wins[RL_OPP_SCRIPTED], memory_order_relaxed);
        lo += atomic_load_explicit(&ws->losses[RL_OPP_SCRIPTED], memory_order_relaxed);
    }
    W.metrics[40] = (double)ep;
    W.metrics[41] = (double)wi;
    W.metrics[42] = (double)lo;
    W.metrics[43] = run_state(&W.run);
    W.metrics[44] = web_roles_running();
    W.metrics[45] = W.run.cfg.workers;
    W.metrics[46] = rc;
    struct dshq_ring_stats rs;
    if (run_rollouts_stats(&W.run, &rs) == 0)
        W.metrics[47] = (double)rs.dropped;
    W.metrics[48] = (double)atomic_load_explicit(&W.run.blk->ctl_refused, memory_order_relaxed);
    return W.metrics;
}

/* The names of web_metrics' first fields, comma-separated. */
WEB_API const char *web_metrics_names(void)
{
    size_t at = 0;
    W.text[0] = 0;
    for (size_t i = 0; i < metrics_field_count && i < 40; i++)
        at += (size_t)snprintf(W.text + at, sizeof W.text - at, "%s%s", i ? "," : "",
                               metrics_fields[i].name);
    return W.text;
}

/* The run's settings in force as "key = value" lines. */
WEB_API const char *web_config_text(void)
{
    size_t at = 0;
    W.text[0] = 0;
    if (!W.have_run)
        return W.text;
    for (size_t i = 0; i < run_config_key_count; i++) {
        char v[64];
        run_config_format(&W.run.cfg, &run_config_keys[i], v, sizeof v);
        at += (size_t)snprintf(W.text + at, sizeof W.text - at, "%s = %s\n",
                               run_config_keys[i].name, v);
        if (at >= sizeof W.text)
            break;
    }
    return W.text;
}

int main(void)
{
    return 0; /* the page drives everything through the calls above */
}
