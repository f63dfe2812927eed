/* mp_buf.h — the one growable buffer and the one array-growth helper.
 *
 * Contract: a struct mp_buf is a byte string that grows by doubling and is
 * always NUL-terminated once anything was appended (p[len] == '\0'), so it can
 * be handed to string functions as is. MP_BUF_INIT is a valid empty buffer
 * (p == NULL, len == 0). Functions return MP_OK or MP_ERR_NOMEM (also on size
 * overflow); on error the buffer is left as it was, still valid, and still
 * owned by the caller, who frees it with mp_buf_free() in every case.
 * mp_buf_take() hands the bytes over (the caller frees them with free()) and
 * leaves the buffer empty.
 *
 * mp_grow() is for arrays: it makes room for at least `need` elements of
 * `elem` bytes in *arrp (a pointer to the array pointer), doubling *cap from
 * at least 8; on MP_ERR_NOMEM (or overflow) the array and *cap are unchanged.
 * MP_GROW(arr, cap, need) is the typed spelling.
 *
 * No state of its own; any thread may use its own buffers.
 */
#ifndef MP_BUF_H
#define MP_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "mp.h"

struct mp_buf {
    char *p;
    size_t len;
    size_t cap; /* bytes allocated at p, the NUL included */
};
#define MP_BUF_INIT {NULL, 0, 0}

/* Room for `extra` more bytes plus the terminating NUL. */
int mp_buf_reserve(struct mp_buf *b, size_t extra);
int mp_buf_append(struct mp_buf *b, const void *data, size_t n);
int mp_buf_puts(struct mp_buf *b, const char *s);
int mp_buf_printf(struct mp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mp_buf_vprintf(struct mp_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Empties the buffer and keeps its memory. */
void mp_buf_reset(struct mp_buf *b);
/* The bytes (NUL-terminated; an empty string when nothing was appended, or
 * NULL when even that allocation fails), ownership to the caller. */
char *mp_buf_take(struct mp_buf *b);
void mp_buf_free(struct mp_buf *b);

int mp_grow(void *arrp, size_t *cap, size_t need, size_t elem);
#define MP_GROW(arr, cap, need) mp_grow(&(arr), &(cap), (need), sizeof(*(arr)))

#endif
