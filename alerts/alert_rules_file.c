/* alert_rules_file.c — the rules file parser and the built-in defaults (see
 * alert_rules_file.h).
 *
 * The YAML side (keys, types, bounds, "file:line: key:" refusals) is
 * base/mp_yaml's walker over the tables below; what is left here is what is
 * the rules' own: which keys a kind needs or refuses, the windows that the
 * in-memory rings can answer, thresholds against the kind, and overrides.
 * A walk reports which keys were present as RH_* marks, so a rule can tell
 * "not set" (take the default) from "set to 0".
 */
#include "alert_rules_file.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "eng_dmarc.h"
#include "eng_name.h"
#include "eng_table.h"
#include "eng_types.h"
#include "mp_log.h"
#include "mp_yaml.h"

#define RULES__30D ((int64_t)30 * 24 * 3600 * 1000)
#define RULES__1D ((int64_t)24 * 3600 * 1000)

/* One rule or override as read, before the checks that span keys. */
struct rules__in {
    struct alert_rule r;
    char tenant[ENG_NAME_MAX + 1]; /* overrides */
    char rule[ALERT_NAME_MAX];     /* overrides */
    unsigned has;                  /* RH_* marks of the keys present */
    yaml_node_t *gate;             /* rules: `gate:` as written (rules__gate) */
};
/* Bit i of the marks: one per key whose presence matters. */
enum {
    RH_WINDOW = 1u << 0, RH_BASELINE = 1u << 1, RH_WARNING = 1u << 2, RH_CRITICAL = 1u << 3,
    RH_FOR = 1u << 4, RH_REPEAT = 1u << 5, RH_RATIO = 1u << 6, RH_DAYS = 1u << 7,
    RH_SCOPES = 1u << 8, RH_DEN = 1u << 9, RH_MINVOL = 1u << 10, RH_MINCOUNT = 1u << 11,
    RH_ENABLED = 1u << 12, RH_KEEP = 1u << 13, RH_START = 1u << 14, RH_STEP = 1u << 15,
    RH_CAP = 1u << 16, RH_NUM = 1u << 17, RH_COUNT = 1u << 18,
};
#define RH_RAMP (RH_START | RH_STEP | RH_CAP)
/* A warm-up ramp's allowance when the rule leaves it out: MailReach's
 * practice (start at 30-40 a day, add about 20 a day), capped where a
 * mailbox is warm after about seven weeks. */
#define RULES__RAMP_START 40
#define RULES__RAMP_STEP 20
#define RULES__RAMP_CAP 1000

struct rules__top {
    yaml_node_t *defaults, *rules, *overrides;
};

/* --- value parsers the rows name ----------------------------------------- */

/* Rule names, alertnames and override tenants: the one name grammar; a rule
 * name also fits its fixed-size buffer (the row's INLINE size). */
static bool rules__name_ok(const char *s) { return eng_name_valid(s, strlen(s)); }

static int rules__kind(const char *s, void *dst) { return alert_kind_parse(s, dst); }

static int rules__window(const char *s, void *dst) { return alert_window_parse(s, dst); }

static int rules__type(const char *s, void *bit) { return eng_type_parse(s, bit); }

/* dmarc kinds' `count`: a DMARC counter other than messages (the denominator). */
static int rules__dmarc_count(const char *s, void *dst)
{
    for (int i = ENG_DMARC_MESSAGES + 1; i < ENG_DMARC_NCOUNTS; i++)
        if (strcmp(s, eng_dmarc_count_name(i)) == 0) {
            *(int *)dst = i;
            return 0;
        }
    return -1;
}

static int rules__scope(const char *s, void *bit)
{
    for (int i = 0; i < ENG_NSCOPES; i++)
        if (strcmp(s, eng_scope_name(i)) == 0) {
            *(int *)bit = i;
            return 0;
        }
    return -1;
}

/* --- schema -------------------------------------------------------------- */

#define RF(f) MP_YAML_FIELD(struct rules__in, f)
#define RULES__NAME(n, f, req)                                                          \
    {.name = (n), .type = MP_YAML_STR, RF(f), .required = (req), .flags = MP_YAML_INLINE, \
     .check = rules__name_ok, .what = ENG_NAME_GRAMMAR}
#define RULES__TYPES "event types (sent, delivered, bounce_hard, ...)"
#define RULES__WINDOW "a window: 5m..60m in steps of 5m, 2h..24h, or 1d..14d"
#define RULES__THRESHOLD "a positive number such as 2%, 0.02, 3x or 1"
#define RULES__DMARC_COUNTS                                                             \
    "a DMARC count: dmarc_fail, dkim_fail, spf_fail, disposition_reject, "             \
    "disposition_quarantine, dmarc_pass, dkim_pass, spf_pass or disposition_none"
#define RULES__TIME "0s or a duration such as 10m, 4h (at most 30d)"

/* for, keep_firing_for, resolve_ratio, repeat_interval: rules, overrides
 * and `defaults:`. keep_firing_for is at most a day: an alert held up
 * longer than its own window is no longer saying anything about now. */
#define RULES__TIMING                                                                       \
    {.name = "for", .type = MP_YAML_DURATION, RF(r.for_ms), .mark = RH_FOR,                 \
     .flags = MP_YAML_ZERO_BARE, .max = RULES__30D, .what = RULES__TIME},                   \
    {.name = "keep_firing_for", .type = MP_YAML_DURATION, RF(r.keep_ms), .mark = RH_KEEP,   \
     .flags = MP_YAML_ZERO_BARE, .max = RULES__1D,                                          \
     .what = "0s or a duration such as 10m (at most 24h)"},                                 \
    {.name = "resolve_ratio", .type = MP_YAML_PPB, RF(r.resolve_ratio_ppb),                 \
     .mark = RH_RATIO, .flags = MP_YAML_NO_FACTOR, .min = 1, .max = ALERT_PPB,              \
     .what = "a fraction above 0 and at most 1, such as 0.9 or 90%"},                       \
    {.name = "repeat_interval", .type = MP_YAML_DURATION, RF(r.repeat_ms),                  \
     .mark = RH_REPEAT, .flags = MP_YAML_ZERO_BARE, .max = RULES__30D, .what = RULES__TIME}

/* What an override may change: rules and overrides. */
#define RULES__TUNABLES                                                                     \
    {.name = "min_volume", .type = MP_YAML_INT, RF(r.min_volume), .mark = RH_MINVOL,        \
     .max = 1000000000000LL},                                                               \
    {.name = "min_count", .type = MP_YAML_INT, RF(r.min_count), .mark = RH_MINCOUNT,        \
     .max = 1000000000000LL},                                                               \
    {.name = "warning", .type = MP_YAML_PPB, RF(r.warning_ppb), .mark = RH_WARNING,         \
     .min = 1, .what = RULES__THRESHOLD},                                                   \
    {.name = "critical", .type = MP_YAML_PPB, RF(r.critical_ppb), .mark = RH_CRITICAL,      \
     .min = 1, .what = RULES__THRESHOLD},                                                   \
    RULES__TIMING,                                                                          \
    {.name = "start", .type = MP_YAML_INT, RF(r.ramp_start), .mark = RH_START, .min = 1,    \
     .max = 1000000000LL},                                                                  \
    {.name = "step", .type = MP_YAML_INT, RF(r.ramp_step), .mark = RH_STEP,                 \
     .max = 1000000000LL},                                                                  \
    {.name = "cap", .type = MP_YAML_INT, RF(r.ramp_cap), .mark = RH_CAP, .min = 1,          \
     .max = 1000000000000LL},                                                               \
    {.name = "enabled", .type = MP_YAML_BOOL, RF(r.enabled), .mark = RH_ENABLED}

static const struct mp_yaml_key rules__defaults_keys[] = {RULES__TIMING, {0}};

static const struct mp_yaml_key rules__rule_keys[] = {
    RULES__NAME("name", r.name, true),
    RULES__NAME("alertname", r.alertname, false),
    {.name = "kind", .type = MP_YAML_PARSE, RF(r.kind), .required = true, .parse = rules__kind,
     .what = "one of ratio, count, drop, spike, trend, ramp, dmarc_rate, dmarc_count"},
    {.name = "scopes", .type = MP_YAML_SET, RF(r.scopes), .mark = RH_SCOPES,
     .parse = rules__scope, .what = "scopes (tenant, mailbox, recipient_domain, provider, mailbox_provider, campaign)"},
    {.name = "numerator", .type = MP_YAML_SET, RF(r.num_types), .mark = RH_NUM,
     .parse = rules__type, .what = RULES__TYPES},
    {.name = "count", .type = MP_YAML_PARSE, RF(r.dmarc_count), .mark = RH_COUNT,
     .parse = rules__dmarc_count, .what = RULES__DMARC_COUNTS},
    {.name = "denominator", .type = MP_YAML_SET, RF(r.den_types), .mark = RH_DEN,
     .parse = rules__type, .what = RULES__TYPES},
    {.name = "window", .type = MP_YAML_PARSE, RF(r.window), .mark = RH_WINDOW,
     .parse = rules__window, .what = RULES__WINDOW},
    {.name = "baseline", .type = MP_YAML_PARSE, RF(r.baseline), .mark = RH_BASELINE,
     .parse = rules__window, .what = RULES__WINDOW},
    {.name = "days", .type = MP_YAML_INT, RF(r.days), .mark = RH_DAYS, .min = 2, .max = 12},
    {.name = "gate", .type = MP_YAML_NODE, RF(gate)},
    RULES__TUNABLES,
    {0},
};

static const struct mp_yaml_key rules__override_keys[] = {
    RULES__NAME("tenant", tenant, true),
    RULES__NAME("rule", rule, true),
    RULES__TUNABLES,
    {0},
};

#define TF(f) MP_YAML_FIELD(struct rules__top, f)
static const struct mp_yaml_key rules__top_keys[] = {
    {.name = "defaults", .type = MP_YAML_NODE, TF(defaults)},
    {.name = "rules", .type = MP_YAML_NODE, TF(rules), .required = true},
    {.name = "overrides", .type = MP_YAML_NODE, TF(overrides)},
    {0},
};

_Static_assert(MP_ARRAY_LEN(rules__rule_keys) <= 33, "mp_yaml_walk takes at most 32 rows");
_Static_assert(offsetof(struct rules__in, r) == 0, "overrides copy rows at their offsets");

/* --- checks that span keys ----------------------------------------------- */

static int64_t rules__span_ms(int res, int n)
{
    return res == ENG_RES_DAY ? n * ENG_DAY_MS : res == ENG_RES_HOUR ? n * ENG_HOUR_MS
                                                                     : n * ENG_FINE_MS;
}

/* "<path>.<key>: <message>", at the rule's own line. */
__attribute__((format(printf, 5, 6)))
static int rules__refuse(struct mp_yaml *y, yaml_node_t *m, const char *path, const char *key,
                         const char *fmt, ...)
{
    char sub[MP_YAML_PATH_MAX * 2], msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    mp_yaml_join(sub, sizeof(sub), path, key);
    return mp_yaml_fail(y, m, sub, "%s", msg);
}

/* Thresholds make sense for the rule's kind, and warning < critical. */
static int rules__check_thresholds(struct mp_yaml *y, yaml_node_t *m, const char *path,
                                   const struct alert_rule *r)
{
    uint64_t t[2] = {r->warning_ppb, r->critical_ppb};
    const char *names[2] = {"warning", "critical"};
    if (!t[0] && !t[1])
        return rules__refuse(y, m, path, "warning",
                             "a rule needs a warning or a critical threshold");
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        if ((r->kind == ALERT_KIND_RATIO || r->kind == ALERT_KIND_DROP ||
             r->kind == ALERT_KIND_TREND || r->kind == ALERT_KIND_DMARC_RATE) && t[i] > ALERT_PPB)
            return rules__refuse(y, m, path, names[i],
                                 "a %s rule's threshold is a fraction: at most 100%%",
                                 alert_kind_name(r->kind));
        if ((r->kind == ALERT_KIND_COUNT || r->kind == ALERT_KIND_DMARC_COUNT) &&
            t[i] % ALERT_PPB)
            return rules__refuse(y, m, path, names[i],
                                 "a %s rule's threshold is a whole number of %s",
                                 alert_kind_name(r->kind),
                                 r->kind == ALERT_KIND_COUNT ? "events" : "messages");
    }
    if (t[0] && t[1] && t[0] >= t[1])
        return rules__refuse(y, m, path, "critical", "critical must be above warning");
    /* A ramp compares today's sends with the allowance: below 1x it would
     * page a mailbox that kept to its warm-up. */
    for (int i = 0; r->kind == ALERT_KIND_RAMP && i < 2; i++)
        if (t[i] && t[i] < ALERT_PPB)
            return rules__refuse(y, m, path, names[i],
                                 "a ramp rule's threshold is a factor of the allowance, at "
                                 "least 1x");
    if (r->kind == ALERT_KIND_RAMP && r->ramp_cap < r->ramp_start)
        return rules__refuse(y, m, path, "cap", "cap (%llu) is below start (%llu)",
                             (unsigned long long)r->ramp_cap, (unsigned long long)r->ramp_start);
    /* A spike is a factor over the baseline: at 1x or less it would fire on
     * a flat series, every evaluation, which no one means. */
    for (int i = 0; r->kind == ALERT_KIND_SPIKE && i < 2; i++)
        if (t[i] && t[i] <= ALERT_PPB)
            return rules__refuse(y, m, path, names[i],
                                 "a spike rule's threshold is a factor above 1, such as 3x");
    return MP_OK;
}

/* Rules that can never fire (or fire on every key), refused like any other
 * mistake: the same types over and under make the rate always 1, so a
 * ratio always reaches its threshold, a drop or a trend never moves, and a
 * spike's factor is always 1x. */
static int rules__check_reachable(yaml_node_t *m, struct mp_yaml *y, const char *path,
                                  const struct alert_rule *r)
{
    if (r->den_types && r->num_types == r->den_types)
        return rules__refuse(y, m, path, "denominator",
                             "the same event types as numerator: the rate is always 100%%, so "
                             "a %s rule %s", alert_kind_name(r->kind),
                             r->kind == ALERT_KIND_RATIO ? "fires on every key with traffic"
                                                         : "can never fire");
    return MP_OK;
}

/* A ramp reads today's daily bucket against its allowance: no window,
 * baseline, days or denominator of its own; the allowance's defaults. */
static int rules__ramp(struct mp_yaml *y, yaml_node_t *m, const char *path,
                       struct rules__in *in)
{
    struct alert_rule *r = &in->r;
    static const struct {
        unsigned mark;
        const char *key;
    } refused[] = {{RH_WINDOW, "window"}, {RH_BASELINE, "baseline"}, {RH_DAYS, "days"},
                   {RH_DEN, "denominator"}};
    for (size_t i = 0; i < MP_ARRAY_LEN(refused); i++)
        if (in->has & refused[i].mark)
            return rules__refuse(y, m, path, refused[i].key,
                                 "a ramp rule reads today's sends against its allowance "
                                 "(start, step, cap); it takes no %s", refused[i].key);
    if (!(in->has & RH_START))
        r->ramp_start = RULES__RAMP_START;
    if (!(in->has & RH_STEP))
        r->ramp_step = RULES__RAMP_STEP;
    if (!(in->has & RH_CAP))
        r->ramp_cap = r->ramp_start > RULES__RAMP_CAP ? r->ramp_start : RULES__RAMP_CAP;
    r->window = (struct alert_window){.res = ENG_RES_DAY, .back = 0, .n = 1};
    snprintf(r->window.text, sizeof(r->window.text), "today");
    return MP_OK;
}

/* dmarc_rate, dmarc_count: DMARC report counts per UTC day (alert_dmarc.h),
 * evaluated per header-from domain and per (domain, reporting provider),
 * not per counter key: no numerator, denominator or scopes; a window of
 * whole days (1d..14d, default 7d: reports come a day late, a few a day);
 * no for or keep_firing_for (the counts move once a report, not with
 * time: a rule's state changes only when a report or a day leaving the
 * window changes it). scopes 0 keeps the counter evaluator off them. */
static int rules__dmarc(struct mp_yaml *y, yaml_node_t *m, const char *path,
                        struct rules__in *in)
{
    struct alert_rule *r = &in->r;
    static const struct {
        unsigned mark;
        const char *key;
    } refused[] = {{RH_NUM, "numerator"}, {RH_DEN, "denominator"}, {RH_SCOPES, "scopes"},
                   {RH_BASELINE, "baseline"}, {RH_DAYS, "days"}, {RH_FOR, "for"},
                   {RH_KEEP, "keep_firing_for"}, {RH_MINCOUNT, "min_count"}};
    for (size_t i = 0; i < MP_ARRAY_LEN(refused); i++)
        if (in->has & refused[i].mark)
            return rules__refuse(y, m, path, refused[i].key,
                                 "a %s rule reads DMARC report counts per domain and reporter; "
                                 "it takes no %s", alert_kind_name(r->kind), refused[i].key);
    if ((in->has & RH_RAMP))
        return rules__refuse(y, m, path,
                             in->has & RH_START ? "start" : in->has & RH_STEP ? "step" : "cap",
                             "only ramp rules take start, step and cap");
    if (!(in->has & RH_COUNT))
        return rules__refuse(y, m, path, "count", "required for a %s rule (%s)",
                             alert_kind_name(r->kind), RULES__DMARC_COUNTS);
    if (!(in->has & RH_WINDOW))
        alert_window_parse("7d", &r->window);
    else if (r->window.res != ENG_RES_DAY)
        return rules__refuse(y, m, path, "window",
                             "a %s rule counts whole days of reports: 1d..14d",
                             alert_kind_name(r->kind));
    r->scopes = 0;
    r->for_ms = 0;
    r->keep_ms = 0;
    return MP_OK;
}

/* Which keys the kind needs or refuses; trend's window is its days. */
static int rules__check_kind(struct mp_yaml *y, yaml_node_t *m, const char *path,
                             struct rules__in *in)
{
    struct alert_rule *r = &in->r;
    int k = r->kind;
    if (k == ALERT_KIND_DMARC_RATE || k == ALERT_KIND_DMARC_COUNT)
        return rules__dmarc(y, m, path, in);
    if (in->has & RH_COUNT)
        return rules__refuse(y, m, path, "count",
                             "only dmarc_rate and dmarc_count rules take count (a DMARC "
                             "counter); a %s rule takes numerator", alert_kind_name(k));
    if (!(in->has & RH_NUM))
        return rules__refuse(y, m, path, "numerator", "required key missing");
    bool need_den = k == ALERT_KIND_RATIO || k == ALERT_KIND_DROP || k == ALERT_KIND_TREND;
    if (need_den && !(in->has & RH_DEN))
        return rules__refuse(y, m, path, "denominator", "required for a %s rule",
                             alert_kind_name(k));
    if (k == ALERT_KIND_COUNT && (in->has & RH_DEN))
        return rules__refuse(y, m, path, "denominator", "a count rule has no denominator");
    if ((in->has & RH_RAMP) && k != ALERT_KIND_RAMP)
        return rules__refuse(y, m, path,
                             in->has & RH_START ? "start" : in->has & RH_STEP ? "step" : "cap",
                             "only ramp rules take start, step and cap");
    if (k == ALERT_KIND_RAMP)
        return rules__ramp(y, m, path, in);
    if (k == ALERT_KIND_TREND) {
        if (in->has & (RH_WINDOW | RH_BASELINE))
            return rules__refuse(y, m, path, in->has & RH_WINDOW ? "window" : "baseline",
                                 "a trend rule compares whole days; set days instead");
        if (!(in->has & RH_DAYS))
            r->days = 3;
        snprintf(r->window.text, sizeof(r->window.text), "%dd", r->days);
    } else {
        if (in->has & RH_DAYS)
            return rules__refuse(y, m, path, "days", "only trend rules take days");
        if (!(in->has & RH_WINDOW))
            return rules__refuse(y, m, path, "window", "required key missing");
    }
    if (k == ALERT_KIND_SPIKE && !(in->has & RH_BASELINE))
        return rules__refuse(y, m, path, "baseline", "required for a spike rule");
    if ((in->has & RH_BASELINE) && k != ALERT_KIND_SPIKE && k != ALERT_KIND_DROP)
        return rules__refuse(y, m, path, "baseline", "only drop and spike rules take a baseline");
    return MP_OK;
}

/* drop, spike: the baseline ends where the window starts, in its own
 * buckets, and both must lie within what memory holds. */
static int rules__place_baseline(struct mp_yaml *y, yaml_node_t *m, const char *path,
                                 struct rules__in *in)
{
    struct alert_rule *r = &in->r;
    if (r->kind == ALERT_KIND_DROP && !(in->has & RH_BASELINE))
        r->baseline = r->window;
    if (r->kind != ALERT_KIND_DROP && r->kind != ALERT_KIND_SPIKE)
        return MP_OK;
    int64_t bucket = rules__span_ms(r->baseline.res, 1);
    r->baseline.back = (int)((rules__span_ms(r->window.res, r->window.n) + bucket - 1) / bucket);
    int reach = r->baseline.back + r->baseline.n;
    int held = r->baseline.res == ENG_RES_DAY    ? 14
               : r->baseline.res == ENG_RES_HOUR ? ENG_HOUR_BACK
                                                 : ENG_FINE_BACK + 1;
    if (reach > held)
        return rules__refuse(y, m, path, "baseline",
                             "window plus baseline reach back %d buckets; memory holds %d", reach,
                             held);
    return MP_OK;
}

/* The defaults for what the rule left out, the checks that span keys, then
 * the derived fields. */
static int rules__finish(struct mp_yaml *y, yaml_node_t *m, const char *path,
                         struct rules__in *in, const struct rules__in *defs)
{
    struct alert_rule *r = &in->r;
    int rc;
    if (!(in->has & RH_SCOPES))
        r->scopes = (1u << ENG_SCOPE_TENANT) | (1u << ENG_SCOPE_MAILBOX) | (1u << ENG_SCOPE_DOMAIN);
    if (!(in->has & RH_ENABLED))
        r->enabled = 1;
    if (!(in->has & RH_FOR))
        r->for_ms = defs->r.for_ms;
    if (!(in->has & RH_REPEAT))
        r->repeat_ms = defs->r.repeat_ms;
    if (!(in->has & RH_KEEP))
        r->keep_ms = defs->r.keep_ms;
    if (!(in->has & RH_RATIO))
        r->resolve_ratio_ppb = defs->r.resolve_ratio_ppb;
    if ((rc = rules__check_kind(y, m, path, in)) != MP_OK ||
        (rc = rules__place_baseline(y, m, path, in)) != MP_OK ||
        (rc = rules__check_thresholds(y, m, path, r)) != MP_OK ||
        (rc = rules__check_reachable(m, y, path, r)) != MP_OK)
        return rc;
    alert_rule_derive(r);
    return MP_OK;
}

/* --- the lists ----------------------------------------------------------- */

struct rules__ctx {
    const struct rules__in *defs;
    struct alert_ruleset *rs;
};

/* One walked item of a list, at path sub ("rules[3]"). */
typedef int (*rules__item_fn)(struct mp_yaml *y, yaml_node_t *item, const char *sub, size_t i,
                              struct rules__in *in, struct rules__ctx *c);

/* Walks every item of list v (the top-level key `name`) against keys, then
 * hands what was read to fn. */
static int rules__each(struct mp_yaml *y, yaml_node_t *v, const char *name, bool nonempty,
                       const struct mp_yaml_key *keys, rules__item_fn fn, struct rules__ctx *c)
{
    char q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    if (v->type != YAML_SEQUENCE_NODE || (nonempty && mp_yaml_len(v) == 0))
        return mp_yaml_fail(y, v, name, "expected a %slist of %s, got %s",
                            nonempty ? "non-empty " : "", name, mp_yaml_quote(q, sizeof(q), v));
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        struct rules__in in = {0};
        int rc;
        snprintf(sub, sizeof(sub), "%s[%zu]", name, i);
        if ((rc = mp_yaml_walk(y, item, sub, keys, &in, &in.has)) != MP_OK ||
            (rc = fn(y, item, sub, i, &in, c)) != MP_OK)
            return rc;
    }
    return MP_OK;
}

/* gate: pause (while firing, at any severity) or
 * gate: {action: pause, severity: warning|critical} (critical: only while
 * critical, which needs a critical threshold). */
static int rules__gate_action(const char *s, void *dst)
{
    *(int *)dst = 1;
    return strcmp(s, "pause") == 0 ? 0 : -1;
}

static int rules__gate_sev(const char *s, void *dst)
{
    *(int *)dst = strcmp(s, "warning") == 0    ? ALERT_SEV_WARNING
                  : strcmp(s, "critical") == 0 ? ALERT_SEV_CRITICAL
                                               : 0;
    return *(int *)dst ? 0 : -1;
}

struct rules__gate_in {
    int action, sev;
};
static const struct mp_yaml_key rules__gate_keys[] = {
    {.name = "action", .type = MP_YAML_PARSE, MP_YAML_FIELD(struct rules__gate_in, action),
     .required = true, .parse = rules__gate_action, .what = "pause"},
    {.name = "severity", .type = MP_YAML_PARSE, MP_YAML_FIELD(struct rules__gate_in, sev),
     .parse = rules__gate_sev, .what = "warning or critical"},
    {0},
};

static int rules__gate(struct mp_yaml *y, const char *sub, struct rules__in *in)
{
    char path[MP_YAML_PATH_MAX * 2];
    struct rules__gate_in g = {0, ALERT_SEV_WARNING};
    mp_yaml_join(path, sizeof(path), sub, "gate");
    if (in->gate->type == YAML_SCALAR_NODE) {
        const char *s;
        if (mp_yaml_scalar(y, path, in->gate, "pause or {action: pause, severity: critical}",
                           &s) != MP_OK)
            return MP_ERR_PARSE;
        if (rules__gate_action(s, &g.action) != 0)
            return mp_yaml_expected(y, in->gate, path,
                                    "pause or {action: pause, severity: critical}");
    } else {
        int rc = mp_yaml_walk(y, in->gate, path, rules__gate_keys, &g, NULL);
        if (rc != MP_OK)
            return rc;
    }
    if (g.sev == ALERT_SEV_CRITICAL && !in->r.critical_ppb)
        return mp_yaml_fail(y, in->gate, path,
                            "severity critical, but the rule has no critical threshold");
    in->r.gate_sev = g.sev;
    return MP_OK;
}

static int rules__add_rule(struct mp_yaml *y, yaml_node_t *item, const char *sub, size_t i,
                           struct rules__in *in, struct rules__ctx *c)
{
    int rc = rules__finish(y, item, sub, in, c->defs);
    if (rc == MP_OK && in->gate)
        rc = rules__gate(y, sub, in);
    if (rc != MP_OK)
        return rc;
    if (i >= ALERT_RULES_MAX)
        return mp_yaml_fail(y, item, sub, "at most %d rules", ALERT_RULES_MAX);
    if (alert_ruleset_find(c->rs, in->r.name) >= 0)
        return rules__refuse(y, item, sub, "name", "duplicate rule name \"%s\"", in->r.name);
    if (alert_ruleset_add(c->rs, &in->r) != MP_OK)
        return mp_yaml_nomem(y, item, sub);
    return MP_OK;
}

/* An override changes only what it names, and several may stack: every
 * tunable row present in the override is copied onto the tenant's copy of
 * the rule. The rows' offsets are into struct rules__in, whose rule comes
 * first. */
static int rules__add_override(struct mp_yaml *y, yaml_node_t *item, const char *sub, size_t i,
                               struct rules__in *in, struct rules__ctx *c)
{
    int idx = alert_ruleset_find(c->rs, in->rule);
    if (idx < 0)
        return rules__refuse(y, item, sub, "rule", "no rule named \"%s\" in this file", in->rule);
    struct alert_rule *r = alert_ruleset_override(c->rs, in->tenant, (size_t)idx);
    if (!r)
        return mp_yaml_nomem(y, item, sub);
    for (const struct mp_yaml_key *k = rules__override_keys; k->name; k++)
        if (k->mark & in->has)
            memcpy((char *)r + k->off, (const char *)&in->r + k->off, k->size);
    if ((in->has & RH_RAMP) && r->kind != ALERT_KIND_RAMP)
        return rules__refuse(y, item, sub,
                             in->has & RH_START ? "start" : in->has & RH_STEP ? "step" : "cap",
                             "rule %s is not a ramp rule; only ramp rules take start, step "
                             "and cap", r->name);
    if ((in->has & (RH_FOR | RH_KEEP | RH_MINCOUNT)) &&
        (r->kind == ALERT_KIND_DMARC_RATE || r->kind == ALERT_KIND_DMARC_COUNT))
        return rules__refuse(y, item, sub,
                             in->has & RH_FOR ? "for" : in->has & RH_KEEP ? "keep_firing_for"
                                                                          : "min_count",
                             "rule %s is a %s rule: it takes no %s", r->name,
                             alert_kind_name(r->kind),
                             in->has & RH_FOR ? "for" : in->has & RH_KEEP ? "keep_firing_for"
                                                                          : "min_count");
    int rc = rules__check_thresholds(y, item, sub, r);
    if (rc == MP_OK)
        alert_rule_derive(r);
    return rc;
}

/* --- entry points -------------------------------------------------------- */

static int rules__build(struct mp_yaml *y, struct alert_ruleset **out)
{
    struct alert_ruleset *rs = NULL;
    struct rules__top top = {0};
    struct rules__in defs = {0};
    yaml_node_t *root = mp_yaml_root(y);
    int rc;

    if (root == NULL)
        return mp_yaml_fail_at(y, MP_ERR_PARSE, 1, MP_YAML_TOP,
                               "empty file, expected a mapping with a rules list");
    if ((rc = mp_yaml_walk(y, root, "", rules__top_keys, &top, NULL)) != MP_OK)
        return rc;
    defs.r.repeat_ms = (int64_t)4 * 3600 * 1000;
    defs.r.resolve_ratio_ppb = 900000000;
    if (top.defaults &&
        (rc = mp_yaml_walk(y, top.defaults, "defaults", rules__defaults_keys, &defs, NULL)) != MP_OK)
        return rc;
    if ((rc = alert_ruleset_new(&rs)) != MP_OK)
        return mp_yaml_fail_at(y, rc, 1, MP_YAML_TOP, "out of memory");
    struct rules__ctx c = {&defs, rs};
    if ((rc = rules__each(y, top.rules, "rules", true, rules__rule_keys, rules__add_rule, &c)) !=
            MP_OK ||
        (top.overrides && (rc = rules__each(y, top.overrides, "overrides", false,
                                            rules__override_keys, rules__add_override, &c)) !=
                              MP_OK)) {
        alert_ruleset_free(rs);
        return rc;
    }
    *out = rs;
    return MP_OK;
}

static int rules__invalid(const char *file, const char *fn, char *err, size_t errlen)
{
    if (err && errlen)
        snprintf(err, errlen, "%s: %s: invalid argument", file ? file : "(null)", fn);
    return MP_ERR_INVAL;
}

int alert_rules_load(const char *path, struct alert_ruleset **out, char *err, size_t errlen)
{
    struct mp_yaml *y;
    if (err && errlen)
        err[0] = '\0';
    if (path == NULL || out == NULL)
        return rules__invalid(path, "alert_rules_load", err, errlen);
    int rc = mp_yaml_open(path, &y, err, errlen);
    if (rc != MP_OK)
        return rc;
    rc = rules__build(y, out);
    mp_yaml_close(y);
    return rc;
}

int alert_rules_parse(const char *name, const char *text, size_t len,
                      struct alert_ruleset **out, char *err, size_t errlen)
{
    struct mp_yaml *y;
    if (err && errlen)
        err[0] = '\0';
    if (name == NULL || (text == NULL && len) || out == NULL)
        return rules__invalid(name, "alert_rules_parse", err, errlen);
    int rc = mp_yaml_open_mem(name, text, len, &y, err, errlen);
    if (rc != MP_OK)
        return rc;
    rc = rules__build(y, out);
    mp_yaml_close(y);
    return rc;
}

int alert_ruleset_defaults(struct alert_ruleset **out)
{
    char err[512];
    int rc = alert_rules_parse("rules.example.yaml (built in)", alert_rules_example,
                               alert_rules_example_len, out, err, sizeof(err));
    /* Only a broken build gets here: the example is parsed by the tests. */
    if (rc != MP_OK)
        mp_error("rules_defaults err=%s", MP_LOG_Q(err));
    return rc;
}
