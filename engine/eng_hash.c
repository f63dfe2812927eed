/* eng_hash.c — per-table hash seeds from the OS random source (see eng_hash.h). */
#include "eng_hash.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "mp_log.h"

uint64_t eng_hash_seed(void)
{
    uint64_t seed = 0;
    ssize_t n;
    do {
        n = getrandom(&seed, sizeof(seed), 0);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(seed))
        return seed;
    /* No OS randomness: weaker, but still not a constant a producer knows. */
    mp_error("hash_seed_fallback err=%s", MP_LOG_Q(n < 0 ? strerror(errno) : "short read"));
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ ((uint64_t)getpid() << 16) ^
           (uint64_t)(uintptr_t)&seed;
    return mp_hash_mix64(seed);
}
