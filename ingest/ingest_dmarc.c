/* ingest_dmarc.c — see ingest_dmarc.h. The XML walk over a libxml2 tree;
 * the envelope (gzip, zip, message) is ingest_dmarc_unwrap.c. */
#include "ingest_dmarc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ingest_dmarc_unwrap.h"

#define DM_PATH 256 /* an element path in a refusal */

/* The walk's state: the refusal is written once, at the first problem. */
struct dm_walk {
    struct ingest_dmarc_report *out;
    char *err;
    size_t errlen;
};

/* parent/name into dst (DM_PATH bytes); a longer path is cut. */
static void dm__join(char *dst, const char *parent, const char *name)
{
    if (snprintf(dst, DM_PATH, "%s/%s", parent, name) >= DM_PATH)
        dst[DM_PATH - 1] = '\0';
}

static int dm__refuse(struct dm_walk *w, const char *path, const char *why)
{
    snprintf(w->err, w->errlen, "%s: %s", path, why);
    return MP_ERR_INVAL;
}

/* The first element child of `n` whose local name is `name`. */
static xmlNode *dm__child(const xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The trimmed text of element `n` into buf (cap bytes with the NUL).
 * Only text and CDATA children count: entity references are not expanded.
 * 0, or -1 when longer than cap-1, -2 when it holds a control byte. */
static int dm__text(const xmlNode *n, char *buf, size_t cap)
{
    size_t len = 0;
    for (const xmlNode *c = n->children; c; c = c->next) {
        if ((c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE) || !c->content)
            continue;
        const char *s = (const char *)c->content;
        size_t sl = strlen(s);
        if (len + sl >= cap)
            return -1;
        memcpy(buf + len, s, sl);
        len += sl;
    }
    buf[len] = '\0';
    size_t a = 0;
    while (a < len && isspace((unsigned char)buf[a]))
        a++;
    while (len > a && isspace((unsigned char)buf[len - 1]))
        len--;
    memmove(buf, buf + a, len - a);
    buf[len - a] = '\0';
    for (const char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return -2;
    return 0;
}

/* A required text element `name` of `parent` (path is parent's path). */
static int dm__get(struct dm_walk *w, const xmlNode *parent, const char *ppath, const char *name,
                   char *buf, size_t cap)
{
    char path[DM_PATH];
    dm__join(path, ppath, name);
    const xmlNode *n = dm__child(parent, name);
    if (!n)
        return dm__refuse(w, path, "missing");
    int rc = dm__text(n, buf, cap);
    if (rc == -1) {
        char why[64];
        snprintf(why, sizeof(why), "longer than %zu bytes", cap - 1);
        return dm__refuse(w, path, why);
    }
    if (rc == -2)
        return dm__refuse(w, path, "holds a control character");
    if (buf[0] == '\0')
        return dm__refuse(w, path, "empty");
    return MP_OK;
}

static int dm__u64(const char *s, uint64_t max, uint64_t *v)
{
    if (!isdigit((unsigned char)s[0]))
        return -1;
    errno = 0;
    char *end;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || *end || x > max)
        return -1;
    *v = x;
    return 0;
}

/* A domain name: letters, digits, '-', '_' and '.', lower-cased in place. */
static int dm__domain(char *s)
{
    size_t n = strlen(s);
    if (n > 0 && s[n - 1] == '.')
        s[--n] = '\0';
    if (n == 0 || s[0] == '.' || strstr(s, ".."))
        return -1;
    for (char *p = s; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return -1;
    }
    return 0;
}

static int dm__get_domain(struct dm_walk *w, const xmlNode *parent, const char *ppath,
                          const char *name, char *buf)
{
    int rc = dm__get(w, parent, ppath, name, buf, INGEST_DMARC_DOMAIN_MAX + 1);
    if (rc == MP_OK && dm__domain(buf) != 0) {
        char path[DM_PATH];
        dm__join(path, ppath, name);
        return dm__refuse(w, path, "not a domain name");
    }
    return rc;
}

static int dm__disp(const char *s)
{
    static const char *const names[] = {"none", "quarantine", "reject"};
    for (int i = 0; i < 3; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *const dm_results[] = {"none",   "pass",      "fail",      "softfail", "neutral",
                                         "policy", "temperror", "permerror", "absent"};

static int dm__result(const char *s)
{
    for (int i = 0; i < INGEST_DMARC_R_ABSENT; i++)
        if (strcasecmp(s, dm_results[i]) == 0)
            return i;
    return -1;
}

static int dm__metadata(struct dm_walk *w, const xmlNode *root)
{
    const char *p = "feedback/report_metadata";
    const xmlNode *md = dm__child(root, "report_metadata");
    if (!md)
        return dm__refuse(w, p, "missing");
    struct ingest_dmarc_report *o = w->out;
    int rc = dm__get(w, md, p, "org_name", o->org_name, sizeof(o->org_name));
    if (rc == MP_OK)
        rc = dm__get(w, md, p, "report_id", o->report_id, sizeof(o->report_id));
    if (rc != MP_OK)
        return rc;
    const char *dp = "feedback/report_metadata/date_range";
    const xmlNode *dr = dm__child(md, "date_range");
    if (!dr)
        return dm__refuse(w, dp, "missing");
    char b[32], e[32];
    uint64_t bv, ev;
    if ((rc = dm__get(w, dr, dp, "begin", b, sizeof(b))) != MP_OK ||
        (rc = dm__get(w, dr, dp, "end", e, sizeof(e))) != MP_OK)
        return rc;
    if (dm__u64(b, INT64_MAX / 1000, &bv) != 0)
        return dm__refuse(w, "feedback/report_metadata/date_range/begin", "not a number");
    if (dm__u64(e, INT64_MAX / 1000, &ev) != 0)
        return dm__refuse(w, "feedback/report_metadata/date_range/end", "not a number");
    if (bv > ev)
        return dm__refuse(w, dp, "begin after end");
    o->begin_s = (int64_t)bv;
    o->end_s = (int64_t)ev;
    return MP_OK;
}

static int dm__policy(struct dm_walk *w, const xmlNode *root)
{
    const char *p = "feedback/policy_published";
    const xmlNode *pp = dm__child(root, "policy_published");
    if (!pp)
        return dm__refuse(w, p, "missing");
    int rc = dm__get_domain(w, pp, p, "domain", w->out->domain);
    char v[16];
    if (rc == MP_OK)
        rc = dm__get(w, pp, p, "p", v, sizeof(v));
    if (rc != MP_OK)
        return rc;
    int d = dm__disp(v);
    if (d < 0)
        return dm__refuse(w, "feedback/policy_published/p", "not none, quarantine or reject");
    w->out->policy = (uint8_t)d;
    return MP_OK;
}

/* auth_results/<name>: the first result, or pass when any passes. */
static int dm__auth(struct dm_walk *w, const xmlNode *ar, const char *ppath, const char *name,
                    uint8_t *res, char *domain)
{
    *res = INGEST_DMARC_R_ABSENT;
    domain[0] = '\0';
    int i = 0;
    for (const xmlNode *c = ar ? ar->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, name) != 0)
            continue;
        char path[DM_PATH], v[16], d[INGEST_DMARC_DOMAIN_MAX + 1];
        if (snprintf(path, sizeof(path), "%s/%s[%d]", ppath, name, i++) >= DM_PATH)
            path[DM_PATH - 1] = 0;
        int rc = dm__get(w, c, path, "result", v, sizeof(v));
        if (rc != MP_OK)
            return rc;
        int r = dm__result(v);
        if (r < 0)
            return dm__refuse(w, path, "result: unknown value");
        /* A domain is optional for our counts; keep it when it reads. */
        const xmlNode *dn = dm__child(c, "domain");
        if (!dn || dm__text(dn, d, sizeof(d)) != 0 || (d[0] && dm__domain(d) != 0))
            d[0] = '\0';
        if (*res == INGEST_DMARC_R_ABSENT || (r == INGEST_DMARC_R_PASS && *res != r)) {
            *res = (uint8_t)r;
            snprintf(domain, INGEST_DMARC_DOMAIN_MAX + 1, "%s", d);
        }
    }
    return MP_OK;
}

static int dm__pass_fail(struct dm_walk *w, const xmlNode *pe, const char *ppath,
                         const char *name, uint8_t *pass)
{
    char v[16], path[DM_PATH];
    int rc = dm__get(w, pe, ppath, name, v, sizeof(v));
    if (rc != MP_OK)
        return rc;
    dm__join(path, ppath, name);
    if (strcasecmp(v, "pass") == 0)
        *pass = 1;
    else if (strcasecmp(v, "fail") == 0)
        *pass = 0;
    else
        return dm__refuse(w, path, "not pass or fail");
    return MP_OK;
}

static int dm__row(struct dm_walk *w, const xmlNode *rec, const char *rp,
                   struct ingest_dmarc_record *r)
{
    char p[DM_PATH], v[48];
    dm__join(p, rp, "row");
    const xmlNode *row = dm__child(rec, "row");
    if (!row)
        return dm__refuse(w, p, "missing");
    int rc = dm__get(w, row, p, "source_ip", v, sizeof(v));
    if (rc != MP_OK)
        return rc;
    unsigned char a[16];
    char path[DM_PATH];
    dm__join(path, p, "source_ip");
    int af = strchr(v, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(af, v, a) != 1 || !inet_ntop(af, a, r->source_ip, sizeof(r->source_ip)))
        return dm__refuse(w, path, "not an IP address");
    if ((rc = dm__get(w, row, p, "count", v, sizeof(v))) != MP_OK)
        return rc;
    dm__join(path, p, "count");
    if (dm__u64(v, INGEST_DMARC_MAX_COUNT, &r->count) != 0)
        return dm__refuse(w, path, "not a number (0..1000000000)");
    char pp[DM_PATH];
    dm__join(pp, p, "policy_evaluated");
    const xmlNode *pe = dm__child(row, "policy_evaluated");
    if (!pe)
        return dm__refuse(w, pp, "missing");
    if ((rc = dm__get(w, pe, pp, "disposition", v, sizeof(v))) != MP_OK)
        return rc;
    int d = dm__disp(v);
    dm__join(path, pp, "disposition");
    if (d < 0)
        return dm__refuse(w, path, "not none, quarantine or reject");
    r->disposition = (uint8_t)d;
    if ((rc = dm__pass_fail(w, pe, pp, "dkim", &r->dkim_pass)) != MP_OK)
        return rc;
    return dm__pass_fail(w, pe, pp, "spf", &r->spf_pass);
}

static int dm__record(struct dm_walk *w, const xmlNode *rec, size_t i)
{
    char rp[DM_PATH];
    snprintf(rp, sizeof(rp), "feedback/record[%zu]", i);
    struct ingest_dmarc_record r = {0};
    int rc = dm__row(w, rec, rp, &r);
    if (rc != MP_OK)
        return rc;
    char p[DM_PATH];
    dm__join(p, rp, "identifiers");
    const xmlNode *id = dm__child(rec, "identifiers");
    if (!id)
        return dm__refuse(w, p, "missing");
    if ((rc = dm__get_domain(w, id, p, "header_from", r.header_from)) != MP_OK)
        return rc;
    dm__join(p, rp, "auth_results");
    const xmlNode *ar = dm__child(rec, "auth_results");
    if ((rc = dm__auth(w, ar, p, "dkim", &r.auth_dkim, r.dkim_domain)) != MP_OK ||
        (rc = dm__auth(w, ar, p, "spf", &r.auth_spf, r.spf_domain)) != MP_OK)
        return rc;
    struct ingest_dmarc_report *o = w->out;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 16;
        struct ingest_dmarc_record *nr = realloc(o->rec, cap * sizeof(*nr));
        if (!nr)
            return MP_ERR_NOMEM;
        o->rec = nr;
        o->cap = cap;
    }
    o->rec[o->n++] = r;
    return MP_OK;
}

static int dm__walk(struct dm_walk *w, const xmlNode *root)
{
    if (!root || strcmp((const char *)root->name, "feedback") != 0)
        return dm__refuse(w, "feedback", "missing (the root element is not <feedback>)");
    int rc = dm__metadata(w, root);
    if (rc == MP_OK)
        rc = dm__policy(w, root);
    size_t i = 0;
    for (const xmlNode *c = root->children; rc == MP_OK && c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE || strcmp((const char *)c->name, "record") != 0)
            continue;
        if (i >= INGEST_DMARC_MAX_RECORDS)
            return dm__refuse(w, "feedback/record", "more than 200000 records");
        rc = dm__record(w, c, i++);
    }
    return rc;
}

int ingest_dmarc_parse_xml(const char *xml, size_t len, struct ingest_dmarc_report *out,
                           char *err, size_t errlen)
{
    struct dm_walk w = {.out = out, .err = err, .errlen = errlen};
    out->n = 0;
    if (len > INGEST_DMARC_MAX_XML || len > (size_t)INT32_MAX)
        return dm__refuse(&w, "xml", "larger than 33554432 bytes");
    xmlParserCtxtPtr ctx = xmlNewParserCtxt();
    if (!ctx)
        return MP_ERR_NOMEM;
    /* NONET: no fetching; no NOENT/DTDLOAD/DTDATTR: entities stay
     * references and no external subset is read; NOERROR/NOWARNING: the
     * reason goes into err, not to stderr. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
    xmlDocPtr doc = xmlCtxtReadMemory(ctx, xml, (int)len, "report.xml", NULL, opts);
    int rc;
    if (!doc) {
        const xmlError *e = xmlCtxtGetLastError(ctx);
        char why[200];
        snprintf(why, sizeof(why), "not well-formed (line %d: %s)", e ? e->line : 0,
                 e && e->message ? e->message : "unreadable");
        /* libxml2's message ends in a newline: keep the reason one line */
        for (char *q = why; *q; q++)
            if (*q == '\n' || *q == '\r')
                *q = ' ';
        for (char *q; (q = strstr(why, " )")) != NULL;)
            memmove(q, q + 1, strlen(q));
        rc = dm__refuse(&w, "xml", why);
    } else if (doc->intSubset || doc->extSubset) {
        rc = dm__refuse(&w, "xml", "has a DOCTYPE (reports have none)");
    } else {
        rc = dm__walk(&w, xmlDocGetRootElement(doc));
    }
    if (rc != MP_OK)
        out->n = 0;
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctx);
    return rc;
}

static pthread_once_t dm_once = PTHREAD_ONCE_INIT;
void ingest_dmarc__gmime_init(void); /* ingest_dmarc_unwrap.c */

static void dm__init_once(void)
{
    xmlInitParser();
    ingest_dmarc__gmime_init();
}

int ingest_dmarc_init(void)
{
    pthread_once(&dm_once, dm__init_once);
    return MP_OK;
}

int ingest_dmarc_parse(const void *body, size_t len, unsigned flags,
                       struct ingest_dmarc_report *out, char *err, size_t errlen)
{
    out->n = 0;
    if (len > INGEST_DMARC_MAX_BODY) {
        snprintf(err, errlen, "body: larger than %u bytes", INGEST_DMARC_MAX_BODY);
        return MP_ERR_INVAL;
    }
    ingest_dmarc_init();
    int form = INGEST_DMARC_XML;
    char *xml = NULL;
    size_t xl = 0;
    int rc = ingest_dmarc_unwrap(body, len, (flags & INGEST_DMARC_MIME) != 0, &form, &xml, &xl,
                                 err, errlen);
    if (rc == MP_OK)
        rc = ingest_dmarc_parse_xml(xml, xl, out, err, errlen);
    out->form = (uint8_t)form;
    free(xml);
    return rc;
}

void ingest_dmarc_report_free(struct ingest_dmarc_report *out)
{
    free(out->rec);
    out->rec = NULL;
    out->n = out->cap = 0;
}

const char *ingest_dmarc_disp_name(int disp)
{
    static const char *const names[] = {"none", "quarantine", "reject"};
    return disp >= 0 && disp < 3 ? names[disp] : "unknown";
}

const char *ingest_dmarc_form_name(int form)
{
    static const char *const names[] = {"xml", "gzip", "zip", "message"};
    return form >= 0 && form < 4 ? names[form] : "unknown";
}

const char *ingest_dmarc_result_name(int result)
{
    return result >= 0 && result <= INGEST_DMARC_R_ABSENT ? dm_results[result] : "unknown";
}
