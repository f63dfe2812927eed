/* mp_config_receivers.h — the `receivers:` list of the daemon config.
 *
 * Contract: the handler mp_config.c's top-level walk calls for
 * `receivers` (an MP_YAML_FN row; base is the struct mp_config), and the
 * release of what it filled. Refusals are mp_yaml's "file:line: path:
 * reason". Per type (webhook, slack, pagerduty, email): url http(s):// but
 * smtp(s):// for email, and required but for pagerduty (MP_PAGERDUTY_URL);
 * channel/username/icon_emoji only on slack; routing_key required on and
 * only on pagerduty; from and to required on email, auth_username,
 * auth_password and tls only there. Names are unique. Mail addresses hold
 * '@' and neither CR, LF nor ',' (they go into headers as they are).
 * Single-threaded, like the whole config load.
 */
#ifndef MP_CONFIG_RECEIVERS_H
#define MP_CONFIG_RECEIVERS_H

#include "mp_config.h"
#include "mp_yaml.h"

int mp_config_receivers(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                        yaml_node_t *v, void *base);
/* Frees cfg->receivers and everything in them; n_receivers becomes 0. */
void mp_config_receivers_free(struct mp_config *cfg);

#endif
