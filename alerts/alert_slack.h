/* alert_slack.h — the Slack message of a notification, and the merging of
 * several queued ones into one request.
 *
 * Contract: pure functions of their arguments, no state, any thread; bodies
 * are malloc'd NUL-terminated JSON owned by the caller (NULL when memory
 * runs out).
 *
 * alert_slack_body(): one legacy attachment per notification (Slack still
 * renders them, and they are the only way to colour a message):
 *   {"channel"?, "username"?, "icon_emoji"?,       <- the receiver's, when set
 *    "attachments": [{"color": "#d50200" (critical firing) | "#f2a900"
 *                     (warning firing) | "#2eb67d" (all resolved),
 *                     "title": alert_notify_title(), "title_link"?: externalURL,
 *                     "fallback": the title, "text": one line per alert,
 *                     "mrkdwn_in": ["text"], "footer": "mailpulse"}]}
 * where a line reads
 *   :red_circle: *critical* complaint_rate recipient domain outlook.com:
 *   *0.33%* (critical at 0.30%) · 33 of 10000 delivered over 24h
 * external_url NULL or "" leaves title_link out.
 *
 * alert_slack_merge(): bodies[0..n) (lengths lens[]), in order, into one
 * message: attachments concatenated, "text" fields (bodies from before
 * attachments, still in an outbox) joined by a blank line, channel/username/
 * icon_emoji from the first. Stops before the first body that is neither,
 * or that names another channel, username or icon. Returns how many were
 * merged (>= 2) and the new body in *out, or 0 and *out NULL when fewer than
 * two merge or memory runs out: the caller sends them one by one.
 */
#ifndef ALERT_SLACK_H
#define ALERT_SLACK_H

#include <stddef.h>

#include "alert_notify.h"
#include "alert_sender.h"

char *alert_slack_body(const struct alert_receiver *rc, const char *external_url,
                       const struct alert_instance *a, size_t n);
size_t alert_slack_merge(const char *const *bodies, const size_t *lens, size_t n, char **out);

#endif
