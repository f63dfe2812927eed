/* test_mp_ui.c — Check suite "mp_ui": the web UI's compiled-in files
 * (cmd/daemon/mp_ui.h) answered from the table the build made of
 * build/ui/dist: the redirect, index.html for /ui/, each file with its
 * type, ETag and no-cache, 304 for a matching If-None-Match (a list, a weak
 * tag, "*"), and 404 for every name the table does not hold, traversals
 * included; the body is a copy of the table's bytes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "mp_ui.h"

static struct mp_http_reply ask(const char *path, const char *inm)
{
    struct mp_http_reply r = {0};
    mp_ui_reply(path, inm, &r);
    return r;
}

START_TEST(files)
{
    ck_assert_uint_ge(mp_ui_nfiles, 3);
    const char *want[][2] = {{"index.html", "text/html; charset=utf-8"},
                             {"app.js", "text/javascript; charset=utf-8"},
                             {"app.css", "text/css; charset=utf-8"}};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        const struct mp_ui_file *f = mp_ui_find(want[i][0]);
        ck_assert_msg(f != NULL, "%s is not compiled in", want[i][0]);
        char path[64] = MP_UI_PREFIX "/";
        strcat(path, want[i][0]);
        struct mp_http_reply r = ask(path, NULL);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.content_type, want[i][1]);
        ck_assert_str_eq(r.cache_control, "no-cache");
        ck_assert_str_eq(r.etag, f->etag);
        ck_assert_uint_eq(r.len, f->len);
        ck_assert(memcmp(r.body, f->data, f->len) == 0 && r.body != (char *)f->data);
        free(r.body);
    }
    struct mp_http_reply r = ask("/ui/", NULL);
    ck_assert_int_eq(r.status, 200);
    ck_assert(strstr(r.body, "app.js") != NULL);
    ck_assert_str_eq(r.etag, mp_ui_find("index.html")->etag);
    free(r.body);
}
END_TEST

START_TEST(redirect_and_304)
{
    struct mp_http_reply r = ask("/ui", NULL);
    ck_assert_int_eq(r.status, 308);
    ck_assert_str_eq(r.location, "/ui/");
    ck_assert_ptr_null(r.body);
    const char *tag = mp_ui_find("app.js")->etag;
    char list[128], weak[64];
    snprintf(list, sizeof(list), "\"0000000000000000\", %s", tag);
    snprintf(weak, sizeof(weak), "W/%s", tag);
    const char *hit[] = {tag, list, weak, "*"};
    for (size_t i = 0; i < sizeof(hit) / sizeof(hit[0]); i++) {
        r = ask("/ui/app.js", hit[i]);
        ck_assert_msg(r.status == 304 && r.body == NULL, "If-None-Match: %s -> %d", hit[i],
                      r.status);
        ck_assert_str_eq(r.etag, tag);
    }
    /* another file's tag, a prefix of the tag, an empty header: the file */
    char prefix[32];
    snprintf(prefix, sizeof(prefix), "%.8s", tag);
    const char *miss[] = {mp_ui_find("index.html")->etag, prefix, ""};
    for (size_t i = 0; i < sizeof(miss) / sizeof(miss[0]); i++) {
        r = ask("/ui/app.js", miss[i]);
        ck_assert_msg(r.status == 200, "If-None-Match: %s -> %d", miss[i], r.status);
        free(r.body);
    }
}
END_TEST

START_TEST(unknown_is_404)
{
    const char *bad[] = {"/ui/nothing.js", "/ui/../healthz", "/ui/./app.js", "/ui//app.js",
                         "/ui/app.js/", "/ui/APP.JS", "/uiapp.js", "/ui/..", "/ui/dist/app.js",
                         "/other", "/ui/index.html?x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mp_http_reply r = ask(bad[i], NULL);
        ck_assert_msg(r.status == 404, "%s -> %d", bad[i], r.status);
        ck_assert_str_eq(r.content_type, "application/json");
        ck_assert_ptr_null(r.etag);
        free(r.body);
    }
}
END_TEST

CHECK_SUITE("mp_ui", 0, NULL, NULL, files, redirect_and_304, unknown_is_404)
