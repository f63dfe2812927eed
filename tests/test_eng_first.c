/* test_eng_first.c — Check suite for each key's first-seen day
 * (engine/eng_table_first.c; eng_key_first_day, eng_key_age_days).
 *
 *   day_set_lowered_never_raised
 *       the first event sets it, a backdated one lowers it (also one older
 *       than every ring, which goes to the store alone), a later one never
 *       raises it; the age counts whole UTC days.
 *   kept_across_eviction_and_restart
 *       a cold key keeps it; after a restart it comes back, also for a key
 *       with nothing left in the rings (its header is made from the record).
 *   unflushed_day_is_not_stored
 *       a day that fell after the last flush is not in the store yet: the
 *       flush is what writes it, in the same commit as the counters.
 *   writers_lower_while_flushing
 *       four writer threads lower the days of 200 shared mailboxes with
 *       backdated events while the main thread flushes; after a restart
 *       every mailbox holds exactly the earliest day any writer sent it
 *       (run under ThreadSanitizer by the sanitizer passes).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "eng_testkit.h"
#include "mp_atomic.h"

static char dir[UNIT_PATH_MAX];
static struct eng_store *s;
static struct eng_table *t;

static void setup(void) { tk_open("eng_first", dir, &s, &t); }
static void teardown(void) { tk_close(dir, &s, &t); }

static const int64_t DAY0 = TK_T0 / TK_DAY; /* today, as a UTC day number */

static struct eng_key *key(int scope, const char *tenant, const char *name)
{
    struct eng_key *k = NULL;
    ck_assert_int_eq(eng_table_find(t, scope, tenant, name, &k), MP_OK);
    return k;
}

static int64_t first_of(int scope, const char *tenant, const char *name)
{
    return eng_key_first_day(key(scope, tenant, name));
}

START_TEST(day_set_lowered_never_raised)
{
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0), MP_OK);
    struct eng_key *mb = key(ENG_SCOPE_MAILBOX, "acme", "a@acme.io");
    ck_assert_int_eq(eng_key_first_day(mb), DAY0);
    ck_assert_int_eq(eng_key_age_days(t, mb), 0);
    /* three days back: every scope of the event falls to it */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "yahoo.com", ENG_SENT, TK_T0 - 3 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(eng_key_first_day(mb), DAY0 - 3);
    ck_assert_int_eq(eng_key_age_days(t, mb), 3);
    ck_assert_int_eq(first_of(ENG_SCOPE_TENANT, "acme", NULL), DAY0 - 3);
    ck_assert_int_eq(first_of(ENG_SCOPE_DOMAIN, "acme", "yahoo.com"), DAY0 - 3);
    ck_assert_int_eq(first_of(ENG_SCOPE_DOMAIN, "acme", "gmail.com"), DAY0);
    /* 20 days back, older than the daily ring: the store alone takes the
     * counts, the keys still take the day */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0 - 20 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(eng_key_first_day(mb), DAY0 - 20);
    ck_assert_int_eq(first_of(ENG_SCOPE_DOMAIN, "acme", "gmail.com"), DAY0 - 20);
    /* later events never raise it */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0), MP_OK);
    ck_assert_int_eq(eng_key_first_day(mb), DAY0 - 20);
    /* the clock moves on: the age with it */
    eng_table_tick(t, TK_T0 + 2 * TK_DAY);
    ck_assert_int_eq(eng_key_age_days(t, mb), 22);
}
END_TEST

START_TEST(kept_across_eviction_and_restart)
{
    eng_table_destroy(t);
    t = tk_table(4096, TK_T0, s, TK_HOUR); /* idle after an hour: evicted */
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0 - 5 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "b@acme.io", "gmail.com", ENG_SENT, TK_T0 - 30 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    ck_assert_uint_gt(eng_table_evict(t, TK_T0 + 2 * TK_HOUR), 0);
    uint64_t cold, ev, loads;
    eng_table_residency(t, &cold, &ev, &loads);
    ck_assert_uint_gt(cold, 0);
    ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", "a@acme.io"), DAY0 - 5);
    tk_restart(dir, &s, &t, 4096, TK_T0, 0);
    ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", "a@acme.io"), DAY0 - 5);
    /* b's only event is 30 days old, in no ring: its key is back for its day */
    ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", "b@acme.io"), DAY0 - 30);
    ck_assert_int_eq(first_of(ENG_SCOPE_TENANT, "acme", NULL), DAY0 - 30);
    ck_assert_uint_eq(tk_win(t, ENG_SCOPE_MAILBOX, "acme", "b@acme.io", ENG_WIN_7D, ENG_SENT), 0);
    ck_assert_uint_eq(tk_days(t, ENG_SCOPE_MAILBOX, "acme", "a@acme.io", 5, 1, ENG_SENT), 1);
}
END_TEST

START_TEST(unflushed_day_is_not_stored)
{
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0 - 2 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    ck_assert_int_eq(tk_rec(t, "acme", "a@acme.io", "gmail.com", ENG_SENT, TK_T0 - 4 * TK_DAY),
                     MP_OK);
    ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", "a@acme.io"), DAY0 - 4);
    tk_restart(dir, &s, &t, 4096, TK_T0, 0); /* as if killed: no final flush */
    ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", "a@acme.io"), DAY0 - 2);
}
END_TEST

/* ---- concurrency ------------------------------------------------------------ */

#define WRITERS 4
#define MAILBOXES 200
#define PER 20000

/* The day writer w sends mailbox m in its i-th event: 0..11 days back,
 * mixed so that every mailbox's earliest day comes late in some writer's
 * run (lowering races with the flushes). */
static int back_of(int w, int i) { return (i * 7 + w * 3 + (i / MAILBOXES) * 5) % 12; }

static void day_event(const struct tk_worker *w, int i, char *mb, struct eng_event *ev)
{
    snprintf(mb, TK_MB_MAX, "u%d@a.io", i % MAILBOXES);
    *ev = (struct eng_event){"acme", 4, mb, strlen(mb), "gmail.com", 9, ENG_SENT,
                             TK_T0 - back_of(w->id, i) * TK_DAY, NULL, 0};
}

static void *writer(void *arg)
{
    tk_write_events(arg, PER, 64, day_event);
    return NULL;
}

START_TEST(writers_lower_while_flushing)
{
    pthread_t th[WRITERS];
    struct tk_worker w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        w[i] = (struct tk_worker){t, i};
        ck_assert_int_eq(pthread_create(&th[i], NULL, writer, &w[i]), 0);
    }
    for (int i = 0; i < 40; i++) {
        ck_assert_int_eq(eng_table_flush(t, 0, NULL), MP_OK);
        usleep(1000);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(eng_table_flush(t, 1, NULL), MP_OK);
    tk_restart(dir, &s, &t, 4096, TK_T0, 0);
    for (int m = 0; m < MAILBOXES; m++) {
        int most = 0;
        for (int wi = 0; wi < WRITERS; wi++)
            for (int i = m; i < PER; i += MAILBOXES)
                if (back_of(wi, i) > most)
                    most = back_of(wi, i);
        char mb[32];
        snprintf(mb, sizeof(mb), "u%d@a.io", m);
        ck_assert_int_eq(first_of(ENG_SCOPE_MAILBOX, "acme", mb), DAY0 - most);
    }
    ck_assert_int_eq(first_of(ENG_SCOPE_TENANT, "acme", NULL), DAY0 - 11);
}
END_TEST

CHECK_SUITE("eng_first", 120, setup, teardown, day_set_lowered_never_raised,
            kept_across_eviction_and_restart, unflushed_day_is_not_stored,
            writers_lower_while_flushing)
