/* http_receiver.h — THE in-process HTTP test receiver (libmicrohttpd), shared
 * by the unit suites, the e2e fixture and the benches.
 *
 * What it does
 *   - serves 127.0.0.1 on a port the caller names, or on a free one (port 0;
 *     hrx_port() says which);
 *   - records every request whatever its method: method, path, headers
 *     (names as received), the raw body bytes (NUL-terminated after them),
 *     the CLOCK_MONOTONIC time the body was complete, and the status it was
 *     answered with;
 *   - answers from a script: each request takes the next step of the script
 *     set with hrx_script(); once it is used up, the default step (200, or
 *     what hrx_set_status()/hrx_set_default() set). A step is a status, an
 *     optional Retry-After (seconds) and an optional delay before answering;
 *     the answer's body is "ok\n" (or hrx_set_body's) for a 2xx,
 *     "scripted failure\n" otherwise;
 *   - optionally calls a hook in the server's thread for each request once
 *     it is recorded (benches time arrivals with it);
 *   - waits for N requests with a deadline.
 *
 * Threads: a thread per connection inside libmicrohttpd (a delayed answer
 * does not stall other clients). Every function may be called from any
 * thread; hrx_stop() must not race other calls on the same receiver.
 * The hook runs in a server thread, concurrently with other requests' hooks.
 *
 * Ownership: the receiver owns the recorded requests. A pointer from
 * hrx_get() stays valid, and the request immutable, until hrx_forget() or
 * hrx_stop(). Nothing here knows about Check: no assertions, no globals.
 *
 * Return values: MP_OK or an MP_ERR_* code (mp.h); on error `err` (when not
 * NULL) holds one line. hrx_wait() returns MP_ERR_AGAIN when the deadline
 * passed first.
 */
#ifndef HTTP_RECEIVER_H
#define HTTP_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

struct hrx;

struct hrx_header {
    char *name;  /* as received */
    char *value; /* in the same allocation as name */
};

/* One recorded request; immutable once visible to readers. */
struct hrx_req {
    char *method;
    char *path;
    struct hrx_header *headers;
    size_t nheaders;
    char *body; /* the raw bytes, plus a NUL after them */
    size_t len;
    int64_t mono_ns; /* when the body was complete */
    unsigned status; /* the status it was answered with */
};

/* How one request is answered. */
struct hrx_step {
    unsigned status; /* 100..599 */
    int retry_after; /* seconds for a Retry-After header; < 0: none */
    int delay_ms;    /* sleep this long before answering; 0: none */
};

/* Called once per request, in a server thread, after it is recorded. */
typedef void (*hrx_hook)(void *arg, const struct hrx_req *r);

/* Serves 127.0.0.1:port (0: a free port), answering 200. */
int hrx_start(uint16_t port, struct hrx **out, char *err, size_t errlen);
/* Stops serving and frees every recorded request. NULL is a no-op. */
void hrx_stop(struct hrx *s);
/* The port it serves. */
uint16_t hrx_port(const struct hrx *s);
/* Sets the hook (NULL: none). Set it before the first request arrives. */
void hrx_set_hook(struct hrx *s, hrx_hook fn, void *arg);
/* From now on the default answer is `status` with no Retry-After and no
 * delay: a receiver that is down (503) or refuses (400). */
void hrx_set_status(struct hrx *s, unsigned status);
/* The body of the 2xx answers from now on (copied into each answer; the
 * string must stay valid until it is replaced or set back to NULL);
 * NULL: "ok\n". */
void hrx_set_body(struct hrx *s, const char *body);
/* The same for a whole step. */
void hrx_set_default(struct hrx *s, struct hrx_step st);
/* The next n requests are answered steps[0..n-1] (copied; at most
 * HRX_MAX_STEPS), then the default again. */
#define HRX_MAX_STEPS 16
void hrx_script(struct hrx *s, const struct hrx_step *steps, size_t n);
/* Requests recorded so far. */
size_t hrx_count(struct hrx *s);
/* Waits until at least n requests are recorded: MP_OK or MP_ERR_AGAIN. */
int hrx_wait(struct hrx *s, size_t n, int timeout_ms);
/* Request i (< count), or NULL; valid until hrx_forget() or hrx_stop(). */
const struct hrx_req *hrx_get(struct hrx *s, size_t i);
/* Frees the requests recorded so far; the count starts again at 0. */
void hrx_forget(struct hrx *s);
/* First header named `name` (case-insensitive), or NULL. */
const char *hrx_req_header(const struct hrx_req *r, const char *name);

#endif
