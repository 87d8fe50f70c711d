/* The engine: inputs, passes, workers and the merge. */
#include "engine/engine_int.h"
#include "flow/flow_int.h"

#include <capsift/engine.h>
#include <capsift/pool.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sift_engine_create(sift_engine_t **out, sift_ctx_t *ctx, const sift_engine_opts_t *opts)
{
    assert(out);
    *out = NULL;
    sift_engine_t *e = calloc(1, sizeof *e);
    if (!e)
        return sift__ctx_error(ctx, SIFT_ENOMEM, "out of memory");
    e->ctx = ctx;
    if (opts)
        e->opts = *opts;
    if (e->opts.threads == 0)
        e->opts.threads = sift_ncpu();
    if (e->opts.split_bytes == 0)
        e->opts.split_bytes = ENG_SPLIT_MIN;
    if (e->opts.chunk_bytes == 0)
        e->opts.chunk_bytes = ENG_CHUNK_MIN;
    atomic_init(&e->bytes_done, 0);
    atomic_init(&e->packets_done, 0);
    atomic_init(&e->fatal, 0);
    e->stage = -1;
    pthread_mutex_init(&e->merge_lock, NULL);
    pthread_mutex_init(&e->cache_lock, NULL);
    if (e->opts.filter) { /* compiled once per run and link type, shared by the workers */
        char err[SIFT_ERRBUF_SIZE];
        int rc = sift_filter_create(&e->filter, e->opts.filter, err);
        if (rc < 0) {
            free(e);
            return sift__ctx_error(ctx, rc == SIFT_ELIMIT ? SIFT_EFILTER : rc, "%s", err);
        }
    }
    *out = e;
    return 0;
}

/* What every state the engine makes carries before its pass's bytes: the pass's first report
 * (sift_pass_report) and the run's shared resources (sift_pass_shared). A union, so that the
 * bytes after it are aligned for anything. */
typedef union eng_head {
    struct {
        int code;
        char message[SIFT_REPORT_SIZE];
        const void *shared;
        bool later;           /* a range after its file's first */
        uint64_t base;        /* records of the input before the state's range (set at merge) */
        struct refetch *read; /* during flow_end: the input's records again by offset */
    } r;
    max_align_t align;
} eng_head_t;

/* Reads records of one input again by offset, for the flow stage's merge and
 * for sift_pass_fetch. */
typedef struct refetch {
    sift_engine_t *e;
    size_t input;
    sift_ctx_t *ctx;
    sift_reader_t *r;
    sift_record_t rec;
    sift_packet_t pkt;
    char error[SIFT_REPORT_SIZE]; /* why it failed */
} refetch_t;

static eng_head_t *head_of(const void *state)
{
    return (eng_head_t *)(void *)((unsigned char *)(uintptr_t)state - sizeof(eng_head_t));
}

void sift_pass_report(void *state, int code, const char *fmt, ...)
{
    assert(state && code < 0);
    eng_head_t *h = head_of(state);
    if (h->r.code)
        return; /* the first report says what went wrong first */
    h->r.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(h->r.message, sizeof h->r.message, fmt, ap);
    va_end(ap);
}

int sift_pass_status(const void *state, const char **message)
{
    const eng_head_t *h = head_of(state);
    if (message)
        *message = h->r.message;
    return h->r.code;
}

/* A merge keeps the report of the earlier records: `into` covers those. */
static void merge_report(void *into, const void *from)
{
    const eng_head_t *f = head_of(from);
    if (f->r.code && !head_of(into)->r.code)
        sift_pass_report(into, f->r.code, "%s", f->r.message);
}

const void *sift_pass_shared(const void *state)
{
    return head_of(state)->r.shared;
}

bool sift_pass_later_range(const void *state)
{
    return head_of(state)->r.later;
}

uint64_t sift_pass_record_base(const void *state)
{
    return head_of(state)->r.base;
}

static int refetch(void *user, uint64_t offset, const sift_packet_t **pkt);

int sift_pass_fetch(void *state, uint64_t offset, const sift_packet_t **pkt)
{
    struct refetch *f = head_of(state)->r.read;
    return f ? refetch(f, offset, pkt) : SIFT_EINVAL;
}

int sift_pass_state_new(const sift_pass_t *pass, const void *config, void **out)
{
    return sift_pass_state_new_shared(pass, config, NULL, out);
}

int sift_pass_state_new_shared(const sift_pass_t *pass, const void *config, const void *shared,
                               void **out)
{
    assert(pass && out && pass->state_size > 0);
    *out = NULL;
    eng_head_t *h = calloc(1, sizeof *h + pass->state_size);
    if (!h)
        return SIFT_ENOMEM;
    h->r.shared = shared;
    int rc = pass->init ? pass->init(h + 1, config) : 0;
    if (rc < 0) {
        free(h); /* a failed init releases what it took */
        return rc;
    }
    *out = h + 1;
    return 0;
}

void sift_pass_state_free(const sift_pass_t *pass, void *state)
{
    if (!state)
        return;
    if (pass->release)
        pass->release(state);
    free(head_of(state));
}

static void free_state(const eng_pass_t *p, void *state)
{
    sift_pass_state_free(&p->pass, state);
}

static void free_chunks(sift_engine_t *e)
{
    for (size_t c = 0; c < e->nchunks; c++)
        for (int p = 0; p < e->npass; p++)
            free_state(&e->passes[p], e->chunks[c].states[p]);
    free(e->chunks);
    e->chunks = NULL;
    e->nchunks = 0;
}

void sift_engine_free(sift_engine_t *e)
{
    if (!e)
        return;
    sift_filter_free(e->filter);
    for (size_t i = 0; i < e->ninput; i++) {
        eng_input_t *in = &e->inputs[i];
        for (int p = 0; p < e->npass; p++)
            free_state(&e->passes[p], in->states[p]);
        free(in->path);
        free(in->ifaces);
        free(in->problems);
        free(in->reports);
        sift_file_notes_release(&in->notes);
    }
    for (int p = 0; p < e->npass; p++)
        free_state(&e->passes[p], e->totals[p]);
    free_chunks(e);
    for (int p = 0; p < e->npass; p++) /* after every state: they read what it frees */
        if (e->passes[p].set_up && e->passes[p].pass.teardown)
            e->passes[p].pass.teardown(e->passes[p].shared);
    for (unsigned w = 0; e->modules && w < e->opts.threads; w++)
        sift__app_module_free(e->modules[w]);
    free(e->modules);
    pthread_mutex_destroy(&e->merge_lock);
    pthread_mutex_destroy(&e->cache_lock);
    free(e->inputs);
    free(e);
}

static int add_pass(sift_engine_t *e, const sift_pass_t *pass, const void *config)
{
    assert(pass && pass->packet && pass->state_size > 0);
    if (e->npass == ENG_MAX_PASSES)
        return sift__ctx_error(e->ctx, SIFT_ELIMIT, "too many passes in one run");
    eng_pass_t *ep = &e->passes[e->npass];
    ep->pass = *pass;
    ep->config = config;
    ep->user = SIZE_MAX;
    if (pass->declare)
        pass->declare(config, &ep->pass.needs, &ep->pass.flags);
    if (sift__flows_is(pass)) {
        if (e->stage >= 0)
            return sift__ctx_error(e->ctx, SIFT_EINVAL, "one flows pass per run");
        e->stage = e->npass;
    }
    if (ep->pass.needs > e->need)
        e->need = ep->pass.needs;
    if (ep->pass.flags & SIFT_PASS_WHOLE_FILE)
        e->whole_files = true;
    return e->npass++;
}

int sift_engine_add_pass(sift_engine_t *e, const sift_pass_t *pass, const void *config)
{
    if (e->ran)
        return sift__ctx_error(e->ctx, SIFT_EINVAL, "the engine has already run");
    return add_pass(e, pass, config);
}

/* Adds the flow stage when a pass needs one, and lays out the bytes passes keep per flow. */
static int plan_flows(sift_engine_t *e)
{
    bool want = false;
    for (int p = 0; p < e->npass; p++)
        want = want || (e->passes[p].pass.flags & SIFT_PASS_FLOWS);
    int rc = want && e->stage < 0 ? add_pass(e, &sift_flows_pass, e->opts.flows) : 0;
    if (rc < 0)
        return rc;
    for (int p = 0; p < e->npass; p++) {
        eng_pass_t *ep = &e->passes[p];
        if (!(ep->pass.flags & SIFT_PASS_FLOWS) || ep->pass.flow_state_size == 0)
            continue;
        ep->user = e->nusers;
        e->users[e->nusers++] = (sift_flow_user_t){
            .offset = e->ext_bytes, .join = ep->pass.flow_join, .release = ep->pass.flow_release};
        e->ext_bytes += (ep->pass.flow_state_size + 7) & ~(size_t)7;
    }
    return 0;
}

static int push_input(sift_engine_t *e, const char *path, uint64_t size)
{
    if (e->ninput == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 16;
        eng_input_t *n = realloc(e->inputs, ncap * sizeof *n);
        if (!n)
            return sift__ctx_error(e->ctx, SIFT_ENOMEM, "out of memory");
        e->inputs = n;
        e->cap = ncap;
    }
    eng_input_t *in = &e->inputs[e->ninput];
    memset(in, 0, sizeof *in);
    in->path = strdup(path);
    if (!in->path)
        return sift__ctx_error(e->ctx, SIFT_ENOMEM, "out of memory");
    in->pub.size = size;
    in->pub.path = in->path;
    e->bytes_total += size;
    e->ninput++;
    return 0;
}

static int add_one(void *user, const char *path, const struct stat *st)
{
    sift_engine_t *e = user;
    return push_input(e, path, st && S_ISREG(st->st_mode) ? (uint64_t)st->st_size : 0);
}

int sift_engine_add_input(sift_engine_t *e, const char *path)
{
    return sift_inputs_expand(e->ctx, path, add_one, e, &e->expanded);
}

const sift_expand_stats_t *sift_engine_expand_stats(const sift_engine_t *e)
{
    return &e->expanded;
}

/* Allocates and initialises one state per pass; later_range: for a range after its file's
 * first; worker: the worker that will feed them (UINT_MAX: none, they are only merged into). */
int sift__eng_new_states(sift_engine_t *e, void **states, bool later_range, unsigned worker)
{
    for (int p = 0; p < e->npass; p++) {
        const eng_pass_t *ep = &e->passes[p];
        int rc = sift_pass_state_new_shared(&ep->pass, ep->config, ep->shared, &states[p]);
        if (rc == 0)
            head_of(states[p])->r.later = later_range;
        if (rc == 0 && p == e->stage) {
            void *mod = NULL; /* the worker's module serves all the ranges it reads */
            if (worker != UINT_MAX && ((sift_flows_t *)states[p])->app) {
                if (!e->modules[worker])
                    e->modules[worker] = sift__app_module_new();
                mod = e->modules[worker];
            }
            rc = sift__flows_attach(states[p], e->users, e->nusers, e->ext_bytes, later_range, mod);
            if (rc < 0) {
                free_state(ep, states[p]);
                states[p] = NULL;
            }
        }
        if (rc < 0) {
            for (int q = 0; q < p; q++) {
                free_state(&e->passes[q], states[q]);
                states[q] = NULL;
            }
            return rc;
        }
    }
    for (int p = 0; p < e->npass && e->stage >= 0; p++) { /* passes built on the stage */
        const eng_pass_t *ep = &e->passes[p];
        if (ep->pass.bind && ep->user != SIZE_MAX)
            ep->pass.bind(states[p], states[e->stage], e->users[ep->user].offset);
    }
    return 0;
}

void sift__eng_notes_absorb(sift_file_notes_t *dst, const sift_file_notes_t *src, uint64_t records)
{
    for (size_t i = 0; i < src->nifaces && i < dst->nifaces; i++) {
        const sift_iface_notes_t *b = &src->ifaces[i];
        sift_iface_notes_t *a = &dst->ifaces[i];
        if (b->stats_blocks == 0)
            continue;
        a->stats_blocks += b->stats_blocks; /* the counters are the last block's */
        a->received = b->received;
        a->dropped = b->dropped;
        a->filter_accepted = b->filter_accepted;
        a->os_dropped = b->os_dropped;
        a->delivered = b->delivered;
    }
    for (size_t i = 0; i < src->ncomments && dst->ncomments < SIFT_NOTES_COMMENTS; i++) {
        dst->comments[dst->ncomments] = src->comments[i];
        dst->comments[dst->ncomments++].packet += records;
    }
    dst->comments_total += src->comments_total;
}

static int copy_outcome(eng_input_t *in, const sift_reader_t *r)
{
    if (sift_file_notes_copy(&in->notes, sift_reader_notes(r)) < 0)
        return SIFT_ENOMEM;
    const sift_file_meta_t *m = sift_reader_meta(r);
    free(in->ifaces); /* from an earlier, discarded read of the same input */
    free(in->problems);
    in->ifaces = NULL;
    in->problems = NULL;
    in->pub.meta = *m;
    in->pub.meta.iface = NULL;
    if (m->niface) {
        in->ifaces = malloc(m->niface * sizeof *in->ifaces);
        if (!in->ifaces)
            return SIFT_ENOMEM;
        memcpy(in->ifaces, m->iface, m->niface * sizeof *in->ifaces);
        in->pub.meta.iface = in->ifaces;
    }
    size_t np = sift_reader_nproblems(r);
    if (np) {
        in->problems = malloc(np * sizeof *in->problems);
        if (!in->problems)
            return SIFT_ENOMEM;
        for (size_t k = 0; k < np; k++)
            in->problems[k] = *sift_reader_problem(r, k);
    }
    in->pub.nproblems = np;
    in->pub.problems = in->problems;
    in->pub.problems_total = sift_reader_problems_total(r);
    return 0;
}

/* Every flow of a final state to the passes that look at flows as they end; they may read
 * records of input i again (sift_pass_fetch). */
static void end_flows(sift_engine_t *e, size_t i, void **states)
{
    const sift_flows_t *fs = states[e->stage];
    struct refetch f = {.e = e, .input = i};
    for (int p = 0; p < e->npass; p++) {
        if (!e->passes[p].pass.flow_end || !states[p])
            continue;
        head_of(states[p])->r.read = strcmp(e->inputs[i].path, "-") != 0 ? &f : NULL;
        for (size_t k = 0; k < sift_flows_count(fs); k++) {
            const sift_flow_t *ff = sift_flows_at(fs, k);
            e->passes[p].pass.flow_end(states[p], fs, ff, sift_engine_flow_state(e, p, ff));
        }
        head_of(states[p])->r.read = NULL;
    }
    sift_reader_close(f.r);
    sift_ctx_free(f.ctx);
}

/* The reports of an input's final states become its pass_status and reports. */
void sift__eng_collect_reports(const sift_engine_t *e, eng_input_t *in, void *const *states)
{
    size_t n = 0, text = 0;
    for (int p = 0; p < e->npass; p++) {
        const char *msg;
        if (states[p] && sift_pass_status(states[p], &msg) < 0) {
            n++;
            text += strlen(msg) + 1;
        }
    }
    if (n == 0)
        return;
    free(in->reports);
    in->reports = malloc(n * sizeof *in->reports + text);
    if (!in->reports) {
        in->pub.pass_status = SIFT_ENOMEM; /* the reports themselves did not fit */
        in->pub.nreports = 0;
        return;
    }
    char *at = (char *)(in->reports + n);
    n = 0;
    for (int p = 0; p < e->npass; p++) {
        const char *msg;
        int code = states[p] ? sift_pass_status(states[p], &msg) : 0;
        if (code == 0)
            continue;
        size_t len = strlen(msg) + 1;
        memcpy(at, msg, len);
        in->reports[n++] =
            (sift_report_t){.pass = p, .name = e->passes[p].pass.name, .code = code, .message = at};
        at += len;
    }
    in->pub.pass_status = in->reports[0].code;
    in->pub.nreports = n;
    in->pub.reports = in->reports;
}

/* Finishes an input's final states (the flow stage first, so that every flow is settled) and
 * offers them to the input_done callback; frees them if it takes them. */
static void input_done(sift_engine_t *e, size_t i, void **states)
{
    if (e->stage >= 0 && states[e->stage]) {
        e->passes[e->stage].pass.finish(states[e->stage]);
        end_flows(e, i, states);
    }
    for (int p = 0; p < e->npass; p++)
        if (states[p] && p != e->stage && e->passes[p].pass.finish)
            e->passes[p].pass.finish(states[p]);
    sift__eng_collect_reports(e, &e->inputs[i], states);
    sift__eng_cache_store(e, i, states);
    sift__eng_offer(e, i, states);
}

void sift__eng_offer(sift_engine_t *e, size_t i, void **states)
{
    if (!e->opts.input_done ||
        !e->opts.input_done(e->opts.input_done_user, i, &e->inputs[i].pub, states))
        return;
    for (int p = 0; p < e->npass; p++) {
        free_state(&e->passes[p], states[p]);
        states[p] = NULL;
    }
}

static int refetch(void *user, uint64_t offset, const sift_packet_t **pkt)
{
    refetch_t *f = user;
    int rc = 0;
    if (!f->r) {
        sift_reader_opts_t ro = f->e->opts.reader;
        ro.buffer_size = 64u << 10; /* records far apart: little read ahead */
        rc = sift_ctx_create(&f->ctx);
        if (rc == 0)
            rc = sift_reader_open(&f->r, f->ctx, f->e->inputs[f->input].path, &ro);
    }
    if (rc == 0)
        rc = sift_reader_seek(f->r, offset);
    if (rc == 0)
        rc = sift_reader_next(f->r, &f->rec) == 1 && f->rec.offset == offset ? 0 : SIFT_ESTALE;
    if (rc < 0) {
        snprintf(f->error, sizeof f->error,
                 "cannot read the packet at byte %" PRIu64
                 " again (%s; did the file change while it was read?): "
                 "some applications are missing",
                 offset, sift_strerror(rc));
        return rc;
    }
    f->pkt = (sift_packet_t){.rec = &f->rec, .input = (uint32_t)f->input};
    sift_decode(&f->pkt, &f->rec, f->e->need);
    *pkt = &f->pkt;
    return 0;
}

/* Merges one state of pass p into another: a merge that fails leaves `into` incomplete, and says
 * so in its report. */
static void merge_state(const sift_engine_t *e, int p, void *into, void *from)
{
    merge_report(into, from);
    int rc = e->passes[p].pass.merge(into, from);
    if (rc < 0)
        sift_pass_report(into, rc, "%s while merging: some results are missing", sift_strerror(rc));
}

/* Merges the states of the next range of input i into its states: the flow stage first, with
 * the calling worker's module. */
static void merge_range(sift_engine_t *e, size_t i, void **into, void **from, unsigned worker)
{
    if (e->stage >= 0 && into[e->stage] && from[e->stage]) {
        refetch_t f = {.e = e, .input = i};
        void *mod = ((sift_flows_t *)into[e->stage])->app ? e->modules[worker] : NULL;
        merge_report(into[e->stage], from[e->stage]);
        int rc = sift__flows_merge_ranges(into[e->stage], from[e->stage], refetch, &f, mod);
        if (rc < 0 && f.error[0])
            sift_pass_report(into[e->stage], rc, "%s", f.error);
        else if (rc < 0)
            sift_pass_report(into[e->stage], rc, "%s while merging: some flows are missing",
                             sift_strerror(rc));
        sift_reader_close(f.r);
        sift_ctx_free(f.ctx);
    }
    for (int p = 0; p < e->npass; p++)
        if (p != e->stage && into[p] && from[p])
            merge_state(e, p, into[p], from[p]);
}

/* Takes one finished range of a split input (under merge_lock), the next in file order:
 * checks that it begins where the one before stopped and read cleanly, and merges it. */
static void absorb_one(sift_engine_t *e, eng_input_t *in, size_t i, eng_chunk_t *ch,
                       unsigned worker)
{
    size_t k = in->merged++;
    bool ok = !in->broken && ch->status >= 0 && ch->problems == 0 && !ch->midway;
    if (ok && k > 0) /* a range whose boundary search found nothing lies inside a record */
        ok = ch->began == UINT64_MAX ? in->expect >= ch->end : ch->began == in->expect;
    if (!ok) {
        in->broken = true;
    } else if (k == 0) {
        for (int p = 0; p < e->npass; p++) {
            in->states[p] = ch->states[p];
            ch->states[p] = NULL;
        }
        in->pub.filtered_out = 0;
    } else {
        for (int p = 0; p < e->npass; p++)
            if (ch->states[p])
                head_of(ch->states[p])->r.base = in->records;
        merge_range(e, i, in->states, ch->states, worker);
    }
    if (ok) {
        if (k > 0) {
            sift__eng_notes_absorb(&in->notes, &ch->notes, in->records);
            in->records += ch->records;
        }
        if (k == 0 || ch->began != UINT64_MAX)
            in->expect = ch->stop;
        in->pub.filtered_out += ch->filtered_out;
        if (ch->warning[0] && !in->warning[0])
            memcpy(in->warning, ch->warning, sizeof in->warning);
    }
    for (int p = 0; p < e->npass; p++) { /* memory follows the ranges in flight only */
        free_state(&e->passes[p], ch->states[p]);
        ch->states[p] = NULL;
    }
    sift_file_notes_release(&ch->notes);
}

/* A range of a split input is read: it and the finished ranges after it merge into the input
 * in file order; the worker that merges the last one finishes the input. */
static void absorb(sift_engine_t *e, eng_chunk_t *ch, unsigned worker)
{
    size_t i = ch->input;
    eng_input_t *in = &e->inputs[i];
    pthread_mutex_lock(&e->merge_lock);
    ch->done = true;
    size_t before = in->merged;
    while (in->merged < in->nchunks && e->chunks[in->first + in->merged].done)
        absorb_one(e, in, i, &e->chunks[in->first + in->merged], worker);
    bool finish = before < in->nchunks && in->merged == in->nchunks && !in->broken &&
                  atomic_load(&e->fatal) == 0;
    pthread_mutex_unlock(&e->merge_lock);
    if (finish) /* only this thread merged the last range */
        input_done(e, i, in->states);
}

/* Reads one chunk through every pass. The hot loop: one reader call and one callback per
 * pass for each record, progress counters touched every 8192 records. */
static void run_chunk(sift_engine_t *e, eng_chunk_t *ch, unsigned worker)
{
    eng_input_t *in = &e->inputs[ch->input];
    sift_ctx_t *ctx = NULL;
    int rc = sift_ctx_create(&ctx);
    if (rc < 0) {
        atomic_store(&e->fatal, rc);
        return;
    }
    sift_reader_t *r = NULL;
    if (ch->split)
        rc = sift_reader_open_range(&r, ctx, in->path, ch->start, ch->end, &e->opts.reader);
    else
        rc = sift_reader_open(&r, ctx, in->path, &e->opts.reader);
    if (rc < 0) {
        ch->status = rc;
        atomic_fetch_add(&e->bytes_done, in->pub.size);
        if (!ch->split) {
            in->pub.status = rc;
            snprintf(in->error, sizeof in->error, "%s", sift_ctx_errmsg(ctx));
            input_done(e, ch->input, in->states); /* no states: the input did not open */
        } else {
            absorb(e, ch, worker);
        }
        sift_ctx_free(ctx);
        return;
    }
    rc = sift__eng_new_states(e, ch->states, ch->split && ch->start > 0, worker);
    if (rc < 0) {
        atomic_store(&e->fatal, rc);
        sift_reader_close(r);
        sift_ctx_free(ctx);
        return;
    }
    sift_filter_t *filter = e->filter;
    sift_record_t rec;
    sift_packet_t pkt = {.rec = &rec, .input = (uint32_t)ch->input};
    const int npass = e->npass, stage = e->stage;
    const sift_need_t need = e->need;
    const sift_flows_t *flows = stage >= 0 ? ch->states[stage] : NULL;
    size_t user_off[ENG_MAX_PASSES];
    for (int p = 0; p < npass; p++)
        user_off[p] = e->passes[p].user == SIZE_MAX ? SIZE_MAX : e->users[e->passes[p].user].offset;
    uint64_t n = 0;
    uint64_t reported = ch->split ? ch->start : 0;
    ch->began = ch->split ? sift_reader_range_start(r) : 0;
    while ((rc = sift_reader_next(r, &rec)) == 1) {
        pkt.record = n;
        if (filter) {
            int m = sift_filter_match(filter, &rec, ch->warning);
            if (m != 1) {
                ch->filtered_out++;
                goto next;
            }
        }
        if (need > SIFT_NEED_RECORD)
            sift_decode(&pkt, &rec, need);
        if (flows) { /* the flow stage first: the others get the packet's flow */
            e->passes[stage].pass.packet(ch->states[stage], &pkt);
            pkt.flow = flows->last;
            pkt.flow_dir = flows->last_dir;
        }
        for (int p = 0; p < npass; p++) {
            if (p == stage)
                continue;
            pkt.flow_state = pkt.flow && user_off[p] != SIZE_MAX
                                 ? (unsigned char *)sift_flow_ext(pkt.flow) + user_off[p]
                                 : NULL;
            e->passes[p].pass.packet(ch->states[p], &pkt);
        }
    next:
        if (SIFT_UNLIKELY((++n & 8191) == 0)) {
            uint64_t pos = sift_reader_position(r);
            atomic_fetch_add(&e->bytes_done, pos - reported);
            atomic_fetch_add(&e->packets_done, 8192);
            reported = pos;
        }
    }
    ch->status = rc < 0 ? rc : 0;
    ch->stop = sift_reader_position(r);
    ch->midway = sift_reader_headers_midway(r);
    ch->problems = sift_reader_problems_total(r);
    atomic_fetch_add(&e->packets_done, n & 8191);
    uint64_t end = ch->split ? ch->stop : in->pub.size > reported ? in->pub.size : ch->stop;
    if (end > reported)
        atomic_fetch_add(&e->bytes_done, end - reported);
    ch->records = n;
    if (!ch->split || ch->start == 0) { /* the file-level outcome comes from the first chunk */
        in->pub.status = ch->status;
        if (copy_outcome(in, r) < 0)
            atomic_store(&e->fatal, SIFT_ENOMEM);
        in->records = n;
    } else if (sift_file_notes_copy(&ch->notes, sift_reader_notes(r)) < 0) {
        atomic_store(&e->fatal, SIFT_ENOMEM);
    }
    sift_reader_close(r);
    sift_ctx_free(ctx);
    if (!ch->split) {
        in->pub.filtered_out = ch->filtered_out;
        memcpy(in->warning, ch->warning, sizeof in->warning);
        for (int p = 0; p < e->npass; p++) {
            in->states[p] = ch->states[p];
            ch->states[p] = NULL;
        }
        input_done(e, ch->input, in->states);
    } else {
        absorb(e, ch, worker);
    }
}

static void task(void *user, size_t t, unsigned worker)
{
    sift_engine_t *e = user;
    if (atomic_load(&e->fatal) == 0)
        run_chunk(e, &e->chunks[t], worker);
}

static void tick(void *user)
{
    sift_engine_t *e = user;
    e->opts.progress(e->opts.progress_user, atomic_load(&e->bytes_done), e->bytes_total,
                     atomic_load(&e->packets_done));
}

/* Whether an input is worth splitting, and is splittable: a large plain pcap or pcapng file. */
static bool want_split(const sift_engine_t *e, const eng_input_t *in)
{
    if (e->opts.threads < 2 || e->whole_files || in->pub.size < e->opts.split_bytes ||
        strcmp(in->path, "-") == 0)
        return false;
    sift_ctx_t *ctx = NULL;
    if (sift_ctx_create(&ctx) < 0)
        return false;
    sift_reader_opts_t ro = e->opts.reader;
    ro.buffer_size = 4096;
    sift_reader_t *r = NULL;
    bool ok = sift_reader_open(&r, ctx, in->path, &ro) == 0 && sift_reader_splittable(r);
    sift_reader_close(r);
    sift_ctx_free(ctx);
    return ok;
}

static int push_chunk(sift_engine_t *e, size_t *cap, const eng_chunk_t *ch)
{
    if (e->nchunks == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        eng_chunk_t *n = realloc(e->chunks, ncap * sizeof *n);
        if (!n)
            return SIFT_ENOMEM;
        e->chunks = n;
        *cap = ncap;
    }
    e->chunks[e->nchunks++] = *ch;
    return 0;
}

/* Plans the chunks: one per input, or several record-aligned ranges for a large plain pcap or
 * pcapng file (ENG_RANGES_PER_WORKER per worker, at least opts.chunk_bytes each). */
static int plan_chunks(sift_engine_t *e, const bool *only)
{
    size_t cap = 0;
    for (size_t i = 0; i < e->ninput; i++) {
        if ((only && !only[i]) || e->inputs[i].pub.cached)
            continue;
        eng_input_t *in = &e->inputs[i];
        eng_chunk_t ch = {.input = i, .end = UINT64_MAX};
        uint64_t n = 1;
        if (!only && want_split(e, in)) {
            n = in->pub.size / e->opts.chunk_bytes;
            if (n > (uint64_t)e->opts.threads * ENG_RANGES_PER_WORKER)
                n = (uint64_t)e->opts.threads * ENG_RANGES_PER_WORKER;
            if (n < 1)
                n = 1;
        }
        in->first = e->nchunks;
        in->nchunks = (size_t)n;
        in->merged = 0;
        in->expect = 0;
        in->broken = false;
        for (uint64_t k = 0; k < n; k++) {
            ch.split = n > 1;
            ch.start = in->pub.size / n * k;
            ch.end = k + 1 == n ? UINT64_MAX : in->pub.size / n * (k + 1);
            if (push_chunk(e, &cap, &ch) < 0)
                return SIFT_ENOMEM;
        }
    }
    return 0;
}

/* After a run: split inputs whose ranges did not tile or read cleanly are marked in redo[] for
 * a sequential read (their merged states dropped). Whole reads and the other split inputs were
 * finished by the workers. */
static void collect_chunks(sift_engine_t *e, bool *redo, size_t *nredo)
{
    for (size_t i = 0; i < e->ninput; i++) {
        eng_input_t *in = &e->inputs[i];
        if (in->nchunks < 2 || !in->broken)
            continue;
        for (int p = 0; p < e->npass; p++) {
            free_state(&e->passes[p], in->states[p]);
            in->states[p] = NULL;
        }
        in->warning[0] = '\0';
        redo[i] = true;
        (*nredo)++;
        e->reread++;
        e->bytes_total += in->pub.size;
    }
    free_chunks(e);
}

static int run_planned(sift_engine_t *e)
{
    e->chunks_run += e->nchunks;
    int rc =
        sift_pool_run(e->opts.threads, e->nchunks, task, e, e->opts.progress ? tick : NULL, 200);
    if (rc < 0)
        return sift__ctx_error(e->ctx, rc, "cannot start worker threads");
    rc = atomic_load(&e->fatal);
    return rc < 0 ? sift__ctx_error(e->ctx, rc, "run failed: %s", sift_strerror(rc)) : 0;
}

/* With one input the total is that input's state (see sift_engine_total): no second copy. */
static int merge_totals(sift_engine_t *e)
{
    size_t with = 0;
    for (size_t i = 0; i < e->ninput; i++)
        with += e->npass > 0 && e->inputs[i].states[0] != NULL;
    if (!e->opts.totals || with <= 1)
        return 0;
    int rc = sift__eng_new_states(e, e->totals, false, UINT_MAX);
    for (size_t i = 0; i < e->ninput && rc == 0; i++)
        for (int p = 0; p < e->npass; p++)
            if (e->inputs[i].states[p])
                merge_state(e, p, e->totals[p], e->inputs[i].states[p]);
    return rc;
}

/* Each pass's shared resources, once for the run. */
static int set_up_passes(sift_engine_t *e)
{
    for (int p = 0; p < e->npass; p++) {
        eng_pass_t *ep = &e->passes[p];
        if (!ep->pass.setup)
            continue;
        char err[SIFT_ERRBUF_SIZE] = "";
        int rc = ep->pass.setup(ep->config, &ep->shared, err);
        if (rc < 0)
            return sift__ctx_error(e->ctx, rc, "%s: %s", ep->pass.name,
                                   err[0] ? err : sift_strerror(rc));
        ep->set_up = true;
    }
    return 0;
}

int sift_engine_run(sift_engine_t *e)
{
    if (e->ran)
        return sift__ctx_error(e->ctx, SIFT_EINVAL, "the engine has already run");
    e->ran = true;
    for (size_t i = 0; i < e->ninput; i++) /* the inputs are all there: they move no more */
        e->inputs[i].pub.notes = &e->inputs[i].notes;
    for (size_t i = 0; i < e->ninput; i++) { /* the array no longer moves */
        e->inputs[i].pub.error = e->inputs[i].error;
        e->inputs[i].pub.warning = e->inputs[i].warning;
    }
    int rc = plan_flows(e);
    if (rc < 0)
        return rc;
    rc = set_up_passes(e);
    if (rc < 0)
        return rc;
    e->modules = calloc(e->opts.threads, sizeof *e->modules);
    if (!e->modules)
        return sift__ctx_error(e->ctx, SIFT_ENOMEM, "out of memory");
    sift__eng_cache_lookup(e);
    bool *redo = calloc(e->ninput ? e->ninput : 1, sizeof *redo);
    rc = redo ? plan_chunks(e, NULL) : SIFT_ENOMEM;
    if (rc == 0)
        rc = run_planned(e);
    size_t nredo = 0;
    if (rc == 0)
        collect_chunks(e, redo, &nredo);
    if (rc == 0 && nredo > 0) { /* a wrong boundary guess or damage: read those whole */
        rc = plan_chunks(e, redo);
        if (rc == 0)
            rc = run_planned(e);
        if (rc == 0)
            free_chunks(e); /* whole reads: their workers finished them */
    }
    free(redo);
    if (rc == 0)
        rc = merge_totals(e);
    if (rc < 0)
        return sift__ctx_error(e->ctx, rc, "run failed: %s", sift_strerror(rc));
    return 0;
}

void sift_engine_stats(const sift_engine_t *e, sift_engine_stats_t *out)
{
    out->chunks = e->chunks_run;
    out->reread = e->reread;
    out->packets = atomic_load(&e->packets_done);
    out->bytes = atomic_load(&e->bytes_done);
}

size_t sift_engine_ninputs(const sift_engine_t *e)
{
    return e->ninput;
}

const sift_input_t *sift_engine_input(const sift_engine_t *e, size_t i)
{
    return i < e->ninput ? &e->inputs[i].pub : NULL;
}

const void *sift_engine_state(const sift_engine_t *e, size_t i, int p)
{
    if (i >= e->ninput || p < 0 || p >= e->npass)
        return NULL;
    return e->inputs[i].states[p];
}

const void *sift_engine_total(const sift_engine_t *e, int p)
{
    if (p < 0 || p >= e->npass || !e->opts.totals)
        return NULL;
    if (e->totals[p])
        return e->totals[p];
    for (size_t i = 0; i < e->ninput; i++) /* the only input with a state */
        if (e->inputs[i].states[p])
            return e->inputs[i].states[p];
    return NULL;
}

int sift_engine_flows_pass(const sift_engine_t *e)
{
    return e->stage;
}

void *sift_engine_flow_state(const sift_engine_t *e, int p, const sift_flow_t *f)
{
    if (p < 0 || p >= e->npass || e->passes[p].user == SIZE_MAX || !f)
        return NULL;
    return (unsigned char *)sift_flow_ext(f) + e->users[e->passes[p].user].offset;
}
