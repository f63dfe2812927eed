/* test_cli_api.c — Check suite "cli_api": cmd/cli/cli_api, the one client
 * of the daemon's HTTP API (`mailpulse stats` and `mailpulse alerts`).
 *
 * URLs: the base without trailing '/'s, values percent-encoded. GET: any
 * HTTP answer is MP_OK with its status and body, no answer is MP_ERR_IO
 * with libcurl's reason. The error text of {"error": ...} bodies. The
 * shared options (--tenant, --api, --timeout-ms, --json) are taken by
 * cli_api_next() and the command sees only its own. cli_api_show(): a 200
 * printed (as is with --json), a refusal or no answer is MP_ERR_IO, a 200
 * of another shape what the printer returned, a failed URL build
 * MP_ERR_NOMEM; against a real mp_http server.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_api.h"
#include "e2e_harness.h"
#include "mp_http.h"

static struct mp_http *srv;
static char base[64];

static void answer(void *arg, const char *path, struct mp_http_reply *out)
{
    MP_UNUSED(arg);
    if (strcmp(path, "/ok") == 0) {
        out->status = 200;
        out->content_type = "application/json";
        out->body = strdup("{\"v\":1}");
        out->len = strlen(out->body);
    } else {
        mp_http_error(out, 409, "not today");
    }
}

static const struct mp_http_route routes[] = {{"GET", "/", answer, MP_HTTP_PREFIX, NULL}};

static void setup(void)
{
    char err[256] = "";
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (int attempt = 0; attempt < 10 && !srv; attempt++) {
        uint16_t port;
        char listen[32];
        ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
        snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)port);
        snprintf(base, sizeof(base), "http://%s", listen);
        int rc = mp_http_start(listen, routes, 1, NULL, &srv, err, sizeof(err));
        ck_assert_msg(rc == MP_OK || rc == MP_ERR_IO, "%s", err);
    }
    ck_assert_msg(srv != NULL, "%s", err);
}

static void teardown(void)
{
    mp_http_stop(srv);
    srv = NULL;
    curl_global_cleanup();
}

START_TEST(urls)
{
    struct mp_buf b = MP_BUF_INIT;
    ck_assert_int_eq(cli_api_url_start(&b, "http://h:1///", "/v1/x?t="), MP_OK);
    ck_assert_int_eq(cli_api_url_escape(&b, "a b/\xc3\xbc&=~._-"), MP_OK);
    ck_assert_str_eq(b.p, "http://h:1/v1/x?t=a%20b%2F%C3%BC%26%3D~._-");
    mp_buf_reset(&b);
    ck_assert_int_eq(cli_api_url_start(&b, "", "/p"), MP_OK);
    ck_assert_str_eq(b.p, "/p");
    mp_buf_reset(&b); /* host:port is plain HTTP */
    ck_assert_int_eq(cli_api_url_start(&b, "127.0.0.1:27480/", "/v1/alerts"), MP_OK);
    ck_assert_str_eq(b.p, "http://127.0.0.1:27480/v1/alerts");
    mp_buf_reset(&b);
    ck_assert_int_eq(cli_api_url_start(&b, "[::1]:7480", "/x"), MP_OK);
    ck_assert_str_eq(b.p, "http://[::1]:7480/x");
    mp_buf_free(&b);
}
END_TEST

START_TEST(error_text)
{
    char msg[64];
    cli_api_error_text("{\"error\":\"unknown tenant\"}", msg, sizeof(msg));
    ck_assert_str_eq(msg, "unknown tenant");
    cli_api_error_text("<html>", msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
    cli_api_error_text("", msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
    cli_api_error_text("{\"error\":7}", msg, sizeof(msg));
    ck_assert_str_eq(msg, "");
}
END_TEST

START_TEST(get)
{
    char url[128], err[CURL_ERROR_SIZE + 64] = "";
    long status = 0;
    char *body = NULL;
    snprintf(url, sizeof(url), "%s/ok", base);
    ck_assert_int_eq(cli_api_get(url, 5000, &status, &body, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(body, "{\"v\":1}");
    free(body);
    snprintf(url, sizeof(url), "%s/no", base);
    ck_assert_int_eq(cli_api_get(url, 5000, &status, &body, NULL, 0), MP_OK);
    ck_assert_int_eq(status, 409);
    ck_assert_str_eq(body, "{\"error\":\"not today\"}");
    free(body);
    /* Nobody on port 1: no answer. */
    ck_assert_int_eq(cli_api_get("http://127.0.0.1:1/x", 2000, &status, &body, err, sizeof(err)),
                     MP_ERR_IO);
    ck_assert_msg(err[0] != '\0', "no reason given");
}
END_TEST

enum { C_TENANT, C_OWN, C_API, C_TIMEOUT, C_JSON, C_TOKEN };
static const struct cli_opt opts[] = {
    [C_TENANT] = {"tenant", "T", "t"},
    [C_OWN] = {"own", "X", "the command's own"},
    CLI_API_OPT_ROWS(C_API, C_TIMEOUT, C_JSON, C_TOKEN),
};
static const struct cli_cmd cmd = {"demo", "", "usage: demo\n", opts, MP_ARRAY_LEN(opts), NULL};

START_TEST(shared_options)
{
    char *argv[] = {"demo", "--tenant", "acme", "--own", "1", "--api", "https://x:2",
                    "--timeout-ms", "250", "--json", "--own", "2", NULL};
    struct cli_args a = CLI_ARGS(&cmd, 12, argv);
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    ck_assert_str_eq(o.api, CLI_API_DEFAULT);
    ck_assert_int_eq(o.timeout_ms, 5000);
    ck_assert_int_eq(cli_api_next(&a, &o), MP_OK);
    ck_assert_uint_eq(a.idx, C_OWN);
    ck_assert_str_eq(a.val, "1");
    ck_assert_int_eq(cli_api_next(&a, &o), MP_OK);
    ck_assert_str_eq(a.val, "2");
    ck_assert_int_eq(cli_api_next(&a, &o), MP_ERR_NOTFOUND);
    ck_assert_str_eq(o.tenant, "acme");
    ck_assert_str_eq(o.api, "https://x:2");
    ck_assert_int_eq(o.timeout_ms, 250);
    ck_assert_int_eq(o.json, 1);

    char *bad_tenant[] = {"demo", "--tenant", "a b", NULL};
    char *bad_timeout[] = {"demo", "--timeout-ms", "0", NULL};
    char *bad_api[] = {"demo", "--api", "x", NULL};
    char *help[] = {"demo", "--help", NULL};
    char **bads[] = {bad_tenant, bad_timeout, bad_api};
    for (size_t i = 0; i < MP_ARRAY_LEN(bads); i++) {
        struct cli_args b = CLI_ARGS(&cmd, 3, bads[i]);
        ck_assert_int_eq(cli_api_next(&b, &o), MP_ERR_INVAL);
    }
    struct cli_args h = CLI_ARGS(&cmd, 2, help);
    ck_assert_int_eq(cli_api_next(&h, &o), CLI_HELP);
}
END_TEST

/* $MAILPULSE_API: used without --api, beaten by --api, checked and named
 * when bad, ignored when empty. */
START_TEST(api_from_env)
{
    char *none[] = {"demo", NULL};
    char *flag[] = {"demo", "--api", "http://flag:1", NULL};
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    struct cli_args a = CLI_ARGS(&cmd, 1, none);
    ck_assert_int_eq(setenv(CLI_ENV_API, "127.0.0.1:27480", 1), 0);
    ck_assert_int_eq(cli_api_next(&a, &o), MP_ERR_NOTFOUND);
    ck_assert_str_eq(o.api, "127.0.0.1:27480");

    struct cli_api_opts o2 = CLI_API_OPTS_INIT;
    struct cli_args a2 = CLI_ARGS(&cmd, 3, flag);
    ck_assert_int_eq(cli_api_next(&a2, &o2), MP_ERR_NOTFOUND);
    ck_assert_str_eq(o2.api, "http://flag:1");

    ck_assert_int_eq(setenv(CLI_ENV_API, "not a url", 1), 0);
    struct cli_api_opts o3 = CLI_API_OPTS_INIT;
    struct cli_args a3 = CLI_ARGS(&cmd, 1, none);
    ck_assert_int_eq(cli_api_next(&a3, &o3), MP_ERR_INVAL);
    struct cli_args a4 = CLI_ARGS(&cmd, 3, flag); /* the flag wins: the variable is not read */
    ck_assert_int_eq(cli_api_next(&a4, &o3), MP_ERR_NOTFOUND);

    ck_assert_int_eq(setenv(CLI_ENV_API, "", 1), 0);
    struct cli_api_opts o5 = CLI_API_OPTS_INIT;
    struct cli_args a5 = CLI_ARGS(&cmd, 1, none);
    ck_assert_int_eq(cli_api_next(&a5, &o5), MP_ERR_NOTFOUND);
    ck_assert_str_eq(o5.api, CLI_API_DEFAULT);
    unsetenv(CLI_ENV_API);
}
END_TEST

static int print_ok(FILE *f, const char *body)
{
    fprintf(f, "printed %s\n", body);
    return MP_OK;
}

static int print_refuses(FILE *f, const char *body)
{
    MP_UNUSED(f);
    MP_UNUSED(body);
    return MP_ERR_PARSE;
}

static char *url_of(const char *path)
{
    char *u = malloc(strlen(base) + strlen(path) + 1);
    ck_assert_ptr_nonnull(u);
    strcpy(u, base);
    strcat(u, path);
    return u;
}

START_TEST(show)
{
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    ck_assert_int_eq(cli_api_show(&cmd, MP_OK, url_of("/ok"), &o, print_ok, "x"), MP_OK);
    o.json = 1;
    ck_assert_int_eq(cli_api_show(&cmd, MP_OK, url_of("/ok"), &o, print_refuses, "x"), MP_OK);
    o.json = 0;
    ck_assert_int_eq(cli_api_show(&cmd, MP_OK, url_of("/ok"), &o, print_refuses, "x"),
                     MP_ERR_PARSE);
    ck_assert_int_eq(cli_api_show(&cmd, MP_OK, url_of("/no"), &o, print_ok, "x"), MP_ERR_IO);
    o.timeout_ms = 2000;
    ck_assert_int_eq(cli_api_show(&cmd, MP_OK, strdup("http://127.0.0.1:1/"), &o, print_ok, "x"),
                     MP_ERR_IO);
    ck_assert_int_eq(cli_api_show(&cmd, MP_ERR_NOMEM, NULL, &o, print_ok, "x"), MP_ERR_NOMEM);
}
END_TEST

CHECK_SUITE("cli_api", 30, setup, teardown, urls, error_text, get, shared_options, api_from_env,
            show)
