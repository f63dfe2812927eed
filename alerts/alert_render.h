/* alert_render.h — which body each receiver type gets: one table row per
 * enum alert_receiver_type, so the grouping code asks once instead of
 * switching on types.
 *
 * Contract: alert_render_for() returns the row of `type` (the webhook's
 * for an unknown type; never NULL), static and immutable, any thread.
 * row->body() renders the notification of a[0..n) for receiver rc, decided
 * at decided_ms (wall clock), with external_url (NULL or "": no links), as
 * a malloc'd string owned by the caller (NULL when memory runs out). With
 * row->per_alert set the type takes one request per alert (PagerDuty keys
 * incidents per alert): call body() with n = 1 for each alert, and give
 * each its own note and idempotency key.
 */
#ifndef ALERT_RENDER_H
#define ALERT_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "alert_notify.h"
#include "alert_sender.h"

struct alert_render {
    const char *type_name;
    int per_alert;
    char *(*body)(const struct alert_receiver *rc, const char *external_url,
                  const struct alert_instance *a, size_t n, int64_t decided_ms);
};

const struct alert_render *alert_render_for(int type);

#endif
