/* test_mp_scrape.c — Check suite "mp_scrape": cmd/daemon/mp_scrape, a
 * tenant's counters in the Prometheus text format.
 *
 * Cases:
 *   text_is_valid    a tenant with keys of every scope: the text passes the
 *                    strict checker (tests/prom_text.c); each family's
 *                    samples are exact (today's counter, the 1h/24h/7d
 *                    gauges, the rates, none for a zero denominator); a
 *                    scope's name label is named after the scope; types a
 *                    key never saw have no sample; other tenants' keys are
 *                    not in it.
 *   label_escaping   a name with '"', '\' and a newline comes out escaped
 *                    and still passes the checker.
 *   keys_bounded     keys_max: the rest are left out and truncated says 1.
 *   reply            200 with the text content type; 404 for a tenant not
 *                    counted and, for a caller limited to acme, for beta
 *                    (byte for byte the stats route's answer); 400 for a query parameter; 404 for
 *                    another path.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "e2e_harness.h"
#include "eng_testkit.h"
#include "mp_scrape.h"
#include "mp_stats.h"
#include "prom_text.h"

#define MB "ops@acme.example"

static struct eng_table *table;

static void setup(void)
{
    table = tk_table(1024, TK_T0, NULL, 0);
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(tk_rec(table, "acme", MB, "gmail.com", ENG_SENT, TK_T0 - 10 * TK_MIN),
                         MP_OK);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(tk_rec(table, "acme", MB, "gmail.com", ENG_BOUNCE_HARD, TK_T0), MP_OK);
    /* yesterday: in 24h and 7d, not in today's counter */
    ck_assert_int_eq(tk_rec(table, "acme", MB, "yahoo.com", ENG_SENT, TK_T0 - 13 * TK_HOUR),
                     MP_OK);
    ck_assert_int_eq(tk_rec(table, "beta", "x@beta.example", "gmail.com", ENG_SENT, TK_T0), MP_OK);
}

static void teardown(void) { eng_table_destroy(table); }

static char *render(const char *tenant, size_t keys_max)
{
    struct mp_buf b = MP_BUF_INIT;
    ck_assert_int_eq(mp_scrape_render(table, tenant, keys_max, &b), MP_OK);
    char why[256];
    ck_assert_msg(prom_text_check(b.p, why, sizeof(why)) == 0, "%s in:\n%.2000s", why, b.p);
    return b.p;
}

static uint64_t val(const char *text, const char *series)
{
    uint64_t v;
    ck_assert_msg(e2e_metric(text, series, &v) == MP_OK, "no %s", series);
    return v;
}

#define L_T "tenant=\"acme\",scope=\"tenant\""
#define L_MB "tenant=\"acme\",scope=\"mailbox\",mailbox=\"" MB "\""
#define L_YH "tenant=\"acme\",scope=\"recipient_domain\",recipient_domain=\"yahoo.com\""

START_TEST(text_is_valid)
{
    char *t = render("acme", 100);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_events_total{" L_T ",type=\"sent\"}"), 40);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_events_total{" L_MB ",type=\"bounce_hard\"}"), 2);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_events_total{" L_YH ",type=\"sent\"}"), 0);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_window_events{" L_YH ",type=\"sent\",window=\"24h\"}"),
                      1);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_window_events{" L_YH ",type=\"sent\",window=\"1h\"}"),
                      0);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_window_events{" L_T ",type=\"sent\",window=\"7d\"}"),
                      41);
    double r;
    ck_assert_int_eq(e2e_metric_double(t, "mailpulse_tenant_rate{" L_MB ",rate=\"bounce_rate\","
                                          "window=\"1h\"}", &r), MP_OK);
    ck_assert(r == 0.05);
    /* no delivered anywhere: no complaint_rate sample; no open ever: no open sample */
    ck_assert_ptr_null(strstr(t, "complaint_rate"));
    ck_assert_ptr_null(strstr(t, "type=\"open\""));
    ck_assert_ptr_null(strstr(t, "beta"));
    ck_assert_uint_eq(val(t, "mailpulse_tenant_scrape_keys{tenant=\"acme\"}"), 4);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_scrape_truncated{tenant=\"acme\"}"), 0);
    free(t);
}
END_TEST

START_TEST(label_escaping)
{
    ck_assert_int_eq(tk_rec(table, "acme", "a\"b\\c\nd@x.example", "gmail.com", ENG_SENT, TK_T0),
                     MP_OK);
    char *t = render("acme", 100);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_events_total{tenant=\"acme\",scope=\"mailbox\","
                             "mailbox=\"a\\\"b\\\\c\\nd@x.example\",type=\"sent\"}"), 1);
    free(t);
}
END_TEST

START_TEST(keys_bounded)
{
    char *t = render("acme", 2);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_scrape_keys{tenant=\"acme\"}"), 2);
    ck_assert_uint_eq(val(t, "mailpulse_tenant_scrape_truncated{tenant=\"acme\"}"), 1);
    free(t);
}
END_TEST

static int reply(const char *path, const char *arg, const char *only, char **body)
{
    struct mp_http_arg a = {arg, "1"};
    struct mp_http_request req = {.method = "GET", .path = path, .args = &a, .nargs = arg ? 1 : 0};
    struct mp_http_reply out = {0};
    mp_scrape_reply_only(table, &req, only, &out);
    *body = out.body;
    if (out.status == 200)
        ck_assert_str_eq(out.content_type, "text/plain; version=0.0.4; charset=utf-8");
    else
        ck_assert_str_eq(out.content_type, "application/json");
    return out.status;
}

START_TEST(reply_status)
{
    char *b1, *b2;
    ck_assert_int_eq(reply("/v1/tenants/acme/metrics", NULL, "acme", &b1), 200);
    free(b1);
    ck_assert_int_eq(reply("/v1/tenants/beta/metrics", NULL, "acme", &b1), 404);
    ck_assert_int_eq(reply("/v1/tenants/beta/metrics", NULL, NULL, &b2), 200);
    free(b2);
    /* byte for byte what the stats route answers that caller for beta */
    struct mp_http_request sreq = {.method = "GET", .path = "/v1/tenants/beta/stats"};
    struct mp_http_reply sout = {0};
    mp_stats_reply_only(table, &sreq, "acme", &sout);
    ck_assert_int_eq(sout.status, 404);
    ck_assert_str_eq(b1, sout.body);
    free(sout.body);
    free(b1);
    ck_assert_int_eq(reply("/v1/tenants/gamma/metrics", NULL, NULL, &b1), 404);
    free(b1);
    ck_assert_int_eq(reply("/v1/tenants/acme/metrics", "window", NULL, &b1), 400);
    ck_assert_ptr_nonnull(strstr(b1, "unknown query parameter \\\"window\\\""));
    free(b1);
    ck_assert_int_eq(reply("/v1/tenants/a cme/metrics", NULL, NULL, &b1), 400);
    free(b1);
    ck_assert_int_eq(reply("/v1/tenants/acme/metrics/x", NULL, NULL, &b1), 404);
    free(b1);
}
END_TEST

CHECK_SUITE("mp_scrape", 0, setup, teardown, text_is_valid, label_escaping, keys_bounded,
            reply_status)
