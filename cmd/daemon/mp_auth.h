/* mp_auth.h — who is asking the HTTP API: bearer tokens and the loopback rule.
 *
 * Contract: the config gives an admin token (sees every tenant) and tenant
 * tokens (each sees its own tenant only), struct mp_auth_conf below.
 * mp_auth_create() keeps only their SHA-256 digests and the tenant names,
 * never the tokens themselves. mp_auth_check() takes the value of the
 * request's Authorization header, "Bearer <token>" (the scheme in any case,
 * then one or more spaces), and says whose it is: MP_AUTH_ADMIN,
 * MP_AUTH_TENANT with the tenant, or MP_AUTH_DENIED (no header, another
 * scheme, an unknown token). The presented token is hashed and its digest
 * compared with every configured digest with CRYPTO_memcmp, without an
 * early exit, so neither a token's bytes nor its length show in the time
 * an answer takes. With no token configured (mp_auth_open()) every request
 * is MP_AUTH_ADMIN: the API is open, which mp_auth_listen_check() allows on
 * a loopback address only.
 *
 * mp_auth_token_valid(): the token grammar the config and the CLI share:
 * MP_AUTH_TOKEN_MIN..MP_AUTH_TOKEN_MAX printable ASCII bytes, no space (it
 * travels in one header; a short one is guessable).
 * mp_auth_loopback(): listen (mp_addr.h syntax) is 127.0.0.0/8, [::1],
 * [::ffff:127.x.y.z] or "localhost"; any other name or address, wildcards
 * included, is not. mp_auth_listen_check(): MP_OK when there are tokens or
 * the address is loopback, else MP_ERR_INVAL with err saying so.
 *
 * Ownership: the conf is the caller's (strings copied where kept); the
 * struct mp_auth is freed with mp_auth_destroy(); who->tenant points into
 * it. Threads: a created struct mp_auth is immutable; mp_auth_check() from
 * any thread. Returns MP_OK, MP_ERR_NOMEM, MP_ERR_INVAL as said above.
 * Tokens are never logged or echoed: messages name keys, not values.
 */
#ifndef MP_AUTH_H
#define MP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "mp.h"

#define MP_AUTH_TOKEN_MIN 16
#define MP_AUTH_TOKEN_MAX 512
#define MP_AUTH_TOKEN_SYNTAX "16..512 printable ASCII characters without spaces"

struct mp_auth_tenant_conf {
    char *tenant; /* eng_name.h */
    char *token;
};

/* http.tokens and http.metrics_open of the config. */
struct mp_auth_conf {
    char *admin;     /* NULL when not set */
    size_t n_tenants;
    struct mp_auth_tenant_conf *tenants;
    int metrics_open; /* 1: /metrics without a token */
};

enum mp_auth_role { MP_AUTH_DENIED = 0, MP_AUTH_ADMIN = 1, MP_AUTH_TENANT = 2 };

struct mp_auth_who {
    enum mp_auth_role role;
    const char *tenant; /* MP_AUTH_TENANT: the token's tenant; NULL otherwise */
};

struct mp_auth;

/* conf may be NULL (no tokens). */
int mp_auth_create(const struct mp_auth_conf *conf, struct mp_auth **out);
void mp_auth_destroy(struct mp_auth *a);
/* a NULL auth is open, with /metrics open too. */
bool mp_auth_open(const struct mp_auth *a);
bool mp_auth_metrics_open(const struct mp_auth *a);
void mp_auth_check(const struct mp_auth *a, const char *authorization, struct mp_auth_who *who);

bool mp_auth_token_valid(const char *s);
bool mp_auth_conf_has_tokens(const struct mp_auth_conf *c);
/* Frees the conf's strings and array (not the struct) and zeroes it. */
void mp_auth_conf_free(struct mp_auth_conf *c);

bool mp_auth_loopback(const char *listen);
int mp_auth_listen_check(const char *listen, bool has_tokens, char *err, size_t errlen);

#endif
