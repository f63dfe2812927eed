/* cli_table.c — fixed-width table rows, middle ellipsis, compact counts
 * and times (see cli_table.h). */
#include "cli_table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_fmt.h"

/* Length (1..4) of the UTF-8 character at p, 0 when it is not a printable
 * one (a control byte, DEL, a stray or malformed byte). Overlong forms and
 * surrogates are not told apart here: they only ever reach a terminal. */
static size_t table__char(const unsigned char *p)
{
    if (p[0] < 0x80)
        return p[0] >= 0x20 && p[0] != 0x7f;
    size_t len = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (p[0] >= 0xF5 || (p[0] == 0xC2 && p[1] < 0xA0)) /* C1 controls: not shown */
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Copies the characters [from, to) of s (counted as table__char does,
 * unprintable bytes as '?') to out at *o, keeping room for the NUL. */
static void table__copy(const char *s, size_t from, size_t to, char *out, size_t n, size_t *o)
{
    size_t c = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && c < to; c++) {
        size_t len = table__char(p), take = len ? len : 1;
        if (c >= from && *o + take < n) {
            if (len)
                memcpy(out + *o, p, len);
            else
                out[*o] = '?';
            *o += len ? len : 1;
        }
        p += take;
    }
}

static size_t table__width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; w++) {
        size_t len = table__char(p);
        p += len ? len : 1;
    }
    return w;
}

void cli_table_fit(const char *s, unsigned width, char *out, size_t n)
{
    size_t w = table__width(s), o = 0;
    if (n == 0)
        return;
    if (w <= width) {
        table__copy(s, 0, w, out, n, &o);
    } else if (width < 5) {
        table__copy(s, 0, width, out, n, &o);
    } else {
        size_t head = (width - 3 + 1) / 2, tail = width - 3 - head;
        table__copy(s, 0, head, out, n, &o);
        table__copy("...", 0, 3, out, n, &o);
        table__copy(s, w - tail, w, out, n, &o);
    }
    out[o] = '\0';
}

void cli_table_row(FILE *f, const char *indent, const struct cli_col *cols, size_t ncols,
                   const char *const *cells)
{
    fputs(indent, f);
    for (size_t i = 0; i < ncols; i++) {
        char cell[CLI_TABLE_CELL];
        cli_table_fit(cells ? cells[i] : cols[i].header, cols[i].width, cell, sizeof(cell));
        size_t pad = cols[i].width - table__width(cell);
        if (i)
            fputc(' ', f);
        if (cols[i].right)
            fprintf(f, "%*s%s", (int)pad, "", cell);
        else if (i + 1 < ncols)
            fprintf(f, "%s%*s", cell, (int)pad, "");
        else
            fputs(cell, f);
    }
    fputc('\n', f);
}

void cli_table_count(int64_t v, unsigned width, char *out, size_t n)
{
    static const char suffix[] = "kMGTPE";
    if (snprintf(out, n, "%" PRId64, v) <= (int)width)
        return;
    double x = (double)v;
    size_t i = 0;
    for (x /= 1000.0; (x >= 999.5 || x <= -999.5) && i + 1 < sizeof(suffix) - 1; i++)
        x /= 1000.0;
    snprintf(out, n, x < 99.95 && x > -99.95 ? "%.1f%c" : "%.0f%c", x, suffix[i]);
}

void cli_table_time(const char *iso, int secs, char *out, size_t n)
{
    /* "2026-11-22T10:00:00.000Z": month at 5, time at 11 */
    if (strlen(iso) >= 19 && iso[4] == '-' && iso[7] == '-' && iso[10] == 'T' && iso[13] == ':')
        snprintf(out, n, "%.5s %.*s", iso + 5, secs ? 8 : 5, iso + 11);
    else
        snprintf(out, n, "%s", iso);
}

void cli_table_rate(const char *kind, const char *value, char *out, size_t n)
{
    char *end = NULL;
    double v = value && *value ? strtod(value, &end) : 0.0;
    if (!value || !*value || *end != '\0') {
        snprintf(out, n, "%s", value && *value ? value : "-");
        return;
    }
    if (!kind || strcmp(kind, "ratio") == 0 || strcmp(kind, "drop") == 0 ||
        strcmp(kind, "trend") == 0)
        mp_fmt_pct(v, out, n);
    else if (strcmp(kind, "spike") == 0)
        mp_fmt_factor(v, out, n);
    else
        snprintf(out, n, "%s", value);
}
