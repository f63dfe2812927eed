/* cli_silence.c — `mailpulse silence` (see cli_silence.h). */
#include "cli_silence.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "cli_api.h"
#include "cli_table.h"
#include "mp_buf.h"
#include "mp_matcher.h"

#define SILENCE_MATCHERS_MAX 32

int cli_silence_matcher(const char *text, json_t **out)
{
    size_t nl = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
    const char *p = text + nl;
    int re, eq;
    if (nl == 0 || nl > 128 || (text[0] >= '0' && text[0] <= '9'))
        return MP_ERR_INVAL;
    if (strncmp(p, "=~", 2) == 0 || strncmp(p, "!~", 2) == 0 || strncmp(p, "!=", 2) == 0) {
        re = p[1] == '~';
        eq = p[0] == '=';
        p += 2;
    } else if (*p == '=') {
        re = 0;
        eq = 1;
        p++;
    } else {
        return MP_ERR_INVAL;
    }
    char *v = mp_matcher_value(p), *name = strndup(text, nl);
    if (!v || !name) {
        free(v);
        free(name);
        return MP_ERR_NOMEM;
    }
    *out = json_pack("{s:s, s:s, s:b, s:b}", "name", name, "value", v, "isRegex", re, "isEqual",
                     eq);
    free(v);
    free(name);
    return *out ? MP_OK : MP_ERR_NOMEM;
}

int cli_silence_duration(const char *text, int64_t *ms)
{
    char *end;
    long long n = strtoll(text, &end, 10);
    int64_t unit = end[0] == 's' ? 1000 : end[0] == 'm' ? 60000 : end[0] == 'h' ? 3600000
                   : end[0] == 'd'   ? 86400000
                                     : 0;
    if (end == text || text[0] < '0' || text[0] > '9' || !unit || end[1] || n <= 0 ||
        n > 3650LL * 86400000 / unit)
        return MP_ERR_INVAL;
    *ms = n * unit;
    return MP_OK;
}

/* ---- the table ---- */

enum { SC_ID, SC_STATE, SC_ENDS, SC_BY, SC_MATCHERS, SC_N };
static const struct cli_col silence__cols[SC_N] = {
    [SC_ID] = {"ID", 36, 0},     [SC_STATE] = {"STATE", 7, 0},
    [SC_ENDS] = {"ENDS UTC", 11, 0}, [SC_BY] = {"CREATED BY", 10, 0},
    [SC_MATCHERS] = {"MATCHERS", 32, 0},
};

static const char *silence__str(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : "-";
}

static void silence__row(FILE *f, json_t *s)
{
    struct mp_buf m = MP_BUF_INIT;
    json_t *x;
    size_t i;
    char ends[64];
    json_array_foreach(json_object_get(s, "matchers"), i, x)
    {
        int re = json_is_true(json_object_get(x, "isRegex")),
            eq = !json_is_false(json_object_get(x, "isEqual"));
        mp_buf_printf(&m, "%s%s%s%s", i ? " " : "", silence__str(x, "name"),
                      re ? (eq ? "=~" : "!~") : (eq ? "=" : "!="), silence__str(x, "value"));
    }
    cli_table_time(silence__str(s, "endsAt"), 0, ends, sizeof(ends));
    const char *cells[SC_N] = {
        [SC_ID] = silence__str(s, "id"),
        [SC_STATE] = silence__str(json_object_get(s, "status"), "state"),
        [SC_ENDS] = ends,
        [SC_BY] = silence__str(s, "createdBy"),
        [SC_MATCHERS] = m.p ? m.p : "-",
    };
    cli_table_row(f, "", silence__cols, SC_N, cells);
    mp_buf_free(&m);
}

int cli_silence_print(FILE *f, const char *body)
{
    json_t *arr = json_loads(body, 0, NULL), *s;
    size_t i;
    if (!json_is_array(arr)) {
        json_decref(arr);
        return MP_ERR_PARSE;
    }
    if (json_array_size(arr) == 0)
        fprintf(f, "no silences\n");
    else
        cli_table_row(f, "", silence__cols, SC_N, NULL);
    json_array_foreach(arr, i, s)
        silence__row(f, s);
    json_decref(arr);
    return MP_OK;
}

static int silence__print_added(FILE *f, const char *body)
{
    json_t *j = json_loads(body, 0, NULL);
    const char *id = json_string_value(json_object_get(j, "silenceID"));
    if (id)
        fprintf(f, "%s\n", id);
    json_decref(j);
    return id ? MP_OK : MP_ERR_PARSE;
}

static int silence__print_expired(FILE *f, const char *body)
{
    MP_UNUSED(body);
    fprintf(f, "expired\n");
    return MP_OK;
}

/* ---- the command ---------------------------------------------------------- */

enum silence_opt { SIL_MATCHER, SIL_TENANT, SIL_DURATION, SIL_AUTHOR, SIL_COMMENT, SIL_ID,
                   SIL_EXPIRED, SIL_API, SIL_TIMEOUT_MS, SIL_JSON, SIL_TOKEN };

static const struct cli_opt silence__opts[] = {
    [SIL_MATCHER] = {"matcher", "M", "add: a matcher, NAME=V, NAME!=V, NAME=~RE or NAME!~RE\n"
                                     "(repeatable); query: a filter of the same form"},
    [SIL_TENANT] = {"tenant", "T", "the matcher tenant=T (add), or the filter (query)"},
    [SIL_DURATION] = {"duration", "D", "add: how long from now, 90s, 30m, 2h, 7d (default 1h)"},
    [SIL_AUTHOR] = {"author", "NAME", "add: who creates it (default: $USER)"},
    [SIL_COMMENT] = {"comment", "TEXT", "add: why (required)"},
    [SIL_ID] = {"id", "ID", "expire: the silence to expire"},
    [SIL_EXPIRED] = {"expired", NULL, "query: list expired silences too"},
    CLI_API_OPT_ROWS(SIL_API, SIL_TIMEOUT_MS, SIL_JSON, SIL_TOKEN),
};

static const char silence__usage[] =
    "usage: mailpulse silence add --comment TEXT [--tenant T] [--matcher M]...\n"
    "                             [--duration D] [--author NAME]\n"
    "       mailpulse silence query [--tenant T] [--matcher M]... [--expired]\n"
    "       mailpulse silence expire --id ID\n"
    "       (each also takes [--api URL] [--timeout-ms MS] [--json] [--token TOKEN])\n"
    "\n"
    "Silences mute the notifications of the alerts they match (the alerts stay\n"
    "tracked and listed), through the daemon's Alertmanager API v2 (amtool\n"
    "works too). add prints the new silence's id; query prints id, state, end\n"
    "(UTC), author and matchers, within 100 columns (--json: the API's body);\n"
    "expire ends one now. A tenant token may only add silences pinning its\n"
    "tenant (--tenant T).\n"
    "Exit status: 0 done, 1 the daemon could not be reached or refused the\n"
    "request, 2 bad usage.\n";

struct silence_args {
    json_t *matchers;
    const char *tenant_filter, *author, *comment, *id;
    int64_t duration_ms;
    int expired;
    const char *filters[SILENCE_MATCHERS_MAX];
    size_t nf;
};

static int silence__opt(const struct cli_args *a, int action, struct silence_args *s)
{
    const struct cli_cmd *cmd = a->cmd;
    json_t *m = NULL;
    int ok = 1;
    switch ((enum silence_opt)a->idx) {
    case SIL_MATCHER:
        if (cli_silence_matcher(a->val, &m) != MP_OK || s->nf >= SILENCE_MATCHERS_MAX)
            return cli_usage_error(cmd, "--matcher \"%.64s\": NAME=V, NAME!=V, NAME=~RE or "
                                        "NAME!~RE (at most %d)", a->val, SILENCE_MATCHERS_MAX);
        json_array_append_new(s->matchers, m);
        s->filters[s->nf++] = a->val;
        ok = action != 'e';
        break;
    case SIL_DURATION:
        if (cli_silence_duration(a->val, &s->duration_ms) != MP_OK)
            return cli_usage_error(cmd, "--duration \"%.32s\": N followed by s, m, h or d "
                                        "(1s..3650d)", a->val);
        ok = action == 'a';
        break;
    case SIL_AUTHOR: s->author = a->val; ok = action == 'a'; break;
    case SIL_COMMENT: s->comment = a->val; ok = action == 'a'; break;
    case SIL_ID: s->id = a->val; ok = action == 'e'; break;
    case SIL_EXPIRED: s->expired = 1; ok = action == 'q'; break;
    default: break; /* shared ones: cli_api_next() */
    }
    if (!ok)
        return cli_usage_error(cmd, "--%s does not go with this action", a->opt->name);
    return MP_OK;
}

/* The request of `add`: matchers, now .. now + duration, author, comment. */
static char *silence__add_body(struct silence_args *s, const char *tenant)
{
    char st[40], en[40];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    time_t a = (time_t)(now / 1000), b = (time_t)((now + s->duration_ms) / 1000);
    strftime(st, sizeof(st), "%Y-%m-%dT%H:%M:%SZ", gmtime(&a));
    strftime(en, sizeof(en), "%Y-%m-%dT%H:%M:%SZ", gmtime(&b));
    if (tenant)
        json_array_insert_new(s->matchers, 0,
                              json_pack("{s:s, s:s, s:b, s:b}", "name", "tenant", "value", tenant,
                                        "isRegex", 0, "isEqual", 1));
    json_t *j = json_pack("{s:O, s:s, s:s, s:s, s:s}", "matchers", s->matchers, "startsAt", st,
                          "endsAt", en, "createdBy", s->author, "comment", s->comment);
    char *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return out;
}

/* The URL (and body, for add) of the action; MP_OK or a usage error. */
static int silence__request(const struct cli_cmd *cmd, int action, struct silence_args *s,
                            const struct cli_api_opts *o, struct mp_buf *u, char **req)
{
    int rc = MP_OK;
    *req = NULL;
    if (action == 'a') {
        if (!s->comment || !*s->comment)
            return cli_usage_error(cmd, "add needs --comment TEXT (why the silence)");
        if (!s->author || !*s->author)
            return cli_usage_error(cmd, "add needs --author NAME ($USER is not set)");
        if (!o->tenant && json_array_size(s->matchers) == 0)
            return cli_usage_error(cmd, "add needs --tenant T or --matcher M");
        rc = cli_api_url_start(u, o->api, "/api/v2/silences");
        if (rc == MP_OK && !(*req = silence__add_body(s, o->tenant)))
            rc = MP_ERR_NOMEM;
    } else if (action == 'q') {
        rc = cli_api_url_start(u, o->api, "/api/v2/silences");
        char sep = '?';
        for (size_t i = 0; rc == MP_OK && i < s->nf + (o->tenant != NULL); i++, sep = '&') {
            if ((rc = mp_buf_printf(u, "%cfilter=", sep)) != MP_OK)
                break;
            if (i == s->nf && (rc = mp_buf_puts(u, "tenant%3D")) == MP_OK)
                rc = cli_api_url_escape(u, o->tenant);
            else if (i < s->nf)
                rc = cli_api_url_escape(u, s->filters[i]);
        }
    } else {
        if (!s->id)
            return cli_usage_error(cmd, "expire needs --id ID");
        rc = cli_api_url_start(u, o->api, "/api/v2/silence/");
        if (rc == MP_OK)
            rc = cli_api_url_escape(u, s->id);
    }
    return rc;
}

/* query: drops expired silences unless --expired (the API lists them). */
static int silence__print_query(FILE *f, const char *body)
{
    return cli_silence_print(f, body);
}

static int silence__print_active(FILE *f, const char *body)
{
    json_t *arr = json_loads(body, 0, NULL), *keep = json_array(), *s;
    size_t i;
    json_array_foreach(arr, i, s)
    {
        const char *st = json_string_value(json_object_get(json_object_get(s, "status"), "state"));
        if (!st || strcmp(st, "expired") != 0)
            json_array_append(keep, s);
    }
    char *b = json_is_array(arr) ? json_dumps(keep, 0) : NULL;
    json_decref(arr);
    json_decref(keep);
    int rc = b ? cli_silence_print(f, b) : MP_ERR_PARSE;
    free(b);
    return rc;
}

static int silence__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *act = argc > 1 ? argv[1] : "";
    int action = strcmp(act, "add") == 0 ? 'a' : strcmp(act, "query") == 0 ? 'q'
                 : strcmp(act, "expire") == 0 ? 'e' : 0;
    struct cli_api_opts o = CLI_API_OPTS_INIT;
    struct silence_args s = {.matchers = json_array(), .author = getenv("USER"),
                             .duration_ms = 3600000};
    /* without an action, only --help makes sense: walk the options as given */
    struct cli_args a = CLI_ARGS(cmd, action ? argc - 1 : argc, action ? argv + 1 : argv);
    int rc;
    while ((rc = cli_api_next(&a, &o)) == MP_OK)
        if ((rc = silence__opt(&a, action, &s)) != MP_OK)
            break;
    if (rc == MP_ERR_NOTFOUND && !action)
        rc = cli_usage_error(cmd, "needs an action: add, query or expire");
    if (rc != MP_ERR_NOTFOUND) {
        json_decref(s.matchers);
        return rc == CLI_HELP ? MP_OK : rc;
    }
    struct mp_buf u = MP_BUF_INIT;
    char *req = NULL;
    rc = silence__request(cmd, action, &s, &o, &u, &req);
    if (rc == MP_OK || rc == MP_ERR_NOMEM) {
        char *url = mp_buf_take(&u);
        rc = cli_api_send(cmd, action == 'a' ? "POST" : action == 'e' ? "DELETE" : "GET", req,
                          url ? rc : MP_ERR_NOMEM, url, &o,
                          action == 'a'   ? silence__print_added
                          : action == 'e' ? silence__print_expired
                          : s.expired     ? silence__print_query
                                          : silence__print_active,
                          "silence JSON");
    }
    mp_buf_free(&u);
    free(req);
    json_decref(s.matchers);
    return rc;
}

const struct cli_cmd cli_silence_cmd = {
    "silence", "add, list or expire silences (Alertmanager API v2) on the daemon",
    silence__usage, silence__opts, MP_ARRAY_LEN(silence__opts), silence__run};
