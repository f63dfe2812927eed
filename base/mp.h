/* mp.h — return codes and small shared definitions for every mailpulse module.
 *
 * Contract: every fallible function returns an `int` that is MP_OK (0) on
 * success or one of the negative MP_ERR_* codes below; results travel through
 * out-parameters. mp_strerror() turns a code into a static string and never
 * returns NULL. The numbers are stable (they appear in logs).
 */
#ifndef MP_H
#define MP_H

#include <stddef.h>
#include <stdint.h>

enum {
    MP_OK = 0,
    MP_ERR_NOMEM = -1,    /* allocation failed */
    MP_ERR_INVAL = -2,    /* bad argument or bad input */
    MP_ERR_FULL = -3,     /* a fixed-capacity structure is full */
    MP_ERR_IO = -4,       /* file, socket or library I/O failed (see errno/log) */
    MP_ERR_NOTFOUND = -5, /* the thing asked for does not exist */
    MP_ERR_PARSE = -6,    /* a config or rules file is malformed */
    MP_ERR_AGAIN = -7,    /* try again later (queue full, timeout) */
    MP_ERR_STATE = -8,    /* call not allowed in the object's current state */
};

const char *mp_strerror(int code);

#define MP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MP_UNUSED(x) ((void)(x))

/* The release both programs print for -V ("mailpulsed 0.1.0",
 * "mailpulse 0.1.0"): one number for the daemon and its CLI. */
#define MP_VERSION "0.1.0"

/* Wall clock in Unix milliseconds (CLOCK_REALTIME). */
int64_t mp_now_ms(void);
/* Monotonic clock in nanoseconds (CLOCK_MONOTONIC), for durations. */
int64_t mp_mono_ns(void);
/* This process's resident memory in bytes (/proc/self/statm); 0 when it
 * cannot be read. */
int64_t mp_rss_bytes(void);

#endif
