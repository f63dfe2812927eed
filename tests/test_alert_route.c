/* test_alert_route.c — alerts/alert_route: tenant routes.
 *
 * Routes never hand one tenant's alerts to another's receivers (whole names,
 * never prefixes); a tenant without a route of its own gets the default;
 * index lists are copies; a second route for a tenant is refused.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

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

Suite *test_suite(void)
{
    return check_suite("alert_route", 0, setup, teardown,
                       CHECK_TESTS(routes_isolate_tenants, default_and_copies, many_routes));
}
