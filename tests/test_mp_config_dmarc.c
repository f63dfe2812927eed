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
#include "mp_config.h"
#include "unit_util.h"

#define HEAD "ingest:\n  pull: tcp://127.0.0.1:7400\n"

static char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 32];

static int load(const char *yaml, struct mp_config **cfg, char *err, size_t n)
{
    unit_tmpdir("config_dmarc", dir);
    snprintf(path, sizeof(path), "%s/mailpulse.yaml", dir);
    unit_write_file(path, yaml);
    int rc = mp_config_load(path, cfg, err, n);
    unit_tmpdir_remove(dir);
    return rc;
}

START_TEST(defaults_and_full_section)
{
    struct mp_config *c = NULL;
    char err[512];
    ck_assert_msg(load(HEAD, &c, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_ptr_null(c->dmarc_tenant);
    ck_assert_int_eq(c->dmarc_retention_days, 0);
    mp_config_free(c);
    ck_assert_msg(load(HEAD "dmarc:\n  tenant: acme\n  retention_days: 30\n", &c, err,
                       sizeof(err)) == MP_OK,
                  "%s", err);
    ck_assert_str_eq(c->dmarc_tenant, "acme");
    ck_assert_int_eq(c->dmarc_retention_days, 30);
    mp_config_free(c);
}
END_TEST

static const struct unit_refusal refuse[] = {
    {"dmarc: 1\n", "dmarc: expected a mapping", 3},
    {"dmarc:\n  tenant: \"a b\"\n", "dmarc.tenant: expected a tenant name", 4},
    {"dmarc:\n  retention_days: 0\n", "dmarc.retention_days: expected an integer 1..3650", 4},
    {"dmarc:\n  retention_days: 3651\n", "dmarc.retention_days: expected an integer 1..3650", 4},
    {"dmarc:\n  tennant: acme\n", "dmarc.tennant: unknown key", 4},
};

START_TEST(refusals)
{
    struct mp_config *c = NULL;
    char yaml[1024], err[1024];
    snprintf(yaml, sizeof(yaml), HEAD "%s", refuse[_i].yaml);
    ck_assert_int_eq(load(yaml, &c, err, sizeof(err)), MP_ERR_PARSE);
    unit_refused_near(err, path, &refuse[_i], _i);
}
END_TEST

CHECK_SUITE_TABLES("mp_config_dmarc", 0, NULL, NULL, CHECK_TESTS(defaults_and_full_section),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
