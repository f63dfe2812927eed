/* mp_gate.h — the daemon's send gate: alerts/alert_gate.h over the
 * evaluator, the Postfix policy server (mp_policy.h) on gate.policy_listen,
 * and the HTTP answers:
 *
 *   GET /v1/gate?tenant=T[&mailbox=M][&recipient_domain=D][&provider=P]
 *       (the provider: P when given, else the recipient domain's from the
 *       daemon's provider map, as the key table maps events; neither: no
 *       provider or mailbox_provider pause applies)
 *       {"decision":"allow"|"pause","reasons":[pause...],"retry_after_s":N}
 *       (reasons: the pauses that cover the send, at most
 *       ALERT_GATE_REASONS_MAX; "reasons_total" when there are more).
 *       400 with every bad parameter named: tenant missing or outside
 *       ENG_NAME_GRAMMAR, a mailbox or domain that ingest would refuse, an
 *       unknown or repeated parameter.
 *   GET /v1/gate/pauses[?tenant=T]
 *       {"pauses":[pause...]}: what is paused, since when, why, and for a
 *       pause cooling down when it lifts (alert_gate_pause_json).
 *
 * With gate.notify, every pause is also an alert of its own: `gate_paused`
 * (warning) of the pause's tenant, labels gate_scope, gate_name (the
 * mailbox, domain, provider or "mailbox/provider"; the tenant for a
 * tenant pause) and gate_rule, annotations summary, state and lifts_at;
 * it fires when the pause begins (or re-arms), is updated (no news) when
 * it cools down, and resolves when it lifts or a silence lifts it. It goes
 * through alert_eval_external, so the tenant's routes and receivers hear
 * of it as of any alert, and it pauses nothing itself.
 *
 * Scope (the caller passes `only`, a tenant token's tenant, NULL: all):
 * a tenant token asking for another tenant gets 404 with the body of a
 * tenant never counted, as the other /v1 routes; /pauses without ?tenant=
 * lists its own tenant only.
 *
 * Threads: start/stop from the main thread; the replies and figures from
 * the HTTP threads. conf, eval and silences are borrowed and outlive the
 * gate (mp_gate_stop before alert_eval_stop).
 */
#ifndef MP_GATE_H
#define MP_GATE_H

#include <stddef.h>

#include "alert_eval.h"
#include "alert_gate.h"
#include "alert_silence.h"
#include "mp_config_gate.h"
#include "mp_config_providers.h"
#include "mp_http.h"
#include "mp_policy.h"

struct mp_gate;

/* MP_OK, or what alert_gate_new / mp_policy_start return (err says why).
 * providers: the config's `providers:` (the gate builds its own map). */
int mp_gate_start(const struct mp_gate_conf *conf, const struct mp_providers_conf *providers,
                  struct alert_eval *eval, struct alert_silences *silences, struct mp_gate **out,
                  char *err, size_t errlen);
/* On SIGHUP: a new map from pc (MP_OK; MP_ERR_NOMEM keeps the one in use,
 * logged). NULL g: no-op. Any thread. */
int mp_gate_set_providers(struct mp_gate *g, const struct mp_providers_conf *pc);
/* The provider of `domain` (normalised, as ingest_norm_domain makes it;
 * "other" when the map does not hold it) copied into buf; NULL for a NULL
 * map or domain. Any thread. */
const char *mp_gate_provider_of(struct mp_gate_provmap *m, const char *domain, char *buf,
                                size_t cap);
void mp_gate_stop(struct mp_gate *g);
struct alert_gate *mp_gate_core(struct mp_gate *g);
/* NULL without gate.policy_listen. */
struct mp_policy *mp_gate_policy(struct mp_gate *g);

void mp_gate_reply(struct mp_gate *g, const char *only, const struct mp_http_request *req,
                   struct mp_http_reply *out);
void mp_gate_reply_pauses(struct mp_gate *g, const char *only, const struct mp_http_request *req,
                          struct mp_http_reply *out);

#endif
