/* cli_table.h — the fixed-width tables of `mailpulse stats` and `mailpulse
 * alerts`: every row fits CLI_TABLE_WIDTH (100) terminal columns.
 *
 * Contract:
 *   - a table is an array of struct cli_col (header, width in columns,
 *     right-aligned or not); cli_table_row() prints one row of cells (or the
 *     headers when cells is NULL), each cell fitted to its column by
 *     cli_table_fit(), padded, one space apart; numbers are right-aligned,
 *     text left-aligned; a last left-aligned column is not padded (no
 *     trailing blanks);
 *   - cli_table_fit(): a value wider than its column keeps its head and
 *     its tail around "..." (a middle ellipsis: the ends of a long mailbox or
 *     key tell them apart), or just its head when the column is narrower
 *     than 5; widths count UTF-8 characters and cuts fall between them;
 *     control bytes and bytes that are not UTF-8 show as '?', so a value
 *     from the API cannot move the cursor or end a row;
 *   - cli_table_count(): a count in at most `width` columns: as is when it
 *     fits, else with a k/M/G/T suffix ("1.2G");
 *   - cli_table_time(): an ISO 8601 UTC time "YYYY-MM-DDTHH:MM:SS..." as
 *     "MM-DD HH:MM" (secs 0) or "MM-DD HH:MM:SS" (secs 1); anything else
 *     as it is (then fitted like any text);
 *   - cli_table_rate(): a rule's value as the webhook annotations carry it
 *     (a plain decimal) for people, through base/mp_fmt: a fraction of a
 *     ratio, drop or trend rule (kind NULL is ratio) as a percentage
 *     ("0.12%", "2.31%"), a spike's factor as "3.2x", a count as it is;
 *     NULL or empty as "-".
 * Output buffers of CLI_TABLE_CELL bytes hold any cell. Pure functions over
 * caller memory (cli_table_row writes to f); any thread. No state.
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_TABLE_WIDTH 100
#define CLI_TABLE_CELL 256 /* a fitted cell (at most 4 bytes per column) and its NUL */

struct cli_col {
    const char *header;
    unsigned width; /* columns, 1..60 */
    int right;      /* 1: right-aligned (numbers) */
};

void cli_table_fit(const char *s, unsigned width, char *out, size_t n);
void cli_table_row(FILE *f, const char *indent, const struct cli_col *cols, size_t ncols,
                   const char *const *cells);
void cli_table_count(int64_t v, unsigned width, char *out, size_t n);
void cli_table_time(const char *iso, int secs, char *out, size_t n);
void cli_table_rate(const char *kind, const char *value, char *out, size_t n);

#endif
