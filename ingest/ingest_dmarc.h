/* ingest_dmarc.h — DMARC aggregate reports (RFC 7489 appendix C) read into
 * a flat struct: the report's metadata, the published policy and its
 * records.
 *
 * Contract: ingest_dmarc_parse() takes one whole intake body — the report
 * XML itself, a gzip or zip archive holding it, or (with
 * INGEST_DMARC_MIME) a whole mail message carrying one of those as an
 * attachment — and fills `out`, or refuses the whole body with
 * MP_ERR_INVAL and a reason in `err` naming the element
 * ("feedback/report_metadata/report_id: missing",
 * "feedback/record[3]/row/count: not a number", "gzip: corrupt data").
 * Nothing is half-read: on a refusal `out` holds no records. The form the
 * body came in is left in out->form. MP_ERR_NOMEM when memory ran out.
 *
 * The XML is read by libxml2 from memory with XML_PARSE_NONET and without
 * entity substitution or DTD loading; a document with a DOCTYPE is refused
 * (reports have none, and it is where entity tricks live). Element names
 * match by local name, so the namespaced form of newer reporters reads the
 * same. Sizes are bounded: INGEST_DMARC_MAX_BODY bytes in,
 * INGEST_DMARC_MAX_XML bytes of XML after unwrapping (a gzip or zip bomb
 * stops there), INGEST_DMARC_MAX_RECORDS records.
 *
 * What is checked: org_name and report_id non-empty printable text within
 * their sizes; begin <= end, both Unix seconds; policy_published/domain
 * and each header_from a domain name (lower-cased on the way in); p one of
 * none/quarantine/reject; source_ip an IPv4 or IPv6 address (kept in its
 * canonical text); count a whole number; disposition none/quarantine/
 * reject; policy_evaluated dkim/spf pass or fail. auth_results keeps the
 * first dkim and spf result (pass when any pass) with its domain.
 * DMARC pass for a record is policy_evaluated dkim == pass or spf == pass
 * (both are the aligned results): ingest_dmarc_record_pass().
 *
 * Threads: call ingest_dmarc_init() once (any thread, idempotent: it
 * initialises libxml2 and GMime); then ingest_dmarc_parse() from any
 * thread. `out` is the caller's, freed with ingest_dmarc_report_free()
 * whatever the result.
 */
#ifndef INGEST_DMARC_H
#define INGEST_DMARC_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define INGEST_DMARC_MAX_BODY (16u << 20)   /* bytes of one intake body */
#define INGEST_DMARC_MAX_XML (32u << 20)    /* bytes of XML after unwrapping */
#define INGEST_DMARC_MAX_RECORDS 200000     /* records in one report */
#define INGEST_DMARC_MAX_COUNT 1000000000ULL /* a record's message count */
#define INGEST_DMARC_ORG_MAX 128
#define INGEST_DMARC_ID_MAX 256
#define INGEST_DMARC_DOMAIN_MAX 253

/* ingest_dmarc_parse() flags */
#define INGEST_DMARC_MIME 1u /* a mail message is accepted too */

/* Fixed numbers: they reach the store (ingest/ingest_dmarc users). */
enum ingest_dmarc_form { INGEST_DMARC_XML = 0, INGEST_DMARC_GZIP = 1, INGEST_DMARC_ZIP = 2,
                         INGEST_DMARC_MESSAGE = 3 };
enum ingest_dmarc_disp { INGEST_DMARC_NONE = 0, INGEST_DMARC_QUARANTINE = 1,
                         INGEST_DMARC_REJECT = 2 };
/* auth_results results (RFC 7489 appendix C DKIMResultType/SPFResultType) */
enum ingest_dmarc_result { INGEST_DMARC_R_NONE = 0, INGEST_DMARC_R_PASS = 1,
                           INGEST_DMARC_R_FAIL = 2, INGEST_DMARC_R_SOFTFAIL = 3,
                           INGEST_DMARC_R_NEUTRAL = 4, INGEST_DMARC_R_POLICY = 5,
                           INGEST_DMARC_R_TEMPERROR = 6, INGEST_DMARC_R_PERMERROR = 7,
                           INGEST_DMARC_R_ABSENT = 8 /* no such element */ };

struct ingest_dmarc_record {
    char source_ip[46];
    uint64_t count;
    uint8_t disposition; /* enum ingest_dmarc_disp */
    uint8_t dkim_pass;   /* policy_evaluated/dkim == pass (aligned) */
    uint8_t spf_pass;    /* policy_evaluated/spf == pass (aligned) */
    uint8_t auth_dkim;   /* enum ingest_dmarc_result, auth_results/dkim */
    uint8_t auth_spf;    /* enum ingest_dmarc_result, auth_results/spf */
    char header_from[INGEST_DMARC_DOMAIN_MAX + 1];
    char dkim_domain[INGEST_DMARC_DOMAIN_MAX + 1]; /* "" when absent */
    char spf_domain[INGEST_DMARC_DOMAIN_MAX + 1];
};

struct ingest_dmarc_report {
    uint8_t form; /* enum ingest_dmarc_form: what the body was */
    char org_name[INGEST_DMARC_ORG_MAX + 1];
    char report_id[INGEST_DMARC_ID_MAX + 1];
    int64_t begin_s, end_s; /* date_range, Unix seconds */
    char domain[INGEST_DMARC_DOMAIN_MAX + 1]; /* policy_published/domain */
    uint8_t policy;                            /* enum ingest_dmarc_disp: p */
    struct ingest_dmarc_record *rec;
    size_t n, cap;
};

int ingest_dmarc_init(void);
int ingest_dmarc_parse(const void *body, size_t len, unsigned flags,
                       struct ingest_dmarc_report *out, char *err, size_t errlen);
/* The XML step alone (the archive step is ingest_dmarc_unwrap.h). */
int ingest_dmarc_parse_xml(const char *xml, size_t len, struct ingest_dmarc_report *out,
                           char *err, size_t errlen);
void ingest_dmarc_report_free(struct ingest_dmarc_report *out);

static inline int ingest_dmarc_record_pass(const struct ingest_dmarc_record *r)
{
    return r->dkim_pass || r->spf_pass;
}

const char *ingest_dmarc_disp_name(int disp);     /* "none", "quarantine", "reject" */
const char *ingest_dmarc_form_name(int form);     /* "xml", "gzip", "zip", "message" */
const char *ingest_dmarc_result_name(int result); /* "pass", "fail", ... "absent" */

#endif
