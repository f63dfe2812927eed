/* ingest_curve.c — CurveZMQ producer authentication (see ingest_curve.h).
 *
 * The ZAP handler is the only gate: libzmq asks it about every CURVE
 * handshake on a socket whose ZAP domain is set, and a handshake it denies
 * never becomes a connection, so nothing an unknown client sends is ever
 * read. What is allowed after that is per event (ingest_curve_allows), since
 * one client may be allowed some tenants and not others.
 */
#include "ingest_curve.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp_atomic.h"
#include "mp_log.h"
#include "mp_thread.h"

#define CURVE__KEY_BYTES 32
#define CURVE__FILE_MAX 256 /* a key file is a key and a newline */
#define CURVE__ZAP_FRAMES 8 /* version .. credentials (7), one to spot extras */

struct curve__client {
    uint8_t key[CURVE__KEY_BYTES];
    int any_tenant;
    size_t n_tenants;
    char **tenants; /* sorted (curve__cmp), for a binary search per event */
};

struct ingest_curve {
    char secret[INGEST_CURVE_Z85_LEN + 1];
    char public_z85[INGEST_CURVE_Z85_LEN + 1];
    size_t n_clients;
    struct curve__client *clients;
    void *zctx; /* the caller's, from ingest_curve_start() */
    void *zap;  /* REP bound to the ZAP endpoint (ZAP thread) */
    pthread_t zap_tid;
    int zap_started;
    mp_atomic_u32 stopping;
    mp_atomic_u64 denied, allowed;
    struct mp_ratelimit rl;     /* the ZAP thread's only */
    struct mp_ratelimit mon_rl; /* the dispatcher thread's only */
};

/* ---- keys ------------------------------------------------------------------ */

int ingest_curve_key_valid(const char *s)
{
    uint8_t bin[CURVE__KEY_BYTES];
    if (!s || strlen(s) != INGEST_CURVE_Z85_LEN)
        return 0;
    return zmq_z85_decode(bin, s) != NULL;
}

int ingest_curve_public(const char *secret_z85, char out[INGEST_CURVE_Z85_LEN + 1])
{
    if (!ingest_curve_key_valid(secret_z85) || zmq_curve_public(out, secret_z85) != 0)
        return MP_ERR_INVAL;
    return MP_OK;
}

/* The key file: regular, not open to the world, one key and white space. */
int ingest_curve_read_key_file(const char *path, char out[INGEST_CURVE_Z85_LEN + 1], char *err,
                               size_t errlen)
{
    char buf[CURVE__FILE_MAX + 1];
    struct stat st;
    int rc = MP_ERR_IO;
    ssize_t n = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        goto out;
    }
    rc = MP_ERR_PARSE;
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "\"%s\" is not a regular file", path);
        goto out;
    }
    if (st.st_mode & S_IRWXO) {
        snprintf(err, errlen, "\"%s\" is open to every user (mode %04o): chmod o-rwx it", path,
                 (unsigned)(st.st_mode & 07777));
        goto out;
    }
    while ((n = read(fd, buf, CURVE__FILE_MAX + 1)) < 0 && errno == EINTR)
        ;
    if (n < 0) {
        rc = MP_ERR_IO;
        snprintf(err, errlen, "cannot read \"%s\": %s", path, strerror(errno));
        goto out;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                     buf[n - 1] == '\t'))
        n--;
    buf[n] = '\0';
    if (n != INGEST_CURVE_Z85_LEN || !ingest_curve_key_valid(buf)) {
        snprintf(err, errlen,
                 "\"%s\" does not hold one Z85 key of 40 characters (mailpulse keygen writes one)",
                 path);
        goto out;
    }
    memcpy(out, buf, INGEST_CURVE_Z85_LEN + 1);
    rc = MP_OK;
out:
    if (fd >= 0)
        close(fd);
    memset(buf, 0, sizeof(buf)); /* a secret key passes through here */
    return rc;
}

void ingest_curve_conf_free(struct ingest_curve_conf *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_clients; i++) {
        for (size_t j = 0; j < c->clients[i].n_tenants; j++)
            free(c->clients[i].tenants[j]);
        free(c->clients[i].tenants);
    }
    free(c->clients);
    c->clients = NULL;
    c->n_clients = 0;
    memset(c->secret_key, 0, sizeof(c->secret_key));
}

/* ---- the table ------------------------------------------------------------- */

static int curve__cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void ingest_curve_destroy(struct ingest_curve *c)
{
    if (!c)
        return;
    if (c->zap_started) {
        mp_store_release(&c->stopping, 1);
        pthread_join(c->zap_tid, NULL);
    }
    if (c->zap)
        zmq_close(c->zap);
    for (size_t i = 0; i < c->n_clients; i++) {
        for (size_t j = 0; j < c->clients[i].n_tenants; j++)
            free(c->clients[i].tenants[j]);
        free(c->clients[i].tenants);
    }
    free(c->clients);
    memset(c->secret, 0, sizeof(c->secret));
    free(c);
}

static int curve__copy_client(struct curve__client *dst, const struct ingest_curve_client_conf *src)
{
    if (zmq_z85_decode(dst->key, src->public_key) == NULL)
        return MP_ERR_INVAL;
    dst->any_tenant = src->any_tenant;
    if (src->n_tenants == 0)
        return MP_OK;
    if ((dst->tenants = calloc(src->n_tenants, sizeof(*dst->tenants))) == NULL)
        return MP_ERR_NOMEM;
    for (size_t j = 0; j < src->n_tenants; j++) {
        if ((dst->tenants[j] = strdup(src->tenants[j])) == NULL)
            return MP_ERR_NOMEM;
        dst->n_tenants = j + 1;
    }
    qsort(dst->tenants, dst->n_tenants, sizeof(*dst->tenants), curve__cmp);
    return MP_OK;
}

int ingest_curve_create(const struct ingest_curve_conf *conf, struct ingest_curve **out)
{
    int rc = MP_ERR_NOMEM;
    struct ingest_curve *c = calloc(1, sizeof(*c));
    if (!c)
        return MP_ERR_NOMEM;
    if (ingest_curve_public(conf->secret_key, c->public_z85) != MP_OK) {
        rc = MP_ERR_INVAL;
        goto err;
    }
    memcpy(c->secret, conf->secret_key, sizeof(c->secret));
    if (conf->n_clients > 0 && (c->clients = calloc(conf->n_clients, sizeof(*c->clients))) == NULL)
        goto err;
    for (size_t i = 0; i < conf->n_clients; i++) {
        c->n_clients = i + 1; /* so destroy frees a partial copy */
        if ((rc = curve__copy_client(&c->clients[i], &conf->clients[i])) != MP_OK)
            goto err;
    }
    *out = c;
    return MP_OK;
err:
    ingest_curve_destroy(c);
    return rc;
}

const char *ingest_curve_server_public(const struct ingest_curve *c) { return c->public_z85; }

size_t ingest_curve_n_clients(const struct ingest_curve *c) { return c->n_clients; }

uint64_t ingest_curve_denied(const struct ingest_curve *c)
{
    return mp_load_relaxed(&c->denied);
}

int ingest_curve_server_opts(const struct ingest_curve *c, void *sock)
{
    int one = 1;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->secret, INGEST_CURVE_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, INGEST_CURVE_DOMAIN, strlen(INGEST_CURVE_DOMAIN)) !=
            0)
        return MP_ERR_IO;
    return MP_OK;
}

/* The User-Id the ZAP handler gave: the client's index in decimal, nothing
 * else (a message from a socket without Curve has none). */
uint32_t ingest_curve_msg_client(const struct ingest_curve *c, zmq_msg_t *msg)
{
    const char *uid = zmq_msg_gets(msg, "User-Id");
    uint64_t v = 0;
    if (!uid || !uid[0] || strlen(uid) > 10)
        return INGEST_CURVE_NO_CLIENT;
    for (const char *p = uid; *p; p++) {
        if (*p < '0' || *p > '9')
            return INGEST_CURVE_NO_CLIENT;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v < c->n_clients ? (uint32_t)v : INGEST_CURVE_NO_CLIENT;
}

int ingest_curve_allows(const struct ingest_curve *c, uint32_t client, const char *tenant,
                        size_t len)
{
    if (!c)
        return 1;
    if (client >= c->n_clients)
        return 0;
    const struct curve__client *cl = &c->clients[client];
    if (cl->any_tenant)
        return 1;
    size_t lo = 0, hi = cl->n_tenants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *t = cl->tenants[mid];
        size_t tl = strlen(t);
        int d = memcmp(tenant, t, len < tl ? len : tl);
        if (d == 0)
            d = len < tl ? -1 : len > tl ? 1 : 0;
        if (d == 0)
            return 1;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* ---- the ZAP handler (RFC 27) ------------------------------------------------ */

/* Request frames: version, request_id, domain, address, routing id,
 * mechanism, credentials (CURVE: the client's 32-byte public key). */
enum { ZAP_VERSION, ZAP_REQ_ID, ZAP_DOMAIN, ZAP_ADDRESS, ZAP_IDENTITY, ZAP_MECH, ZAP_CRED };

static int curve__frame_is(zmq_msg_t *m, const char *s)
{
    return zmq_msg_size(m) == strlen(s) && memcmp(zmq_msg_data(m), s, strlen(s)) == 0;
}

/* The client allowed for this request, or -1 with *why set. */
static long curve__judge(const struct ingest_curve *c, zmq_msg_t *f, int n, const char **why)
{
    if (n < ZAP_CRED || !curve__frame_is(&f[ZAP_VERSION], "1.0")) {
        *why = "malformed ZAP request";
        return -1;
    }
    if (!curve__frame_is(&f[ZAP_MECH], "CURVE")) {
        *why = "mechanism is not CURVE";
        return -1;
    }
    if (n != ZAP_CRED + 1 || zmq_msg_size(&f[ZAP_CRED]) != CURVE__KEY_BYTES) {
        *why = "malformed CURVE credentials";
        return -1;
    }
    for (size_t i = 0; i < c->n_clients; i++)
        if (memcmp(c->clients[i].key, zmq_msg_data(&f[ZAP_CRED]), CURVE__KEY_BYTES) == 0)
            return (long)i;
    *why = "public key not in ingest.curve.clients";
    return -1;
}

/* A frame's bytes as a short C string, for the log (quoted there). */
static const char *curve__text(zmq_msg_t *m, char *buf, size_t n)
{
    size_t len = zmq_msg_size(m) < n - 1 ? zmq_msg_size(m) : n - 1;
    memcpy(buf, zmq_msg_data(m), len);
    buf[len] = '\0';
    return buf;
}

static void curve__log_denial(struct ingest_curve *c, zmq_msg_t *f, int n, const char *why)
{
    uint64_t suppressed;
    char key[INGEST_CURVE_Z85_LEN + 1] = "-", addr[64] = "-", mech[16] = "-";
    if (!mp_ratelimit_allow(&c->rl, mp_now_ms(), 1000, &suppressed))
        return;
    if (n > ZAP_CRED && zmq_msg_size(&f[ZAP_CRED]) == CURVE__KEY_BYTES)
        zmq_z85_encode(key, zmq_msg_data(&f[ZAP_CRED]), CURVE__KEY_BYTES);
    if (n > ZAP_ADDRESS)
        curve__text(&f[ZAP_ADDRESS], addr, sizeof(addr));
    if (n > ZAP_MECH)
        curve__text(&f[ZAP_MECH], mech, sizeof(mech));
    mp_warn("ingest_curve_denied key=%s address=%s mechanism=%s why=%s suppressed=%llu",
            MP_LOG_Q(key), MP_LOG_Q(addr), MP_LOG_Q(mech), MP_LOG_Q(why),
            (unsigned long long)suppressed);
}

/* Reply: version, request_id, status code, status text, user id, metadata. */
static void curve__reply(void *sock, zmq_msg_t *req_id, const char *code, const char *text,
                         const char *user)
{
    zmq_send(sock, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(sock, req_id ? zmq_msg_data(req_id) : "", req_id ? zmq_msg_size(req_id) : 0,
             ZMQ_SNDMORE);
    zmq_send(sock, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(sock, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(sock, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(sock, "", 0, 0);
}

/* One request, all its frames (at most CURVE__ZAP_FRAMES kept). Returns the
 * number of frames, 0 on a timeout, -1 when the context is gone. */
static int curve__recv_request(void *sock, zmq_msg_t *f)
{
    int n = 0, more = 1;
    while (more) {
        zmq_msg_t *m = &f[n < CURVE__ZAP_FRAMES ? n : CURVE__ZAP_FRAMES - 1];
        if (n >= CURVE__ZAP_FRAMES) { /* extras overwrite the last slot */
            zmq_msg_close(m);
            zmq_msg_init(m);
        }
        if (zmq_msg_recv(m, sock, 0) < 0) {
            int e = zmq_errno();
            if (n == 0 && (e == EAGAIN || e == EINTR))
                return 0;
            if (e == EINTR)
                continue;
            return -1;
        }
        n++;
        more = zmq_msg_more(m);
    }
    return n;
}

static void *curve__zap_main(void *arg)
{
    struct ingest_curve *c = arg;
    mp_thread_name("mp-zap", -1);
    zmq_msg_t f[CURVE__ZAP_FRAMES];
    for (int i = 0; i < CURVE__ZAP_FRAMES; i++)
        zmq_msg_init(&f[i]);
    while (!mp_load_acquire(&c->stopping)) {
        int n = curve__recv_request(c->zap, f);
        if (n < 0)
            break;
        if (n == 0)
            continue; /* the receive timeout: look at `stopping` again */
        const char *why = NULL;
        long client = curve__judge(c, f, n, &why);
        if (client >= 0) {
            char uid[24];
            snprintf(uid, sizeof(uid), "%ld", client);
            mp_add_relaxed(&c->allowed, 1);
            curve__reply(c->zap, &f[ZAP_REQ_ID], "200", "OK", uid);
        } else {
            mp_add_relaxed(&c->denied, 1);
            curve__log_denial(c, f, n, why);
            curve__reply(c->zap, n > ZAP_REQ_ID ? &f[ZAP_REQ_ID] : NULL,
                         n >= ZAP_CRED ? "400" : "500", why, "");
        }
    }
    for (int i = 0; i < CURVE__ZAP_FRAMES; i++)
        zmq_msg_close(&f[i]);
    return NULL;
}

int ingest_curve_start(struct ingest_curve *c, void *zctx, char *err, size_t errlen)
{
    int tmo = 100, linger = 0;
    if (c->zap_started)
        return MP_ERR_STATE;
    c->zctx = zctx;
    if ((c->zap = zmq_socket(zctx, ZMQ_REP)) == NULL) {
        snprintf(err, errlen, "zmq_socket (ZAP): %s", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    /* The timeout lets the thread see `stopping`; the REP socket is ours,
     * so the thread is its only user once started. */
    zmq_setsockopt(c->zap, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    zmq_setsockopt(c->zap, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(c->zap, INGEST_CURVE_ZAP_ENDPOINT) != 0) {
        snprintf(err, errlen, "cannot bind the ZAP handler %s: %s", INGEST_CURVE_ZAP_ENDPOINT,
                 zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    if (pthread_create(&c->zap_tid, NULL, curve__zap_main, c) != 0) {
        snprintf(err, errlen, "cannot start the ZAP handler thread");
        return MP_ERR_IO;
    }
    c->zap_started = 1;
    return MP_OK;
}

/* ---- the dispatcher's side of a Curve endpoint ---------------------------------- */

uint32_t ingest_curve_take_client(zmq_msg_t *first)
{
    uint32_t v;
    if (zmq_msg_size(first) != sizeof(v))
        return INGEST_CURVE_NO_CLIENT;
    memcpy(&v, zmq_msg_data(first), sizeof(v));
    return v;
}

/* A handshake that fails before ZAP is asked (a peer without Curve, a
 * broken greeting) is seen only by a socket monitor: counted with the
 * denials, logged at most once a second. The monitor's address is libzmq's
 * (its frames: a 6-byte event and value, then our own endpoint). */
void *ingest_curve_monitor_open(struct ingest_curve *c, void *front)
{
    char ep[64];
    void *mon = NULL;
    snprintf(ep, sizeof(ep), "inproc://mailpulse-curve-monitor-%p", front);
    if (!c->zctx || zmq_socket_monitor(front, ep, ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                                      ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return NULL;
    if ((mon = zmq_socket(c->zctx, ZMQ_PAIR)) != NULL && zmq_connect(mon, ep) != 0) {
        zmq_close(mon);
        mon = NULL;
    }
    return mon;
}

void ingest_curve_monitor_event(struct ingest_curve *c, void *mon)
{
    uint8_t ev[6] = {0};
    int more = 0, n = zmq_recv(mon, ev, sizeof(ev), ZMQ_DONTWAIT);
    size_t ml = sizeof(more);
    while (n >= 0 && zmq_getsockopt(mon, ZMQ_RCVMORE, &more, &ml) == 0 && more)
        zmq_recv(mon, NULL, 0, 0); /* the endpoint frame: our own address */
    if (n != (int)sizeof(ev))
        return;
    uint16_t event;
    uint32_t value;
    memcpy(&event, ev, sizeof(event));
    memcpy(&value, ev + 2, sizeof(value));
    mp_add_relaxed(&c->denied, 1);
    uint64_t suppressed;
    if (mp_ratelimit_allow(&c->mon_rl, mp_now_ms(), 1000, &suppressed))
        /* A peer without Curve shows up as either event: a protocol error
         * when its greeting is read, or no detail (EPIPE, ECONNRESET) when
         * the connection goes first. Both failed before ZAP was asked. */
        mp_warn("ingest_curve_denied key=- why=\"handshake failed before authentication (a peer "
                "without Curve?)\" event=%s error=%#x suppressed=%llu",
                event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? "protocol" : "no_detail",
                (unsigned)value, (unsigned long long)suppressed);
}

void ingest_curve_monitor_close(void *sock, void *mon)
{
    if (!mon)
        return;
    zmq_socket_monitor(sock, NULL, 0);
    zmq_close(mon);
}
