/* alert_rule.h — alarm rules, rule sets with per-tenant overrides, and the
 * evaluation of one rule on one key.
 *
 * Contract: a rule is immutable config (netdata's split: config apart from
 * runtime state). alert_rule_eval() is a pure function of a rule and a key's
 * window sums: it computes the value and the severity the value reaches,
 * comparing exactly in integers (20 of 1000 is exactly 2%, never 1.9999%).
 * Every value is carried in parts per billion (ppb): a rate of 2% is
 * 20,000,000; a count of 3 is 3e9; a factor of 3x is 3e9. Thresholds are in
 * the same unit, so one comparison serves every kind.
 *
 * Kinds:
 *   ratio  sum(num types) / sum(den types) over `window`; den >= min_volume.
 *   count  sum(num types) over `window`; count >= min_volume (0: any).
 *   drop   the relative fall of num/den from `baseline` to `window`:
 *          1 - (num/den) / (base_num/base_den); both dens >= min_volume and
 *          base_num > 0. engagement_drop: 20% is 200,000,000.
 *   spike  the current rate (or count, without den types) over `window`
 *          against the average of `baseline`: rate / base_rate, or
 *          count / (base_count per window length); den (count) >= min_volume,
 *          num >= min_count, and for rates base_den >= min_volume (a zero
 *          baseline rate counts as one event, so a first burst of
 *          unsubscribes reads as a large, finite factor). A count spike needs
 *          some history (base count > 0): a sender new to mailpulse has no
 *          baseline, and alerting on every new tenant would be a storm.
 *   trend  num/den per UTC day for the last `days`+1 complete days (today
 *          excluded: it is partial); the value is the last day's rate when
 *          it rose on each of the `days` days, each day's den >= min_volume,
 *          else 0.
 *   ramp   a warm-up ramp: today's (UTC) num against the key's allowance,
 *          start + step x (days since the key's first event), at most cap;
 *          the value is the factor num / allowance, and there is something
 *          to say only once num exceeds the allowance (and >= min_volume).
 *          The first-seen day is the engine's (eng_key_age_days): kept
 *          across restarts and eviction, longer than the retention. A
 *          mailbox or domain key first seen on its tenant's first day is
 *          not judged: it was sending before mailpulse counted the tenant.
 *   dmarc_rate, dmarc_count  read DMARC aggregate report counts
 *          (engine/eng_dmarc.h), not the event counters: `count` (one
 *          enum eng_dmarc_count, e.g. dmarc_fail) over the messages of the
 *          window's days, or that count alone. alert_rule_eval() leaves them
 *          alone (scopes 0: the counter evaluator never reads them);
 *          alert_dmarc.h evaluates them.
 *
 * A firing alert resolves when its data fall under min_volume or its value
 * falls below resolve_ppb (resolve_ratio times the lowest threshold set):
 * that gap is the hysteresis that stops flapping around a threshold.
 *
 * Rule sets: the base rules plus, per tenant with overrides, a full copy of
 * the rules with that tenant's changes. Immutable once built; any thread.
 */
#ifndef ALERT_RULE_H
#define ALERT_RULE_H

#include <stddef.h>
#include <stdint.h>

#include "eng_table.h"
#include "eng_types.h"

/* Stable numbers: they reach disk with alert state. */
enum alert_severity { ALERT_SEV_NONE = 0, ALERT_SEV_WARNING = 1, ALERT_SEV_CRITICAL = 2 };
enum alert_kind {
    ALERT_KIND_RATIO = 0,
    ALERT_KIND_COUNT = 1,
    ALERT_KIND_DROP = 2,
    ALERT_KIND_SPIKE = 3,
    ALERT_KIND_TREND = 4,
    ALERT_KIND_RAMP = 5,
    ALERT_KIND_DMARC_RATE = 6,  /* DMARC reports, not counters: alert_dmarc.h */
    ALERT_KIND_DMARC_COUNT = 7,
};
#define ALERT_KIND_LAST ALERT_KIND_DMARC_COUNT

#define ALERT_PPB 1000000000ULL
#define ALERT_NAME_MAX 64
#define ALERT_RULES_MAX 64

/* A window as eng_key_sum() takes it: `n` buckets of resolution `res`
 * ending `back` buckets before the current one. */
struct alert_window {
    int res, back, n;
    char text[16]; /* "1h", "24h", "7d": as users read it */
};

struct alert_rule {
    char name[ALERT_NAME_MAX];      /* unique in a set; the "rule" label */
    char alertname[ALERT_NAME_MAX]; /* the alertname label (often == name) */
    int kind;                       /* enum alert_kind */
    int enabled;
    unsigned scopes;    /* bit (1u << ENG_SCOPE_*) per scope evaluated */
    unsigned num_types; /* bit (1u << type) per numerator event type */
    unsigned den_types; /* bit (1u << type) per denominator event type (0: none) */
    struct alert_window window;
    struct alert_window baseline; /* drop, spike */
    int days;                     /* trend */
    uint64_t ramp_start, ramp_step, ramp_cap; /* ramp: the allowance per day */
    uint64_t min_volume;
    uint64_t min_count;
    uint64_t warning_ppb;  /* 0: no warning level */
    uint64_t critical_ppb; /* 0: no critical level */
    uint64_t resolve_ratio_ppb;
    uint64_t resolve_ppb; /* derived: resolve_ratio * lowest threshold */
    int64_t for_ms;       /* pending this long before firing (0: at once) */
    int64_t repeat_ms;    /* reminder after this long firing (0: never) */
    int64_t keep_ms;      /* keep_firing_for: a firing alert resolves only after its
                             value stayed under the resolve line this long (0: at once) */
    int gate_sev;         /* the send gate (alert_gate.h): 0 none; ALERT_SEV_WARNING: its
                             firing alerts pause what they cover; ALERT_SEV_CRITICAL: only
                             while critical (rules file: gate: pause | {action, severity}) */
    int dmarc_count;      /* dmarc kinds: the enum eng_dmarc_count counted */
    char num_label[48];   /* "bounce_hard", "open+click+reply": for summaries */
    char den_label[48];
};

struct alert_value {
    uint64_t num, den;           /* over the window (trend: the last day; ramp: den is
                                    today's allowance) */
    uint64_t base_num, base_den; /* over the baseline (drop, spike; trend: the day before;
                                    ramp: base_num is the day of the warm-up, 0 the first) */
    uint64_t value_ppb;
    int severity; /* enum alert_severity the value reaches (NONE without enough data) */
    int enough;   /* the volume conditions hold */
};

/* Window sums of one key, computed once per (res, back, n) however many
 * rules ask. Fill with alert_sums_init() right before the evaluation, on a
 * consistent read of the key (eng_key_read_begin/_end). */
#define ALERT_SUMS_MAX 24
struct alert_sums {
    const struct eng_table *t;
    const struct eng_key *k;
    int n;
    struct {
        int res, back, len;
        unsigned types; /* the types c holds (others read 0) */
        uint64_t c[ENG_NTYPES];
    } w[ALERT_SUMS_MAX];
};
void alert_sums_init(struct alert_sums *s, const struct eng_table *t, const struct eng_key *k);

void alert_rule_eval(const struct alert_rule *r, struct alert_sums *s, struct alert_value *out);
/* v's severity from its value against r's lines (critical first), when it
 * has enough volume: the last step of alert_rule_eval, shared with the
 * DMARC rules' decisions (alert_dmarc.h). */
void alert_rule_level(const struct alert_rule *r, struct alert_value *v);
/* 1 when a firing alert with this value should resolve. */
int alert_rule_resolves(const struct alert_rule *r, const struct alert_value *v);
/* Sets resolve_ppb from the thresholds and resolve_ratio_ppb. */
void alert_rule_derive(struct alert_rule *r);

/* "5m".."60m" (multiples of 5), "1h".."24h", "1d".."14d" -> window (back 0).
 * 0, or -1 when not one of those. */
int alert_window_parse(const char *s, struct alert_window *w);
/* Formats a value of rule `r` for people: "0.08" (fractions), "3" (counts),
 * "4.5" (factors). */
void alert_format_rule_value(const struct alert_rule *r, uint64_t ppb, char *buf, size_t n);
const char *alert_kind_name(int kind);
int alert_kind_parse(const char *s, int *kind);

/* ---- rule sets ---- */

struct alert_ruleset;

/* The default rules: rules.example.yaml, compiled into the binary and parsed
 * by the rules file parser (defined in alert_rules_file.c), so the defaults
 * are exactly what the example spells out. MP_OK, MP_ERR_NOMEM, or
 * MP_ERR_PARSE (a broken build; the reason is logged). */
int alert_ruleset_defaults(struct alert_ruleset **out);
/* An empty set to fill with add/override; MP_ERR_NOMEM. */
int alert_ruleset_new(struct alert_ruleset **out);
/* Adds a copy of `r` (derived). MP_ERR_INVAL: duplicate name or full. */
int alert_ruleset_add(struct alert_ruleset *rs, const struct alert_rule *r);
/* The tenant's copy of rule `idx`, created from the base rule on first use;
 * the caller changes it in place, then calls alert_rule_derive(). Call after
 * every add. NULL: out of memory or bad idx. */
struct alert_rule *alert_ruleset_override(struct alert_ruleset *rs, const char *tenant,
                                          size_t idx);
void alert_ruleset_free(struct alert_ruleset *rs);

size_t alert_ruleset_count(const struct alert_ruleset *rs);
/* Index of the rule named `name`, or -1. */
int alert_ruleset_find(const struct alert_ruleset *rs, const char *name);
/* The rules that apply to `tenant` (its overrides, else the base rules):
 * alert_ruleset_count() entries, same order and names as the base. */
const struct alert_rule *alert_ruleset_for(const struct alert_ruleset *rs, const char *tenant);
size_t alert_ruleset_noverrides(const struct alert_ruleset *rs); /* tenants with overrides */
/* The i-th tenant with overrides (i < noverrides), in strcmp order. */
const char *alert_ruleset_tenant(const struct alert_ruleset *rs, size_t i);
/* Which of the rules `nw` (n entries, ALERT_RULES_MAX at most) a switch
 * from the rules `old` (nold entries) changes: bit i set when nw[i] is new
 * by name or differs in anything from the old rule of that name. Cheap and
 * conservative: a bit set for a change that does not matter costs one
 * evaluation, never a missed one. */
uint64_t alert_rules_changed(const struct alert_rule *old, size_t nold,
                             const struct alert_rule *nw, size_t n);

/* Formats a fraction in ppb as a plain decimal ("0.02"), no exponent. */
void alert_format_ppb(uint64_t ppb, char *buf, size_t n);
/* Formats a value as a plain decimal with up to 6 decimals ("0.08"). */
void alert_format_value(double v, char *buf, size_t n);

#endif
