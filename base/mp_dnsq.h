/* mp_dnsq.h — DNS blocklist queries: the names, what an answer means, and
 * one round of queries through c-ares (asynchronous, many at once).
 *
 * Names (RFC 5782):
 *   IPv4 192.0.2.10 in zone Z    -> 10.2.0.192.Z
 *   IPv6 2001:db8::1 in zone Z   -> the 32 nibbles of the full address,
 *                                   last first, dot-separated, then Z
 *   domain example.com in zone Z -> example.com.Z (lower-cased)
 *
 * Answers (mp_dnsq_interpret): an A answer in 127.0.0.0/8 is a listing,
 * its address the return code (several: all of them, sorted, comma-joined);
 * NXDOMAIN (and NOERROR without an A record) is "not listed". Everything else
 * is an error, never read as either:
 *   - 127.255.255.0/24: the operator refusing to answer. Spamhaus answers
 *     127.255.255.254 to queries that reach it through a public/open
 *     resolver (8.8.8.8, 1.1.1.1...), 127.255.255.255 to too many queries,
 *     127.255.255.252 to a malformed query; read as listings these would
 *     "list" every address at once. Reason "refused_by_list".
 *   - an A answer outside 127.0.0.0/8 (a resolver that rewrites NXDOMAIN to
 *     an ad server, a wrong zone): "bad_answer".
 *   - timeouts, SERVFAIL, REFUSED, an unreachable resolver: their reasons.
 *
 * Threads: pure functions, any thread. mp_dnsq_run() blocks its caller for
 * the round (at most about timeout_ms * tries per query, run in parallel)
 * and uses its own c-ares channel: any number of rounds at once.
 */
#ifndef MP_DNSQ_H
#define MP_DNSQ_H

#include <stddef.h>

#include "mp.h"
#include "mp_atomic.h"

#define MP_DNSQ_NAME_MAX 256 /* a DNS name is at most 253 characters */
#define MP_DNSQ_CODE_MAX 80  /* up to four return codes, comma-joined */
#define MP_DNSQ_TXT_MAX 512

enum mp_dnsq_result { MP_DNSQ_NOT_LISTED = 0, MP_DNSQ_LISTED = 1, MP_DNSQ_ERROR = 2 };

/* Why a query is an error; stable names (Prometheus reason labels). */
enum mp_dnsq_reason {
    MP_DNSQ_OK = 0,
    MP_DNSQ_TIMEOUT,         /* no answer in time (every try) */
    MP_DNSQ_SERVFAIL,        /* the resolver could not answer */
    MP_DNSQ_REFUSED,         /* the resolver refused the query (rcode REFUSED) */
    MP_DNSQ_REFUSED_BY_LIST, /* 127.255.255.x: the list refused (public resolver, quota) */
    MP_DNSQ_BAD_ANSWER,      /* an A answer outside 127/8, or one c-ares cannot parse */
    MP_DNSQ_UNREACHABLE,     /* connection refused, network down */
    MP_DNSQ_OTHER,           /* any other resolver failure */
    MP_DNSQ_NREASONS
};
const char *mp_dnsq_reason_name(int reason);

struct mp_dnsq_answer {
    int result;                  /* enum mp_dnsq_result */
    int reason;                  /* enum mp_dnsq_reason (MP_DNSQ_OK unless ERROR) */
    char code[MP_DNSQ_CODE_MAX]; /* LISTED: "127.0.0.2" or "127.0.0.2,127.0.0.4" */
    char txt[MP_DNSQ_TXT_MAX];   /* LISTED: the TXT answer ("" when none) */
};

/* 1 when s is an IPv4 or IPv6 address literal. */
int mp_dnsq_is_ip(const char *s);
/* The query name of address ip (v4 or v6) in zone; MP_OK, MP_ERR_INVAL (not
 * an address), MP_ERR_FULL (too long). */
int mp_dnsq_ip_name(const char *ip, const char *zone, char *out, size_t n);
/* The query name of domain in zone (lower-cased, a trailing dot dropped);
 * MP_OK, MP_ERR_INVAL (not a host name), MP_ERR_FULL. */
int mp_dnsq_domain_name(const char *domain, const char *zone, char *out, size_t n);
/* What c-ares status `status` and A answer abuf[0..alen) of an A query mean
 * (see above), in *out (txt left empty). */
void mp_dnsq_interpret(int status, const unsigned char *abuf, int alen,
                       struct mp_dnsq_answer *out);
/* The TXT strings of answer abuf, joined by ' ', in out ("" when none or
 * not parseable). */
void mp_dnsq_txt(int status, const unsigned char *abuf, int alen, char *out, size_t n);

struct mp_dnsq_query {
    const char *name;          /* in: the query name */
    struct mp_dnsq_answer ans; /* out */
};

/* Asks for the A record of every q[i].name (and the TXT of those listed)
 * at `resolver` ("ip:port" or "[ip6]:port"; NULL: the system's, from
 * /etc/resolv.conf), each try waiting timeout_ms, `tries` tries. Returns
 * early (the rest: MP_DNSQ_ERROR, MP_DNSQ_OTHER) once *stop is set (NULL:
 * never). MP_OK (answers in q, errors included); MP_ERR_IO (no channel:
 * err says why; every answer MP_DNSQ_ERROR). */
int mp_dnsq_run(const char *resolver, int timeout_ms, int tries, struct mp_dnsq_query *q,
                size_t n, const mp_atomic_u32 *stop, char *err, size_t errlen);

#endif
