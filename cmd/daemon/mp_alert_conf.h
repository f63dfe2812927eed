/* mp_alert_conf.h — what the alert side takes, built from the daemon's
 * config: its receivers, its routes and its rule set. The daemon builds them
 * at start and again for each SIGHUP (on the reload thread), so the two
 * paths cannot drift apart.
 *
 * Contract
 *   - mp_alert_conf_receivers(): one alert_receiver per configured receiver,
 *     in order; strings are borrowed from `c` (free the array only). NULL
 *     when out of memory.
 *   - mp_alert_conf_routes(): the default route, the default's list entries
 *     with matchers, and each tenant's route and entries. MP_OK or
 *     MP_ERR_NOMEM (nothing in *out).
 *   - mp_alert_conf_rules(): the rules file of `c` (alert_rules_load, its
 *     refusal "file:line: key: ..." in err), or the built-in defaults
 *     without one.
 * Threads: pure functions of `c`; any thread.
 */
#ifndef MP_ALERT_CONF_H
#define MP_ALERT_CONF_H

#include <stddef.h>

#include "alert_route.h"
#include "alert_rule.h"
#include "alert_sender.h"
#include "mp_config.h"

struct alert_receiver *mp_alert_conf_receivers(const struct mp_config *c);
int mp_alert_conf_routes(const struct mp_config *c, struct alert_routes **out);
int mp_alert_conf_rules(const struct mp_config *c, struct alert_ruleset **out, char *err,
                        size_t errlen);

#endif
