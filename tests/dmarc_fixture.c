/* dmarc_fixture.c — see dmarc_fixture.h. */
#include "dmarc_fixture.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

void dfx_path(const char *name, char *buf, size_t cap)
{
    const char *src = getenv("MP_SRC_DIR");
    snprintf(buf, cap, "%s/tests/fixtures/dmarc/%s", src ? src : ".", name);
}

char *dfx_load(const char *name, size_t *len)
{
    char path[4096];
    dfx_path(name, path, sizeof(path));
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s (set MP_SRC_DIR)", path);
    size_t cap = 1 << 20;
    char *buf = malloc(cap + 1);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, cap, f);
    fclose(f);
    ck_assert_msg(*len > 0 && *len < cap, "fixture %s: empty or over 1 MiB", path);
    buf[*len] = '\0';
    return buf;
}
