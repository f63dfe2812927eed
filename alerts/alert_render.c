/* alert_render.c — the receiver types' renderers (see alert_render.h). */
#include "alert_render.h"

#include "alert_email.h"
#include "alert_pagerduty.h"
#include "alert_slack.h"

static char *render__webhook(const struct alert_receiver *rc, const char *external_url,
                             const struct alert_instance *a, size_t n, int64_t decided_ms)
{
    (void)external_url; /* alert_notify_webhook fills externalURL itself */
    (void)decided_ms;
    return alert_notify_webhook(rc->name, a, n);
}

static char *render__slack(const struct alert_receiver *rc, const char *external_url,
                           const struct alert_instance *a, size_t n, int64_t decided_ms)
{
    (void)decided_ms;
    return alert_slack_body(rc, external_url, a, n);
}

static char *render__pagerduty(const struct alert_receiver *rc, const char *external_url,
                               const struct alert_instance *a, size_t n, int64_t decided_ms)
{
    (void)decided_ms;
    return n == 1 ? alert_pagerduty_event(rc, external_url, a) : NULL; /* per_alert */
}

static const struct alert_render render__table[] = {
    [ALERT_RECEIVER_WEBHOOK] = {"webhook", 0, render__webhook},
    [ALERT_RECEIVER_SLACK] = {"slack", 0, render__slack},
    [ALERT_RECEIVER_PAGERDUTY] = {"pagerduty", 1, render__pagerduty},
    [ALERT_RECEIVER_EMAIL] = {"email", 0, alert_email_message},
};

const struct alert_render *alert_render_for(int type)
{
    if (type < 0 || (size_t)type >= MP_ARRAY_LEN(render__table) || !render__table[type].body)
        return &render__table[ALERT_RECEIVER_WEBHOOK];
    return &render__table[type];
}
