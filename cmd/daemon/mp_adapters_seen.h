/* mp_adapters_seen.h — the adapters' dedup set: which service event ids
 * (and Mailgun signature tokens) were recorded, until when.
 *
 * The daemon keeps it in memory only (path NULL) and makes it durable as
 * rows in the journal's write (mp_adapters_durable.h), through
 * mp_seen_reserve/put/reseed/each; the file form below is what older
 * versions kept in data_dir/adapters.seen, read once to import it.
 *
 * Contract: entries are keyed 64-bit hashes (the caller hashes adapter
 * name and id under mp_seen_seed(), which is kept in the file, so a
 * restart hashes alike) with the time (ms) they may be forgotten.
 * mp_seen_open() loads `path` (created when absent; entries already past
 * `now` dropped; a torn last record, from a crash mid-append, ignored).
 * mp_seen_add() appends the entries to the file and fdatasync()s it before
 * returning MP_OK, so an id answered 2xx is still known after a crash; the
 * file is rewritten (temp file, fsync, rename) when it holds four times
 * the live entries. MP_ERR_FULL past MP_SEEN_MAX live entries, MP_ERR_IO
 * when the file cannot be written (err-less: the caller answers 503).
 * path NULL: memory only.
 *
 * Threads: not thread-safe; the caller holds its lock around every call.
 * Ownership: the set owns its memory and descriptor; mp_seen_close() frees.
 */
#ifndef MP_ADAPTERS_SEEN_H
#define MP_ADAPTERS_SEEN_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

#define MP_SEEN_MAX (1u << 22)

struct mp_seen;

int mp_seen_open(const char *path, int64_t now, struct mp_seen **out, char *err, size_t errlen);
void mp_seen_close(struct mp_seen *s);
uint64_t mp_seen_seed(const struct mp_seen *s);
int mp_seen_has(const struct mp_seen *s, uint64_t h, int64_t now);
int mp_seen_add(struct mp_seen *s, const uint64_t *h, const int64_t *until, size_t n, int64_t now);
size_t mp_seen_count(const struct mp_seen *s);

/* For a set kept elsewhere (mp_adapters_durable.h: rows in the journal's
 * write), on a memory-only set: mp_seen_reserve() makes room for n more
 * entries (MP_ERR_FULL past MP_SEEN_MAX, MP_ERR_NOMEM) so that the
 * mp_seen_put() after the durable write cannot fail; mp_seen_reseed()
 * takes the stored seed (on an empty set); mp_seen_each() calls fn for
 * every entry alive at now (a non-zero return stops it and is returned). */
int mp_seen_reserve(struct mp_seen *s, size_t n, int64_t now);
void mp_seen_put(struct mp_seen *s, const uint64_t *h, const int64_t *until, size_t n);
void mp_seen_reseed(struct mp_seen *s, uint64_t seed);
int mp_seen_each(const struct mp_seen *s, int64_t now,
                 int (*fn)(void *arg, uint64_t h, int64_t until), void *arg);

#endif
