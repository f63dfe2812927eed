/* alert_rule.c — ratio rule evaluation and the built-in rules (see alert_rule.h). */
#include "alert_rule.h"

#include <stdio.h>
#include <string.h>

#define T(x) (1u << (x))

/* bounce_rate: hard bounces / sent over the last hour. 2% is where mailbox
 * providers start to treat a list as unmaintained; 4% means act now. Below
 * 100 sends a couple of bounces is noise, so no alert. */
static const struct alert_rule rule__builtin[] = {
    {
        .name = "bounce_rate",
        .scopes = T(ENG_SCOPE_TENANT) | T(ENG_SCOPE_MAILBOX) | T(ENG_SCOPE_DOMAIN),
        .num_types = T(ENG_BOUNCE_HARD),
        .den_types = T(ENG_SENT),
        .den_label = "sent",
        .fine_buckets = 12,
        .window = "1h",
        .min_volume = 100,
        .warning_ppb = 20000000,  /* 2% */
        .critical_ppb = 40000000, /* 4% */
        .resolve_ppb = 18000000,  /* 90% of the warning threshold: no flapping */
    },
};

const struct alert_rule *alert_rules_builtin(size_t *n)
{
    *n = sizeof(rule__builtin) / sizeof(rule__builtin[0]);
    return rule__builtin;
}

static uint64_t rule__sum(unsigned types, const uint64_t counts[ENG_NTYPES])
{
    uint64_t s = 0;
    for (int t = ENG_TYPE_MIN; t <= ENG_TYPE_MAX; t++)
        if (types & T(t))
            s += counts[t - 1];
    return s;
}

/* num/den >= ppb/1e9, exactly. */
static int rule__at_least(uint64_t num, uint64_t den, uint64_t ppb)
{
    return (unsigned __int128)num * ALERT_PPB >= (unsigned __int128)ppb * den;
}

void alert_rule_eval(const struct alert_rule *r, const uint64_t counts[ENG_NTYPES],
                     struct alert_value *out)
{
    memset(out, 0, sizeof(*out));
    out->num = rule__sum(r->num_types, counts);
    out->den = rule__sum(r->den_types, counts);
    out->value = out->den ? (double)out->num / (double)out->den : 0.0;
    out->enough = out->den > 0 && out->den >= r->min_volume;
    if (!out->enough)
        return;
    if (r->critical_ppb && rule__at_least(out->num, out->den, r->critical_ppb))
        out->severity = ALERT_SEV_CRITICAL;
    else if (rule__at_least(out->num, out->den, r->warning_ppb))
        out->severity = ALERT_SEV_WARNING;
}

int alert_rule_resolves(const struct alert_rule *r, const struct alert_value *v)
{
    /* Too little data left in the window is no evidence of a problem. */
    return !v->enough || !rule__at_least(v->num, v->den, r->resolve_ppb);
}

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
