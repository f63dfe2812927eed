/* mp_ui.h — the web UI's static files, compiled into the daemon, served at /ui/.
 *
 * Contract: the files are the build output of ui/ (ui/build.mjs: index.html,
 * app.js, app.css), turned into a C table by ui/embed.mjs at build time
 * (build/ui/mp_ui_files.c, struct mp_ui_file below), so a daemon always
 * serves the page it was built with and needs no directory at run time.
 * mp_ui_reply() answers one GET (or HEAD) whose path starts with MP_UI_PREFIX:
 *   /ui            308 to /ui/ (the page's relative links need the slash)
 *   /ui/           index.html
 *   /ui/NAME       the file NAME of the table, matched exactly
 *   anything else  404 {"error": ...}
 * A path is only ever compared with the table's names: nothing is read from
 * the file system, so "..", "%2e%2e" (decoded by mp_http before) or a NUL
 * cannot reach a file; they are 404 like any unknown name. Each file goes
 * with its Content-Type, `Cache-Control: no-cache` (the browser keeps a
 * copy but asks each time, so a new daemon's page is seen at once) and an
 * ETag (the first 16 hex digits of its SHA-256); an If-None-Match naming
 * it (or "*") is answered 304 without a body.
 *
 * The files are public, like /healthz: they hold no data. The page asks the
 * API for every figure with the viewer's token (mp_api.h).
 *
 * Threads: any; the table is immutable. Ownership: the reply's body is a
 * malloc'd copy the server frees; its header strings are the table's.
 */
#ifndef MP_UI_H
#define MP_UI_H

#include <stddef.h>

#include "mp_http.h"

#define MP_UI_PREFIX "/ui"

struct mp_ui_file {
    const char *name;         /* "index.html", "app.js", ... */
    const char *content_type; /* "text/html; charset=utf-8", ... */
    const char *etag;         /* "\"<16 hex>\"" */
    const unsigned char *data;
    size_t len;
};

/* Generated (ui/embed.mjs). */
extern const struct mp_ui_file mp_ui_files[];
extern const size_t mp_ui_nfiles;

/* The file `name` ("" is index.html), or NULL. */
const struct mp_ui_file *mp_ui_find(const char *name);
/* Answers `path` (see above); if_none_match is the request's header or NULL. */
void mp_ui_reply(const char *path, const char *if_none_match, struct mp_http_reply *out);

#endif
