/* test_mp_policy.c — cmd/daemon/mp_policy.c, the Postfix policy server, at
 * the protocol level over real loopback sockets (the whole daemon with a
 * real Postfix is test_e2e_gate's).
 *
 * Answers (DUNNO, the pause action with its 4.7.1 reason, HOLD, unmapped
 * senders, sasl_username beating the sender's domain), requests split
 * across writes and several pipelined on one connection, CRLF lines, and
 * bad requests (a line without '=', another request type, a line or a
 * request over its bound): counted, and the connection closed while others
 * are still served. Run with CK_FORK=yes.
 */
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_harness.h"
#include "mp_log.h"
#include "mp_policy.h"

#define REQ(sender, rcpt) \
    "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=" sender "\nrecipient=" rcpt "\n"

static struct alert_gate *G;
static struct mp_policy *P;
static struct mp_gate_map domains[] = {{"acme.example", "acme"}, {"beta.example", "beta"}};
static struct mp_gate_map users[] = {{"relay", "acme"}};
static struct mp_gate_conf conf = {.cool_down_ms = 60000, .n_domains = 2, .n_users = 1,
                                   .domains = domains, .users = users};

void test_init(void) { mp_log_set_level(MP_LOG_ERROR); }

static void setup(void)
{
    struct alert_gate_opts o = {.cool_down_ms = 60000};
    ck_assert_int_eq(alert_gate_new(&o, &G), MP_OK);
    struct alert_gate_alert a;
    memset(&a, 0, sizeof(a));
    snprintf(a.rule.name, sizeof(a.rule.name), "bounce_rate");
    a.rule.gate_sev = ALERT_SEV_WARNING;
    a.severity = ALERT_SEV_CRITICAL;
    a.scope = ALERT_GATE_DOMAIN;
    snprintf(a.tenant, sizeof(a.tenant), "acme");
    snprintf(a.name, sizeof(a.name), "gmail.com");
    snprintf(a.summary, sizeof(a.summary), "bounce_rate 8%% for tenant acme\nrecipient domain");
    ck_assert_int_eq(alert_gate_sync(G, &a, 1, mp_now_ms()), MP_OK);
    conf.action = MP_GATE_DEFER_IF_PERMIT;
    char err[256], listen[32];
    uint16_t port;
    ck_assert_msg(e2e_free_port(&port, NULL, 0, err, sizeof(err)) == MP_OK, "%s", err);
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
    ck_assert_msg(mp_policy_start(listen, G, NULL, &conf, &P, err, sizeof(err)) == MP_OK, "%s",
                  err);
}

static void teardown(void)
{
    mp_policy_stop(P);
    alert_gate_free(G);
}

static char *answer(const char *req, int *paused)
{
    static char out[700];
    int mapped;
    ck_assert_int_eq(mp_policy_answer(G, NULL, &conf, req, strlen(req), mp_now_ms(), out,
                                      sizeof(out), paused, &mapped),
                     MP_OK);
    return out;
}

START_TEST(answers)
{
    int paused;
    ck_assert_str_eq(answer(REQ("news@acme.example", "bob@yahoo.com"), &paused), "action=DUNNO");
    ck_assert_int_eq(paused, 0);
    char *a = answer(REQ("News@Acme.Example", "bob@GMAIL.com"), &paused);
    ck_assert_int_eq(paused, 1);
    ck_assert_msg(strncmp(a, "action=DEFER_IF_PERMIT 4.7.1 mailpulse gate: sending paused "
                             "(bounce_rate): bounce_rate 8% for tenant acme recipient domain; "
                             "retry in 60s", 200) == 0, "%s", a);
    ck_assert_ptr_null(strchr(a, '\n'));
    /* another tenant's sends to gmail.com, and unmapped senders, pass */
    ck_assert_str_eq(answer(REQ("x@beta.example", "bob@gmail.com"), &paused), "action=DUNNO");
    ck_assert_str_eq(answer(REQ("x@other.example", "bob@gmail.com"), &paused), "action=DUNNO");
    ck_assert_str_eq(answer(REQ("", "bob@gmail.com"), &paused), "action=DUNNO"); /* <> */
    ck_assert_str_eq(answer(REQ("x@beta.example", "bob@gmail.com") "sasl_username=relay\n",
                            &paused), "action=DEFER_IF_PERMIT 4.7.1 mailpulse gate: sending "
                            "paused (bounce_rate): bounce_rate 8% for tenant acme recipient "
                            "domain; retry in 60s");
    conf.action = MP_GATE_HOLD;
    a = answer(REQ("a@acme.example", "b@gmail.com"), &paused);
    ck_assert_msg(strncmp(a, "action=HOLD mailpulse gate:", 27) == 0, "%s", a);
}
END_TEST

START_TEST(bad_requests)
{
    static const char *const bad[] = {"request=smtpd_access_policy\nno equals sign\n",
                                      "request=other\nsender=a@acme.example\n",
                                      "sender=a@acme.example\n",
                                      "=x\nrequest=smtpd_access_policy\n"};
    char out[700];
    int paused, mapped;
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        ck_assert_msg(mp_policy_answer(G, NULL, &conf, bad[i], strlen(bad[i]), mp_now_ms(), out,
                                       sizeof(out), &paused, &mapped) == MP_ERR_PARSE,
                      "case %zu", i);
}
END_TEST

static int dial(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)mp_policy_port(P)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

static void put(int fd, const char *s) { ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s)); }

/* Reads until `n` answers ("\n\n" ends each) or EOF (then -1), 10 s at most. */
static int get(int fd, char *buf, size_t cap, int n)
{
    size_t len = 0;
    int seen = 0;
    while (seen < n) {
        struct pollfd p = {fd, POLLIN, 0};
        ck_assert_msg(poll(&p, 1, 10000) == 1, "no answer within 10 s");
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            return -1;
        len += (size_t)r;
        buf[len] = '\0';
        seen = 0;
        for (const char *q = buf; (q = strstr(q, "\n\n")); q += 2)
            seen++;
    }
    return (int)len;
}

static void figures_are(uint64_t requests, uint64_t paused, uint64_t bad, uint64_t conns)
{
    struct mp_policy_figures f;
    mp_policy_figures(P, &f);
    ck_assert_uint_eq(f.requests, requests);
    ck_assert_uint_eq(f.paused, paused);
    ck_assert_uint_eq(f.bad, bad);
    ck_assert_uint_eq(f.connections, conns);
}

START_TEST(over_a_socket)
{
    char buf[4096];
    int fd = dial();
    put(fd, REQ("a@acme.example", "b@yahoo.com") "\n" REQ("a@acme.example", "b@gmail.com"));
    put(fd, "\n"); /* the second ends in another write */
    ck_assert_int_gt(get(fd, buf, sizeof(buf), 2), 0);
    ck_assert_msg(strncmp(buf, "action=DUNNO\n\naction=DEFER_IF_PERMIT 4.7.1 ", 43) == 0, "%s", buf);
    /* CRLF lines */
    put(fd, "request=smtpd_access_policy\r\nsender=a@acme.example\r\nrecipient=b@gmail.com\r\n\r\n");
    ck_assert_int_gt(get(fd, buf, sizeof(buf), 1), 0);
    ck_assert_msg(strncmp(buf, "action=DEFER_IF_PERMIT", 22) == 0, "%s", buf);
    /* a bad request closes its connection; another is still served */
    int fd2 = dial();
    put(fd2, "garbage\n\n");
    ck_assert_int_eq(get(fd2, buf, sizeof(buf), 1), -1);
    close(fd2);
    put(fd, REQ("a@acme.example", "b@yahoo.com") "\n");
    ck_assert_int_gt(get(fd, buf, sizeof(buf), 1), 0);
    ck_assert_str_eq(buf, "action=DUNNO\n\n");
    close(fd);
    figures_are(4, 2, 1, 2);
}
END_TEST

START_TEST(bounds_close_the_connection)
{
    char buf[256], *big = malloc(MP_POLICY_REQ_MAX + 16);
    int fd = dial();
    memset(big, 'x', MP_POLICY_LINE_MAX + 8); /* one line over its bound, no newline yet */
    big[MP_POLICY_LINE_MAX + 8] = '\0';
    put(fd, "sender=");
    put(fd, big);
    ck_assert_int_eq(get(fd, buf, sizeof(buf), 1), -1);
    close(fd);
    fd = dial(); /* many short lines: the request over its bound */
    size_t n = 0;
    while (n + 4 < MP_POLICY_REQ_MAX + 8) {
        memcpy(big + n, "a=b\n", 4);
        n += 4;
    }
    big[n] = '\0';
    ck_assert_int_eq(write(fd, big, n) > 0, 1);
    ck_assert_int_eq(get(fd, buf, sizeof(buf), 1), -1);
    close(fd);
    free(big);
    figures_are(0, 0, 2, 2);
}
END_TEST

CHECK_SUITE("mp_policy", 60, setup, teardown, answers, bad_requests, over_a_socket,
            bounds_close_the_connection)
