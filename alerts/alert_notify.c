/* alert_notify.c — the webhook payload, the text every receiver shares, signatures,
 * fingerprints and idempotency keys (see alert_notify.h). */
#include "alert_notify.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mp_fmt.h"
#include "mp_hash.h"

const char *alert_severity_name(int sev)
{
    switch (sev) {
    case ALERT_SEV_WARNING: return "warning";
    case ALERT_SEV_CRITICAL: return "critical";
    default: return "none";
    }
}

void alert_format_time(int64_t ms, char *buf, size_t n)
{
    if (ms <= 0) {
        snprintf(buf, n, "0001-01-01T00:00:00Z");
        return;
    }
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- FROZEN: fingerprints and idempotency keys ----
 *
 * Receivers and the alert store key on the values computed here: never
 * change these functions or their constants. notify__frozen_hash() is the
 * computation of mp_hash_bytes() (base/mp_hash.h) as it stood when the first
 * fingerprints went out, copied so that nothing done to mp_hash_bytes()
 * (seeding, a wider step) can move them; its finaliser is mp_hash_mix64(),
 * which mp_hash.h freezes (splitmix64's, by definition fixed). Words are read little-endian, as the
 * x86-64 and arm64 hosts always did, so every host computes the same. */

static uint64_t notify__le(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

static uint64_t notify__frozen_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (len + 1));
    while (len >= 8) {
        h = mp_hash_mix64(h ^ notify__le(p, 8)) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    return mp_hash_mix64(h ^ notify__le(p, len) ^ ((uint64_t)len << 56));
}

void alert_fingerprint(const struct alert_instance *a, char out[17])
{
    /* Labels in a fixed order, each terminated, so ("a","bc") != ("ab","c"). */
    const char *parts[] = {a->rule->name, a->tenant, a->mailbox ? a->mailbox : "",
                           a->domain ? a->domain : ""};
    uint64_t h = 0x6d61696c70756c73ULL;
    for (size_t i = 0; i < 4; i++)
        h = notify__frozen_hash(parts[i], strlen(parts[i]) + 1, h);
    /* only when set, tagged, so the first scopes' fingerprints stay (see the header) */
    if (a->provider) {
        h = notify__frozen_hash("provider", sizeof("provider"), h);
        h = notify__frozen_hash(a->provider, strlen(a->provider) + 1, h);
    }
    if (a->campaign) {
        h = notify__frozen_hash("campaign", sizeof("campaign"), h);
        h = notify__frozen_hash(a->campaign, strlen(a->campaign) + 1, h);
    }
    /* an external alert's labels, in its order (its source keeps it fixed) */
    for (size_t i = 0; i < a->nlabels; i++) {
        h = notify__frozen_hash(a->labels[i].name, strlen(a->labels[i].name) + 1, h);
        h = notify__frozen_hash(a->labels[i].value, strlen(a->labels[i].value) + 1, h);
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

void alert_notify_idem_key(const struct alert_instance *a, size_t n, int64_t decided_ms,
                           const char *receiver, char out[ALERT_IDEM_LEN])
{
    /* The key names exactly this notification: the alerts, their status
     * and severity, when they started, and when it was decided. */
    uint64_t h = 0x1d3a5c7e9f0b2d4fULL;
    for (size_t x = 0; x < n; x++) {
        char fp[17];
        alert_fingerprint(&a[x], fp);
        int64_t parts[4] = {a[x].status, a[x].severity, a[x].starts_ms, decided_ms};
        unsigned char bytes[sizeof(parts)];
        for (size_t i = 0; i < sizeof(bytes); i++) /* little-endian, as hashed since the start */
            bytes[i] = (unsigned char)((uint64_t)parts[i / 8] >> (8 * (i % 8)));
        h = notify__frozen_hash(fp, 16, h);
        h = notify__frozen_hash(bytes, sizeof(bytes), h);
    }
    snprintf(out, ALERT_IDEM_LEN, "%016llx",
             (unsigned long long)notify__frozen_hash(receiver, strlen(receiver), h));
}

/* ---- payloads ---- */

/* "<what>" part of a summary: " mailbox x", " mailbox x at provider p",
 * " recipient domain y", " provider p", " campaign c" or "". */
void alert_notify_scope(const struct alert_instance *a, char *buf, size_t n)
{
    if (a->mailbox && a->provider)
        snprintf(buf, n, " mailbox %s at provider %s", a->mailbox, a->provider);
    else if (a->provider)
        snprintf(buf, n, " provider %s", a->provider);
    else if (a->campaign)
        snprintf(buf, n, " campaign %s", a->campaign);
    else if (a->mailbox)
        snprintf(buf, n, " mailbox %s", a->mailbox);
    else if (a->domain)
        snprintf(buf, n, " recipient domain %s", a->domain);
    else
        buf[0] = '\0';
}

/* A rate as a percentage for people (base/mp_fmt): 80 of 1000 -> "8.00%". */
static void notify__pct(uint64_t num, uint64_t den, char *buf, size_t n)
{
    mp_fmt_pct(den ? (double)num / (double)den : 0.0, buf, n);
}

void alert_notify_value_text(const struct alert_rule *r, uint64_t ppb, char *buf, size_t n)
{
    if (r->kind == ALERT_KIND_RATIO || r->kind == ALERT_KIND_DROP || r->kind == ALERT_KIND_TREND)
        mp_fmt_pct((double)ppb / 1e9, buf, n);
    else if (r->kind == ALERT_KIND_SPIKE || r->kind == ALERT_KIND_RAMP)
        mp_fmt_factor((double)ppb / 1e9, buf, n);
    else
        alert_format_rule_value(r, ppb, buf, n);
}

uint64_t alert_notify_threshold(const struct alert_instance *a)
{
    const struct alert_rule *r = a->rule;
    return a->severity == ALERT_SEV_CRITICAL || !r->warning_ppb ? r->critical_ppb
                                                                : r->warning_ppb;
}

/* Issue 11: an alert resolved because its rule is disabled (for its tenant,
 * or for all) says so, instead of figures the rule no longer computes. */
static int notify__disabled_summary(const struct alert_instance *a, const char *scope, char *buf,
                                    size_t n)
{
    if (a->status != ALERT_STATUS_RESOLVED || a->rule->enabled)
        return 0;
    snprintf(buf, n, "%s resolved for tenant %s%s: rule %s disabled for tenant %s",
             a->rule->alertname, a->tenant, scope, a->rule->name, a->tenant);
    return 1;
}

void alert_notify_what(const struct alert_instance *a, char *buf, size_t n)
{
    const struct alert_rule *r = a->rule;
    const struct alert_value *v = &a->v;
    char cur[48], base[48];
    if (a->external) { /* no counter figures: what names it */
        int len = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < a->nlabels && len >= 0 && (size_t)len < n; i++)
            len += snprintf(buf + len, n - (size_t)len, "%s%s %s", i ? ", " : "",
                            a->labels[i].name, a->labels[i].value);
        return;
    }
    switch (r->kind) {
    case ALERT_KIND_COUNT:
        snprintf(buf, n, "%llu %s over %s", (unsigned long long)v->num, r->num_label,
                 r->window.text);
        break;
    case ALERT_KIND_DROP:
        notify__pct(v->num, v->den, cur, sizeof(cur));
        notify__pct(v->base_num, v->base_den, base, sizeof(base));
        snprintf(buf, n,
                 "%s per %s %s over %s (%llu of %llu) vs %s the %s before (%llu of %llu)",
                 r->num_label, r->den_label, cur, r->window.text, (unsigned long long)v->num,
                 (unsigned long long)v->den, base, r->baseline.text,
                 (unsigned long long)v->base_num, (unsigned long long)v->base_den);
        break;
    case ALERT_KIND_SPIKE:
        if (r->den_types)
            snprintf(buf, n,
                     "%llu %s of %llu %s over %s vs %llu of %llu over the %s before",
                     (unsigned long long)v->num, r->num_label, (unsigned long long)v->den,
                     r->den_label, r->window.text, (unsigned long long)v->base_num,
                     (unsigned long long)v->base_den, r->baseline.text);
        else
            snprintf(buf, n, "%llu %s over %s vs %llu over the %s before",
                     (unsigned long long)v->num, r->num_label, r->window.text,
                     (unsigned long long)v->base_num, r->baseline.text);
        break;
    case ALERT_KIND_TREND:
        snprintf(buf, n, "%s per %s rising %d days in a row (%llu of %llu on the last day)",
                 r->num_label, r->den_label, r->days, (unsigned long long)v->num,
                 (unsigned long long)v->den);
        break;
    case ALERT_KIND_RAMP: /* base_num: the warm-up's day, 0 the first */
        snprintf(buf, n, "%llu %s today against an allowance of %llu on day %llu of its warm-up",
                 (unsigned long long)v->num, r->num_label, (unsigned long long)v->den,
                 (unsigned long long)v->base_num + 1);
        break;
    default:
        snprintf(buf, n, "%llu of %llu %s over %s", (unsigned long long)v->num,
                 (unsigned long long)v->den, r->den_label, r->window.text);
        break;
    }
}

/* An external alert's summary: its own annotation, else its name and labels. */
static void notify__external_summary(const struct alert_instance *a, char *buf, size_t n)
{
    for (size_t i = 0; i < a->nannotations; i++) {
        if (strcmp(a->annotations[i].name, "summary") == 0) {
            snprintf(buf, n, "%s", a->annotations[i].value);
            return;
        }
    }
    int len = snprintf(buf, n, "%s %s for tenant %s", a->rule->alertname,
                       a->status == ALERT_STATUS_FIRING ? alert_severity_name(a->severity)
                                                        : "resolved",
                       a->tenant);
    for (size_t i = 0; i < a->nlabels && len >= 0 && (size_t)len < n; i++)
        len += snprintf(buf + len, n - (size_t)len, " %s %s", a->labels[i].name,
                        a->labels[i].value);
}

void alert_notify_summary(const struct alert_instance *a, char *buf, size_t n)
{
    const struct alert_rule *r = a->rule;
    if (a->external) {
        notify__external_summary(a, buf, n);
        return;
    }
    char val[48], thr[48], scope[200], what[400];
    alert_notify_value_text(r, a->v.value_ppb, val, sizeof(val));
    alert_notify_value_text(r, alert_notify_threshold(a), thr, sizeof(thr));
    alert_notify_scope(a, scope, sizeof(scope));
    if (a->rule_removed) {
        snprintf(buf, n, "%s resolved for tenant %s%s: rule %s was removed from the rules file",
                 r->alertname, a->tenant, scope, r->name);
        return;
    }
    if (notify__disabled_summary(a, scope, buf, n))
        return;
    alert_notify_what(a, what, sizeof(what));
    if (a->status == ALERT_STATUS_RESOLVED)
        snprintf(buf, n, "%s resolved for tenant %s%s: %s (%s)", r->alertname, a->tenant, scope,
                 val, what);
    else
        snprintf(buf, n, "%s %s for tenant %s%s (%s), %s at %s", r->alertname, val, a->tenant,
                 scope, what, alert_severity_name(a->severity), thr);
}

void alert_notify_title(const struct alert_instance *a, size_t n, char *buf, size_t len)
{
    size_t firing = 0;
    int same_name = 1, same_sev = 1;
    for (size_t i = 0; i < n; i++) {
        firing += a[i].status == ALERT_STATUS_FIRING;
        same_name &= strcmp(a[i].rule->alertname, a[0].rule->alertname) == 0;
        same_sev &= a[i].severity == a[0].severity;
    }
    char status[32];
    if (firing)
        snprintf(status, sizeof(status), "[FIRING:%zu]", firing);
    else
        snprintf(status, sizeof(status), "[RESOLVED]");
    /* Alertmanager's: status, the group's labels, then what all share. */
    snprintf(buf, len, "%s %s%s%s%s%s", status, n ? a[0].tenant : "",
             n && same_name ? " " : "", n && same_name ? a[0].rule->alertname : "",
             n && same_sev ? " " : "", n && same_sev ? alert_severity_name(a[0].severity) : "");
}

void alert_notify_scope_json(json_t *o, const struct alert_instance *a)
{
    json_object_set_new(o, "tenant", json_string(a->tenant));
    if (a->mailbox)
        json_object_set_new(o, "mailbox", json_string(a->mailbox));
    if (a->domain)
        json_object_set_new(o, "recipient_domain", json_string(a->domain));
    if (a->provider)
        json_object_set_new(o, "provider", json_string(a->provider));
    if (a->campaign)
        json_object_set_new(o, "campaign", json_string(a->campaign));
}

static json_t *notify__labels(const struct alert_instance *a)
{
    json_t *l = json_object();
    json_object_set_new(l, "alertname", json_string(a->rule->alertname));
    if (strcmp(a->rule->name, a->rule->alertname) != 0)
        json_object_set_new(l, "rule", json_string(a->rule->name));
    json_object_set_new(l, "severity", json_string(alert_severity_name(a->severity)));
    alert_notify_scope_json(l, a);
    for (size_t i = 0; i < a->nlabels; i++)
        json_object_set_new(l, a->labels[i].name, json_string(a->labels[i].value));
    return l;
}

static void notify__num(json_t *o, const char *key, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    json_object_set_new(o, key, json_string(buf));
}

void alert_notify_figures_json(json_t *o, const struct alert_instance *a, bool for_people)
{
    const struct alert_rule *r = a->rule;
    void (*text)(const struct alert_rule *, uint64_t, char *, size_t) =
        for_people ? alert_notify_value_text : alert_format_rule_value;
    char buf[48];
    text(r, a->v.value_ppb, buf, sizeof(buf));
    json_object_set_new(o, "value", json_string(buf));
    text(r, alert_notify_threshold(a), buf, sizeof(buf));
    json_object_set_new(o, "threshold", json_string(buf));
    if (for_people) {
        json_object_set_new(o, "numerator", json_integer((json_int_t)a->v.num));
        if (r->den_types)
            json_object_set_new(o, "denominator", json_integer((json_int_t)a->v.den));
    } else {
        notify__num(o, "numerator", a->v.num);
        if (r->den_types)
            notify__num(o, "denominator", a->v.den);
    }
    json_object_set_new(o, "window", json_string(r->window.text));
}

static json_t *notify__annotations(const struct alert_instance *a)
{
    char buf[1024];
    const struct alert_rule *r = a->rule;
    json_t *an = json_object();
    alert_notify_summary(a, buf, sizeof(buf));
    json_object_set_new(an, "summary", json_string(buf));
    if (a->external) { /* its source's annotations stand for the figures */
        for (size_t i = 0; i < a->nannotations; i++)
            json_object_set_new(an, a->annotations[i].name, json_string(a->annotations[i].value));
        return an;
    }
    alert_notify_figures_json(an, a, false);
    if (r->kind != ALERT_KIND_RATIO) {
        json_object_set_new(an, "kind", json_string(alert_kind_name(r->kind)));
    }
    if (r->kind == ALERT_KIND_RAMP) {
        notify__num(an, "allowance", a->v.den);
        notify__num(an, "warmup_day", a->v.base_num + 1);
    }
    if (r->kind == ALERT_KIND_DROP || r->kind == ALERT_KIND_SPIKE || r->kind == ALERT_KIND_TREND) {
        notify__num(an, "baseline_numerator", a->v.base_num);
        if (r->den_types)
            notify__num(an, "baseline_denominator", a->v.base_den);
        if (r->kind != ALERT_KIND_TREND)
            json_object_set_new(an, "baseline_window", json_string(r->baseline.text));
    }
    return an;
}

/* Keeps in `common` only the keys whose values equal those in `obj`. */
static void notify__intersect(json_t *common, json_t *obj)
{
    const char *key;
    json_t *val;
    void *tmp;
    json_object_foreach_safe(common, tmp, key, val)
    {
        json_t *o = json_object_get(obj, key);
        if (!o || !json_equal(o, val))
            json_object_del(common, key);
    }
}

json_t *alert_notify_alert_json(const struct alert_instance *a)
{
    char ts[40], fp[17];
    json_t *al = json_object();
    json_object_set_new(al, "status",
                        json_string(a->status == ALERT_STATUS_FIRING ? "firing" : "resolved"));
    json_object_set_new(al, "labels", notify__labels(a));
    json_object_set_new(al, "annotations", notify__annotations(a));
    alert_format_time(a->starts_ms, ts, sizeof(ts));
    json_object_set_new(al, "startsAt", json_string(ts));
    alert_format_time(a->ends_ms, ts, sizeof(ts));
    json_object_set_new(al, "endsAt", json_string(ts));
    json_object_set_new(al, "generatorURL", json_string(""));
    alert_fingerprint(a, fp);
    json_object_set_new(al, "fingerprint", json_string(fp));
    return al;
}

static const char *const notify__label_names[] = {"alertname", "mailbox", "recipient_domain",
                                                  "rule", "tenant"};

unsigned alert_label_bit(const char *name)
{
    for (unsigned i = 0; i < sizeof(notify__label_names) / sizeof(*notify__label_names); i++)
        if (strcmp(name, notify__label_names[i]) == 0)
            return 1u << i;
    return 0;
}

const char *alert_label_value(const struct alert_instance *a, unsigned bit)
{
    const char *v = NULL;
    switch (bit) {
    case ALERT_LABEL_ALERTNAME: v = a->rule->alertname; break;
    case ALERT_LABEL_MAILBOX: v = a->mailbox; break;
    case ALERT_LABEL_DOMAIN: v = a->domain; break;
    case ALERT_LABEL_RULE:
        v = strcmp(a->rule->name, a->rule->alertname) != 0 ? a->rule->name : NULL;
        break;
    case ALERT_LABEL_TENANT: v = a->tenant; break;
    default: break;
    }
    return v ? v : "";
}

void alert_notify_group_key(const struct alert_notify_group *g, const struct alert_instance *a,
                            char *buf, size_t n)
{
    unsigned by = a ? (g ? g->group_by : 0) | ALERT_LABEL_TENANT : 0;
    const char *sep = "";
    int w = snprintf(buf, n, "%s:{", g && g->route_key ? g->route_key : "{}");
    for (unsigned i = 0; w >= 0 && (size_t)w < n && (1u << i) <= ALERT_LABEL_TENANT; i++) {
        const char *v = (by & (1u << i)) ? alert_label_value(a, 1u << i) : "";
        if (!*v)
            continue;
        /* names follow the name grammar (no quotes or backslashes to escape) */
        w += snprintf(buf + w, n - (size_t)w, "%s%s=\"%s\"", sep, notify__label_names[i], v);
        sep = ", ";
    }
    if (w >= 0 && (size_t)w < n)
        snprintf(buf + w, n - (size_t)w, "}");
}

static json_t *notify__group_labels(unsigned by, const struct alert_instance *a)
{
    json_t *o = json_object();
    for (unsigned i = 0; (1u << i) <= ALERT_LABEL_TENANT; i++) {
        const char *v = (by & (1u << i)) ? alert_label_value(a, 1u << i) : "";
        if (*v)
            json_object_set_new(o, notify__label_names[i], json_string(v));
    }
    return o;
}

/* Where the daemon shows alert a: its tenant's /v1/alerts, the fragment
 * naming the alert (that listing carries the fingerprint). */
static json_t *notify__generator_url(const char *base, const struct alert_instance *a)
{
    char fp[17];
    if (!base || !*base)
        return json_string("");
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--; /* "http://x/" and "http://x" give the same links */
    alert_fingerprint(a, fp);
    return json_sprintf("%.*s/v1/alerts?tenant=%s#%s", (int)bl, base, a->tenant, fp);
}

char *alert_notify_webhook_group(const struct alert_notify_group *g, const char *receiver,
                                 const struct alert_instance *a, size_t n)
{
    char *out = NULL;
    json_t *root = json_object(), *alerts = json_array();
    json_t *common_l = NULL, *common_a = NULL;
    int any_firing = 0;
    size_t keep = g && g->max_alerts && g->max_alerts < n ? g->max_alerts : n;
    for (size_t i = 0; i < n; i++) {
        any_firing |= a[i].status == ALERT_STATUS_FIRING; /* of all, the truncated too */
        if (i >= keep)
            continue;
        json_t *al = alert_notify_alert_json(&a[i]);
        json_t *labels = json_object_get(al, "labels"), *ann = json_object_get(al, "annotations");
        if (!common_l) {
            common_l = json_deep_copy(labels);
            common_a = json_deep_copy(ann);
        } else {
            notify__intersect(common_l, labels);
            notify__intersect(common_a, ann);
        }
        json_object_set_new(al, "generatorURL",
                            notify__generator_url(g ? g->external_url : NULL, &a[i]));
        json_array_append_new(alerts, al);
    }
    char gk[1024];
    alert_notify_group_key(g, n > 0 ? &a[0] : NULL, gk, sizeof(gk));
    json_object_set_new(root, "version", json_string("4"));
    json_object_set_new(root, "groupKey", json_string(gk));
    json_object_set_new(root, "truncatedAlerts", json_integer((json_int_t)(n - keep)));
    json_object_set_new(root, "status", json_string(any_firing ? "firing" : "resolved"));
    json_object_set_new(root, "receiver", json_string(receiver));
    json_object_set_new(root, "groupLabels",
                        n > 0 ? notify__group_labels((g ? g->group_by : 0) | ALERT_LABEL_TENANT,
                                                     &a[0])
                              : json_object());
    json_object_set_new(root, "commonLabels", common_l ? common_l : json_object());
    json_object_set_new(root, "commonAnnotations", common_a ? common_a : json_object());
    json_object_set_new(root, "externalURL",
                        json_string(g && g->external_url ? g->external_url : ""));
    json_object_set_new(root, "alerts", alerts);
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return out;
}

char *alert_notify_webhook(const char *receiver, const struct alert_instance *a, size_t n)
{
    /* grouped by tenant, no limit, no external URL */
    return alert_notify_webhook_group(NULL, receiver, a, n);
}

void alert_sign(const char *secret, int64_t unix_s, const char *body, size_t len, char *out,
                size_t outlen)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", (long long)unix_s);
    /* HMAC over "<t>." + body without copying the body. */
    EVP_MAC *m = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = m ? EVP_MAC_CTX_new(m) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
                           OSSL_PARAM_construct_end()};
    size_t got = 0;
    if (ctx && EVP_MAC_init(ctx, (const unsigned char *)secret, strlen(secret), params) &&
        EVP_MAC_update(ctx, (const unsigned char *)prefix, (size_t)plen) &&
        EVP_MAC_update(ctx, (const unsigned char *)body, len) &&
        EVP_MAC_final(ctx, mac, &got, sizeof(mac)))
        maclen = (unsigned int)got;
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(m);
    int w = snprintf(out, outlen, "t=%lld,v1=", (long long)unix_s);
    for (unsigned i = 0; i < maclen && (size_t)w + 2 < outlen; i++)
        w += snprintf(out + w, outlen - (size_t)w, "%02x", mac[i]);
}
