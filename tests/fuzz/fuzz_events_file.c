/* fuzz_events_file.c — libFuzzer target for the events file parser of
 * `mailpulse replay` (cmd/cli/cli_events_file.h).
 *
 * The first byte picks the format (even: JSON Lines, odd: CSV); the rest is
 * cut at '\n' into lines, each copied into a buffer of exactly its length
 * (ASan then catches any read past the line) and fed to one parser, as
 * replay does with a file. It aborts when the contract breaks:
 *   - a return other than CLI_EVF_EVENT, CLI_EVF_SKIP or MP_ERR_PARSE;
 *   - a refusal whose reason is empty or spans more than one line;
 *   - an accepted event whose tenant is not a name of eng_name.h, whose
 *     mailbox has not exactly one '@', whose domain is empty or has an '@'
 *     or a space, whose type is outside 1..12, or whose time is outside
 *     CLI_EVF_MIN_TIME_MS..CLI_EVF_MAX_TIME_MS;
 * and the time parser alone must agree with itself on the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_events_file.h"
#include "eng_name.h"

static void check_event(const struct cli_evf_event *e)
{
    if (!eng_name_valid(e->tenant, strlen(e->tenant)))
        abort();
    const char *at = strchr(e->mailbox, '@');
    if (at == NULL || strchr(at + 1, '@') != NULL)
        abort();
    if (e->domain[0] == '\0' || strchr(e->domain, '@') || strchr(e->domain, ' '))
        abort();
    if (e->type < 1 || e->type > 12)
        abort();
    if (e->time_ms < CLI_EVF_MIN_TIME_MS || e->time_ms > CLI_EVF_MAX_TIME_MS)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct cli_evf *p;
    if (cli_evf_new(data[0] & 1 ? CLI_EVF_CSV : CLI_EVF_JSONL, &p) != MP_OK)
        abort();
    static struct cli_evf_event ev;
    char why[320];
    const uint8_t *s = data + 1, *end = data + size;
    while (s <= end) {
        const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
        size_t n = (size_t)((nl ? nl : end) - s);
        char *line = malloc(n ? n : 1);
        if (line == NULL)
            abort();
        memcpy(line, s, n);
        int rc = cli_evf_line(p, line, n, &ev, why, sizeof(why));
        if (rc == CLI_EVF_EVENT)
            check_event(&ev);
        else if (rc == MP_ERR_PARSE) {
            if (why[0] == '\0' || strchr(why, '\n') != NULL)
                abort();
        } else if (rc != CLI_EVF_SKIP)
            abort();
        free(line);
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    cli_evf_free(p);

    /* The time parser on the whole input as one string, twice. */
    if (size < 64) {
        char t[64];
        memcpy(t, data, size);
        t[size] = '\0';
        int64_t a = 0, b = 0;
        int ra = cli_evf_parse_time(t, &a, why, sizeof(why));
        int rb = cli_evf_parse_time(t, &b, why, sizeof(why));
        if (ra != rb || (ra == MP_OK && (a != b || a < CLI_EVF_MIN_TIME_MS || a > CLI_EVF_MAX_TIME_MS)))
            abort();
    }
    return 0;
}
