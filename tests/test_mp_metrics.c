/* test_mp_metrics.c — Check suite "mp_metrics": cmd/daemon/mp_metrics, the
 * /metrics table and its Prometheus text renderer.
 *
 * A snapshot with a distinct value in every field renders to exactly the
 * text /metrics has always served (names, HELP, TYPE, the reason labels,
 * integer and six-decimal seconds formats), so a field wired to the wrong
 * row or a renamed metric fails here before any dashboard notices; the e2e
 * harness's parser reads the labelled series back; the flush figures add
 * up as the main thread records them.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "e2e_harness.h"
#include "ingest_validate.h"
#include "mp_metrics.h"
#include "mp_metrics_tenant.h"
#include "prom_text.h"

/* What the daemon before the table (a 152-line function) printed for it. */
static const char golden[] =
    "# HELP mailpulse_ingest_frames_total Frames received on the PULL endpoint.\n"
    "# TYPE mailpulse_ingest_frames_total counter\n"
    "mailpulse_ingest_frames_total 1\n"
    "# HELP mailpulse_ingest_bytes_total Bytes received.\n"
    "# TYPE mailpulse_ingest_bytes_total counter\n"
    "mailpulse_ingest_bytes_total 2\n"
    "# HELP mailpulse_events_received_total Events decoded from batches.\n"
    "# TYPE mailpulse_events_received_total counter\n"
    "mailpulse_events_received_total 3\n"
    "# HELP mailpulse_events_accepted_total Events counted.\n"
    "# TYPE mailpulse_events_accepted_total counter\n"
    "mailpulse_events_accepted_total 4\n"
    "# HELP mailpulse_rejected_total Events (or whole frames, for bad_frame, empty_batch and the frame limits) refused, by reason.\n"
    "# TYPE mailpulse_rejected_total counter\n"
    "mailpulse_rejected_total{reason=\"bad_frame\"} 101\n"
    "mailpulse_rejected_total{reason=\"empty_batch\"} 102\n"
    "mailpulse_rejected_total{reason=\"tenant_invalid\"} 103\n"
    "mailpulse_rejected_total{reason=\"mailbox_invalid\"} 104\n"
    "mailpulse_rejected_total{reason=\"domain_invalid\"} 105\n"
    "mailpulse_rejected_total{reason=\"type_unknown\"} 106\n"
    "mailpulse_rejected_total{reason=\"time_missing\"} 107\n"
    "mailpulse_rejected_total{reason=\"time_too_old\"} 108\n"
    "mailpulse_rejected_total{reason=\"time_in_future\"} 109\n"
    "mailpulse_rejected_total{reason=\"capacity\"} 110\n"
    "mailpulse_rejected_total{reason=\"internal\"} 111\n"
    "mailpulse_rejected_total{reason=\"frame_too_large\"} 112\n"
    "mailpulse_rejected_total{reason=\"batch_too_large\"} 113\n"
    "mailpulse_rejected_total{reason=\"producer_id_too_long\"} 114\n"
    "mailpulse_rejected_total{reason=\"tenant_key_cap\"} 115\n"
    "mailpulse_rejected_total{reason=\"tenant_rate_cap\"} 116\n"
    "mailpulse_rejected_total{reason=\"tenant_forbidden\"} 117\n"
    "mailpulse_rejected_total{reason=\"campaign_invalid\"} 118\n"
    "# HELP mailpulse_ingest_duplicates_total Batches not applied: their (producer_id, sequence) was applied before (PUSH and acked).\n"
    "# TYPE mailpulse_ingest_duplicates_total counter\n"
    "mailpulse_ingest_duplicates_total 40\n"
    "# HELP mailpulse_acks_total Acks sent on ingest.router, by status.\n"
    "# TYPE mailpulse_acks_total counter\n"
    "mailpulse_acks_total{status=\"ok\"} 41\n"
    "mailpulse_acks_total{status=\"duplicate\"} 42\n"
    "mailpulse_acks_total{status=\"rejected\"} 43\n"
    "mailpulse_acks_total{status=\"retry\"} 44\n"
    "# HELP mailpulse_journal_commits_total Synced journal writes (group commits) of acked batches.\n"
    "# TYPE mailpulse_journal_commits_total counter\n"
    "mailpulse_journal_commits_total 45\n"
    "# HELP mailpulse_journal_commit_failures_total Journal writes that failed (their batches were answered retry).\n"
    "# TYPE mailpulse_journal_commit_failures_total counter\n"
    "mailpulse_journal_commit_failures_total 46\n"
    "# HELP mailpulse_journal_batches_total Acked batches written to the journal.\n"
    "# TYPE mailpulse_journal_batches_total counter\n"
    "mailpulse_journal_batches_total 47\n"
    "# HELP mailpulse_journal_group_max Most batches in one journal write.\n"
    "# TYPE mailpulse_journal_group_max gauge\n"
    "mailpulse_journal_group_max 48\n"
    "# HELP mailpulse_journal_replayed Journal batches replayed at start.\n"
    "# TYPE mailpulse_journal_replayed gauge\n"
    "mailpulse_journal_replayed 49\n"
    "# HELP mailpulse_journal_watermark Highest journal id whose effects a counter flush has stored.\n"
    "# TYPE mailpulse_journal_watermark gauge\n"
    "mailpulse_journal_watermark 50\n"
    "# HELP mailpulse_ingest_curve_denied_total CurveZMQ handshakes refused (unknown client key or not CURVE).\n"
    "# TYPE mailpulse_ingest_curve_denied_total counter\n"
    "mailpulse_ingest_curve_denied_total 35\n"
    "# HELP mailpulse_keys Keys in the table (all scopes).\n"
    "# TYPE mailpulse_keys gauge\n"
    "mailpulse_keys 5\n"
    "# HELP mailpulse_table_bytes Bytes held by the key table.\n"
    "# TYPE mailpulse_table_bytes gauge\n"
    "mailpulse_table_bytes 6\n"
    "# HELP mailpulse_resident_bytes Resident set size of the daemon.\n"
    "# TYPE mailpulse_resident_bytes gauge\n"
    "mailpulse_resident_bytes 7\n"
    "# HELP mailpulse_alerts_firing Alerts firing now.\n"
    "# TYPE mailpulse_alerts_firing gauge\n"
    "mailpulse_alerts_firing 8\n"
    "# HELP mailpulse_alerts_pending Alerts over a threshold whose `for` runs.\n"
    "# TYPE mailpulse_alerts_pending gauge\n"
    "mailpulse_alerts_pending 9\n"
    "# HELP mailpulse_alerts_restored_total Alerts read back from the store at start.\n"
    "# TYPE mailpulse_alerts_restored_total counter\n"
    "mailpulse_alerts_restored_total 10\n"
    "# HELP mailpulse_alert_state_errors_total Alert state or outbox writes that failed.\n"
    "# TYPE mailpulse_alert_state_errors_total counter\n"
    "mailpulse_alert_state_errors_total 11\n"
    "# HELP mailpulse_rules_reloads_total Rule, receiver and route reloads applied.\n"
    "# TYPE mailpulse_rules_reloads_total counter\n"
    "mailpulse_rules_reloads_total 12\n"
    "# HELP mailpulse_keys_evaluated_total Key evaluations.\n"
    "# TYPE mailpulse_keys_evaluated_total counter\n"
    "mailpulse_keys_evaluated_total 13\n"
    "# HELP mailpulse_notifications_total Notifications handed to the sender.\n"
    "# TYPE mailpulse_notifications_total counter\n"
    "mailpulse_notifications_total 14\n"
    "# HELP mailpulse_alerts_unrouted_total Alerts of tenants with no receiver.\n"
    "# TYPE mailpulse_alerts_unrouted_total counter\n"
    "mailpulse_alerts_unrouted_total 15\n"
    "# HELP mailpulse_eval_deferred_total Key evaluations put off because a batch was still being counted into the key.\n"
    "# TYPE mailpulse_eval_deferred_total counter\n"
    "mailpulse_eval_deferred_total 16\n"
    "# HELP mailpulse_webhook_delivered_total Notifications answered with 2xx.\n"
    "# TYPE mailpulse_webhook_delivered_total counter\n"
    "mailpulse_webhook_delivered_total 17\n"
    "# HELP mailpulse_webhook_attempts_total HTTP attempts.\n"
    "# TYPE mailpulse_webhook_attempts_total counter\n"
    "mailpulse_webhook_attempts_total 18\n"
    "# HELP mailpulse_webhook_failed_attempts_total Attempts without a 2xx.\n"
    "# TYPE mailpulse_webhook_failed_attempts_total counter\n"
    "mailpulse_webhook_failed_attempts_total 19\n"
    "# HELP mailpulse_webhook_rate_limited_total Answers with 429.\n"
    "# TYPE mailpulse_webhook_rate_limited_total counter\n"
    "mailpulse_webhook_rate_limited_total 20\n"
    "# HELP mailpulse_slack_merged_total Slack notifications sent inside another's message.\n"
    "# TYPE mailpulse_slack_merged_total counter\n"
    "mailpulse_slack_merged_total 21\n"
    "# HELP mailpulse_dead_letters_total Notifications given up on since start.\n"
    "# TYPE mailpulse_dead_letters_total counter\n"
    "mailpulse_dead_letters_total 22\n"
    "# HELP mailpulse_dead_letters Dead letters held (GET /v1/alerts/dead).\n"
    "# TYPE mailpulse_dead_letters gauge\n"
    "mailpulse_dead_letters 23\n"
    "# HELP mailpulse_outbox_queued Notifications in the outbox, not yet delivered.\n"
    "# TYPE mailpulse_outbox_queued gauge\n"
    "mailpulse_outbox_queued 24\n"
    "# HELP mailpulse_store_flushes_total Flushes of changed counters to RocksDB.\n"
    "# TYPE mailpulse_store_flushes_total counter\n"
    "mailpulse_store_flushes_total 25\n"
    "# HELP mailpulse_store_flush_failures_total Flushes that failed.\n"
    "# TYPE mailpulse_store_flush_failures_total counter\n"
    "mailpulse_store_flush_failures_total 26\n"
    "# HELP mailpulse_store_flush_entries_total Store entries written by flushes.\n"
    "# TYPE mailpulse_store_flush_entries_total counter\n"
    "mailpulse_store_flush_entries_total 27\n"
    "# HELP mailpulse_store_flush_seconds_total Time spent flushing.\n"
    "# TYPE mailpulse_store_flush_seconds_total counter\n"
    "mailpulse_store_flush_seconds_total 28.000001\n"
    "# HELP mailpulse_store_flush_last_seconds Duration of the last flush.\n"
    "# TYPE mailpulse_store_flush_last_seconds gauge\n"
    "mailpulse_store_flush_last_seconds 0.000029\n"
    "# HELP mailpulse_keys_cold Keys whose counters are only in the store (idle).\n"
    "# TYPE mailpulse_keys_cold gauge\n"
    "mailpulse_keys_cold 30\n"
    "# HELP mailpulse_key_evictions_total Idle keys that left memory.\n"
    "# TYPE mailpulse_key_evictions_total counter\n"
    "mailpulse_key_evictions_total 31\n"
    "# HELP mailpulse_key_loads_total Cold keys read back from the store.\n"
    "# TYPE mailpulse_key_loads_total counter\n"
    "mailpulse_key_loads_total 32\n"
    "# HELP mailpulse_counter_series Counter series in memory (key x event type).\n"
    "# TYPE mailpulse_counter_series gauge\n"
    "mailpulse_counter_series 33\n"
    "# HELP mailpulse_uptime_seconds Seconds since start.\n"
    "# TYPE mailpulse_uptime_seconds gauge\n"
    "mailpulse_uptime_seconds 34\n";

static void fill(struct mp_metrics_snap *s)
{
    memset(s, 0, sizeof(*s));
    s->ingest.frames = 1;
    s->ingest.bytes = 2;
    s->ingest.events = 3;
    s->ingest.accepted = 4;
    s->ingest.duplicates = 40;
    for (int k = 0; k < INGEST_ACK_STATUSES; k++)
        s->ingest.acks[k] = 41 + (uint64_t)k;
    s->journal = (struct ingest_journal_figures){.commits = 45, .commit_failures = 46,
                                                .batches = 47, .group_max = 48,
                                                .replayed = 49, .watermark = 50};
    for (int r = 0; r < INGEST_REASON_COUNT; r++)
        s->ingest.rejected[r] = 100 + (uint64_t)r; /* 100 (reason 0) is never shown */
    s->keys = 5;
    s->table_bytes = 6;
    s->resident_bytes = 7;
    s->eval = (struct alert_eval_figures){.firing = 8, .pending = 9, .restored = 10,
                                          .state_errors = 11, .reloads = 12,
                                          .keys_evaluated = 13, .notifications = 14,
                                          .unrouted = 15, .unstable = 16, .passes = 999};
    s->sender = (struct alert_sender_figures){.delivered = 17, .attempts = 18,
                                              .failed_attempts = 19, .rate_limited = 20,
                                              .merged = 21, .dead = 22, .dead_stored = 23,
                                              .queued = 24, .submitted = 998};
    s->flushes = 25;
    s->flush_failures = 26;
    s->flush_entries = 27;
    s->flush_ns_total = 28000001234ULL;
    s->flush_ns_last = 29500;
    s->keys_cold = 30;
    s->evictions = 31;
    s->loads = 32;
    s->series = 33;
    s->uptime_s = 34;
    s->ingest.curve_denied = 35;
}

/* issue 10's rows, after the old ones (which keep their order and text). */
static const char golden10[] =
    "# HELP mailpulse_ingest_endpoint_frames_total Frames received, by endpoint (pull: "
    "ingest.pull; router: ingest.router and replays).\n"
    "# TYPE mailpulse_ingest_endpoint_frames_total counter\n"
    "mailpulse_ingest_endpoint_frames_total{endpoint=\"pull\"} 80\n"
    "mailpulse_ingest_endpoint_frames_total{endpoint=\"router\"} 90\n"
    "# HELP mailpulse_ingest_endpoint_bytes_total Bytes received, by endpoint.\n"
    "# TYPE mailpulse_ingest_endpoint_bytes_total counter\n"
    "mailpulse_ingest_endpoint_bytes_total{endpoint=\"pull\"} 81\n"
    "mailpulse_ingest_endpoint_bytes_total{endpoint=\"router\"} 91\n"
    "# HELP mailpulse_ingest_endpoint_events_total Events decoded, by endpoint.\n"
    "# TYPE mailpulse_ingest_endpoint_events_total counter\n"
    "mailpulse_ingest_endpoint_events_total{endpoint=\"pull\"} 82\n"
    "mailpulse_ingest_endpoint_events_total{endpoint=\"router\"} 92\n"
    "# HELP mailpulse_ingest_endpoint_accepted_total Events counted, by endpoint.\n"
    "# TYPE mailpulse_ingest_endpoint_accepted_total counter\n"
    "mailpulse_ingest_endpoint_accepted_total{endpoint=\"pull\"} 83\n"
    "mailpulse_ingest_endpoint_accepted_total{endpoint=\"router\"} 93\n"
    "# HELP mailpulse_ingest_endpoint_rejected_total Events (or whole frames) refused, by endpoint "
    "and reason.\n"
    "# TYPE mailpulse_ingest_endpoint_rejected_total counter\n"
    "mailpulse_ingest_endpoint_rejected_total{endpoint=\"pull\",reason=\"bad_frame\"} 201\n";

/* After the rejected rows (2 x 18 of them). */
static const char golden10b[] =
    "mailpulse_ingest_endpoint_rejected_total{endpoint=\"router\",reason=\"tenant_forbidden\"} 317\n"
    "mailpulse_ingest_endpoint_rejected_total{endpoint=\"router\",reason=\"campaign_invalid\"} 318\n"
    "# HELP mailpulse_store_flush_duration_seconds Counter flushes to RocksDB, by duration.\n"
    "# TYPE mailpulse_store_flush_duration_seconds histogram\n"
    "mailpulse_store_flush_duration_seconds_bucket{le=\"0.001\"} 1\n"
    "mailpulse_store_flush_duration_seconds_bucket{le=\"0.1\"} 3\n"
    "mailpulse_store_flush_duration_seconds_bucket{le=\"+Inf\"} 4\n"
    "mailpulse_store_flush_duration_seconds_sum 2.500000000\n"
    "mailpulse_store_flush_duration_seconds_count 4\n"
    "# HELP mailpulse_store_commits_total Write batches committed to RocksDB (all writers).\n"
    "# TYPE mailpulse_store_commits_total counter\n"
    "mailpulse_store_commits_total 60\n"
    "# HELP mailpulse_store_written_bytes_total Bytes of the write batches committed (their "
    "serialized size).\n"
    "# TYPE mailpulse_store_written_bytes_total counter\n"
    "mailpulse_store_written_bytes_total 61\n"
    "# HELP mailpulse_store_write_failures_total RocksDB writes (and recovery reopens) that "
    "failed.\n"
    "# TYPE mailpulse_store_write_failures_total counter\n"
    "mailpulse_store_write_failures_total 62\n"
    "# HELP mailpulse_store_write_refused_total Writes refused while the store recovers from a "
    "failed write.\n"
    "# TYPE mailpulse_store_write_refused_total counter\n"
    "mailpulse_store_write_refused_total 63\n"
    "# HELP mailpulse_store_recoveries_total Reopens that made the store writable again.\n"
    "# TYPE mailpulse_store_recoveries_total counter\n"
    "mailpulse_store_recoveries_total 64\n"
    "# HELP mailpulse_store_write_stopped 1 while RocksDB stops writes (rocksdb.is-write-stopped), "
    "else 0.\n"
    "# TYPE mailpulse_store_write_stopped gauge\n"
    "mailpulse_store_write_stopped 1\n"
    "# HELP mailpulse_store_delayed_write_rate_bytes RocksDB's write rate while it slows writers "
    "down (0: no delay).\n"
    "# TYPE mailpulse_store_delayed_write_rate_bytes gauge\n"
    "mailpulse_store_delayed_write_rate_bytes 65\n";

static const uint64_t le2[2] = {1000000, 100000000};

static void fill10(struct mp_metrics_snap *s)
{
    struct mp_hist h;
    ck_assert_int_eq(mp_hist_init(&h, le2, 2), MP_OK);
    mp_hist_observe(&h, 500000);
    mp_hist_observe(&h, 2000000);
    mp_hist_observe(&h, 97500000);
    mp_hist_observe(&h, 2400000000u);
    mp_hist_read(&h, &s->flush_hist);
    s->store = (struct eng_store_health){.commits = 60, .bytes_written = 61,
                                         .write_failures = 62, .refused = 63,
                                         .recoveries = 64, .write_stopped = 1,
                                         .delayed_rate = 65};
    mp_hist_read(&h, &s->eval.pass);
    mp_hist_read(&h, &s->eval.sweep);
    s->eval.dirty_last = 66;
    s->eval.walks = 2; /* issue 11: the re-evaluation walks */
    s->eval.walk_keys = 1000003;
    s->eval.walk_last_ns = 320500000;
    s->outbox_oldest_ns = 67500000000ULL;
    s->nreceivers = 2;
    s->receivers[0] = (struct alert_receiver_figures){.name = "ops", .attempts = 68,
                                                      .failures = 69, .delivered = 70};
    mp_hist_read(&h, &s->receivers[0].latency);
    s->receivers[1] = (struct alert_receiver_figures){.name = "(other)", .attempts = 71};
    mp_hist_read(&h, &s->receivers[1].latency);
    for (int e = 0; e < INGEST_ENDPOINTS; e++) {
        s->ingest.ep[e] = (struct ingest_endpoint_figures){.frames = 80 + 10 * (uint64_t)e,
                                                           .bytes = 81 + 10 * (uint64_t)e,
                                                           .events = 82 + 10 * (uint64_t)e,
                                                           .accepted = 83 + 10 * (uint64_t)e};
        for (int r = 0; r < INGEST_REASON_COUNT; r++)
            s->ingest.ep[e].rejected[r] = 200 + 100 * (uint64_t)e + (uint64_t)r;
    }
    s->cpu_ns = 72250000000ULL;
    s->open_fds = 73;
    s->max_fds = 74;
    s->start_time_s = 1700000000;
}

START_TEST(renders_the_known_text)
{
    struct mp_metrics_snap s;
    struct mp_buf b = MP_BUF_INIT;
    uint64_t v = 0;
    fill(&s);
    fill10(&s);
    ck_assert_int_eq(mp_metrics_render(&s, &b), MP_OK);
    ck_assert_int_eq(strncmp(b.p, golden, strlen(golden)), 0);
    ck_assert_int_eq(strncmp(b.p + strlen(golden), golden10, strlen(golden10)), 0);
    ck_assert_ptr_nonnull(strstr(b.p, golden10b));
    /* the rest, series by series */
    static const struct {
        const char *series;
        uint64_t want;
    } tail[] = {
        {"mailpulse_ingest_endpoint_rejected_total{endpoint=\"router\",reason=\"capacity\"}",
         300 + INGEST_REJ_CAPACITY},
        {"mailpulse_ingest_endpoint_rejected_total{endpoint=\"pull\",reason=\"tenant_forbidden\"}",
         217},
        {"mailpulse_store_commits_total", 60},
        {"mailpulse_store_delayed_write_rate_bytes", 65},
        {"mailpulse_store_flush_duration_seconds_count", 4},
        {"mailpulse_eval_pass_duration_seconds_count", 4},
        {"mailpulse_eval_pass_duration_seconds_bucket{le=\"0.1\"}", 3},
        {"mailpulse_eval_sweep_duration_seconds_count", 4},
        {"mailpulse_eval_dirty_keys", 66},
        {"mailpulse_eval_reevaluations_total", 2},
        {"mailpulse_eval_reevaluated_keys_total", 1000003},
        {"mailpulse_receiver_attempts_total{receiver=\"ops\"}", 68},
        {"mailpulse_receiver_failed_attempts_total{receiver=\"ops\"}", 69},
        {"mailpulse_receiver_delivered_total{receiver=\"ops\"}", 70},
        {"mailpulse_receiver_attempts_total{receiver=\"(other)\"}", 71},
        {"mailpulse_receiver_delivery_duration_seconds_count{receiver=\"ops\"}", 4},
        {"mailpulse_receiver_delivery_duration_seconds_bucket{receiver=\"ops\",le=\"0.001\"}", 1},
        {"process_open_fds", 73},
        {"process_max_fds", 74},
        {"process_start_time_seconds", 1700000000},
        {"process_resident_memory_bytes", 7},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(tail); i++) {
        ck_assert_msg(e2e_metric(b.p, tail[i].series, &v) == MP_OK, "%s missing", tail[i].series);
        ck_assert_msg(v == tail[i].want, "%s: %llu, want %llu", tail[i].series,
                      (unsigned long long)v, (unsigned long long)tail[i].want);
    }
    ck_assert_ptr_nonnull(strstr(b.p, "\nmailpulse_outbox_oldest_age_seconds 67.500000\n"));
    ck_assert_ptr_nonnull(strstr(b.p, "\nprocess_cpu_seconds_total 72.250000\n"));
    ck_assert_ptr_nonnull(strstr(b.p, "\nmailpulse_eval_reevaluation_last_seconds 0.320500\n"));
    ck_assert_ptr_nonnull(strstr(b.p, "\n# TYPE process_cpu_seconds_total counter\n"));
    char why[256] = "";
    ck_assert_msg(prom_text_check(b.p, why, sizeof(why)) == 0, "%s", why);
    mp_buf_free(&b);
}
END_TEST

/* The checker the exposition is held to can fail: each broken text is
 * refused for its own reason. */
START_TEST(prom_checker_refuses)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"# TYPE a counter\na 1", "newline"},
        {"a 1\n", "without a TYPE"},
        {"# TYPE a counter\n# TYPE a counter\na 1\n", "second TYPE"},
        {"# TYPE a counter\na -1\n", "negative counter"},
        {"# TYPE a gauge\na{x=\"\\q\"} 1\n", "bad escape"},
        {"# TYPE a gauge\na{x=\"1} 1\n", "unterminated"},
        {"# TYPE a gauge\na one\n", "bad value"},
        {"# TYPE a gauge\n# TYPE b gauge\na 1\nb 1\na 2\n", "not together"},
        {"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n", "decreasing"},
        {"# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_sum 1\nh_count 2\n", "before its"},
        {"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n", "_count 3"},
        {"# TYPE 1a gauge\n", "bad metric name"},
        {"# TYPE a summary\n", "unknown TYPE"},
        {"# a comment\n", "neither HELP nor TYPE"},
    };
    char why[256];
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        why[0] = '\0';
        ck_assert_msg(prom_text_check(bad[i].text, why, sizeof(why)) != 0, "bad[%zu] passed", i);
        ck_assert_msg(strstr(why, bad[i].why) != NULL, "bad[%zu]: %s", i, why);
    }
    ck_assert_int_eq(prom_text_check("# HELP h x\n# TYPE h histogram\nh_bucket{a=\"\\\"\",le=\"1\"}"
                                     " 1\nh_bucket{a=\"\\\"\",le=\"+Inf\"} 1\nh_sum{a=\"\\\"\"} 0.5\n"
                                     "h_count{a=\"\\\"\"} 1\n", why, sizeof(why)), 0);
}
END_TEST

START_TEST(series_parse_back)
{
    struct mp_metrics_snap s;
    struct mp_buf b = MP_BUF_INIT;
    uint64_t v = 0;
    fill(&s);
    ck_assert_int_eq(mp_metrics_render(&s, &b), MP_OK);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_rejected_total{reason=\"capacity\"}", &v), MP_OK);
    ck_assert_uint_eq(v, 100 + INGEST_REJ_CAPACITY);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_outbox_queued", &v), MP_OK);
    ck_assert_uint_eq(v, 24);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_events_accepted_total", &v), MP_OK);
    ck_assert_uint_eq(v, 4);
    ck_assert_ptr_null(strstr(b.p, "999")); /* passes and submitted are not metrics */
    ck_assert_ptr_null(strstr(b.p, "998"));
    /* Every series line ends in a value; every metric has HELP and TYPE. */
    size_t help = 0, type = 0;
    for (const char *p = b.p; (p = strstr(p, "# HELP ")) != NULL; p++)
        help++;
    for (const char *p = b.p; (p = strstr(p, "# TYPE ")) != NULL; p++)
        type++;
    /* issue 10: 22 rows, 4 per-receiver families; issue 11: 3 re-evaluation rows;
     * issue 13: 15 send gate and policy server rows */
    ck_assert_uint_eq(help, 44 + 22 + 3 + 4 + 15);
    ck_assert_uint_eq(type, help);
    mp_buf_free(&b);
}
END_TEST

START_TEST(signed_and_zero_values)
{
    struct mp_metrics_snap s;
    struct mp_buf b = MP_BUF_INIT;
    memset(&s, 0, sizeof(s));
    s.uptime_s = -3; /* a wall clock stepped back: shown as it is */
    ck_assert_int_eq(mp_metrics_render(&s, &b), MP_OK);
    ck_assert_ptr_nonnull(strstr(b.p, "\nmailpulse_uptime_seconds -3\n"));
    ck_assert_ptr_nonnull(strstr(b.p, "\nmailpulse_store_flush_seconds_total 0.000000\n"));
    ck_assert_ptr_nonnull(strstr(b.p, "\nmailpulse_rejected_total{reason=\"bad_frame\"} 0\n"));
    mp_buf_free(&b);
}
END_TEST

START_TEST(flush_figures_add_up)
{
    struct mp_metrics_flush f;
    memset(&f, 0, sizeof(f));
    mp_metrics_flush_record(&f, 10, 1000, 1);
    mp_metrics_flush_record(&f, 5, 3000, 0);
    mp_metrics_flush_record(&f, 0, 500, 1);
    ck_assert_uint_eq(mp_load_relaxed(&f.flushes), 3);
    ck_assert_uint_eq(mp_load_relaxed(&f.failures), 1);
    ck_assert_uint_eq(mp_load_relaxed(&f.entries), 15);
    ck_assert_uint_eq(mp_load_relaxed(&f.ns_total), 4500);
    ck_assert_uint_eq(mp_load_relaxed(&f.ns_last), 500);
}
END_TEST

/* The per-tenant limit rows (mp_metrics_tenant.c): only a tenant that hit
 * a cap has series, both reasons each; the unlisted sums are always there. */
START_TEST(tenant_limit_rows)
{
    struct mp_buf b = MP_BUF_INIT;
    uint64_t v = 1;
    ck_assert_int_eq(mp_metrics_tenant_render(NULL, &b), MP_OK);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_tenant_events_rejected_unlisted_total{reason=\""
                                     "tenant_key_cap\"}", &v), MP_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_ptr_null(strstr(b.p, "tenant=\""));
    mp_buf_free(&b);
    struct eng_table_opts o = {.max_keys = 1024, .retention_ms = 35 * 86400000LL,
                               .limits = {.max_keys = 1}, .scopes = ENG_SCOPES_CLASSIC};
    struct eng_table *t = NULL;
    int64_t now = mp_now_ms();
    ck_assert_int_eq(eng_table_create(&o, now, &t), MP_OK);
    const char *mb[] = {"a@x.example", "b@x.example", "c@x.example"};
    for (int i = 0; i < 3; i++) {
        struct eng_event ev = {"acme", 4, mb[i], 11, "x.example", 9, ENG_SENT, now, NULL, 0};
        ck_assert_int_eq(eng_table_record(t, NULL, &ev), ENG_ERR_KEY_CAP);
        struct eng_event ok = {"calm", 4, mb[0], 11, "x.example", 9, ENG_SENT, now, NULL, 0};
        ck_assert_int_eq(eng_table_record(t, NULL, &ok), ENG_ERR_KEY_CAP); /* cap 1: no domain key */
    }
    ck_assert_int_eq(mp_metrics_tenant_render(t, &b), MP_OK);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_tenant_events_rejected_total{tenant=\"acme\","
                                     "reason=\"tenant_key_cap\"}", &v), MP_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_tenant_events_rejected_total{tenant=\"acme\","
                                     "reason=\"tenant_rate_cap\"}", &v), MP_OK);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(e2e_metric(b.p, "mailpulse_tenant_events_rejected_total{tenant=\"calm\","
                                     "reason=\"tenant_key_cap\"}", &v), MP_OK);
    ck_assert_uint_eq(v, 3);
    ck_assert_ptr_nonnull(strstr(b.p, "# TYPE mailpulse_tenant_events_rejected_total counter\n"));
    mp_buf_free(&b);
    eng_table_destroy(t);
}
END_TEST

CHECK_SUITE("mp_metrics", 0, NULL, NULL, renders_the_known_text, prom_checker_refuses,
            series_parse_back, signed_and_zero_values, flush_figures_add_up, tenant_limit_rows)
