/* cli_opt.h — what every `mailpulse` subcommand shares: the command and
 * option tables, the option walker, usage errors and integer values.
 *
 * Contract: a subcommand is a struct cli_cmd (name, one-line summary, usage
 * text, option table, run function); mailpulse.c lists them and dispatches.
 * Every command takes --help (-h): it is not a row of the tables, cli_next()
 * and cli_print_help() add it after the last row.
 * cli_next() walks argv[1..] strictly: "--name value", "--name=value",
 * "--flag" and "-h" (= --help), exact names only, no positionals.
 * Usage errors print "mailpulse CMD: what is wrong" and a pointer to --help
 * to stderr and return MP_ERR_INVAL, which the dispatcher turns into exit
 * status 2; cli_fail() prints a run-time failure the same way (exit 1 comes
 * from the caller's return code). Values are checked for syntax only.
 *
 * Threads: the main thread (prints to stdout/stderr). No state.
 */
#ifndef CLI_OPT_H
#define CLI_OPT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "mp.h"

#define CLI_MAX_TIMEOUT_MS 3600000 /* --timeout-ms of every command: 1..this */

struct cli_opt {
    const char *name; /* long name without the leading "--" */
    const char *arg;  /* the value's name in usage ("TENANT"); NULL for a flag */
    const char *help; /* '\n' continues the text on the next line */
};

struct cli_cmd;
/* argv[0] is the command name; returns MP_OK or MP_ERR_* (MP_ERR_INVAL: usage). */
typedef int (*cli_run_fn)(const struct cli_cmd *cmd, int argc, char **argv);

struct cli_cmd {
    const char *name;
    const char *summary; /* one line for the command list */
    const char *usage;   /* synopsis and description, printed by --help */
    const struct cli_opt *opts;
    size_t n_opts;
    cli_run_fn run;
};

/* Walks a command's argv; CLI_ARGS() starts it at argv[1]. After each
 * cli_next() that returned MP_OK, idx/opt/val are the option just read. */
struct cli_args {
    const struct cli_cmd *cmd;
    int argc;
    char **argv;
    int i;
    size_t idx;                /* into cmd->opts */
    const struct cli_opt *opt; /* &cmd->opts[idx] */
    const char *val;           /* its value; NULL for a flag */
};
#define CLI_ARGS(cmd, argc, argv) {(cmd), (argc), (argv), 1, 0, NULL, NULL}

/* The usage text and the options, as --help prints them. */
void cli_print_help(const struct cli_cmd *cmd, FILE *f);
int cli_usage_error(const struct cli_cmd *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void cli_fail(const struct cli_cmd *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The option at a->argv[a->i]: MP_OK with a->idx, a->opt and a->val set,
 * MP_ERR_NOTFOUND past the last argument, MP_ERR_INVAL after printing why,
 * or CLI_HELP for --help (or -h), after printing the command's help to
 * stdout: not an error, the command ends there with MP_OK. */
#define CLI_HELP 1
/* A run's return for "try again later": exit status 75 (EX_TEMPFAIL of
 * sysexits.h), which makes a Postfix pipe keep the mail queued. */
#define CLI_TEMPFAIL 75
int cli_next(struct cli_args *a);

/* Whole decimal integers only: no spaces, no suffixes, no hex; MP_OK or
 * MP_ERR_INVAL (nothing printed). */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int cli_parse_u64(const char *s, uint64_t *out);
/* An option's integer value in min..max, or a usage error naming it. */
int cli_opt_i64(const struct cli_cmd *cmd, const struct cli_opt *o, const char *val, int64_t min,
                int64_t max, int64_t *out);
/* The same for the option cli_next() just read. */
int cli_arg_i64(const struct cli_args *a, int64_t min, int64_t max, int64_t *out);
/* --tenant: a name of eng_name.h. MP_OK with *out = val, or a usage error. */
int cli_opt_tenant(const struct cli_cmd *cmd, const char *val, const char **out);
/* --api: an http:// or https:// URL with something after the scheme, or a
 * bare host:port of mp_addr.h ("127.0.0.1:7480", "[::1]:7480",
 * "localhost:7480"), which means http://host:port: cli_api_url_start()
 * adds the scheme. No white space or control bytes. MP_OK with *out = val,
 * or a usage error; cli_opt_api_from() names `what` (an option or "$VAR")
 * in it, cli_opt_api() names --api. */
int cli_opt_api(const struct cli_cmd *cmd, const char *val, const char **out);
int cli_opt_api_from(const struct cli_cmd *cmd, const char *what, const char *val,
                     const char **out);
/* --endpoint: a ZeroMQ endpoint "tcp://...", "ipc://..." or "inproc://..."
 * with an address after the scheme and no white space. MP_OK with
 * *out = val, or a usage error naming `what`. */
int cli_opt_endpoint(const struct cli_cmd *cmd, const char *what, const char *val,
                     const char **out);

/* The environment variables that stand in for an option not given (the
 * option beats the variable, the variable beats the built-in default); a
 * variable set to "" counts as unset. A bad value is a usage error naming
 * the variable. */
#define CLI_ENV_API "MAILPULSE_API"           /* --api of stats, alerts, ... */
#define CLI_ENV_ENDPOINT "MAILPULSE_ENDPOINT" /* --endpoint of send (PUSH) */
#define CLI_ENV_ROUTER "MAILPULSE_ROUTER"     /* --endpoint of send --ack */
/* getenv(name) when set and not empty, else NULL. */
const char *cli_env(const char *name);
/* For a command's --endpoint (checked when given) or, when it was not
 * given, $var (checked, named in the refusal): *endpoint keeps the
 * caller's default when neither is there. Likewise cli_opt_env_api() for
 * --api and $MAILPULSE_API. MP_OK or a usage error. */
int cli_opt_env_endpoint(const struct cli_cmd *cmd, int given, const char *var,
                         const char **endpoint);
int cli_opt_env_api(const struct cli_cmd *cmd, int given, const char **api);
/* An API token from `what` (an option or a variable): 1..512 printable ASCII
 * bytes, no space (it goes into one header line). The refusal never echoes
 * it. MP_OK with *out = val, or a usage error. */
int cli_opt_token(const struct cli_cmd *cmd, const char *what, const char *val, const char **out);

#endif
