/* cli_send_ack.h — the acked half of `mailpulse send` (--ack): EventBatch
 * frames to the daemon's ROUTER endpoint (`ingest.router`) through a DEALER,
 * a window of batches in flight, one Ack per batch (proto/mailpulse.proto).
 *
 * Contract: send_ack_run() asks `next` for batch after batch, sequence
 * seq0, seq0 + 1, ... (the caller packs the frame with that sequence), keeps
 * at most conf->window of them in flight and keeps each frame's bytes until
 * its ack, so a resend is the same frame. A batch is resent
 *   - after an ACK_STATUS_RETRY, once a backoff has passed (doubling from
 *     SEND_ACK_BACKOFF_MS, capped at SEND_ACK_BACKOFF_MAX_MS, jittered), and
 *   - when no ack came within conf->ack_timeout_ms of its last send (the ack
 *     or the frame was lost, or the daemon restarted): the daemon answers a
 *     resend of a batch it already applied with ACK_STATUS_DUPLICATE, which
 *     is as good as OK.
 * A batch still unacked after 1 + conf->retries sends ends the run, and so
 * does no connection at all for ack_timeout_ms x (1 + retries). Every
 * (re)send goes out in sequence order, never a later batch before an
 * earlier unacked one that is due (the daemon takes a sequence at or below
 * a producer's last applied one for a duplicate); when the connection
 * breaks, everything in flight is resent in order. Acks may come in any
 * order; an ack for a batch no longer in flight (the second answer to a
 * resend) is ignored. OK and DUPLICATE free a batch; REJECTED
 * (the whole frame refused) frees it and counts it as refused.
 *
 * send_ack_run_within() is the same run for a caller with somewhere else
 * to go (replay falls back to PUSH): when no connection was made within
 * connect_ms (> 0) of the start, the run ends with MP_ERR_NOTFOUND and
 * prints nothing; until the first connection this replaces the
 * no-connection limit above. No frame can have left then (ZMQ_IMMEDIATE:
 * a send without a connection fails), so nothing was applied and the
 * batches may go elsewhere. out->connected
 * says, for every return, whether a connection was ever made (the
 * monitor's ZMQ_EVENT_CONNECTED, or any frame handed to the socket).
 *
 * Returns MP_OK when every batch was acked OK or DUPLICATE; MP_ERR_AGAIN
 * when a batch ran out of retries, MP_ERR_STATE when some batch was
 * REJECTED, MP_ERR_IO / MP_ERR_NOMEM on a socket or memory failure (one
 * line on stderr saying why, through cli_fail). *out holds what the acks
 * said in every case; send_ack_print() prints it.
 *
 * Threads: the caller's thread; it owns its ZeroMQ context for the run.
 */
#ifndef CLI_SEND_ACK_H
#define CLI_SEND_ACK_H

#include <stdint.h>
#include <stdio.h>

#include "cli_opt.h"
#include "mailpulse.pb-c.h"
#include "mp_buf.h"

#define SEND_ACK_DEFAULT_ENDPOINT "tcp://127.0.0.1:7401"
#define SEND_ACK_BACKOFF_MS 50
#define SEND_ACK_BACKOFF_MAX_MS 2000
#define SEND_ACK_MAX_WINDOW 4096
#define SEND_ACK_MAX_RETRIES 1000000
#define SEND_ACK_MAX_REASONS 8 /* distinct `error` texts remembered */
#define SEND_ACK_RECONNECT_POLL_MS 10 /* a batch with no connection tries again after this */

struct send_ack_conf {
    const char *endpoint;
    int64_t window;         /* batches in flight, 1..SEND_ACK_MAX_WINDOW */
    int64_t ack_timeout_ms; /* resend when no ack within this */
    int64_t retries;        /* resends of one batch before giving up */
    const char *server_key;      /* CurveZMQ: the daemon's public key, or NULL */
    const char *secret_key_file; /* CurveZMQ: this producer's secret key file, or NULL */
};

/* Packs batch `sequence` into `frame` (reset by the caller) and sets
 * *events. Returns 1 with a batch, 0 when there are no more, or an MP_ERR_*
 * (after printing why). */
typedef int (*send_ack_next_fn)(void *arg, uint64_t sequence, struct mp_buf *frame,
                                int64_t *events);

/* The usual body of a send_ack_next_fn: packs ev[0..n) as one EventBatch
 * of `producer` with `sequence` into frame (which it sizes) and sets
 * *events = n. Returns 1, or MP_ERR_NOMEM after printing it for cmd. */
int send_ack_pack(const struct cli_cmd *cmd, Mailpulse__V1__Event **ev, size_t n,
                  const char *producer, uint64_t sequence, struct mp_buf *frame,
                  int64_t *events);

/* An `error` text of the acks and the batches whose ack named it first. */
struct send_ack_reason {
    char text[128];
    uint64_t batches;
    uint64_t first_sequence;
};

struct send_ack_result {
    uint64_t batches;   /* acked OK or DUPLICATE */
    int64_t events;     /* events in those batches */
    uint64_t accepted;  /* sums of Ack.accepted / Ack.rejected (OK acks) */
    uint64_t rejected;
    uint64_t duplicate; /* batches acked DUPLICATE */
    uint64_t refused;   /* batches acked REJECTED */
    uint64_t retries;   /* resends, for RETRY or a timeout */
    uint64_t retry_acks; /* ACK_STATUS_RETRY answers */
    uint64_t ignored;   /* acks for no batch in flight, or not an Ack */
    struct send_ack_reason reasons[SEND_ACK_MAX_REASONS];
    size_t nreasons;
    int connected; /* a connection to the endpoint was made (send_ack_run_within) */
};

int send_ack_run(const struct cli_cmd *cmd, const struct send_ack_conf *conf, uint64_t seq0,
                 send_ack_next_fn next, void *arg, struct send_ack_result *out);
int send_ack_run_within(const struct cli_cmd *cmd, const struct send_ack_conf *conf,
                        int64_t connect_ms, uint64_t seq0, send_ack_next_fn next, void *arg,
                        struct send_ack_result *out);

/* "acked batches=N events=N accepted=N rejected=N duplicate=N refused=N
 * retries=N endpoint=E", then one "ack_error reason="…" batches=N
 * first_sequence=S" line per distinct error text. */
void send_ack_print(FILE *f, const struct send_ack_result *r, const char *endpoint);

#endif
