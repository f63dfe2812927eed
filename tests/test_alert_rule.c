/* test_alert_rule.c — alerts/alert_rule.
 *
 * Thresholds compare exactly (20 of 1000 is 2%, 19 is not), min_volume
 * silences small windows, hysteresis holds a firing alert until the value
 * falls under the resolve line, numbers print as plain decimals. (The
 * payload, signature and fingerprint cases are in test_alert_notify.c, the
 * routes in test_alert_route.c.)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "alert_notify.h"
#include "alert_rule.h"
#include "check_main.h"
#include "eng_testkit.h"

static struct alert_ruleset *defaults;

static void setup(void) { ck_assert_int_eq(alert_ruleset_defaults(&defaults), MP_OK); }
static void teardown(void)
{
    alert_ruleset_free(defaults);
    defaults = NULL;
}

static const struct alert_rule *rule_named(const char *name)
{
    int i = alert_ruleset_find(defaults, name);
    ck_assert_msg(i >= 0, "no default rule %s", name);
    return &alert_ruleset_for(defaults, "anyone")[i];
}

static const struct alert_rule *bounce_rule(void) { return rule_named("bounce_rate"); }

/* Window sums as the evaluator would compute them, pre-filled so the rule
 * evaluation is tested on its own: entry (res, back, n) holds `c`. */
static void sums_put(struct alert_sums *s, int res, int back, int n, const uint64_t c[ENG_NTYPES])
{
    ck_assert_int_lt(s->n, ALERT_SUMS_MAX);
    s->w[s->n].res = res;
    s->w[s->n].back = back;
    s->w[s->n].len = n;
    s->w[s->n].types = ~0u;
    memcpy(s->w[s->n].c, c, sizeof(uint64_t) * ENG_NTYPES);
    s->n++;
}

static struct alert_value eval_with(const struct alert_rule *r, struct alert_sums *s)
{
    struct alert_value v;
    alert_rule_eval(r, s, &v);
    ck_assert_msg(s->t == NULL, "evaluation asked for a window the test did not fill");
    return v;
}

static struct alert_value eval_bounce(uint64_t sent, uint64_t bounces)
{
    uint64_t c[ENG_NTYPES] = {0};
    c[ENG_SENT - 1] = sent;
    c[ENG_BOUNCE_HARD - 1] = bounces;
    c[ENG_DELIVERED - 1] = 12345; /* unrelated types must not count */
    struct alert_sums s = {0};
    sums_put(&s, ENG_RES_FINE, 0, 12, c);
    return eval_with(bounce_rule(), &s);
}

START_TEST(threshold_table)
{
    static const struct {
        uint64_t sent, bounces;
        int severity, enough;
    } rows[] = {
        {1000, 19, ALERT_SEV_NONE, 1},     {1000, 20, ALERT_SEV_WARNING, 1},
        {1000, 39, ALERT_SEV_WARNING, 1},  {1000, 40, ALERT_SEV_CRITICAL, 1},
        {1000, 80, ALERT_SEV_CRITICAL, 1}, {100, 2, ALERT_SEV_WARNING, 1},
        {99, 50, ALERT_SEV_NONE, 0},       {0, 5, ALERT_SEV_NONE, 0},
        {3, 0, ALERT_SEV_NONE, 0},         {10000000000ULL, 200000000ULL, ALERT_SEV_WARNING, 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct alert_value v = eval_bounce(rows[i].sent, rows[i].bounces);
        ck_assert_msg(v.severity == rows[i].severity, "row %zu: %llu/%llu severity %d want %d", i,
                      (unsigned long long)rows[i].bounces, (unsigned long long)rows[i].sent,
                      v.severity, rows[i].severity);
        ck_assert_int_eq(v.enough, rows[i].enough);
        ck_assert_uint_eq(v.num, rows[i].bounces);
        ck_assert_uint_eq(v.den, rows[i].sent);
    }
}
END_TEST

START_TEST(hysteresis)
{
    const struct alert_rule *r = bounce_rule();
    struct alert_value v = eval_bounce(1000, 18); /* exactly 1.8%: stays up */
    ck_assert_int_eq(alert_rule_resolves(r, &v), 0);
    v = eval_bounce(1000, 19); /* under warning, above resolve line */
    ck_assert_int_eq(v.severity, ALERT_SEV_NONE);
    ck_assert_int_eq(alert_rule_resolves(r, &v), 0);
    v = eval_bounce(1000, 17);
    ck_assert_int_eq(alert_rule_resolves(r, &v), 1);
    v = eval_bounce(50, 25); /* too little data left: resolves */
    ck_assert_int_eq(alert_rule_resolves(r, &v), 1);
}
END_TEST

START_TEST(plain_decimals)
{
    char b[64];
    alert_format_value(0.08, b, sizeof(b));
    ck_assert_str_eq(b, "0.08");
    alert_format_value(1.0 / 3.0, b, sizeof(b));
    ck_assert_str_eq(b, "0.333333");
    alert_format_value(0.0, b, sizeof(b));
    ck_assert_str_eq(b, "0");
    alert_format_value(0.00001, b, sizeof(b));
    ck_assert_str_eq(b, "0.00001");
    alert_format_ppb(20000000, b, sizeof(b));
    ck_assert_str_eq(b, "0.02");
    alert_format_ppb(1000000, b, sizeof(b));
    ck_assert_str_eq(b, "0.001");
    alert_format_ppb(1500000000, b, sizeof(b));
    ck_assert_str_eq(b, "1.5");
    alert_format_time(1795364356150LL, b, sizeof(b));
    ck_assert_str_eq(b, "2026-11-22T16:19:16.150Z");
    alert_format_time(0, b, sizeof(b));
    ck_assert_str_eq(b, "0001-01-01T00:00:00Z");
}
END_TEST

static void set2(uint64_t c[ENG_NTYPES], int t1, uint64_t v1, int t2, uint64_t v2)
{
    memset(c, 0, sizeof(uint64_t) * ENG_NTYPES);
    c[t1 - 1] = v1;
    if (t2)
        c[t2 - 1] = v2;
}

/* complaint_rate: 0.1% / 0.3% of delivered over 24h, min 1000 delivered. */
START_TEST(complaint_thresholds)
{
    const struct alert_rule *r = rule_named("complaint_rate");
    static const struct {
        uint64_t delivered, complaints;
        int severity;
    } rows[] = {{2000, 1, ALERT_SEV_NONE},     {2000, 2, ALERT_SEV_WARNING},
                {2000, 5, ALERT_SEV_WARNING},  {2000, 6, ALERT_SEV_CRITICAL},
                {2000, 8, ALERT_SEV_CRITICAL}, {999, 50, ALERT_SEV_NONE}};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t c[ENG_NTYPES];
        set2(c, ENG_DELIVERED, rows[i].delivered, ENG_COMPLAINT, rows[i].complaints);
        struct alert_sums s = {0};
        sums_put(&s, ENG_RES_HOUR, 0, 24, c);
        struct alert_value v = eval_with(r, &s);
        ck_assert_msg(v.severity == rows[i].severity, "row %zu: severity %d", i, v.severity);
    }
}
END_TEST

/* spam_trap: one hit in 24h is critical; it resolves only at zero. */
START_TEST(spam_trap_count)
{
    const struct alert_rule *r = rule_named("spam_trap");
    uint64_t c[ENG_NTYPES];
    struct alert_sums s = {0};
    set2(c, ENG_SPAM_TRAP, 1, ENG_SENT, 100000);
    sums_put(&s, ENG_RES_HOUR, 0, 24, c);
    struct alert_value v = eval_with(r, &s);
    ck_assert_int_eq(v.severity, ALERT_SEV_CRITICAL);
    ck_assert_uint_eq(v.value_ppb, ALERT_PPB);
    ck_assert_int_eq(alert_rule_resolves(r, &v), 0);
    char b[32];
    alert_format_rule_value(r, v.value_ppb, b, sizeof(b));
    ck_assert_str_eq(b, "1");
    set2(c, ENG_SENT, 100000, 0, 0);
    s.n = 0;
    sums_put(&s, ENG_RES_HOUR, 0, 24, c);
    v = eval_with(r, &s);
    ck_assert_int_eq(v.severity, ALERT_SEV_NONE);
    ck_assert_int_eq(alert_rule_resolves(r, &v), 1);
}
END_TEST

/* engagement_drop: (open+click+reply)/delivered, 7d against the 7d before. */
START_TEST(engagement_drop_exact)
{
    const struct alert_rule *r = rule_named("engagement_drop");
    ck_assert_int_eq(r->baseline.res, ENG_RES_DAY);
    ck_assert_int_eq(r->baseline.back, 7);
    ck_assert_int_eq(r->baseline.n, 7);
    static const struct {
        uint64_t prev_eng, prev_del, eng, del;
        int severity;
        uint64_t ppb;
    } rows[] = {
        {2000, 10000, 1600, 10000, ALERT_SEV_WARNING, 200000000},  /* exactly 20% */
        {2000, 10000, 1601, 10000, ALERT_SEV_NONE, 199500000},     /* 19.95% */
        {2000, 10000, 750, 5000, ALERT_SEV_WARNING, 250000000},    /* 20% -> 15%: 25% */
        {2000, 10000, 900, 10000, ALERT_SEV_CRITICAL, 550000000},
        {2000, 10000, 2500, 10000, ALERT_SEV_NONE, 0},             /* a rise */
        {2000, 10000, 100, 999, ALERT_SEV_NONE, 0},                /* too few now */
        {0, 10000, 0, 10000, ALERT_SEV_NONE, 0},                   /* nothing to drop from */
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        uint64_t now[ENG_NTYPES] = {0}, prev[ENG_NTYPES] = {0};
        now[ENG_OPEN - 1] = rows[i].eng / 2;
        now[ENG_CLICK - 1] = rows[i].eng - rows[i].eng / 2;
        now[ENG_DELIVERED - 1] = rows[i].del;
        now[ENG_BOUNCE_HARD - 1] = 3;
        prev[ENG_REPLY - 1] = rows[i].prev_eng;
        prev[ENG_DELIVERED - 1] = rows[i].prev_del;
        struct alert_sums s = {0};
        sums_put(&s, ENG_RES_DAY, 0, 7, now);
        sums_put(&s, ENG_RES_DAY, 7, 7, prev);
        struct alert_value v = eval_with(r, &s);
        ck_assert_msg(v.severity == rows[i].severity && v.value_ppb == rows[i].ppb,
                      "row %zu: severity %d ppb %llu", i, v.severity,
                      (unsigned long long)v.value_ppb);
    }
}
END_TEST

/* volume_spike: today's sent against the 7 days before, as a daily average;
 * unsubscribe_spike: the 24h rate against the 7-day rate. */
START_TEST(spikes)
{
    /* today: one day (volume_spike) or 24 hours (unsubscribe_spike); the
     * baseline: the 7 days before. value_ppb 0: only the severity checked. */
    static const struct {
        const char *rule;
        int res, n;
        int t1;
        uint64_t v1;
        int t2;
        uint64_t v2;
        int b1;
        uint64_t w1;
        int b2;
        uint64_t w2;
        uint64_t value_ppb;
        int severity;
        const char *why;
    } cases[] = {
        {"volume_spike", ENG_RES_DAY, 1, ENG_SENT, 600, 0, 0, ENG_SENT, 7 * 200, 0, 0,
         3 * ALERT_PPB, ALERT_SEV_WARNING, "200 a day: 3x"},
        {"volume_spike", ENG_RES_DAY, 1, ENG_SENT, 500, 0, 0, ENG_SENT, 7 * 20, 0, 0,
         25 * ALERT_PPB, ALERT_SEV_CRITICAL, "20 a day -> 500: the classic, 25x"},
        {"volume_spike", ENG_RES_DAY, 1, ENG_SENT, 500, 0, 0, ENG_SENT, 0, 0, 0, 0,
         ALERT_SEV_NONE, "no history: no baseline, no alert"},
        {"volume_spike", ENG_RES_DAY, 1, ENG_SENT, 499, 0, 0, ENG_SENT, 0, 0, 0, 0,
         ALERT_SEV_NONE, "under min_volume"},
        {"unsubscribe_spike", ENG_RES_HOUR, 24, ENG_DELIVERED, 1000, ENG_UNSUBSCRIBE, 30,
         ENG_DELIVERED, 7000, ENG_UNSUBSCRIBE, 70, 3 * ALERT_PPB, ALERT_SEV_WARNING,
         "3% against 1%"},
        {"unsubscribe_spike", ENG_RES_HOUR, 24, ENG_DELIVERED, 1000, ENG_UNSUBSCRIBE, 9,
         ENG_DELIVERED, 7000, ENG_UNSUBSCRIBE, 70, 0, ALERT_SEV_NONE, "under min_count"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t today[ENG_NTYPES], before[ENG_NTYPES];
        struct alert_sums s = {0};
        set2(today, cases[i].t1, cases[i].v1, cases[i].t2, cases[i].v2);
        set2(before, cases[i].b1, cases[i].w1, cases[i].b2, cases[i].w2);
        sums_put(&s, cases[i].res, 0, cases[i].n, today);
        sums_put(&s, ENG_RES_DAY, 1, 7, before);
        struct alert_value v = eval_with(rule_named(cases[i].rule), &s);
        if (cases[i].value_ppb)
            ck_assert_msg(v.value_ppb == cases[i].value_ppb, "%s: value %llu", cases[i].why,
                          (unsigned long long)v.value_ppb);
        ck_assert_msg(v.severity == cases[i].severity, "%s: severity %d", cases[i].why,
                      v.severity);
    }
}
END_TEST

/* rising_trend: the bounce rate rose on each of the last 3 whole days. */
START_TEST(rising_trend_days)
{
    const struct alert_rule *r = rule_named("rising_trend_bounce");
    ck_assert_str_eq(r->alertname, "rising_trend");
    uint64_t rates[2][4] = {{8, 10, 12, 15}, {8, 10, 10, 15}}; /* per 1000 sent, oldest first */
    for (int k = 0; k < 2; k++) {
        struct alert_sums s = {0};
        for (int back = 4; back >= 1; back--) {
            uint64_t c[ENG_NTYPES];
            set2(c, ENG_SENT, 1000, ENG_BOUNCE_HARD, rates[k][4 - back]);
            sums_put(&s, ENG_RES_DAY, back, 1, c);
        }
        struct alert_value v = eval_with(r, &s);
        ck_assert_int_eq(v.severity, k == 0 ? ALERT_SEV_WARNING : ALERT_SEV_NONE);
        ck_assert_uint_eq(v.num, 15);
        ck_assert_uint_eq(v.base_num, 12 - 2 * k);
    }
}
END_TEST

/* Overrides copy the base rules for one tenant only. */
START_TEST(tenant_overrides)
{
    int i = alert_ruleset_find(defaults, "complaint_rate");
    struct alert_rule *o = alert_ruleset_override(defaults, "strict", (size_t)i);
    ck_assert_ptr_nonnull(o);
    o->warning_ppb = 500000; /* 0.05% */
    alert_rule_derive(o);
    ck_assert_uint_eq(alert_ruleset_noverrides(defaults), 1);
    ck_assert_uint_eq(alert_ruleset_for(defaults, "strict")[i].warning_ppb, 500000);
    ck_assert_uint_eq(alert_ruleset_for(defaults, "strict")[i].resolve_ppb, 450000);
    ck_assert_uint_eq(alert_ruleset_for(defaults, "other")[i].warning_ppb, 1000000);
    ck_assert_str_eq(alert_ruleset_for(defaults, "strict")[0].name, "bounce_rate");
    ck_assert_ptr_eq(alert_ruleset_override(defaults, "strict", (size_t)i), o);
}
END_TEST

START_TEST(default_names)
{
    static const char *names[] = {"bounce_rate", "complaint_rate", "engagement_drop",
                                  "spam_trap", "block_rate", "deferral_rate",
                                  "unsubscribe_spike", "rising_trend_bounce",
                                  "rising_trend_complaint", "volume_spike", "warmup_ramp",
                                  "dmarc_fail_rate", "dkim_fail_rate", "spf_fail_rate",
                                  "dmarc_reject"};
    ck_assert_uint_eq(alert_ruleset_count(defaults), sizeof(names) / sizeof(names[0]));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_int_eq(alert_ruleset_find(defaults, names[i]), (int)i);
    struct alert_window w;
    ck_assert_int_eq(alert_window_parse("15m", &w), 0);
    ck_assert_int_eq(w.n, 3);
    ck_assert_int_eq(alert_window_parse("7m", &w), -1);
    ck_assert_int_eq(alert_window_parse("25h", &w), -1);
    ck_assert_int_eq(alert_window_parse("15d", &w), -1);
    ck_assert_int_eq(alert_window_parse("0d", &w), -1);
}
END_TEST

/* alert_rules_changed: what a reload re-evaluates. Nothing for the same
 * rules (in any order), the one rule changed, a new name, and the tenants
 * listed in order. */
START_TEST(rules_changed_mask)
{
    size_t n = alert_ruleset_count(defaults);
    const struct alert_rule *base = alert_ruleset_for(defaults, "x");
    ck_assert_uint_eq(alert_rules_changed(base, n, base, n), 0);
    struct alert_rule nw[ALERT_RULES_MAX];
    for (size_t i = 0; i < n; i++)
        nw[i] = base[n - 1 - i]; /* reordered: same rules by name */
    ck_assert_uint_eq(alert_rules_changed(base, n, nw, n), 0);
    nw[0].warning_ppb /= 2;
    nw[2].keep_ms = 60000;
    ck_assert_uint_eq(alert_rules_changed(base, n, nw, n), (1ULL << 0) | (1ULL << 2));
    snprintf(nw[1].name, sizeof(nw[1].name), "brand_new");
    ck_assert_uint_eq(alert_rules_changed(base, n, nw, n), 0x7);
    ck_assert_uint_eq(alert_rules_changed(base, n, nw, 0), 0);
    ck_assert_ptr_null(alert_ruleset_tenant(defaults, 0));
    ck_assert_ptr_nonnull(alert_ruleset_override(defaults, "zeta", 0));
    ck_assert_ptr_nonnull(alert_ruleset_override(defaults, "alpha", 0));
    ck_assert_str_eq(alert_ruleset_tenant(defaults, 0), "alpha");
    ck_assert_str_eq(alert_ruleset_tenant(defaults, 1), "zeta");
    ck_assert_ptr_null(alert_ruleset_tenant(defaults, 2));
}
END_TEST

/* warmup_ramp on a real key: today's sent against 40 + 20 a day since the
 * key's first event, at most 1,000; "over" is strictly above; the value is
 * the factor, warning above 1x, critical at 2x; only keys newer than their
 * tenant are judged. */
static struct alert_value eval_ramp(struct eng_table *t, const char *mb)
{
    struct eng_key *k = NULL;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", mb, &k), MP_OK);
    struct alert_sums s;
    alert_sums_init(&s, t, k);
    struct alert_value v;
    alert_rule_eval(rule_named("warmup_ramp"), &s, &v);
    return v;
}

static void send_n(struct eng_table *t, const char *mb, int n, int64_t when)
{
    for (int i = 0; i < n; i++)
        ck_assert_int_eq(tk_rec(t, "acme", mb, "gmail.com", ENG_SENT, when), MP_OK);
}

START_TEST(warmup_ramp_allowance)
{
    static const struct {
        int age, today;
        uint64_t allowance, value_ppb;
        int severity, enough;
    } rows[] = {
        {0, 40, 40, 0, ALERT_SEV_NONE, 0},     {0, 41, 40, 1025000000, ALERT_SEV_WARNING, 1},
        {2, 80, 80, 0, ALERT_SEV_NONE, 0},     {2, 81, 80, 1012500000, ALERT_SEV_WARNING, 1},
        {2, 159, 80, 1987500000, ALERT_SEV_WARNING, 1},
        {2, 160, 80, 2000000000, ALERT_SEV_CRITICAL, 1},
        {10, 241, 240, 1004166666, ALERT_SEV_WARNING, 1},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(rows); i++) {
        struct eng_table *t = tk_table(1024, TK_T0, NULL, 0);
        /* the tenant sent before the mailbox appeared: the mailbox is new */
        send_n(t, "old@acme.io", 1, TK_T0 - (rows[i].age + 1) * TK_DAY);
        send_n(t, "m@acme.io", 1, TK_T0 - rows[i].age * TK_DAY); /* its first day */
        send_n(t, "m@acme.io", rows[i].today - (rows[i].age == 0), TK_T0);
        struct alert_value v = eval_ramp(t, "m@acme.io");
        ck_assert_msg(v.num == (uint64_t)rows[i].today && v.den == rows[i].allowance &&
                          v.base_num == (uint64_t)rows[i].age && v.enough == rows[i].enough &&
                          v.severity == rows[i].severity &&
                          (!v.enough || v.value_ppb == rows[i].value_ppb),
                      "row %zu: num %llu den %llu day %llu enough %d severity %d value %llu", i,
                      (unsigned long long)v.num, (unsigned long long)v.den,
                      (unsigned long long)v.base_num, v.enough, v.severity,
                      (unsigned long long)v.value_ppb);
        eng_table_destroy(t);
    }
    /* a mailbox seen on its tenant's first day was sending before
     * mailpulse counted the tenant: not judged, however much it sends */
    struct eng_table *t = tk_table(1024, TK_T0, NULL, 0);
    send_n(t, "m@acme.io", 5000, TK_T0);
    struct alert_value v = eval_ramp(t, "m@acme.io");
    ck_assert_int_eq(v.enough, 0);
    ck_assert_int_eq(v.severity, ALERT_SEV_NONE);
    send_n(t, "late@acme.io", 5000, TK_T0); /* the same day: not new either */
    ck_assert_int_eq(eval_ramp(t, "late@acme.io").enough, 0);
    eng_table_destroy(t);
    /* the cap: 60 days on, the allowance stops at 1,000 */
    t = tk_table(1024, TK_T0, NULL, 0);
    send_n(t, "old@acme.io", 1, TK_T0 - TK_DAY);
    send_n(t, "m@acme.io", 1, TK_T0);
    eng_table_tick(t, TK_T0 + 60 * TK_DAY);
    send_n(t, "m@acme.io", 1001, TK_T0 + 60 * TK_DAY);
    v = eval_ramp(t, "m@acme.io");
    ck_assert_uint_eq(v.den, 1000);
    ck_assert_uint_eq(v.base_num, 60);
    ck_assert_int_eq(v.severity, ALERT_SEV_WARNING);
    char buf[64];
    alert_notify_value_text(rule_named("warmup_ramp"), v.value_ppb, buf, sizeof(buf));
    ck_assert_str_eq(buf, "1.0x");
    eng_table_destroy(t);
}
END_TEST

static Suite *suite(void)
{
    return check_suite("alert_rule", 0, setup, teardown,
                       CHECK_TESTS(threshold_table, hysteresis, complaint_thresholds,
                                   spam_trap_count, engagement_drop_exact, spikes,
                                   rising_trend_days, tenant_overrides, default_names,
                                   plain_decimals, rules_changed_mask, warmup_ramp_allowance));
}

Suite *test_suite(void)
{
    return suite();
}
