/* eng_table_history.h — one key's counts per bucket over the whole
 * retention, for the series API (cmd/daemon/mp_series.h).
 *
 * Where the counts come from (see eng_table.h for the rings):
 *   - ENG_RES_FINE (5 min): memory only. The store keeps that resolution
 *     just for restarts and drops it once its ring lets go, so it reaches
 *     back ENG_FINE_BACK buckets (65 minutes) and no further;
 *   - ENG_RES_HOUR (1 h): the hour ring for the ENG_HOUR_BACK hours it
 *     holds, the store (one point read per hour) for older hours down to
 *     eng_table_opts.hour_retention_ms (without a store, or with a
 *     shorter one: the ring only);
 *   - ENG_RES_DAY: the daily ring for the days it holds (the last
 *     STORE_DAY_BACK days with a store, the whole retention without one),
 *     the store (RocksDB point reads, one per day) for the older days of
 *     the retention. Backfilled events for such days reach the store with
 *     the next flush (eng_table_flush: storage.flush_interval), and are
 *     counted from then on.
 * A key that is not in memory (never loaded after a restart because its
 * recent days were empty) is read from the store through the ids of its
 * names; a cold key is warmed first (eng_table_key_warm).
 *
 * Threads: any thread, while ingest writes (the readers' rules of
 * eng_table.h: the memory part shows whole frames only, after a few
 * unstable tries what was read). Pure reads otherwise; no state.
 */
#ifndef ENG_TABLE_HISTORY_H
#define ENG_TABLE_HISTORY_H

#include <stdint.h>

#include "eng_table.h"

/* Most buckets one read covers (more: MP_ERR_INVAL). */
#define ENG_HISTORY_MAX_BUCKETS 4096

/* The buckets of `res` a read may ask for now: [*lo, *hi] as bucket
 * indexes (time_ms / width, floored): the held range of the fine and hour
 * rings; for days, today - ceil(retention) .. tomorrow. MP_OK, MP_ERR_INVAL
 * (bad res) or MP_ERR_AGAIN (a ring is being reset: the clock jumped). */
int eng_history_span(const struct eng_table *t, int res, int64_t *lo, int64_t *hi);

/* The counts of the key (scope, tenant, name; name ignored for tenant
 * scope) in buckets lo..hi of `res`, for the types in mask `types` (bit
 * `type`, as eng_key_sum_types): out[(b - lo) * ENG_NTYPES + type - 1];
 * the other types read 0. out holds (hi - lo + 1) * ENG_NTYPES counts.
 * MP_OK; MP_ERR_NOTFOUND when neither memory nor the stored names know the
 * key; MP_ERR_INVAL for a range outside eng_history_span() or longer than
 * ENG_HISTORY_MAX_BUCKETS; MP_ERR_AGAIN as eng_history_span(); MP_ERR_IO
 * (a store read failed). */
int eng_history_read(struct eng_table *t, int scope, const char *tenant, const char *name,
                     int res, int64_t lo, int64_t hi, unsigned types, uint64_t *out);

#endif
