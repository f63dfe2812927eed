/* test_ingest_dmarc.c — ingest/ingest_dmarc.c and ingest_dmarc_unwrap.c:
 * the reporters' real shapes (Google zip, Microsoft gzip, Yahoo zip, and
 * each inside a mail message), the same report through every envelope,
 * the refusals with their reasons, and the envelope's bounds (a gzip bomb
 * stops at the limit, a DOCTYPE is refused). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "check_main.h"
#include "dmarc_fixture.h"
#include "ingest_dmarc.h"

static int parse_fx(const char *name, unsigned flags, struct ingest_dmarc_report *r, char *err)
{
    size_t len;
    char *b = dfx_load(name, &len);
    int rc = ingest_dmarc_parse(b, len, flags, r, err, 256);
    free(b);
    return rc;
}

/* Reads fixture `name` into *r; it must read, with no error text and at
 * least one record. */
static void must_read(const char *name, unsigned flags, struct ingest_dmarc_report *r)
{
    char err[256] = "";
    ck_assert_msg(parse_fx(name, flags, r, err) == MP_OK, "%s: %s", name, err);
    ck_assert_str_eq(err, "");
    ck_assert_uint_gt(r->n, 0);
}

static void must_reject(const char *body, unsigned flags, const char *why)
{
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    ck_assert_int_eq(ingest_dmarc_parse(body, strlen(body), flags, &r, err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_msg(strstr(err, why) != NULL, "err \"%s\" lacks \"%s\"", err, why);
    ck_assert_uint_eq(r.n, 0);
    ingest_dmarc_report_free(&r);
}

START_TEST(google_report_reads)
{
    struct ingest_dmarc_report r = {0};
    must_read("google_acme.xml", 0, &r);
    ck_assert_int_eq(r.form, INGEST_DMARC_XML);
    ck_assert_str_eq(r.org_name, "google.com");
    ck_assert_str_eq(r.report_id, "9391651994964116463");
    ck_assert_int_eq(r.begin_s, 1764547200);
    ck_assert_int_eq(r.end_s, 1764633599);
    ck_assert_str_eq(r.domain, "acme.example");
    ck_assert_int_eq(r.policy, INGEST_DMARC_NONE);
    ck_assert_uint_eq(r.n, 3);
    ck_assert_str_eq(r.rec[0].source_ip, "192.0.2.10");
    ck_assert_uint_eq(r.rec[0].count, 120);
    ck_assert(ingest_dmarc_record_pass(&r.rec[0]));
    ck_assert_int_eq(r.rec[0].auth_dkim, INGEST_DMARC_R_PASS);
    ck_assert_str_eq(r.rec[0].dkim_domain, "acme.example");
    /* IPv6 in its canonical text; aligned SPF alone is a DMARC pass even
     * though the DKIM signature (another domain's) passed unaligned */
    ck_assert_str_eq(r.rec[1].source_ip, "2001:db8::25");
    ck_assert(!r.rec[1].dkim_pass && r.rec[1].spf_pass);
    ck_assert(ingest_dmarc_record_pass(&r.rec[1]));
    ck_assert_int_eq(r.rec[1].auth_dkim, INGEST_DMARC_R_PASS);
    ck_assert_str_eq(r.rec[1].dkim_domain, "esp.example");
    /* header_from lower-cased; no dkim element: absent */
    ck_assert_str_eq(r.rec[2].header_from, "mail.acme.example");
    ck_assert(!ingest_dmarc_record_pass(&r.rec[2]));
    ck_assert_int_eq(r.rec[2].auth_dkim, INGEST_DMARC_R_ABSENT);
    ck_assert_int_eq(r.rec[2].auth_spf, INGEST_DMARC_R_SOFTFAIL);
    ck_assert_str_eq(ingest_dmarc_result_name(r.rec[2].auth_spf), "softfail");
    ingest_dmarc_report_free(&r);
}
END_TEST

START_TEST(microsoft_and_yahoo_read)
{
    struct ingest_dmarc_report r = {0};
    must_read("microsoft_acme.xml.gz", 0, &r);
    ck_assert_int_eq(r.form, INGEST_DMARC_GZIP);
    ck_assert_str_eq(r.org_name, "Enterprise Outlook");
    ck_assert_int_eq(r.policy, INGEST_DMARC_QUARANTINE);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(r.rec[1].disposition, INGEST_DMARC_QUARANTINE);
    ck_assert_int_eq(r.rec[1].auth_dkim, INGEST_DMARC_R_ABSENT);
    ck_assert_int_eq(r.rec[1].auth_spf, INGEST_DMARC_R_FAIL);
    ck_assert_str_eq(r.rec[1].spf_domain, "bulk.example");
    ingest_dmarc_report_free(&r);
    must_read("yahoo_beta.zip", 0, &r);
    ck_assert_int_eq(r.form, INGEST_DMARC_ZIP);
    ck_assert_str_eq(r.org_name, "Yahoo");
    ck_assert_str_eq(r.domain, "beta.example");
    ck_assert_int_eq(r.policy, INGEST_DMARC_REJECT);
    ck_assert_uint_eq(r.n, 2);
    ck_assert_int_eq(r.rec[0].disposition, INGEST_DMARC_REJECT);
    /* two dkim results, neither a pass: the first is kept */
    ck_assert_int_eq(r.rec[0].auth_dkim, INGEST_DMARC_R_FAIL);
    ck_assert(r.rec[1].dkim_pass && !r.rec[1].spf_pass);
    ingest_dmarc_report_free(&r);
}
END_TEST

/* The same report through each envelope reads the same. */
START_TEST(every_envelope_same_report)
{
    static const struct {
        const char *name;
        unsigned flags;
        int form;
    } rows[] = {{"google_acme.xml", 0, INGEST_DMARC_XML},
                {"google_acme.zip", 0, INGEST_DMARC_ZIP},
                {"google_acme.eml", INGEST_DMARC_MIME, INGEST_DMARC_MESSAGE},
                {"microsoft_acme.xml", 0, INGEST_DMARC_XML},
                {"microsoft_acme.xml.gz", 0, INGEST_DMARC_GZIP},
                {"microsoft_acme.eml", INGEST_DMARC_MIME, INGEST_DMARC_MESSAGE}};
    struct ingest_dmarc_report base = {0};
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct ingest_dmarc_report r = {0};
        char err[256] = "";
        ck_assert_msg(parse_fx(rows[i].name, rows[i].flags, &r, err) == MP_OK, "%s: %s",
                      rows[i].name, err);
        ck_assert_int_eq(r.form, rows[i].form);
        if (i % 3 == 0) {
            ingest_dmarc_report_free(&base);
            base = r;
            continue;
        }
        ck_assert_str_eq(r.report_id, base.report_id);
        ck_assert_uint_eq(r.n, base.n);
        ck_assert(memcmp(r.rec, base.rec, r.n * sizeof(*r.rec)) == 0);
        ingest_dmarc_report_free(&r);
    }
    ingest_dmarc_report_free(&base);
}
END_TEST

/* A message is read only when asked for. */
START_TEST(message_needs_the_flag)
{
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    ck_assert_int_eq(parse_fx("google_acme.eml", 0, &r, err), MP_ERR_INVAL);
    ck_assert_str_eq(err, "body: not XML, gzip or zip");
    must_reject("From: a@b.example\r\nSubject: hi\r\n\r\nno attachment\r\n", INGEST_DMARC_MIME,
                "message: no report attachment");
    must_reject("From: a@b.example\r\nContent-Type: text/xml\r\n\r\nnot xml\r\n",
                INGEST_DMARC_MIME, "message: the attachment is not XML, gzip or zip");
    ingest_dmarc_report_free(&r);
}
END_TEST

#define HEAD "<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>" \
             "<date_range><begin>10</begin><end>20</end></date_range></report_metadata>"
#define POL "<policy_published><domain>acme.example</domain><p>none</p></policy_published>"
#define ROW(ip, count, disp, dkim, spf)                                                    \
    "<record><row><source_ip>" ip "</source_ip><count>" count "</count><policy_evaluated>" \
    "<disposition>" disp "</disposition><dkim>" dkim "</dkim><spf>" spf "</spf>"           \
    "</policy_evaluated></row><identifiers><header_from>acme.example</header_from>"        \
    "</identifiers></record>"

static const struct {
    const char *body, *why;
} refusals[] = {
    {"<feedback><report_metadata><org_name>o</org_name></report_metadata></feedback>",
     "feedback/report_metadata/report_id: missing"},
    {"<feedback><report_metadata><org_name> </org_name><report_id>1</report_id>"
     "</report_metadata></feedback>",
     "feedback/report_metadata/org_name: empty"},
    {"<feedback>" POL "</feedback>", "feedback/report_metadata: missing"},
    {"<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
     "<date_range><begin>30</begin><end>20</end></date_range></report_metadata>" POL
     "</feedback>",
     "feedback/report_metadata/date_range: begin after end"},
    {"<feedback><report_metadata><org_name>o</org_name><report_id>1</report_id>"
     "<date_range><begin>-1</begin><end>20</end></date_range></report_metadata>" POL
     "</feedback>",
     "feedback/report_metadata/date_range/begin: not a number"},
    {HEAD "</feedback>", "feedback/policy_published: missing"},
    {HEAD "<policy_published><domain>acme example</domain><p>none</p></policy_published>"
          "</feedback>",
     "feedback/policy_published/domain: not a domain name"},
    {HEAD "<policy_published><domain>acme.example</domain><p>maybe</p></policy_published>"
          "</feedback>",
     "feedback/policy_published/p: not none, quarantine or reject"},
    {HEAD POL ROW("192.0.2.1", "1", "none", "pass", "pass") ROW("192.0.2.300", "1", "none",
                                                                "pass", "pass") "</feedback>",
     "feedback/record[1]/row/source_ip: not an IP address"},
    {HEAD POL ROW("192.0.2.1", "many", "none", "pass", "pass") "</feedback>",
     "feedback/record[0]/row/count: not a number"},
    {HEAD POL ROW("192.0.2.1", "1000000001", "none", "pass", "pass") "</feedback>",
     "feedback/record[0]/row/count: not a number"},
    {HEAD POL ROW("192.0.2.1", "1", "bounce", "pass", "pass") "</feedback>",
     "feedback/record[0]/row/policy_evaluated/disposition: not none, quarantine or reject"},
    {HEAD POL ROW("192.0.2.1", "1", "none", "maybe", "pass") "</feedback>",
     "feedback/record[0]/row/policy_evaluated/dkim: not pass or fail"},
    {HEAD POL "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
              "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
              "<spf>pass</spf></policy_evaluated></row></record></feedback>",
     "feedback/record[0]/identifiers: missing"},
    {HEAD POL "<record><row><source_ip>192.0.2.1</source_ip><count>1</count>"
              "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
              "<spf>pass</spf></policy_evaluated></row><identifiers><header_from>"
              "acme.example</header_from></identifiers><auth_results><dkim><result>odd"
              "</result></dkim></auth_results></record></feedback>",
     "feedback/record[0]/auth_results/dkim[0]: result: unknown value"},
    {"<report/>", "feedback: missing (the root element is not <feedback>)"},
    {"<feedback><report_metadata>", "xml: not well-formed (line 1"},
    {"<?xml version=\"1.0\"?><!DOCTYPE feedback [<!ENTITY a \"aaaa\">]>"
     "<feedback>&a;</feedback>",
     "xml: has a DOCTYPE (reports have none)"},
    {"\x1f\x8b\x08\x00\x00\x00\x00\x00", "gzip: truncated"},
    {"\x1f\x8bnot gzip at all", "gzip: corrupt data"},
    {"PK\x03\x04 not really a zip", "zip: "},
    {"hello", "body: not XML, gzip or zip"},
    {"", "body: not XML, gzip or zip"},
};

START_TEST(refusals_name_the_element)
{
    must_reject(refusals[_i].body, 0, refusals[_i].why);
}
END_TEST

START_TEST(namespaced_report_reads)
{
    const char *x =
        "<?xml version=\"1.0\"?><feedback xmlns=\"urn:ietf:params:xml:ns:dmarc-2.0\">"
        "<report_metadata><org_name>Mail.Ru</org_name><report_id><![CDATA[r-1]]></report_id>"
        "<date_range><begin>10</begin><end>20</end></date_range></report_metadata>" POL
        ROW("192.0.2.1", "0", "reject", "fail", "fail") "</feedback>";
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    ck_assert_int_eq(ingest_dmarc_parse(x, strlen(x), 0, &r, err, sizeof(err)), MP_OK);
    ck_assert_str_eq(r.report_id, "r-1");
    ck_assert_uint_eq(r.n, 1);
    ck_assert_uint_eq(r.rec[0].count, 0);
    ck_assert_int_eq(r.rec[0].auth_dkim, INGEST_DMARC_R_ABSENT); /* no auth_results */
    ingest_dmarc_report_free(&r);
}
END_TEST

/* 40 MB of spaces after a valid start, gzip'd to a few tens of KB: the
 * inflater stops at the bound instead of after it. */
START_TEST(gzip_bomb_stops_at_the_bound)
{
    size_t n = 40u << 20;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', n);
    memcpy(big, "<feedback>", 10);
    uLongf zl = compressBound(n) + 64;
    unsigned char *z = malloc(zl);
    ck_assert_ptr_nonnull(z);
    z_stream zs = {0};
    ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY),
                     Z_OK);
    zs.next_in = (unsigned char *)big;
    zs.avail_in = (uInt)n;
    zs.next_out = z;
    zs.avail_out = (uInt)zl;
    ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t glen = zs.total_out;
    deflateEnd(&zs);
    ck_assert_uint_lt(glen, 1u << 20);
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    ck_assert_int_eq(ingest_dmarc_parse(z, glen, 0, &r, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_str_eq(err, "gzip: larger than 33554432 bytes after unwrapping");
    ingest_dmarc_report_free(&r);
    free(z);
    free(big);
}
END_TEST

START_TEST(body_over_the_limit)
{
    struct ingest_dmarc_report r = {0};
    char err[256] = "";
    ck_assert_int_eq(ingest_dmarc_parse("<", INGEST_DMARC_MAX_BODY + 1, 0, &r, err, sizeof(err)),
                     MP_ERR_INVAL);
    ck_assert_str_eq(err, "body: larger than 16777216 bytes");
}
END_TEST

CHECK_SUITE_TABLES("ingest_dmarc", 60, NULL, NULL,
                   CHECK_TESTS(google_report_reads, microsoft_and_yahoo_read,
                               every_envelope_same_report, message_needs_the_flag,
                               namespaced_report_reads, gzip_bomb_stops_at_the_bound,
                               body_over_the_limit),
                   CHECK_LOOPS(CHECK_LOOP(refusals_name_the_element, refusals)))
