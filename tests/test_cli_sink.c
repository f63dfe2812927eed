/* test_cli_sink.c — Check suite "cli_sink": cmd/cli/cli_sink, the receiver
 * behind `mailpulse sink`, started for real and posted to with libcurl.
 *
 * --listen goes through mp_addr (bad forms are usage errors, exit 2); the
 * sink serves on 127.0.0.1 and on [::1]; an Alertmanager body prints one
 * line per alert and any other body its path and bytes (control bytes
 * escaped); --out gets one JSON line per request (path, status, lower-cased
 * headers, body or body_raw); a body over max_body is answered 413 and
 * recorded as body_too_large; other methods get 405; the configured status
 * is what every POST is answered.
 */
#include <check.h>
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "unit_util.h"
#include "cli_sink.h"
#include "e2e_harness.h"

static char dir[512];

static void setup(void)
{
    char err[256];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    ck_assert_msg(e2e_tmpdir_create("cli_sink", dir, sizeof(dir), err, sizeof(err)) == MP_OK,
                  "%s", err);
}

static void teardown(void)
{
    e2e_tmpdir_remove(dir);
    curl_global_cleanup();
}

/* A running sink printing into memory; `out` is its JSON lines file. */
struct sink {
    struct cli_sink *s;
    char *text;
    size_t len;
    FILE *print;
    char url[96];
    char out[600];
};

static void start(struct sink *k, const char *fmt, const char *urlfmt, unsigned status,
                  size_t max_body)
{
    char err[512] = "";
    memset(k, 0, sizeof(*k));
    snprintf(k->out, sizeof(k->out), "%s/sink.jsonl", dir);
    k->print = open_memstream(&k->text, &k->len);
    ck_assert_ptr_nonnull(k->print);
    for (int attempt = 0; attempt < 10; attempt++) {
        uint16_t port;
        char listen[64];
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        snprintf(listen, sizeof(listen), fmt, (unsigned)port);
        struct cli_sink_config cfg = {
            .status = status, .max_body = max_body, .out_path = k->out, .print = k->print};
        ck_assert_msg(mp_addr_parse(listen, &cfg.listen, err, sizeof(err)) == MP_OK, "%s", err);
        int rc = cli_sink_start(&cfg, &k->s, err, sizeof(err));
        if (rc == MP_OK) {
            snprintf(k->url, sizeof(k->url), urlfmt, (unsigned)port);
            return;
        }
        ck_assert_msg(rc == MP_ERR_IO, "%s: %s", listen, err);
    }
    ck_abort_msg("no free port: %s", err);
}

/* Stops the sink; k->text then holds everything it printed. */
static void stop(struct sink *k)
{
    cli_sink_stop(k->s);
    fclose(k->print);
}

static long post(const char *url, const char *method, const char *body, size_t len,
                 const char *header)
{
    struct unit_answer a;
    unit_http(method, url, body, len, header, 5000, &a);
    mp_buf_free(&a.body);
    return a.status;
}

static json_t *records(const struct sink *k, size_t want)
{
    json_t *recs = NULL;
    ck_assert_int_eq(e2e_jsonl_load(k->out, &recs), MP_OK);
    ck_assert_uint_eq(json_array_size(recs), want);
    return recs;
}

#define has(text, s) ck_assert_msg(strstr((text), (s)) != NULL, "no \"%s\" in:\n%s", (s), (text))

static const char alert_body[] =
    "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\","
    "\"labels\":{\"alertname\":\"bounce_rate\",\"severity\":\"warning\",\"tenant\":\"acme\","
    "\"mailbox\":\"s@acme.example\"},\"annotations\":{\"value\":\"0.08\",\"threshold\":0.02,"
    "\"numerator\":\"80\",\"denominator\":\"1000\",\"window\":\"1h\"}}]}";

START_TEST(alert_printed_and_recorded)
{
    struct sink k;
    char url[160];
    start(&k, "127.0.0.1:%u", "http://127.0.0.1:%u", 200, 1 << 20);
    snprintf(url, sizeof(url), "%s/hook", k.url);
    ck_assert_int_eq(post(url, NULL, alert_body, strlen(alert_body), "X-Mailpulse-Test: A"),
                     200);
    stop(&k);
    has(k.text, "] FIRING warning bounce_rate tenant=acme mailbox=s@acme.example value=8.00% "
                "threshold=2.00% (80/1000 over 1h)\n");
    json_t *recs = records(&k, 1), *r = json_array_get(recs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r, "path")), "/hook");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "body_bytes")), strlen(alert_body));
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(r, "headers"), "x-mailpulse-test")),
        "A");
    ck_assert(json_is_object(json_object_get(r, "body")));
    ck_assert(json_integer_value(json_object_get(r, "mono_ns")) > 0);
    json_decref(recs);
    free(k.text);
}
END_TEST

START_TEST(raw_body_on_ipv6)
{
    struct sink k;
    char url[160];
    start(&k, "[::1]:%u", "http://[::1]:%u", 503, 1 << 20);
    snprintf(url, sizeof(url), "%s/raw", k.url);
    ck_assert_int_eq(post(url, NULL, "line1\nline2\x01", 12, NULL), 503);
    stop(&k);
    has(k.text, "] POST /raw (12 bytes) line1\\nline2\\x01\n");
    json_t *recs = records(&k, 1), *r = json_array_get(recs, 0);
    ck_assert_str_eq(json_string_value(json_object_get(r, "body_raw")), "line1\nline2\x01");
    ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 503);
    json_decref(recs);
    free(k.text);
}
END_TEST

START_TEST(body_limit)
{
    struct sink k;
    char url[160], big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    start(&k, "127.0.0.1:%u", "http://127.0.0.1:%u", 200, 64);
    snprintf(url, sizeof(url), "%s/big", k.url);
    ck_assert_int_eq(post(url, NULL, big, 64, NULL), 200); /* exactly the limit: kept */
    ck_assert_int_eq(post(url, NULL, big, 100, NULL), 413);
    ck_assert_int_eq(post(url, "GET", NULL, 0, NULL), 405);
    stop(&k);
    has(k.text, "] POST /big rejected: body of 100 bytes is over --max-body, answered 413\n");
    json_t *recs = records(&k, 2);
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(recs, 0), "body_bytes")),
                     64);
    json_t *r = json_array_get(recs, 1);
    ck_assert(json_is_true(json_object_get(r, "body_too_large")));
    ck_assert_int_eq(json_integer_value(json_object_get(r, "status")), 413);
    ck_assert_ptr_null(json_object_get(r, "body_raw"));
    json_decref(recs);
    free(k.text);
}
END_TEST

/* The command's --listen: usage errors (MP_ERR_INVAL, exit 2) before
 * anything starts, with mp_addr's wording. */
START_TEST(listen_refused)
{
    static const char *bads[] = {"127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:80",
                                 "[::1:80", "", " 80", "localhost:+80"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bads); i++) {
        char *argv[] = {"sink", "--listen", (char *)bads[i], NULL};
        ck_assert_msg(cli_sink_cmd.run(&cli_sink_cmd, 3, argv) == MP_ERR_INVAL, "%s", bads[i]);
    }
    char *none[] = {"sink", "--status", "200", NULL};
    ck_assert_int_eq(cli_sink_cmd.run(&cli_sink_cmd, 3, none), MP_ERR_INVAL);
    ck_assert_str_eq(cli_sink_cmd.name, "sink");
}
END_TEST

START_TEST(start_refused)
{
    struct cli_sink *s = NULL;
    char err[512] = "";
    struct cli_sink_config cfg = {.status = 200, .max_body = 10, .print = stdout};
    ck_assert_int_eq(cli_sink_start(&cfg, &s, err, sizeof(err)), MP_ERR_INVAL); /* no address */
    ck_assert_int_eq(mp_addr_parse("no-such-host.invalid:80", &cfg.listen, err, sizeof(err)),
                     MP_OK);
    ck_assert_int_eq(cli_sink_start(&cfg, &s, err, sizeof(err)), MP_ERR_IO);
    has(err, "cannot listen on no-such-host.invalid: cannot resolve");
    ck_assert_int_eq(mp_addr_parse("127.0.0.1:80", &cfg.listen, err, sizeof(err)), MP_OK);
    cfg.out_path = "/nonexistent-dir/x.jsonl";
    ck_assert_int_eq(cli_sink_start(&cfg, &s, err, sizeof(err)), MP_ERR_IO);
    has(err, "cannot open /nonexistent-dir/x.jsonl");
    ck_assert_ptr_null(s);
    cli_sink_stop(NULL); /* a no-op */
}
END_TEST

CHECK_SUITE("cli_sink", 30, setup, teardown, alert_printed_and_recorded, raw_body_on_ipv6,
            body_limit, listen_refused, start_refused)
