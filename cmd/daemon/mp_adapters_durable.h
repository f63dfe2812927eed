/* mp_adapters_durable.h — the adapters' record path: a webhook's events
 * and its dedup ids made durable in ONE synced write of the acked path's
 * journal (ingest/ingest_journal.h) before the 2xx.
 *
 * Contract
 *   - mp_adur_record() takes a request's new events as packed EventBatch
 *     frames (producer_id "adapter:<name>", sequence 0: an adapter's
 *     dedup is by the service's ids, not by sequence) and the dedup
 *     entries (keyed hashes, mp_adapters_seen.h, with their until). Under
 *     the journal's shared lock it commits the frames AND the entries in
 *     one synced RocksDB write (ingest_journal_commit_with), then applies
 *     the frames to the engine table and then adds the entries to the
 *     memory set, as the acked path does. MP_OK: durable and applied
 *     (*acc, *rej as ingest_proc_frame counts them); MP_ERR_FULL: the
 *     dedup set is at MP_SEEN_MAX; MP_ERR_IO / MP_ERR_NOMEM: the commit
 *     failed, nothing written, nothing applied (the caller answers 503).
 *   - Recovery needs nothing of its own: a commit's frames are journal
 *     entries, replayed by ingest_start() when no counter flush covered
 *     them (exactly once, by the watermark), and its entries are rows the
 *     next mp_adur_open() loads. Crash windows: before the commit, neither
 *     the counts nor the ids exist (no 2xx went out; the service retries
 *     and is counted once); after it, both do (a retry, answered 2xx or
 *     not, is a duplicate, and the replay or the flush holds the counts).
 *     Neither can exist without the other, which two files (the old
 *     adapters.seen synced beside the engine's memory) could not promise.
 *   - Rows (ENG_KV_JOURNAL, under "a", which the journal leaves alone):
 *     "ad" + big-endian until (8) + big-endian first hash (8) -> the
 *     big-endian hashes (8 each) that share that until (one row for a
 *     request's ids, one for its Mailgun token: a row per id made the
 *     memtable inserts the adapters' largest cost), and "as" -> the
 *     big-endian hash seed (8, written once). Keyed by until so that
 *     expiry is one range delete (of the rows past, at most once a
 *     minute, in a commit's write). mp_adur_open() loads the live rows;
 *     on the first start after an upgrade it imports legacy_path (the old
 *     data_dir/adapters.seen: its seed and entries, in one synced write)
 *     and then removes the file.
 *   - journal NULL (embedders, unit tests without a store): memory only,
 *     applied at once, nothing durable.
 *
 * Threads: not thread-safe; the caller serialises every call (mp_adapters'
 * mutex, also the engine writer registration of `proc`). The journal lock
 * is taken inside; lock order: the caller's lock, then the journal's.
 * Ownership: the journal and proc are borrowed; mp_adur_close() frees the
 * rest.
 */
#ifndef MP_ADAPTERS_DURABLE_H
#define MP_ADAPTERS_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ingest_journal.h"
#include "ingest_worker.h"
#include "mp.h"

#define MP_ADUR_EXPIRE_MS 60000 /* at most one range delete of past rows a minute */

struct mp_adur;

struct mp_adur_frame {
    const void *wire;
    size_t len;
};

struct mp_adur_figures {
    uint64_t commits, commit_failures, rows_loaded;
};

int mp_adur_open(struct ingest_journal *j, const char *legacy_path, int64_t now,
                 struct mp_adur **out, char *err, size_t errlen);
void mp_adur_close(struct mp_adur *d);
uint64_t mp_adur_seed(const struct mp_adur *d);
int mp_adur_has(const struct mp_adur *d, uint64_t h, int64_t now);
int mp_adur_record(struct mp_adur *d, struct ingest_proc *proc, const struct mp_adur_frame *f,
                   size_t nf, const uint64_t *h, const int64_t *until, size_t nh, int64_t now,
                   uint32_t *acc, uint32_t *rej);
void mp_adur_figures(const struct mp_adur *d, struct mp_adur_figures *out);

/* Packs events into frames of producer_id `pid` that the replay's limits
 * take (at most lim->max_batch_events events and max_frame_bytes bytes
 * each; 0: the defaults), so a journaled batch is never refused on replay.
 * MP_OK with *f (free with mp_adur_frames_free), MP_ERR_INVAL when one
 * event alone is over max_frame_bytes, MP_ERR_NOMEM. */
int mp_adur_pack(Mailpulse__V1__Event *const *ev, size_t n, const char *pid,
                 const struct ingest_limits *lim, struct mp_adur_frame **f, size_t *nf);
void mp_adur_frames_free(struct mp_adur_frame *f, size_t nf);

/* A row's key, for the tests. k needs MP_ADUR_ROW_KEY bytes. */
#define MP_ADUR_ROW_KEY 18
void mp_adur_row_key(uint64_t h, int64_t until, char k[MP_ADUR_ROW_KEY]);

#endif
