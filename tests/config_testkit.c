/* config_testkit.c — see config_testkit.h. */
#include "config_testkit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mp.h"
#include "unit_util.h"

int ctk_load(const char *yaml, struct mp_config **cfg, char *err, size_t errlen)
{
    char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 32], e[1024] = "";
    unit_tmpdir("config", dir);
    snprintf(path, sizeof(path), "%s/mailpulse.yaml", dir);
    unit_write_file(path, yaml);
    *cfg = NULL;
    int rc = mp_config_load(path, cfg, e, sizeof(e));
    size_t plen = strlen(path);
    snprintf(err, errlen, "%s", strncmp(e, path, plen) == 0 ? e + plen : e);
    unit_tmpdir_remove(dir);
    return rc;
}

void ctk_refused(const char *yaml, const char *want, int i)
{
    struct mp_config *cfg = NULL;
    char err[1024] = "";
    int rc = ctk_load(yaml, &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_ERR_PARSE && cfg == NULL, "case %d: loaded (rc %d)", i, rc);
    int ok = want[0] == ':' ? strncmp(err, want, strlen(want)) == 0 : strstr(err, want) != NULL;
    ck_assert_msg(ok, "case %d:\n got: %s\nwant: %s%s", i, err, want,
                  want[0] == ':' ? "..." : " (in it)");
}
