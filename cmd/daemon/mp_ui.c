/* mp_ui.c — the web UI's compiled-in files (see mp_ui.h). */
#include "mp_ui.h"

#include <stdlib.h>
#include <string.h>

const struct mp_ui_file *mp_ui_find(const char *name)
{
    if (!name[0])
        name = "index.html";
    for (size_t i = 0; i < mp_ui_nfiles; i++)
        if (strcmp(mp_ui_files[i].name, name) == 0)
            return &mp_ui_files[i];
    return NULL;
}

/* 1 when the If-None-Match list names etag (or is "*"): RFC 9110 13.1.2,
 * weak comparison, so a W/ prefix a proxy added still matches. */
static int ui__etag_match(const char *inm, const char *etag)
{
    size_t n = strlen(etag);
    for (const char *p = inm; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return 1;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' ||
                                         p[n] == '\t'))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

void mp_ui_reply(const char *path, const char *if_none_match, struct mp_http_reply *out)
{
    size_t pre = strlen(MP_UI_PREFIX);
    if (strncmp(path, MP_UI_PREFIX, pre) != 0 || (path[pre] != '\0' && path[pre] != '/')) {
        mp_http_error(out, 404, "no such path");
        return;
    }
    if (path[pre] == '\0') {
        out->status = 308;
        out->location = MP_UI_PREFIX "/";
        out->content_type = "text/plain; charset=utf-8";
        return;
    }
    const struct mp_ui_file *f = mp_ui_find(path + pre + 1);
    if (!f) {
        mp_http_error(out, 404, "no such file of the web UI (it is at /ui/)");
        return;
    }
    out->cache_control = "no-cache";
    out->etag = f->etag;
    out->content_type = f->content_type;
    if (if_none_match && ui__etag_match(if_none_match, f->etag)) {
        out->status = 304;
        return;
    }
    if ((out->body = malloc(f->len ? f->len : 1)) == NULL) {
        mp_http_error(out, 500, "out of memory");
        return;
    }
    memcpy(out->body, f->data, f->len);
    out->len = f->len;
    out->status = 200;
}
