/* alert_eval_walk.c — re-evaluation after a reload or the start (see
 * alert_eval.h; the shared state is in alert_eval_impl.h).
 *
 * Dirty keys and the sweep only see keys that had an event or hold an alert;
 * a rule set that changed must also reach the quiet keys it now judges
 * differently (a threshold lowered under a tenant's rate, an override that
 * re-enables a rule). So a switch starts a walk: a cursor over key ids,
 * advanced in slices of at most WALK_SLICE_KEYS keys and WALK_SLICE_NS of
 * time per evaluator pass (the thread does not sleep between slices), so
 * dirty keys keep their millisecond latency however many keys the walk has.
 *
 * Cost follows what changed: each key is evaluated for the rules whose
 * definition changed for its own tenant only (alert_rules_changed), and a
 * reload that changes no rule (receivers, routes) walks nothing.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert_eval_impl.h"
#include "mp_log.h"

#define WALK_SLICE_KEYS 8192
#define WALK_SLICE_IDS 65536 /* ids visited, keys or holes */
#define WALK_SLICE_NS (2 * 1000 * 1000)

static int64_t walk__cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void alert_walk_free(struct alert_eval *e)
{
    for (size_t i = 0; i < e->nwalk_t; i++)
        free(e->walk_t[i].tenant);
    free(e->walk_t);
    e->walk_t = NULL;
    e->nwalk_t = 0;
    e->walk_next = 0;
    e->walk_last_tenant = NULL;
}

static int walk__cmp(const void *a, const void *b)
{
    return strcmp(((const struct walk_tenant *)a)->tenant, ((const struct walk_tenant *)b)->tenant);
}

static int walk__has(const struct alert_eval *e, const char *tenant)
{
    for (size_t i = 0; i < e->nwalk_t; i++)
        if (strcmp(e->walk_t[i].tenant, tenant) == 0)
            return 1;
    return 0;
}

/* The per-tenant masks of every tenant with overrides in either set. */
static int walk__tenants(struct alert_eval *e, const struct alert_ruleset *old)
{
    const struct alert_ruleset *rs[2] = {old, e->cfg.rules};
    size_t nold = alert_ruleset_count(old), n = e->nrules;
    size_t cap = alert_ruleset_noverrides(old) + alert_ruleset_noverrides(e->cfg.rules);
    if (!cap)
        return MP_OK;
    if (!(e->walk_t = calloc(cap, sizeof(*e->walk_t))))
        return MP_ERR_NOMEM;
    for (int s = 0; s < 2; s++)
        for (size_t i = 0; i < alert_ruleset_noverrides(rs[s]); i++) {
            const char *ten = alert_ruleset_tenant(rs[s], i);
            if (walk__has(e, ten))
                continue;
            struct walk_tenant *w = &e->walk_t[e->nwalk_t];
            if (!(w->tenant = strdup(ten)))
                return MP_ERR_NOMEM;
            w->mask = alert_rules_changed(alert_ruleset_for(old, ten), nold,
                                          alert_ruleset_for(e->cfg.rules, ten), n);
            e->nwalk_t++;
        }
    qsort(e->walk_t, e->nwalk_t, sizeof(*e->walk_t), walk__cmp);
    return MP_OK;
}

void alert_walk_begin(struct alert_eval *e, const struct alert_ruleset *old)
{
    int widen = e->walk_next != 0 || !old;
    alert_walk_free(e);
    e->walk_base = ALERT_EVAL_ALL;
    if (!widen) {
        e->walk_base = alert_rules_changed(alert_ruleset_for(old, ""), alert_ruleset_count(old),
                                           e->cfg.rules ? alert_ruleset_for(e->cfg.rules, "")
                                                        : NULL,
                                           e->nrules);
        if (walk__tenants(e, old) != MP_OK) {
            mp_error("alert_walk_nomem: every key is re-evaluated for every rule");
            alert_walk_free(e);
            e->walk_base = ALERT_EVAL_ALL;
        }
    }
    uint64_t any = e->walk_base;
    for (size_t i = 0; i < e->nwalk_t; i++)
        any |= e->walk_t[i].mask;
    if (!any) {
        alert_walk_free(e); /* receivers or routes only: nothing to re-evaluate */
        return;
    }
    e->walk_next = 1;
    e->walk_t0 = mp_mono_ns();
    e->walk_cpu = 0;
    e->walk_nkeys = 0;
}

/* The rules to evaluate for a key of `tenant`. */
static uint64_t walk__mask(struct alert_eval *e, const char *tenant)
{
    if (tenant == e->walk_last_tenant)
        return e->walk_last_mask;
    uint64_t m = e->walk_base;
    if (e->nwalk_t) {
        struct walk_tenant key = {.tenant = (char *)tenant};
        const struct walk_tenant *w =
            bsearch(&key, e->walk_t, e->nwalk_t, sizeof(*e->walk_t), walk__cmp);
        if (w)
            m = w->mask;
    }
    e->walk_last_tenant = tenant; /* interned: one pointer per tenant for the table's life */
    e->walk_last_mask = m;
    return m;
}

size_t alert_walk_step(struct alert_eval *e, int64_t now)
{
    if (!e->walk_next)
        return 0;
    int64_t c0 = walk__cpu_ns(), t0 = mp_mono_ns();
    size_t ids = 0, keys = 0;
    uint32_t id = e->walk_next;
    for (; id <= e->max_keys && ids < WALK_SLICE_IDS && keys < WALK_SLICE_KEYS; id++, ids++) {
        if ((ids & 255) == 255 && mp_mono_ns() - t0 >= WALK_SLICE_NS)
            break;
        struct eng_key *k = eng_table_key(e->t, id);
        if (!k)
            continue;
        uint64_t mask = walk__mask(e, eng_key_tenant(e->t, k));
        /* a cold key (evicted while idle) still has its windows: bring it
         * back, as the sweep does, or a quiet tenant would never be judged */
        if (!mask || eng_table_key_warm(e->t, k) != MP_OK)
            continue;
        alert_eval_key_rules(e, k, mask, now);
        keys++;
    }
    e->walk_next = id;
    e->walk_cpu += walk__cpu_ns() - c0;
    e->walk_nkeys += keys;
    mp_add_relaxed(&e->keys, keys);
    if (id > e->max_keys) {
        int64_t took = mp_mono_ns() - e->walk_t0;
        mp_store_relaxed(&e->walk_last_ns, (uint64_t)took);
        mp_store_relaxed(&e->walk_last_cpu_ns, (uint64_t)e->walk_cpu);
        mp_add_relaxed(&e->walk_keys, e->walk_nkeys);
        mp_add_relaxed(&e->walks, 1);
        mp_info("alert_rules_reevaluated keys=%llu ms=%lld cpu_ms=%lld",
                (unsigned long long)e->walk_nkeys, (long long)(took / 1000000),
                (long long)(e->walk_cpu / 1000000));
        alert_walk_free(e);
    }
    return ids ? ids : 1;
}
