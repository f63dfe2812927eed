/* bench_adapters — the ESP webhook adapters' sustained events per second.
 *
 * Starts the real daemon (bench_common.h's config) with four adapters
 * (json, mailgun, postmark, sendgrid; cmd/daemon/mp_adapters.h), then for each type
 * in turn `--clients` threads POST, each over one kept-alive libcurl
 * connection, for `--seconds`: json bodies of `--batch` Event objects
 * (default 400, near the 64 KiB body limit), Mailgun webhooks (one event
 * each, HMAC-signed per request with a fresh token), Postmark Bounce
 * records (one event each, basic auth), SendGrid bodies of `--batch`
 * events (a mailbox custom arg each; ECDSA-signed per request with a key
 * made at start, as the Signed Event Webhook signs), SES Delivery records in
 * SNS Notifications (one event each, RSA-signed, SignatureVersion 2, with a
 * key made at start whose certificate is the adapter's sns_certificate;
 * signed before the clock starts, `--seconds` x 1500 per client, since
 * signing costs the client more than verifying costs the daemon; a client
 * that uses up its pool stops early). Every event id is new, so each is
 * recorded (journaled with its id in one synced write, mp_adapters_durable.h)
 * rather than dropped as a duplicate. The figure is mailpulse_adapter_events_accepted_total over
 * the wall time; a non-200 answer stops the run and is printed.
 *
 * Prints one line per type:
 *   bench_adapters type=json clients=2 batch=400 seconds=5 requests=… events=… events_per_s=… requests_per_s=…
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>

#include "../tests/adapt_fixture.h" /* the test side of SendGrid signing */
#include "../tests/adapt_fixture_sns.h" /* bench/ sees no -Itests: the path says where */
#include "bench_common.h"

#define MG_KEY "bench-mailgun-key"
#define PM_BASIC "Basic YmVuY2g6YmVuY2gtcGFzcw==" /* bench:bench-pass */
#define JS_BEARER "Bearer bench-json-token"
#define MAX_CLIENTS 16

struct client {
    int type; /* 0 json, 1 mailgun, 2 postmark, 3 sendgrid, 4 ses */
    int id, batch, port;
    char **pool; /* ses: signed bodies, npool of them */
    long npool;
    int64_t deadline_ns;
    long requests, bad_status;
    char *buf;
    size_t cap;
    EVP_PKEY *key; /* sendgrid: the signing side's key */
};

static size_t discard(char *p, size_t sz, size_t n, void *arg)
{
    (void)p, (void)arg;
    return sz * n;
}

/* The request body of client c's request number k. */
static void body_of(struct client *c, long k, int64_t now_ms)
{
    size_t off = 0;
    if (c->type == 0) {
        off += (size_t)snprintf(c->buf + off, c->cap - off, "[");
        for (int i = 0; i < c->batch; i++)
            off += (size_t)snprintf(c->buf + off, c->cap - off,
                                    "%s{\"mailbox\":\"news@acme.example\",\"recipientDomain\":"
                                    "\"d%d.example\",\"type\":%d,\"timeMs\":%lld,\"eventId\":"
                                    "\"%d-%ld-%d\"}",
                                    i ? "," : "", i % 25, i % 10 == 0 ? 3 : 1,
                                    (long long)now_ms, c->id, k, i);
        snprintf(c->buf + off, c->cap - off, "]");
    } else if (c->type == 1) {
        char tok[64], ts[24], msg[96], hex[65];
        unsigned char mac[32];
        unsigned int len = 0;
        snprintf(tok, sizeof(tok), "tok-%d-%ld", c->id, k);
        snprintf(ts, sizeof(ts), "%lld", (long long)(now_ms / 1000));
        int n = snprintf(msg, sizeof(msg), "%s%s", ts, tok);
        HMAC(EVP_sha256(), MG_KEY, (int)strlen(MG_KEY), (unsigned char *)msg, (size_t)n, mac,
             &len);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        snprintf(c->buf, c->cap,
                 "{\"signature\":{\"timestamp\":\"%s\",\"token\":\"%s\",\"signature\":\"%s\"},"
                 "\"event-data\":{\"event\":\"delivered\",\"id\":\"mg-%d-%ld\",\"timestamp\":%lld,"
                 "\"recipient\":\"a@d%ld.example\",\"envelope\":{\"sender\":\"news@acme.example\"}}}",
                 ts, tok, hex, c->id, k, (long long)(now_ms / 1000), k % 25);
    } else if (c->type == 3) {
        off += (size_t)snprintf(c->buf + off, c->cap - off, "[");
        for (int i = 0; i < c->batch; i++)
            off += (size_t)snprintf(c->buf + off, c->cap - off,
                                    "%s{\"email\":\"a@d%d.example\",\"timestamp\":%lld,"
                                    "\"event\":\"%s\",\"sg_event_id\":\"sg-%d-%ld-%d\","
                                    "\"sg_message_id\":\"m.filter0001.0\",\"mailbox\":"
                                    "\"news@acme.example\"}",
                                    i ? "," : "", i % 25, (long long)(now_ms / 1000),
                                    i % 10 == 0 ? "bounce" : "processed", c->id, k, i);
        snprintf(c->buf + off, c->cap - off, "]");
    } else {
        time_t t = (time_t)(now_ms / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(c->buf, c->cap,
                 "{\"RecordType\":\"Bounce\",\"ID\":%ld,\"Type\":\"SoftBounce\",\"MessageID\":"
                 "\"m-%d-%ld\",\"Email\":\"a@d%ld.example\",\"From\":\"news@acme.example\","
                 "\"BouncedAt\":\"%s\",\"Metadata\":{}}",
                 (long)c->id * 1000000000L + k, c->id, k, k % 25, when);
    }
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    static const char *const paths[] = {"/hooks/json", "/hooks/mailgun", "/hooks/postmark",
                                        "/hooks/sendgrid", "/hooks/ses"};
    static const char *const auths[] = {"Authorization: " JS_BEARER, NULL,
                                        "Authorization: " PM_BASIC, NULL, NULL};
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", c->port, paths[c->type]);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (auths[c->type])
        h = curl_slist_append(h, auths[c->type]);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    for (long k = 0; mp_mono_ns() < c->deadline_ns && (!c->pool || k < c->npool); k++) {
        int64_t now = mp_now_ms();
        struct curl_slist *sh = NULL;
        if (c->pool) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->pool[k]);
        } else {
            body_of(c, k, now);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->buf);
        }
        if (c->type == 3) { /* signed per request: the signature is part of the cost */
            char ts[24], h1[160], h2[64];
            snprintf(ts, sizeof(ts), "%lld", (long long)(now / 1000));
            char *sig = afx_sendgrid_sign(c->key, ts, c->buf, strlen(c->buf));
            snprintf(h1, sizeof(h1), "X-Twilio-Email-Event-Webhook-Signature: %s", sig);
            snprintf(h2, sizeof(h2), "X-Twilio-Email-Event-Webhook-Timestamp: %s", ts);
            free(sig);
            sh = curl_slist_append(curl_slist_append(
                                       curl_slist_append(NULL, "Content-Type: application/json"),
                                       h1),
                                   h2);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, sh);
        }
        long st = 0;
        if (curl_easy_perform(e) == CURLE_OK)
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
        curl_slist_free_all(sh);
        if (st != 200) {
            c->bad_status = st ? st : -1;
            break;
        }
        c->requests++;
    }
    curl_easy_cleanup(e);
    curl_slist_free_all(h);
    return NULL;
}

static const char *const names[] = {"json", "mailgun", "postmark", "sendgrid", "ses"};

static EVP_PKEY *ses_key;

/* n signed SES Delivery notifications of client id, one recipient each */
static char **ses_pool(int id, long n)
{
    char **pool = calloc((size_t)n, sizeof(*pool)), msg[640], env[1024], when[40];
    time_t t = (time_t)(mp_now_ms() / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
    for (long k = 0; pool && k < n; k++) {
        snprintf(msg, sizeof(msg),
                 "{\\\"eventType\\\":\\\"Delivery\\\",\\\"mail\\\":{\\\"timestamp\\\":\\\"%s\\\","
                 "\\\"source\\\":\\\"news@acme.example\\\",\\\"destination\\\":[\\\"a@d%ld.example\\\"]},"
                 "\\\"delivery\\\":{\\\"timestamp\\\":\\\"%s\\\",\\\"recipients\\\":[\\\"a@d%ld.example\\\"]}}",
                 when, k % 25, when, k % 25);
        snprintf(env, sizeof(env),
                 "{\"Type\":\"Notification\",\"MessageId\":\"ses-%d-%ld\",\"TopicArn\":"
                 "\"arn:aws:sns:us-east-1:123456789012:bench\",\"Message\":\"%s\",\"Timestamp\":"
                 "\"%s\",\"SignatureVersion\":\"2\",\"Signature\":\"\",\"SigningCertURL\":"
                 "\"https://sns.us-east-1.amazonaws.com/bench.pem\"}", id, k, msg, when);
        pool[k] = afx_sns_sign(env, ses_key, 2);
    }
    return pool;
}

static int run_type(struct bench_daemon *d, int type, int clients, int batch, int seconds,
                    EVP_PKEY *key)
{
    struct client cs[MAX_CLIENTS];
    pthread_t th[MAX_CLIENTS];
    char series[128];
    snprintf(series, sizeof(series), "mailpulse_adapter_events_accepted_total{adapter=\"%s\"}",
             names[type]);
    double before = bench_daemon_metric(d->http_port, series);
    int64_t t0 = mp_mono_ns();
    for (int i = 0; i < clients; i++) {
        cs[i] = (struct client){.type = type, .id = i, .batch = batch, .port = d->http_port,
                                .deadline_ns = t0 + (int64_t)seconds * 1000000000LL,
                                .cap = (size_t)batch * 256 + 1024, .key = key};
        cs[i].buf = malloc(cs[i].cap);
        if (type == 4)
            cs[i].pool = ses_pool(i, cs[i].npool = (long)seconds * 1500);
    }
    t0 = mp_mono_ns(); /* the ses bodies are signed before the clock starts */
    before = bench_daemon_metric(d->http_port, series);
    for (int i = 0; i < clients; i++) {
        cs[i].deadline_ns = t0 + (int64_t)seconds * 1000000000LL;
        pthread_create(&th[i], NULL, client_main, &cs[i]);
    }
    long reqs = 0, bad = 0;
    for (int i = 0; i < clients; i++) {
        pthread_join(th[i], NULL);
        reqs += cs[i].requests;
        if (cs[i].bad_status)
            bad = cs[i].bad_status;
        free(cs[i].buf);
        for (long k = 0; cs[i].pool && k < cs[i].npool; k++)
            free(cs[i].pool[k]);
        free(cs[i].pool);
    }
    double secs = (double)(mp_mono_ns() - t0) / 1e9;
    double events = bench_daemon_metric(d->http_port, series) - before;
    char stop[48] = "";
    if (bad)
        snprintf(stop, sizeof(stop), " stopped_by_status=%ld", bad);
    printf("bench_adapters type=%s clients=%d batch=%d seconds=%.2f requests=%ld events=%.0f "
           "events_per_s=%.0f requests_per_s=%.0f%s\n",
           names[type], clients, type == 0 || type == 3 ? batch : 1, secs, reqs, events, events / secs,
           (double)reqs / secs, stop);
    fflush(stdout);
    return bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    int seconds = 5, clients = 2, batch = 400, opt;
    while ((opt = getopt(argc, argv, "s:c:b:")) != -1) {
        if (opt == 's')
            seconds = atoi(optarg);
        else if (opt == 'c')
            clients = atoi(optarg);
        else if (opt == 'b')
            batch = atoi(optarg);
        else
            return 2;
    }
    if (seconds < 1 || clients < 1 || clients > MAX_CLIENTS || batch < 1 || batch > 400) {
        fprintf(stderr, "usage: bench_adapters [-s SECONDS] [-c CLIENTS 1..16] [-b BATCH 1..400]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    struct bench_daemon d;
    if (bench_daemon_prepare(&d, 2, 1u << 20, "warn") != 0)
        return 1;
    char pub[256];
    EVP_PKEY *key = afx_sendgrid_key(pub, sizeof(pub));
    X509 *cert;
    char pem[E2E_PATH_MAX + 32];
    afx_sns_key(&ses_key, &cert);
    snprintf(pem, sizeof(pem), "%s/sns-bench-only.pem", d.dir);
    afx_sns_pem(cert, pem);
    X509_free(cert);
    FILE *f = fopen(d.cfg, "a");
    if (!f)
        return 1;
    fprintf(f, "adapters:\n"
               "  - {name: json, type: json, path: /hooks/json, tenant: acme,"
               " signing_key: bench-json-token}\n"
               "  - {name: mailgun, type: mailgun, path: /hooks/mailgun, tenant: acme,"
               " signing_key: " MG_KEY "}\n"
               "  - {name: postmark, type: postmark, path: /hooks/postmark, tenant: acme,"
               " signing_key: \"bench:bench-pass\"}\n"
               "  - {name: sendgrid, type: sendgrid, path: /hooks/sendgrid, tenant: acme,"
               " mailbox_field: mailbox, signing_key: \"%s\"}\n"
               "  - {name: ses, type: ses, path: /hooks/ses, tenant: acme,"
               " sns_certificate: \"%s\"}\n",
            pub, pem);
    fclose(f);
    int rc = 1;
    if (bench_daemon_exec(&d) == 0 && bench_daemon_wait_healthy(&d, 20, 10000) == 0) {
        rc = 0;
        for (int t = 0; t < 5; t++)
            rc |= run_type(&d, t, clients, batch, seconds, key) != 0;
    } else {
        fprintf(stderr, "bench_adapters: the daemon did not start; see %s\n", d.log);
    }
    bench_daemon_cleanup(&d, rc != 0);
    EVP_PKEY_free(key);
    curl_global_cleanup();
    EVP_PKEY_free(ses_key);
    return rc;
}
