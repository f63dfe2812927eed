/* dmarc_fixture.h — the DMARC aggregate report fixtures
 * (tests/fixtures/dmarc/, written by its make.py) for the parser suite and
 * the e2e suite.
 *
 * Contract: dfx_load() returns the fixture's bytes (malloc'd, with a NUL
 * after them; the caller frees) and their length in *len, or aborts the
 * test through ck_assert. dfx_path() writes the fixture's path into buf.
 * MP_SRC_DIR (default ".") is the source tree. Test thread only.
 */
#ifndef DMARC_FIXTURE_H
#define DMARC_FIXTURE_H

#include <stddef.h>

char *dfx_load(const char *name, size_t *len);
void dfx_path(const char *name, char *buf, size_t cap);

#endif
