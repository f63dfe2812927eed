/* alert_testkit.h — the alerts' renderer suites' shared fixtures
 * (test_alert_notify, _slack, _pagerduty, _email).
 *
 * Contract: atk_instance() builds a firing bounce_rate alert of tenant
 * team-a from `rules` (the built-in defaults): `bounces` of `sent` over the
 * rule's window, at the severity that value reaches, started ATK_T_START.
 * atk_parsed() parses a built body as JSON (and frees the body), failing
 * the case when it is not JSON; the caller json_decref()s the result.
 * atk_jstr() is a string member, or NULL. atk_alerts_summary() writes a
 * webhook body's alerts as "<status>:<label>:<label>..." (the labels named,
 * "(null)" where one is missing) joined by ' ', for one strcmp against what
 * a case expects (test_alert_eval, test_e2e_groups). atk_bench_start()
 * builds what the evaluator suites (test_alert_eval, _ext) run against: a
 * fresh temp dir named after `tag` with a store, a table of max_keys over
 * it (35 days' retention), a test receiver on a free port, and a sender
 * with short backoffs posting to it as a copy of `hook` whose url is the
 * receiver's /hook (in b->url); atk_bench_stop() stops and frees them in
 * reverse order. atk_rule() is an enabled rule `name` of `kind` at tenant
 * scope over 1h counting num_types (the rest 0, for the case to set);
 * atk_ruleset_of() a set of rules[0..n); atk_hook_route() the routes of
 * every tenant to receiver 0. Check's assertions, any case.
 */
#ifndef ALERT_TESTKIT_H
#define ALERT_TESTKIT_H

#include <jansson.h>
#include <stdint.h>

#include "alert_notify.h"
#include "alert_rule.h"

#define ATK_T_START 1795364356150LL /* 2026-11-22T16:19:16.150Z */

struct alert_instance atk_instance(const struct alert_ruleset *rules, const char *mailbox,
                                   const char *domain, uint64_t sent, uint64_t bounces);
json_t *atk_parsed(char *body);
const char *atk_jstr(json_t *o, const char *key);
/* labels: NULL-terminated label names. */
void atk_alerts_summary(json_t *body, const char *const *labels, char *out, size_t n);

struct alert_receiver;
struct alert_sender;
struct eng_store;
struct eng_table;
struct hrx;

struct atk_bench {
    char dir[512], url[128];
    struct eng_store *store;
    struct eng_table *table;
    struct hrx *sink;
    struct alert_sender *sender;
};

struct alert_rule atk_rule(const char *name, int kind, unsigned num_types);
struct alert_ruleset *atk_ruleset_of(const struct alert_rule *rules, size_t n);
struct alert_routes *atk_hook_route(void);

void atk_bench_start(struct atk_bench *b, const char *tag, size_t max_keys,
                     const struct alert_receiver *hook);
void atk_bench_stop(struct atk_bench *b);

#endif
