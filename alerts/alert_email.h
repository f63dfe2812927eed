/* alert_email.h — the email of a notification: one RFC 5322 message,
 * multipart/alternative with a plain-text and an HTML part.
 *
 * Contract: a pure function of its arguments, any thread; the message is a
 * malloc'd NUL-terminated string owned by the caller (NULL when memory runs
 * out), CRLF line endings, ready for SMTP (no line starts with "." alone
 * problems: libcurl dot-stuffs on upload). Headers: From, To (rc->mail_to,
 * comma-separated), Subject (alert_notify_title(), the Slack title), Date
 * (RFC 5322, UTC, of decided_ms), Message-ID (<idem-key.decided@mailpulse>,
 * the same for every retry of the notification), MIME-Version,
 * Content-Type multipart/alternative, X-Mailpulse-Receiver. Text lines are
 * wrapped at 76 columns on spaces where possible (a word longer than that
 * stays whole); non-ASCII in the Subject is not expected (titles are names
 * of the name grammar), so headers are plain. The text part reads:
 *
 *   [FIRING:3] acme bounce_rate warning
 *
 *   WARNING bounce_rate, mailbox news@acme.example
 *     value 2.50% (warning at 2.00%)
 *     25 of 1000 sent over 1h
 *     since 2026-11-22T16:19:16.150Z
 * (each figure line indented two spaces, its continuation four)
 *   ...
 *   <externalURL, when set>
 */
#ifndef ALERT_EMAIL_H
#define ALERT_EMAIL_H

#include <stdint.h>

#include "alert_notify.h"
#include "alert_sender.h"

char *alert_email_message(const struct alert_receiver *rc, const char *external_url,
                          const struct alert_instance *a, size_t n, int64_t decided_ms);

#endif
