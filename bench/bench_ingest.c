/* bench_ingest — in-process cost of one event: decode, validate, aggregate.
 *
 * Runs the real per-frame pipeline (ingest_proc_frame: protobuf-c unpack,
 * validation, six scope updates through eng_frame_record, frame end) on
 * one thread over pre-serialized 500-event frames; serialization is the
 * producer's cost and is not timed. Keys follow the model in
 * bench_common.h (20,000 tenants x 25 mailboxes x 25 domains = 1,020,000
 * keys in the first three scopes; with the provider, mailbox_provider and
 * campaign scopes, the ones the frames reach on top), with Zipf(s)
 * popularity (default s = 1.0) and, separately, uniform. --scopes 3 counts
 * the events in the first three scopes only (ENG_SCOPES_CLASSIC), as the
 * engine did before issue 12, for a side-by-side figure in one binary.
 *
 * Each distribution gets its own table (max_keys 2M, default retention)
 * with a RocksDB store in a temporary directory, as in the daemon (the
 * store sets the in-memory ring sizes and adds the flush bookkeeping to
 * each frame; flushing itself is the daemon's main thread's work and is
 * not timed here — bench_throughput sees it);
 * before timing, every key of the model is created once in random order and
 * the timed frames are run through once, so the timed passes measure the
 * steady state (keys and their per-type series exist) rather than the
 * first-touch allocations. Event times are "now" (the current buckets).
 *
 * In every round, side by side on the same frames:
 *   unpack    protobuf-c unpack + free alone (the baseline)
 *   decode+validate   what ingest_proc_frame does before the engine: the
 *             arena decoder (ingest_decode_batch_arena, reset per frame)
 *             and ingest_validate_event per event
 *   full      ingest_proc_frame into the table
 * Reported per event (ns) for each round, with the median over rounds.
 *
 * Prints, per distribution, one result line:
 *   bench_ingest dist=zipf ns_per_event=… unpack_ns_per_event=… …
 */

#include "bench_common.h"
#include "eng_store.h"
#include "eng_table.h"
#include "ingest_validate.h"
#include "ingest_worker.h"

#define MAX_RUNS 32

struct dist {
    const char *name;
    double skew;
    struct bench_model model;
    struct bench_frames frames;
    char dir[E2E_PATH_MAX];
    struct ingest_arena *arena; /* for the decode+validate pass */
    struct eng_store *store;
    struct eng_table *table;
    struct ingest_proc *proc;
    /* per event, CPU time (what the figures quote) and wall time */
    double unpack[MAX_RUNS], validate[MAX_RUNS], full[MAX_RUNS];
    double unpack_w[MAX_RUNS], validate_w[MAX_RUNS], full_w[MAX_RUNS];
    uint64_t accepted, rejected;
    unsigned scopes; /* eng_table_opts.scopes: 0 (all six) or ENG_SCOPES_CLASSIC */
    double hot1; /* share of events whose mailbox key is among the top 1% */
};

/* This thread's CPU time in ns: unlike the wall clock, it does not count
 * the time a busy neighbour on this shared machine had the core. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Wall and CPU time of one pass, per event. */
struct pass {
    int64_t w0, c0;
};

static struct pass pass_begin(void) { return (struct pass){mp_mono_ns(), cpu_ns()}; }

static double pass_end(struct pass p, size_t frames, double *wall)
{
    double n = (double)frames * BENCH_BATCH;
    *wall = (double)(mp_mono_ns() - p.w0) / n;
    return (double)(cpu_ns() - p.c0) / n;
}

/* protobuf-c alone: the decode every design pays for. */
static double pass_unpack(const struct bench_frames *fs, double *wall)
{
    struct pass t0 = pass_begin();
    for (size_t i = 0; i < fs->n; i++) {
        Mailpulse__V1__EventBatch *b =
            mailpulse__v1__event_batch__unpack(NULL, fs->f[i].len, fs->f[i].buf);
        if (!b)
            abort();
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
    }
    return pass_end(t0, fs->n, wall);
}

/* What ingest_proc_frame does before the engine: decode into the per-thread
 * arena, NUL check, validation, lower-casing. */
static double pass_validate(const struct bench_frames *fs, const struct ingest_limits *lim,
                            struct ingest_arena *arena, double *wall)
{
    char names[INGEST_NAMEBUF_LEN];
    volatile size_t sink = 0;
    int64_t now = mp_now_ms();
    struct pass t0 = pass_begin();
    for (size_t i = 0; i < fs->n; i++) {
        Mailpulse__V1__EventBatch *b;
        if (ingest_decode_batch_arena(arena, fs->f[i].buf, fs->f[i].len, &b) != MP_OK)
            abort();
        for (size_t j = 0; j < b->n_events; j++) {
            struct eng_event ev;
            if (ingest_validate_event(b->events[j], now, lim, names, &ev) == INGEST_OK)
                sink += ev.domain_len;
        }
        ingest_arena_reset(arena);
    }
    double ns = pass_end(t0, fs->n, wall);
    if (sink == 0) /* the results are used, so the validation cannot be optimised out */
        fprintf(stderr, "bench_ingest: no event validated\n");
    return ns;
}

static double pass_full(struct dist *d, const struct bench_frames *fs, double *wall)
{
    uint64_t ok = 0, bad = 0;
    struct pass t0 = pass_begin();
    for (size_t i = 0; i < fs->n; i++) {
        uint32_t rej;
        /* the worker reads the clock once per frame, so do we */
        ok += ingest_proc_frame(d->proc, fs->f[i].buf, fs->f[i].len, mp_now_ms(), &rej);
        bad += rej;
    }
    double ns = pass_end(t0, fs->n, wall);
    d->accepted += ok;
    d->rejected += bad;
    return ns;
}

/* Share of events that hit the hottest 1% of mailbox keys (describes the skew). */
static double hot_share(const struct bench_model *m, size_t nevents, uint64_t seed)
{
    size_t nkeys = (size_t)m->tenants * BENCH_MAILBOXES;
    uint32_t *cnt = calloc(nkeys, sizeof(*cnt));
    if (!cnt)
        return NAN;
    struct bench_rng r = {seed};
    for (size_t i = 0; i < nevents; i++) {
        struct bench_pick p = bench_model_draw(m, &r);
        cnt[(size_t)p.t * BENCH_MAILBOXES + p.m]++;
    }
    /* counts are small: a histogram gives the top 1% without sorting 500k */
    uint32_t maxc = 0;
    for (size_t i = 0; i < nkeys; i++)
        maxc = cnt[i] > maxc ? cnt[i] : maxc;
    size_t *hist = calloc((size_t)maxc + 1, sizeof(*hist));
    if (!hist) {
        free(cnt);
        return NAN;
    }
    for (size_t i = 0; i < nkeys; i++)
        hist[cnt[i]]++;
    size_t want = nkeys / 100, taken = 0;
    uint64_t hits = 0;
    for (uint32_t c = maxc; c > 0 && taken < want; c--) {
        size_t k = hist[c] < want - taken ? hist[c] : want - taken;
        taken += k;
        hits += (uint64_t)k * c;
    }
    free(hist);
    free(cnt);
    return (double)hits / (double)nevents;
}

static int dist_setup(struct dist *d, uint32_t tenants, uint32_t max_keys, size_t nframes,
                      int event_id, const struct ingest_limits *lim, uint64_t seed)
{
    int64_t now = mp_now_ms();
    if (bench_model_init(&d->model, tenants, d->skew) != 0)
        return -1;
    if (bench_frames_build(&d->model, nframes, seed, now, event_id, &d->frames) != 0)
        return -1;
    d->hot1 = hot_share(&d->model, nframes * BENCH_BATCH, seed);
    uint64_t nkeys = bench_model_keys(&d->model);
    char err[E2E_ERR_MAX] = "";
    if (e2e_tmpdir_create("bench-ingest", d->dir, sizeof(d->dir), err, sizeof(err)) != MP_OK ||
        eng_store_open(d->dir, &d->store, err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "bench_ingest: store in %s: %s\n", d->dir, err);
        return -1;
    }
    /* six scopes: up to 185 keys per tenant, of which the frames reach a part */
    uint64_t want = d->scopes ? nkeys * 2 : nkeys * 4;
    if (!max_keys)
        max_keys = (uint32_t)(want > 2097152 ? want : 2097152);
    struct eng_table_opts to = {.max_keys = max_keys,
                                .retention_ms = lim->retention_ms,
                                .store = d->store,
                                .scopes = d->scopes};
    if (ingest_arena_create(&d->arena) != MP_OK ||
        eng_table_create(&to, now, &d->table) != MP_OK ||
        ingest_proc_create(d->table, lim, &d->proc) != MP_OK)
        return -1;
    eng_thread_online(ingest_proc_thread(d->proc));
    /* every key exists before timing, created in random order */
    struct bench_frames all;
    if (bench_frames_all_keys(&d->model, seed ^ 0xabcdef, ENG_SENT, now, &all) != 0)
        return -1;
    for (size_t i = 0; i < all.n; i++)
        ingest_proc_frame(d->proc, all.f[i].buf, all.f[i].len, mp_now_ms(), NULL);
    bench_frames_free(&all);
    double w;
    pass_full(d, &d->frames, &w); /* first touches of the rarer types' series */
    d->accepted = d->rejected = 0;
    if (d->scopes && eng_table_nkeys(d->table) != nkeys) { /* six: what the draws reach */
        fprintf(stderr, "bench_ingest: %s: %u keys, expected %llu\n", d->name,
                eng_table_nkeys(d->table), (unsigned long long)nkeys);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int runs = 5, event_id = 0, nscopes = 6;
    size_t nframes = 2000;
    uint32_t tenants = 20000, max_keys = 0;
    double skew = 1.0, target = 300;
    const char *only = NULL;
    const struct bench_opt opts[] = {
        {"runs", 'r', BENCH_OPT_INT, &runs},         {"frames", 'f', BENCH_OPT_SIZE, &nframes},
        {"tenants", 't', BENCH_OPT_U32, &tenants},   {"skew", 's', BENCH_OPT_DOUBLE, &skew},
        {"dist", 'd', BENCH_OPT_STR, &only},         {"event-id", 'e', BENCH_OPT_FLAG, &event_id},
        {"max-keys", 0, BENCH_OPT_U32, &max_keys},   {"scopes", 0, BENCH_OPT_INT, &nscopes},
    };
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_ingest [--runs N] [--frames N] [--tenants N] [--skew S]\n"
                        "                    [--dist zipf|uniform] [--event-id] [--max-keys N]\n"
                        "                    [--scopes 3|6]\n"
                        "  500 events per frame; keys = tenants x 51 (default 20000 -> 1,020,000);\n"
                        "  max_keys (table capacity) defaults to max(2M, 2 x keys)\n");
    if (ex >= 0)
        return ex;
    if (max_keys && max_keys < (uint64_t)tenants * BENCH_KEYS_PER_TENANT) {
        fprintf(stderr, "bench_ingest: --max-keys below the %llu keys of the model\n",
                (unsigned long long)tenants * BENCH_KEYS_PER_TENANT);
        return 2;
    }
    if (runs < 1 || runs > MAX_RUNS || nframes < 1 || tenants < 2 || skew <= 0 ||
        (nscopes != 3 && nscopes != 6)) {
        fprintf(stderr, "bench_ingest: --runs 1..%d, --frames >= 1, --tenants >= 2, --skew > 0, "
                "--scopes 3|6\n", MAX_RUNS);
        return 2;
    }
    unsigned sc = nscopes == 3 ? ENG_SCOPES_CLASSIC : 0;
    struct dist dists[2] = {{.name = "zipf", .skew = skew, .scopes = sc},
                            {.name = "uniform", .skew = 0, .scopes = sc}};
    int nd = 0;
    struct dist *use[2];
    for (int i = 0; i < 2; i++)
        if (!only || strcmp(only, dists[i].name) == 0)
            use[nd++] = &dists[i];
    if (nd == 0) {
        fprintf(stderr, "bench_ingest: --dist zipf|uniform\n");
        return 2;
    }
    struct ingest_limits lim = {.retention_ms = 35 * ENG_DAY_MS,
                                .future_ms = INGEST_FUTURE_MS_DEFAULT};
    for (int i = 0; i < nd; i++) {
        int64_t t0 = mp_mono_ns();
        if (dist_setup(use[i], tenants, max_keys, nframes, event_id, &lim, 42 + (uint64_t)i) != 0) {
            fprintf(stderr, "bench_ingest: setup of %s failed\n", use[i]->name);
            return 1;
        }
        printf("# %s: %zu frames x %d events (%.0f bytes/event), %u keys, %llu series, "
               "top 1%% of mailbox keys get %.1f%% of events; setup %.1f s\n",
               use[i]->name, use[i]->frames.n, BENCH_BATCH,
               (double)use[i]->frames.bytes / ((double)use[i]->frames.n * BENCH_BATCH),
               eng_table_nkeys(use[i]->table),
               (unsigned long long)eng_table_nseries(use[i]->table), 100 * use[i]->hot1,
               (double)(mp_mono_ns() - t0) / 1e9);
    }
    fflush(stdout);
    /* Rounds interleave every measurement, so a noisy neighbour hits all alike. */
    for (int r = 0; r < runs; r++) {
        for (int i = 0; i < nd; i++) {
            struct dist *d = use[i];
            d->unpack[r] = pass_unpack(&d->frames, &d->unpack_w[r]);
            d->validate[r] = pass_validate(&d->frames, &lim, d->arena, &d->validate_w[r]);
            d->full[r] = pass_full(d, &d->frames, &d->full_w[r]);
            printf("# run %d %s: CPU ns/event: unpack %.1f, decode+validate %.1f, full %.1f; "
                   "wall: %.1f, %.1f, %.1f\n",
                   r + 1, d->name, d->unpack[r], d->validate[r], d->full[r], d->unpack_w[r],
                   d->validate_w[r], d->full_w[r]);
            fflush(stdout);
        }
    }
    for (int i = 0; i < nd; i++) {
        struct dist *d = use[i];
        char l1[512], l2[512], l3[512];
        double full = bench_median(d->full, runs), unpack = bench_median(d->unpack, runs),
               val = bench_median(d->validate, runs);
        double full_w = bench_median(d->full_w, runs), unpack_w = bench_median(d->unpack_w, runs);
        printf("bench_ingest dist=%s skew=%.2f scopes=%d keys=%u events_per_run=%zu runs=%d "
               "ns_per_event=%.1f unpack_ns_per_event=%.1f decode_validate_ns_per_event=%.1f "
               "engine_ns_per_event=%.1f ratio_full_to_unpack=%.2f events_per_s=%.0f "
               "wall_ns_per_event=%.1f wall_unpack_ns_per_event=%.1f "
               "target_ns=%.0f met=%s rejected=%llu full_runs=%s unpack_runs=%s "
               "decode_validate_runs=%s\n",
               d->name, d->skew, nscopes, eng_table_nkeys(d->table), d->frames.n * BENCH_BATCH,
               runs, full,
               unpack, val, full - val, full / unpack, 1e9 / full, full_w, unpack_w, target,
               full <= target ? "yes" : "no", (unsigned long long)d->rejected,
               bench_list(d->full, runs, 1, l1, sizeof(l1)),
               bench_list(d->unpack, runs, 1, l2, sizeof(l2)),
               bench_list(d->validate, runs, 1, l3, sizeof(l3)));
    }
    printf("# ns_per_event: ingest_proc_frame per event, this thread's CPU time (one core;\n"
           "# decode + validate + 3 scope updates); unpack: protobuf-c's generic unpack+free\n"
           "# (malloc per string) of the same frames; decode_validate: the worker's arena\n"
           "# decoder + validation; engine = full minus that; wall_*: by the wall clock\n"
           "# (higher when neighbours take the core). Medians of %d interleaved rounds.\n",
           runs);
    for (int i = 0; i < nd; i++) {
        eng_thread_offline(ingest_proc_thread(use[i]->proc));
        ingest_proc_destroy(use[i]->proc);
        eng_table_destroy(use[i]->table);
        eng_store_close(use[i]->store);
        ingest_arena_destroy(use[i]->arena);
        e2e_tmpdir_remove(use[i]->dir);
        bench_frames_free(&use[i]->frames);
        bench_model_free(&use[i]->model);
    }
    return 0;
}
