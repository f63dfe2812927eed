/* alert_route.h — tenant routes: which receivers hear of a tenant's alerts.
 *
 * Contract: a route maps a tenant name to a list of receiver indices (into
 * the receiver list the routes were built with); a tenant without a route of
 * its own gets the default route. A tenant's alerts never go to another
 * tenant's route: lookup matches whole names, never prefixes.
 *
 * Threads: built by one thread (the config loader), then handed to the
 * evaluator (alert_eval_start / alert_eval_reload), which owns it from then
 * on and is its only reader. No locking inside.
 *
 * Ownership: alert_routes_create() returns a set the caller owns until it
 * hands it over; alert_routes_destroy() frees it (NULL is fine). Index lists
 * passed in are copied; tenant names are copied.
 *
 * Returns: MP_OK; MP_ERR_NOMEM (nothing changed); alert_routes_add() also
 * MP_ERR_INVAL when the tenant already has a route.
 */
#ifndef ALERT_ROUTE_H
#define ALERT_ROUTE_H

#include <stddef.h>

#include "mp.h"

struct alert_routes;

int alert_routes_create(struct alert_routes **out);
void alert_routes_destroy(struct alert_routes *r);
/* The receivers of tenants without a route of their own (none at first). */
int alert_routes_set_default(struct alert_routes *r, const size_t *idx, size_t n);
int alert_routes_add(struct alert_routes *r, const char *tenant, const size_t *idx, size_t n);
/* Receivers for `tenant` (its own route, else the default); *idx stays
 * valid until the routes are destroyed. */
void alert_routes_lookup(const struct alert_routes *r, const char *tenant, const size_t **idx,
                         size_t *n);

#endif
