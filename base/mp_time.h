/* mp_time.h — RFC 3339 times from outside (silences' startsAt and endsAt,
 * the history routes' from= and to=), into Unix milliseconds.
 *
 * Contract: mp_time_parse() takes "2026-12-02T03:40:00.123Z": a 't' or a
 * space for the 'T', any number of fraction digits (milliseconds kept),
 * 'Z' or a "+hh:mm"/"-hh:mm" offset, years from 1970, second 60 allowed
 * (a leap second reads as the next); nothing may follow. MP_OK with *ms
 * set, or MP_ERR_INVAL (*ms untouched). Pure; any thread.
 */
#ifndef MP_TIME_H
#define MP_TIME_H

#include <stdint.h>

int mp_time_parse(const char *s, int64_t *ms);

#endif
