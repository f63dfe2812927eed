/* mailpulsed — the mailpulse daemon: config, wiring, signals, HTTP API.
 *
 * Wiring, in start order: engine table -> sender -> evaluator -> ingest ->
 * HTTP. Stop runs the other way, so nothing is left writing into a part that
 * is gone: ingest drains its queue, the evaluator runs a last pass over what
 * was counted, the sender gets a few seconds to deliver what that raised.
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread (sigtimedwait), which also drives the engine's clock tick.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>
#include <curl/curl.h>
#include <jansson.h>

#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "eng_store.h"
#include "eng_table.h"
#include "mp_atomic.h"
#include "ingest_validate.h"
#include "ingest_worker.h"
#include "mp.h"
#include "mp_config.h"
#include "mp_http.h"
#include "mp_log.h"
#include "mp_stats.h"
#include "eng_name.h"

#define VERSION "0.1.0"

struct daemon {
    struct mp_config *cfg;
    int lock_fd;
    struct eng_store *store;
    /* Alert state, outbox and dead letters live in a RocksDB of their own:
     * a notification's write must not queue behind a counter flush's large
     * batch in a shared write path (measured: p99 crossing-to-webhook went
     * from ~5 ms to 20-35 ms, max 316 ms, under 200k events/s). */
    struct eng_store *astore;
    struct eng_table *table;
    void *zctx;
    struct alert_receiver *receivers;
    struct alert_sender *sender;
    struct alert_eval *eval;
    struct ingest *ingest;
    struct mp_http *http;
    int64_t started_ms;
    /* flush figures, written by the main thread, read by /metrics */
    mp_atomic_u64 flushes, flush_failures, flush_entries, flush_ns_total, flush_ns_last;
};

/* ---- HTTP handlers --------------------------------------------------------- */

static void http__healthz(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    MP_UNUSED(path);
    out->status = 200;
    out->content_type = "application/json";
    out->body = strdup("{\"status\":\"ok\"}");
    out->len = out->body ? strlen(out->body) : 0;
}

struct buf {
    char *p;
    size_t len, cap;
};

static void buf__printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf__printf(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
        char *np = realloc(b->p, cap);
        if (!np)
            return;
        b->p = np;
        b->cap = cap;
    }
}

static long daemon__rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void http__metrics(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(path);
    struct daemon *d = arg;
    struct buf b = {0};
    struct ingest_figures f;
    ingest_figures(d->ingest, &f);
    buf__printf(&b, "# HELP mailpulse_ingest_frames_total Frames received on the PULL endpoint.\n"
                    "# TYPE mailpulse_ingest_frames_total counter\n"
                    "mailpulse_ingest_frames_total %llu\n",
                (unsigned long long)f.frames);
    buf__printf(&b, "# HELP mailpulse_ingest_bytes_total Bytes received.\n"
                    "# TYPE mailpulse_ingest_bytes_total counter\n"
                    "mailpulse_ingest_bytes_total %llu\n",
                (unsigned long long)f.bytes);
    buf__printf(&b, "# HELP mailpulse_events_received_total Events decoded from batches.\n"
                    "# TYPE mailpulse_events_received_total counter\n"
                    "mailpulse_events_received_total %llu\n",
                (unsigned long long)f.events);
    buf__printf(&b, "# HELP mailpulse_events_accepted_total Events counted.\n"
                    "# TYPE mailpulse_events_accepted_total counter\n"
                    "mailpulse_events_accepted_total %llu\n",
                (unsigned long long)f.accepted);
    buf__printf(&b, "# HELP mailpulse_rejected_total Events (or whole frames, for bad_frame and "
                    "empty_batch) refused, by reason.\n"
                    "# TYPE mailpulse_rejected_total counter\n");
    for (int r = 1; r < INGEST_REASON_COUNT; r++)
        buf__printf(&b, "mailpulse_rejected_total{reason=\"%s\"} %llu\n", ingest_reason_name(r),
                    (unsigned long long)f.rejected[r]);
    buf__printf(&b, "# HELP mailpulse_keys Keys in the table (all scopes).\n"
                    "# TYPE mailpulse_keys gauge\n"
                    "mailpulse_keys %u\n",
                eng_table_nkeys(d->table));
    buf__printf(&b, "# HELP mailpulse_table_bytes Bytes held by the key table.\n"
                    "# TYPE mailpulse_table_bytes gauge\n"
                    "mailpulse_table_bytes %zu\n",
                eng_table_bytes(d->table));
    buf__printf(&b, "# HELP mailpulse_resident_bytes Resident set size of the daemon.\n"
                    "# TYPE mailpulse_resident_bytes gauge\n"
                    "mailpulse_resident_bytes %ld\n",
                daemon__rss_bytes());
    struct alert_eval_figures ef;
    alert_eval_figures(d->eval, &ef);
    buf__printf(&b, "# HELP mailpulse_alerts_firing Alerts firing now.\n"
                    "# TYPE mailpulse_alerts_firing gauge\n"
                    "mailpulse_alerts_firing %llu\n"
                    "# HELP mailpulse_alerts_pending Alerts over a threshold whose `for` runs.\n"
                    "# TYPE mailpulse_alerts_pending gauge\n"
                    "mailpulse_alerts_pending %llu\n"
                    "# HELP mailpulse_alerts_restored_total Alerts read back from the store at start.\n"
                    "# TYPE mailpulse_alerts_restored_total counter\n"
                    "mailpulse_alerts_restored_total %llu\n"
                    "# HELP mailpulse_alert_state_errors_total Alert state or outbox writes that failed.\n"
                    "# TYPE mailpulse_alert_state_errors_total counter\n"
                    "mailpulse_alert_state_errors_total %llu\n"
                    "# HELP mailpulse_rules_reloads_total Rule, receiver and route reloads applied.\n"
                    "# TYPE mailpulse_rules_reloads_total counter\n"
                    "mailpulse_rules_reloads_total %llu\n"
                    "# HELP mailpulse_keys_evaluated_total Key evaluations.\n"
                    "# TYPE mailpulse_keys_evaluated_total counter\n"
                    "mailpulse_keys_evaluated_total %llu\n"
                    "# HELP mailpulse_notifications_total Notifications handed to the sender.\n"
                    "# TYPE mailpulse_notifications_total counter\n"
                    "mailpulse_notifications_total %llu\n"
                    "# HELP mailpulse_alerts_unrouted_total Alerts of tenants with no receiver.\n"
                    "# TYPE mailpulse_alerts_unrouted_total counter\n"
                    "mailpulse_alerts_unrouted_total %llu\n"
                    "# HELP mailpulse_eval_deferred_total Key evaluations put off because a "
                    "batch was still being counted into the key.\n"
                    "# TYPE mailpulse_eval_deferred_total counter\n"
                    "mailpulse_eval_deferred_total %llu\n",
                (unsigned long long)ef.firing, (unsigned long long)ef.pending,
                (unsigned long long)ef.restored, (unsigned long long)ef.state_errors,
                (unsigned long long)ef.reloads, (unsigned long long)ef.keys_evaluated,
                (unsigned long long)ef.notifications, (unsigned long long)ef.unrouted,
                (unsigned long long)ef.unstable);
    struct alert_sender_figures sf;
    alert_sender_figures(d->sender, &sf);
    buf__printf(&b, "# HELP mailpulse_webhook_delivered_total Notifications answered with 2xx.\n"
                    "# TYPE mailpulse_webhook_delivered_total counter\n"
                    "mailpulse_webhook_delivered_total %llu\n"
                    "# HELP mailpulse_webhook_attempts_total HTTP attempts.\n"
                    "# TYPE mailpulse_webhook_attempts_total counter\n"
                    "mailpulse_webhook_attempts_total %llu\n"
                    "# HELP mailpulse_webhook_failed_attempts_total Attempts without a 2xx.\n"
                    "# TYPE mailpulse_webhook_failed_attempts_total counter\n"
                    "mailpulse_webhook_failed_attempts_total %llu\n"
                    "# HELP mailpulse_webhook_rate_limited_total Answers with 429.\n"
                    "# TYPE mailpulse_webhook_rate_limited_total counter\n"
                    "mailpulse_webhook_rate_limited_total %llu\n"
                    "# HELP mailpulse_slack_merged_total Slack notifications sent inside another's message.\n"
                    "# TYPE mailpulse_slack_merged_total counter\n"
                    "mailpulse_slack_merged_total %llu\n"
                    "# HELP mailpulse_dead_letters_total Notifications given up on since start.\n"
                    "# TYPE mailpulse_dead_letters_total counter\n"
                    "mailpulse_dead_letters_total %llu\n"
                    "# HELP mailpulse_dead_letters Dead letters held (GET /v1/alerts/dead).\n"
                    "# TYPE mailpulse_dead_letters gauge\n"
                    "mailpulse_dead_letters %llu\n"
                    "# HELP mailpulse_outbox_queued Notifications in the outbox, not yet delivered.\n"
                    "# TYPE mailpulse_outbox_queued gauge\n"
                    "mailpulse_outbox_queued %llu\n",
                (unsigned long long)sf.delivered, (unsigned long long)sf.attempts,
                (unsigned long long)sf.failed_attempts, (unsigned long long)sf.rate_limited,
                (unsigned long long)sf.merged, (unsigned long long)sf.dead,
                (unsigned long long)sf.dead_stored, (unsigned long long)sf.queued);
    buf__printf(&b, "# HELP mailpulse_store_flushes_total Flushes of changed counters to RocksDB.\n"
                    "# TYPE mailpulse_store_flushes_total counter\n"
                    "mailpulse_store_flushes_total %llu\n"
                    "# HELP mailpulse_store_flush_failures_total Flushes that failed.\n"
                    "# TYPE mailpulse_store_flush_failures_total counter\n"
                    "mailpulse_store_flush_failures_total %llu\n"
                    "# HELP mailpulse_store_flush_entries_total Store entries written by flushes.\n"
                    "# TYPE mailpulse_store_flush_entries_total counter\n"
                    "mailpulse_store_flush_entries_total %llu\n"
                    "# HELP mailpulse_store_flush_seconds_total Time spent flushing.\n"
                    "# TYPE mailpulse_store_flush_seconds_total counter\n"
                    "mailpulse_store_flush_seconds_total %.6f\n"
                    "# HELP mailpulse_store_flush_last_seconds Duration of the last flush.\n"
                    "# TYPE mailpulse_store_flush_last_seconds gauge\n"
                    "mailpulse_store_flush_last_seconds %.6f\n",
                (unsigned long long)mp_load_relaxed(&d->flushes),
                (unsigned long long)mp_load_relaxed(&d->flush_failures),
                (unsigned long long)mp_load_relaxed(&d->flush_entries),
                (double)mp_load_relaxed(&d->flush_ns_total) / 1e9,
                (double)mp_load_relaxed(&d->flush_ns_last) / 1e9);
    uint64_t cold, evictions, loads;
    eng_table_residency(d->table, &cold, &evictions, &loads);
    buf__printf(&b, "# HELP mailpulse_keys_cold Keys whose counters are only in the store (idle).\n"
                    "# TYPE mailpulse_keys_cold gauge\n"
                    "mailpulse_keys_cold %llu\n"
                    "# HELP mailpulse_key_evictions_total Idle keys that left memory.\n"
                    "# TYPE mailpulse_key_evictions_total counter\n"
                    "mailpulse_key_evictions_total %llu\n"
                    "# HELP mailpulse_key_loads_total Cold keys read back from the store.\n"
                    "# TYPE mailpulse_key_loads_total counter\n"
                    "mailpulse_key_loads_total %llu\n",
                (unsigned long long)cold, (unsigned long long)evictions,
                (unsigned long long)loads);
    buf__printf(&b, "# HELP mailpulse_counter_series Counter series in memory (key x event type).\n"
                    "# TYPE mailpulse_counter_series gauge\n"
                    "mailpulse_counter_series %llu\n",
                (unsigned long long)eng_table_nseries(d->table));
    buf__printf(&b, "# HELP mailpulse_uptime_seconds Seconds since start.\n"
                    "# TYPE mailpulse_uptime_seconds gauge\n"
                    "mailpulse_uptime_seconds %lld\n",
                (long long)((mp_now_ms() - d->started_ms) / 1000));
    out->status = b.p ? 200 : 500;
    out->content_type = "text/plain; version=0.0.4";
    out->body = b.p;
    out->len = b.len;
}

/* GET /v1/tenants/{tenant}/stats: the table is read lock-free (mp_stats.h). */
static void http__stats(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    struct daemon *d = arg;
    mp_stats_reply(d->table, req, out);
}

static void http__json_error(struct mp_http_reply *out, int status, const char *msg)
{
    json_t *o = json_pack("{s:s}", "error", msg);
    out->status = status;
    out->content_type = "application/json";
    out->body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    out->len = out->body ? strlen(out->body) : 0;
    json_decref(o);
}

/* Checks the query of /v1/alerts[/dead]: tenant=T (a valid tenant name) and,
 * where allowed, limit=N. Returns 0, or answers 400 and returns -1. */
static int http__alert_args(const struct mp_http_request *req, int allow_limit,
                            const char **tenant, size_t *limit, struct mp_http_reply *out)
{
    char msg[256];
    *tenant = NULL;
    *limit = 0;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *n = req->args[i].name, *v = req->args[i].value;
        if (strcmp(n, "tenant") == 0 && v && !*tenant && eng_name_valid(v, strlen(v))) {
            *tenant = v;
        } else if (allow_limit && strcmp(n, "limit") == 0 && v && *v &&
                   strspn(v, "0123456789") == strlen(v) && strlen(v) <= 6 && !*limit &&
                   atol(v) > 0) {
            *limit = (size_t)atol(v);
        } else {
            snprintf(msg, sizeof(msg),
                     "bad or repeated query parameter \"%.64s\"; allowed: tenant=NAME (1..64 of "
                     "A-Z a-z 0-9 . _ -)%s",
                     n,
                     allow_limit ? ", limit=1..999999" : "");
            http__json_error(out, 400, msg);
            return -1;
        }
    }
    return 0;
}

/* GET /v1/alerts[?tenant=T]: pending and firing alerts. */
static void http__alerts(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    struct daemon *d = arg;
    const char *tenant;
    size_t limit;
    if (strcmp(req->path, "/v1/alerts") != 0) {
        http__json_error(out, 404, "not found");
        return;
    }
    if (http__alert_args(req, 0, &tenant, &limit, out) != 0)
        return;
    out->body = alert_eval_active_json(d->eval, tenant);
    out->status = out->body ? 200 : 500;
    out->content_type = "application/json";
    out->len = out->body ? strlen(out->body) : 0;
}

/* GET /v1/alerts/dead[?tenant=T][&limit=N]: notifications given up on. */
static void http__dead(void *arg, const struct mp_http_request *req, struct mp_http_reply *out)
{
    struct daemon *d = arg;
    const char *tenant;
    size_t limit;
    if (http__alert_args(req, 1, &tenant, &limit, out) != 0)
        return;
    out->body = alert_sender_dead_json(d->sender, tenant, limit ? limit : 1000);
    out->status = out->body ? 200 : 500;
    out->content_type = "application/json";
    out->len = out->body ? strlen(out->body) : 0;
}

static const struct mp_http_route daemon__routes[] = {
    {"GET", "/healthz", http__healthz, 0, NULL},
    {"GET", "/metrics", http__metrics, 0, NULL},
    {"GET", MP_STATS_PREFIX, NULL, MP_HTTP_PREFIX, http__stats},
    {"GET", "/v1/alerts/dead", NULL, 0, http__dead},
    {"GET", "/v1/alerts", NULL, 0, http__alerts},
};

/* ---- start / stop ---------------------------------------------------------- */

static int daemon__data_dir(struct daemon *d, char *err, size_t errlen)
{
    const char *dir = d->cfg->data_dir;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: data_dir %s: %s", d->cfg->path, dir, strerror(errno));
        return MP_ERR_IO;
    }
    char lock[4096];
    snprintf(lock, sizeof(lock), "%s/LOCK.mailpulsed", dir);
    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (d->lock_fd < 0) {
        snprintf(err, errlen, "%s: data_dir %s: %s", d->cfg->path, dir, strerror(errno));
        return MP_ERR_IO;
    }
    /* One daemon per data directory: two would corrupt each other's state. */
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen, "data_dir %s is in use by another mailpulsed", dir);
        return MP_ERR_STATE;
    }
    return MP_OK;
}

/* Receivers as the alert side takes them; strings borrowed from `c`. */
static struct alert_receiver *daemon__receivers(const struct mp_config *c)
{
    struct alert_receiver *r = calloc(c->n_receivers ? c->n_receivers : 1, sizeof(*r));
    if (!r)
        return NULL;
    for (size_t i = 0; i < c->n_receivers; i++) {
        r[i].name = c->receivers[i].name;
        r[i].url = c->receivers[i].url;
        r[i].secret = c->receivers[i].secret;
        r[i].type = c->receivers[i].type == MP_RECEIVER_SLACK ? ALERT_RECEIVER_SLACK
                                                               : ALERT_RECEIVER_WEBHOOK;
    }
    return r;
}

static int daemon__alert_routes(const struct mp_config *c, struct alert_routes **out)
{
    struct alert_routes *routes = NULL;
    int rc = alert_routes_create(&routes);
    if (rc == MP_OK)
        rc = alert_routes_set_default(routes, c->default_route, c->n_default_route);
    for (size_t i = 0; rc == MP_OK && i < c->n_routes; i++)
        rc = alert_routes_add(routes, c->routes[i].tenant, c->routes[i].receivers,
                              c->routes[i].n);
    if (rc != MP_OK) {
        alert_routes_destroy(routes);
        return rc;
    }
    *out = routes;
    return MP_OK;
}

/* The rules file of `c`, or the defaults without one. */
static int daemon__rules(const struct mp_config *c, struct alert_ruleset **out, char *err,
                         size_t errlen)
{
    if (!c->rules_path) {
        int rc = alert_ruleset_defaults(out);
        if (rc != MP_OK)
            snprintf(err, errlen, "cannot build the default rules: %s", mp_strerror(rc));
        return rc;
    }
    return mp_config_load_rules(c->rules_path, out, err, errlen);
}

static int daemon__alerts(struct daemon *d, char *err, size_t errlen)
{
    const struct mp_config *c = d->cfg;
    struct alert_ruleset *rules = NULL;
    struct alert_routes *routes = NULL;
    int rc = daemon__rules(c, &rules, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (!(d->receivers = daemon__receivers(c)) || (rc = daemon__alert_routes(c, &routes)) != MP_OK) {
        alert_ruleset_free(rules);
        snprintf(err, errlen, "cannot start alerting: out of memory");
        return MP_ERR_NOMEM;
    }
    struct alert_sender_opts so = {.store = d->astore,
                                   .backoff_ms = c->retry_initial_ms,
                                   .backoff_max_ms = c->retry_max_ms,
                                   .timeout_ms = c->webhook_timeout_ms,
                                   .max_age_ms = c->outbox_max_age_ms,
                                   .slack_interval_ms = c->slack_interval_ms};
    if ((rc = alert_sender_start(d->receivers, c->n_receivers, &so, &d->sender)) != MP_OK) {
        alert_ruleset_free(rules);
        alert_routes_destroy(routes);
        snprintf(err, errlen, "cannot start alerting: %s", mp_strerror(rc));
        return rc;
    }
    size_t nrules = alert_ruleset_count(rules), nover = alert_ruleset_noverrides(rules);
    struct alert_eval_opts eo = {.rules = rules,
                                 .receivers = d->receivers,
                                 .nreceivers = c->n_receivers,
                                 .routes = routes,
                                 .max_keys = c->max_keys,
                                 .store = d->astore,
                                 .group_interval_ms = c->group_interval_ms};
    if ((rc = alert_eval_start(d->table, d->sender, &eo, &d->eval)) != MP_OK) {
        snprintf(err, errlen, "cannot start alerting: %s", mp_strerror(rc));
        return rc;
    }
    mp_info("alerting rules=%zu rules_file=%s tenants_with_overrides=%zu receivers=%zu", nrules,
            c->rules_path ? c->rules_path : "(built-in defaults)", nover, c->n_receivers);
    return MP_OK;
}

/* SIGHUP: rules, receivers and routes from the files on disk. Anything
 * invalid keeps the old ones and says why (file:line: key: ...). */
static void daemon__reload(struct daemon *d)
{
    char err[1024] = "";
    struct mp_config *nc = NULL;
    struct alert_ruleset *rules = NULL;
    struct alert_routes *routes = NULL;
    struct alert_receiver *rcv = NULL;
    if (mp_config_load(d->cfg->path, &nc, err, sizeof(err)) != MP_OK ||
        daemon__rules(nc, &rules, err, sizeof(err)) != MP_OK) {
        mp_error("reload_refused err=\"%s\" kept=\"the rules, receivers and routes in use\"",
                 err);
        goto out;
    }
    if (!(rcv = daemon__receivers(nc)) || daemon__alert_routes(nc, &routes) != MP_OK ||
        alert_sender_set_receivers(d->sender, rcv, nc->n_receivers) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        alert_ruleset_free(rules);
        alert_routes_destroy(routes);
        goto out;
    }
    size_t nrules = alert_ruleset_count(rules);
    if (alert_eval_reload(d->eval, rules, rcv, nc->n_receivers, routes) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        goto out;
    }
    mp_info("reloaded rules=%zu receivers=%zu routes=%zu rules_file=%s note=\"other settings "
            "apply at the next start\"",
            nrules, nc->n_receivers, nc->n_routes, nc->rules_path ? nc->rules_path : "(defaults)");
out:
    free(rcv);
    mp_config_free(nc);
}

/* How often idle keys are looked for (engine.evict_idle says which). */
#define DAEMON_EVICT_NS 10000000000LL

static void daemon__flush(struct daemon *d)
{
    int64_t t0 = mp_mono_ns();
    size_t n = 0;
    int rc = eng_table_flush(d->table, 0, &n);
    int64_t ns = mp_mono_ns() - t0;
    mp_add_relaxed(&d->flushes, 1);
    mp_add_relaxed(&d->flush_entries, n);
    mp_add_relaxed(&d->flush_ns_total, (uint64_t)ns);
    mp_store_relaxed(&d->flush_ns_last, (uint64_t)ns);
    if (rc != MP_OK) {
        mp_add_relaxed(&d->flush_failures, 1);
        mp_error("store_flush_failed err=\"%s\"", mp_strerror(rc));
    }
}

static void daemon__stop(struct daemon *d)
{
    mp_http_stop(d->http);
    ingest_stop(d->ingest);   /* drains frames already queued */
    alert_eval_stop(d->eval); /* last pass over what was counted */
    alert_sender_stop(d->sender, 3000);
    free(d->receivers);
    if (d->zctx)
        zmq_ctx_term(d->zctx);
    /* Everything counted is written, and the WAL synced, before we go:
     * after a SIGTERM a restart finds exactly these counts. */
    if (d->table && d->store) {
        size_t n = 0;
        int rc = eng_table_flush(d->table, 1, &n);
        if (rc == MP_OK)
            mp_info("store_final_flush entries=%zu", n);
        else
            mp_error("store_final_flush_failed err=\"%s\"", mp_strerror(rc));
    }
    eng_table_destroy(d->table);
    eng_store_close(d->store);
    eng_store_close(d->astore);
    if (d->lock_fd > 0)
        close(d->lock_fd);
    mp_config_free(d->cfg);
}

static int daemon__start(struct daemon *d, char *err, size_t errlen)
{
    int rc = daemon__data_dir(d, err, errlen);
    if (rc != MP_OK)
        return rc;
    char dbdir[4096];
    snprintf(dbdir, sizeof(dbdir), "%s/db", d->cfg->data_dir);
    if ((rc = eng_store_open(dbdir, &d->store, err, errlen)) != MP_OK)
        return rc;
    snprintf(dbdir, sizeof(dbdir), "%s/alerts", d->cfg->data_dir);
    if ((rc = eng_store_open(dbdir, &d->astore, err, errlen)) != MP_OK)
        return rc;
    struct eng_table_opts to = {.max_keys = d->cfg->max_keys,
                                .retention_ms = d->cfg->retention_ms,
                                .store = d->store,
                                .evict_idle_ms = d->cfg->evict_idle_ms};
    if ((rc = eng_table_create(&to, mp_now_ms(), &d->table)) != MP_OK) {
        snprintf(err, errlen, "cannot create key table (max_keys=%u) from %.256s/db: %s",
                 d->cfg->max_keys, d->cfg->data_dir, mp_strerror(rc));
        return rc;
    }
    if ((rc = daemon__alerts(d, err, errlen)) != MP_OK)
        return rc;
    d->zctx = zmq_ctx_new();
    if (!d->zctx) {
        snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    struct ingest_opts io = {
        .pull_endpoint = d->cfg->ingest_pull,
        .workers = d->cfg->workers,
        .limits = {.retention_ms = d->cfg->retention_ms, .future_ms = INGEST_FUTURE_MS_DEFAULT}};
    if ((rc = ingest_start(d->table, d->zctx, &io, &d->ingest, err, errlen)) != MP_OK)
        return rc;
    if (d->cfg->http_listen &&
        (rc = mp_http_start(d->cfg->http_listen, daemon__routes, MP_ARRAY_LEN(daemon__routes), d,
                            &d->http, err, errlen)) != MP_OK)
        return rc;
    return MP_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mailpulsed -c CONFIG [--check]\n"
               "\n"
               "The mailpulse daemon: counts delivery events received over ZeroMQ and posts\n"
               "alerts to webhooks when a tenant's rates cross a rule's threshold.\n"
               "\n"
               "  -c, --config FILE   the YAML config (see mailpulse.example.yaml)\n"
               "      --check         validate the config and exit\n"
               "  -V, --version       print the version and exit\n"
               "  -h, --help          this text\n"
               "\n"
               "Signals: SIGTERM or SIGINT stop cleanly (queued frames are counted first);\n"
               "SIGHUP reloads the rules file, receivers and routes (an invalid file keeps\n"
               "the ones in use and logs file:line: key: what is wrong).\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"check", no_argument, NULL, 'k'},
                                         {"version", no_argument, NULL, 'V'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL;
    int check = 0, ch;
    while ((ch = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config = optarg; break;
        case 'k': check = 1; break;
        case 'V': printf("mailpulsed %s\n", VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mailpulsed: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!config) {
        fprintf(stderr, "mailpulsed: -c CONFIG is required\n");
        usage(stderr);
        return 2;
    }
    char err[1024] = "";
    struct daemon d = {.lock_fd = -1, .started_ms = mp_now_ms()};
    if (mp_config_load(config, &d.cfg, err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "mailpulsed: config refused: %s\n", err);
        return 1;
    }
    enum mp_log_level lvl;
    if (mp_log_level_parse(d.cfg->log_level, &lvl) == 0)
        mp_log_set_level(lvl);
    if (check) {
        struct alert_ruleset *rules = NULL;
        int ok = daemon__rules(d.cfg, &rules, err, sizeof(err)) == MP_OK;
        if (ok)
            printf("%s: ok (%zu rules%s%s)\n", config, alert_ruleset_count(rules),
                   d.cfg->rules_path ? " from " : ", the defaults",
                   d.cfg->rules_path ? d.cfg->rules_path : "");
        else
            fprintf(stderr, "mailpulsed: rules refused: %s\n", err);
        alert_ruleset_free(rules);
        mp_config_free(d.cfg);
        return ok ? 0 : 1;
    }
    /* Block the signals we handle in every thread started from here on. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    int rc = daemon__start(&d, err, sizeof(err));
    if (rc != MP_OK) {
        mp_error("start_failed err=\"%s\"", err);
        fprintf(stderr, "mailpulsed: %s\n", err);
        daemon__stop(&d);
        curl_global_cleanup();
        return 1;
    }
    mp_info("started version=%s pull=%s http=%s workers=%d data_dir=%s receivers=%zu",
            VERSION, d.cfg->ingest_pull, d.cfg->http_listen ? d.cfg->http_listen : "-",
            d.cfg->workers, d.cfg->data_dir, d.cfg->n_receivers);

    /* Fire-and-forget ingest can lose at most the flush interval on a
     * SIGKILL: counts added since the last flush live only in memory. */
    const int64_t flush_ns = d.cfg->flush_interval_ms * 1000000;
    int64_t next_flush = mp_mono_ns() + flush_ns, next_evict = mp_mono_ns() + DAEMON_EVICT_NS;
    for (;;) {
        struct timespec tmo = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tmo);
        if (sig == SIGTERM || sig == SIGINT) {
            mp_info("stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
            break;
        }
        if (sig == SIGHUP)
            daemon__reload(&d);
        eng_table_tick(d.table, mp_now_ms());
        if (mp_mono_ns() >= next_flush) {
            daemon__flush(&d);
            next_flush = mp_mono_ns() + flush_ns;
        }
        if (mp_mono_ns() >= next_evict) {
            size_t n = eng_table_evict(d.table, mp_now_ms());
            if (n)
                mp_info("keys_evicted count=%zu idle_ms=%lld", n,
                        (long long)d.cfg->evict_idle_ms);
            next_evict = mp_mono_ns() + DAEMON_EVICT_NS;
        }
    }
    daemon__stop(&d);
    curl_global_cleanup();
    mp_info("stopped");
    return 0;
}
