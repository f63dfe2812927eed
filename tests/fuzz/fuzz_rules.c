/* fuzz_rules.c — libFuzzer target for the rules file parser.
 *
 * Feeds any bytes to mp_config_load_rules() (through a file: the loader
 * takes a path) and aborts when the contract breaks: a refusal must come
 * with one non-empty line "file:line: key: ..." and no rule set; an accepted
 * file must give 1..ALERT_RULES_MAX uniquely named rules whose thresholds
 * are ordered and whose windows lie within the in-memory rings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_rule.h"
#include "mp_config.h"

static char path[64];

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
    if (!path[0])
        snprintf(path, sizeof(path), "/tmp/fuzz_rules.%d.yaml", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    struct alert_ruleset *rs = NULL;
    char err[1024] = "";
    int rc = mp_config_load_rules(path, &rs, err, sizeof(err));
    if (rc == MP_OK) {
        if (!rs)
            abort();
        check(rs);
        alert_ruleset_free(rs);
    } else {
        if (rs || strncmp(err, path, strlen(path)) != 0 || strchr(err, '\n'))
            abort();
    }
    return 0;
}
