/* fuzz_rules.c — libFuzzer target for the rules file parser
 * (alerts/alert_rules_file.h), which links the alert side only.
 *
 * Feeds any bytes to alert_rules_parse() (the same walk alert_rules_load()
 * runs on a file's bytes) and aborts when the contract breaks: a refusal
 * must come with one non-empty line "file:line: key: ..." and no rule set;
 * an accepted file must give 1..ALERT_RULES_MAX uniquely named rules whose
 * thresholds are ordered and whose windows lie within the in-memory rings.
 *
 * Built with -DFUZZ_WRITE_SEEDS instead, the file is a small program that
 * writes the hostile part of the seed corpus (tests/fuzz/corpus/rules,
 * `make fuzz-seeds`) into the directory named by argv[1]: nesting at and
 * past MP_YAML_MAX_DEPTH (64) in block and flow style, 100,000 levels of
 * flow nesting (the 200 KB file of issue 9), a long flow sequence, anchors
 * and aliases (a "billion laughs" bomb, an aliased rule), a 64 KB scalar.
 * It needs nothing but libc.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef FUZZ_WRITE_SEEDS
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
#else /* FUZZ_WRITE_SEEDS */

/* One valid rule, the body the hostile seeds wrap or repeat. */
#define SEED_RULE                                                                 \
    "  - name: hard\n    kind: ratio\n    numerator: [bounce_hard]\n"             \
    "    denominator: [sent]\n    window: 1h\n    warning: 2%\n    critical: 4%\n"

static FILE *seeds__open(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return fopen(path, "wb");
}

static int seeds__close(FILE *f) { return f && !ferror(f) && fclose(f) == 0 ? 0 : -1; }

static int seeds__text(const char *dir, const char *name, const char *text)
{
    FILE *f = seeds__open(dir, name);
    if (f)
        fputs(text, f);
    return seeds__close(f);
}

/* `rules: []` under `depth` block mappings "a:", 2 spaces each: depth + 2
 * levels with the top-level mapping and the list. */
static int seeds__block_nest(const char *dir, const char *name, int depth)
{
    FILE *f = seeds__open(dir, name);
    if (!f)
        return -1;
    for (int i = 0; i < depth; i++)
        fprintf(f, "%*sa:\n", 2 * i, "");
    fprintf(f, "%*srules: []\n", 2 * depth, "");
    return seeds__close(f);
}

/* rules: [[[ ... ]]], `depth` flow sequences: depth + 1 levels. */
static int seeds__flow_nest(const char *dir, const char *name, long depth)
{
    FILE *f = seeds__open(dir, name);
    if (!f)
        return -1;
    fputs("rules: ", f);
    for (long i = 0; i < depth; i++)
        fputc('[', f);
    for (long i = 0; i < depth; i++)
        fputc(']', f);
    fputc('\n', f);
    return seeds__close(f);
}

/* A billion-laughs style bomb after one valid rule: each level aliases the
 * one before ten times, nine levels deep (10^9 nodes if expanded). */
static int seeds__bomb(const char *dir, const char *name)
{
    FILE *f = seeds__open(dir, name);
    if (!f)
        return -1;
    fputs("rules:\n" SEED_RULE "overrides:\n  t0: &a0 [lol]\n", f);
    for (int i = 1; i <= 9; i++) {
        fprintf(f, "  t%d: &a%d [", i, i);
        for (int j = 0; j < 10; j++)
            fprintf(f, "%s*a%d", j ? ", " : "", i - 1);
        fputs("]\n", f);
    }
    return seeds__close(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *d = argv[1];
    int rc = 0;
    rc |= seeds__text(d, "one-rule.yaml", "rules:\n" SEED_RULE);
    rc |= seeds__text(d, "flow-rule.yaml",
                      "rules: [{name: r, kind: count, numerator: [complaint], window: 5m, "
                      "warning: 1, critical: 3}]\n");
    rc |= seeds__text(d, "alias-rule.yaml",
                      "rules:\n  - &r\n    name: hard\n    kind: ratio\n"
                      "    numerator: &n [bounce_hard]\n    denominator: [sent]\n"
                      "    window: 1h\n    warning: 2%\n  - *r\n"
                      "  - {name: soft, kind: ratio, numerator: *n, denominator: [sent], "
                      "window: 1h, warning: 3%}\n");
    rc |= seeds__bomb(d, "alias-bomb.yaml");
    /* at the depth limit and one past it, block and flow */
    rc |= seeds__block_nest(d, "nest-block-64-levels.yaml", 62);
    rc |= seeds__block_nest(d, "nest-block-65-levels.yaml", 63);
    rc |= seeds__flow_nest(d, "nest-flow-64-levels.yaml", 63);
    rc |= seeds__flow_nest(d, "nest-flow-65-levels.yaml", 64);
    rc |= seeds__flow_nest(d, "nest-flow-100k.yaml", 100000);
    /* a long flow sequence: 10,000 types in one numerator */
    FILE *f = seeds__open(d, "flow-long-seq.yaml");
    if (f) {
        fputs("rules: [{name: r, kind: count, window: 5m, warning: 1, numerator: [", f);
        for (int i = 0; i < 10000; i++)
            fputs(i ? ", bounce_hard" : "bounce_hard", f);
        fputs("]}]\n", f);
    }
    rc |= seeds__close(f);
    /* a 64 KB rule name */
    f = seeds__open(d, "long-name.yaml");
    if (f) {
        fputs("rules:\n  - name: ", f);
        for (int i = 0; i < 65536; i++)
            fputc('n', f);
        fputs("\n    kind: count\n    numerator: [complaint]\n    window: 5m\n"
              "    warning: 1\n", f);
    }
    rc |= seeds__close(f);
    if (rc != 0)
        fprintf(stderr, "could not write the seeds into %s\n", d);
    return rc ? 1 : 0;
}
#endif
