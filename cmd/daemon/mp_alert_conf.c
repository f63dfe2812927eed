/* mp_alert_conf.c — the alert side's inputs built from the config (see
 * mp_alert_conf.h).
 */
#include "mp_alert_conf.h"

#include <stdio.h>
#include <stdlib.h>

#include "alert_rules_file.h"

struct alert_receiver *mp_alert_conf_receivers(const struct mp_config *c)
{
    struct alert_receiver *r = calloc(c->n_receivers ? c->n_receivers : 1, sizeof(*r));
    if (!r)
        return NULL;
    for (size_t i = 0; i < c->n_receivers; i++) {
        r[i].name = c->receivers[i].name;
        r[i].url = c->receivers[i].url;
        r[i].secret = c->receivers[i].secret;
        r[i].type = c->receivers[i].type == MP_RECEIVER_SLACK       ? ALERT_RECEIVER_SLACK
                    : c->receivers[i].type == MP_RECEIVER_PAGERDUTY ? ALERT_RECEIVER_PAGERDUTY
                    : c->receivers[i].type == MP_RECEIVER_EMAIL     ? ALERT_RECEIVER_EMAIL
                                                                    : ALERT_RECEIVER_WEBHOOK;
        r[i].channel = c->receivers[i].channel;
        r[i].username = c->receivers[i].username;
        r[i].icon_emoji = c->receivers[i].icon_emoji;
        r[i].routing_key = c->receivers[i].routing_key;
        r[i].mail_from = c->receivers[i].mail_from;
        r[i].mail_to = c->receivers[i].mail_to;
        r[i].auth_username = c->receivers[i].auth_username;
        r[i].auth_password = c->receivers[i].auth_password;
        r[i].tls = c->receivers[i].tls; /* same numbers as enum alert_email_tls */
    }
    return r;
}

/* One route entry with matchers (the list form of a route) of `tenant` (NULL: the default). */
static int conf__route_entry(struct alert_routes *routes, const char *tenant,
                             const struct mp_route_entry_conf *en)
{
    struct alert_route_matcher m[MP_ROUTE_MATCHERS_MAX];
    for (size_t x = 0; x < en->nm; x++)
        m[x] = (struct alert_route_matcher){.label = en->label[x], .value = en->value[x]};
    return alert_routes_add_entry(routes, tenant, m, en->nm, en->receivers, en->n, en->cont);
}

int mp_alert_conf_routes(const struct mp_config *c, struct alert_routes **out)
{
    struct alert_routes *routes = NULL;
    int rc = alert_routes_create(&routes);
    if (rc == MP_OK)
        rc = alert_routes_set_default(routes, c->default_route, c->n_default_route);
    for (size_t i = 0; rc == MP_OK && i < c->n_default_entries; i++)
        rc = conf__route_entry(routes, NULL, &c->default_entries[i]);
    for (size_t i = 0; rc == MP_OK && i < c->n_routes; i++) {
        const struct mp_route_conf *r = &c->routes[i];
        rc = alert_routes_add(routes, r->tenant, r->receivers, r->n);
        for (size_t j = 0; rc == MP_OK && j < r->n_entries; j++)
            rc = conf__route_entry(routes, r->tenant, &r->entries[j]);
    }
    if (rc != MP_OK) {
        alert_routes_destroy(routes);
        return rc;
    }
    *out = routes;
    return MP_OK;
}

int mp_alert_conf_rules(const struct mp_config *c, struct alert_ruleset **out, char *err,
                        size_t errlen)
{
    if (!c->rules_path) {
        int rc = alert_ruleset_defaults(out);
        if (rc != MP_OK)
            snprintf(err, errlen, "cannot build the default rules: %s", mp_strerror(rc));
        return rc;
    }
    return alert_rules_load(c->rules_path, out, err, errlen);
}
