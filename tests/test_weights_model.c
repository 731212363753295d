/* An exhaustive interleaving explorer of the weights protocol (a model of
 * src/transport/weights.c, steps W2/W3, fill, CP and R1..R8): one writer
 * publishing 3 snapshots into R + 2 = 4 buffers (any free one, not only the
 * next round-robin), two readers adopting once each and reading their views.  Every interleaving of their atomic steps
 * (sequential consistency: the seq_cst fences W1/R5 are what make the real
 * code behave so for these steps) is explored, states deduplicated by a
 * 64-bit hash.  Checked in every state reached:
 *   - the writer never fills a buffer a reader believes it holds;
 *   - a reader reads its view and finds that version, whole;
 *   - the stamp of a buffer a reader takes is the version it takes;
 *   - adopt returns a version >= the newest when it began (lag 0);
 *   - adopt needs at most MAX_MOVES claim moves (the writer's help);
 *   - the writer never waits: it scans again at most once per reader whose
 *     claim was promoted under it.
 * And the explorer can fail: the same model with a bug injected (the
 * reader's re-check dropped, a promotion ignored by the writer, held pins
 * ignored by the scan, the active buffer not excluded) must reach a
 * violation. */
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define R 2
#define NBUF (R + 2)
#define PUBLISHES 3
#define ADOPTS 1
#define MAX_MOVES 3
#define NONE 7

enum { BUG_NONE, BUG_NO_RECHECK, BUG_IGNORE_PROMOTED, BUG_SCAN_IGNORES_HELD, BUG_REFILL_ACTIVE,
       BUGS };
static int bug;
static const char *violation;

/* pins: held (3 bits) | pending buffer (3) | grant (1) | tag (8) */
#define P_HELD(p) ((p) & 7)
#define P_PEND(p) (((p) >> 3) & 7)
#define P_GRANT(p) (((p) >> 6) & 1)
#define PINS(h, pb, g, t) ((uint32_t)(h) | (uint32_t)(pb) << 3 | (uint32_t)(g) << 6 | (uint32_t)(t) << 7)

struct rd {
    uint8_t pc, left, hb, hv;   /* program counter, adopts left, view buffer/version */
    uint8_t c1v, c1b, c2v, c2b, startv, moves, g, gv;
    uint32_t mine, p;
};
struct st {
    /* shared */
    uint8_t curv, curb;
    uint8_t content[NBUF];     /* version in the buffer; 0xff while being filled */
    uint8_t stamp[NBUF];
    uint32_t pins[R];
    /* writer */
    uint8_t wpc, wv, last, f, i, taken, busy, tag, rescans;
    uint32_t wp;
    struct rd r[R];
};

enum { W_SCAN, W_CHOOSE, W_LOAD, W_CAS, W_FILL, W_FILLED, W_STAMP, W_CP, W_DONE };
enum { A_R1, A_R4, A_R6, A_PROMOTE, A_MOVE, A_GRANT, A_GRANT_CAS, A_READ, A_DONE };

static uint64_t hash_state(const struct st *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *b = (const unsigned char *)s;
    for (size_t k = 0; k < sizeof *s; k++)
        h = (h ^ b[k]) * 0x100000001b3ull;
    return h | 1;
}

#define TABLE_BITS 25 /* 256 MiB of hashes */
static uint64_t *table;
static uint64_t states, full;

static int seen(const struct st *s)
{
    uint64_t h = hash_state(s), m = (UINT64_C(1) << TABLE_BITS) - 1;
    for (uint64_t k = h & m, n = 0; n < 64; k = (k + 1) & m, n++) {
        if (table[k] == h)
            return 1;
        if (table[k] == 0) {
            table[k] = h;
            states++;
            return 0;
        }
    }
    full++;
    return 1; /* table crowded: the run is incomplete (reported, and fails) */
}

/* One step of the writer; 0 when it has nothing left to do (or, at the
 * choice of a buffer, when `choice` is not a buffer it may fill: the real
 * writer takes the next free one round-robin; the model lets it take ANY
 * free one, which covers every order of reuse). */
static int writer_step(struct st *s, int choice)
{
    switch (s->wpc) {
    case W_SCAN: /* W2, one slot per step */
        if (s->i == 0)
            s->busy = bug == BUG_REFILL_ACTIVE ? 0 : (uint8_t)(1u << s->last);
        if (bug != BUG_SCAN_IGNORES_HELD && P_HELD(s->pins[s->i]) < NBUF)
            s->busy |= (uint8_t)(1u << P_HELD(s->pins[s->i]));
        if (++s->i == R)
            s->wpc = W_CHOOSE;
        return 1;
    case W_CHOOSE:
        if (s->busy == (1u << NBUF) - 1) {
            violation = "no free buffer";
            return 0;
        }
        if (s->busy & (1u << choice))
            return 0;
        s->f = (uint8_t)choice;
        s->i = 0;
        s->taken = 0;
        s->wpc = W_LOAD;
        return 1;
    case W_LOAD: /* W3: load a slot's pins and judge it */
    case W_CAS: {
        if (s->wpc == W_CAS && s->pins[s->i] == s->wp) {
            s->pins[s->i] = PINS(P_HELD(s->wp), s->last, 1, ++s->tag);
            s->wp = s->pins[s->i];
        } else {
            s->wp = s->pins[s->i];
            uint32_t p = s->wp;
            int claim = P_PEND(p) < NBUF && P_HELD(p) != s->f;
            if (claim && !(P_GRANT(p) && P_PEND(p) != s->f)) {
                s->wpc = W_CAS;
                return 1;
            }
        }
        if (P_HELD(s->wp) == s->f && bug != BUG_IGNORE_PROMOTED)
            s->taken = 1;
        if (++s->i < R && !s->taken) {
            s->wpc = W_LOAD;
            return 1;
        }
        s->i = 0;
        if (s->taken && ++s->rescans > R)
            violation = "the writer waits for readers (more rescans than readers)";
        s->wpc = s->taken ? W_SCAN : W_FILL;
        return 1;
    }
    case W_FILL:
        s->i = s->taken = s->busy = s->rescans = 0; /* dead locals back to 0 */
        s->wp = 0;
        for (int k = 0; k < R; k++)
            if (s->r[k].hb == s->f && s->r[k].pc != A_PROMOTE)
                violation = "the writer fills a buffer a reader holds";
        s->content[s->f] = 0xff;
        s->wpc = W_FILLED;
        return 1;
    case W_FILLED:
        s->content[s->f] = s->wv;
        s->wpc = W_STAMP;
        return 1;
    case W_STAMP:
        s->stamp[s->f] = s->wv;
        s->wpc = W_CP;
        return 1;
    case W_CP:
        s->curv = s->wv;
        s->curb = s->f;
        s->last = s->f;
        s->wpc = ++s->wv > PUBLISHES ? W_DONE : W_SCAN;
        return 1;
    }
    return 0;
}

static void took(struct rd *r, struct st *s, int b, int v)
{
    (void)s;
    if (v < r->startv)
        violation = "adopt returned a version older than the newest at its start";
    r->hb = (uint8_t)b;
    r->hv = (uint8_t)v;
    r->pc = A_READ;
}

static int reader_step(struct st *s, int k)
{
    struct rd *r = &s->r[k];
    switch (r->pc) {
    case A_R1:
        r->c1v = s->curv;
        r->c1b = s->curb;
        r->startv = s->curv;
        r->moves = 0;
        if (r->c1v == 0 || r->c1v == r->hv) { /* SAME */
            r->pc = A_READ;
            return 1;
        }
        r->mine = PINS(r->hb, r->c1b, 0, 0);
        r->pc = A_R4;
        return 1;
    case A_R4:
        s->pins[k] = r->mine;
        r->pc = A_R6;
        return 1;
    case A_R6:
        r->c2v = bug == BUG_NO_RECHECK ? r->c1v : s->curv;
        r->c2b = bug == BUG_NO_RECHECK ? r->c1b : s->curb;
        r->pc = (r->c2v == r->c1v && r->c2b == r->c1b) ? A_PROMOTE : A_MOVE;
        return 1;
    case A_PROMOTE:
        if (s->pins[k] == r->mine) {
            if (s->stamp[r->c1b] != r->c1v)
                violation = "the stamp of the claimed buffer is not its version";
            s->pins[k] = PINS(r->c1b, NONE, 0, 0);
            took(r, s, r->c1b, r->c1v);
        } else {
            r->p = s->pins[k];
            r->pc = A_GRANT;
        }
        return 1;
    case A_MOVE:
        if (s->pins[k] == r->mine) {
            if (++r->moves > MAX_MOVES)
                violation = "adopt moved its claim more than MAX_MOVES times";
            r->mine = PINS(r->hb, r->c2b, 0, 0);
            s->pins[k] = r->mine;
            r->c1v = r->c2v;
            r->c1b = r->c2b;
            r->pc = A_R6;
        } else {
            r->p = s->pins[k];
            r->pc = A_GRANT;
        }
        return 1;
    case A_GRANT:
        if (!P_GRANT(r->p) || P_HELD(r->p) != r->hb)
            violation = "the pins changed under a reader without a grant";
        r->g = (uint8_t)P_PEND(r->p);
        r->gv = s->stamp[r->g];
        r->pc = A_GRANT_CAS;
        return 1;
    case A_GRANT_CAS:
        if (s->pins[k] != r->p) {
            r->p = s->pins[k];
            r->pc = A_GRANT;
        } else if (r->g == r->hb || r->gv <= r->hv) {
            s->pins[k] = PINS(r->hb, NONE, 0, 0); /* withdraw: SAME */
            r->pc = A_READ;
        } else {
            s->pins[k] = PINS(r->g, NONE, 0, 0);
            took(r, s, r->g, r->gv);
        }
        return 1;
    case A_READ:
        if (r->hv && s->content[r->hb] != r->hv)
            violation = "a reader's view changed under it (torn)";
        /* Dead locals back to 0: equal states hash equal. */
        r->c1v = r->c1b = r->c2v = r->c2b = r->startv = r->moves = r->g = r->gv = 0;
        r->mine = r->p = 0;
        r->pc = --r->left ? A_R1 : A_DONE;
        return 1;
    }
    return 0;
}

static void explore(const struct st *s)
{
    if (violation || seen(s))
        return;
    for (int t = 0; t < R && !violation; t++) {
        struct st n = *s;
        if (reader_step(&n, t))
            explore(&n);
    }
    for (int c = 0; c < (s->wpc == W_CHOOSE ? NBUF : 1) && !violation; c++) {
        struct st n = *s;
        if (writer_step(&n, c))
            explore(&n);
    }
}

static uint64_t run(int which)
{
    bug = which;
    violation = NULL;
    states = full = 0;
    memset(table, 0, sizeof(uint64_t) << TABLE_BITS);
    struct st s;
    memset(&s, 0, sizeof s);
    for (int k = 0; k < R; k++) {
        s.pins[k] = PINS(NONE, NONE, 0, 0);
        s.r[k].hb = NONE;
        s.r[k].left = ADOPTS + 1; /* the adopts, and a last read */
    }
    s.wv = 1;
    explore(&s);
    return states;
}

int main(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    puts("skip: a single-threaded model check; sanitizers add nothing but hours");
    return TEST_SKIP;
#endif
    table = calloc((size_t)1 << TABLE_BITS, sizeof(uint64_t));
    CHECK(table);
    static const char *names[BUGS] = {"protocol", "no re-check (R6)", "promotion ignored (W3)",
                                      "held pins ignored (W2)", "active buffer refilled"};
    for (int b = 0; b < BUGS; b++) {
        uint64_t n = run(b);
        printf("%-26s %10llu states%s: %s\n", names[b], (unsigned long long)n,
               full ? " (table crowded)" : "", violation ? violation : "no violation");
        if (b == BUG_NONE) {
            CHECK_MSG(!violation, "the protocol model fails: %s", violation);
            CHECK_MSG(!full, "the state table overflowed: the exploration is incomplete");
        }
        else
            CHECK_MSG(violation, "the explorer missed the injected bug: %s", names[b]);
    }
    free(table);
    return 0;
}
