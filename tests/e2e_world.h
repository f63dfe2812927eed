/* e2e_world.h — the world one end-to-end case runs in, shared by every e2e
 * suite: its temp directory and ports, the real mailpulsed (started,
 * restarted, stopped), `mailpulse sink` processes and in-process receivers
 * (tests/http_receiver.h), the ZeroMQ producer, /metrics and the HTTP API,
 * the webhook signature check, and `must`/`must_ok`.
 *
 * What it does
 *   - ew_setup() makes the temp dir (config, data and rules paths inside it),
 *     picks the daemon's PULL and HTTP ports, finds mailpulsed and mailpulse
 *     in $MP_BIN_DIR, opens a ZeroMQ context; ew_teardown() kills whatever
 *     the case started and removes the dir when the case set w->passed;
 *   - every other function is a step of a case that must work: it asserts
 *     (Check's ck_assert_msg, through EW_MUST) instead of returning an
 *     error, and the message names the kept temp dir;
 *   - signatures: X-Mailpulse-Signature is "t=<unix>,v1=<hex>" where hex is
 *     HMAC-SHA256(secret, "<t>." + body), computed here with OpenSSL,
 *     independently of the daemon's code;
 *   - the crash suites' kill delays: a splitmix64 stream (ew_rng) from a
 *     seed that $MP_CRASH_SEED replays (ew_crash_seed).
 *
 * Threads and processes: one world per forked test process (CK_FORK=yes),
 * used by the test's thread only. Children die with the test process
 * (tests/e2e_harness.h).
 *
 * Ownership: the suite owns its world (`static struct ew_world W;`) and
 * passes it to every call. char * and json_t * results are the caller's
 * (free / json_decref); requests from ew_req() belong to the receiver.
 *
 * Return values: the steps return their result (a port, an index, a value);
 * on failure they do not return (the assertion ends the case).
 */
#ifndef E2E_WORLD_H
#define E2E_WORLD_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "e2e_harness.h"
#include "http_receiver.h"

#define EW_READY_MS 10000 /* a program must be serving within this */
#define EW_STOP_MS 5000   /* SIGTERM -> exit */
#define EW_MAX_PORTS 16
#define EW_MAX_SINKS 3
#define EW_MAX_RAW 4

struct ew_world {
    char dir[E2E_PATH_MAX];
    char mailpulsed[E2E_PATH_MAX], mailpulse[E2E_PATH_MAX];
    uint16_t ports[EW_MAX_PORTS];
    size_t nports;
    char pull[64], http[64], base[96], healthz[128], metrics[128];
    char cfg[E2E_PATH_MAX + 32], data[E2E_PATH_MAX + 32], rules[E2E_PATH_MAX + 32];
    int ready_ms;  /* how long ew_spawn_daemon waits for /healthz; EW_READY_MS */
    struct e2e_proc daemon, cli;
    int starts;    /* daemons started: each gets its own log files */
    struct e2e_proc sinks[EW_MAX_SINKS];
    char sink_out[EW_MAX_SINKS][E2E_PATH_MAX + 32];
    size_t nsinks;
    struct hrx *raw[EW_MAX_RAW];
    char raw_url[EW_MAX_RAW][96];
    const char *raw_secret[EW_MAX_RAW];
    size_t nraw;
    char hook_name[72], hook_secret[72]; /* ew_start_hook's receiver */
    void *zctx, *push;
    uint64_t sent; /* events sent with ew_send* to the running daemon */
    int64_t wall0; /* Unix seconds when the case began */
    int passed;    /* set as the last statement of a case: keep the dir otherwise */
    char err[E2E_ERR_MAX];
};

/* ck_assert_msg that also says where the logs are. */
#define EW_MUST(w, cond, fmt, ...) \
    ck_assert_msg((cond), fmt " [logs kept in %s]", ##__VA_ARGS__, (w)->dir)
/* An MP_OK from a harness call, else its error text. */
#define EW_MUST_OK(w, expr) EW_MUST(w, (expr) == MP_OK, "%s: %s", #expr, (w)->err)

/* ---- the case's life ------------------------------------------------------ */

/* `tag` names the temp dir. */
void ew_setup(struct ew_world *w, const char *tag);
void ew_teardown(struct ew_world *w);

/* The suite: one TCase "daemon" with the checked fixture and timeout; each
 * case runs once, or with Check's _i = 0..loops-1 when loops > 0. */
struct ew_case {
    const TTest *test;
    int loops;
};
Suite *ew_suite(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                const struct ew_case *cases, size_t ncases);
/* An e2e suite's test_suite() in one place: EW_SUITE("name", timeout_s,
 * setup, teardown, {case_a, 0}, {case_b, 3}, ...) defines it as ew_suite()
 * over those cases. */
#define EW_SUITE(name, timeout_s, setup, teardown, ...)                                          \
    Suite *test_suite(void)                                                                      \
    {                                                                                            \
        const struct ew_case cases_[] = {__VA_ARGS__};                                           \
        return ew_suite(name, timeout_s, setup, teardown, cases_,                                \
                        sizeof(cases_) / sizeof(cases_[0]));                                     \
    }

/* The source tree's top into src (E2E_PATH_MAX): $MP_SRC_DIR, else the
 * working directory; <src>/<probe> must be readable there. */
void ew_src_dir(struct ew_world *w, char src[E2E_PATH_MAX], const char *probe);

/* A free port not yet used by this case. */
uint16_t ew_port(struct ew_world *w);

/* ---- programs and receivers ------------------------------------------------ */

/* Writes the config: `c` plus the world's data dir, ports and two workers. */
void ew_write_config(struct ew_world *w, struct e2e_daemon_conf c);
/* Appends printf(fmt, ...) to the config (sections the conf has no field
 * for: receivers of every type, limits:); it must be written. */
void ew_append_config(struct ew_world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts mailpulsed on the config as it is now (logs mailpulsed.*, then
 * mailpulsed-2.* ...); returns once /healthz is 200 and the PUSH socket is
 * connected. w->sent starts again at 0. */
void ew_spawn_daemon(struct ew_world *w);
/* Writes w->rules: rules.example.yaml (the built-in defaults; the tests run
 * from the tree's top) followed by `extra` (e.g. an `overrides:` list). */
void ew_rules_example(struct ew_world *w, const char *extra);
/* The same with every rule's scopes cut to the first three (tenant,
 * mailbox, recipient_domain): for suites about the alert lifecycle, whose
 * figures count one alert per scope of those three (the provider scopes'
 * alerts are test_e2e_providers' and test_e2e's subject). */
void ew_rules_example3(struct ew_world *w, const char *extra);
/* ew_write_config + ew_spawn_daemon. */
void ew_start_daemon(struct ew_world *w, struct e2e_daemon_conf c);
/* A DNS blocklist zone served for real: tests/dnsbl_server.py (Debian's
 * python3-dnslib) on a fresh loopback port, answering from the zone file
 * <w->dir>/zone.txt, read again at every query. ew_dns_start writes it
 * empty, starts the server (as p) and returns its port once it listens;
 * ew_zone_write rewrites the file (through a rename: the server never
 * reads half of it); lines are "NAME A ADDRESS", "NAME TXT TEXT...",
 * "NAME RCODE CODE" (see the script). */
uint16_t ew_dns_start(struct ew_world *w, struct e2e_proc *p);
void ew_zone_write(struct ew_world *w, const char *text);
/* SIGTERM; p must exit 0 within EW_STOP_MS. */
void ew_stop_ok(struct ew_world *w, struct e2e_proc *p);
/* How a case that ends with its daemon running ends: ew_stop_ok(w,
 * &w->daemon), then w->passed = 1 (so the temp dir goes). */
void ew_pass(struct ew_world *w);
/* Polls the daemon's stderr until it contains `needle`. */
void ew_wait_log(struct ew_world *w, const char *needle, int timeout_ms);
/* An in-process receiver answering `status`, at w->raw_url[k] =
 * http://127.0.0.1:PORT/hook-<name>; secret is what its requests must be
 * signed with (NULL: unsigned). Returns k. */
size_t ew_raw(struct ew_world *w, const char *name, const char *secret, unsigned status);
/* The usual one-receiver case: ew_raw(w, name, "secret-<name>", status)
 * becomes c's only receiver, "<name>-hook", and its default route; then
 * ew_start_daemon(w, c). Returns the receiver's k. */
size_t ew_start_hook(struct ew_world *w, const char *name, unsigned status,
                     struct e2e_daemon_conf c);
/* `mailpulse sink` on a fresh port writing <dir>/<name>.jsonl; `url`
 * receives http://127.0.0.1:PORT<path>. Returns its index. */
size_t ew_sink(struct ew_world *w, const char *name, const char *path, char *url, size_t urln);

/* ---- events ------------------------------------------------------------------ */

/* `count` identical events, in frames of E2E_EVENTS_PER_FRAME; w->sent += count. */
void ew_send(struct ew_world *w, const char *tenant, const char *mailbox, const char *domain,
             int type, size_t count, int64_t time_ms);
/* The events in one frame, as producer `producer_id`; w->sent += n. */
void ew_send_frame(struct ew_world *w, const struct e2e_event *ev, size_t n,
                   const char *producer_id);

/* ---- reading the daemon ------------------------------------------------------ */

/* GET /metrics: must answer 200; the body (free it). */
char *ew_metrics_text(struct ew_world *w);
/* Series `series` in `text` (see e2e_metric): must be there. */
uint64_t ew_metric_in(struct ew_world *w, const char *text, const char *series);
uint64_t ew_metric(struct ew_world *w, const char *series);
/* Polls /metrics until `series` reaches `want`; it must then equal it. */
void ew_wait_metric(struct ew_world *w, const char *series, uint64_t want, int timeout_ms);
/* GET base+path: the status must be `want` and the body a JSON object. */
json_t *ew_get_json(struct ew_world *w, const char *path, long want);
/* GET base+path with `Authorization: Bearer <token>` (NULL: no header):
 * there must be an answer; its status, and *body (free it). */
long ew_get_auth(struct ew_world *w, const char *path, const char *token, char **body);

/* ---- signatures and requests ----------------------------------------------- */

/* Parses "t=<digits>,v1=<64 lower-case hex>" exactly: 1, else 0. */
int ew_sig_parse(const char *h, long long *t, char v1[65]);
/* Lower-case hex of HMAC-SHA256(secret, "<t>." + body). */
void ew_sig_hex(const char *secret, long long t, const char *body, size_t len, char out[65]);
/* Request i of receiver k (which must exist), its signature checked against
 * the receiver's secret (and made during this case: signed per attempt)
 * and its Idempotency-Key present. */
const struct hrx_req *ew_req(struct ew_world *w, size_t k, size_t i);
/* The request's body, which must be a JSON object. */
json_t *ew_req_json(struct ew_world *w, const struct hrx_req *r);
/* Requests of receiver k answered below 300 (delivered, as the daemon sees it). */
size_t ew_ok_count(struct ew_world *w, size_t k);
/* Their bodies in arrival order, each checked by ew_req (json_decref it). */
json_t *ew_ok_bodies(struct ew_world *w, size_t k);
/* Polls until receiver k has answered n requests below 300 within
 * timeout_ms; else fails naming `what` and showing the bodies it got. */
void ew_wait_ok(struct ew_world *w, size_t k, size_t n, int timeout_ms, const char *what);

/* ---- JSON -------------------------------------------------------------------- */

/* obj[key] when it is a string, else NULL. */
const char *ew_jstr(json_t *obj, const char *key);
/* Both set and equal. */
int ew_streq(const char *a, const char *b);
/* Compact JSON cut to `max` bytes (Check refuses messages over
 * CK_MAX_MSG_SIZE, and then fails without saying why). Free it. */
char *ew_jdump(json_t *j, size_t max);

/* ---- crash cases' randomness ----------------------------------------------------- */

/* The next of a splitmix64 stream at *state (kill delays, jitters). */
uint64_t ew_rng(uint64_t *state);
/* A crash case's seed: $MP_CRASH_SEED, or the clock; printed on stderr as
 * "<name>: seeded with MP_CRASH_SEED=N" so that a failure can be replayed. */
uint64_t ew_crash_seed(const char *name);

#endif
