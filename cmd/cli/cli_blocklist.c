/* cli_blocklist.c — `mailpulse blocklist check` (see cli_blocklist.h). */
#include "cli_blocklist.h"

#include <stdio.h>
#include <string.h>

#include "mp_addr.h"
#include "mp_dnsq.h"

#define BLOCKLIST_ZONES_MAX 16

enum blocklist_opt { BL_ZONE, BL_RESOLVER, BL_TIMEOUT };

static const struct cli_opt blocklist__opts[] = {
    [BL_ZONE] = {"zone", "ZONE", "a zone to ask (repeatable; default zen.spamhaus.org for\n"
                                 "an address, dbl.spamhaus.org for a domain)"},
    [BL_RESOLVER] = {"resolver", "ADDR", "the resolver, ip:port or [ip6]:port (default: the\n"
                                         "system's, /etc/resolv.conf)"},
    [BL_TIMEOUT] = {"timeout-ms", "MS", "per try, two tries (default 5000)"},
};

static const char blocklist__usage[] =
    "usage: mailpulse blocklist check IP|DOMAIN [--zone ZONE]... [--resolver ADDR]\n"
    "                                 [--timeout-ms MS]\n"
    "\n"
    "Asks DNS blocklists whether an address or domain is listed, as the daemon's\n"
    "blocklists checker does. One line per zone: listed ZONE CODE TXT, not-listed\n"
    "ZONE, or error ZONE REASON. Some lists (Spamhaus) refuse queries that come\n"
    "through public resolvers such as 8.8.8.8 and answer 127.255.255.254: that is\n"
    "reported as error refused_by_list, never as a listing; ask through your own\n"
    "resolver (--resolver) or the list's paid service.\n"
    "\n"
    "Exit status: 0 not listed, 1 listed on at least one zone, 2 usage error,\n"
    "3 not listed where asked but at least one zone could not be asked.\n";

static int blocklist__args(const struct cli_cmd *cmd, int argc, char **argv, const char **zones,
                           size_t *nz, const char **resolver, int64_t *timeout_ms)
{
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    while ((rc = cli_next(&a)) == MP_OK) {
        if (a.idx == BL_ZONE) {
            char probe[MP_DNSQ_NAME_MAX];
            if (*nz >= BLOCKLIST_ZONES_MAX)
                return cli_usage_error(cmd, "--zone: at most %d zones", BLOCKLIST_ZONES_MAX);
            if (mp_dnsq_domain_name("x", a.val, probe, sizeof(probe)) != MP_OK ||
                mp_dnsq_domain_name(a.val, "x", probe, sizeof(probe)) != MP_OK)
                return cli_usage_error(cmd, "--zone: \"%s\" is not a DNS name", a.val);
            zones[(*nz)++] = a.val;
        } else if (a.idx == BL_RESOLVER) {
            struct mp_addr ad;
            char probe[64];
            if (mp_addr_parse(a.val, &ad, NULL, 0) != MP_OK ||
                mp_dnsq_ip_name(ad.host, "x", probe, sizeof(probe)) != MP_OK)
                return cli_usage_error(cmd, "--resolver: expected ip:port or [ip6]:port such "
                                            "as 127.0.0.1:53, got \"%s\"", a.val);
            *resolver = a.val;
        } else if ((rc = cli_arg_i64(&a, 1, 60000, timeout_ms)) != MP_OK) {
            return rc;
        }
    }
    return rc == MP_ERR_NOTFOUND ? MP_OK : rc;
}

static int blocklist__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *zones[BLOCKLIST_ZONES_MAX], *resolver = NULL;
    size_t nz = 0;
    int64_t timeout_ms = 5000;
    int check = argc > 2 && strcmp(argv[1], "check") == 0 && strncmp(argv[2], "-", 1) != 0;
    if (!check && argc > 1 && strcmp(argv[1], "check") == 0)
        return cli_usage_error(cmd, "check needs an IP or DOMAIN: blocklist check 192.0.2.10");
    int rc = blocklist__args(cmd, check ? argc - 2 : argc, check ? argv + 2 : argv, zones, &nz,
                             &resolver, &timeout_ms);
    if (rc != MP_OK)
        return rc == CLI_HELP ? MP_OK : rc;
    if (!check)
        return cli_usage_error(cmd, "expected: blocklist check IP|DOMAIN");
    const char *target = argv[2];
    int ip = mp_dnsq_is_ip(target);
    if (nz == 0)
        zones[nz++] = ip ? "zen.spamhaus.org" : "dbl.spamhaus.org";
    char names[BLOCKLIST_ZONES_MAX][MP_DNSQ_NAME_MAX];
    struct mp_dnsq_query q[BLOCKLIST_ZONES_MAX];
    for (size_t i = 0; i < nz; i++) {
        rc = ip ? mp_dnsq_ip_name(target, zones[i], names[i], sizeof(names[i]))
                : mp_dnsq_domain_name(target, zones[i], names[i], sizeof(names[i]));
        if (rc != MP_OK)
            return cli_usage_error(cmd, "\"%s\" is neither an address nor a domain (or too long "
                                        "with zone %s)", target, zones[i]);
        q[i].name = names[i];
    }
    char err[256];
    if (mp_dnsq_run(resolver, (int)timeout_ms, 2, q, nz, NULL, err, sizeof(err)) != MP_OK) {
        cli_fail(cmd, "%s", err);
        return CLI_BLOCKLIST_ERROR;
    }
    int listed = 0, errors = 0;
    for (size_t i = 0; i < nz; i++) {
        const struct mp_dnsq_answer *an = &q[i].ans;
        if (an->result == MP_DNSQ_LISTED)
            printf("listed      %s  %s  %s\n", zones[i], an->code, an->txt);
        else if (an->result == MP_DNSQ_NOT_LISTED)
            printf("not-listed  %s\n", zones[i]);
        else
            printf("error       %s  %s\n", zones[i], mp_dnsq_reason_name(an->reason));
        listed |= an->result == MP_DNSQ_LISTED;
        errors |= an->result == MP_DNSQ_ERROR;
    }
    fflush(stdout);
    return listed ? CLI_BLOCKLIST_LISTED : errors ? CLI_BLOCKLIST_ERROR : MP_OK;
}

const struct cli_cmd cli_blocklist_cmd = {
    "blocklist", "check an address or domain against DNS blocklists", blocklist__usage,
    blocklist__opts, MP_ARRAY_LEN(blocklist__opts), blocklist__run};
