/* test_alert_sender.c — alerts/alert_sender against real HTTP receivers.
 *
 * Each receiver is a libmicrohttpd server inside the test process, on its
 * own free loopback port, answering from a per-request script (status,
 * Retry-After, a sleep) and recording every request (body, headers, arrival
 * time). Durable cases use a real RocksDB store in a mkdtemp directory.
 *
 * Proves: per-receiver order under 503-then-200; a 400 dead-letters at once
 * and the next note still goes; max_age expiry (connection refused); a
 * Retry-After honoured (and capped), and a 503 without one backing off; a
 * slow receiver does not delay another; the outbox survives a stop/start
 * and is sent in order with the same Idempotency-Key; "receiver_removed" at
 * start and via set_receivers (a kept receiver keeps its queue under its
 * new url), also while submits and deliveries race the reloads; Slack
 * pacing and merging, and 429 with Retry-After on a merged message; the
 * signature header; dead_json content, filters and limit.
 *
 * By module: the outbox and dead letters (alert_outbox.c) are
 * outbox_survives_restart, receiver_removed_at_start, dead_json_content and
 * max_age_expires_to_dead; the thread's order, retries, pacing and merging
 * (alert_sender_loop.c) the 503/400/Retry-After/outage/slow/slack cases;
 * submit and receiver lists (alert_sender.c) submit_refusals and the
 * set_receivers cases. (The Slack merge itself is alert_notify's, tested in
 * test_alert_notify.c.)
 */
#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alert_notify.h"
#include "alert_sender.h"
#include "e2e_harness.h"
#include "eng_store.h"
#include "http_receiver.h"
#include "mp_log.h"
#include "check_main.h"
#include "unit_util.h"

/* ---- scripted HTTP receiver (tests/http_receiver.h), as this suite reads it ---------- */

struct step {
    unsigned status;
    int retry_after; /* seconds; < 0: no header */
    int sleep_ms;    /* before answering */
};

#define SRV_MAX_REQS 128 /* requests this suite looks at, per receiver */

/* A copy of what a recorded request says (the body is the receiver's). */
struct req {
    const char *body;
    char idem[128];
    char sig[160];
    char ctype[64];
    unsigned status;
    int64_t mono_ms; /* when the request was complete */
    int64_t mono_ns; /* the same, for ordering across servers */
};

struct srv {
    struct hrx *h;
    char url[64];
};

static int64_t mono_ms(void) { return mp_mono_ns() / 1000000; }

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static struct hrx_step srv__step(struct step st)
{
    return (struct hrx_step){st.status, st.retry_after, st.sleep_ms};
}

static struct srv *srv_start(unsigned status)
{
    struct srv *s = calloc(1, sizeof(*s));
    ck_assert_ptr_nonnull(s);
    char err[256] = "";
    ck_assert_msg(hrx_start(0, &s->h, err, sizeof(err)) == MP_OK, "receiver: %s", err);
    hrx_set_status(s->h, status);
    ck_assert_uint_gt(hrx_port(s->h), 0);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u/hook", (unsigned)hrx_port(s->h));
    return s;
}

static void srv_stop(struct srv *s)
{
    hrx_stop(s->h);
    free(s);
}

static void srv_script(struct srv *s, const struct step *steps, size_t n)
{
    struct hrx_step hs[HRX_MAX_STEPS];
    ck_assert_uint_le(n, HRX_MAX_STEPS);
    for (size_t i = 0; i < n; i++)
        hs[i] = srv__step(steps[i]);
    hrx_script(s->h, hs, n);
}

static void srv_default(struct srv *s, struct step st) { hrx_set_default(s->h, srv__step(st)); }

static size_t srv_count(struct srv *s)
{
    size_t n = hrx_count(s->h);
    return n < SRV_MAX_REQS ? n : SRV_MAX_REQS;
}

static void srv__copy_header(const struct hrx_req *r, const char *name, char *out, size_t n)
{
    const char *v = hrx_req_header(r, name);
    snprintf(out, n, "%s", v ? v : "");
}

/* A copy of request i (the body is shared, never changed once recorded). */
static struct req srv_req(struct srv *s, size_t i)
{
    ck_assert_uint_lt(i, srv_count(s));
    const struct hrx_req *r = hrx_get(s->h, i);
    ck_assert_ptr_nonnull(r);
    struct req q = {.body = r->body, .status = r->status, .mono_ns = r->mono_ns};
    q.mono_ms = r->mono_ns / 1000000;
    srv__copy_header(r, "Idempotency-Key", q.idem, sizeof(q.idem));
    srv__copy_header(r, "X-Mailpulse-Signature", q.sig, sizeof(q.sig));
    srv__copy_header(r, "Content-Type", q.ctype, sizeof(q.ctype));
    return q;
}

static void srv_forget(struct srv *s) { hrx_forget(s->h); }

static int wait_srv(struct srv *s, size_t n, int timeout_ms)
{
    return hrx_wait(s->h, n, timeout_ms) == MP_OK;
}

/* ---- sender helpers ------------------------------------------------------------------- */

enum { F_DELIVERED, F_DEAD, F_ATTEMPTS, F_QUEUED };

static uint64_t fig(struct alert_sender *s, int which)
{
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    switch (which) {
    case F_DELIVERED: return f.delivered;
    case F_DEAD: return f.dead;
    case F_ATTEMPTS: return f.attempts;
    default: return f.queued;
    }
}

static int wait_fig(struct alert_sender *s, int which, uint64_t want, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    while (fig(s, which) < want) {
        if (mono_ms() > end)
            return 0;
        sleep_ms(5);
    }
    return 1;
}

static struct alert_sender_opts fast_opts(struct eng_store *store)
{
    return (struct alert_sender_opts){.store = store,
                                      .backoff_ms = 20,
                                      .backoff_max_ms = 200,
                                      .timeout_ms = 3000,
                                      .max_age_ms = 60000,
                                      .slack_interval_ms = 1000};
}

static struct alert_sender *start(const struct alert_receiver *r, size_t n,
                                  const struct alert_sender_opts *o)
{
    struct alert_sender *s = NULL;
    ck_assert_int_eq(alert_sender_start(r, n, o, &s), MP_OK);
    return s;
}

static char *text_body(const char *text)
{
    json_t *o = json_pack("{s:s}", "text", text);
    char *b = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    ck_assert_ptr_nonnull(b);
    return b;
}

static int submit(struct alert_sender *s, const char *receiver, const char *tenant,
                  const char *text, const char *idem)
{
    struct alert_note an = {.receiver = receiver, .tenant = tenant, .body = text_body(text),
                            .idem = idem};
    return alert_sender_submit(s, &an, 1, NULL);
}

/* The "text" of a request body (malloc'd). */
static char *body_text(const char *body)
{
    json_t *o = json_loads(body, 0, NULL);
    ck_assert_msg(o != NULL, "body is not JSON: %s", body);
    const char *t = json_string_value(json_object_get(o, "text"));
    ck_assert_ptr_nonnull(t);
    char *r = strdup(t);
    json_decref(o);
    return r;
}

static json_t *dead_list(struct alert_sender *s, const char *tenant, size_t limit)
{
    char *j = alert_sender_dead_json(s, tenant, limit);
    ck_assert_ptr_nonnull(j);
    json_t *o = json_loads(j, 0, NULL);
    free(j);
    ck_assert_ptr_nonnull(o);
    json_t *arr = json_incref(json_object_get(o, "dead"));
    json_decref(o);
    ck_assert(json_is_array(arr));
    return arr;
}

static const char *dead_str(json_t *arr, size_t i, const char *field)
{
    const char *v = json_string_value(json_object_get(json_array_get(arr, i), field));
    ck_assert_msg(v != NULL, "dead[%zu].%s missing", i, field);
    return v;
}

/* ---- store --------------------------------------------------------------------------- */

static char dir[UNIT_PATH_MAX];

static void setup(void) { unit_tmpdir("alert_sender", dir); }

static void teardown(void)
{
    unit_tmpdir_remove(dir);
    ck_assert_int_ne(access(dir, F_OK), 0);
}

static struct eng_store *open_store(void) { return unit_store_open(dir); }

static int kv_count_fn(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    (*(size_t *)arg)++;
    return MP_OK;
}

static size_t kv_count(struct eng_store *st, int kv)
{
    size_t n = 0;
    ck_assert_int_eq(eng_store_kv_scan(st, kv, NULL, 0, kv_count_fn, &n), MP_OK);
    return n;
}

/* A loopback port nobody listens on (bound, read, closed). */
static unsigned closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof(sa);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A sender with one receiver at server h: "a" (a webhook) or "slack". */
static struct alert_sender *start_one(struct srv *h, int type, const char *secret,
                                      const struct alert_sender_opts *o)
{
    struct alert_receiver r = {.name = type == ALERT_RECEIVER_SLACK ? "slack" : "a", .type = type, .url = h->url, .secret = secret};
    return start(&r, 1, o);
}

/* A server answering `first` to the first request, then `status`. */
static struct srv *srv_first(unsigned status, struct step first)
{
    struct srv *h = srv_start(status);
    srv_script(h, &first, 1);
    return h;
}

/* Stops the sender (draining up to drain_ms), then its one server. */
static void stop_one(struct alert_sender *s, struct srv *h, int64_t drain_ms)
{
    alert_sender_stop(s, drain_ms);
    srv_stop(h);
}

/* ---- tests ----------------------------------------------------------------------------- */

START_TEST(order_under_503_then_200)
{
    struct srv *h = srv_start(200);
    const struct step script[] = {{503, -1, 0}, {503, -1, 0}};
    srv_script(h, script, 2);
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "one", "k1"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "two", "k2"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "three", "k3"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 3, 5000));
    /* k1 is retried until its 200; only then do k2 and k3 go. */
    const char *want[] = {"k1", "k1", "k1", "k2", "k3"};
    const unsigned st[] = {503, 503, 200, 200, 200};
    ck_assert_uint_eq(srv_count(h), 5);
    for (size_t i = 0; i < 5; i++) {
        struct req q = srv_req(h, i);
        ck_assert_str_eq(q.idem, want[i]);
        ck_assert_uint_eq(q.status, st[i]);
    }
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.submitted, 3);
    ck_assert_uint_eq(f.attempts, 5);
    ck_assert_uint_eq(f.failed_attempts, 2);
    ck_assert_uint_eq(f.queued, 0);
    ck_assert_uint_eq(f.dead, 0);
    stop_one(s, h, 1000);
}
END_TEST

START_TEST(http_400_dead_next_still_goes)
{
    struct srv *h = srv_first(200, (struct step){400, -1, 0});
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "bad", "x1"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "good", "x2"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 1, 5000));
    ck_assert_uint_eq(fig(s, F_DEAD), 1);
    ck_assert_uint_eq(srv_count(h), 2); /* no retry of the 400 */
    ck_assert_str_eq(srv_req(h, 0).idem, "x1");
    ck_assert_str_eq(srv_req(h, 1).idem, "x2");
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), 1);
    ck_assert_str_eq(dead_str(d, 0, "reason"), "http_400");
    ck_assert_str_eq(dead_str(d, 0, "idempotency_key"), "x1");
    ck_assert_str_eq(dead_str(d, 0, "tenant"), "acme");
    json_decref(d);
    stop_one(s, h, 1000);
}
END_TEST

START_TEST(max_age_expires_to_dead)
{
    /* Connection refused, retried every few ms, until 300 ms old. */
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/hook", closed_port());
    struct alert_receiver r[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    o.max_age_ms = 300;
    o.backoff_ms = 10;
    o.backoff_max_ms = 50;
    struct alert_sender *s = start(r, 1, &o);
    int64_t t0 = mono_ms();
    ck_assert_int_eq(submit(s, "a", "acme", "late", "e1"), MP_OK);
    ck_assert(wait_fig(s, F_DEAD, 1, 3000));
    ck_assert_int_ge(mono_ms() - t0, 290);
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_ge(f.attempts, 2);
    ck_assert_uint_eq(f.failed_attempts, f.attempts);
    ck_assert_uint_eq(f.queued, 0);
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), 1);
    ck_assert_str_eq(dead_str(d, 0, "reason"), "expired");
    ck_assert_int_ge(json_integer_value(json_object_get(json_array_get(d, 0), "attempts")), 2);
    json_decref(d);
    alert_sender_stop(s, 0);
}
END_TEST

START_TEST(retry_after_honoured_and_capped)
{
    struct srv *h = srv_first(200, (struct step){429, 1, 0});
    struct alert_sender_opts o = fast_opts(NULL);
    o.backoff_ms = 5;
    o.backoff_max_ms = 5000;
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "ra", "r1"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 1, 5000));
    ck_assert_uint_eq(srv_count(h), 2);
    int64_t gap = srv_req(h, 1).mono_ms - srv_req(h, 0).mono_ms;
    ck_assert_msg(gap >= 1000, "retried after %lld ms, Retry-After said 1 s", (long long)gap);
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.rate_limited, 1);
    alert_sender_stop(s, 1000);

    /* 503 with Retry-After: 30 and a 300 ms cap waits the cap, not 30 s. */
    srv_forget(h);
    const struct step script2[] = {{503, 30, 0}};
    srv_script(h, script2, 1);
    o.backoff_max_ms = 300;
    s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "ra2", "r2"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 1, 3000));
    gap = srv_req(h, 1).mono_ms - srv_req(h, 0).mono_ms;
    ck_assert_msg(gap >= 300 && gap < 2000, "retried after %lld ms", (long long)gap);
    stop_one(s, h, 1000);
}
END_TEST

START_TEST(outage_without_retry_after_backs_off)
{
    /* A 503 with no Retry-After (libcurl reads that as 0) takes the backoff:
     * delays uniform in [0, 100] then [0, 200] ms are ~6 attempts in 600 ms;
     * retrying at once would be thousands. */
    struct srv *h = srv_start(503);
    struct alert_sender_opts o = fast_opts(NULL);
    o.backoff_ms = 100;
    o.backoff_max_ms = 200;
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "down", "o1"), MP_OK);
    sleep_ms(600);
    uint64_t n = fig(s, F_ATTEMPTS);
    ck_assert_msg(n >= 2 && n <= 30, "%llu attempts in 600 ms", (unsigned long long)n);
    stop_one(s, h, 0);
}
END_TEST

START_TEST(slow_receiver_does_not_delay_another)
{
    struct srv *slow = srv_start(200), *fast = srv_start(200);
    srv_default(slow, (struct step){200, -1, 1500});
    struct alert_receiver r[] = {{.name = "slow", .type = ALERT_RECEIVER_WEBHOOK, .url = slow->url, .secret = NULL},
                                 {.name = "fast", .type = ALERT_RECEIVER_WEBHOOK, .url = fast->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start(r, 2, &o);
    ck_assert_int_eq(submit(s, "slow", "acme", "s1", "s1"), MP_OK);
    ck_assert(wait_srv(slow, 1, 2000)); /* the slow one is now in flight */
    int64_t t0 = mono_ms();
    ck_assert_int_eq(submit(s, "fast", "acme", "f1", "f1"), MP_OK);
    ck_assert_int_eq(submit(s, "fast", "acme", "f2", "f2"), MP_OK);
    ck_assert_int_eq(submit(s, "fast", "acme", "f3", "f3"), MP_OK);
    ck_assert(wait_srv(fast, 3, 1000));
    int64_t took = srv_req(fast, 2).mono_ms - t0;
    ck_assert_msg(took < 700, "fast receiver waited %lld ms behind the slow one", (long long)took);
    ck_assert(wait_fig(s, F_DELIVERED, 3, 1000)); /* all three answered, slow one pending */
    ck_assert(wait_fig(s, F_DELIVERED, 4, 4000));
    alert_sender_stop(s, 1000);
    srv_stop(slow);
    srv_stop(fast);
}
END_TEST

START_TEST(outbox_survives_restart)
{
    struct eng_store *st = open_store();
    struct srv *h = srv_start(503);
    struct alert_sender_opts o = fast_opts(st);
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, "s3cret", &o);
    /* The caller's batch carries its own change too: both land together. */
    struct eng_store_batch *b = eng_store_batch_new(st);
    eng_store_batch_kv_put(b, ENG_KV_ALERTS, "state", 5, "firing", 6);
    struct alert_note an[] = {{"a", "acme", text_body("p1"), "p1"},
                              {"a", "acme", text_body("p2"), "p2"},
                              {"a", "acme", text_body("p3"), "p3"}};
    ck_assert_int_eq(alert_sender_submit(s, an, 3, b), MP_OK);
    eng_store_batch_free(b);
    ck_assert_uint_eq(kv_count(st, ENG_KV_ALERTS), 1);
    ck_assert(wait_srv(h, 2, 3000)); /* p1 failed at least once */
    alert_sender_stop(s, 0);
    ck_assert_uint_eq(kv_count(st, ENG_KV_OUTBOX), 3); /* stop kept them */
    eng_store_close(st);

    srv_default(h, (struct step){200, -1, 0});
    srv_forget(h);
    st = open_store();
    o.store = st;
    s = start_one(h, ALERT_RECEIVER_WEBHOOK, "s3cret", &o);
    ck_assert_uint_ge(fig(s, F_QUEUED) + fig(s, F_DELIVERED), 3);
    ck_assert(wait_fig(s, F_DELIVERED, 3, 5000));
    const char *want[] = {"p1", "p2", "p3"};
    ck_assert_uint_eq(srv_count(h), 3);
    for (size_t i = 0; i < 3; i++) {
        struct req q = srv_req(h, i);
        ck_assert_str_eq(q.idem, want[i]);
        char *t = body_text(q.body);
        ck_assert_str_eq(t, want[i]);
        free(t);
        ck_assert(q.sig[0] != '\0');
    }
    ck_assert_uint_eq(fig(s, F_QUEUED), 0);
    alert_sender_stop(s, 1000);
    ck_assert_uint_eq(kv_count(st, ENG_KV_OUTBOX), 0);
    eng_store_close(st);
    srv_stop(h);
}
END_TEST

START_TEST(receiver_removed_at_start)
{
    struct eng_store *st = open_store();
    struct srv *ha = srv_start(503), *hb = srv_start(200);
    struct alert_receiver r[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = ha->url, .secret = NULL},
                                 {.name = "b", .type = ALERT_RECEIVER_WEBHOOK, .url = hb->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(st);
    struct alert_sender *s = start(r, 2, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "a1", "a1"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "a2", "a2"), MP_OK);
    ck_assert_int_eq(submit(s, "b", "acme", "b1", "b1"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 1, 3000));
    ck_assert(wait_srv(ha, 1, 3000));
    alert_sender_stop(s, 0);
    ck_assert_uint_eq(kv_count(st, ENG_KV_OUTBOX), 2);

    s = start(&r[1], 1, &o); /* "a" is gone from the configuration */
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.dead, 2);
    ck_assert_uint_eq(f.dead_stored, 2);
    ck_assert_uint_eq(f.queued, 0);
    ck_assert_uint_eq(kv_count(st, ENG_KV_OUTBOX), 0);
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), 2);
    for (size_t i = 0; i < 2; i++) {
        ck_assert_str_eq(dead_str(d, i, "reason"), "receiver_removed");
        ck_assert_str_eq(dead_str(d, i, "receiver"), "a");
        ck_assert_str_eq(dead_str(d, i, "idempotency_key"), i ? "a2" : "a1");
    }
    json_decref(d);
    alert_sender_stop(s, 0);
    eng_store_close(st);
    srv_stop(ha);
    srv_stop(hb);
}
END_TEST

START_TEST(set_receivers_keeps_moves_removes)
{
    struct srv *ha = srv_start(503), *hb1 = srv_start(503), *hb2 = srv_start(200),
               *hc = srv_start(200);
    struct alert_receiver r[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = ha->url, .secret = NULL},
                                 {.name = "b", .type = ALERT_RECEIVER_WEBHOOK, .url = hb1->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start(r, 2, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "a1", "a1"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "a2", "a2"), MP_OK);
    ck_assert_int_eq(submit(s, "b", "acme", "b1", "b1"), MP_OK);
    ck_assert_int_eq(submit(s, "b", "acme", "b2", "b2"), MP_OK);
    ck_assert(wait_srv(ha, 2, 3000));
    ck_assert(wait_srv(hb1, 2, 3000));

    /* "b" is kept at a new url, "a" removed, "c" new. */
    struct alert_receiver r2[] = {{.name = "b", .type = ALERT_RECEIVER_WEBHOOK, .url = hb2->url, .secret = "k"},
                                  {.name = "c", .type = ALERT_RECEIVER_WEBHOOK, .url = hc->url, .secret = NULL}};
    ck_assert_int_eq(alert_sender_set_receivers(s, r2, 2), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 2, 3000));
    ck_assert(wait_fig(s, F_DEAD, 2, 3000));
    ck_assert_uint_eq(srv_count(hb2), 2); /* b's queue, in order, signed now */
    ck_assert_str_eq(srv_req(hb2, 0).idem, "b1");
    ck_assert_str_eq(srv_req(hb2, 1).idem, "b2");
    ck_assert(srv_req(hb2, 0).sig[0] != '\0');
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), 2);
    ck_assert_str_eq(dead_str(d, 0, "idempotency_key"), "a1");
    ck_assert_str_eq(dead_str(d, 1, "idempotency_key"), "a2");
    ck_assert_str_eq(dead_str(d, 0, "reason"), "receiver_removed");
    ck_assert_str_eq(dead_str(d, 1, "reason"), "receiver_removed");
    json_decref(d);

    /* "a" is refused now; in the same call "c" still goes. */
    struct alert_note an[] = {{"a", "acme", text_body("a3"), "a3"},
                              {"c", "acme", text_body("c1"), "c1"}};
    ck_assert_int_eq(alert_sender_submit(s, an, 2, NULL), MP_ERR_INVAL);
    ck_assert(wait_srv(hc, 1, 3000));
    ck_assert_str_eq(srv_req(hc, 0).idem, "c1");
    ck_assert(wait_fig(s, F_DELIVERED, 3, 3000));
    alert_sender_stop(s, 1000);
    srv_stop(ha);
    srv_stop(hb1);
    srv_stop(hb2);
    srv_stop(hc);
}
END_TEST

struct reload_arg {
    struct alert_sender *s;
    const char *u1, *u2;
    int rounds;
};

/* Switches "a" between two urls and adds/removes "x", as fast as it can. */
static void *reload_thread(void *p)
{
    struct reload_arg *a = p;
    for (int i = 0; i < a->rounds; i++) {
        struct alert_receiver with[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = a->u1, .secret = NULL},
                                        {.name = "x", .type = ALERT_RECEIVER_WEBHOOK, .url = a->u2, .secret = NULL}};
        struct alert_receiver without[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = a->u2, .secret = "k"}};
        int rc = i % 2 ? alert_sender_set_receivers(a->s, with, 2)
                       : alert_sender_set_receivers(a->s, without, 1);
        if (rc != MP_OK)
            return (void *)1;
        sleep_ms(1);
    }
    return NULL;
}

static int by_arrival(const void *x, const void *y)
{
    const struct req *a = x, *b = y;
    return (a->mono_ns > b->mono_ns) - (a->mono_ns < b->mono_ns);
}

START_TEST(set_receivers_under_load)
{
    /* Reloads race submits and deliveries (ThreadSanitizer's case): the
     * kept receiver still delivers everything, in order, across both urls. */
    struct srv *h1 = srv_start(200), *h2 = srv_start(200);
    struct alert_receiver r[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = h1->url, .secret = NULL},
                                 {.name = "x", .type = ALERT_RECEIVER_WEBHOOK, .url = h2->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start(r, 2, &o);
    struct reload_arg ra = {s, h1->url, h2->url, 200};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, reload_thread, &ra), 0);
    enum { N = 40 };
    size_t x_ok = 0;
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof(k), "a%02d", i);
        ck_assert_int_eq(submit(s, "a", "acme", k, k), MP_OK);
        snprintf(k, sizeof(k), "x%02d", i);
        x_ok += submit(s, "x", "acme", k, k) == MP_OK; /* refused while "x" is out */
        sleep_ms(2);
    }
    void *ret;
    pthread_join(t, &ret);
    ck_assert_ptr_null(ret);
    struct alert_sender_figures f;
    int64_t end = mono_ms() + 5000;
    do {
        sleep_ms(10);
        alert_sender_figures(s, &f);
    } while (f.delivered + f.dead < N + x_ok && mono_ms() < end);
    ck_assert_uint_eq(f.submitted, N + x_ok);
    ck_assert_uint_eq(f.delivered + f.dead, N + x_ok);
    ck_assert_uint_eq(f.queued, 0);
    alert_sender_stop(s, 1000);
    /* Only the "a" requests, by arrival across both servers. */
    struct req all[2 * SRV_MAX_REQS];
    size_t n = 0;
    struct srv *hs[] = {h1, h2};
    for (size_t j = 0; j < 2; j++)
        for (size_t i = 0; i < srv_count(hs[j]); i++) {
            struct req q = srv_req(hs[j], i);
            if (q.idem[0] == 'a')
                all[n++] = q;
        }
    qsort(all, n, sizeof(all[0]), by_arrival);
    ck_assert_uint_eq(n, N);
    for (size_t i = 0; i < n; i++) {
        char k[16];
        snprintf(k, sizeof(k), "a%02zu", i);
        ck_assert_str_eq(all[i].idem, k);
    }
    srv_stop(h1);
    srv_stop(h2);
}
END_TEST

START_TEST(removed_while_in_inbox)
{
    /* A note still in the inbox when its receiver goes is dead-lettered
     * from there; the notes after it in the inbox must be unaffected (the
     * in-memory dead list once kept the inbox link: use-after-free once
     * the next note was delivered). */
    struct srv *h = srv_start(200);
    struct alert_receiver both[] = {{.name = "x", .type = ALERT_RECEIVER_WEBHOOK, .url = h->url, .secret = NULL},
                                    {.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = h->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start(both, 2, &o);
    enum { R = 40 };
    for (int i = 0; i < R; i++) {
        char kx[16], ka[16];
        snprintf(kx, sizeof(kx), "x%02d", i);
        snprintf(ka, sizeof(ka), "a%02d", i);
        struct alert_note an[] = {{"x", "acme", text_body(kx), kx},
                                  {"a", "acme", text_body(ka), ka}};
        ck_assert_int_eq(alert_sender_submit(s, an, 2, NULL), MP_OK);
        ck_assert_int_eq(alert_sender_set_receivers(s, &both[1], 1), MP_OK);
        ck_assert_int_eq(alert_sender_set_receivers(s, both, 2), MP_OK);
        /* Once both are settled, walk the dead list: a stale link from its
         * tail into the (now delivered, freed) "a" note shows up here. */
        struct alert_sender_figures g;
        int64_t until = mono_ms() + 3000;
        do {
            alert_sender_figures(s, &g);
        } while (g.delivered + g.dead < 2 * (uint64_t)(i + 1) && mono_ms() < until);
        json_t *d = dead_list(s, NULL, 0);
        ck_assert_uint_eq(json_array_size(d), g.dead);
        json_decref(d);
    }
    struct alert_sender_figures f;
    int64_t end = mono_ms() + 5000;
    do {
        sleep_ms(10);
        alert_sender_figures(s, &f);
    } while (f.delivered + f.dead < 2 * R && mono_ms() < end);
    ck_assert_uint_eq(f.delivered + f.dead, 2 * R);
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), f.dead);
    for (size_t i = 0; i < json_array_size(d); i++) {
        ck_assert_str_eq(dead_str(d, i, "reason"), "receiver_removed");
        ck_assert_int_eq(dead_str(d, i, "idempotency_key")[0], 'x');
    }
    json_decref(d);
    alert_sender_stop(s, 1000);
    srv_stop(h);
}
END_TEST

START_TEST(slack_burst_is_paced_and_merged)
{
    struct srv *h = srv_start(200);
    struct alert_sender_opts o = fast_opts(NULL);
    o.slack_interval_ms = 1000;
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_SLACK, NULL, &o);
    int64_t t0 = mono_ms();
    for (int i = 0; i < 10; i++) {
        char text[16], idem[16];
        snprintf(text, sizeof(text), "msg %d", i);
        snprintf(idem, sizeof(idem), "k%d", i);
        ck_assert_int_eq(submit(s, "slack", "acme", text, idem), MP_OK);
    }
    ck_assert(wait_fig(s, F_DELIVERED, 10, 3000));
    ck_assert_int_le(mono_ms() - t0, 1500);
    size_t n = srv_count(h);
    ck_assert_msg(n >= 1 && n <= 2, "%zu requests for a burst of 10", n);
    /* Every text, once, in order, across the requests. */
    char all[512] = "";
    for (size_t i = 0; i < n; i++) {
        char *t = body_text(srv_req(h, i).body);
        if (i)
            strcat(all, "\n\n");
        strcat(all, t);
        free(t);
    }
    ck_assert_str_eq(all, "msg 0\n\nmsg 1\n\nmsg 2\n\nmsg 3\n\nmsg 4\n\nmsg 5\n\nmsg 6\n\n"
                          "msg 7\n\nmsg 8\n\nmsg 9");
    /* A merged message is keyed by its first note plus the count: the
     * keys chain k0(+c0), k<c0>(+c1), ... and the counts add up to 10. */
    int first = 0;
    for (size_t i = 0; i < n; i++) {
        int k = -1, c = 1;
        const char *idem = srv_req(h, i).idem;
        int got = sscanf(idem, "k%d+%d", &k, &c);
        ck_assert_msg(got >= 1 && k == first, "request %zu key %s", i, idem);
        ck_assert_msg(got == 2 || c == 1, "key %s", idem);
        ck_assert_msg(got == 1 || c > 1, "merged key %s for one note", idem);
        first += c;
    }
    ck_assert_int_eq(first, 10);
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.merged, 10 - n);
    ck_assert_uint_eq(f.attempts, n);
    stop_one(s, h, 1000);
}
END_TEST

START_TEST(slack_429_retry_after_keeps_group)
{
    struct srv *h = srv_first(200, (struct step){429, 1, 0});
    struct alert_sender_opts o = fast_opts(NULL);
    o.slack_interval_ms = 100;
    o.backoff_max_ms = 5000;
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_SLACK, NULL, &o);
    struct alert_note an[] = {{"slack", "acme", text_body("one"), "s1"},
                              {"slack", "acme", text_body("two"), "s2"},
                              {"slack", "acme", text_body("three"), "s3"}};
    ck_assert_int_eq(alert_sender_submit(s, an, 3, NULL), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 3, 4000));
    ck_assert_uint_eq(srv_count(h), 2);
    struct req a = srv_req(h, 0), b = srv_req(h, 1);
    ck_assert_uint_eq(a.status, 429);
    ck_assert_str_eq(a.idem, "s1+3");
    ck_assert_str_eq(b.idem, "s1+3");
    ck_assert_str_eq(a.body, b.body);
    char *t = body_text(b.body);
    ck_assert_str_eq(t, "one\n\ntwo\n\nthree");
    free(t);
    ck_assert_int_ge(b.mono_ms - a.mono_ms, 1000);
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.rate_limited, 1);
    ck_assert_uint_eq(f.merged, 2);
    ck_assert_uint_eq(f.delivered, 3);
    stop_one(s, h, 1000);
}
END_TEST

START_TEST(signature_header_valid)
{
    struct srv *h = srv_start(200), *plain = srv_start(200);
    struct alert_receiver r[] = {{.name = "a", .type = ALERT_RECEIVER_WEBHOOK, .url = h->url, .secret = "top-secret"},
                                 {.name = "p", .type = ALERT_RECEIVER_WEBHOOK, .url = plain->url, .secret = NULL}};
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start(r, 2, &o);
    ck_assert_int_eq(submit(s, "a", "acme", "signed", "g1"), MP_OK);
    ck_assert_int_eq(submit(s, "p", "acme", "plain", "g2"), MP_OK);
    ck_assert(wait_fig(s, F_DELIVERED, 2, 3000));
    struct req q = srv_req(h, 0);
    ck_assert_str_eq(q.ctype, "application/json");
    ck_assert_str_eq(q.idem, "g1");
    long long t = 0;
    ck_assert_int_eq(sscanf(q.sig, "t=%lld,", &t), 1);
    ck_assert_int_le(llabs(t - mp_now_ms() / 1000), 10);
    char want[128];
    alert_sign("top-secret", t, q.body, strlen(q.body), want, sizeof(want));
    ck_assert_str_eq(q.sig, want);
    ck_assert_str_eq(srv_req(plain, 0).sig, ""); /* no secret, no signature */
    alert_sender_stop(s, 1000);
    srv_stop(h);
    srv_stop(plain);
}
END_TEST

static int is_rfc3339_ms(const char *s)
{
    int y, mo, d, h, mi, se, ms;
    char z;
    return strlen(s) == 24 &&
           sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo, &d, &h, &mi, &se, &ms, &z) == 8 &&
           z == 'Z';
}

START_TEST(dead_json_content)
{
    struct eng_store *st = open_store();
    struct srv *h = srv_start(400);
    struct alert_sender_opts o = fast_opts(st);
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    int64_t before = mp_now_ms();
    ck_assert_int_eq(submit(s, "a", "acme", "d one", "d1"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "beta", "d two", "d2"), MP_OK);
    ck_assert_int_eq(submit(s, "a", "acme", "d three", "d3"), MP_OK);
    ck_assert(wait_fig(s, F_DEAD, 3, 3000));
    ck_assert_uint_eq(kv_count(st, ENG_KV_OUTBOX), 0);
    ck_assert_uint_eq(kv_count(st, ENG_KV_DEAD), 3);
    alert_sender_stop(s, 0);

    /* Read back after a restart: the listing comes from the store. */
    s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    struct alert_sender_figures f;
    alert_sender_figures(s, &f);
    ck_assert_uint_eq(f.dead, 0); /* none written since this start */
    ck_assert_uint_eq(f.dead_stored, 3);
    json_t *d = dead_list(s, NULL, 0);
    ck_assert_uint_eq(json_array_size(d), 3);
    const char *keys[] = {"d1", "d2", "d3"}, *texts[] = {"d one", "d two", "d three"};
    const char *tenants[] = {"acme", "beta", "acme"};
    json_int_t last_id = 0;
    char lo[40];
    alert_format_time(before, lo, sizeof(lo));
    for (size_t i = 0; i < 3; i++) {
        json_t *e = json_array_get(d, i);
        ck_assert_uint_eq(json_object_size(e), 9);
        json_int_t id = json_integer_value(json_object_get(e, "id"));
        ck_assert_int_gt(id, last_id); /* oldest first */
        last_id = id;
        ck_assert_str_eq(dead_str(d, i, "receiver"), "a");
        ck_assert_str_eq(dead_str(d, i, "tenant"), tenants[i]);
        ck_assert_str_eq(dead_str(d, i, "idempotency_key"), keys[i]);
        ck_assert_str_eq(dead_str(d, i, "reason"), "http_400");
        ck_assert_int_eq(json_integer_value(json_object_get(e, "attempts")), 1);
        const char *c = dead_str(d, i, "created"), *di = dead_str(d, i, "died");
        ck_assert_msg(is_rfc3339_ms(c) && is_rfc3339_ms(di), "times %s %s", c, di);
        ck_assert(strcmp(c, lo) >= 0 && strcmp(di, c) >= 0);
        json_t *body = json_object_get(e, "body");
        ck_assert(json_is_object(body)); /* parsed, not a string */
        ck_assert_str_eq(json_string_value(json_object_get(body, "text")), texts[i]);
    }
    json_decref(d);
    d = dead_list(s, "acme", 0);
    ck_assert_uint_eq(json_array_size(d), 2);
    ck_assert_str_eq(dead_str(d, 0, "idempotency_key"), "d1");
    ck_assert_str_eq(dead_str(d, 1, "idempotency_key"), "d3");
    json_decref(d);
    d = dead_list(s, NULL, 2);
    ck_assert_uint_eq(json_array_size(d), 2);
    ck_assert_str_eq(dead_str(d, 1, "idempotency_key"), "d2");
    json_decref(d);
    d = dead_list(s, "nobody", 0);
    ck_assert_uint_eq(json_array_size(d), 0);
    json_decref(d);
    alert_sender_stop(s, 0);
    eng_store_close(st);
    srv_stop(h);
}
END_TEST

START_TEST(submit_refusals)
{
    struct srv *h = srv_start(200);
    struct alert_sender_opts o = fast_opts(NULL);
    struct alert_sender *s = start_one(h, ALERT_RECEIVER_WEBHOOK, NULL, &o);
    ck_assert_int_eq(submit(s, "zz", "acme", "x", "x"), MP_ERR_INVAL);
    struct alert_note none = {.receiver = "a", .tenant = "acme", .body = NULL, .idem = "n"};
    ck_assert_int_eq(alert_sender_submit(s, &none, 1, NULL), MP_ERR_INVAL);
    ck_assert_uint_eq(fig(s, F_QUEUED), 0);
    stop_one(s, h, 0);
}
END_TEST

static Suite *suite(void)
{
    return check_suite("alert_sender", 30, setup, teardown,
                       CHECK_TESTS(order_under_503_then_200, http_400_dead_next_still_goes,
                                   max_age_expires_to_dead, retry_after_honoured_and_capped,
                                   outage_without_retry_after_backs_off,
                                   slow_receiver_does_not_delay_another, outbox_survives_restart,
                                   receiver_removed_at_start, set_receivers_keeps_moves_removes,
                                   set_receivers_under_load, removed_while_in_inbox,
                                   slack_burst_is_paced_and_merged,
                                   slack_429_retry_after_keeps_group, signature_header_valid,
                                   dead_json_content, submit_refusals));
}

void test_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mp_log_set_level(MP_LOG_ERROR);
}

void test_fini(void)
{
    curl_global_cleanup();
}

Suite *test_suite(void)
{
    return suite();
}
