/* test_mp_config_dmarc.c — the `dmarc` section of the daemon's config
 * (cmd/daemon/mp_config.c: dmarc.tenant, dmarc.retention_days), loaded
 * through mp_config_load() as the daemon and --check load it: the
 * defaults, a full section, and refusals pinning line, key and reason.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config_testkit.h"
#include "mp_config.h"

#define HEAD "ingest:\n  pull: tcp://127.0.0.1:7400\n"

START_TEST(defaults_and_full_section)
{
    struct mp_config *c = NULL;
    char err[512];
    ck_assert_msg(ctk_load(HEAD, &c, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_ptr_null(c->dmarc_tenant);
    ck_assert_int_eq(c->dmarc_retention_days, 0);
    mp_config_free(c);
    ck_assert_msg(ctk_load(HEAD "dmarc:\n  tenant: acme\n  retention_days: 30\n", &c, err,
                       sizeof(err)) == MP_OK,
                  "%s", err);
    ck_assert_str_eq(c->dmarc_tenant, "acme");
    ck_assert_int_eq(c->dmarc_retention_days, 30);
    mp_config_free(c);
}
END_TEST

static const struct ctk_refusal refuse[] = {
    {HEAD "dmarc: 1\n", ":3: dmarc: expected a mapping"},
    {HEAD "dmarc:\n  tenant: \"a b\"\n", ":4: dmarc.tenant: expected a tenant name"},
    {HEAD "dmarc:\n  retention_days: 0\n",
     ":4: dmarc.retention_days: expected an integer 1..3650"},
    {HEAD "dmarc:\n  retention_days: 3651\n",
     ":4: dmarc.retention_days: expected an integer 1..3650"},
    {HEAD "dmarc:\n  tennant: acme\n", ":4: dmarc.tennant: unknown key"},
};

START_TEST(refusals)
{
    ctk_refused(refuse[_i].yaml, refuse[_i].want, _i);
}
END_TEST

CHECK_SUITE_TABLES("mp_config_dmarc", 0, NULL, NULL, CHECK_TESTS(defaults_and_full_section),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
