/* alert_history.c — past alerts in the store (see alert_history.h). */
#include <stdlib.h>
#include <string.h>

#include "alert_history.h"
#include "eng_hash.h"
#include "eng_name.h"
#include "eng_types.h"

#define HIST_VER 1
#define HIST_HDR 6     /* ver, scope, event, pad, be16 name_len */
#define HIST_KEY_MAX (ENG_NAME_MAX + 1 + 8 + 4)
#define HOUR_MS (3600LL * 1000)

/* When each tenant was last pruned (hour number): open addressing. */
struct prune_slot {
    char *tenant;
    int64_t hour;
};

struct alert_history {
    int64_t retention_ms;
    uint64_t seed;
    uint32_t seq; /* orders entries of one millisecond */
    struct prune_slot *slots;
    size_t n, cap; /* cap: a power of two */
};

const char *alert_history_event_name(int ev)
{
    switch (ev) {
    case ALERT_HIST_FIRED: return "fired";
    case ALERT_HIST_SEVERITY: return "severity";
    case ALERT_HIST_RESOLVED: return "resolved";
    case ALERT_HIST_SILENCED: return "silenced";
    default: return NULL;
    }
}

int alert_history_new(int64_t retention_ms, struct alert_history **out)
{
    struct alert_history *h = calloc(1, sizeof(*h));
    if (!h)
        return MP_ERR_NOMEM;
    h->retention_ms = retention_ms > 0 ? retention_ms : ALERT_HISTORY_RETENTION_MS_DEFAULT;
    h->seed = eng_hash_seed();
    h->seq = (uint32_t)h->seed; /* a restart in the same millisecond keeps keys apart */
    *out = h;
    return MP_OK;
}

void alert_history_free(struct alert_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->cap; i++)
        free(h->slots[i].tenant);
    free(h->slots);
    free(h);
}

static void be_put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

/* tenant NUL be64(at) [be32(seq)]: the key, or its time prefix. */
static size_t hist_key(char *k, const char *tenant, int64_t at_ms, int with_seq, uint32_t seq)
{
    size_t tl = strlen(tenant);
    memcpy(k, tenant, tl + 1);
    be_put((unsigned char *)k + tl + 1, (uint64_t)(at_ms < 0 ? 0 : at_ms), 8);
    if (with_seq)
        be_put((unsigned char *)k + tl + 9, seq, 4);
    return tl + 9 + (with_seq ? 4 : 0);
}

/* The tenant's slot (found or empty); NULL when the table must grow. */
static struct prune_slot *prune_find(struct alert_history *h, const char *tenant)
{
    if (h->n * 2 >= h->cap)
        return NULL;
    size_t m = h->cap - 1, i = eng_hash_name(tenant, strlen(tenant), h->seed) & m;
    while (h->slots[i].tenant && strcmp(h->slots[i].tenant, tenant) != 0)
        i = (i + 1) & m;
    return &h->slots[i];
}

static int prune_grow(struct alert_history *h)
{
    size_t cap = h->cap ? h->cap * 2 : 64;
    struct prune_slot *old = h->slots, *ns = calloc(cap, sizeof(*ns));
    size_t ocap = h->cap;
    if (!ns)
        return MP_ERR_NOMEM;
    h->slots = ns;
    h->cap = cap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].tenant)
            continue;
        size_t j = eng_hash_name(old[i].tenant, strlen(old[i].tenant), h->seed) & (cap - 1);
        while (ns[j].tenant)
            j = (j + 1) & (cap - 1);
        ns[j] = old[i];
    }
    free(old);
    return MP_OK;
}

/* Deletes the tenant's entries older than the retention, once an hour. */
static int hist_prune(struct alert_history *h, struct eng_store_batch *b, const char *tenant,
                      int64_t at_ms)
{
    struct prune_slot *s = prune_find(h, tenant);
    if (!s) {
        if (prune_grow(h) != MP_OK)
            return MP_ERR_NOMEM;
        s = prune_find(h, tenant);
    }
    if (!s->tenant) {
        if (!(s->tenant = strdup(tenant)))
            return MP_ERR_NOMEM;
        h->n++;
        s->hour = -1;
    }
    if (s->hour == at_ms / HOUR_MS || at_ms <= h->retention_ms)
        return MP_OK;
    char lo[HIST_KEY_MAX], hi[HIST_KEY_MAX];
    size_t lol = hist_key(lo, tenant, 0, 0, 0);
    size_t hil = hist_key(hi, tenant, at_ms - h->retention_ms, 0, 0);
    eng_store_batch_kv_del_range(b, ENG_KV_HISTORY, lo, lol, hi, hil);
    s->hour = at_ms / HOUR_MS;
    return MP_OK;
}

/* The entry's JSON text (malloc'd), NULL when out of memory. */
static char *hist_entry(int ev, const struct alert_instance *a, int scope, const char *name,
                        const char *const *ids, size_t nids, int64_t at_ms)
{
    char ts[40];
    alert_format_time(at_ms, ts, sizeof(ts));
    json_t *o = json_object(), *al = alert_notify_alert_json(a), *sil = nids ? json_array() : NULL;
    char *txt = NULL;
    for (size_t i = 0; sil && i < nids; i++)
        json_array_append_new(sil, json_string(ids[i]));
    if (o && al && (!nids || sil) &&
        json_object_set_new(o, "at", json_string(ts)) == 0 &&
        json_object_set_new(o, "event", json_string(alert_history_event_name(ev))) == 0 &&
        json_object_set_new(o, "scope", scope == ALERT_HISTORY_EXTERNAL
                                            ? json_string("external")
                                            : json_string(eng_scope_name(scope))) == 0 &&
        json_object_set_new(o, "name", json_string(scope == ALERT_HISTORY_EXTERNAL ? "" : name)) ==
            0 &&
        (!sil || json_object_set(o, "silences", sil) == 0) &&
        json_object_set(o, "alert", al) == 0)
        txt = json_dumps(o, JSON_COMPACT);
    json_decref(sil);
    json_decref(al);
    json_decref(o);
    return txt;
}

int alert_history_add(struct alert_history *h, struct eng_store_batch *b, int ev,
                      const struct alert_instance *a, int scope, const char *name,
                      const char *const *silence_ids, size_t nids, int64_t at_ms)
{
    if (!a->tenant || !alert_history_event_name(ev))
        return MP_ERR_INVAL;
    if (scope == ALERT_HISTORY_EXTERNAL || !name)
        name = "";
    size_t nl = strlen(name) > 0xffff ? 0xffff : strlen(name);
    char *j = hist_entry(ev, a, scope, name, silence_ids, nids, at_ms);
    char *v = j ? malloc(HIST_HDR + nl + strlen(j)) : NULL;
    if (!v || hist_prune(h, b, a->tenant, at_ms) != MP_OK) {
        free(j);
        free(v);
        return MP_ERR_NOMEM;
    }
    unsigned char *u = (unsigned char *)v;
    u[0] = HIST_VER;
    u[1] = (unsigned char)scope;
    u[2] = (unsigned char)ev;
    u[3] = 0;
    be_put(u + 4, nl, 2);
    memcpy(v + HIST_HDR, name, nl);
    memcpy(v + HIST_HDR + nl, j, strlen(j));
    char k[HIST_KEY_MAX];
    size_t kl = hist_key(k, a->tenant, at_ms, 1, h->seq++);
    eng_store_batch_kv_put(b, ENG_KV_HISTORY, k, kl, v, HIST_HDR + nl + strlen(j));
    free(j);
    free(v);
    return MP_OK;
}

/* ---- reads ---- */

struct hist_read {
    const struct alert_history_query *q;
    json_t *list; /* newest first */
    size_t scanned, limit;
    int truncated, nomem;
};

/* 1 when entry json o's alertname label is `want`. */
static int hist_alertname_is(json_t *o, const char *want)
{
    json_t *l = json_object_get(json_object_get(json_object_get(o, "alert"), "labels"),
                                "alertname");
    return json_is_string(l) && strcmp(json_string_value(l), want) == 0;
}

static int hist_visit(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct hist_read *r = arg;
    const unsigned char *u = (const unsigned char *)v;
    (void)k;
    (void)kl;
    if (++r->scanned > ALERT_HISTORY_SCAN_MAX) {
        r->truncated = 1;
        return 1;
    }
    if (vl < HIST_HDR || u[0] != HIST_VER)
        return 0; /* a layout this build does not know: not shown */
    size_t nl = (size_t)u[4] << 8 | u[5];
    if (HIST_HDR + nl > vl)
        return 0;
    const struct alert_history_query *q = r->q;
    if (q->scope >= 0 && (u[1] != q->scope ||
                          (q->name && (strlen(q->name) != nl ||
                                       memcmp(q->name, v + HIST_HDR, nl) != 0))))
        return 0;
    json_t *o = json_loadb(v + HIST_HDR + nl, vl - HIST_HDR - nl, 0, NULL);
    if (!o)
        return 0;
    if (q->alertname && !hist_alertname_is(o, q->alertname)) {
        json_decref(o);
        return 0;
    }
    if (json_array_size(r->list) == r->limit) {
        json_decref(o);
        r->truncated = 1;
        return 1;
    }
    if (json_array_append_new(r->list, o) != 0) {
        r->nomem = 1;
        return 1;
    }
    return 0;
}

int alert_history_read(struct eng_store *s, const struct alert_history_query *q, json_t **out)
{
    char lo[HIST_KEY_MAX], hi[HIST_KEY_MAX];
    size_t lol = hist_key(lo, q->tenant, q->from_ms, 0, 0);
    /* to is inclusive: the bound is the next millisecond's prefix */
    size_t hil = hist_key(hi, q->tenant, q->to_ms + 1, 0, 0);
    struct hist_read r = {.q = q, .list = json_array(),
                          .limit = q->limit ? q->limit : ALERT_HISTORY_LIMIT_DEFAULT};
    json_t *o = json_object(), *asc = json_array();
    int rc = r.list && o && asc ? MP_OK : MP_ERR_NOMEM;
    if (rc == MP_OK) {
        rc = eng_store_kv_scan_back(s, ENG_KV_HISTORY, lo, lol, hi, hil, hist_visit, &r);
        rc = rc == 1 ? MP_OK : rc;
    }
    if (rc == MP_OK && r.nomem)
        rc = MP_ERR_NOMEM;
    for (size_t i = json_array_size(r.list); rc == MP_OK && i > 0; i--)
        if (json_array_append(asc, json_array_get(r.list, i - 1)) != 0)
            rc = MP_ERR_NOMEM;
    if (rc == MP_OK && (json_object_set_new(o, "truncated", json_boolean(r.truncated)) != 0 ||
                        json_object_set(o, "entries", asc) != 0))
        rc = MP_ERR_NOMEM;
    json_decref(r.list);
    json_decref(asc);
    if (rc != MP_OK) {
        json_decref(o);
        o = NULL;
    }
    *out = o;
    return rc;
}
