/* fuzz_adapt.c — libFuzzer target for the ESP webhook body parsers
 * (ingest/ingest_adapt.h: json, Mailgun, Postmark, SendGrid, SES) and the
 * credential checks.
 *
 * The first byte picks the type (& 3: json, mailgun, postmark, sendgrid;
 * bit 4: ses instead), bit 2 a tenant_field configuration instead of a
 * fixed tenant, and with ses bit 3 the body is an SES record given straight
 * to the record mapper (a fuzzer cannot produce an SNS signature); the rest
 * is the body, copied into a buffer of exactly its length (ASan catches any
 * read past it). SES envelopes are verified against a certificate made once
 * at start. It aborts when the contract breaks:
 *   - a return other than MP_OK, MP_ERR_INVAL or INGEST_ADAPT_ERR_SIG, or
 *     a refusal with an empty reason or events left in `out`;
 *   - an accepted event whose tenant is not a name of eng_name.h (or not
 *     the configured one), whose mailbox is neither empty (none) nor
 *     holds exactly one '@', whose
 *     domain is empty or holds an '@', whose type is outside 1..12, or
 *     whose time is not positive.
 * The body is also given to the basic and bearer checks as a header, and
 * to the SendGrid signature check as the signature and as the signed body
 * (under a fixed P-256 key: it must refuse, never crash).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "eng_name.h"
#include "ingest_adapt_impl.h"

static const char *const tenants[] = {"acme", "beta"};
/* a P-256 public key whose private key is not kept anywhere */
#define FUZZ_SG_KEY "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfy4gWxuU4NS6cSGT7ozNi9wJ3yT+EKI0AZLEwM6M5DeX" \
                    "qvWSYogumgHkFJdVXGt7He9CkIM9Z49AAXjv9vXkMw=="

/* A self-signed certificate of a fresh key: the SNS check runs for real. */
static X509 *fuzz_cert(void)
{
    static X509 *cert;
    if (!cert) {
        EVP_PKEY *k = EVP_RSA_gen(2048);
        cert = X509_new();
        if (!k || !cert || !X509_set_pubkey(cert, k))
            abort();
        EVP_PKEY_free(k);
    }
    return cert;
}

static void check_event(const struct ingest_adapt_event *e, const char *fixed, int record)
{
    if (!eng_name_valid(e->tenant, strlen(e->tenant)) || (fixed && strcmp(e->tenant, fixed)))
        abort();
    const char *at = strchr(e->mailbox, '@');
    /* no mailbox is allowed (events without one count at their other
     * scopes); one that is there is an address */
    if (e->mailbox[0] != '\0' && (at == NULL || strchr(at + 1, '@') != NULL))
        abort();
    if (e->domain[0] == '\0' || strchr(e->domain, '@'))
        abort();
    if (e->type < 1 || e->type > 12 || e->time_ms <= 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct ingest_adapt_conf c = {.kind = (data[0] & 16) ? INGEST_ADAPT_SES
                                                         : (enum ingest_adapt_kind)(data[0] & 3),
                                  .signing_key = "fuzz-key"};
    int record = c.kind == INGEST_ADAPT_SES && (data[0] & 8);
    if (c.kind == INGEST_ADAPT_SES)
        c.sns_cert = fuzz_cert();
    if (data[0] & 4) {
        c.tenant_field = "tenant";
        c.tenants = tenants;
        c.ntenants = 2;
        c.mailbox_field = "mailbox";
    } else {
        c.tenant = "acme";
    }
    char *body = malloc(size - 1 + 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    struct ingest_adapt_out out = {0};
    char err[256] = "";
    int rc;
    if (record) { /* the mapper reads a C string: the body up to its first NUL */
        char *msg = malloc(size);
        if (!msg)
            abort();
        memcpy(msg, data + 1, size - 1);
        msg[size - 1] = '\0';
        rc = adapt__ses_record(&c, msg, "fuzz-msg-id", &out, err, sizeof(err));
        if (rc != MP_OK)
            out.n = 0; /* ingest_adapt_parse() does this for the record path */
        free(msg);
    } else {
        rc = ingest_adapt_parse(&c, body, size - 1, 1764657600000LL, &out, err, sizeof(err));
    }
    if (rc != MP_OK && rc != MP_ERR_INVAL && rc != INGEST_ADAPT_ERR_SIG)
        abort();
    if (rc != MP_OK && (err[0] == '\0' || out.n != 0))
        abort();
    for (size_t i = 0; rc == MP_OK && i < out.n; i++)
        check_event(&out.ev[i], c.tenant, record);
    ingest_adapt_out_free(&out);
    body[size - 1] = '\0';
    (void)ingest_adapt_basic_ok("user:pass", body);
    (void)ingest_adapt_bearer_ok("token", body);
    static struct ingest_adapt_key *key; /* loaded once: the process's life */
    if (!key && ingest_adapt_key_load(FUZZ_SG_KEY, &key, err, sizeof(err)) != MP_OK)
        abort();
    if (ingest_adapt_sendgrid_ok(key, "1764657600", body, body, size - 1, 1764657600000LL) ||
        ingest_adapt_sendgrid_ok(key, body, "AAAA", body, size - 1, 1764657600000LL))
        abort(); /* no one here holds the private key */
    free(body);
    return 0;
}
