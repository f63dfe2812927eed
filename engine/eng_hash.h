/* eng_hash.h — the one hash for names that come from outside (tenants,
 * mailboxes, recipient domains), seeded per table from the OS.
 *
 * Contract: eng_hash_name(p, len, seed) hashes len bytes (need not be
 * NUL-terminated) under a 64-bit seed; pure and inline (the ingest hot path
 * hashes three names per event). Producers choose these names, so every
 * dictionary that probes by this hash (the key table, the name dictionary)
 * takes its seed from eng_hash_seed() when it is created and keeps it in its
 * own context struct: a hostile producer cannot precompute names that
 * collide into one long probe chain, as Redis seeds its dict hash for the
 * same reason. Nothing derived from it reaches disk or the wire (ids come
 * from the store), so the function and the seeds are free to change; the
 * frozen fingerprint hash receivers see lives in alerts/alert_notify.c, not
 * here. Tables outside the engine that probe by such names (the alert
 * evaluator's tenant groups) use it too, with a seed of their own.
 *
 * eng_hash_seed() reads 8 bytes from getrandom(2); should the OS source
 * fail (a kernel without it, a sandbox refusing it), it falls back to the
 * clock, the pid and an address (weaker, never fixed) and logs once per
 * call. Any thread.
 */
#ifndef ENG_HASH_H
#define ENG_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mp_hash.h"

uint64_t eng_hash_seed(void);

#ifdef __SIZEOF_INT128__
/* A multiply-fold hash of the wyhash family: 16 bytes per 64x64->128-bit
 * multiply, against one 64-bit mix per 8 bytes in mp_hash_bytes. */
static inline uint64_t eng_hash__mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t eng_hash__r8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t eng_hash__r4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t eng_hash_name(const char *p, size_t len, uint64_t seed)
{
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
    uint64_t a, b;
    seed ^= eng_hash__mum(seed ^ k0, (uint64_t)len ^ k1);
    if (len <= 16) {
        if (len >= 4) {
            size_t q = (len >> 3) << 2; /* 0 or 4: the four reads cover every byte */
            a = eng_hash__r4(p) << 32 | eng_hash__r4(p + q);
            b = eng_hash__r4(p + len - 4) << 32 | eng_hash__r4(p + len - 4 - q);
        } else if (len > 0) {
            a = (uint64_t)(unsigned char)p[0] << 16 | (uint64_t)(unsigned char)p[len >> 1] << 8 |
                (unsigned char)p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        for (; i > 16; i -= 16, p += 16)
            seed = eng_hash__mum(eng_hash__r8(p) ^ k1, eng_hash__r8(p + 8) ^ seed);
        a = eng_hash__r8(p + i - 16); /* the last 16 bytes, overlapping */
        b = eng_hash__r8(p + i - 8);
    }
    return eng_hash__mum(k1 ^ (uint64_t)len, eng_hash__mum(a ^ k1, b ^ seed));
}
#else
static inline uint64_t eng_hash_name(const char *p, size_t len, uint64_t seed)
{
    return mp_hash_bytes(p, len, seed);
}
#endif

#endif
