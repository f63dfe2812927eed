/* test_mp_config_providers.c — Check suite for cmd/daemon/mp_config_providers.c:
 * the `providers:` section loads into the map the table takes (additions,
 * moves, lower-casing), and every refusal names file:line: key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp_config.h"
#include "config_testkit.h"
#include "unit_util.h"

#define PULL "ingest:\n  pull: tcp://127.0.0.1:7400\n"

static const char *prov(const struct eng_providers *p, const char *d)
{
    size_t len;
    return eng_providers_lookup(p, d, strlen(d), &len);
}

START_TEST(loads_into_the_map)
{
    struct mp_config *cfg;
    char err[1024];
    ck_assert_int_eq(ctk_load(PULL "providers:\n"
                               "  acme-corp: [acme-mail.example, MX.Acme.Example.]\n"
                               "  google: [corp.example]\n"
                               "  other: [aol.com]\n",
                          &cfg, err, sizeof(err)),
                     MP_OK);
    ck_assert_uint_eq(cfg->providers.n, 4);
    struct eng_providers *p;
    ck_assert_int_eq(mp_config_providers_build(&cfg->providers, &p), MP_OK);
    ck_assert_str_eq(prov(p, "acme-mail.example"), "acme-corp");
    ck_assert_str_eq(prov(p, "mx.acme.example"), "acme-corp"); /* lower-cased, dot dropped */
    ck_assert_str_eq(prov(p, "corp.example"), "google");
    ck_assert_str_eq(prov(p, "gmail.com"), "google");
    ck_assert_str_eq(prov(p, "aol.com"), "other");
    ck_assert_str_eq(prov(p, "yahoo.com"), "yahoo");
    eng_providers_destroy(p);
    mp_config_free(cfg);
    /* absent: the built-in table alone */
    ck_assert_int_eq(ctk_load(PULL, &cfg, err, sizeof(err)), MP_OK);
    ck_assert_uint_eq(cfg->providers.n, 0);
    mp_config_free(cfg);
}
END_TEST

static const struct ctk_refusal refuse[] = {
    {PULL "providers: [acme]\n",
     ":3: providers: expected a mapping of provider name to a list of domains"},
    {PULL "providers:\n  Acme: [a.example]\n", ":4: providers: invalid provider name \"Acme\""},
    {PULL "providers:\n  a/b: [a.example]\n", ":4: providers: invalid provider name"},
    {PULL "providers:\n  acme: a.example\n",
     ":4: providers.acme: expected a non-empty list of domains"},
    {PULL "providers:\n  acme: []\n", ":4: providers.acme: expected a non-empty list"},
    {PULL "providers:\n  acme: [\"bad domain\"]\n",
     ":4: providers.acme: expected a recipient domain (a host name), got \"bad domain\""},
    {PULL "providers:\n  acme:\n    - a.example\n    - [x]\n",
     ":6: providers.acme: expected a recipient domain"},
    {PULL "providers:\n  acme: [a.example]\n  beta: [A.example]\n",
     ":5: providers.beta: domain a.example is listed twice (also under acme)"},
    {PULL "providers:\n  acme: [a.example]\n  acme: [b.example]\n", ":5: providers"},
};

START_TEST(refusals) { ctk_refused(refuse[_i].yaml, refuse[_i].want, _i); }
END_TEST

/* Past ENG_PROVIDERS_MAX with the built-in ones: refused at that provider. */
START_TEST(too_many_providers)
{
    char yaml[8192] = PULL "providers:\n";
    for (int i = 0; i < ENG_PROVIDERS_MAX; i++) {
        size_t n = strlen(yaml);
        snprintf(yaml + n, sizeof(yaml) - n, "  p%02d: [d%02d.example]\n", i, i);
    }
    struct mp_config *cfg;
    char err[1024];
    ck_assert_int_eq(ctk_load(yaml, &cfg, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_msg(strstr(err, "more than 64 providers with the built-in ones") != NULL, "%s", err);
}
END_TEST

CHECK_SUITE_TABLES("mp_config_providers", 0, NULL, NULL,
                   CHECK_TESTS(loads_into_the_map, too_many_providers),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
