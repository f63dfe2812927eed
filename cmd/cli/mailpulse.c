/* mailpulse.c — the `mailpulse` command-line tool: the command list and the
 * dispatcher. Each subcommand lives in a file of its own:
 *
 *   mailpulse send   build test events and push them to the daemon as
 *                    EventBatch frames over ZeroMQ (or push raw frames)
 *                    (cli_send.c)
 *   mailpulse sink   a local HTTP receiver that prints and records webhooks
 *                    (cli_sink.c)
 *   mailpulse stats  a tenant's counts and rates from the daemon's HTTP API
 *                    (cli_stats.c)
 *   mailpulse history a key's counts per step over the retention, as a table
 *                    or CSV (cli_history.c)
 *   mailpulse alerts pending and firing alerts, or dead letters (cli_alerts.c)
 *   mailpulse silence add, list or expire silences (cli_silence.c)
 *   mailpulse dmarc   import DMARC aggregate reports into the daemon (cli_dmarc.c)
 *   mailpulse keygen a CurveZMQ key pair for ingest.curve (cli_keygen.c)
 *   mailpulse blocklist check an address or domain against DNS blocklists (cli_blocklist.c)
 *   mailpulse demo   plays "Team A's bad list" against a running daemon,
 *                    with a live view and a built-in sink (cli_demo.c)
 *   mailpulse replay plays a JSON Lines or CSV events file (cli_replay.c)
 *   mailpulse help   list the commands; -V / --version prints the version
 *
 * Every command takes --help. Exit status: 0 success, 1 the work failed
 * (endpoint unreachable, address in use, ...), 2 bad usage: an unknown
 * option, a missing or malformed value. Usage errors name the option and
 * the value expected; values are checked for syntax only, because the
 * daemon's own validation is what the tests exercise. $MAILPULSE_API,
 * $MAILPULSE_ENDPOINT, $MAILPULSE_ROUTER and $MAILPULSE_TOKEN stand in for
 * options not given (cli_opt.h, cli_api.h).
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "cli_alerts.h"
#include "cli_demo.h"
#include "cli_dmarc.h"
#include "cli_history.h"
#include "cli_blocklist.h"
#include "cli_keygen.h"
#include "cli_opt.h"
#include "cli_replay.h"
#include "cli_send.h"
#include "cli_silence.h"
#include "cli_sink.h"
#include "cli_stats.h"
#include "mp.h"

enum cli_exit { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2 };

static const struct cli_cmd *const cli__cmds[] = {
    &cli_send_cmd,   &cli_sink_cmd, &cli_stats_cmd,   &cli_history_cmd, &cli_alerts_cmd,
    &cli_keygen_cmd, &cli_demo_cmd, &cli_replay_cmd, &cli_silence_cmd, &cli_blocklist_cmd,
    &cli_dmarc_cmd};

static void cli__print_commands(FILE *f)
{
    fputs("usage: mailpulse <command> [options]\n"
          "\n"
          "Sends test events to a mailpulse daemon, reads its stats and receives its\n"
          "webhook alerts.\n"
          "\n"
          "commands:\n",
          f);
    for (size_t i = 0; i < MP_ARRAY_LEN(cli__cmds); i++)
        fprintf(f, "  %-9s %s\n", cli__cmds[i]->name, cli__cmds[i]->summary);
    fprintf(f, "  %-9s %s\n", "help", "show this list, or 'help <command>' for a command's options");
    fputs("\nRun 'mailpulse <command> --help' for a command's options, 'mailpulse -V'\n"
          "for the version.\n"
          "\n"
          "Environment (an option given beats it): $" CLI_ENV_API " for --api,\n"
          "$" CLI_ENV_ENDPOINT " for send's --endpoint, $" CLI_ENV_ROUTER " for\n"
          "send --ack's, demo's and replay's, $MAILPULSE_TOKEN for --token.\n",
          f);
}

static const struct cli_cmd *cli__find(const char *name)
{
    for (size_t i = 0; i < MP_ARRAY_LEN(cli__cmds); i++)
        if (strcmp(cli__cmds[i]->name, name) == 0)
            return cli__cmds[i];
    return NULL;
}

static int cli__exit_code(int rc)
{
    if (rc > 0) /* a command's own exit status (blocklist: listed, error) */
        return rc;
    if (rc == MP_OK)
        return CLI_EXIT_OK;
    if (rc == CLI_TEMPFAIL)
        return CLI_TEMPFAIL;
    return rc == MP_ERR_INVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli__print_commands(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
        (strcmp(name, "help") == 0 && argc == 2)) {
        cli__print_commands(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
        printf("mailpulse %s\n", MP_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc != 3) {
            fprintf(stderr, "mailpulse help: expected one command name, e.g. 'mailpulse help send'\n");
            return CLI_EXIT_USAGE;
        }
        const struct cli_cmd *cmd = cli__find(argv[2]);
        if (cmd == NULL) {
            fprintf(stderr, "mailpulse help: unknown command '%s'\n\n", argv[2]);
            cli__print_commands(stderr);
            return CLI_EXIT_USAGE;
        }
        cli_print_help(cmd, stdout);
        return CLI_EXIT_OK;
    }
    const struct cli_cmd *cmd = cli__find(name);
    if (cmd == NULL) {
        fprintf(stderr, "mailpulse: unknown command '%s'\n\n", name);
        cli__print_commands(stderr);
        return CLI_EXIT_USAGE;
    }
    /* libcurl once per process, before any command starts a thread (the
     * init is not thread-safe): the API commands and the demo use it. */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = cmd->run(cmd, argc - 1, argv + 1);
    curl_global_cleanup();
    return cli__exit_code(rc);
}
