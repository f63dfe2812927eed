/* test_e2e_ramp.c — Check suite: warm-up ramps (issue 12, item 3), end to
 * end with the real daemon, the built-in rules (warmup_ramp: 40 a day, +20
 * a day, at most 1,000) and a real HTTP receiver.
 *
 *   third_day_over_allowance_fires
 *       A mailbox first seen two days ago (30 sent), then 50 yesterday,
 *       sends 200 today: its allowance on its third day is 80, so
 *       warmup_ramp fires critical (2.5x, critical at 2x) with the figures
 *       (200 sent, allowance 80, warm-up day 3). A mailbox on its third day
 *       at 70 and a new one at its first day's 40 stay quiet, and so do
 *       5,000 a day from a mailbox seen on its tenant's first day (10 days
 *       ago) and from a tenant new to mailpulse: they were sending before
 *       mailpulse counted them, so they are not warming up.
 *   first_seen_survives_restart
 *       The quiet third-day mailbox after a restart: 75 today stays quiet
 *       (had its first day been lost, today would be its first, with an
 *       allowance of 40, and it would fire), 85 fires a warning naming day
 *       3 and the allowance 80.
 */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_world.h"
#include "http_receiver.h"

#define COUNT_MS 15000 /* events sent -> counted */
#define ALERT_MS 8000  /* crossing -> webhook (the ramp is a daily rule: once a second) */
#define SWEEPS "mailpulse_eval_sweep_duration_seconds_count"
#define DAY_MS (24 * 3600 * 1000LL)

enum { T_SENT = 1 };

static struct ew_world W;

#define must(cond, fmt, ...) EW_MUST(&W, cond, fmt, ##__VA_ARGS__)
#define must_ok(expr) EW_MUST_OK(&W, expr)

static void setup(void) { ew_setup(&W, "e2eramp"); }
static void teardown(void) { ew_teardown(&W); }

/* What a firing warmup_ramp alert of `mailbox` said, from the newest
 * request of receiver k that carries one. */
struct ramp_seen {
    char severity[32], numerator[32], allowance[32], day[32], summary[512];
};

static int find_ramp(size_t k, const char *mailbox, struct ramp_seen *out)
{
    for (size_t i = hrx_count(W.raw[k]); i-- > 0;) {
        json_t *j = ew_req_json(&W, ew_req(&W, k, i));
        json_t *alerts = json_object_get(j, "alerts"), *a;
        size_t ai;
        json_array_foreach(alerts, ai, a)
        {
            json_t *l = json_object_get(a, "labels"), *an = json_object_get(a, "annotations");
            if (!ew_streq(ew_jstr(l, "alertname"), "warmup_ramp") ||
                !ew_streq(ew_jstr(l, "mailbox"), mailbox) ||
                !ew_streq(ew_jstr(a, "status"), "firing"))
                continue;
            const char *f[5] = {ew_jstr(l, "severity"), ew_jstr(an, "numerator"),
                                ew_jstr(an, "allowance"), ew_jstr(an, "warmup_day"),
                                ew_jstr(an, "summary")};
            snprintf(out->severity, sizeof(out->severity), "%s", f[0] ? f[0] : "-");
            snprintf(out->numerator, sizeof(out->numerator), "%s", f[1] ? f[1] : "-");
            snprintf(out->allowance, sizeof(out->allowance), "%s", f[2] ? f[2] : "-");
            snprintf(out->day, sizeof(out->day), "%s", f[3] ? f[3] : "-");
            snprintf(out->summary, sizeof(out->summary), "%s", f[4] ? f[4] : "-");
            json_decref(j);
            return 1;
        }
        json_decref(j);
    }
    return 0;
}

/* Polls until receiver k carried a firing ramp alert of `mailbox`. */
static void wait_ramp(size_t k, const char *mailbox, struct ramp_seen *out)
{
    int64_t end = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    while (!find_ramp(k, mailbox, out) && mp_mono_ns() < end)
        usleep(5000);
    must(find_ramp(k, mailbox, out), "no warmup_ramp alert for %s within %d ms (%zu requests)",
         mailbox, ALERT_MS, hrx_count(W.raw[k]));
}

/* Waits until the daemon has run `n` more sweeps: every daily rule has
 * looked at every changed key by then. */
static void sweeps_pass(int n)
{
    uint64_t want = ew_metric(&W, SWEEPS) + (uint64_t)n;
    ew_wait_metric(&W, SWEEPS, want, (n + 4) * 1000);
}

/* The world both cases start from: three mailboxes of tenant acme. */
static size_t start_world(int64_t now)
{
    ew_rules_example(&W, "");
    size_t k = ew_raw(&W, "ramp", "secret-ramp", 200);
    const struct e2e_receiver_conf rec[] = {{"ramp-hook", W.raw_url[k], W.raw_secret[k]}};
    ew_start_daemon(&W, (struct e2e_daemon_conf){
        .receivers = rec, .nreceivers = 1, .default_route = "ramp-hook", .rules = W.rules});
    /* history first, so no mailbox is ever evaluated on a later first day;
     * acme has sent for ten days (old@), so its later mailboxes are new */
    ew_send(&W, "acme", "old@acme.example", "gmail.com", T_SENT, 500, now - 10 * DAY_MS);
    ew_send(&W, "acme", "new@acme.example", "gmail.com", T_SENT, 30, now - 2 * DAY_MS);
    ew_send(&W, "acme", "calm@acme.example", "gmail.com", T_SENT, 40, now - 2 * DAY_MS);
    ew_send(&W, "acme", "new@acme.example", "gmail.com", T_SENT, 50, now - DAY_MS);
    ew_send(&W, "acme", "calm@acme.example", "gmail.com", T_SENT, 60, now - DAY_MS);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    ew_send(&W, "acme", "calm@acme.example", "yahoo.com", T_SENT, 70, now);
    ew_send(&W, "acme", "first@acme.example", "gmail.com", T_SENT, 40, now);
    ew_send(&W, "acme", "new@acme.example", "yahoo.com", T_SENT, 200, now);
    /* a tenant new to mailpulse: its mailboxes were sending before */
    ew_send(&W, "fresh", "bulk@fresh.example", "gmail.com", T_SENT, 5000, now);
    ew_send(&W, "acme", "old@acme.example", "gmail.com", T_SENT, 5000, now);
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    return k;
}

START_TEST(third_day_over_allowance_fires)
{
    size_t k = start_world(mp_now_ms());
    struct ramp_seen s;
    wait_ramp(k, "new@acme.example", &s);
    must(strcmp(s.severity, "critical") == 0 && strcmp(s.numerator, "200") == 0 &&
             strcmp(s.allowance, "80") == 0 && strcmp(s.day, "3") == 0,
         "got %s, %s sent, allowance %s, day %s: %s", s.severity, s.numerator, s.allowance, s.day,
         s.summary);
    must(strstr(s.summary, "200 sent today against an allowance of 80 on day 3") != NULL,
         "summary: %s", s.summary);
    sweeps_pass(2);
    must(!find_ramp(k, "calm@acme.example", &s), "70 on day 3 (allowance 80) fired: %s",
         s.summary);
    must(!find_ramp(k, "first@acme.example", &s), "40 on day 1 (allowance 40) fired: %s",
         s.summary);
    must(!find_ramp(k, "bulk@fresh.example", &s),
         "a mailbox of a tenant new to mailpulse was judged as warming up: %s", s.summary);
    must(!find_ramp(k, "old@acme.example", &s),
         "a mailbox seen on its tenant's first day was judged as warming up: %s", s.summary);
    ew_stop_ok(&W, &W.daemon);
    W.passed = 1;
}
END_TEST

START_TEST(first_seen_survives_restart)
{
    int64_t now = mp_now_ms();
    size_t k = start_world(now);
    struct ramp_seen s;
    wait_ramp(k, "new@acme.example", &s);
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    ew_send(&W, "acme", "calm@acme.example", "gmail.com", T_SENT, 5, mp_now_ms());
    ew_wait_metric(&W, "mailpulse_events_accepted_total", W.sent, COUNT_MS);
    sweeps_pass(2);
    must(!find_ramp(k, "calm@acme.example", &s),
         "75 on day 3 fired after the restart (the first-seen day was lost?): %s", s.summary);
    ew_send(&W, "acme", "calm@acme.example", "gmail.com", T_SENT, 10, mp_now_ms());
    wait_ramp(k, "calm@acme.example", &s);
    must(strcmp(s.severity, "warning") == 0 && strcmp(s.numerator, "85") == 0 &&
             strcmp(s.allowance, "80") == 0 && strcmp(s.day, "3") == 0,
         "got %s, %s sent, allowance %s, day %s: %s", s.severity, s.numerator, s.allowance, s.day,
         s.summary);
    ew_stop_ok(&W, &W.daemon);
    W.passed = 1;
}
END_TEST

Suite *test_suite(void)
{
    const struct ew_case cases[] = {{third_day_over_allowance_fires, 0},
                                    {first_seen_survives_restart, 0}};
    return ew_suite("e2e_ramp", 120, setup, teardown, cases, MP_ARRAY_LEN(cases));
}
