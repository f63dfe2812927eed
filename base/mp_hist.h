/* mp_hist.h — a lock-free, fixed-bucket histogram of durations, rendered in
 * the Prometheus text format (`_bucket{le="..."}`, `_sum`, `_count`).
 *
 * Contract: mp_hist_init() sets the bucket bounds (ascending nanoseconds,
 * at most MP_HIST_MAX bounds; the array is borrowed and must outlive the
 * histogram) before any other thread sees it. mp_hist_observe() may then
 * be called from any number of threads at once: it is two relaxed atomic
 * adds (the value's bucket and the sum), no lock, no allocation; callers
 * observe per flush, pass or delivery, never per ingested event.
 * mp_hist_read() may run on any thread at the same time: it loads each
 * count relaxed and builds the cumulative buckets itself, so `_count`
 * always equals the +Inf bucket and buckets never decrease within one
 * snapshot; `_sum` is read on its own and may include an observation whose
 * bucket the snapshot does not yet show (counters only, nothing else is
 * published through them, so relaxed is enough).
 * mp_hist_render() appends the samples of one series (no HELP/TYPE lines:
 * the caller writes them once per family) with `labels` (NULL or e.g.
 * `receiver="ops"`, already escaped) before `le`; values are seconds.
 * Returns MP_OK or MP_ERR_NOMEM (mp_buf).
 *
 * The struct is public so owners embed it without an allocation; its
 * fields are touched only through these functions.
 */
#ifndef MP_HIST_H
#define MP_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "mp_atomic.h"
#include "mp_buf.h"

#define MP_HIST_MAX 20

struct mp_hist {
    const uint64_t *le_ns;                /* n ascending upper bounds */
    size_t n;
    mp_atomic_u64 counts[MP_HIST_MAX + 1]; /* per bucket, not cumulative; [n] is +Inf */
    mp_atomic_u64 sum_ns;
};

struct mp_hist_snap {
    size_t n;
    uint64_t le_ns[MP_HIST_MAX];
    uint64_t cum[MP_HIST_MAX + 1]; /* cumulative; cum[n] is the count */
    uint64_t sum_ns;
};

/* Latency buckets, 100 us .. 10 s (1-2.5-5 steps): flushes, passes, sweeps
 * and webhook deliveries all fit in them. */
extern const uint64_t mp_hist_latency_ns[];
#define MP_HIST_LATENCY_N 16

/* MP_ERR_INVAL when n is 0, over MP_HIST_MAX, or the bounds do not ascend. */
int mp_hist_init(struct mp_hist *h, const uint64_t *le_ns, size_t n);
void mp_hist_observe(struct mp_hist *h, uint64_t ns);
void mp_hist_read(const struct mp_hist *h, struct mp_hist_snap *out);
int mp_hist_render(const struct mp_hist_snap *s, const char *name, const char *labels,
                   struct mp_buf *out);

#endif
