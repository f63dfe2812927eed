/* cli_blocklist.h — `mailpulse blocklist check IP|DOMAIN [--zone Z]...
 * [--resolver ADDR] [--timeout-ms MS]`: one blocklist check by hand, the
 * daemon's queries (base/mp_dnsq.h) without the daemon.
 *
 * Contract: cli_blocklist_cmd is the subcommand mailpulse.c dispatches to.
 * An IPv4 or IPv6 address is checked against IP zones (default
 * zen.spamhaus.org), anything else as a domain against domain zones
 * (default dbl.spamhaus.org); --zone (repeatable) names the zones instead.
 * One line per zone on stdout:
 *     listed      ZONE  CODE[,CODE...]  TXT
 *     not-listed  ZONE
 *     error       ZONE  REASON   (mp_dnsq_reason_name: timeout, refused_by_list...)
 * Exit status: 0 not listed on any zone; 1 listed on at least one; 2 usage
 * error; 3 no listing, but at least one zone could not be asked (an error is
 * never read as "not listed"). The run returns those numbers as positive
 * values (mailpulse.c passes a positive return through as the exit status).
 *
 * Threads: the main thread. No state.
 */
#ifndef CLI_BLOCKLIST_H
#define CLI_BLOCKLIST_H

#include "cli_opt.h"

enum { CLI_BLOCKLIST_LISTED = 1, CLI_BLOCKLIST_ERROR = 3 };

extern const struct cli_cmd cli_blocklist_cmd;

#endif
