/* ingest_curve.h — CurveZMQ producer authentication on the ingest endpoints
 * (ingest.curve): the client table, the ZAP handler, the server options of a
 * bound socket, and the per-event tenant check.
 *
 * Contract
 *   - Keys are Z85 text (40 characters for 32 bytes, as zmq_curve_keypair()
 *     writes them). ingest_curve_key_valid() is the one check of that form;
 *     ingest_curve_read_key_file() reads a key file (the key, optionally
 *     followed by white space: what `mailpulse keygen --secret-file` writes),
 *     refusing a file that is not a regular file, is world-readable or
 *     world-writable (mode & 0007: group bits are allowed, for a service
 *     group), or holds anything else; err names the file, never the key.
 *   - struct ingest_curve_conf is the loaded config (cmd/daemon/mp_config
 *     fills it): the server's secret key and the clients, each a public key
 *     and the tenants it may write (any_tenant for ["*"]).
 *     ingest_curve_create() copies it into an immutable table;
 *     ingest_curve_start() binds the ZAP handler (inproc://zeromq.zap.01,
 *     RFC 27) in the caller's ZeroMQ context and runs it on a thread of its
 *     own; ingest_curve_destroy() stops that thread and frees everything.
 *     One ZAP handler per context: start it once, before any socket that
 *     ingest_curve_server_opts() set up is bound.
 *   - The ZAP handler accepts mechanism CURVE with a listed public key
 *     (status 200, User-Id the client's index in decimal) and denies
 *     everything else (400): an unknown client never completes its
 *     handshake, so it cannot deliver a byte. Each denial is counted
 *     (ingest_curve_denied) and logged at most once per second, with the
 *     client key quoted in Z85 and the peer's address. A peer that fails
 *     before ZAP is asked (no Curve at all) is seen by the socket monitor
 *     the dispatcher keeps on each endpoint (ingest_curve_monitor_*), and
 *     counted the same.
 *   - ingest_curve_server_opts() sets ZMQ_CURVE_SERVER, ZMQ_CURVE_SECRETKEY
 *     and ZMQ_ZAP_DOMAIN (INGEST_CURVE_DOMAIN) on a socket; call it before
 *     zmq_bind().
 *   - ingest_curve_msg_client() reads the client index back from the
 *     "User-Id" property of a message received on such a socket.
 *     Properties do NOT survive an inproc hop (tested): a message forwarded
 *     to a worker loses them. The dispatcher (ingest_dispatch.c) therefore
 *     sends each message of a Curve endpoint behind a part of its own, a
 *     4-byte client index (native order: inproc never leaves the process);
 *     the worker reads it with
 *     ingest_curve_take_client(). A message with no (valid) identity gets
 *     INGEST_CURVE_NO_CLIENT, which is allowed no tenant: fail closed.
 *   - ingest_curve_allows(c, client, tenant, len): 1 when the client may
 *     write that tenant (exact, case-sensitive names), else 0; a NULL c
 *     (Curve off) allows everything.
 *
 * Threads: the table is immutable once created; ingest_curve_allows,
 * _msg_client, _server_opts, _server_public and _denied may be called from
 * any thread. _start and _destroy from the thread that created it.
 *
 * Return values: MP_OK, MP_ERR_NOMEM, MP_ERR_INVAL (a key that is not a
 * valid key), MP_ERR_IO (file unreadable, ZeroMQ failure, err says why),
 * MP_ERR_PARSE (a key file's content or mode refused).
 */
#ifndef INGEST_CURVE_H
#define INGEST_CURVE_H

#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "mp.h"

#define INGEST_CURVE_Z85_LEN 40   /* a 32-byte key in Z85 */
#define INGEST_CURVE_MAX_CLIENTS 1024
#define INGEST_CURVE_MAX_TENANTS 1024 /* per client */
#define INGEST_CURVE_DOMAIN "mailpulse-ingest"
#define INGEST_CURVE_ZAP_ENDPOINT "inproc://zeromq.zap.01" /* RFC 27 */
#define INGEST_CURVE_NO_CLIENT UINT32_MAX

struct ingest_curve_client_conf {
    char public_key[INGEST_CURVE_Z85_LEN + 1];
    int any_tenant; /* tenants: ["*"] */
    size_t n_tenants;
    char **tenants; /* names (eng_name.h), distinct */
};

struct ingest_curve_conf {
    int enabled;
    char secret_key[INGEST_CURVE_Z85_LEN + 1]; /* the server's, Z85 */
    size_t n_clients;
    struct ingest_curve_client_conf *clients;
};

/* Frees the lists and wipes the secret; the struct itself is the caller's. */
void ingest_curve_conf_free(struct ingest_curve_conf *c);

/* 1 when s is 40 Z85 characters that decode to 32 bytes, else 0. */
int ingest_curve_key_valid(const char *s);
/* The public key of a secret key, both Z85: MP_OK or MP_ERR_INVAL. */
int ingest_curve_public(const char *secret_z85, char out[INGEST_CURVE_Z85_LEN + 1]);
int ingest_curve_read_key_file(const char *path, char out[INGEST_CURVE_Z85_LEN + 1], char *err,
                               size_t errlen);

struct ingest_curve;

int ingest_curve_create(const struct ingest_curve_conf *conf, struct ingest_curve **out);
int ingest_curve_start(struct ingest_curve *c, void *zctx, char *err, size_t errlen);
void ingest_curve_destroy(struct ingest_curve *c);

/* The server's public key (Z85), for producers and the start log line. */
const char *ingest_curve_server_public(const struct ingest_curve *c);
size_t ingest_curve_n_clients(const struct ingest_curve *c);
int ingest_curve_server_opts(const struct ingest_curve *c, void *sock);
uint32_t ingest_curve_msg_client(const struct ingest_curve *c, zmq_msg_t *msg);
int ingest_curve_allows(const struct ingest_curve *c, uint32_t client, const char *tenant,
                        size_t len);
/* Handshakes the ZAP handler denied since start (monotonic). */
uint64_t ingest_curve_denied(const struct ingest_curve *c);

/* A handshake that fails before ZAP is asked (a peer without Curve) is
 * seen only by a socket monitor: _monitor_open(c, sock) starts one on a
 * bound endpoint (NULL when it cannot: nothing else is lost), the owner of
 * `sock` polls the returned PAIR for POLLIN and calls _monitor_event(),
 * which counts the failure with the denials and logs it (rate-limited);
 * _monitor_close() stops it. All from the thread that owns `sock`. */
void *ingest_curve_monitor_open(struct ingest_curve *c, void *sock);
void ingest_curve_monitor_event(struct ingest_curve *c, void *mon);
void ingest_curve_monitor_close(void *sock, void *mon);
/* The client index in a dispatcher's client part ([client][frame]). */
uint32_t ingest_curve_take_client(zmq_msg_t *first);

#endif
