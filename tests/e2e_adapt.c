/* e2e_adapt.c — see e2e_adapt.h. */
#include "e2e_adapt.h"

#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http_receiver.h"

struct ead_body {
    char buf[1024];
    size_t len;
};

static size_t ead__body(char *p, size_t sz, size_t n, void *arg)
{
    struct ead_body *b = arg;
    size_t take = sz * n;
    if (take > sizeof(b->buf) - 1 - b->len)
        take = sizeof(b->buf) - 1 - b->len;
    memcpy(b->buf + b->len, p, take);
    b->len += take;
    b->buf[b->len] = '\0';
    return sz * n;
}

long ead_post(struct ew_world *w, const char *path, const char *const *hdrs, const char *body,
              char *out, size_t outn)
{
    struct ead_body b = {.len = 0};
    char url[256];
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        h = curl_slist_append(h, hdrs[i]);
    snprintf(url, sizeof(url), "%s%s", w->base, path);
    CURL *c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ead__body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    EW_MUST(w, rc == CURLE_OK, "POST %s: %s", url, curl_easy_strerror(rc));
    if (out)
        snprintf(out, outn, "%s", b.buf);
    return status;
}

void ead_post_ok(struct ew_world *w, const char *path, const char *const *hdrs,
                 const char *body, const char *want)
{
    char ans[1024];
    long st = ead_post(w, path, hdrs, body, ans, sizeof(ans));
    EW_MUST(w, st == 200 && (!want || strstr(ans, want)), "POST %s: %ld %s (wanted 200 %s) %.300s",
            path, st, ans, want ? want : "", body);
}

void ead_wait_alert(struct ew_world *w, size_t k, const char *tenant, const char *rule, int ms)
{
    char needle[128];
    snprintf(needle, sizeof(needle), "\"tenant\":\"%s\"", tenant);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        size_t n = hrx_count(w->raw[k]);
        for (size_t i = 0; i < n; i++) {
            const struct hrx_req *r = hrx_get(w->raw[k], i);
            if (r->body && strstr(r->body, needle) && strstr(r->body, rule) &&
                strstr(r->body, "firing"))
                return;
        }
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        EW_MUST(w, (t.tv_sec - t0.tv_sec) * 1000 < ms,
                "no firing %s alert for %s within %d ms (%zu requests)", rule, tenant, ms, n);
        usleep(10000);
    }
}

void ead_expect(struct ew_world *w, const char *adapter, const char *what, uint64_t want)
{
    char series[160];
    snprintf(series, sizeof(series), "mailpulse_adapter_%s_total{adapter=\"%s\"}", what, adapter);
    uint64_t got = ew_metric(w, series);
    EW_MUST(w, got == want, "%s is %llu, wanted %llu", series, (unsigned long long)got,
            (unsigned long long)want);
}
