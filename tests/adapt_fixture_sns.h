/* adapt_fixture_sns.h — SNS signing for the SES adapter's tests: a test-only
 * RSA key and self-signed certificate made at test time (OpenSSL), and an
 * SNS envelope signed the way SNS documents it, computed here independently
 * of ingest/ingest_adapt_ses.c.
 *
 * Contract: afx_sns_key() makes a fresh 2048-bit RSA key and a self-signed
 * X509 certificate for it (the caller frees both: EVP_PKEY_free, X509_free);
 * afx_sns_pem() writes the certificate as PEM to `path`. afx_sns_sign()
 * returns a copy of an SNS envelope (malloc'd) with SignatureVersion
 * `version` (1: SHA1withRSA, 2: SHA256withRSA) and its Signature over the
 * canonical string of its Type. afx_sns_now() returns a copy of an SES
 * Notification fixture with MessageId `id`, the envelope's Timestamp and
 * the record's mail and detail timestamps (when Message is JSON) at `ms`
 * (unsigned).
 * Test thread (or a bench's main thread); a failure prints where and
 * aborts (no ck_assert: the bench uses these outside a Check runner).
 */
#ifndef ADAPT_FIXTURE_SNS_H
#define ADAPT_FIXTURE_SNS_H

#include <openssl/evp.h>
#include <openssl/x509.h>

void afx_sns_key(EVP_PKEY **key, X509 **cert);
void afx_sns_pem(const X509 *cert, const char *path);
char *afx_sns_sign(const char *body, EVP_PKEY *key, int version);
char *afx_sns_now(const char *body, const char *id, long long ms);

#endif
