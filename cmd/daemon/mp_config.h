/* mp_config.h — the daemon's YAML config file: parse, validate, free.
 *
 * Contract: mp_config_load() reads one YAML file and fills a freshly
 * allocated struct mp_config owned by the caller (free with
 * mp_config_free()). Every key is checked: unknown keys, wrong types,
 * out-of-range values, duplicate receiver names, routes naming an unknown
 * receiver and missing files are refused. On refusal it returns MP_ERR_PARSE
 * (or MP_ERR_IO when the file cannot be read), *out is untouched, and `err`
 * holds one line naming the file, the line and the key, e.g.
 *     "mailpulse.yaml:7: ingest.workers: expected an integer 1..256, got \"lots\""
 * The reading, the key tables and the wording of refusals are base/mp_yaml's
 * (see mp_yaml.h for the whole error contract: "yaml" and "(top level)"
 * pseudo-keys, "<file>: cannot open: ..." without a line, nulls never taken
 * as values); this module holds the daemon's schema, its defaults and the
 * checks of its own. Names (receivers, route tenants) follow the one name
 * grammar, engine/eng_name.h; http.listen the one listen-address grammar,
 * base/mp_addr.h, so `mailpulsed --check` accepts exactly what the HTTP
 * server can bind; and without any http.tokens, http.listen must be a
 * loopback address (mp_auth.h), the rule mp_api_start() enforces too.
 * Tokens (mp_auth_token_valid, all different) are refused by key only:
 * their values never reach err. MP_ERR_INVAL: path or out is NULL.
 * The workers default is clamped to the valid range 1..256. Every integer
 * and duration key has a minimum and a maximum (below), integers are plain
 * YAML scalars (a quoted "2" is a string), and the bounds are what the
 * daemon's start needs (engine.retention >= the 14 days of daily buckets the
 * rules read), so `--check`, which runs this loader, refuses exactly what a
 * start would.
 * Listeners that would bind the same place are refused, and what is legal
 * but likely a mistake (no receivers, a route naming none) is a warning in
 * cfg->warnings: see mp_config_check.h.
 * Relative paths in the file (data_dir, rules) are resolved against the
 * config file's directory, so the daemon behaves the same from any cwd.
 *
 * Not thread-safe per object; a loaded config is immutable and may be read
 * from any thread.
 *
 * Keys (all optional unless marked):
 *   data_dir: ./data
 *   log_level: info                 # debug|info|warn|error
 *   log_format: text                # text|json (mailpulsed --log-format beats it)
 *   ingest:
 *     pull: tcp://127.0.0.1:7400    # required
 *     router: tcp://127.0.0.1:7401
 *     workers: 2                    # 1..256; default: one per online core
 *     max_frame_bytes: 4194304      # 1024..268435456; larger frames are refused
 *     max_batch_events: 10000       # 1..1000000; larger batches are refused whole
 *     producer_ttl: 7d              # 1m..400d: idle producer ids are forgotten (dedup)
 *     ack_max_pending: 1024         # 1..1000000 acked batches in flight per worker
 *     curve:                        # CurveZMQ producer keys (mp_config_curve.h)
 *       secret_key_file: server.key # or secret_key: "<Z85>"; exactly one
 *       clients:                    # 1..1024
 *         - public_key: "<Z85>"     # distinct
 *           tenants: [acme, beta]   # 1..1024 names, or ["*"] for any
 *   http:
 *     listen: 127.0.0.1:7480        # host:port, [::1]:port (mp_addr_parse)
 *     tokens:                       # bearer tokens (mp_auth.h); none: open API,
 *       admin: "..."                #   and then listen must be loopback
 *       tenants:
 *         acme: "..."               # tenant name -> token (sees that tenant only)
 *     metrics_open: false           # true: /metrics needs no token
 *     threads: 4                    # 1..64 server threads (mp_http.h)
 *     max_connections: 4096         # 64..65536 open connections overall
 *     max_connections_per_ip: 128   # 1..65536 from one client address
 *     timeout: 10s                  # 1s..1h: an idle connection is closed
 *     header_timeout: 10s           # 1s..1h: a request head must be complete by then
 *   engine:
 *     retention: 35d                # 14d..400d (the rules read up to 14 days)
 *     max_keys: 1048576             # capacity of the key table, 1024..2^28
 *     flush_interval: 1s            # counters to RocksDB at least this often (100ms..60s)
 *     evict_idle: 24h               # idle keys leave memory (0s: never; 1m..400d)
 *     hour_retention: 7d            # hourly buckets in RocksDB (0s: the 25 h ring only;
 *                                   #   25h..engine.retention)
 *   limits:                         # noisy-neighbour limits (engine/eng_table.h, "Limits")
 *     tenant_max_keys: 100000       # 0..2^27 mailbox + domain keys per tenant (0: no cap),
 *                                   #   at most half of engine.max_keys
 *     tenant_max_events_per_second: 0  # 0..10000000 sustained, burst 1 s worth (0: no cap)
 *     tenants:                      # per-tenant overrides, same bounds
 *       acme: {max_keys: 500000, max_events_per_second: 20000}
 *   rules: rules.yaml               # must exist; see alerts/alert_rules_file.h
 *   alerting:                       # every key: a duration from 1ms to 30d
 *     group_interval: 1s            # a tenant's later alerts wait this long, then go together
 *     retry_initial: 500ms          # first retry delay (doubles, with jitter)
 *     retry_max: 60s                # cap on one retry delay
 *     max_age: 24h                  # undelivered this long: dead letter
 *     slack_interval: 1s            # at most one Slack message per webhook per this
 *     timeout: 5s                   # one HTTP attempt
 *     group_by: [tenant]            # labels of a group: alertname, rule, tenant, mailbox,
 *                                   #   recipient_domain (tenant is always one of them)
 *     max_alerts: 0                 # 0..1000000 alerts per webhook body (0: all)
 *     external_url: http://...      # externalURL and generatorURL base (http(s)://)
 *   gate:                           # the send gate: see mp_config_gate.h
 *     policy_listen: 127.0.0.1:7402 # Postfix policy server; absent: none
 *     tenants: {acme: [acme.example]}
 *     cool_down: 15m
 *   blocklists:                     # DNS blocklist checks: see mp_config_dnsbl.h
 *     zones: {zen.spamhaus.org: {type: ip}}
 *     tenants: {acme: {ips: [192.0.2.10]}}
 *   dmarc:                          # DMARC aggregate reports in (POST /v1/dmarc, mp_dmarc.h)
 *     tenant: acme                  # the tenant of a report whose policy domain is in no
 *                                   #   gate.tenants list; absent: such reports are refused
 *     retention_days: 400           # 1..3650 days of counts kept
 *   receivers:                      # list
 *     - name: ops                   # required, unique, ENG_NAME_GRAMMAR
 *       type: webhook               # webhook | slack (required)
 *       url: http://...             # required, http:// or https://
 *       secret: change-me           # optional HMAC key
 *   routes:                         # see mp_config_route.h
 *     default: [ops]                # receiver names
 *     tenants:
 *       acme: [acme-hook]           # tenant name -> receiver names, or entries:
 *       beta:
 *         - match: {severity: critical}
 *           receivers: [pager]
 *           continue: true          # default false: the first match wins
 *         - receivers: [beta-hook]  # no match: every alert
 */
#ifndef MP_CONFIG_H
#define MP_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "ingest_curve.h"
#include "mp.h"
#include "mp_auth.h"
#include "mp_config_dnsbl.h"
#include "mp_config_gate.h"
#include "mp_config_providers.h"
#include "mp_http.h"

enum mp_receiver_type {
    MP_RECEIVER_WEBHOOK = 0,
    MP_RECEIVER_SLACK = 1,
    MP_RECEIVER_PAGERDUTY = 2,
    MP_RECEIVER_EMAIL = 3,
};

/* PagerDuty's Events API v2 endpoint: a pagerduty receiver's url unless set. */
#define MP_PAGERDUTY_URL "https://events.pagerduty.com/v2/enqueue"

struct mp_receiver_conf {
    char *name;
    enum mp_receiver_type type;
    char *url;    /* always set once loaded (pagerduty: MP_PAGERDUTY_URL by default) */
    char *secret; /* NULL when not set */
    char *channel, *username, *icon_emoji; /* slack only; NULL: the webhook's own */
    char *routing_key;                     /* pagerduty only, required there */
    /* email only: from and to required (to: addresses joined by ", "),
     * auth optional, tls 0 starttls (required) | 1 none | 2 implicit */
    char *mail_from, *mail_to, *auth_username, *auth_password;
    int tls;
};

/* One entry of a route with matchers (mp_config_route.h). */
#define MP_ROUTE_MATCHERS_MAX 8
struct mp_route_entry_conf {
    size_t nm;                                   /* matchers: label = value, all must hold */
    char *label[MP_ROUTE_MATCHERS_MAX], *value[MP_ROUTE_MATCHERS_MAX];
    size_t n;                                    /* receivers */
    size_t *receivers;                           /* indices into mp_config.receivers */
    int cont;                                    /* continue: go on to later entries */
};

struct mp_route_conf {
    char *tenant;      /* tenant name */
    size_t n;          /* number of receivers (the simple form) */
    size_t *receivers; /* indices into mp_config.receivers */
    size_t n_entries;  /* the list form: entries with matchers (then n is 0) */
    struct mp_route_entry_conf *entries;
};

/* limits: at start, and again at each SIGHUP (mailpulsed.c). */
enum { MP_LIMIT_SET_KEYS = 1u << 0, MP_LIMIT_SET_EPS = 1u << 1 };
struct mp_tenant_limits_conf {
    char *tenant;
    uint32_t max_keys, max_eps; /* each meant only when its bit is in `set` */
    unsigned set;               /* MP_LIMIT_SET_*: the keys the override names */
};
struct mp_limits_conf {
    uint32_t tenant_max_keys; /* default 100000; 0: no cap */
    uint32_t tenant_max_eps;  /* default 0: no cap */
    size_t n_tenants;
    struct mp_tenant_limits_conf *tenants;
};

struct mp_adapter_conf;

struct mp_config {
    char *path;        /* the file this came from */
    char *warnings;    /* NULL, or "file:line: key: warning: ...\n" lines (mp_config_check.h) */
    char *data_dir;    /* absolute or resolved against the config's dir */
    char *log_level;   /* "info" unless set */
    char *log_format;  /* "text" or "json"; NULL when not set (text) */
    char *ingest_pull; /* zmq endpoint */
    char *ingest_router; /* NULL when not set */
    int workers;       /* >= 1 (defaulted to online cores) */
    int64_t max_frame_bytes; /* ingest.max_frame_bytes, default 4 MiB */
    int max_batch_events;    /* ingest.max_batch_events, default 10000 */
    int64_t producer_ttl_ms; /* ingest.producer_ttl, default 7 d, 1m..400d */
    int ack_max_pending;     /* ingest.ack_max_pending, default 1024 */
    struct ingest_curve_conf curve; /* ingest.curve; .enabled 0 when absent */
    struct mp_providers_conf providers; /* providers: (mp_config_providers.h); n 0 when absent */
    char *http_listen; /* NULL when not set */
    struct mp_auth_conf http_auth; /* http.tokens, http.metrics_open */
    struct mp_http_opts http_opts; /* http.threads, max_connections[_per_ip], [header_]timeout */
    int64_t retention_ms; /* default 35 days, 14d..400d */
    uint32_t max_keys;    /* default 1<<20 */
    int64_t flush_interval_ms; /* default 1000 */
    int64_t evict_idle_ms;     /* default 24 h; 0: never; else 1m..400d */
    int64_t hour_retention_ms; /* default 7 d; 0: the ring only; else 25h..retention */
    struct mp_limits_conf limits;
    char *rules_path;     /* NULL when not set; resolved like data_dir */
    int64_t group_interval_ms;  /* alerting.group_interval, default 1 s */
    int64_t retry_initial_ms;   /* alerting.retry_initial, default 500 ms */
    int64_t retry_max_ms;       /* alerting.retry_max, default 60 s */
    int64_t outbox_max_age_ms;  /* alerting.max_age, default 24 h */
    int64_t slack_interval_ms;  /* alerting.slack_interval, default 1 s */
    int64_t webhook_timeout_ms; /* alerting.timeout, default 5 s */
    unsigned group_by;          /* alerting.group_by: ALERT_LABEL_* bits (tenant always) */
    uint32_t max_alerts;        /* alerting.max_alerts, default 0: no limit */
    char *external_url;         /* alerting.external_url; NULL when not set */
    struct mp_gate_conf gate;   /* gate (mp_config_gate.h) */
    struct mp_dnsbl_conf dnsbl; /* blocklists (mp_config_dnsbl.h) */

    size_t n_receivers;
    struct mp_receiver_conf *receivers;

    size_t n_default_route; /* indices into receivers */
    size_t *default_route;
    size_t n_default_entries; /* routes.default in the list form (then n_default_route is 0) */
    struct mp_route_entry_conf *default_entries;
    size_t n_routes;
    struct mp_route_conf *routes; /* per-tenant routes */
    size_t n_adapters;
    struct mp_adapter_conf *adapters; /* adapters: (mp_config_adapters.h) */
    char *dmarc_tenant;       /* dmarc.tenant; NULL when not set */
    int dmarc_retention_days; /* dmarc.retention_days; 0: ENG_DMARC_RETENTION_DAYS_DEFAULT */
};

/* Load and validate `path`. On success *out owns a new config. */
int mp_config_load(const char *path, struct mp_config **out, char *err, size_t errlen);
void mp_config_free(struct mp_config *cfg);
/* An eng_limits_fn over the limits section: `arg` is the struct mp_config;
 * out gets the tenant's override where it names one, else the defaults.
 * Read-only: any thread. */
void mp_config_tenant_limits(void *arg, const char *tenant, size_t len,
                             struct eng_tenant_limits *out);
/* 1 when a key cap of cfg's limits (the default or a tenant's) is over
 * `most` keys: a reload refuses such limits (half the running max_keys). */
int mp_config_limits_over(const struct mp_config *cfg, uint32_t most);


#endif
