/* alert_route.h — tenant routes: which receivers hear of a tenant's alerts.
 *
 * Contract: a route belongs to one tenant (or is the default route, for
 * tenants without one of their own) and is a list of entries, each a set of
 * label matchers (label = value, all must hold; none: every alert), a list
 * of receiver indices (into the receiver list the routes were built with)
 * and a `continue` flag. An alert goes to the first entry of its tenant's
 * route that matches it, and on to later matching entries only while the
 * entry it matched says continue (Alertmanager's rule). The simple form, a
 * route that is just receivers, is one entry without matchers. A tenant's
 * alerts never go to another tenant's route: lookup matches whole tenant
 * names, never prefixes, and only the tenant's own route (or the default
 * when it has none) is consulted.
 *
 * Each entry has a key for Alertmanager's groupKey: "{}" without matchers,
 * else "{}/{label=\"value\", ...}" (labels sorted).
 *
 * Threads: built by one thread (the config loader), then handed to the
 * evaluator (alert_eval_start / alert_eval_reload), which owns it from then
 * on and is its only reader. No locking inside.
 *
 * Ownership: alert_routes_create() returns a set the caller owns until it
 * hands it over; alert_routes_destroy() frees it (NULL is fine). Index lists,
 * matchers and tenant names passed in are copied.
 *
 * Returns: MP_OK; MP_ERR_NOMEM (nothing changed); alert_routes_add() also
 * MP_ERR_INVAL when the tenant already has a route, alert_routes_add_entry()
 * when more than ALERT_ROUTE_MATCHERS_MAX matchers are given.
 */
#ifndef ALERT_ROUTE_H
#define ALERT_ROUTE_H

#include <stddef.h>

#include "mp.h"

struct alert_routes;

#define ALERT_ROUTE_MATCHERS_MAX 8
#define ALERT_ROUTE_HITS_MAX 16 /* entries one alert reaches, at most (continue) */

struct alert_route_matcher {
    const char *label; /* alertname, rule, severity, tenant, mailbox, recipient_domain,
                        * provider, campaign */
    const char *value; /* equality */
};

/* One entry an alert reached. */
struct alert_route_hit {
    size_t id;         /* the entry's number in the whole set, < alert_routes_entries() */
    const size_t *idx; /* its receivers */
    size_t n;
    const char *key;   /* for groupKey */
};

/* The value of label `label` of the alert being routed; NULL or "" when it
 * has none (such a label matches no matcher). */
typedef const char *(*alert_route_label_fn)(void *arg, const char *label);

int alert_routes_create(struct alert_routes **out);
void alert_routes_destroy(struct alert_routes *r);
/* The receivers of tenants without a route of their own (none at first):
 * the simple form, one entry without matchers, replacing the default's. */
int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n);
/* The simple form for `tenant`. */
int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n);
/* Appends an entry to `tenant`'s route (NULL: the default route), creating
 * the route on first use. */
int alert_routes_add_entry(struct alert_routes *r, const char *tenant,
                           const struct alert_route_matcher *m, size_t nm, const size_t *idx,
                           size_t n, int cont);
/* Receivers of the first entry of `tenant`'s route (its own, else the
 * default); for simple routes, all of them. *idx stays valid until the
 * routes are destroyed. */
void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n);
/* The entries an alert of `tenant` with labels `get` reaches, in order, in
 * out[0..cap); returns how many (0: unrouted). */
size_t alert_routes_match(const struct alert_routes *r, const char *tenant,
                          alert_route_label_fn get, void *arg, struct alert_route_hit *out,
                          size_t cap);
/* How many entries the set holds (for arrays indexed by hit id). */
size_t alert_routes_entries(const struct alert_routes *r);

#endif
