/* test_e2e_acked.c — acked ingest on ingest.router and per-producer order,
 * end to end: the real daemon, DEALER sockets from the test.
 *
 *   ok_duplicate_push: acked batches are counted once with OK acks; the
 *     same batch again is DUPLICATE and not counted; sequence 0 is never
 *     deduplicated; a PUSH batch with producer_id and sequence is applied at
 *     most once too. Pipelined, each batch sent twice back to back (so
 *     both often share one worker group): every batch's OK comes before
 *     its DUPLICATE, which is never answered ahead of the write it names.
 *   partial_and_refused: a batch with invalid events is OK with `rejected`
 *     and `error` naming the first reason; a frame that is not a batch is
 *     REJECTED (bad_frame); /metrics counts the acks by status.
 *   retry_under_overload: many DEALERs bursting past ack_max_pending: 1
 *     get RETRY; resending from the first RETRY, in order, until OK gives
 *     exact totals (every batch applied once).
 *   restart_exact: acked totals and dedup state survive SIGKILL (journal
 *     replay) and SIGTERM: a resend after each restart is DUPLICATE.
 *   order_no_false_alert: for 100 tenants one producer sends, on PUSH with
 *     four workers, 1,000 `sent` (two frames of 500) then 30 `bounce_hard`
 *     to one mailbox under a 5% hard-bounce warning: no alert fires (the
 *     stream never held more than 3%), while a control tenant at 8% does.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "ack_client.h"
#include "check_main.h"
#include "e2e_suite.h"
#include "mailpulse.pb-c.h"

#define A_OK MAILPULSE__V1__ACK_STATUS__ACK_STATUS_OK
#define A_DUP MAILPULSE__V1__ACK_STATUS__ACK_STATUS_DUPLICATE
#define A_REJ MAILPULSE__V1__ACK_STATUS__ACK_STATUS_REJECTED
#define A_RETRY MAILPULSE__V1__ACK_STATUS__ACK_STATUS_RETRY
#define SENT 1
#define BOUNCE_HARD 3

static char router[64];

static void setup(void)
{
    ew_setup(&W, "acked");
    W.ready_ms = 15000;
}

static void teardown(void) { ew_teardown(&W); }

/* n events of one type for tenant, now. */
static struct e2e_event *events(const char *tenant, int type, size_t n)
{
    static struct e2e_event ev[1000];
    ck_assert(n <= 1000);
    for (size_t i = 0; i < n; i++)
        ev[i] = (struct e2e_event){tenant, "news@acme.example", "gmail.com", type, mp_now_ms()};
    return ev;
}

/* The tenant's count of `type` over the last hour, from the stats API (0
 * while the tenant has no events: 404). */
static uint64_t count_of(const char *tenant, const char *type)
{
    char url[256], *body = NULL;
    long status = 0;
    snprintf(url, sizeof(url), "%s/v1/tenants/%s/stats?window=1h", W.base, tenant);
    must(e2e_http_get(url, 5000, &status, &body) == MP_OK, "GET %s: no answer", url);
    must(status == 200 || status == 404, "GET %s: %ld", url, status);
    json_t *doc = status == 200 ? json_loads(body, 0, NULL) : json_object();
    free(body);
    must(doc != NULL, "GET %s: not JSON", url);
    json_t *v = json_object_get(json_object_get(doc, "counts"), type);
    uint64_t n = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    json_decref(doc);
    return n;
}

/* Polls count_of until it reaches want (10 s); it must then equal it. */
static void wait_count(const char *tenant, const char *type, uint64_t want)
{
    uint64_t got = 0;
    for (int i = 0; i < 1000 && (got = count_of(tenant, type)) < want; i++)
        usleep(10 * 1000);
    must(got == want, "%s %s: %llu, want %llu", tenant, type, (unsigned long long)got,
         (unsigned long long)want);
}

/* A daemon with the router on, `workers` workers and `extra` ingest
 * lines; returns a DEALER connected to it. */
static void *start(int workers, const char *extra, const char *rules)
{
    ak_write_config(&W, (struct e2e_daemon_conf){.rules = rules}, workers, extra, router,
                    sizeof(router));
    ew_spawn_daemon(&W);
    return ak_dealer(&W, router);
}

/* The case ends well: dealer closed (may be NULL), daemon stopped cleanly. */
static void finish(void *d)
{
    if (d)
        zmq_close(d);
    ew_pass(&W);
}

static void expect(struct ak_ack a, int status, uint64_t seq, uint32_t acc, uint32_t rej,
                   const char *err)
{
    must(a.status == status && a.sequence == seq && a.accepted == acc && a.rejected == rej &&
             strcmp(a.error, err) == 0,
         "ack: got status %d seq %llu accepted %u rejected %u error \"%s\"; want %d %llu %u %u "
         "\"%s\"",
         a.status, (unsigned long long)a.sequence, a.accepted, a.rejected, a.error, status,
         (unsigned long long)seq, acc, rej, err);
}

START_TEST(ok_duplicate_push)
{
    void *d = start(2, NULL, NULL);
    expect(ak_call(&W, d, events("acme", SENT, 10), 10, "prod-a", 1), A_OK, 1, 10, 0, "");
    expect(ak_call(&W, d, events("acme", SENT, 7), 7, "prod-a", 2), A_OK, 2, 7, 0, "");
    /* the same batches again: applied already */
    expect(ak_call(&W, d, events("acme", SENT, 7), 7, "prod-a", 2), A_DUP, 2, 0, 0, "");
    expect(ak_call(&W, d, events("acme", SENT, 10), 10, "prod-a", 1), A_DUP, 1, 0, 0, "");
    /* sequence 0: never deduplicated */
    expect(ak_call(&W, d, events("acme", SENT, 3), 3, "prod-a", 0), A_OK, 0, 3, 0, "");
    expect(ak_call(&W, d, events("acme", SENT, 3), 3, "prod-a", 0), A_OK, 0, 3, 0, "");
    /* another producer's sequence 1 is its own */
    expect(ak_call(&W, d, events("beta", SENT, 4), 4, "prod-b", 1), A_OK, 1, 4, 0, "");
    must(count_of("acme", "sent") == 23, "acme sent %llu, want 23",
         (unsigned long long)count_of("acme", "sent"));

    /* PUSH: producer_id + sequence applied at most once */
    uint8_t *buf;
    size_t len;
    ak_pack(&W, events("gamma", SENT, 5), 5, "push-1", 9, &buf, &len);
    for (int i = 0; i < 3; i++)
        must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    ew_wait_metric(&W, "mailpulse_ingest_duplicates_total", 4, 10000);
    must(count_of("gamma", "sent") == 5, "gamma sent %llu, want 5 (one PUSH batch of three)",
         (unsigned long long)count_of("gamma", "sent"));
    must(ew_metric(&W, "mailpulse_acks_total{status=\"ok\"}") == 5, "ok acks");
    must(ew_metric(&W, "mailpulse_acks_total{status=\"duplicate\"}") == 2, "duplicate acks");
    must(ew_metric(&W, "mailpulse_journal_batches_total") == 5, "journal batches");
    must(ew_metric(&W, "mailpulse_journal_commits_total") >= 1, "journal commits");
    /* issue 10: the same figures by endpoint */
    must(ew_metric(&W, "mailpulse_ingest_endpoint_frames_total{endpoint=\"pull\"}") == 3,
         "pull frames");
    must(ew_metric(&W, "mailpulse_ingest_endpoint_accepted_total{endpoint=\"pull\"}") == 5,
         "pull accepted");
    must(ew_metric(&W, "mailpulse_ingest_endpoint_frames_total{endpoint=\"router\"}") >= 5,
         "router frames");
    must(ew_metric(&W, "mailpulse_ingest_endpoint_accepted_total{endpoint=\"router\"}") == 27,
         "router accepted");

    /* pipelined: seq s twice in a row, no waiting; OK(s) before DUP(s) */
    enum { PIPE_SEQS = 200 };
    for (int s = 1; s <= PIPE_SEQS; s++) {
        uint8_t *pb;
        size_t pl;
        ak_pack(&W, events("pipe", SENT, 3), 3, "prod-pipe", (uint64_t)s, &pb, &pl);
        ak_send(&W, d, pb, pl);
        ak_send(&W, d, pb, pl);
        free(pb);
    }
    static int seen[PIPE_SEQS + 1];
    for (int i = 0; i < 2 * PIPE_SEQS; i++) {
        struct ak_ack a;
        must(ak_recv(&W, d, 20000, &a), "pipelined: ack %d of %d missing", i, 2 * PIPE_SEQS);
        must(a.sequence >= 1 && a.sequence <= PIPE_SEQS, "pipelined: seq %llu",
             (unsigned long long)a.sequence);
        int k = seen[a.sequence]++;
        must((k == 0 && a.status == A_OK && a.accepted == 3) || (k == 1 && a.status == A_DUP),
             "pipelined seq %llu: answer %d is status %d accepted %u (want OK then DUPLICATE)",
             (unsigned long long)a.sequence, k + 1, a.status, a.accepted);
    }
    wait_count("pipe", "sent", 3 * PIPE_SEQS);
    finish(d);
}
END_TEST

START_TEST(partial_and_refused)
{
    void *d = start(2, NULL, NULL);
    struct e2e_event ev[5];
    memcpy(ev, events("acme", SENT, 5), sizeof(ev));
    ev[1].tenant = "bad tenant!";
    ev[3].type = 99;
    expect(ak_call(&W, d, ev, 5, "prod-p", 1), A_OK, 1, 3, 2, "tenant_invalid");
    static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0x01};
    ak_send(&W, d, garbage, sizeof(garbage));
    struct ak_ack a;
    must(ak_recv(&W, d, 10000, &a), "no ack for garbage");
    expect(a, A_REJ, 0, 0, 0, "bad_frame");
    /* an empty batch is refused whole, and its sequence is not taken */
    expect(ak_call(&W, d, NULL, 0, "prod-p", 2), A_REJ, 2, 0, 0, "empty_batch");
    expect(ak_call(&W, d, events("acme", SENT, 2), 2, "prod-p", 2), A_OK, 2, 2, 0, "");
    must(count_of("acme", "sent") == 5, "acme sent %llu, want 5",
         (unsigned long long)count_of("acme", "sent"));
    must(ew_metric(&W, "mailpulse_acks_total{status=\"rejected\"}") == 2, "rejected acks");
    must(ew_metric(&W, "mailpulse_rejected_total{reason=\"type_unknown\"}") == 1, "type");
    finish(d);
}
END_TEST

#define OV_DEALERS 12
#define OV_SEQS 20
#define OV_EVENTS 10

/* Sends seqs from..OV_SEQS of dealer k; records each answer. */
static void burst(void *d, int k, int from, int status[OV_SEQS + 1])
{
    char pid[32];
    snprintf(pid, sizeof(pid), "ov-%d", k);
    for (int s = from; s <= OV_SEQS; s++) {
        uint8_t *buf;
        size_t len;
        ak_pack(&W, events("ovl", SENT, OV_EVENTS), OV_EVENTS, pid, (uint64_t)s, &buf, &len);
        ak_send(&W, d, buf, len);
        free(buf);
    }
    for (int s = from; s <= OV_SEQS; s++) {
        struct ak_ack a;
        must(ak_recv(&W, d, 20000, &a), "dealer %d: no ack for %d", k, s);
        must(a.sequence >= (uint64_t)from && a.sequence <= OV_SEQS, "seq %llu",
             (unsigned long long)a.sequence);
        must(a.status == A_OK || a.status == A_RETRY, "dealer %d seq %llu: status %d (%s)", k,
             (unsigned long long)a.sequence, a.status, a.error);
        status[a.sequence] = a.status;
    }
}

START_TEST(retry_under_overload)
{
    void *d[OV_DEALERS];
    int status[OV_DEALERS][OV_SEQS + 1];
    memset(status, 0, sizeof(status));
    d[0] = start(2, "  ack_max_pending: 1\n", NULL);
    for (int k = 1; k < OV_DEALERS; k++)
        d[k] = ak_dealer(&W, router);
    /* every dealer bursts at once, then reads its answers */
    for (int k = 0; k < OV_DEALERS; k++)
        for (int s = 1; s <= OV_SEQS; s++) {
            char pid[32];
            uint8_t *buf;
            size_t len;
            snprintf(pid, sizeof(pid), "ov-%d", k);
            ak_pack(&W, events("ovl", SENT, OV_EVENTS), OV_EVENTS, pid, (uint64_t)s, &buf, &len);
            ak_send(&W, d[k], buf, len);
            free(buf);
        }
    for (int k = 0; k < OV_DEALERS; k++)
        for (int s = 1; s <= OV_SEQS; s++) {
            struct ak_ack a;
            must(ak_recv(&W, d[k], 20000, &a), "dealer %d: no ack", k);
            must(a.status == A_OK || a.status == A_RETRY, "status %d (%s)", a.status, a.error);
            status[k][a.sequence] = a.status;
        }
    uint64_t retries = ew_metric(&W, "mailpulse_acks_total{status=\"retry\"}");
    must(retries > 0, "no RETRY with %d dealers x %d batches past ack_max_pending 1", OV_DEALERS,
         OV_SEQS);
    /* a producer resends from its first RETRY, in order, until all is OK */
    for (int k = 0; k < OV_DEALERS; k++)
        for (int round = 0;; round++) {
            int first = 0;
            for (int s = OV_SEQS; s >= 1; s--)
                if (status[k][s] != A_OK)
                    first = s;
            if (!first)
                break;
            for (int s = first; s <= OV_SEQS; s++)
                must(status[k][s] != A_OK, "dealer %d: seq %d OK after a RETRY of %d", k, s,
                     first);
            must(round < 200, "dealer %d: still RETRY after 200 rounds", k);
            burst(d[k], k, first, status[k]);
        }
    must(count_of("ovl", "sent") == OV_DEALERS * OV_SEQS * OV_EVENTS,
         "ovl sent %llu, want %d: retries lost or doubled batches",
         (unsigned long long)count_of("ovl", "sent"), OV_DEALERS * OV_SEQS * OV_EVENTS);
    for (int k = 1; k < OV_DEALERS; k++)
        zmq_close(d[k]);
    finish(d[0]);
}
END_TEST

START_TEST(restart_exact)
{
    void *d = start(2, NULL, NULL);
    for (uint64_t s = 1; s <= 5; s++)
        expect(ak_call(&W, d, events("acme", SENT, 100), 100, "prod-r", s), A_OK, s, 100, 0, "");
    /* killed right after the acks: no flush has to have run */
    must_ok(e2e_proc_signal_wait(&W.daemon, SIGKILL, 10000));
    ew_spawn_daemon(&W);
    must(count_of("acme", "sent") == 500, "after SIGKILL: acme sent %llu, want 500",
         (unsigned long long)count_of("acme", "sent"));
    expect(ak_call(&W, d, events("acme", SENT, 100), 100, "prod-r", 5), A_DUP, 5, 0, 0, "");
    expect(ak_call(&W, d, events("acme", SENT, 50), 50, "prod-r", 6), A_OK, 6, 50, 0, "");
    /* PUSH dedup state goes with the final flush of a SIGTERM */
    uint8_t *buf;
    size_t len;
    ak_pack(&W, events("pushy", SENT, 8), 8, "push-r", 3, &buf, &len);
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    wait_count("pushy", "sent", 8);
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    must(count_of("acme", "sent") == 550, "after SIGTERM: acme sent %llu, want 550",
         (unsigned long long)count_of("acme", "sent"));
    expect(ak_call(&W, d, events("acme", SENT, 50), 50, "prod-r", 6), A_DUP, 6, 0, 0, "");
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    ew_wait_metric(&W, "mailpulse_ingest_duplicates_total", 2, 10000);
    must(count_of("pushy", "sent") == 8, "pushy sent %llu, want 8",
         (unsigned long long)count_of("pushy", "sent"));
    free(buf);
    finish(d);
}
END_TEST

#define ORDER_TENANTS 100
#define ORDER_RULES                                                                              \
    "rules:\n"                                                                                   \
    "  - name: bounce_rate\n"                                                                    \
    "    kind: ratio\n"                                                                          \
    "    scopes: [tenant]\n"                                                                     \
    "    numerator: [bounce_hard]\n"                                                             \
    "    denominator: [sent]\n"                                                                  \
    "    window: 1h\n"                                                                           \
    "    min_volume: 100\n"                                                                      \
    "    for: 0s\n"                                                                              \
    "    warning: 5%\n"                                                                          \
    "    critical: 50%\n"

static void push_batch(const char *tenant, int type, size_t n, uint64_t seq)
{
    uint8_t *buf;
    size_t len;
    ak_pack(&W, events(tenant, type, n), n, "order-producer", seq, &buf, &len);
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
}

START_TEST(order_no_false_alert)
{
    must_ok(e2e_write_file(W.rules, ORDER_RULES, W.err, sizeof(W.err)));
    void *d = start(4, NULL, W.rules);
    uint64_t seq = 1;
    for (int t = 0; t < ORDER_TENANTS; t++) {
        char tenant[32];
        snprintf(tenant, sizeof(tenant), "ord-%03d", t);
        push_batch(tenant, SENT, 500, seq++);
        push_batch(tenant, SENT, 500, seq++);
        push_batch(tenant, BOUNCE_HARD, 30, seq++);
    }
    /* the control: 8% from another producer, which must fire */
    uint8_t *buf;
    size_t len;
    ak_pack(&W, events("control", SENT, 1000), 1000, "ctl", 1, &buf, &len);
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    ak_pack(&W, events("control", BOUNCE_HARD, 80), 80, "ctl", 2, &buf, &len);
    must_ok(e2e_send_frame(W.push, buf, len, NULL));
    free(buf);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", ORDER_TENANTS * 1030 + 1080, 30000);
    ew_wait_log(&W, "msg=alert_firing rule=\"bounce_rate\" severity=warning tenant=\"control\"", 10000);
    /* the evaluator has seen every key since: a pass covers all dirty keys */
    usleep(1500 * 1000);
    char *log = NULL;
    size_t n = 0;
    must(e2e_read_file(W.daemon.err_path, &log, &n) == MP_OK, "read log");
    size_t fired = 0;
    for (const char *p = log; (p = strstr(p, "msg=alert_firing")) != NULL; p++)
        fired++;
    const char *bad = strstr(log, "tenant=\"ord-");
    char line[200] = "";
    if (bad)
        snprintf(line, sizeof(line), "%.180s", bad);
    free(log);
    must(!bad && fired == 1, "%zu alerts fired (want 1, the control); e.g. %s", fired, line);
    json_t *doc = ew_get_json(&W, "/v1/alerts", 200);
    must(json_array_size(json_object_get(doc, "alerts")) == 1, "/v1/alerts: want the control only");
    json_decref(doc);
    finish(d);
}
END_TEST

EW_SUITE("e2e_acked", 90, setup, teardown, {ok_duplicate_push, 0}, {partial_and_refused, 0},
         {retry_under_overload, 0}, {restart_exact, 0}, {order_no_false_alert, 0})
