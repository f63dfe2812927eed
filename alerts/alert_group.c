/* alert_group.c — the evaluator's tenant groups and the notifications built
 * from them (see alert_eval.h, "Grouping"; private state in alert_eval_impl.h).
 *
 * The lifecycle only marks an alert "to notify" in its tenant's group. Here,
 * groups whose interval has passed are turned into notifications from the
 * alerts' *current* state and what receivers were last told (netdata's split
 * of state change from notification), so changes that cancel out while a
 * group waits send nothing. State and outbox entries then commit in one
 * batch. Evaluator thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval_impl.h"
#include "alert_render.h"
#include "mp_buf.h"
#include "eng_hash.h"
#include "mp_log.h"

/* The group of `tenant`, created on first use; NULL when out of memory. The
 * table is open-addressed, and tenant names come from producers, so it
 * probes by eng_hash_name() under the evaluator's own seed (eng_hash.h). */
static struct tgroup *group__get(struct alert_eval *e, const char *tenant)
{
    if (e->ngroups * 2 >= e->capgroups) {
        size_t cap = e->capgroups ? e->capgroups * 2 : 64;
        struct tgroup **ng = calloc(cap, sizeof(*ng));
        if (!ng)
            return NULL;
        for (size_t i = 0; i < e->capgroups; i++) {
            struct tgroup *g = e->groups[i];
            if (!g)
                continue;
            size_t h =
                eng_hash_name(g->tenant, strlen(g->tenant), e->group_seed) & (cap - 1);
            while (ng[h])
                h = (h + 1) & (cap - 1);
            ng[h] = g;
        }
        free(e->groups);
        e->groups = ng;
        e->capgroups = cap;
    }
    size_t h = eng_hash_name(tenant, strlen(tenant), e->group_seed) & (e->capgroups - 1);
    while (e->groups[h]) {
        if (strcmp(e->groups[h]->tenant, tenant) == 0)
            return e->groups[h];
        h = (h + 1) & (e->capgroups - 1);
    }
    struct tgroup *g = calloc(1, sizeof(*g));
    if (!g || !(g->tenant = strdup(tenant))) {
        free(g);
        return NULL;
    }
    e->groups[h] = g;
    e->ngroups++;
    return g;
}

void alert_group_queue(struct alert_eval *e, uint32_t i, const char *tenant)
{
    struct arec *r = &e->recs[i];
    if (r->queued)
        return;
    struct tgroup *g = group__get(e, tenant);
    if (!g || MP_GROW(g->recs, g->cap, g->n + 1) != MP_OK) {
        mp_error("alert_queue_nomem tenant=%s", MP_LOG_Q(tenant));
        return;
    }
    g->recs[g->n++] = i;
    r->queued = 1;
    if (!g->busy && MP_GROW(e->busy, e->capbusy, e->nbusy + 1) == MP_OK) {
        e->busy[e->nbusy++] = g;
        g->busy = 1;
    }
}

void alert_group_unlist(struct alert_eval *e, const char *tenant, uint32_t i)
{
    struct tgroup *g = group__get(e, tenant);
    if (!g)
        return;
    for (size_t x = 0; x < g->n; x++) {
        if (g->recs[x] == i) {
            memmove(&g->recs[x], &g->recs[x + 1], (g->n - x - 1) * sizeof(*g->recs));
            g->n--;
            return;
        }
    }
}

static void note__free_strings(struct alert_note *n)
{
    free((char *)n->receiver);
    free((char *)n->tenant);
    free((char *)n->idem);
}

/* Adds one request for receiver `rc` to this pass's notes. The note
 * outlives this pass's config (a reload may free it before the flush), so it
 * owns copies of every string. Takes `body`. */
static void group__add_note(struct alert_eval *e, const struct alert_receiver *rc,
                            const char *tenant, char *body, const struct alert_instance *a,
                            size_t n, int64_t now)
{
    struct alert_note note = {.receiver = strdup(rc->name), .tenant = strdup(tenant),
                              .body = body, .idem = malloc(ALERT_IDEM_LEN)};
    if (!note.receiver || !note.tenant || !note.idem ||
        MP_GROW(e->notes, e->capnotes, e->nnotes + 1) != MP_OK) {
        note__free_strings(&note);
        free(body);
        return;
    }
    alert_notify_idem_key(a, n, now, rc->name, (char *)note.idem);
    e->notes[e->nnotes++] = note;
    mp_add_relaxed(&e->notifications, 1);
}

void alert_group_deliver(struct alert_eval *e, const char *tenant, const struct alert_instance *a,
                         size_t n, int64_t now)
{
    const size_t *idx;
    size_t nr;
    alert_routes_lookup(e->cfg.routes, tenant, &idx, &nr);
    if (nr == 0) {
        mp_add_relaxed(&e->unrouted, n);
        mp_warn("alert_unrouted tenant=%s alerts=%zu", MP_LOG_Q(tenant), n);
    }
    for (size_t x = 0; x < nr; x++) {
        const struct alert_receiver *rc = &e->cfg.receivers[idx[x]];
        /* NULL external URL until alerting.external_url lands (issue 11,
         * item 3): renderers leave their links out then. */
        const struct alert_render *rd = alert_render_for(rc->type);
        size_t per = rd->per_alert ? 1 : n; /* PagerDuty: one event per alert */
        for (size_t y = 0; per && y < n; y += per) {
            char *body = rd->body(rc, NULL, &a[y], per, now);
            if (!body)
                mp_error("alert_body_nomem receiver=%s tenant=%s", MP_LOG_Q(rc->name),
                         MP_LOG_Q(tenant));
            else
                group__add_note(e, rc, tenant, body, &a[y], per, now);
        }
    }
    for (size_t x = 0; x < n; x++)
        mp_info("alert_%s rule=%s severity=%s tenant=%s mailbox=%s recipient_domain=%s "
                "num=%llu den=%llu receivers=%zu",
                a[x].status == ALERT_STATUS_FIRING ? "firing" : "resolved",
                MP_LOG_Q(a[x].rule->name), alert_severity_name(a[x].severity),
                MP_LOG_Q(a[x].tenant), a[x].mailbox ? MP_LOG_Q(a[x].mailbox) : "-",
                a[x].domain ? MP_LOG_Q(a[x].domain) : "-", (unsigned long long)a[x].v.num,
                (unsigned long long)a[x].v.den, nr);
}

/* Used for alerts whose rule is gone at a reload, or whose rule or key is
 * gone at a start: one request per tenant and receiver for all of a
 * tenant's, as grouping promises, not one per alert (a removed rule firing
 * on many keys was a storm). Counts as the tenant's last request. */
void alert_group_deliver_by_tenant(struct alert_eval *e, struct alert_instance *a, size_t n,
                                   int64_t now)
{
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        for (size_t x = j; x < n; x++) {
            if (strcmp(a[x].tenant, a[i].tenant) != 0)
                continue;
            struct alert_instance t = a[x];
            memmove(&a[j + 1], &a[j], (x - j) * sizeof(*a));
            a[j++] = t;
        }
        alert_group_deliver(e, a[i].tenant, &a[i], j - i, now);
        struct tgroup *g = group__get(e, a[i].tenant);
        if (g)
            g->last_sent_ms = now;
        i = j;
    }
}

/* Under mu. What record r has to tell, in *ai (already naming the alert):
 * 1 when there is news (and r now records it as told), 0 when not. */
static int group__news(struct arec *r, struct alert_instance *ai, int64_t now)
{
    ai->v = r->v;
    if (r->status == ST_FIRING) {
        if (r->nstatus == ST_FIRING && r->nseverity == r->severity && !r->repeat_due)
            return 0; /* nothing new: e.g. escalated and back inside the wait */
        ai->status = ALERT_STATUS_FIRING;
        ai->severity = r->severity;
        ai->starts_ms = r->starts_ms;
        r->nstatus = ST_FIRING;
        r->nseverity = r->severity;
    } else {
        if (r->nstatus != ST_FIRING)
            return 0; /* fired and resolved inside the wait, or never told */
        ai->status = ALERT_STATUS_RESOLVED;
        ai->severity = r->nseverity;
        ai->starts_ms = r->starts_ms;
        ai->ends_ms = r->ends_ms ? r->ends_ms : now;
        r->nstatus = ST_INACTIVE;
    }
    r->repeat_due = 0;
    r->notified_ms = now;
    return 1;
}

/* Under mu. 1 when an active silence mutes record r's alert (named in *ai):
 * its news is kept back and receivers count as not told, so a resolve
 * inside the silence goes unheard and, once no silence mutes it, the sweep
 * has a still firing alert told once as firing (alert_group_unmuted). */
static int group__muted(struct alert_eval *e, struct arec *r, struct alert_instance *ai,
                        int64_t now)
{
    ai->severity = r->status == ST_FIRING ? r->severity : r->nseverity;
    if (!e->silences || !alert_silence_mutes_instance(e->silences, ai, now))
        return 0;
    r->muted = r->status == ST_FIRING;
    r->nstatus = ST_INACTIVE;
    r->repeat_due = 0;
    return 1;
}

void alert_group_unmuted(struct alert_eval *e, uint32_t i, struct eng_key *k, int64_t now)
{
    struct alert_instance ai;
    const char *tenant = eng_key_tenant(e->t, k);
    pthread_mutex_lock(&e->mu);
    struct arec *r = &e->recs[i];
    alert_eval_instance(e, k, &alert_ruleset_for(e->cfg.rules, tenant)[r->rule], &ai);
    ai.severity = r->severity;
    int still = alert_silence_mutes_instance(e->silences, &ai, now);
    pthread_mutex_unlock(&e->mu);
    if (!still) {
        r->muted = 0;
        alert_group_queue(e, i, tenant);
    }
}

/* Turns group g into notifications from its records' current state. */
static void group__send(struct alert_eval *e, struct tgroup *g, int64_t now)
{
    struct alert_instance *a = malloc((g->n ? g->n : 1) * sizeof(*a));
    size_t na = 0;
    if (!a) {
        mp_error("alert_group_nomem tenant=%s", MP_LOG_Q(g->tenant));
        return; /* the group stays; retried next pass */
    }
    pthread_mutex_lock(&e->mu);
    for (size_t x = 0; x < g->n; x++) {
        uint32_t i = g->recs[x];
        struct arec *r = &e->recs[i];
        r->queued = 0;
        struct eng_key *k = r->used ? eng_table_key(e->t, r->key_id) : NULL;
        if (!k)
            continue;
        /* every record goes through the flush's check once more: one that
         * has nothing left to tell (fired and resolved inside the wait) is
         * freed there */
        alert_eval_rec_dirty(e, i);
        const struct alert_rule *rule = &alert_ruleset_for(e->cfg.rules, g->tenant)[r->rule];
        alert_eval_instance(e, k, rule, &a[na]);
        if (group__muted(e, r, &a[na], now))
            continue;
        if (!group__news(r, &a[na], now))
            continue;
        alert_eval_rec_dirty(e, i); /* again: the first may have found no room */
        na++;
    }
    pthread_mutex_unlock(&e->mu);
    g->n = 0;
    if (na) {
        alert_group_deliver(e, g->tenant, a, na, now);
        g->last_sent_ms = now;
    }
    free(a);
}

/* Hands this pass's notes (and the state changes in e->wb) to the sender,
 * which commits them in one batch. */
static void group__submit(struct alert_eval *e)
{
    if (e->nnotes) {
        int rc = alert_sender_submit(e->s, e->notes, e->nnotes, e->wb);
        if (rc != MP_OK && rc != MP_ERR_INVAL) {
            mp_add_relaxed(&e->state_errors, 1);
            mp_error("alert_submit_failed notes=%zu err=\"%s\"", e->nnotes, mp_strerror(rc));
        }
        for (size_t x = 0; x < e->nnotes; x++)
            note__free_strings(&e->notes[x]); /* bodies: the sender's now */
        e->nnotes = 0;
    } else if (e->wb && eng_store_batch_count(e->wb) > 0) {
        /* through the sender, which serializes commits to the store it
         * shares with us: RocksDB hands batches between committing threads
         * in a way ThreadSanitizer cannot follow */
        if (alert_sender_submit(e->s, NULL, 0, e->wb) != MP_OK) {
            mp_add_relaxed(&e->state_errors, 1);
            mp_error("alert_state_write_failed");
        }
    }
}

void alert_group_flush(struct alert_eval *e, int64_t now, int force)
{
    for (size_t x = 0; x < e->nbusy;) {
        struct tgroup *g = e->busy[x];
        if (force || g->last_sent_ms == 0 || now - g->last_sent_ms >= e->group_ms) {
            group__send(e, g, now);
            if (g->n == 0) {
                g->busy = 0;
                e->busy[x] = e->busy[--e->nbusy];
                continue;
            }
        }
        x++;
    }
    for (size_t x = 0; x < e->ndirty; x++) {
        uint32_t i = e->dirty[x];
        struct arec *r = &e->recs[i];
        r->dirty = 0;
        alert_state_save(e, i);
        if (r->used && r->status == ST_INACTIVE && r->nstatus == ST_INACTIVE && !r->queued) {
            pthread_mutex_lock(&e->mu);
            alert_eval_rec_free(e, i);
            pthread_mutex_unlock(&e->mu);
        }
    }
    e->ndirty = 0;
    group__submit(e);
}

void alert_group_free_all(struct alert_eval *e)
{
    for (size_t i = 0; i < e->capgroups; i++) {
        if (e->groups[i]) {
            free(e->groups[i]->tenant);
            free(e->groups[i]->recs);
            free(e->groups[i]);
        }
    }
    free(e->groups);
    free(e->busy);
    for (size_t x = 0; x < e->nnotes; x++) {
        free(e->notes[x].body);
        note__free_strings(&e->notes[x]);
    }
    free(e->notes);
}
