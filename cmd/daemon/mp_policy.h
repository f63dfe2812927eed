/* mp_policy.h — the Postfix policy delegation protocol (SMTPD_POLICY_README)
 * in front of the send gate.
 *
 * Protocol: a client (Postfix's smtpd, `check_policy_service
 * inet:HOST:PORT`) sends requests of name=value lines, each ended by "\n"
 * ("\r\n" is taken too), the request ended by an empty line; the server
 * answers "action=<action>\n\n" and keeps the connection for the next
 * request. The sender address is the mailbox, the recipient's domain the
 * domain, the tenant comes from gate.tenants (the sender's domain) or
 * gate.sasl_users (sasl_username, which wins). The answer:
 *   allow, or no tenant mapped     action=DUNNO
 *   pause                          action=DEFER_IF_PERMIT 4.7.1 <reason>
 *                                  (DEFER 4.7.1 <reason>, or HOLD <reason>,
 *                                  by gate.policy_action)
 * where the reason is one line of printable ASCII: the first pause's rule,
 * scope and figures, and when to retry.
 *
 * Bounds: a line of at most MP_POLICY_LINE_MAX bytes, a request of at most
 * MP_POLICY_REQ_MAX bytes and MP_POLICY_ATTRS_MAX attributes, at most
 * MP_POLICY_CONN_MAX connections (more are closed at once), idle ones closed
 * after MP_POLICY_IDLE_MS. A request past a bound, a line without '=', or a
 * request other than request=smtpd_access_policy is a bad request: counted,
 * logged at most once a second, and the connection closed (Postfix then
 * applies its default_action and reconnects). Sockets are non-blocking and
 * served by one poll() thread that never waits on anything else, so a slow
 * or hostile client never blocks the daemon or the other clients.
 *
 * Threads: start/stop from one thread; figures from any. The gate and conf
 * are borrowed and must outlive the server.
 * Returns MP_OK, MP_ERR_INVAL/MP_ERR_NOTFOUND (listen; err says why),
 * MP_ERR_IO (cannot bind), MP_ERR_NOMEM, MP_ERR_STATE (no thread).
 */
#ifndef MP_POLICY_H
#define MP_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "alert_gate.h"
#include "mp.h"
#include "mp_config_gate.h"

#define MP_POLICY_LINE_MAX 2048
#define MP_POLICY_REQ_MAX 16384
#define MP_POLICY_ATTRS_MAX 64
#define MP_POLICY_CONN_MAX 512
#define MP_POLICY_IDLE_MS (10 * 60 * 1000LL)

struct mp_policy;
struct mp_gate_provmap; /* mp_gate.h: the recipient domain's provider */

struct mp_policy_figures {
    uint64_t connections, refused; /* accepted; closed at once for want of room */
    uint64_t requests, dunno, paused, unmapped; /* unmapped: no tenant for the send (dunno) */
    uint64_t bad;                  /* bad requests (connection closed) */
};

/* prov: the provider map (NULL: no provider derived, so no provider or
 * mailbox_provider pause applies); borrowed, outlives the server. */
int mp_policy_start(const char *listen, struct alert_gate *gate, struct mp_gate_provmap *prov,
                    const struct mp_gate_conf *conf, struct mp_policy **out, char *err,
                    size_t errlen);
void mp_policy_stop(struct mp_policy *p);
void mp_policy_figures(struct mp_policy *p, struct mp_policy_figures *out);
/* The port bound (for a listen on port 0), 0 when unknown. */
int mp_policy_port(const struct mp_policy *p);

/* One request's answer, without the server: the attributes in text[0..len)
 * ("name=value\n" lines, no final empty line), into out ("action=...", no
 * newlines). MP_OK, or MP_ERR_PARSE (a bad request: why in out). Pure but
 * for the gate's counters; any thread. */
int mp_policy_answer(struct alert_gate *gate, struct mp_gate_provmap *prov,
                     const struct mp_gate_conf *conf, const char *text, size_t len,
                     int64_t now_ms, char *out, size_t outlen, int *paused, int *mapped);

#endif
