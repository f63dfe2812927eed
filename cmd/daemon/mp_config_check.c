/* mp_config_check.c — listener collisions and warnings (see mp_config_check.h). */
#include "mp_config_check.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_addr.h"

/* One listener as a place to bind: an ipc path, or a TCP host and port. */
struct check__place {
    const char *key;  /* "ingest.pull" */
    const char *text; /* as written */
    yaml_node_t *node;
    bool ipc, wildcard;
    char host[256];
    const char *path; /* ipc: the path */
    long port;        /* tcp: 1..65535; -1: ephemeral ("*"), never collides */
};

static bool check__wild(const char *h)
{
    return !h[0] || strcmp(h, "*") == 0 || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
}

static void check__host(struct check__place *p, const char *h, size_t n)
{
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n >= sizeof(p->host))
        n = sizeof(p->host) - 1;
    memcpy(p->host, h, n);
    p->host[n] = '\0';
    if (strcmp(p->host, "localhost") == 0) /* mp_addr_resolve's reading */
        snprintf(p->host, sizeof(p->host), "127.0.0.1");
    p->wildcard = check__wild(p->host);
}

/* A zmq endpoint already checked by the loader (tcp://host:port|*, ipc://path). */
static void check__endpoint(struct check__place *p)
{
    const char *s = p->text;
    if (strncmp(s, "ipc://", 6) == 0) {
        p->ipc = true;
        p->path = s + 6;
        return;
    }
    const char *host = s + 6, *colon = strrchr(host, ':');
    check__host(p, host, (size_t)(colon - host));
    p->port = strcmp(colon + 1, "*") == 0 ? -1 : strtol(colon + 1, NULL, 10);
}

static bool check__collide(const struct check__place *a, const struct check__place *b)
{
    if (a->ipc || b->ipc)
        return a->ipc && b->ipc && strcmp(a->path, b->path) == 0;
    if (a->port < 0 || a->port != b->port)
        return false;
    return a->wildcard || b->wildcard || strcmp(a->host, b->host) == 0;
}

static yaml_node_t *check__node(struct mp_yaml *y, yaml_node_t *root, const char *sec,
                                const char *key)
{
    yaml_node_t *s = mp_yaml_find(y, root, sec), *k = s ? mp_yaml_find(y, s, key) : NULL;
    return k ? k : s ? s : root;
}

int mp_config_check_listeners(struct mp_yaml *y, yaml_node_t *root, const struct mp_config *cfg)
{
    struct check__place p[4];
    size_t n = 0;
    const char *eps[2] = {cfg->ingest_pull, cfg->ingest_router}, *keys[2] = {"pull", "router"};
    for (int i = 0; i < 2; i++) {
        if (!eps[i])
            continue;
        p[n] = (struct check__place){.key = i ? "ingest.router" : "ingest.pull", .text = eps[i],
                                     .node = check__node(y, root, "ingest", keys[i])};
        check__endpoint(&p[n++]);
    }
    struct mp_addr a;
    const char *ls[2] = {cfg->http_listen, cfg->gate.policy_listen};
    const char *sec[2] = {"http", "gate"}, *lkey[2] = {"listen", "policy_listen"};
    for (int i = 0; i < 2; i++) {
        if (!ls[i] || mp_addr_parse(ls[i], &a, NULL, 0) != MP_OK)
            continue;
        p[n] = (struct check__place){.key = i ? "gate.policy_listen" : "http.listen",
                                     .text = ls[i], .node = check__node(y, root, sec[i], lkey[i]),
                                     .port = a.port};
        check__host(&p[n++], a.host, strlen(a.host));
    }
    for (size_t j = 1; j < n; j++)
        for (size_t i = 0; i < j; i++) {
            if (!check__collide(&p[i], &p[j]))
                continue;
            /* At the later line: that is where the reader looks first. */
            size_t li = mp_yaml_line(p[i].node), lj = mp_yaml_line(p[j].node);
            const struct check__place *at = lj >= li ? &p[j] : &p[i], *other = at == &p[j]
                                                                          ? &p[i] : &p[j];
            return mp_yaml_fail(y, at->node, at->key,
                                "%s binds the same %s as %s (%s): two listeners cannot share it",
                                at->text, at->ipc ? "ipc path" : "port", other->key, other->text);
        }
    return MP_OK;
}

/* Appends one "<file>:<line>: <key>: warning: <what>" line. */
__attribute__((format(printf, 4, 5)))
static int check__warn(struct mp_config *cfg, size_t line, const char *key, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t old = cfg->warnings ? strlen(cfg->warnings) : 0;
    int n = snprintf(NULL, 0, "%s:%zu: %s: warning: %s\n", cfg->path, line, key, msg);
    char *w = realloc(cfg->warnings, old + (size_t)n + 1);
    if (w == NULL)
        return MP_ERR_NOMEM;
    snprintf(w + old, (size_t)n + 1, "%s:%zu: %s: warning: %s\n", cfg->path, line, key, msg);
    cfg->warnings = w;
    return MP_OK;
}

int mp_config_check_warnings(struct mp_yaml *y, yaml_node_t *root, struct mp_config *cfg)
{
    if (cfg->n_receivers == 0) {
        yaml_node_t *r = mp_yaml_find(y, root, "receivers");
        return check__warn(cfg, r ? mp_yaml_line(r) : 1, r ? "receivers" : MP_YAML_TOP,
                           "no receivers: alerts will fire but no notification goes out "
                           "(mailpulse_alerts_unrouted_total counts them)");
    }
    /* An empty list is how a tenant is silenced on purpose; said anyway,
     * since an empty default silences every tenant without a route. */
    yaml_node_t *routes = mp_yaml_find(y, root, "routes");
    yaml_node_t *tenants = routes ? mp_yaml_find(y, routes, "tenants") : NULL;
    if (routes && cfg->n_default_route == 0 && cfg->n_default_entries == 0 &&
        mp_yaml_find(y, routes, "default")) {
        int rc = check__warn(cfg, mp_yaml_line(mp_yaml_find(y, routes, "default")),
                             "routes.default", "names no receiver: alerts of tenants without "
                             "a route of their own go nowhere");
        if (rc != MP_OK)
            return rc;
    }
    for (size_t i = 0; i < cfg->n_routes; i++) {
        if (cfg->routes[i].n || cfg->routes[i].n_entries)
            continue;
        yaml_node_t *at = tenants ? mp_yaml_find(y, tenants, cfg->routes[i].tenant) : NULL;
        char key[300];
        snprintf(key, sizeof(key), "routes.tenants.%s", cfg->routes[i].tenant);
        int rc = check__warn(cfg, at ? mp_yaml_line(at) : 1, key,
                             "names no receiver: this tenant's alerts are silenced");
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}
