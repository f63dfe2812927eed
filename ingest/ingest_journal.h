/* ingest_journal.h — the acked path's durability: a journal of acked
 * batches in the counters store, covered by the counter flush.
 *
 * Contract
 *   - ingest_journal_open() reads the watermark W (the highest journal id
 *     whose effects a counter flush has stored), the journal's highest id
 *     and the producer tables (ENG_KV_PRODUCERS, split into `parts` tables
 *     by ingest_producers_part), and installs the table's flush hook
 *     (eng_table_set_flush_hook). Call it after the table is created and
 *     before ingest starts; ingest_journal_replay() then applies every
 *     entry > W in id order with its stored receive time (and raises the
 *     producers' sequences to what those entries carry).
 *   - A writer takes the shared lock (ingest_journal_lock) before it reads
 *     or changes a producer table (the cut changes them too) and holds it
 *     from its commit through applying the committed batches to the
 *     in-memory counters, or uses a ticket (Tickets, below: the acked
 *     workers); ingest_journal_commit() writes one group
 *     (frames, receive times; producer sequences with one store) in ONE
 *     synced write.
 *   - The hook's begin() takes the lock exclusively, puts W (the highest id
 *     allocated: every one of them is committed and applied, or failed) and
 *     a range delete of the entries <= W into the flush batch, plus every
 *     producer entry changed since the last flush and the deletion of those
 *     idle past producer_ttl_ms; end() unlocks; done() records the result
 *     (without the lock). The table calls end() once the cut is fixed and
 *     reads the counters after it, copy-on-write (eng_table.h, the flush
 *     hook): a writer that resumes copies a key as of the cut before it
 *     changes it. A flush thus stores exactly the effects of the entries
 *     <= W, and writers wait only for the short exclusive section.
 *   - ingest_journal_close() removes the hook: after the last flush.
 *
 * Layout (ENG_KV_JOURNAL): "w" -> big-endian W (8), then big-endian
 * (lo, hi) pairs (8 + 8 each, at most INGEST_JOURNAL_TICKETS): ids
 * lo <= id < hi at or below W that the counters do not cover (tickets
 * below); "j" + big-endian id (8) -> big-endian receive
 * time in Unix ms (8) + big-endian Curve client index (4; UINT32_MAX: none,
 * INGEST_CURVE_NO_CLIENT) + the frame. The client is
 * an index into ingest.curve.clients as configured when the batch was
 * acked: a restart that reorders or removes clients replays it against the
 * new list. INGEST_JOURNAL_CLIENT_TRUSTED marks a batch an in-process
 * writer took (the HTTP adapters, cmd/daemon/mp_adapters_durable.h): it
 * checked the batch's tenants itself, so the replay applies it without the
 * Curve tenant check. Rows under "a" belong to the adapters' dedup set
 * (mp_adapters_durable.h: its layout); the journal never reads or deletes
 * them, and ingest_journal_commit_with() lets them join a commit.
 *
 * Stores: with journal_store set, the entries live there and W and the
 * producer tables stay with the counters (`store`). Then begin() puts no
 * range delete: done(), after a successful flush, syncs the counters' WAL
 * and then deletes the entries <= W from the journal's store (unsynced:
 * a later synced commit carries it; a lost delete only leaves entries a
 * replay skips). A commit then writes the frames alone (a batch's sequence
 * is in its frame; the producer table reaches the counters' store with
 * the flush that covers the batch). Open moves entries and rows found in
 * `store` (a data directory from before) into journal_store first.
 *   Why (bench/RESULTS.md): with unordered_write, a write that finds its
 * memtable full waits for every memtable insert in flight (RocksDB's
 * WaitForPendingWrites), and the counter flush's insert takes up to a
 * second: acks sat behind it. A store of its own has its own memtables.
 *
 * Threads: commit and the lock from the workers; the hook from the flush
 * thread; open, replay, close from the starting thread. Figures any thread.
 * Returns MP_OK, MP_ERR_IO (the store; err/log says what), MP_ERR_NOMEM,
 * MP_ERR_PARSE (a stored entry that does not decode).
 */
#ifndef INGEST_JOURNAL_H
#define INGEST_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"
#include "eng_table.h"
#include "ingest_curve.h"
#include "ingest_producers.h"
#include "mp.h"

#define INGEST_PRODUCER_TTL_DEFAULT_MS (7 * 24 * 3600 * 1000LL)

#define INGEST_JOURNAL_CLIENT_TRUSTED (UINT32_MAX - 1) /* see Layout */

struct ingest_journal;

struct ingest_journal_opts {
    struct eng_table *table;
    struct eng_store *store; /* the table's store: W and the producer tables */
    /* The entries' (and the adapters' rows') store; NULL: `store`. The
     * daemon gives them one of their own (data_dir/journal), so a synced
     * commit never waits for the counters' memtable: see Stores above. */
    struct eng_store *journal_store;
    int parts;               /* producer tables: one per ingest worker */
    int64_t producer_ttl_ms; /* 0: the default */
};

/* One batch of a group. */
struct ingest_journal_rec {
    const void *frame;
    size_t len;
    int64_t recv_ms;
    const char *pid; /* NULL or empty: no producer entry */
    size_t pid_len;
    uint64_t seq; /* 0: none */
    uint32_t client; /* the Curve client (INGEST_CURVE_NO_CLIENT without Curve) */
};

struct ingest_journal_figures {
    uint64_t commits, commit_failures, batches, group_max, replayed, watermark;
};

int ingest_journal_open(const struct ingest_journal_opts *o, struct ingest_journal **out,
                        char *err, size_t errlen);
void ingest_journal_close(struct ingest_journal *j);
int ingest_journal_replay(struct ingest_journal *j,
                          int (*fn)(void *arg, int64_t recv_ms, uint32_t client,
                                    const void *frame, size_t len),
                          void *arg);
struct ingest_producers *ingest_journal_producers(struct ingest_journal *j, int part);
int ingest_journal_parts(const struct ingest_journal *j);
void ingest_journal_lock(struct ingest_journal *j);
void ingest_journal_unlock(struct ingest_journal *j);
/* Under the shared lock. MP_OK (durable) or MP_ERR_IO / MP_ERR_NOMEM
 * (nothing written). */
int ingest_journal_commit(struct ingest_journal *j, const struct ingest_journal_rec *r, size_t n);
/* The same, with extra(arg, batch) adding its own rows to the same synced
 * write (extra NULL: none), so they are durable exactly when the batches
 * are; extra returning other than MP_OK fails the commit with its code
 * (nothing written). n may be 0 (only the extra rows). */
int ingest_journal_commit_with(struct ingest_journal *j, const struct ingest_journal_rec *r,
                               size_t n, int (*extra)(void *arg, struct eng_store_batch *b),
                               void *arg);
/* Tickets: the acked workers' way, so a flush's cut never waits for a
 * commit's fsync or a group's apply (bench/RESULTS.md, section 7: the cut's
 * wait behind a worker was the ack p99).
 *   take (under the shared lock, held a moment: the decisions that read
 *     the producer tables, then take, then unlock) reserves ids for n
 *     batches; MP_ERR_FULL when INGEST_JOURNAL_TICKETS
 *     are out (more writers than tickets).
 *   write (no lock) writes them in one synced write, as commit.
 *   applied (under the shared lock, right after applying the ticket's next
 *     batch) counts it; release (under the shared lock) ends the ticket,
 *     after the last batch or when the write failed.
 * A cut between take and release records W and, as uncovered ranges in
 * the "w" value, the ticket's ids not yet applied: a replay applies those,
 * the collection keeps them, so the counters still cover exactly the ids
 * <= W outside the ranges. */
#define INGEST_JOURNAL_TICKETS 256 /* at least config's ingest.workers maximum */
int ingest_journal_take(struct ingest_journal *j, size_t n, int *ticket);
int ingest_journal_write(struct ingest_journal *j, int ticket, const struct ingest_journal_rec *r,
                         size_t n);
void ingest_journal_applied(struct ingest_journal *j, int ticket);
void ingest_journal_release(struct ingest_journal *j, int ticket);
/* The entries' store (journal_store, or store): where commit_with's extra
 * rows go and are read back. */
struct eng_store *ingest_journal_store(const struct ingest_journal *j);
void ingest_journal_figures(const struct ingest_journal *j, struct ingest_journal_figures *out);

/* Keys, for the tests. k needs 9 bytes. */
void ingest_journal_key(uint64_t id, char k[9]);

#endif
