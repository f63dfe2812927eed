/* alert_email.c — notification emails (see alert_email.h). */
#include "alert_email.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mp_buf.h"

#define EMAIL_WRAP 76

/* Appends `s` wrapped at EMAIL_WRAP on spaces, starting at column
 * `col` (what the caller already wrote on the line), every later line
 * indented by `indent` spaces, each ended by CRLF. A word longer than a
 * line stays whole. */
static int email__wrapped(struct mp_buf *b, const char *s, int col, int indent)
{
    int rc = MP_OK, first = 1;
    while (*s && rc == MP_OK) {
        const char *sp = strchr(s, ' ');
        size_t wl = sp ? (size_t)(sp - s) : strlen(s);
        if (!first && col + 1 + (int)wl > EMAIL_WRAP) {
            rc = mp_buf_printf(b, "\r\n%*s", indent, "");
            col = indent;
            first = 1;
        }
        if (rc == MP_OK && !first) {
            rc = mp_buf_append(b, " ", 1);
            col++;
        }
        if (rc == MP_OK)
            rc = mp_buf_append(b, s, wl);
        col += (int)wl;
        first = 0;
        s += wl;
        while (*s == ' ')
            s++;
    }
    return rc == MP_OK ? mp_buf_append(b, "\r\n", 2) : rc;
}

/* What one alert says, as lines of text (for both parts). */
struct email_lines {
    char head[320], value[160], what[420], since[64];
};

static void email__lines(const struct alert_instance *a, struct email_lines *l)
{
    char val[48], thr[48], scope[200], ts[40];
    const char *sev = alert_severity_name(a->severity);
    alert_notify_scope(a, scope, sizeof(scope));
    snprintf(l->head, sizeof(l->head), "%s %s,%s", a->status == ALERT_STATUS_FIRING
                                                       ? (a->severity == ALERT_SEV_CRITICAL
                                                              ? "CRITICAL"
                                                              : "WARNING")
                                                       : "RESOLVED",
             a->rule->alertname, scope[0] ? scope : " tenant-wide");
    alert_notify_value_text(a->rule, a->v.value_ppb, val, sizeof(val));
    alert_notify_value_text(a->rule, alert_notify_threshold(a), thr, sizeof(thr));
    snprintf(l->value, sizeof(l->value), "%s %s (%s at %s)",
             a->status == ALERT_STATUS_FIRING ? "value" : "now", val, sev, thr);
    if (a->external) /* no figures: its source's summary */
        alert_notify_summary(a, l->value, sizeof(l->value));
    if (a->rule_removed)
        snprintf(l->what, sizeof(l->what), "rule %s was removed from the rules file",
                 a->rule->name);
    else
        alert_notify_what(a, l->what, sizeof(l->what));
    alert_format_time(a->status == ALERT_STATUS_FIRING ? a->starts_ms : a->ends_ms, ts,
                      sizeof(ts));
    snprintf(l->since, sizeof(l->since), "%s %s",
             a->status == ALERT_STATUS_FIRING ? "since" : "resolved at", ts);
}

/* Minimal HTML escaping: names and figures hold no markup, but a mailbox
 * may hold '&' or '<'. */
static int email__html(struct mp_buf *b, const char *s)
{
    int rc = MP_OK;
    for (; *s && rc == MP_OK; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
        rc = e ? mp_buf_puts(b, e) : mp_buf_append(b, s, 1);
    }
    return rc;
}

static int email__text_part(struct mp_buf *b, const char *title, const char *url,
                            const struct alert_instance *a, size_t n)
{
    int rc = email__wrapped(b, title, 0, 2);
    for (size_t i = 0; rc == MP_OK && i < n; i++) {
        struct email_lines l;
        email__lines(&a[i], &l);
        rc = mp_buf_puts(b, "\r\n");
        const char *parts[] = {l.head, l.value, l.what, l.since};
        for (size_t p = 0; rc == MP_OK && p < 4; p++) {
            if (p && (rc = mp_buf_puts(b, "  ")) != MP_OK)
                break;
            rc = email__wrapped(b, parts[p], p ? 2 : 0, 4);
        }
    }
    if (rc == MP_OK && url && *url)
        rc = mp_buf_printf(b, "\r\n%s\r\n", url);
    return rc;
}

static int email__html_part(struct mp_buf *b, const char *title, const char *url,
                            const struct alert_instance *a, size_t n)
{
    int rc = mp_buf_puts(b, "<html><body>\r\n<h3>");
    if (rc == MP_OK)
        rc = email__html(b, title);
    if (rc == MP_OK)
        rc = mp_buf_puts(b, "</h3>\r\n<ul>\r\n");
    for (size_t i = 0; rc == MP_OK && i < n; i++) {
        struct email_lines l;
        email__lines(&a[i], &l);
        const char *parts[] = {"<li><b>", l.head, "</b><br>\r\n", l.value, "<br>\r\n", l.what,
                               "<br>\r\n", l.since, "</li>\r\n"};
        for (size_t p = 0; rc == MP_OK && p < MP_ARRAY_LEN(parts); p++)
            rc = p % 2 ? email__html(b, parts[p]) : mp_buf_puts(b, parts[p]);
    }
    if (rc == MP_OK)
        rc = mp_buf_puts(b, "</ul>\r\n");
    if (rc == MP_OK && url && *url) {
        rc = mp_buf_puts(b, "<p><a href=\"");
        if (rc == MP_OK)
            rc = email__html(b, url);
        if (rc == MP_OK)
            rc = mp_buf_puts(b, "\">open in mailpulse</a></p>\r\n");
    }
    return rc == MP_OK ? mp_buf_puts(b, "</body></html>\r\n") : rc;
}

char *alert_email_message(const struct alert_receiver *rc, const char *external_url,
                          const struct alert_instance *a, size_t n, int64_t decided_ms)
{
    struct mp_buf b = MP_BUF_INIT;
    char title[512], date[64], idem[ALERT_IDEM_LEN];
    time_t t = (time_t)(decided_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm); /* C locale names */
    alert_notify_title(a, n, title, sizeof(title));
    alert_notify_idem_key(a, n, decided_ms, rc->name, idem);
    int r = mp_buf_printf(&b,
                          "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
                          "Message-ID: <%s.%lld@mailpulse>\r\nMIME-Version: 1.0\r\n"
                          "Content-Type: multipart/alternative; boundary=\"mp-%s\"\r\n"
                          "X-Mailpulse-Receiver: %s\r\n\r\n"
                          "--mp-%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n",
                          rc->mail_from ? rc->mail_from : "", rc->mail_to ? rc->mail_to : "",
                          title, date, idem, (long long)decided_ms, idem, rc->name, idem);
    if (r == MP_OK)
        r = email__text_part(&b, title, external_url, a, n);
    if (r == MP_OK)
        r = mp_buf_printf(&b,
                          "\r\n--mp-%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                          "Content-Transfer-Encoding: 8bit\r\n\r\n",
                          idem);
    if (r == MP_OK)
        r = email__html_part(&b, title, external_url, a, n);
    if (r == MP_OK)
        r = mp_buf_printf(&b, "\r\n--mp-%s--\r\n", idem);
    char *out = r == MP_OK ? mp_buf_take(&b) : NULL;
    mp_buf_free(&b);
    return out;
}
