/* cli_api.h — the one client of the daemon's HTTP API, shared by
 * `mailpulse stats`, `mailpulse alerts` and `mailpulse silence` (which also
 * POSTs and DELETEs: cli_api_request, cli_api_send).
 *
 * Contract:
 *   - cli_api_url_start() / cli_api_url_escape() build a request URL in an
 *     mp_buf: the API base without its trailing '/'s, then the path; values
 *     are percent-encoded (RFC 3986 unreserved bytes kept), so any tenant
 *     reaches the daemon, which validates it.
 *   - cli_api_get() (cli_api_get_auth(): with a bearer token) performs one
 *     GET with libcurl (proxies bypassed: the API is local; the caller has
 *     called curl_global_init()): MP_OK with *status and *body (NUL-terminated, may be empty, caller frees) for
 *     any HTTP answer; MP_ERR_IO when there was none, or when the body
 *     passed CLI_API_BODY_MAX (the transfer is cut off); MP_ERR_NOMEM. `err`
 *     (may be NULL) then holds libcurl's reason.
 *   - cli_api_error_text(): the "error" message of a {"error": "..."} body,
 *     "" for any other body.
 *   - cli_api_next() reads the options the API clients share.
 *   - cli_api_show() is a subcommand's whole request: GET url, then on a
 *     200 print the body as is (json) or through print(); anything else is
 *     reported on stderr as cli_fail() does (unreachable, with a hint; or
 *     the daemon's status and its error message). MP_OK, MP_ERR_IO (no
 *     answer, or not a 200), MP_ERR_NOMEM, or what print() returned
 *     (MP_ERR_PARSE: a 200 body of another shape).
 *
 * Threads: any thread for the URL, GET and error-text functions;
 * cli_api_next() and cli_api_show() print, so the main thread. No global
 * state beyond libcurl's, which mailpulse.c's main() initializes once for
 * every command (curl_global_init before the command runs).
 */
#ifndef CLI_API_H
#define CLI_API_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mp.h"
#include "mp_buf.h"

#define CLI_API_DEFAULT "http://127.0.0.1:7480"
#define CLI_API_BODY_MAX ((size_t)64 << 20) /* larger answers are cut off: MP_ERR_IO */

/* The options `stats` and `alerts` share: --tenant (a name of eng_name.h),
 * --api (an http:// or https:// URL, or host:port for http://host:port;
 * without it $MAILPULSE_API, CLI_ENV_API of cli_opt.h, when set and not
 * empty, checked the same way), --timeout-ms (1..CLI_MAX_TIMEOUT_MS),
 * --json and --token (the API's bearer token; without it the environment's
 * CLI_API_TOKEN_ENV, when set and not empty; a token is never printed). */
struct cli_api_opts {
    const char *tenant; /* NULL when not given */
    const char *api;
    int64_t timeout_ms;
    int json;
    const char *token; /* NULL when not given */
    int api_given;     /* --api or $MAILPULSE_API was taken */
};
#define CLI_API_OPTS_INIT {NULL, CLI_API_DEFAULT, 5000, 0, NULL, 0}
#define CLI_API_TOKEN_ENV "MAILPULSE_TOKEN"
/* The last lines of a reading command's usage text. */
#define CLI_API_EXIT_STATUS                                                                    \
    "Exit status: 0 printed, 1 the daemon could not be reached or refused the\n"              \
    "request, 2 bad usage.\n"
/* Their rows in a command's option table (--tenant's help is the command's). */
#define CLI_API_OPT_ROWS(api, timeout_ms, json, token)                                         \
    [api] = {"api", "URL",                                                                    \
             "the daemon's HTTP API, a URL or host:port (default:\n"                          \
             "$" CLI_ENV_API ", else " CLI_API_DEFAULT ")"},                                   \
    [timeout_ms] = {"timeout-ms", "MS", "give up after MS ms, 1..3600000 (default 5000)"},   \
    [json] = {"json", NULL, "print the API's JSON body as is, instead of a table"},           \
    [token] = {"token", "TOKEN",                                                              \
               "the API's bearer token (default: $" CLI_API_TOKEN_ENV ",\n"                   \
               "which keeps it out of the process list)"}
/* cli_next() that takes the shared options into *o itself: MP_OK only for
 * an option of the command's own; else what cli_next() or the shared
 * option's check returned (MP_ERR_NOTFOUND at the end, CLI_HELP, a usage
 * error: also for a bad $MAILPULSE_API, which is read at the end). */
int cli_api_next(struct cli_args *a, struct cli_api_opts *o);

int cli_api_url_start(struct mp_buf *b, const char *api, const char *path);
int cli_api_url_escape(struct mp_buf *b, const char *value);

int cli_api_get(const char *url, long timeout_ms, long *status, char **body, char *err,
                size_t errlen);
/* The same with `Authorization: Bearer <token>` (token NULL: no header). */
int cli_api_get_auth(const char *url, const char *token, long timeout_ms, long *status,
                     char **body, char *err, size_t errlen);

/* Any method, with a JSON request body `req` (NULL: none). */
int cli_api_request(const char *method, const char *url, const char *token, const char *req,
                    long timeout_ms, long *status, char **body, char *err, size_t errlen);

/* The same with a body of any bytes and type (`mailpulse dmarc import`:
 * an archive; ctype e.g. "application/octet-stream"). */
int cli_api_post_bytes(const char *method, const char *url, const char *token,
                       const char *ctype, const void *req, size_t len, long timeout_ms,
                       long *status, char **body, char *err, size_t errlen);

void cli_api_error_text(const char *body, char *out, size_t n);

/* `url` is what the command's URL builder returned with url_rc (MP_OK, or
 * MP_ERR_NOMEM: "out of memory" is reported); it is freed. `what` names the
 * expected body in the message for another shape, e.g. "stats JSON". */
int cli_api_show(const struct cli_cmd *cmd, int url_rc, char *url, const struct cli_api_opts *o,
                 int (*print)(FILE *f, const char *body), const char *what);
/* cli_api_show() with another method and a JSON request body (NULL: none). */
int cli_api_send(const struct cli_cmd *cmd, const char *method, const char *req, int url_rc,
                 char *url, const struct cli_api_opts *o,
                 int (*print)(FILE *f, const char *body), const char *what);

#endif
