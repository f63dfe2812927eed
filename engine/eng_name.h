/* eng_name.h — the one grammar of names that come from outside: tenants
 * (from producers, HTTP paths, config routes) and the config's own names
 * (receivers), checked wherever they enter.
 *
 * Contract: eng_name_valid(s, len) is 1 when s[0..len) is 1..64 bytes of
 * [A-Za-z0-9._-], else 0 (len counts bytes; a NUL inside makes it invalid).
 * ENG_NAME_GRAMMAR is the wording every refusal quotes. Pure, any thread.
 */
#ifndef ENG_NAME_H
#define ENG_NAME_H

#include <stddef.h>

#define ENG_NAME_MAX 64
#define ENG_NAME_GRAMMAR "1..64 characters of [A-Za-z0-9._-]"

int eng_name_valid(const char *s, size_t len);

#endif
