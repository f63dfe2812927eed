/* mp_metrics.c — the /metrics table and its renderer (see mp_metrics.h). */
#include "mp_metrics.h"
#include "mp_metrics_tenant.h"
#include "mp_dnsbl.h"

#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ingest_validate.h"

/* How a row's value is stored in the snapshot and printed. */
enum metrics__kind {
    METRICS_U64,     /* uint64_t, decimal */
    METRICS_I64,     /* int64_t, decimal */
    METRICS_SECONDS, /* uint64_t nanoseconds, printed as seconds with six decimals */
    METRICS_REASONS, /* uint64_t[INGEST_REASON_COUNT], one sample per reason but 0 */
    METRICS_ACKS,    /* uint64_t[INGEST_ACK_STATUSES], one sample per Ack status */
    METRICS_HIST,    /* struct mp_hist_snap, durations: _bucket, _sum, _count */
    METRICS_EP,      /* uint64_t in ingest.ep[0], one sample per endpoint (stride: the struct) */
    METRICS_EP_REASONS, /* uint64_t[INGEST_REASON_COUNT] in ingest.ep[0], per endpoint, reason */
};

static const char *const metrics__endpoint[INGEST_ENDPOINTS] = {"pull", "router"};

static const char *const metrics__ack_status[INGEST_ACK_STATUSES] = {"ok", "duplicate",
                                                                     "rejected", "retry"};

struct metrics__row {
    const char *name;
    const char *type; /* "counter" or "gauge" */
    enum metrics__kind kind;
    size_t off; /* of the value in struct mp_metrics_snap */
    const char *help;
};

#define ROW(name, type, kind, field, help) \
    {"mailpulse_" name, type, kind, offsetof(struct mp_metrics_snap, field), help}
#define COUNTER(name, field, help) ROW(name, "counter", METRICS_U64, field, help)
#define GAUGE(name, field, help) ROW(name, "gauge", METRICS_U64, field, help)
#define HIST(name, field, help) ROW(name, "histogram", METRICS_HIST, field, help)
/* The Prometheus client conventions' process figures: no prefix. */
#define PROCESS(name, type, kind, field, help) \
    {"process_" name, type, kind, offsetof(struct mp_metrics_snap, field), help}

/* In the order /metrics has always listed them. */
static const struct metrics__row metrics__rows[] = {
    COUNTER("ingest_frames_total", ingest.frames, "Frames received on the PULL endpoint."),
    COUNTER("ingest_bytes_total", ingest.bytes, "Bytes received."),
    COUNTER("events_received_total", ingest.events, "Events decoded from batches."),
    COUNTER("events_accepted_total", ingest.accepted, "Events counted."),
    ROW("rejected_total", "counter", METRICS_REASONS, ingest.rejected,
        "Events (or whole frames, for bad_frame, empty_batch and the frame limits) refused, "
        "by reason."),
    COUNTER("ingest_duplicates_total", ingest.duplicates,
            "Batches not applied: their (producer_id, sequence) was applied before (PUSH and "
            "acked)."),
    ROW("acks_total", "counter", METRICS_ACKS, ingest.acks, "Acks sent on ingest.router, by status."),
    COUNTER("journal_commits_total", journal.commits,
            "Synced journal writes (group commits) of acked batches."),
    COUNTER("journal_commit_failures_total", journal.commit_failures,
            "Journal writes that failed (their batches were answered retry)."),
    COUNTER("journal_batches_total", journal.batches, "Acked batches written to the journal."),
    GAUGE("journal_group_max", journal.group_max, "Most batches in one journal write."),
    GAUGE("journal_replayed", journal.replayed, "Journal batches replayed at start."),
    GAUGE("journal_watermark", journal.watermark,
          "Highest journal id whose effects a counter flush has stored."),
    COUNTER("ingest_curve_denied_total", ingest.curve_denied, /* [i9-curve] */
            "CurveZMQ handshakes refused (unknown client key or not CURVE)."),
    GAUGE("keys", keys, "Keys in the table (all scopes)."),
    GAUGE("table_bytes", table_bytes, "Bytes held by the key table."),
    ROW("resident_bytes", "gauge", METRICS_I64, resident_bytes, "Resident set size of the daemon."),
    GAUGE("alerts_firing", eval.firing, "Alerts firing now."),
    GAUGE("alerts_pending", eval.pending, "Alerts over a threshold whose `for` runs."),
    COUNTER("alerts_restored_total", eval.restored, "Alerts read back from the store at start."),
    COUNTER("alert_state_errors_total", eval.state_errors,
            "Alert state or outbox writes that failed."),
    COUNTER("rules_reloads_total", eval.reloads, "Rule, receiver and route reloads applied."),
    COUNTER("keys_evaluated_total", eval.keys_evaluated, "Key evaluations."),
    COUNTER("notifications_total", eval.notifications, "Notifications handed to the sender."),
    COUNTER("alerts_unrouted_total", eval.unrouted, "Alerts of tenants with no receiver."),
    COUNTER("eval_deferred_total", eval.unstable,
            "Key evaluations put off because a batch was still being counted into the key."),
    COUNTER("webhook_delivered_total", sender.delivered, "Notifications answered with 2xx."),
    COUNTER("webhook_attempts_total", sender.attempts, "HTTP attempts."),
    COUNTER("webhook_failed_attempts_total", sender.failed_attempts, "Attempts without a 2xx."),
    COUNTER("webhook_rate_limited_total", sender.rate_limited, "Answers with 429."),
    COUNTER("slack_merged_total", sender.merged,
            "Slack notifications sent inside another's message."),
    COUNTER("dead_letters_total", sender.dead, "Notifications given up on since start."),
    GAUGE("dead_letters", sender.dead_stored, "Dead letters held (GET /v1/alerts/dead)."),
    GAUGE("outbox_queued", sender.queued, "Notifications in the outbox, not yet delivered."),
    COUNTER("store_flushes_total", flushes, "Flushes of changed counters to RocksDB."),
    COUNTER("store_flush_failures_total", flush_failures, "Flushes that failed."),
    COUNTER("store_flush_entries_total", flush_entries, "Store entries written by flushes."),
    ROW("store_flush_seconds_total", "counter", METRICS_SECONDS, flush_ns_total,
        "Time spent flushing."),
    ROW("store_flush_last_seconds", "gauge", METRICS_SECONDS, flush_ns_last,
        "Duration of the last flush."),
    GAUGE("keys_cold", keys_cold, "Keys whose counters are only in the store (idle)."),
    COUNTER("key_evictions_total", evictions, "Idle keys that left memory."),
    COUNTER("key_loads_total", loads, "Cold keys read back from the store."),
    GAUGE("counter_series", series, "Counter series in memory (key x event type)."),
    ROW("uptime_seconds", "gauge", METRICS_I64, uptime_s, "Seconds since start."),
    /* issue 10: below the rows above, which keep their order */
    ROW("ingest_endpoint_frames_total", "counter", METRICS_EP, ingest.ep[0].frames,
        "Frames received, by endpoint (pull: ingest.pull; router: ingest.router and replays)."),
    ROW("ingest_endpoint_bytes_total", "counter", METRICS_EP, ingest.ep[0].bytes,
        "Bytes received, by endpoint."),
    ROW("ingest_endpoint_events_total", "counter", METRICS_EP, ingest.ep[0].events,
        "Events decoded, by endpoint."),
    ROW("ingest_endpoint_accepted_total", "counter", METRICS_EP, ingest.ep[0].accepted,
        "Events counted, by endpoint."),
    ROW("ingest_endpoint_rejected_total", "counter", METRICS_EP_REASONS, ingest.ep[0].rejected,
        "Events (or whole frames) refused, by endpoint and reason."),
    HIST("store_flush_duration_seconds", flush_hist, "Counter flushes to RocksDB, by duration."),
    COUNTER("store_commits_total", store.commits, "Write batches committed to RocksDB (all writers)."),
    COUNTER("store_written_bytes_total", store.bytes_written,
            "Bytes of the write batches committed (their serialized size)."),
    COUNTER("store_write_failures_total", store.write_failures,
            "RocksDB writes (and recovery reopens) that failed."),
    COUNTER("store_write_refused_total", store.refused,
            "Writes refused while the store recovers from a failed write."),
    COUNTER("store_recoveries_total", store.recoveries,
            "Reopens that made the store writable again."),
    GAUGE("store_write_stopped", store.write_stopped,
          "1 while RocksDB stops writes (rocksdb.is-write-stopped), else 0."),
    GAUGE("store_delayed_write_rate_bytes", store.delayed_rate,
          "RocksDB's write rate while it slows writers down (0: no delay)."),
    HIST("eval_pass_duration_seconds", eval.pass,
         "Evaluator passes that did work (dirty keys, the sweep or a reload), by duration."),
    HIST("eval_sweep_duration_seconds", eval.sweep,
         "The once-a-second sweeps of what time alone changes, by duration."),
    GAUGE("eval_dirty_keys", eval.dirty_last, "Dirty keys drained by the last pass that had any."),
    COUNTER("eval_reevaluations_total", eval.walks,
            "Walks re-evaluating every key after a start or a rule change, finished."),
    COUNTER("eval_reevaluated_keys_total", eval.walk_keys, "Keys those walks evaluated."),
    ROW("eval_reevaluation_last_seconds", "gauge", METRICS_SECONDS, eval.walk_last_ns,
        "The last walk: from the rule switch to its end."),
    ROW("outbox_oldest_age_seconds", "gauge", METRICS_SECONDS, outbox_oldest_ns,
        "Age of the oldest notification still in the outbox (0: empty)."),
    PROCESS("resident_memory_bytes", "gauge", METRICS_I64, resident_bytes,
            "Resident memory size in bytes."),
    PROCESS("cpu_seconds_total", "counter", METRICS_SECONDS, cpu_ns,
            "Total user and system CPU time spent in seconds."),
    PROCESS("open_fds", "gauge", METRICS_U64, open_fds, "Number of open file descriptors."),
    PROCESS("max_fds", "gauge", METRICS_U64, max_fds,
            "Maximum number of open file descriptors."),
    PROCESS("start_time_seconds", "gauge", METRICS_I64, start_time_s,
            "Start time of the process since unix epoch in seconds."),
    /* issue 13: the send gate (mp_gate.h) and its policy server (mp_policy.h) */
    GAUGE("gate_pauses", gate.paused, "Pauses the send gate holds now (cooling ones included)."),
    GAUGE("gate_pauses_cooling", gate.cooling, "Pauses waiting out gate.cool_down."),
    COUNTER("gate_paused_total", gate.events[ALERT_GATE_PAUSED], "Pauses begun."),
    COUNTER("gate_cooling_total", gate.events[ALERT_GATE_COOLING], "Cool-downs begun."),
    COUNTER("gate_rearmed_total", gate.events[ALERT_GATE_REARMED], "Cooling pauses re-armed."),
    COUNTER("gate_lifted_total", gate.events[ALERT_GATE_LIFTED], "Pauses lifted after cool-down."),
    COUNTER("gate_silenced_total", gate.events[ALERT_GATE_SILENCED], "Pauses lifted by silences."),
    COUNTER("gate_decisions_total", gate.decisions, "Gate decisions (HTTP and policy)."),
    COUNTER("gate_decisions_paused_total", gate.decisions_paused, "Decisions that said pause."),
    COUNTER("policy_connections_total", policy.connections, "Policy connections accepted."),
    COUNTER("policy_refused_total", policy.refused, "Policy connections refused (too many)."),
    COUNTER("policy_requests_total", policy.requests, "Policy requests answered."),
    COUNTER("policy_paused_total", policy.paused, "Policy answers with the pause action."),
    COUNTER("policy_unmapped_total", policy.unmapped, "Policy senders of no tenant (DUNNO)."),
    COUNTER("policy_bad_requests_total", policy.bad, "Bad policy requests (connection closed)."),
};

void mp_metrics_flush_init(struct mp_metrics_flush *f)
{
    mp_hist_init(&f->hist, mp_hist_latency_ns, MP_HIST_LATENCY_N);
}

void mp_metrics_flush_record(struct mp_metrics_flush *f, size_t entries, int64_t ns, int ok)
{
    mp_hist_observe(&f->hist, ns > 0 ? (uint64_t)ns : 0);
    mp_add_relaxed(&f->flushes, 1);
    mp_add_relaxed(&f->entries, entries);
    mp_add_relaxed(&f->ns_total, (uint64_t)ns);
    mp_store_relaxed(&f->ns_last, (uint64_t)ns);
    if (!ok)
        mp_add_relaxed(&f->failures, 1);
}

/* getrusage for the CPU time, /proc/self/fd for the open descriptors (no
 * /proc: 0), the soft RLIMIT_NOFILE for the maximum. */
static void metrics__process(struct mp_metrics_snap *out)
{
    struct rusage ru;
    struct rlimit rl;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        out->cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
                      ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                out->open_fds++;
        closedir(d);
        if (out->open_fds)
            out->open_fds--; /* the directory's own descriptor */
    }
}

void mp_metrics_read(const struct mp_metrics_sources *src, int64_t now_ms,
                     struct mp_metrics_snap *out)
{
    memset(out, 0, sizeof(*out));
    ingest_figures(src->ingest, &out->ingest);
    if (src->journal)
        ingest_journal_figures(src->journal, &out->journal);
    alert_eval_figures(src->eval, &out->eval);
    alert_sender_figures(src->sender, &out->sender);
    out->keys = eng_table_nkeys(src->table);
    out->table_bytes = eng_table_bytes(src->table);
    out->series = eng_table_nseries(src->table);
    eng_table_residency(src->table, &out->keys_cold, &out->evictions, &out->loads);
    out->flushes = mp_load_relaxed(&src->flush->flushes);
    out->flush_failures = mp_load_relaxed(&src->flush->failures);
    out->flush_entries = mp_load_relaxed(&src->flush->entries);
    out->flush_ns_total = mp_load_relaxed(&src->flush->ns_total);
    out->flush_ns_last = mp_load_relaxed(&src->flush->ns_last);
    out->resident_bytes = mp_rss_bytes();
    out->uptime_s = (now_ms - src->started_ms) / 1000;
    mp_hist_read(&src->flush->hist, &out->flush_hist);
    if (src->store)
        eng_store_health(src->store, &out->store);
    if (out->sender.oldest_ms && now_ms > out->sender.oldest_ms)
        out->outbox_oldest_ns = (uint64_t)(now_ms - out->sender.oldest_ms) * 1000000u;
    out->nreceivers = alert_sender_receiver_figures(src->sender, out->receivers,
                                                    MP_ARRAY_LEN(out->receivers));
    metrics__process(out);
    out->start_time_s = src->started_ms / 1000;
    if (src->gate) {
        alert_gate_figures(mp_gate_core(src->gate), &out->gate);
        mp_policy_figures(mp_gate_policy(src->gate), &out->policy);
    }
}

static int metrics__row(const struct metrics__row *r, const char *at, struct mp_buf *out)
{
    uint64_t u;
    int64_t i;
    int rc = mp_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", r->name, r->help, r->name,
                           r->type);
    switch (r->kind) {
    case METRICS_U64:
        memcpy(&u, at, sizeof(u));
        return rc ? rc : mp_buf_printf(out, "%s %llu\n", r->name, (unsigned long long)u);
    case METRICS_I64:
        memcpy(&i, at, sizeof(i));
        return rc ? rc : mp_buf_printf(out, "%s %lld\n", r->name, (long long)i);
    case METRICS_SECONDS:
        memcpy(&u, at, sizeof(u));
        return rc ? rc : mp_buf_printf(out, "%s %.6f\n", r->name, (double)u / 1e9);
    case METRICS_REASONS:
        for (int k = 1; rc == MP_OK && k < INGEST_REASON_COUNT; k++) {
            memcpy(&u, at + (size_t)k * sizeof(u), sizeof(u));
            rc = mp_buf_printf(out, "%s{reason=\"%s\"} %llu\n", r->name, ingest_reason_name(k),
                               (unsigned long long)u);
        }
        return rc;
    case METRICS_HIST:
        return rc ? rc : mp_hist_render((const struct mp_hist_snap *)(const void *)at, r->name,
                                        NULL, out);
    case METRICS_EP:
        for (int e = 0; rc == MP_OK && e < INGEST_ENDPOINTS; e++) {
            memcpy(&u, at + (size_t)e * sizeof(struct ingest_endpoint_figures), sizeof(u));
            rc = mp_buf_printf(out, "%s{endpoint=\"%s\"} %llu\n", r->name, metrics__endpoint[e],
                               (unsigned long long)u);
        }
        return rc;
    case METRICS_EP_REASONS:
        for (int e = 0; rc == MP_OK && e < INGEST_ENDPOINTS; e++)
            for (int k = 1; rc == MP_OK && k < INGEST_REASON_COUNT; k++) {
                memcpy(&u, at + (size_t)e * sizeof(struct ingest_endpoint_figures) +
                               (size_t)k * sizeof(u), sizeof(u));
                rc = mp_buf_printf(out, "%s{endpoint=\"%s\",reason=\"%s\"} %llu\n", r->name,
                                   metrics__endpoint[e], ingest_reason_name(k),
                                   (unsigned long long)u);
            }
        return rc;
    case METRICS_ACKS:
        for (int k = 0; rc == MP_OK && k < INGEST_ACK_STATUSES; k++) {
            memcpy(&u, at + (size_t)k * sizeof(u), sizeof(u));
            rc = mp_buf_printf(out, "%s{status=\"%s\"} %llu\n", r->name, metrics__ack_status[k],
                               (unsigned long long)u);
        }
        return rc;
    }
    return MP_ERR_INVAL;
}

/* `receiver="<name>"` with the text format's label escapes (\\, \", \n):
 * the name grammar has none of them today, the format is kept anyway. */
static void metrics__label(char *buf, size_t n, const char *name)
{
    size_t k = (size_t)snprintf(buf, n, "receiver=\"");
    for (const char *p = name; *p && k + 3 < n; p++) {
        if (*p == '\\' || *p == '"' || *p == '\n')
            buf[k++] = '\\';
        buf[k++] = *p == '\n' ? 'n' : *p;
    }
    snprintf(buf + k, n - k, "\"");
}

/* The per-receiver families: one HELP/TYPE each, then one series per name. */
static int metrics__receivers(const struct mp_metrics_snap *s, struct mp_buf *out)
{
    static const struct {
        const char *name, *help;
        size_t off;
    } counters[] = {
        {"mailpulse_receiver_attempts_total", "HTTP attempts, by receiver.",
         offsetof(struct alert_receiver_figures, attempts)},
        {"mailpulse_receiver_failed_attempts_total", "Attempts without a 2xx, by receiver.",
         offsetof(struct alert_receiver_figures, failures)},
        {"mailpulse_receiver_delivered_total", "Notifications answered with 2xx, by receiver.",
         offsetof(struct alert_receiver_figures, delivered)},
    };
    char label[160];
    int rc = MP_OK;
    for (size_t c = 0; rc == MP_OK && c < MP_ARRAY_LEN(counters); c++) {
        rc = mp_buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name,
                           counters[c].help, counters[c].name);
        for (size_t i = 0; rc == MP_OK && i < s->nreceivers; i++) {
            uint64_t v;
            memcpy(&v, (const char *)&s->receivers[i] + counters[c].off, sizeof(v));
            metrics__label(label, sizeof(label), s->receivers[i].name);
            rc = mp_buf_printf(out, "%s{%s} %llu\n", counters[c].name, label,
                               (unsigned long long)v);
        }
    }
    const char *h = "mailpulse_receiver_delivery_duration_seconds";
    if (rc == MP_OK)
        rc = mp_buf_printf(out,
                           "# HELP %s From a notification's decision to its 2xx, per delivered "
                           "message, by receiver.\n# TYPE %s histogram\n", h, h);
    for (size_t i = 0; rc == MP_OK && i < s->nreceivers; i++) {
        metrics__label(label, sizeof(label), s->receivers[i].name);
        rc = mp_hist_render(&s->receivers[i].latency, h, label, out);
    }
    return rc;
}

int mp_metrics_render(const struct mp_metrics_snap *s, struct mp_buf *out)
{
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < MP_ARRAY_LEN(metrics__rows); i++)
        rc = metrics__row(&metrics__rows[i], (const char *)s + metrics__rows[i].off, out);
    return rc == MP_OK ? metrics__receivers(s, out) : rc;
}

void mp_metrics_reply(const struct mp_metrics_sources *src, struct mp_http_reply *out)
{
    struct mp_metrics_snap s;
    struct mp_buf b = MP_BUF_INIT;
    mp_metrics_read(src, mp_now_ms(), &s);
    if (mp_metrics_render(&s, &b) != MP_OK || mp_metrics_tenant_render(src->table, &b) != MP_OK ||
        mp_dnsbl_render_metrics(src->dnsbl, &b) != MP_OK)
        mp_buf_free(&b);
    out->status = b.p ? 200 : 500;
    out->content_type = "text/plain; version=0.0.4";
    out->len = b.len;
    out->body = mp_buf_take(&b);
}
