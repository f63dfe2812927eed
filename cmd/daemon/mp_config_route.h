/* mp_config_route.h — the `routes` section of the daemon's config, one part
 * of the mp_config schema kept apart so mp_config.c stays one sitting's read.
 *
 * Contract: the handlers below read `routes.default` and `routes.tenants`
 * once the receivers are loaded, and fill cfg's default route
 * and per-tenant routes. A route is a list, in one of two forms:
 *   - receiver names (the simple form): every alert goes to all of them;
 *   - entries, each a mapping of
 *       match:     {label: value, ...}   optional, 1..MP_ROUTE_MATCHERS_MAX
 *                  labels of alertname, rule, severity, tenant, mailbox,
 *                  recipient_domain; all must hold; none: every alert
 *       receivers: [names]               required, non-empty
 *       continue:  true|false            default false
 *     tried in order: the first that matches wins, and one with
 *     continue: true lets the alert go on to later ones (alert_route.h).
 * What it refuses, each as "file:line: key: why": a route that is not a
 * list, or mixes the two forms; an unknown or repeated receiver within one
 * list; an entry that is not a mapping, with unknown keys, without
 * receivers, with an empty list of them; a match that is not a mapping, names
 * an unknown label or has a value that is not a non-empty scalar; a tenant
 * name outside ENG_NAME_GRAMMAR. A tenant's route only ever sees that
 * tenant's alerts, whatever it matches. Not thread-safe (config loading).
 * On refusal the partly filled routes are left for mp_config_free().
 */
#ifndef MP_CONFIG_ROUTE_H
#define MP_CONFIG_ROUTE_H

#include "mp_config.h"
#include "mp_yaml.h"

/* MP_YAML_FN row handlers of routes.default and routes.tenants (base: the
 * struct mp_config, its receivers already loaded). */
int mp_config_route_default(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                            yaml_node_t *v, void *base);
int mp_config_route_tenants(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                            yaml_node_t *v, void *base);
/* Frees an entry list (n entries); NULL is fine. */
void mp_config_route_entries_free(struct mp_route_entry_conf *e, size_t n);

#endif
