/* mp_hash.h — small, fast, non-cryptographic 64-bit hashes.
 *
 * Contract: pure functions, any thread. mp_hash_bytes() hashes short strings
 * (names, addresses) 8 bytes at a time; mp_hash_mix64() finalises integers
 * (splitmix64). mp_hash_bytes() is not for names that come from outside:
 * those are hashed by eng_hash_name() (engine/eng_hash.h) under a seed drawn
 * per table, so nobody can precompute colliding names; here it serves as
 * that hash's fallback where the compiler has no 128-bit multiply. The
 * fingerprint receivers see is a frozen copy of mp_hash_bytes() in
 * alerts/alert_notify.c built on mp_hash_mix64(), so mp_hash_mix64() is
 * FROZEN: it is splitmix64's finaliser and stays that function (the
 * fingerprint vectors in tests/test_alert_notify.c fail if it moves).
 */
#ifndef MP_HASH_H
#define MP_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t mp_hash_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

static inline uint64_t mp_hash_bytes(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ULL * (len + 1));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mp_hash_mix64(h ^ w) + 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return mp_hash_mix64(h ^ w ^ ((uint64_t)len << 56));
}

#endif
