/* test_e2e_dnsbl.c — Check suite "e2e_dnsbl": the blocklist checker
 * (cmd/daemon/mp_dnsbl) end to end, with the real daemon, a real DNS server
 * on a loopback port (tests/dnsbl_server.py, Debian's python3-dnslib)
 * serving a test zone the case rewrites, and a real webhook receiver.
 *
 *   listing_fires_restart_keeps_it_delisting_resolves
 *       Listing 192.0.2.10 in the zone raises `blocklisted` (critical,
 *       tenant acme, labels ip and zone, annotations return_code, meaning
 *       from the config, txt from the zone's TXT answer) within one
 *       (1 s) interval; tenant beta's clean address raises nothing. The
 *       alert is in /v1/alerts. A restart keeps it firing without a second
 *       notification (the external alert's state is restored); removing
 *       the listing resolves it.
 *   errors_are_counted_never_read
 *       A resolver that never answers (a bound UDP socket nobody reads) and
 *       a zone answering 127.255.255.254 (Spamhaus's "query through a
 *       public resolver" reply) raise nothing: timeouts and refused_by_list
 *       are counted in mailpulse_dnsbl_errors_total, no request reaches the
 *       receiver, /v1/alerts stays empty; GET /v1/tenants/acme/blocklists
 *       shows both checks "unknown", never checked, with last_error
 *       refused_by_list and timeout and a last_error_at.
 *   status_api_lists_every_check
 *       With API tokens, acme's 192.0.2.10 listed and 192.0.2.12 clean
 *       (given in that order reversed): GET /v1/tenants/acme/blocklists
 *       shows both, sorted, the listed one with return code, meaning, TXT
 *       and since, the clean one with a `checked` time and no code; its
 *       `since` holds while later rounds move `checked`; beta's token gets
 *       the stats route's 404 byte for byte, a query parameter is a 400
 *       naming it, no token a 401; the admin sees beta's check. A SIGHUP
 *       adding a target keeps the listed check's since; delisting turns it
 *       clean with a later since.
 *   silence_mutes_a_listing
 *       With a silence on ip=192.0.2.10 (mailpulse silence add), the
 *       listing fires (listed in /v1/alerts) but no notification goes out.
 *   reload_swaps_targets
 *       A SIGHUP with acme's listed 192.0.2.10 replaced by 192.0.2.11 (also
 *       listed): the old alert resolves (a receiver hears it), the new
 *       address fires within a second or two, /metrics counts one listing;
 *       a file without the section stops the checks and resolves the rest.
 *   cli_check_exit_codes
 *       `mailpulse blocklist check` against the same server: listed (exit 1,
 *       the code and TXT printed), an IPv6 address listed by its nibbles,
 *       not listed (0), 127.255.255.254 and a silent resolver (3, the
 *       reason printed), bad usage (2).
 */
#include <check.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth_matrix.h"
#include "check_main.h"
#include "e2e_suite.h"
#include "mp_thread.h"

EW_FIXTURE("e2e_dnsbl")

#define LISTED_NAME "10.2.0.192.bl.test" /* 192.0.2.10 in zone bl.test */

static struct e2e_proc DNS;

static void zone_write(const char *text) { ew_zone_write(&W, text); }
static uint16_t dns_start(void) { return ew_dns_start(&W, &DNS); }

static void dns_stop(void)
{
    must(e2e_proc_signal_wait(&DNS, SIGTERM, EW_STOP_MS) == MP_OK, "dnsbl_server did not stop");
}

/* A resolver nobody answers for: a UDP socket bound on loopback, never
 * read; its port in *port, the socket returned (close it). */
static int silent_resolver(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    must(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             getsockname(fd, (struct sockaddr *)&sa, &sl) == 0, "no UDP socket");
    *port = ntohs(sa.sin_port);
    return fd;
}

/* The config for receiver k with `blocklists` and http lines `http` (NULL:
 * none, an open loopback API). */
static void write_conf(size_t k, const char *blocklists, const char *http)
{
    const struct e2e_receiver_conf rec[] = {{"dns-hook", W.raw_url[k], W.raw_secret[k]}};
    ew_write_config(&W, (struct e2e_daemon_conf){.receivers = rec, .nreceivers = 1,
                                                 .default_route = "dns-hook", .http_extra = http});
    ew_append_config(&W, "%s", blocklists);
}

/* A receiver "dns-hook" and the daemon, with `blocklists` and `http`. */
static size_t start_http(const char *blocklists, const char *http)
{
    size_t k = ew_raw(&W, "dns", "secret-dns", 200);
    write_conf(k, blocklists, http);
    ew_spawn_daemon(&W);
    return k;
}

static size_t start_with(const char *blocklists)
{
    return start_http(blocklists, NULL);
}

/* Polls /metrics until `series` is at least `want`. */
static void wait_at_least(const char *series, uint64_t want, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    uint64_t v = 0;
    while ((v = ew_metric(&W, series)) < want && mp_mono_ns() < deadline)
        usleep(50000);
    must(v >= want, "%s is %llu, want at least %llu", series, (unsigned long long)v,
         (unsigned long long)want);
}

/* The only alert of request i of receiver k, its status and labels checked. */
static json_t *only_alert(size_t k, size_t i, const char *status)
{
    json_t *b = ew_req_json(&W, ew_req(&W, k, i));
    json_t *alerts = json_object_get(b, "alerts");
    must(json_array_size(alerts) == 1, "request %zu: %zu alerts", i, json_array_size(alerts));
    json_t *a = json_incref(json_array_get(alerts, 0));
    json_decref(b);
    json_t *l = json_object_get(a, "labels");
    must(ew_streq(ew_jstr(a, "status"), status) && ew_streq(ew_jstr(l, "alertname"), "blocklisted") &&
             ew_streq(ew_jstr(l, "severity"), "critical") && ew_streq(ew_jstr(l, "tenant"), "acme") &&
             ew_streq(ew_jstr(l, "ip"), "192.0.2.10") && ew_streq(ew_jstr(l, "zone"), "bl.test"),
         "request %zu: not acme's %s blocklisted alert for 192.0.2.10 in bl.test", i, status);
    return a;
}

static size_t active_alerts(void)
{
    json_t *j = ew_get_json(&W, "/v1/alerts", 200);
    size_t n = json_array_size(json_object_get(j, "alerts"));
    json_decref(j);
    return n;
}

/* GET /v1/tenants/{tenant}/blocklists with token (NULL: none): its status,
 * the body in *body (free it). */
static long bl_get(const char *tenant, const char *query, const char *token, char **body)
{
    char path[160];
    snprintf(path, sizeof(path), "/v1/tenants/%s/blocklists%s", tenant, query);
    return ew_get_auth(&W, path, token, body);
}

/* The status document of tenant, a 200 asserted. */
static json_t *bl_status(const char *tenant, const char *token)
{
    char *body = NULL;
    long st = bl_get(tenant, "", token, &body);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    must(st == 200 && json_is_object(j), "blocklists of %s: %ld %.800s", tenant, st,
         body ? body : "");
    free(body);
    return j;
}

/* Check i of doc, which must be `target` in `zone` (the sort order). */
static json_t *bl_check(json_t *doc, size_t i, const char *target, const char *zone)
{
    json_t *c = json_array_get(json_object_get(doc, "checks"), i);
    must(ew_streq(ew_jstr(c, "target"), target) && ew_streq(ew_jstr(c, "zone"), zone),
         "check %zu is not %s in %s: %s", i, target, zone, ew_jdump(doc, 1500));
    return c;
}

/* Polls tenant's status until check i (target in zone bl.test) is
 * `status` with its `checked` after `after` ("" for any); the document. */
static json_t *bl_wait(const char *tenant, const char *token, size_t i, const char *target,
                       const char *status, const char *after, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    for (;;) {
        json_t *j = bl_status(tenant, token);
        json_t *c = bl_check(j, i, target, "bl.test");
        const char *checked = ew_jstr(c, "checked");
        if (ew_streq(ew_jstr(c, "status"), status) && checked && strcmp(checked, after) > 0)
            return j;
        must(mp_mono_ns() < deadline, "%s in %s is not %s (checked after \"%s\"): %s", target,
             tenant, status, after, ew_jdump(j, 1500));
        json_decref(j);
        usleep(50000);
    }
}

#define CONF_HEAD                                                                               \
    "blocklists:\n  interval: 1s\n  timeout: 300ms\n  tries: 1\n  resolver: \"127.0.0.1:%u\"\n" \
    "  zones:\n    bl.test:\n      type: ip\n      codes:\n"                                   \
    "        127.0.0.2: \"test listing: spam source\"\n"

START_TEST(listing_fires_restart_keeps_it_delisting_resolves)
{
    char conf[1024];
    uint16_t port = dns_start();
    snprintf(conf, sizeof(conf),
             CONF_HEAD "  tenants:\n    acme: {ips: [192.0.2.10, \"2001:db8::25\"]}\n"
                       "    beta: {ips: [198.51.100.7]}\n", (unsigned)port);
    size_t k = start_with(conf);
    wait_at_least("mailpulse_dnsbl_rounds_total", 1, 5000);
    must(ew_metric(&W, "mailpulse_dnsbl_queries_total") >= 3, "three queries a round");
    int64_t t0 = mp_mono_ns();
    zone_write(LISTED_NAME " A 127.0.0.2\n" LISTED_NAME " TXT see https://bl.test/192.0.2.10\n");
    ew_wait_ok(&W, k, 1, 4000, "the blocklisted alert");
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    must(ms < 2500, "blocklisted came %lld ms after the listing (interval 1 s)", (long long)ms);
    json_t *a = only_alert(k, 0, "firing");
    json_t *an = json_object_get(a, "annotations");
    must(ew_streq(ew_jstr(an, "return_code"), "127.0.0.2") &&
             ew_streq(ew_jstr(an, "meaning"), "test listing: spam source") &&
             ew_streq(ew_jstr(an, "txt"), "see https://bl.test/192.0.2.10") &&
             ew_streq(ew_jstr(an, "query"), LISTED_NAME) &&
             strstr(ew_jstr(an, "summary") ? ew_jstr(an, "summary") : "", "192.0.2.10"),
         "annotations: %s", ew_jdump(an, 800));
    json_decref(a);
    must(active_alerts() == 1, "/v1/alerts lists the listing");
    must(ew_metric(&W, "mailpulse_dnsbl_listed") == 1, "one listing now");
    /* a restart: the alert is read back firing, and nobody hears of it twice */
    ew_stop_ok(&W, &W.daemon);
    ew_spawn_daemon(&W);
    wait_at_least("mailpulse_dnsbl_rounds_total", 2, 6000);
    must(active_alerts() == 1, "the listing fires after the restart");
    must(ew_ok_count(&W, k) == 1, "a second notification after the restart");
    zone_write("");
    ew_wait_ok(&W, k, 2, 4000, "the resolve");
    json_decref(only_alert(k, 1, "resolved"));
    must(active_alerts() == 0, "/v1/alerts still lists the listing");
    dns_stop();
    ew_pass(&W);
}
END_TEST

START_TEST(errors_are_counted_never_read)
{
    char conf[1400];
    uint16_t port = dns_start();
    uint16_t silent;
    int fd = silent_resolver(&silent);
    snprintf(conf, sizeof(conf),
             CONF_HEAD "    silent.test:\n      type: ip\n      resolver: \"127.0.0.1:%u\"\n"
                       "  tenants:\n    acme: {ips: [192.0.2.10]}\n",
             (unsigned)port, (unsigned)silent);
    zone_write(LISTED_NAME " A 127.255.255.254\n");
    size_t k = start_with(conf);
    wait_at_least("mailpulse_dnsbl_errors_total{reason=\"timeout\"}", 2, 8000);
    wait_at_least("mailpulse_dnsbl_errors_total{reason=\"refused_by_list\"}", 2, 4000);
    must(ew_metric(&W, "mailpulse_dnsbl_listed") == 0, "an error read as a listing");
    must(ew_metric(&W, "mailpulse_dnsbl_listings_total") == 0, "an error read as a listing");
    must(active_alerts() == 0, "an error raised an alert");
    must(hrx_count(W.raw[k]) == 0, "an error reached the receiver");
    /* only errors so far: unknown, never checked, the last error named */
    json_t *j = bl_status("acme", NULL);
    const char *zone[] = {"bl.test", "silent.test"}, *why[] = {"refused_by_list", "timeout"};
    must(json_array_size(json_object_get(j, "checks")) == 2, "%s", ew_jdump(j, 1500));
    for (size_t i = 0; i < 2; i++) {
        json_t *c = bl_check(j, i, "192.0.2.10", zone[i]);
        must(ew_streq(ew_jstr(c, "status"), "unknown") && ew_streq(ew_jstr(c, "type"), "ip") &&
                 json_is_null(json_object_get(c, "checked")) &&
                 ew_streq(ew_jstr(c, "last_error"), why[i]) && ew_jstr(c, "last_error_at") &&
                 ew_jstr(c, "since") && json_is_null(json_object_get(c, "return_code")),
             "check %zu after errors only: %s", i, ew_jdump(c, 800));
    }
    json_decref(j);
    close(fd);
    dns_stop();
    ew_pass(&W);
}
END_TEST

START_TEST(silence_mutes_a_listing)
{
    char conf[1024];
    uint16_t port = dns_start();
    snprintf(conf, sizeof(conf), CONF_HEAD "  tenants:\n    acme: {ips: [192.0.2.10]}\n",
             (unsigned)port);
    size_t k = start_with(conf);
    char *argv[] = {W.mailpulse, "silence", "add", "--tenant", "acme", "--matcher",
                    "ip=192.0.2.10", "--comment", "delisting requested", "--author", "ops", "--api", W.base, NULL};
    struct e2e_proc p;
    must_ok(e2e_run(&p, "silence-add", W.dir, argv, 10000, W.err, sizeof(W.err)));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "mailpulse silence add failed");
    zone_write(LISTED_NAME " A 127.0.0.2\n");
    wait_at_least("mailpulse_dnsbl_listings_total", 1, 5000);
    int64_t deadline = mp_mono_ns() + 3000 * 1000000LL;
    while (active_alerts() == 0 && mp_mono_ns() < deadline)
        usleep(50000);
    must(active_alerts() == 1, "the silenced listing is not tracked in /v1/alerts");
    wait_at_least("mailpulse_dnsbl_rounds_total", ew_metric(&W, "mailpulse_dnsbl_rounds_total") + 2,
                  5000);
    must(hrx_count(W.raw[k]) == 0, "the silenced listing was notified");
    dns_stop();
    ew_pass(&W);
}
END_TEST

#define STATUS_TENANTS(ips) \
    "  tenants:\n    acme: {ips: [" ips "]}\n    beta: {ips: [198.51.100.7]}\n"

/* The access rules of the status route, with tokens: 404 as the stats route
 * answers it for another tenant's token, 400 naming a parameter, 401. */
static void status_access(void)
{
    char *body = NULL, *stats = NULL;
    must(bl_get("acme", "", AUTH_TOKEN_BETA, &body) == 404, "beta's token on acme: %s", body);
    must(ew_get_auth(&W, "/v1/tenants/acme/stats", AUTH_TOKEN_BETA, &stats) == 404,
         "beta's token on acme's stats: %s", stats);
    must(body && stats && strcmp(body, stats) == 0, "404 %s, the stats route's %s", body, stats);
    free(body);
    free(stats);
    must(bl_get("acme", "?verbose=1", AUTH_TOKEN_ACME, &body) == 400 && strstr(body, "verbose"),
         "a query parameter: %s", body);
    free(body);
    must(bl_get("acme", "", NULL, &body) == 401, "no token: %s", body);
    free(body);
    json_t *j = bl_wait("beta", AUTH_TOKEN_ADMIN, 0, "198.51.100.7", "clean", "", 3000);
    must(json_array_size(json_object_get(j, "checks")) == 1, "beta: %s", ew_jdump(j, 800));
    json_decref(j);
}

START_TEST(status_api_lists_every_check)
{
    char conf[1024], since[64], checked[64];
    uint16_t port = dns_start();
    zone_write(LISTED_NAME " A 127.0.0.2\n" LISTED_NAME " TXT see https://bl.test/192.0.2.10\n");
    snprintf(conf, sizeof(conf), CONF_HEAD STATUS_TENANTS("192.0.2.12, 192.0.2.10"),
             (unsigned)port);
    size_t k = start_http(conf, AUTH_TOKENS_YAML);
    json_t *j = bl_wait("acme", AUTH_TOKEN_ACME, 1, "192.0.2.12", "clean", "", 5000);
    json_decref(j);
    j = bl_wait("acme", AUTH_TOKEN_ACME, 0, "192.0.2.10", "listed", "", 3000);
    json_t *z = json_object_get(j, "zones");
    must(ew_streq(ew_jstr(j, "tenant"), "acme") && json_is_true(json_object_get(j, "configured")) &&
             json_integer_value(json_object_get(j, "interval_seconds")) == 1 &&
             json_array_size(z) == 1 && ew_streq(json_string_value(json_array_get(z, 0)), "bl.test") &&
             json_array_size(json_object_get(j, "checks")) == 2,
         "acme: %s", ew_jdump(j, 1500));
    json_t *l = bl_check(j, 0, "192.0.2.10", "bl.test"), *c = bl_check(j, 1, "192.0.2.12", "bl.test");
    must(ew_streq(ew_jstr(l, "return_code"), "127.0.0.2") &&
             ew_streq(ew_jstr(l, "meaning"), "test listing: spam source") &&
             ew_streq(ew_jstr(l, "txt"), "see https://bl.test/192.0.2.10") &&
             ew_jstr(l, "since") && json_is_null(json_object_get(l, "last_error")),
         "the listed check: %s", ew_jdump(l, 800));
    must(ew_jstr(c, "checked") && ew_jstr(c, "since") && ew_streq(ew_jstr(c, "type"), "ip") &&
             json_is_null(json_object_get(c, "return_code")) &&
             json_is_null(json_object_get(c, "meaning")) && json_is_null(json_object_get(c, "txt")),
         "the clean check: %s", ew_jdump(c, 800));
    snprintf(since, sizeof(since), "%s", ew_jstr(l, "since"));
    snprintf(checked, sizeof(checked), "%s", ew_jstr(l, "checked"));
    json_decref(j);
    /* a later round moves `checked`, not `since` */
    j = bl_wait("acme", AUTH_TOKEN_ACME, 0, "192.0.2.10", "listed", checked, 3000);
    must(ew_streq(ew_jstr(bl_check(j, 0, "192.0.2.10", "bl.test"), "since"), since),
         "since moved while the listing held: %s", ew_jdump(j, 1500));
    json_decref(j);
    status_access();
    /* a reload keeps a kept check's status */
    snprintf(conf, sizeof(conf), CONF_HEAD STATUS_TENANTS("192.0.2.12, 192.0.2.10, 192.0.2.13"),
             (unsigned)port);
    write_conf(k, conf, AUTH_TOKENS_YAML);
    must(kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP");
    ew_wait_log(&W, "dnsbl_reloaded checks=4 kept=3 added=1 removed=0", 5000);
    j = bl_status("acme", AUTH_TOKEN_ADMIN);
    l = bl_check(j, 0, "192.0.2.10", "bl.test");
    must(json_array_size(json_object_get(j, "checks")) == 3 &&
             ew_streq(ew_jstr(l, "status"), "listed") && ew_streq(ew_jstr(l, "since"), since),
         "after the reload: %s", ew_jdump(j, 1500));
    bl_check(j, 2, "192.0.2.13", "bl.test");
    json_decref(j);
    /* delisted: clean, since the answer that said so */
    zone_write("");
    j = bl_wait("acme", AUTH_TOKEN_ACME, 0, "192.0.2.10", "clean", checked, 4000);
    l = bl_check(j, 0, "192.0.2.10", "bl.test");
    must(strcmp(ew_jstr(l, "since"), since) > 0 && json_is_null(json_object_get(l, "return_code")),
         "delisted: %s", ew_jdump(l, 800));
    json_decref(j);
    dns_stop();
    ew_pass(&W);
}
END_TEST

/* The config of start_with() again, for receiver k, with `blocklists`. */
static void rewrite(size_t k, const char *blocklists)
{
    write_conf(k, blocklists, NULL);
    must(kill(W.daemon.pid, SIGHUP) == 0, "kill SIGHUP");
}

/* The ip label of the only alert in /v1/alerts ("" when there is none,
 * "many" when more), into out. */
static void only_active_ip(char *out, size_t n)
{
    json_t *j = ew_get_json(&W, "/v1/alerts", 200);
    json_t *a = json_object_get(j, "alerts");
    const char *ip = json_array_size(a) == 1
                         ? ew_jstr(json_object_get(json_array_get(a, 0), "labels"), "ip")
                         : json_array_size(a) ? "many" : "";
    snprintf(out, n, "%s", ip ? ip : "(none)");
    json_decref(j);
}

/* Whether any request receiver k holds carries a `status` alert for ip. */
static int heard(size_t k, const char *ip, const char *status)
{
    for (size_t i = 0; i < hrx_count(W.raw[k]); i++) {
        json_t *b = ew_req_json(&W, ew_req(&W, k, i));
        json_t *alerts = json_object_get(b, "alerts");
        for (size_t x = 0; x < json_array_size(alerts); x++) {
            json_t *a = json_array_get(alerts, x);
            if (ew_streq(ew_jstr(a, "status"), status) &&
                ew_streq(ew_jstr(json_object_get(a, "labels"), "ip"), ip)) {
                json_decref(b);
                return 1;
            }
        }
        json_decref(b);
    }
    return 0;
}

START_TEST(reload_swaps_targets)
{
    char conf[1024], ip[64] = "";
    uint16_t port = dns_start();
    zone_write(LISTED_NAME " A 127.0.0.2\n11.2.0.192.bl.test A 127.0.0.2\n");
    snprintf(conf, sizeof(conf), CONF_HEAD "  tenants:\n    acme: {ips: [192.0.2.10]}\n",
             (unsigned)port);
    size_t k = start_with(conf);
    ew_wait_ok(&W, k, 1, 5000, "the blocklisted alert for 192.0.2.10");
    json_decref(only_alert(k, 0, "firing"));
    snprintf(conf, sizeof(conf), CONF_HEAD "  tenants:\n    acme: {ips: [192.0.2.11]}\n",
             (unsigned)port);
    int64_t t0 = mp_mono_ns();
    rewrite(k, conf);
    ew_wait_log(&W, "dnsbl_reloaded checks=1 kept=0 added=1 removed=1", 5000);
    int64_t deadline = t0 + 5000 * 1000000LL;
    while (only_active_ip(ip, sizeof(ip)), strcmp(ip, "192.0.2.11") != 0 && mp_mono_ns() < deadline)
        usleep(50000);
    must(strcmp(ip, "192.0.2.11") == 0, "after the reload /v1/alerts shows %s, want 192.0.2.11", ip);
    must((mp_mono_ns() - t0) / 1000000 < 3000, "the new target came %lld ms after the SIGHUP",
         (long long)((mp_mono_ns() - t0) / 1000000));
    deadline = mp_mono_ns() + 4000 * 1000000LL;
    while (!heard(k, "192.0.2.10", "resolved") && mp_mono_ns() < deadline)
        usleep(50000);
    must(heard(k, "192.0.2.10", "resolved"), "the target taken out was never resolved");
    must(ew_metric(&W, "mailpulse_dnsbl_listed") == 1, "one listing after the reload");
    /* the section gone: no checks, nothing left firing */
    rewrite(k, "");
    ew_wait_log(&W, "dnsbl_reloaded checks=0 kept=0 added=0 removed=1", 5000);
    deadline = mp_mono_ns() + 4000 * 1000000LL;
    while (active_alerts() != 0 && mp_mono_ns() < deadline)
        usleep(50000);
    must(active_alerts() == 0, "a listing outlived its section");
    must(ew_metric(&W, "mailpulse_dnsbl_listed") == 0, "a listing counted without a section");
    dns_stop();
    ew_pass(&W);
}
END_TEST

/* `mailpulse blocklist check args...`: its exit status, its stdout in out. */
static int bl_cli(const char *name, char *const *args, char *out, size_t n)
{
    char *argv[16];
    size_t k = 0;
    argv[k++] = W.mailpulse;
    argv[k++] = "blocklist";
    for (; *args && k < 15; args++)
        argv[k++] = *args;
    argv[k] = NULL;
    struct e2e_proc p;
    char *text = NULL;
    size_t len = 0;
    must_ok(e2e_run(&p, name, W.dir, argv, 10000, W.err, sizeof(W.err)));
    e2e_read_file(p.out_path, &text, &len);
    snprintf(out, n, "%s", text ? text : "");
    free(text);
    return WIFEXITED(p.status) ? WEXITSTATUS(p.status) : -1;
}

START_TEST(cli_check_exit_codes)
{
    char res[32], silent[32], out[1024];
    snprintf(res, sizeof(res), "127.0.0.1:%u", (unsigned)dns_start());
    uint16_t sport;
    int fd = silent_resolver(&sport);
    snprintf(silent, sizeof(silent), "127.0.0.1:%u", (unsigned)sport);
    zone_write(LISTED_NAME " A 127.0.0.2\n" LISTED_NAME " TXT see https://bl.test/\n"
               "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test A 127.0.0.4\n"
               "11.2.0.192.bl.test A 127.255.255.254\n");
    int rc = bl_cli("listed", (char *[]){"check", "192.0.2.10", "--zone", "bl.test", "--resolver",
                                        res, NULL}, out, sizeof(out));
    must(rc == 1 && strstr(out, "listed      bl.test  127.0.0.2  see https://bl.test/"),
         "listed: exit %d, %s", rc, out);
    rc = bl_cli("listed6", (char *[]){"check", "2001:db8::25", "--zone", "bl.test", "--resolver",
                                     res, NULL}, out, sizeof(out));
    must(rc == 1 && strstr(out, "127.0.0.4"), "listed v6: exit %d, %s", rc, out);
    rc = bl_cli("clean", (char *[]){"check", "192.0.2.12", "--zone", "bl.test", "--resolver", res,
                                   NULL}, out, sizeof(out));
    must(rc == 0 && strstr(out, "not-listed  bl.test"), "clean: exit %d, %s", rc, out);
    rc = bl_cli("refused", (char *[]){"check", "192.0.2.11", "--zone", "bl.test", "--resolver",
                                     res, NULL}, out, sizeof(out));
    must(rc == 3 && strstr(out, "error       bl.test  refused_by_list"), "refused: exit %d, %s",
         rc, out);
    rc = bl_cli("silent", (char *[]){"check", "192.0.2.10", "--zone", "bl.test", "--resolver",
                                    silent, "--timeout-ms", "200", NULL}, out, sizeof(out));
    must(rc == 3 && strstr(out, "timeout"), "silent: exit %d, %s", rc, out);
    rc = bl_cli("usage", (char *[]){"check", "--zone", "bl.test", NULL}, out, sizeof(out));
    must(rc == 2, "usage: exit %d", rc);
    rc = bl_cli("badres", (char *[]){"check", "192.0.2.10", "--resolver", "dns.example:53", NULL},
                out, sizeof(out));
    must(rc == 2, "a host-name resolver: exit %d", rc);
    close(fd);
    dns_stop();
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_dnsbl", 90, setup, teardown, {listing_fires_restart_keeps_it_delisting_resolves, 0},
         {errors_are_counted_never_read, 0}, {silence_mutes_a_listing, 0},
         {reload_swaps_targets, 0}, {cli_check_exit_codes, 0}, {status_api_lists_every_check, 0})
