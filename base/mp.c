/* mp.c — return code strings and clocks (see mp.h). */
#include "mp.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

const char *mp_strerror(int code)
{
    switch (code) {
    case MP_OK: return "ok";
    case MP_ERR_NOMEM: return "out of memory";
    case MP_ERR_INVAL: return "invalid argument";
    case MP_ERR_FULL: return "capacity exhausted";
    case MP_ERR_IO: return "i/o error";
    case MP_ERR_NOTFOUND: return "not found";
    case MP_ERR_PARSE: return "parse error";
    case MP_ERR_AGAIN: return "try again";
    case MP_ERR_STATE: return "wrong state";
    default: return "unknown error";
    }
}

int64_t mp_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t mp_rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (int64_t)rss * sysconf(_SC_PAGESIZE);
}
