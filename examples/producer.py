#!/usr/bin/env python3
"""producer.py - a minimal mailpulse producer in Python (python3-zmq,
python3-protobuf).

    producer.py push ENDPOINT TENANT COUNT   PUSH to ingest.pull, fire and forget
    producer.py ack  ENDPOINT TENANT COUNT   DEALER to ingest.router, one Ack per batch

mailpulse_pb2 is generated from proto/mailpulse.proto, never committed:

    protoc --python_out=DIR --proto_path=proto proto/mailpulse.proto
    PYTHONPATH=DIR python3 examples/producer.py push tcp://127.0.0.1:7400 acme 1000

(`make examples` writes it to build/gcc/examples/python.) It sends COUNT
"sent" events of TENANT (mailbox news@TENANT.example, domain gmail.com, time
now) in batches of 500. The acked mode keeps one batch in flight: it resends
the same bytes after RETRY (with a backoff) or 2 s without an ack, goes on
after OK or DUPLICATE (counted once either way), stops on REJECTED. A real
producer keeps a window in flight and resends in sequence order (README,
"Producer guide"). Exit status: 0 all sent, 1 failure, 2 usage.
"""
import os
import sys
import time

import zmq

import mailpulse_pb2 as pb

BATCH = 500
ACK_TIMEOUT_MS = 2000
MAX_RESENDS = 20


def pack_batch(tenant, count, producer_id, sequence):
    batch = pb.EventBatch(producer_id=producer_id, sequence=sequence)
    now = int(time.time() * 1000)
    for _ in range(count):
        batch.events.add(tenant=tenant, mailbox="news@%s.example" % tenant,
                         recipient_domain="gmail.com", type=pb.EVENT_TYPE_SENT,
                         time_ms=now)
    return batch.SerializeToString()


def batches(count):
    left = count
    while left > 0:
        n = min(left, BATCH)
        yield n
        left -= n


def run_push(ctx, endpoint, tenant, count):
    s = ctx.socket(zmq.PUSH)
    s.setsockopt(zmq.IMMEDIATE, 1)      # never queue while there is no connection
    s.setsockopt(zmq.SNDTIMEO, 5000)    # ... and give up after 5 s without one
    s.setsockopt(zmq.LINGER, 5000)
    s.connect(endpoint)
    pid = "example-py-push-%d" % os.getpid()
    try:
        for seq, n in enumerate(batches(count), start=1):
            s.send(pack_batch(tenant, n, pid, seq))
    except zmq.Again:
        print("producer.py: no connection to %s" % endpoint, file=sys.stderr)
        return 1
    finally:
        s.close()
    print("pushed events=%d endpoint=%s" % (count, endpoint))
    return 0


def wait_ack(s, seq):
    """The Ack of `seq` within ACK_TIMEOUT_MS, or None."""
    deadline = time.monotonic() + ACK_TIMEOUT_MS / 1000
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not s.poll(int(left * 1000)):
            return None
        ack = pb.Ack()
        try:
            ack.ParseFromString(s.recv())
        except Exception:  # not an Ack: ignore it, wait on
            continue
        if ack.sequence == seq:  # else the ack of an earlier resend
            return ack


def run_ack(ctx, endpoint, tenant, count):
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.IMMEDIATE, 1)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    # A producer id per run, sequences from 1 (0 is never deduplicated).
    pid = "example-py-%d-%d" % (os.getpid(), int(time.time() * 1000))
    acked = accepted = resends = 0
    try:
        for seq, n in enumerate(batches(count), start=1):
            frame = pack_batch(tenant, n, pid, seq)
            ack = None
            for tries in range(1, MAX_RESENDS + 2):
                try:
                    s.send(frame, zmq.DONTWAIT)
                    ack = wait_ack(s, seq)
                except zmq.Again:  # no connection yet
                    time.sleep(0.1)
                if ack is not None and ack.status in (pb.ACK_STATUS_OK, pb.ACK_STATUS_DUPLICATE,
                                                      pb.ACK_STATUS_REJECTED):
                    break
                if ack is not None and ack.status == pb.ACK_STATUS_RETRY:
                    time.sleep(0.05 * tries)  # overload: back off
                resends += 1
            if ack is None or ack.status not in (pb.ACK_STATUS_OK, pb.ACK_STATUS_DUPLICATE):
                why = ack.error if ack is not None else "no ack"
                print("producer.py: batch %d not acked: %s" % (seq, why), file=sys.stderr)
                return 1
            acked += n
            accepted += ack.accepted
    finally:
        s.close()
    print("acked events=%d accepted=%d resends=%d endpoint=%s"
          % (acked, accepted, resends, endpoint))
    return 0


def main(argv):
    if len(argv) != 5 or argv[1] not in ("push", "ack") or not argv[4].isdigit() \
            or not 1 <= int(argv[4]) <= 100000000:
        print("usage: producer.py push|ack ENDPOINT TENANT COUNT", file=sys.stderr)
        return 2
    ctx = zmq.Context()
    try:
        run = run_push if argv[1] == "push" else run_ack
        return run(ctx, argv[2], argv[3], int(argv[4]))
    finally:
        ctx.term()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
