/* eng_testkit.h — shared helpers of the engine suites (tests/test_eng_*.c).
 *
 * Contract: helpers that fail the running Check test on any error (they
 * ck_assert inside), so a suite reads as what it checks. A table made here
 * keeps 35 days (the daemon's default retention); temp directories and
 * stores come from unit_util.h (unit_tmpdir, unit_store_open). A tk_writer is one writer thread's registration and frame
 * (register, frame, online; then unregister and free). One thread per
 * writer; everything else is per test.
 */
#ifndef ENG_TESTKIT_H
#define ENG_TESTKIT_H

#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"
#include "eng_table.h"
#include "unit_util.h"

/* A fixed clock: 2026-11-22 12:02:00 UTC, mid-day and mid-bucket. */
#define TK_T0 (1795348800000LL + 2 * 60 * 1000)
#define TK_MIN (60 * 1000LL)
#define TK_HOUR (60 * TK_MIN)
#define TK_DAY (24 * TK_HOUR)

/* A table of max_keys keys whose clock starts at now; s may be NULL; idle
 * is evict_idle_ms (0: never). Its events count in the first three scopes
 * (ENG_SCOPES_CLASSIC), which the suites' key counts are written for;
 * tk_table_scopes() takes the scopes (0: all six). */
struct eng_table *tk_table(uint32_t max_keys, int64_t now, struct eng_store *s, int64_t idle);
struct eng_table *tk_table_scopes(uint32_t max_keys, int64_t now, struct eng_store *s,
                                  int64_t idle, unsigned scopes);
/* Destroys *t and closes *s, then reopens both (the table at now with
 * max_keys and idle as tk_table): a restart. */
void tk_restart(const char *dir, struct eng_store **s, struct eng_table **t, uint32_t max_keys,
                int64_t now, int64_t idle);

/* The fixture of the suites on a store: tk_open() makes a temp dir named
 * after tag, a store in it and a 4,096-key table over it whose clock
 * starts at TK_T0; tk_close() destroys the table and closes the store (both
 * set to NULL) and removes the dir. */
void tk_open(const char *tag, char dir[UNIT_PATH_MAX], struct eng_store **s,
             struct eng_table **t);
void tk_close(const char *dir, struct eng_store **s, struct eng_table **t);

/* One event as its own frame: eng_table_record()'s return. */
int tk_rec(struct eng_table *t, const char *tenant, const char *mb, const char *dom, int type,
           int64_t time_ms);
/* Count of `type` for a key (0 when the key does not exist): over the named
 * window `win`, over the last nb fine buckets, over nd days `back` days ago. */
uint64_t tk_win(struct eng_table *t, int scope, const char *tenant, const char *name, int win,
                int type);
uint64_t tk_fine(struct eng_table *t, int scope, const char *tenant, const char *name, int nb,
                 int type);
uint64_t tk_days(struct eng_table *t, int scope, const char *tenant, const char *name, int back,
                 int nd, int type);

/* A writer thread's argument in the concurrency cases: table and number. */
struct tk_worker {
    struct eng_table *t;
    int id;
};

struct tk_writer {
    struct eng_table *t;
    struct eng_thread *th;
    struct eng_frame *f;
};
/* Registers, makes a frame and goes online. */
void tk_writer_begin(struct tk_writer *w, struct eng_table *t);
/* Ends the frame and passes a quiescent point (between batches). */
void tk_writer_batch(struct tk_writer *w);
/* Ends the frame, frees it and unregisters (going offline). */
void tk_writer_end(struct tk_writer *w);
/* A concurrency case's writer thread: records n events into w->t (each
 * must be MP_OK), a batch every `batch` events; ev_of(w, i, mb, ev) makes
 * the i-th, its mailbox name written into mb (TK_MB_MAX bytes). */
#define TK_MB_MAX 32
void tk_write_events(const struct tk_worker *w, int n, int batch,
                     void (*ev_of)(const struct tk_worker *w, int i, char *mb,
                                   struct eng_event *ev));

#endif
