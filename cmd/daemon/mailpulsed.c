/* mailpulsed — the mailpulse daemon's wiring: config, start and stop order,
 * signals and the main loop. What it serves lives in modules of its own:
 * the HTTP API in mp_api (handlers) over mp_http (the server), /metrics in
 * mp_metrics, the stats JSON in mp_stats, the config in mp_config.
 *
 * Wiring, in start order: engine table -> journal -> ingest (which replays
 * the journal first) -> sender -> evaluator (restoring alert states against
 * the replayed counts) -> send gate -> blocklist checker (mp_dnsbl) -> HTTP. Stop runs ingest first, so nothing is left
 * writing into a part that is gone: ingest drains its queue, the evaluator runs a last pass over what
 * was counted, the sender gets a few seconds to deliver what that raised.
 *
 * Signals are blocked in every thread and taken synchronously by the main
 * thread (sigtimedwait), which also drives the engine's clock tick, the
 * store flushes and the idle-key eviction: SIGTERM or SIGINT stop, SIGHUP
 * reloads the rules, receivers, routes, blocklists and adapters. The files
 * are parsed on a reload thread of their own (so a flush is never held back
 * by a parse) and swapped in by the main thread, only when valid.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>
#include <curl/curl.h>

#include "alert_dmarc.h"
#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_rules_file.h"
#include "alert_sender.h"
#include "eng_store.h"
#include "eng_table.h"
#include "ingest_journal.h"
#include "ingest_validate.h"
#include "ingest_worker.h"
#include "mp.h"
#include "mp_alert_conf.h"
#include "mp_api.h"
#include "mp_config.h"
#include "mp_dmarc_rules.h"
#include "mp_dnsbl.h"
#include "mp_http.h"
#include "mp_log.h"
#include "mp_metrics.h"
#include "mp_pidfile.h"
#include "mp_thread.h"

#define VERSION MP_VERSION

struct daemon {
    struct mp_config *cfg;
    int lock_fd;
    struct mp_ratelimit flush_rl; /* failed periodic flushes: one log line in ten seconds */
    struct eng_store *store;
    /* Alert state, outbox and dead letters live in a RocksDB of their own:
     * a notification's write must not queue behind a counter flush's large
     * batch in a shared write path (measured: p99 crossing-to-webhook went
     * from ~5 ms to 20-35 ms, max 316 ms, under 200k events/s). */
    struct eng_store *astore;
    struct eng_table *table;
    struct mp_config *limits_cfg; /* whose limits: the table reads (cfg until a SIGHUP) */
    void *zctx;
    struct alert_receiver *receivers;
    struct alert_sender *sender;
    struct alert_eval *eval;
    struct alert_silences *silences;
    struct mp_gate *gate; /* the send gate, over the evaluator (mp_gate.h) */
    struct mp_dnsbl *dnsbl; /* the blocklist checker (mp_dnsbl.h); NULL: none configured */
    struct alert_ruleset *dmarc_set;    /* the DMARC rules until the runner takes them */
    struct mp_dmarc_rules *dmarc_rules; /* the DMARC rules at work; NULL: no store */
    struct ingest *ingest;
    /* The acked path's journal and the producer tables: opened after the
     * table (it installs the flush hook), closed after the final flush. */
    struct ingest_journal *journal;
    struct eng_store *jstore; /* the journal's entries (data_dir/journal) */
    struct mp_api *http;
    struct mp_auth *auth; /* the API's tokens (mp_auth.h), from http.tokens */
    int64_t started_ms;
    struct mp_metrics_flush flush; /* written by the main thread, read by /metrics */
    struct mp_metrics_sources api; /* what the HTTP handlers read (mp_api.h) */
    char pid_path[4096];           /* the pid file written at start; "" before */
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

/* Silences commit through the sender, which serializes the commits to the
 * alerts store it shares with the evaluator (alert_silence.h). */
static int daemon__silence_commit(void *arg, struct eng_store_batch *b)
{
    return alert_sender_submit(arg, NULL, 0, b);
}

static int daemon__alerts(struct daemon *d, char *err, size_t errlen)
{
    const struct mp_config *c = d->cfg;
    struct alert_ruleset *rules = NULL;
    struct alert_routes *routes = NULL;
    int rc = mp_alert_conf_rules(c, &rules, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (!(d->receivers = mp_alert_conf_receivers(c)) || (rc = mp_alert_conf_routes(c, &routes)) != MP_OK) {
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
    if ((rc = alert_sender_start(d->receivers, c->n_receivers, &so, &d->sender)) != MP_OK ||
        (rc = alert_silences_open(d->astore, daemon__silence_commit, d->sender, &d->silences,
                                  err, errlen)) != MP_OK) {
        alert_ruleset_free(rules);
        alert_routes_destroy(routes);
        if (!d->sender)
            snprintf(err, errlen, "cannot start alerting: %s", mp_strerror(rc));
        return rc;
    }
    /* The DMARC rules' own copy: the evaluator owns `rules` from here. */
    if ((rc = alert_dmarc_pick(rules, &d->dmarc_set)) != MP_OK) {
        alert_ruleset_free(rules);
        alert_routes_destroy(routes);
        snprintf(err, errlen, "cannot start alerting: out of memory");
        return rc;
    }
    size_t nrules = alert_ruleset_count(rules), nover = alert_ruleset_noverrides(rules);
    struct alert_eval_opts eo = {
        .rules = rules, .receivers = d->receivers, .nreceivers = c->n_receivers,
        .routes = routes, .max_keys = c->max_keys, .store = d->astore,
        .history_retention_ms = c->retention_ms,
        .group_interval_ms = c->group_interval_ms, .group_by = c->group_by,
        .max_alerts = c->max_alerts, .external_url = c->external_url, .silences = d->silences};
    if ((rc = alert_eval_start(d->table, d->sender, &eo, &d->eval)) != MP_OK) {
        snprintf(err, errlen, "cannot start alerting: %s", mp_strerror(rc));
        return rc;
    }
    mp_info("alerting rules=%zu rules_file=%s tenants_with_overrides=%zu receivers=%zu", nrules,
            MP_LOG_Q(c->rules_path ? c->rules_path : "(built-in defaults)"), nover,
            c->n_receivers);
    return MP_OK;
}

/* ---- reload (SIGHUP) ------------------------------------------------------ */

/* One reload, parsed and built: what the main thread swaps in. */
struct daemon_reload {
    struct mp_config *nc; /* receivers' strings are borrowed from it */
    struct alert_ruleset *rules;
    struct alert_routes *routes;
    struct alert_receiver *rcv;
};

/* The reload thread: files are parsed off the main thread, which drives the
 * flushes, so a slow or hostile file never holds a flush back. At most one
 * parse runs at a time; SIGHUPs during a parse ask for one more after it.
 * Everything below mu is shared between the main thread and this one. */
struct daemon_reloader {
    struct daemon *d;
    pthread_t thr;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool requested, stop;
    struct daemon_reload *ready; /* built, waiting for the main thread */
};

/* Frees what a reload still owns (the evaluator takes rules and routes). */
static void daemon__reload_free(struct daemon_reload *r)
{
    if (r) {
        alert_ruleset_free(r->rules);
        alert_routes_destroy(r->routes);
        free(r->rcv);
        mp_config_free(r->nc);
    }
    free(r);
}

/* Parses the config and the rules file and builds what a swap needs. Runs
 * on the reload thread and touches nothing shared. Anything invalid is
 * refused (file:line: key: ...) and NULL returned: the old ones stay. */
static struct daemon_reload *daemon__reload_build(const char *config_path)
{
    char err[1024] = "";
    struct daemon_reload *r = calloc(1, sizeof(*r));
    if (!r) {
        mp_error("reload_failed err=\"out of memory\"");
        return NULL;
    }
    if (mp_config_load(config_path, &r->nc, err, sizeof(err)) != MP_OK ||
        mp_alert_conf_rules(r->nc, &r->rules, err, sizeof(err)) != MP_OK) {
        mp_error("reload_refused err=%s kept=\"the rules, receivers and routes in use\"",
                 MP_LOG_Q(err));
        daemon__reload_free(r);
        return NULL;
    }
    if (!(r->rcv = mp_alert_conf_receivers(r->nc)) || mp_alert_conf_routes(r->nc, &r->routes) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        daemon__reload_free(r);
        return NULL;
    }
    return r;
}

/* Main thread: the new file's limits: for every tenant (issue 9), unless a
 * key cap is over half of the running table (engine.max_keys itself waits
 * for the next start). The table reads the config it is given until
 * eng_table_set_limits returns, so the new one is kept and the old freed. */
static void daemon__reload_limits(struct daemon *d, struct daemon_reload *r)
{
    const struct mp_limits_conf *l = &r->nc->limits;
    if (mp_config_limits_over(r->nc, d->cfg->max_keys / 2)) {
        mp_error("reload_limits_refused err=\"a key cap is over half of the running "
                 "engine.max_keys (%u)\" kept=\"the limits in use\"", (unsigned)d->cfg->max_keys);
        return;
    }
    if (eng_table_set_limits(d->table, NULL, mp_config_tenant_limits, r->nc) != MP_OK) {
        mp_error("reload_limits_failed err=\"out of memory\" kept=\"the limits in use\"");
        return;
    }
    if (d->limits_cfg != d->cfg)
        mp_config_free(d->limits_cfg);
    d->limits_cfg = r->nc;
    r->nc = NULL;
    mp_info("limits_reloaded tenant_max_keys=%u tenant_max_events_per_second=%u "
            "tenant_overrides=%zu", l->tenant_max_keys, l->tenant_max_eps, l->n_tenants);
}

/* Main thread: swaps a built reload in. The evaluator takes the rules and
 * routes; receivers are copied by both sides, so r->rcv and r->nc go. */
static void daemon__reload_apply(struct daemon *d, struct daemon_reload *r)
{
    const struct mp_config *nc = r->nc;
    size_t nrules = alert_ruleset_count(r->rules);
    if (alert_sender_set_receivers(d->sender, r->rcv, nc->n_receivers) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        daemon__reload_free(r);
        return;
    }
    struct alert_ruleset *rules = r->rules, *dmarc = NULL;
    struct alert_routes *routes = r->routes;
    if (alert_dmarc_pick(rules, &dmarc) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        daemon__reload_free(r);
        return;
    }
    mp_dmarc_rules_reload(d->dmarc_rules, dmarc); /* taken (freed without a runner) */
    r->rules = NULL; /* the evaluator's from here, taken or freed */
    r->routes = NULL;
    if (alert_eval_reload(d->eval, rules, r->rcv, nc->n_receivers, routes) != MP_OK) {
        mp_error("reload_failed err=\"out of memory\"");
        daemon__reload_free(r);
        return;
    }
    mp_info("reloaded rules=%zu receivers=%zu routes=%zu rules_file=%s note=\"limits, "
            "blocklists and adapters apply now, other settings at the next start\"",
            nrules, nc->n_receivers, nc->n_routes,
            MP_LOG_Q(nc->rules_path ? nc->rules_path : "(defaults)"));
    mp_config_providers_apply(&nc->providers, d->table); /* logs a failure */
    mp_gate_set_providers(d->gate, &nc->providers);       /* the gate's copy; likewise */
    mp_dnsbl_reload(d->dnsbl, &r->nc->dnsbl);              /* takes the section; logs */
    mp_api_reload_adapters(d->http, r->nc);                /* takes the list; logs */
    daemon__reload_limits(d, r);
    daemon__reload_free(r);
}

static void *daemon__reload_main(void *arg)
{
    struct daemon_reloader *rl = arg;
    mp_thread_name("mp-reload", -1);
    pthread_mutex_lock(&rl->mu);
    for (;;) {
        while (!rl->requested && !rl->stop)
            pthread_cond_wait(&rl->cv, &rl->mu);
        if (rl->stop)
            break;
        rl->requested = false;
        pthread_mutex_unlock(&rl->mu);
        struct daemon_reload *r = daemon__reload_build(rl->d->cfg->path);
        pthread_mutex_lock(&rl->mu);
        if (r) { /* a newer file replaces one the main thread has not taken */
            daemon__reload_free(rl->ready);
            rl->ready = r;
        }
    }
    pthread_mutex_unlock(&rl->mu);
    return NULL;
}

/* Starts the reload thread; without one, SIGHUP reloads inline. */
static void daemon__reloader_start(struct daemon_reloader *rl, struct daemon *d)
{
    *rl = (struct daemon_reloader){.d = d};
    pthread_mutex_init(&rl->mu, NULL);
    pthread_cond_init(&rl->cv, NULL);
    rl->started = pthread_create(&rl->thr, NULL, daemon__reload_main, rl) == 0;
    if (!rl->started)
        mp_error("reload_thread_failed note=\"SIGHUP reloads on the main thread\"");
}

/* Main thread, on SIGHUP: asks for a parse (one more if one is running). */
static void daemon__reloader_request(struct daemon_reloader *rl)
{
    if (!rl->started) {
        struct daemon_reload *r = daemon__reload_build(rl->d->cfg->path);
        if (r)
            daemon__reload_apply(rl->d, r);
        return;
    }
    pthread_mutex_lock(&rl->mu);
    rl->requested = true;
    pthread_cond_signal(&rl->cv);
    pthread_mutex_unlock(&rl->mu);
}

/* Main thread, every loop turn: swaps in what the reload thread built. */
static void daemon__reloader_poll(struct daemon_reloader *rl)
{
    if (!rl->started)
        return;
    pthread_mutex_lock(&rl->mu);
    struct daemon_reload *r = rl->ready;
    rl->ready = NULL;
    pthread_mutex_unlock(&rl->mu);
    if (r)
        daemon__reload_apply(rl->d, r);
}

/* Waits for a parse under way (bounded: files are refused past
 * MP_YAML_MAX_DEPTH and MP_YAML_MAX_FILE) and drops what was not taken. */
static void daemon__reloader_stop(struct daemon_reloader *rl)
{
    if (rl->started) {
        pthread_mutex_lock(&rl->mu);
        rl->stop = true;
        pthread_cond_signal(&rl->cv);
        pthread_mutex_unlock(&rl->mu);
        pthread_join(rl->thr, NULL);
    }
    daemon__reload_free(rl->ready);
    pthread_cond_destroy(&rl->cv);
    pthread_mutex_destroy(&rl->mu);
}

/* How often idle keys are looked for (engine.evict_idle says which). */
#define DAEMON_EVICT_NS 10000000000LL

static void daemon__flush(struct daemon *d)
{
    int64_t t0 = mp_mono_ns();
    size_t n = 0;
    int rc = eng_table_flush(d->table, 0, &n);
    mp_metrics_flush_record(&d->flush, n, mp_mono_ns() - t0, rc == MP_OK);
    uint64_t suppressed; /* a full disk fails every flush: one line in ten seconds */
    if (rc != MP_OK && mp_ratelimit_allow(&d->flush_rl, mp_now_ms(), 10000, &suppressed))
        mp_error("store_flush_failed err=\"%s\" suppressed=%llu", mp_strerror(rc),
                 (unsigned long long)suppressed);
}

static void daemon__stop(struct daemon *d)
{
    mp_api_stop(d->http);
    mp_auth_destroy(d->auth);
    mp_gate_stop(d->gate); /* before the evaluator it reads */
    mp_dnsbl_stop(d->dnsbl); /* before the evaluator it tells */
    mp_dmarc_rules_stop(d->dmarc_rules); /* likewise; after the API that wakes it */
    alert_ruleset_free(d->dmarc_set);
    ingest_stop(d->ingest);   /* drains frames already queued */
    alert_eval_stop(d->eval); /* last pass over what was counted */
    alert_sender_stop(d->sender, 3000);
    alert_silences_free(d->silences);
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
    ingest_journal_close(d->journal); /* after the final flush: it wrote the watermark */
    eng_table_destroy(d->table);
    if (d->limits_cfg != d->cfg)
        mp_config_free(d->limits_cfg); /* a SIGHUP's: the table no longer reads it */
    eng_store_close(d->store);
    eng_store_close(d->astore);
    eng_store_close(d->jstore);
    if (d->pid_path[0]) /* before the lock goes: a next daemon writes its own */
        mp_pidfile_remove(d->pid_path, getpid());
    if (d->lock_fd > 0)
        close(d->lock_fd);
    mp_config_free(d->cfg);
}

/* Every HTTP connection is a descriptor: the soft limit (often 1024) would
 * cap the server far below http.max_connections, so take the hard one. */
static void daemon__raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        mp_info("nofile_raised from=%llu to=%llu", (unsigned long long)was,
                (unsigned long long)rl.rlim_max);
    else
        mp_warn("nofile_raise_failed limit=%llu err=%s", (unsigned long long)was,
                strerror(errno));
}

/* The three stores under data_dir: counters (db), alert state (alerts) and
 * the acked batches (journal), each its own RocksDB: small alert writes and
 * synced journal commits never wait for a counter flush's memtable insert
 * (ingest_journal.h, Stores). */
static int daemon__open_stores(struct daemon *d, char *err, size_t errlen)
{
    struct {
        const char *name;
        struct eng_store **s;
    } st[] = {{"db", &d->store}, {"alerts", &d->astore}, {"journal", &d->jstore}};
    char dbdir[4096];
    for (size_t i = 0; i < MP_ARRAY_LEN(st); i++) {
        snprintf(dbdir, sizeof(dbdir), "%s/%s", d->cfg->data_dir, st[i].name);
        int rc = eng_store_open(dbdir, st[i].s, err, errlen);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

static int daemon__start(struct daemon *d, char *err, size_t errlen)
{
    daemon__raise_nofile();
    int rc = daemon__data_dir(d, err, errlen);
    if (rc != MP_OK || (rc = daemon__open_stores(d, err, errlen)) != MP_OK)
        return rc;
    struct eng_table_opts to = {.max_keys = d->cfg->max_keys,
                                .retention_ms = d->cfg->retention_ms, .store = d->store,
                                .evict_idle_ms = d->cfg->evict_idle_ms,
                                .hour_retention_ms = d->cfg->hour_retention_ms,
                                /* limits: (issue 9, item 6); d->cfg outlives the table */
                                .limits_fn = mp_config_tenant_limits,
                                .limits_arg = d->cfg};
    d->limits_cfg = d->cfg;
    if ((rc = mp_config_providers_build(&d->cfg->providers, &to.providers)) != MP_OK ||
        (rc = eng_table_create(&to, mp_now_ms(), &d->table)) != MP_OK) {
        snprintf(err, errlen, "cannot create key table (max_keys=%u) from %.256s/db: %s",
                 d->cfg->max_keys, d->cfg->data_dir, mp_strerror(rc));
        return rc;
    }
    d->zctx = zmq_ctx_new();
    if (!d->zctx) {
        snprintf(err, errlen, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    struct ingest_journal_opts jo = {.table = d->table,
                                     .store = d->store,
                                     .journal_store = d->jstore,
                                     .parts = d->cfg->workers,
                                     .producer_ttl_ms = d->cfg->producer_ttl_ms};
    if ((rc = ingest_journal_open(&jo, &d->journal, err, errlen)) != MP_OK)
        return rc;
    struct ingest_opts io = {
        .pull_endpoint = d->cfg->ingest_pull,
        .router_endpoint = d->cfg->ingest_router,
        .journal = d->journal,
        .ack_max_pending = (uint32_t)d->cfg->ack_max_pending,
        .workers = d->cfg->workers,
        .limits = {.retention_ms = d->cfg->retention_ms,
                   .future_ms = INGEST_FUTURE_MS_DEFAULT,
                   .max_frame_bytes = (size_t)d->cfg->max_frame_bytes,
                   .max_batch_events = (uint32_t)d->cfg->max_batch_events},
        .curve = &d->cfg->curve}; /* [i9-curve] */
    if ((rc = ingest_start(d->table, d->zctx, &io, &d->ingest, err, errlen)) != MP_OK)
        return rc;
    /* After ingest_start, which replays the journal: the alert states are
     * restored against the counts the acked batches left, so an alert that
     * was firing is found firing again, not resolved for want of its keys
     * and then fired a second time by the replay. */
    if ((rc = daemon__alerts(d, err, errlen)) != MP_OK ||
        (rc = mp_gate_start(&d->cfg->gate, &d->cfg->providers, d->eval, d->silences, &d->gate,
                            err, errlen)) != MP_OK ||
        (rc = mp_dnsbl_start(&d->cfg->dnsbl, d->eval, &d->dnsbl, err, errlen)) != MP_OK)
        return rc;
    if (d->store) {
        struct alert_ruleset *set = d->dmarc_set;
        d->dmarc_set = NULL; /* the runner's, taken or freed */
        if ((rc = mp_dmarc_rules_start(d->store, d->cfg, d->eval, set, &d->dmarc_rules)) !=
            MP_OK) {
            snprintf(err, errlen, "cannot start the DMARC rules: %s", mp_strerror(rc));
            return rc;
        }
    }
    d->api = (struct mp_metrics_sources){.table = d->table,
                                         .ingest = d->ingest,
                                         .journal = d->journal,
                                         .eval = d->eval,
                                         .sender = d->sender,
                                         .flush = &d->flush,
                                         .started_ms = d->started_ms,
                                         .store = d->store,
                                         .astore = d->astore,
                                         .jstore = d->jstore,
                                         .data_dir = d->cfg->data_dir,
                                         .dnsbl = d->dnsbl,
                                         .dmarc_rules = d->dmarc_rules,
                                         .silences = d->silences, .gate = d->gate, .cfg = d->cfg};
    if (d->cfg->http_listen && (rc = mp_auth_create(&d->cfg->http_auth, &d->auth)) != MP_OK)
        return rc;
    if (d->cfg->http_listen &&
        (rc = mp_api_start_opts(d->cfg->http_listen, &d->api, d->auth, &d->cfg->http_opts,
                                &d->http, err, errlen)) != MP_OK)
        return rc;
    return MP_OK;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: mailpulsed -c CONFIG [--check] [--pid-file PATH] [--log-format text|json]\n"
               "\n"
               "The mailpulse daemon: counts delivery events received over ZeroMQ and posts\n"
               "alerts to webhooks when a tenant's rates cross a rule's threshold.\n"
               "\n"
               "  -c, --config FILE        the YAML config (see mailpulse.example.yaml)\n"
               "      --check              validate the config and exit\n"
               "      --pid-file PATH      write the pid there (default: DATA_DIR/run.pid)\n"
               "      --log-format FORMAT  text (key=value lines) or json (one object a\n"
               "                           line); beats the config's log_format\n"
               "  -V, --version            print the version and exit\n"
               "  -h, --help               this text\n"
               "\n"
               "Signals: SIGTERM or SIGINT stop cleanly (queued frames are counted first);\n"
               "SIGHUP reloads the rules file, receivers, routes, limits, providers,\n"
               "blocklists and adapters (an invalid file keeps the ones in use and logs\n"
               "file:line: key: what is wrong):\n"
               "    kill -HUP \"$(cat DATA_DIR/run.pid)\"\n"
               "The pid file is written once the data directory is locked and the daemon\n"
               "has started, and removed on a clean exit.\n");
}

static const struct option daemon__options[] = {{"config", required_argument, NULL, 'c'},
                                                {"check", no_argument, NULL, 'k'},
                                                {"pid-file", required_argument, NULL, 'p'},
                                                {"log-format", required_argument, NULL, 'l'},
                                                {"version", no_argument, NULL, 'V'},
                                                {"help", no_argument, NULL, 'h'},
                                                {NULL, 0, NULL, 0}};

struct daemon_args {
    const char *config;
    const char *pid_file;   /* NULL: DATA_DIR/run.pid */
    const char *log_format; /* NULL: the config's, else text */
    int check;
};

/* Command line: 0 to go on (a->config set), -1 to exit 0 (--version,
 * --help), or the exit status to return. */
static int daemon__args(int argc, char **argv, struct daemon_args *a)
{
    int ch;
    enum mp_log_format fmt;
    while ((ch = getopt_long(argc, argv, "c:Vh", daemon__options, NULL)) != -1) {
        switch (ch) {
        case 'c': a->config = optarg; break;
        case 'k': a->check = 1; break;
        case 'p':
            if (!optarg[0] || strlen(optarg) >= sizeof(((struct daemon *)0)->pid_path) - 16) {
                fprintf(stderr, "mailpulsed: --pid-file: expected a path of 1..4000 bytes\n");
                return 2;
            }
            a->pid_file = optarg;
            break;
        case 'l':
            if (mp_log_format_parse(optarg, &fmt) != 0) {
                fprintf(stderr, "mailpulsed: --log-format: expected text or json, got \"%s\"\n",
                        optarg);
                return 2;
            }
            a->log_format = optarg;
            break;
        case 'V': printf("mailpulsed %s\n", VERSION); return -1;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mailpulsed: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!a->config) {
        fprintf(stderr, "mailpulsed: -c CONFIG is required\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

/* The config's warnings (mp_config_check.h), the same lines on --check
 * (as they are, on stderr) and at a start (one log line each). */
static void daemon__warnings(const struct mp_config *cfg, int check)
{
    for (const char *p = cfg->warnings; p && *p;) {
        const char *nl = strchr(p, '\n');
        int len = (int)(nl ? nl - p : (ptrdiff_t)strlen(p));
        if (check) {
            fprintf(stderr, "%.*s\n", len, p);
        } else {
            char line[1024];
            snprintf(line, sizeof(line), "%.*s", len, p);
            mp_warn("config_warning detail=%s", MP_LOG_Q(line));
        }
        p = nl ? nl + 1 : p + len;
    }
}

/* --check: the config was loaded; the rules are loaded too, then dropped. */
static int daemon__check(struct daemon *d, const char *config)
{
    char err[1024] = "";
    struct alert_ruleset *rules = NULL;
    int ok = mp_alert_conf_rules(d->cfg, &rules, err, sizeof(err)) == MP_OK;
    if (ok)
        printf("%s: ok (%zu rules%s%s)\n", config, alert_ruleset_count(rules),
               d->cfg->rules_path ? " from " : ", the defaults",
               d->cfg->rules_path ? d->cfg->rules_path : "");
    else
        fprintf(stderr, "mailpulsed: rules refused: %s\n", err);
    alert_ruleset_free(rules);
    mp_config_free(d->cfg);
    return ok ? 0 : 1;
}

/* The main loop, until SIGTERM or SIGINT: signals, clock tick, flushes and
 * idle-key eviction. Fire-and-forget ingest can lose at most the flush
 * interval on a SIGKILL: counts added since the last flush live only in
 * memory. */
static void daemon__run(struct daemon *d, const sigset_t *set)
{
    const int64_t flush_ns = d->cfg->flush_interval_ms * 1000000;
    int64_t next_flush = mp_mono_ns() + flush_ns, next_evict = mp_mono_ns() + DAEMON_EVICT_NS;
    struct daemon_reloader rl;
    daemon__reloader_start(&rl, d);
    for (;;) {
        struct timespec tmo = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(set, NULL, &tmo);
        if (sig == SIGTERM || sig == SIGINT) {
            mp_info("stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
            break;
        }
        if (sig == SIGHUP)
            daemon__reloader_request(&rl);
        daemon__reloader_poll(&rl);
        eng_table_tick(d->table, mp_now_ms());
        if (mp_mono_ns() >= next_flush) {
            daemon__flush(d);
            next_flush = mp_mono_ns() + flush_ns;
        }
        if (mp_mono_ns() >= next_evict) {
            size_t n = eng_table_evict(d->table, mp_now_ms());
            if (n)
                mp_info("keys_evicted count=%zu idle_ms=%lld", n,
                        (long long)d->cfg->evict_idle_ms);
            /* issue 9: idle, empty keys with no live alert leave for good */
            eng_table_reclaim(d->table, mp_now_ms(), alert_eval_key_live, d->eval);
            next_evict = mp_mono_ns() + DAEMON_EVICT_NS;
        }
    }
    daemon__reloader_stop(&rl);
}

/* The pid file, once started: --pid-file or DATA_DIR/run.pid. */
static int daemon__pid_file(struct daemon *d, const char *flag, char *err, size_t errlen)
{
    snprintf(d->pid_path, sizeof(d->pid_path), "%s%s%s", flag ? flag : d->cfg->data_dir,
             flag ? "" : "/", flag ? "" : MP_PIDFILE_NAME);
    int rc = mp_pidfile_write(d->pid_path, getpid(), err, errlen);
    if (rc != MP_OK)
        d->pid_path[0] = '\0'; /* not ours to remove */
    else
        mp_info("pid_file path=%s pid=%ld", MP_LOG_Q(d->pid_path), (long)getpid());
    return rc;
}

int main(int argc, char **argv)
{
    struct daemon_args args = {NULL, NULL, NULL, 0};
    int st = daemon__args(argc, argv, &args);
    if (st != 0)
        return st < 0 ? 0 : st;
    const char *config = args.config;
    char err[1024] = "";
    struct daemon d = {.lock_fd = -1, .started_ms = mp_now_ms()};
    mp_metrics_flush_init(&d.flush);
    if (mp_config_load(config, &d.cfg, err, sizeof(err)) != MP_OK) {
        fprintf(stderr, "mailpulsed: config refused: %s\n", err);
        return 1;
    }
    enum mp_log_level lvl;
    if (mp_log_level_parse(d.cfg->log_level, &lvl) == 0)
        mp_log_set_level(lvl);
    enum mp_log_format fmt; /* --log-format beats log_format */
    const char *fmt_name = args.log_format ? args.log_format : d.cfg->log_format;
    if (fmt_name && mp_log_format_parse(fmt_name, &fmt) == 0)
        mp_log_set_format(fmt);
    daemon__warnings(d.cfg, args.check);
    if (args.check)
        return daemon__check(&d, config);
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
    if (rc == MP_OK)
        rc = daemon__pid_file(&d, args.pid_file, err, sizeof(err));
    if (rc != MP_OK) {
        mp_error("start_failed err=%s", MP_LOG_Q(err));
        fprintf(stderr, "mailpulsed: %s\n", err);
        daemon__stop(&d);
        curl_global_cleanup();
        return 1;
    }
    mp_info("started version=%s pull=%s router=%s http=%s workers=%d data_dir=%s receivers=%zu",
            VERSION, MP_LOG_Q(d.cfg->ingest_pull),
            d.cfg->ingest_router ? MP_LOG_Q(d.cfg->ingest_router) : "-",
            d.cfg->http_listen ? MP_LOG_Q(d.cfg->http_listen) : "-", d.cfg->workers,
            MP_LOG_Q(d.cfg->data_dir), d.cfg->n_receivers);
    mp_info("limits tenant_max_keys=%u tenant_max_events_per_second=%u tenant_overrides=%zu",
            d.cfg->limits.tenant_max_keys, d.cfg->limits.tenant_max_eps,
            d.cfg->limits.n_tenants);
    daemon__run(&d, &set);
    daemon__stop(&d);
    curl_global_cleanup();
    mp_info("stopped");
    return 0;
}
