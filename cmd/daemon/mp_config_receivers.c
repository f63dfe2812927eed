/* mp_config_receivers.c — the `receivers:` list (see mp_config_receivers.h). */
#include "mp_config_receivers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eng_name.h"
#include "mp_buf.h"

#define CFG__FIELD(base, k) ((char **)(void *)((char *)(base) + (k)->off))

static bool cfg__valid_name(const char *s) { return eng_name_valid(s, strlen(s)); }

/* http(s):// for HTTP receivers, smtp(s):// for email; which one a
 * receiver's type takes is cfg__receiver_check's. */
static bool cfg__valid_url(const char *s)
{
    static const char *const schemes[] = {"http://", "https://", "smtp://", "smtps://"};
    const char *host = NULL;
    for (size_t i = 0; !host && i < MP_ARRAY_LEN(schemes); i++)
        if (strncasecmp(s, schemes[i], strlen(schemes[i])) == 0)
            host = s + strlen(schemes[i]);
    return host && host[0] != '\0' && host[0] != '/' && mp_yaml_no_space(s);
}

/* A mail address as headers and SMTP take it: "a@b" or "Name <a@b>"; no
 * CR/LF (header injection) and no comma (the To list's separator). */
static bool cfg__valid_mail(const char *s)
{
    return strchr(s, '@') && !strpbrk(s, "\r\n,");
}

static int cfg__mail_tls(const char *s, void *dst)
{
    static const char *const names[] = {"starttls", "none", "implicit"}; /* enum alert_email_tls */
    for (int i = 0; i < (int)MP_ARRAY_LEN(names); i++) {
        if (strcmp(s, names[i]) == 0) {
            *(int *)dst = i;
            return 0;
        }
    }
    return -1;
}

static int cfg__receiver_type(const char *s, void *dst)
{
    static const struct {
        const char *name;
        enum mp_receiver_type type;
    } types[] = {
        {"webhook", MP_RECEIVER_WEBHOOK},
        {"slack", MP_RECEIVER_SLACK},
        {"pagerduty", MP_RECEIVER_PAGERDUTY},
        {"email", MP_RECEIVER_EMAIL},
    };
    for (size_t i = 0; i < MP_ARRAY_LEN(types); i++) {
        if (strcmp(s, types[i].name) == 0) {
            *(enum mp_receiver_type *)dst = types[i].type;
            return 0;
        }
    }
    return -1;
}

/* `to:` a non-empty list of mail addresses, kept joined by ", " (the To
 * header as is; the sender splits it for RCPT TO). */
static int cfg__mail_to(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    char **dst = CFG__FIELD(base, k), q[MP_YAML_QBUF], sub[MP_YAML_PATH_MAX];
    if (v->type != YAML_SEQUENCE_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_fail(y, v, path, "expected a non-empty list of mail addresses, got %s",
                            mp_yaml_quote(q, sizeof(q), v));
    struct mp_buf b = MP_BUF_INIT;
    int rc = MP_OK;
    for (size_t i = 0; rc == MP_OK && i < mp_yaml_len(v); i++) {
        const char *s;
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        rc = mp_yaml_text(y, sub, mp_yaml_item(y, v, i), "a mail address", &s);
        if (rc == MP_OK && !cfg__valid_mail(s))
            rc = mp_yaml_fail(y, mp_yaml_item(y, v, i), sub, "expected a mail address, got %s",
                              mp_yaml_quote(q, sizeof(q), mp_yaml_item(y, v, i)));
        if (rc == MP_OK && mp_buf_printf(&b, "%s%s", i ? ", " : "", s) != MP_OK)
            rc = mp_yaml_nomem(y, v, path);
    }
    if (rc == MP_OK) {
        free(*dst);
        *dst = mp_buf_take(&b);
    }
    mp_buf_free(&b);
    return rc;
}

#define RF(f) MP_YAML_FIELD(struct mp_receiver_conf, f)
static const struct mp_yaml_key cfg__receiver_keys[] = {
    {.name = "name", .type = MP_YAML_STR, RF(name), .required = true, .check = cfg__valid_name,
     .what = ENG_NAME_GRAMMAR},
    {.name = "type", .type = MP_YAML_PARSE, RF(type), .required = true,
     .parse = cfg__receiver_type, .what = "webhook, slack, pagerduty or email"},
    /* url: required but for pagerduty (cfg__receiver_check) */
    {.name = "url", .type = MP_YAML_STR, RF(url), .check = cfg__valid_url,
     .what = "an http:// or https:// URL (email: smtp:// or smtps://)"},
    {.name = "secret", .type = MP_YAML_STR, RF(secret), .what = "a string"},
    {.name = "channel", .type = MP_YAML_STR, RF(channel), .what = "a string"},
    {.name = "username", .type = MP_YAML_STR, RF(username), .what = "a string"},
    {.name = "icon_emoji", .type = MP_YAML_STR, RF(icon_emoji), .what = "a string"},
    {.name = "routing_key", .type = MP_YAML_STR, RF(routing_key), .what = "a string"},
    {.name = "from", .type = MP_YAML_STR, RF(mail_from), .check = cfg__valid_mail,
     .what = "a mail address"},
    {.name = "to", .type = MP_YAML_FN, RF(mail_to), .fn = cfg__mail_to},
    {.name = "auth_username", .type = MP_YAML_STR, RF(auth_username), .what = "a string"},
    {.name = "auth_password", .type = MP_YAML_STR, RF(auth_password), .what = "a string"},
    {.name = "tls", .type = MP_YAML_PARSE, RF(tls), .parse = cfg__mail_tls,
     .what = "starttls, none or implicit"},
    {0},
};

/* What one type needs and what only another takes: a Slack option on a
 * webhook, or a PagerDuty receiver without its routing key, would be a
 * receiver that silently does not do what its file says. */
static int cfg__receiver_check(struct mp_yaml *y, struct mp_receiver_conf *r, yaml_node_t *item,
                               const char *path)
{
    char sub[MP_YAML_PATH_MAX];
    const char *slack_only[] = {"channel", "username", "icon_emoji"};
    const char *email_only[] = {"from", "to", "auth_username", "auth_password", "tls"};
    int pd = r->type == MP_RECEIVER_PAGERDUTY, email = r->type == MP_RECEIVER_EMAIL;
    if (r->url && (strncasecmp(r->url, "smtp", 4) == 0) != email) {
        mp_yaml_join(sub, sizeof(sub), path, "url");
        return mp_yaml_fail(y, mp_yaml_find(y, item, "url"), sub, "%s",
                            email ? "expected an smtp:// or smtps:// URL for type email"
                                  : "expected an http:// or https:// URL");
    }
    for (size_t i = 0; email && i < 2; i++) {
        if (!(i ? r->mail_to : r->mail_from)) {
            mp_yaml_join(sub, sizeof(sub), path, email_only[i]);
            return mp_yaml_fail(y, item, sub, "required key missing (type email)");
        }
    }
    /* libcurl takes the scheme's word over `tls`: the two must agree */
    int smtps = email && strncasecmp(r->url, "smtps://", 8) == 0;
    if (email && smtps != (r->tls == 2)) {
        mp_yaml_join(sub, sizeof(sub), path, "tls");
        yaml_node_t *at = mp_yaml_find(y, item, "tls");
        return mp_yaml_fail(y, at ? at : item, sub, "%s",
                            smtps ? "an smtps:// url is implicit TLS: set tls: implicit"
                                  : "tls: implicit needs an smtps:// url");
    }
    for (size_t i = 0; !email && i < MP_ARRAY_LEN(email_only); i++) {
        yaml_node_t *at = mp_yaml_find(y, item, email_only[i]);
        if (at) {
            mp_yaml_join(sub, sizeof(sub), path, email_only[i]);
            return mp_yaml_fail(y, at, sub, "only for type email");
        }
    }
    if (!pd && !r->url) {
        mp_yaml_join(sub, sizeof(sub), path, "url");
        return mp_yaml_fail(y, item, sub, "required key missing");
    }
    if (pd && !r->routing_key) {
        mp_yaml_join(sub, sizeof(sub), path, "routing_key");
        return mp_yaml_fail(y, item, sub, "required key missing (type pagerduty)");
    }
    if (!pd && r->routing_key) {
        mp_yaml_join(sub, sizeof(sub), path, "routing_key");
        return mp_yaml_fail(y, mp_yaml_find(y, item, "routing_key"), sub,
                            "only for type pagerduty");
    }
    for (size_t i = 0; r->type != MP_RECEIVER_SLACK && i < MP_ARRAY_LEN(slack_only); i++) {
        yaml_node_t *at = mp_yaml_find(y, item, slack_only[i]);
        if (at) {
            mp_yaml_join(sub, sizeof(sub), path, slack_only[i]);
            return mp_yaml_fail(y, at, sub, "only for type slack");
        }
    }
    if (pd && !r->url && !(r->url = strdup(MP_PAGERDUTY_URL)))
        return mp_yaml_nomem(y, item, path);
    return MP_OK;
}

/* A second receiver of the same name, refused at its name's line. */
static int cfg__receiver_unique(struct mp_yaml *y, const struct mp_config *cfg, size_t i,
                                yaml_node_t *item, const char *path)
{
    char sub[MP_YAML_PATH_MAX];
    for (size_t j = 0; j < i; j++) {
        if (strcmp(cfg->receivers[j].name, cfg->receivers[i].name) == 0) {
            yaml_node_t *at = mp_yaml_find(y, item, "name");
            snprintf(sub, sizeof(sub), "%s[%zu].name", path, i);
            return mp_yaml_fail(y, at ? at : item, sub,
                                "duplicate receiver name \"%s\" (already %s[%zu])",
                                cfg->receivers[i].name, path, j);
        }
    }
    return MP_OK;
}

int mp_config_receivers(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                          yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    char sub[MP_YAML_PATH_MAX];
    int rc = mp_yaml_seq_array(y, v, path, "a list of receivers", sizeof(*cfg->receivers),
                               &cfg->receivers, &cfg->n_receivers);
    for (size_t i = 0; rc == MP_OK && i < cfg->n_receivers; i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        if ((rc = mp_yaml_walk(y, item, sub, cfg__receiver_keys, &cfg->receivers[i], NULL)) ==
            MP_OK)
            rc = cfg__receiver_unique(y, cfg, i, item, path);
        if (rc == MP_OK)
            rc = cfg__receiver_check(y, &cfg->receivers[i], item, sub);
    }
    return rc;
}

void mp_config_receivers_free(struct mp_config *cfg)
{
    for (size_t i = 0; i < cfg->n_receivers; i++) {
        mp_yaml_free_strings(cfg__receiver_keys, &cfg->receivers[i]);
        free(cfg->receivers[i].mail_to); /* a handler's (MP_YAML_FN) string */
    }
    free(cfg->receivers);
    cfg->receivers = NULL;
    cfg->n_receivers = 0;
}
