/* cli_dmarc.c — `mailpulse dmarc import` (see cli_dmarc.h). */
#include "cli_dmarc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli_api.h"
#include "mp_buf.h"

enum dmarc_opt { DM_MIME, DM_API, DM_TIMEOUT_MS, DM_JSON, DM_TOKEN };

static const struct cli_opt dmarc__opts[] = {
    [DM_MIME] = {"mime", NULL, "each FILE is a whole mail message carrying the report\n"
                               "(as a Postfix alias or pipe hands it over)"},
    CLI_API_OPT_ROWS(DM_API, DM_TIMEOUT_MS, DM_JSON, DM_TOKEN),
};

static const char dmarc__usage[] =
    "usage: mailpulse dmarc import [--mime] [--api URL] [--token TOKEN]\n"
    "                              [--timeout-ms MS] [--json] FILE...\n"
    "\n"
    "Hands DMARC aggregate reports (RFC 7489 appendix C) to the daemon's\n"
    "POST /v1/dmarc, one request per FILE: the report XML, a .gz or a .zip\n"
    "as reporters send them; with --mime a whole mail message carrying one.\n"
    "FILE - is standard input. The daemon finds the tenant from the report's\n"
    "policy domain (gate.tenants, else dmarc.tenant) and counts a report once.\n"
    "Postfix alias for the rua address:\n"
    "  dmarc: \"|/usr/bin/mailpulse dmarc import --mime -\"\n"
    "Exit status: 0 counted or already counted, 1 a report refused, 75 the\n"
    "daemon could not be reached or failed (try again later), 2 bad usage.\n";

/* The whole file (or stdin for "-") into *buf; MP_OK, MP_ERR_IO (errno),
 * MP_ERR_FULL (over CLI_DMARC_FILE_MAX). */
static int dmarc__read(const char *path, struct mp_buf *buf)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return MP_ERR_IO;
    int rc = MP_OK;
    char chunk[65536];
    size_t n;
    while (rc == MP_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = buf->len + n > CLI_DMARC_FILE_MAX ? MP_ERR_FULL : mp_buf_append(buf, chunk, n);
    if (rc == MP_OK && ferror(f))
        rc = MP_ERR_IO;
    if (f != stdin)
        fclose(f);
    return rc;
}

static void dmarc__print(const char *path, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *st = json_string_value(json_object_get(j, "status"));
    printf("%s: %s tenant=%s domain=%s org=\"%s\" report_id=\"%s\" records=%lld messages=%lld\n",
           path, st ? st : "?", json_string_value(json_object_get(j, "tenant")),
           json_string_value(json_object_get(j, "domain")),
           json_string_value(json_object_get(j, "org_name")),
           json_string_value(json_object_get(j, "report_id")),
           (long long)json_integer_value(json_object_get(j, "records")),
           (long long)json_integer_value(json_object_get(j, "messages")));
    json_decref(j);
}

/* One file: MP_OK (counted or duplicate), MP_ERR_INVAL (refused: 4xx, or
 * unreadable), CLI_TEMPFAIL (no answer, 5xx). */
static int dmarc__one(const struct cli_cmd *cmd, const char *path, int mime, const char *url,
                      const char *token, const struct cli_api_opts *o)
{
    struct mp_buf buf = MP_BUF_INIT;
    int rc = dmarc__read(path, &buf);
    if (rc != MP_OK) {
        cli_fail(cmd, "%s: %s", path,
                 rc == MP_ERR_FULL ? "larger than 16 MiB" : strerror(errno ? errno : EIO));
        mp_buf_free(&buf);
        return MP_ERR_INVAL;
    }
    long status = 0;
    char *body = NULL, err[512] = "";
    rc = cli_api_post_bytes("POST", url, token,
                            mime ? "message/rfc822" : "application/octet-stream",
                            buf.p ? buf.p : "", buf.len, (long)o->timeout_ms, &status, &body,
                            err, sizeof(err));
    mp_buf_free(&buf);
    if (rc != MP_OK) {
        cli_fail(cmd, "%s: cannot POST %s: %s (is mailpulsed running with http.listen there?)",
                 path, url, rc == MP_ERR_NOMEM ? "out of memory" : err);
        free(body);
        return CLI_TEMPFAIL;
    }
    if (status == 200) {
        if (o->json)
            printf("%s\n", body);
        else
            dmarc__print(path, body);
        free(body);
        return MP_OK;
    }
    cli_api_error_text(body, err, sizeof(err));
    cli_fail(cmd, "%s: the daemon answered %ld: %s", path, status, err[0] ? err : body);
    free(body);
    return status >= 500 ? CLI_TEMPFAIL : MP_ERR_INVAL;
}

/* argv split: options (with their values) for cli_api_next, files apart.
 * An option takes a value unless it is a flag or holds '='. */
static int dmarc__split(int argc, char **argv, char **opts, int *nopts, const char **files,
                        int *nfiles)
{
    *nopts = 1;
    *nfiles = 0;
    opts[0] = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (s[0] != '-' || strcmp(s, "-") == 0) {
            if (*nfiles >= CLI_DMARC_FILES_MAX)
                return -1;
            files[(*nfiles)++] = s;
            continue;
        }
        opts[(*nopts)++] = argv[i];
        int flag = strcmp(s, "--mime") == 0 || strcmp(s, "--json") == 0 ||
                   strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0 || strchr(s, '=');
        if (!flag && i + 1 < argc)
            opts[(*nopts)++] = argv[++i];
    }
    return 0;
}

static int dmarc__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    int import = argc > 1 && strcmp(argv[1], "import") == 0;
    char **opts = calloc((size_t)argc + 1, sizeof(*opts));
    const char *files[CLI_DMARC_FILES_MAX];
    int nopts, nfiles, rc, mime = 0;
    if (!opts)
        return MP_ERR_NOMEM;
    if (dmarc__split(import ? argc - 1 : argc, import ? argv + 1 : argv, opts, &nopts, files,
                     &nfiles) != 0) {
        free(opts);
        return cli_usage_error(cmd, "at most %d files in one run", CLI_DMARC_FILES_MAX);
    }
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    struct cli_args a = CLI_ARGS(cmd, nopts, opts);
    while ((rc = cli_api_next(&a, &o)) == MP_OK)
        if (a.idx == DM_MIME)
            mime = 1;
    if (rc == MP_ERR_NOTFOUND && !import)
        rc = cli_usage_error(cmd, "needs an action: import");
    else if (rc == MP_ERR_NOTFOUND && nfiles == 0)
        rc = cli_usage_error(cmd, "import needs FILE... (or - for standard input)");
    if (rc != MP_ERR_NOTFOUND) {
        free(opts);
        return rc == CLI_HELP ? MP_OK : rc;
    }
    const char *token = o.token, *env = getenv(CLI_API_TOKEN_ENV);
    struct mp_buf u = MP_BUF_INIT;
    if (!token && env && *env && cli_opt_token(cmd, "$" CLI_API_TOKEN_ENV, env, &token) != MP_OK) {
        free(opts);
        return MP_ERR_INVAL;
    }
    rc = cli_api_url_start(&u, o.api, "/v1/dmarc");
    int worst = MP_OK;
    for (int i = 0; rc == MP_OK && i < nfiles; i++) {
        int one = dmarc__one(cmd, files[i], mime, u.p, token, &o);
        if (one == CLI_TEMPFAIL || (one != MP_OK && worst == MP_OK))
            worst = one;
    }
    fflush(stdout);
    mp_buf_free(&u);
    free(opts);
    if (rc != MP_OK)
        return rc;
    /* a refused report is not a usage error: exit 1, not 2 */
    return worst == MP_ERR_INVAL ? MP_ERR_IO : worst;
}

const struct cli_cmd cli_dmarc_cmd = {
    "dmarc", "import DMARC aggregate reports (XML, .gz, .zip, mail) into the daemon",
    dmarc__usage, dmarc__opts, MP_ARRAY_LEN(dmarc__opts), dmarc__run};
