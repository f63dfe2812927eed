/* e2e_world.c — the world of one end-to-end case (see e2e_world.h). */
#include "e2e_world.h"

#include "cli_api.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zmq.h>

#define must(cond, fmt, ...) EW_MUST(w, cond, fmt, ##__VA_ARGS__)
#define must_ok(expr) EW_MUST_OK(w, expr)

/* ---- the case's life -------------------------------------------------------- */

void ew_setup(struct ew_world *w, const char *tag)
{
    memset(w, 0, sizeof(*w));
    w->wall0 = mp_now_ms() / 1000;
    w->ready_ms = EW_READY_MS;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    must_ok(e2e_bin_path("mailpulsed", w->mailpulsed, sizeof(w->mailpulsed), w->err,
                         sizeof(w->err)));
    must_ok(e2e_bin_path("mailpulse", w->mailpulse, sizeof(w->mailpulse), w->err,
                         sizeof(w->err)));
    must_ok(e2e_tmpdir_create(tag, w->dir, sizeof(w->dir), w->err, sizeof(w->err)));
    snprintf(w->cfg, sizeof(w->cfg), "%s/mailpulse.yaml", w->dir);
    snprintf(w->data, sizeof(w->data), "%s/data", w->dir);
    snprintf(w->rules, sizeof(w->rules), "%s/rules.yaml", w->dir);
    uint16_t pull = ew_port(w), http = ew_port(w);
    snprintf(w->pull, sizeof(w->pull), "tcp://127.0.0.1:%u", (unsigned)pull);
    snprintf(w->http, sizeof(w->http), "127.0.0.1:%u", (unsigned)http);
    snprintf(w->base, sizeof(w->base), "http://%s", w->http);
    snprintf(w->healthz, sizeof(w->healthz), "%s/healthz", w->base);
    snprintf(w->metrics, sizeof(w->metrics), "%s/metrics", w->base);
    w->zctx = zmq_ctx_new();
    must(w->zctx != NULL, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
}

/* The one cleanup path: whatever the case got to, in reverse order. */
void ew_teardown(struct ew_world *w)
{
    if (w->push) {
        int zero = 0; /* the case is over: nothing left to flush */
        zmq_setsockopt(w->push, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_close(w->push);
    }
    if (w->zctx)
        zmq_ctx_term(w->zctx);
    e2e_proc_kill(&w->cli);
    e2e_proc_kill(&w->daemon);
    for (size_t i = 0; i < w->nsinks; i++)
        e2e_proc_kill(&w->sinks[i]);
    for (size_t i = 0; i < w->nraw; i++)
        hrx_stop(w->raw[i]);
    if (w->passed)
        e2e_tmpdir_remove(w->dir);
    curl_global_cleanup();
}

Suite *ew_suite(const char *name, int timeout_s, void (*setup)(void), void (*teardown)(void),
                const struct ew_case *cases, size_t ncases)
{
    Suite *s = suite_create(name);
    TCase *tc = tcase_create("daemon");
    tcase_add_checked_fixture(tc, setup, teardown);
    /* Generous: a case waits at most EW_READY_MS per program plus a few
     * seconds; a hang must still end as a failure, not a stuck run. */
    tcase_set_timeout(tc, timeout_s);
    for (size_t i = 0; i < ncases; i++) {
        if (cases[i].loops > 0)
            tcase_add_loop_test(tc, cases[i].test, 0, cases[i].loops);
        else
            tcase_add_test(tc, cases[i].test);
    }
    suite_add_tcase(s, tc);
    return s;
}

uint16_t ew_port(struct ew_world *w)
{
    uint16_t p = 0;
    must(w->nports < MP_ARRAY_LEN(w->ports), "too many ports");
    must_ok(e2e_free_port(&p, w->ports, w->nports, w->err, sizeof(w->err)));
    w->ports[w->nports++] = p;
    return p;
}

/* ---- programs and receivers ---------------------------------------------------- */

void ew_write_config(struct ew_world *w, struct e2e_daemon_conf c)
{
    c.data_dir = w->data;
    c.pull = w->pull;
    c.http_listen = w->http;
    c.workers = 2;
    must_ok(e2e_config_write(w->cfg, &c, w->err, sizeof(w->err)));
}

void ew_spawn_daemon(struct ew_world *w)
{
    char name[32];
    snprintf(name, sizeof(name), w->starts ? "mailpulsed-%d" : "mailpulsed", w->starts + 1);
    w->starts++;
    w->sent = 0; /* the accepted counter starts at 0 with each process */
    char *argv[] = {w->mailpulsed, "-c", w->cfg, NULL};
    must_ok(e2e_spawn(&w->daemon, name, w->dir, argv, w->err, sizeof(w->err)));
    must_ok(e2e_wait_http_ok(&w->daemon, w->healthz, w->ready_ms, w->err, sizeof(w->err)));
    if (!w->push)
        must_ok(e2e_push_open(w->zctx, w->pull, 5000, &w->push, w->err, sizeof(w->err)));
}

/* Cuts ", provider", ", mailbox_provider" and ", campaign" out of every
 * `scopes:` list of text (in place). */
static void world__three_scopes(char *text)
{
    static const char *const cut[] = {", provider", ", mailbox_provider", ", campaign"};
    for (char *l = strstr(text, "scopes: ["); l; l = strstr(l + 1, "scopes: [")) {
        char *end = strchr(l, ']');
        for (size_t i = 0; end && i < MP_ARRAY_LEN(cut); i++) {
            char *at = strstr(l, cut[i]);
            size_t n = strlen(cut[i]);
            if (at && at < end && (at[n] == ',' || at[n] == ']')) {
                memmove(at, at + n, strlen(at + n) + 1);
                end -= n;
            }
        }
    }
}

void ew_rules_example3(struct ew_world *w, const char *extra)
{
    ew_rules_example(w, extra);
    char *text = NULL;
    size_t len = 0;
    must(e2e_read_file(w->rules, &text, &len) == MP_OK, "cannot read %s", w->rules);
    world__three_scopes(text);
    int rc = e2e_write_file(w->rules, text, w->err, sizeof(w->err));
    free(text);
    must_ok(rc);
}

void ew_rules_example(struct ew_world *w, const char *extra)
{
    char *text = NULL;
    size_t len = 0;
    must(e2e_read_file("rules.example.yaml", &text, &len) == MP_OK,
         "cannot read rules.example.yaml (run from the tree's top)");
    size_t elen = strlen(extra);
    char *all = malloc(len + elen + 2);
    must(all != NULL, "out of memory");
    memcpy(all, text, len);
    all[len] = '\n';
    memcpy(all + len + 1, extra, elen + 1);
    free(text);
    int rc = e2e_write_file(w->rules, all, w->err, sizeof(w->err));
    free(all);
    must_ok(rc);
}

void ew_start_daemon(struct ew_world *w, struct e2e_daemon_conf c)
{
    ew_write_config(w, c);
    ew_spawn_daemon(w);
}

void ew_zone_write(struct ew_world *w, const char *text)
{
    char zone[E2E_PATH_MAX + 16], tmp[E2E_PATH_MAX + 24];
    snprintf(zone, sizeof(zone), "%s/zone.txt", w->dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", zone);
    FILE *f = fopen(tmp, "w");
    must(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", tmp);
    must(rename(tmp, zone) == 0, "cannot rename %s", tmp);
}

uint16_t ew_dns_start(struct ew_world *w, struct e2e_proc *p)
{
    uint16_t port = ew_port(w);
    char ports[16], zone[E2E_PATH_MAX + 16], tail[1000];
    snprintf(ports, sizeof(ports), "%u", (unsigned)port);
    snprintf(zone, sizeof(zone), "%s/zone.txt", w->dir);
    ew_zone_write(w, "");
    char *argv[] = {"/usr/bin/python3", "tests/dnsbl_server.py", ports, zone, NULL};
    EW_MUST_OK(w, e2e_spawn(p, "dnsbl_server", w->dir, argv, w->err, sizeof(w->err)));
    int64_t deadline = mp_mono_ns() + EW_READY_MS * 1000000LL;
    while (!e2e_file_contains(p->out_path, "listening") && mp_mono_ns() < deadline)
        usleep(10000);
    e2e_file_tail(p->err_path, tail, sizeof(tail));
    must(e2e_file_contains(p->out_path, "listening"), "dnsbl_server did not start: %s", tail);
    return port;
}

void ew_stop_ok(struct ew_world *w, struct e2e_proc *p)
{
    char state[64], tail[1500];
    int rc = e2e_proc_signal_wait(p, SIGTERM, EW_STOP_MS);
    e2e_proc_describe(p, state, sizeof(state));
    e2e_file_tail(p->err_path, tail, sizeof(tail));
    must(rc == MP_OK, "%s did not exit within %d ms of SIGTERM (%s); stderr tail:\n%s", p->name,
         EW_STOP_MS, state, tail);
    must(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
         "%s: expected exit 0 after SIGTERM, got %s; stderr tail:\n%s", p->name, state, tail);
}

void ew_append_config(struct ew_world *w, const char *fmt, ...)
{
    va_list ap;
    FILE *f = fopen(w->cfg, "a");
    must(f != NULL, "cannot append to %s", w->cfg);
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    must(fclose(f) == 0 && n >= 0, "cannot write %s", w->cfg);
}

void ew_src_dir(struct ew_world *w, char src[E2E_PATH_MAX], const char *probe)
{
    const char *s = getenv("MP_SRC_DIR");
    char path[E2E_PATH_MAX + 64];
    if (s && *s)
        snprintf(src, E2E_PATH_MAX, "%s", s);
    else
        must(getcwd(src, E2E_PATH_MAX) != NULL, "getcwd failed");
    snprintf(path, sizeof(path), "%s/%s", src, probe);
    must(access(path, R_OK) == 0, "%s: not the source tree (set MP_SRC_DIR)", src);
}

void ew_pass(struct ew_world *w)
{
    ew_stop_ok(w, &w->daemon);
    w->passed = 1;
}

void ew_wait_log(struct ew_world *w, const char *needle, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (!e2e_file_contains(w->daemon.err_path, needle) && mp_mono_ns() < deadline)
        usleep(10000);
    char tail[2000];
    e2e_file_tail(w->daemon.err_path, tail, sizeof(tail));
    must(e2e_file_contains(w->daemon.err_path, needle),
         "no \"%s\" in the log within %d ms; tail:\n%s", needle, timeout_ms, tail);
}

size_t ew_raw(struct ew_world *w, const char *name, const char *secret, unsigned status)
{
    must(w->nraw < EW_MAX_RAW, "too many receivers");
    size_t i = w->nraw;
    uint16_t port = ew_port(w);
    snprintf(w->raw_url[i], sizeof(w->raw_url[i]), "http://127.0.0.1:%u/hook-%s", (unsigned)port,
             name);
    must_ok(hrx_start(port, &w->raw[i], w->err, sizeof(w->err)));
    hrx_set_status(w->raw[i], status);
    w->raw_secret[i] = secret;
    w->nraw++;
    return i;
}

size_t ew_start_hook(struct ew_world *w, const char *name, unsigned status,
                     struct e2e_daemon_conf c)
{
    snprintf(w->hook_secret, sizeof(w->hook_secret), "secret-%s", name);
    snprintf(w->hook_name, sizeof(w->hook_name), "%s-hook", name);
    size_t k = ew_raw(w, name, w->hook_secret, status);
    const struct e2e_receiver_conf rec[] = {{w->hook_name, w->raw_url[k], w->raw_secret[k]}};
    c.receivers = rec;
    c.nreceivers = 1;
    c.default_route = w->hook_name;
    ew_start_daemon(w, c);
    return k;
}

size_t ew_sink(struct ew_world *w, const char *name, const char *path, char *url, size_t urln)
{
    must(w->nsinks < EW_MAX_SINKS, "too many sinks");
    size_t i = w->nsinks;
    uint16_t port = ew_port(w);
    char listen[32];
    snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
    char out[sizeof(w->sink_out[i])]; /* w->dir and w->sink_out share *w: no overlap for snprintf */
    snprintf(out, sizeof(out), "%s/%s.jsonl", w->dir, name);
    memcpy(w->sink_out[i], out, sizeof(out));
    snprintf(url, urln, "http://%s%s", listen, path);
    char *argv[] = {w->mailpulse, "sink", "--listen", listen, "--out", w->sink_out[i], NULL};
    must_ok(e2e_spawn(&w->sinks[i], name, w->dir, argv, w->err, sizeof(w->err)));
    w->nsinks++;
    must_ok(e2e_wait_tcp(&w->sinks[i], port, EW_READY_MS, w->err, sizeof(w->err)));
    return i;
}

/* ---- events -------------------------------------------------------------------- */

void ew_send(struct ew_world *w, const char *tenant, const char *mailbox, const char *domain,
             int type, size_t count, int64_t time_ms)
{
    must_ok(e2e_send_events(w->push, tenant, mailbox, domain, type, count, time_ms));
    w->sent += count;
}

void ew_send_frame(struct ew_world *w, const struct e2e_event *ev, size_t n,
                   const char *producer_id)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    must_ok(e2e_batch_pack(ev, n, producer_id, &buf, &len));
    must_ok(e2e_send_frame(w->push, buf, len, NULL));
    free(buf);
    w->sent += n;
}

/* ---- reading the daemon ------------------------------------------------------- */

char *ew_metrics_text(struct ew_world *w)
{
    long status = 0;
    char *text = NULL;
    must(e2e_http_get(w->metrics, 2000, &status, &text) == MP_OK, "GET %s: no answer",
         w->metrics);
    must(status == 200, "GET %s answered %ld", w->metrics, status);
    return text;
}

uint64_t ew_metric_in(struct ew_world *w, const char *text, const char *series)
{
    uint64_t v = 0;
    int rc = e2e_metric(text, series, &v);
    must(rc == MP_OK, "series %s: %s in /metrics:\n%.1500s", series, mp_strerror(rc), text);
    return v;
}

uint64_t ew_metric(struct ew_world *w, const char *series)
{
    char *text = ew_metrics_text(w);
    uint64_t v = ew_metric_in(w, text, series);
    free(text);
    return v;
}

void ew_wait_metric(struct ew_world *w, const char *series, uint64_t want, int timeout_ms)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    uint64_t v;
    while ((v = ew_metric(w, series)) < want && mp_mono_ns() < deadline)
        usleep(5000);
    must(v == want, "%s is %llu after %d ms, expected %llu", series, (unsigned long long)v,
         timeout_ms, (unsigned long long)want);
}

json_t *ew_get_json(struct ew_world *w, const char *path, long want)
{
    char url[512];
    long status = 0;
    char *body = NULL;
    snprintf(url, sizeof(url), "%s%s", w->base, path);
    must(e2e_http_get(url, 2000, &status, &body) == MP_OK, "GET %s: no answer", url);
    json_error_t jerr;
    json_t *j = body ? json_loads(body, 0, &jerr) : NULL;
    must(status == want, "GET %s answered %ld, expected %ld: %.1500s", path, status, want,
         body ? body : "(no body)");
    must(json_is_object(j), "GET %s: body is not a JSON object: %.1500s", path, body ? body : "");
    free(body);
    return j;
}

long ew_get_auth(struct ew_world *w, const char *path, const char *token, char **body)
{
    char url[1024], err[256] = "";
    long status = 0;
    snprintf(url, sizeof(url), "%s%s", w->base, path);
    *body = NULL;
    must(cli_api_get_auth(url, token, 5000, &status, body, err, sizeof(err)) == MP_OK, "%s: %s",
         url, err);
    return status;
}

/* ---- signatures and requests ------------------------------------------------ */

int ew_sig_parse(const char *h, long long *t, char v1[65])
{
    char *end;
    if (h == NULL || strncmp(h, "t=", 2) != 0)
        return 0;
    errno = 0;
    *t = strtoll(h + 2, &end, 10);
    if (errno != 0 || end == h + 2 || strncmp(end, ",v1=", 4) != 0)
        return 0;
    const char *hex = end + 4;
    if (strlen(hex) != 64 || strspn(hex, "0123456789abcdef") != 64)
        return 0;
    memcpy(v1, hex, 65);
    return 1;
}

void ew_sig_hex(const char *secret, long long t, const char *body, size_t len, char out[65])
{
    char prefix[32];
    int plen = snprintf(prefix, sizeof(prefix), "%lld.", t);
    unsigned char *msg = malloc((size_t)plen + len);
    ck_assert(msg != NULL);
    memcpy(msg, prefix, (size_t)plen);
    memcpy(msg + plen, body, len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    ck_assert(HMAC(EVP_sha256(), secret, (int)strlen(secret), msg, (size_t)plen + len, mac,
                   &maclen) != NULL);
    ck_assert_uint_eq(maclen, 32);
    for (unsigned i = 0; i < maclen; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    free(msg);
}

const struct hrx_req *ew_req(struct ew_world *w, size_t k, size_t i)
{
    must(k < w->nraw, "no receiver %zu", k);
    const struct hrx_req *r = hrx_get(w->raw[k], i);
    must(r != NULL, "receiver %zu has no request %zu", k, i);
    const char *sig = hrx_req_header(r, "X-Mailpulse-Signature");
    const char *idem = hrx_req_header(r, "Idempotency-Key");
    long long t = 0;
    char v1[65], want[65];
    must(idem && idem[0], "receiver %zu request %zu: no Idempotency-Key", k, i);
    must(ew_sig_parse(sig, &t, v1), "receiver %zu request %zu: signature header malformed: %s",
         k, i, sig ? sig : "(none)");
    must(t >= w->wall0 - 1 && t <= mp_now_ms() / 1000 + 1,
         "receiver %zu request %zu: signature time t=%lld not within this case (from %lld)", k, i,
         t, (long long)w->wall0);
    ew_sig_hex(w->raw_secret[k], t, r->body, r->len, want);
    must(strcmp(v1, want) == 0,
         "receiver %zu request %zu: signature does not verify (v1=%s, expected %s); body: %.2000s",
         k, i, v1, want, r->body);
    return r;
}

json_t *ew_req_json(struct ew_world *w, const struct hrx_req *r)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->len, 0, &jerr);
    must(json_is_object(j), "body is not a JSON object (%s): %.2000s", jerr.text, r->body);
    return j;
}

size_t ew_ok_count(struct ew_world *w, size_t k)
{
    size_t n = hrx_count(w->raw[k]), ok = 0;
    for (size_t i = 0; i < n; i++)
        ok += hrx_get(w->raw[k], i)->status < 300;
    return ok;
}

json_t *ew_ok_bodies(struct ew_world *w, size_t k)
{
    json_t *arr = json_array();
    size_t n = hrx_count(w->raw[k]);
    for (size_t i = 0; i < n; i++) {
        const struct hrx_req *r = ew_req(w, k, i);
        if (r->status < 300)
            json_array_append_new(arr, ew_req_json(w, r));
    }
    return arr;
}

void ew_wait_ok(struct ew_world *w, size_t k, size_t n, int timeout_ms, const char *what)
{
    int64_t deadline = mp_mono_ns() + (int64_t)timeout_ms * 1000000;
    while (ew_ok_count(w, k) < n && mp_mono_ns() < deadline)
        usleep(5000);
    if (ew_ok_count(w, k) < n) {
        json_t *b = ew_ok_bodies(w, k);
        char *d = ew_jdump(b, 1800);
        must(0, "%s: receiver %zu got %zu of %zu requests within %d ms: %s", what, k,
             ew_ok_count(w, k), n, timeout_ms, d);
    }
}

/* ---- JSON ----------------------------------------------------------------------- */

const char *ew_jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int ew_streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

char *ew_jdump(json_t *j, size_t max)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s && max > 10 && strlen(s) > max)
        strcpy(s + max - 10, "...");
    return s;
}

/* ---- crash cases' randomness ----------------------------------------------------- */

uint64_t ew_rng(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t ew_crash_seed(const char *name)
{
    const char *s = getenv("MP_CRASH_SEED");
    uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)mp_now_ms();
    fprintf(stderr, "%s: seeded with MP_CRASH_SEED=%" PRIu64 "\n", name, seed);
    return seed;
}
