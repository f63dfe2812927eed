/* test_ingest_curve.c — Check suite for ingest/ingest_curve.c: keys and key
 * files, the client table and its tenant check, the ZAP handler with real
 * CurveZMQ sockets in one process (a listed client delivers and is named by
 * its index; an unlisted or a plain client delivers nothing and the denial
 * is counted), the Curve proxy's [client, frame] hand-off, and the per-event
 * check in the pipeline (tenant_forbidden beside the allowed events of the
 * same frame). Run with CK_FORK=yes.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "check_main.h"
#include "e2e_harness.h"
#include "eng_table.h"
#include "ingest_curve.h"
#include "ingest_worker.h"
#include "mp_log.h"
#include "unit_util.h"

#define WAIT_MS 10000 /* generous: the machine is shared */
#define NOW 1795000000000LL

struct keys {
    char pub[INGEST_CURVE_Z85_LEN + 1], sec[INGEST_CURVE_Z85_LEN + 1];
};

static struct keys keys_new(void)
{
    struct keys k;
    ck_assert_int_eq(zmq_curve_keypair(k.pub, k.sec), 0);
    return k;
}

/* A conf of the server key and clients: client i may write tenants[i] (a
 * comma-free list of names separated by spaces, or "*"). */
static void conf_make(struct ingest_curve_conf *c, const struct keys *server,
                      const struct keys *clients, const char *const *tenants, size_t n)
{
    memset(c, 0, sizeof(*c));
    c->enabled = 1;
    memcpy(c->secret_key, server->sec, sizeof(c->secret_key));
    c->clients = calloc(n, sizeof(*c->clients));
    ck_assert_ptr_nonnull(c->clients);
    c->n_clients = n;
    for (size_t i = 0; i < n; i++) {
        struct ingest_curve_client_conf *cl = &c->clients[i];
        memcpy(cl->public_key, clients[i].pub, sizeof(cl->public_key));
        if (strcmp(tenants[i], "*") == 0) {
            cl->any_tenant = 1;
            continue;
        }
        char *copy = strdup(tenants[i]), *save = NULL;
        cl->tenants = calloc(16, sizeof(char *));
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
            cl->tenants[cl->n_tenants++] = strdup(t);
        free(copy);
    }
}

/* ---- keys and key files ---------------------------------------------------- */

START_TEST(key_forms)
{
    struct keys k = keys_new();
    char pub[INGEST_CURVE_Z85_LEN + 1];
    ck_assert(ingest_curve_key_valid(k.pub));
    ck_assert(ingest_curve_key_valid(k.sec));
    ck_assert_int_eq(ingest_curve_public(k.sec, pub), MP_OK);
    ck_assert_str_eq(pub, k.pub);
    char bad[64];
    snprintf(bad, sizeof(bad), "%.39s", k.pub); /* 39 characters */
    ck_assert(!ingest_curve_key_valid(bad));
    snprintf(bad, sizeof(bad), "%sA", k.pub); /* 41 */
    ck_assert(!ingest_curve_key_valid(bad));
    snprintf(bad, sizeof(bad), "%s", k.pub);
    bad[7] = '"'; /* outside the Z85 alphabet */
    ck_assert(!ingest_curve_key_valid(bad));
    bad[7] = ' ';
    ck_assert(!ingest_curve_key_valid(bad));
    /* "#####" is 84 * (85^4 + ... + 1) > 2^32: no 4 bytes encode to it */
    snprintf(bad, sizeof(bad), "#####%.35s", k.pub + 5);
    ck_assert(!ingest_curve_key_valid(bad));
    ck_assert(!ingest_curve_key_valid(""));
    ck_assert(!ingest_curve_key_valid(NULL));
    ck_assert_int_eq(ingest_curve_public("not a key", pub), MP_ERR_INVAL);
}
END_TEST

static void write_mode(const char *path, const char *text, mode_t mode)
{
    unit_write_file(path, text);
    ck_assert_int_eq(chmod(path, mode), 0);
}

START_TEST(key_files)
{
    char dir[UNIT_PATH_MAX], p[UNIT_PATH_MAX + 16], text[128], out[INGEST_CURVE_Z85_LEN + 1],
        err[512];
    struct keys k = keys_new();
    unit_tmpdir("curve_keys", dir);
    snprintf(p, sizeof(p), "%s/k", dir);
    snprintf(text, sizeof(text), "%s\n", k.sec);
    write_mode(p, text, 0600);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_OK);
    ck_assert_str_eq(out, k.sec);
    write_mode(p, text, 0640); /* a service group may read it */
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_OK);
    snprintf(text, sizeof(text), "%s \r\n\n\t", k.sec); /* trailing white space */
    write_mode(p, text, 0400);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_OK);
    ck_assert_str_eq(out, k.sec);

    write_mode(p, text, 0644); /* the world may read it: refused */
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err, "open to every user (mode 0644)"));
    ck_assert_ptr_null(strstr(err, k.sec)); /* the key never reaches a message */
    write_mode(p, text, 0602);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_PARSE);

    snprintf(text, sizeof(text), "secret_key: \"%s\"\n", k.sec); /* keygen's stdout, not a file */
    write_mode(p, text, 0600);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err, "does not hold one Z85 key"));
    ck_assert_ptr_null(strstr(err, k.sec));
    snprintf(text, sizeof(text), "%s\n%s\n", k.sec, k.pub); /* two keys */
    write_mode(p, text, 0600);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_PARSE);
    write_mode(p, "", 0600);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_PARSE);

    ck_assert_int_eq(ingest_curve_read_key_file(dir, out, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    snprintf(p, sizeof(p), "%s/missing", dir);
    ck_assert_int_eq(ingest_curve_read_key_file(p, out, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    unit_tmpdir_remove(dir);
}
END_TEST

/* ---- the table ------------------------------------------------------------- */

START_TEST(tenant_check)
{
    struct keys s = keys_new(), cl[3] = {keys_new(), keys_new(), keys_new()};
    const char *const tenants[] = {"beta acme zeta.co", "*", "Acme"};
    struct ingest_curve_conf conf;
    struct ingest_curve *c = NULL;
    conf_make(&conf, &s, cl, tenants, 3);
    ck_assert_int_eq(ingest_curve_create(&conf, &c), MP_OK);
    ingest_curve_conf_free(&conf); /* the table holds copies */
    ck_assert_uint_eq(ingest_curve_n_clients(c), 3);
    ck_assert_str_eq(ingest_curve_server_public(c), s.pub);
    static const struct {
        uint32_t client;
        const char *tenant;
        size_t len;
        int want;
    } cases[] = {
        {0, "acme", 4, 1},      {0, "beta", 4, 1},     {0, "zeta.co", 7, 1},
        {0, "acm", 3, 0},       {0, "acmex", 5, 0},    {0, "Acme", 4, 0}, /* exact, cased */
        {0, "acme-and-more", 4, 1}, /* len counts: "acme" */
        {0, "gamma", 5, 0},     {0, "", 0, 0},         {1, "anything", 8, 1},
        {2, "Acme", 4, 1},      {2, "acme", 4, 0},     {3, "acme", 4, 0}, /* no such client */
        {INGEST_CURVE_NO_CLIENT, "acme", 4, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        ck_assert_msg(ingest_curve_allows(c, cases[i].client, cases[i].tenant, cases[i].len) ==
                          cases[i].want,
                      "case %zu: client %u tenant %.*s", i, cases[i].client, (int)cases[i].len,
                      cases[i].tenant);
    ck_assert(ingest_curve_allows(NULL, INGEST_CURVE_NO_CLIENT, "acme", 4)); /* Curve off */
    ingest_curve_destroy(c);

    struct ingest_curve_conf bad = {.enabled = 1};
    snprintf(bad.secret_key, sizeof(bad.secret_key), "%s", "short");
    ck_assert_int_eq(ingest_curve_create(&bad, &c), MP_ERR_INVAL);
}
END_TEST

/* ---- real sockets: the ZAP handler -------------------------------------------- */

struct world {
    void *ctx, *pull;
    struct ingest_curve *curve;
    struct keys server, listed[2], unlisted;
    char endpoint[64];
};

static void world_open(struct world *w)
{
    memset(w, 0, sizeof(*w));
    char err[256];
    uint16_t port;
    w->server = keys_new();
    w->listed[0] = keys_new();
    w->listed[1] = keys_new();
    w->unlisted = keys_new();
    const char *const tenants[] = {"acme beta", "*"};
    struct ingest_curve_conf conf;
    conf_make(&conf, &w->server, w->listed, tenants, 2);
    ck_assert_int_eq(ingest_curve_create(&conf, &w->curve), MP_OK);
    ingest_curve_conf_free(&conf);
    w->ctx = zmq_ctx_new();
    ck_assert_int_eq(ingest_curve_start(w->curve, w->ctx, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(ingest_curve_start(w->curve, w->ctx, err, sizeof(err)), MP_ERR_STATE);
    w->pull = zmq_socket(w->ctx, ZMQ_PULL);
    ck_assert_int_eq(ingest_curve_server_opts(w->curve, w->pull), MP_OK);
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(w->endpoint, sizeof(w->endpoint), "tcp://127.0.0.1:%u", (unsigned)port);
    ck_assert_int_eq(zmq_bind(w->pull, w->endpoint), 0);
}

static void world_close(struct world *w)
{
    int zero = 0;
    zmq_setsockopt(w->pull, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_close(w->pull);
    ingest_curve_destroy(w->curve); /* stops the ZAP thread, closes its socket */
    zmq_ctx_term(w->ctx);
}

/* A PUSH to the world's endpoint: a Curve client with `k`, or plain. */
static void *client_open(struct world *w, const struct keys *k)
{
    void *s = zmq_socket(w->ctx, ZMQ_PUSH);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (k) {
        ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, w->server.pub, 40), 0);
        ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, k->pub, 40), 0);
        ck_assert_int_eq(zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, k->sec, 40), 0);
    }
    ck_assert_int_eq(zmq_connect(s, w->endpoint), 0);
    return s;
}

/* The next message on sock within ms, or -1. */
static int recv_within(void *sock, zmq_msg_t *m, int ms)
{
    zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, ms) <= 0)
        return -1;
    return zmq_msg_recv(m, sock, ZMQ_DONTWAIT);
}

static void wait_denied(struct world *w, uint64_t want)
{
    int64_t deadline = mp_mono_ns() + (int64_t)WAIT_MS * 1000000;
    while (ingest_curve_denied(w->curve) < want && mp_mono_ns() < deadline)
        usleep(10000);
    ck_assert_uint_ge(ingest_curve_denied(w->curve), want);
}

START_TEST(zap_listed_delivers_unlisted_cannot)
{
    struct world w;
    world_open(&w);
    zmq_msg_t m;
    zmq_msg_init(&m);

    /* The unlisted client first: denied at its handshake, so what it
     * queued never arrives, however long we wait after the denial. */
    void *bad = client_open(&w, &w.unlisted);
    ck_assert_int_eq(zmq_send(bad, "from-unlisted", 13, ZMQ_DONTWAIT), 13);
    wait_denied(&w, 1);

    void *good = client_open(&w, &w.listed[1]);
    ck_assert_int_eq(zmq_send(good, "from-listed-1", 13, 0), 13);
    ck_assert_int_eq(recv_within(w.pull, &m, WAIT_MS), 13);
    ck_assert_int_eq(memcmp(zmq_msg_data(&m), "from-listed-1", 13), 0);
    ck_assert_str_eq(zmq_msg_gets(&m, "User-Id"), "1");
    ck_assert_uint_eq(ingest_curve_msg_client(w.curve, &m), 1);

    void *good0 = client_open(&w, &w.listed[0]);
    ck_assert_int_eq(zmq_send(good0, "from-listed-0", 13, 0), 13);
    ck_assert_int_eq(recv_within(w.pull, &m, WAIT_MS), 13);
    ck_assert_uint_eq(ingest_curve_msg_client(w.curve, &m), 0);
    ck_assert(ingest_curve_allows(w.curve, ingest_curve_msg_client(w.curve, &m), "acme", 4));
    ck_assert(!ingest_curve_allows(w.curve, ingest_curve_msg_client(w.curve, &m), "gamma", 5));

    /* A plain (NULL mechanism) client cannot even start a handshake with a
     * CURVE server; nothing it sends arrives either. */
    void *plain = client_open(&w, NULL);
    ck_assert_int_eq(zmq_send(plain, "from-plain", 10, ZMQ_DONTWAIT), 10);
    ck_assert_int_eq(zmq_send(good0, "marker", 6, 0), 6);
    ck_assert_int_eq(recv_within(w.pull, &m, WAIT_MS), 6);
    ck_assert_int_eq(recv_within(w.pull, &m, 300), -1); /* nothing else came */
    ck_assert_uint_ge(ingest_curve_denied(w.curve), 1);

    zmq_msg_close(&m);
    zmq_close(bad);
    zmq_close(good);
    zmq_close(good0);
    zmq_close(plain);
    world_close(&w);
}
END_TEST

/* A message from a socket without Curve has no User-Id: no client. */
START_TEST(no_identity_is_no_client)
{
    struct world w;
    world_open(&w);
    void *a = zmq_socket(w.ctx, ZMQ_PAIR), *b = zmq_socket(w.ctx, ZMQ_PAIR);
    ck_assert_int_eq(zmq_bind(a, "inproc://curve-test-plain"), 0);
    ck_assert_int_eq(zmq_connect(b, "inproc://curve-test-plain"), 0);
    ck_assert_int_eq(zmq_send(b, "x", 1, 0), 1);
    zmq_msg_t m;
    zmq_msg_init(&m);
    ck_assert_int_eq(zmq_msg_recv(&m, a, 0), 1);
    ck_assert_uint_eq(ingest_curve_msg_client(w.curve, &m), INGEST_CURVE_NO_CLIENT);
    ck_assert_uint_eq(ingest_curve_take_client(&m), INGEST_CURVE_NO_CLIENT); /* 1 byte */
    zmq_msg_close(&m);
    zmq_close(a);
    zmq_close(b);
    world_close(&w);
}
END_TEST

/* ---- the endpoint's owner: clients and the handshake monitor ---------------- */

/* Each message names its client (what the dispatcher sends ahead of it),
 * and a peer without Curve, which never reaches ZAP, is counted by the
 * monitor the endpoint's owner polls. */
START_TEST(endpoint_names_clients_and_counts_plain_peers)
{
    struct world w;
    world_open(&w);
    void *mon = ingest_curve_monitor_open(w.curve, w.pull);
    ck_assert_ptr_nonnull(mon);
    void *c0 = client_open(&w, &w.listed[0]), *c1 = client_open(&w, &w.listed[1]);
    ck_assert_int_eq(zmq_send(c1, "one", 3, 0), 3);
    ck_assert_int_eq(zmq_send(c0, "zero", 4, 0), 4);
    int seen1 = 0, seen0 = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_ge(recv_within(w.pull, &m, WAIT_MS), 3);
        uint32_t client = ingest_curve_msg_client(w.curve, &m);
        if (zmq_msg_size(&m) == 3) {
            ck_assert_uint_eq(client, 1);
            seen1++;
        } else {
            ck_assert_uint_eq(client, 0);
            seen0++;
        }
    }
    ck_assert_int_eq(seen1, 1);
    ck_assert_int_eq(seen0, 1);
    ck_assert_uint_eq(ingest_curve_denied(w.curve), 0);
    /* the client part as the dispatcher sends it, read back as the worker does */
    uint32_t one = 1;
    zmq_msg_t part;
    zmq_msg_init_size(&part, sizeof(one));
    memcpy(zmq_msg_data(&part), &one, sizeof(one));
    ck_assert_uint_eq(ingest_curve_take_client(&part), 1);
    zmq_msg_close(&part);
    void *plain = client_open(&w, NULL);
    /* Queued on the pending connection, or refused at once when the server
     * already turned the handshake down and the pipe is gone (a slow,
     * sanitizer, build of this thread): either way the handshake is what
     * gets counted, and nothing may arrive. */
    int sent = zmq_send(plain, "plain", 5, ZMQ_DONTWAIT);
    ck_assert_msg(sent == 5 || (sent == -1 && zmq_errno() == EAGAIN), "send: %d (%s)", sent,
                  zmq_strerror(zmq_errno()));
    for (int i = 0; i < WAIT_MS / 10 && ingest_curve_denied(w.curve) == 0; i++) {
        zmq_pollitem_t it = {mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, 10) == 1)
            ingest_curve_monitor_event(w.curve, mon);
    }
    ck_assert_uint_eq(ingest_curve_denied(w.curve), 1);
    ck_assert_int_eq(recv_within(w.pull, &m, 300), -1); /* and nothing of it came */
    zmq_close(plain);
    ingest_curve_monitor_close(w.pull, mon);
    zmq_msg_close(&m);
    zmq_close(c0);
    zmq_close(c1);
    world_close(&w);
}
END_TEST

/* ---- the pipeline: tenant_forbidden ------------------------------------------- */

START_TEST(pipeline_forbids_foreign_tenants)
{
    struct keys s = keys_new(), cl[1] = {keys_new()};
    const char *const tenants[] = {"acme"};
    struct ingest_curve_conf conf;
    struct ingest_curve *c = NULL;
    conf_make(&conf, &s, cl, tenants, 1);
    ck_assert_int_eq(ingest_curve_create(&conf, &c), MP_OK);
    ingest_curve_conf_free(&conf);

    struct eng_table_opts to = {.max_keys = 4096, .retention_ms = 35 * 86400000LL};
    struct ingest_limits lim = {.retention_ms = to.retention_ms, .future_ms = 300000};
    struct eng_table *t = NULL;
    struct ingest_proc *p = NULL;
    ck_assert_int_eq(eng_table_create(&to, NOW, &t), MP_OK);
    ck_assert_int_eq(ingest_proc_create(t, &lim, &p), MP_OK);
    eng_thread_online(ingest_proc_thread(p));

    const struct e2e_event ev[] = {
        {"acme", "a@acme.example", "gmail.com", 1, NOW},
        {"beta", "b@beta.example", "gmail.com", 1, NOW},
        {"acme", "a@acme.example", "gmail.com", 2, NOW},
        {"bad tenant", "a@acme.example", "gmail.com", 1, NOW}, /* invalid beats forbidden */
        {"beta", "b@beta.example", "gmail.com", 2, NOW},
    };
    uint8_t *buf = NULL;
    size_t len = 0;
    uint32_t bad = 0;
    ck_assert_int_eq(e2e_batch_pack(ev, 5, "p", &buf, &len), MP_OK);

    ingest_proc_set_client(p, c, 0);
    ck_assert_uint_eq(ingest_proc_frame(p, buf, len, NOW, &bad), 2);
    ck_assert_uint_eq(bad, 3);
    ck_assert_int_eq(ingest_proc_first_reason(p), INGEST_REJ_TENANT_FORBIDDEN);
    struct ingest_figures fig;
    ingest_proc_figures(p, &fig);
    ck_assert_uint_eq(fig.accepted, 2);
    ck_assert_uint_eq(fig.rejected[INGEST_REJ_TENANT_FORBIDDEN], 2);
    ck_assert_uint_eq(fig.rejected[INGEST_REJ_TENANT], 1);
    struct eng_key *k = NULL;
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "beta", NULL, &k), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "acme", NULL, &k), MP_OK);

    ingest_proc_set_client(p, c, INGEST_CURVE_NO_CLIENT); /* fail closed */
    ck_assert_uint_eq(ingest_proc_frame(p, buf, len, NOW, &bad), 0);
    ck_assert_uint_eq(bad, 5);

    ingest_proc_set_client(p, NULL, 0); /* Curve off: only the invalid one */
    ck_assert_uint_eq(ingest_proc_frame(p, buf, len, NOW, &bad), 4);
    ck_assert_uint_eq(bad, 1);
    ck_assert_int_eq(ingest_proc_first_reason(p), INGEST_REJ_TENANT);
    ck_assert_int_eq(eng_table_find(t, ENG_SCOPE_TENANT, "beta", NULL, &k), MP_OK);
    const struct e2e_event one = {"acme", "a@acme.example", "gmail.com", 1, NOW};
    free(buf);
    ck_assert_int_eq(e2e_batch_pack(&one, 1, "p", &buf, &len), MP_OK);
    ck_assert_uint_eq(ingest_proc_frame(p, buf, len, NOW, &bad), 1);
    ck_assert_int_eq(ingest_proc_first_reason(p), INGEST_OK); /* reset per frame */
    free(buf);

    eng_thread_offline(ingest_proc_thread(p));
    ingest_proc_destroy(p);
    eng_table_destroy(t);
    ingest_curve_destroy(c);
}
END_TEST

void test_init(void) { mp_log_set_level(MP_LOG_ERROR); }

CHECK_SUITE("ingest_curve", 60, NULL, NULL, key_forms, key_files, tenant_check,
            zap_listed_delivers_unlisted_cannot, no_identity_is_no_client,
            endpoint_names_clients_and_counts_plain_peers, pipeline_forbids_foreign_tenants)
