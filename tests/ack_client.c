/* ack_client.c — the acked producer of the e2e suites (see ack_client.h). */
#include "ack_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "mailpulse.pb-c.h"

#define must(cond, fmt, ...) EW_MUST(w, cond, fmt, ##__VA_ARGS__)

void ak_write_config(struct ew_world *w, struct e2e_daemon_conf c, int workers, const char *extra,
                     char *router, size_t routern)
{
    ew_write_config(w, c);
    snprintf(router, routern, "tcp://127.0.0.1:%u", (unsigned)ew_port(w));
    char *text = NULL;
    size_t len = 0;
    must(e2e_read_file(w->cfg, &text, &len) == MP_OK, "cannot read %s", w->cfg);
    const char *wk = strstr(text, "\n  workers: ");
    must(wk != NULL, "no workers line in %s", w->cfg);
    const char *rest = strchr(wk + 1, '\n');
    size_t cap = len + 512 + (extra ? strlen(extra) : 0);
    char *out = malloc(cap);
    must(out != NULL, "nomem");
    snprintf(out, cap, "%.*s\n  workers: %d\n  router: \"%s\"\n%s%s", (int)(wk - text), text,
             workers, router, extra ? extra : "", rest ? rest + 1 : "");
    must(e2e_write_file(w->cfg, out, w->err, sizeof(w->err)) == MP_OK, "%s", w->err);
    free(out);
    free(text);
}

void *ak_dealer(struct ew_world *w, const char *endpoint)
{
    void *s = zmq_socket(w->zctx, ZMQ_DEALER);
    int linger = 0;
    must(s != NULL, "zmq_socket: %s", zmq_strerror(zmq_errno()));
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    must(zmq_connect(s, endpoint) == 0, "connect %s: %s", endpoint, zmq_strerror(zmq_errno()));
    return s;
}

void ak_pack(struct ew_world *w, const struct e2e_event *ev, size_t n, const char *pid,
             uint64_t seq, uint8_t **buf, size_t *len)
{
    Mailpulse__V1__EventBatch b = MAILPULSE__V1__EVENT_BATCH__INIT;
    Mailpulse__V1__Event *es = calloc(n ? n : 1, sizeof(*es));
    Mailpulse__V1__Event **ep = calloc(n ? n : 1, sizeof(*ep));
    must(es && ep, "nomem");
    for (size_t i = 0; i < n; i++) {
        mailpulse__v1__event__init(&es[i]);
        es[i].tenant = (char *)ev[i].tenant;
        es[i].mailbox = (char *)ev[i].mailbox;
        es[i].recipient_domain = (char *)ev[i].domain;
        es[i].type = (Mailpulse__V1__EventType)ev[i].type;
        es[i].time_ms = ev[i].time_ms;
        ep[i] = &es[i];
    }
    b.n_events = n;
    b.events = ep;
    b.producer_id = (char *)(pid ? pid : "");
    b.sequence = seq;
    *len = mailpulse__v1__event_batch__get_packed_size(&b);
    *buf = malloc(*len ? *len : 1);
    must(*buf != NULL, "nomem");
    mailpulse__v1__event_batch__pack(&b, *buf);
    free(es);
    free(ep);
}

void ak_send(struct ew_world *w, void *dealer, const void *buf, size_t len)
{
    must(zmq_send(dealer, buf, len, 0) == (int)len, "send: %s", zmq_strerror(zmq_errno()));
}

int ak_recv(struct ew_world *w, void *dealer, int timeout_ms, struct ak_ack *out)
{
    zmq_pollitem_t it = {.socket = dealer, .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    must(zmq_msg_recv(&m, dealer, 0) >= 0, "recv: %s", zmq_strerror(zmq_errno()));
    must(!zmq_msg_more(&m), "an Ack is one frame");
    Mailpulse__V1__Ack *a =
        mailpulse__v1__ack__unpack(NULL, zmq_msg_size(&m), zmq_msg_data(&m));
    must(a != NULL, "an answer of %zu bytes that is not an Ack", zmq_msg_size(&m));
    *out = (struct ak_ack){.sequence = a->sequence, .status = (int)a->status,
                           .accepted = a->accepted, .rejected = a->rejected};
    snprintf(out->error, sizeof(out->error), "%s", a->error ? a->error : "");
    mailpulse__v1__ack__free_unpacked(a, NULL);
    zmq_msg_close(&m);
    return 1;
}

struct ak_ack ak_call(struct ew_world *w, void *dealer, const struct e2e_event *ev, size_t n,
                      const char *pid, uint64_t seq)
{
    uint8_t *buf;
    size_t len;
    ak_pack(w, ev, n, pid, seq, &buf, &len);
    ak_send(w, dealer, buf, len);
    free(buf);
    struct ak_ack a;
    must(ak_recv(w, dealer, 10000, &a), "no Ack for sequence %llu within 10 s",
         (unsigned long long)seq);
    return a;
}
