/* test_alert_route.c — alerts/alert_route: tenant routes.
 *
 * Routes never hand one tenant's alerts to another's receivers (whole names,
 * never prefixes); a tenant without a route of its own gets the default;
 * index lists are copies; a second route for a tenant is refused. Entries
 * with matchers: the first match wins, continue goes on, an entry without
 * matchers takes everything, every matcher must hold, a label the alert
 * lacks matches nothing, and a tenant's entries never see another tenant's
 * alerts (nor do the default's once a tenant has a route of its own); each
 * entry's key is Alertmanager's route key, labels sorted.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_route.h"
#include "check_main.h"

static struct alert_routes *R;

static void setup(void) { ck_assert_int_eq(alert_routes_create(&R), MP_OK); }
static void teardown(void) { alert_routes_destroy(R); }

/* Asserts that `tenant` routes to exactly want[0..n). */
static void expect_route(const char *tenant, const size_t *want, size_t n)
{
    const size_t *idx = NULL;
    size_t got = 99;
    alert_routes_lookup(R, tenant, &idx, &got);
    ck_assert_msg(got == n, "%s: %zu receivers, want %zu", tenant, got, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(idx[i] == want[i], "%s: receiver %zu is %zu, want %zu", tenant, i, idx[i],
                      want[i]);
}

START_TEST(routes_isolate_tenants)
{
    size_t def[] = {0}, a[] = {1, 2}, b[] = {3};
    ck_assert_int_eq(alert_routes_set_default(R, def, 1), MP_OK);
    ck_assert_int_eq(alert_routes_add(R, "team-a", a, 2), MP_OK);
    ck_assert_int_eq(alert_routes_add(R, "team-b", b, 1), MP_OK);
    ck_assert_int_eq(alert_routes_add(R, "team-b", a, 2), MP_ERR_INVAL);
    const size_t *idx;
    size_t n;
    alert_routes_lookup(R, "team-a", &idx, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(idx[0], 1);
    ck_assert_uint_eq(idx[1], 2);
    alert_routes_lookup(R, "team-b", &idx, &n);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], 3);
    alert_routes_lookup(R, "team-a2", &idx, &n); /* prefix of nobody's: default */
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(idx[0], 0);
    alert_routes_lookup(R, "team", &idx, &n);
    ck_assert_uint_eq(idx[0], 0);
}
END_TEST

START_TEST(default_and_copies)
{
    expect_route("anyone", NULL, 0); /* no default yet: nobody hears */
    size_t def[] = {4, 5}, a[] = {7};
    ck_assert_int_eq(alert_routes_set_default(R, def, 2), MP_OK);
    ck_assert_int_eq(alert_routes_add(R, "team-a", a, 1), MP_OK);
    def[0] = a[0] = 99; /* the routes hold copies */
    expect_route("anyone", (const size_t[]){4, 5}, 2);
    expect_route("team-a", (const size_t[]){7}, 1);
    /* a second default replaces the first; own routes stay */
    ck_assert_int_eq(alert_routes_set_default(R, (const size_t[]){6}, 1), MP_OK);
    expect_route("anyone", (const size_t[]){6}, 1);
    expect_route("team-a", (const size_t[]){7}, 1);
    /* a route with no receivers silences its tenant, not the default */
    ck_assert_int_eq(alert_routes_add(R, "quiet", NULL, 0), MP_OK);
    expect_route("quiet", NULL, 0);
    expect_route("Team-A", (const size_t[]){6}, 1); /* names are case-sensitive */
}
END_TEST

START_TEST(many_routes)
{
    /* more than the first allocation holds: every route still found */
    char name[32];
    for (size_t i = 0; i < 50; i++) {
        snprintf(name, sizeof(name), "tenant-%zu", i);
        ck_assert_int_eq(alert_routes_add(R, name, &i, 1), MP_OK);
    }
    for (size_t i = 0; i < 50; i++) {
        snprintf(name, sizeof(name), "tenant-%zu", i);
        expect_route(name, &i, 1);
    }
    alert_routes_destroy(NULL); /* fine, as free() is */
}
END_TEST

/* An alert's labels for the matchers: "k=v" strings, NULL-terminated. */
static const char *label_of(void *arg, const char *label)
{
    for (const char *const *p = arg; *p; p++) {
        size_t n = strlen(label);
        if (strncmp(*p, label, n) == 0 && (*p)[n] == '=')
            return *p + n + 1;
    }
    return NULL;
}

/* The receivers alert `labels` of `tenant` reaches, as "e<entry key>:r,r;..." */
static void reached(const char *tenant, const char *const *labels, char *out, size_t n)
{
    struct alert_route_hit h[ALERT_ROUTE_HITS_MAX];
    size_t got = alert_routes_match(R, tenant, label_of, (void *)labels, h, ALERT_ROUTE_HITS_MAX);
    out[0] = '\0';
    for (size_t i = 0; i < got; i++) {
        size_t len = strlen(out);
        snprintf(out + len, n - len, "%s%s:", i ? ";" : "", h[i].key);
        for (size_t r = 0; r < h[i].n; r++) {
            len = strlen(out);
            snprintf(out + len, n - len, "%s%zu", r ? "," : "", h[i].idx[r]);
        }
        ck_assert_uint_lt(h[i].id, alert_routes_entries(R));
    }
}

#define EXPECT_REACHED(tenant, want, ...)                                                  \
    do {                                                                                   \
        char got_[512];                                                                    \
        reached((tenant), (const char *const[]){__VA_ARGS__, NULL}, got_, sizeof(got_));   \
        ck_assert_msg(strcmp(got_, (want)) == 0, "%s: got \"%s\", want \"%s\"", (tenant), \
                      got_, (want));                                                       \
    } while (0)

START_TEST(matchers_first_wins_and_continue)
{
    struct alert_route_matcher crit = {"severity", "critical"};
    struct alert_route_matcher two[] = {{"tenant", "acme"}, {"alertname", "bounce_rate"}};
    /* acme: critical -> pager (0) and on; bounce_rate -> 1; everything -> 2 */
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", &crit, 1, (const size_t[]){0}, 1, 1),
                     MP_OK);
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", two, 2, (const size_t[]){1}, 1, 0), MP_OK);
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", NULL, 0, (const size_t[]){2, 3}, 2, 0),
                     MP_OK);
    /* the default: critical -> 4 (first wins, no continue), the rest -> 5 */
    ck_assert_int_eq(alert_routes_add_entry(R, NULL, &crit, 1, (const size_t[]){4}, 1, 0), MP_OK);
    ck_assert_int_eq(alert_routes_add_entry(R, NULL, NULL, 0, (const size_t[]){5}, 1, 0), MP_OK);
    ck_assert_uint_eq(alert_routes_entries(R), 5);
    EXPECT_REACHED("acme", "{}/{severity=\"critical\"}:0;{}/{alertname=\"bounce_rate\", "
                           "tenant=\"acme\"}:1",
                   "severity=critical", "tenant=acme", "alertname=bounce_rate");
    EXPECT_REACHED("acme", "{}/{severity=\"critical\"}:0;{}:2,3", "severity=critical",
                   "tenant=acme", "alertname=complaint_rate");
    EXPECT_REACHED("acme", "{}:2,3", "severity=warning", "tenant=acme",
                   "alertname=complaint_rate");
    /* every matcher must hold: tenant=acme alone is not enough */
    EXPECT_REACHED("acme", "{}:2,3", "severity=warning", "tenant=acme");
    /* other tenants use the default, never acme's entries */
    EXPECT_REACHED("beta", "{}/{severity=\"critical\"}:4", "severity=critical", "tenant=beta",
                   "alertname=bounce_rate");
    EXPECT_REACHED("beta", "{}:5", "severity=warning", "tenant=beta");
    /* a label the alert lacks matches nothing */
    EXPECT_REACHED("beta", "{}:5", "tenant=beta");
    /* the simple lookup gives the first entry */
    expect_route("acme", (const size_t[]){0}, 1);
}
END_TEST

START_TEST(matchers_unrouted_and_isolated)
{
    struct alert_route_matcher crit = {"severity", "critical"};
    struct alert_route_matcher other = {"tenant", "beta"};
    ck_assert_int_eq(alert_routes_add_entry(R, NULL, NULL, 0, (const size_t[]){9}, 1, 0), MP_OK);
    /* acme routes only its critical alerts: a warning is unrouted, and does
     * not fall back to the default */
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", &crit, 1, (const size_t[]){0}, 1, 0),
                     MP_OK);
    EXPECT_REACHED("acme", "", "severity=warning", "tenant=acme");
    /* an entry of acme's matching tenant=beta never sees beta's alerts */
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", &other, 1, (const size_t[]){1}, 1, 0),
                     MP_OK);
    EXPECT_REACHED("beta", "{}:9", "severity=warning", "tenant=beta");
    /* too many matchers: refused */
    struct alert_route_matcher many[ALERT_ROUTE_MATCHERS_MAX + 1];
    for (size_t i = 0; i < ALERT_ROUTE_MATCHERS_MAX + 1; i++)
        many[i] = crit;
    ck_assert_int_eq(alert_routes_add_entry(R, "acme", many, ALERT_ROUTE_MATCHERS_MAX + 1,
                                            (const size_t[]){0}, 1, 0),
                     MP_ERR_INVAL);
}
END_TEST

CHECK_SUITE("alert_route", 0, setup, teardown, routes_isolate_tenants, default_and_copies,
            many_routes, matchers_first_wins_and_continue, matchers_unrouted_and_isolated)
