/* mp_policy.c — the Postfix policy server (see mp_policy.h).
 *
 * One thread, one poll() set: the listener plus each connection. A
 * connection keeps what it has read in a fixed buffer; every complete
 * request in it (up to its empty line) is answered at once and shifted out.
 * Answers are short (under 600 bytes) and go out with one non-blocking
 * send; a client that does not read them (its socket buffer full) is a bad
 * client and is closed rather than waited for.
 */
#include "mp_policy.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ingest_validate.h"
#include "mp_addr.h"
#include "mp_atomic.h"
#include "mp_gate.h"
#include "mp_log.h"
#include "mp_thread.h"

struct policy_conn {
    int fd;
    size_t len;
    int64_t last_ms;
    char buf[MP_POLICY_REQ_MAX];
};

struct mp_policy {
    struct alert_gate *gate;
    struct mp_gate_provmap *prov;
    const struct mp_gate_conf *conf;
    int lfd, port;
    pthread_t tid;
    int started;
    mp_atomic_u32 stop;
    struct policy_conn *conns[MP_POLICY_CONN_MAX];
    size_t nconns;
    struct mp_ratelimit bad_rl;
    mp_atomic_u64 connections, refused, requests, dunno, paused, unmapped, bad;
};

/* ---- one request ---- */

/* Printable ASCII only, one line, at most n - 1 bytes: a reason goes into
 * an SMTP reply. */
static void policy__clean(char *s)
{
    for (; *s; s++)
        if (*s < ' ' || *s > '~')
            *s = ' ';
}

/* The decision for sender/recipient/user as a Postfix action. */
static void policy__decide(struct alert_gate *gate, struct mp_gate_provmap *prov,
                           const struct mp_gate_conf *conf, const char *sender, const char *rcpt,
                           const char *user, int64_t now, char *out, size_t outlen, int *paused,
                           int *mapped)
{
    char mbox[INGEST_NAMEBUF_LEN], dom[INGEST_NAMEBUF_LEN], sdom[INGEST_NAMEBUF_LEN];
    size_t n;
    const char *at = sender ? strrchr(sender, '@') : NULL, *rat = rcpt ? strrchr(rcpt, '@') : NULL;
    int have_mbox = sender && strlen(sender) < sizeof(mbox) &&
                    ingest_norm_mailbox(sender, strlen(sender), mbox, &n);
    int have_sdom = at && strlen(at + 1) < sizeof(sdom) &&
                    ingest_norm_domain(at + 1, strlen(at + 1), sdom, &n);
    int have_dom = rat && strlen(rat + 1) < sizeof(dom) &&
                   ingest_norm_domain(rat + 1, strlen(rat + 1), dom, &n);
    const char *tenant = mp_config_gate_tenant(conf, have_sdom ? sdom : NULL, user);
    struct alert_gate_answer ans;
    char pname[ENG_PROVIDER_NAME_MAX + 1];
    struct alert_gate_query q = {tenant, have_mbox ? mbox : NULL, have_dom ? dom : NULL,
                                 mp_gate_provider_of(prov, have_dom ? dom : NULL, pname,
                                                     sizeof(pname))};
    *paused = 0;
    *mapped = tenant != NULL;
    if (!tenant || alert_gate_decide(gate, &q, now, &ans) != MP_OK ||
        ans.decision != ALERT_GATE_PAUSE) {
        snprintf(out, outlen, "action=DUNNO");
        return;
    }
    *paused = 1;
    const struct alert_gate_pause *p = &ans.reasons[0];
    int action = conf->action;
    char reason[400];
    snprintf(reason, sizeof(reason), "mailpulse gate: sending paused (%s%s): %s; retry in %llds",
             p->cooling ? "cooling down after " : "", p->rule, p->summary,
             (long long)ans.retry_after_s);
    policy__clean(reason);
    snprintf(out, outlen, "action=%s%s%s", mp_config_gate_action_name(action),
             action == MP_GATE_HOLD ? " " : " 4.7.1 ", reason);
}

int mp_policy_answer(struct alert_gate *gate, struct mp_gate_provmap *prov,
                     const struct mp_gate_conf *conf, const char *text, size_t len,
                     int64_t now_ms, char *out, size_t outlen, int *paused, int *mapped)
{
    char line[MP_POLICY_LINE_MAX + 1], sender[MP_POLICY_LINE_MAX + 1] = "",
         rcpt[MP_POLICY_LINE_MAX + 1] = "", user[MP_POLICY_LINE_MAX + 1] = "";
    int is_policy = 0, nattrs = 0;
    *paused = *mapped = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = (nl ? (size_t)(nl - text) : len) - i;
        if (l && text[i + l - 1] == '\r')
            l--;
        if (l > MP_POLICY_LINE_MAX || ++nattrs > MP_POLICY_ATTRS_MAX) {
            snprintf(out, outlen, "%s",
                     l > MP_POLICY_LINE_MAX ? "line too long" : "too many attributes");
            return MP_ERR_PARSE;
        }
        memcpy(line, text + i, l);
        line[l] = '\0';
        i = nl ? (size_t)(nl - text) + 1 : len;
        char *eq = strchr(line, '=');
        if (!eq || eq == line || memchr(line, '\0', l) != NULL) {
            snprintf(out, outlen, "a line is not name=value");
            return MP_ERR_PARSE;
        }
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(line, "request") == 0)
            is_policy = strcmp(v, "smtpd_access_policy") == 0;
        else if (strcmp(line, "sender") == 0)
            memcpy(sender, v, strlen(v) + 1);
        else if (strcmp(line, "recipient") == 0)
            memcpy(rcpt, v, strlen(v) + 1);
        else if (strcmp(line, "sasl_username") == 0)
            memcpy(user, v, strlen(v) + 1);
    }
    if (!is_policy) {
        snprintf(out, outlen, "not request=smtpd_access_policy");
        return MP_ERR_PARSE;
    }
    policy__decide(gate, prov, conf, sender, rcpt, user, now_ms, out, outlen, paused, mapped);
    return MP_OK;
}

/* ---- connections ---- */

static void policy__close(struct mp_policy *p, size_t i)
{
    close(p->conns[i]->fd);
    free(p->conns[i]);
    p->conns[i] = p->conns[--p->nconns];
}

static void policy__bad(struct mp_policy *p, const char *why)
{
    uint64_t suppressed;
    mp_add_relaxed(&p->bad, 1);
    if (mp_ratelimit_allow(&p->bad_rl, mp_now_ms(), 1000, &suppressed))
        mp_warn("policy_bad_request err=%s suppressed=%llu", MP_LOG_Q(why),
                (unsigned long long)suppressed);
}

/* Answers every whole request in c's buffer. 0 to keep c, -1 to close it. */
static int policy__serve(struct mp_policy *p, struct policy_conn *c)
{
    char out[700];
    for (;;) {
        char *end = NULL;
        for (size_t i = 0; i + 1 < c->len && !end; i++) /* an empty line ends a request */
            if (c->buf[i] == '\n' && (c->buf[i + 1] == '\n' ||
                                      (c->buf[i + 1] == '\r' && i + 2 < c->len &&
                                       c->buf[i + 2] == '\n')))
                end = c->buf + i + 1;
        if (!end)
            break;
        size_t req = (size_t)(end - c->buf), used = req + (*end == '\r' ? 2 : 1);
        int paused, mapped;
        if (mp_policy_answer(p->gate, p->prov, p->conf, c->buf, req, mp_now_ms(), out,
                             sizeof(out) - 2, &paused, &mapped) != MP_OK) {
            policy__bad(p, out);
            return -1;
        }
        mp_add_relaxed(&p->requests, 1);
        mp_add_relaxed(paused ? &p->paused : &p->dunno, 1);
        if (!mapped)
            mp_add_relaxed(&p->unmapped, 1);
        size_t n = strlen(out);
        memcpy(out + n, "\n\n", 2);
        if (send(c->fd, out, n + 2, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)(n + 2)) {
            policy__bad(p, "the client does not read its answers");
            return -1;
        }
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    /* no request end yet: the bounds on what may still come */
    const char *last = c->len ? memrchr(c->buf, '\n', c->len) : NULL;
    size_t tail = last ? c->len - (size_t)(last - c->buf) - 1 : c->len;
    if (c->len == sizeof(c->buf) || tail > MP_POLICY_LINE_MAX + 1) {
        policy__bad(p, c->len == sizeof(c->buf) ? "request too large" : "line too long");
        return -1;
    }
    return 0;
}

/* Reads what c has; 0 to keep it, -1 to close it. */
static int policy__read(struct mp_policy *p, struct policy_conn *c)
{
    ssize_t r = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        return -1; /* the client went away: Postfix closes idle ones itself */
    if (r < 0)
        return 0;
    c->len += (size_t)r;
    c->last_ms = mp_now_ms();
    return policy__serve(p, c);
}

static void policy__accept(struct mp_policy *p)
{
    for (;;) {
        int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct policy_conn *c = p->nconns < MP_POLICY_CONN_MAX ? malloc(sizeof(*c)) : NULL;
        if (!c) {
            close(fd);
            mp_add_relaxed(&p->refused, 1);
            continue;
        }
        c->fd = fd;
        c->len = 0;
        c->last_ms = mp_now_ms();
        p->conns[p->nconns++] = c;
        mp_add_relaxed(&p->connections, 1);
    }
}

static void *policy__main(void *arg)
{
    struct mp_policy *p = arg;
    mp_thread_name("mp-policy", -1);
    struct pollfd fds[MP_POLICY_CONN_MAX + 1];
    while (!mp_load_acquire(&p->stop)) {
        size_t n = p->nconns;
        fds[0] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
        for (size_t i = 0; i < n; i++)
            fds[i + 1] = (struct pollfd){.fd = p->conns[i]->fd, .events = POLLIN};
        if (poll(fds, n + 1, 50) < 0 && errno != EINTR)
            mp_error("policy_poll_failed err=%s", MP_LOG_Q(strerror(errno)));
        int64_t now = mp_now_ms();
        /* backwards: a close moves the last connection into the freed place */
        for (size_t i = n; i-- > 0;) {
            struct policy_conn *c = p->conns[i];
            int drop = (fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR)) ? policy__read(p, c)
                                                                           : 0;
            if (drop || now - c->last_ms > MP_POLICY_IDLE_MS)
                policy__close(p, i);
        }
        if (fds[0].revents & POLLIN)
            policy__accept(p);
    }
    return NULL;
}

/* ---- start / stop ---- */

static int policy__bind(struct mp_policy *p, const char *where, char *err, size_t errlen)
{
    struct mp_addr a;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char why[512];
    int rc = mp_addr_parse(where, &a, why, sizeof(why)), one = 1;
    if (rc == MP_OK)
        rc = mp_addr_resolve(&a, &ss, &sl, why, sizeof(why));
    if (rc != MP_OK) {
        snprintf(err, errlen, "gate.policy_listen %s", why);
        return rc;
    }
    p->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (p->lfd < 0 || setsockopt(p->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(p->lfd, (struct sockaddr *)&ss, sl) != 0 || listen(p->lfd, 128) != 0) {
        snprintf(err, errlen, "gate.policy_listen %s: %s", where, strerror(errno));
        return MP_ERR_IO;
    }
    sl = sizeof(ss);
    if (getsockname(p->lfd, (struct sockaddr *)&ss, &sl) == 0)
        p->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return MP_OK;
}

int mp_policy_start(const char *listen, struct alert_gate *gate, struct mp_gate_provmap *prov,
                    const struct mp_gate_conf *conf, struct mp_policy **out, char *err,
                    size_t errlen)
{
    struct mp_policy *p = calloc(1, sizeof(*p));
    int rc;
    if (!p)
        return MP_ERR_NOMEM;
    p->gate = gate;
    p->prov = prov;
    p->conf = conf;
    p->lfd = -1;
    if ((rc = policy__bind(p, listen, err, errlen)) == MP_OK) {
        if (pthread_create(&p->tid, NULL, policy__main, p) != 0) {
            snprintf(err, errlen, "gate.policy_listen: cannot start its thread");
            rc = MP_ERR_STATE;
        }
    }
    if (rc != MP_OK) {
        if (p->lfd >= 0)
            close(p->lfd);
        free(p);
        return rc;
    }
    p->started = 1;
    mp_info("policy_listening listen=%s port=%d action=%s", MP_LOG_Q(listen), p->port,
            mp_config_gate_action_name(conf->action));
    *out = p;
    return MP_OK;
}

void mp_policy_stop(struct mp_policy *p)
{
    if (!p)
        return;
    mp_thread_stop(&p->stop, p->started, p->tid);
    while (p->nconns)
        policy__close(p, p->nconns - 1);
    close(p->lfd);
    free(p);
}

int mp_policy_port(const struct mp_policy *p) { return p ? p->port : 0; }

void mp_policy_figures(struct mp_policy *p, struct mp_policy_figures *out)
{
    memset(out, 0, sizeof(*out));
    if (!p)
        return;
    out->connections = mp_load_relaxed(&p->connections);
    out->refused = mp_load_relaxed(&p->refused);
    out->requests = mp_load_relaxed(&p->requests);
    out->dunno = mp_load_relaxed(&p->dunno);
    out->paused = mp_load_relaxed(&p->paused);
    out->unmapped = mp_load_relaxed(&p->unmapped);
    out->bad = mp_load_relaxed(&p->bad);
}
