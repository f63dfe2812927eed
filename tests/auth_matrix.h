/* auth_matrix.h — the API's authentication contract as one table, shared by
 * test_mp_api (the handlers over real parts) and test_e2e_auth (the real
 * daemon), so both hold the routes to the same statuses.
 *
 * Each row is a path and the status it answers for each caller, in the
 * order of enum auth_who: no Authorization header, an unknown token, the
 * admin token, acme's token, beta's token. Both suites ask with tenants
 * acme and beta counted and gamma never counted, and with the default
 * rules. 401: no or unknown token; 403: a tenant token on /metrics; 404 for
 * a tenant token on another tenant (as for one that does not exist); 400s
 * come after the token is judged.
 */
#ifndef AUTH_MATRIX_H
#define AUTH_MATRIX_H

/* The tokens the e2e suites configure, and their http.tokens section as
 * YAML lines (two-space indent, under http:). */
#define AUTH_TOKEN_ADMIN "adm-7f3c9e1d2b4a6c8e0f1a"
#define AUTH_TOKEN_ACME "acm-5b2d8f0e4c6a1e3d9b7f"
#define AUTH_TOKEN_BETA "bet-9c1e7a3f5d2b8e6c0a4d"
#define AUTH_TOKENS_YAML                                                                         \
    "  tokens:\n"                                                                                \
    "    admin: " AUTH_TOKEN_ADMIN "\n"                                                          \
    "    tenants:\n"                                                                             \
    "      acme: " AUTH_TOKEN_ACME "\n"                                                          \
    "      beta: " AUTH_TOKEN_BETA "\n"

enum auth_who { AUTH_NONE, AUTH_BAD, AUTH_ADMIN, AUTH_ACME, AUTH_BETA, AUTH_NWHO };

struct auth_row {
    const char *path;
    long want[AUTH_NWHO];
};

static const struct auth_row auth_matrix[] = {
    {"/healthz", {200, 200, 200, 200, 200}},
    {"/metrics", {401, 401, 200, 403, 403}},
    {"/v1/tenants/acme/stats", {401, 401, 200, 200, 404}},
    {"/v1/tenants/beta/stats?window=1h", {401, 401, 200, 404, 200}},
    {"/v1/tenants/gamma/stats", {401, 401, 404, 404, 404}},
    {"/v1/tenants/acme/stats?windw=1h", {401, 401, 400, 400, 400}},
    {"/v1/tenants/beta/stats?windw=1h", {401, 401, 400, 400, 400}},
    {"/v1/tenants/acme/series", {401, 401, 200, 200, 404}},
    {"/v1/tenants/beta/series?step=1d", {401, 401, 200, 404, 200}},
    {"/v1/tenants/gamma/series", {401, 401, 404, 404, 404}},
    {"/v1/tenants/acme/series?step=2h", {401, 401, 400, 400, 400}},
    {"/v1/tenants/beta/series?step=2h", {401, 401, 400, 400, 400}},
    {"/v1/tenants/acme/metrics", {401, 401, 200, 200, 404}},
    {"/v1/tenants/beta/metrics", {401, 401, 200, 404, 200}},
    {"/v1/tenants/gamma/metrics", {401, 401, 404, 404, 404}},
    {"/v1/tenants/acme/alerts/history", {401, 401, 200, 200, 404}},
    {"/v1/tenants/beta/alerts/history?scope=mailbox&limit=5", {401, 401, 200, 404, 200}},
    {"/v1/tenants/gamma/alerts/history", {401, 401, 200, 404, 404}}, /* no entries */
    {"/v1/tenants/acme/alerts/history?limit=0", {401, 401, 400, 400, 400}},
    {"/v1/tenants/beta/alerts/history?scope=nope", {401, 401, 400, 400, 400}},
    /* no blocklists section: 200 with "configured": false for any tenant the caller may see */
    {"/v1/tenants/acme/blocklists", {401, 401, 200, 200, 404}},
    {"/v1/tenants/beta/blocklists", {401, 401, 200, 404, 200}},
    {"/v1/tenants/gamma/blocklists", {401, 401, 200, 404, 404}},
    {"/v1/tenants/acme/blocklists?zone=bl.test", {401, 401, 400, 400, 400}},
    {"/v1/tenants/a%20b/blocklists", {401, 401, 400, 400, 400}},
    {"/v1/tenants", {401, 401, 200, 200, 200}}, /* a tenant token: its own alone */
    {"/v1/tenants?window=7d&limit=5", {401, 401, 200, 200, 200}},
    {"/v1/tenants?limit=0", {401, 401, 400, 400, 400}},
    {"/v1/tenants?tenant=beta", {401, 401, 400, 400, 400}},
    {"/v1/alerts", {401, 401, 200, 200, 200}},
    {"/v1/alerts?tenant=acme", {401, 401, 200, 200, 404}},
    {"/v1/alerts?tenant=beta", {401, 401, 200, 404, 200}},
    {"/v1/alerts?tenant=gamma", {401, 401, 200, 404, 404}},
    {"/v1/alerts/dead", {401, 401, 200, 200, 200}},
    {"/v1/alerts/dead?tenant=acme", {401, 401, 200, 200, 404}},
    {"/v1/alerts/dead?tenant=beta&limit=5", {401, 401, 200, 404, 200}},
    {"/v1/alerts/dead?limit=0", {401, 401, 400, 400, 400}},
    {"/v1/rules", {401, 401, 200, 200, 200}},
    {"/v1/rules?tenant=acme", {401, 401, 200, 200, 404}},
    {"/v1/rules?tenant=beta", {401, 401, 200, 404, 200}},
    {"/v1/rules?tenant=gamma", {401, 401, 200, 404, 404}},
    {"/v1/rules?tenant=a%20b", {401, 401, 400, 400, 400}},
    {"/ui/", {200, 200, 200, 200, 200}}, /* the page is public; its data are not */
    {"/ui/app.js", {200, 200, 200, 200, 200}},
    {"/ui/nothing.js", {404, 404, 404, 404, 404}},
    {"/v1/nothing", {404, 404, 404, 404, 404}},
    {"/v1/gate?tenant=acme", {401, 401, 200, 200, 404}},
    {"/v1/gate?tenant=beta&recipient_domain=gmail.com", {401, 401, 200, 404, 200}},
    {"/v1/gate?tenant=gamma", {401, 401, 200, 404, 404}},
    {"/v1/gate", {401, 401, 400, 200, 200}}, /* a tenant token's own tenant by default */
    {"/v1/gate?tenant=acme&mailbox=nobody", {401, 401, 400, 400, 400}},
    {"/v1/gate/pauses", {401, 401, 200, 200, 200}},
    {"/v1/gate/pauses?tenant=acme", {401, 401, 200, 200, 404}},
    {"/v1/gate/pauses?tenant=gamma", {401, 401, 200, 404, 404}},
    {"/api/v2/status", {401, 401, 200, 200, 200}},
    {"/api/v2/receivers", {401, 401, 200, 200, 200}},
    {"/api/v2/silences", {401, 401, 200, 200, 200}},
    {"/api/v2/silences?filter=tenant%3Dacme", {401, 401, 200, 200, 200}},
    {"/api/v2/silences?filter=tenant~acme", {401, 401, 400, 400, 400}},
    {"/api/v2/silences?bogus=1", {401, 401, 400, 400, 400}},
    {"/api/v2/alerts?active=true&silenced=false", {401, 401, 200, 200, 200}},
    {"/api/v2/alerts?active=maybe", {401, 401, 400, 400, 400}},
    {"/api/v2/alerts/groups", {401, 401, 200, 200, 200}},
    {"/api/v2/silence/00000000-0000-4000-8000-000000000000", {401, 401, 404, 404, 404}},
    {"/api/v2/silence/not-a-uuid", {401, 401, 400, 400, 400}},
    {"/api/v2/nothing", {401, 401, 404, 404, 404}},
};

#endif
