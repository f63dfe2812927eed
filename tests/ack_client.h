/* ack_client.h — a test's acked producer: DEALER sockets on the daemon's
 * ingest.router, EventBatch frames with producer_id and sequence, Acks read
 * back; and the config lines that turn the router on. Shared by the e2e
 * suites that speak the acked wire (tests/test_e2e_acked.c).
 *
 * Threads: one test thread. Ownership: sockets belong to the caller
 * (zmq_close); packed buffers are malloc'd (free). Steps that must work
 * assert through EW_MUST (e2e_world.h) and do not return on failure.
 */
#ifndef ACK_CLIENT_H
#define ACK_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "e2e_world.h"

struct ak_ack {
    uint64_t sequence;
    int status; /* MAILPULSE__V1__ACK_STATUS__ACK_STATUS_* */
    uint32_t accepted, rejected;
    char error[64];
};

/* ew_write_config(w, c), then: ingest.router on a fresh port (its endpoint
 * in `router`), `workers` workers, and `extra` (more ingest lines, each
 * "  key: value\n"; NULL: none). */
void ak_write_config(struct ew_world *w, struct e2e_daemon_conf c, int workers, const char *extra,
                     char *router, size_t routern);
/* A DEALER connected to `endpoint` (linger 0). */
void *ak_dealer(struct ew_world *w, const char *endpoint);
/* One EventBatch of n events with producer_id pid (NULL: none) and seq. */
void ak_pack(struct ew_world *w, const struct e2e_event *ev, size_t n, const char *pid,
             uint64_t seq, uint8_t **buf, size_t *len);
void ak_send(struct ew_world *w, void *dealer, const void *buf, size_t len);
/* The next Ack within timeout_ms: 1, or 0 on timeout. Asserts it decodes. */
int ak_recv(struct ew_world *w, void *dealer, int timeout_ms, struct ak_ack *out);
/* Sends one batch and waits (up to 10 s) for its Ack. */
struct ak_ack ak_call(struct ew_world *w, void *dealer, const struct e2e_event *ev, size_t n,
                      const char *pid, uint64_t seq);

#endif
