/* mp_dmarc.c — see mp_dmarc.h. */
#include "mp_dmarc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "eng_dmarc.h"
#include "eng_name.h"
#include "ingest_dmarc.h"
#include "mp_atomic.h"
#include "mp_config_gate.h"
#include "mp_log.h"
#include "mp_stats.h"

enum { DM_ENVELOPE, DM_XML, DM_REPORT, DM_TENANT, DM_STORE, DM_NREASONS };
static const char *const dm_reasons[DM_NREASONS] = {"envelope", "xml", "report", "tenant",
                                                    "store"};

struct mp_dmarc {
    struct eng_dmarc *d;
    const struct mp_config *cfg;
    struct mp_dmarc_rules *rules; /* borrowed; NULL: no DMARC rules run */
    /* One report read at a time: libxml2's tree of a report takes about
     * 20 times the XML's size (a 32 MiB report some 600 MB), and reports
     * come a few a day per domain, so waiting costs nothing. */
    pthread_mutex_t parse_mu;
    mp_atomic_u64 counted, duplicate, refused[DM_NREASONS];
};

int mp_dmarc_create(struct eng_store *s, const struct mp_config *cfg,
                    struct mp_dmarc_rules *rules, struct mp_dmarc **out)
{
    struct mp_dmarc *m = calloc(1, sizeof(*m));
    if (!m)
        return MP_ERR_NOMEM;
    m->cfg = cfg;
    m->rules = rules;
    pthread_mutex_init(&m->parse_mu, NULL);
    int rc = ingest_dmarc_init();
    if (rc == MP_OK)
        rc = eng_dmarc_open(s, cfg ? cfg->dmarc_retention_days : 0, &m->d);
    if (rc != MP_OK) {
        pthread_mutex_destroy(&m->parse_mu);
        free(m);
        return rc;
    }
    *out = m;
    return MP_OK;
}

void mp_dmarc_destroy(struct mp_dmarc *m)
{
    if (!m)
        return;
    eng_dmarc_close(m->d);
    pthread_mutex_destroy(&m->parse_mu);
    free(m);
}

/* The refusal's label from the reader's reason (its first path step). */
static int dm__reason(const char *err)
{
    if (strncmp(err, "xml:", 4) == 0)
        return DM_XML;
    if (strncmp(err, "feedback", 8) == 0)
        return DM_REPORT;
    return DM_ENVELOPE;
}

static void dm__refuse(struct mp_dmarc *m, int reason, int status, const char *msg,
                       struct mp_http_reply *out)
{
    mp_add_relaxed(&m->refused[reason], 1);
    mp_http_error(out, status, msg);
}

/* A 200 JSON body (500 without memory), as the stats routes render. */
static void dm__json(json_t *j, struct mp_http_reply *out)
{
    mp_stats_render(MP_OK, j, out);
}

/* The report's tenant, or NULL after answering 400/403. */
static const char *dm__tenant(struct mp_dmarc *m, const char *only, const char *domain,
                              struct mp_http_reply *out)
{
    char msg[512];
    const char *t = m->cfg ? mp_config_gate_tenant(&m->cfg->gate, domain, NULL) : NULL;
    if (only && t && strcmp(t, only) != 0) {
        snprintf(msg, sizeof(msg),
                 "feedback/policy_published/domain: %s is not this token's tenant's", domain);
        dm__refuse(m, DM_TENANT, 403, msg, out);
        return NULL;
    }
    if (!t)
        t = only ? only : (m->cfg ? m->cfg->dmarc_tenant : NULL);
    if (!t) {
        snprintf(msg, sizeof(msg),
                 "feedback/policy_published/domain: %s is in no tenant's gate.tenants list "
                 "(and dmarc.tenant is not set)",
                 domain);
        dm__refuse(m, DM_TENANT, 400, msg, out);
    }
    return t;
}

/* The report's records as count rows (one per record), their messages. */
static struct eng_dmarc_row *dm__rows(const struct ingest_dmarc_report *r, uint64_t *messages)
{
    struct eng_dmarc_row *rows = calloc(r->n ? r->n : 1, sizeof(*rows));
    char provider[33];
    eng_dmarc_provider(r->org_name, provider);
    int64_t day = (r->begin_s + (r->end_s - r->begin_s) / 2) / 86400;
    *messages = 0;
    for (size_t i = 0; rows && i < r->n; i++) {
        const struct ingest_dmarc_record *rec = &r->rec[i];
        struct eng_dmarc_row *w = &rows[i];
        uint64_t n = rec->count;
        w->day = day;
        snprintf(w->domain, sizeof(w->domain), "%s", rec->header_from);
        snprintf(w->provider, sizeof(w->provider), "%s", provider);
        snprintf(w->ip, sizeof(w->ip), "%s", rec->source_ip);
        w->c[ENG_DMARC_MESSAGES] = n;
        w->c[ingest_dmarc_record_pass(rec) ? ENG_DMARC_PASS : ENG_DMARC_FAIL] = n;
        w->c[rec->dkim_pass ? ENG_DMARC_DKIM_PASS : ENG_DMARC_DKIM_FAIL] = n;
        w->c[rec->spf_pass ? ENG_DMARC_SPF_PASS : ENG_DMARC_SPF_FAIL] = n;
        w->c[ENG_DMARC_DISP_NONE + rec->disposition] = n;
        *messages += n;
    }
    return rows;
}

static int dm__is_message(const struct mp_http_request *req)
{
    const char *ct = mp_http_header(req, "Content-Type");
    return ct && strncasecmp(ct, "message/rfc822", 14) == 0;
}

static void dm__answer(const struct ingest_dmarc_report *r, const char *tenant, int dup,
                       uint64_t messages, struct mp_http_reply *out)
{
    char provider[33];
    eng_dmarc_provider(r->org_name, provider);
    dm__json(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "status",
                       dup ? "duplicate" : "counted", "tenant", tenant, "domain", r->domain,
                       "org_name", r->org_name, "provider", provider, "report_id", r->report_id,
                       "form", ingest_dmarc_form_name(r->form), "records", (json_int_t)r->n,
                       "messages", (json_int_t)messages),
             out);
}

void mp_dmarc_post(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                   struct mp_http_reply *out)
{
    struct ingest_dmarc_report r = {0};
    char err[512] = "";
    unsigned flags = dm__is_message(req) ? INGEST_DMARC_MIME : 0;
    pthread_mutex_lock(&m->parse_mu);
    int rc = ingest_dmarc_parse(req->body ? req->body : "", req->body_len, flags, &r, err,
                                sizeof(err));
    pthread_mutex_unlock(&m->parse_mu);
    if (rc == MP_ERR_NOMEM) {
        mp_http_error(out, 500, "out of memory");
    } else if (rc != MP_OK) {
        dm__refuse(m, dm__reason(err), 400, err, out);
    } else if (r.end_s > mp_now_ms() / 1000 + MP_DMARC_FUTURE_S) {
        /* a far-future range would count on a day to come and push the
         * retention's cut past every real day */
        dm__refuse(m, DM_REPORT, 400,
                   "feedback/report_metadata/date_range/end: more than 2 days in the future",
                   out);
    } else {
        const char *tenant = dm__tenant(m, only, r.domain, out);
        uint64_t messages = 0;
        struct eng_dmarc_row *rows = tenant ? dm__rows(&r, &messages) : NULL;
        rc = rows ? eng_dmarc_apply(m->d, r.org_name, r.report_id, tenant, rows, r.n)
                  : MP_ERR_NOMEM;
        if (!tenant) {
            /* answered */
        } else if (rc == MP_OK || rc == ENG_DMARC_DUP) {
            mp_add_relaxed(rc == MP_OK ? &m->counted : &m->duplicate, 1);
            mp_info("dmarc_report result=%s tenant=%s org=%s report_id=%s records=%zu "
                    "messages=%llu",
                    rc == MP_OK ? "counted" : "duplicate", tenant, MP_LOG_Q(r.org_name),
                    MP_LOG_Q(r.report_id), r.n, (unsigned long long)messages);
            if (rc == MP_OK)
                mp_dmarc_rules_report(m->rules, tenant);
            dm__answer(&r, tenant, rc == ENG_DMARC_DUP, messages, out);
        } else if (rc == MP_ERR_NOMEM) {
            mp_http_error(out, 500, "out of memory");
        } else {
            dm__refuse(m, DM_STORE, 500, "the store refused the write; nothing was counted",
                       out);
        }
        free(rows);
    }
    ingest_dmarc_report_free(&r);
}

/* ---- reading ------------------------------------------------------------ */

static void dm__counts(json_t *o, const uint64_t *c)
{
    for (int i = 0; i < ENG_DMARC_NCOUNTS; i++)
        json_object_set_new(o, eng_dmarc_count_name(i), json_integer((json_int_t)c[i]));
    static const struct {
        const char *name;
        int fail;
    } rates[] = {{"dmarc_fail_rate", ENG_DMARC_FAIL},
                 {"dkim_fail_rate", ENG_DMARC_DKIM_FAIL},
                 {"spf_fail_rate", ENG_DMARC_SPF_FAIL}};
    double n = (double)c[ENG_DMARC_MESSAGES];
    for (size_t i = 0; i < MP_ARRAY_LEN(rates); i++)
        json_object_set_new(o, rates[i].name,
                            n > 0 ? json_real((double)c[rates[i].fail] / n) : json_null());
}

/* Per (domain, provider) sums, in first-seen order (small: a tenant's
 * sending domains times the reporters). */
struct dm_group {
    char domain[254], provider[33];
    uint64_t c[ENG_DMARC_NCOUNTS];
};

struct dm_read {
    uint64_t total[ENG_DMARC_NCOUNTS];
    struct dm_group *g;
    size_t ng, capg;
    json_t *sources;
    int nomem;
};

static int dm__read_cb(void *arg, const struct eng_dmarc_row *row)
{
    struct dm_read *rd = arg;
    size_t i = 0;
    while (i < rd->ng && (strcmp(rd->g[i].domain, row->domain) ||
                          strcmp(rd->g[i].provider, row->provider)))
        i++;
    if (i == rd->ng) {
        if (rd->ng == rd->capg) {
            size_t cap = rd->capg ? rd->capg * 2 : 16;
            struct dm_group *ng = realloc(rd->g, cap * sizeof(*ng));
            if (!ng) {
                rd->nomem = 1;
                return 1;
            }
            rd->g = ng;
            rd->capg = cap;
        }
        rd->g[i] = (struct dm_group){0};
        memcpy(rd->g[i].domain, row->domain, sizeof(row->domain));
        memcpy(rd->g[i].provider, row->provider, sizeof(row->provider));
        rd->ng++;
    }
    for (int c = 0; c < ENG_DMARC_NCOUNTS; c++) {
        rd->g[i].c[c] += row->c[c];
        rd->total[c] += row->c[c];
    }
    if (rd->sources && json_array_size(rd->sources) < MP_DMARC_SOURCES_MAX) {
        char day[16];
        time_t t = (time_t)(row->day * 86400);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(day, sizeof(day), "%Y-%m-%d", &tm);
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "day", day, "domain", row->domain,
                              "provider", row->provider, "ip", row->ip);
        if (o)
            dm__counts(o, row->c);
        json_array_append_new(rd->sources, o);
    }
    return 0;
}

/* {tenant} of /v1/tenants/{tenant}/<last> into t, or -1 after a 400/404. */
static int dm__path_tenant(const char *path, const char *only, char t[65],
                           struct mp_http_reply *out)
{
    const char *p = path + strlen(MP_STATS_PREFIX), *slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : 0;
    char msg[256];
    if (!slash || !eng_name_valid(p, n)) {
        mp_http_error(out, 400, "bad tenant name; allowed: " ENG_NAME_GRAMMAR);
        return -1;
    }
    memcpy(t, p, n);
    t[n] = '\0';
    if (only && strcmp(only, t) != 0) {
        snprintf(msg, sizeof(msg), MP_STATS_UNKNOWN_TENANT, t);
        mp_http_error(out, 404, msg);
        return -1;
    }
    return 0;
}

static int dm__days(const struct mp_http_request *req, int *days, struct mp_http_reply *out)
{
    *days = 7;
    for (size_t i = 0; i < req->nargs; i++) {
        const char *v = req->args[i].value;
        if (strcmp(req->args[i].name, "days") != 0 || !v || !*v || strlen(v) > 4 ||
            strspn(v, "0123456789") != strlen(v) || atoi(v) < 1 || atoi(v) > 3660) {
            mp_http_error(out, 400, "bad or repeated query parameter; allowed: days=1..3660");
            return -1;
        }
        *days = atoi(v);
    }
    return 0;
}

void mp_dmarc_stats(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                    struct mp_http_reply *out)
{
    char t[65], from[16], to[16];
    int days;
    if (dm__path_tenant(req->path, only, t, out) != 0 || dm__days(req, &days, out) != 0)
        return;
    int64_t today = mp_now_ms() / 86400000LL, lo = today - days + 1;
    struct dm_read rd = {.sources = json_array()};
    int rc = eng_dmarc_scan(m->d, t, lo, today, dm__read_cb, &rd);
    json_t *j = NULL, *doms = json_array(), *tot = json_object();
    for (size_t i = 0; doms && i < rd.ng; i++) {
        json_t *o = json_pack("{s:s, s:s}", "domain", rd.g[i].domain, "provider",
                              rd.g[i].provider);
        if (o)
            dm__counts(o, rd.g[i].c);
        json_array_append_new(doms, o);
    }
    if (tot)
        dm__counts(tot, rd.total);
    time_t a = (time_t)(lo * 86400), b = (time_t)(today * 86400);
    struct tm tm;
    strftime(from, sizeof(from), "%Y-%m-%d", gmtime_r(&a, &tm));
    strftime(to, sizeof(to), "%Y-%m-%d", gmtime_r(&b, &tm));
    if (rc == MP_OK && !rd.nomem)
        j = json_pack("{s:s, s:i, s:s, s:s, s:o, s:o, s:o}", "tenant", t, "days", days, "from",
                      from, "to", to, "totals", tot, "domains", doms, "sources", rd.sources);
    else {
        json_decref(tot);
        json_decref(doms);
        json_decref(rd.sources);
    }
    free(rd.g);
    if (rc != MP_OK && rc != MP_ERR_NOMEM)
        mp_http_error(out, 500, "the store could not be read");
    else
        dm__json(j, out);
}

static int dm__scrape_lines(struct mp_dmarc *m, const char *t, struct mp_buf *b)
{
    struct dm_read rd = {0};
    int rc = eng_dmarc_scan(m->d, t, 0, INT32_MAX, dm__read_cb, &rd);
    for (int c = 0; rc == MP_OK && rd.ng && c < ENG_DMARC_NCOUNTS; c++) {
        const char *n = eng_dmarc_count_name(c);
        rc = mp_buf_printf(b,
                           "# HELP mailpulse_tenant_dmarc_%s_total DMARC aggregate reports: %s "
                           "over the kept days.\n# TYPE mailpulse_tenant_dmarc_%s_total counter\n",
                           n, n, n);
        /* domain and provider hold [a-z0-9._-] only: no escaping needed */
        for (size_t i = 0; rc == MP_OK && i < rd.ng; i++)
            rc = mp_buf_printf(b,
                               "mailpulse_tenant_dmarc_%s_total{tenant=\"%s\",domain=\"%s\","
                               "provider=\"%s\"} %llu\n",
                               n, t, rd.g[i].domain, rd.g[i].provider,
                               (unsigned long long)rd.g[i].c[c]);
    }
    int had = rd.ng > 0;
    free(rd.g);
    if (rd.nomem)
        return MP_ERR_NOMEM;
    return rc != MP_OK ? rc : had;
}

void mp_dmarc_scrape(struct mp_dmarc *m, const char *only, const struct mp_http_request *req,
                     struct mp_http_reply *out)
{
    char t[65];
    if (out->status != 200 && out->status != 404)
        return;
    const char *p = req->path + strlen(MP_STATS_PREFIX), *slash = strchr(p, '/');
    if (!slash || !eng_name_valid(p, (size_t)(slash - p)) || (size_t)(slash - p) >= sizeof(t))
        return;
    memcpy(t, p, (size_t)(slash - p));
    t[slash - p] = '\0';
    if (only && strcmp(only, t) != 0)
        return;
    struct mp_buf b = {0};
    if (out->status == 200 && mp_buf_append(&b, out->body, out->len) != MP_OK)
        return;
    int rc = dm__scrape_lines(m, t, &b);
    if (rc < 0 || (rc == 0 && out->status == 404)) {
        mp_buf_free(&b);
        return;
    }
    free(out->body);
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->body = b.p;
    out->len = b.len;
}

int mp_dmarc_metrics(struct mp_dmarc *m, struct mp_buf *b)
{
    if (!m)
        return MP_OK;
    int rc = mp_buf_printf(
        b,
        "# HELP mailpulse_dmarc_reports_total DMARC aggregate reports taken: counted, or a "
        "resent one (duplicate).\n# TYPE mailpulse_dmarc_reports_total counter\n"
        "mailpulse_dmarc_reports_total{result=\"counted\"} %llu\n"
        "mailpulse_dmarc_reports_total{result=\"duplicate\"} %llu\n"
        "# HELP mailpulse_dmarc_refused_total DMARC aggregate reports refused, by reason.\n"
        "# TYPE mailpulse_dmarc_refused_total counter\n",
        (unsigned long long)mp_load_relaxed(&m->counted),
        (unsigned long long)mp_load_relaxed(&m->duplicate));
    for (int i = 0; rc == MP_OK && i < DM_NREASONS; i++)
        rc = mp_buf_printf(b, "mailpulse_dmarc_refused_total{reason=\"%s\"} %llu\n",
                           dm_reasons[i], (unsigned long long)mp_load_relaxed(&m->refused[i]));
    return rc;
}
