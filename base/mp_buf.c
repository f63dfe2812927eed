/* mp_buf.c — growable byte buffer and array growth (see mp_buf.h). */
#include "mp_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mp_grow(void *arrp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return MP_OK;
    size_t ncap = *cap < 8 ? 8 : *cap;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2)
            return MP_ERR_NOMEM;
        ncap *= 2;
    }
    if (elem != 0 && ncap > SIZE_MAX / elem)
        return MP_ERR_NOMEM;
    void *old;
    memcpy(&old, arrp, sizeof(old)); /* arrp points at a T *, whatever T is */
    void *n = realloc(old, ncap * elem);
    if (n == NULL)
        return MP_ERR_NOMEM;
    memcpy(arrp, &n, sizeof(n));
    *cap = ncap;
    return MP_OK;
}

int mp_buf_reserve(struct mp_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1)
        return MP_ERR_NOMEM;
    return mp_grow(&b->p, &b->cap, b->len + extra + 1, 1);
}

int mp_buf_append(struct mp_buf *b, const void *data, size_t n)
{
    int rc = mp_buf_reserve(b, n);
    if (rc != MP_OK)
        return rc;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
    return MP_OK;
}

int mp_buf_puts(struct mp_buf *b, const char *s) { return mp_buf_append(b, s, strlen(s)); }

int mp_buf_vprintf(struct mp_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return MP_ERR_INVAL;
    if ((size_t)n < sizeof(small))
        return mp_buf_append(b, small, (size_t)n);
    int rc = mp_buf_reserve(b, (size_t)n);
    if (rc != MP_OK)
        return rc;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return MP_OK;
}

int mp_buf_printf(struct mp_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mp_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void mp_buf_reset(struct mp_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

char *mp_buf_take(struct mp_buf *b)
{
    char *p = b->p ? b->p : strdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void mp_buf_free(struct mp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
