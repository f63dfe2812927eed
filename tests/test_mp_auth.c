/* test_mp_auth.c — Check suite "mp_auth": cmd/daemon/mp_auth, the API's
 * bearer tokens and the loopback rule.
 *
 * Lookup: the admin token, each tenant token, and everything that is not
 * one (unknown, empty, a prefix of a real token, a real token with more
 * after it, another scheme, no header) is denied; the scheme is
 * case-insensitive. With no token configured everyone is the admin. The
 * loopback rule: 127.0.0.1, [::1], localhost are open without tokens;
 * 0.0.0.0, [::], a LAN literal and other names are refused without tokens
 * (the message names the key, never a token) and all are allowed with
 * tokens.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "mp_auth.h"

#define ADMIN "admin-0123456789abcdef-secret"
#define ACME "acme-0123456789abcdef-token"
#define BETA "beta-0123456789abcdef-token"

static struct mp_auth *A;

static void setup(void)
{
    struct mp_auth_tenant_conf t[] = {{"acme", ACME}, {"beta", BETA}};
    struct mp_auth_conf c = {.admin = ADMIN, .n_tenants = 2, .tenants = t};
    ck_assert_int_eq(mp_auth_create(&c, &A), MP_OK);
}

static void teardown(void) { mp_auth_destroy(A); }

/* Checks header h: role and tenant (NULL for none). */
static void who_is(const char *h, enum mp_auth_role role, const char *tenant)
{
    struct mp_auth_who w;
    mp_auth_check(A, h, &w);
    ck_assert_msg(w.role == role, "\"%s\": role %d, expected %d", h ? h : "(none)", w.role, role);
    if (tenant)
        ck_assert_msg(w.tenant && strcmp(w.tenant, tenant) == 0, "\"%s\": tenant %s", h,
                      w.tenant ? w.tenant : "(null)");
    else
        ck_assert_ptr_null(w.tenant);
}

START_TEST(lookup)
{
    who_is("Bearer " ADMIN, MP_AUTH_ADMIN, NULL);
    who_is("Bearer " ACME, MP_AUTH_TENANT, "acme");
    who_is("Bearer " BETA, MP_AUTH_TENANT, "beta");
    who_is("bearer " ACME, MP_AUTH_TENANT, "acme"); /* the scheme in any case */
    who_is("BEARER   " ACME "  ", MP_AUTH_TENANT, "acme");
    who_is("Bearer unknown-0123456789abcdef", MP_AUTH_DENIED, NULL);
    who_is("Bearer ", MP_AUTH_DENIED, NULL);
    who_is("Bearer", MP_AUTH_DENIED, NULL);
    who_is("", MP_AUTH_DENIED, NULL);
    who_is(NULL, MP_AUTH_DENIED, NULL);
    who_is("Bearer acme-0123456789abcdef-toke", MP_AUTH_DENIED, NULL); /* a prefix */
    who_is("Bearer " ACME "x", MP_AUTH_DENIED, NULL);                  /* longer */
    who_is("Bearer " ACME ACME, MP_AUTH_DENIED, NULL);
    who_is("Basic " ADMIN, MP_AUTH_DENIED, NULL);
    who_is(ADMIN, MP_AUTH_DENIED, NULL);
    who_is("Bearer" ADMIN, MP_AUTH_DENIED, NULL);
    char big[4096];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Bearer ", 7);
    who_is(big, MP_AUTH_DENIED, NULL);
    ck_assert(!mp_auth_open(A));
    ck_assert(!mp_auth_metrics_open(A));
}
END_TEST

/* No tokens: open, everyone is the admin, /metrics open too. */
START_TEST(open_without_tokens)
{
    struct mp_auth *open = NULL;
    struct mp_auth_conf none = {0};
    struct mp_auth_who w;
    ck_assert_int_eq(mp_auth_create(&none, &open), MP_OK);
    ck_assert(mp_auth_open(open) && mp_auth_metrics_open(open));
    mp_auth_check(open, NULL, &w);
    ck_assert_int_eq(w.role, MP_AUTH_ADMIN);
    mp_auth_check(open, "Bearer whatever-it-is-here", &w);
    ck_assert_int_eq(w.role, MP_AUTH_ADMIN);
    mp_auth_destroy(open);
    ck_assert(mp_auth_open(NULL) && mp_auth_metrics_open(NULL));
    ck_assert(!mp_auth_conf_has_tokens(&none) && !mp_auth_conf_has_tokens(NULL));

    /* Tenant tokens only, and metrics_open. */
    struct mp_auth_tenant_conf t[] = {{"acme", ACME}};
    struct mp_auth_conf c = {.n_tenants = 1, .tenants = t, .metrics_open = 1};
    ck_assert(mp_auth_conf_has_tokens(&c));
    ck_assert_int_eq(mp_auth_create(&c, &open), MP_OK);
    ck_assert(!mp_auth_open(open) && mp_auth_metrics_open(open));
    mp_auth_check(open, "Bearer " ADMIN, &w);
    ck_assert_int_eq(w.role, MP_AUTH_DENIED);
    mp_auth_check(open, "Bearer " ACME, &w);
    ck_assert_int_eq(w.role, MP_AUTH_TENANT);
    mp_auth_destroy(open);
}
END_TEST

START_TEST(token_syntax)
{
    ck_assert(mp_auth_token_valid("0123456789abcdef"));
    ck_assert(mp_auth_token_valid(ADMIN));
    ck_assert(!mp_auth_token_valid("0123456789abcde")); /* 15 */
    ck_assert(!mp_auth_token_valid(""));
    ck_assert(!mp_auth_token_valid("0123456789 abcdef"));
    ck_assert(!mp_auth_token_valid("0123456789abcdef\r\nX-Evil: 1"));
    ck_assert(!mp_auth_token_valid("0123456789abcdef\xc3\xa9"));
    char big[MP_AUTH_TOKEN_MAX + 2];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ck_assert(!mp_auth_token_valid(big));
    big[MP_AUTH_TOKEN_MAX] = '\0';
    ck_assert(mp_auth_token_valid(big));
}
END_TEST

START_TEST(loopback_rule)
{
    static const char *open[] = {"127.0.0.1:7480", "127.8.9.10:1", "[::1]:7480", "localhost:7480",
                                 "LocalHost:80", "[::ffff:127.0.0.1]:7480"};
    static const char *closed[] = {"0.0.0.0:7480", "[::]:7480", "192.168.1.10:7480",
                                   "10.0.0.1:80", "[fe80::1]:7480", "mail.example.com:7480",
                                   "localhost.example.com:80", "[::ffff:10.0.0.1]:80",
                                   "128.0.0.1:80"};
    char err[512];
    for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
        ck_assert_msg(mp_auth_loopback(open[i]), "%s", open[i]);
        ck_assert_int_eq(mp_auth_listen_check(open[i], false, err, sizeof(err)), MP_OK);
        ck_assert_int_eq(mp_auth_listen_check(open[i], true, err, sizeof(err)), MP_OK);
    }
    for (size_t i = 0; i < sizeof(closed) / sizeof(closed[0]); i++) {
        ck_assert_msg(!mp_auth_loopback(closed[i]), "%s", closed[i]);
        err[0] = '\0';
        ck_assert_int_eq(mp_auth_listen_check(closed[i], false, err, sizeof(err)), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, "is not a loopback address") && strstr(err, "http.tokens") &&
                          strstr(err, closed[i]),
                      "%s", err);
        ck_assert_int_eq(mp_auth_listen_check(closed[i], true, err, sizeof(err)), MP_OK);
    }
    ck_assert(!mp_auth_loopback("garbage"));
    ck_assert(!mp_auth_loopback(NULL));
}
END_TEST

CHECK_SUITE("mp_auth", 0, setup, teardown, lookup, open_without_tokens, token_syntax, loopback_rule)
