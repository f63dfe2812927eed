/* config_testkit.h — loading a daemon config from a string, for the config
 * suites (tests/test_mp_config*.c).
 *
 * Contract: ctk_load() writes `yaml` to a temp file, loads it with
 * mp_config_load() as the daemon and --check do, removes the file, and
 * returns the loader's rc; err gets the message with the temp file's path
 * cut off, so it begins ":<line>: <key>: ...". ctk_refused() asserts that
 * `yaml` is refused (MP_ERR_PARSE, no config) with a message that begins
 * with `want` when `want` starts with ':' (the line is pinned), else holds
 * it; `i` names the caller's table row in the failure. Check assertions,
 * any case; single-threaded.
 */
#ifndef CONFIG_TESTKIT_H
#define CONFIG_TESTKIT_H

#include <stddef.h>

#include "mp_config.h"

/* A row of a refusal table: the config text, and what its refusal says. */
struct ctk_refusal {
    const char *yaml, *want;
};

int ctk_load(const char *yaml, struct mp_config **cfg, char *err, size_t errlen);
void ctk_refused(const char *yaml, const char *want, int i);

#endif
