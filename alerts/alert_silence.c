/* alert_silence.c — silences (see alert_silence.h).
 *
 * The set is small (at most ALERT_SILENCES_MAX) and read far more often
 * than written, but each read is one alert's news at flush time, not one
 * event: a plain array behind one mutex is enough. Regexes are compiled
 * once, at put or load, so a match is regexec() only (glibc's regexec on a
 * shared regex_t is thread-safe).
 */
#include "alert_silence.h"

#include <jansson.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "alert_notify.h"
#include "mp_buf.h"
#include "mp_log.h"
#include "mp_matcher.h"
#include "mp_wake.h"

/* Stored in each matcher's JSON as isRegex/isEqual; the op numbers are ours. */
enum { OP_EQ = 0, OP_NE = 1, OP_RE = 2, OP_NRE = 3 };

struct matcher {
    char *name, *value;
    int op;
    int has_re;
    regex_t re;
};

struct silence {
    char id[ALERT_SILENCE_ID_LEN];
    struct matcher *m;
    size_t nm;
    int64_t starts_ms, ends_ms, updated_ms;
    char *created_by, *comment;
};

struct alert_silences {
    pthread_mutex_t mu; /* guards v, n */
    struct silence *v;
    size_t n, cap;
    struct eng_store *store;
    alert_silence_commit_fn commit;
    void *commit_arg;
    struct mp_watch watch; /* told of every change (the gate) */
};

void alert_silences_watch(struct alert_silences *ss, struct mp_wake *w)
{
    mp_watch_set(&ss->watch, w);
}

static void matcher__free(struct matcher *m)
{
    free(m->name);
    free(m->value);
    if (m->has_re)
        regfree(&m->re);
}

static void silence__free(struct silence *s)
{
    for (size_t i = 0; i < s->nm; i++)
        matcher__free(&s->m[i]);
    free(s->m);
    free(s->created_by);
    free(s->comment);
    memset(s, 0, sizeof(*s));
}

static int matcher__value_ok(const struct matcher *m, const char *v)
{
    int hit;
    if (m->op == OP_EQ || m->op == OP_NE)
        hit = strcmp(m->value, v) == 0;
    else
        hit = regexec(&m->re, v, 0, NULL, 0) == 0;
    return (m->op == OP_EQ || m->op == OP_RE) ? hit : !hit;
}

static const char *label__get(const struct alert_label *l, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(l[i].name, name) == 0)
            return l[i].value ? l[i].value : "";
    return "";
}

static int silence__matches(const struct silence *s, const struct alert_label *l, size_t n)
{
    for (size_t i = 0; i < s->nm; i++)
        if (!matcher__value_ok(&s->m[i], label__get(l, n, s->m[i].name)))
            return 0;
    return 1;
}

static const char *silence__state(const struct silence *s, int64_t now)
{
    return now < s->starts_ms ? "pending" : now < s->ends_ms ? "active" : "expired";
}

/* Whether s pins tenant `only` (a tenant="only" equality matcher). */
static int silence__pins(const struct silence *s, const char *only)
{
    for (size_t i = 0; i < s->nm; i++)
        if (s->m[i].op == OP_EQ && strcmp(s->m[i].name, "tenant") == 0 &&
            strcmp(s->m[i].value, only) == 0)
            return 1;
    return 0;
}

static int silence__visible(const struct silence *s, const char *only)
{
    return !only || silence__pins(s, only);
}

/* ---- parsing and validation ---- */

static int name__valid(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > ALERT_SILENCE_NAME_MAX || (n[0] >= '0' && n[0] <= '9'))
        return 0;
    return strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == len;
}

/* Fills m (name, value, op, compiled regex). MP_OK or MP_ERR_INVAL (err). */
static int matcher__init(struct matcher *m, const char *name, const char *value, int op,
                         char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->op = op;
    if (!name__valid(name)) {
        snprintf(err, errlen, "bad matcher name \"%.64s\": 1..%d of [a-zA-Z_][a-zA-Z0-9_]*",
                 name, ALERT_SILENCE_NAME_MAX);
        return MP_ERR_INVAL;
    }
    if (strlen(value) > ALERT_SILENCE_VALUE_MAX) {
        snprintf(err, errlen, "matcher %.64s: value longer than %d bytes", name,
                 ALERT_SILENCE_VALUE_MAX);
        return MP_ERR_INVAL;
    }
    if (op == OP_RE || op == OP_NRE) {
        /* Alertmanager anchors (RE2 ^(?:...)$): so do we, with a group */
        char *pat = malloc(strlen(value) + 5);
        if (!pat)
            return MP_ERR_NOMEM;
        sprintf(pat, "^(%s)$", value);
        int rc = regcomp(&m->re, pat, REG_EXTENDED | REG_NOSUB);
        free(pat);
        if (rc != 0) {
            char why[128];
            regerror(rc, &m->re, why, sizeof(why));
            snprintf(err, errlen, "matcher %.64s: bad regex \"%.64s\" (POSIX extended): %s",
                     name, value, why);
            return MP_ERR_INVAL;
        }
        m->has_re = 1;
    }
    if (!(m->name = strdup(name)) || !(m->value = strdup(value))) {
        matcher__free(m);
        memset(m, 0, sizeof(*m));
        return MP_ERR_NOMEM;
    }
    return MP_OK;
}

/* A JSON string member of o, or NULL when missing or not a string. */
static const char *json__str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int silence__matchers_in(struct silence *s, json_t *arr, char *err, size_t errlen)
{
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (n == 0 || n > ALERT_SILENCE_MATCHERS_MAX) {
        snprintf(err, errlen, "matchers: a list of 1..%d matchers {name, value, isRegex, isEqual}",
                 ALERT_SILENCE_MATCHERS_MAX);
        return MP_ERR_INVAL;
    }
    if (!(s->m = calloc(n, sizeof(*s->m))))
        return MP_ERR_NOMEM;
    int empty_all = 1;
    for (size_t i = 0; i < n; i++) {
        json_t *j = json_array_get(arr, i), *re = json_object_get(j, "isRegex"),
               *eq = json_object_get(j, "isEqual");
        const char *name = json__str(j, "name"), *value = json__str(j, "value");
        if (!name || !value || !json_is_boolean(re) || (eq && !json_is_boolean(eq))) {
            snprintf(err, errlen,
                     "matchers[%zu]: needs name and value (strings), isRegex (bool) and "
                     "optionally isEqual (bool)", i);
            return MP_ERR_INVAL;
        }
        int equal = !eq || json_is_true(eq);
        int op = json_is_true(re) ? (equal ? OP_RE : OP_NRE) : (equal ? OP_EQ : OP_NE);
        int rc = matcher__init(&s->m[i], name, value, op, err, errlen);
        if (rc != MP_OK)
            return rc;
        s->nm++;
        if (!matcher__value_ok(&s->m[i], ""))
            empty_all = 0;
    }
    if (empty_all) {
        snprintf(err, errlen, "at least one matcher must not match the empty string "
                              "(it would silence every alert)");
        return MP_ERR_INVAL;
    }
    return MP_OK;
}

static int text__in(json_t *o, const char *key, size_t max, char **out, char *err, size_t errlen)
{
    const char *v = json__str(o, key);
    if (!v || !*v || strlen(v) > max) {
        snprintf(err, errlen, "%s: a non-empty string of at most %zu bytes", key, max);
        return MP_ERR_INVAL;
    }
    return (*out = strdup(v)) ? MP_OK : MP_ERR_NOMEM;
}

/* Builds s from a postableSilence (or a stored silence: stored = 1 skips
 * the "not in the past" check and takes updatedAt). */
static int silence__from_json(struct silence *s, json_t *o, int stored, int64_t now, char *err,
                              size_t errlen)
{
    const char *sa = json__str(o, "startsAt"), *ea = json__str(o, "endsAt");
    int rc = silence__matchers_in(s, json_object_get(o, "matchers"), err, errlen);
    if (rc == MP_OK && (mp_time_parse(sa, &s->starts_ms) != MP_OK ||
                        mp_time_parse(ea, &s->ends_ms) != MP_OK)) {
        snprintf(err, errlen, "startsAt and endsAt: RFC 3339 times (2026-12-02T03:40:00Z)");
        rc = MP_ERR_INVAL;
    }
    if (rc == MP_OK && s->ends_ms <= s->starts_ms) {
        snprintf(err, errlen, "endsAt must be after startsAt");
        rc = MP_ERR_INVAL;
    }
    if (rc == MP_OK && !stored && s->ends_ms <= now) {
        snprintf(err, errlen, "endsAt is in the past");
        rc = MP_ERR_INVAL;
    }
    if (rc == MP_OK)
        rc = text__in(o, "createdBy", ALERT_SILENCE_AUTHOR_MAX, &s->created_by, err, errlen);
    if (rc == MP_OK)
        rc = text__in(o, "comment", ALERT_SILENCE_COMMENT_MAX, &s->comment, err, errlen);
    s->updated_ms = now;
    if (rc == MP_OK && stored &&
        mp_time_parse(json__str(o, "updatedAt"), &s->updated_ms) != MP_OK)
        s->updated_ms = now;
    return rc;
}

/* ---- JSON out ---- */

static void json__time(json_t *o, const char *key, int64_t ms)
{
    char ts[40];
    alert_format_time(ms, ts, sizeof(ts));
    json_object_set_new(o, key, json_string(ts));
}

static json_t *silence__json(const struct silence *s, int64_t now)
{
    json_t *o = json_object(), *ms = json_array();
    for (size_t i = 0; i < s->nm; i++) {
        const struct matcher *m = &s->m[i];
        json_array_append_new(
            ms, json_pack("{s:s, s:s, s:b, s:b}", "name", m->name, "value", m->value, "isRegex",
                          m->op == OP_RE || m->op == OP_NRE, "isEqual",
                          m->op == OP_EQ || m->op == OP_RE));
    }
    json_object_set_new(o, "id", json_string(s->id));
    json_object_set_new(o, "status", json_pack("{s:s}", "state", silence__state(s, now)));
    json__time(o, "updatedAt", s->updated_ms);
    json_object_set_new(o, "matchers", ms);
    json__time(o, "startsAt", s->starts_ms);
    json__time(o, "endsAt", s->ends_ms);
    json_object_set_new(o, "createdBy", json_string(s->created_by));
    json_object_set_new(o, "comment", json_string(s->comment));
    return o;
}

/* ---- the store ---- */

static int silences__commit(struct alert_silences *ss, struct eng_store_batch *b)
{
    return ss->commit ? ss->commit(ss->commit_arg, b) : eng_store_commit(ss->store, b, 0);
}

static void silence__key(const char *id, char key[ALERT_SILENCE_KEY_PREFIX_LEN + 40], size_t *kl)
{
    memcpy(key, ALERT_SILENCE_KEY_PREFIX, ALERT_SILENCE_KEY_PREFIX_LEN);
    size_t il = strlen(id);
    memcpy(key + ALERT_SILENCE_KEY_PREFIX_LEN, id, il);
    *kl = ALERT_SILENCE_KEY_PREFIX_LEN + il;
}

/* Writes s (or deletes it: s->nm == 0 marks a deletion of id) and drops
 * silences gone[0..ngone). Under mu: so writes land in the order made. */
static int silences__write(struct alert_silences *ss, const struct silence *s,
                           const char (*gone)[ALERT_SILENCE_ID_LEN], size_t ngone, int64_t now)
{
    if (!ss->store)
        return MP_OK;
    struct eng_store_batch *b = eng_store_batch_new(ss->store);
    char key[ALERT_SILENCE_KEY_PREFIX_LEN + 40];
    size_t kl;
    if (!b)
        return MP_ERR_NOMEM;
    int rc = MP_OK;
    if (s) {
        json_t *j = silence__json(s, now);
        char *v = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (!v) {
            eng_store_batch_free(b);
            return MP_ERR_NOMEM;
        }
        silence__key(s->id, key, &kl);
        eng_store_batch_kv_put(b, ENG_KV_ALERTS, key, kl, v, strlen(v));
        free(v);
    }
    for (size_t i = 0; i < ngone; i++) {
        silence__key(gone[i], key, &kl);
        eng_store_batch_kv_del(b, ENG_KV_ALERTS, key, kl);
    }
    rc = silences__commit(ss, b);
    eng_store_batch_free(b);
    return rc;
}

struct load_ctx {
    struct alert_silences *ss;
    size_t bad;
};

static int silences__load_one(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct load_ctx *c = arg;
    struct alert_silences *ss = c->ss;
    char err[256];
    json_t *o = json_loadb(v, vl, 0, NULL);
    struct silence s = {0};
    const char *id = json__str(o, "id");
    size_t idl = kl - ALERT_SILENCE_KEY_PREFIX_LEN;
    if (!id || strlen(id) != idl || idl >= ALERT_SILENCE_ID_LEN ||
        memcmp(id, k + ALERT_SILENCE_KEY_PREFIX_LEN, idl) != 0 ||
        silence__from_json(&s, o, 1, 0, err, sizeof(err)) != MP_OK ||
        MP_GROW(ss->v, ss->cap, ss->n + 1) != MP_OK) {
        mp_warn("alert_silence_unreadable key_len=%zu", kl);
        c->bad++;
        silence__free(&s);
        json_decref(o);
        return MP_OK;
    }
    memcpy(s.id, id, idl + 1);
    ss->v[ss->n++] = s;
    json_decref(o);
    return MP_OK;
}

int alert_silences_open(struct eng_store *store, alert_silence_commit_fn commit, void *arg,
                        struct alert_silences **out, char *err, size_t errlen)
{
    struct alert_silences *ss = calloc(1, sizeof(*ss));
    if (!ss) {
        snprintf(err, errlen, "silences: out of memory");
        return MP_ERR_NOMEM;
    }
    pthread_mutex_init(&ss->mu, NULL);
    mp_watch_init(&ss->watch);
    ss->store = store;
    ss->commit = commit;
    ss->commit_arg = arg;
    if (store) {
        struct load_ctx c = {.ss = ss};
        int rc = eng_store_kv_scan(store, ENG_KV_ALERTS, ALERT_SILENCE_KEY_PREFIX,
                                   ALERT_SILENCE_KEY_PREFIX_LEN, silences__load_one, &c);
        if (rc != MP_OK) {
            snprintf(err, errlen, "silences: cannot read the alerts store: %s", mp_strerror(rc));
            alert_silences_free(ss);
            return rc;
        }
        mp_info("alert_silences_restored silences=%zu unreadable=%zu", ss->n, c.bad);
    }
    *out = ss;
    return MP_OK;
}

void alert_silences_free(struct alert_silences *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->n; i++)
        silence__free(&ss->v[i]);
    free(ss->v);
    pthread_mutex_destroy(&ss->mu);
    mp_watch_destroy(&ss->watch);
    free(ss);
}

size_t alert_silence_count(struct alert_silences *ss)
{
    pthread_mutex_lock(&ss->mu);
    size_t n = ss->n;
    pthread_mutex_unlock(&ss->mu);
    return n;
}

/* ---- changes ---- */

static struct silence *silences__find(struct alert_silences *ss, const char *id)
{
    for (size_t i = 0; i < ss->n; i++)
        if (strcmp(ss->v[i].id, id) == 0)
            return &ss->v[i];
    return NULL;
}

static void silence__new_id(char id[ALERT_SILENCE_ID_LEN])
{
    unsigned char b[16] = {0};
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
        /* no entropy source: still unique enough within one process */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        memcpy(b, &ts, sizeof(ts) < sizeof(b) ? sizeof(ts) : sizeof(b));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(id, ALERT_SILENCE_ID_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* Under mu: removes silences expired longer than the retention ago; their
 * ids in gone (cap ALERT_SILENCES_MAX), count returned. */
static size_t silences__gc(struct alert_silences *ss, int64_t now,
                           char (*gone)[ALERT_SILENCE_ID_LEN])
{
    size_t ng = 0;
    for (size_t i = 0; i < ss->n;) {
        if (now - ss->v[i].ends_ms > ALERT_SILENCE_RETENTION_MS) {
            memcpy(gone[ng++], ss->v[i].id, ALERT_SILENCE_ID_LEN);
            silence__free(&ss->v[i]);
            ss->v[i] = ss->v[--ss->n];
            continue;
        }
        i++;
    }
    return ng;
}

/* Under mu: stores s (taking it) as new or in place of *old. */
static int silences__store(struct alert_silences *ss, struct silence *s, struct silence *old,
                           int64_t now, char *err, size_t errlen)
{
    char(*gone)[ALERT_SILENCE_ID_LEN] = malloc(ALERT_SILENCES_MAX * sizeof(*gone));
    if (!gone)
        return MP_ERR_NOMEM;
    size_t ng = silences__gc(ss, now, gone);
    if (old)
        old = silences__find(ss, s->id); /* gc may have moved it */
    int rc = MP_OK;
    if (!old && ss->n >= ALERT_SILENCES_MAX) {
        snprintf(err, errlen, "too many silences (%d kept, expired ones included); expire some",
                 ALERT_SILENCES_MAX);
        rc = MP_ERR_FULL;
    } else if (!old && MP_GROW(ss->v, ss->cap, ss->n + 1) != MP_OK) {
        rc = MP_ERR_NOMEM;
    } else if ((rc = silences__write(ss, s, (const char(*)[ALERT_SILENCE_ID_LEN])gone, ng,
                                     now)) != MP_OK) {
        snprintf(err, errlen, "cannot store the silence: %s", mp_strerror(rc));
    } else if (old) {
        silence__free(old);
        *old = *s;
    } else {
        ss->v[ss->n++] = *s;
    }
    free(gone);
    return rc;
}

int alert_silence_put_json(struct alert_silences *ss, const char *body, size_t len,
                           const char *only, int64_t now, char id_out[ALERT_SILENCE_ID_LEN],
                           char *err, size_t errlen)
{
    json_error_t je;
    struct silence s = {0};
    json_t *o = body ? json_loadb(body, len, 0, &je) : NULL;
    int rc = MP_OK;
    if (!json_is_object(o)) {
        snprintf(err, errlen, "the body must be a JSON object (a postableSilence)");
        rc = MP_ERR_INVAL;
    }
    if (rc == MP_OK)
        rc = silence__from_json(&s, o, 0, now, err, errlen);
    if (rc == MP_OK && only && !silence__pins(&s, only)) {
        snprintf(err, errlen, "a tenant token's silence must pin its tenant: add the matcher "
                              "tenant=\"%s\"", only);
        rc = MP_ERR_INVAL;
    }
    const char *id = rc == MP_OK ? json__str(o, "id") : NULL;
    pthread_mutex_lock(&ss->mu);
    struct silence *old = NULL;
    if (rc == MP_OK && id && *id) {
        old = silences__find(ss, id);
        if (!old || !silence__visible(old, only) || now >= old->ends_ms) {
            snprintf(err, errlen, "silence %.40s: no such silence (or it has expired)", id);
            rc = MP_ERR_NOTFOUND;
        } else {
            memcpy(s.id, old->id, ALERT_SILENCE_ID_LEN);
        }
    } else if (rc == MP_OK) {
        silence__new_id(s.id);
    }
    if (rc == MP_OK)
        rc = silences__store(ss, &s, old, now, err, errlen);
    if (rc == MP_OK)
        memcpy(id_out, s.id, ALERT_SILENCE_ID_LEN);
    pthread_mutex_unlock(&ss->mu);
    if (rc != MP_OK)
        silence__free(&s);
    else
        mp_watch_notify(&ss->watch);
    json_decref(o);
    return rc;
}

int alert_silence_expire(struct alert_silences *ss, const char *id, const char *only,
                         int64_t now)
{
    pthread_mutex_lock(&ss->mu);
    struct silence *s = silences__find(ss, id);
    int rc = MP_OK;
    if (!s || !silence__visible(s, only)) {
        rc = MP_ERR_NOTFOUND;
    } else if (now < s->ends_ms) {
        struct silence t = *s;
        t.ends_ms = now;
        if (t.starts_ms > now)
            t.starts_ms = now;
        t.updated_ms = now;
        if ((rc = silences__write(ss, &t, NULL, 0, now)) == MP_OK) {
            s->starts_ms = t.starts_ms;
            s->ends_ms = t.ends_ms;
            s->updated_ms = now;
            mp_info("alert_silence_expired id=%s", s->id);
        }
    }
    pthread_mutex_unlock(&ss->mu);
    if (rc == MP_OK)
        mp_watch_notify(&ss->watch);
    return rc;
}

int alert_silence_get_json(struct alert_silences *ss, const char *id, const char *only,
                           int64_t now, char **out)
{
    *out = NULL;
    pthread_mutex_lock(&ss->mu);
    struct silence *s = silences__find(ss, id);
    int seen = s && silence__visible(s, only);
    json_t *j = seen ? silence__json(s, now) : NULL;
    pthread_mutex_unlock(&ss->mu);
    if (!j)
        return seen ? MP_ERR_NOMEM : MP_ERR_NOTFOUND;
    *out = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return *out ? MP_OK : MP_ERR_NOMEM;
}

/* ---- matching ---- */

size_t alert_silence_mutes(struct alert_silences *ss, const struct alert_label *l, size_t n,
                           int64_t now, char (*ids)[ALERT_SILENCE_ID_LEN], size_t cap)
{
    size_t hits = 0;
    if (!ss)
        return 0;
    pthread_mutex_lock(&ss->mu);
    for (size_t i = 0; i < ss->n; i++) {
        const struct silence *s = &ss->v[i];
        if (now < s->starts_ms || now >= s->ends_ms || !silence__matches(s, l, n))
            continue;
        if (hits < cap)
            memcpy(ids[hits], s->id, ALERT_SILENCE_ID_LEN);
        hits++;
    }
    pthread_mutex_unlock(&ss->mu);
    return hits;
}

json_t *alert_silence_matching(struct alert_silences *ss, const struct alert_label *l, size_t n,
                               const char *only, int64_t now)
{
    json_t *arr = json_array();
    int ok = arr != NULL;
    pthread_mutex_lock(&ss->mu);
    for (size_t i = 0; ok && i < ss->n; i++) {
        const struct silence *s = &ss->v[i];
        if (silence__visible(s, only) && silence__matches(s, l, n))
            ok = json_array_append_new(arr, silence__json(s, now)) == 0;
    }
    pthread_mutex_unlock(&ss->mu);
    if (!ok) {
        json_decref(arr);
        arr = NULL;
    }
    return arr;
}

size_t alert_silence_labels(const struct alert_instance *a,
                            struct alert_label l[ALERT_SILENCE_LABELS_MAX])
{
    size_t n = 0;
    l[n++] = (struct alert_label){"alertname", a->rule->alertname};
    if (strcmp(a->rule->name, a->rule->alertname) != 0)
        l[n++] = (struct alert_label){"rule", a->rule->name};
    l[n++] = (struct alert_label){"severity", alert_severity_name(a->severity)};
    l[n++] = (struct alert_label){"tenant", a->tenant};
    if (a->mailbox)
        l[n++] = (struct alert_label){"mailbox", a->mailbox};
    if (a->domain)
        l[n++] = (struct alert_label){"recipient_domain", a->domain};
    if (a->provider)
        l[n++] = (struct alert_label){"provider", a->provider};
    if (a->campaign)
        l[n++] = (struct alert_label){"campaign", a->campaign};
    for (size_t x = 0; x < a->nlabels && n < ALERT_SILENCE_LABELS_MAX; x++)
        l[n++] = a->labels[x]; /* an external alert's (at most ALERT_EXT_LABELS_MAX) */
    return n;
}

int alert_silence_mutes_instance(struct alert_silences *s, const struct alert_instance *a,
                                 int64_t now)
{
    struct alert_label l[ALERT_SILENCE_LABELS_MAX];
    if (!s)
        return 0;
    return alert_silence_mutes(s, l, alert_silence_labels(a, l), now, NULL, 0) > 0;
}

/* Parses `name op value` (value optionally "quoted", with \" and \\). */
static int filter__parse(const char *f, struct matcher *m, char *err, size_t errlen)
{
    char name[ALERT_SILENCE_NAME_MAX + 1], *value = NULL;
    size_t nl = strspn(f, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    const char *p = f + nl;
    int op = -1;
    if (nl > 0 && nl <= ALERT_SILENCE_NAME_MAX) {
        op = strncmp(p, "=~", 2) == 0   ? OP_RE
             : strncmp(p, "!~", 2) == 0 ? OP_NRE
             : strncmp(p, "!=", 2) == 0 ? OP_NE
             : *p == '='                ? OP_EQ
                                        : -1;
    }
    if (op < 0) {
        snprintf(err, errlen, "bad matcher \"%.64s\": NAME=VALUE, NAME!=VALUE, NAME=~RE or "
                              "NAME!~RE", f);
        return MP_ERR_INVAL;
    }
    memcpy(name, f, nl);
    name[nl] = '\0';
    p += op == OP_EQ ? 1 : 2;
    if (!(value = mp_matcher_value(p)))
        return MP_ERR_NOMEM;
    int rc = matcher__init(m, name, value, op, err, errlen);
    free(value);
    return rc;
}

int alert_silence_filter_match(const char *filter, const struct alert_label *l, size_t n,
                               char *err, size_t errlen)
{
    struct matcher m;
    int rc = filter__parse(filter, &m, err, errlen);
    if (rc != MP_OK)
        return rc;
    rc = matcher__value_ok(&m, label__get(l, n, m.name));
    matcher__free(&m);
    return rc;
}

/* Whether silence s passes filter f: it has an equality matcher on f's
 * label whose value f accepts (Alertmanager's silence filter). */
static int silence__passes(const struct silence *s, const struct matcher *f)
{
    for (size_t i = 0; i < s->nm; i++)
        if (s->m[i].op == OP_EQ && strcmp(s->m[i].name, f->name) == 0 &&
            matcher__value_ok(f, s->m[i].value))
            return 1;
    return 0;
}

static int state__rank(const char *st)
{
    return st[0] == 'a' ? 0 : st[0] == 'p' ? 1 : 2;
}

struct list_row {
    int rank;
    int64_t at;
    json_t *j;
};

static int list__cmp(const void *x, const void *y)
{
    const struct list_row *a = x, *b = y;
    if (a->rank != b->rank)
        return a->rank - b->rank;
    /* active and pending: soonest end first; expired: latest end first */
    int64_t d = a->rank == 2 ? b->at - a->at : a->at - b->at;
    return d < 0 ? -1 : d > 0;
}

int alert_silence_list_json(struct alert_silences *ss, const char *const *filters, size_t nf,
                            const char *only, int64_t now, char **out, char *err,
                            size_t errlen)
{
    struct matcher *fm = calloc(nf ? nf : 1, sizeof(*fm));
    struct list_row *rows = NULL;
    size_t nrows = 0, nfm = 0;
    int rc = fm ? MP_OK : MP_ERR_NOMEM;
    *out = NULL;
    for (; rc == MP_OK && nfm < nf; nfm++)
        if ((rc = filter__parse(filters[nfm], &fm[nfm], err, errlen)) != MP_OK)
            break;
    pthread_mutex_lock(&ss->mu);
    if (rc == MP_OK && !(rows = calloc(ss->n ? ss->n : 1, sizeof(*rows))))
        rc = MP_ERR_NOMEM;
    for (size_t i = 0; rc == MP_OK && i < ss->n; i++) {
        const struct silence *s = &ss->v[i];
        size_t x = 0;
        while (x < nfm && silence__passes(s, &fm[x]))
            x++;
        if (x < nfm || !silence__visible(s, only))
            continue;
        rows[nrows] = (struct list_row){state__rank(silence__state(s, now)), s->ends_ms,
                                        silence__json(s, now)};
        nrows++;
    }
    pthread_mutex_unlock(&ss->mu);
    json_t *arr = json_array();
    if (rows)
        qsort(rows, nrows, sizeof(*rows), list__cmp);
    for (size_t i = 0; i < nrows; i++)
        json_array_append_new(arr, rows[i].j);
    if (rc == MP_OK && !(*out = json_dumps(arr, JSON_COMPACT)))
        rc = MP_ERR_NOMEM;
    json_decref(arr);
    free(rows);
    for (size_t i = 0; i < nfm; i++)
        matcher__free(&fm[i]);
    free(fm);
    return rc;
}
