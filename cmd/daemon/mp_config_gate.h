/* mp_config_gate.h — the `gate` section of the daemon's config: the send
 * gate (alerts/alert_gate.h) and its Postfix policy server (mp_policy.h).
 *
 *   gate:
 *     policy_listen: 127.0.0.1:7402   # host:port (mp_addr.h); absent: no policy server
 *     tenants:                        # tenant -> sender domains (the policy server's map)
 *       acme: [acme.example]          # mail from *@acme.example is tenant acme's
 *     sasl_users:                     # sasl_username -> tenant (beats the sender's domain)
 *       acme-relay: acme
 *     cool_down: 15m                  # 0s..24h: after the alert resolves, before a pause lifts
 *     policy_action: DEFER_IF_PERMIT  # DEFER_IF_PERMIT | DEFER | HOLD: the answer to a pause
 *
 * Contract: mp_config_gate() is an MP_YAML_FN row handler whose field is a
 * struct mp_gate_conf. It refuses, as "file:line: key: why": a section that
 * is not a mapping, unknown keys, a listen address outside mp_addr's
 * grammar, tenant and user names outside ENG_NAME_GRAMMAR, a domain list
 * that is empty or holds a name that is not a host name
 * (ingest_norm_domain: stored lower-cased), one domain under two tenants
 * (or twice), a cool_down out of range, an unknown action. Without the
 * section the gate still runs (GET /v1/gate) with the defaults.
 * mp_config_gate_free() releases what the handler stored. Not thread-safe
 * (config loading); a loaded conf is read-only, any thread.
 */
#ifndef MP_CONFIG_GATE_H
#define MP_CONFIG_GATE_H

#include <stddef.h>
#include <stdint.h>

#include "mp_yaml.h"

enum mp_gate_action { MP_GATE_DEFER_IF_PERMIT = 0, MP_GATE_DEFER = 1, MP_GATE_HOLD = 2 };

struct mp_gate_map {
    char *key;    /* a sender domain (lower-cased) or a sasl_username */
    char *tenant;
};

struct mp_gate_conf {
    char *policy_listen;  /* NULL: no policy server */
    int64_t cool_down_ms; /* default 15 min; 0: lifts at the resolve */
    int action;           /* enum mp_gate_action */
    int notify;           /* 1: each pause is its own gate_paused alert (mp_gate.h) */
    size_t n_domains, n_users;
    struct mp_gate_map *domains; /* sorted by key, for bsearch */
    struct mp_gate_map *users;   /* sorted by key */
};

#define MP_GATE_COOL_DOWN_DEFAULT_MS (15 * 60 * 1000LL)

int mp_config_gate(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                   yaml_node_t *v, void *base);
void mp_config_gate_free(struct mp_gate_conf *g);
/* The tenant of sender domain `domain` (lower-case) or of sasl user `user`
 * (NULL: not given); the user's wins. NULL when neither is mapped. */
const char *mp_config_gate_tenant(const struct mp_gate_conf *g, const char *domain,
                                  const char *user);
/* "DEFER_IF_PERMIT", "DEFER", "HOLD" */
const char *mp_config_gate_action_name(int action);

#endif
