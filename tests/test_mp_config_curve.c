/* test_mp_config_curve.c — Check suite for cmd/daemon/mp_config_curve.c,
 * the ingest.curve section, loaded through mp_config_load() as the daemon
 * (and --check) load it.
 *
 * Keys are made fresh per case (zmq_curve_keypair) and put into the YAML by
 * placeholders: $SEC the server's secret, $PUB1 / $PUB2 two producers'
 * public keys. Each case has a temp dir holding server.key (mode 0600).
 * The refusal table pins the line, the key path and the reason; a secret
 * never appears in a refusal. Run with CK_FORK=yes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zmq.h>

#include "check_main.h"
#include "mp_buf.h"
#include "mp_config.h"
#include "unit_util.h"

struct kc {
    char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 32];
    char sec[41], spub[41], pub1[41], pub2[41], sec1[41];
};

static void kc_write(const struct kc *k, const char *name, const char *text, mode_t mode)
{
    char p[UNIT_PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", k->dir, name);
    unit_write_file(p, text);
    ck_assert_int_eq(chmod(p, mode), 0);
}

/* A temp dir with server.key, and `yaml` (placeholders replaced) as
 * mailpulse.yaml. */
static void kc_open(struct kc *k, const char *yaml)
{
    char line[64];
    ck_assert_int_eq(zmq_curve_keypair(k->spub, k->sec), 0);
    ck_assert_int_eq(zmq_curve_keypair(k->pub1, k->sec1), 0);
    ck_assert_int_eq(zmq_curve_keypair(k->pub2, line), 0);
    unit_tmpdir("config_curve", k->dir);
    snprintf(k->path, sizeof(k->path), "%s/mailpulse.yaml", k->dir);
    snprintf(line, sizeof(line), "%s\n", k->sec);
    kc_write(k, "server.key", line, 0600);
    struct mp_buf b = MP_BUF_INIT;
    for (const char *p = yaml; *p;) {
        const char *sub = NULL;
        size_t skip = 0;
        if (strncmp(p, "$SEC", 4) == 0)
            sub = k->sec, skip = 4;
        else if (strncmp(p, "$PUB1", 5) == 0)
            sub = k->pub1, skip = 5;
        else if (strncmp(p, "$PUB2", 5) == 0)
            sub = k->pub2, skip = 5;
        if (sub) {
            ck_assert_int_eq(mp_buf_printf(&b, "%s", sub), MP_OK);
            p += skip;
        } else {
            ck_assert_int_eq(mp_buf_printf(&b, "%c", *p), MP_OK);
            p++;
        }
    }
    kc_write(k, "mailpulse.yaml", b.p, 0600);
    mp_buf_free(&b);
}

#define HEAD "ingest:\n  pull: tcp://127.0.0.1:7400\n  curve:\n"
#define FILE_KEY "    secret_key_file: server.key\n"
#define ONE_CLIENT "    clients:\n      - public_key: \"$PUB1\"\n        tenants: [acme]\n"

START_TEST(loads_file_and_inline)
{
    struct kc k;
    struct mp_config *cfg = NULL;
    char err[512];
    kc_open(&k, HEAD FILE_KEY "    clients:\n"
                "      - public_key: \"$PUB1\"\n        tenants: [acme, beta]\n"
                "      - {public_key: \"$PUB2\", tenants: [\"*\"]}\n");
    ck_assert_msg(mp_config_load(k.path, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert(cfg->curve.enabled);
    ck_assert_str_eq(cfg->curve.secret_key, k.sec);
    ck_assert_uint_eq(cfg->curve.n_clients, 2);
    ck_assert_str_eq(cfg->curve.clients[0].public_key, k.pub1);
    ck_assert_uint_eq(cfg->curve.clients[0].n_tenants, 2);
    ck_assert_str_eq(cfg->curve.clients[0].tenants[0], "acme");
    ck_assert_str_eq(cfg->curve.clients[0].tenants[1], "beta");
    ck_assert(!cfg->curve.clients[0].any_tenant);
    ck_assert(cfg->curve.clients[1].any_tenant);
    ck_assert_uint_eq(cfg->curve.clients[1].n_tenants, 0);
    mp_config_free(cfg);
    unit_tmpdir_remove(k.dir);

    kc_open(&k, HEAD "    secret_key: \"$SEC\"\n" ONE_CLIENT);
    ck_assert_msg(mp_config_load(k.path, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_str_eq(cfg->curve.secret_key, k.sec);
    mp_config_free(cfg);
    unit_tmpdir_remove(k.dir);

    /* no curve section: off */
    kc_open(&k, "ingest:\n  pull: tcp://127.0.0.1:7400\n");
    ck_assert_msg(mp_config_load(k.path, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert(!cfg->curve.enabled);
    mp_config_free(cfg);
    unit_tmpdir_remove(k.dir);
}
END_TEST

static const struct unit_refusal rejects[] = {
    {HEAD "    5\n", "ingest.curve: expected a mapping", 4},
    {"ingest:\n  pull: tcp://127.0.0.1:7400\n  curve: 5\n", "ingest.curve: expected a mapping", 3},
    {HEAD ONE_CLIENT, "ingest.curve.secret_key: required key missing: give secret_key or", 4},
    {HEAD FILE_KEY "    secret_key: \"$SEC\"\n" ONE_CLIENT,
     "ingest.curve.secret_key_file: give one of secret_key and secret_key_file, not both", 4},
    {HEAD "    secret_key: \"short\"\n" ONE_CLIENT,
     "ingest.curve.secret_key: expected a Z85 key of 40 characters", 4},
    {HEAD "    secret_key: \"$PUB1 \"\n" ONE_CLIENT, "(value not shown)", 4},
    {HEAD "    secret_key: [1]\n" ONE_CLIENT, "ingest.curve.secret_key: expected the server's", 4},
    {HEAD "    secret_key_file: nope.key\n" ONE_CLIENT,
     "ingest.curve.secret_key_file: cannot read \"", 4},
    {HEAD "    secret_key_file: open.key\n" ONE_CLIENT, "open to every user (mode 0644)", 4},
    {HEAD "    secret_key_file: mailpulse.yaml\n" ONE_CLIENT, "does not hold one Z85 key", 4},
    {HEAD FILE_KEY, "ingest.curve.clients: required key missing", 4}, /* the mapping's line */
    {HEAD FILE_KEY "    clients: []\n", "ingest.curve.clients: expected at least one client", 5},
    {HEAD FILE_KEY "    clients: {a: b}\n", "ingest.curve.clients: expected a list of clients", 5},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n",
     "ingest.curve.clients[0].tenants: required key missing", 6},
    {HEAD FILE_KEY "    clients:\n      - tenants: [acme]\n",
     "ingest.curve.clients[0].public_key: required key missing", 6},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"abc\"\n        tenants: [acme]\n",
     "ingest.curve.clients[0].public_key: expected a Z85 key of 40 characters (mailpulse keygen "
     "prints one), got \"abc\"",
     6},
    {HEAD FILE_KEY ONE_CLIENT "      - public_key: \"$PUB2\"\n        tenants: [beta]\n"
                              "      - public_key: \"$PUB1\"\n        tenants: [gamma]\n",
     "ingest.curve.clients[2].public_key: public key listed twice (already "
     "ingest.curve.clients[0])",
     10},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants: []\n",
     "ingest.curve.clients[0].tenants: expected at least one tenant, or [\"*\"] for any", 7},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants: acme\n",
     "ingest.curve.clients[0].tenants: expected a list of tenant names", 7},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants: [\"a b\"]\n",
     "ingest.curve.clients[0].tenants: invalid tenant name \"a b\": expected 1..64 characters", 7},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants:\n"
                   "          - acme\n          - acme\n",
     "ingest.curve.clients[0].tenants: tenant \"acme\" listed twice", 9},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants: [acme, \"*\"]\n",
     "\"*\" (any tenant) must be the only item", 7},
    {HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n        tenants: [[acme]]\n",
     "ingest.curve.clients[0].tenants: expected a tenant name or \"*\"", 7},
    {HEAD FILE_KEY ONE_CLIENT "        colour: blue\n",
     "ingest.curve.clients[0].colour: unknown key (known here: public_key, tenants)", 8},
    {HEAD FILE_KEY ONE_CLIENT "    extra: 1\n", "ingest.curve.extra: unknown key", 8},
};

START_TEST(refusals)
{
    struct kc k;
    struct mp_config sentinel, *cfg = &sentinel;
    char err[512] = "";
    kc_open(&k, rejects[_i].yaml);
    kc_write(&k, "open.key", k.sec, 0644);
    int rc = mp_config_load(k.path, &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_ERR_PARSE, "case %d: %s: %s", _i, mp_strerror(rc), err);
    ck_assert_ptr_eq(cfg, &sentinel);
    unit_refused_near(err, k.path, &rejects[_i], _i);
    ck_assert_msg(strstr(err, k.sec) == NULL, "case %d: the secret in the refusal: %s", _i, err);
    unit_tmpdir_remove(k.dir);
}
END_TEST

/* The list bounds, before any item is read. */
START_TEST(bounds)
{
    struct mp_buf b = MP_BUF_INIT;
    struct kc k;
    struct mp_config *cfg = NULL;
    char err[512];
    ck_assert_int_eq(mp_buf_printf(&b, HEAD FILE_KEY "    clients:\n"), MP_OK);
    for (int i = 0; i <= INGEST_CURVE_MAX_CLIENTS; i++)
        ck_assert_int_eq(mp_buf_printf(&b, "      - {}\n"), MP_OK);
    kc_open(&k, b.p);
    ck_assert_int_eq(mp_config_load(k.path, &cfg, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_msg(strstr(err, ":6: ingest.curve.clients: 1025 clients, at most 1024"), "%s", err);
    unit_tmpdir_remove(k.dir);

    b.len = 0;
    ck_assert_int_eq(mp_buf_printf(&b, HEAD FILE_KEY "    clients:\n      - public_key: \"$PUB1\"\n"
                                       "        tenants: [t0"),
                     MP_OK);
    for (int i = 1; i < INGEST_CURVE_MAX_TENANTS; i++)
        ck_assert_int_eq(mp_buf_printf(&b, ", t%d", i), MP_OK);
    ck_assert_int_eq(mp_buf_printf(&b, "]\n"), MP_OK);
    kc_open(&k, b.p); /* exactly the maximum: loads */
    ck_assert_msg(mp_config_load(k.path, &cfg, err, sizeof(err)) == MP_OK, "%s", err);
    ck_assert_uint_eq(cfg->curve.clients[0].n_tenants, INGEST_CURVE_MAX_TENANTS);
    mp_config_free(cfg);
    unit_tmpdir_remove(k.dir);
    b.len -= 2;
    ck_assert_int_eq(mp_buf_printf(&b, ", one-more]\n"), MP_OK);
    kc_open(&k, b.p);
    ck_assert_int_eq(mp_config_load(k.path, &cfg, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_msg(strstr(err, ":7: ingest.curve.clients[0].tenants: 1025 tenants, at most 1024"),
                  "%s", err);
    unit_tmpdir_remove(k.dir);
    mp_buf_free(&b);
}
END_TEST

Suite *test_suite(void)
{
    Suite *s = suite_create("mp_config_curve");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, loads_file_and_inline);
    tcase_add_loop_test(tc, refusals, 0, (int)(sizeof(rejects) / sizeof(rejects[0])));
    tcase_add_test(tc, bounds);
    suite_add_tcase(s, tc);
    return s;
}
