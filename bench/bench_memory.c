/* bench_memory — resident memory per active key, default windows.
 *
 * Creates a table as the daemon does: a RocksDB store opened in a temporary
 * directory (the daemon always has one, under data_dir/db), default
 * retention 35 d, so each counter series holds 16 five-minute, 28 hourly and
 * 16 daily buckets in memory (older days live in the store); max_keys
 * 1,048,576, the daemon's default, or more when --keys needs it. With
 * --no-store the table is memory-only and its daily ring covers the whole
 * retention (38 buckets).
 * then records events so that N distinct keys exist, using the key model of
 * bench_common.h: N / 85 tenants, each with 25 mailboxes and 25 recipient
 * domains; mailbox j and domain j of a tenant receive the same events, so
 * both keys (and the mailbox_provider key of mailbox j at domain j's
 * provider) carry the same types, and the tenant key carries the union;
 * each tenant also has 5 provider keys and 4 campaign keys (mailbox j's
 * events carry campaign j % 4), which carry the unions of theirs. With
 * --scopes 3 only the first three scopes count (N / 51 tenants), as before
 * issue 12.
 *
 * Type mix per mailbox/domain key (--mix realistic, the default), each drawn
 * independently per key from a fixed seed:
 *   sent 100%, delivered 95%, open 50%, click 20%, deferred 10%,
 *   bounce_soft 10%, bounce_hard 5%, complaint 2%, unsubscribe 2%
 *   (about 3 types per key; tenant keys see about 7).
 * --mix all: every key sees all 12 types (the worst case).
 *
 * RSS comes from /proc/self/statm just after eng_table_create() and after
 * the last event; the difference over the key count is what a key costs in
 * this process (hash slots, id index, names, key struct, series). Also
 * printed: eng_table_bytes()/nkeys (the table's own accounting, which counts
 * its preallocated slot arrays whole) and eng_table_nseries(). Then one
 * eng_table_flush() (the daemon flushes every second) and the RSS after it
 * (RocksDB's memtables and caches come on top of the table) and the store's
 * size on disk, per key.
 *
 * Prints:  bench_memory keys=… mix=… rss_bytes_per_key=… …
 */

#include "bench_common.h"
#include "eng_store.h"
#include "eng_table.h"

static double dir_bytes(const char *dir)
{
    char cmd[256], out[64] = "";
    snprintf(cmd, sizeof(cmd), "du -sb '%s' 2>/dev/null", dir);
    FILE *p = popen(cmd, "r");
    if (p) {
        if (!fgets(out, sizeof(out), p))
            out[0] = '\0';
        pclose(p);
    }
    return out[0] ? atof(out) : -1;
}

/* Per-key probability (per mille) of seeing each type in the realistic mix. */
static const int mix_realistic[ENG_NTYPES + 1] = {
    [ENG_SENT] = 1000,       [ENG_DELIVERED] = 950, [ENG_OPEN] = 500,
    [ENG_CLICK] = 200,       [ENG_DEFERRED] = 100,  [ENG_BOUNCE_SOFT] = 100,
    [ENG_BOUNCE_HARD] = 50,  [ENG_COMPLAINT] = 20,  [ENG_UNSUBSCRIBE] = 20,
};

int main(int argc, char **argv)
{
    uint64_t want_keys = 1000000;
    uint32_t max_keys = 0;
    int all = 0, use_store = 1, no_store = 0, nscopes = 6;
    const char *mix = "realistic";
    const struct bench_opt opts[] = {
        {"keys", 'k', BENCH_OPT_U64, &want_keys},
        {"no-store", 0, BENCH_OPT_FLAG, &no_store},
        {"mix", 'm', BENCH_OPT_STR, &mix},
        {"max-keys", 'M', BENCH_OPT_U32, &max_keys},
        {"scopes", 0, BENCH_OPT_INT, &nscopes},
    };
    int ex = bench_opts(argc, argv, opts, MP_ARRAY_LEN(opts),
                        "usage: bench_memory [--keys N] [--mix realistic|all] [--max-keys M] "
                        "[--no-store] [--scopes 3|6]\n");
    if (ex >= 0)
        return ex;
    use_store = !no_store;
    if (strcmp(mix, "all") == 0)
        all = 1;
    else if (strcmp(mix, "realistic") != 0) {
        fprintf(stderr, "bench_memory: --mix realistic|all\n");
        return 2;
    }
    uint32_t per_tenant = nscopes == 3 ? BENCH_KEYS_PER_TENANT : BENCH_KEYS_PER_TENANT6;
    uint32_t tenants = (uint32_t)((want_keys + per_tenant - 1) / per_tenant);
    if (tenants < 1 || want_keys > 100000000 || (nscopes != 3 && nscopes != 6)) {
        fprintf(stderr, "bench_memory: --keys 1..100000000, --scopes 3|6\n");
        return 2;
    }
    uint64_t nkeys_model = (uint64_t)tenants * per_tenant;
    if (max_keys == 0)
        max_keys = nkeys_model > 1048576 ? (uint32_t)nkeys_model : 1048576;
    if (max_keys < nkeys_model) {
        fprintf(stderr, "bench_memory: --max-keys must be >= %llu\n",
                (unsigned long long)nkeys_model);
        return 2;
    }

    int64_t now = mp_now_ms();
    long rss_start = (long)mp_rss_bytes();
    char dir[E2E_PATH_MAX] = "", err[E2E_ERR_MAX] = "";
    struct eng_store *store = NULL;
    if (use_store &&
        (e2e_tmpdir_create("bench-mem", dir, sizeof(dir), err, sizeof(err)) != MP_OK ||
         eng_store_open(dir, &store, err, sizeof(err)) != MP_OK)) {
        fprintf(stderr, "bench_memory: cannot open a store in %s: %s\n", dir, err);
        return 1;
    }
    struct eng_table *t;
    struct eng_table_opts to = {.max_keys = max_keys, .retention_ms = 35 * ENG_DAY_MS,
                                .store = store,
                                .scopes = nscopes == 3 ? ENG_SCOPES_CLASSIC : 0};
    struct eng_thread *th;
    struct eng_frame *fr;
    if (eng_table_create(&to, now, &t) != MP_OK || eng_thread_register(t, &th) != MP_OK ||
        eng_frame_create(&fr) != MP_OK) {
        fprintf(stderr, "bench_memory: cannot create the table\n");
        return 1;
    }
    long rss0 = (long)mp_rss_bytes();
    size_t bytes0 = eng_table_bytes(t);
    eng_thread_online(th);
    struct bench_rng r = {7};
    char tn[BENCH_NAME_MAX], mb[BENCH_NAME_MAX], dm[BENCH_NAME_MAX];
    uint64_t events = 0;
    int in_frame = 0;
    int64_t t0 = mp_mono_ns();
    for (uint32_t ti = 0; ti < tenants; ti++) {
        bench_name_tenant(tn, ti);
        for (uint32_t j = 0; j < BENCH_MAILBOXES; j++) {
            bench_name_mailbox(mb, ti, j);
            bench_name_domain(dm, ti, j);
            for (int type = ENG_TYPE_MIN; type <= ENG_TYPE_MAX; type++) {
                if (!all && (int)(bench_rng_next(&r) % 1000) >= mix_realistic[type])
                    continue;
                struct eng_event ev = {.tenant = tn, .tenant_len = strlen(tn),
                                       .mailbox = mb, .mailbox_len = strlen(mb),
                                       .domain = dm, .domain_len = strlen(dm),
                                       .type = type, .time_ms = now,
                                       .campaign = bench_name_campaign(j),
                                       .campaign_len = strlen(bench_name_campaign(j))};
                int rc = eng_frame_record(t, fr, &ev);
                if (rc != MP_OK) {
                    fprintf(stderr, "bench_memory: record: %s\n", mp_strerror(rc));
                    return 1;
                }
                events++;
                if (++in_frame == BENCH_BATCH) { /* frames of 500, as on the wire */
                    eng_frame_end(t, fr);
                    in_frame = 0;
                }
            }
        }
    }
    eng_frame_end(t, fr);
    double secs = (double)(mp_mono_ns() - t0) / 1e9;
    long rss1 = (long)mp_rss_bytes();
    uint32_t nkeys = eng_table_nkeys(t);
    if (nkeys != nkeys_model) {
        fprintf(stderr, "bench_memory: %u keys, the model has %llu\n", nkeys,
                (unsigned long long)nkeys_model);
        return 1;
    }
    uint64_t nseries = eng_table_nseries(t);
    size_t series_bytes = eng_table_series_bytes(t), tbytes = eng_table_bytes(t);
    double per_key = (double)(rss1 - rss0) / nkeys;
    /* what the daemon does every second: write what changed to the store */
    size_t entries = 0;
    double flush_s = 0, disk = 0;
    long rss2 = rss1;
    if (store) {
        int64_t f0 = mp_mono_ns();
        if (eng_table_flush(t, 0, &entries) != MP_OK) {
            fprintf(stderr, "bench_memory: flush failed\n");
            return 1;
        }
        flush_s = (double)(mp_mono_ns() - f0) / 1e9;
        rss2 = (long)mp_rss_bytes();
        disk = dir_bytes(dir);
    }
    printf("bench_memory keys=%u scopes=%d mix=%s store=%s max_keys=%u rss_bytes_per_key=%.0f "
           "table_bytes_per_key=%.0f series=%llu series_per_key=%.2f series_bytes=%zu "
           "series_bytes_per_key=%.0f rss_after_flush_bytes_per_key=%.0f "
           "disk_bytes_per_key=%.0f rss_delta_mb=%.1f rss_mb=%.1f table_mb=%.1f "
           "table_fixed_mb=%.1f events=%llu target_bytes_per_key=1024 met=%s\n",
           nkeys, nscopes, all ? "all" : "realistic", store ? "rocksdb" : "none", max_keys,
           per_key,
           (double)tbytes / nkeys, (unsigned long long)nseries, (double)nseries / nkeys,
           series_bytes, (double)nseries * (double)series_bytes / nkeys,
           (double)(rss2 - rss0) / nkeys, store ? disk / nkeys : 0, (rss1 - rss0) / 1048576.0,
           rss1 / 1048576.0, tbytes / 1048576.0, bytes0 / 1048576.0, (unsigned long long)events,
           per_key <= 1024 ? "yes" : "no");
    printf("# rss_bytes_per_key: (RSS after the events - RSS after eng_table_create) / keys; "
           "series_bytes_per_key: the counter rings alone (%zu B per key and type: 16 x 5 min, "
           "28 x 1 h, %s x 1 d, 8 B each (64-bit counters), + list header). rss_after_flush: the same after one "
           "eng_table_flush (%zu store entries, %.1f s), RocksDB memtables included; disk: the "
           "store directory after it. table_fixed_mb: slot arrays allocated up front (counted "
           "whole by eng_table_bytes, resident only where touched). Process RSS before the "
           "table: %.1f MB. Filled in %.1f s.\n",
           series_bytes, store ? "16" : "38", entries, flush_s, rss_start / 1048576.0, secs);
    eng_thread_offline(th);
    eng_frame_destroy(fr);
    eng_thread_unregister(th);
    eng_table_destroy(t);
    if (store) {
        eng_store_close(store);
        e2e_tmpdir_remove(dir);
    }
    return 0;
}
