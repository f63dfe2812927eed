/* mp_hist.c — fixed-bucket histograms (see mp_hist.h). */
#include "mp_hist.h"

#include <stdio.h>
#include <string.h>

#include "mp.h"

const uint64_t mp_hist_latency_ns[MP_HIST_LATENCY_N] = {
    100000,    250000,    500000,     1000000,    2500000,    5000000,
    10000000,  25000000,  50000000,   100000000,  250000000,  500000000,
    1000000000, 2500000000, 5000000000, 10000000000,
};

int mp_hist_init(struct mp_hist *h, const uint64_t *le_ns, size_t n)
{
    if (h == NULL || le_ns == NULL || n == 0 || n > MP_HIST_MAX)
        return MP_ERR_INVAL;
    for (size_t i = 1; i < n; i++)
        if (le_ns[i] <= le_ns[i - 1])
            return MP_ERR_INVAL;
    h->le_ns = le_ns;
    h->n = n;
    for (size_t i = 0; i <= MP_HIST_MAX; i++)
        mp_atomic_init(&h->counts[i], 0);
    mp_atomic_init(&h->sum_ns, 0);
    return MP_OK;
}

void mp_hist_observe(struct mp_hist *h, uint64_t ns)
{
    size_t i = 0;
    while (i < h->n && ns > h->le_ns[i]) /* le: upper bounds are inclusive */
        i++;
    mp_add_relaxed(&h->counts[i], 1);
    mp_add_relaxed(&h->sum_ns, ns);
}

void mp_hist_read(const struct mp_hist *h, struct mp_hist_snap *out)
{
    uint64_t run = 0;
    memset(out, 0, sizeof(*out));
    out->n = h->n;
    for (size_t i = 0; i < h->n; i++)
        out->le_ns[i] = h->le_ns[i];
    for (size_t i = 0; i <= h->n; i++) {
        /* mp_load_relaxed wants a non-const pointer under some compilers */
        run += mp_load_relaxed((mp_atomic_u64 *)&h->counts[i]);
        out->cum[i] = run;
    }
    out->sum_ns = mp_load_relaxed((mp_atomic_u64 *)&h->sum_ns);
}

int mp_hist_render(const struct mp_hist_snap *s, const char *name, const char *labels,
                   struct mp_buf *out)
{
    const char *l = labels ? labels : "", *sep = labels && labels[0] ? "," : "";
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i <= s->n; i++) {
        char le[32];
        if (i < s->n)
            snprintf(le, sizeof(le), "%.9g", (double)s->le_ns[i] / 1e9);
        else
            snprintf(le, sizeof(le), "+Inf");
        rc = mp_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, l, sep, le,
                           (unsigned long long)s->cum[i]);
    }
    const char *lb = labels && labels[0] ? "{" : "", *rb = labels && labels[0] ? "}" : "";
    if (rc == MP_OK)
        rc = mp_buf_printf(out, "%s_sum%s%s%s %.9f\n%s_count%s%s%s %llu\n", name, lb, l, rb,
                           (double)s->sum_ns / 1e9, name, lb, l, rb,
                           (unsigned long long)s->cum[s->n]);
    return rc;
}
