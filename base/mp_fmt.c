/* mp_fmt.c — rates and factors for people (see mp_fmt.h). */
#include "mp_fmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Below 1%: the decimals for two significant digits, and in *upper the
 * value from which that many decimals show three (0.0999 -> "0.100").
 * Found by scaling rather than log10(), so no logarithm is rounded. */
static int fmt__small_decimals(double pct, double *upper)
{
    int d = 2;
    double x = pct, t = 1.0;
    while (x < 0.1 && d < 14) {
        x *= 10;
        t /= 10;
        d++;
    }
    *upper = t;
    return d;
}

char *mp_fmt_pct(double frac, char *buf, size_t n)
{
    if (!isfinite(frac)) {
        snprintf(buf, n, "-");
        return buf;
    }
    const char *sign = frac < 0 ? "-" : "";
    double pct = fabs(frac) * 100.0;
    if (pct == 0.0) {
        snprintf(buf, n, "0%%");
        return buf;
    }
    if (pct < 1.0) {
        double upper;
        int d = fmt__small_decimals(pct, &upper);
        char tmp[MP_FMT_LEN];
        snprintf(tmp, sizeof(tmp), "%.*f", d, pct);
        double shown = strtod(tmp, NULL);
        if (shown < 1.0) { /* else it reads 1%: two decimals, below */
            if (d > 2 && shown >= upper)
                d--;
            snprintf(buf, n, "%s%.*f%%", sign, d, pct);
            return buf;
        }
    }
    snprintf(buf, n, "%s%.2f%%", sign, pct);
    return buf;
}

char *mp_fmt_factor(double x, char *buf, size_t n)
{
    if (!isfinite(x))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.1fx", x);
    return buf;
}
