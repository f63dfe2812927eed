/* test_eng_dmarc.c — engine/eng_dmarc.c: a report counted once and whole,
 * rows of one key summed, the read API (scan in a window, totals per
 * domain and provider), counts and seen marks across a store reopen, the
 * retention, and the provider names from org_name. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "eng_dmarc.h"
#include "unit_util.h"

static char dir[UNIT_PATH_MAX];

static void setup(void) { unit_tmpdir("eng_dmarc", dir); }
static void teardown(void) { unit_tmpdir_remove(dir); }

static struct eng_dmarc_row row(int64_t day, const char *domain, const char *prov, const char *ip,
                                uint64_t msgs, uint64_t pass)
{
    struct eng_dmarc_row r = {.day = day};
    snprintf(r.domain, sizeof(r.domain), "%s", domain);
    snprintf(r.provider, sizeof(r.provider), "%s", prov);
    snprintf(r.ip, sizeof(r.ip), "%s", ip);
    r.c[ENG_DMARC_MESSAGES] = msgs;
    r.c[ENG_DMARC_PASS] = pass;
    r.c[ENG_DMARC_FAIL] = msgs - pass;
    return r;
}

/* Opens a store in the test's directory and the DMARC table on it; the
 * caller asserts the return code of eng_dmarc_open. */
static int dmarc_open(int retention_days, struct eng_store **s, struct eng_dmarc **d)
{
    *s = unit_store_open(dir);
    return eng_dmarc_open(*s, retention_days, d);
}

static void dmarc_close(struct eng_store *s, struct eng_dmarc *d)
{
    eng_dmarc_close(d);
    eng_store_close(s);
}

START_TEST(apply_once_and_totals)
{
    struct eng_store *s;
    struct eng_dmarc *d;
    ck_assert_int_eq(dmarc_open(0, &s, &d), MP_OK);
    struct eng_dmarc_row rows[] = {row(20423, "acme.example", "google", "192.0.2.1", 100, 90),
                                   row(20423, "acme.example", "google", "192.0.2.10", 5, 0),
                                   row(20423, "acme.example", "google", "192.0.2.1", 10, 10),
                                   row(20424, "mail.acme.example", "yahoo", "192.0.2.1", 7, 7)};
    ck_assert_int_eq(eng_dmarc_seen(d, "google.com", "r1"), 0);
    ck_assert_int_eq(eng_dmarc_apply(d, "google.com", "r1", "acme", rows, 4), MP_OK);
    ck_assert_int_eq(eng_dmarc_seen(d, "google.com", "r1"), 1);
    ck_assert_int_eq(eng_dmarc_seen(d, "google.com", "r"), 0); /* a prefix is another id */
    /* resent: nothing changes */
    ck_assert_int_eq(eng_dmarc_apply(d, "google.com", "r1", "acme", rows, 4), ENG_DMARC_DUP);
    uint64_t t[ENG_DMARC_NCOUNTS];
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", NULL, NULL, 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 122);
    ck_assert_uint_eq(t[ENG_DMARC_FAIL], 15);
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", "acme.example", "google", 20423, 20423, t),
                     MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 115); /* the two 192.0.2.1 rows summed */
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", NULL, "yahoo", 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 7);
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", NULL, NULL, 20424, 20424, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 7);
    ck_assert_int_eq(eng_dmarc_totals(d, "acm", NULL, NULL, 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 0); /* another tenant, a prefix of the name */
    /* another reporter's report adds */
    ck_assert_int_eq(eng_dmarc_apply(d, "Yahoo", "r1", "acme", rows, 1), MP_OK);
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", "acme.example", "google", 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 215);
    dmarc_close(s, d);
}
END_TEST

struct seen_rows {
    int n;
    char ips[8][46];
};

static int collect(void *arg, const struct eng_dmarc_row *r)
{
    struct seen_rows *s = arg;
    if (s->n < 8)
        snprintf(s->ips[s->n], 46, "%s", r->ip);
    s->n++;
    return 0;
}

START_TEST(survives_reopen_and_scans_in_order)
{
    struct eng_store *s;
    struct eng_dmarc *d;
    ck_assert_int_eq(dmarc_open(0, &s, &d), MP_OK);
    struct eng_dmarc_row rows[] = {row(20424, "acme.example", "google", "2001:db8::1", 3, 3),
                                   row(20423, "acme.example", "google", "192.0.2.9", 4, 0)};
    ck_assert_int_eq(eng_dmarc_apply(d, "google.com", "r2", "acme", rows, 2), MP_OK);
    dmarc_close(s, d);
    ck_assert_int_eq(dmarc_open(0, &s, &d), MP_OK);
    ck_assert_int_eq(eng_dmarc_apply(d, "google.com", "r2", "acme", rows, 2), ENG_DMARC_DUP);
    struct seen_rows sr = {0};
    ck_assert_int_eq(eng_dmarc_scan(d, "acme", 0, 99999, collect, &sr), MP_OK);
    ck_assert_int_eq(sr.n, 2);
    ck_assert_str_eq(sr.ips[0], "192.0.2.9"); /* day order */
    ck_assert_str_eq(sr.ips[1], "2001:db8::1");
    sr.n = 0;
    ck_assert_int_eq(eng_dmarc_scan(d, "acme", 20424, 20424, collect, &sr), MP_OK);
    ck_assert_int_eq(sr.n, 1);
    dmarc_close(s, d);
}
END_TEST

START_TEST(retention_drops_old_days)
{
    struct eng_store *s;
    struct eng_dmarc *d;
    ck_assert_int_eq(dmarc_open(10, &s, &d), MP_OK);
    struct eng_dmarc_row old = row(20400, "acme.example", "google", "192.0.2.1", 1, 1);
    struct eng_dmarc_row now = row(20420, "acme.example", "google", "192.0.2.1", 2, 2);
    struct eng_dmarc_row other = row(20400, "beta.example", "google", "192.0.2.1", 4, 4);
    ck_assert_int_eq(eng_dmarc_apply(d, "g", "a", "acme", &old, 1), MP_OK);
    ck_assert_int_eq(eng_dmarc_apply(d, "g", "o", "beta", &other, 1), MP_OK);
    ck_assert_int_eq(eng_dmarc_apply(d, "g", "b", "acme", &now, 1), MP_OK);
    uint64_t t[ENG_DMARC_NCOUNTS];
    ck_assert_int_eq(eng_dmarc_totals(d, "acme", NULL, NULL, 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 2);
    ck_assert_int_eq(eng_dmarc_totals(d, "beta", NULL, NULL, 0, 99999, t), MP_OK);
    ck_assert_uint_eq(t[ENG_DMARC_MESSAGES], 4); /* another tenant's days are its own */
    dmarc_close(s, d);
}
END_TEST

START_TEST(refuses_bad_names)
{
    struct eng_dmarc_row r = row(1, "acme.example", "google", "192.0.2.1", 1, 1);
    struct eng_store *s;
    struct eng_dmarc *d;
    ck_assert_int_eq(dmarc_open(0, &s, &d), MP_OK);
    ck_assert_int_eq(eng_dmarc_apply(d, "g", "a", "no/tenant", &r, 1), MP_ERR_INVAL);
    ck_assert_int_eq(eng_dmarc_apply(d, "", "a", "acme", &r, 1), MP_ERR_INVAL);
    r.domain[0] = '\0';
    ck_assert_int_eq(eng_dmarc_apply(d, "g", "a", "acme", &r, 1), MP_ERR_INVAL);
    ck_assert_int_eq(eng_dmarc_seen(d, "g", "a"), 0); /* nothing half-done */
    dmarc_close(s, d);
}
END_TEST

START_TEST(provider_names)
{
    static const char *const rows[][2] = {{"google.com", "google"},
                                          {"Enterprise Outlook", "microsoft"},
                                          {"Outlook.com", "microsoft"},
                                          {"Yahoo", "yahoo"},
                                          {"AOL", "yahoo"},
                                          {"Mail.Ru", "mail.ru"},
                                          {"Fastmail Pty Ltd", "fastmail-pty-ltd"},
                                          {"!!!", "other"}};
    char out[33];
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        eng_dmarc_provider(rows[i][0], out);
        ck_assert_str_eq(out, rows[i][1]);
    }
    ck_assert_str_eq(eng_dmarc_count_name(ENG_DMARC_DISP_REJECT), "disposition_reject");
}
END_TEST

CHECK_SUITE("eng_dmarc", 30, setup, teardown, apply_once_and_totals,
            survives_reopen_and_scans_in_order, retention_drops_old_days, refuses_bad_names,
            provider_names)
