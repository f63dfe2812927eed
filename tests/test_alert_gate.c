/* test_alert_gate.c — alerts/alert_gate: pause decisions from firing alerts.
 *
 * Which sends each scope pauses (tenant, mailbox, recipient_domain,
 * provider with the built-in provider map, mailbox_provider; a campaign
 * alert none), the severity gate, cool-down and re-arming, silences lifting a
 * pause, the change events and figures, the pauses list, and a stress case:
 * readers deciding on several threads while a writer syncs (run under TSan
 * by `make SANITIZER=thread build/gcc-thread/tests/test_alert_gate`).
 */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_gate.h"
#include "check_main.h"
#include "eng_provider.h"
#include "mp_atomic.h"
#include "mp_log.h"

#define T0 1800000000000LL
#define COOL 60000LL

static struct alert_gate *G;
static struct alert_silences *S;
static int events[ALERT_GATE_NEVENTS];

static void on_change(void *arg, const struct alert_gate_change *c)
{
    MP_UNUSED(arg);
    ck_assert(c->pause != NULL);
    events[c->event]++;
}

void test_init(void) { mp_log_set_level(MP_LOG_WARN); }

static void setup(void)
{
    char err[256];
    memset(events, 0, sizeof(events));
    ck_assert_int_eq(alert_silences_open(NULL, NULL, NULL, &S, err, sizeof(err)), MP_OK);
    struct alert_gate_opts o = {.cool_down_ms = COOL, .silences = S, .on_change = on_change};
    ck_assert_int_eq(alert_gate_new(&o, &G), MP_OK);
}

static void teardown(void)
{
    alert_gate_free(G);
    alert_silences_free(S);
}

/* A firing alert of rule `rule` (gated at gate_sev) at severity sev. */
static struct alert_gate_alert mk(const char *rule, int gate_sev, int sev, int scope,
                                  const char *tenant, const char *name)
{
    struct alert_gate_alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.rule.name, sizeof(a.rule.name), "%s", rule);
    a.rule.gate_sev = gate_sev;
    a.rule.critical_ppb = 1;
    a.severity = sev;
    a.scope = scope;
    snprintf(a.tenant, sizeof(a.tenant), "%s", tenant);
    snprintf(a.name, sizeof(a.name), "%s", name);
    snprintf(a.summary, sizeof(a.summary), "%s over the line", rule);
    return a;
}

static int decide(const char *tenant, const char *mailbox, const char *domain,
                  const char *provider, int64_t now, struct alert_gate_answer *ans)
{
    struct alert_gate_answer local;
    struct alert_gate_query q = {tenant, mailbox, domain, provider};
    if (!ans)
        ans = &local;
    ck_assert_int_eq(alert_gate_decide(G, &q, now, ans), MP_OK);
    ck_assert_int_eq(ans->decision == ALERT_GATE_PAUSE, ans->nreasons > 0);
    return ans->decision;
}

#define W ALERT_SEV_WARNING
#define C ALERT_SEV_CRITICAL
#define PAUSE ALERT_GATE_PAUSE
#define ALLOW ALERT_GATE_ALLOW

START_TEST(tenant_alert_pauses_the_tenant_only)
{
    struct alert_gate_alert a = mk("bounce_rate", W, W, ALERT_GATE_TENANT, "acme", "");
    struct alert_gate_answer ans;
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0, NULL), ALLOW);
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0, &ans), PAUSE);
    ck_assert_uint_eq(ans.nreasons, 1);
    ck_assert_str_eq(ans.reasons[0].rule, "bounce_rate");
    ck_assert_str_eq(ans.reasons[0].summary, "bounce_rate over the line");
    ck_assert_int_eq(ans.retry_after_s, COOL / 1000);
    ck_assert_int_eq(decide("acme", "a@acme.example", "gmail.com", NULL, T0, NULL), PAUSE);
    ck_assert_int_eq(decide("beta", "a@acme.example", "gmail.com", NULL, T0, NULL), ALLOW);
    ck_assert_int_eq(events[ALERT_GATE_PAUSED], 1);
}
END_TEST

START_TEST(mailbox_and_domain_alerts_pause_their_sends)
{
    struct alert_gate_alert a[2] = {
        mk("bounce_rate", W, W, ALERT_GATE_MAILBOX, "acme", "news@acme.example"),
        mk("bounce_rate", W, W, ALERT_GATE_DOMAIN, "acme", "gmail.com"),
    };
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0, NULL), ALLOW);
    ck_assert_int_eq(decide("acme", "news@acme.example", "yahoo.com", NULL, T0, NULL), PAUSE);
    ck_assert_int_eq(decide("acme", "ops@acme.example", "yahoo.com", NULL, T0, NULL), ALLOW);
    ck_assert_int_eq(decide("acme", "ops@acme.example", "gmail.com", NULL, T0, NULL), PAUSE);
    ck_assert_int_eq(decide("beta", "news@acme.example", "gmail.com", NULL, T0, NULL), ALLOW);
    struct alert_gate_answer ans;
    ck_assert_int_eq(decide("acme", "news@acme.example", "gmail.com", NULL, T0, &ans), PAUSE);
    ck_assert_uint_eq(ans.nreasons, 2);
    ck_assert_int_eq(ans.reasons[0].scope, ALERT_GATE_MAILBOX);
    ck_assert_int_eq(ans.reasons[1].scope, ALERT_GATE_DOMAIN);
}
END_TEST

static void silence(const char *matchers);

/* The gate's alert of an evaluator instance at the given scope fields. */
static struct alert_gate_alert from(const struct alert_rule *r, const char *mailbox,
                                    const char *provider, const char *campaign, int *rc)
{
    struct alert_instance in = {.rule = r, .status = ALERT_STATUS_FIRING, .severity = C,
                                .tenant = "acme", .mailbox = mailbox, .provider = provider,
                                .campaign = campaign, .starts_ms = T0};
    struct alert_gate_alert a;
    *rc = alert_gate_from_instance(&in, &a);
    return a;
}

/* decide() with the provider of `domain` from the built-in map, as the
 * daemon derives it (cmd/daemon/mp_gate.c). */
static int decide_via_map(const char *tenant, const char *mailbox, const char *domain)
{
    struct eng_providers *m;
    size_t n;
    char prov[ENG_PROVIDER_NAME_MAX + 1];
    ck_assert_int_eq(eng_providers_create(&m), MP_OK);
    const char *p = eng_providers_lookup(m, domain, strlen(domain), &n);
    snprintf(prov, sizeof(prov), "%.*s", (int)n, p);
    eng_providers_destroy(m);
    return decide(tenant, mailbox, domain, prov, T0, NULL);
}

/* Syncs the gate's alert of an instance of `r` for acme at mailbox/provider,
 * which must enter at `scope` under `name`. */
static struct alert_gate_alert gated(const struct alert_rule *r, const char *mailbox,
                                     const char *provider, int scope, const char *name)
{
    int rc;
    struct alert_gate_alert a = from(r, mailbox, provider, NULL, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(a.scope, scope);
    ck_assert_str_eq(a.name, name);
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK);
    return a;
}

/* Sends and their decisions; a row without provider takes the map's. */
struct send {
    const char *tenant, *mailbox, *domain, *provider;
    int via_map, want;
};

static void expect_sends(const struct send *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int d = s[i].via_map ? decide_via_map(s[i].tenant, s[i].mailbox, s[i].domain)
                             : decide(s[i].tenant, s[i].mailbox, s[i].domain, s[i].provider, T0,
                                      NULL);
        ck_assert_msg(d == s[i].want, "send %zu: %s %s -> %s", i, s[i].tenant,
                      s[i].mailbox ? s[i].mailbox : "-", s[i].domain);
    }
}

START_TEST(provider_alert_pauses_sends_to_its_domains)
{
    struct alert_rule r = {.name = "complaints", .gate_sev = W, .critical_ppb = 1};
    gated(&r, NULL, "google", ALERT_GATE_PROVIDER, "google");
    static const struct send sends[] = {
        {"acme", "x@acme.example", "gmail.com", NULL, 1, PAUSE},
        {"acme", "y@acme.example", "googlemail.com", NULL, 1, PAUSE},
        {"acme", "x@acme.example", "yahoo.com", NULL, 1, ALLOW},
        {"beta", "x@acme.example", "gmail.com", NULL, 1, ALLOW},
        {"acme", "x@acme.example", "gmail.com", NULL, 0, ALLOW}, /* no provider: no match */
    };
    expect_sends(sends, MP_ARRAY_LEN(sends));
    struct alert_gate_answer ans;
    ck_assert_int_eq(decide("acme", NULL, "googlemail.com", "google", T0, &ans), PAUSE);
    ck_assert_int_eq(ans.reasons[0].scope, ALERT_GATE_PROVIDER);
    ck_assert_str_eq(ans.reasons[0].rule, "complaints");
    json_t *j = alert_gate_pause_json(&ans.reasons[0]);
    ck_assert_str_eq(json_string_value(json_object_get(j, "scope")), "provider");
    ck_assert_str_eq(json_string_value(json_object_get(j, "provider")), "google");
    ck_assert_ptr_null(json_object_get(j, "mailbox"));
    json_decref(j);
}
END_TEST

START_TEST(mailbox_provider_alert_pauses_that_mailbox_to_that_provider)
{
    struct alert_rule r = {.name = "bounce_rate", .gate_sev = W, .critical_ppb = 1};
    struct alert_gate_alert a = gated(&r, "news@acme.example", "google",
                                      ALERT_GATE_MAILBOX_PROVIDER, "news@acme.example/google");
    static const struct send sends[] = {
        {"acme", "news@acme.example", "gmail.com", NULL, 1, PAUSE},
        {"acme", "news@acme.example", "googlemail.com", NULL, 1, PAUSE},
        {"acme", "news@acme.example", "yahoo.com", NULL, 1, ALLOW},
        {"acme", "ops@acme.example", "gmail.com", NULL, 1, ALLOW},
        {"beta", "news@acme.example", "gmail.com", NULL, 1, ALLOW},
        {"acme", NULL, "gmail.com", "google", 0, ALLOW},
        {"acme", "news@acme.example", "gmail.com", NULL, 0, ALLOW},
    };
    expect_sends(sends, MP_ARRAY_LEN(sends));
    /* the list names both, split from the key's "mailbox/provider" */
    char *s = alert_gate_pauses_json(G, "acme", T0);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je), *p0 = json_array_get(json_object_get(j, "pauses"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(p0, "scope")), "mailbox_provider");
    ck_assert_str_eq(json_string_value(json_object_get(p0, "mailbox")), "news@acme.example");
    ck_assert_str_eq(json_string_value(json_object_get(p0, "provider")), "google");
    json_decref(j);
    free(s);
    /* a silence on the mailbox and provider lifts it */
    silence("[{\"name\":\"mailbox\",\"value\":\"news@acme.example\",\"isRegex\":false},"
            "{\"name\":\"provider\",\"value\":\"google\",\"isRegex\":false}]");
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0 + 1000), MP_OK);
    ck_assert_int_eq(events[ALERT_GATE_SILENCED], 1);
    ck_assert_int_eq(decide_via_map("acme", "news@acme.example", "gmail.com"), ALLOW);
}
END_TEST

START_TEST(campaign_alert_pauses_nothing)
{
    struct alert_rule r = {.name = "bounce_rate", .gate_sev = W, .critical_ppb = 1};
    int rc;
    from(&r, NULL, NULL, "spring", &rc);
    ck_assert_int_eq(rc, -1); /* not a tenant pause: no send names a campaign */
    struct alert_gate_alert a = from(&r, NULL, NULL, NULL, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(a.scope, ALERT_GATE_TENANT);
}
END_TEST

START_TEST(ungated_rules_and_low_severity_pause_nothing)
{
    struct alert_gate_alert a[2] = {mk("plain", 0, C, ALERT_GATE_TENANT, "acme", ""),
                                    mk("crit_only", C, W, ALERT_GATE_TENANT, "acme", "")};
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0, NULL), ALLOW);
    a[1].severity = C; /* escalates */
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0 + 1000), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0 + 1000, NULL), PAUSE);
    a[1].severity = W; /* back to warning: the gate cools down as on a resolve */
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0 + 2000), MP_OK);
    ck_assert_int_eq(events[ALERT_GATE_COOLING], 1);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0 + 2000, NULL), PAUSE);
}
END_TEST

START_TEST(resolve_cools_down_then_lifts)
{
    struct alert_gate_alert a = mk("bounce_rate", W, C, ALERT_GATE_DOMAIN, "acme", "gmail.com");
    struct alert_gate_answer ans;
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 5000), MP_OK); /* resolved */
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 5000, &ans), PAUSE);
    ck_assert_int_eq(ans.reasons[0].cooling, 1);
    ck_assert_int_eq(ans.reasons[0].lift_ms, T0 + 5000 + COOL);
    ck_assert_int_eq(ans.retry_after_s, COOL / 1000);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 35000, &ans), PAUSE);
    ck_assert_int_eq(ans.retry_after_s, 30);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 5000 + COOL - 1), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 5000 + COOL - 1, NULL), PAUSE);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 5000 + COOL), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 5000 + COOL, NULL), ALLOW);
    ck_assert_int_eq(events[ALERT_GATE_PAUSED], 1);
    ck_assert_int_eq(events[ALERT_GATE_COOLING], 1);
    ck_assert_int_eq(events[ALERT_GATE_LIFTED], 1);
    /* re-armed: the next firing pauses again */
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0 + 2 * COOL), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 2 * COOL, NULL), PAUSE);
    ck_assert_int_eq(events[ALERT_GATE_PAUSED], 2);
    struct alert_gate_figures f;
    alert_gate_figures(G, &f);
    ck_assert_uint_eq(f.events[ALERT_GATE_LIFTED], 1);
    ck_assert_uint_eq(f.paused, 1);
    ck_assert_uint_eq(f.cooling, 0);
    ck_assert_uint_eq(f.decisions_paused, 4);
}
END_TEST

START_TEST(firing_again_while_cooling_rearms_the_same_pause)
{
    struct alert_gate_alert a = mk("bounce_rate", W, W, ALERT_GATE_TENANT, "acme", "");
    struct alert_gate_answer ans;
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 1000), MP_OK);
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0 + 2000), MP_OK);
    ck_assert_int_eq(events[ALERT_GATE_REARMED], 1);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0 + COOL + 5000, &ans), PAUSE);
    ck_assert_int_eq(ans.reasons[0].cooling, 0);
    ck_assert_int_eq(ans.reasons[0].since_ms, T0);
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0 + COOL + 5000), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0 + COOL + 5000, NULL), PAUSE);
}
END_TEST

START_TEST(no_cool_down_lifts_at_the_resolve)
{
    alert_gate_free(G);
    struct alert_gate_opts o = {.cool_down_ms = -1, .on_change = on_change};
    ck_assert_int_eq(alert_gate_new(&o, &G), MP_OK);
    struct alert_gate_alert a = mk("bounce_rate", W, W, ALERT_GATE_TENANT, "acme", "");
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 1), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0 + 1, NULL), ALLOW);
    ck_assert_int_eq(events[ALERT_GATE_LIFTED], 1);
}
END_TEST

static void silence(const char *matchers)
{
    char id[ALERT_SILENCE_ID_LEN], err[256], s[40], e[40], b[1024];
    alert_format_time(T0, s, sizeof(s));
    alert_format_time(T0 + 3600000, e, sizeof(e));
    snprintf(b, sizeof(b),
             "{\"matchers\":%s,\"startsAt\":\"%s\",\"endsAt\":\"%s\",\"createdBy\":\"ops\","
             "\"comment\":\"lift the pause\"}",
             matchers, s, e);
    ck_assert_msg(alert_silence_put_json(S, b, strlen(b), NULL, T0, id, err, sizeof(err)) == MP_OK,
                  "%s", err);
}

START_TEST(a_silence_lifts_the_pause)
{
    struct alert_gate_alert a[2] = {
        mk("bounce_rate", W, W, ALERT_GATE_DOMAIN, "acme", "gmail.com"),
        mk("bounce_rate", W, W, ALERT_GATE_DOMAIN, "acme", "yahoo.com"),
    };
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0), MP_OK);
    silence("[{\"name\":\"recipient_domain\",\"value\":\"gmail.com\",\"isRegex\":false}]");
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0 + 1000), MP_OK);
    ck_assert_int_eq(events[ALERT_GATE_SILENCED], 1);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 1000, NULL), ALLOW);
    ck_assert_int_eq(decide("acme", NULL, "yahoo.com", NULL, T0 + 1000, NULL), PAUSE);
    /* while silenced it pauses nothing, cooling or not */
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0 + 2000), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, "gmail.com", NULL, T0 + 2000, NULL), ALLOW);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 3000), MP_OK); /* yahoo cools */
    silence("[{\"name\":\"recipient_domain\",\"value\":\"yahoo.com\",\"isRegex\":false}]");
    ck_assert_int_eq(alert_gate_sync(G, NULL, 0, T0 + 4000), MP_OK);
    ck_assert_int_eq(decide("acme", NULL, "yahoo.com", NULL, T0 + 4000, NULL), ALLOW);
    ck_assert_int_eq(events[ALERT_GATE_SILENCED], 2);
}
END_TEST

START_TEST(pauses_list_by_tenant)
{
    struct alert_gate_alert a[3];
    a[0] = mk("bounce_rate", W, W, ALERT_GATE_MAILBOX, "acme", "news@acme.example");
    a[1] = mk("bounce_rate", W, C, ALERT_GATE_TENANT, "beta", "");
    a[2] = mk("complaints", W, W, ALERT_GATE_DOMAIN, "acme", "gmail.com");
    ck_assert_int_eq(alert_gate_sync(G, a, 3, T0), MP_OK);
    ck_assert_int_eq(alert_gate_sync(G, a, 2, T0 + 1000), MP_OK); /* complaints resolved */
    char *s = alert_gate_pauses_json(G, "acme", T0 + 1000);
    json_error_t je;
    json_t *j = json_loads(s, 0, &je), *l = json_object_get(j, "pauses");
    ck_assert_uint_eq(json_array_size(l), 2);
    json_t *p0 = json_array_get(l, 0), *p1 = json_array_get(l, 1);
    ck_assert_str_eq(json_string_value(json_object_get(p0, "scope")), "mailbox");
    ck_assert_str_eq(json_string_value(json_object_get(p0, "mailbox")), "news@acme.example");
    ck_assert_str_eq(json_string_value(json_object_get(p0, "state")), "paused");
    ck_assert(json_is_null(json_object_get(p0, "lifts_at")));
    ck_assert_str_eq(json_string_value(json_object_get(p1, "recipient_domain")), "gmail.com");
    ck_assert_str_eq(json_string_value(json_object_get(p1, "state")), "cooling_down");
    ck_assert(json_is_string(json_object_get(p1, "lifts_at")));
    ck_assert_str_eq(json_string_value(json_object_get(p1, "reason")), "complaints over the line");
    json_decref(j);
    free(s);
    s = alert_gate_pauses_json(G, NULL, T0 + 1000);
    j = json_loads(s, 0, &je);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "pauses")), 3);
    json_decref(j);
    free(s);
}
END_TEST

START_TEST(bad_arguments)
{
    struct alert_gate_answer ans;
    struct alert_gate_query q = {NULL, NULL, NULL, NULL};
    ck_assert_int_eq(alert_gate_decide(G, &q, T0, &ans), MP_ERR_INVAL);
    ck_assert_int_eq(alert_gate_sync(G, NULL, 1, T0), MP_ERR_INVAL);
    struct alert_gate_alert a = mk("r", W, W, 99, "acme", "");
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, T0), MP_OK); /* a bad scope is passed over */
    ck_assert_int_eq(decide("acme", NULL, NULL, NULL, T0, NULL), ALLOW);
}
END_TEST

/* Readers decide on 4 threads while the writer flips pauses on and off:
 * every answer is whole (a reason always names the rule it came from), and
 * TSan sees no race between the swap and the reads. */
struct stress {
    mp_atomic_u32 stop;
    uint64_t answers, paused;
};

static void *stress_reader(void *arg)
{
    struct stress *st = arg;
    struct alert_gate_answer ans;
    struct alert_gate_query q = {"acme", "news@acme.example", "gmail.com", NULL};
    uint64_t n = 0, p = 0;
    while (!mp_load_acquire(&st->stop)) {
        alert_gate_decide(G, &q, T0, &ans);
        for (size_t i = 0; i < ans.nshown; i++)
            ck_assert(strcmp(ans.reasons[i].rule, "r") == 0);
        free(alert_gate_pauses_json(G, "acme", T0));
        n++;
        p += ans.decision == PAUSE;
    }
    __atomic_add_fetch(&st->answers, n, __ATOMIC_RELAXED);
    __atomic_add_fetch(&st->paused, p, __ATOMIC_RELAXED);
    return NULL;
}

START_TEST(stress_readers_and_a_writer)
{
    struct stress st = {0};
    pthread_t th[4];
    struct alert_gate_alert a[3] = {mk("r", W, W, ALERT_GATE_TENANT, "acme", ""),
                                    mk("r", W, W, ALERT_GATE_MAILBOX, "acme", "news@acme.example"),
                                    mk("r", W, W, ALERT_GATE_DOMAIN, "acme", "gmail.com")};
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, stress_reader, &st), 0);
    for (int i = 0; i < 3000; i++)
        ck_assert_int_eq(alert_gate_sync(G, a, (size_t)(i % 4), T0 + (int64_t)i * COOL), MP_OK);
    mp_store_release(&st.stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_gt(st.answers, 0);
    struct alert_gate_figures f;
    alert_gate_figures(G, &f);
    ck_assert_uint_eq(f.syncs, 3000);
    ck_assert_uint_gt(f.events[ALERT_GATE_PAUSED], 0);
    ck_assert_uint_eq(f.decisions, st.answers);
}
END_TEST

CHECK_SUITE("alert_gate", 60, setup, teardown, tenant_alert_pauses_the_tenant_only,
            mailbox_and_domain_alerts_pause_their_sends, provider_alert_pauses_sends_to_its_domains,
            mailbox_provider_alert_pauses_that_mailbox_to_that_provider,
            campaign_alert_pauses_nothing,
            ungated_rules_and_low_severity_pause_nothing, resolve_cools_down_then_lifts,
            firing_again_while_cooling_rearms_the_same_pause, no_cool_down_lifts_at_the_resolve,
            a_silence_lifts_the_pause, pauses_list_by_tenant, bad_arguments,
            stress_readers_and_a_writer)
