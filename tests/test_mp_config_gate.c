/* test_mp_config_gate.c — cmd/daemon/mp_config_gate.c, the `gate` section,
 * loaded through mp_config_load() as the daemon (and --check) load it:
 * the defaults, a full section, the tenant lookups, and a refusal table
 * pinning line, key path and reason. Run with CK_FORK=yes.
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
    unit_tmpdir("config_gate", dir);
    snprintf(path, sizeof(path), "%s/mailpulse.yaml", dir);
    unit_write_file(path, yaml);
    int rc = mp_config_load(path, cfg, err, n);
    unit_tmpdir_remove(dir);
    return rc;
}

START_TEST(defaults_without_the_section)
{
    struct mp_config *c = NULL;
    char err[512];
    ck_assert_msg(load(HEAD, &c, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_ptr_null(c->gate.policy_listen);
    ck_assert_int_eq(c->gate.cool_down_ms, 15 * 60 * 1000);
    ck_assert_int_eq(c->gate.action, MP_GATE_DEFER_IF_PERMIT);
    ck_assert_int_eq(c->gate.notify, 0);
    ck_assert_ptr_null(mp_config_gate_tenant(&c->gate, "acme.example", NULL));
    mp_config_free(c);
}
END_TEST

START_TEST(full_section)
{
    struct mp_config *c = NULL;
    char err[512];
    ck_assert_msg(load(HEAD "gate:\n  policy_listen: 127.0.0.1:7402\n  cool_down: 2m\n"
                            "  policy_action: HOLD\n  notify: true\n"
                            "  tenants:\n    acme: [acme.example, Mail.Acme.Example]\n"
                            "    beta: [beta.example]\n"
                            "  sasl_users:\n    relay@beta.example: beta\n",
                       &c, err, sizeof(err)) == MP_OK,
                  "%s", err);
    ck_assert_str_eq(c->gate.policy_listen, "127.0.0.1:7402");
    ck_assert_int_eq(c->gate.cool_down_ms, 120000);
    ck_assert_int_eq(c->gate.action, MP_GATE_HOLD);
    ck_assert_int_eq(c->gate.notify, 1);
    ck_assert_str_eq(mp_config_gate_tenant(&c->gate, "acme.example", NULL), "acme");
    ck_assert_str_eq(mp_config_gate_tenant(&c->gate, "mail.acme.example", NULL), "acme");
    ck_assert_str_eq(mp_config_gate_tenant(&c->gate, "beta.example", NULL), "beta");
    ck_assert_str_eq(mp_config_gate_tenant(&c->gate, "acme.example", "relay@beta.example"),
                     "beta"); /* the sasl user wins */
    ck_assert_str_eq(mp_config_gate_tenant(&c->gate, "acme.example", "nobody"), "acme");
    ck_assert_ptr_null(mp_config_gate_tenant(&c->gate, "other.example", NULL));
    ck_assert_str_eq(mp_config_gate_action_name(c->gate.action), "HOLD");
    mp_config_free(c);
}
END_TEST

static const struct unit_refusal refuse[] = {
    {"gate: 1\n", "gate: expected a mapping", 3},
    {"gate:\n  policy_listen: 7402\n", "gate.policy_listen: expected host:port", 4},
    {"gate:\n  cool_down: 2d\n", "gate.cool_down: expected 0s or a duration", 4},
    {"gate:\n  policy_action: REJECT\n", "gate.policy_action: expected DEFER_IF_PERMIT, DEFER or HOLD", 4},
    {"gate:\n  colldown: 1m\n", "gate.colldown: unknown key", 4},
    {"gate:\n  notify: yes\n", "gate.notify: expected true or false", 4},
    {"gate:\n  tenants: [acme]\n", "gate.tenants: expected a mapping of tenant to sender domains", 4},
    {"gate:\n  tenants:\n    acme: []\n", "gate.tenants.acme: expected a non-empty list", 5},
    {"gate:\n  tenants:\n    \"a b\": [acme.example]\n", "gate.tenants: invalid tenant name", 5},
    {"gate:\n  tenants:\n    acme: [\"not a host\"]\n", "gate.tenants.acme: expected a host name", 5},
    {"gate:\n  tenants:\n    acme: [acme.example]\n    beta: [ACME.example]\n",
     "gate.tenants.beta: acme.example is already tenant acme's", 6},
    {"gate:\n  sasl_users:\n    relay: \"a b\"\n", "gate.sasl_users.relay: expected a tenant name", 5},
    {"http:\n  listen: 127.0.0.1:7480\ngate:\n  policy_listen: 127.0.0.1:7480\n",
     "gate.policy_listen: 127.0.0.1:7480 binds the same port as http.listen", 6},
};

START_TEST(refusals)
{
    struct mp_config *c = NULL;
    char yaml[1024], err[1024];
    snprintf(yaml, sizeof(yaml), HEAD "%s", refuse[_i].yaml);
    ck_assert_int_eq(load(yaml, &c, err, sizeof(err)), MP_ERR_PARSE);
    unit_refused_at(err, path, &refuse[_i], _i);
}
END_TEST

CHECK_SUITE_TABLES("mp_config_gate", 0, NULL, NULL,
                   CHECK_TESTS(defaults_without_the_section, full_section),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
