/* fuzz_ui.c — libFuzzer target for the web UI's file lookup
 * (cmd/daemon/mp_ui.h): the request path and the If-None-Match header, the
 * two outside inputs mp_ui_reply() reads.
 *
 * The input is cut at its first '\n': the path before (prefixed with "/ui"
 * unless it starts with '/'), the header after (absent without a '\n');
 * each is copied into a buffer of exactly its length plus the NUL, so ASan
 * catches a read past either. It aborts when the contract breaks:
 *   - a status other than 200, 304, 308 or 404;
 *   - 200 or 304 for a path that is not "/ui/" + a name of the table (or
 *     "/ui/" itself), or a 200 whose body is not that file's bytes;
 *   - 308 for anything but "/ui" exactly, or without Location "/ui/";
 *   - a 304 without a header, or a body with it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mp_ui.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t plen = nl ? (size_t)(nl - data) : size;
    int rel = plen == 0 || data[0] != '/';
    char *path = malloc(plen + 4), *inm = NULL;
    if (!path)
        return 0;
    memcpy(path, "/ui", rel ? 3 : 0);
    memcpy(path + (rel ? 3 : 0), data, plen);
    path[plen + (rel ? 3 : 0)] = '\0';
    if (nl) {
        size_t hlen = size - plen - 1;
        if ((inm = malloc(hlen + 1)) == NULL) {
            free(path);
            return 0;
        }
        memcpy(inm, nl + 1, hlen);
        inm[hlen] = '\0';
    }
    struct mp_http_reply r = {0};
    mp_ui_reply(path, inm, &r);
    const struct mp_ui_file *f =
        strncmp(path, "/ui/", 4) == 0 ? mp_ui_find(path + 4) : NULL;
    switch (r.status) {
    case 200:
        if (!f || r.len != f->len || memcmp(r.body, f->data, f->len) != 0)
            abort();
        break;
    case 304:
        if (!f || !inm || r.body)
            abort();
        break;
    case 308:
        if (strcmp(path, "/ui") != 0 || !r.location || strcmp(r.location, "/ui/") != 0)
            abort();
        break;
    case 404:
        if (f)
            abort();
        break;
    default:
        abort();
    }
    free(r.body);
    free(path);
    free(inm);
    return 0;
}
