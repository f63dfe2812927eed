/* e2e_adapt.h — what the adapters' e2e suites (test_e2e_adapters*.c) share:
 * POSTing a webhook body to the daemon with the service's headers, waiting
 * for a tenant's firing alert at a receiver, and one adapter's counter.
 *
 * Contract: each fails the running test through EW_MUST (w's daemon log
 * attached) instead of returning an error. ead_post() sends `body` to
 * w->base + path with Content-Type application/json and the "Name: value"
 * headers of `hdrs` (NULL-terminated, or NULL), and returns the status,
 * the answer's body (up to outn - 1 bytes) into out when out is not NULL.
 * Test thread only.
 */
#ifndef E2E_ADAPT_H
#define E2E_ADAPT_H

#include <stddef.h>
#include <stdint.h>

#include "e2e_world.h"

long ead_post(struct ew_world *w, const char *path, const char *const *hdrs, const char *body,
              char *out, size_t outn);
/* ead_post() must answer 200 with `want` (NULL: anything) in its body. */
void ead_post_ok(struct ew_world *w, const char *path, const char *const *hdrs,
                 const char *body, const char *want);
/* Waits up to ms for a firing `rule` alert of `tenant` at raw receiver k. */
void ead_wait_alert(struct ew_world *w, size_t k, const char *tenant, const char *rule, int ms);
/* mailpulse_adapter_<what>_total{adapter="<adapter>"} must be `want`. */
void ead_expect(struct ew_world *w, const char *adapter, const char *what, uint64_t want);

#endif
