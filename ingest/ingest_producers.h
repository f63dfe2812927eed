/* ingest_producers.h — the last applied sequence per producer_id, for
 * exactly-once ingest (dedup on both endpoints).
 *
 * Contract: the journal keeps `parts` tables (a producer's entry lives in
 * the table ingest_producers_part() names: a pure function of the id, so a
 * restart finds it); the journal (ingest_journal.h) owns them. Workers use
 * them under the journal's shared lock and a mutex per table (ingest's,
 * since the route table may give two producers of one part to different
 * workers); the flush hook reads and expires every table under the
 * exclusive lock (ingest_producers_cut); ingest_producers_cut_done() needs
 * no lock, as it moves only the marks the flush thread alone reads. Not
 * thread-safe otherwise.
 *
 * Persistence (ENG_KV_PRODUCERS): key = the producer_id bytes, value =
 * 16 bytes: big-endian last sequence, big-endian last-seen Unix ms.
 * ingest_producers_cut() puts into a flush batch every entry changed since
 * the last successful cut and deletes those idle past the TTL (memory and
 * store); ingest_producers_cut_done() says whether that batch committed.
 *
 * The same table serves as a "retry floor" (ingest_worker.c): the lowest
 * sequence of a producer answered RETRY, below which nothing later of it
 * may be applied.
 *
 * Bounded: at most INGEST_PRODUCERS_MAX ids per table (set returns
 * MP_ERR_FULL for a new one beyond that; ids expire after the TTL).
 */
#ifndef INGEST_PRODUCERS_H
#define INGEST_PRODUCERS_H

#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"
#include "mp.h"

#define INGEST_PRODUCERS_MAX 65536
#define INGEST_PRODUCER_VALUE_LEN 16

struct ingest_producers;

int ingest_producers_create(struct ingest_producers **out);
void ingest_producers_destroy(struct ingest_producers *p);
/* The table (0..parts-1) a producer_id belongs to. Pure. */
int ingest_producers_part(const char *pid, size_t len, int parts);
/* The last applied sequence of pid, 0 when unknown. */
uint64_t ingest_producers_last(const struct ingest_producers *p, const char *pid, size_t len);
/* Records seq (kept when lower than what is there) seen at now_ms.
 * MP_OK, MP_ERR_FULL (a new id in a full table), MP_ERR_NOMEM. */
int ingest_producers_set(struct ingest_producers *p, const char *pid, size_t len, uint64_t seq,
                         int64_t now_ms);
size_t ingest_producers_count(const struct ingest_producers *p);
/* Forgets pid (memory only). */
void ingest_producers_del(struct ingest_producers *p, const char *pid, size_t len);
/* Everything in the table is in the store (after a load). */
void ingest_producers_mark_durable(struct ingest_producers *p);
void ingest_producers_cut(struct ingest_producers *p, struct eng_store_batch *b, int64_t now_ms,
                          int64_t ttl_ms);
void ingest_producers_cut_done(struct ingest_producers *p, int ok);

void ingest_producers_encode(uint64_t seq, int64_t seen_ms, char out[INGEST_PRODUCER_VALUE_LEN]);
/* MP_OK or MP_ERR_PARSE (wrong length). */
int ingest_producers_decode(const char *v, size_t len, uint64_t *seq, int64_t *seen_ms);

#endif
