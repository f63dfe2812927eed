/* eng_intern.h — string interning: names to small, stable integer ids.
 *
 * Contract: a fixed-capacity, concurrent dictionary. eng_intern_get() may be
 * called from any number of threads at once without locks: lookups are
 * wait-free reads of published slots, inserts publish with one CAS. A string
 * interned once keeps its id and its bytes for the dictionary's lifetime, so
 * the `const char *` returned by eng_intern_name() stays valid until
 * eng_intern_destroy() (which must not race with anything).
 *
 * Ids start at 1 (0 means "none") and are dense except for rare gaps left
 * when two threads race to insert the same new string (the loser's id is not
 * reused). The table persists names
 * (eng_intern_drain_new / eng_intern_put), so ids survive restarts.
 *
 * Names come from producers, so the probe hash is eng_hash_name() under a
 * seed drawn from the OS when the dictionary is created (eng_hash.h); ids
 * never depend on it, so persisted ids restore under any seed.
 *
 * Returns: MP_OK; MP_ERR_FULL when `capacity` strings are interned;
 * MP_ERR_NOMEM; MP_ERR_INVAL for an empty or over-long (> 255 bytes) name.
 */
#ifndef ENG_INTERN_H
#define ENG_INTERN_H

#include <stddef.h>
#include <stdint.h>

#include "mp.h"

struct eng_intern;

int eng_intern_create(uint32_t capacity, struct eng_intern **out);
void eng_intern_destroy(struct eng_intern *in);

/* Finds or adds `s` (len bytes, need not be NUL-terminated); *id receives its id. */
int eng_intern_get(struct eng_intern *in, const char *s, size_t len, uint32_t *id);
/* Finds without adding: MP_OK or MP_ERR_NOTFOUND. */
int eng_intern_find(const struct eng_intern *in, const char *s, size_t len, uint32_t *id);
/* The NUL-terminated name of `id`, or NULL for an unknown id. */
const char *eng_intern_name(const struct eng_intern *in, uint32_t id);
/* Restores a persisted name with its id (start-up, before other threads
 * use the dictionary). MP_ERR_INVAL for a bad id or a clash. */
int eng_intern_put(struct eng_intern *in, uint32_t id, const char *s, size_t len);
/* Calls fn for each name added since the last call (not the ones put back
 * by eng_intern_put), so the caller can persist them. One caller thread. */
size_t eng_intern_drain_new(struct eng_intern *in,
                            void (*fn)(void *arg, uint32_t id, const char *s, size_t len),
                            void *arg);
/* Number of strings interned; bytes held (for /metrics). */
uint32_t eng_intern_count(const struct eng_intern *in);
size_t eng_intern_bytes(const struct eng_intern *in);
/* The probe hash's seed (tests: two dictionaries differ). */
uint64_t eng_intern_hash_seed(const struct eng_intern *in);

#endif
