/* mp_dnsq.c — DNS blocklist queries (see mp_dnsq.h). Answers are parsed by
 * c-ares (ares_parse_a_reply, ares_parse_txt_reply), never by hand. */
#include "mp_dnsq.h"

#include <arpa/inet.h>
#include <ares.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

static const char *const dnsq__reasons[MP_DNSQ_NREASONS] = {
    "ok", "timeout", "servfail", "refused", "refused_by_list", "bad_answer", "unreachable",
    "other"};

const char *mp_dnsq_reason_name(int reason)
{
    return reason >= 0 && reason < MP_DNSQ_NREASONS ? dnsq__reasons[reason] : "other";
}

int mp_dnsq_is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int dnsq__join(char *out, size_t n, const char *name, const char *zone)
{
    int len = snprintf(out, n, "%s.%s", name, zone);
    return len < 0 || (size_t)len >= n || len > 253 ? MP_ERR_FULL : MP_OK;
}

int mp_dnsq_ip_name(const char *ip, const char *zone, char *out, size_t n)
{
    unsigned char b[16];
    char rev[80];
    if (inet_pton(AF_INET, ip, b) == 1) {
        snprintf(rev, sizeof(rev), "%u.%u.%u.%u", b[3], b[2], b[1], b[0]);
    } else if (inet_pton(AF_INET6, ip, b) == 1) {
        static const char hex[] = "0123456789abcdef";
        size_t k = 0;
        for (int i = 15; i >= 0; i--) { /* low nibble first: the address read backwards */
            rev[k++] = hex[b[i] & 15];
            rev[k++] = '.';
            rev[k++] = hex[b[i] >> 4];
            rev[k++] = '.';
        }
        rev[k - 1] = '\0';
    } else {
        return MP_ERR_INVAL;
    }
    return dnsq__join(out, n, rev, zone);
}

int mp_dnsq_domain_name(const char *domain, const char *zone, char *out, size_t n)
{
    char d[MP_DNSQ_NAME_MAX];
    size_t len = strlen(domain), label = 0;
    if (len && domain[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return MP_ERR_INVAL;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)domain[i];
        if (c == '.') {
            if (label == 0)
                return MP_ERR_INVAL; /* empty label */
            label = 0;
        } else if (isalnum(c) || c == '-' || c == '_') {
            if (++label > 63)
                return MP_ERR_INVAL;
        } else {
            return MP_ERR_INVAL;
        }
        d[i] = (char)tolower(c);
    }
    if (label == 0)
        return MP_ERR_INVAL;
    d[len] = '\0';
    return dnsq__join(out, n, d, zone);
}

static int dnsq__reason_of(int status)
{
    switch (status) {
    case ARES_ETIMEOUT: return MP_DNSQ_TIMEOUT;
    case ARES_ESERVFAIL: return MP_DNSQ_SERVFAIL;
    case ARES_EREFUSED: return MP_DNSQ_REFUSED;
    case ARES_ECONNREFUSED: return MP_DNSQ_UNREACHABLE;
    case ARES_EBADRESP:
    case ARES_EFORMERR:
    case ARES_EBADNAME: return MP_DNSQ_BAD_ANSWER;
    default: return MP_DNSQ_OTHER;
    }
}

static int dnsq__cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

#define DNSQ_ADDRS_MAX 16

/* The A answer's addresses, host order, sorted; how many (-1: unparseable). */
static int dnsq__addrs(const unsigned char *abuf, int alen, uint32_t *out)
{
    struct ares_addrttl at[DNSQ_ADDRS_MAX];
    int na = DNSQ_ADDRS_MAX;
    if (ares_parse_a_reply(abuf, alen, NULL, at, &na) != ARES_SUCCESS)
        return -1;
    for (int i = 0; i < na; i++)
        out[i] = ntohl(at[i].ipaddr.s_addr);
    qsort(out, (size_t)na, sizeof(*out), dnsq__cmp);
    return na;
}

void mp_dnsq_interpret(int status, const unsigned char *abuf, int alen,
                       struct mp_dnsq_answer *out)
{
    uint32_t a[DNSQ_ADDRS_MAX];
    memset(out, 0, sizeof(*out));
    if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
        out->result = MP_DNSQ_NOT_LISTED; /* NXDOMAIN, or the name without an A */
        return;
    }
    out->result = MP_DNSQ_ERROR;
    if (status != ARES_SUCCESS) {
        out->reason = dnsq__reason_of(status);
        return;
    }
    int na = abuf ? dnsq__addrs(abuf, alen, a) : -1;
    if (na < 0) {
        out->reason = MP_DNSQ_BAD_ANSWER;
        return;
    }
    if (na == 0) {
        out->result = MP_DNSQ_NOT_LISTED;
        return;
    }
    size_t k = 0, ncodes = 0;
    for (int i = 0; i < na; i++) {
        if ((a[i] >> 24) != 127) {
            out->reason = MP_DNSQ_BAD_ANSWER; /* not a blocklist's answer at all */
            return;
        }
        if ((a[i] >> 8) == 0x7fffff) {
            out->reason = MP_DNSQ_REFUSED_BY_LIST; /* 127.255.255.x: an error code */
            return;
        }
        if (ncodes++ < 4)
            k += (size_t)snprintf(out->code + k, sizeof(out->code) - k, "%s%u.%u.%u.%u",
                                  k ? "," : "", a[i] >> 24, (a[i] >> 16) & 255,
                                  (a[i] >> 8) & 255, a[i] & 255);
    }
    out->result = MP_DNSQ_LISTED;
    out->reason = MP_DNSQ_OK;
}

void mp_dnsq_txt(int status, const unsigned char *abuf, int alen, char *out, size_t n)
{
    struct ares_txt_reply *txt = NULL;
    size_t k = 0;
    out[0] = '\0';
    if (status != ARES_SUCCESS || !abuf || ares_parse_txt_reply(abuf, alen, &txt) != ARES_SUCCESS)
        return;
    for (struct ares_txt_reply *t = txt; t && k + 1 < n; t = t->next) {
        int w = snprintf(out + k, n - k, "%s%.*s", k ? " " : "", (int)t->length,
                         (const char *)t->txt);
        if (w < 0)
            break;
        k += (size_t)w < n - k ? (size_t)w : n - k - 1;
    }
    ares_free_data(txt);
    for (char *p = out; *p; p++) /* text for people and JSON: no control bytes */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

/* ---- one round ---- */

static pthread_once_t dnsq__once = PTHREAD_ONCE_INIT;
static int dnsq__init_rc;
static void dnsq__init(void) { dnsq__init_rc = ares_library_init(ARES_LIB_INIT_ALL); }

struct dnsq_ctx {
    ares_channel ch;
    struct mp_dnsq_query *q;
    size_t pending;
};

struct dnsq_slot {
    struct dnsq_ctx *c;
    size_t i;
};

static void dnsq__on_txt(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dnsq_slot *s = arg;
    mp_dnsq_txt(status, abuf, alen, s->c->q[s->i].ans.txt, sizeof(s->c->q[s->i].ans.txt));
    s->c->pending--;
}

static void dnsq__on_a(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dnsq_slot *s = arg;
    struct mp_dnsq_answer *ans = &s->c->q[s->i].ans;
    mp_dnsq_interpret(status, abuf, alen, ans);
    if (ans->result == MP_DNSQ_LISTED && status != ARES_EDESTRUCTION &&
        status != ARES_ECANCELLED) {
        /* the listing's reason, as the list words it (RFC 5782 2.1) */
        ares_query(s->c->ch, s->c->q[s->i].name, 1 /* C_IN */, 16 /* T_TXT */, dnsq__on_txt, s);
        return; /* pending stays: the TXT query's now */
    }
    s->c->pending--;
}

static int dnsq__channel(struct dnsq_ctx *c, const char *resolver, int timeout_ms, int tries,
                         char *err, size_t errlen)
{
    struct ares_options o = {.timeout = timeout_ms, .tries = tries, .flags = ARES_FLAG_NOCHECKRESP};
    int rc = ares_init_options(&c->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
    if (rc == ARES_SUCCESS && resolver)
        rc = ares_set_servers_ports_csv(c->ch, resolver);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "resolver %s: %s", resolver ? resolver : "(system)",
                 ares_strerror(rc));
        return MP_ERR_IO;
    }
    return MP_OK;
}

int mp_dnsq_run(const char *resolver, int timeout_ms, int tries, struct mp_dnsq_query *q,
                size_t n, const mp_atomic_u32 *stop, char *err, size_t errlen)
{
    struct dnsq_ctx c = {.q = q};
    struct dnsq_slot *slots = calloc(n ? n : 1, sizeof(*slots));
    for (size_t i = 0; i < n; i++)
        q[i].ans = (struct mp_dnsq_answer){.result = MP_DNSQ_ERROR, .reason = MP_DNSQ_OTHER};
    pthread_once(&dnsq__once, dnsq__init);
    if (!slots || dnsq__init_rc != ARES_SUCCESS) {
        snprintf(err, errlen, "c-ares: %s", slots ? ares_strerror(dnsq__init_rc) : "no memory");
        free(slots);
        return MP_ERR_IO;
    }
    if (dnsq__channel(&c, resolver, timeout_ms, tries, err, errlen) != MP_OK) {
        if (c.ch)
            ares_destroy(c.ch);
        free(slots);
        return MP_ERR_IO;
    }
    for (size_t i = 0; i < n; i++) {
        slots[i] = (struct dnsq_slot){&c, i};
        c.pending++;
        ares_query(c.ch, q[i].name, 1 /* C_IN */, 1 /* T_A */, dnsq__on_a, &slots[i]);
    }
    while (c.pending > 0 && !(stop && mp_load_acquire(stop))) {
        fd_set r, w;
        FD_ZERO(&r);
        FD_ZERO(&w);
        int nfds = ares_fds(c.ch, &r, &w);
        struct timeval max = {0, 100 * 1000}, tv, *tvp = ares_timeout(c.ch, &max, &tv);
        if (nfds > 0)
            select(nfds, &r, &w, NULL, tvp);
        else
            select(0, NULL, NULL, NULL, tvp); /* c-ares has a timer running only */
        ares_process(c.ch, &r, &w);
    }
    ares_destroy(c.ch); /* what is still pending ends as an error (EDESTRUCTION) */
    free(slots);
    return MP_OK;
}
