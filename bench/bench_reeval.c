/* bench_reeval — the re-evaluation of every key after a start or a reload
 * (issue 11), in process, with the real key table and evaluator.
 *
 * Fills a table with --keys keys (tenants of 25 mailboxes and 25 recipient
 * domains, as the other benches; one sent, one delivered and one hard
 * bounce per mailbox/domain pair, so every rule has data to sum and none
 * fires), starts the evaluator with the default rules and times:
 *   start        the walk at start: every key, every rule;
 *   one_rule     a reload that lowers bounce_rate's warning for everyone:
 *                every key, one rule;
 *   one_tenant   a reload that adds an override for one tenant: every id
 *                visited, that tenant's keys evaluated;
 *   unchanged    a reload with the same rules: no walk at all.
 * For each: the wall time from alert_eval_reload() (or the start) to the
 * walk's end, the evaluator thread's CPU in the walk's slices, and the keys
 * it evaluated.
 *
 * Prints:  bench_reeval keys=… case=… keys_evaluated=… wall_ms=… cpu_ms=…
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert_eval.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "bench_common.h"
#include "eng_table.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_reeval: %s\n", what);
    exit(1);
}

static void noop_key(void *arg, struct eng_key *k)
{
    (void)arg;
    (void)k;
}

static struct alert_routes *route0(void)
{
    struct alert_routes *r;
    size_t idx = 0;
    if (alert_routes_create(&r) != MP_OK || alert_routes_set_default(r, &idx, 1) != MP_OK)
        die("routes");
    return r;
}

static void fill(struct eng_table *t, uint32_t tenants, int64_t now)
{
    struct eng_thread *th;
    struct eng_frame *fr;
    if (eng_thread_register(t, &th) != MP_OK || eng_frame_create(&fr) != MP_OK)
        die("thread");
    eng_thread_online(th);
    char tn[BENCH_NAME_MAX], mb[BENCH_NAME_MAX], dm[BENCH_NAME_MAX];
    static const int types[] = {ENG_SENT, ENG_DELIVERED, ENG_BOUNCE_HARD};
    int in_frame = 0;
    for (uint32_t ti = 0; ti < tenants; ti++) {
        bench_name_tenant(tn, ti);
        for (uint32_t j = 0; j < BENCH_MAILBOXES; j++) {
            bench_name_mailbox(mb, ti, j);
            bench_name_domain(dm, ti, j);
            for (size_t x = 0; x < MP_ARRAY_LEN(types); x++) {
                struct eng_event ev = {.tenant = tn, .tenant_len = strlen(tn),
                                       .mailbox = mb, .mailbox_len = strlen(mb),
                                       .domain = dm, .domain_len = strlen(dm),
                                       .type = types[x], .time_ms = now};
                if (eng_frame_record(t, fr, &ev) != MP_OK)
                    die("record");
                if (++in_frame == BENCH_BATCH) {
                    eng_frame_end(t, fr);
                    in_frame = 0;
                }
            }
        }
    }
    eng_frame_end(t, fr);
    eng_thread_offline(th);
    eng_frame_destroy(fr);
}

/* Waits for walk number `walks` (or, when none is due, for the reload to be
 * taken) and prints the figures. */
static void report(struct alert_eval *e, uint32_t nkeys, const char *name, uint64_t walks,
                   uint64_t reloads, uint64_t keys_before, int64_t t0)
{
    struct alert_eval_figures f;
    for (;;) {
        alert_eval_figures(e, &f);
        if (f.walks >= walks && f.reloads >= reloads)
            break;
        usleep(200);
    }
    double wall = (double)(mp_mono_ns() - t0) / 1e6;
    int walked = walks > 0 && f.walks >= walks;
    printf("bench_reeval keys=%u case=%s walked=%s keys_evaluated=%llu wall_ms=%.1f "
           "walk_ms=%.1f cpu_ms=%.1f\n",
           nkeys, name, walked ? "yes" : "no",
           (unsigned long long)(walked ? f.walk_keys - keys_before : 0), wall,
           walked ? (double)f.walk_last_ns / 1e6 : 0.0,
           walked ? (double)f.walk_last_cpu_ns / 1e6 : 0.0);
    fflush(stdout);
}

static struct alert_ruleset *defaults_with(uint64_t bounce_warning_ppb, const char *tenant)
{
    struct alert_ruleset *def, *rs;
    if (alert_ruleset_defaults(&def) != MP_OK || alert_ruleset_new(&rs) != MP_OK)
        die("rules");
    for (size_t i = 0; i < alert_ruleset_count(def); i++) {
        struct alert_rule r = alert_ruleset_for(def, "")[i];
        if (strcmp(r.name, "bounce_rate") == 0 && bounce_warning_ppb)
            r.warning_ppb = bounce_warning_ppb;
        if (alert_ruleset_add(rs, &r) != MP_OK)
            die("add");
    }
    if (tenant) {
        struct alert_rule *o = alert_ruleset_override(rs, tenant, 0);
        if (!o)
            die("override");
        o->warning_ppb /= 2;
        alert_rule_derive(o);
    }
    alert_ruleset_free(def);
    return rs;
}

/* One reload case: reload to rs, then report it against the walks and
 * reloads it must reach (the keys evaluated counted from before it). */
static void reload_case(struct alert_eval *e, const struct alert_receiver *rcv,
                        struct alert_ruleset *rs, uint32_t nkeys, const char *name,
                        uint64_t walks, uint64_t reloads)
{
    struct alert_eval_figures f;
    alert_eval_figures(e, &f);
    int64_t t0 = mp_mono_ns();
    if (alert_eval_reload(e, rs, rcv, 1, route0()) != MP_OK)
        die("reload");
    report(e, nkeys, name, walks, reloads, f.walk_keys, t0);
}

int main(int argc, char **argv)
{
    uint64_t want_keys = 1000000;
    const struct bench_opt opts[] = {{"keys", 'k', BENCH_OPT_U64, &want_keys}};
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts), "usage: bench_reeval [--keys N]\n");
    if (ex >= 0)
        return ex;
    if (want_keys < BENCH_KEYS_PER_TENANT || want_keys > 50000000)
        die("--keys 51..50000000");
    uint32_t tenants = (uint32_t)(want_keys / BENCH_KEYS_PER_TENANT);
    uint32_t max_keys = (uint32_t)want_keys + 1024;
    int64_t now = mp_now_ms();
    struct eng_table *t;
    struct eng_table_opts to = {.max_keys = max_keys, .retention_ms = 35 * ENG_DAY_MS};
    if (eng_table_create(&to, now, &t) != MP_OK)
        die("table");
    fill(t, tenants, now);
    /* the fill's dirty marks: taken here, so the start times the walk alone */
    eng_table_drain_dirty(t, noop_key, NULL);
    uint32_t nkeys = eng_table_nkeys(t);

    struct alert_receiver rcv = {.name = "nowhere", .type = ALERT_RECEIVER_WEBHOOK,
                                 .url = "http://127.0.0.1:9/never"};
    struct alert_sender_opts so = {.backoff_ms = 50, .backoff_max_ms = 200, .timeout_ms = 1000,
                                   .max_age_ms = 60000, .slack_interval_ms = 1000};
    struct alert_sender *s;
    if (alert_sender_start(&rcv, 1, &so, &s) != MP_OK)
        die("sender");
    struct alert_ruleset *def;
    if (alert_ruleset_defaults(&def) != MP_OK)
        die("defaults");
    struct alert_eval_opts eo = {.rules = def, .receivers = &rcv, .nreceivers = 1,
                                 .routes = route0(), .max_keys = max_keys};
    struct alert_eval *e;
    int64_t t0 = mp_mono_ns();
    if (alert_eval_start(t, s, &eo, &e) != MP_OK)
        die("evaluator");
    report(e, nkeys, "start", 1, 0, 0, t0);

    reload_case(e, &rcv, defaults_with(ALERT_PPB / 100, NULL), nkeys, "one_rule", 2, 1);
    char tn[BENCH_NAME_MAX];
    bench_name_tenant(tn, tenants / 2);
    reload_case(e, &rcv, defaults_with(ALERT_PPB / 100, tn), nkeys, "one_tenant", 3, 2);
    reload_case(e, &rcv, defaults_with(ALERT_PPB / 100, tn), nkeys, "unchanged", 0, 3);
    struct alert_eval_figures f;
    alert_eval_figures(e, &f);
    if (f.walks != 3)
        die("a reload with the same rules walked");

    alert_eval_stop(e);
    alert_sender_stop(s, 100);
    eng_table_destroy(t);
    return 0;
}
