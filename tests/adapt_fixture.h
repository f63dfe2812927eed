/* adapt_fixture.h — the adapters' test fixtures (tests/fixtures/adapters/,
 * each service's documented webhook shapes) for the mapper suites and the
 * e2e suite: loading one, and Mailgun's signature, computed here with
 * OpenSSL independently of ingest/ingest_adapt_mailgun.c.
 *
 * Contract: afx_load() returns the fixture's text (malloc'd; the caller
 * frees) or aborts the test through ck_assert. afx_mailgun_sign() returns
 * a copy of a Mailgun body whose signature block is {timestamp: ts, token,
 * signature: hex HMAC-SHA256(key, ts + token)} (malloc'd). afx_set()
 * returns a copy of a JSON body with the string or integer member `key` of
 * the object at `obj` ("" for the root, else a member name) replaced.
 * afx_sendgrid_key() makes a fresh ECDSA P-256 key pair, as SendGrid's
 * Signed Event Webhook holds, and writes its public key (base64 DER, as
 * the console shows it) into pub; afx_sendgrid_sign() returns the base64
 * DER signature of ts + body under it (malloc'd), computed here with
 * OpenSSL independently of ingest/ingest_adapt_sendgrid.c (both abort on
 * an OpenSSL failure rather than ck_assert: bench_adapters uses them too).
 * Test thread only.
 */
#ifndef ADAPT_FIXTURE_H
#define ADAPT_FIXTURE_H

char *afx_load(const char *name);
char *afx_mailgun_sign(const char *body, const char *key, long long ts, const char *token);
char *afx_set(const char *body, const char *obj, const char *key, const char *sval,
              long long ival);

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "ingest_adapt.h"

/* ingest_adapt_parse(c, body) at now_ms must refuse MP_ERR_INVAL with `why`
 * in its reason and no event left (ck_assert). */
void afx_must_reject(const struct ingest_adapt_conf *c, const char *body, int64_t now_ms,
                     const char *why);

/* A fixture's member `key` set to `val` (afx_set), and what the refusal's
 * reason must hold. */
struct afx_member_case {
    const char *key, *val, *why;
};

/* A body that must be refused, and what the reason must hold. */
struct afx_refusal {
    const char *body, *why;
};
/* afx_must_reject() for each of rows[0..n). */
void afx_must_reject_all(const struct ingest_adapt_conf *c, int64_t now_ms,
                         const struct afx_refusal *rows, size_t n);

/* ingest_adapt_parse(c, body) at now_ms into o, its reason in err (256
 * bytes); frees raw and body (a fixture and its signed copy) and returns
 * the parse's code. */
int afx_parse_signed(const struct ingest_adapt_conf *c, char *raw, char *body, int64_t now_ms,
                     struct ingest_adapt_out *o, char *err);

EVP_PKEY *afx_sendgrid_key(char *pub, size_t publen);
char *afx_sendgrid_sign(EVP_PKEY *k, const char *ts, const char *body, size_t len);

#endif
