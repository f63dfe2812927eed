/* test_eng_intern.c — engine/eng_intern: names to stable ids.
 *
 * Ids are stable and dense, lookups honour `len`, capacity is a hard limit,
 * racing threads agree on every id, persisted names come back with their
 * ids through eng_store into a dictionary with another hash seed, and a
 * clash on restore is refused.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_intern.h"
#include "eng_store.h"
#include "eng_testkit.h"
#include "check_main.h"

static char dir[UNIT_PATH_MAX];

static void setup(void) { unit_tmpdir("eng_intern", dir); }

static void teardown(void) { unit_tmpdir_remove(dir); }

START_TEST(intern_ids)
{
    struct eng_intern *in;
    ck_assert_int_eq(eng_intern_create(4, &in), MP_OK);
    uint32_t a, b, a2, c;
    ck_assert_int_eq(eng_intern_get(in, "gmail.com", 9, &a), MP_OK);
    ck_assert_int_eq(eng_intern_get(in, "gmail.comX", 9, &a2), MP_OK); /* len bounds it */
    ck_assert_uint_eq(a, a2);
    ck_assert_int_eq(eng_intern_get(in, "yahoo.com", 9, &b), MP_OK);
    ck_assert_uint_ne(a, b);
    ck_assert_uint_ne(a, 0);
    ck_assert_str_eq(eng_intern_name(in, a), "gmail.com");
    ck_assert_ptr_null(eng_intern_name(in, 0));
    ck_assert_ptr_null(eng_intern_name(in, 999));
    ck_assert_int_eq(eng_intern_find(in, "yahoo.com", 9, &c), MP_OK);
    ck_assert_uint_eq(c, b);
    ck_assert_int_eq(eng_intern_find(in, "aol.com", 7, &c), MP_ERR_NOTFOUND);
    ck_assert_int_eq(eng_intern_get(in, "", 0, &c), MP_ERR_INVAL);
    ck_assert_int_eq(eng_intern_get(in, "x", 1, &c), MP_OK);
    ck_assert_int_eq(eng_intern_get(in, "y", 1, &c), MP_OK);
    ck_assert_int_eq(eng_intern_get(in, "z", 1, &c), MP_ERR_FULL);
    ck_assert_int_eq(eng_intern_get(in, "gmail.com", 9, &c), MP_OK); /* old names still found */
    ck_assert_uint_eq(eng_intern_count(in), 4);
    eng_intern_destroy(in);
}
END_TEST

/* Many names, up to the capacity: every one found again by its id and its
 * bytes, the next one refused, the byte figure grown. */
START_TEST(fills_to_capacity)
{
    enum { N = 3000 };
    struct eng_intern *in;
    ck_assert_int_eq(eng_intern_create(N, &in), MP_OK);
    size_t empty = eng_intern_bytes(in);
    char name[32];
    for (uint32_t i = 0; i < N; i++) {
        uint32_t id;
        snprintf(name, sizeof(name), "u%u@a.io", i);
        ck_assert_int_eq(eng_intern_get(in, name, strlen(name), &id), MP_OK);
        ck_assert_uint_eq(id, i + 1); /* one thread: dense, in order */
    }
    for (uint32_t i = 0; i < N; i++) {
        uint32_t id;
        snprintf(name, sizeof(name), "u%u@a.io", i);
        ck_assert_int_eq(eng_intern_find(in, name, strlen(name), &id), MP_OK);
        ck_assert_uint_eq(id, i + 1);
        ck_assert_str_eq(eng_intern_name(in, id), name);
    }
    uint32_t id;
    ck_assert_int_eq(eng_intern_get(in, "one-more", 8, &id), MP_ERR_FULL);
    ck_assert_int_eq(eng_intern_find(in, "one-more", 8, &id), MP_ERR_NOTFOUND);
    ck_assert_uint_eq(eng_intern_count(in), N);
    ck_assert_uint_gt(eng_intern_bytes(in), empty + (size_t)N * 8);
    char big[300];
    memset(big, 'n', sizeof(big));
    ck_assert_int_eq(eng_intern_get(in, big, 256, &id), MP_ERR_INVAL); /* over 255 bytes */
    ck_assert_int_eq(eng_intern_find(in, big, 256, &id), MP_ERR_NOTFOUND);
    eng_intern_destroy(in);
}
END_TEST

#define RACERS 4
#define RACE_NAMES 2000

struct racer {
    struct eng_intern *in;
    int id;
    uint32_t ids[RACE_NAMES];
};

static void *race(void *arg)
{
    struct racer *r = arg;
    char name[32];
    for (int j = 0; j < RACE_NAMES; j++) {
        int x = (j * 7 + r->id * 331) % RACE_NAMES; /* another walk per thread */
        snprintf(name, sizeof(name), "n%d", x);
        ck_assert_int_eq(eng_intern_get(r->in, name, strlen(name), &r->ids[x]), MP_OK);
    }
    return NULL;
}

/* Threads interning the same new names at once agree on every id. */
START_TEST(racing_threads_agree)
{
    struct eng_intern *in;
    ck_assert_int_eq(eng_intern_create(2 * RACE_NAMES, &in), MP_OK);
    static struct racer rs[RACERS];
    pthread_t th[RACERS];
    for (int i = 0; i < RACERS; i++) {
        rs[i].in = in;
        rs[i].id = i;
        pthread_create(&th[i], NULL, race, &rs[i]);
    }
    for (int i = 0; i < RACERS; i++)
        pthread_join(th[i], NULL);
    char name[32];
    for (int x = 0; x < RACE_NAMES; x++) {
        snprintf(name, sizeof(name), "n%d", x);
        for (int i = 1; i < RACERS; i++)
            ck_assert_uint_eq(rs[i].ids[x], rs[0].ids[x]);
        ck_assert_str_eq(eng_intern_name(in, rs[0].ids[x]), name);
    }
    eng_intern_destroy(in);
}
END_TEST

struct drained {
    int n;
    uint32_t ids[8];
    char names[8][32];
};

static void collect_name(void *arg, uint32_t id, const char *s, size_t len)
{
    struct drained *d = arg;
    ck_assert_int_lt(d->n, 8);
    ck_assert_uint_lt(len, 32);
    d->ids[d->n] = id;
    memcpy(d->names[d->n], s, len);
    d->names[d->n++][len] = '\0';
}

/* Restoring: eng_intern_put() brings a name back with its id, refuses a
 * clash either way, and new names get ids past the restored ones; restored
 * names are not drained again. */
START_TEST(put_restores_and_refuses_clash)
{
    struct eng_intern *in;
    ck_assert_int_eq(eng_intern_create(16, &in), MP_OK);
    ck_assert_int_eq(eng_intern_put(in, 5, "acme", 4), MP_OK);
    ck_assert_int_eq(eng_intern_put(in, 5, "acme", 4), MP_OK); /* the same again: fine */
    ck_assert_int_eq(eng_intern_put(in, 5, "beta", 4), MP_ERR_INVAL); /* id taken */
    ck_assert_int_eq(eng_intern_put(in, 6, "acme", 4), MP_ERR_INVAL); /* name has another id */
    ck_assert_int_eq(eng_intern_put(in, 0, "zero", 4), MP_ERR_INVAL);
    ck_assert_int_eq(eng_intern_put(in, 17, "over", 4), MP_ERR_INVAL);
    ck_assert_int_eq(eng_intern_put(in, 7, "", 0), MP_ERR_INVAL);
    uint32_t id;
    ck_assert_int_eq(eng_intern_get(in, "acme", 4, &id), MP_OK);
    ck_assert_uint_eq(id, 5);
    ck_assert_int_eq(eng_intern_get(in, "gamma", 5, &id), MP_OK);
    ck_assert_uint_eq(id, 6);
    struct drained d = {0};
    ck_assert_uint_eq(eng_intern_drain_new(in, collect_name, &d), 1);
    ck_assert_uint_eq(d.ids[0], 6);
    ck_assert_str_eq(d.names[0], "gamma");
    ck_assert_uint_eq(eng_intern_drain_new(in, collect_name, &d), 0);
    eng_intern_destroy(in);
}
END_TEST

static void to_batch(void *arg, uint32_t id, const char *s, size_t len)
{
    eng_store_batch_name(arg, id, s, len);
}

static int from_store(void *arg, uint32_t id, const char *s, size_t len)
{
    return eng_intern_put(arg, id, s, len);
}

/* The persistence round trip the table does: new names drained into a store
 * batch, committed, the store reopened, the names put back into a new
 * dictionary (another hash seed): every name has its old id, and the next
 * new name gets a fresh one. */
START_TEST(round_trip_via_store)
{
    const char *names[] = {"acme", "a@acme.io", "gmail.com", "beta", "b@beta.io", "yahoo.com"};
    enum { N = sizeof(names) / sizeof(names[0]) };
    struct eng_intern *a, *b;
    uint32_t ids[N], id;
    ck_assert_int_eq(eng_intern_create(64, &a), MP_OK);
    for (int i = 0; i < N; i++)
        ck_assert_int_eq(eng_intern_get(a, names[i], strlen(names[i]), &ids[i]), MP_OK);
    struct eng_store *s = unit_store_open(dir);
    struct eng_store_batch *bt = eng_store_batch_new(s);
    ck_assert_ptr_nonnull(bt);
    ck_assert_uint_eq(eng_intern_drain_new(a, to_batch, bt), N);
    ck_assert_int_eq(eng_store_commit(s, bt, 1), MP_OK);
    eng_store_batch_free(bt);
    eng_store_close(s);

    s = unit_store_open(dir);
    ck_assert_int_eq(eng_intern_create(64, &b), MP_OK);
    ck_assert_uint_ne(eng_intern_hash_seed(a), eng_intern_hash_seed(b)); /* 1 in 2^64 */
    ck_assert_int_eq(eng_store_load_names(s, from_store, b), MP_OK);
    ck_assert_uint_eq(eng_intern_count(b), N);
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(eng_intern_find(b, names[i], strlen(names[i]), &id), MP_OK);
        ck_assert_uint_eq(id, ids[i]);
        ck_assert_str_eq(eng_intern_name(b, ids[i]), names[i]);
    }
    ck_assert_int_eq(eng_intern_get(b, "gamma", 5, &id), MP_OK);
    ck_assert_uint_eq(id, N + 1);
    eng_store_close(s);
    eng_intern_destroy(a);
    eng_intern_destroy(b);
}
END_TEST

CHECK_SUITE("eng_intern", 60, setup, teardown, intern_ids, fills_to_capacity, racing_threads_agree,
            put_restores_and_refuses_clash, round_trip_via_store)
