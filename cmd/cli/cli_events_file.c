/* cli_events_file.c — JSON Lines and CSV events files (see
 * cli_events_file.h for the columns and the contract). */
#include "cli_events_file.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "eng_name.h"
#include "eng_types.h"

#define EVF_MAX_COLS 16 /* CSV header columns; only 8 names are known */

enum evf_col { C_TENANT, C_MAILBOX, C_DOMAIN, C_RECIPIENT, C_TYPE, C_TIME, C_EVENT_ID, C_CAMPAIGN,
               C_N };

static const char *const evf__cols[C_N] = {
    [C_TENANT] = "tenant",       [C_MAILBOX] = "mailbox", [C_DOMAIN] = "recipient_domain",
    [C_RECIPIENT] = "recipient", [C_TYPE] = "type",       [C_TIME] = "time",
    [C_EVENT_ID] = "event_id",   [C_CAMPAIGN] = "campaign",
};

struct cli_evf {
    enum cli_evf_format fmt;
    int header;   /* CSV: 0 before the header, 1 after a good one, -1 after a bad one */
    size_t ncols; /* CSV header */
    enum evf_col cols[EVF_MAX_COLS];
};

int cli_evf_new(enum cli_evf_format fmt, struct cli_evf **out)
{
    struct cli_evf *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return MP_ERR_NOMEM;
    p->fmt = fmt;
    *out = p;
    return MP_OK;
}

void cli_evf_free(struct cli_evf *p) { free(p); }

static int evf__fail(char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int evf__fail(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return MP_ERR_PARSE;
}

static int evf__col_of(const char *name, size_t n)
{
    for (int c = 0; c < C_N; c++)
        if (strlen(evf__cols[c]) == n && memcmp(evf__cols[c], name, n) == 0)
            return c;
    return -1;
}

/* ------------------------------------------------------------------ time */

static int evf__digits(const char **s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*s)++) {
        if (!isdigit((unsigned char)**s))
            return -1;
        v = v * 10 + (**s - '0');
    }
    *out = v;
    return 0;
}

static int evf__unix_ms(const char *s, int64_t *ms, char *why, size_t n)
{
    int64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) || v > CLI_EVF_MAX_TIME_MS)
            return evf__fail(why, n, "time: \"%s\" is neither RFC 3339 nor Unix milliseconds", s);
        v = v * 10 + (*p - '0');
    }
    if (v < CLI_EVF_MIN_TIME_MS)
        return evf__fail(why, n, "time: %s is before 1973 as Unix milliseconds (Unix seconds? "
                                 "time takes milliseconds)", s);
    if (v > CLI_EVF_MAX_TIME_MS)
        return evf__fail(why, n, "time: %s is after the year 9999", s);
    *ms = v;
    return MP_OK;
}

int cli_evf_parse_time(const char *s, int64_t *ms, char *why, size_t n)
{
    if (s[0] != '\0' && strspn(s, "0123456789") == strlen(s))
        return evf__unix_ms(s, ms, why, n);
    const char *p = s;
    int y, mo, d, h, mi, sec, frac = 0;
    if (evf__digits(&p, 4, &y) || *p++ != '-' || evf__digits(&p, 2, &mo) || *p++ != '-' ||
        evf__digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' ') || !*p++ ||
        evf__digits(&p, 2, &h) || *p++ != ':' || evf__digits(&p, 2, &mi) || *p++ != ':' ||
        evf__digits(&p, 2, &sec))
        goto bad;
    if (*p == '.') {
        p++;
        int nd = 0;
        for (; isdigit((unsigned char)*p); p++, nd++)
            if (nd < 3)
                frac = frac * 10 + (*p - '0');
        if (nd == 0)
            goto bad;
        for (; nd < 3; nd++)
            frac *= 10;
    }
    int off = 0; /* minutes east of UTC */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om;
        if (evf__digits(&p, 2, &oh) || *p++ != ':' || evf__digits(&p, 2, &om) || oh > 23 ||
            om > 59)
            goto bad;
        off = sign * (oh * 60 + om);
    } else {
        goto bad;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
        goto bad;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
                    .tm_min = mi, .tm_sec = sec};
    time_t t = timegm(&tm);
    if (tm.tm_mday != d || tm.tm_mon != mo - 1) /* timegm normalised Feb 30 into March */
        return evf__fail(why, n, "time: \"%s\" is not a date of the calendar", s);
    int64_t v = ((int64_t)t - (int64_t)off * 60) * 1000 + frac;
    if (v < CLI_EVF_MIN_TIME_MS || v > CLI_EVF_MAX_TIME_MS)
        return evf__fail(why, n, "time: \"%s\" is before 1973 or after 9999", s);
    *ms = v;
    return MP_OK;
bad:
    return evf__fail(why, n, "time: \"%s\" is neither RFC 3339 (e.g. 2026-11-22T16:30:01Z) nor "
                             "Unix milliseconds", s);
}

/* ---------------------------------------------------------------- fields */

static int evf__copy(char *dst, size_t cap, const char *col, const char *v, size_t n, char *why,
                     size_t wn)
{
    if (n >= cap)
        return evf__fail(why, wn, "%s: %zu bytes, at most %zu", col, n, cap - 1);
    if (memchr(v, '\0', n) != NULL)
        return evf__fail(why, wn, "%s: contains a NUL byte", col);
    memcpy(dst, v, n);
    dst[n] = '\0';
    return MP_OK;
}

static int evf__type(const char *v, size_t n, int *type, char *why, size_t wn)
{
    char name[32];
    if (n == 0 || n >= sizeof(name))
        goto bad;
    for (size_t i = 0; i < n; i++)
        name[i] = (char)tolower((unsigned char)v[i]);
    name[n] = '\0';
    if (strspn(name, "0123456789") == n) {
        int t = atoi(name);
        if (n <= 2 && t >= ENG_TYPE_MIN && t <= ENG_TYPE_MAX) {
            *type = t;
            return MP_OK;
        }
        goto bad;
    }
    if (eng_type_parse(name, type) == 0)
        return MP_OK;
bad:
    return evf__fail(why, wn, "type: unknown event type \"%.*s\" (sent, delivered, bounce_hard, "
                              "bounce_soft, deferred, blocked, complaint, open, click, reply, "
                              "unsubscribe, spam_trap, or 1..12)",
                     (int)(n < 40 ? n : 40), v);
}

/* One column's value (n bytes, not NUL-terminated) into ev. */
static int evf__set(struct cli_evf_event *ev, enum evf_col c, const char *v, size_t n, char *why,
                    size_t wn)
{
    char tbuf[64];
    const char *at;
    switch (c) {
    case C_TENANT:
        if (!eng_name_valid(v, n))
            return evf__fail(why, wn, "tenant: \"%.*s\" is not %s", (int)(n < 80 ? n : 80), v,
                             ENG_NAME_GRAMMAR);
        return evf__copy(ev->tenant, sizeof(ev->tenant), "tenant", v, n, why, wn);
    case C_MAILBOX:
        if (n == 0 || (at = memchr(v, '@', n)) == NULL || memchr(at + 1, '@', n - (size_t)(at - v) - 1))
            return evf__fail(why, wn, "mailbox: \"%.*s\" is not an address with one '@'",
                             (int)(n < 80 ? n : 80), v);
        return evf__copy(ev->mailbox, sizeof(ev->mailbox), "mailbox", v, n, why, wn);
    case C_RECIPIENT:
        at = n ? memrchr(v, '@', n) : NULL;
        if (at == NULL || at == v + n - 1)
            return evf__fail(why, wn, "recipient: \"%.*s\" is not an address with a domain",
                             (int)(n < 80 ? n : 80), v);
        n -= (size_t)(at + 1 - v);
        v = at + 1;
        __attribute__((fallthrough)); /* its domain is the recipient_domain */
    case C_DOMAIN:
        if (n == 0 || memchr(v, '@', n) || memchr(v, ' ', n))
            return evf__fail(why, wn, "%s: \"%.*s\" is not a domain", evf__cols[c],
                             (int)(n < 80 ? n : 80), v);
        return evf__copy(ev->domain, sizeof(ev->domain), evf__cols[c], v, n, why, wn);
    case C_TYPE: return evf__type(v, n, &ev->type, why, wn);
    case C_TIME:
        if (evf__copy(tbuf, sizeof(tbuf), "time", v, n, why, wn) != MP_OK)
            return MP_ERR_PARSE;
        return cli_evf_parse_time(tbuf, &ev->time_ms, why, wn);
    case C_EVENT_ID: return evf__copy(ev->event_id, sizeof(ev->event_id), "event_id", v, n, why, wn);
    case C_CAMPAIGN: return evf__copy(ev->campaign, sizeof(ev->campaign), "campaign", v, n, why, wn);
    case C_N: break;
    }
    return evf__fail(why, wn, "internal: unknown column");
}

/* Every required column was there, and one of recipient_domain/recipient. */
static int evf__complete(unsigned seen, char *why, size_t wn)
{
    if ((seen & (1u << C_DOMAIN)) && (seen & (1u << C_RECIPIENT)))
        return evf__fail(why, wn, "give one of recipient_domain and recipient, not both");
    if (!(seen & ((1u << C_DOMAIN) | (1u << C_RECIPIENT))))
        return evf__fail(why, wn, "missing recipient_domain (or recipient)");
    static const enum evf_col req[] = {C_TENANT, C_MAILBOX, C_TYPE, C_TIME};
    for (size_t i = 0; i < MP_ARRAY_LEN(req); i++)
        if (!(seen & (1u << req[i])))
            return evf__fail(why, wn, "missing %s", evf__cols[req[i]]);
    return MP_OK;
}

/* ------------------------------------------------------------ JSON Lines */

static int evf__json(const char *line, size_t len, struct cli_evf_event *ev, char *why, size_t wn)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc = MP_ERR_PARSE;
    unsigned seen = 0;
    if (o == NULL) {
        evf__fail(why, wn, "not JSON: %s (column %d)", jerr.text, jerr.column);
        goto out;
    }
    if (!json_is_object(o)) {
        evf__fail(why, wn, "not a JSON object");
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int c = evf__col_of(key, strlen(key));
        if (c < 0) {
            evf__fail(why, wn, "unknown key \"%.60s\"", key);
            goto out;
        }
        char num[32];
        const char *s;
        size_t n;
        if (c == C_TIME && json_is_integer(v)) {
            n = (size_t)snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            s = num;
        } else if (json_is_string(v)) {
            s = json_string_value(v);
            n = json_string_length(v);
        } else {
            evf__fail(why, wn, "%s: expected a string%s", key,
                      c == C_TIME ? " or an integer (Unix ms)" : "");
            goto out;
        }
        if (evf__set(ev, (enum evf_col)c, s, n, why, wn) != MP_OK)
            goto out;
        seen |= 1u << c;
    }
    rc = evf__complete(seen, why, wn);
out:
    json_decref(o);
    return rc;
}

/* ------------------------------------------------------------------- CSV */

/* Splits a CSV line into fields, unquoted in place into buf (len + 1
 * bytes): starts[i], lens[i]. MP_OK or MP_ERR_PARSE. */
static int evf__csv_split(const char *line, size_t len, char *buf, const char **starts,
                          size_t *lens, size_t *nf, char *why, size_t wn)
{
    size_t i = 0, o = 0, f = 0;
    for (;;) {
        if (f == EVF_MAX_COLS)
            return evf__fail(why, wn, "more than %d fields", EVF_MAX_COLS);
        starts[f] = buf + o;
        size_t o0 = o;
        if (i < len && line[i] == '"') {
            for (i++;; i++) {
                if (i >= len)
                    return evf__fail(why, wn, "field %zu: unterminated quote", f + 1);
                if (line[i] == '"') {
                    if (i + 1 < len && line[i + 1] == '"') {
                        buf[o++] = '"';
                        i++;
                        continue;
                    }
                    i++;
                    break;
                }
                buf[o++] = line[i];
            }
            if (i < len && line[i] != ',')
                return evf__fail(why, wn, "field %zu: text after the closing quote", f + 1);
        } else {
            for (; i < len && line[i] != ','; i++) {
                if (line[i] == '"')
                    return evf__fail(why, wn, "field %zu: a quote inside an unquoted field",
                                     f + 1);
                buf[o++] = line[i];
            }
        }
        lens[f++] = o - o0;
        if (i >= len)
            break;
        i++; /* the comma */
    }
    *nf = f;
    return MP_OK;
}

static int evf__csv_header(struct cli_evf *p, const char **st, const size_t *ln, size_t nf,
                           char *why, size_t wn)
{
    unsigned seen = 0;
    p->header = -1;
    for (size_t i = 0; i < nf; i++) {
        int c = evf__col_of(st[i], ln[i]);
        if (c < 0)
            return evf__fail(why, wn, "header: unknown column \"%.*s\" (columns: tenant, mailbox, "
                                      "recipient_domain or recipient, type, time, event_id, "
                                      "campaign)",
                             (int)(ln[i] < 60 ? ln[i] : 60), st[i]);
        if (seen & (1u << c))
            return evf__fail(why, wn, "header: column %s twice", evf__cols[c]);
        seen |= 1u << c;
        p->cols[i] = (enum evf_col)c;
    }
    if (evf__complete(seen, why, wn) != MP_OK) {
        char inner[200];
        snprintf(inner, sizeof(inner), "%s", why);
        return evf__fail(why, wn, "header: %s", inner);
    }
    p->ncols = nf;
    p->header = 1;
    return CLI_EVF_SKIP;
}

static int evf__csv(struct cli_evf *p, const char *line, size_t len, struct cli_evf_event *ev,
                    char *why, size_t wn)
{
    const char *st[EVF_MAX_COLS];
    size_t ln[EVF_MAX_COLS], nf = 0;
    char *buf = malloc(len + 1);
    int rc = MP_ERR_PARSE;
    if (buf == NULL) {
        evf__fail(why, wn, "out of memory");
        return MP_ERR_PARSE;
    }
    if (p->header < 0) {
        evf__fail(why, wn, "no valid header line before this row");
        goto out;
    }
    if (evf__csv_split(line, len, buf, st, ln, &nf, why, wn) != MP_OK)
        goto out;
    if (p->header == 0) {
        rc = evf__csv_header(p, st, ln, nf, why, wn);
        goto out;
    }
    if (nf != p->ncols) {
        evf__fail(why, wn, "%zu fields, the header has %zu", nf, p->ncols);
        goto out;
    }
    unsigned seen = 0;
    for (size_t i = 0; i < nf; i++) {
        /* An empty optional field is "not given", as a CSV export writes it. */
        if (ln[i] == 0 && (p->cols[i] == C_EVENT_ID || p->cols[i] == C_CAMPAIGN))
            continue;
        if (evf__set(ev, p->cols[i], st[i], ln[i], why, wn) != MP_OK)
            goto out;
        seen |= 1u << p->cols[i];
    }
    rc = evf__complete(seen, why, wn);
out:
    free(buf);
    return rc;
}

/* ----------------------------------------------------------------- lines */

int cli_evf_line(struct cli_evf *p, const char *line, size_t len, struct cli_evf_event *ev,
                 char *why, size_t whylen)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    size_t lead = 0;
    while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
        lead++;
    if (lead == len || line[lead] == '#')
        return CLI_EVF_SKIP;
    memset(ev, 0, sizeof(*ev));
    if (whylen > 0)
        why[0] = '\0';
    int rc = p->fmt == CLI_EVF_CSV ? evf__csv(p, line, len, ev, why, whylen)
                                   : evf__json(line, len, ev, why, whylen);
    /* A reason quotes the line's own text (a JSON "\n" in a key, say): it
     * must stay one printable line on the terminal it is reported to. */
    for (char *c = why; rc != MP_OK && whylen > 0 && *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return rc == MP_OK ? CLI_EVF_EVENT : rc;
}

int cli_evf_format_parse(const char *name, enum cli_evf_format *out)
{
    if (strcmp(name, "jsonl") == 0 || strcmp(name, "json") == 0)
        *out = CLI_EVF_JSONL;
    else if (strcmp(name, "csv") == 0)
        *out = CLI_EVF_CSV;
    else
        return MP_ERR_INVAL;
    return MP_OK;
}

int cli_evf_format_of(const char *path, enum cli_evf_format *out)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return MP_ERR_NOTFOUND;
    if (strcasecmp(dot, ".jsonl") == 0 || strcasecmp(dot, ".ndjson") == 0 ||
        strcasecmp(dot, ".json") == 0)
        *out = CLI_EVF_JSONL;
    else if (strcasecmp(dot, ".csv") == 0)
        *out = CLI_EVF_CSV;
    else
        return MP_ERR_NOTFOUND;
    return MP_OK;
}
