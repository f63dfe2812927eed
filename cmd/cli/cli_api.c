/* cli_api.c — GET from the daemon's HTTP API (see cli_api.h). */
#include "cli_api.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

int cli_api_url_start(struct mp_buf *b, const char *api, const char *path)
{
    size_t alen = strlen(api);
    while (alen > 0 && api[alen - 1] == '/')
        alen--;
    /* A bare host:port (cli_opt_api() let it through) means plain HTTP. */
    int rc = alen == 0 || strstr(api, "://") ? MP_OK : mp_buf_puts(b, "http://");
    if (rc == MP_OK)
        rc = mp_buf_append(b, api, alen);
    return rc == MP_OK ? mp_buf_puts(b, path) : rc;
}

int cli_api_url_escape(struct mp_buf *b, const char *value)
{
    CURL *e = curl_easy_init();
    if (!e)
        return MP_ERR_NOMEM;
    char *esc = curl_easy_escape(e, value, (int)strlen(value));
    curl_easy_cleanup(e);
    if (!esc)
        return MP_ERR_NOMEM;
    int rc = mp_buf_puts(b, esc);
    curl_free(esc);
    return rc;
}

struct api__body {
    struct mp_buf b;
    int over; /* the answer passed CLI_API_BODY_MAX, or memory ran out */
};

static size_t api__write(char *data, size_t size, size_t nmemb, void *arg)
{
    struct api__body *r = arg;
    size_t n = size * nmemb;
    if (r->b.len + n > CLI_API_BODY_MAX || mp_buf_append(&r->b, data, n) != MP_OK) {
        r->over = 1;
        return 0; /* makes curl fail the transfer */
    }
    return n;
}

int cli_api_get(const char *url, long timeout_ms, long *status, char **body, char *err,
                size_t errlen)
{
    return cli_api_get_auth(url, NULL, timeout_ms, status, body, err, errlen);
}

int cli_api_get_auth(const char *url, const char *token, long timeout_ms, long *status,
                     char **body, char *err, size_t errlen)
{
    return cli_api_request("GET", url, token, NULL, timeout_ms, status, body, err, errlen);
}

int cli_api_request(const char *method, const char *url, const char *token, const char *req,
                    long timeout_ms, long *status, char **body, char *err, size_t errlen)
{
    return cli_api_post_bytes(method, url, token, req ? "application/json" : NULL, req,
                              req ? strlen(req) : 0, timeout_ms, status, body, err, errlen);
}

int cli_api_post_bytes(const char *method, const char *url, const char *token,
                       const char *ctype, const void *req, size_t len, long timeout_ms,
                       long *status, char **body, char *err, size_t errlen)
{
    int rc = MP_ERR_IO;
    struct api__body r = {MP_BUF_INIT, 0};
    char cerr[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdr = NULL;
    struct mp_buf h = MP_BUF_INIT;
    CURL *e = curl_easy_init();
    if (!e)
        return MP_ERR_NOMEM;
    if (token && (mp_buf_printf(&h, "Authorization: Bearer %s", token) != MP_OK ||
                  (hdr = curl_slist_append(NULL, h.p)) == NULL)) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    if (req) {
        struct mp_buf cth = MP_BUF_INIT;
        struct curl_slist *ct = mp_buf_printf(&cth, "Content-Type: %s", ctype) == MP_OK
                                    ? curl_slist_append(hdr, cth.p) : NULL;
        mp_buf_free(&cth);
        if (!ct) {
            rc = MP_ERR_NOMEM;
            goto out;
        }
        hdr = ct;
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    if (hdr)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, api__write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &r);
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        if (err && errlen && r.over)
            snprintf(err, errlen, "the answer is larger than %zu bytes", CLI_API_BODY_MAX);
        else if (err && errlen)
            snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        goto out;
    }
    if (!(*body = mp_buf_take(&r.b))) {
        rc = MP_ERR_NOMEM;
        goto out;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    rc = MP_OK;
out:
    mp_buf_free(&r.b);
    mp_buf_free(&h);
    curl_easy_cleanup(e);
    curl_slist_free_all(hdr);
    return rc;
}

void cli_api_error_text(const char *body, char *out, size_t n)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *msg = json_string_value(json_object_get(j, "error"));
    snprintf(out, n, "%s", msg ? msg : "");
    json_decref(j);
}

/* GET `url`: MP_OK with *body on a 200; otherwise says why (unreachable, or
 * the daemon's own error message) and returns MP_ERR_IO or MP_ERR_NOMEM
 * (*body may still need freeing). */
static int api__fetch(const struct cli_cmd *cmd, const char *method, const char *req,
                      const char *url, const char *token, int64_t timeout_ms, char **body)
{
    char err[CURL_ERROR_SIZE + 64];
    long status = 0;
    int rc = cli_api_request(method, url, token, req, (long)timeout_ms, &status, body, err,
                             sizeof(err));
    if (rc != MP_OK) {
        cli_fail(cmd, "cannot %s %s: %s (is mailpulsed running with http.listen there?)",
                 strcmp(method, "GET") == 0 ? "get" : method, url,
                 rc == MP_ERR_NOMEM ? "out of memory" : err);
        return rc;
    }
    if (status == 200)
        return MP_OK;
    cli_api_error_text(*body, err, sizeof(err));
    if (status == 401)
        cli_fail(cmd, "the daemon answered 401: %s (%s)", err[0] ? err : "no token",
                 token ? "is --token or $" CLI_API_TOKEN_ENV " right?"
                       : "give --token or set $" CLI_API_TOKEN_ENV);
    else if (err[0])
        cli_fail(cmd, "the daemon answered %ld: %s", status, err);
    else
        cli_fail(cmd, "the daemon answered %ld to %s: %.200s", status, url, *body);
    return MP_ERR_IO;
}

/* The shared option cli_next() just read into *o: MP_OK, a usage error, or
 * MP_ERR_NOTFOUND when it is none of them. */
static int api__opt(const struct cli_args *a, struct cli_api_opts *o)
{
    const char *name = a->opt->name;
    if (strcmp(name, "tenant") == 0)
        return cli_opt_tenant(a->cmd, a->val, &o->tenant);
    if (strcmp(name, "api") == 0) {
        o->api_given = 1;
        return cli_opt_api(a->cmd, a->val, &o->api);
    }
    if (strcmp(name, "token") == 0)
        return cli_opt_token(a->cmd, "--token", a->val, &o->token);
    if (strcmp(name, "timeout-ms") == 0)
        return cli_arg_i64(a, 1, CLI_MAX_TIMEOUT_MS, &o->timeout_ms);
    if (strcmp(name, "json") == 0) {
        o->json = 1;
        return MP_OK;
    }
    return MP_ERR_NOTFOUND;
}

int cli_api_next(struct cli_args *a, struct cli_api_opts *o)
{
    int rc;
    while ((rc = cli_next(a)) == MP_OK)
        if ((rc = api__opt(a, o)) != MP_OK)
            return rc == MP_ERR_NOTFOUND ? MP_OK : rc;
    /* At the end: $MAILPULSE_API for an --api not given. */
    const char *env = cli_env(CLI_ENV_API);
    if (rc == MP_ERR_NOTFOUND && !o->api_given && env) {
        int erc = cli_opt_api_from(a->cmd, "$" CLI_ENV_API, env, &o->api);
        if (erc != MP_OK)
            return erc;
        o->api_given = 1;
    }
    return rc;
}

int cli_api_show(const struct cli_cmd *cmd, int url_rc, char *url, const struct cli_api_opts *o,
                 int (*print)(FILE *f, const char *body), const char *what)
{
    return cli_api_send(cmd, "GET", NULL, url_rc, url, o, print, what);
}

int cli_api_send(const struct cli_cmd *cmd, const char *method, const char *req, int url_rc,
                 char *url, const struct cli_api_opts *o,
                 int (*print)(FILE *f, const char *body), const char *what)
{
    char *body = NULL;
    if (url_rc != MP_OK) {
        cli_fail(cmd, "out of memory");
        free(url);
        return url_rc;
    }
    const char *token = o->token, *env = getenv(CLI_API_TOKEN_ENV);
    if (!token && env && *env && cli_opt_token(cmd, "$" CLI_API_TOKEN_ENV, env, &token) != MP_OK) {
        free(url);
        return MP_ERR_INVAL;
    }
    int rc = api__fetch(cmd, method, req, url, token, o->timeout_ms, &body);
    if (rc == MP_OK && o->json)
        printf("%s\n", body);
    else if (rc == MP_OK && (rc = print(stdout, body)) != MP_OK)
        cli_fail(cmd, "%s answered 200 but not with %s: %.200s", url, what, body);
    fflush(stdout);
    free(body);
    free(url);
    return rc;
}
