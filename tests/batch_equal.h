/* batch_equal.h — two decoded EventBatch values field for field.
 *
 * The workers' decoder (ingest_decode_batch_arena) must give what
 * protobuf-c's unpack gives (ingest_decode_batch); tests/test_ingest_decode
 * and the fuzz target tests/fuzz/fuzz_decode compare the two with this.
 * Header only: the fuzz target links no test library.
 * Returns NULL when equal, else the name of the first field that differs.
 */
#ifndef BATCH_EQUAL_H
#define BATCH_EQUAL_H

#include <string.h>

#include "mailpulse.pb-c.h"

static inline const char *batch_equal(const Mailpulse__V1__EventBatch *a,
                                      const Mailpulse__V1__EventBatch *b)
{
    if (a->n_events != b->n_events)
        return "n_events";
    if (strcmp(a->producer_id, b->producer_id) != 0)
        return "producer_id";
    if (a->sequence != b->sequence)
        return "sequence";
    for (size_t i = 0; i < a->n_events; i++) {
        const Mailpulse__V1__Event *x = a->events[i], *y = b->events[i];
        if (strcmp(x->tenant, y->tenant) != 0)
            return "tenant";
        if (strcmp(x->mailbox, y->mailbox) != 0)
            return "mailbox";
        if (strcmp(x->recipient_domain, y->recipient_domain) != 0)
            return "recipient_domain";
        if (strcmp(x->event_id, y->event_id) != 0)
            return "event_id";
        if (strcmp(x->campaign, y->campaign) != 0)
            return "campaign";
        if (x->type != y->type)
            return "type";
        if (x->time_ms != y->time_ms)
            return "time_ms";
        if (x->sent_time_ms != y->sent_time_ms)
            return "sent_time_ms";
    }
    return NULL;
}

#endif
