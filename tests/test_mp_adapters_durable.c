/* test_mp_adapters_durable.c — cmd/daemon/mp_adapters_durable.c against a
 * real RocksDB store, key table and journal.
 *
 *   record_survives_reopen: a record's frames and dedup entries are one
 *     journal write: after a close without any counter flush (a crash) the
 *     entries load again under the same seed and the frames replay, once,
 *     with the trusted client and producer "adapter:<name>"; a token-only
 *     record (no frames) is durable too; the engine counted the events.
 *   legacy_file_imported: an old adapters.seen is imported (its seed and
 *     live entries) and removed; the next open has them from the store.
 *   past_rows_expire: ids sharing an until are one row; rows past their
 *     until are not loaded, and a record MP_ADUR_EXPIRE_MS later
 *     range-deletes them from the store.
 *   pack_respects_limits: frames stay within max_batch_events and
 *     max_frame_bytes; an event alone over the frame limit is MP_ERR_INVAL.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "eng_store.h"
#include "eng_table.h"
#include "ingest_decode.h"
#include "ingest_journal.h"
#include "ingest_worker.h"
#include "mailpulse.pb-c.h"
#include "mp_adapters_durable.h"
#include "mp_adapters_seen.h"
#include "unit_util.h"

static char dir[UNIT_PATH_MAX];

static void setup(void) { unit_tmpdir("adapters_durable", dir); }
static void teardown(void) { unit_tmpdir_remove(dir); }

struct world {
    struct eng_store *st;
    struct eng_table *t;
    struct ingest_journal *j;
    struct ingest_proc *p;
    struct mp_adur *d;
};

static void world_open(struct world *w, const char *legacy, int64_t now)
{
    w->st = unit_store_open(dir);
    struct eng_table_opts to = {.max_keys = 1024, .retention_ms = 35 * 86400000LL, .store = w->st};
    ck_assert_int_eq(eng_table_create(&to, mp_now_ms(), &w->t), MP_OK);
    struct ingest_journal_opts jo = {.table = w->t, .store = w->st, .parts = 1};
    char err[256] = "";
    ck_assert_msg(ingest_journal_open(&jo, &w->j, err, sizeof(err)) == MP_OK, "%s", err);
    struct ingest_limits lim = {.retention_ms = 35 * 86400000LL,
                                .future_ms = INGEST_FUTURE_MS_DEFAULT};
    ck_assert_int_eq(ingest_proc_create(w->t, &lim, &w->p), MP_OK);
    ck_assert_msg(mp_adur_open(w->j, legacy, now, &w->d, err, sizeof(err)) == MP_OK, "%s", err);
}

/* No flush: what is not in the journal's write is gone, as after SIGKILL. */
static void world_close(struct world *w)
{
    mp_adur_close(w->d);
    ingest_proc_destroy(w->p);
    ingest_journal_close(w->j);
    eng_table_destroy(w->t);
    eng_store_close(w->st);
}

static Mailpulse__V1__Event ev_at(const char *id, const char *domain)
{
    Mailpulse__V1__Event e = MAILPULSE__V1__EVENT__INIT;
    e.tenant = (char *)"acme";
    e.mailbox = (char *)"a@acme.example";
    e.recipient_domain = (char *)domain;
    e.type = MAILPULSE__V1__EVENT_TYPE__EVENT_TYPE_SENT;
    e.time_ms = mp_now_ms();
    e.event_id = (char *)id;
    return e;
}

struct replayed {
    size_t n, events;
    uint32_t client;
    char pid[64];
};

static int on_replay(void *arg, int64_t recv_ms, uint32_t client, const void *frame, size_t len)
{
    struct replayed *r = arg;
    (void)recv_ms;
    Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, len, frame);
    ck_assert_ptr_nonnull(b);
    r->n++;
    r->events += b->n_events;
    r->client = client;
    snprintf(r->pid, sizeof(r->pid), "%s", b->producer_id);
    mailpulse__v1__event_batch__free_unpacked(b, NULL);
    return MP_OK;
}

static void record(struct world *w, Mailpulse__V1__Event *const *ev, size_t n, const uint64_t *h,
                   const int64_t *until, size_t nh, int64_t now, uint32_t want_acc)
{
    struct mp_adur_frame *f = NULL;
    size_t nf = 0;
    struct ingest_limits lim = {0};
    ck_assert_int_eq(mp_adur_pack(ev, n, "adapter:x", &lim, &f, &nf), MP_OK);
    uint32_t acc = 0, rej = 0;
    ck_assert_int_eq(mp_adur_record(w->d, w->p, f, nf, h, until, nh, now, &acc, &rej), MP_OK);
    ck_assert_uint_eq(acc, want_acc);
    ck_assert_uint_eq(rej, 0);
    mp_adur_frames_free(f, nf);
}

START_TEST(record_survives_reopen)
{
    struct world w;
    int64_t now = mp_now_ms();
    world_open(&w, NULL, now);
    uint64_t seed = mp_adur_seed(w.d);
    Mailpulse__V1__Event e[2] = {ev_at("id-1", "gmail.com"), ev_at("id-2", "yahoo.com")};
    Mailpulse__V1__Event *ep[2] = {&e[0], &e[1]};
    uint64_t h[3] = {11, 22, 33};
    int64_t until[3] = {now + 3600000, now + 3600000, now + 600000};
    record(&w, ep, 2, h, until, 2, now, 2);
    record(&w, NULL, 0, h + 2, until + 2, 1, now, 0); /* a token alone */
    ck_assert(mp_adur_has(w.d, 11, now) && mp_adur_has(w.d, 33, now));
    struct mp_adur_figures fig;
    mp_adur_figures(w.d, &fig);
    ck_assert_uint_eq(fig.commits, 2);
    world_close(&w);

    world_open(&w, NULL, now + 1);
    ck_assert_uint_eq(mp_adur_seed(w.d), seed); /* ids hash alike after a restart */
    for (int i = 0; i < 3; i++)
        ck_assert_msg(mp_adur_has(w.d, h[i], now + 1), "entry %d lost", i);
    ck_assert(!mp_adur_has(w.d, 44, now + 1));
    mp_adur_figures(w.d, &fig);
    ck_assert_uint_eq(fig.rows_loaded, 3);
    struct replayed r = {0};
    ck_assert_int_eq(ingest_journal_replay(w.j, on_replay, &r), MP_OK);
    ck_assert_uint_eq(r.n, 1); /* the token-only record wrote no frame */
    ck_assert_uint_eq(r.events, 2);
    ck_assert_uint_eq(r.client, INGEST_JOURNAL_CLIENT_TRUSTED);
    ck_assert_str_eq(r.pid, "adapter:x");
    world_close(&w);
}
END_TEST

START_TEST(legacy_file_imported)
{
    char path[UNIT_PATH_MAX + 32], err[256] = "";
    snprintf(path, sizeof(path), "%s/adapters.seen", dir);
    int64_t now = mp_now_ms();
    struct mp_seen *old;
    ck_assert_int_eq(mp_seen_open(path, now, &old, err, sizeof(err)), MP_OK);
    uint64_t h[3] = {5, 6, 7};
    int64_t until[3] = {now + 60000, now + 60000, now + 1}; /* 7: past at the import */
    ck_assert_int_eq(mp_seen_add(old, h, until, 3, now), MP_OK);
    uint64_t seed = mp_seen_seed(old);
    mp_seen_close(old);

    struct world w;
    world_open(&w, path, now + 10);
    ck_assert_uint_eq(mp_adur_seed(w.d), seed);
    ck_assert(mp_adur_has(w.d, 5, now + 10) && mp_adur_has(w.d, 6, now + 10));
    ck_assert(!mp_adur_has(w.d, 7, now + 10));
    ck_assert_int_ne(access(path, F_OK), 0); /* removed once imported */
    world_close(&w);
    world_open(&w, path, now + 20);
    ck_assert_uint_eq(mp_adur_seed(w.d), seed);
    ck_assert(mp_adur_has(w.d, 5, now + 20) && mp_adur_has(w.d, 6, now + 20));
    world_close(&w);
}
END_TEST

static int count_row(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    (void)k, (void)kl, (void)v, (void)vl;
    (*(size_t *)arg)++;
    return MP_OK;
}

static size_t rows(struct eng_store *st)
{
    size_t n = 0;
    ck_assert_int_eq(eng_store_kv_scan(st, ENG_KV_JOURNAL, "ad", 2, count_row, &n), MP_OK);
    return n;
}

START_TEST(past_rows_expire)
{
    struct world w;
    int64_t now = mp_now_ms();
    world_open(&w, NULL, now);
    uint64_t h[2] = {1, 2};
    int64_t until[2] = {now + 100, now + 10 * MP_ADUR_EXPIRE_MS};
    record(&w, NULL, 0, h, until, 2, now, 0);
    ck_assert_uint_eq(rows(w.st), 2);
    uint64_t h3[3] = {4, 5, 6}; /* one until: one row */
    int64_t u3[3] = {until[1], until[1], until[1]};
    record(&w, NULL, 0, h3, u3, 3, now, 0);
    ck_assert_uint_eq(rows(w.st), 3);
    world_close(&w);
    world_open(&w, NULL, now + 200); /* 1 past: not loaded */
    ck_assert(!mp_adur_has(w.d, 1, now + 200) && mp_adur_has(w.d, 2, now + 200));
    ck_assert(mp_adur_has(w.d, 4, now + 200) && mp_adur_has(w.d, 6, now + 200));
    uint64_t h7 = 7;
    int64_t u7 = now + 10 * MP_ADUR_EXPIRE_MS;
    record(&w, NULL, 0, &h7, &u7, 1, now + 200 + MP_ADUR_EXPIRE_MS, 0);
    ck_assert_uint_eq(rows(w.st), 3); /* 1's row deleted, 7's added */
    world_close(&w);
}
END_TEST

START_TEST(pack_respects_limits)
{
    Mailpulse__V1__Event e[25];
    Mailpulse__V1__Event *ep[25];
    char ids[25][16];
    for (int i = 0; i < 25; i++) {
        snprintf(ids[i], sizeof(ids[i]), "id-%d", i);
        e[i] = ev_at(ids[i], "gmail.com");
        ep[i] = &e[i];
    }
    struct mp_adur_frame *f;
    size_t nf;
    struct ingest_limits lim = {.max_batch_events = 10};
    ck_assert_int_eq(mp_adur_pack(ep, 25, "adapter:x", &lim, &f, &nf), MP_OK);
    ck_assert_uint_eq(nf, 3);
    size_t total = 0;
    for (size_t i = 0; i < nf; i++) {
        Mailpulse__V1__EventBatch *b = mailpulse__v1__event_batch__unpack(NULL, f[i].len, f[i].wire);
        ck_assert_ptr_nonnull(b);
        ck_assert_uint_le(b->n_events, 10);
        total += b->n_events;
        mailpulse__v1__event_batch__free_unpacked(b, NULL);
    }
    ck_assert_uint_eq(total, 25);
    mp_adur_frames_free(f, nf);
    lim = (struct ingest_limits){.max_frame_bytes = 200};
    ck_assert_int_eq(mp_adur_pack(ep, 25, "adapter:x", &lim, &f, &nf), MP_OK);
    ck_assert_uint_gt(nf, 3);
    for (size_t i = 0; i < nf; i++)
        ck_assert_uint_le(f[i].len, 200);
    mp_adur_frames_free(f, nf);
    lim.max_frame_bytes = 40; /* under one event */
    ck_assert_int_eq(mp_adur_pack(ep, 25, "adapter:x", &lim, &f, &nf), MP_ERR_INVAL);
    ck_assert_ptr_null(f);
}
END_TEST

CHECK_SUITE("mp_adapters_durable", 60, setup, teardown, record_survives_reopen,
            legacy_file_imported, past_rows_expire, pack_respects_limits)
