/* alert_group.c — the evaluator's notification groups and the notifications
 * built from them (see alert_eval.h, "Grouping"; private state in
 * alert_eval_impl.h).
 *
 * A group is keyed by its groupKey under the root route (tenant and the
 * group_by labels). It keeps two lists: the records queued with news, and
 * its members, the records receivers were last told fire; a notification
 * carries both (Alertmanager sends the whole group, and receivers that key
 * incidents on groupKey close one when a notification says "resolved").
 * The lifecycle only marks an alert "to notify" in its group. Here,
 * groups whose interval has passed are turned into notifications from the
 * alerts' *current* state and what receivers were last told (netdata's split
 * of state change from notification), so changes that cancel out while a
 * group waits send nothing. State and outbox entries then commit in one
 * batch. Evaluator thread only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_eval_impl.h"
#include "alert_render.h"
#include "mp_buf.h"
#include "eng_hash.h"
#include "mp_log.h"

/* The group of groupKey `key` (of tenant `tenant`), created on first use;
 * NULL when out of memory. The table is open-addressed, and tenant names
 * come from producers, so it probes by eng_hash_name() under the
 * evaluator's own seed (eng_hash.h). */
static struct tgroup *group__get(struct alert_eval *e, const char *key, const char *tenant)
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
            size_t h = eng_hash_name(g->key, strlen(g->key), e->group_seed) & (cap - 1);
            while (ng[h])
                h = (h + 1) & (cap - 1);
            ng[h] = g;
        }
        free(e->groups);
        e->groups = ng;
        e->capgroups = cap;
    }
    size_t h = eng_hash_name(key, strlen(key), e->group_seed) & (e->capgroups - 1);
    while (e->groups[h]) {
        if (strcmp(e->groups[h]->key, key) == 0)
            return e->groups[h];
        h = (h + 1) & (e->capgroups - 1);
    }
    struct tgroup *g = calloc(1, sizeof(*g));
    if (!g || !(g->tenant = strdup(tenant)) || !(g->key = strdup(key))) {
        if (g)
            free(g->tenant);
        free(g);
        return NULL;
    }
    e->groups[h] = g;
    e->ngroups++;
    return g;
}

#define GROUP_KEY_MAX 1024

/* The group of alert a. */
static struct tgroup *group__of_instance(struct alert_eval *e, const struct alert_instance *a)
{
    char key[GROUP_KEY_MAX];
    alert_notify_group_key(&e->ng, a, key, sizeof(key));
    return group__get(e, key, a->tenant);
}

/* Record i's group, found (and remembered) on first use; NULL when its key
 * is gone or memory runs out. */
static struct tgroup *group__of(struct alert_eval *e, uint32_t i, const char *tenant)
{
    struct arec *r = &e->recs[i];
    (void)tenant;
    if (r->grp)
        return r->grp;
    struct alert_instance a;
    if (!alert_eval_rec_instance(e, r, &a))
        return NULL;
    return r->grp = group__of_instance(e, &a);
}

void alert_group_queue(struct alert_eval *e, uint32_t i, const char *tenant)
{
    if (e->recs[i].queued)
        return;
    struct tgroup *g = group__of(e, i, tenant);
    if (!g || MP_GROW(g->recs, g->cap, g->n + 1) != MP_OK) {
        mp_error("alert_queue_nomem tenant=%s", MP_LOG_Q(tenant));
        return;
    }
    g->recs[g->n++] = i;
    e->recs[i].queued = 1;
    if (!g->busy && MP_GROW(e->busy, e->capbusy, e->nbusy + 1) == MP_OK) {
        e->busy[e->nbusy++] = g;
        g->busy = 1;
    }
}

void alert_group_member(struct alert_eval *e, uint32_t i, const char *tenant)
{
    struct tgroup *g = group__of(e, i, tenant);
    if (!g || e->recs[i].member || MP_GROW(g->members, g->capm, g->nm + 1) != MP_OK)
        return; /* out of memory: it joins at its next news */
    g->members[g->nm++] = i;
    e->recs[i].member = 1;
}

static void group__remove(uint32_t *list, size_t *n, uint32_t i)
{
    for (size_t x = 0; x < *n; x++) {
        if (list[x] == i) {
            memmove(&list[x], &list[x + 1], (*n - x - 1) * sizeof(*list));
            (*n)--;
            return;
        }
    }
}

void alert_group_unlist(struct alert_eval *e, const char *tenant, uint32_t i)
{
    struct arec *r = &e->recs[i];
    (void)tenant;
    if (!r->grp)
        return;
    group__remove(r->grp->recs, &r->grp->n, i);
    group__remove(r->grp->members, &r->grp->nm, i);
    r->member = 0;
    r->queued = 0;
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

/* One alert of a notification: its instance, its record (0: none left),
 * and whether it has news (a change receivers have not heard of). */
struct gitem {
    struct alert_instance a;
    uint32_t rec;
    int news;
};

/* Oldest first, then in rules-file order and by scope: the same group lists its alerts in
 * the same order every time. */
static int group__cmp(const void *pa, const void *pb)
{
    const struct alert_instance *a = &((const struct gitem *)pa)->a;
    const struct alert_instance *b = &((const struct gitem *)pb)->a;
    int c;
    if (a->starts_ms != b->starts_ms)
        return a->starts_ms < b->starts_ms ? -1 : 1;
    if (a->rule_removed != b->rule_removed) /* their rules live apart: first */
        return a->rule_removed ? -1 : 1;
    if (a->rule != b->rule) /* rules-file order: a group's rules share one array */
        return (uintptr_t)a->rule < (uintptr_t)b->rule ? -1 : 1;
    if ((c = strcmp(a->mailbox ? a->mailbox : "", b->mailbox ? b->mailbox : "")) != 0)
        return c;
    if ((c = strcmp(a->provider ? a->provider : "", b->provider ? b->provider : "")) != 0)
        return c;
    if ((c = strcmp(a->campaign ? a->campaign : "", b->campaign ? b->campaign : "")) != 0)
        return c;
    return strcmp(a->domain ? a->domain : "", b->domain ? b->domain : "");
}

/* Route matchers read an alert's labels through this (alert_route.h). */
static const char *group__label(void *arg, const char *label)
{
    const struct alert_instance *a = arg;
    if (strcmp(label, "severity") == 0)
        return alert_severity_name(a->severity);
    if (strcmp(label, "provider") == 0) /* not group_by labels: matched here */
        return a->provider ? a->provider : "";
    if (strcmp(label, "campaign") == 0)
        return a->campaign ? a->campaign : "";
    unsigned bit = alert_label_bit(label);
    if (bit)
        return alert_label_value(a, bit);
    for (size_t i = 0; i < a->nlabels; i++) /* an external alert's own */
        if (strcmp(label, a->labels[i].name) == 0)
            return a->labels[i].value;
    return NULL;
}

/* The requests of route entry `h` for group g: its receivers each get the
 * alerts of it[0..n) that reach the entry, when one of those has news. The
 * webhook gets the whole group under the entry's groupKey; the other types
 * get their row of the render table (alert_render.h), with the external
 * URL; a per_alert type (PagerDuty) only the alerts with news, one request
 * each, so unchanged incidents are not triggered again. */
static void group__deliver_entry(struct alert_eval *e, const struct tgroup *g,
                                 const struct alert_route_hit *h, const struct gitem *it,
                                 const struct alert_route_hit *hits, const size_t *nh, size_t n,
                                 struct alert_instance *sub, unsigned char *subnews, int64_t now)
{
    size_t ns = 0;
    int news = 0;
    for (size_t y = 0; y < n; y++) {
        for (size_t z = 0; z < nh[y]; z++) {
            if (hits[y * ALERT_ROUTE_HITS_MAX + z].id != h->id)
                continue;
            subnews[ns] = (unsigned char)it[y].news;
            sub[ns++] = it[y].a;
            news |= it[y].news;
            break;
        }
    }
    if (!news)
        return;
    struct alert_notify_group ng = e->ng;
    ng.route_key = h->key;
    for (size_t x = 0; x < h->n; x++) {
        const struct alert_receiver *rc = &e->cfg.receivers[h->idx[x]];
        const struct alert_render *rd = alert_render_for(rc->type);
        size_t per = rd->per_alert ? 1 : ns;
        for (size_t y = 0; y < ns; y += per) {
            if (rd->per_alert && !subnews[y])
                continue; /* unchanged member: its incident stands as it is */
            char *body = rc->type == ALERT_RECEIVER_WEBHOOK
                             ? alert_notify_webhook_group(&ng, rc->name, &sub[y], per)
                             : rd->body(rc, e->ng.external_url, &sub[y], per, now);
            if (!body)
                mp_error("alert_body_nomem receiver=%s tenant=%s", MP_LOG_Q(rc->name),
                         MP_LOG_Q(g->tenant));
            else
                group__add_note(e, rc, g->tenant, body, &sub[y], per, now);
        }
    }
}

/* One line per alert with news; receivers: how many its route entries name. */
static void group__log(const struct gitem *it, const struct alert_route_hit *h, size_t nh)
{
    const struct alert_instance *a = &it->a;
    size_t nr = 0;
    for (size_t z = 0; z < nh; z++)
        nr += h[z].n;
    mp_info("alert_%s rule=%s severity=%s tenant=%s mailbox=%s recipient_domain=%s "
            "provider=%s campaign=%s num=%llu den=%llu receivers=%zu",
            a->status == ALERT_STATUS_FIRING ? "firing" : "resolved", MP_LOG_Q(a->rule->name),
            alert_severity_name(a->severity), MP_LOG_Q(a->tenant),
            a->mailbox ? MP_LOG_Q(a->mailbox) : "-", a->domain ? MP_LOG_Q(a->domain) : "-",
            a->provider ? MP_LOG_Q(a->provider) : "-", a->campaign ? MP_LOG_Q(a->campaign) : "-",
            (unsigned long long)a->v.num, (unsigned long long)a->v.den, nr);
}

/* Group g's notifications for it[0..n) (sorted here): each alert reaches
 * its route entries, and each entry reached sends its part. */
static void group__deliver(struct alert_eval *e, const struct tgroup *g, struct gitem *it,
                           size_t n, int64_t now)
{
    size_t ne = alert_routes_entries(e->cfg.routes);
    struct alert_route_hit *hits = malloc((n ? n : 1) * ALERT_ROUTE_HITS_MAX * sizeof(*hits));
    size_t *nh = malloc((n ? n : 1) * sizeof(*nh));
    unsigned char *done = calloc(ne ? ne : 1, 1);
    struct alert_instance *sub = malloc((n ? n : 1) * sizeof(*sub));
    unsigned char *subnews = malloc(n ? n : 1);
    if (!hits || !nh || !done || !sub || !subnews) {
        mp_error("alert_group_nomem tenant=%s", MP_LOG_Q(g->tenant));
        goto out;
    }
    qsort(it, n, sizeof(*it), group__cmp);
    for (size_t x = 0; x < n; x++) {
        nh[x] = alert_routes_match(e->cfg.routes, g->tenant, group__label, &it[x].a,
                                   &hits[x * ALERT_ROUTE_HITS_MAX], ALERT_ROUTE_HITS_MAX);
        if (!it[x].news)
            continue;
        if (nh[x] == 0) {
            mp_add_relaxed(&e->unrouted, 1);
            mp_warn("alert_unrouted tenant=%s rule=%s", MP_LOG_Q(g->tenant),
                    MP_LOG_Q(it[x].a.rule->name));
        }
        group__log(&it[x], &hits[x * ALERT_ROUTE_HITS_MAX], nh[x]);
    }
    for (size_t x = 0; x < n; x++) {
        for (size_t z = 0; z < nh[x]; z++) {
            const struct alert_route_hit *h = &hits[x * ALERT_ROUTE_HITS_MAX + z];
            if (h->id >= ne || done[h->id])
                continue;
            done[h->id] = 1;
            group__deliver_entry(e, g, h, it, hits, nh, n, sub, subnews, now);
        }
    }
out:
    free(hits);
    free(nh);
    free(done);
    free(sub);
    free(subnews);
}

/* The ids of the silences holding an alert that its history names. */
#define GROUP_SILENCE_IDS 4

/* Under mu. 1 when an active silence mutes record r's alert (named in *ai):
 * its news is kept back and receivers count as not told, so a resolve
 * inside the silence goes unheard and, once no silence mutes it, the sweep
 * has a still firing alert told once as firing (alert_group_unmuted). */
static int group__muted(struct alert_eval *e, struct arec *r, struct alert_instance *ai,
                        int64_t now)
{
    struct alert_label l[ALERT_SILENCE_LABELS_MAX];
    char ids[GROUP_SILENCE_IDS][ALERT_SILENCE_ID_LEN];
    const char *idp[GROUP_SILENCE_IDS];
    ai->severity = r->status == ST_FIRING ? r->severity : r->nseverity;
    size_t n = e->silences ? alert_silence_mutes(e->silences, l, alert_silence_labels(ai, l), now,
                                                 ids, GROUP_SILENCE_IDS)
                           : 0;
    if (n == 0)
        return 0;
    if (!r->muted && r->status == ST_FIRING) { /* the history's `silenced` step */
        n = n < GROUP_SILENCE_IDS ? n : GROUP_SILENCE_IDS;
        for (size_t j = 0; j < n; j++)
            idp[j] = ids[j];
        alert_state_history_rec(e, r, ALERT_HIST_SILENCED, idp, n, now);
    }
    r->muted = r->status == ST_FIRING;
    r->nstatus = ST_INACTIVE;
    r->repeat_due = 0;
    return 1;
}

void alert_group_unmuted(struct alert_eval *e, uint32_t i, int64_t now)
{
    struct alert_instance ai;
    pthread_mutex_lock(&e->mu);
    struct arec *r = &e->recs[i];
    const char *tenant = alert_eval_rec_instance(e, r, &ai);
    ai.severity = r->severity;
    int still = !tenant || alert_silence_mutes_instance(e->silences, &ai, now);
    pthread_mutex_unlock(&e->mu);
    if (!still) {
        r->muted = 0;
        alert_group_queue(e, i, tenant);
    }
}

/* Appends group g's members (told firing, not yet in it[]: r->mark) to
 * it[*n..), as receivers were told them, with their current figures. A
 * member a silence mutes is left out while it does (group__muted: the
 * sweep tells it again once it does not). Under mu. */
static void group__members(struct alert_eval *e, struct tgroup *g, struct gitem *it, size_t *n,
                           int64_t now)
{
    for (size_t x = 0; x < g->nm; x++) {
        uint32_t i = g->members[x];
        struct arec *r = &e->recs[i];
        struct gitem *t = &it[*n];
        if (!r->used || r->grp != g || r->mark || r->muted || r->nstatus != ST_FIRING ||
            !alert_eval_rec_instance(e, r, &t->a))
            continue;
        if (group__muted(e, r, &t->a, now)) {
            alert_eval_rec_dirty(e, i); /* silenced since it was told: out of the group */
            continue;
        }
        (*n)++;
        t->a.v = r->v;
        t->a.status = ALERT_STATUS_FIRING;
        t->a.severity = r->nseverity;
        t->a.starts_ms = r->starts_ms;
        t->rec = i;
        t->news = 0;
        r->mark = 1;
    }
}

void alert_group_deliver(struct alert_eval *e, const char *tenant, const struct alert_instance *a,
                         size_t n, int64_t now)
{
    struct tgroup *g = n ? group__of_instance(e, &a[0]) : NULL;
    struct gitem *it = g ? malloc((n + g->nm) * sizeof(*it)) : NULL;
    size_t na = 0;
    if (!it) {
        if (n)
            mp_error("alert_group_nomem tenant=%s", MP_LOG_Q(tenant));
        return;
    }
    for (; na < n; na++)
        it[na] = (struct gitem){.a = a[na], .news = 1};
    group__members(e, g, it, &na, now);
    for (size_t x = n; x < na; x++)
        e->recs[it[x].rec].mark = 0;
    group__deliver(e, g, it, na, now);
    free(it);
}

/* Used for alerts whose rule is gone at a reload, or whose rule or key is
 * gone at a start: one request per group and receiver for all of a
 * group's, as grouping promises, not one per alert (a removed rule firing
 * on many keys was a storm). Counts as the group's last request. */
void alert_group_deliver_by_tenant(struct alert_eval *e, struct alert_instance *a, size_t n,
                                   int64_t now)
{
    char (*keys)[GROUP_KEY_MAX] = n ? malloc(n * sizeof(*keys)) : NULL;
    if (!keys) {
        for (size_t x = 0; x < n; x++)
            alert_group_deliver(e, a[x].tenant, &a[x], 1, now); /* alone, but told */
        return;
    }
    for (size_t x = 0; x < n; x++)
        alert_notify_group_key(&e->ng, &a[x], keys[x], sizeof(keys[x]));
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        for (size_t x = j; x < n; x++) {
            if (strcmp(keys[x], keys[i]) != 0)
                continue;
            struct alert_instance t = a[x];
            char tk[GROUP_KEY_MAX];
            memcpy(tk, keys[x], sizeof(tk));
            memmove(&a[j + 1], &a[j], (x - j) * sizeof(*a));
            memmove(&keys[j + 1], &keys[j], (x - j) * sizeof(*keys));
            a[j] = t;
            memcpy(keys[j++], tk, sizeof(tk));
        }
        alert_group_deliver(e, a[i].tenant, &a[i], j - i, now);
        struct tgroup *g = group__get(e, keys[i], a[i].tenant);
        if (g)
            g->last_sent_ms = now;
        i = j;
    }
    free(keys);
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

/* Keeps as group g's members the records of it[0..n) that fire as told;
 * clears the marks. Under mu. */
static void group__remember(struct alert_eval *e, struct tgroup *g, const struct gitem *it,
                            size_t n)
{
    g->nm = 0;
    for (size_t x = 0; x < n; x++) {
        struct arec *r = &e->recs[it[x].rec];
        r->mark = 0;
        r->member = it[x].a.status == ALERT_STATUS_FIRING &&
                    MP_GROW(g->members, g->capm, g->nm + 1) == MP_OK;
        if (r->member)
            g->members[g->nm++] = it[x].rec;
    }
}

/* Turns group g into notifications from its records' current state: the
 * queued ones with news, and every member still firing. */
static void group__send(struct alert_eval *e, struct tgroup *g, int64_t now)
{
    struct gitem *it = malloc((g->n + g->nm + 1) * sizeof(*it));
    size_t na = 0, nnews;
    if (!it) {
        mp_error("alert_group_nomem tenant=%s", MP_LOG_Q(g->tenant));
        return; /* the group stays; retried next pass */
    }
    pthread_mutex_lock(&e->mu);
    for (size_t x = 0; x < g->n; x++) {
        uint32_t i = g->recs[x];
        struct arec *r = &e->recs[i];
        r->queued = 0;
        if (!r->used || r->mark || !alert_eval_rec_instance(e, r, &it[na].a))
            continue;
        /* every record goes through the flush's check once more: one that
         * has nothing left to tell (fired and resolved inside the wait) is
         * freed there */
        alert_eval_rec_dirty(e, i);
        if (group__muted(e, r, &it[na].a, now))
            continue;
        if (!group__news(r, &it[na].a, now))
            continue;
        alert_eval_rec_dirty(e, i); /* again: the first may have found no room */
        it[na].rec = i;
        it[na++].news = 1;
        r->mark = 1;
    }
    nnews = na;
    group__members(e, g, it, &na, now);
    group__remember(e, g, it, na);
    pthread_mutex_unlock(&e->mu);
    g->n = 0;
    if (nnews) {
        group__deliver(e, g, it, na, now);
        g->last_sent_ms = now;
    }
    free(it);
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

int64_t alert_group_next_due_ms(const struct alert_eval *e, int64_t now)
{
    int64_t best = INT64_MAX;
    for (size_t x = 0; x < e->nbusy; x++) {
        const struct tgroup *g = e->busy[x];
        int64_t due = g->last_sent_ms == 0 ? now : g->last_sent_ms + e->group_ms;
        int64_t in = due > now ? due - now : 0;
        if (in < best)
            best = in;
    }
    return best;
}

void alert_group_free_all(struct alert_eval *e)
{
    for (size_t i = 0; i < e->capgroups; i++) {
        if (e->groups[i]) {
            free(e->groups[i]->tenant);
            free(e->groups[i]->key);
            free(e->groups[i]->recs);
            free(e->groups[i]->members);
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
