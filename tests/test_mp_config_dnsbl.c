/* test_mp_config_dnsbl.c — Check suite for cmd/daemon/mp_config_dnsbl.c:
 * the `blocklists:` section loads (defaults, zones with codes and their own
 * resolver, a tenant's default zones by type), and every refusal names
 * file:line: key and why (the 127.255.255.x codes, host-name resolvers,
 * zones of no matching type among them).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config_testkit.h"
#include "mp_config.h"
#include "unit_util.h"

#define PULL "ingest:\n  pull: tcp://127.0.0.1:7400\n"
#define ZONES                                                                                   \
    "  zones:\n"                                                                                \
    "    zen.example:\n      type: ip\n      codes:\n        127.0.0.2: \"SBL: spam source\"\n" \
    "    dbl.example:\n      type: domain\n      resolver: \"[::1]:5353\"\n"

START_TEST(without_the_section)
{
    struct mp_config *cfg = NULL;
    char err[512];
    ck_assert_int_eq(ctk_load(PULL, &cfg, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(cfg->dnsbl.enabled, 0);
    ck_assert_int_eq(cfg->dnsbl.interval_ms, 15 * 60 * 1000);
    ck_assert_int_eq(cfg->dnsbl.timeout_ms, 5000);
    ck_assert_int_eq(cfg->dnsbl.tries, 2);
    mp_config_free(cfg);
}
END_TEST

START_TEST(loads_zones_and_tenants)
{
    struct mp_config *cfg = NULL;
    char err[512];
    int rc = ctk_load(PULL "blocklists:\n  interval: 2m\n  timeout: 250ms\n  tries: 3\n"
                           "  resolver: 127.0.0.1:5300\n  pause_sends: true\n" ZONES
                           "  tenants:\n"
                           "    acme:\n      ips: [192.0.2.10, \"2001:db8::25\"]\n"
                           "      domains: [Acme.Example]\n"
                           "    beta:\n      ips: [198.51.100.7]\n      zones: [zen.example]\n",
                      &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "%s", err);
    const struct mp_dnsbl_conf *c = &cfg->dnsbl;
    ck_assert_int_eq(c->enabled, 1);
    ck_assert_int_eq(c->interval_ms, 120000);
    ck_assert_int_eq(c->timeout_ms, 250);
    ck_assert_int_eq(c->tries, 3);
    ck_assert_int_eq(c->pause_sends, 1);
    ck_assert_str_eq(c->resolver, "127.0.0.1:5300");
    ck_assert_uint_eq(c->nzones, 2);
    const struct mp_dnsbl_zone *zen = mp_config_dnsbl_zone(c, "zen.example");
    const struct mp_dnsbl_zone *dbl = mp_config_dnsbl_zone(c, "dbl.example");
    ck_assert_ptr_nonnull(zen);
    ck_assert_ptr_nonnull(dbl);
    ck_assert_int_eq(zen->type, MP_DNSBL_IP);
    ck_assert_int_eq(dbl->type, MP_DNSBL_DOMAIN);
    ck_assert_ptr_null(zen->resolver);
    ck_assert_str_eq(dbl->resolver, "[::1]:5353");
    ck_assert_str_eq(mp_config_dnsbl_meaning(zen, "127.0.0.2"), "SBL: spam source");
    ck_assert_ptr_null(mp_config_dnsbl_meaning(zen, "127.0.0.3"));
    ck_assert_uint_eq(c->ntenants, 2);
    ck_assert_str_eq(c->tenants[0].tenant, "acme");
    ck_assert_uint_eq(c->tenants[0].nips, 2);
    ck_assert_str_eq(c->tenants[0].domains[0], "acme.example"); /* lower-cased */
    ck_assert_uint_eq(c->tenants[0].nzones, 2); /* no list: every zone of a type it has */
    ck_assert_uint_eq(c->tenants[1].nzones, 1); /* beta: ips only, zen only */
    ck_assert_str_eq(c->zones[c->tenants[1].zones[0]].name, "zen.example");
    mp_config_free(cfg);
}
END_TEST

static const struct ctk_refusal refuse[] = {
    {PULL "blocklists: [x]\n", ":3: blocklists: expected a mapping"},
    {PULL "blocklists:\n  bogus: 1\n", ":4: blocklists.bogus: unknown key"},
    {PULL "blocklists:\n  interval: 500ms\n", ":4: blocklists.interval: expected a duration from 1s"},
    {PULL "blocklists:\n  tries: 9\n", ":4: blocklists.tries: expected an integer 1..5"},
    {PULL "blocklists:\n  resolver: dns.example:53\n",
     ":4: blocklists.resolver: expected an address with a port such as 127.0.0.1:53"},
    {PULL "blocklists:\n  resolver: 127.0.0.1\n", ":4: blocklists.resolver: expected an address"},
    {PULL "blocklists:\n  zones:\n    \"bad zone\": {type: ip}\n",
     ":5: blocklists.zones: invalid zone \"bad zone\""},
    {PULL "blocklists:\n  zones:\n    zen.example: {type: asn}\n",
     ":5: blocklists.zones.zen.example.type: expected ip or domain"},
    {PULL "blocklists:\n  zones:\n    zen.example: {resolver: 127.0.0.1:53}\n",
     ":5: blocklists.zones.zen.example: type: missing"},
    {PULL "blocklists:\n  zones:\n    zen.example:\n      type: ip\n      codes:\n"
          "        127.255.255.254: public resolver\n",
     ":8: blocklists.zones.zen.example.codes: invalid return code \"127.255.255.254\""},
    {PULL "blocklists:\n  zones:\n    zen.example:\n      type: ip\n      codes:\n"
          "        10.0.0.2: nope\n",
     ":8: blocklists.zones.zen.example.codes: invalid return code \"10.0.0.2\""},
    {PULL "blocklists:\n  tenants:\n    acme: {ips: [192.0.2.1]}\n",
     ":5: blocklists.tenants: no blocklists.zones to check the tenants against"},
    {PULL "blocklists:\n" ZONES "  tenants:\n    Acme!: {ips: [192.0.2.1]}\n",
     ":13: blocklists.tenants: invalid tenant name \"Acme!\""},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {ips: [192.0.2.300]}\n",
     ":13: blocklists.tenants.acme.ips: expected an IPv4 or IPv6 address"},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {ips: [192.0.2.1, 192.0.2.1]}\n",
     ":13: blocklists.tenants.acme.ips: 192.0.2.1 given twice"},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {domains: [\"a b.example\"]}\n",
     ":13: blocklists.tenants.acme.domains: expected a domain"},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {zones: [zen.example]}\n",
     ":13: blocklists.tenants.acme: neither ips nor domains"},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {ips: [192.0.2.1], zones: [x.example]}\n",
     ":13: blocklists.tenants.acme.zones: unknown zone \"x.example\""},
    {PULL "blocklists:\n" ZONES "  tenants:\n    acme: {ips: [192.0.2.1], zones: [dbl.example]}\n",
     ":13: blocklists.tenants.acme.zones: zone dbl.example is a domain zone, and the tenant "
     "lists no domains"},
    {PULL "blocklists:\n  zones:\n    dbl.example: {type: domain}\n"
          "  tenants:\n    acme: {ips: [192.0.2.1]}\n",
     ":7: blocklists.tenants.acme: no zone of blocklists.zones has the type of its lists"},
};

START_TEST(refusals) { ctk_refused(refuse[_i].yaml, refuse[_i].want, _i); }
END_TEST

CHECK_SUITE_TABLES("mp_config_dnsbl", 0, NULL, NULL,
                   CHECK_TESTS(without_the_section, loads_zones_and_tenants),
                   CHECK_LOOPS(CHECK_LOOP(refusals, refuse)))
