/* cli_stats.c — client side of the stats API (see cli_stats.h). */
#include "cli_stats.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

/* Group table columns: the figures people scan first. The rest are in
 * the tenant table and in --json. */
static const char *const stats__group_counts[] = {"sent", "delivered", "bounce_hard", "complaint",
                                                  "spam_trap"};
static const char *const stats__group_rates[] = {"bounce_rate", "complaint_rate",
                                                 "engagement_rate"};

int cli_stats_url(const char *api, const char *tenant, const char *window, const char *by,
                  long limit, char **out)
{
    CURL *e = curl_easy_init();
    if (!e)
        return MP_ERR_NOMEM;
    char *esc = curl_easy_escape(e, tenant, (int)strlen(tenant));
    curl_easy_cleanup(e);
    if (!esc)
        return MP_ERR_NOMEM;
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    size_t n = alen + strlen(esc) + strlen(window) + (by ? strlen(by) : 0) + 96;
    char *url = malloc(n);
    if (url) {
        int off = snprintf(url, n, "%.*s/v1/tenants/%s/stats?window=%s", (int)alen, api, esc,
                           window);
        if (by)
            off += snprintf(url + off, n - (size_t)off, "&by=%s", by);
        if (limit > 0)
            snprintf(url + off, n - (size_t)off, "&limit=%ld", limit);
    }
    curl_free(esc);
    if (!url)
        return MP_ERR_NOMEM;
    *out = url;
    return MP_OK;
}

struct stats__buf {
    char *p;
    size_t len;
    int over; /* the answer passed CLI_STATS_BODY_MAX, or memory ran out */
};

static size_t stats__write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct stats__buf *b = arg;
    size_t n = size * nmemb;
    if (b->len + n > CLI_STATS_BODY_MAX) {
        b->over = 1;
        return 0; /* makes curl fail the transfer */
    }
    char *p = realloc(b->p, b->len + n + 1);
    if (!p) {
        b->over = 1;
        return 0;
    }
    memcpy(p + b->len, data, n);
    b->len += n;
    p[b->len] = '\0';
    b->p = p;
    return n;
}

int cli_stats_get(const char *url, long timeout_ms, long *status, char **body, char *err,
                  size_t errlen)
{
    int rc = MP_ERR_IO;
    struct stats__buf b = {0};
    char cerr[CURL_ERROR_SIZE] = "";
    CURL *e = curl_easy_init();
    if (!e)
        return MP_ERR_NOMEM;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, stats__write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        if (b.over)
            snprintf(err, errlen, "the answer is larger than %zu bytes", CLI_STATS_BODY_MAX);
        else
            snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    if (!b.p && !(b.p = calloc(1, 1))) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    *body = b.p;
    b.p = NULL;
    rc = MP_OK;
out:
    free(b.p);
    curl_easy_cleanup(e);
    return rc;
}

void cli_stats_error_text(const char *body, char *out, size_t n)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "error"));
    snprintf(out, n, "%s", msg ? msg : "");
    json_decref(j);
}

void cli_stats_percent(double v, int is_null, char *out, size_t n)
{
    if (is_null)
        snprintf(out, n, "-");
    else if (v > 0 && v * 100 < 0.005)
        snprintf(out, n, "<0.01%%");
    else
        snprintf(out, n, "%.2f%%", v * 100);
}

static void stats__rate_text(json_t *rates, const char *name, char *out, size_t n)
{
    json_t *v = json_object_get(rates, name);
    if (!v)
        snprintf(out, n, "?");
    else
        cli_stats_percent(json_number_value(v), json_is_null(v), out, n);
}

/* Counts (left) and rates (right), one pair per line. */
static void stats__print_tenant(FILE *f, json_t *counts, json_t *rates)
{
    size_t nc = json_object_size(counts), nr = json_object_size(rates);
    void *ci = json_object_iter(counts), *ri = json_object_iter(rates);
    for (size_t i = 0; i < nc || i < nr; i++) {
        char left[64] = "", pct[32];
        if (ci) {
            snprintf(left, sizeof(left), "%-12s %12" JSON_INTEGER_FORMAT, json_object_iter_key(ci),
                     json_integer_value(json_object_iter_value(ci)));
            ci = json_object_iter_next(counts, ci);
        }
        if (ri) {
            json_t *v = json_object_iter_value(ri);
            cli_stats_percent(json_number_value(v), json_is_null(v), pct, sizeof(pct));
            fprintf(f, "  %-25s    %-17s %9s\n", left, json_object_iter_key(ri), pct);
            ri = json_object_iter_next(rates, ri);
        } else {
            fprintf(f, "  %s\n", left);
        }
    }
}

static void stats__print_groups(FILE *f, json_t *root, const char *by, json_t *groups)
{
    size_t i, w = strlen(by);
    json_t *g;
    json_array_foreach(groups, i, g)
    {
        const char *name = json_string_value(json_object_get(g, by));
        if (name && strlen(name) > w)
            w = strlen(name);
    }
    fprintf(f, "  %-*s", (int)w, by);
    for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_counts); c++)
        fprintf(f, "  %11s", stats__group_counts[c]);
    for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_rates); c++)
        fprintf(f, "  %15s", stats__group_rates[c]);
    fputc('\n', f);
    json_array_foreach(groups, i, g)
    {
        const char *name = json_string_value(json_object_get(g, by));
        json_t *counts = json_object_get(g, "counts"), *rates = json_object_get(g, "rates");
        fprintf(f, "  %-*s", (int)w, name ? name : "?");
        for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_counts); c++)
            fprintf(f, "  %11" JSON_INTEGER_FORMAT,
                    json_integer_value(json_object_get(counts, stats__group_counts[c])));
        for (size_t c = 0; c < MP_ARRAY_LEN(stats__group_rates); c++) {
            char pct[32];
            stats__rate_text(rates, stats__group_rates[c], pct, sizeof(pct));
            fprintf(f, "  %15s", pct);
        }
        fputc('\n', f);
    }
    json_int_t total = json_integer_value(json_object_get(root, "groups_total"));
    if ((size_t)total > json_array_size(groups))
        fprintf(f, "  ... %zu of %" JSON_INTEGER_FORMAT " shown; --limit N shows more "
                   "(at most 10000)\n",
                json_array_size(groups), total);
}

int cli_stats_print(FILE *f, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *tenant = json_string_value(json_object_get(j, "tenant"));
    const char *window = json_string_value(json_object_get(j, "window"));
    json_t *counts = json_object_get(j, "counts"), *rates = json_object_get(j, "rates");
    if (!tenant || !window || !json_is_object(counts) || !json_is_object(rates)) {
        json_decref(j);
        return MP_ERR_PARSE;
    }
    fprintf(f, "tenant %s, window %s\n\n", tenant, window);
    stats__print_tenant(f, counts, rates);
    const char *by = json_string_value(json_object_get(j, "by"));
    json_t *groups = json_object_get(j, "groups");
    if (by && json_is_array(groups)) {
        fprintf(f, "\nby %s: %" JSON_INTEGER_FORMAT " with events in the window, "
                   "most sent first\n\n",
                by, json_integer_value(json_object_get(j, "groups_total")));
        if (json_array_size(groups))
            stats__print_groups(f, j, by, groups);
    }
    json_decref(j);
    return MP_OK;
}
