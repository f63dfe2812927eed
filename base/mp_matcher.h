/* mp_matcher.h — the value of a label matcher as people type it
 * (NAME=VALUE, NAME="a \"quoted\" value"), read one way by the daemon's
 * silences (alerts/alert_silence.c) and by `mailpulse silence`
 * (cmd/cli/cli_silence.c), so the two never disagree about a quote.
 *
 * Contract: pure function, any thread.
 *   mp_matcher_value(p): a malloc'd copy of the value text at p. A value of
 *     two or more bytes that starts and ends with '"' loses those quotes,
 *     and inside them a backslash takes the next byte as it is (\" and \\),
 *     except before the closing quote; any other value is copied as it is.
 *     NULL only when out of memory. The caller frees it.
 */
#ifndef MP_MATCHER_H
#define MP_MATCHER_H

char *mp_matcher_value(const char *p);

#endif
