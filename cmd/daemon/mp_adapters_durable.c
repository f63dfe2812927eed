/* mp_adapters_durable.c — the adapters' record path through the journal
 * (see mp_adapters_durable.h). */
#include "mp_adapters_durable.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mp_adapters_seen.h"
#include "mp_atomic.h"
#include "mp_log.h"

struct mp_adur {
    struct ingest_journal *j; /* NULL: memory only */
    struct eng_store *s;
    struct mp_seen *seen; /* memory only: the rows are its durable form */
    int64_t expired_ms;   /* the last range delete of past rows */
    struct mp_ratelimit rl; /* failed commits: one line in ten seconds */
    mp_atomic_u64 commits, failures, loaded;
};

static void adur__put_be(char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (char)(v >> (56 - 8 * i));
}

static uint64_t adur__get_be(const char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | (unsigned char)p[i];
    return v;
}

void mp_adur_row_key(uint64_t h, int64_t until, char k[MP_ADUR_ROW_KEY])
{
    k[0] = 'a';
    k[1] = 'd';
    adur__put_be(k + 2, (uint64_t)until);
    adur__put_be(k + 10, h);
}

/* ---- open ------------------------------------------------------------------ */

static int adur__read_seed(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    uint64_t *seed = arg;
    if (kl != 2 || vl != 8)
        return MP_ERR_PARSE;
    *seed = adur__get_be(v);
    return 1; /* found: stop */
}

struct adur__load {
    struct mp_adur *d;
    int64_t now;
};

static int adur__load_row(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct adur__load *l = arg;
    if (kl != MP_ADUR_ROW_KEY || vl == 0 || vl % 8 != 0) {
        mp_error("adapters_bad_dedup_row key_len=%zu value_len=%zu", kl, vl);
        return MP_ERR_PARSE;
    }
    int64_t until = (int64_t)adur__get_be(k + 2);
    if (until <= l->now)
        return MP_OK; /* past: the next expiry deletes it */
    for (size_t i = 0; i < vl / 8; i++) {
        uint64_t h = adur__get_be(v + 8 * i);
        if (mp_seen_reserve(l->d->seen, 1, l->now) != MP_OK)
            return MP_OK; /* over MP_SEEN_MAX: forgotten, as an expired id */
        mp_seen_put(l->d->seen, &h, &until, 1);
        mp_add_relaxed(&l->d->loaded, 1);
    }
    return MP_OK;
}

/* One row for h[0..n), which share `until`: "ad" + until + h[0] -> the
 * hashes (one row a request, not one an id: a memtable insert each). */
static int adur__put_row(struct eng_store_batch *b, const uint64_t *h, size_t n, int64_t until)
{
    char k[MP_ADUR_ROW_KEY], *v = malloc(8 * n);
    if (!v)
        return MP_ERR_NOMEM;
    mp_adur_row_key(h[0], until, k);
    for (size_t i = 0; i < n; i++)
        adur__put_be(v + 8 * i, h[i]);
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, k, sizeof(k), v, 8 * n);
    free(v);
    return MP_OK;
}

struct adur__import {
    struct eng_store_batch *b;
    struct mp_seen *into;
};

static int adur__import_one(void *arg, uint64_t h, int64_t until)
{
    struct adur__import *im = arg;
    mp_seen_put(im->into, &h, &until, 1);
    return adur__put_row(im->b, &h, 1, until);
}

/* First start with rows: the seed (and a legacy file's entries) in one
 * synced write; the legacy file goes only once that write is durable. */
static int adur__first(struct mp_adur *d, const char *legacy, int64_t now, char *err,
                       size_t errlen)
{
    struct mp_seen *old = NULL;
    int rc = MP_OK;
    if (legacy && access(legacy, F_OK) == 0 &&
        (rc = mp_seen_open(legacy, now, &old, err, errlen)) != MP_OK)
        return rc;
    struct eng_store_batch *b = eng_store_batch_new(d->s);
    if (!b) {
        mp_seen_close(old);
        return MP_ERR_NOMEM;
    }
    if (old) {
        mp_seen_reseed(d->seen, mp_seen_seed(old));
        struct adur__import im = {b, d->seen};
        rc = mp_seen_reserve(d->seen, mp_seen_count(old), now);
        if (rc == MP_OK)
            rc = mp_seen_each(old, now, adur__import_one, &im);
    }
    char sv[8];
    adur__put_be(sv, mp_seen_seed(d->seen));
    eng_store_batch_kv_put(b, ENG_KV_JOURNAL, "as", 2, sv, sizeof(sv));
    if (rc == MP_OK)
        rc = eng_store_commit(d->s, b, 1);
    eng_store_batch_free(b);
    if (rc != MP_OK)
        snprintf(err, errlen, "adapters: cannot store the dedup set: %s", mp_strerror(rc));
    if (rc == MP_OK && old) {
        mp_info("adapters_dedup_imported file=%s entries=%zu", MP_LOG_Q(legacy),
                mp_seen_count(d->seen));
        unlink(legacy);
    }
    mp_seen_close(old);
    return rc;
}

static int adur__load_all(struct mp_adur *d, const char *legacy, int64_t now, char *err,
                          size_t errlen)
{
    uint64_t seed = 0;
    int rc = eng_store_kv_scan(d->s, ENG_KV_JOURNAL, "as", 2, adur__read_seed, &seed);
    if (rc == 0)
        return adur__first(d, legacy, now, err, errlen);
    if (rc != 1) {
        snprintf(err, errlen, "adapters: cannot read the dedup seed: %s", mp_strerror(rc));
        return rc;
    }
    mp_seen_reseed(d->seen, seed);
    struct adur__load l = {d, now};
    if ((rc = eng_store_kv_scan(d->s, ENG_KV_JOURNAL, "ad", 2, adur__load_row, &l)) != MP_OK) {
        snprintf(err, errlen, "adapters: cannot read the dedup set: %s", mp_strerror(rc));
        return rc;
    }
    if (legacy && unlink(legacy) == 0) /* imported before a crash took the unlink */
        mp_info("adapters_dedup_legacy_removed file=%s", MP_LOG_Q(legacy));
    return MP_OK;
}

int mp_adur_open(struct ingest_journal *j, const char *legacy_path, int64_t now,
                 struct mp_adur **out, char *err, size_t errlen)
{
    struct mp_adur *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (!d)
        return MP_ERR_NOMEM;
    int rc = mp_seen_open(NULL, now, &d->seen, err, errlen);
    d->j = j;
    d->expired_ms = now;
    if (rc == MP_OK && j) {
        d->s = ingest_journal_store(j);
        rc = adur__load_all(d, legacy_path, now, err, errlen);
    }
    if (rc != MP_OK) {
        mp_adur_close(d);
        return rc;
    }
    *out = d;
    return MP_OK;
}

void mp_adur_close(struct mp_adur *d)
{
    if (!d)
        return;
    mp_seen_close(d->seen);
    free(d);
}

uint64_t mp_adur_seed(const struct mp_adur *d) { return mp_seen_seed(d->seen); }

int mp_adur_has(const struct mp_adur *d, uint64_t h, int64_t now)
{
    return mp_seen_has(d->seen, h, now);
}

/* ---- record ------------------------------------------------------------------ */

struct adur__rows {
    struct mp_adur *d;
    const uint64_t *h;
    const int64_t *until;
    size_t n;
    int64_t now;
};

/* The journal commit's extra rows: the dedup entries, and now and then the
 * deletion of those past. */
static int adur__rows(void *arg, struct eng_store_batch *b)
{
    struct adur__rows *r = arg;
    int rc = MP_OK;
    for (size_t i = 0, j; rc == MP_OK && i < r->n; i = j) {
        for (j = i + 1; j < r->n && r->until[j] == r->until[i]; j++)
            ; /* a run of one until: the request's ids, then its token */
        rc = adur__put_row(b, r->h + i, j - i, r->until[i]);
    }
    if (r->now - r->d->expired_ms >= MP_ADUR_EXPIRE_MS) {
        char hi[10] = {'a', 'd'};
        adur__put_be(hi + 2, (uint64_t)r->now); /* every row with until < now */
        eng_store_batch_kv_del_range(b, ENG_KV_JOURNAL, "ad", 2, hi, sizeof(hi));
        r->d->expired_ms = r->now;
    }
    return rc;
}

static void adur__apply(struct ingest_proc *p, const struct mp_adur_frame *f, size_t nf,
                        int64_t now, uint32_t *acc, uint32_t *rej)
{
    struct eng_thread *th = ingest_proc_thread(p);
    eng_thread_online(th);
    for (size_t i = 0; i < nf; i++) {
        uint32_t r = 0;
        *acc += ingest_proc_frame(p, f[i].wire, f[i].len, now, &r);
        *rej += r;
    }
    eng_thread_offline(th);
}

int mp_adur_record(struct mp_adur *d, struct ingest_proc *proc, const struct mp_adur_frame *f,
                   size_t nf, const uint64_t *h, const int64_t *until, size_t nh, int64_t now,
                   uint32_t *acc, uint32_t *rej)
{
    int rc = mp_seen_reserve(d->seen, nh, now);
    if (rc != MP_OK)
        return rc;
    if (!d->j) {
        adur__apply(proc, f, nf, now, acc, rej);
        mp_seen_put(d->seen, h, until, nh);
        return MP_OK;
    }
    struct ingest_journal_rec *recs = calloc(nf + 1, sizeof(*recs));
    if (!recs)
        return MP_ERR_NOMEM;
    for (size_t i = 0; i < nf; i++)
        recs[i] = (struct ingest_journal_rec){.frame = f[i].wire, .len = f[i].len,
                                              .recv_ms = now,
                                              .client = INGEST_JOURNAL_CLIENT_TRUSTED};
    struct adur__rows rows = {d, h, until, nh, now};
    int64_t expired = d->expired_ms;
    /* As the acked workers do: the shared lock from the commit through the
     * apply, so a flush's cut (exclusive) sees both or neither. */
    ingest_journal_lock(d->j);
    rc = ingest_journal_commit_with(d->j, recs, nf, adur__rows, &rows);
    if (rc == MP_OK)
        adur__apply(proc, f, nf, now, acc, rej);
    ingest_journal_unlock(d->j);
    free(recs);
    uint64_t suppressed;
    if (rc != MP_OK) {
        d->expired_ms = expired; /* the range delete was not written either */
        mp_add_relaxed(&d->failures, 1);
        if (mp_ratelimit_allow(&d->rl, now, 10000, &suppressed))
            mp_error("adapter_journal_commit_failed frames=%zu err=\"%s\" suppressed=%llu", nf,
                     mp_strerror(rc), (unsigned long long)suppressed);
        return rc;
    }
    mp_add_relaxed(&d->commits, 1);
    mp_seen_put(d->seen, h, until, nh);
    return MP_OK;
}

void mp_adur_figures(const struct mp_adur *d, struct mp_adur_figures *out)
{
    out->commits = mp_load_relaxed(&d->commits);
    out->commit_failures = mp_load_relaxed(&d->failures);
    out->rows_loaded = mp_load_relaxed(&d->loaded);
}

/* ---- packing ----------------------------------------------------------------- */

void mp_adur_frames_free(struct mp_adur_frame *f, size_t nf)
{
    for (size_t i = 0; f && i < nf; i++)
        free((void *)f[i].wire);
    free(f);
}

static int adur__pack_one(Mailpulse__V1__Event *const *ev, size_t n, const char *pid,
                          struct mp_adur_frame *out)
{
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    b.producer_id = (char *)pid;
    b.n_events = n;
    b.events = (Mailpulse__V1__Event **)ev;
    size_t len = mailpulse__v1__event_batch__get_packed_size(&b);
    uint8_t *wire = malloc(len ? len : 1);
    if (!wire)
        return MP_ERR_NOMEM;
    mailpulse__v1__event_batch__pack(&b, wire);
    *out = (struct mp_adur_frame){wire, len};
    return MP_OK;
}

int mp_adur_pack(Mailpulse__V1__Event *const *ev, size_t n, const char *pid,
                 const struct ingest_limits *lim, struct mp_adur_frame **f, size_t *nf)
{
    size_t max_bytes = lim->max_frame_bytes ? lim->max_frame_bytes
                                            : INGEST_MAX_FRAME_BYTES_DEFAULT;
    size_t max_ev = lim->max_batch_events ? lim->max_batch_events
                                          : INGEST_MAX_BATCH_EVENTS_DEFAULT;
    size_t head = strlen(pid) + 8; /* the producer_id field, generously */
    *f = calloc(n + 1, sizeof(**f)); /* at most one frame an event */
    *nf = 0;
    if (!*f)
        return MP_ERR_NOMEM;
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < n;) {
        size_t bytes = head, k = 0;
        /* each event: its bytes plus a tag and a length of up to 5 */
        while (i + k < n && k < max_ev) {
            size_t e = mailpulse__v1__event__get_packed_size(ev[i + k]) + 6;
            if (bytes + e > max_bytes)
                break;
            bytes += e;
            k++;
        }
        if (k == 0)
            rc = MP_ERR_INVAL; /* one event alone over the frame limit */
        else if ((rc = adur__pack_one(ev + i, k, pid, &(*f)[*nf])) == MP_OK)
            (*nf)++;
        i += k;
    }
    if (rc != MP_OK) {
        mp_adur_frames_free(*f, *nf);
        *f = NULL;
        *nf = 0;
    }
    return rc;
}
