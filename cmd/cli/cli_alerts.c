/* cli_alerts.c — client side of the alerts API (see cli_alerts.h). */
#include "cli_alerts.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

int cli_alerts_url(const char *api, const char *tenant, int dead, long limit, char **out)
{
    char *esc = NULL;
    if (tenant) {
        CURL *e = curl_easy_init();
        if (!e)
            return MP_ERR_NOMEM;
        esc = curl_easy_escape(e, tenant, (int)strlen(tenant));
        curl_easy_cleanup(e);
        if (!esc)
            return MP_ERR_NOMEM;
    }
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    size_t n = alen + (esc ? strlen(esc) : 0) + 96;
    char *url = malloc(n);
    if (url) {
        int off = snprintf(url, n, "%.*s/v1/alerts%s", (int)alen, api, dead ? "/dead" : "");
        char sep = '?';
        if (esc) {
            off += snprintf(url + off, n - (size_t)off, "%ctenant=%s", sep, esc);
            sep = '&';
        }
        if (limit > 0)
            snprintf(url + off, n - (size_t)off, "%climit=%ld", sep, limit);
    }
    curl_free(esc);
    if (!url)
        return MP_ERR_NOMEM;
    *out = url;
    return MP_OK;
}

static const char *alerts__str(json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : dflt;
}

/* Percent for fraction rules, as is otherwise ("3" hits, "4.5" x). */
static void alerts__value(json_t *an, const char *key, char *out, size_t n)
{
    const char *v = alerts__str(an, key, "-");
    const char *kind = alerts__str(an, "kind", "ratio");
    if (strcmp(v, "-") != 0 && (strcmp(kind, "ratio") == 0 || strcmp(kind, "drop") == 0 ||
                                strcmp(kind, "trend") == 0))
        snprintf(out, n, "%.2f%%", strtod(v, NULL) * 100.0);
    else if (strcmp(v, "-") != 0 && strcmp(kind, "spike") == 0)
        snprintf(out, n, "%sx", v);
    else
        snprintf(out, n, "%s", v);
}

int cli_alerts_print(FILE *f, const char *body)
{
    json_t *root = json_loads(body, 0, NULL);
    json_t *list = json_object_get(root, "alerts");
    if (!json_is_array(list)) {
        json_decref(root);
        return MP_ERR_PARSE;
    }
    if (json_array_size(list) == 0) {
        fprintf(f, "no pending or firing alerts\n");
        json_decref(root);
        return MP_OK;
    }
    fprintf(f, "%-8s %-8s %-22s %-20s %-16s %-28s %9s %9s %8s %6s  %s\n", "STATE", "SEVERITY",
            "RULE", "TENANT", "SCOPE", "NAME", "VALUE", "THRESHOLD", "NUM/DEN", "WINDOW",
            "SINCE");
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        json_t *l = json_object_get(a, "labels"), *an = json_object_get(a, "annotations");
        const char *mb = alerts__str(l, "mailbox", NULL), *dom = alerts__str(l, "recipient_domain", NULL);
        char val[32], thr[32], nd[48];
        alerts__value(an, "value", val, sizeof(val));
        alerts__value(an, "threshold", thr, sizeof(thr));
        snprintf(nd, sizeof(nd), "%s/%s", alerts__str(an, "numerator", "-"),
                 alerts__str(an, "denominator", "-"));
        fprintf(f, "%-8s %-8s %-22s %-20s %-16s %-28s %9s %9s %8s %6s  %s\n",
                alerts__str(a, "status", "-"), alerts__str(l, "severity", "-"),
                alerts__str(l, "rule", alerts__str(l, "alertname", "-")),
                alerts__str(l, "tenant", "-"), mb ? "mailbox" : dom ? "recipient_domain" : "tenant",
                mb ? mb : dom ? dom : "-", val, thr, nd, alerts__str(an, "window", "-"),
                alerts__str(a, "startsAt", "-"));
    }
    json_decref(root);
    return MP_OK;
}

int cli_alerts_print_dead(FILE *f, const char *body)
{
    json_t *root = json_loads(body, 0, NULL);
    json_t *list = json_object_get(root, "dead");
    if (!json_is_array(list)) {
        json_decref(root);
        return MP_ERR_PARSE;
    }
    if (json_array_size(list) == 0) {
        fprintf(f, "no dead letters\n");
        json_decref(root);
        return MP_OK;
    }
    fprintf(f, "%-24s %-20s %-20s %-18s %8s  %s\n", "DIED", "RECEIVER", "TENANT", "REASON",
            "ATTEMPTS", "IDEMPOTENCY-KEY");
    size_t i;
    json_t *d;
    json_array_foreach(list, i, d)
    {
        fprintf(f, "%-24s %-20s %-20s %-18s %8lld  %s\n", alerts__str(d, "died", "-"),
                alerts__str(d, "receiver", "-"), alerts__str(d, "tenant", "-"),
                alerts__str(d, "reason", "-"),
                (long long)json_integer_value(json_object_get(d, "attempts")),
                alerts__str(d, "idempotency_key", "-"));
    }
    json_decref(root);
    return MP_OK;
}
