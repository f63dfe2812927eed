/* cli_opt.c — options, usage errors and values of the subcommands (see
 * cli_opt.h). */
#include "cli_opt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "eng_name.h"
#include "mp_addr.h"

/* Not in the commands' tables: every command takes it, so cli_next() and
 * cli_print_help() add it after the table's rows. */
static const struct cli_opt opt__help = {"help", NULL, "show this help"};

/* Row i of the command's options, the implicit --help at n_opts. */
static const struct cli_opt *opt__row(const struct cli_cmd *cmd, size_t i)
{
    return i < cmd->n_opts ? &cmd->opts[i] : &opt__help;
}

void cli_print_help(const struct cli_cmd *cmd, FILE *f)
{
    fputs(cmd->usage, f);
    fputs("\noptions:\n", f);
    for (size_t i = 0; i <= cmd->n_opts; i++) {
        const struct cli_opt *o = opt__row(cmd, i);
        char left[64];
        snprintf(left, sizeof(left), "%s--%s%s%s", o == &opt__help ? "-h, " : "", o->name,
                 o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-22s ", left);
        for (const char *h = o->help; *h; h++) {
            fputc(*h, f);
            if (*h == '\n')
                fprintf(f, "  %-22s ", "");
        }
        fputc('\n', f);
    }
}

/* "mailpulse CMD: message" on stderr. */
static void opt__vprint(const struct cli_cmd *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void opt__vprint(const struct cli_cmd *cmd, const char *fmt, va_list ap)
{
    fprintf(stderr, "mailpulse %s: ", cmd->name);
    vfprintf(stderr, fmt, ap);
}

/* Also points at --help; returns MP_ERR_INVAL so callers can
 * `return cli_usage_error(...)`. */
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    opt__vprint(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'mailpulse %s --help' for the options.\n", cmd->name);
    return MP_ERR_INVAL;
}

/* A failure at run time. */
void cli_fail(const struct cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    opt__vprint(cmd, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Exact names only: no abbreviations, no positionals. */
int cli_next(struct cli_args *a)
{
    if (a->i >= a->argc)
        return MP_ERR_NOTFOUND;
    const char *arg = a->argv[a->i++];
    const char *name;
    if (strcmp(arg, "-h") == 0)
        name = "help";
    else if (strncmp(arg, "--", 2) == 0 && arg[2] != '\0')
        name = arg + 2;
    else if (arg[0] == '-')
        return cli_usage_error(a->cmd, "unknown option '%s'", arg);
    else
        return cli_usage_error(a->cmd, "unexpected argument '%s'", arg);

    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    for (size_t i = 0; i <= a->cmd->n_opts; i++) {
        const struct cli_opt *o = opt__row(a->cmd, i);
        if (strlen(o->name) != len || strncmp(o->name, name, len) != 0)
            continue;
        if (o->arg == NULL) {
            if (eq != NULL)
                return cli_usage_error(a->cmd, "--%s takes no value", o->name);
            a->val = NULL;
        } else if (eq != NULL) {
            a->val = eq + 1;
        } else if (a->i < a->argc) {
            a->val = a->argv[a->i++]; /* taken as is, even "" or "-x" */
        } else {
            return cli_usage_error(a->cmd, "--%s needs a value (%s)", o->name, o->arg);
        }
        a->idx = i;
        a->opt = o;
        if (o == &opt__help) {
            cli_print_help(a->cmd, stdout);
            return CLI_HELP;
        }
        return MP_OK;
    }
    return cli_usage_error(a->cmd, "unknown option '--%.*s'", (int)len, name);
}

/* Whole decimal integers only: no spaces, no suffixes, no hex. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    const char *d = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
    if (*d < '0' || *d > '9')
        return MP_ERR_INVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return MP_ERR_INVAL;
    *out = v;
    return MP_OK;
}

int cli_parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') /* strtoull would wrap "-1" */
        return MP_ERR_INVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return MP_ERR_INVAL;
    *out = v;
    return MP_OK;
}

/* Parses an option's integer value, or prints a usage error naming it. */
int cli_opt_i64(const struct cli_cmd *cmd, const struct cli_opt *o, const char *val,
                        int64_t min, int64_t max, int64_t *out)
{
    if (cli_parse_i64(val, min, max, out) == MP_OK)
        return MP_OK;
    return cli_usage_error(cmd, "--%s: expected an integer %" PRId64 "..%" PRId64 ", got \"%s\"",
                            o->name, min, max, val);
}

int cli_arg_i64(const struct cli_args *a, int64_t min, int64_t max, int64_t *out)
{
    return cli_opt_i64(a->cmd, a->opt, a->val, min, max, out);
}

int cli_opt_tenant(const struct cli_cmd *cmd, const char *val, const char **out)
{
    if (!eng_name_valid(val, strlen(val)))
        return cli_usage_error(cmd,
                               "--tenant: expected 1..64 characters of A-Z a-z 0-9 . _ -, "
                               "got \"%s\"",
                               val);
    *out = val;
    return MP_OK;
}

/* 1 when s holds no byte <= ' ' and no DEL: a value that goes into a URL
 * or an endpoint as it is. */
static int opt__no_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return 0;
    return 1;
}

/* The length of the scheme prefix of s among `schemes`, or 0. */
static size_t opt__scheme(const char *s, const char *const *schemes, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(s, schemes[i], strlen(schemes[i])) == 0)
            return strlen(schemes[i]);
    return 0;
}

int cli_opt_api_from(const struct cli_cmd *cmd, const char *what, const char *val,
                     const char **out)
{
    static const char *const schemes[] = {"http://", "https://"};
    size_t sl = opt__scheme(val, schemes, MP_ARRAY_LEN(schemes));
    struct mp_addr addr;
    int ok = opt__no_space(val) &&
             (sl ? val[sl] != '\0' && val[sl] != '/'
                 : strstr(val, "://") == NULL && mp_addr_parse(val, &addr, NULL, 0) == MP_OK);
    if (!ok)
        return cli_usage_error(cmd,
                               "%s: expected an http:// or https:// URL or a host:port "
                               "(e.g. 127.0.0.1:7480 or [::1]:7480), got \"%s\"",
                               what, val);
    *out = val;
    return MP_OK;
}

int cli_opt_api(const struct cli_cmd *cmd, const char *val, const char **out)
{
    return cli_opt_api_from(cmd, "--api", val, out);
}

int cli_opt_endpoint(const struct cli_cmd *cmd, const char *what, const char *val,
                     const char **out)
{
    static const char *const schemes[] = {"tcp://", "ipc://", "inproc://"};
    size_t sl = opt__scheme(val, schemes, MP_ARRAY_LEN(schemes));
    if (!sl || val[sl] == '\0' || !opt__no_space(val))
        return cli_usage_error(cmd,
                               "%s: expected a ZeroMQ endpoint tcp://HOST:PORT (or ipc://PATH, "
                               "inproc://NAME), got \"%s\"",
                               what, val);
    *out = val;
    return MP_OK;
}

const char *cli_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int cli_opt_token(const struct cli_cmd *cmd, const char *what, const char *val, const char **out)
{
    size_t n = 0;
    while (val[n] && (unsigned char)val[n] > ' ' && (unsigned char)val[n] < 0x7f)
        n++;
    if (val[n] || n == 0 || n > 512)
        return cli_usage_error(cmd,
                               "%s: expected 1..512 printable ASCII characters without spaces "
                               "(the value is not shown)",
                               what);
    *out = val;
    return MP_OK;
}

int cli_opt_env_endpoint(const struct cli_cmd *cmd, int given, const char *var,
                         const char **endpoint)
{
    if (given)
        return cli_opt_endpoint(cmd, "--endpoint", *endpoint, endpoint);
    const char *env = cli_env(var);
    if (!env)
        return MP_OK;
    char what[40];
    snprintf(what, sizeof(what), "$%s", var);
    return cli_opt_endpoint(cmd, what, env, endpoint);
}

int cli_opt_env_api(const struct cli_cmd *cmd, int given, const char **api)
{
    const char *env = given ? NULL : cli_env(CLI_ENV_API);
    return env ? cli_opt_api_from(cmd, "$" CLI_ENV_API, env, api) : MP_OK;
}
