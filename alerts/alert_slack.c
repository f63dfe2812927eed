/* alert_slack.c — Slack messages and their merging (see alert_slack.h). */
#include "alert_slack.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "mp_buf.h"

#define SLACK_RED "#d50200"
#define SLACK_AMBER "#f2a900"
#define SLACK_GREEN "#2eb67d"

/* One alert's line (see the header); appended to b. */
static int slack__line(struct mp_buf *b, const struct alert_instance *a)
{
    const struct alert_rule *r = a->rule;
    char val[48], thr[48], scope[200], what[400];
    int resolved = a->status == ALERT_STATUS_RESOLVED;
    const char *icon = resolved                             ? ":white_check_mark:"
                       : a->severity == ALERT_SEV_CRITICAL ? ":red_circle:"
                                                            : ":warning:";
    alert_notify_value_text(r, a->v.value_ppb, val, sizeof(val));
    alert_notify_value_text(r, alert_notify_threshold(a), thr, sizeof(thr));
    alert_notify_scope(a, scope, sizeof(scope));
    if (!scope[0])
        snprintf(scope, sizeof(scope), " tenant %s", a->tenant);
    if (a->rule_removed)
        return mp_buf_printf(b, "%s *resolved* %s%s: rule %s was removed from the rules file\n",
                             icon, r->alertname, scope, r->name);
    alert_notify_what(a, what, sizeof(what));
    if (a->external) { /* its source's summary stands for value and threshold */
        char sum[512];
        alert_notify_summary(a, sum, sizeof(sum));
        return mp_buf_printf(b, "%s *%s* %s%s: %s · %s\n", icon,
                             resolved ? "resolved" : alert_severity_name(a->severity),
                             r->alertname, scope, sum, what);
    }
    if (resolved)
        return mp_buf_printf(b, "%s *resolved* %s%s: now *%s* (%s at %s) · %s\n", icon,
                             r->alertname, scope, val, alert_severity_name(a->severity), thr,
                             what);
    return mp_buf_printf(b, "%s *%s* %s%s: *%s* (%s at %s) · %s\n", icon,
                         alert_severity_name(a->severity), r->alertname, scope, val,
                         alert_severity_name(a->severity), thr, what);
}

static const char *slack__color(const struct alert_instance *a, size_t n)
{
    const char *c = SLACK_GREEN;
    for (size_t i = 0; i < n; i++) {
        if (a[i].status != ALERT_STATUS_FIRING)
            continue;
        if (a[i].severity == ALERT_SEV_CRITICAL)
            return SLACK_RED;
        c = SLACK_AMBER;
    }
    return c;
}

static void slack__opt(json_t *root, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(root, key, json_string(v));
}

char *alert_slack_body(const struct alert_receiver *rc, const char *external_url,
                       const struct alert_instance *a, size_t n)
{
    struct mp_buf lines = MP_BUF_INIT;
    char title[512], *out = NULL;
    int rc2 = MP_OK;
    for (size_t i = 0; rc2 == MP_OK && i < n; i++)
        rc2 = slack__line(&lines, &a[i]);
    if (rc2 != MP_OK)
        goto done;
    if (lines.len) /* no trailing newline under the last line */
        lines.p[--lines.len] = '\0';
    alert_notify_title(a, n, title, sizeof(title));
    json_t *att = json_pack("{s:s,s:s,s:s,s:s%,s:[s],s:s}", "color", slack__color(a, n), "title",
                            title, "fallback", title, "text", lines.p ? lines.p : "",
                            lines.len, "mrkdwn_in", "text", "footer", "mailpulse");
    json_t *root = att ? json_object() : NULL;
    if (!root) {
        json_decref(att);
        goto done;
    }
    slack__opt(att, "title_link", external_url);
    if (rc) {
        slack__opt(root, "channel", rc->channel);
        slack__opt(root, "username", rc->username);
        slack__opt(root, "icon_emoji", rc->icon_emoji);
    }
    json_object_set_new(root, "attachments", json_pack("[o]", att));
    out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
done:
    mp_buf_free(&lines);
    return out;
}

/* 1 when doc's key is the same as first's (both absent counts). */
static int slack__same(json_t *first, json_t *doc, const char *key)
{
    json_t *a = json_object_get(first, key), *b = json_object_get(doc, key);
    return (!a && !b) || (a && b && json_equal(a, b));
}

size_t alert_slack_merge(const char *const *bodies, const size_t *lens, size_t n, char **out)
{
    struct mp_buf joined = MP_BUF_INIT;
    json_t *first = NULL, *atts = json_array();
    size_t g = 0;
    *out = NULL;
    for (; atts && g < n; g++) {
        json_t *doc = json_loadb(bodies[g], lens[g], 0, NULL);
        json_t *text = json_object_get(doc, "text"), *att = json_object_get(doc, "attachments");
        size_t tl = json_is_string(text) ? json_string_length(text) : 0;
        int ok = json_is_object(doc) && (json_is_string(text) || json_is_array(att)) &&
                 (!text || json_is_string(text)) && (!att || json_is_array(att));
        if (ok && first)
            ok = slack__same(first, doc, "channel") && slack__same(first, doc, "username") &&
                 slack__same(first, doc, "icon_emoji");
        /* room for both parts first: a half-appended entry must not stay */
        if (!ok || mp_buf_reserve(&joined, 2 + tl) != MP_OK ||
            (att && json_array_extend(atts, att) != 0)) {
            json_decref(doc);
            break;
        }
        if (tl) {
            if (joined.len)
                mp_buf_append(&joined, "\n\n", 2);
            mp_buf_append(&joined, json_string_value(text), tl);
        }
        if (!first)
            first = doc;
        else
            json_decref(doc);
    }
    json_t *root = g >= 2 ? json_object() : NULL;
    if (root) {
        const char *keys[] = {"channel", "username", "icon_emoji"};
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (json_object_get(first, keys[i]))
                json_object_set(root, keys[i], json_object_get(first, keys[i]));
        if (joined.len)
            json_object_set_new(root, "text", json_stringn(joined.p, joined.len));
        if (json_array_size(atts))
            json_object_set(root, "attachments", atts);
        *out = json_dumps(root, JSON_COMPACT);
    }
    json_decref(root);
    json_decref(first);
    json_decref(atts);
    mp_buf_free(&joined);
    return *out ? g : 0;
}
