/* mp_auth.c — bearer tokens in constant time, and the loopback rule (see mp_auth.h). */
#include "mp_auth.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "mp_addr.h"

#define AUTH__DIGEST 32 /* SHA-256 */

struct auth__entry {
    unsigned char digest[AUTH__DIGEST];
    char *tenant; /* NULL: the admin token */
};

struct mp_auth {
    size_t n;
    struct auth__entry *e;
    int metrics_open;
};

static int auth__digest(const char *s, size_t len, unsigned char out[AUTH__DIGEST])
{
    unsigned int dlen = 0;
    if (EVP_Digest(s, len, out, &dlen, EVP_sha256(), NULL) != 1 || dlen != AUTH__DIGEST)
        return MP_ERR_NOMEM;
    return MP_OK;
}

bool mp_auth_token_valid(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] <= ' ' || (unsigned char)s[n] >= 0x7f)
            return false;
    return n >= MP_AUTH_TOKEN_MIN && n <= MP_AUTH_TOKEN_MAX;
}

bool mp_auth_conf_has_tokens(const struct mp_auth_conf *c)
{
    return c && (c->admin || c->n_tenants > 0);
}

void mp_auth_conf_free(struct mp_auth_conf *c)
{
    if (!c)
        return;
    free(c->admin);
    for (size_t i = 0; i < c->n_tenants; i++) {
        free(c->tenants[i].tenant);
        free(c->tenants[i].token);
    }
    free(c->tenants);
    memset(c, 0, sizeof(*c));
}

void mp_auth_destroy(struct mp_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        free(a->e[i].tenant);
    free(a->e);
    free(a);
}

int mp_auth_create(const struct mp_auth_conf *conf, struct mp_auth **out)
{
    struct mp_auth *a = calloc(1, sizeof(*a));
    size_t want = conf ? conf->n_tenants + (conf->admin ? 1 : 0) : 0;
    if (!a || (want && (a->e = calloc(want, sizeof(*a->e))) == NULL))
        goto nomem;
    a->metrics_open = conf ? conf->metrics_open : 0;
    if (conf && conf->admin && auth__digest(conf->admin, strlen(conf->admin), a->e[a->n++].digest))
        goto nomem;
    for (size_t i = 0; conf && i < conf->n_tenants; i++) {
        struct auth__entry *e = &a->e[a->n++];
        const char *tok = conf->tenants[i].token;
        if ((e->tenant = strdup(conf->tenants[i].tenant)) == NULL ||
            auth__digest(tok, strlen(tok), e->digest) != MP_OK)
            goto nomem;
    }
    *out = a;
    return MP_OK;
nomem:
    mp_auth_destroy(a);
    return MP_ERR_NOMEM;
}

bool mp_auth_open(const struct mp_auth *a) { return !a || a->n == 0; }

bool mp_auth_metrics_open(const struct mp_auth *a) { return mp_auth_open(a) || a->metrics_open; }

/* The token of "Bearer <token>" (RFC 6750 2.1; the scheme is
 * case-insensitive, RFC 7235 2.1), trailing white space dropped; NULL for
 * anything else. */
static const char *auth__bearer(const char *h, size_t *len)
{
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    *len = n;
    return n ? h : NULL;
}

void mp_auth_check(const struct mp_auth *a, const char *authorization, struct mp_auth_who *who)
{
    *who = (struct mp_auth_who){MP_AUTH_DENIED, NULL};
    if (mp_auth_open(a)) {
        who->role = MP_AUTH_ADMIN;
        return;
    }
    size_t len = 0;
    const char *tok = auth__bearer(authorization, &len);
    unsigned char d[AUTH__DIGEST];
    /* Over-long tokens are hashed like any other: the length of a
     * configured token must not show either way. */
    if (!tok || auth__digest(tok, len, d) != MP_OK)
        return;
    /* Every entry is compared, match or not: no early exit. */
    size_t hit = a->n;
    for (size_t i = 0; i < a->n; i++) {
        int eq = CRYPTO_memcmp(d, a->e[i].digest, AUTH__DIGEST) == 0;
        hit = eq ? i : hit;
    }
    if (hit == a->n)
        return;
    who->role = a->e[hit].tenant ? MP_AUTH_TENANT : MP_AUTH_ADMIN;
    who->tenant = a->e[hit].tenant;
}

bool mp_auth_loopback(const char *listen)
{
    struct mp_addr addr;
    struct in_addr v4;
    struct in6_addr v6;
    if (!listen || mp_addr_parse(listen, &addr, NULL, 0) != MP_OK)
        return false;
    if (addr.ipv6) {
        if (inet_pton(AF_INET6, addr.host, &v6) != 1)
            return false;
        return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    }
    if (inet_pton(AF_INET, addr.host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    /* A name: only "localhost" is known to stay on the host (mp_addr
     * resolves it to 127.0.0.1 itself); any other may resolve anywhere. */
    return strcasecmp(addr.host, "localhost") == 0;
}

int mp_auth_listen_check(const char *listen, bool has_tokens, char *err, size_t errlen)
{
    if (has_tokens || mp_auth_loopback(listen))
        return MP_OK;
    if (err && errlen)
        snprintf(err, errlen,
                 "\"%.300s\" is not a loopback address and http.tokens has no token: "
                 "an API without tokens is served on 127.0.0.1, [::1] or localhost only; set "
                 "http.tokens.admin or http.tokens.tenants, or listen on loopback",
                 listen ? listen : "");
    return MP_ERR_INVAL;
}
