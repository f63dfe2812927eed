/* mp_addr.h — the one parser of listen addresses ("host:port").
 *
 * Contract: mp_addr_parse() checks the syntax only and never touches the
 * network, so `mailpulsed --check`, the daemon's HTTP server and
 * `mailpulse sink` accept and refuse exactly the same strings:
 *   - host is an IPv4 literal ("127.0.0.1", "0.0.0.0"), a bracketed IPv6
 *     literal ("[::1]", "[::]"), or a host name ("localhost",
 *     "mail.example.com": letters, digits, '-', '.', 1..253 bytes);
 *     a bare IPv6 address ("::1:7480") is ambiguous and refused;
 *   - port is 1..65535, digits only (no sign, no spaces);
 *   - no white space anywhere.
 * mp_addr_resolve() turns a parsed address into a socket address: literals
 * directly, "localhost" as 127.0.0.1 (what every caller here has always
 * meant by it), other names through getaddrinfo() (the first answer).
 * Both return MP_OK, or MP_ERR_INVAL (bad syntax) / MP_ERR_NOTFOUND (a name
 * that does not resolve) with one line in err when err is not NULL.
 * MP_ADDR_SYNTAX is the wording callers put in their own refusals.
 * Pure functions over caller memory; any thread.
 */
#ifndef MP_ADDR_H
#define MP_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mp.h"

#define MP_ADDR_SYNTAX "host:port with port 1..65535"

struct mp_addr {
    char host[254]; /* without brackets; NUL-terminated */
    uint16_t port;
    int ipv6;       /* 1 when the host was a bracketed IPv6 literal */
};

int mp_addr_parse(const char *s, struct mp_addr *out, char *err, size_t errlen);
int mp_addr_resolve(const struct mp_addr *a, struct sockaddr_storage *ss, socklen_t *sslen,
                    char *err, size_t errlen);

#endif
