/* cli_events_file.h — the events file of `mailpulse replay`: one event per
 * line, as JSON Lines or CSV, with the columns of proto/mailpulse.proto's
 * Event. Pure: no I/O, no globals; unit-tested and fuzzed.
 *
 * Columns (JSON keys, or CSV header names):
 *   tenant            required, 1..64 characters of [A-Za-z0-9._-]
 *   mailbox           required, the sending address: one '@', <= 254 bytes
 *   recipient_domain  the recipient's domain, <= 253 bytes, or instead
 *   recipient         a recipient address: its domain (after the last '@')
 *                     is taken; give exactly one of the two
 *   type              required: a name `mailpulse send --type` takes (sent,
 *                     delivered, bounce_hard, bounce_soft, deferred, blocked,
 *                     complaint, open, click, reply, unsubscribe, spam_trap;
 *                     any case) or its number 1..12
 *   time              required: RFC 3339 ("2026-11-22T16:30:01Z",
 *                     "2026-11-22T17:30:01.250+01:00"; a fraction is cut to
 *                     milliseconds) or Unix milliseconds (a JSON integer, or
 *                     digits); values below 10^11 (before 1973) are refused
 *                     as likely Unix seconds
 *   event_id          optional, <= CLI_EVF_ID_MAX bytes
 *   campaign          optional, <= CLI_EVF_ID_MAX bytes
 * JSON Lines: each line one object with those keys (string values; time may
 * be an integer); another key is refused. CSV (RFC 4180 without line breaks
 * inside a field): the first non-blank line is the header naming the
 * columns in any order; fields may be double-quoted ("" is a quote); every
 * row has as many fields as the header. In both, blank lines and lines
 * starting with '#' are skipped.
 *
 * Contract: cli_evf_new() makes a parser for one file (CSV remembers its
 * header); cli_evf_line() takes one line without its '\n' (a trailing '\r'
 * is dropped) and returns CLI_EVF_EVENT with *ev filled, CLI_EVF_SKIP for a
 * blank, comment or header line, or MP_ERR_PARSE with a one-line reason in
 * `why` (naming the column; control bytes quoted from the line become '?') — a bad CSV header is refused the same way and
 * then every later row is refused as "no valid header". MP_ERR_NOMEM only
 * from cli_evf_new().
 *
 * Threads: a parser belongs to one thread; the time and format helpers are
 * pure.
 */
#ifndef CLI_EVENTS_FILE_H
#define CLI_EVENTS_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define CLI_EVF_ID_MAX 256
#define CLI_EVF_MIN_TIME_MS 100000000000LL /* 1973-03-03: smaller looks like seconds */
#define CLI_EVF_MAX_TIME_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z */

enum cli_evf_format { CLI_EVF_JSONL = 0, CLI_EVF_CSV = 1 };

enum { CLI_EVF_EVENT = 0, CLI_EVF_SKIP = 1 };

struct cli_evf_event {
    char tenant[64 + 1];
    char mailbox[254 + 1];
    char domain[253 + 1];
    int type; /* 1..12, the wire value */
    int64_t time_ms;
    char event_id[CLI_EVF_ID_MAX + 1]; /* "" when not given */
    char campaign[CLI_EVF_ID_MAX + 1];
};

struct cli_evf;

int cli_evf_new(enum cli_evf_format fmt, struct cli_evf **out);
void cli_evf_free(struct cli_evf *p);
int cli_evf_line(struct cli_evf *p, const char *line, size_t len, struct cli_evf_event *ev,
                 char *why, size_t whylen);

/* ".jsonl", ".ndjson" and ".json" are JSON Lines, ".csv" CSV (any case):
 * MP_OK, or MP_ERR_NOTFOUND for another name. */
int cli_evf_format_of(const char *path, enum cli_evf_format *out);
/* "jsonl" (or "json") and "csv": MP_OK, else MP_ERR_INVAL. */
int cli_evf_format_parse(const char *name, enum cli_evf_format *out);
/* RFC 3339 or Unix milliseconds as described above: MP_OK, or
 * MP_ERR_PARSE with the reason in why. */
int cli_evf_parse_time(const char *s, int64_t *ms, char *why, size_t whylen);

#endif
