/* mp_scrape.c — a tenant's counters as Prometheus text (see mp_scrape.h). */
#include "mp_scrape.h"

#include <string.h>

#include <jansson.h>

#include "mp_log.h"
#include "mp_stats.h"

#define SCRAPE__TRIES 4
#define SCRAPE__EVENTS "mailpulse_tenant_events_total"
#define SCRAPE__WINDOW "mailpulse_tenant_window_events"
#define SCRAPE__RATE "mailpulse_tenant_rate"

static const char scrape__expected[] = "expected /v1/tenants/{tenant}/metrics (no parameters)";

/* The windows of the gauges: the stats API's. */
static const int scrape__wins[] = {ENG_WIN_1H, ENG_WIN_24H, ENG_WIN_7D};
#define SCRAPE__NWIN 3

/* One key's figures: today, then one set per window. */
struct scrape__figs {
    uint64_t today[ENG_NTYPES];
    uint64_t win[SCRAPE__NWIN][ENG_NTYPES];
};

/* The walk over a tenant's keys: one buffer per family, so each family's
 * samples come out together as the format wants. */
struct scrape__walk {
    struct eng_table *t;
    const char *tenant;
    struct mp_buf fam[3]; /* events, window, rate */
    struct mp_buf labels; /* the key's labels, escaped */
    size_t keys, read, keys_max; /* keys written, keys read, the bound on reads */
    int truncated;
    int rc;
};

/* Reads all figures of k in one consistent read (whole frames; after a
 * few unstable tries, what was read). */
static void scrape__read(struct eng_table *t, struct eng_key *k, struct scrape__figs *f)
{
    int rc = eng_table_key_warm(t, k);
    if (rc != MP_OK)
        mp_error("scrape_key_load_failed err=\"%s\"", mp_strerror(rc));
    for (int i = 0; i < SCRAPE__TRIES; i++) {
        uint32_t token;
        int stable = eng_key_read_begin(k, &token);
        eng_key_sum_days(t, k, 0, 1, f->today);
        for (int w = 0; w < SCRAPE__NWIN; w++)
            eng_key_sum_window(t, k, scrape__wins[w], f->win[w]);
        if (stable && eng_key_read_end(k, token))
            return;
    }
}

/* Appends s as a label value: \ " and newline escaped. */
static int scrape__escape(struct mp_buf *b, const char *s)
{
    int rc = MP_OK;
    for (; rc == MP_OK && *s; s++) {
        size_t run = strcspn(s, "\\\"\n");
        rc = mp_buf_append(b, s, run);
        s += run;
        if (!*s)
            break;
        if (rc == MP_OK)
            rc = mp_buf_puts(b, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\");
    }
    return rc;
}

/* 1 when s is a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*). */
static int scrape__label_name(const char *s)
{
    static const char word[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789";
    return s && *s && !(*s >= '0' && *s <= '9') && strspn(s, word) == strlen(s);
}

/* tenant="..",scope=".."[,<scope>=".."] into w->labels; a scope whose name
 * is no label name gets its key's name as name="..". */
static int scrape__labels(struct scrape__walk *w, const struct eng_key *k)
{
    int scope = eng_key_scope(k);
    const char *sname = eng_scope_name(scope), *name = eng_key_name(w->t, k);
    const char *label = scrape__label_name(sname) ? sname : "name";
    mp_buf_reset(&w->labels);
    int rc = mp_buf_puts(&w->labels, "tenant=\"");
    if (rc == MP_OK)
        rc = scrape__escape(&w->labels, w->tenant);
    if (rc == MP_OK)
        rc = mp_buf_printf(&w->labels, "\",scope=\"%s\"", sname ? sname : "unknown");
    if (rc == MP_OK && scope != ENG_SCOPE_TENANT && sname && name) {
        rc = mp_buf_printf(&w->labels, ",%s=\"", label);
        if (rc == MP_OK)
            rc = scrape__escape(&w->labels, name);
        if (rc == MP_OK)
            rc = mp_buf_puts(&w->labels, "\"");
    }
    return rc;
}

/* The key's samples, into the three families. */
static int scrape__key(struct scrape__walk *w, const struct scrape__figs *f)
{
    const char *l = w->labels.p;
    int rc = MP_OK;
    for (int ty = ENG_TYPE_MIN; rc == MP_OK && ty <= ENG_TYPE_MAX; ty++) {
        uint64_t any = f->today[ty - 1];
        for (int i = 0; i < SCRAPE__NWIN; i++)
            any |= f->win[i][ty - 1];
        if (!any)
            continue;
        rc = mp_buf_printf(&w->fam[0], SCRAPE__EVENTS "{%s,type=\"%s\"} %llu\n", l,
                           eng_type_name(ty), (unsigned long long)f->today[ty - 1]);
        for (int i = 0; rc == MP_OK && i < SCRAPE__NWIN; i++)
            rc = mp_buf_printf(&w->fam[1], SCRAPE__WINDOW "{%s,type=\"%s\",window=\"%s\"} %llu\n",
                               l, eng_type_name(ty), eng_window_name(scrape__wins[i]),
                               (unsigned long long)f->win[i][ty - 1]);
    }
    for (int i = 0; rc == MP_OK && i < SCRAPE__NWIN; i++)
        for (size_t r = 0; rc == MP_OK && r < mp_stats_nrates(); r++) {
            double v;
            int defined;
            const char *name = mp_stats_rate(r, f->win[i], &v, &defined);
            if (defined)
                rc = mp_buf_printf(&w->fam[2], SCRAPE__RATE "{%s,rate=\"%s\",window=\"%s\"} %.10g\n",
                                   l, name, eng_window_name(scrape__wins[i]), v);
        }
    return rc;
}

static void scrape__visit(void *arg, struct eng_key *k)
{
    struct scrape__walk *w = arg;
    if (w->rc != MP_OK)
        return;
    if (w->read == w->keys_max) {
        w->truncated = 1; /* no read: the bound on one scrape */
        return;
    }
    w->read++;
    struct scrape__figs f;
    scrape__read(w->t, k, &f);
    uint64_t any = 0;
    for (int ty = 0; ty < ENG_NTYPES; ty++)
        any |= f.today[ty] | f.win[SCRAPE__NWIN - 1][ty];
    if (!any)
        return;
    w->keys++;
    w->rc = scrape__labels(w, k);
    if (w->rc == MP_OK)
        w->rc = scrape__key(w, &f);
}

static int scrape__family(struct mp_buf *out, const char *name, const char *type,
                          const char *help, const struct mp_buf *samples)
{
    int rc = mp_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    if (rc == MP_OK && samples->len)
        rc = mp_buf_append(out, samples->p, samples->len);
    return rc;
}

/* The three families and the scrape's own two gauges, after the walk. */
static int scrape__emit(struct scrape__walk *w, struct mp_buf *out)
{
    int rc = scrape__family(out, SCRAPE__EVENTS, "counter",
                            "Events of the current UTC day (event time) per key and type; "
                            "resets at 00:00 UTC.", &w->fam[0]);
    if (rc == MP_OK)
        rc = scrape__family(out, SCRAPE__WINDOW, "gauge",
                            "Events per key and type in the rolling windows 1h, 24h, 7d.",
                            &w->fam[1]);
    if (rc == MP_OK)
        rc = scrape__family(out, SCRAPE__RATE, "gauge",
                            "Rates per key over the rolling windows, as the stats API and the "
                            "rules compute them (no sample when the denominator is 0).",
                            &w->fam[2]);
    mp_buf_reset(&w->labels);
    if (rc == MP_OK)
        rc = scrape__escape(&w->labels, w->tenant);
    if (rc == MP_OK)
        rc = mp_buf_printf(out,
                           "# HELP mailpulse_tenant_scrape_keys Keys with events in this scrape.\n"
                           "# TYPE mailpulse_tenant_scrape_keys gauge\n"
                           "mailpulse_tenant_scrape_keys{tenant=\"%s\"} %zu\n"
                           "# HELP mailpulse_tenant_scrape_truncated 1 when keys past %zu were "
                           "left out.\n"
                           "# TYPE mailpulse_tenant_scrape_truncated gauge\n"
                           "mailpulse_tenant_scrape_truncated{tenant=\"%s\"} %d\n",
                           w->labels.p, w->keys, w->keys_max, w->labels.p, w->truncated);
    return rc;
}

int mp_scrape_render(struct eng_table *t, const char *tenant, size_t keys_max,
                     struct mp_buf *out)
{
    struct eng_key *tk;
    if (eng_table_find(t, ENG_SCOPE_TENANT, tenant, NULL, &tk) != MP_OK)
        return MP_ERR_NOTFOUND;
    struct scrape__walk w = {.t = t, .tenant = tenant, .keys_max = keys_max ? keys_max : 1,
                             .rc = MP_OK};
    scrape__visit(&w, tk);
    for (int s = 0; s < ENG_NSCOPES; s++)
        if (s != ENG_SCOPE_TENANT)
            eng_table_children(t, tk, s, scrape__visit, &w);
    int rc = w.rc == MP_OK ? scrape__emit(&w, out) : w.rc;
    for (int i = 0; i < 3; i++)
        mp_buf_free(&w.fam[i]);
    mp_buf_free(&w.labels);
    return rc;
}

void mp_scrape_reply_only(struct eng_table *t, const struct mp_http_request *req,
                          const char *only, struct mp_http_reply *out)
{
    char tenant[ENG_NAME_MAX + 1], echo[72];
    json_t *j = NULL;
    int rc = mp_stats_tenant_path(req->path, MP_SCRAPE_ROUTE, scrape__expected, tenant, &j);
    if (rc == MP_OK && req->nargs) {
        mp_stats_echo(req->args[0].name, strlen(req->args[0].name), echo, sizeof(echo));
        rc = mp_stats_fail(&j, MP_ERR_INVAL, "unknown query parameter \"%s\"; this route takes "
                                             "none", echo);
    }
    struct mp_buf b = MP_BUF_INIT;
    /* A tenant the caller may not see is answered as one never counted. */
    if (rc == MP_OK && (only && strcmp(only, tenant) != 0))
        rc = MP_ERR_NOTFOUND;
    else if (rc == MP_OK)
        rc = mp_scrape_render(t, tenant, MP_SCRAPE_KEYS_MAX, &b);
    if (rc == MP_ERR_NOTFOUND && !j)
        rc = mp_stats_fail(&j, rc, MP_STATS_UNKNOWN_TENANT, tenant);
    if (rc != MP_OK) {
        mp_buf_free(&b);
        mp_stats_render(rc, j, out);
        return;
    }
    out->status = 200;
    out->content_type = "text/plain; version=0.0.4; charset=utf-8";
    out->len = b.len;
    out->body = mp_buf_take(&b);
}
