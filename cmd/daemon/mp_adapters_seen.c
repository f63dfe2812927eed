/* mp_adapters_seen.c — the adapters' dedup set (see mp_adapters_seen.h).
 *
 * File: a 16-byte header ("MPSEEN1\n", then the hash seed, little-endian
 * as the host writes it: the file never leaves its machine) and 16-byte
 * records (hash, until), appended. Memory: open addressing over the
 * hashes; until 0 is an empty slot. */
#include "mp_adapters_seen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_hash.h"

#define SEEN__MAGIC "MPSEEN1\n"

/* A failed ftruncate leaves a torn record that load skips only at the
 * end; nothing better to do than go on. */
static void mp_seen__noop(void) {}

struct mp_seen {
    uint64_t *h;
    int64_t *until;
    size_t cap, n;
    uint64_t seed;
    char *path;
    int fd;            /* -1: memory only */
    size_t file_recs;  /* records in the file */
};

struct seen__rec {
    uint64_t h;
    int64_t until;
};
_Static_assert(sizeof(struct seen__rec) == 16, "records are 16 bytes on disk");

static size_t seen__find(const struct mp_seen *s, uint64_t h)
{
    size_t i = h & (s->cap - 1);
    while (s->until[i] && s->h[i] != h)
        i = (i + 1) & (s->cap - 1);
    return i;
}

static void seen__put(struct mp_seen *s, uint64_t h, int64_t until)
{
    size_t i = seen__find(s, h);
    if (!s->until[i])
        s->n++;
    s->h[i] = h;
    if (until > s->until[i])
        s->until[i] = until;
}

/* The table at `cap` slots with only the entries alive at now. */
static int seen__resize(struct mp_seen *s, size_t cap, int64_t now)
{
    uint64_t *oh = s->h;
    int64_t *ou = s->until;
    size_t ocap = s->cap;
    s->h = calloc(cap, sizeof(*s->h));
    s->until = calloc(cap, sizeof(*s->until));
    if (!s->h || !s->until) {
        free(s->h);
        free(s->until);
        s->h = oh, s->until = ou;
        return MP_ERR_NOMEM;
    }
    s->cap = cap;
    s->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (ou[i] > now)
            seen__put(s, oh[i], ou[i]);
    free(oh);
    free(ou);
    return MP_OK;
}

/* Room for `more` entries: expired ones dropped, doubled while over half. */
static int seen__room(struct mp_seen *s, size_t more, int64_t now)
{
    if ((s->n + more) * 2 <= s->cap)
        return MP_OK;
    size_t live = 0, cap = s->cap;
    for (size_t i = 0; i < s->cap; i++)
        live += s->until[i] > now;
    while ((live + more) * 2 > cap)
        cap *= 2;
    if (live + more > MP_SEEN_MAX)
        return MP_ERR_FULL;
    return seen__resize(s, cap, now);
}

static int seen__write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return MP_ERR_IO;
        c += w;
        n -= (size_t)w;
    }
    return MP_OK;
}

/* Writes the live entries to path.tmp, syncs, renames over path. */
static int seen__rewrite(struct mp_seen *s, int64_t now)
{
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", s->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return MP_ERR_IO;
    int rc = seen__write_all(fd, SEEN__MAGIC, 8);
    if (rc == MP_OK)
        rc = seen__write_all(fd, &s->seed, 8);
    size_t recs = 0;
    for (size_t i = 0; rc == MP_OK && i < s->cap; i++) {
        if (s->until[i] > now) {
            struct seen__rec r = {s->h[i], s->until[i]};
            rc = seen__write_all(fd, &r, sizeof(r));
            recs++;
        }
    }
    if (rc == MP_OK && fsync(fd) != 0)
        rc = MP_ERR_IO;
    close(fd);
    if (rc == MP_OK && rename(tmp, s->path) != 0)
        rc = MP_ERR_IO;
    if (rc != MP_OK) {
        unlink(tmp);
        return rc;
    }
    int nfd = open(s->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (nfd < 0)
        return MP_ERR_IO;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = nfd;
    s->file_recs = recs;
    return MP_OK;
}

/* Loads an existing file: 0 with the entries, or MP_ERR_IO (err). */
static int seen__load(struct mp_seen *s, int64_t now, char *err, size_t errlen)
{
    FILE *f = fopen(s->path, "rb");
    if (!f)
        return errno == ENOENT ? MP_ERR_NOTFOUND : MP_ERR_IO;
    char magic[8];
    int rc = MP_OK;
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, SEEN__MAGIC, 8) != 0 ||
        fread(&s->seed, 1, 8, f) != 8) {
        snprintf(err, errlen, "%.3000s: not an adapters dedup file (move it away)", s->path);
        rc = MP_ERR_IO;
    }
    struct seen__rec r;
    while (rc == MP_OK && fread(&r, sizeof(r), 1, f) == 1) {
        /* a torn last record is a short read: the loop ends there */
        if (r.until > now && (rc = seen__room(s, 1, now)) == MP_OK)
            seen__put(s, r.h, r.until);
    }
    fclose(f);
    return rc;
}

int mp_seen_open(const char *path, int64_t now, struct mp_seen **out, char *err, size_t errlen)
{
    struct mp_seen *s = calloc(1, sizeof(*s));
    int rc = MP_ERR_NOMEM;
    *out = NULL;
    if (!s)
        return rc;
    s->fd = -1;
    s->cap = 1024;
    s->seed = eng_hash_seed();
    s->h = calloc(s->cap, sizeof(*s->h));
    s->until = calloc(s->cap, sizeof(*s->until));
    if (s->h && s->until && (!path || (s->path = strdup(path)) != NULL))
        rc = MP_OK;
    if (rc == MP_OK && path) {
        rc = seen__load(s, now, err, errlen);
        if (rc == MP_ERR_NOTFOUND)
            rc = MP_OK; /* a first start: a new seed */
        /* rewritten at once: the expired entries and a torn tail go */
        if (rc == MP_OK && (rc = seen__rewrite(s, now)) != MP_OK)
            snprintf(err, errlen, "%.3000s: %s", path, strerror(errno));
    }
    if (rc != MP_OK) {
        mp_seen_close(s);
        return rc;
    }
    *out = s;
    return MP_OK;
}

void mp_seen_close(struct mp_seen *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s->h);
    free(s->until);
    free(s);
}

uint64_t mp_seen_seed(const struct mp_seen *s) { return s->seed; }
size_t mp_seen_count(const struct mp_seen *s) { return s->n; }

int mp_seen_has(const struct mp_seen *s, uint64_t h, int64_t now)
{
    return s->until[seen__find(s, h)] > now;
}

int mp_seen_add(struct mp_seen *s, const uint64_t *h, const int64_t *until, size_t n, int64_t now)
{
    int rc = seen__room(s, n, now);
    if (rc != MP_OK || n == 0)
        return rc;
    if (s->fd >= 0) {
        struct seen__rec *recs = calloc(n, sizeof(*recs));
        if (!recs)
            return MP_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            recs[i] = (struct seen__rec){h[i], until[i]};
        rc = seen__write_all(s->fd, recs, n * sizeof(*recs));
        free(recs);
        if (rc == MP_OK && fdatasync(s->fd) != 0)
            rc = MP_ERR_IO;
        if (rc != MP_OK) {
            /* cut a partial append, so later records stay aligned */
            if (ftruncate(s->fd, (off_t)(16 + s->file_recs * sizeof(struct seen__rec))) != 0)
                mp_seen__noop();
            return rc; /* nothing remembered: the service retries the request */
        }
        s->file_recs += n;
    }
    for (size_t i = 0; i < n; i++)
        seen__put(s, h[i], until[i]);
    if (s->fd >= 0 && s->file_recs > 4 * s->n + 4096)
        (void)seen__rewrite(s, now); /* failing, the file only stays longer */
    return MP_OK;
}

int mp_seen_reserve(struct mp_seen *s, size_t n, int64_t now) { return seen__room(s, n, now); }

void mp_seen_put(struct mp_seen *s, const uint64_t *h, const int64_t *until, size_t n)
{
    for (size_t i = 0; i < n; i++)
        seen__put(s, h[i], until[i]);
}

void mp_seen_reseed(struct mp_seen *s, uint64_t seed) { s->seed = seed; }

int mp_seen_each(const struct mp_seen *s, int64_t now,
                 int (*fn)(void *arg, uint64_t h, int64_t until), void *arg)
{
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < s->cap; i++)
        if (s->until[i] > now)
            rc = fn(arg, s->h[i], s->until[i]);
    return rc;
}
