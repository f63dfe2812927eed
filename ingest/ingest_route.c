/* ingest_route.c — the producer -> worker table (see ingest_route.h).
 *
 * Open addressing with linear probing on the 64-bit hash (0 marks an empty
 * slot, so a hash of 0 is stored as 1). Expiry rebuilds the array when any
 * entry left: simpler than deleting in place from a probe sequence, and it
 * runs once a second at most.
 */
#include "ingest_route.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "mp_hash.h"

struct route_ent {
    uint64_t h; /* 0: empty */
    int64_t seen_ms;
    int w;
};

struct ingest_route {
    struct route_ent *e;
    size_t cap, n; /* cap: a power of two; n <= cap / 2 (probe chains stay short) */
    int workers;
    int64_t idle_ms;
    uint64_t seed;
    size_t *load; /* live producers per worker */
};

int ingest_route_create(int workers, size_t cap, int64_t idle_ms, struct ingest_route **out)
{
    if (workers < 1 || cap < 2 || (cap & (cap - 1)) || idle_ms < 1)
        return MP_ERR_INVAL;
    struct ingest_route *r = calloc(1, sizeof(*r));
    if (!r)
        return MP_ERR_NOMEM;
    r->e = calloc(cap * 2, sizeof(*r->e));
    r->load = calloc((size_t)workers, sizeof(*r->load));
    if (!r->e || !r->load) {
        ingest_route_destroy(r);
        return MP_ERR_NOMEM;
    }
    r->cap = cap * 2; /* cap producers at half load */
    r->workers = workers;
    r->idle_ms = idle_ms;
    if (getrandom(&r->seed, sizeof(r->seed), 0) != (ssize_t)sizeof(r->seed))
        r->seed = (uint64_t)(uintptr_t)r ^ 0x726f757465ULL; /* no entropy: still per process */
    *out = r;
    return MP_OK;
}

void ingest_route_destroy(struct ingest_route *r)
{
    if (!r)
        return;
    free(r->e);
    free(r->load);
    free(r);
}

uint64_t ingest_route_hash(const struct ingest_route *r, const char *pid, size_t len)
{
    uint64_t h = mp_hash_bytes(pid, len, r->seed);
    return h ? h : 1;
}

/* The slot of h, or the empty slot where it would go. */
static size_t route__find(const struct ingest_route *r, uint64_t h)
{
    size_t mask = r->cap - 1, i = (size_t)mp_hash_mix64(h) & mask;
    while (r->e[i].h && r->e[i].h != h)
        i = (i + 1) & mask;
    return i;
}

/* The worker with the fewest live producers (the lowest index on a tie). */
static int route__least(const struct ingest_route *r)
{
    int best = 0;
    for (int w = 1; w < r->workers; w++)
        if (r->load[w] < r->load[best])
            best = w;
    return best;
}

int ingest_route_worker(struct ingest_route *r, uint64_t h, int64_t now_ms)
{
    h = h ? h : 1;
    if (r->workers == 1)
        return 0;
    size_t i = route__find(r, h);
    struct route_ent *e = &r->e[i];
    if (e->h) {
        if (now_ms - e->seen_ms > r->idle_ms) { /* silent long enough to move */
            r->load[e->w]--;
            e->w = route__least(r);
            r->load[e->w]++;
        }
        e->seen_ms = now_ms;
        return e->w;
    }
    if (r->n >= r->cap / 2)
        return (int)(h % (uint64_t)r->workers); /* full: fixed, not balanced */
    *e = (struct route_ent){.h = h, .seen_ms = now_ms, .w = route__least(r)};
    r->n++;
    r->load[e->w]++;
    return e->w;
}

void ingest_route_expire(struct ingest_route *r, int64_t now_ms)
{
    size_t stale = 0;
    for (size_t i = 0; i < r->cap; i++)
        if (r->e[i].h && now_ms - r->e[i].seen_ms > r->idle_ms)
            stale++;
    if (!stale)
        return;
    struct route_ent *old = r->e;
    struct route_ent *e = calloc(r->cap, sizeof(*e));
    if (!e)
        return; /* kept as it is; the next pass tries again */
    r->e = e;
    r->n = 0;
    memset(r->load, 0, (size_t)r->workers * sizeof(*r->load));
    for (size_t i = 0; i < r->cap; i++) {
        if (!old[i].h || now_ms - old[i].seen_ms > r->idle_ms)
            continue;
        r->e[route__find(r, old[i].h)] = old[i];
        r->n++;
        r->load[old[i].w]++;
    }
    free(old);
}

size_t ingest_route_count(const struct ingest_route *r) { return r->n; }

size_t ingest_route_load(const struct ingest_route *r, int w)
{
    return w >= 0 && w < r->workers ? r->load[w] : 0;
}
