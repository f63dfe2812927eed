/* cli_dmarc.h — `mailpulse dmarc import FILE...` and
 * `mailpulse dmarc import --mime -`: DMARC aggregate reports handed to the
 * daemon's POST /v1/dmarc (mp_dmarc.h), one request per file, the bytes
 * as they are (XML, .gz, .zip; with --mime a whole mail message, sent as
 * message/rfc822, so a Postfix alias can pipe the rua mail in).
 *
 * Contract: cli_dmarc_cmd is the subcommand mailpulse.c dispatches to; it
 * talks through cli_api.h (the shared --api, --token, --timeout-ms,
 * --json). Each file gets one line on stdout ("FILE: counted tenant=...")
 * or one on stderr (the daemon's reason); every file is tried. Exit
 * status: 0 every report counted or already counted (duplicate), 1 a
 * report refused (a Postfix pipe returns the mail to its sender), 75
 * (CLI_TEMPFAIL) the daemon could not be reached or answered 5xx (a
 * Postfix pipe keeps the mail queued and retries), 2 bad usage. A file
 * larger than CLI_DMARC_FILE_MAX is refused before it is sent.
 * Threads: the main thread.
 */
#ifndef CLI_DMARC_H
#define CLI_DMARC_H

#include "cli_opt.h"

#define CLI_DMARC_FILE_MAX ((size_t)16 << 20) /* the daemon's MP_HTTP_BODY_LARGE_MAX */
#define CLI_DMARC_FILES_MAX 256

extern const struct cli_cmd cli_dmarc_cmd;

#endif
