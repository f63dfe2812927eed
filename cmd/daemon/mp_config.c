/* mp_config.c — load and validate the daemon's YAML config (see mp_config.h).
 *
 * The YAML side (reading, keys, types, bounds, "file:line: key:" refusals)
 * is base/mp_yaml's walker over the tables below; what is left here is the
 * daemon's own: its defaults, paths resolved next to the file, the rules
 * file checked for readability at start-up, receivers and routes.
 *
 * Routes name receivers, so they can only be resolved once the whole
 * receivers list is known; the top-level walk therefore defers `routes` and
 * walks it after the rest, whatever order the file uses.
 */
#include "mp_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert_notify.h"
#include "eng_name.h"
#include "ingest_journal.h"
#include "ingest_validate.h"
#include "ingest_worker.h"
#include "mp_addr.h"
#include "mp_config_check.h"
#include "mp_config_curve.h"
#include "mp_config_adapters.h"
#include "mp_config_receivers.h"
#include "mp_config_route.h"
#include "mp_log.h"
#include "mp_yaml.h"

#define CFG__WORKERS_MAX 256
#define CFG__MAX_KEYS_MIN 1024u
#define CFG__MAX_KEYS_MAX (1u << 28)
#define CFG__MAX_KEYS_DEFAULT (1u << 20)
#define CFG__RETENTION_DEFAULT_MS ((int64_t)35 * 24 * 3600 * 1000)
#define CFG__DAY_MS ((int64_t)24 * 3600 * 1000)
#define CFG__30D_MS (30 * CFG__DAY_MS)
#define CFG__ENDPOINT "a zmq endpoint tcp://<host>:<port> or ipc://<path>"
#define CFG__DURATION "a duration such as 90s, 15m, 1h or 35d"
/* engine.retention: at least the 14 days of daily buckets the engine keeps
 * in memory and the rules read (windows and baselines up to 14d; the engine
 * refuses less than a day at start, and any retention under the longest
 * window would let rules read days the store has already dropped); at most
 * 400 days (13 months: a year over year, and far from any overflow of the
 * engine's day arithmetic). */
#define CFG__RETENTION_MIN_MS (14 * CFG__DAY_MS)
#define CFG__RETENTION_MAX_MS (400 * CFG__DAY_MS)
/* engine.hour_retention: hourly buckets kept in RocksDB for 1 h history
 * steps. Below the 25 h the hour ring holds it would keep nothing more;
 * the default week costs 168 entries per busy key against 35 daily ones. */
#define CFG__HOUR_RING_MS ((int64_t)25 * 3600 * 1000)
#define CFG__HOUR_RETENTION_DEFAULT_MS (7 * CFG__DAY_MS)
/* ingest.max_frame_bytes: a frame is decoded whole, at about 5x its size. */
#define CFG__FRAME_MIN 1024
#define CFG__FRAME_MAX (256 << 20)
#define CFG__BATCH_MAX 1000000

/* --- what a string value may be ------------------------------------------ */

/* Receiver and tenant names end up in URLs, logs and key prefixes, so they
 * are kept to the one small, unambiguous alphabet. */
/* alerting.external_url: http(s):// only (receivers' URLs are
 * mp_config_receivers.c's). */
static bool cfg__valid_url(const char *s)
{
    const char *host = NULL;
    if (strncasecmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        host = s + 8;
    return host && host[0] != '\0' && host[0] != '/' && mp_yaml_no_space(s);
}

static bool cfg__valid_name(const char *s) { return eng_name_valid(s, strlen(s)); }

static bool cfg__valid_log_level(const char *s)
{
    enum mp_log_level lvl;
    return mp_log_level_parse(s, &lvl) == 0;
}

static bool cfg__valid_log_format(const char *s)
{
    enum mp_log_format fmt;
    return mp_log_format_parse(s, &fmt) == 0;
}

/* A zmq endpoint the daemon can bind: "tcp://<host>:<port>" (port 0..65535
 * or *) or "ipc://<path>". Catches the common "127.0.0.1:7400" mistake, and
 * transports a PULL socket cannot bind (udp://, pgm://, a typo) that would
 * otherwise pass --check and fail at start; names are left to libzmq. */
static bool cfg__valid_endpoint(const char *s)
{
    if (!mp_yaml_no_space(s))
        return false;
    if (strncmp(s, "ipc://", 6) == 0)
        return s[6] != '\0';
    if (strncmp(s, "tcp://", 6) != 0)
        return false;
    const char *colon = strrchr(s + 6, ':'), *p;
    long port = 0;
    if (colon == NULL || colon == s + 6)
        return false;
    if (strcmp(colon + 1, "*") == 0)
        return true;
    for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
        port = port * 10 + (*p - '0');
    return p != colon + 1 && *p == '\0' && port <= 65535;
}

/* The one listen-address grammar, the one the HTTP server binds with. */
static bool cfg__valid_listen(const char *s)
{
    struct mp_addr a;
    return mp_addr_parse(s, &a, NULL, 0) == MP_OK;
}

/* --- handlers of the daemon's own ---------------------------------------- */

#define CFG__FIELD(base, k) ((char **)(void *)((char *)(base) + (k)->off))

static int cfg__data_dir(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    char **dst = CFG__FIELD(base, k), *abs = NULL;
    const char *s;
    int rc = mp_yaml_text(y, path, v, "a directory path", &s);
    if (rc != MP_OK)
        return rc;
    if (mp_yaml_resolve(y, s, &abs) != MP_OK)
        return mp_yaml_nomem(y, v, path);
    free(*dst);
    *dst = abs;
    return MP_OK;
}

/* The rules file is opened here, not at first use, so a typo in its name is
 * a refusal at start-up instead of a silently rule-less daemon. */
static int cfg__rules(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                      yaml_node_t *v, void *base)
{
    char **dst = CFG__FIELD(base, k), *abs = NULL;
    const char *s, *why = NULL;
    struct stat st;
    int rc = mp_yaml_text(y, path, v, "a file path", &s);
    if (rc != MP_OK)
        return rc;
    if (mp_yaml_resolve(y, s, &abs) != MP_OK)
        return mp_yaml_nomem(y, v, path);
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (fd >= 0)
        close(fd);
    if (why) {
        rc = mp_yaml_fail(y, v, path, "cannot read \"%s\": %s", abs, why);
        free(abs);
        return rc;
    }
    free(*dst);
    *dst = abs;
    return MP_OK;
}

/* A node of `type` ("expected <what>, got ..." otherwise) gets a zeroed
 * array of one element per item (left NULL when there are none). The count
 * is set with the array so mp_config_free() can release a partly filled
 * list on any later refusal. */
static int cfg__array(struct mp_yaml *y, yaml_node_t *v, const char *path, yaml_node_type_t type,
                      const char *what, size_t elem, void *arrp, size_t *n)
{
    char q[MP_YAML_QBUF];
    void *arr = NULL;
    if (v->type != type)
        return mp_yaml_fail(y, v, path, "expected %s, got %s", what, mp_yaml_quote(q, sizeof(q), v));
    if (mp_yaml_len(v) > 0 && (arr = calloc(mp_yaml_len(v), elem)) == NULL)
        return mp_yaml_nomem(y, v, path);
    memcpy(arrp, &arr, sizeof(arr));
    *n = mp_yaml_len(v);
    return MP_OK;
}

/* --- schema -------------------------------------------------------------- */

#define CF(f) MP_YAML_FIELD(struct mp_config, f)
/* The alerting knobs: a positive duration, at most 30 days. */
#define CFG__ALERTING(n, f)                                                            \
    {.name = (n), .type = MP_YAML_DURATION, CF(f), .min = 1, .max = CFG__30D_MS,       \
     .what = CFG__DURATION, .range = "a duration from 1ms to 30d"}

static const struct mp_yaml_key cfg__ingest_keys[] = {
    {.name = "pull", .type = MP_YAML_STR, CF(ingest_pull), .required = true,
     .check = cfg__valid_endpoint, .what = CFG__ENDPOINT},
    {.name = "router", .type = MP_YAML_STR, CF(ingest_router), .check = cfg__valid_endpoint,
     .what = CFG__ENDPOINT},
    {.name = "workers", .type = MP_YAML_INT, CF(workers), .min = 1, .max = CFG__WORKERS_MAX},
    {.name = "max_frame_bytes", .type = MP_YAML_INT, CF(max_frame_bytes), .min = CFG__FRAME_MIN,
     .max = CFG__FRAME_MAX},
    {.name = "max_batch_events", .type = MP_YAML_INT, CF(max_batch_events), .min = 1,
     .max = CFG__BATCH_MAX},
    /* acked ingest: idle producer ids are forgotten (memory and store) */
    {.name = "producer_ttl", .type = MP_YAML_DURATION, CF(producer_ttl_ms), .min = 60000,
     .max = CFG__RETENTION_MAX_MS, .what = CFG__DURATION,
     .range = "a duration from 1m to 400d"},
    {.name = "ack_max_pending", .type = MP_YAML_INT, CF(ack_max_pending), .min = 1,
     .max = INGEST_ACK_MAX_PENDING_MAX},
    {.name = "curve", .type = MP_YAML_FN, CF(curve), .fn = mp_config_curve},
    {0},
};

/* http: listen, tokens, metrics_open (mp_auth.h). A token is refused by its
 * key, never echoed: refusals reach terminals and logs. */
#define CFG__AUTH(base) (&((struct mp_config *)(base))->http_auth)

static int cfg__expected_kind(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what)
{
    return mp_yaml_fail(y, v, path, "expected %s, got %s", what,
                        mp_yaml_is_null(v) ? "null" : mp_yaml_kind(v));
}

static int cfg__token(struct mp_yaml *y, yaml_node_t *v, const char *path, char **dst)
{
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v))
        return cfg__expected_kind(y, v, path, "a token");
    const char *s = (const char *)v->data.scalar.value;
    if (strlen(s) != v->data.scalar.length || !mp_auth_token_valid(s))
        return mp_yaml_fail(y, v, path,
                            "expected a token of " MP_AUTH_TOKEN_SYNTAX " (value not shown)");
    char *c = strdup(s);
    if (!c)
        return mp_yaml_nomem(y, v, path);
    free(*dst);
    *dst = c;
    return MP_OK;
}

static int cfg__token_admin(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                            yaml_node_t *v, void *base)
{
    return cfg__token(y, v, path, &CFG__AUTH(base)->admin);
}

/* Key i of mapping v as a tenant name (ENG_NAME_GRAMMAR): a copy in
 * *tenant, and `path`.<tenant> in sub for what is under it. */
static int cfg__tenant_key(struct mp_yaml *y, yaml_node_t *v, const char *path, size_t i,
                           char **tenant, char sub[MP_YAML_PATH_MAX])
{
    char q[MP_YAML_QBUF];
    yaml_node_t *kn = mp_yaml_pair_key(y, v, i);
    const char *name = (const char *)kn->data.scalar.value;
    if (!cfg__valid_name(name))
        return mp_yaml_fail(y, kn, path, "invalid tenant name %s: expected " ENG_NAME_GRAMMAR,
                            mp_yaml_quote(q, sizeof(q), kn));
    if ((*tenant = strdup(name)) == NULL)
        return mp_yaml_nomem(y, kn, path);
    mp_yaml_join(sub, MP_YAML_PATH_MAX, path, name);
    return MP_OK;
}

static int cfg__token_tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct mp_auth_conf *a = CFG__AUTH(base);
    char sub[MP_YAML_PATH_MAX];
    const char *what = "a mapping of tenant name to token";
    if (v->type != YAML_MAPPING_NODE)
        return cfg__expected_kind(y, v, path, what);
    int rc = cfg__array(y, v, path, YAML_MAPPING_NODE, what, sizeof(*a->tenants), &a->tenants,
                        &a->n_tenants);
    if (rc != MP_OK || (rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; i < a->n_tenants; i++) {
        if ((rc = cfg__tenant_key(y, v, path, i, &a->tenants[i].tenant, sub)) != MP_OK)
            return rc;
        if ((rc = cfg__token(y, mp_yaml_pair_value(y, v, i), sub, &a->tenants[i].token)) != MP_OK)
            return rc;
    }
    return MP_OK;
}

static const struct mp_yaml_key cfg__token_keys[] = {
    {.name = "admin", .type = MP_YAML_FN, .fn = cfg__token_admin},
    {.name = "tenants", .type = MP_YAML_FN, .fn = cfg__token_tenants},
    {0},
};

static int cfg__tokens(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    if (v->type != YAML_MAPPING_NODE)
        return cfg__expected_kind(y, v, path, "a mapping with admin and/or tenants");
    return mp_yaml_walk(y, v, path, cfg__token_keys, base, NULL);
}

static const struct mp_yaml_key cfg__http_keys[] = {
    {.name = "listen", .type = MP_YAML_STR, CF(http_listen), .check = cfg__valid_listen,
     .what = MP_ADDR_SYNTAX},
    {.name = "tokens", .type = MP_YAML_FN, .fn = cfg__tokens},
    {.name = "metrics_open", .type = MP_YAML_BOOL, CF(http_auth.metrics_open)},
    {.name = "threads", .type = MP_YAML_INT, CF(http_opts.threads), .min = 1, .max = 64},
    {.name = "max_connections", .type = MP_YAML_INT, CF(http_opts.max_connections), .min = 64,
     .max = 65536},
    {.name = "max_connections_per_ip", .type = MP_YAML_INT, CF(http_opts.max_per_ip), .min = 1,
     .max = 65536},
    {.name = "timeout", .type = MP_YAML_DURATION, CF(http_opts.timeout_ms), .min = 1000,
     .max = 3600000, .what = CFG__DURATION, .range = "a duration from 1s to 1h"},
    {.name = "header_timeout", .type = MP_YAML_DURATION, CF(http_opts.header_timeout_ms),
     .min = 1000, .max = 3600000, .what = CFG__DURATION, .range = "a duration from 1s to 1h"},
    {0},
};

/* One token for two callers would make one of them the other: refused at
 * the second one's line, both named by key. */
static int cfg__tokens_distinct(struct mp_yaml *y, yaml_node_t *http, const struct mp_auth_conf *a)
{
    char path[MP_YAML_PATH_MAX], other[MP_YAML_PATH_MAX];
    yaml_node_t *tokens = mp_yaml_find(y, http, "tokens");
    yaml_node_t *tenants = tokens ? mp_yaml_find(y, tokens, "tenants") : NULL;
    for (size_t i = 0; i < a->n_tenants; i++) {
        const char *tok = a->tenants[i].token;
        for (size_t j = 0; j <= i; j++) {
            const char *prev = j < i ? a->tenants[j].token : a->admin;
            if (!prev || strcmp(prev, tok) != 0)
                continue;
            mp_yaml_join(path, sizeof(path), "http.tokens.tenants", a->tenants[i].tenant);
            if (j < i)
                mp_yaml_join(other, sizeof(other), "http.tokens.tenants", a->tenants[j].tenant);
            else
                snprintf(other, sizeof(other), "http.tokens.admin");
            yaml_node_t *at = tenants ? mp_yaml_find(y, tenants, a->tenants[i].tenant) : NULL;
            return mp_yaml_fail(y, at ? at : http, path,
                                "the same token as %s: every token must be different", other);
        }
    }
    return MP_OK;
}

/* The section, then what needs all of it: distinct tokens, and an open API
 * only on loopback (the check mp_api_start() makes too, so --check refuses
 * what a start would). */
static int cfg__http(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                     yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    char why[512];
    int rc = mp_yaml_walk(y, v, path, cfg__http_keys, base, NULL);
    if (rc == MP_OK)
        rc = cfg__tokens_distinct(y, v, &cfg->http_auth);
    if (rc == MP_OK && cfg->http_listen &&
        mp_auth_listen_check(cfg->http_listen, mp_auth_conf_has_tokens(&cfg->http_auth), why,
                             sizeof(why)) != MP_OK) {
        yaml_node_t *at = mp_yaml_find(y, v, "listen");
        rc = mp_yaml_fail(y, at ? at : v, "http.listen", "%s", why);
    }
    return rc;
}

/* flush_interval: how much a SIGKILL may lose in fire-and-forget mode, so
 * bounded: at least 100ms (flushing is a scan of every key), at most 60s.
 * evict_idle: "0s" turns eviction off; otherwise at least 1m, so a key is
 * not evicted between two batches of a slow sender. */
static const struct mp_yaml_key cfg__engine_keys[] = {
    {.name = "retention", .type = MP_YAML_DURATION, CF(retention_ms), .min = CFG__RETENTION_MIN_MS,
     .max = CFG__RETENTION_MAX_MS, .what = CFG__DURATION, .range = "a duration from 14d to 400d"},
    {.name = "max_keys", .type = MP_YAML_INT, CF(max_keys), .min = CFG__MAX_KEYS_MIN,
     .max = CFG__MAX_KEYS_MAX},
    {.name = "flush_interval", .type = MP_YAML_DURATION, CF(flush_interval_ms), .min = 100,
     .max = 60000, .what = CFG__DURATION, .range = "a duration from 100ms to 60s"},
    {.name = "evict_idle", .type = MP_YAML_DURATION, CF(evict_idle_ms), .min = 60000,
     .max = CFG__RETENTION_MAX_MS, .flags = MP_YAML_ZERO, .what = CFG__DURATION,
     .range = "0s (never) or a duration from 1m to 400d"},
    {.name = "hour_retention", .type = MP_YAML_DURATION, CF(hour_retention_ms),
     .min = CFG__HOUR_RING_MS, .max = CFG__RETENTION_MAX_MS, .flags = MP_YAML_ZERO,
     .what = CFG__DURATION, .range = "0s (the hour ring only) or a duration from 25h to 400d"},
    {0},
};

/* limits: (engine/eng_table.h, "Limits"). A cap is refused when it is
 * over half the key table: one tenant at its cap must leave room for the
 * others (the default, 100000 of 1048576 keys, is under a tenth). The rate
 * is bounded where the engine's GCRA interval (1e9 / rate ns) stays >= 100. */
#define CFG__LIMIT_KEYS_MAX (CFG__MAX_KEYS_MAX / 2)
#define CFG__LIMIT_EPS_MAX 10000000
#define CFG__LIMIT_KEYS_DEFAULT 100000u
#define CFG__LIMIT_UNSET UINT32_MAX /* tenant_max_keys not in the file */
#define LF(f) MP_YAML_FIELD(struct mp_tenant_limits_conf, f)
static const struct mp_yaml_key cfg__tenant_limit_keys[] = {
    {.name = "max_keys", .type = MP_YAML_INT, LF(max_keys), .min = 0, .max = CFG__LIMIT_KEYS_MAX,
     .mark = MP_LIMIT_SET_KEYS},
    {.name = "max_events_per_second", .type = MP_YAML_INT, LF(max_eps), .min = 0,
     .max = CFG__LIMIT_EPS_MAX, .mark = MP_LIMIT_SET_EPS},
    {0},
};

static int cfg__limit_tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct mp_limits_conf *l = &((struct mp_config *)base)->limits;
    char sub[MP_YAML_PATH_MAX];
    int rc = cfg__array(y, v, path, YAML_MAPPING_NODE, "a mapping of tenant name to limits",
                        sizeof(*l->tenants), &l->tenants, &l->n_tenants);
    if (rc != MP_OK || (rc = mp_yaml_check_keys(y, v, path)) != MP_OK)
        return rc;
    for (size_t i = 0; i < l->n_tenants; i++) {
        yaml_node_t *val = mp_yaml_pair_value(y, v, i);
        if ((rc = cfg__tenant_key(y, v, path, i, &l->tenants[i].tenant, sub)) != MP_OK)
            return rc;
        if (val->type != YAML_MAPPING_NODE)
            return cfg__expected_kind(y, val, sub,
                                      "a mapping with max_keys and/or max_events_per_second");
        if ((rc = mp_yaml_walk(y, val, sub, cfg__tenant_limit_keys, &l->tenants[i],
                               &l->tenants[i].set)) != MP_OK)
            return rc;
    }
    return MP_OK;
}

static const struct mp_yaml_key cfg__limits_keys[] = {
    {.name = "tenant_max_keys", .type = MP_YAML_INT, CF(limits.tenant_max_keys), .min = 0,
     .max = CFG__LIMIT_KEYS_MAX},
    {.name = "tenant_max_events_per_second", .type = MP_YAML_INT, CF(limits.tenant_max_eps),
     .min = 0, .max = CFG__LIMIT_EPS_MAX},
    {.name = "tenants", .type = MP_YAML_FN, .fn = cfg__limit_tenants},
    {0},
};

/* After the whole file (engine.retention may come later): hours are not
 * kept longer than days. */
static int cfg__hours_check(struct mp_yaml *y, yaml_node_t *root, const struct mp_config *cfg)
{
    if (cfg->hour_retention_ms <= cfg->retention_ms)
        return MP_OK;
    yaml_node_t *sec = mp_yaml_find(y, root, "engine");
    yaml_node_t *at = sec ? mp_yaml_find(y, sec, "hour_retention") : NULL;
    return mp_yaml_fail(y, at ? at : root, "engine.hour_retention",
                        "%lld h is longer than engine.retention (%lld d): hourly counts are "
                        "not kept longer than daily ones",
                        (long long)(cfg->hour_retention_ms / 3600000),
                        (long long)(cfg->retention_ms / CFG__DAY_MS));
}

/* After the whole file (engine.max_keys may come later): every key cap is
 * at most half the table, so one tenant never fills it; left out,
 * tenant_max_keys is 100000, or half the table when that is less. */
static int cfg__limits_check(struct mp_yaml *y, yaml_node_t *root, struct mp_config *cfg)
{
    struct mp_limits_conf *l = &cfg->limits;
    yaml_node_t *sec = mp_yaml_find(y, root, "limits"), *at;
    uint32_t half = cfg->max_keys / 2;
    char path[MP_YAML_PATH_MAX];
    if (l->tenant_max_keys == CFG__LIMIT_UNSET)
        l->tenant_max_keys = half < CFG__LIMIT_KEYS_DEFAULT ? half : CFG__LIMIT_KEYS_DEFAULT;
    if (l->tenant_max_keys > half) {
        at = sec ? mp_yaml_find(y, sec, "tenant_max_keys") : NULL;
        return mp_yaml_fail(y, at ? at : root, "limits.tenant_max_keys",
                            "%u is over half of engine.max_keys (%u): one tenant could fill the "
                            "key table; at most %u, or 0 for no cap",
                            (unsigned)l->tenant_max_keys, (unsigned)cfg->max_keys, (unsigned)half);
    }
    for (size_t i = 0; i < l->n_tenants; i++) {
        const struct mp_tenant_limits_conf *tl = &l->tenants[i];
        if (!(tl->set & MP_LIMIT_SET_KEYS) || tl->max_keys <= half)
            continue;
        yaml_node_t *tn = sec ? mp_yaml_find(y, sec, "tenants") : NULL;
        tn = tn ? mp_yaml_find(y, tn, tl->tenant) : NULL;
        at = tn ? mp_yaml_find(y, tn, "max_keys") : NULL;
        snprintf(path, sizeof(path), "limits.tenants.%s.max_keys", tl->tenant);
        return mp_yaml_fail(y, at ? at : root, path,
                            "%u is over half of engine.max_keys (%u): one tenant could fill the "
                            "key table; at most %u, or 0 for no cap",
                            (unsigned)tl->max_keys, (unsigned)cfg->max_keys, (unsigned)half);
    }
    return MP_OK;
}

int mp_config_limits_over(const struct mp_config *cfg, uint32_t most)
{
    const struct mp_limits_conf *l = &cfg->limits;
    int over = l->tenant_max_keys > most;
    for (size_t i = 0; i < l->n_tenants; i++)
        over |= (l->tenants[i].set & MP_LIMIT_SET_KEYS) && l->tenants[i].max_keys > most;
    return over;
}

void mp_config_tenant_limits(void *arg, const char *tenant, size_t len,
                             struct eng_tenant_limits *out)
{
    const struct mp_limits_conf *l = &((const struct mp_config *)arg)->limits;
    out->max_keys = l->tenant_max_keys;
    out->max_eps = l->tenant_max_eps;
    for (size_t i = 0; i < l->n_tenants; i++) {
        const struct mp_tenant_limits_conf *tl = &l->tenants[i];
        if (strlen(tl->tenant) != len || memcmp(tl->tenant, tenant, len) != 0)
            continue;
        if (tl->set & MP_LIMIT_SET_KEYS)
            out->max_keys = tl->max_keys;
        if (tl->set & MP_LIMIT_SET_EPS)
            out->max_eps = tl->max_eps;
        break;
    }
}

/* alerting.group_by: the labels alert_notify.h groups on (bit numbers of
 * ALERT_LABEL_*, as the SET row wants). */
static int cfg__group_label(const char *s, void *dst)
{
    unsigned bit = alert_label_bit(s);
    int n = 0;
    if (!bit)
        return -1;
    while (!(bit & 1u)) {
        bit >>= 1;
        n++;
    }
    *(int *)dst = n;
    return 0;
}

static const struct mp_yaml_key cfg__alerting_keys[] = {
    CFG__ALERTING("group_interval", group_interval_ms),
    CFG__ALERTING("retry_initial", retry_initial_ms),
    CFG__ALERTING("retry_max", retry_max_ms),
    CFG__ALERTING("max_age", outbox_max_age_ms),
    CFG__ALERTING("slack_interval", slack_interval_ms),
    CFG__ALERTING("timeout", webhook_timeout_ms),
    {.name = "group_by", .type = MP_YAML_SET, CF(group_by), .parse = cfg__group_label,
     .what = "labels (alertname, rule, tenant, mailbox, recipient_domain)"},
    {.name = "max_alerts", .type = MP_YAML_INT, CF(max_alerts), .min = 0, .max = 1000000},
    {.name = "external_url", .type = MP_YAML_STR, CF(external_url), .check = cfg__valid_url,
     .what = "an http:// or https:// URL"},
    {0},
};

static const struct mp_yaml_key cfg__route_keys[] = {
    {.name = "default", .type = MP_YAML_FN, .fn = mp_config_route_default},
    {.name = "tenants", .type = MP_YAML_FN, .fn = mp_config_route_tenants},
    {0},
};

static const struct mp_yaml_key cfg__dmarc_keys[] = {
    {.name = "tenant", .type = MP_YAML_STR, CF(dmarc_tenant), .check = cfg__valid_name,
     .what = "a tenant name (" ENG_NAME_GRAMMAR ")"},
    {.name = "retention_days", .type = MP_YAML_INT, CF(dmarc_retention_days), .min = 1,
     .max = 3650},
    {0},
};

/* ingest is not marked required: a missing ingest.pull is reported by name
 * after the walk, which reads better than "ingest: required key missing". */
static const struct mp_yaml_key cfg__top_keys[] = {
    {.name = "data_dir", .type = MP_YAML_FN, CF(data_dir), .fn = cfg__data_dir},
    {.name = "log_level", .type = MP_YAML_STR, CF(log_level), .check = cfg__valid_log_level,
     .what = "one of debug, info, warn, error"},
    {.name = "log_format", .type = MP_YAML_STR, CF(log_format), .check = cfg__valid_log_format,
     .what = "text or json"},
    {.name = "ingest", .type = MP_YAML_SECTION, .sub = cfg__ingest_keys},
    {.name = "http", .type = MP_YAML_FN, .fn = cfg__http},
    {.name = "engine", .type = MP_YAML_SECTION, .sub = cfg__engine_keys},
    {.name = "limits", .type = MP_YAML_SECTION, .sub = cfg__limits_keys},
    {.name = "providers", .type = MP_YAML_FN, CF(providers), .fn = mp_config_providers},
    {.name = "rules", .type = MP_YAML_FN, CF(rules_path), .fn = cfg__rules},
    {.name = "alerting", .type = MP_YAML_SECTION, .sub = cfg__alerting_keys},
    {.name = "gate", .type = MP_YAML_FN, CF(gate), .fn = mp_config_gate},
    {.name = "blocklists", .type = MP_YAML_FN, CF(dnsbl), .fn = mp_config_dnsbl},
    {.name = "receivers", .type = MP_YAML_FN, .fn = mp_config_receivers},
    {.name = "routes", .type = MP_YAML_DEFER},
    {.name = "adapters", .type = MP_YAML_FN, .fn = mp_config_adapters},
    {.name = "dmarc", .type = MP_YAML_SECTION, .sub = cfg__dmarc_keys},
    {0},
};

/* --- loading ------------------------------------------------------------- */

static void cfg__defaults(struct mp_config *cfg)
{
    cfg->retention_ms = CFG__RETENTION_DEFAULT_MS;
    cfg->max_keys = CFG__MAX_KEYS_DEFAULT;
    cfg->limits.tenant_max_keys = CFG__LIMIT_UNSET; /* cfg__limits_check sets the default */
    cfg->flush_interval_ms = 1000;
    cfg->max_frame_bytes = INGEST_MAX_FRAME_BYTES_DEFAULT;
    cfg->max_batch_events = INGEST_MAX_BATCH_EVENTS_DEFAULT;
    cfg->producer_ttl_ms = INGEST_PRODUCER_TTL_DEFAULT_MS;
    cfg->ack_max_pending = INGEST_ACK_MAX_PENDING_DEFAULT;
    cfg->evict_idle_ms = (int64_t)24 * 3600 * 1000;
    cfg->hour_retention_ms = CFG__HOUR_RETENTION_DEFAULT_MS;
    cfg->group_interval_ms = 1000;
    cfg->retry_initial_ms = 500;
    cfg->retry_max_ms = 60000;
    cfg->outbox_max_age_ms = (int64_t)24 * 3600 * 1000;
    cfg->slack_interval_ms = 1000;
    cfg->webhook_timeout_ms = 5000;
    cfg->group_by = ALERT_LABEL_TENANT;
    cfg->gate.cool_down_ms = MP_GATE_COOL_DOWN_DEFAULT_MS;
    mp_config_dnsbl_defaults(&cfg->dnsbl);
    cfg->http_opts = (struct mp_http_opts){
        .threads = MP_HTTP_THREADS_DEFAULT,
        .max_connections = MP_HTTP_MAX_CONN_DEFAULT,
        .max_per_ip = MP_HTTP_MAX_PER_IP_DEFAULT,
        .timeout_ms = MP_HTTP_TIMEOUT_MS_DEFAULT,
        .header_timeout_ms = MP_HTTP_HEADER_TIMEOUT_MS_DEFAULT};
    /* One worker per core, within the same range the key itself allows. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = cores < 1 ? 1 : cores > CFG__WORKERS_MAX ? CFG__WORKERS_MAX : (int)cores;
}

/* The walk of the whole file, then what only the whole file can tell. */
static int cfg__load(struct mp_yaml *y, struct mp_config *cfg)
{
    yaml_node_t *root = mp_yaml_root(y), *routes;
    int rc;
    if (root == NULL)
        return mp_yaml_fail_at(y, MP_ERR_PARSE, 1, MP_YAML_TOP,
                               "empty file, expected a mapping with at least ingest.pull");
    if ((rc = mp_yaml_walk(y, root, "", cfg__top_keys, cfg, NULL)) != MP_OK)
        return rc;
    routes = mp_yaml_find(y, root, "routes");
    if (routes && (rc = mp_yaml_walk(y, routes, "routes", cfg__route_keys, cfg, NULL)) != MP_OK)
        return rc;
    if ((rc = cfg__limits_check(y, root, cfg)) != MP_OK ||
        (rc = cfg__hours_check(y, root, cfg)) != MP_OK)
        return rc;
    if (cfg->ingest_pull == NULL)
        return mp_yaml_fail(y, root, "ingest.pull", "required key missing");
    if ((rc = mp_config_check_listeners(y, root, cfg)) != MP_OK)
        return rc;
    if (mp_config_check_warnings(y, root, cfg) != MP_OK)
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    if (cfg->data_dir == NULL && mp_yaml_resolve(y, "./data", &cfg->data_dir) != MP_OK)
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    if (cfg->log_level == NULL && (cfg->log_level = strdup("info")) == NULL)
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    return MP_OK;
}

int mp_config_load(const char *path, struct mp_config **out, char *err, size_t errlen)
{
    struct mp_yaml *y = NULL;
    struct mp_config *cfg = NULL;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (path == NULL || out == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "%s: mp_config_load: invalid argument", path ? path : "(null)");
        return MP_ERR_INVAL;
    }
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
        if (err && errlen)
            snprintf(err, errlen, "%s:1: " MP_YAML_TOP ": out of memory", path);
        rc = MP_ERR_NOMEM;
        goto out;
    }
    cfg__defaults(cfg);
    if ((rc = mp_yaml_open(path, &y, err, errlen)) != MP_OK ||
        (rc = cfg__load(y, cfg)) != MP_OK)
        goto out;
    *out = cfg;
    cfg = NULL;
out:
    mp_yaml_close(y);
    mp_config_free(cfg);
    return rc;
}

void mp_config_free(struct mp_config *cfg)
{
    if (cfg == NULL)
        return;
    /* The tables free the strings their rows stored; the rest is ours. */
    mp_yaml_free_strings(cfg__top_keys, cfg);
    mp_yaml_free_strings(cfg__http_keys, cfg); /* http is an FN row: not in the above */
    mp_auth_conf_free(&cfg->http_auth);
    ingest_curve_conf_free(&cfg->curve);
    mp_config_gate_free(&cfg->gate);
    mp_config_dnsbl_free(&cfg->dnsbl);
    mp_config_providers_free(&cfg->providers);
    mp_config_receivers_free(cfg);
    mp_config_adapters_free(cfg);
    free(cfg->path);
    free(cfg->warnings);
    free(cfg->data_dir);
    free(cfg->rules_path);
    free(cfg->default_route);
    mp_config_route_entries_free(cfg->default_entries, cfg->n_default_entries);
    for (size_t i = 0; i < cfg->n_routes; i++) {
        free(cfg->routes[i].tenant);
        free(cfg->routes[i].receivers);
        mp_config_route_entries_free(cfg->routes[i].entries, cfg->routes[i].n_entries);
    }
    free(cfg->routes);
    for (size_t i = 0; i < cfg->limits.n_tenants; i++)
        free(cfg->limits.tenants[i].tenant);
    free(cfg->limits.tenants);
    free(cfg);
}
