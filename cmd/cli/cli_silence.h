/* cli_silence.h — `mailpulse silence add|query|expire`: a client of the
 * daemon's Alertmanager API v2 silences (POST /api/v2/silences,
 * GET /api/v2/silences, DELETE /api/v2/silence/{id}; mp_amapi.h).
 *
 * Contract: cli_silence_cmd is the subcommand mailpulse.c dispatches to; it
 * talks through cli_api.h. cli_silence_matcher() turns one matcher as
 * people type it (tenant=acme, alertname=~"bounce.*", severity!=warning)
 * into Alertmanager's matcher JSON; cli_silence_duration() reads 90s, 30m,
 * 2h, 7d; cli_silence_print() renders a 200 body of GET /api/v2/silences
 * (an array of gettableSilence) as a table of at most 100 columns.
 * Threads: the functions, any; the command, the main thread.
 * Returns MP_OK; MP_ERR_INVAL (a bad matcher or duration); MP_ERR_NOMEM;
 * MP_ERR_PARSE (a body of another shape).
 */
#ifndef CLI_SILENCE_H
#define CLI_SILENCE_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"

extern const struct cli_cmd cli_silence_cmd;

/* A new {"name","value","isRegex","isEqual"} in *out. */
int cli_silence_matcher(const char *text, json_t **out);
/* 1s .. 3650d in ms. */
int cli_silence_duration(const char *text, int64_t *ms);
int cli_silence_print(FILE *f, const char *body);

#endif
