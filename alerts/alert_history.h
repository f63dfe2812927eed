/* alert_history.h — past alerts: each alert's life (fired, severity
 * changed, silenced, resolved) kept per tenant in time order, for the web
 * UI's time axis and GET /v1/tenants/{tenant}/alerts/history.
 *
 * What is kept: one entry per lifecycle step that receivers hear of (or
 * would, but for a silence): `fired` (pending or inactive -> firing),
 * `severity` (a firing alert changes level), `resolved` (firing ->
 * inactive, a disabled or removed rule included) and `silenced` (a firing
 * alert's news was held back by an active silence; its ids are kept). A
 * pending alert that falls back leaves nothing, as it tells no one.
 * Each entry holds the alert as the webhook carries it (labels,
 * annotations with the figures, startsAt, endsAt, fingerprint), the step,
 * its time, and the scope and name of the key it is about.
 *
 * Layout, column family `history` of the alerts store (ENG_KV_HISTORY):
 *   key:   tenant NUL be64(at_ms) be32(seq)        (a tenant's in time order)
 *   value: ver(1) scope(1) event(1) pad(1) be16(name_len) name, then the
 *          entry's JSON
 * scope is ALERT_HISTORY_EXTERNAL for an external alert (a blocklist
 * listing, a DMARC rate: alert_external.h), whose name is "".
 *
 * Retention: entries older than retention_ms (the counters' retention)
 * are deleted with a tenant's writes, at most once an hour per tenant, in
 * the batch that adds the entry; a tenant that never alerts again keeps
 * what it had until its next entry (reads never show entries older than
 * the retention).
 *
 * Threads: a writer (alert_history_new/add/free) belongs to one thread,
 * the evaluator's; the entries go into the caller's batch, committed with
 * the alert state that caused them (never one without the other).
 * alert_history_read is any thread (a store read).
 * Returns MP_OK, MP_ERR_NOMEM, MP_ERR_IO (the store read failed).
 */
#ifndef ALERT_HISTORY_H
#define ALERT_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "alert_notify.h"
#include "eng_store.h"
#include "mp.h"

enum alert_history_event {
    ALERT_HIST_FIRED = 1,
    ALERT_HIST_SEVERITY = 2,
    ALERT_HIST_RESOLVED = 3,
    ALERT_HIST_SILENCED = 4,
};
#define ALERT_HISTORY_EXTERNAL 0xff
#define ALERT_HISTORY_RETENTION_MS_DEFAULT (35LL * 86400 * 1000)
#define ALERT_HISTORY_LIMIT_DEFAULT 1000
#define ALERT_HISTORY_LIMIT_MAX 10000
/* A read looks at no more entries than this (newest first), so one query
 * over a tenant with years of flapping alerts stays bounded. */
#define ALERT_HISTORY_SCAN_MAX 200000

/* "fired", "severity", "resolved", "silenced"; NULL for another number. */
const char *alert_history_event_name(int ev);

struct alert_history;

/* retention_ms 0: the default. */
int alert_history_new(int64_t retention_ms, struct alert_history **out);
void alert_history_free(struct alert_history *h);

/* Adds step `ev` of alert a (its status, severity, times and figures as
 * receivers would see them) at at_ms to batch b, about key (scope, name)
 * (scope ALERT_HISTORY_EXTERNAL: an external alert, name ignored), with
 * the ids of the silences that muted it (ev ALERT_HIST_SILENCED). Queues
 * the tenant's prune when due. MP_OK or MP_ERR_NOMEM (nothing added). */
int alert_history_add(struct alert_history *h, struct eng_store_batch *b, int ev,
                      const struct alert_instance *a, int scope, const char *name,
                      const char *const *silence_ids, size_t nids, int64_t at_ms);

struct alert_history_query {
    const char *tenant;    /* required */
    int scope;             /* -1: every scope (external alerts included) */
    const char *name;      /* with scope: that key only; NULL: every key of the scope */
    const char *alertname; /* NULL: every alert */
    int64_t from_ms, to_ms; /* from <= at <= to */
    size_t limit;          /* the newest `limit` entries; 0: the default */
};

/* The entries q selects, oldest first, as {"entries": [{at, event, scope,
 * name, silences?, alert}], "truncated": bool (more matched than the limit,
 * or the scan bound was reached)} (a new reference in *out). */
int alert_history_read(struct eng_store *s, const struct alert_history_query *q, json_t **out);

#endif
