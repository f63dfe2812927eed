/* test_e2e_crash.c — Check suite "e2e_crash": acked ingest survives SIGKILL
 * (issue 9, item 3), end to end.
 *
 *   acked_counts_exact_across_kills
 *       CRASH_CYCLES cycles on one data_dir: `mailpulse send --ack` (a real
 *       producer that resends whatever is not acked, one producer id, its
 *       sequence continuing from cycle to cycle) sends a stream of batches;
 *       the daemon is SIGKILLed at a random moment of it (once it has
 *       counted a random number of the stream's events, plus a random few
 *       ms, so the kill lands mid-stream on a fast or a slow machine; seeded,
 *       the seed printed, MP_CRASH_SEED replays it), restarted, and the producer
 *       must end with every batch acked. At the end the stats API's tenant
 *       total, its mailbox sum and its domain sum all equal the events the
 *       acks covered: nothing lost, nothing counted twice (a batch sent but
 *       not acked before a kill may or may not have been applied; its resend
 *       carries the same sequence, so it counts once either way). A last
 *       resend of the first cycle's batches is all DUPLICATE.
 *   alert_once_across_kills
 *       A bounce_rate crossing arrives in an acked stream with kills around
 *       it: each alert (fingerprint) fires once (one startsAt among all the
 *       notifications that show it firing: the outbox redelivering it, and
 *       its group's later notifications carrying it along when another
 *       member fires or resolves in another pass, show the same start; an
 *       alert whose state a kill lost would fire again as new, with a new
 *       start), then a dilution
 *       with more kills resolves every one of them (the resolve is not lost)
 *       and nothing fires after.
 *
 * Real parts only: bin/mailpulsed and bin/mailpulse from MP_BIN_DIR on free
 * loopback ports, ZeroMQ DEALER -> ROUTER (`ingest.router`), HTTP over
 * libcurl, the in-process receiver (tests/http_receiver.h). Short cycles:
 * the whole suite stays well under a minute in the gcc build.
 */
#include <check.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "check_main.h"
#include "e2e_suite.h"

#define CRASH_CYCLES 20
#define CRASH_JITTER_MS 2       /* a kill lands 0..this after its trigger */
#define CRASH_KILL_MAX_MS 250   /* kills without a stream: 0..this after the restart */
#define CRASH_SEND_MS 60000     /* one producer run, kills and restarts included */
#define ALERT_MS 10000          /* crossing -> webhook, generous on a busy box */
#define QUIET_MS 1500           /* how long "nothing more arrives" is watched */
#define T_SENT 1
#define T_BOUNCE_HARD 3

#define CR "crash"
static const char *const mailboxes[] = {"a@crash.example", "b@crash.example", "c@crash.example"};
static const char *const domains[] = {"gmail.com", "yahoo.com", "outlook.com", "icloud.com"};

static char router[64];
static uint64_t rng_state;

static void setup(void)
{
    ew_setup(&W, "crash");
    W.ready_ms = 20000;
    snprintf(router, sizeof(router), "tcp://127.0.0.1:%u", (unsigned)ew_port(&W));
}

static void teardown(void) { ew_teardown(&W); }

/* Writes the config, with `ingest.router` (the harness writes the PULL
 * endpoint only), and starts the daemon. */
static void start_daemon(struct e2e_daemon_conf c)
{
    ew_write_config(&W, c);
    char *text = NULL;
    must(e2e_read_file(W.cfg, &text, NULL) == MP_OK, "cannot read %s", W.cfg);
    const char *at = strstr(text, "\ningest:\n");
    must(at != NULL, "no ingest: section in %s", W.cfg);
    size_t head = (size_t)(at - text) + strlen("\ningest:\n");
    char *out = NULL;
    must(asprintf(&out, "%.*s  router: \"%s\"\n%s", (int)head, text, router, text + head) > 0,
         "asprintf");
    must_ok(e2e_write_file(W.cfg, out, W.err, sizeof(W.err)));
    free(out);
    free(text);
    ew_spawn_daemon(&W);
}

/* SIGKILL, reaped. */
static void kill_daemon(void)
{
    must(e2e_proc_signal_wait(&W.daemon, SIGKILL, EW_STOP_MS) == MP_OK &&
             WIFSIGNALED(W.daemon.status),
         "SIGKILL did not end %s", W.daemon.name);
}

/* One producer run: `batches` batches of `per` events, sequences from
 * `seq`, through `mailpulse send --ack` in the background, with `retries`
 * resends of a batch before it gives up. */
struct send_run {
    struct e2e_proc p;
    char name[32];
};

static void send_start_as(struct send_run *s, int n, const char *mailbox, const char *domain,
                          int type, int batches, int per, uint64_t seq, char *retries)
{
    char count[16], batch[16], seqs[24], typ[8];
    snprintf(s->name, sizeof(s->name), "send-%d", n);
    snprintf(count, sizeof(count), "%d", batches * per);
    snprintf(batch, sizeof(batch), "%d", per);
    snprintf(seqs, sizeof(seqs), "%" PRIu64, seq);
    snprintf(typ, sizeof(typ), "%d", type);
    /* Resends every 250 ms without an ack, for as long as a restart
     * takes on a loaded machine (retries x timeout > CRASH_SEND_MS). */
    char *argv[] = {W.mailpulse, "send", "--ack", "--endpoint", router, "--producer", "crash-p",
                    "--sequence-start", seqs, "--tenant", CR, "--mailbox", (char *)mailbox,
                    "--domain", (char *)domain, "--type", typ, "--count", count, "--batch",
                    batch, "--window", "2", "--ack-timeout-ms", "250", "--retries", retries,
                    NULL};
    must_ok(e2e_spawn(&s->p, s->name, W.dir, argv, W.err, sizeof(W.err)));
}

static void send_start(struct send_run *s, int n, const char *mailbox, const char *domain,
                       int type, int batches, int per, uint64_t seq)
{
    send_start_as(s, n, mailbox, domain, type, batches, per, seq, "1000");
}

/* SIGKILL at a random moment of run s (`total` events): once the daemon
 * has accepted a random number of them (or the run ended first), plus a
 * random jitter. `base`: what the daemon had accepted before the run (a
 * start counts the journal it replays). */
static void kill_mid_stream(struct send_run *s, int total, uint64_t base, const char *what)
{
    uint64_t at = base + ew_rng(&rng_state) % (uint64_t)total;
    int jitter = (int)(ew_rng(&rng_state) % CRASH_JITTER_MS);
    int64_t deadline = mp_mono_ns() + (int64_t)CRASH_SEND_MS * 1000000;
    while (ew_metric(&W, "mailpulse_events_accepted_total") < at &&
           e2e_proc_running(&s->p) && mp_mono_ns() < deadline)
        usleep(1000);
    usleep((useconds_t)jitter * 1000);
    fprintf(stderr, "  %s: SIGKILL once %" PRIu64 " of %d events were accepted, +%d ms%s\n",
            what, at - base, total, jitter, e2e_proc_running(&s->p) ? "" :
            " (the run had ended)");
    kill_daemon();
}

/* Waits for the run to end: it must exit 0 (every batch acked OK or
 * DUPLICATE). Returns the events its summary says were acked, the
 * duplicate batches in *dup and the resends in *resent; prints the summary
 * to stderr (what a kill hit shows as resends and duplicates). */
static int64_t send_wait(struct send_run *s, uint64_t *dup, uint64_t *resent)
{
    char tail[1500], state[64];
    int rc = e2e_proc_wait(&s->p, CRASH_SEND_MS);
    e2e_proc_describe(&s->p, state, sizeof(state));
    e2e_file_tail(s->p.err_path, tail, sizeof(tail));
    must(rc == MP_OK && WIFEXITED(s->p.status) && WEXITSTATUS(s->p.status) == 0,
         "%s: %s; stderr:\n%s", s->name, state, tail);
    char *out = NULL;
    must(e2e_read_file(s->p.out_path, &out, NULL) == MP_OK, "cannot read %s", s->p.out_path);
    long long events = -1;
    unsigned long long d = 0, r = 0;
    const char *at = strstr(out, "acked batches=");
    must(at && sscanf(at, "acked batches=%*u events=%lld accepted=%*u rejected=%*u "
                          "duplicate=%llu refused=%*u retries=%llu",
                      &events, &d, &r) == 3,
         "%s printed no summary: %s", s->name, out);
    fprintf(stderr, "  %s: %.*s\n", s->name, (int)strcspn(at, "\n"), at);
    free(out);
    if (dup)
        *dup = d;
    if (resent)
        *resent = r;
    return events;
}

/* First, one batch (sequence 1, `per` sent events) without a kill, with
 * few retries: a daemon that does not answer on ingest.router fails here
 * in seconds rather than after every retry of a cycle. */
static int64_t probe(int per)
{
    struct send_run s;
    send_start_as(&s, 99, mailboxes[0], domains[0], T_SENT, 1, per, 1, "40");
    return send_wait(&s, NULL, NULL);
}

/* GET the tenant's stats: the sum of `sent` in the tenant total, or over
 * the groups of `by`. */
static int64_t sent_in(const char *by)
{
    char path[128];
    snprintf(path, sizeof(path), "/v1/tenants/" CR "/stats?window=24h%s%s", by ? "&by=" : "",
             by ? by : "");
    json_t *doc = ew_get_json(&W, path, 200);
    int64_t sum = 0;
    if (by == NULL) {
        sum = json_integer_value(json_object_get(json_object_get(doc, "counts"), "sent"));
    } else {
        size_t i;
        json_t *g;
        must(json_integer_value(json_object_get(doc, "groups_total")) ==
                 (json_int_t)json_array_size(json_object_get(doc, "groups")),
             "%s: groups cut", path);
        json_array_foreach(json_object_get(doc, "groups"), i, g) sum +=
            json_integer_value(json_object_get(json_object_get(g, "counts"), "sent"));
    }
    json_decref(doc);
    return sum;
}

START_TEST(acked_counts_exact_across_kills)
{
    rng_state = ew_crash_seed("acked_counts_exact_across_kills"); /* the kill delays */
    start_daemon((struct e2e_daemon_conf){0});
    int64_t acked = 0;
    uint64_t seq = 1;
    int hit = 0; /* cycles whose kill cost the producer a resend */
    const int batches = 100, per = 10;
    acked += probe(per);
    seq++;
    for (int c = 0; c < CRASH_CYCLES; c++) {
        struct send_run s;
        char what[32];
        snprintf(what, sizeof(what), "cycle %d", c);
        uint64_t base = ew_metric(&W, "mailpulse_events_accepted_total");
        send_start(&s, c, mailboxes[c % 3], domains[c % 4], T_SENT, batches, per, seq);
        kill_mid_stream(&s, batches * per, base, what);
        ew_spawn_daemon(&W); /* same config, same data_dir */
        uint64_t resent = 0;
        int64_t got = send_wait(&s, NULL, &resent);
        must(got == batches * per, "cycle %d: %lld events acked of %d", c, (long long)got,
             batches * per);
        hit += resent > 0;
        acked += got;
        seq += (uint64_t)batches;
    }
    fprintf(stderr, "  kills that cost the producer a resend: %d of %d\n", hit, CRASH_CYCLES);
    /* Every acked event once, in every scope. */
    int64_t tenant = sent_in(NULL), mb = sent_in("mailbox"), dom = sent_in("recipient_domain");
    must(tenant == acked && mb == acked && dom == acked,
         "acked %lld events; the stats say tenant %lld, mailbox sum %lld, domain sum %lld",
         (long long)acked, (long long)tenant, (long long)mb, (long long)dom);

    /* The first cycle again, same sequences: applied already, so every ack
     * is DUPLICATE and nothing more is counted. */
    struct send_run s;
    uint64_t dup = 0;
    send_start(&s, CRASH_CYCLES, mailboxes[0], domains[0], T_SENT, batches, per, 1);
    must(send_wait(&s, &dup, NULL) == batches * per && dup == (uint64_t)batches,
         "a resend of acked batches: %llu of %d acked DUPLICATE", (unsigned long long)dup,
         batches);
    must(sent_in(NULL) == acked, "a resend of acked batches was counted again");
    ew_pass(&W);
}
END_TEST

/* ---- an alert across kills ------------------------------------------------- */

/* Per fingerprint: the distinct startsAt of the notifications that show it
 * firing (one per firing episode), and whether it resolved (and anything
 * fired after that). */
struct fp_seen {
    char fp[80];
    char starts[4][80];
    size_t nstarts;
    int resolved, fired_after;
};

static size_t fp_tally(size_t k, struct fp_seen *fs, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < hrx_count(W.raw[k]); i++) {
        const struct hrx_req *r = ew_req(&W, k, i);
        if (r->status >= 300)
            continue;
        json_t *b = ew_req_json(&W, r), *a;
        size_t j;
        json_array_foreach(json_object_get(b, "alerts"), j, a)
        {
            const char *fp = ew_jstr(a, "fingerprint"), *st = ew_jstr(a, "status");
            must(fp && st, "an alert without fingerprint or status");
            size_t x = 0;
            while (x < n && strcmp(fs[x].fp, fp) != 0)
                x++;
            if (x == n) {
                must(n < cap, "more than %zu alerts", cap);
                memset(&fs[n], 0, sizeof(fs[n]));
                snprintf(fs[n++].fp, sizeof(fs[x].fp), "%s", fp);
            }
            struct fp_seen *f = &fs[x];
            if (strcmp(st, "resolved") == 0) {
                f->resolved = 1;
                continue;
            }
            f->fired_after |= f->resolved;
            const char *start = ew_jstr(a, "startsAt");
            must(start, "a firing alert without startsAt");
            size_t y = 0;
            while (y < f->nstarts && strcmp(f->starts[y], start) != 0)
                y++;
            if (y == f->nstarts && f->nstarts < 4)
                snprintf(f->starts[f->nstarts++], sizeof(f->starts[0]), "%s", start);
        }
        json_decref(b);
    }
    return n;
}

/* A producer run with a kill and a restart at a random moment in it. */
static void send_with_kill(int n, int type, int batches, int per, uint64_t seq)
{
    struct send_run s;
    uint64_t base = ew_metric(&W, "mailpulse_events_accepted_total");
    send_start(&s, n, mailboxes[0], domains[0], type, batches, per, seq);
    kill_mid_stream(&s, batches * per, base, s.name);
    ew_spawn_daemon(&W);
    must(send_wait(&s, NULL, NULL) == batches * per, "%s: not every event acked", s.name);
}

/* Waits until every one of `want` alerts shows `resolved` (or firing when
 * resolved is 0), with its tally in fs. */
static size_t fp_wait(size_t k, struct fp_seen *fs, size_t want, int resolved)
{
    int64_t deadline = mp_mono_ns() + (int64_t)ALERT_MS * 1000000;
    for (;;) {
        size_t n = fp_tally(k, fs, 8), done = 0;
        for (size_t i = 0; i < n; i++)
            done += resolved ? fs[i].resolved : fs[i].nstarts > 0;
        if ((n == want && done == want) || mp_mono_ns() > deadline)
            return done;
        usleep(20000);
    }
}

START_TEST(alert_once_across_kills)
{
    rng_state = ew_crash_seed("alert_once_across_kills"); /* the kill delays */
    size_t k = ew_raw(&W, "cr", "secret-cr", 200);
    const struct e2e_receiver_conf rec[] = {{"cr-hook", W.raw_url[k], W.raw_secret[k]}};
    /* the default rules, but resolving as soon as under the line (the
     * default keep_firing_for of 10m would hold the resolve past the case) */
    ew_rules_example3(&W, "overrides:\n  - tenant: " CR "\n    rule: bounce_rate\n"
                         "    keep_firing_for: 0s\n");
    start_daemon((struct e2e_daemon_conf){
        .receivers = rec, .nreceivers = 1, .default_route = "cr-hook", .rules = W.rules});
    struct fp_seen fs[8];

    /* 1 + 1000 sent, then 25 hard bounces one per batch (2.0% is crossed
     * at the 21st: bounce_rate warning at tenant, mailbox and domain
     * scope), a kill in each run, and two more kills while the firing may
     * still be in the outbox. */
    must(probe(1) == 1, "the probe batch");
    send_with_kill(0, T_SENT, 10, 100, 2);
    send_with_kill(1, T_BOUNCE_HARD, 25, 1, 12);
    for (int i = 0; i < 2; i++) {
        usleep((useconds_t)(ew_rng(&rng_state) % CRASH_KILL_MAX_MS) * 1000);
        kill_daemon();
        ew_spawn_daemon(&W);
    }
    must(fp_wait(k, fs, 3, 0) == 3, "the 3 bounce_rate alerts did not all fire");

    /* Dilute: 25 of 1501 = 1.67%, under 90% of 2%: every alert resolves,
     * a kill in the middle of it. */
    send_with_kill(2, T_SENT, 50, 10, 37);
    must(fp_wait(k, fs, 3, 1) == 3, "not every alert resolved after the dilution");
    usleep(QUIET_MS * 1000);
    size_t n = fp_tally(k, fs, 8);
    must(n == 3, "%zu alerts, expected 3 (tenant, mailbox, domain)", n);
    for (size_t i = 0; i < n; i++) {
        must(fs[i].nstarts == 1, "alert %s fired %zu times as new (distinct startsAt)",
             fs[i].fp, fs[i].nstarts);
        must(fs[i].resolved && !fs[i].fired_after, "alert %s: resolved %d, fired after %d",
             fs[i].fp, fs[i].resolved, fs[i].fired_after);
    }
    must(sent_in(NULL) == 1 + 1000 + 500, "sent counted: %lld", (long long)sent_in(NULL));
    ew_pass(&W);
}
END_TEST

EW_SUITE("e2e_crash", 240, setup, teardown, {acked_counts_exact_across_kills, 0},
         {alert_once_across_kills, 0})
