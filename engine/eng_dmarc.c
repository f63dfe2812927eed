/* eng_dmarc.c — see eng_dmarc.h.
 *
 * Layout in ENG_KV_DMARC:
 *   'c' tenant 0 day(4, big-endian) domain 0 provider 0 ip
 *       -> ENG_DMARC_NCOUNTS big-endian u64 (absolute values)
 *   'r' org_name 0 report_id -> tenant (the report was counted for it)
 * Tenant first, then the day: a tenant's window is one prefix scan that
 * stops past its last day, and its old days are one range delete. */
#include "eng_dmarc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"

#define DM_KEY_MAX 512
#define DM_VAL_LEN (ENG_DMARC_NCOUNTS * 8)

struct eng_dmarc {
    struct eng_store *s;
    int retention_days;
    pthread_mutex_t mu; /* one apply at a time: read, add, write */
};

int eng_dmarc_open(struct eng_store *s, int retention_days, struct eng_dmarc **out)
{
    struct eng_dmarc *d = calloc(1, sizeof(*d));
    if (!d)
        return MP_ERR_NOMEM;
    d->s = s;
    d->retention_days = retention_days > 0 ? retention_days : ENG_DMARC_RETENTION_DAYS_DEFAULT;
    pthread_mutex_init(&d->mu, NULL);
    *out = d;
    return MP_OK;
}

void eng_dmarc_close(struct eng_dmarc *d)
{
    if (!d)
        return;
    pthread_mutex_destroy(&d->mu);
    free(d);
}

static void dm__put_be(unsigned char *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t dm__get_be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* 'c' tenant 0 [day]: the tenant's prefix (with_day 0) or a day's. */
static size_t dm__tenant_key(unsigned char *k, const char *tenant, int with_day, int64_t day)
{
    size_t tl = strlen(tenant), n = 0;
    k[n++] = 'c';
    memcpy(k + n, tenant, tl);
    n += tl;
    k[n++] = 0;
    if (with_day) {
        dm__put_be(k + n, (uint64_t)(day < 0 ? 0 : day), 4);
        n += 4;
    }
    return n;
}

static size_t dm__row_key(unsigned char *k, const char *tenant, const struct eng_dmarc_row *r)
{
    size_t n = dm__tenant_key(k, tenant, 1, r->day);
    const char *parts[3] = {r->domain, r->provider, r->ip};
    for (int i = 0; i < 3; i++) {
        size_t l = strlen(parts[i]);
        memcpy(k + n, parts[i], l);
        n += l;
        if (i < 2)
            k[n++] = 0;
    }
    return n;
}

/* A row back from its key and value; -1 when either does not decode. */
static int dm__row_decode(const char *k, size_t kl, const char *v, size_t vl, size_t tlen,
                          struct eng_dmarc_row *r)
{
    const unsigned char *p = (const unsigned char *)k + 1 + tlen + 1;
    const unsigned char *end = (const unsigned char *)k + kl;
    if (vl != DM_VAL_LEN || p + 4 > end)
        return -1;
    r->day = (int64_t)dm__get_be(p, 4);
    p += 4;
    char *dst[3] = {r->domain, r->provider, r->ip};
    size_t cap[3] = {sizeof(r->domain), sizeof(r->provider), sizeof(r->ip)};
    for (int i = 0; i < 3; i++) {
        const unsigned char *z = i < 2 ? memchr(p, 0, (size_t)(end - p)) : end;
        if (!z || (size_t)(z - p) >= cap[i])
            return -1;
        memcpy(dst[i], p, (size_t)(z - p));
        dst[i][z - p] = '\0';
        p = z + (i < 2);
    }
    for (int i = 0; i < ENG_DMARC_NCOUNTS; i++)
        r->c[i] = dm__get_be((const unsigned char *)v + 8 * i, 8);
    return 0;
}

/* Exact-key read through the prefix scan (the store has no point get for
 * its kv families): the first entry is the key itself when it exists. */
struct dm_get {
    const unsigned char *k;
    size_t kl;
    char v[DM_VAL_LEN];
    size_t vl;
    int found;
};

static int dm__get_cb(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct dm_get *g = arg;
    if (kl == g->kl && memcmp(k, g->k, kl) == 0) {
        g->found = 1;
        g->vl = vl < sizeof(g->v) ? vl : sizeof(g->v);
        memcpy(g->v, v, g->vl);
    }
    return 1; /* the first entry decides */
}

static int dm__get(struct eng_dmarc *d, const unsigned char *k, size_t kl, struct dm_get *g)
{
    *g = (struct dm_get){.k = k, .kl = kl};
    int rc = eng_store_kv_scan(d->s, ENG_KV_DMARC, k, kl, dm__get_cb, g);
    return rc < 0 ? rc : MP_OK;
}

static size_t dm__seen_key(unsigned char *k, const char *org, const char *id)
{
    size_t ol = strlen(org), il = strlen(id);
    k[0] = 'r';
    memcpy(k + 1, org, ol);
    k[1 + ol] = 0;
    memcpy(k + 2 + ol, id, il);
    return 2 + ol + il;
}

int eng_dmarc_seen(struct eng_dmarc *d, const char *org, const char *report_id)
{
    unsigned char k[DM_KEY_MAX];
    if (strlen(org) + strlen(report_id) + 2 > sizeof(k))
        return MP_ERR_INVAL;
    struct dm_get g;
    int rc = dm__get(d, k, dm__seen_key(k, org, report_id), &g);
    return rc != MP_OK ? rc : g.found;
}

static int dm__row_ok(const struct eng_dmarc_row *r)
{
    return r->day >= 0 && r->day < (1LL << 32) && r->domain[0] && r->provider[0] && r->ip[0] &&
           memchr(r->domain, 0, sizeof(r->domain)) && memchr(r->provider, 0, sizeof(r->provider)) &&
           memchr(r->ip, 0, sizeof(r->ip));
}

/* Adds row r to what the store holds for its key, into batch b. A row
 * already added in this batch was merged by the caller. */
static int dm__add_row(struct eng_dmarc *d, struct eng_store_batch *b, const char *tenant,
                       const struct eng_dmarc_row *r)
{
    unsigned char k[DM_KEY_MAX], v[DM_VAL_LEN];
    size_t kl = dm__row_key(k, tenant, r);
    struct dm_get g;
    int rc = dm__get(d, k, kl, &g);
    if (rc != MP_OK)
        return rc;
    for (int i = 0; i < ENG_DMARC_NCOUNTS; i++) {
        uint64_t old = g.found && g.vl == DM_VAL_LEN
                           ? dm__get_be((const unsigned char *)g.v + 8 * i, 8) : 0;
        dm__put_be(v + 8 * i, old + r->c[i], 8);
    }
    eng_store_batch_kv_put(b, ENG_KV_DMARC, k, kl, v, sizeof(v));
    return MP_OK;
}

static int dm__cmp(const void *pa, const void *pb)
{
    const struct eng_dmarc_row *a = pa, *b = pb;
    int c;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if ((c = strcmp(a->domain, b->domain)) != 0 || (c = strcmp(a->provider, b->provider)) != 0)
        return c;
    return strcmp(a->ip, b->ip);
}

/* rows sorted by key and those with one key summed, into a fresh array
 * (*merged, *nm): O(n log n) for the largest reports. */
static int dm__merge(const struct eng_dmarc_row *rows, size_t n, struct eng_dmarc_row **merged,
                     size_t *nm, int64_t *newest)
{
    struct eng_dmarc_row *m = malloc((n ? n : 1) * sizeof(*m));
    if (!m)
        return MP_ERR_NOMEM;
    *newest = 0;
    for (size_t i = 0; i < n; i++) {
        if (!dm__row_ok(&rows[i])) {
            free(m);
            return MP_ERR_INVAL;
        }
        if (rows[i].day > *newest)
            *newest = rows[i].day;
    }
    if (n)
        memcpy(m, rows, n * sizeof(*m));
    qsort(m, n, sizeof(*m), dm__cmp);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k > 0 && dm__cmp(&m[k - 1], &m[i]) == 0) {
            for (int c = 0; c < ENG_DMARC_NCOUNTS; c++)
                m[k - 1].c[c] += m[i].c[c];
        } else {
            m[k++] = m[i];
        }
    }
    *merged = m;
    *nm = k;
    return MP_OK;
}

int eng_dmarc_apply(struct eng_dmarc *d, const char *org, const char *report_id,
                    const char *tenant, const struct eng_dmarc_row *rows, size_t n)
{
    unsigned char sk[DM_KEY_MAX];
    if (!eng_name_valid(tenant, strlen(tenant)) || !org[0] || !report_id[0] ||
        strlen(org) + strlen(report_id) + 2 > sizeof(sk))
        return MP_ERR_INVAL;
    struct eng_dmarc_row *m = NULL;
    size_t nm = 0;
    int64_t newest;
    int rc = dm__merge(rows, n, &m, &nm, &newest);
    if (rc != MP_OK)
        return rc;
    struct eng_store_batch *b = eng_store_batch_new(d->s);
    if (!b) {
        free(m);
        return MP_ERR_NOMEM;
    }
    pthread_mutex_lock(&d->mu);
    size_t skl = dm__seen_key(sk, org, report_id);
    struct dm_get g;
    rc = dm__get(d, sk, skl, &g);
    if (rc == MP_OK && g.found)
        rc = ENG_DMARC_DUP;
    for (size_t i = 0; rc == MP_OK && i < nm; i++)
        rc = dm__add_row(d, b, tenant, &m[i]);
    if (rc == MP_OK) {
        eng_store_batch_kv_put(b, ENG_KV_DMARC, sk, skl, tenant, strlen(tenant));
        if (newest > d->retention_days) {
            unsigned char lo[DM_KEY_MAX], hi[DM_KEY_MAX];
            size_t lol = dm__tenant_key(lo, tenant, 0, 0);
            size_t hil = dm__tenant_key(hi, tenant, 1, newest - d->retention_days);
            eng_store_batch_kv_del_range(b, ENG_KV_DMARC, lo, lol, hi, hil);
        }
        rc = eng_store_commit(d->s, b, 0);
    }
    pthread_mutex_unlock(&d->mu);
    eng_store_batch_free(b);
    free(m);
    return rc;
}

struct dm_scan {
    size_t tlen;
    int64_t lo, hi;
    int (*fn)(void *arg, const struct eng_dmarc_row *row);
    void *arg;
    int bad;
};

static int dm__scan_cb(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct dm_scan *s = arg;
    struct eng_dmarc_row r;
    if (dm__row_decode(k, kl, v, vl, s->tlen, &r) != 0) {
        s->bad = 1;
        return 1;
    }
    if (r.day > s->hi)
        return 2; /* past the window: the rest is later still */
    if (r.day < s->lo)
        return 0;
    return s->fn(s->arg, &r);
}

int eng_dmarc_scan(struct eng_dmarc *d, const char *tenant, int64_t day_lo, int64_t day_hi,
                   int (*fn)(void *arg, const struct eng_dmarc_row *row), void *arg)
{
    unsigned char k[DM_KEY_MAX];
    size_t tl = strlen(tenant);
    if (!eng_name_valid(tenant, tl))
        return MP_ERR_INVAL;
    struct dm_scan s = {.tlen = tl, .lo = day_lo, .hi = day_hi, .fn = fn, .arg = arg};
    int rc = eng_store_kv_scan(d->s, ENG_KV_DMARC, k, dm__tenant_key(k, tenant, 0, 0),
                               dm__scan_cb, &s);
    if (s.bad)
        return MP_ERR_PARSE;
    return rc == 2 ? MP_OK : rc;
}

struct dm_totals {
    const char *domain, *provider;
    uint64_t *out;
};

static int dm__totals_cb(void *arg, const struct eng_dmarc_row *r)
{
    struct dm_totals *t = arg;
    if ((t->domain && strcmp(t->domain, r->domain)) ||
        (t->provider && strcmp(t->provider, r->provider)))
        return 0;
    for (int i = 0; i < ENG_DMARC_NCOUNTS; i++)
        t->out[i] += r->c[i];
    return 0;
}

int eng_dmarc_totals(struct eng_dmarc *d, const char *tenant, const char *domain,
                     const char *provider, int64_t day_lo, int64_t day_hi,
                     uint64_t out[ENG_DMARC_NCOUNTS])
{
    memset(out, 0, ENG_DMARC_NCOUNTS * sizeof(out[0]));
    struct dm_totals t = {.domain = domain, .provider = provider, .out = out};
    return eng_dmarc_scan(d, tenant, day_lo, day_hi, dm__totals_cb, &t);
}

void eng_dmarc_provider(const char *org_name, char out[33])
{
    static const struct {
        const char *needle, *provider;
    } known[] = {{"google", "google"},   {"outlook", "microsoft"}, {"microsoft", "microsoft"},
                 {"hotmail", "microsoft"}, {"yahoo", "yahoo"},     {"aol", "yahoo"}};
    char low[129];
    size_t n = 0;
    for (; org_name[n] && n < sizeof(low) - 1; n++)
        low[n] = (char)tolower((unsigned char)org_name[n]);
    low[n] = '\0';
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strstr(low, known[i].needle)) {
            strcpy(out, known[i].provider);
            return;
        }
    /* Others by their own name in the provider grammar: [a-z0-9._-], a
     * run of anything else folded into one '-'. */
    size_t o = 0;
    for (size_t i = 0; low[i] && o < 32; i++) {
        char c = low[i];
        int ok = isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
        if (ok)
            out[o++] = c;
        else if (o > 0 && out[o - 1] != '-')
            out[o++] = '-';
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
    if (o == 0)
        strcpy(out, "other");
}

const char *eng_dmarc_count_name(int i)
{
    static const char *const names[ENG_DMARC_NCOUNTS] = {
        "messages",  "dmarc_pass", "dmarc_fail",      "dkim_pass",    "dkim_fail",
        "spf_pass",  "spf_fail",   "disposition_none", "disposition_quarantine",
        "disposition_reject"};
    return i >= 0 && i < ENG_DMARC_NCOUNTS ? names[i] : "unknown";
}
