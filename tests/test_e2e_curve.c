/* test_e2e_curve.c — Check suite "e2e_curve": CurveZMQ producer
 * authentication (ingest.curve) against the real mailpulsed.
 *
 * Cases:
 *   walls     keys from the real `mailpulse keygen --secret-file` (server,
 *             two listed producers, one unlisted) go into the config; the
 *             daemon logs its public key (never the secret). A listed
 *             producer's frame for acme, beta and gamma (allowed: acme,
 *             beta) counts acme's and beta's events and refuses gamma's as
 *             tenant_forbidden, in the same frame; an unlisted producer and
 *             a plain (no Curve) producer deliver nothing: the unlisted
 *             one's handshake denial is counted and logged with its key
 *             quoted, the plain one's failed handshake logged, and after a later marker from a listed producer the
 *             accepted count is exactly the listed producers' events; a
 *             real `mailpulse send --server-key --secret-key-file` for a
 *             ["*"] client counts, one for a tenant outside its list is
 *             refused as tenant_forbidden.
 *   acked     the same walls on ingest.router: a listed producer's DEALER
 *             gets one Ack for a frame of allowed and foreign tenants (OK,
 *             accepted 3, rejected 2, error tenant_forbidden); after a
 *             SIGKILL right after the ack, the journal's replay checks the
 *             same client (acme counted, gamma still refused), the resend
 *             is DUPLICATE; an unlisted producer's DEALER gets no Ack.
 *   refusals  broken ingest.curve sections: `mailpulsed --check` and a start
 *             both exit 1 with the same "file:line: key: why" line; no
 *             secret appears in either.
 *
 * Programs come from $MP_BIN_DIR; on failure the temp directory
 * (config, keys, logs) is kept and named in the message.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "ack_client.h"
#include "check_main.h"
#include "e2e_suite.h"

#define RUN_MS 10000
#define COUNT_MS 10000

enum { T_SENT = 1, T_DELIVERED = 2 };

#define ACCEPTED "mailpulse_events_accepted_total"
#define FORBIDDEN "mailpulse_rejected_total{reason=\"tenant_forbidden\"}"
#define DENIED "mailpulse_ingest_curve_denied_total"

EW_FIXTURE("e2e-curve")

struct pair {
    char pub[41], sec[41]; /* sec only when read back for a test socket */
    char file[E2E_PATH_MAX + 32];
};

/* `mailpulse keygen --secret-file <dir>/<name>.key`: its printed public key,
 * and the secret read back from the file (for an in-test socket). */
static void keygen(const char *name, struct pair *k)
{
    struct e2e_proc p;
    char *out = NULL, *sec = NULL;
    memset(&p, 0, sizeof(p));
    snprintf(k->file, sizeof(k->file), "%s/%s.key", W.dir, name);
    char *argv[] = {W.mailpulse, "keygen", "--secret-file", k->file, NULL};
    must_ok(e2e_run(&p, name, W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "keygen %s failed", name);
    must_ok(e2e_read_file(p.out_path, &out, NULL));
    const char *at = strstr(out, "public_key: \"");
    must(at && strlen(at) > 13 + 40 && at[13 + 40] == '"', "keygen output: %s", out);
    memcpy(k->pub, at + 13, 40);
    k->pub[40] = '\0';
    must(strstr(out, "secret_key_file: \"") != NULL, "keygen output: %s", out);
    must_ok(e2e_read_file(k->file, &sec, NULL));
    must(strlen(sec) == 41 && sec[40] == '\n', "key file: %zu bytes", strlen(sec));
    memcpy(k->sec, sec, 40);
    k->sec[40] = '\0';
    must(strstr(out, k->sec) == NULL, "keygen printed the secret it wrote to a file");
    struct stat st;
    must(stat(k->file, &st) == 0 && (st.st_mode & 07777) == 0600, "key file mode %o",
         (unsigned)(st.st_mode & 07777));
    free(out);
    free(sec);
}

/* data_dir, ingest (pull, router when given, workers, `curve` lines), http. */
static void w_config_router(const char *curve, const char *router)
{
    char text[8192], rline[128] = "";
    if (router)
        snprintf(rline, sizeof(rline), "  router: \"%s\"\n", router);
    /* with the router, no flush before the kill: the restart must replay */
    snprintf(text, sizeof(text),
             "%s"
             "data_dir: \"%s\"\n"
             "ingest:\n"
             "  pull: \"%s\"\n"
             "%s"
             "  workers: 2\n"
             "  curve:\n"
             "%s"
             "http:\n"
             "  listen: \"%s\"\n",
             router ? "engine: {flush_interval: 60s}\n" : "", W.data, W.pull, rline, curve,
             W.http);
    must_ok(e2e_write_file(W.cfg, text, W.err, sizeof(W.err)));
}

static void w_config(const char *curve) { w_config_router(curve, NULL); }

/* The Curve options of a client socket with key pair k. */
static void curve_client(void *s, const struct pair *server, const struct pair *k)
{
    must(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server->pub, 40) == 0 &&
             zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->pub, 40) == 0 &&
             zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->sec, 40) == 0,
         "curve options");
}

/* A PUSH of this test, a Curve client with `k` (or plain, NULL). */
static void *producer(const struct pair *server, const struct pair *k)
{
    void *s = zmq_socket(W.zctx, ZMQ_PUSH);
    int zero = 0, tmo = 5000;
    must(s != NULL, "zmq_socket");
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(s, ZMQ_SNDTIMEO, &tmo, sizeof(tmo));
    if (k)
        curve_client(s, server, k);
    must(zmq_connect(s, W.pull) == 0, "connect %s", W.pull);
    return s;
}

static void send_frame(void *sock, const struct e2e_event *ev, size_t n)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    must_ok(e2e_batch_pack(ev, n, "e2e-curve", &buf, &len));
    must(e2e_send_frame(sock, buf, len, NULL) == MP_OK, "send: %s", zmq_strerror(zmq_errno()));
    free(buf);
}

/* Polls until `series` is at least `want`. */
static void wait_at_least(const char *series, uint64_t want)
{
    int64_t deadline = mp_mono_ns() + (int64_t)COUNT_MS * 1000000;
    while (ew_metric(&W, series) < want && mp_mono_ns() < deadline)
        usleep(20000);
    must(ew_metric(&W, series) >= want, "%s below %llu", series, (unsigned long long)want);
}

/* `mailpulse send` with Curve keys: its exit status. */
static int cli_send(const struct pair *server, const struct pair *k, const char *tenant,
                    const char *count)
{
    struct e2e_proc p;
    memset(&p, 0, sizeof(p));
    char *argv[] = {W.mailpulse, "send", "--endpoint", W.pull, "--server-key", (char *)server->pub,
                    "--secret-key-file", (char *)k->file, "--tenant", (char *)tenant,
                    "--mailbox", "s@x.example", "--domain", "gmail.com", "--type", "sent",
                    "--count", (char *)count, "--timeout-ms", "5000", NULL};
    must_ok(e2e_run(&p, "send", W.dir, argv, RUN_MS, W.err, sizeof(W.err)));
    must(WIFEXITED(p.status), "mailpulse send did not exit");
    return WEXITSTATUS(p.status);
}

/* One frame's events for three tenants: acme and beta (3 events, allowed
 * to p1) and gamma (2, not). */
#define MIXED_N 5
static void mixed_events(struct e2e_event ev[MIXED_N])
{
    int64_t now = mp_now_ms();
    const struct e2e_event m[MIXED_N] = {
        {"acme", "a@acme.example", "gmail.com", T_SENT, now},
        {"gamma", "g@gamma.example", "gmail.com", T_SENT, now},
        {"acme", "a@acme.example", "gmail.com", T_DELIVERED, now},
        {"beta", "b@beta.example", "gmail.com", T_SENT, now},
        {"gamma", "g@gamma.example", "gmail.com", T_DELIVERED, now},
    };
    memcpy(ev, m, sizeof(m));
}

START_TEST(walls)
{
    struct pair server, p1, p2, stranger;
    keygen("server", &server);
    keygen("p1", &p1);
    keygen("p2", &p2);
    keygen("stranger", &stranger);
    char curve[1024];
    snprintf(curve, sizeof(curve),
             "    secret_key_file: server.key\n" /* relative: next to the config */
             "    clients:\n"
             "      - public_key: \"%s\"\n"
             "        tenants: [acme, beta]\n"
             "      - public_key: \"%s\"\n"
             "        tenants: [\"*\"]\n",
             p1.pub, p2.pub);
    w_config(curve);
    ew_spawn_daemon(&W);
    char needle[128];
    snprintf(needle, sizeof(needle), "msg=ingest_curve server_public_key=\"%s\" clients=2",
             server.pub);
    ew_wait_log(&W, needle, COUNT_MS);
    must(!e2e_file_contains(W.daemon.err_path, server.sec), "the server's secret in the log");

    /* One frame, three tenants: two allowed, one not. */
    struct e2e_event mixed[MIXED_N];
    mixed_events(mixed);
    void *s1 = producer(&server, &p1);
    send_frame(s1, mixed, MP_ARRAY_LEN(mixed));
    ew_wait_metric(&W, ACCEPTED, 3, COUNT_MS);
    ew_wait_metric(&W, FORBIDDEN, 2, COUNT_MS);
    ew_wait_log(&W, "msg=ingest_reject reason=tenant_forbidden ", COUNT_MS);
    json_t *j = ew_get_json(&W, "/v1/tenants/gamma/stats?window=1h", 404);
    json_decref(j);

    /* An unlisted key: denied at the handshake, counted, logged. */
    void *bad = producer(&server, &stranger), *plain = producer(NULL, NULL);
    send_frame(bad, mixed, MP_ARRAY_LEN(mixed)); /* 3 would count if it got through */
    send_frame(plain, mixed, MP_ARRAY_LEN(mixed));
    wait_at_least(DENIED, 1);
    snprintf(needle, sizeof(needle), "msg=ingest_curve_denied key=\"%s\" address=\"127.0.0.1\"",
             stranger.pub);
    ew_wait_log(&W, needle, COUNT_MS);
    ew_wait_log(&W, "msg=ingest_curve_denied key=- why=\"handshake failed before authentication",
                COUNT_MS); /* the plain one */
    /* The marker comes after the denial: once it counts, so would have
     * anything the stranger or the plain socket got through. */
    send_frame(s1, mixed, 1);
    ew_wait_metric(&W, ACCEPTED, 4, COUNT_MS);
    usleep(300 * 1000);
    must(ew_metric(&W, ACCEPTED) == 4, "an unauthenticated event was counted");
    must(ew_metric(&W, FORBIDDEN) == 2, "tenant_forbidden moved");

    /* The real CLI as a Curve client: a ["*"] client writes any tenant; a
     * tenant outside p1's list is refused. */
    must(cli_send(&server, &p2, "zeta", "7") == 0, "mailpulse send as p2");
    ew_wait_metric(&W, ACCEPTED, 11, COUNT_MS);
    must(cli_send(&server, &p1, "gamma", "3") == 0, "mailpulse send as p1");
    ew_wait_metric(&W, FORBIDDEN, 5, COUNT_MS);
    must(ew_metric(&W, ACCEPTED) == 11, "gamma counted for p1");

    zmq_close(s1);
    zmq_close(bad);
    zmq_close(plain);
    ew_stop_ok(&W, &W.daemon);
    must(!e2e_file_contains(W.daemon.err_path, server.sec), "the server's secret in the log");
    W.passed = 1;
}
END_TEST

/* --check and a start on the config as written: both exit 1, and the
 * first line of --check's stderr is in the start's stderr too; it holds
 * "<file>:<line>: <key>: " and `why`, and never `secret`. */
static void refused_alike(unsigned line, const char *key, const char *why, const char *secret)
{
    char *argv_check[] = {W.mailpulsed, "-c", W.cfg, "--check", NULL};
    char *argv_start[] = {W.mailpulsed, "-c", W.cfg, NULL};
    struct e2e_proc pc, ps;
    char *check_err = NULL, *start_err = NULL, at[E2E_PATH_MAX + 160];
    memset(&pc, 0, sizeof(pc));
    memset(&ps, 0, sizeof(ps));
    must_ok(e2e_run(&pc, "check", W.dir, argv_check, RUN_MS, W.err, sizeof(W.err)));
    must_ok(e2e_run(&ps, "start", W.dir, argv_start, RUN_MS, W.err, sizeof(W.err)));
    must_ok(e2e_read_file(pc.err_path, &check_err, NULL));
    must_ok(e2e_read_file(ps.err_path, &start_err, NULL));
    must(WIFEXITED(pc.status) && WEXITSTATUS(pc.status) == 1, "--check: %s", check_err);
    must(WIFEXITED(ps.status) && WEXITSTATUS(ps.status) == 1, "start: %s", start_err);
    char *nl = strchr(check_err, '\n');
    if (nl)
        *nl = '\0';
    snprintf(at, sizeof(at), "%s:%u: %s: ", W.cfg, line, key);
    must(strstr(check_err, at) && strstr(check_err, why), "--check: no \"%s...%s\" in %s", at,
         why, check_err);
    must(strstr(start_err, check_err) != NULL, "start refused otherwise: %s vs %s", start_err,
         check_err);
    must(!strstr(check_err, secret) && !strstr(start_err, secret), "a secret in a refusal");
    free(check_err);
    free(start_err);
}

/* A DEALER on the router with Curve keys k. */
static void *dealer(const char *router, const struct pair *server, const struct pair *k)
{
    void *s = zmq_socket(W.zctx, ZMQ_DEALER);
    int zero = 0;
    must(s != NULL, "zmq_socket");
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    curve_client(s, server, k);
    must(zmq_connect(s, router) == 0, "connect %s", router);
    return s;
}

static uint64_t sent_of(const char *tenant, long want_status)
{
    json_t *j = ew_get_json(&W, tenant, want_status);
    json_t *v = json_object_get(json_object_get(j, "counts"), "sent");
    uint64_t n = json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    json_decref(j);
    return n;
}

START_TEST(acked)
{
    struct pair server, p1, stranger;
    keygen("server", &server);
    keygen("p1", &p1);
    keygen("stranger", &stranger);
    char curve[1024], router[64];
    snprintf(curve, sizeof(curve),
             "    secret_key_file: server.key\n"
             "    clients:\n"
             "      - public_key: \"%s\"\n"
             "        tenants: [acme, beta]\n",
             p1.pub);
    snprintf(router, sizeof(router), "tcp://127.0.0.1:%u", (unsigned)ew_port(&W));
    w_config_router(curve, router);
    ew_spawn_daemon(&W);
    struct e2e_event mixed[MIXED_N];
    mixed_events(mixed);
    void *d = dealer(router, &server, &p1);
    struct ak_ack a = ak_call(&W, d, mixed, MP_ARRAY_LEN(mixed), "curve-acked", 1);
    must(a.status == 0 && a.sequence == 1 && a.accepted == 3 && a.rejected == 2 &&
             strcmp(a.error, "tenant_forbidden") == 0,
         "ack: status %d seq %llu accepted %u rejected %u error \"%s\"", a.status,
         (unsigned long long)a.sequence, a.accepted, a.rejected, a.error);
    /* killed right after the ack: the batch comes back from the journal,
     * checked against the same client */
    must_ok(e2e_proc_signal_wait(&W.daemon, SIGKILL, 10000));
    ew_spawn_daemon(&W);
    must(ew_metric(&W, "mailpulse_journal_replayed") == 1, "the batch was not replayed");
    must(sent_of("/v1/tenants/acme/stats?window=1h", 200) == 1, "acme after the replay");
    must(sent_of("/v1/tenants/beta/stats?window=1h", 200) == 1, "beta after the replay");
    sent_of("/v1/tenants/gamma/stats?window=1h", 404); /* still refused */
    a = ak_call(&W, d, mixed, MP_ARRAY_LEN(mixed), "curve-acked", 1);
    must(a.status == 1 && a.sequence == 1, "resend: status %d, want DUPLICATE", a.status);
    /* an unlisted key never completes its handshake: no Ack at all */
    void *bad = dealer(router, &server, &stranger);
    uint8_t *buf = NULL;
    size_t len = 0;
    ak_pack(&W, mixed, 1, "stranger", 1, &buf, &len);
    ak_send(&W, bad, buf, len);
    free(buf);
    struct ak_ack none;
    must(ak_recv(&W, bad, 1000, &none) == 0, "an unlisted producer got an Ack");
    wait_at_least(DENIED, 1);
    zmq_close(bad);
    zmq_close(d);
    ew_pass(&W);
}
END_TEST

/* Broken sections: the secret line, then the clients (with p1's public key
 * for each %s), refused at `line` by `key` for `why`. */
static const struct {
    const char *secret, *clients;
    unsigned line;
    const char *key, *why;
} broken[] = {
    {"    secret_key_file: open.key\n", "      - {public_key: \"%s\", tenants: [acme]}\n", 6,
     "ingest.curve.secret_key_file", "open.key\" is open to every user (mode 0644)"},
    {"    secret_key: \"%.39s~\"\n", /* 40 characters, ~ is not Z85 */
     "      - {public_key: \"%s\", tenants: [acme]}\n", 6, "ingest.curve.secret_key",
     "expected a Z85 key of 40 characters (mailpulse keygen prints one) (value not shown)"},
    {"    secret_key_file: server.key\n",
     "      - {public_key: \"%s\", tenants: [acme]}\n      - {public_key: \"%s\", tenants: [b]}\n",
     9, "ingest.curve.clients[1].public_key",
     "public key listed twice (already ingest.curve.clients[0])"},
    {"    secret_key_file: server.key\n", "      - {public_key: \"%s\", tenants: [a, \"b/c\"]}\n",
     8, "ingest.curve.clients[0].tenants", "invalid tenant name \"b/c\""},
};

START_TEST(refusals)
{
    struct pair server, p1;
    keygen("server", &server);
    keygen("p1", &p1);
    char open_key[E2E_PATH_MAX + 32], text[100], secret[200], clients[400], curve[700];
    snprintf(open_key, sizeof(open_key), "%s/open.key", W.dir);
    snprintf(text, sizeof(text), "%s\n", server.sec);
    must_ok(e2e_write_file(open_key, text, W.err, sizeof(W.err)));
    must(chmod(open_key, 0644) == 0, "chmod");
    char part[40]; /* all of the secret that case 1 puts in the config */
    snprintf(part, sizeof(part), "%.39s", server.sec);
    for (size_t i = 0; i < MP_ARRAY_LEN(broken); i++) {
        snprintf(secret, sizeof(secret), broken[i].secret, server.sec);
        snprintf(clients, sizeof(clients), broken[i].clients, p1.pub, p1.pub);
        snprintf(curve, sizeof(curve), "%s    clients:\n%s", secret, clients);
        w_config(curve);
        refused_alike(broken[i].line, broken[i].key, broken[i].why, part);
    }
    W.passed = 1;
}
END_TEST

EW_SUITE("e2e_curve", 60, setup, teardown, {walls, 0}, {acked, 0}, {refusals, 0})
