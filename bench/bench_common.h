/* bench_common.h — what the benchmarks share: the key model, Zipf sampling,
 * the event-type mix, pre-serialized EventBatch frames, medians, and the
 * bench's daemon (its config: a dead receiver, max_keys, a log level, the
 * acked ROUTER endpoint when asked; its timed stop). The plumbing under it
 * (free ports, temp dirs, config files, spawning, HTTP GET, metric
 * parsing) is the tests' harness,
 * tests/e2e_harness.h, linked into every bench; the in-process receiver is
 * tests/http_receiver.h.
 *
 * Header-only (static inline) because every .c file under bench/ is its own program:
 * the Makefile turns each one into a binary, so a shared .c here would need
 * a main of its own.
 *
 * The key model. A workload of T tenants; each tenant sends from
 * BENCH_MAILBOXES mailboxes to BENCH_DOMAINS recipient domains, so the three
 * scopes give T * (1 + BENCH_MAILBOXES + BENCH_DOMAINS) distinct keys
 * (20,000 tenants -> 1,020,000 keys). An event picks a tenant, then a
 * mailbox and a domain of that tenant, independently:
 *   - skew s > 0: tenant by Zipf(s) rank over the T tenants, mailbox and
 *     domain by Zipf(s) rank over that tenant's 25. A mailbox or domain key
 *     of tenant rank i and rank j is hit with probability
 *     ~ 1 / (i^s * H(T,s) * j^s * H(25,s)): Zipf at every level.
 *     Tenant ranks map to tenant ids through a fixed permutation, so hot
 *     tenants are not the low ids.
 *   - skew 0: uniform at every level.
 * Names: tenant "tenant-00042"; mailbox "sender07@t00042.example.com";
 * domain rank 0..4 is gmail.com, outlook.com, yahoo.com, hotmail.com,
 * icloud.com (shared by every tenant, as in life), ranks 5..24
 * "mx01234.example.net" from a pool of 100,000 shared names. The five shared
 * domains are four mailbox providers (gmail.com google, outlook.com and
 * hotmail.com microsoft, yahoo.com, icloud.com apple), the rest `other`, so
 * with the provider scopes (issue 12) a tenant has 5 provider keys and up
 * to 25 x 5 mailbox_provider keys. Every event carries a campaign, one of
 * BENCH_CAMPAIGNS per tenant, fixed by its mailbox (bench_name_campaign).
 *
 * Threads: none of this is thread-safe; each process builds its own.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/e2e_harness.h" /* bench/ sees no -Itests: the path says where */
#include "eng_types.h"
#include "mailpulse.pb-c.h"
#include "mp.h"

#define BENCH_MAILBOXES 25
#define BENCH_DOMAINS 25
#define BENCH_KEYS_PER_TENANT (1 + BENCH_MAILBOXES + BENCH_DOMAINS)
#define BENCH_BATCH 500 /* events per frame, as producers are told to send */
#define BENCH_NAME_MAX 64
#define BENCH_CAMPAIGNS 4
/* Keys per tenant when mailbox j only sends to domain j (bench_memory,
 * bench_frames_all_keys): the first three scopes, and all six (+ 5
 * providers, 25 mailbox_provider keys, BENCH_CAMPAIGNS campaigns). */
#define BENCH_KEYS_PER_TENANT6 (BENCH_KEYS_PER_TENANT + 5 + BENCH_MAILBOXES + BENCH_CAMPAIGNS)

/* ---- random numbers ---------------------------------------------------- */

struct bench_rng {
    uint64_t s;
};

static inline uint64_t bench_rng_next(struct bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline double bench_rng_unit(struct bench_rng *r)
{
    return (double)(bench_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Zipf(s) over ranks 0..n-1 by inverse CDF (binary search); s == 0 is uniform. */
struct bench_zipf {
    uint32_t n;
    double *cdf; /* NULL when uniform */
};

static inline int bench_zipf_init(struct bench_zipf *z, uint32_t n, double s)
{
    z->n = n;
    z->cdf = NULL;
    if (s <= 0)
        return 0;
    z->cdf = malloc(n * sizeof(double));
    if (!z->cdf)
        return -1;
    double sum = 0;
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] = (sum += 1.0 / pow((double)(i + 1), s));
    for (uint32_t i = 0; i < n; i++)
        z->cdf[i] /= sum;
    return 0;
}

static inline uint32_t bench_zipf_draw(const struct bench_zipf *z, struct bench_rng *r)
{
    if (!z->cdf)
        return (uint32_t)(bench_rng_next(r) % z->n);
    double u = bench_rng_unit(r);
    uint32_t lo = 0, hi = z->n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static inline void bench_zipf_free(struct bench_zipf *z) { free(z->cdf); }

/* ---- the key model ------------------------------------------------------ */

struct bench_model {
    uint32_t tenants;
    double skew;
    uint64_t perm_mul; /* tenant rank -> id: rank * perm_mul mod tenants */
    struct bench_zipf zt, zm, zd;
};

static inline uint64_t bench__gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static inline int bench_model_init(struct bench_model *m, uint32_t tenants, double skew)
{
    memset(m, 0, sizeof(*m));
    m->tenants = tenants;
    m->skew = skew;
    /* a multiplier coprime with n makes rank -> rank*mul mod n a permutation */
    m->perm_mul = 2654435761ULL % tenants;
    while (m->perm_mul < 2 || bench__gcd(m->perm_mul, tenants) != 1)
        m->perm_mul++;
    if (bench_zipf_init(&m->zt, tenants, skew) || bench_zipf_init(&m->zm, BENCH_MAILBOXES, skew) ||
        bench_zipf_init(&m->zd, BENCH_DOMAINS, skew))
        return -1;
    return 0;
}

static inline void bench_model_free(struct bench_model *m)
{
    bench_zipf_free(&m->zt);
    bench_zipf_free(&m->zm);
    bench_zipf_free(&m->zd);
}

static inline uint64_t bench_model_keys(const struct bench_model *m)
{
    return (uint64_t)m->tenants * BENCH_KEYS_PER_TENANT;
}

/* One event's coordinates: tenant id, mailbox index, domain index. */
struct bench_pick {
    uint32_t t, m, d;
};

static inline struct bench_pick bench_model_draw(const struct bench_model *m, struct bench_rng *r)
{
    struct bench_pick p;
    uint32_t rank = bench_zipf_draw(&m->zt, r);
    p.t = (uint32_t)(((uint64_t)rank * m->perm_mul) % m->tenants);
    p.m = bench_zipf_draw(&m->zm, r);
    p.d = bench_zipf_draw(&m->zd, r);
    return p;
}

static inline void bench_name_tenant(char *buf, uint32_t t)
{
    snprintf(buf, BENCH_NAME_MAX, "tenant-%05u", t);
}

static inline void bench_name_mailbox(char *buf, uint32_t t, uint32_t m)
{
    snprintf(buf, BENCH_NAME_MAX, "sender%02u@t%05u.example.com", m, t);
}

static inline void bench_name_domain(char *buf, uint32_t t, uint32_t d)
{
    static const char *const top[] = {"gmail.com", "outlook.com", "yahoo.com", "hotmail.com",
                                      "icloud.com"};
    if (d < 5)
        snprintf(buf, BENCH_NAME_MAX, "%s", top[d]);
    else
        snprintf(buf, BENCH_NAME_MAX, "mx%05u.example.net",
                 (unsigned)(((uint64_t)t * 20 + d) % 100000));
}

/* The campaign of mailbox m's events (static names). */
static inline const char *bench_name_campaign(uint32_t m)
{
    static const char *const names[BENCH_CAMPAIGNS] = {"welcome", "newsletter", "promo",
                                                      "reactivation"};
    return names[m % BENCH_CAMPAIGNS];
}

/* ---- event types -------------------------------------------------------- */

/* The stream's type mix, per mille: what a sending platform's event stream
 * looks like (most events are sends and deliveries; bounces and complaints
 * are the rare ones the alerts are about). */
static const struct {
    int type;
    int per_mille;
} bench_type_mix[] = {
    {ENG_SENT, 400},      {ENG_DELIVERED, 360},  {ENG_OPEN, 140},        {ENG_CLICK, 40},
    {ENG_DEFERRED, 20},   {ENG_BOUNCE_SOFT, 15}, {ENG_BOUNCE_HARD, 12},  {ENG_UNSUBSCRIBE, 5},
    {ENG_BLOCKED, 3},     {ENG_COMPLAINT, 3},    {ENG_REPLY, 2},
};

static inline int bench_type_draw(struct bench_rng *r)
{
    int x = (int)(bench_rng_next(r) % 1000);
    for (size_t i = 0; i < sizeof(bench_type_mix) / sizeof(bench_type_mix[0]); i++) {
        if (x < bench_type_mix[i].per_mille)
            return bench_type_mix[i].type;
        x -= bench_type_mix[i].per_mille;
    }
    return ENG_SENT;
}

/* ---- frames ------------------------------------------------------------- */

struct bench_frame {
    uint8_t *buf;
    size_t len;
};

struct bench_frames {
    size_t n;
    size_t bytes;
    struct bench_frame *f;
};

/* Serializes one EventBatch of `n` events (n <= BENCH_BATCH). picks[i] and
 * types[i] give event i; every event carries time_ms (and, with_event_id,
 * an event_id derived from `seq`). Returns 0 or -1. */
static inline int bench_frame_pack(const struct bench_pick *picks, const int *types, size_t n,
                                   int64_t time_ms, uint64_t seq, int with_event_id,
                                   struct bench_frame *out)
{
    static char names[BENCH_BATCH][4][BENCH_NAME_MAX];
    static Mailpulse__V1__Event evs[BENCH_BATCH];
    static Mailpulse__V1__Event *pe[BENCH_BATCH];
    for (size_t i = 0; i < n; i++) {
        mailpulse__v1__event__init(&evs[i]);
        bench_name_tenant(names[i][0], picks[i].t);
        bench_name_mailbox(names[i][1], picks[i].t, picks[i].m);
        bench_name_domain(names[i][2], picks[i].t, picks[i].d);
        evs[i].tenant = names[i][0];
        evs[i].mailbox = names[i][1];
        evs[i].recipient_domain = names[i][2];
        evs[i].campaign = (char *)bench_name_campaign(picks[i].m);
        evs[i].type = (Mailpulse__V1__EventType)types[i];
        evs[i].time_ms = time_ms;
        if (with_event_id) {
            snprintf(names[i][3], BENCH_NAME_MAX, "%016llx",
                     (unsigned long long)(seq * BENCH_BATCH + i) * 0x9e3779b97f4a7c15ULL);
            evs[i].event_id = names[i][3];
        }
        pe[i] = &evs[i];
    }
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.n_events = n;
    b.events = pe;
    /* No producer_id, no sequence: producers cycle over these frames, and a
     * repeated (producer_id, sequence) is applied once (acked-ingest dedup);
     * without an id the daemon pins each connection to one worker. */
    MP_UNUSED(seq);
    b.producer_id = (char *)"";
    b.sequence = 0;
    out->len = mailpulse__v1__event_batch__get_packed_size(&b);
    out->buf = malloc(out->len);
    if (!out->buf)
        return -1;
    mailpulse__v1__event_batch__pack(&b, out->buf);
    return 0;
}

/* `nframes` frames of BENCH_BATCH events drawn from the model and the type
 * mix. Returns 0 or -1. */
static inline int bench_frames_build(const struct bench_model *m, size_t nframes, uint64_t seed,
                                     int64_t time_ms, int with_event_id, struct bench_frames *out)
{
    struct bench_rng r = {seed};
    static struct bench_pick picks[BENCH_BATCH];
    static int types[BENCH_BATCH];
    out->n = 0;
    out->bytes = 0;
    out->f = calloc(nframes, sizeof(*out->f));
    if (!out->f)
        return -1;
    for (size_t i = 0; i < nframes; i++) {
        for (size_t j = 0; j < BENCH_BATCH; j++) {
            picks[j] = bench_model_draw(m, &r);
            types[j] = bench_type_draw(&r);
        }
        if (bench_frame_pack(picks, types, BENCH_BATCH, time_ms, i, with_event_id, &out->f[i]))
            return -1;
        out->n++;
        out->bytes += out->f[i].len;
    }
    return 0;
}

/* Frames that touch every key of the model once, in random order: each
 * (tenant, j) pair sends one `type` event from mailbox j to domain j. */
static inline int bench_frames_all_keys(const struct bench_model *m, uint64_t seed, int type,
                                        int64_t time_ms, struct bench_frames *out)
{
    size_t npairs = (size_t)m->tenants * BENCH_MAILBOXES;
    struct bench_pick *all = malloc(npairs * sizeof(*all));
    static int types[BENCH_BATCH];
    if (!all)
        return -1;
    for (size_t i = 0; i < npairs; i++) {
        all[i].t = (uint32_t)(i / BENCH_MAILBOXES);
        all[i].m = all[i].d = (uint32_t)(i % BENCH_MAILBOXES);
    }
    struct bench_rng r = {seed};
    for (size_t i = npairs - 1; i > 0; i--) { /* Fisher-Yates */
        size_t j = (size_t)(bench_rng_next(&r) % (i + 1));
        struct bench_pick x = all[i];
        all[i] = all[j];
        all[j] = x;
    }
    for (size_t j = 0; j < BENCH_BATCH; j++)
        types[j] = type;
    size_t nframes = (npairs + BENCH_BATCH - 1) / BENCH_BATCH;
    out->n = 0;
    out->bytes = 0;
    out->f = calloc(nframes, sizeof(*out->f));
    int rc = out->f ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < nframes; i++) {
        size_t n = npairs - i * BENCH_BATCH < BENCH_BATCH ? npairs - i * BENCH_BATCH : BENCH_BATCH;
        rc = bench_frame_pack(all + i * BENCH_BATCH, types, n, time_ms, i, 0, &out->f[i]);
        if (rc == 0) {
            out->n++;
            out->bytes += out->f[i].len;
        }
    }
    free(all);
    return rc;
}

static inline void bench_frames_free(struct bench_frames *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->f[i].buf);
    free(fs->f);
    fs->f = NULL;
    fs->n = 0;
}

/* ---- command line ------------------------------------------------------- */

/* One option: --name (and -c when c is not 0) stores into *val. */
enum bench_opt_type {
    BENCH_OPT_FLAG,   /* int, set to 1; takes no value */
    BENCH_OPT_INT,    /* int (atoi) */
    BENCH_OPT_U32,    /* uint32_t (strtoul) */
    BENCH_OPT_U64,    /* uint64_t (strtoull) */
    BENCH_OPT_SIZE,   /* size_t (strtoul) */
    BENCH_OPT_DOUBLE, /* double (atof) */
    BENCH_OPT_STR,    /* const char * (argv's own string) */
};

struct bench_opt {
    const char *name;
    char c;
    enum bench_opt_type type;
    void *val;
};

#define BENCH_MAX_OPTS 16

/* Parses argv by the table, plus --help/-h (prints `usage`). Returns -1 to
 * go on, else the exit status: 0 after --help, 2 on a bad option. Range
 * checks are the caller's. */
static inline int bench_opts(int argc, char **argv, const struct bench_opt *o, size_t n,
                             const char *usage)
{
    struct option lo[BENCH_MAX_OPTS + 2];
    char shorts[3 * BENCH_MAX_OPTS + 2] = "h";
    size_t ns = 1;
    if (n > BENCH_MAX_OPTS)
        return 2;
    for (size_t i = 0; i < n; i++) {
        int arg = o[i].type == BENCH_OPT_FLAG ? no_argument : required_argument;
        lo[i] = (struct option){o[i].name, arg, NULL, o[i].c ? o[i].c : 256 + (int)i};
        if (o[i].c) {
            shorts[ns++] = o[i].c;
            if (arg == required_argument)
                shorts[ns++] = ':';
        }
    }
    shorts[ns] = '\0';
    lo[n] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n + 1] = (struct option){NULL, 0, NULL, 0};
    int ch;
    while ((ch = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
        if (ch == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        size_t i = 0;
        while (i < n && lo[i].val != ch)
            i++;
        if (i == n)
            return 2;
        switch (o[i].type) {
        case BENCH_OPT_FLAG: *(int *)o[i].val = 1; break;
        case BENCH_OPT_INT: *(int *)o[i].val = atoi(optarg); break;
        case BENCH_OPT_U32: *(uint32_t *)o[i].val = (uint32_t)strtoul(optarg, NULL, 10); break;
        case BENCH_OPT_U64: *(uint64_t *)o[i].val = strtoull(optarg, NULL, 10); break;
        case BENCH_OPT_SIZE: *(size_t *)o[i].val = (size_t)strtoul(optarg, NULL, 10); break;
        case BENCH_OPT_DOUBLE: *(double *)o[i].val = atof(optarg); break;
        case BENCH_OPT_STR: *(const char **)o[i].val = optarg; break;
        }
    }
    return -1;
}

/* ---- figures ------------------------------------------------------------ */

/* Polls *slot, read under lock, every 200 us until it is set (non-zero) or
 * the monotonic clock passes deadline_ns: its last value, 0 when never set.
 * The latency benches wait for a receiver thread's receipt time this way. */
static inline int64_t bench_wait_set(pthread_mutex_t *lock, const int64_t *slot,
                                     int64_t deadline_ns)
{
    int64_t v = 0;
    while (mp_mono_ns() < deadline_ns) {
        pthread_mutex_lock(lock);
        v = *slot;
        pthread_mutex_unlock(lock);
        if (v)
            break;
        usleep(200);
    }
    return v;
}

static inline int bench__cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of n values (the mean of the middle two when n is even). */
static inline double bench_median(const double *v, int n)
{
    double s[64];
    if (n < 1 || n > 64)
        return NAN;
    memcpy(s, v, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), bench__cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* "a,b,c" with `prec` decimals, into buf. */
static inline const char *bench_list(const double *v, int n, int prec, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%.*f", i ? "," : "", prec, v[i]);
    return buf;
}

/* ---- the real daemon, through the tests' harness (tests/e2e_harness.h) ---- */

/* A loopback port that was free a moment ago, or -1. */
static inline int bench_free_port(void)
{
    uint16_t p = 0;
    return e2e_free_port(&p, NULL, 0, NULL, 0) == MP_OK ? (int)p : -1;
}

/* GET http://127.0.0.1:port/path. Returns the status (0 when nothing
 * answered); *body (may be NULL) receives the malloc'd body, or NULL. */
static inline long bench_http_get(int port, const char *path, long timeout_ms, char **body)
{
    char url[512];
    long status = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    if (body)
        *body = NULL;
    if (e2e_http_get(url, (int)timeout_ms, &status, body) != MP_OK)
        return 0;
    return status;
}

/* Reads one metric (exact name, no labels) from the daemon; -1 when it
 * cannot. */
static inline double bench_daemon_metric(int http_port, const char *metric)
{
    char *body = NULL;
    double v = -1;
    if (bench_http_get(http_port, "/metrics", 2000, &body) == 200 &&
        e2e_metric_double(body, metric, &v) != MP_OK)
        v = -1;
    free(body);
    return v;
}

struct bench_daemon {
    char dir[E2E_PATH_MAX];              /* temporary directory: config, logs */
    char cfg[E2E_PATH_MAX + 32];
    char data_dir[E2E_PATH_MAX + 32];    /* where the daemon keeps its data */
    char log[E2E_PATH_MAX + 32];         /* the current (or last) daemon's stderr */
    char endpoint[64];                   /* tcp://127.0.0.1:port, its PULL endpoint */
    char router[64];                     /* its ingest.router, once bench_daemon_router() */
    char bin[E2E_PATH_MAX];
    int http_port;
    int starts;
    struct e2e_proc proc;                /* proc.pid: the daemon */
};

/* Makes a temp dir, picks free ports, writes a config for `workers` ingest
 * workers and `max_keys` keys with a dead webhook receiver (no alerts are
 * expected to be delivered; the sender just queues and retries). */
static inline int bench_daemon_prepare(struct bench_daemon *d, int workers, uint32_t max_keys,
                                       const char *log_level)
{
    char err[E2E_ERR_MAX], listen[32], url[64];
    uint16_t p[3];
    memset(d, 0, sizeof(*d));
    if (e2e_tmpdir_create("bench", d->dir, sizeof(d->dir), err, sizeof(err)) != MP_OK)
        goto fail;
    for (size_t i = 0; i < 3; i++)
        if (e2e_free_port(&p[i], p, i, err, sizeof(err)) != MP_OK)
            goto fail;
    d->http_port = p[1];
    snprintf(d->cfg, sizeof(d->cfg), "%s/mailpulse.yaml", d->dir);
    snprintf(d->log, sizeof(d->log), "%s/mailpulsed.err", d->dir);
    snprintf(d->data_dir, sizeof(d->data_dir), "%s/data", d->dir);
    snprintf(d->endpoint, sizeof(d->endpoint), "tcp://127.0.0.1:%u", (unsigned)p[0]);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)p[1]);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", (unsigned)p[2]);
    const struct e2e_receiver_conf rec[] = {{"bench", url, NULL}};
    const struct e2e_daemon_conf c = {.data_dir = d->data_dir, .pull = d->endpoint,
                                      .http_listen = listen, .workers = workers,
                                      .receivers = rec, .nreceivers = 1,
                                      .default_route = "bench", .log_level = log_level,
                                      .max_keys = max_keys};
    if (e2e_config_write(d->cfg, &c, err, sizeof(err)) == MP_OK)
        return 0;
fail:
    fprintf(stderr, "bench: %s\n", err);
    return -1;
}

/* Adds `ingest.router` on a free loopback port to the prepared config (the
 * harness writes the PULL endpoint only) and names it in d->router.
 * Returns 0 or -1. */
static inline int bench_daemon_router(struct bench_daemon *d)
{
    char err[E2E_ERR_MAX] = "", *text = NULL, *out = NULL;
    uint16_t port;
    const char *at;
    int rc = -1;
    if (e2e_free_port(&port, NULL, 0, err, sizeof(err)) != MP_OK ||
        e2e_read_file(d->cfg, &text, NULL) != MP_OK || !(at = strstr(text, "\ningest:\n")))
        goto out;
    snprintf(d->router, sizeof(d->router), "tcp://127.0.0.1:%u", (unsigned)port);
    int head = (int)(at - text) + (int)strlen("\ningest:\n");
    if (asprintf(&out, "%.*s  router: \"%s\"\n%s", head, text, d->router, text + head) > 0 &&
        e2e_write_file(d->cfg, out, err, sizeof(err)) == MP_OK)
        rc = 0;
out:
    if (rc != 0)
        fprintf(stderr, "bench: cannot add ingest.router to %s %s\n", d->cfg, err);
    free(text);
    free(out);
    return rc;
}

/* Starts $MP_BIN_DIR/mailpulsed (default ./bin) with the config; its stderr
 * goes to <dir>/mailpulsed.err, then mailpulsed-2.err... (d->log names the
 * current one). Returns 0 or -1. */
static inline int bench_daemon_exec(struct bench_daemon *d)
{
    char err[E2E_ERR_MAX], name[32];
    setenv("MP_BIN_DIR", "bin", 0);
    if (e2e_bin_path("mailpulsed", d->bin, sizeof(d->bin), err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "bench: %s (set MP_BIN_DIR)\n", err);
        return -1;
    }
    snprintf(name, sizeof(name), d->starts ? "mailpulsed-%d" : "mailpulsed", d->starts + 1);
    d->starts++;
    char *argv[] = {d->bin, "-c", d->cfg, NULL};
    if (e2e_spawn(&d->proc, name, d->dir, argv, err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "bench: %s\n", err);
        return -1;
    }
    snprintf(d->log, sizeof(d->log), "%s", d->proc.err_path);
    return 0;
}

/* Polls /healthz every poll_ms until 200; returns 0, or -1 after timeout_ms
 * or when the daemon exited. */
static inline int bench_daemon_wait_healthy(struct bench_daemon *d, int poll_ms, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (mp_mono_ns() < deadline) {
        if (bench_http_get(d->http_port, "/healthz", 200, NULL) == 200)
            return 0;
        if (!e2e_proc_running(&d->proc))
            return -1;
        usleep((useconds_t)poll_ms * 1000);
    }
    return -1;
}

/* SIGTERM and wait (blocking, so the time is exact); returns the seconds
 * the daemon took to exit. */
static inline double bench_daemon_stop(struct bench_daemon *d)
{
    if (!e2e_proc_running(&d->proc))
        return 0;
    int64_t t0 = mp_mono_ns();
    kill(d->proc.pid, SIGTERM);
    if (waitpid(d->proc.pid, &d->proc.status, 0) == d->proc.pid)
        d->proc.reaped = 1;
    return (double)(mp_mono_ns() - t0) / 1e9;
}

/* "persistence: …": the daemon's first log line that mentions its store
 * (needs log_level info), else a /metrics series that does, else
 * "not in this build". */
static inline void bench_daemon_persistence(struct bench_daemon *d, char *out, size_t len)
{
    static const char *const words[] = {"rocksdb", "store_", "persist"};
    snprintf(out, len, "not in this build");
    FILE *f = fopen(d->log, "r");
    char line[1024];
    while (f && fgets(line, sizeof(line), f)) {
        for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
            if (strcasestr(line, words[w])) {
                line[strcspn(line, "\n")] = '\0';
                const char *m = strstr(line, "msg=");
                snprintf(out, len, "yes, log: %.400s", m ? m + 4 : line);
                fclose(f);
                return;
            }
    }
    if (f)
        fclose(f);
    char *body = NULL;
    if (bench_http_get(d->http_port, "/metrics", 2000, &body) == 200 && body) {
        for (char *l = strtok(body, "\n"); l; l = strtok(NULL, "\n")) {
            if (l[0] == '#')
                continue;
            for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++)
                if (strcasestr(l, words[w])) {
                    snprintf(out, len, "yes, metrics: %.400s", l);
                    free(body);
                    return;
                }
        }
    }
    free(body);
}

/* Double quotes to single ones, so the text fits in key="…". */
static inline void bench_unquote(char *s)
{
    for (; *s; s++)
        if (*s == '"')
            *s = '\'';
}

/* Stops the daemon if it runs; removes the temp dir unless `keep`. */
static inline void bench_daemon_cleanup(struct bench_daemon *d, int keep)
{
    bench_daemon_stop(d);
    /* BENCH_KEEP=1: keep the daemon's directory (config, data, log) to read */
    if (!keep && getenv("BENCH_KEEP"))
        fprintf(stderr, "# daemon directory kept: %s\n", d->dir), keep = 1;
    if (!keep && d->dir[0])
        e2e_tmpdir_remove(d->dir);
}

#endif
