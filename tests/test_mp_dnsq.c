/* test_mp_dnsq.c — Check suite for base/mp_dnsq.c: the query names (IPv4
 * reversed octets, IPv6 reversed nibbles, domains lower-cased), what an
 * answer means (built here as real DNS reply packets and read by c-ares'
 * parsers: a 127/8 answer lists, NXDOMAIN and NODATA do not, 127.255.255.x
 * and answers outside 127/8 are errors, never listings), the TXT text, and
 * a round against a resolver that never answers (timeouts, within the time
 * the options give).
 */
#include <ares.h>
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "mp_dnsq.h"
#include "mp_thread.h"

/* The name for ip under zone, which must be made; a buffer of exactly its
 * size must give the same name and one a byte shorter MP_ERR_FULL. */
static const char *ip_name(const char *ip, const char *zone, char n[MP_DNSQ_NAME_MAX])
{
    ck_assert_int_eq(mp_dnsq_ip_name(ip, zone, n, MP_DNSQ_NAME_MAX), MP_OK);
    size_t len = strlen(n);
    char m[MP_DNSQ_NAME_MAX];
    ck_assert_int_eq(mp_dnsq_ip_name(ip, zone, m, len + 1), MP_OK);
    ck_assert_str_eq(m, n);
    ck_assert_int_eq(mp_dnsq_ip_name(ip, zone, m, len), MP_ERR_FULL);
    return n;
}

START_TEST(ipv4_names)
{
    char n[MP_DNSQ_NAME_MAX];
    ck_assert_str_eq(ip_name("192.0.2.10", "zen.example", n), "10.2.0.192.zen.example");
    ck_assert_str_eq(ip_name("127.0.0.2", "z", n), "2.0.0.127.z");
    ck_assert_int_eq(mp_dnsq_ip_name("192.0.2", "z", n, sizeof(n)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_dnsq_ip_name("192.0.2.256", "z", n, sizeof(n)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_dnsq_ip_name("example.com", "z", n, sizeof(n)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_dnsq_ip_name("192.0.2.10", "zen.example", n, 10), MP_ERR_FULL);
    ck_assert(mp_dnsq_is_ip("192.0.2.10") && mp_dnsq_is_ip("::1") && !mp_dnsq_is_ip("a.b"));
}
END_TEST

START_TEST(ipv6_names_are_reversed_nibbles)
{
    char n[MP_DNSQ_NAME_MAX];
    ck_assert_int_eq(mp_dnsq_ip_name("2001:db8:::1", "z", n, sizeof(n)), MP_ERR_INVAL);
    /* RFC 5782 2.4: every nibble of the full address, last first */
    ck_assert_str_eq(ip_name("2001:db8::1", "bl.example", n),
                     "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example");
    ck_assert_str_eq(ip_name("2001:DB8:ABCD:12::25", "z", n),
                     "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.1.0.0.d.c.b.a.8.b.d.0.1.0.0.2.z");
}
END_TEST

START_TEST(domain_names)
{
    char n[MP_DNSQ_NAME_MAX], longlabel[80], longname[300];
    ck_assert_int_eq(mp_dnsq_domain_name("Acme.Example.", "dbl.example", n, sizeof(n)), MP_OK);
    ck_assert_str_eq(n, "acme.example.dbl.example");
    ck_assert_int_eq(mp_dnsq_domain_name("a..example", "z", n, sizeof(n)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_dnsq_domain_name("a b.example", "z", n, sizeof(n)), MP_ERR_INVAL);
    ck_assert_int_eq(mp_dnsq_domain_name("", "z", n, sizeof(n)), MP_ERR_INVAL);
    memset(longlabel, 'a', 64);
    longlabel[64] = '\0';
    ck_assert_int_eq(mp_dnsq_domain_name(longlabel, "z", n, sizeof(n)), MP_ERR_INVAL);
    for (int i = 0; i < 60; i++)
        memcpy(longname + i * 4, "abc.", 4);
    memcpy(longname + 240, "example", 8); /* 247 characters: with the zone over 253 */
    ck_assert_int_eq(mp_dnsq_domain_name(longname, "zone.example", n, sizeof(n)), MP_ERR_FULL);
}
END_TEST

/* A DNS reply to an A (or TXT) query for 2.0.0.127.z: n answers. */
static int reply(unsigned char *b, int qtype, const uint32_t *addrs, size_t n, const char *txt)
{
    static const unsigned char head[] = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
    static const unsigned char qname[] = "\0012\0010\0010\003127\001z";
    int k = 0;
    memcpy(b, head, sizeof(head));
    b[7] = (unsigned char)n;
    k = sizeof(head);
    memcpy(b + k, qname, sizeof(qname)); /* with the root label's 0 */
    k += (int)sizeof(qname);
    b[k++] = 0, b[k++] = (unsigned char)qtype, b[k++] = 0, b[k++] = 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char rr[] = {0xc0, 12, 0, (unsigned char)qtype, 0, 1, 0, 0, 0, 0};
        memcpy(b + k, rr, sizeof(rr));
        k += (int)sizeof(rr);
        if (qtype == 1) {
            uint32_t a = htonl(addrs[i]);
            b[k++] = 0, b[k++] = 4;
            memcpy(b + k, &a, 4);
            k += 4;
        } else {
            size_t l = strlen(txt);
            b[k++] = 0, b[k++] = (unsigned char)(l + 1), b[k++] = (unsigned char)l;
            memcpy(b + k, txt, l);
            k += (int)l;
        }
    }
    return k;
}

#define IP4(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

START_TEST(answers_mean_listed_not_listed_or_error)
{
    unsigned char b[512];
    struct mp_dnsq_answer an;
    uint32_t one[] = {IP4(127, 0, 0, 2)}, two[] = {IP4(127, 0, 0, 4), IP4(127, 0, 0, 2)};
    uint32_t pub[] = {IP4(127, 255, 255, 254)}, ad[] = {IP4(198, 51, 100, 1)};
    mp_dnsq_interpret(ARES_SUCCESS, b, reply(b, 1, one, 1, NULL), &an);
    ck_assert_int_eq(an.result, MP_DNSQ_LISTED);
    ck_assert_str_eq(an.code, "127.0.0.2");
    mp_dnsq_interpret(ARES_SUCCESS, b, reply(b, 1, two, 2, NULL), &an);
    ck_assert_int_eq(an.result, MP_DNSQ_LISTED);
    ck_assert_str_eq(an.code, "127.0.0.2,127.0.0.4"); /* sorted */
    /* Spamhaus's answer to a query through a public resolver: an error */
    mp_dnsq_interpret(ARES_SUCCESS, b, reply(b, 1, pub, 1, NULL), &an);
    ck_assert_int_eq(an.result, MP_DNSQ_ERROR);
    ck_assert_str_eq(mp_dnsq_reason_name(an.reason), "refused_by_list");
    /* an ad server for NXDOMAIN (a rewriting resolver): an error too */
    mp_dnsq_interpret(ARES_SUCCESS, b, reply(b, 1, ad, 1, NULL), &an);
    ck_assert_int_eq(an.result, MP_DNSQ_ERROR);
    ck_assert_str_eq(mp_dnsq_reason_name(an.reason), "bad_answer");
    mp_dnsq_interpret(ARES_SUCCESS, b, 7, &an); /* cut short */
    ck_assert_int_eq(an.result, MP_DNSQ_ERROR);
    ck_assert_int_eq(an.reason, MP_DNSQ_BAD_ANSWER);
    mp_dnsq_interpret(ARES_ENOTFOUND, NULL, 0, &an);
    ck_assert_int_eq(an.result, MP_DNSQ_NOT_LISTED);
    mp_dnsq_interpret(ARES_ENODATA, NULL, 0, &an);
    ck_assert_int_eq(an.result, MP_DNSQ_NOT_LISTED);
    static const struct { int st; const char *why; } errs[] = {
        {ARES_ETIMEOUT, "timeout"}, {ARES_ESERVFAIL, "servfail"}, {ARES_EREFUSED, "refused"},
        {ARES_ECONNREFUSED, "unreachable"}, {ARES_ENOMEM, "other"}};
    for (size_t i = 0; i < sizeof(errs) / sizeof(*errs); i++) {
        mp_dnsq_interpret(errs[i].st, NULL, 0, &an);
        ck_assert_int_eq(an.result, MP_DNSQ_ERROR);
        ck_assert_str_eq(mp_dnsq_reason_name(an.reason), errs[i].why);
    }
}
END_TEST

START_TEST(txt_answers)
{
    unsigned char b[512];
    char t[MP_DNSQ_TXT_MAX];
    mp_dnsq_txt(ARES_SUCCESS, b, reply(b, 16, NULL, 1, "https://check.example/10.2\n"), t,
                sizeof(t));
    ck_assert_str_eq(t, "https://check.example/10.2 "); /* control bytes blanked */
    mp_dnsq_txt(ARES_ENOTFOUND, NULL, 0, t, sizeof(t));
    ck_assert_str_eq(t, "");
    mp_dnsq_txt(ARES_SUCCESS, b, 5, t, sizeof(t));
    ck_assert_str_eq(t, "");
}
END_TEST

START_TEST(a_silent_resolver_times_out)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof(sa);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    char res[64], err[256];
    snprintf(res, sizeof(res), "127.0.0.1:%u", ntohs(sa.sin_port));
    struct mp_dnsq_query q[2] = {{.name = "10.2.0.192.bl.test"}, {.name = "a.example.dbl.test"}};
    int64_t t0 = mp_mono_ns();
    ck_assert_int_eq(mp_dnsq_run(res, 200, 2, q, 2, NULL, err, sizeof(err)), MP_OK);
    int64_t ms = (mp_mono_ns() - t0) / 1000000;
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(q[i].ans.result, MP_DNSQ_ERROR);
        ck_assert_int_eq(q[i].ans.reason, MP_DNSQ_TIMEOUT);
    }
    /* both at once: two tries of 200 ms (c-ares may back off), never one after the other's */
    ck_assert_msg(ms >= 300 && ms < 3000, "took %lld ms", (long long)ms);
    ck_assert_int_eq(mp_dnsq_run("not-an-address", 200, 1, q, 1, NULL, err, sizeof(err)),
                     MP_ERR_IO);
    ck_assert_int_eq(q[0].ans.result, MP_DNSQ_ERROR);
    close(fd);
}
END_TEST

CHECK_SUITE("mp_dnsq", 30, NULL, NULL, ipv4_names, ipv6_names_are_reversed_nibbles, domain_names,
            answers_mean_listed_not_listed_or_error, txt_answers, a_silent_resolver_times_out)
