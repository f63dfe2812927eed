/* test_mp_addr.c — Check suite "mp_addr": base/mp_addr, the one listen
 * address parser (config validation, the daemon's HTTP server and
 * `mailpulse sink` all use it).
 *
 * Accepted: IPv4 literals, bracketed IPv6 literals, localhost and names,
 * with a port 1..65535 of digits only. Refused, with the syntax in the
 * message: no port, port 0 or 65536, a signed or spaced port, a bare IPv6
 * address, unbalanced brackets, empty strings, spaces, overlong hosts.
 * Resolution: literals and localhost directly, the port in network order.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "check_main.h"
#include "mp_addr.h"

static const struct {
    const char *in, *host;
    unsigned port;
    int ipv6;
} goods[] = {
    {"127.0.0.1:7480", "127.0.0.1", 7480, 0},
    {"0.0.0.0:1", "0.0.0.0", 1, 0},
    {"[::1]:17480", "::1", 17480, 1},
    {"[::]:65535", "::", 65535, 1},
    {"[fe80::1:2]:80", "fe80::1:2", 80, 1},
    {"localhost:9000", "localhost", 9000, 0},
    {"mail.example.com:25", "mail.example.com", 25, 0},
    {"a-b.c:00080", "a-b.c", 80, 0},
};

START_TEST(accepts)
{
    for (size_t i = 0; i < MP_ARRAY_LEN(goods); i++) {
        struct mp_addr a;
        char err[256] = "";
        ck_assert_msg(mp_addr_parse(goods[i].in, &a, err, sizeof(err)) == MP_OK, "%s: %s",
                      goods[i].in, err);
        ck_assert_str_eq(a.host, goods[i].host);
        ck_assert_uint_eq(a.port, goods[i].port);
        ck_assert_int_eq(a.ipv6, goods[i].ipv6);
    }
}
END_TEST

static char overlong[300];

START_TEST(refuses)
{
    memset(overlong, 'a', 260);
    memcpy(overlong + 260, ":80", 4);
    const char *bads[] = {
        "127.0.0.1",       /* no port */
        "127.0.0.1:",      /* empty port */
        "127.0.0.1:0",     /* port 0 */
        "127.0.0.1:65536", /* past 65535 */
        "127.0.0.1:+80",   /* a sign */
        "127.0.0.1: 80",   /* a space */
        "127.0.0.1:80 ",   /* trailing space */
        "127.0.0.1:http",  /* a service name */
        "127.0.0.1:123456", /* six digits */
        "::1:80",          /* bare IPv6: which colon is the port's? */
        "[::1:80",         /* unbalanced */
        "::1]:80",
        "[]:80",           /* empty brackets */
        "[127.0.0.1]:80",  /* brackets around IPv4 */
        "[::1]x:80",
        "",                /* empty */
        ":80",             /* no host */
        " localhost:80",   /* spaces */
        "local host:80",
        "-bad.example:80", /* a name cannot start with '-' or '.' */
        ".bad:80",
        "bad_name:80",     /* '_' is not in host names */
        overlong,          /* 260-byte host */
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(bads); i++) {
        struct mp_addr a = {.port = 4242};
        char err[512] = "";
        ck_assert_msg(mp_addr_parse(bads[i], &a, err, sizeof(err)) == MP_ERR_INVAL,
                      "accepted \"%s\"", bads[i]);
        ck_assert_msg(strstr(err, MP_ADDR_SYNTAX) != NULL, "\"%s\": %s", bads[i], err);
        ck_assert_uint_eq(a.port, 4242); /* untouched on error */
    }
    struct mp_addr a;
    ck_assert_int_eq(mp_addr_parse(NULL, &a, NULL, 0), MP_ERR_INVAL);
    ck_assert_int_eq(mp_addr_parse("x", &a, NULL, 0), MP_ERR_INVAL); /* err is optional */
}
END_TEST

START_TEST(longest_name)
{
    char s[300];
    memset(s, 'a', 253);
    memcpy(s + 253, ":1", 3);
    struct mp_addr a;
    ck_assert_int_eq(mp_addr_parse(s, &a, NULL, 0), MP_OK);
    ck_assert_uint_eq(strlen(a.host), 253);
    memset(s, 'a', 254);
    memcpy(s + 254, ":1", 3);
    ck_assert_int_eq(mp_addr_parse(s, &a, NULL, 0), MP_ERR_INVAL);
}
END_TEST

static void resolve(const char *in, struct sockaddr_storage *ss, socklen_t *len)
{
    struct mp_addr a;
    char err[256] = "";
    ck_assert_int_eq(mp_addr_parse(in, &a, err, sizeof(err)), MP_OK);
    ck_assert_msg(mp_addr_resolve(&a, ss, len, err, sizeof(err)) == MP_OK, "%s: %s", in, err);
}

START_TEST(resolves)
{
    struct sockaddr_storage ss;
    socklen_t len;
    char text[INET6_ADDRSTRLEN];

    resolve("[::1]:17480", &ss, &len);
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
    ck_assert_int_eq(ss.ss_family, AF_INET6);
    ck_assert_uint_eq(len, sizeof(*s6));
    ck_assert_uint_eq(ntohs(s6->sin6_port), 17480);
    ck_assert(IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr));

    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    resolve("localhost:9000", &ss, &len);
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_uint_eq(len, sizeof(*s4));
    ck_assert_uint_eq(ntohs(s4->sin_port), 9000);
    ck_assert_uint_eq(ntohl(s4->sin_addr.s_addr), INADDR_LOOPBACK);

    resolve("0.0.0.0:80", &ss, &len);
    ck_assert_int_eq(ss.ss_family, AF_INET);
    ck_assert_uint_eq(s4->sin_addr.s_addr, htonl(INADDR_ANY));
    ck_assert_uint_eq(ntohs(s4->sin_port), 80);

    resolve("192.0.2.7:1", &ss, &len);
    ck_assert_str_eq(inet_ntop(AF_INET, &s4->sin_addr, text, sizeof(text)), "192.0.2.7");
}
END_TEST

/* A name that cannot resolve: ".invalid" is reserved for that (RFC 6761). */
START_TEST(unresolvable_name)
{
    struct mp_addr a;
    struct sockaddr_storage ss;
    socklen_t len;
    char err[256] = "";
    ck_assert_int_eq(mp_addr_parse("no-such-host.invalid:80", &a, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_addr_resolve(&a, &ss, &len, err, sizeof(err)), MP_ERR_NOTFOUND);
    ck_assert_msg(strstr(err, "no-such-host.invalid: cannot resolve") != NULL, "%s", err);
}
END_TEST

CHECK_SUITE("mp_addr", 0, NULL, NULL, accepts, refuses, longest_name, resolves, unresolvable_name)
