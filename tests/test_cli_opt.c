/* test_cli_opt.c — Check suite "cli_opt": cmd/cli/cli_opt, the option walker
 * and value checks every `mailpulse` subcommand uses.
 *
 * "--name value", "--name=value", flags and -h; values taken as they are
 * (even "" or "-x"); unknown options, positionals, a flag with a value and
 * a missing value are usage errors; --help prints the help and ends the
 * command (CLI_HELP); integers are whole decimals in range, nothing else;
 * --tenant follows the name grammar; --api wants an http(s):// URL or a
 * host:port (IPv6 in brackets), --endpoint a tcp/ipc/inproc endpoint, and
 * refusals name the option or variable; an empty variable is unset.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "cli_opt.h"

enum { O_NAME, O_FLAG };
static const struct cli_opt opts[] = {
    [O_NAME] = {"name", "N", "a value"},
    [O_FLAG] = {"flag", NULL, "a flag\nover two lines"},
};
static const struct cli_cmd cmd = {"demo", "a demo", "usage: demo [options]\n", opts,
                                   MP_ARRAY_LEN(opts), NULL};

/* Walks argv (NULL-terminated, argv[0] the command); returns the code that
 * ended the walk and the options read as "idx=val;" into out. */
static int walk(char **argv, char *out, size_t n)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    struct cli_args a = CLI_ARGS(&cmd, argc, argv);
    int rc;
    out[0] = '\0';
    while ((rc = cli_next(&a)) == MP_OK) {
        ck_assert_ptr_eq(a.opt, &opts[a.idx]);
        snprintf(out + strlen(out), n - strlen(out), "%zu=%s;", a.idx, a.val ? a.val : "(flag)");
    }
    return rc;
}

START_TEST(forms)
{
    char got[256];
    char *argv[] = {"demo", "--name", "x", "--name=y=z", "--flag", "--name", "", "--name",
                    "-x", NULL};
    ck_assert_int_eq(walk(argv, got, sizeof(got)), MP_ERR_NOTFOUND);
    ck_assert_str_eq(got, "0=x;0=y=z;1=(flag);0=;0=-x;");
}
END_TEST

START_TEST(refusals)
{
    char got[256];
    char *unknown[] = {"demo", "--nam", "x", NULL};
    char *positional[] = {"demo", "x", NULL};
    char *dash[] = {"demo", "-n", NULL};
    char *empty_long[] = {"demo", "--", NULL};
    char *flag_value[] = {"demo", "--flag=1", NULL};
    char *missing[] = {"demo", "--name", NULL};
    char **cases[] = {unknown, positional, dash, empty_long, flag_value, missing};
    for (size_t i = 0; i < MP_ARRAY_LEN(cases); i++)
        ck_assert_msg(walk(cases[i], got, sizeof(got)) == MP_ERR_INVAL, "case %zu", i);
}
END_TEST

START_TEST(help_ends_the_walk)
{
    char got[256];
    char *argv[] = {"demo", "--flag", "-h", "--bogus", NULL};
    ck_assert_int_eq(walk(argv, got, sizeof(got)), CLI_HELP);
    ck_assert_str_eq(got, "1=(flag);"); /* --bogus is never read */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(f);
    cli_print_help(&cmd, f);
    fclose(f);
    ck_assert_str_eq(text, "usage: demo [options]\n\noptions:\n"
                           "  --name N               a value\n"
                           "  --flag                 a flag\n"
                           "                         over two lines\n"
                           "  -h, --help             show this help\n");
    free(text);
}
END_TEST

START_TEST(integers)
{
    int64_t v = 7;
    uint64_t u = 7;
    ck_assert_int_eq(cli_parse_i64("-12", -100, 100, &v), MP_OK);
    ck_assert_int_eq(v, -12);
    ck_assert_int_eq(cli_parse_i64("+5", 0, 10, &v), MP_OK);
    ck_assert_int_eq(v, 5);
    ck_assert_int_eq(cli_parse_i64("9223372036854775807", INT64_MIN, INT64_MAX, &v), MP_OK);
    ck_assert_int_eq(v, INT64_MAX);
    static const char *bad[] = {"", " 1", "1 ", "0x10", "1e3", "11", "-101", "--1", "+", "abc",
                                "9223372036854775808"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        v = 7;
        ck_assert_msg(cli_parse_i64(bad[i], -100, 10, &v) == MP_ERR_INVAL, "\"%s\"", bad[i]);
        ck_assert_int_eq(v, 7);
    }
    ck_assert_int_eq(cli_parse_u64("18446744073709551615", &u), MP_OK);
    ck_assert_uint_eq(u, UINT64_MAX);
    ck_assert_int_eq(cli_parse_u64("-1", &u), MP_ERR_INVAL); /* strtoull would wrap it */
    ck_assert_int_eq(cli_parse_u64("18446744073709551616", &u), MP_ERR_INVAL);
    ck_assert_int_eq(cli_parse_u64("", &u), MP_ERR_INVAL);
    ck_assert_int_eq(cli_opt_i64(&cmd, &opts[O_NAME], "3", 1, 5, &v), MP_OK);
    ck_assert_int_eq(v, 3);
    ck_assert_int_eq(cli_opt_i64(&cmd, &opts[O_NAME], "6", 1, 5, &v), MP_ERR_INVAL);
}
END_TEST

START_TEST(tenant_and_api)
{
    const char *out = NULL;
    ck_assert_int_eq(cli_opt_tenant(&cmd, "acme-1.eu_x", &out), MP_OK);
    ck_assert_str_eq(out, "acme-1.eu_x");
    ck_assert_int_eq(cli_opt_tenant(&cmd, "a b", &out), MP_ERR_INVAL);
    ck_assert_int_eq(cli_opt_tenant(&cmd, "", &out), MP_ERR_INVAL);
    ck_assert_int_eq(cli_opt_api(&cmd, "https://h:1", &out), MP_OK);
    ck_assert_str_eq(out, "https://h:1");
    /* host:port means http://host:port (cli_api_url_start adds the scheme) */
    static const char *good[] = {"http://h", "https://h:1/base", "127.0.0.1:7480",
                                 "[::1]:7480", "localhost:27480", "api.example.com:443"};
    for (size_t i = 0; i < MP_ARRAY_LEN(good); i++) {
        out = NULL;
        ck_assert_msg(cli_opt_api(&cmd, good[i], &out) == MP_OK, "\"%s\"", good[i]);
        ck_assert_ptr_eq(out, good[i]);
    }
    static const char *bad[] = {"ftp://h", "ftp://h:1", "http://", "https:///x", "127.0.0.1",
                                "::1:7480", "h:0", "h:65536", "h:1 ", "http://h x", "x",
                                "", "tcp://127.0.0.1:7480", "http://h\n"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++) {
        out = "kept";
        ck_assert_msg(cli_opt_api(&cmd, bad[i], &out) == MP_ERR_INVAL, "\"%s\"", bad[i]);
        ck_assert_str_eq(out, "kept");
    }
    ck_assert_int_eq(cli_opt_api_from(&cmd, "$MAILPULSE_API", "x y", &out), MP_ERR_INVAL);
}
END_TEST

START_TEST(endpoints_and_env)
{
    const char *out = NULL;
    static const char *good[] = {"tcp://127.0.0.1:7400", "tcp://[::1]:7400", "ipc:///tmp/mp.sock",
                                 "inproc://x"};
    for (size_t i = 0; i < MP_ARRAY_LEN(good); i++) {
        ck_assert_msg(cli_opt_endpoint(&cmd, "--endpoint", good[i], &out) == MP_OK, "%s", good[i]);
        ck_assert_ptr_eq(out, good[i]);
    }
    static const char *bad[] = {"", "tcp://", "127.0.0.1:7400", "nope://x", "tcp://h :1",
                                "http://h:1"};
    for (size_t i = 0; i < MP_ARRAY_LEN(bad); i++)
        ck_assert_msg(cli_opt_endpoint(&cmd, "$MAILPULSE_ENDPOINT", bad[i], &out) ==
                          MP_ERR_INVAL,
                      "\"%s\"", bad[i]);
    /* set and empty count as unset */
    ck_assert_int_eq(setenv("MP_TEST_CLI_ENV", "", 1), 0);
    ck_assert_ptr_null(cli_env("MP_TEST_CLI_ENV"));
    ck_assert_int_eq(setenv("MP_TEST_CLI_ENV", "v", 1), 0);
    ck_assert_str_eq(cli_env("MP_TEST_CLI_ENV"), "v");
    unsetenv("MP_TEST_CLI_ENV");
    ck_assert_ptr_null(cli_env("MP_TEST_CLI_ENV"));
}
END_TEST

CHECK_SUITE("cli_opt", 0, NULL, NULL, forms, refusals, help_ends_the_walk, integers, tenant_and_api,
            endpoints_and_env)
