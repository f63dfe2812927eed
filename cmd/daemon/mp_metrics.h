/* mp_metrics.h — GET /metrics: the daemon's figures in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * Contract: every metric is one row of a table in mp_metrics.c (name, help,
 * type, and where its value sits in a struct mp_metrics_snap); one loop
 * renders the rows in table order as "# HELP", "# TYPE" and the sample
 * line(s). The per-reason rejection counter is a row whose samples carry a
 * reason="..." label, one per ingest reason (ingest_reason_name) except 0.
 * Names, types, labels and value formats are a public interface (the e2e
 * tests, the benches and people's dashboards parse them): counts print as
 * decimal integers, durations as seconds with six decimals.
 *
 * mp_metrics_read() takes one snapshot from the running parts; every source
 * it reads is safe from any thread (ingest_figures, alert_eval_figures,
 * alert_sender_figures, the table's counters, relaxed atomic loads of the
 * flush figures), so it runs on the HTTP thread. The figures are read one
 * after the other, not as one atomic view. mp_metrics_render() is pure: it
 * appends to `out` and returns MP_OK or MP_ERR_NOMEM. mp_metrics_reply()
 * is both, as an HTTP reply (200, or 500 without memory).
 *
 * Histograms (kind METRICS_HIST: base/mp_hist) render as one family with
 * `_bucket{le=...}`, `_sum` and `_count`; the per-receiver families carry a
 * receiver="..." label (escaped as the text format wants); the process_*
 * rows follow the Prometheus client conventions (no mailpulse_ prefix).
 *
 * struct mp_metrics_flush: the store flush figures. The main thread, the
 * only one that flushes, adds with mp_metrics_flush_record(); readers load
 * them relaxed: each is a monotonic counter (or the last duration) read on
 * its own, with no other memory published through it.
 */
#ifndef MP_METRICS_H
#define MP_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "alert_eval.h"
#include "alert_sender.h"
#include "eng_store.h"
#include "eng_table.h"
#include "ingest_journal.h"
#include "ingest_worker.h"
#include "mp_gate.h"
#include "mp.h"
#include "mp_atomic.h"
#include "mp_buf.h"
#include "mp_hist.h"
#include "mp_http.h"
#include "eng_store.h"

struct mp_metrics_flush {
    mp_atomic_u64 flushes, failures, entries, ns_total, ns_last;
    struct mp_hist hist; /* flush durations; mp_metrics_flush_init() sets its buckets */
};

/* Before the first record and before any reader (the daemon's start). */
void mp_metrics_flush_init(struct mp_metrics_flush *f);

/* One flush of `entries` store entries that took `ns` nanoseconds; `ok` 0
 * counts it as failed too. Main thread only (see above). */
void mp_metrics_flush_record(struct mp_metrics_flush *f, size_t entries, int64_t ns, int ok);

/* The parts of a running daemon the figures come from; borrowed, and they
 * must outlive every reader (the HTTP server stops first). */
struct mp_config;
struct mp_dmarc_rules;

struct mp_metrics_sources {
    struct eng_table *table;
    struct ingest *ingest;
    struct ingest_journal *journal; /* NULL: no journal figures */
    struct alert_eval *eval;
    struct alert_sender *sender;
    const struct mp_metrics_flush *flush;
    int64_t started_ms; /* wall clock at start, for the uptime */
    /* The counters store (NULL: no store figures, zeros). Also, with the
     * alerts store, the journal's store and data_dir, what POST
     * /v1/admin/checkpoint (mp_api.h) copies; NULL store or data_dir: that
     * route answers 503 (NULL jstore: the journal lives in `store`). */
    struct eng_store *store, *astore, *jstore;
    const char *data_dir;
    /* Silences, for /api/v2/ (mp_amapi.h); NULL: that API answers 503. */
    struct alert_silences *silences;
    struct mp_gate *gate; /* the send gate (mp_gate.h); NULL: /v1/gate answers 503 */
    struct mp_dnsbl *dnsbl; /* the blocklist checker (mp_dnsbl.h); NULL: its figures are 0 */
    struct mp_dmarc_rules *dmarc_rules; /* the DMARC rules (mp_dmarc_rules.h); NULL: none */
    /* The config, for the adapters (mp_adapters.h); NULL: none. */
    const struct mp_config *cfg;
};

/* Every figure /metrics shows, as read at one moment. */
struct mp_metrics_snap {
    struct ingest_figures ingest;
    struct ingest_journal_figures journal;
    struct alert_eval_figures eval;
    struct alert_sender_figures sender;
    uint64_t keys, table_bytes, series, keys_cold, evictions, loads;
    uint64_t flushes, flush_failures, flush_entries, flush_ns_total, flush_ns_last;
    int64_t resident_bytes, uptime_s;
    /* issue 10: the store, the evaluator's and outbox's timings, the process */
    struct mp_hist_snap flush_hist;
    struct eng_store_health store;
    uint64_t outbox_oldest_ns; /* age of the oldest queued notification; 0: none */
    size_t nreceivers;
    struct alert_receiver_figures receivers[ALERT_SENDER_RECEIVERS_MAX + 1];
    uint64_t cpu_ns, open_fds, max_fds;
    int64_t start_time_s;
    struct alert_gate_figures gate;    /* issue 13: the send gate */
    struct mp_policy_figures policy;   /* and its Postfix policy server */
};

void mp_metrics_read(const struct mp_metrics_sources *src, int64_t now_ms,
                     struct mp_metrics_snap *out);
int mp_metrics_render(const struct mp_metrics_snap *s, struct mp_buf *out);
void mp_metrics_reply(const struct mp_metrics_sources *src, struct mp_http_reply *out);

#endif
