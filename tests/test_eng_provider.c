/* test_eng_provider.c — engine/eng_provider: the provider map alone (the
 * built-in table, additions, overrides, refusals, growth), the README's
 * list of it, and the scopes the key table derives from it (provider,
 * mailbox_provider, campaign: keys, names, the key cap, a map replaced).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_provider.h"
#include "eng_table.h"
#include "eng_testkit.h"
#include "ingest_validate.h"
#include "check_main.h"

static struct eng_providers *P;

static void setup(void) { ck_assert_int_eq(eng_providers_create(&P), MP_OK); }
static void teardown(void) { eng_providers_destroy(P); }

static const char *prov_of(const struct eng_providers *p, const char *domain)
{
    size_t len;
    const char *n = eng_providers_lookup(p, domain, strlen(domain), &len);
    ck_assert_uint_eq(strlen(n), len);
    return n;
}

START_TEST(builtin_table)
{
    static const struct {
        const char *domain, *provider;
    } cases[] = {
        {"gmail.com", "google"},        {"googlemail.com", "google"},
        {"outlook.com", "microsoft"},   {"hotmail.com", "microsoft"},
        {"live.com", "microsoft"},      {"msn.com", "microsoft"},
        {"hotmail.co.uk", "microsoft"}, {"outlook.de", "microsoft"},
        {"yahoo.com", "yahoo"},         {"aol.com", "yahoo"},
        {"icloud.com", "apple"},        {"me.com", "apple"},
        {"mac.com", "apple"},           {"gmx.de", "gmx"},
        {"web.de", "gmx"},              {"comcast.net", "comcast"},
        {"orange.fr", "orange"},        {"mail.ru", "mailru"},
        {"yandex.ru", "yandex"},        {"qq.com", "qq"},
        {"163.com", "netease"},         {"example.com", "other"},
        {"gmail.co", "other"},          {"mail.gmail.com", "other"},
        {"gmail.com.", "other"},        {"", "other"},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++)
        ck_assert_msg(strcmp(prov_of(P, cases[i].domain), cases[i].provider) == 0,
                      "%s -> %s, want %s", cases[i].domain, prov_of(P, cases[i].domain),
                      cases[i].provider);
}
END_TEST

/* Every built-in entry: a valid provider name, a valid lower-case domain
 * listed once, and the map gives it back. */
START_TEST(builtin_entries_valid)
{
    const char *prov, *dom;
    size_t n = 0;
    for (size_t i = 0; eng_provider_builtin(i, &prov, &dom); i++, n++) {
        char norm[256];
        size_t len;
        ck_assert_msg(eng_provider_name_valid(prov, strlen(prov)), "%s", prov);
        ck_assert_msg(ingest_norm_domain(dom, strlen(dom), norm, &len) && strcmp(norm, dom) == 0,
                      "%s", dom);
        ck_assert_str_eq(prov_of(P, dom), prov);
        const char *p2, *d2;
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(eng_provider_builtin(j, &p2, &d2) && strcmp(d2, dom) != 0,
                          "%s listed twice", dom);
    }
    ck_assert_uint_gt(n, 100);
}
END_TEST

/* The README's provider table names every built-in domain. */
START_TEST(readme_lists_builtin)
{
    FILE *f = fopen("README.md", "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *sec = strstr(text, "### Mailbox providers");
    ck_assert_ptr_nonnull(sec);
    const char *prov, *dom;
    for (size_t i = 0; eng_provider_builtin(i, &prov, &dom); i++) {
        char want[300];
        snprintf(want, sizeof(want), "`%s`", dom);
        ck_assert_msg(strstr(sec, want) != NULL, "README misses %s (%s)", dom, prov);
    }
}
END_TEST

START_TEST(set_adds_and_overrides)
{
    ck_assert_int_eq(eng_providers_set(P, "acme-corp", "acme-mail.example", 17), MP_OK);
    ck_assert_str_eq(prov_of(P, "acme-mail.example"), "acme-corp");
    ck_assert_int_eq(eng_providers_set(P, "google", "corp.example", 12), MP_OK);
    ck_assert_str_eq(prov_of(P, "corp.example"), "google");
    ck_assert_int_eq(eng_providers_set(P, "acme-corp", "gmail.com", 9), MP_OK); /* moves */
    ck_assert_str_eq(prov_of(P, "gmail.com"), "acme-corp");
    ck_assert_str_eq(prov_of(P, "googlemail.com"), "google");
    ck_assert_int_eq(eng_providers_set(P, "other", "aol.com", 7), MP_OK); /* leaves yahoo */
    ck_assert_str_eq(prov_of(P, "aol.com"), "other");
    ck_assert_str_eq(prov_of(P, "yahoo.com"), "yahoo");
}
END_TEST

START_TEST(set_refusals_leave_map)
{
    char longname[ENG_PROVIDER_NAME_MAX + 2];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    const char *bad[] = {"", "Google", "a/b", "a b", longname};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        ck_assert_int_eq(eng_providers_set(P, bad[i], "x.example", 9), MP_ERR_INVAL);
    ck_assert_int_eq(eng_providers_set(P, "acme", "", 0), MP_ERR_INVAL);
    ck_assert_int_eq(eng_providers_set(P, "acme", "x", 254), MP_ERR_INVAL);
    ck_assert_str_eq(prov_of(P, "x.example"), "other");
    /* the provider cap counts the built-in ones; past it nothing changes */
    int added = 0, rc = MP_OK;
    for (int i = 0; rc == MP_OK && i < ENG_PROVIDERS_MAX; i++) {
        char name[16], dom[32];
        snprintf(name, sizeof(name), "p%d", i);
        snprintf(dom, sizeof(dom), "d%d.example", i);
        if ((rc = eng_providers_set(P, name, dom, strlen(dom))) == MP_OK)
            added++;
    }
    ck_assert_int_eq(rc, MP_ERR_FULL);
    ck_assert_int_gt(added, 0);
    char dom[32];
    snprintf(dom, sizeof(dom), "d%d.example", added);
    ck_assert_str_eq(prov_of(P, dom), "other");
    ck_assert_int_eq(eng_providers_set(P, "p0", dom, strlen(dom)), MP_OK); /* known: fine */
    ck_assert_str_eq(prov_of(P, dom), "p0");
}
END_TEST

START_TEST(grows)
{
    char dom[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(dom, sizeof(dom), "mx%d.example", i);
        ck_assert_int_eq(eng_providers_set(P, i % 2 ? "odd" : "even", dom, strlen(dom)), MP_OK);
    }
    for (int i = 0; i < 20000; i++) {
        snprintf(dom, sizeof(dom), "mx%d.example", i);
        ck_assert_str_eq(prov_of(P, dom), i % 2 ? "odd" : "even");
    }
    ck_assert_str_eq(prov_of(P, "gmail.com"), "google");
    ck_assert_str_eq(prov_of(P, "mx20000.example"), "other");
}
END_TEST

/* ---- the scopes the table derives ------------------------------------------ */

static int rec_c(struct eng_table *t, const char *mb, const char *dom, const char *camp, int type)
{
    struct eng_event ev = {"acme", 4, mb, strlen(mb), dom, strlen(dom), type, TK_T0,
                           camp, camp ? strlen(camp) : 0};
    struct eng_thread *th;
    ck_assert_int_eq(eng_thread_register(t, &th), MP_OK);
    eng_thread_online(th);
    int rc = eng_table_record(t, th, &ev);
    eng_thread_unregister(th);
    return rc;
}

#define WIN(sc, name, type) tk_win(t, (sc), "acme", (name), ENG_WIN_1H, (type))

START_TEST(six_scopes)
{
    struct eng_table *t = tk_table_scopes(1024, TK_T0, NULL, 0, 0);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", "spring", ENG_SENT), MP_OK);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "googlemail.com", "spring", ENG_SENT), MP_OK);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "GooglE.example", NULL, ENG_BOUNCE_HARD), MP_OK);
    ck_assert_int_eq(rec_c(t, "b@acme.io", "outlook.com", NULL, ENG_SENT), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "google", ENG_SENT), 2);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "other", ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "microsoft", ENG_SENT), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX_PROVIDER, "a@acme.io/google", ENG_SENT), 2);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX_PROVIDER, "b@acme.io/google", ENG_SENT), 0);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX_PROVIDER, "b@acme.io/microsoft", ENG_SENT), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_CAMPAIGN, "spring", ENG_SENT), 2);
    ck_assert_uint_eq(WIN(ENG_SCOPE_TENANT, NULL, ENG_SENT), 3);
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX_PROVIDER, "acme", "a@acme.io/google", &k),
                     MP_OK);
    ck_assert_str_eq(eng_key_mailbox(t, k), "a@acme.io");
    ck_assert_str_eq(eng_key_provider(t, k), "google");
    ck_assert_str_eq(eng_key_name(t, k), "a@acme.io/google");
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_PROVIDER, "acme", "google", &k), MP_OK);
    ck_assert_str_eq(eng_key_provider(t, k), "google");
    ck_assert_ptr_null(eng_key_mailbox(t, k));
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_CAMPAIGN, "acme", "spring", &k), MP_OK);
    ck_assert_ptr_null(eng_key_provider(t, k));
    /* 1 tenant + 2 mailboxes + 4 domains + 3 providers + 3 mailbox x provider + 1 campaign */
    ck_assert_uint_eq(eng_table_nkeys(t), 14);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "acme", NULL, &k), MP_OK);
    ck_assert_uint_eq(eng_key_children_count(k), 13); /* the key cap counts them all */
    ck_assert_str_eq(eng_scope_name(ENG_SCOPE_MAILBOX_PROVIDER), "mailbox_provider");
    eng_table_destroy(t);
}
END_TEST

/* A key that sees one type pays for one series, in every scope. */
START_TEST(few_types_stay_small)
{
    struct eng_table *t = tk_table_scopes(1024, TK_T0, NULL, 0, 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", "c1", ENG_SENT), MP_OK);
    ck_assert_uint_eq(eng_table_nkeys(t), 6);
    ck_assert_uint_eq(eng_table_nseries(t), 6);
    eng_table_destroy(t);
}
END_TEST

START_TEST(key_cap_counts_new_scopes)
{
    struct eng_tenant_limits lim = {.max_keys = 4};
    struct eng_table_opts o = {.max_keys = 1024, .retention_ms = 35 * TK_DAY, .limits = lim};
    struct eng_table *t;
    ck_assert_int_eq(eng_table_create(&o, TK_T0, &t), MP_OK);
    /* mailbox, domain, provider, mailbox_provider: exactly the cap */
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", NULL, ENG_SENT), MP_OK);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", "c1", ENG_SENT), ENG_ERR_KEY_CAP);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", NULL, ENG_SENT), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX_PROVIDER, "a@acme.io/google", ENG_SENT), 2);
    eng_table_destroy(t);
}
END_TEST

/* An event without a mailbox (mailbox_len 0: an ESP feed with no sender)
 * counts at tenant, domain, provider and campaign, and makes no mailbox or
 * mailbox_provider key (none named "" or "/google"). */
START_TEST(no_mailbox_counts_elsewhere)
{
    struct eng_table *t = tk_table_scopes(1024, TK_T0, NULL, 0, 0);
    ck_assert_int_eq(rec_c(t, "", "gmail.com", "spring", ENG_BOUNCE_HARD), MP_OK);
    ck_assert_int_eq(rec_c(t, "", "gmail.com", NULL, ENG_DELIVERED), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_TENANT, NULL, ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_TENANT, NULL, ENG_DELIVERED), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_DOMAIN, "gmail.com", ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "google", ENG_DELIVERED), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_CAMPAIGN, "spring", ENG_BOUNCE_HARD), 1);
    struct eng_key *k;
    ck_assert_int_ne(eng_table_find(t, ENG_SCOPE_MAILBOX, "acme", "", &k), MP_OK);
    ck_assert_int_ne(eng_table_find(t, ENG_SCOPE_MAILBOX_PROVIDER, "acme", "/google", &k), MP_OK);
    /* tenant + domain + provider + campaign */
    ck_assert_uint_eq(eng_table_nkeys(t), 4);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_PROVIDER, "acme", "google", &k), MP_OK);
    ck_assert_str_eq(eng_key_name(t, k), "google");
    /* with a mailbox again, the usual six */
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", "spring", ENG_SENT), MP_OK);
    ck_assert_uint_eq(eng_table_nkeys(t), 6);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX, "a@acme.io", ENG_BOUNCE_HARD), 0);
    ck_assert_uint_eq(WIN(ENG_SCOPE_TENANT, NULL, ENG_SENT), 1);
    eng_table_destroy(t);
}
END_TEST

START_TEST(long_mailbox_no_mailbox_provider)
{
    struct eng_table *t = tk_table_scopes(1024, TK_T0, NULL, 0, 0);
    char mb[256];
    memset(mb, 'x', 245);
    strcpy(mb + 245, "@acme.io"); /* 253 bytes: with "/google" over 255 */
    ck_assert_int_eq(rec_c(t, mb, "gmail.com", NULL, ENG_SENT), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX, mb, ENG_SENT), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "google", ENG_SENT), 1);
    ck_assert_uint_eq(eng_table_nkeys(t), 4);
    eng_table_destroy(t);
}
END_TEST

START_TEST(map_from_opts_and_replaced)
{
    struct eng_providers *p;
    ck_assert_int_eq(eng_providers_create(&p), MP_OK);
    ck_assert_int_eq(eng_providers_set(p, "acme-corp", "acme-mail.example", 17), MP_OK);
    struct eng_table_opts o = {.max_keys = 1024, .retention_ms = 35 * TK_DAY, .providers = p};
    struct eng_table *t;
    ck_assert_int_eq(eng_table_create(&o, TK_T0, &t), MP_OK);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "acme-mail.example", NULL, ENG_SENT), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "acme-corp", ENG_SENT), 1);
    ck_assert_int_eq(eng_providers_create(&p), MP_OK); /* the built-in table again */
    eng_table_set_providers(t, p);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "acme-mail.example", NULL, ENG_SENT), MP_OK);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "acme-corp", ENG_SENT), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_PROVIDER, "other", ENG_SENT), 1);
    eng_table_destroy(t);
}
END_TEST

static int count_scope(void *arg, int64_t bucket, int scope, uint32_t tid, uint32_t nid,
                       const uint64_t counts[ENG_NTYPES])
{
    (void)bucket, (void)tid, (void)nid;
    ck_assert_uint_eq(counts[ENG_SENT - 1], 1);
    ((unsigned *)arg)[scope]++;
    return 0;
}

/* With a store: the new scopes flush, reload after a restart (names split
 * again), and backfilled days reach every scope the event has. */
START_TEST(store_restart_and_backfill)
{
    char dir[UNIT_PATH_MAX];
    unit_tmpdir("prov", dir);
    struct eng_store *s = unit_store_open(dir);
    struct eng_table *t = tk_table_scopes(1024, TK_T0, s, 0, 0);
    ck_assert_int_eq(rec_c(t, "a@acme.io", "gmail.com", "c1", ENG_BOUNCE_HARD), MP_OK);
    struct eng_event old = {"acme", 4, "a@acme.io", 9, "hotmail.com", 11, ENG_SENT,
                            TK_T0 - 20 * TK_DAY, NULL, 0};
    struct eng_thread *th;
    ck_assert_int_eq(eng_thread_register(t, &th), MP_OK);
    eng_thread_online(th);
    ck_assert_int_eq(eng_table_record(t, th, &old), MP_OK);
    eng_thread_unregister(th);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    eng_table_destroy(t); /* a restart */
    eng_store_close(s);
    s = unit_store_open(dir);
    t = tk_table_scopes(1024, TK_T0, s, 0, 0);
    ck_assert_uint_eq(WIN(ENG_SCOPE_MAILBOX_PROVIDER, "a@acme.io/google", ENG_BOUNCE_HARD), 1);
    ck_assert_uint_eq(WIN(ENG_SCOPE_CAMPAIGN, "c1", ENG_BOUNCE_HARD), 1);
    struct eng_key *k;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_MAILBOX_PROVIDER, "acme", "a@acme.io/google", &k),
                     MP_OK);
    ck_assert_str_eq(eng_key_mailbox(t, k), "a@acme.io");
    /* the backfilled day: one entry per scope the event has (no campaign) */
    unsigned per_scope[ENG_NSCOPES] = {0};
    int64_t d = (TK_T0 - 20 * TK_DAY) / TK_DAY;
    ck_assert_int_eq(eng_store_load_counts(s, ENG_RES_DAY, d, d, count_scope, per_scope), MP_OK);
    for (int sc = 0; sc < ENG_NSCOPES; sc++)
        ck_assert_uint_eq(per_scope[sc], sc == ENG_SCOPE_CAMPAIGN ? 0 : 1);
    eng_table_destroy(t);
    eng_store_close(s);
    unit_tmpdir_remove(dir);
}
END_TEST

CHECK_SUITE("eng_provider", 60, setup, teardown, builtin_table, builtin_entries_valid,
            readme_lists_builtin, set_adds_and_overrides, set_refusals_leave_map, grows, six_scopes,
            few_types_stay_small, key_cap_counts_new_scopes, no_mailbox_counts_elsewhere,
            long_mailbox_no_mailbox_provider,
            map_from_opts_and_replaced, store_restart_and_backfill)
