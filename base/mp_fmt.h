/* mp_fmt.h — the one way mailpulse shows rates and factors to people.
 *
 * Contract: pure functions, any thread, no allocation. Each writes a
 * NUL-terminated text into buf (cut to n bytes; MP_FMT_LEN is always
 * enough) and returns buf, so calls nest in printf arguments.
 *
 *   mp_fmt_pct(f): a fraction (0.0231 = 2.31%) as a percentage.
 *     At or above 1%: two decimals, "2.31%", "100.00%".
 *     Below 1%: two significant digits, "0.12%", "0.0012%", "0.50%";
 *       what rounds up to 1% reads "1.00%".
 *     0 reads "0%"; negative values keep their sign ("-0.50%").
 *     NaN and infinities read "-" (no rate, never a made-up figure).
 *   mp_fmt_factor(x): a ratio of rates, one decimal and "x": "3.2x";
 *     NaN and infinities read "-".
 *
 * Machine-readable fields (webhook annotations, --json) keep their plain
 * decimals; this is for text meant to be read.
 */
#ifndef MP_FMT_H
#define MP_FMT_H

#include <stddef.h>

#define MP_FMT_LEN 48

char *mp_fmt_pct(double frac, char *buf, size_t n);
char *mp_fmt_factor(double x, char *buf, size_t n);

#endif
