/* fuzz_rules.c — libFuzzer target for the rules file parser
 * (alerts/alert_rules_file.h), which links the alert side only.
 *
 * Feeds any bytes to alert_rules_parse() (the same walk alert_rules_load()
 * runs on a file's bytes) and aborts when the contract breaks: a refusal
 * must come with one non-empty line "file:line: key: ..." and no rule set;
 * an accepted file must give 1..ALERT_RULES_MAX uniquely named rules whose
 * thresholds are ordered and whose windows lie within the in-memory rings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_rule.h"
#include "alert_rules_file.h"

#define NAME "fuzz.yaml"

static void check(const struct alert_ruleset *rs)
{
    size_t n = alert_ruleset_count(rs);
    if (n < 1 || n > ALERT_RULES_MAX)
        abort();
    const struct alert_rule *r = alert_ruleset_for(rs, "fuzz-tenant");
    for (size_t i = 0; i < n; i++) {
        if (alert_ruleset_find(rs, r[i].name) != (int)i)
            abort();
        if (!r[i].warning_ppb && !r[i].critical_ppb)
            abort();
        if (r[i].warning_ppb && r[i].critical_ppb && r[i].warning_ppb >= r[i].critical_ppb)
            abort();
        if (r[i].kind < ALERT_KIND_RATIO || r[i].kind > ALERT_KIND_TREND || !r[i].num_types)
            abort();
        if (r[i].kind != ALERT_KIND_TREND && (r[i].window.n < 1 || r[i].window.back != 0))
            abort();
        if (r[i].resolve_ppb > (r[i].warning_ppb ? r[i].warning_ppb : r[i].critical_ppb))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct alert_ruleset *rs = NULL;
    char err[1024] = "";
    int rc = alert_rules_parse(NAME, (const char *)data, size, &rs, err, sizeof(err));
    if (rc == MP_OK) {
        if (!rs)
            abort();
        check(rs);
        alert_ruleset_free(rs);
    } else {
        if (rs || strncmp(err, NAME ":", strlen(NAME ":")) != 0 || strchr(err, '\n'))
            abort();
    }
    return 0;
}
