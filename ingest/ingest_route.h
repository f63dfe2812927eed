/* ingest_route.h — which ingest worker a producer's frames go to.
 *
 * Why: frames of one producer must reach one worker, so they are applied
 * in the order it sent them; a hash of the producer_id does that, but with
 * a handful of producers it often puts most of them on one worker (4
 * producers over 2 workers: all on one in 1 run of 8, 3 to 1 in half of
 * them) and the other worker idles. The route table instead gives a
 * producer it has not seen (or not for INGEST_ROUTE_IDLE_MS) to the worker
 * with the fewest live producers, and keeps it there while it sends.
 *
 * Contract
 *   - ingest_route_worker(r, h, now) returns the worker (0..workers-1) of
 *     the producer whose id hashes to h (ingest_route_hash), and marks it
 *     seen at now. The answer for h never changes while h is seen at least
 *     once every idle_ms; after a longer silence (everything it sent before
 *     is long applied: the queues hold a few hundred frames) it may move.
 *     Two ids with the same 64-bit hash share a worker: harmless.
 *   - At most `cap` producers are tracked; past that, a new producer gets
 *     h % workers (still fixed per producer, only not balanced). Idle
 *     entries leave in ingest_route_expire(), which the caller runs about
 *     once a second; its cost is O(cap).
 *   - ingest_route_hash() hashes a producer_id under the table's seed
 *     (drawn per process: ids come from outside, so nobody can line up
 *     colliding ids to pile producers onto one probe chain).
 *
 * Threads: one table per dispatcher thread; not thread-safe.
 * Returns MP_OK or MP_ERR_NOMEM / MP_ERR_INVAL (create).
 */
#ifndef INGEST_ROUTE_H
#define INGEST_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define INGEST_ROUTE_IDLE_MS 60000 /* a producer silent this long may move */
#define INGEST_ROUTE_CAP 65536     /* producers tracked (power of two) */

struct ingest_route;

int ingest_route_create(int workers, size_t cap, int64_t idle_ms, struct ingest_route **out);
void ingest_route_destroy(struct ingest_route *r);
uint64_t ingest_route_hash(const struct ingest_route *r, const char *pid, size_t len);
int ingest_route_worker(struct ingest_route *r, uint64_t h, int64_t now_ms);
void ingest_route_expire(struct ingest_route *r, int64_t now_ms);
size_t ingest_route_count(const struct ingest_route *r);
/* Live producers on worker w (for tests and figures). */
size_t ingest_route_load(const struct ingest_route *r, int w);

#endif
