/* bench_restart — time from exec to a daemon that answers with its counts
 * back, with N keys in the store.
 *
 * Starts $MP_BIN_DIR/mailpulsed with a fresh data_dir, loads N keys (default
 * 1,000,000; key model of bench_common.h: N / 51 tenants x 25 mailboxes x 25
 * domains) through its ZeroMQ PULL endpoint — every (tenant, j) pair gets
 * one `sent` and one `delivered` event from mailbox j to domain j, in random
 * order, 500 per frame — and waits until /metrics has counted them all.
 * Then, --restarts times (default 3), each cycle like a restart after a
 * day of traffic: it reads GET /v1/tenants/T/stats?window=24h for a sample
 * of tenants (the reference), stops the daemon with SIGTERM (timed: the
 * final flush is part of it), starts it again and measures, from just
 * before exec:
 *   healthz_s  until /healthz answers 200 (polled every 10 ms);
 *   ready_s    until, also, every sampled tenant's stats "counts" equal the
 *              reference (polled every 10 ms, up to --timeout seconds).
 * and, before the next cycle, sends the same events again (every key
 * changes, so each restart finds fresh writes in the WAL, as after real
 * traffic, rather than an idle store). The first start, on an empty store,
 * is reported for comparison.
 * When the stats route answers 404 for a tenant that was just counted, the
 * API is not in this build: only healthz_s is reported and the result line
 * says counts=unchecked.
 *
 * Prints:  bench_restart keys=… restart_ready_s=… restart_healthz_s=… …
 */
#include <jansson.h>
#include <zmq.h>

#include "bench_common.h"

#define MAX_RESTARTS 16
#define MAX_SAMPLES 100

/* The "counts" object of a stats answer, or NULL. New reference. */
static json_t *stats_counts(int port, const char *tenant, long *status)
{
    char path[160], *body = NULL;
    snprintf(path, sizeof(path), "/v1/tenants/%s/stats?window=24h", tenant);
    *status = bench_http_get(port, path, 2000, &body);
    json_t *counts = NULL;
    if (*status == 200 && body) {
        json_t *j = json_loads(body, 0, NULL);
        counts = json_incref(json_object_get(j, "counts"));
        json_decref(j);
    }
    free(body);
    return counts;
}

/* The last line of the log holding `word`, into out (may stay empty). */
static void log_line(const char *log, const char *word, char *out, size_t len)
{
    FILE *f = fopen(log, "r");
    char line[1024];
    out[0] = '\0';
    while (f && fgets(line, sizeof(line), f))
        if (strstr(line, word)) {
            line[strcspn(line, "\n")] = '\0';
            const char *m = strstr(line, "msg=");
            snprintf(out, len, "%.300s", m ? m + 4 : line);
        }
    if (f)
        fclose(f);
}

/* Sends both frame sets and waits until the daemon has counted `events`
 * since it started. Returns the seconds it took, or -1. */
static double load(struct bench_daemon *d, const struct bench_frames fs[2], uint64_t events)
{
    void *zctx = zmq_ctx_new();
    void *sock = zmq_socket(zctx, ZMQ_PUSH);
    int linger = -1;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(sock, d->endpoint);
    int64_t l0 = mp_mono_ns();
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < fs[k].n; i++)
            zmq_send(sock, fs[k].f[i].buf, fs[k].f[i].len, 0);
    zmq_close(sock);
    zmq_ctx_term(zctx);
    double acc = 0;
    for (int i = 0; i < 60000; i++) { /* up to 10 minutes */
        acc = bench_daemon_metric(d->http_port, "mailpulse_events_accepted_total");
        if (acc >= (double)events)
            return (double)(mp_mono_ns() - l0) / 1e9;
        usleep(10 * 1000);
    }
    fprintf(stderr, "bench_restart: only %.0f of %llu events counted; see %s\n", acc,
            (unsigned long long)events, d->log);
    return -1;
}

int main(int argc, char **argv)
{
    uint64_t want_keys = 1000000;
    int restarts = 3, nsamples = 20, keep = 0;
    double timeout_s = 60, target = 5;
    const struct bench_opt opts[] = {
        {"keys", 'k', BENCH_OPT_U64, &want_keys},      {"restarts", 'r', BENCH_OPT_INT, &restarts},
        {"samples", 's', BENCH_OPT_INT, &nsamples},    {"timeout", 't', BENCH_OPT_DOUBLE, &timeout_s},
        {"keep", 0, BENCH_OPT_FLAG, &keep},
    };
    int ex = bench_opts(
        argc, argv, opts, MP_ARRAY_LEN(opts),
        "usage: bench_restart [--keys N] [--restarts N] [--samples N] [--timeout S] [--keep]\n"
        "  --keep: leave the temporary directory (config, log, data) in place\n");
    if (ex >= 0)
        return ex;
    uint32_t tenants = (uint32_t)((want_keys + BENCH_KEYS_PER_TENANT - 1) / BENCH_KEYS_PER_TENANT);
    if (want_keys < 1 || want_keys > 50000000 || restarts < 1 || restarts > MAX_RESTARTS ||
        nsamples < 1 || nsamples > MAX_SAMPLES || timeout_s < 1) {
        fprintf(stderr, "bench_restart: --keys 1..50000000, --restarts 1..%d, --samples 1..%d\n",
                MAX_RESTARTS, MAX_SAMPLES);
        return 2;
    }
    if ((uint32_t)nsamples > tenants)
        nsamples = (int)tenants;
    uint64_t nkeys = (uint64_t)tenants * BENCH_KEYS_PER_TENANT;
    uint32_t max_keys = nkeys * 2 > 2097152 ? (uint32_t)(nkeys * 2) : 2097152;
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);

    struct bench_model m;
    struct bench_frames fs[2];
    int64_t now = mp_now_ms();
    if (bench_model_init(&m, tenants, 0) != 0 ||
        bench_frames_all_keys(&m, 1, ENG_SENT, now, &fs[0]) != 0 ||
        bench_frames_all_keys(&m, 2, ENG_DELIVERED, now, &fs[1]) != 0) {
        fprintf(stderr, "bench_restart: cannot build frames\n");
        return 1;
    }
    uint64_t events = (uint64_t)tenants * BENCH_MAILBOXES * 2;

    struct bench_daemon d;
    int rc = 1;
    char names[MAX_SAMPLES][BENCH_NAME_MAX];
    json_t *ref[MAX_SAMPLES] = {0}; /* reference counts of the sampled tenants */
    if (bench_daemon_prepare(&d, 2, max_keys, "info") != 0)
        return 1;
    int64_t t0 = mp_mono_ns();
    if (bench_daemon_exec(&d) != 0 || bench_daemon_wait_healthy(&d, 10, 30000) != 0) {
        fprintf(stderr, "bench_restart: daemon did not start; see %s\n", d.log);
        bench_daemon_cleanup(&d, 1);
        return 1;
    }
    double cold_s = (double)(mp_mono_ns() - t0) / 1e9;

    double load_s = load(&d, fs, events);
    double keys_before = bench_daemon_metric(d.http_port, "mailpulse_keys");
    if (load_s < 0)
        goto out;
    char persistence[512];
    bench_daemon_persistence(&d, persistence, sizeof(persistence));
    bench_unquote(persistence);

    /* the stats API is there when a tenant just counted answers */
    int stats_api = 1;
    for (int i = 0; i < nsamples; i++)
        bench_name_tenant(names[i], (uint32_t)((uint64_t)i * tenants / (uint32_t)nsamples));
    long st0;
    json_t *probe = stats_counts(d.http_port, names[0], &st0);
    if (!probe && st0 == 404)
        stats_api = 0;
    else if (!probe) {
        fprintf(stderr, "bench_restart: stats for %s answered %ld\n", names[0], st0);
        goto out;
    }
    json_decref(probe);
    printf("# %llu keys (%u tenants), %llu events loaded and counted in %.1f s; first start "
           "(empty store) to healthz %.2f s; stats API: %s; persistence: %s\n",
           (unsigned long long)nkeys, tenants, (unsigned long long)events, load_s, cold_s,
           stats_api ? "yes" : "absent (404)", persistence);
    fflush(stdout);

    double healthz[MAX_RESTARTS], ready[MAX_RESTARTS], stop[MAX_RESTARTS];
    int restored_all = 1;
    double keys_after = -1;
    for (int r = 0; r < restarts; r++) {
        if (r > 0 && (load_s = load(&d, fs, events)) < 0)
            goto out;
        for (int i = 0; stats_api && i < nsamples; i++) {
            long st;
            json_decref(ref[i]);
            if (!(ref[i] = stats_counts(d.http_port, names[i], &st))) {
                fprintf(stderr, "bench_restart: stats for %s answered %ld\n", names[i], st);
                goto out;
            }
        }
        stop[r] = bench_daemon_stop(&d);
        int64_t s0 = mp_mono_ns();
        if (bench_daemon_exec(&d) != 0 || bench_daemon_wait_healthy(&d, 10, 120000) != 0) {
            fprintf(stderr, "bench_restart: daemon did not come back; see %s\n", d.log);
            goto out;
        }
        healthz[r] = (double)(mp_mono_ns() - s0) / 1e9;
        ready[r] = NAN;
        if (stats_api) {
            int64_t deadline = s0 + (int64_t)(timeout_s * 1e9);
            int i = 0;
            while (i < nsamples && mp_mono_ns() < deadline) {
                long st;
                json_t *c = stats_counts(d.http_port, names[i], &st);
                int same = c && json_equal(c, ref[i]);
                json_decref(c);
                if (same)
                    i++;
                else
                    usleep(10 * 1000);
            }
            if (i == nsamples)
                ready[r] = (double)(mp_mono_ns() - s0) / 1e9;
            else
                restored_all = 0;
        }
        keys_after = bench_daemon_metric(d.http_port, "mailpulse_keys");
        char loaded[400];
        log_line(d.log, "store_loaded", loaded, sizeof(loaded));
        printf("# restart %d (after %s, %.1f s): SIGTERM to exit %.2f s; exec to healthz %.2f s; "
               "to sampled counts equal %s%.2f s; keys after %.0f (before %.0f); log: %s\n",
               r + 1, r ? "re-sending every event" : "the load", load_s, stop[r], healthz[r], isnan(ready[r]) ? "(not reached) " : "",
               isnan(ready[r]) ? 0.0 : ready[r], keys_after, keys_before,
               loaded[0] ? loaded : "-");
        fflush(stdout);
    }
    char lh[256], lr[256], ls[256];
    double mh = bench_median(healthz, restarts), ms = bench_median(stop, restarts);
    if (stats_api && restored_all) {
        double mr = bench_median(ready, restarts);
        printf("bench_restart keys=%llu restart_ready_s=%.2f restart_healthz_s=%.2f "
               "stop_s=%.2f counts=restored samples=%d target_s=%.0f met=%s ready_runs=%s "
               "healthz_runs=%s stop_runs=%s keys_after=%.0f persistence=\"%s\"\n",
               (unsigned long long)nkeys, mr, mh, ms, nsamples, target, mr <= target ? "yes" : "no",
               bench_list(ready, restarts, 2, lr, sizeof(lr)),
               bench_list(healthz, restarts, 2, lh, sizeof(lh)),
               bench_list(stop, restarts, 2, ls, sizeof(ls)), keys_after, persistence);
    } else {
        printf("bench_restart keys=%llu restart_ready_s=na restart_healthz_s=%.2f stop_s=%.2f "
               "counts=%s samples=%d target_s=%.0f met=%s healthz_runs=%s stop_runs=%s "
               "keys_after=%.0f persistence=\"%s\"\n",
               (unsigned long long)nkeys, mh, ms,
               stats_api ? "not_restored" : "unchecked", nsamples, target,
               stats_api ? "no" : "unknown", bench_list(healthz, restarts, 2, lh, sizeof(lh)),
               bench_list(stop, restarts, 2, ls, sizeof(ls)), keys_after, persistence);
        if (!stats_api)
            printf("# the stats API answered 404: counts could not be checked yet; "
                   "restart_healthz_s is exec to /healthz 200 only\n");
        else
            printf("# the sampled tenants' counts did not come back within %.0f s\n", timeout_s);
    }
    printf("# restart_ready_s: exec to /healthz 200 and GET /v1/tenants/T/stats?window=24h "
           "equal to before the SIGTERM for %d sampled tenants (median of %d restarts); "
           "stop_s: SIGTERM to exit, final flush included\n",
           nsamples, restarts);
    rc = 0;
out:
    for (int i = 0; i < MAX_SAMPLES; i++)
        json_decref(ref[i]);
    if (keep || rc != 0)
        fprintf(stderr, "bench_restart: config, log and data left in %s\n", d.dir);
    bench_daemon_cleanup(&d, keep || rc != 0);
    bench_frames_free(&fs[0]);
    bench_frames_free(&fs[1]);
    bench_model_free(&m);
    curl_global_cleanup();
    return rc;
}
