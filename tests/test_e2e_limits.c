/* test_e2e_limits.c — Check suite "e2e_limits": the noisy-neighbour limits
 * (limits:, README "Limits") end to end, on the real daemon, its real PULL
 * socket, /metrics and a real HTTP receiver for the alerts.
 *
 * Cases:
 *   flood_capped_neighbour_alerts
 *       The probe's case: tenant "flood" sends 2,000,000 distinct mailboxes
 *       (200 frames of 10,000 events) into a table of 262,144 keys. Its
 *       first 100,000 keys count: one domain and its provider (other), and
 *       49,999 mailboxes with their mailbox_provider keys (every scope's
 *       keys count, issue 12); the other 1,950,001 events are refused as
 *       tenant_key_cap, in
 *       mailpulse_rejected_total and per tenant in
 *       mailpulse_tenant_events_rejected_total{tenant="flood"}. Then tenant
 *       "calm" (new mailboxes, 8% hard bounces) and a brand new tenant are
 *       accepted whole, nothing is refused as capacity, and calm's
 *       bounce_rate alert reaches the receiver; neither has a per-tenant
 *       series.
 *   rate_capped_neighbour_free
 *       limits.tenants.rated at 1,000 events/s: one frame of 10,000 counts
 *       exactly the burst (1,000), the other 9,000 are tenant_rate_cap; a
 *       tenant without an override sends 10,000 at the same moment and all
 *       count.
 *   sighup_changes_limits
 *       limits.tenants.grow at 100 keys: 49 of 300 new mailboxes count (two
 *       keys each, and the domain and provider); the file raised to 1000
 *       and a SIGHUP: the next 300 all count; a reload
 *       with a cap over half the running table is refused and the limits
 *       in use stay.
 *
 * Programs come from $MP_BIN_DIR. On failure the temp directory (config,
 * daemon logs) is kept and named in the message.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "e2e_suite.h"

#define COUNT_MS 60000 /* 2M events under a sanitizer on a loaded box */
#define ALERT_MS 15000

#define FRAME 10000 /* ingest.max_batch_events: the largest frame */
#define FLOOD 2000000
#define TABLE 262144
#define CAP 100000
/* A new mailbox at a known domain makes two keys: mailbox, mailbox_provider;
 * the tenant's first event also the domain and provider keys. */
#define KEYS_PER_MAILBOX 2
#define KEYS_FIRST 2

enum { T_SENT = 1, T_BOUNCE_HARD = 3 };

EW_FIXTURE("e2el")

static char mailboxes[FRAME][40];

/* n events of one tenant and type in frames of FRAME; mailbox "<pfx>N@dom"
 * with N counting from first (distinct: one new key each), or one mailbox
 * when pfx is NULL. */
static void send_events(const char *tenant, const char *pfx, size_t first, const char *dom,
                        int type, size_t n, int64_t t)
{
    static struct e2e_event ev[FRAME];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < FRAME ? n - done : FRAME;
        for (size_t i = 0; i < k; i++) {
            const char *mb = "ops@calm.example";
            if (pfx) {
                snprintf(mailboxes[i], sizeof(mailboxes[i]), "%s%zu@%s", pfx, first + done + i,
                         dom);
                mb = mailboxes[i];
            }
            ev[i] = (struct e2e_event){tenant, mb, dom, type, t};
        }
        ew_send_frame(&W, ev, k, NULL);
        done += k;
    }
}

static uint64_t metric_or_zero(const char *text, const char *series)
{
    uint64_t v = 0;
    return e2e_metric(text, series, &v) == MP_OK ? v : 0;
}

/* Receiver k got a firing bounce_rate alert of `tenant`. */
static int got_alert(size_t k, const char *tenant)
{
    size_t n = hrx_count(W.raw[k]);
    for (size_t i = 0; i < n; i++) {
        json_t *b = ew_req_json(&W, ew_req(&W, k, i));
        json_t *alerts = json_object_get(b, "alerts"), *al;
        size_t j;
        int hit = 0;
        json_array_foreach(alerts, j, al)
        {
            json_t *lb = json_object_get(al, "labels");
            hit |= ew_streq(ew_jstr(lb, "tenant"), tenant) &&
                   ew_streq(ew_jstr(lb, "alertname"), "bounce_rate") &&
                   ew_streq(ew_jstr(al, "status"), "firing");
        }
        json_decref(b);
        if (hit)
            return 1;
    }
    return 0;
}

START_TEST(flood_capped_neighbour_alerts)
{
    size_t k = ew_raw(&W, "calm", "secret-calm", 200);
    const struct e2e_receiver_conf rec[] = {{"calm-hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                .default_route = "calm-hook",
                                                .max_keys = TABLE});
    ew_append_config(&W, "limits:\n  tenant_max_keys: 100000\n");
    ew_spawn_daemon(&W);
    int64_t now = mp_now_ms();
    int64_t t0 = mp_mono_ns();
    send_events("flood", "m", 0, "flood.example", T_SENT, FLOOD, now);
    const uint64_t flood_ok = (CAP - KEYS_FIRST) / KEYS_PER_MAILBOX; /* 49,999 */
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"tenant_key_cap\"}", FLOOD - flood_ok,
                   COUNT_MS);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", flood_ok, COUNT_MS);
    fprintf(stderr, "e2e_limits: %d events of one tenant sent and counted in %.2f s\n", FLOOD,
            (double)(mp_mono_ns() - t0) / 1e9);
    /* the neighbour: new mailboxes, 8% hard bounces; and a brand new tenant */
    send_events("calm", NULL, 0, "gmail.com", T_SENT, 1000, now);
    send_events("calm", NULL, 0, "gmail.com", T_BOUNCE_HARD, 80, now);
    send_events("calm", "user", 0, "calm.example", T_SENT, 500, now);
    send_events("newcomer", "a", 0, "new.example", T_SENT, 300, now);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", flood_ok + 1880, COUNT_MS);
    char *text = ew_metrics_text(&W);
    must(ew_metric_in(&W, text, "mailpulse_rejected_total{reason=\"tenant_key_cap\"}") ==
             FLOOD - flood_ok,
         "the neighbours' events were refused as tenant_key_cap");
    must(ew_metric_in(&W, text, "mailpulse_rejected_total{reason=\"capacity\"}") == 0,
         "the shared table filled up");
    must(ew_metric_in(&W, text, "mailpulse_tenant_events_rejected_total{tenant=\"flood\","
                                "reason=\"tenant_key_cap\"}") == FLOOD - flood_ok,
         "flood's own count");
    must(ew_metric_in(&W, text, "mailpulse_tenant_events_rejected_total{tenant=\"flood\","
                                "reason=\"tenant_rate_cap\"}") == 0,
         "flood was never over a rate");
    must(strstr(text, "tenant=\"calm\"") == NULL && strstr(text, "tenant=\"newcomer\"") == NULL,
         "a tenant under its caps has no per-tenant series");
    must(metric_or_zero(text, "mailpulse_tenant_events_rejected_unlisted_total{reason=\""
                              "tenant_key_cap\"}") == 0,
         "one limited tenant is listed");
    free(text);
    /* flood holds its cap and no more; calm's new keys exist */
    json_t *st = ew_get_json(&W, "/v1/tenants/calm/stats", 200);
    json_decref(st);
    int64_t deadline = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    while (!got_alert(k, "calm") && mp_mono_ns() < deadline)
        usleep(20000);
    must(got_alert(k, "calm"), "calm's bounce_rate alert did not reach the receiver");
    must(!got_alert(k, "flood"), "flood alerted");
    W.passed = 1;
}
END_TEST

START_TEST(rate_capped_neighbour_free)
{
    ew_write_config(&W, (struct e2e_daemon_conf){0});
    ew_append_config(&W, "limits:\n  tenants:\n    rated: {max_events_per_second: 1000}\n");
    ew_spawn_daemon(&W);
    int64_t now = mp_now_ms();
    send_events("rated", NULL, 0, "gmail.com", T_SENT, FRAME, now);
    send_events("free", NULL, 0, "gmail.com", T_SENT, FRAME, now);
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"tenant_rate_cap\"}", FRAME - 1000,
                   COUNT_MS);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", FRAME + 1000, COUNT_MS);
    char *text = ew_metrics_text(&W);
    must(ew_metric_in(&W, text, "mailpulse_tenant_events_rejected_total{tenant=\"rated\","
                                "reason=\"tenant_rate_cap\"}") == FRAME - 1000,
         "rated's own count");
    must(strstr(text, "tenant=\"free\"") == NULL, "free has no per-tenant series");
    must(ew_metric_in(&W, text, "mailpulse_rejected_total{reason=\"tenant_key_cap\"}") == 0,
         "no key cap was hit");
    free(text);
    W.passed = 1;
}
END_TEST

START_TEST(sighup_changes_limits)
{
    ew_write_config(&W, (struct e2e_daemon_conf){.max_keys = 4096});
    ew_append_config(&W, "limits:\n  tenants:\n    grow: {max_keys: 100}\n");
    ew_spawn_daemon(&W);
    int64_t now = mp_now_ms();
    send_events("grow", "a", 0, "grow.example", T_SENT, 300, now);
    /* (100 - 2) / 2 = 49 mailboxes fit */
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"tenant_key_cap\"}", 251, COUNT_MS);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", 49, COUNT_MS);
    ew_write_config(&W, (struct e2e_daemon_conf){.max_keys = 4096});
    ew_append_config(&W, "limits:\n  tenants:\n    grow: {max_keys: 1000}\n");
    must(kill(W.daemon.pid, SIGHUP) == 0, "SIGHUP");
    ew_wait_log(&W, "msg=limits_reloaded tenant_max_keys=2048 tenant_max_events_per_second=0 "
                    "tenant_overrides=1", 10000);
    send_events("grow", "b", 0, "grow.example", T_SENT, 300, now);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", 349, COUNT_MS); /* 700 keys */
    /* 2049 is over half of the running 4096 (the file's own max_keys may
     * say more: it applies at the next start) */
    ew_write_config(&W, (struct e2e_daemon_conf){.max_keys = 8192});
    ew_append_config(&W, "limits:\n  tenants:\n    grow: {max_keys: 2049}\n");
    must(kill(W.daemon.pid, SIGHUP) == 0, "SIGHUP");
    ew_wait_log(&W, "msg=reload_limits_refused", 10000);
    send_events("grow", "c", 0, "grow.example", T_SENT, 700, now);
    /* grow holds 700 keys: 150 more mailboxes reach the cap in use (1000),
     * 550 do not */
    ew_wait_metric(&W, "mailpulse_events_accepted_total", 349 + 150, COUNT_MS);
    ew_wait_metric(&W, "mailpulse_rejected_total{reason=\"tenant_key_cap\"}", 251 + 550,
                   COUNT_MS);
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_limits", 240, setup, teardown, {flood_capped_neighbour_alerts, 0},
         {rate_capped_neighbour_free, 0}, {sighup_changes_limits, 0})
