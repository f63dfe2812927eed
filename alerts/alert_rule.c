/* alert_rule.c — rule kinds, exact evaluation, rule sets (see alert_rule.h; the
 * default rules are rules.example.yaml, parsed by alert_rules_file.c). */
#include "alert_rule.h"

#include "eng_dmarc.h"
#include "mp_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) (1u << (x))
#define HOUR_MS (3600 * 1000LL)
#define RT(r) ((r)->num_types | (r)->den_types) /* the types a rule reads */

/* ---- windows and sums ---------------------------------------------------------- */

int alert_window_parse(const char *s, struct alert_window *w)
{
    char *end;
    if (!s || *s < '1' || *s > '9')
        return -1;
    long v = strtol(s, &end, 10);
    memset(w, 0, sizeof(*w));
    if (strcmp(end, "m") == 0 && v % 5 == 0 && v >= 5 && v <= 60) {
        w->res = ENG_RES_FINE;
        w->n = (int)(v / 5);
    } else if (strcmp(end, "h") == 0 && v == 1) {
        /* 1h reads from the 5-minute ring: a sliding hour, not the clock hour */
        w->res = ENG_RES_FINE;
        w->n = ENG_FINE_WINDOW_MAX;
    } else if (strcmp(end, "h") == 0 && v >= 2 && v <= 24) {
        w->res = ENG_RES_HOUR;
        w->n = (int)v;
    } else if (strcmp(end, "d") == 0 && v >= 1 && v <= 14) {
        w->res = ENG_RES_DAY;
        w->n = (int)v;
    } else {
        return -1;
    }
    snprintf(w->text, sizeof(w->text), "%s", s);
    return 0;
}

void alert_sums_init(struct alert_sums *s, const struct eng_table *t, const struct eng_key *k)
{
    s->t = t;
    s->k = k;
    s->n = 0;
}

/* The sums of window (res, back, n), covering at least `types`. A cached
 * window that lacks some of them sums only the missing types into it, so
 * rules sharing a window read each (window, type) series once: summing the
 * union again made the evaluator's cost grow with rules x types (38% of its
 * time in eng_key_sum_types under bench_ack, before). */
static const uint64_t *sums__get(struct alert_sums *s, int res, int back, int n, unsigned types)
{
    int i = 0;
    while (i < s->n && !(s->w[i].res == res && s->w[i].back == back && s->w[i].len == n))
        i++;
    if (i < s->n && (s->w[i].types & types) == types)
        return s->w[i].c;
    if (i == s->n) {
        /* a full cache reuses its last entry: correct, just not cached */
        i = s->n < ALERT_SUMS_MAX ? s->n++ : ALERT_SUMS_MAX - 1;
        s->w[i].res = res;
        s->w[i].back = back;
        s->w[i].len = n;
        s->w[i].types = 0;
    }
    unsigned missing = types & ~s->w[i].types;
    if (s->w[i].types == 0) {
        eng_key_sum_types(s->t, s->k, res, back, n, missing, s->w[i].c);
    } else {
        uint64_t add[ENG_NTYPES];
        eng_key_sum_types(s->t, s->k, res, back, n, missing, add);
        for (int t = ENG_TYPE_MIN; t <= ENG_TYPE_MAX; t++)
            if (missing & T(t))
                s->w[i].c[t - 1] = add[t - 1];
    }
    s->w[i].types |= missing;
    return s->w[i].c;
}

static uint64_t rule__sum(unsigned types, const uint64_t counts[ENG_NTYPES])
{
    uint64_t s = 0;
    for (int t = ENG_TYPE_MIN; t <= ENG_TYPE_MAX; t++)
        if (types & T(t))
            s += counts[t - 1];
    return s;
}

typedef unsigned __int128 u128;

/* floor(a * 1e9 / b), saturated; b > 0. */
static uint64_t rule__ppb(u128 a, u128 b)
{
    u128 q = a * ALERT_PPB / b;
    return q > UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/* ---- evaluation ------------------------------------------------------------------ */

static void rule__ratio(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    const uint64_t *c = sums__get(s, r->window.res, r->window.back, r->window.n, RT(r));
    v->num = rule__sum(r->num_types, c);
    v->den = rule__sum(r->den_types, c);
    v->enough = v->den > 0 && v->den >= r->min_volume && v->num >= r->min_count;
    if (v->den)
        v->value_ppb = rule__ppb(v->num, v->den);
}

static void rule__count(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    const uint64_t *c = sums__get(s, r->window.res, r->window.back, r->window.n, RT(r));
    v->num = rule__sum(r->num_types, c);
    v->enough = v->num >= r->min_volume;
    v->value_ppb = v->num > UINT64_MAX / ALERT_PPB ? UINT64_MAX : v->num * ALERT_PPB;
}

static void rule__drop(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    const uint64_t *c = sums__get(s, r->window.res, r->window.back, r->window.n, RT(r));
    v->num = rule__sum(r->num_types, c);
    v->den = rule__sum(r->den_types, c);
    const uint64_t *b = sums__get(s, r->baseline.res, r->baseline.back, r->baseline.n, RT(r));
    v->base_num = rule__sum(r->num_types, b);
    v->base_den = rule__sum(r->den_types, b);
    v->enough = v->den > 0 && v->base_den > 0 && v->den >= r->min_volume &&
                v->base_den >= r->min_volume && v->base_num > 0;
    if (!v->enough)
        return;
    /* drop = (bn*d - n*bd) / (bn*d): both rates over a common denominator */
    u128 before = (u128)v->base_num * v->den, now = (u128)v->num * v->base_den;
    if (now < before)
        v->value_ppb = rule__ppb(before - now, before);
}

static void rule__spike(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    const uint64_t *c = sums__get(s, r->window.res, r->window.back, r->window.n, RT(r));
    const uint64_t *b = sums__get(s, r->baseline.res, r->baseline.back, r->baseline.n, RT(r));
    v->num = rule__sum(r->num_types, c);
    v->base_num = rule__sum(r->num_types, b);
    if (r->den_types) {
        uint64_t bnum = v->base_num ? v->base_num : 1;
        v->den = rule__sum(r->den_types, c);
        v->base_den = rule__sum(r->den_types, b);
        v->enough = v->den > 0 && v->den >= r->min_volume && v->base_den >= r->min_volume &&
                    v->base_den > 0 && v->num >= r->min_count;
        if (v->enough) /* (n/d) / (bn/bd) = n*bd / (d*bn) */
            v->value_ppb = rule__ppb((u128)v->num * v->base_den, (u128)v->den * bnum);
        return;
    }
    /* counts: the baseline as an average per window length */
    int64_t wms = r->window.res == ENG_RES_DAY    ? r->window.n * 24 * HOUR_MS
                  : r->window.res == ENG_RES_HOUR ? r->window.n * HOUR_MS
                                                  : r->window.n * ENG_FINE_MS;
    int64_t bms = r->baseline.res == ENG_RES_DAY    ? r->baseline.n * 24 * HOUR_MS
                  : r->baseline.res == ENG_RES_HOUR ? r->baseline.n * HOUR_MS
                                                    : r->baseline.n * ENG_FINE_MS;
    /* no history is no baseline: a tenant new to mailpulse is not a spike */
    v->enough = v->num >= r->min_volume && v->num >= r->min_count && v->base_num > 0;
    if (v->enough) /* n / (bn * wms / bms) */
        v->value_ppb = rule__ppb((u128)v->num * (uint64_t)bms, (u128)v->base_num * (uint64_t)wms);
}

static void rule__trend(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    /* days back days+1 .. 1: each must exceed the one before */
    uint64_t pn = 0, pd = 0;
    int rising = 1;
    v->enough = 1;
    for (int back = r->days + 1; back >= 1; back--) {
        const uint64_t *c = sums__get(s, ENG_RES_DAY, back, 1, RT(r));
        uint64_t n = rule__sum(r->num_types, c), d = rule__sum(r->den_types, c);
        if (d == 0 || d < r->min_volume) {
            v->enough = 0;
            rising = 0;
        } else if (back <= r->days && (u128)n * pd <= (u128)pn * d) {
            rising = 0; /* n/d <= pn/pd */
        }
        if (back == 2) {
            v->base_num = n;
            v->base_den = d;
        }
        pn = n;
        pd = d;
    }
    v->num = pn;
    v->den = pd;
    if (v->enough && rising && pd)
        v->value_ppb = rule__ppb(pn, pd);
}

/* Today's allowance of a key `age` days into its warm-up. */
static uint64_t rule__allowance(const struct alert_rule *r, uint64_t age)
{
    u128 a = (u128)r->ramp_start + (u128)r->ramp_step * age;
    return a > r->ramp_cap ? r->ramp_cap : (uint64_t)a;
}

static void rule__ramp(const struct alert_rule *r, struct alert_sums *s, struct alert_value *v)
{
    int64_t age = eng_key_age_days(s->t, s->k);
    if (age < 0)
        return; /* no event yet: nothing sent today either */
    /* A mailbox (or domain) seen on its tenant's first day was already
     * sending when mailpulse began to count that tenant: it is not new,
     * and judging it by a warm-up would page for every mailbox of every
     * tenant on the day mailpulse is put in front of them. Only keys that
     * appear after their tenant are warming up. */
    if (eng_key_scope(s->k) != ENG_SCOPE_TENANT &&
        eng_key_first_day(s->k) <= eng_key_tenant_first_day(s->k))
        return;
    const uint64_t *c = sums__get(s, ENG_RES_DAY, 0, 1, RT(r));
    v->num = rule__sum(r->num_types, c);
    v->den = rule__allowance(r, (uint64_t)age);
    v->base_num = (uint64_t)age;
    v->enough = v->den > 0 && v->num > v->den && v->num >= r->min_volume;
    if (v->enough)
        v->value_ppb = rule__ppb(v->num, v->den);
}

void alert_rule_eval(const struct alert_rule *r, struct alert_sums *s, struct alert_value *out)
{
    memset(out, 0, sizeof(*out));
    switch (r->kind) {
    case ALERT_KIND_RATIO: rule__ratio(r, s, out); break;
    case ALERT_KIND_COUNT: rule__count(r, s, out); break;
    case ALERT_KIND_DROP: rule__drop(r, s, out); break;
    case ALERT_KIND_SPIKE: rule__spike(r, s, out); break;
    case ALERT_KIND_TREND: rule__trend(r, s, out); break;
    case ALERT_KIND_RAMP: rule__ramp(r, s, out); break;
    default: return;
    }
    alert_rule_level(r, out);
}

void alert_rule_level(const struct alert_rule *r, struct alert_value *v)
{
    if (!v->enough)
        return;
    if (r->critical_ppb && v->value_ppb >= r->critical_ppb)
        v->severity = ALERT_SEV_CRITICAL;
    else if (r->warning_ppb && v->value_ppb >= r->warning_ppb)
        v->severity = ALERT_SEV_WARNING;
}

int alert_rule_resolves(const struct alert_rule *r, const struct alert_value *v)
{
    /* Too little data left in the window is no evidence of a problem. */
    return !v->enough || v->value_ppb < r->resolve_ppb;
}

static void rule__labels(struct alert_rule *r);

void alert_rule_derive(struct alert_rule *r)
{
    uint64_t lo = r->warning_ppb && (!r->critical_ppb || r->warning_ppb < r->critical_ppb)
                      ? r->warning_ppb
                      : r->critical_ppb;
    r->resolve_ppb = (uint64_t)((u128)lo * r->resolve_ratio_ppb / ALERT_PPB);
    if (r->resolve_ppb == 0 && lo)
        r->resolve_ppb = 1; /* resolves only at exactly zero */
    if (r->alertname[0] == '\0')
        snprintf(r->alertname, sizeof(r->alertname), "%s", r->name);
    if (r->num_label[0] == '\0')
        rule__labels(r);
    if (r->kind == ALERT_KIND_DROP && r->baseline.n == 0) {
        r->baseline = r->window;
        r->baseline.back = r->window.back + r->window.n;
    }
}

static const char *kind__names[] = {"ratio", "count", "drop",       "spike",
                                    "trend", "ramp",  "dmarc_rate", "dmarc_count"};

const char *alert_kind_name(int kind)
{
    return kind >= 0 && kind <= ALERT_KIND_LAST ? kind__names[kind] : "unknown";
}

int alert_kind_parse(const char *s, int *kind)
{
    for (int i = 0; i <= ALERT_KIND_LAST; i++)
        if (strcmp(s, kind__names[i]) == 0) {
            *kind = i;
            return 0;
        }
    return -1;
}

/* ---- formatting -------------------------------------------------------------------- */

static void rule__trim(char *buf)
{
    char *dot = strchr(buf, '.');
    if (!dot)
        return;
    char *end = buf + strlen(buf) - 1;
    while (end > dot && *end == '0')
        *end-- = '\0';
    if (end == dot)
        *end = '\0';
}

void alert_format_ppb(uint64_t ppb, char *buf, size_t n)
{
    snprintf(buf, n, "%llu.%09llu", (unsigned long long)(ppb / ALERT_PPB),
             (unsigned long long)(ppb % ALERT_PPB));
    rule__trim(buf);
}

void alert_format_value(double v, char *buf, size_t n)
{
    snprintf(buf, n, "%.6f", v);
    rule__trim(buf);
}

void alert_format_rule_value(const struct alert_rule *r, uint64_t ppb, char *buf, size_t n)
{
    if (r->kind == ALERT_KIND_COUNT || r->kind == ALERT_KIND_DMARC_COUNT) {
        snprintf(buf, n, "%llu", (unsigned long long)(ppb / ALERT_PPB));
        return;
    }
    /* six decimals are plenty for people and keep "0.08" short */
    uint64_t micro = (ppb + 500) / 1000;
    snprintf(buf, n, "%llu.%06llu", (unsigned long long)(micro / 1000000),
             (unsigned long long)(micro % 1000000));
    rule__trim(buf);
}

/* ---- labels ------------------------------------------------------------------------ */

/* "open+click+reply": the event types of a rule, for summaries. */
static void rule__labels(struct alert_rule *r)
{
    if (r->kind == ALERT_KIND_DMARC_RATE || r->kind == ALERT_KIND_DMARC_COUNT) {
        snprintf(r->num_label, sizeof(r->num_label), "%s", eng_dmarc_count_name(r->dmarc_count));
        snprintf(r->den_label, sizeof(r->den_label), "%s",
                 r->kind == ALERT_KIND_DMARC_RATE ? "messages" : "");
        return;
    }
    char *p = r->num_label;
    size_t left = sizeof(r->num_label);
    for (int pass = 0; pass < 2; pass++) {
        unsigned types = pass ? r->den_types : r->num_types;
        p = pass ? r->den_label : r->num_label;
        left = pass ? sizeof(r->den_label) : sizeof(r->num_label);
        p[0] = '\0';
        for (int t = ENG_TYPE_MIN; t <= ENG_TYPE_MAX; t++) {
            if (!(types & T(t)))
                continue;
            size_t l = strlen(p);
            snprintf(p + l, left - l, "%s%s", l ? "+" : "", eng_type_name(t));
        }
    }
}

/* ---- rule sets ------------------------------------------------------------------------ */

struct tenant_rules {
    char *tenant;
    struct alert_rule *rules; /* rs->n entries */
};

struct alert_ruleset {
    size_t n;
    struct alert_rule rules[ALERT_RULES_MAX];
    size_t nt, capt;
    struct tenant_rules *t; /* sorted by tenant: bsearch per evaluation */
};

int alert_ruleset_new(struct alert_ruleset **out)
{
    struct alert_ruleset *rs = calloc(1, sizeof(*rs));
    if (!rs)
        return MP_ERR_NOMEM;
    *out = rs;
    return MP_OK;
}

int alert_ruleset_add(struct alert_ruleset *rs, const struct alert_rule *r)
{
    if (rs->n >= ALERT_RULES_MAX || alert_ruleset_find(rs, r->name) >= 0)
        return MP_ERR_INVAL;
    rs->rules[rs->n] = *r;
    alert_rule_derive(&rs->rules[rs->n]);
    rs->n++;
    return MP_OK;
}

static int ruleset__cmp(const void *key, const void *elem)
{
    return strcmp(key, ((const struct tenant_rules *)elem)->tenant);
}

struct alert_rule *alert_ruleset_override(struct alert_ruleset *rs, const char *tenant,
                                          size_t idx)
{
    if (idx >= rs->n)
        return NULL;
    size_t lo = 0, hi = rs->nt;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(tenant, rs->t[mid].tenant);
        if (c == 0)
            return &rs->t[mid].rules[idx];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    if (MP_GROW(rs->t, rs->capt, rs->nt + 1) != MP_OK)
        return NULL;
    struct tenant_rules tr = {strdup(tenant), malloc(rs->n * sizeof(struct alert_rule))};
    if (!tr.tenant || !tr.rules) {
        free(tr.tenant);
        free(tr.rules);
        return NULL;
    }
    memcpy(tr.rules, rs->rules, rs->n * sizeof(struct alert_rule));
    memmove(&rs->t[lo + 1], &rs->t[lo], (rs->nt - lo) * sizeof(*rs->t));
    rs->t[lo] = tr;
    rs->nt++;
    return &rs->t[lo].rules[idx];
}

void alert_ruleset_free(struct alert_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nt; i++) {
        free(rs->t[i].tenant);
        free(rs->t[i].rules);
    }
    free(rs->t);
    free(rs);
}

size_t alert_ruleset_count(const struct alert_ruleset *rs) { return rs->n; }
size_t alert_ruleset_noverrides(const struct alert_ruleset *rs) { return rs->nt; }

const char *alert_ruleset_tenant(const struct alert_ruleset *rs, size_t i)
{
    return i < rs->nt ? rs->t[i].tenant : NULL;
}

uint64_t alert_rules_changed(const struct alert_rule *old, size_t nold,
                             const struct alert_rule *nw, size_t n)
{
    uint64_t m = 0;
    for (size_t i = 0; i < n && i < ALERT_RULES_MAX; i++) {
        size_t j = 0;
        while (j < nold && strcmp(old[j].name, nw[i].name) != 0)
            j++;
        /* rules are built from zeroed memory and copied whole (padding
         * included), so memcmp compares what they mean */
        if (j == nold || memcmp(&old[j], &nw[i], sizeof(nw[i])) != 0)
            m |= 1ULL << i;
    }
    return m;
}

int alert_ruleset_find(const struct alert_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->rules[i].name, name) == 0)
            return (int)i;
    return -1;
}

const struct alert_rule *alert_ruleset_for(const struct alert_ruleset *rs, const char *tenant)
{
    if (rs->nt) {
        const struct tenant_rules *tr =
            bsearch(tenant, rs->t, rs->nt, sizeof(*rs->t), ruleset__cmp);
        if (tr)
            return tr->rules;
    }
    return rs->rules;
}
