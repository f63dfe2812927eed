/* eng_intern.c — lock-free string interning (see eng_intern.h).
 *
 * An open-addressed table of pointers to immutable string records, probed
 * linearly. A slot goes from NULL to a record exactly once (CAS) and never
 * changes again, so a reader that sees a non-NULL slot may read the record:
 * the CAS publishes it with release order and readers load with acquire.
 * A second array maps id -> record for reverse lookups, filled the same way.
 */
#include "eng_intern.h"

#include <stdlib.h>
#include <string.h>

#include "eng_hash.h"
#include "mp_atomic.h"

#define INTERN_MAX_LEN 255

struct intern_rec {
    struct intern_rec *new_next; /* on the not-yet-persisted list */
    uint64_t hash;
    uint32_t id;
    uint32_t len;
    char s[]; /* NUL-terminated */
};

struct eng_intern {
    uint32_t capacity; /* max strings */
    uint64_t mask;     /* slots - 1; slots is a power of two >= 2 * capacity */
    uint64_t seed;     /* eng_hash_name seed, from eng_hash_seed() at create */
    MP_ATOMIC(struct intern_rec *) *slots;
    MP_ATOMIC(struct intern_rec *) *by_id; /* index id, size capacity + 1 */
    mp_atomic_u32 next_id;
    mp_atomic_u64 bytes;
    MP_ATOMIC(struct intern_rec *) fresh; /* names added since the last drain */
};

void eng_intern_destroy(struct eng_intern *in)
{
    if (!in)
        return;
    if (in->slots) {
        for (uint64_t i = 0; i <= in->mask; i++)
            free(mp_load_relaxed(&in->slots[i]));
    }
    free(in->slots);
    free(in->by_id);
    free(in);
}

int eng_intern_create(uint32_t capacity, struct eng_intern **out)
{
    int rc = MP_ERR_NOMEM;
    struct eng_intern *in = calloc(1, sizeof(*in));
    if (!in)
        goto err;
    uint64_t nslots = 16;
    while (nslots < (uint64_t)capacity * 2)
        nslots <<= 1;
    in->capacity = capacity;
    in->seed = eng_hash_seed(); /* producers choose the names: see eng_hash.h */
    in->mask = nslots - 1;
    in->slots = calloc(nslots, sizeof(*in->slots));
    in->by_id = calloc((size_t)capacity + 1, sizeof(*in->by_id));
    if (!in->slots || !in->by_id)
        goto err;
    mp_atomic_init(&in->next_id, 1);
    *out = in;
    return MP_OK;
err:
    eng_intern_destroy(in);
    return rc;
}

static inline uint64_t intern__hash(const struct eng_intern *in, const char *s, size_t len)
{
    return eng_hash_name(s, len, in->seed);
}

/* A new record for (s, len) with hash h and id, not yet published. */
static struct intern_rec *intern__rec(uint64_t h, uint32_t id, const char *s, size_t len)
{
    struct intern_rec *r = malloc(sizeof(*r) + len + 1);
    if (!r)
        return NULL;
    r->new_next = NULL;
    r->hash = h;
    r->id = id;
    r->len = (uint32_t)len;
    memcpy(r->s, s, len);
    r->s[len] = '\0';
    return r;
}

static int intern__match(const struct intern_rec *r, uint64_t h, const char *s, size_t len)
{
    return r->hash == h && r->len == len && memcmp(r->s, s, len) == 0;
}

int eng_intern_find(const struct eng_intern *in, const char *s, size_t len, uint32_t *id)
{
    if (len == 0 || len > INTERN_MAX_LEN)
        return MP_ERR_NOTFOUND;
    uint64_t h = intern__hash(in, s, len);
    for (uint64_t i = h & in->mask, n = 0; n <= in->mask; i = (i + 1) & in->mask, n++) {
        /* acquire: pairs with the release CAS that published the record */
        struct intern_rec *r = mp_load_acquire(&in->slots[i]);
        if (!r)
            return MP_ERR_NOTFOUND;
        if (intern__match(r, h, s, len)) {
            *id = r->id;
            return MP_OK;
        }
    }
    return MP_ERR_NOTFOUND;
}

int eng_intern_get(struct eng_intern *in, const char *s, size_t len, uint32_t *id)
{
    if (len == 0 || len > INTERN_MAX_LEN)
        return MP_ERR_INVAL;
    uint64_t h = intern__hash(in, s, len);
    struct intern_rec *mine = NULL;
    int rc = MP_ERR_FULL;
    for (uint64_t i = h & in->mask, n = 0; n <= in->mask; i = (i + 1) & in->mask, n++) {
        struct intern_rec *r = mp_load_acquire(&in->slots[i]);
        while (!r) {
            if (!mine) {
                /* Claim an id before publishing, so a reader never sees a
                 * record without one. A lost race wastes the id: ids are
                 * dense "enough", never reused, never wrong. */
                if (mp_load_relaxed(&in->next_id) > in->capacity) {
                    rc = MP_ERR_FULL; /* checked first so next_id cannot wrap */
                    goto out;
                }
                uint32_t nid = mp_add_relaxed(&in->next_id, 1);
                if (nid > in->capacity) {
                    rc = MP_ERR_FULL;
                    goto out;
                }
                if (!(mine = intern__rec(h, nid, s, len))) {
                    rc = MP_ERR_NOMEM;
                    goto out;
                }
            }
            struct intern_rec *expect = NULL;
            if (mp_cas_acq_rel(&in->slots[i], &expect, mine)) {
                mp_store_release(&in->by_id[mine->id], mine);
                mp_add_relaxed(&in->bytes, sizeof(*mine) + len + 1);
                *id = mine->id;
                /* Queue it for persistence (release: the record's fields
                 * are visible to the drainer). */
                struct intern_rec *head = mp_load_relaxed(&in->fresh);
                do {
                    mine->new_next = head;
                } while (!mp_cas_weak_release(&in->fresh, &head, mine));
                return MP_OK;
            }
            r = expect; /* someone else filled the slot: compare with theirs */
        }
        if (intern__match(r, h, s, len)) {
            *id = r->id;
            rc = MP_OK;
            goto out;
        }
    }
out:
    free(mine);
    return rc;
}

int eng_intern_put(struct eng_intern *in, uint32_t id, const char *s, size_t len)
{
    if (id == 0 || id > in->capacity || len == 0 || len > INTERN_MAX_LEN)
        return MP_ERR_INVAL;
    uint64_t h = intern__hash(in, s, len);
    for (uint64_t i = h & in->mask, n = 0; n <= in->mask; i = (i + 1) & in->mask, n++) {
        struct intern_rec *r = mp_load_relaxed(&in->slots[i]);
        if (r) {
            if (intern__match(r, h, s, len))
                return r->id == id ? MP_OK : MP_ERR_INVAL;
            continue;
        }
        if (mp_load_relaxed(&in->by_id[id]))
            return MP_ERR_INVAL; /* the id names another string */
        struct intern_rec *rec = intern__rec(h, id, s, len);
        if (!rec)
            return MP_ERR_NOMEM;
        mp_store_release(&in->slots[i], rec);
        mp_store_release(&in->by_id[id], rec);
        mp_add_relaxed(&in->bytes, sizeof(*rec) + len + 1);
        if (mp_load_relaxed(&in->next_id) <= id)
            mp_store_relaxed(&in->next_id, id + 1);
        return MP_OK;
    }
    return MP_ERR_FULL;
}

size_t eng_intern_drain_new(struct eng_intern *in,
                            void (*fn)(void *arg, uint32_t id, const char *s, size_t len),
                            void *arg)
{
    /* acquire: pairs with the release CAS of each push */
    struct intern_rec *r = mp_xchg_acquire(&in->fresh, NULL);
    size_t n = 0;
    for (; r; r = r->new_next, n++)
        fn(arg, r->id, r->s, r->len);
    return n;
}

const char *eng_intern_name(const struct eng_intern *in, uint32_t id)
{
    if (id == 0 || id > in->capacity)
        return NULL;
    struct intern_rec *r = mp_load_acquire(&in->by_id[id]);
    return r ? r->s : NULL;
}

uint64_t eng_intern_hash_seed(const struct eng_intern *in) { return in->seed; }

uint32_t eng_intern_count(const struct eng_intern *in)
{
    uint32_t n = mp_load_relaxed(&in->next_id) - 1;
    return n > in->capacity ? in->capacity : n;
}

size_t eng_intern_bytes(const struct eng_intern *in)
{
    return (size_t)mp_load_relaxed(&in->bytes) +
           (size_t)(in->mask + 1 + in->capacity + 1) * sizeof(void *);
}
