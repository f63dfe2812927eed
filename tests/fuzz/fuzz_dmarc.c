/* fuzz_dmarc.c — libFuzzer target for the DMARC aggregate report reader
 * (ingest/ingest_dmarc.h): the XML walk and the envelopes around it (gzip,
 * zip, a mail message).
 *
 * The first byte's low bit asks for INGEST_DMARC_MIME (a mail message is
 * accepted too); the rest is the body, copied into a buffer of exactly its
 * length (ASan catches any read past it). It aborts when the contract
 * breaks:
 *   - a return other than MP_OK, MP_ERR_INVAL or MP_ERR_NOMEM, or a
 *     refusal with an empty reason or records left in `out`;
 *   - a message form without the flag;
 *   - an accepted report with an empty org_name or report_id, begin after
 *     end, a policy or disposition outside none/quarantine/reject, an
 *     empty or upper-case domain or header_from, a source_ip that does not
 *     read back as an address, a count over the bound, a pass flag other
 *     than 0/1, or an auth result outside the enum.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_dmarc.h"

static void check_domain(const char *d)
{
    if (d[0] == '\0')
        abort();
    for (; *d; d++)
        if (isupper((unsigned char)*d))
            abort();
}

static void check_record(const struct ingest_dmarc_record *r)
{
    unsigned char a[16];
    if (inet_pton(strchr(r->source_ip, ':') ? AF_INET6 : AF_INET, r->source_ip, a) != 1)
        abort();
    if (r->count > INGEST_DMARC_MAX_COUNT || r->disposition > INGEST_DMARC_REJECT)
        abort();
    if (r->dkim_pass > 1 || r->spf_pass > 1)
        abort();
    if (r->auth_dkim > INGEST_DMARC_R_ABSENT || r->auth_spf > INGEST_DMARC_R_ABSENT)
        abort();
    check_domain(r->header_from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = (data[0] & 1) ? INGEST_DMARC_MIME : 0;
    char *body = malloc(size - 1 ? size - 1 : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, size - 1);
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    int rc = ingest_dmarc_parse(body, size - 1, flags, &r, err, sizeof(err));
    if (rc != MP_OK && rc != MP_ERR_INVAL && rc != MP_ERR_NOMEM)
        abort();
    if (rc != MP_OK && (err[0] == '\0' || r.n != 0))
        abort();
    if (rc == MP_OK) {
        if (r.form == INGEST_DMARC_MESSAGE && !flags)
            abort();
        if (!r.org_name[0] || !r.report_id[0] || r.begin_s > r.end_s)
            abort();
        if (r.policy > INGEST_DMARC_REJECT)
            abort();
        check_domain(r.domain);
        for (size_t i = 0; i < r.n; i++)
            check_record(&r.rec[i]);
    }
    ingest_dmarc_report_free(&r);
    free(body);
    return 0;
}
