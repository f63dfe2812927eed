/* mp_config.c — load and validate the daemon's YAML config (see mp_config.h).
 *
 * The file is read into memory and loaded with libyaml's document API, so
 * every node carries the line it started on. Validation is schema-driven:
 * each mapping is walked against a table of known keys (struct cfg__key),
 * which is where unknown keys, duplicate keys and missing required keys are
 * caught once for every section. Per-key handlers check and store one value.
 *
 * Routes name receivers, so they can only be resolved once the whole
 * receivers list is known; the top-level walk therefore remembers the
 * `routes` node and resolves it after the walk, whatever order the file uses.
 *
 * All state lives in a struct cfg__ctx on the stack of mp_config_load().
 */
#include "mp_config.h"
#include "eng_name.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "alert_rule.h"
#include "eng_types.h"
#include "mp_log.h"

#define CFG__MAX_FILE (16u << 20)      /* refuse absurd inputs (e.g. /dev/zero) */
#define CFG__WORKERS_MAX 256
#define CFG__MAX_KEYS_MIN 1024u
#define CFG__MAX_KEYS_MAX (1u << 28)
#define CFG__MAX_KEYS_DEFAULT (1u << 20)
#define CFG__RETENTION_DEFAULT_MS ((int64_t)35 * 24 * 3600 * 1000)
#define CFG__NAME_MAX 64
#define CFG__PATH_MAX 256              /* dotted key paths in messages */
#define CFG__QUOTE_MAX 48              /* echoed values are cut to this */
/* Room for a quoted value: every byte may become a 4-byte "\xNN". */
#define CFG__QBUF (CFG__QUOTE_MAX * 4 + 8)

/* Pseudo-keys for errors that are not about one key. */
#define CFG__TOP "(top level)"
#define CFG__SYNTAX "yaml"

struct cfg__ctx {
    const char *file;          /* as given by the caller, for messages */
    char *dir;                 /* absolute directory of the file */
    yaml_document_t *doc;
    struct mp_config *cfg;
    yaml_node_t *routes;       /* resolved after receivers, see top comment */
    char *err;
    size_t errlen;
};

struct cfg__key;
/* Checks and stores one value. `path` is the dotted key, `base` the struct the
 * table's offsets refer to. Returns MP_OK or an MP_ERR_* with err written. */
typedef int (*cfg__fn)(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base);

struct cfg__key {
    const char *name;
    cfg__fn fn;
    size_t off;                  /* field offset in base, when fn stores one */
    bool required;
    const struct cfg__key *sub;  /* section table, for cfg__section */
};

/* --- errors -------------------------------------------------------------- */

static size_t cfg__line(const yaml_node_t *n) { return n ? n->start_mark.line + 1 : 1; }

/* Writes "<file>:<line>: <path>: <message>" into err, or "<file>: <message>"
 * when line is 0 (the file could not be read, so there is no line or key).
 * The message may echo user text, so control characters are replaced: err
 * must stay one line. Returns rc. */
__attribute__((format(printf, 5, 6)))
static int cfg__fail_at(struct cfg__ctx *c, int rc, size_t line, const char *path,
                        const char *fmt, ...)
{
    if (c->err == NULL || c->errlen == 0)
        return rc;
    int n = line ? snprintf(c->err, c->errlen, "%s:%zu: %s: ", c->file, line, path)
                 : snprintf(c->err, c->errlen, "%s: ", c->file);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    for (char *p = c->err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return rc;
}

#define cfg__fail(c, node, path, ...) \
    cfg__fail_at((c), MP_ERR_PARSE, cfg__line(node), (path), __VA_ARGS__)

static const char *cfg__kind(const yaml_node_t *v)
{
    switch (v->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

/* A plain `key:`, `~` or `null` is YAML's null; we never take it as the
 * string "~", because nobody writes that meaning a value. */
static bool cfg__is_null(const yaml_node_t *v)
{
    static const char *nulls[] = {"", "~", "null", "Null", "NULL"};
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < MP_ARRAY_LEN(nulls); i++)
        if (strcmp((const char *)v->data.scalar.value, nulls[i]) == 0)
            return true;
    return false;
}

/* Describes a value for "got ..." in messages: quoted and escaped scalars
 * (cut to CFG__QUOTE_MAX), or the node's kind. Returns buf. */
static const char *cfg__quote(char *buf, size_t n, const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || cfg__is_null(v)) {
        snprintf(buf, n, "%s", v->type == YAML_SCALAR_NODE ? "null" : cfg__kind(v));
        return buf;
    }
    const unsigned char *s = v->data.scalar.value;
    size_t len = v->data.scalar.length, o = 0;
    buf[o++] = '"';
    /* The o + 8 < n guard only matters if a caller passes less than
     * CFG__QBUF; with CFG__QBUF the "..." cut always comes first. */
    for (size_t i = 0; i < len && o + 8 < n; i++) {
        if (i == CFG__QUOTE_MAX) {
            o += (size_t)snprintf(buf + o, n - o, "...");
            break;
        }
        unsigned char ch = s[i];
        if (ch == '"' || ch == '\\')
            o += (size_t)snprintf(buf + o, n - o, "\\%c", ch);
        else if (ch == '\n')
            o += (size_t)snprintf(buf + o, n - o, "\\n");
        else if (ch < 0x20 || ch == 0x7f)
            o += (size_t)snprintf(buf + o, n - o, "\\x%02x", ch);
        else
            buf[o++] = (char)ch;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* Builds "parent.key" (or "key" at the top). Long paths are cut, which only
 * shortens a message. */
static void cfg__join(char *out, size_t n, const char *parent, const char *key)
{
    if (parent[0] == '\0')
        snprintf(out, n, "%s", key);
    else
        snprintf(out, n, "%s.%s", parent, key);
}

/* --- scalar helpers ------------------------------------------------------ */

/* Succeeds with *s pointing into the node when v is a non-null scalar
 * without NUL bytes (C strings would silently cut it). `what` names the
 * expected value for the message. */
static int cfg__scalar(struct cfg__ctx *c, const char *path, yaml_node_t *v, const char *what,
                       const char **s)
{
    char q[CFG__QBUF];
    if (v->type != YAML_SCALAR_NODE || cfg__is_null(v))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
        return cfg__fail(c, v, path, "expected %s, got a value containing a NUL byte", what);
    *s = (const char *)v->data.scalar.value;
    return MP_OK;
}

/* Like cfg__scalar, and also refuses the empty string. */
static int cfg__text(struct cfg__ctx *c, const char *path, yaml_node_t *v, const char *what,
                     const char **s)
{
    int rc = cfg__scalar(c, path, v, what, s);
    if (rc != MP_OK)
        return rc;
    if ((*s)[0] == '\0')
        return cfg__fail(c, v, path, "expected %s, got an empty string", what);
    return MP_OK;
}

/* Replaces *dst with a copy of s. */
static int cfg__set(struct cfg__ctx *c, const char *path, yaml_node_t *v, char **dst,
                    const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    free(*dst);
    *dst = copy;
    return MP_OK;
}

/* Parses a decimal integer made of digits only: no sign, no spaces, no
 * suffix, so "2x", "", "-1" and "+1" all fail. Returns false on overflow. */
static bool cfg__digits(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int cfg__int(struct cfg__ctx *c, const char *path, yaml_node_t *v, int64_t min,
                    int64_t max, int64_t *out)
{
    char q[CFG__QBUF];
    int64_t n;
    if (v->type != YAML_SCALAR_NODE || cfg__is_null(v) ||
        strlen((const char *)v->data.scalar.value) != v->data.scalar.length ||
        !cfg__digits((const char *)v->data.scalar.value, &n) || n < min || n > max)
        return cfg__fail(c, v, path, "expected an integer %lld..%lld, got %s", (long long)min,
                         (long long)max, cfg__quote(q, sizeof(q), v));
    *out = n;
    return MP_OK;
}

/* Receiver and tenant names end up in URLs, logs and key prefixes, so they
 * are kept to a small, unambiguous alphabet. */
static bool cfg__valid_name(const char *s) { return eng_name_valid(s, strlen(s)); }

static bool cfg__has_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return true;
    return false;
}

/* Joins rel onto the config's directory; absolute paths stay as they are.
 * Leading "./" is dropped so the result reads naturally ("/etc/mp/data").
 * ".." is kept: folding it lexically would be wrong across symlinks. */
static int cfg__resolve(struct cfg__ctx *c, const char *rel, char **out)
{
    if (rel[0] == '/') {
        *out = strdup(rel);
        return *out ? MP_OK : MP_ERR_NOMEM;
    }
    while (rel[0] == '.' && rel[1] == '/') {
        rel += 2;
        while (*rel == '/')
            rel++;
    }
    if (rel[0] == '\0' || strcmp(rel, ".") == 0) {
        *out = strdup(c->dir);
        return *out ? MP_OK : MP_ERR_NOMEM;
    }
    size_t dl = strlen(c->dir);
    const char *sep = (dl > 0 && c->dir[dl - 1] == '/') ? "" : "/";
    size_t n = dl + strlen(sep) + strlen(rel) + 1;
    *out = malloc(n);
    if (*out == NULL)
        return MP_ERR_NOMEM;
    snprintf(*out, n, "%s%s%s", c->dir, sep, rel);
    return MP_OK;
}

/* --- mapping walk -------------------------------------------------------- */

/* Walks mapping `m` against table `keys` (NULL-name terminated). Refuses
 * non-string keys, duplicates and unknown keys; after the walk, reports the
 * first required key that was absent at the mapping's own line. */
static int cfg__walk(struct cfg__ctx *c, yaml_node_t *m, const char *path,
                     const struct cfg__key *keys, void *base)
{
    char sub[CFG__PATH_MAX];
    uint32_t seen = 0;
    const char *where = path[0] ? path : CFG__TOP;
    int rc;

    if (m->type != YAML_MAPPING_NODE) {
        char q[CFG__QBUF];
        return cfg__fail(c, m, where, "expected a mapping, got %s", cfg__quote(q, sizeof(q), m));
    }
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
        const char *name;
        if (kn->type != YAML_SCALAR_NODE ||
            strlen((const char *)kn->data.scalar.value) != kn->data.scalar.length)
            return cfg__fail(c, kn, where, "keys must be plain strings, got %s", cfg__kind(kn));
        name = (const char *)kn->data.scalar.value;
        cfg__join(sub, sizeof(sub), path, name);

        size_t i = 0;
        while (keys[i].name && strcmp(keys[i].name, name) != 0)
            i++;
        if (keys[i].name == NULL) {
            char known[CFG__PATH_MAX] = "";
            for (size_t j = 0; keys[j].name; j++) {
                size_t l = strlen(known);
                snprintf(known + l, sizeof(known) - l, "%s%s", j ? ", " : "", keys[j].name);
            }
            return cfg__fail(c, kn, sub, "unknown key (known here: %s)", known);
        }
        if (seen & (1u << i)) {
            /* libyaml keeps both pairs; silently taking one would hide a typo'd
             * copy-paste, so a repeated key is an error like any other. */
            size_t first = 0;
            for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
                yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);
                if (qk->type == YAML_SCALAR_NODE &&
                    strcmp((const char *)qk->data.scalar.value, name) == 0) {
                    first = cfg__line(qk);
                    break;
                }
            }
            return cfg__fail(c, kn, sub, "duplicate key (first at line %zu)", first);
        }
        seen |= 1u << i;
        rc = keys[i].fn(c, &keys[i], sub, vn, base);
        if (rc != MP_OK)
            return rc;
    }
    for (size_t i = 0; keys[i].name; i++) {
        if (keys[i].required && !(seen & (1u << i))) {
            cfg__join(sub, sizeof(sub), path, keys[i].name);
            return cfg__fail(c, m, sub, "required key missing");
        }
    }
    return MP_OK;
}

/* Refuses duplicate or non-string keys in a mapping whose keys are data
 * (tenant names) rather than schema. */
static int cfg__check_keys(struct cfg__ctx *c, yaml_node_t *m, const char *path)
{
    char sub[CFG__PATH_MAX];
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        if (kn->type != YAML_SCALAR_NODE ||
            strlen((const char *)kn->data.scalar.value) != kn->data.scalar.length)
            return cfg__fail(c, kn, path, "keys must be plain strings, got %s", cfg__kind(kn));
        for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yaml_document_get_node(c->doc, q->key);
            if (qk->type == YAML_SCALAR_NODE &&
                strcmp((const char *)qk->data.scalar.value,
                       (const char *)kn->data.scalar.value) == 0) {
                cfg__join(sub, sizeof(sub), path, (const char *)kn->data.scalar.value);
                return cfg__fail(c, kn, sub, "duplicate key (first at line %zu)", cfg__line(qk));
            }
        }
    }
    return MP_OK;
}

/* --- handlers ------------------------------------------------------------ */

#define CFG__FIELD(base, k, type) ((type *)(void *)((char *)(base) + (k)->off))

static int cfg__section(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    return cfg__walk(c, v, path, k->sub, base);
}

static int cfg__string(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    const char *s;
    int rc = cfg__text(c, path, v, "a string", &s);
    return rc != MP_OK ? rc : cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

static int cfg__log_level(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                          yaml_node_t *v, void *base)
{
    static const char *what = "one of debug, info, warn, error";
    char q[CFG__QBUF];
    enum mp_log_level lvl;
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (mp_log_level_parse(s, &lvl) != 0)
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

static int cfg__data_dir(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    char **dst = CFG__FIELD(base, k, char *);
    char *abs = NULL;
    const char *s;
    int rc = cfg__text(c, path, v, "a directory path", &s);
    if (rc != MP_OK)
        return rc;
    if (cfg__resolve(c, s, &abs) != MP_OK)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    free(*dst);
    *dst = abs;
    return MP_OK;
}

/* The rules file is opened here, not at first use, so a typo in its name is
 * a refusal at start-up instead of a silently rule-less daemon. */
static int cfg__rules(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                      yaml_node_t *v, void *base)
{
    char **dst = CFG__FIELD(base, k, char *);
    char *abs = NULL;
    const char *s, *why = NULL;
    struct stat st;
    int rc = cfg__text(c, path, v, "a file path", &s);
    if (rc != MP_OK)
        return rc;
    if (cfg__resolve(c, s, &abs) != MP_OK)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    int fd = open(abs, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        why = strerror(errno);
    else if (fstat(fd, &st) != 0)
        why = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    if (fd >= 0)
        close(fd);
    if (why) {
        rc = cfg__fail(c, v, path, "cannot read \"%s\": %s", abs, why);
        free(abs);
        return rc;
    }
    free(*dst);
    *dst = abs;
    return MP_OK;
}

/* A light check for a zmq endpoint, "<transport>://<address>": catches the
 * common "127.0.0.1:7400" mistake without second-guessing libzmq. */
static int cfg__endpoint(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    static const char *what = "a zmq endpoint such as tcp://127.0.0.1:7400";
    char q[CFG__QBUF];
    const char *s, *p;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    for (p = s; *p >= 'a' && *p <= 'z'; p++)
        ;
    if (p == s || strncmp(p, "://", 3) != 0 || p[3] == '\0' || cfg__has_space(s))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

static int cfg__workers(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    int64_t n;
    int rc = cfg__int(c, path, v, 1, CFG__WORKERS_MAX, &n);
    if (rc == MP_OK)
        *CFG__FIELD(base, k, int) = (int)n;
    return rc;
}

static int cfg__max_keys(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    int64_t n;
    int rc = cfg__int(c, path, v, CFG__MAX_KEYS_MIN, CFG__MAX_KEYS_MAX, &n);
    if (rc == MP_OK)
        *CFG__FIELD(base, k, uint32_t) = (uint32_t)n;
    return rc;
}

static int cfg__duration(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    static const char *what = "a duration such as 90s, 15m, 1h or 35d";
    char q[CFG__QBUF];
    const char *s;
    int64_t ms;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (mp_config_parse_duration(s, &ms) != MP_OK)
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    *CFG__FIELD(base, k, int64_t) = ms;
    return MP_OK;
}

/* flush_interval: how much a SIGKILL may lose in fire-and-forget mode, so
 * bounded: at least 100ms (flushing is a scan of every key), at most 60s. */
static int cfg__flush_interval(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                               yaml_node_t *v, void *base)
{
    int rc = cfg__duration(c, k, path, v, base);
    int64_t ms = *CFG__FIELD(base, k, int64_t);
    if (rc == MP_OK && (ms < 100 || ms > 60000))
        return cfg__fail(c, v, path, "expected a duration from 100ms to 60s, got %lldms",
                         (long long)ms);
    return rc;
}

/* evict_idle: "0s" turns eviction off; otherwise at least 1m, so a key is
 * not evicted between two batches of a slow sender. */
static int cfg__evict_idle(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                           yaml_node_t *v, void *base)
{
    if (v->type == YAML_SCALAR_NODE && strcmp((const char *)v->data.scalar.value, "0s") == 0) {
        *CFG__FIELD(base, k, int64_t) = 0;
        return MP_OK;
    }
    int rc = cfg__duration(c, k, path, v, base);
    if (rc == MP_OK && *CFG__FIELD(base, k, int64_t) < 60000)
        return cfg__fail(c, v, path, "expected 0s (never) or a duration of at least 1m");
    return rc;
}


/* host:port, where host is a name, an IPv4 address or a bracketed IPv6
 * address ("[::1]:7480"); a bare IPv6 address is ambiguous and refused. */
static bool cfg__valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    int64_t port;
    if (colon == NULL || colon == s || cfg__has_space(s))
        return false;
    if (s[0] == '[') {
        if (colon[-1] != ']' || colon - s < 3)
            return false;
    } else if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
        return false;
    }
    return cfg__digits(colon + 1, &port) && port >= 1 && port <= 65535;
}

static int cfg__listen(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    static const char *what = "host:port with port 1..65535";
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (!cfg__valid_listen(s))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

/* Remembered only; see the top comment for why routes come last. */
static int cfg__defer_routes(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                             yaml_node_t *v, void *base)
{
    c->routes = v;
    return MP_OK;
}

/* Receiver fields (base is a struct mp_receiver_conf). */

static int cfg__receiver_name(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    static const char *what = "1..64 characters of [A-Za-z0-9._-]";
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (!cfg__valid_name(s))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

static const struct {
    const char *name;
    enum mp_receiver_type type;
} cfg__receiver_types[] = {
    {"webhook", MP_RECEIVER_WEBHOOK},
    {"slack", MP_RECEIVER_SLACK},
};

static int cfg__receiver_type(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    static const char *what = "webhook or slack";
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    for (size_t i = 0; i < MP_ARRAY_LEN(cfg__receiver_types); i++) {
        if (strcmp(s, cfg__receiver_types[i].name) == 0) {
            *CFG__FIELD(base, k, enum mp_receiver_type) = cfg__receiver_types[i].type;
            return MP_OK;
        }
    }
    return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
}

static int cfg__url(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                    yaml_node_t *v, void *base)
{
    static const char *what = "an http:// or https:// URL";
    char q[CFG__QBUF];
    const char *s, *host = NULL;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (strncasecmp(s, "http://", 7) == 0)
        host = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        host = s + 8;
    if (host == NULL || host[0] == '\0' || host[0] == '/' || cfg__has_space(s))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return cfg__set(c, path, v, CFG__FIELD(base, k, char *), s);
}

static const struct cfg__key cfg__receiver_keys[] = {
    {"name", cfg__receiver_name, offsetof(struct mp_receiver_conf, name), true, NULL},
    {"type", cfg__receiver_type, offsetof(struct mp_receiver_conf, type), true, NULL},
    {"url", cfg__url, offsetof(struct mp_receiver_conf, url), true, NULL},
    {"secret", cfg__string, offsetof(struct mp_receiver_conf, secret), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static int cfg__receivers(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                          yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    char q[CFG__QBUF], sub[CFG__PATH_MAX];
    int rc;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg__fail(c, v, path, "expected a list of receivers, got %s",
                         cfg__quote(q, sizeof(q), v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n == 0)
        return MP_OK;
    /* The count is set with the zeroed array so mp_config_free() can release
     * a partly filled list on any later refusal. */
    cfg->receivers = calloc(n, sizeof(*cfg->receivers));
    if (cfg->receivers == NULL)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    cfg->n_receivers = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
        struct mp_receiver_conf *r = &cfg->receivers[i];
        snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
        rc = cfg__walk(c, item, sub, cfg__receiver_keys, r);
        if (rc != MP_OK)
            return rc;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cfg->receivers[j].name, r->name) == 0) {
                yaml_node_t *at = item;
                for (yaml_node_pair_t *p = item->data.mapping.pairs.start;
                     p < item->data.mapping.pairs.top; p++) {
                    yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
                    if (strcmp((const char *)kn->data.scalar.value, "name") == 0)
                        at = yaml_document_get_node(c->doc, p->value);
                }
                snprintf(sub, sizeof(sub), "%s[%zu].name", path, i);
                return cfg__fail(c, at, sub, "duplicate receiver name \"%s\" (already %s[%zu])",
                                 r->name, path, j);
            }
        }
    }
    return MP_OK;
}

/* Routes (base is the struct mp_config; receivers are already loaded). */

/* Turns a list of receiver names into indices into cfg->receivers. */
static int cfg__route_list(struct cfg__ctx *c, const char *path, yaml_node_t *v, size_t **out,
                           size_t *n_out)
{
    struct mp_config *cfg = c->cfg;
    char q[CFG__QBUF];
    size_t *idx = NULL;
    int rc = MP_OK;

    if (v->type != YAML_SEQUENCE_NODE)
        return cfg__fail(c, v, path, "expected a list of receiver names, got %s",
                         cfg__quote(q, sizeof(q), v));
    size_t n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (n > 0 && (idx = calloc(n, sizeof(*idx))) == NULL)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, v->data.sequence.items.start[i]);
        const char *name;
        size_t r = 0;
        rc = cfg__scalar(c, path, item, "a receiver name", &name);
        if (rc != MP_OK)
            goto out;
        while (r < cfg->n_receivers && strcmp(cfg->receivers[r].name, name) != 0)
            r++;
        if (r == cfg->n_receivers) {
            rc = cfg__fail(c, item, path, "unknown receiver %s", cfg__quote(q, sizeof(q), item));
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (idx[j] == r) {
                /* Listing one receiver twice would send every alert twice. */
                rc = cfg__fail(c, item, path, "receiver %s listed twice",
                               cfg__quote(q, sizeof(q), item));
                goto out;
            }
        }
        idx[i] = r;
    }
    *out = idx;
    *n_out = n;
    idx = NULL;
out:
    free(idx);
    return rc;
}

static int cfg__route_default(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    return cfg__route_list(c, path, v, &cfg->default_route, &cfg->n_default_route);
}

static int cfg__route_tenants(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                              yaml_node_t *v, void *base)
{
    struct mp_config *cfg = base;
    char q[CFG__QBUF], sub[CFG__PATH_MAX];
    int rc;

    if (v->type != YAML_MAPPING_NODE)
        return cfg__fail(c, v, path, "expected a mapping of tenant name to receivers, got %s",
                         cfg__quote(q, sizeof(q), v));
    rc = cfg__check_keys(c, v, path);
    if (rc != MP_OK)
        return rc;
    size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    if (n == 0)
        return MP_OK;
    cfg->routes = calloc(n, sizeof(*cfg->routes));
    if (cfg->routes == NULL)
        return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(v), path, "out of memory");
    cfg->n_routes = n;
    for (size_t i = 0; i < n; i++) {
        yaml_node_pair_t *p = &v->data.mapping.pairs.start[i];
        yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
        struct mp_route_conf *r = &cfg->routes[i];
        const char *tenant = (const char *)kn->data.scalar.value;
        if (!cfg__valid_name(tenant))
            return cfg__fail(c, kn, path,
                             "invalid tenant name %s: expected 1..64 characters of [A-Za-z0-9._-]",
                             cfg__quote(q, sizeof(q), kn));
        r->tenant = strdup(tenant);
        if (r->tenant == NULL)
            return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(kn), path, "out of memory");
        cfg__join(sub, sizeof(sub), path, tenant);
        rc = cfg__route_list(c, sub, vn, &r->receivers, &r->n);
        if (rc != MP_OK)
            return rc;
    }
    return MP_OK;
}

/* --- schema -------------------------------------------------------------- */

#define CFG__OFF(f) offsetof(struct mp_config, f)

static const struct cfg__key cfg__ingest_keys[] = {
    {"pull", cfg__endpoint, CFG__OFF(ingest_pull), true, NULL},
    {"router", cfg__endpoint, CFG__OFF(ingest_router), false, NULL},
    {"workers", cfg__workers, CFG__OFF(workers), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key cfg__http_keys[] = {
    {"listen", cfg__listen, CFG__OFF(http_listen), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key cfg__engine_keys[] = {
    {"retention", cfg__duration, CFG__OFF(retention_ms), false, NULL},
    {"max_keys", cfg__max_keys, CFG__OFF(max_keys), false, NULL},
    {"flush_interval", cfg__flush_interval, CFG__OFF(flush_interval_ms), false, NULL},
    {"evict_idle", cfg__evict_idle, CFG__OFF(evict_idle_ms), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

/* A positive duration, at most 30 days: the alerting knobs. */
static int cfg__pos_duration(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                             yaml_node_t *v, void *base)
{
    int rc = cfg__duration(c, k, path, v, base);
    int64_t ms = *CFG__FIELD(base, k, int64_t);
    if (rc == MP_OK && (ms < 1 || ms > (int64_t)30 * 24 * 3600 * 1000))
        return cfg__fail(c, v, path, "expected a duration from 1ms to 30d, got %lldms",
                         (long long)ms);
    return rc;
}

static const struct cfg__key cfg__alerting_keys[] = {
    {"group_interval", cfg__pos_duration, CFG__OFF(group_interval_ms), false, NULL},
    {"retry_initial", cfg__pos_duration, CFG__OFF(retry_initial_ms), false, NULL},
    {"retry_max", cfg__pos_duration, CFG__OFF(retry_max_ms), false, NULL},
    {"max_age", cfg__pos_duration, CFG__OFF(outbox_max_age_ms), false, NULL},
    {"slack_interval", cfg__pos_duration, CFG__OFF(slack_interval_ms), false, NULL},
    {"timeout", cfg__pos_duration, CFG__OFF(webhook_timeout_ms), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key cfg__route_keys[] = {
    {"default", cfg__route_default, 0, false, NULL},
    {"tenants", cfg__route_tenants, 0, false, NULL},
    {NULL, NULL, 0, false, NULL},
};

/* ingest is not marked required: a missing ingest.pull is reported by name
 * after the walk, which reads better than "ingest: required key missing". */
static const struct cfg__key cfg__top_keys[] = {
    {"data_dir", cfg__data_dir, CFG__OFF(data_dir), false, NULL},
    {"log_level", cfg__log_level, CFG__OFF(log_level), false, NULL},
    {"ingest", cfg__section, 0, false, cfg__ingest_keys},
    {"http", cfg__section, 0, false, cfg__http_keys},
    {"engine", cfg__section, 0, false, cfg__engine_keys},
    {"rules", cfg__rules, CFG__OFF(rules_path), false, NULL},
    {"alerting", cfg__section, 0, false, cfg__alerting_keys},
    {"receivers", cfg__receivers, 0, false, NULL},
    {"routes", cfg__defer_routes, 0, false, NULL},
    {NULL, NULL, 0, false, NULL},
};

/* The walk tracks seen keys in a 32-bit mask. */
_Static_assert(MP_ARRAY_LEN(cfg__top_keys) <= 32, "cfg__walk's seen mask is 32 bits");

/* --- loading ------------------------------------------------------------- */

/* Reads the whole file; config files are small and libyaml then reports
 * reader errors as offsets we can turn into lines. */
static int cfg__read_file(struct cfg__ctx *c, unsigned char **out, size_t *len)
{
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    int rc = MP_OK;
    FILE *f = fopen(c->file, "rb");
    if (f == NULL) {
        int e = errno;
        return cfg__fail_at(c, e == ENOMEM ? MP_ERR_NOMEM : MP_ERR_IO, 0, NULL,
                            "cannot open: %s", strerror(e));
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            unsigned char *nb;
            if (ncap > CFG__MAX_FILE + 1)
                ncap = CFG__MAX_FILE + 1;
            if (ncap == cap) {
                rc = cfg__fail_at(c, MP_ERR_PARSE, 1, CFG__TOP, "file larger than %u bytes",
                                  CFG__MAX_FILE);
                goto out;
            }
            if ((nb = realloc(buf, ncap + 1)) == NULL) {
                rc = cfg__fail_at(c, MP_ERR_NOMEM, 1, CFG__TOP, "out of memory");
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                rc = cfg__fail_at(c, MP_ERR_IO, 0, NULL, "cannot read: %s", strerror(errno));
                goto out;
            }
            break;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* Absolute directory the file lives in. The directory, not the file, goes
 * through realpath: a symlinked config resolves paths next to the link. */
static int cfg__dir_of(struct cfg__ctx *c)
{
    char *copy = strdup(c->file);
    if (copy == NULL)
        return cfg__fail_at(c, MP_ERR_NOMEM, 0, NULL, "out of memory");
    c->dir = realpath(dirname(copy), NULL);
    int e = errno;
    free(copy);
    if (c->dir == NULL)
        return cfg__fail_at(c, e == ENOMEM ? MP_ERR_NOMEM : MP_ERR_IO, 0, NULL,
                            "cannot resolve its directory: %s", strerror(e));
    return MP_OK;
}

static int cfg__syntax(struct cfg__ctx *c, yaml_parser_t *ps, const unsigned char *buf, size_t len)
{
    size_t line = ps->problem_mark.line + 1;
    if (ps->error == YAML_MEMORY_ERROR)
        return cfg__fail_at(c, MP_ERR_NOMEM, 1, CFG__SYNTAX, "out of memory");
    if (ps->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset (bad UTF-8, control characters),
         * not a mark; count lines up to it ourselves. */
        line = 1;
        for (size_t i = 0; i < ps->problem_offset && i < len; i++)
            line += buf[i] == '\n';
    }
    if (ps->context)
        return cfg__fail_at(c, MP_ERR_PARSE, line, CFG__SYNTAX, "%s (%s from line %zu)",
                            ps->problem ? ps->problem : "syntax error", ps->context,
                            (size_t)ps->context_mark.line + 1);
    return cfg__fail_at(c, MP_ERR_PARSE, line, CFG__SYNTAX, "%s",
                        ps->problem ? ps->problem : "syntax error");
}

/* A loaded YAML file: the bytes, the parser and the one document. */
struct cfg__doc {
    unsigned char *buf;
    size_t len;
    yaml_parser_t ps;
    yaml_document_t doc;
    bool ps_ok, doc_ok;
    yaml_node_t *root; /* NULL: empty file */
};

/* Reads c->file and loads its single YAML document (c->doc points at it). */
static int cfg__open(struct cfg__ctx *c, struct cfg__doc *d)
{
    yaml_document_t tail;
    int rc;
    if ((rc = cfg__read_file(c, &d->buf, &d->len)) != MP_OK)
        return rc;
    if ((rc = cfg__dir_of(c)) != MP_OK)
        return rc;
    if (!yaml_parser_initialize(&d->ps))
        return cfg__fail_at(c, MP_ERR_NOMEM, 1, CFG__TOP, "out of memory");
    d->ps_ok = true;
    yaml_parser_set_input_string(&d->ps, d->buf, d->len);
    if (!yaml_parser_load(&d->ps, &d->doc))
        return cfg__syntax(c, &d->ps, d->buf, d->len);
    d->doc_ok = true;
    c->doc = &d->doc;
    d->root = yaml_document_get_root_node(&d->doc);
    if (d->root && cfg__is_null(d->root))
        d->root = NULL;
    if (!d->root)
        return MP_OK;
    /* A second document would be ignored by a one-document loader; refuse it
     * rather than run with half the file. Loading it also surfaces syntax
     * errors after the first document's end. */
    if (!yaml_parser_load(&d->ps, &tail))
        return cfg__syntax(c, &d->ps, d->buf, d->len);
    yaml_node_t *extra = yaml_document_get_root_node(&tail);
    size_t extra_line = extra ? (size_t)tail.start_mark.line + 1 : 0;
    yaml_document_delete(&tail);
    if (extra)
        return cfg__fail_at(c, MP_ERR_PARSE, extra_line, CFG__TOP,
                            "only one YAML document is allowed");
    return MP_OK;
}

static void cfg__close(struct cfg__ctx *c, struct cfg__doc *d)
{
    if (d->doc_ok)
        yaml_document_delete(&d->doc);
    if (d->ps_ok)
        yaml_parser_delete(&d->ps);
    free(d->buf);
    free(c->dir);
}

int mp_config_load(const char *path, struct mp_config **out, char *err, size_t errlen)
{
    struct cfg__ctx c = {.file = path ? path : "(null)", .err = err, .errlen = errlen};
    struct cfg__doc d = {0};
    struct mp_config *cfg = NULL;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (path == NULL || out == NULL) {
        return cfg__fail_at(&c, MP_ERR_INVAL, 0, NULL, "mp_config_load: invalid argument");
    }
    cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL || (cfg->path = strdup(path)) == NULL) {
        rc = cfg__fail_at(&c, MP_ERR_NOMEM, 1, CFG__TOP, "out of memory");
        goto out;
    }
    c.cfg = cfg;
    cfg->retention_ms = CFG__RETENTION_DEFAULT_MS;
    cfg->max_keys = CFG__MAX_KEYS_DEFAULT;
    cfg->flush_interval_ms = 1000;
    cfg->evict_idle_ms = (int64_t)24 * 3600 * 1000;
    cfg->group_interval_ms = 1000;
    cfg->retry_initial_ms = 500;
    cfg->retry_max_ms = 60000;
    cfg->outbox_max_age_ms = (int64_t)24 * 3600 * 1000;
    cfg->slack_interval_ms = 1000;
    cfg->webhook_timeout_ms = 5000;
    /* One worker per core, within the same range the key itself allows. */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg->workers = cores < 1 ? 1 : cores > CFG__WORKERS_MAX ? CFG__WORKERS_MAX : (int)cores;

    if ((rc = cfg__open(&c, &d)) != MP_OK)
        goto out;
    yaml_node_t *root = d.root;
    if (root == NULL) {
        rc = cfg__fail_at(&c, MP_ERR_PARSE, 1, CFG__TOP, "empty file, expected a mapping "
                          "with at least ingest.pull");
        goto out;
    }
    if ((rc = cfg__walk(&c, root, "", cfg__top_keys, cfg)) != MP_OK)
        goto out;
    if (c.routes && (rc = cfg__walk(&c, c.routes, "routes", cfg__route_keys, cfg)) != MP_OK)
        goto out;
    if (cfg->ingest_pull == NULL) {
        rc = cfg__fail(&c, root, "ingest.pull", "required key missing");
        goto out;
    }
    if (cfg->data_dir == NULL && cfg__resolve(&c, "./data", &cfg->data_dir) != MP_OK) {
        rc = cfg__fail_at(&c, MP_ERR_NOMEM, 1, CFG__TOP, "out of memory");
        goto out;
    }
    if (cfg->log_level == NULL && (cfg->log_level = strdup("info")) == NULL) {
        rc = cfg__fail_at(&c, MP_ERR_NOMEM, 1, CFG__TOP, "out of memory");
        goto out;
    }
    *out = cfg;
    cfg = NULL;
    rc = MP_OK;
out:
    cfg__close(&c, &d);
    mp_config_free(cfg);
    return rc;
}

void mp_config_free(struct mp_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->path);
    free(cfg->data_dir);
    free(cfg->log_level);
    free(cfg->ingest_pull);
    free(cfg->ingest_router);
    free(cfg->http_listen);
    free(cfg->rules_path);
    for (size_t i = 0; i < cfg->n_receivers; i++) {
        free(cfg->receivers[i].name);
        free(cfg->receivers[i].url);
        free(cfg->receivers[i].secret);
    }
    free(cfg->receivers);
    free(cfg->default_route);
    for (size_t i = 0; i < cfg->n_routes; i++) {
        free(cfg->routes[i].tenant);
        free(cfg->routes[i].receivers);
    }
    free(cfg->routes);
    free(cfg);
}

int mp_config_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000},
    };
    char digits[24];
    size_t n = 0;
    int64_t v;

    if (s == NULL || ms == NULL)
        return MP_ERR_INVAL;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    /* 19 digits hold any int64; longer is overflow (or absurd zero padding). */
    if (n == 0 || n >= sizeof(digits))
        return MP_ERR_INVAL;
    memcpy(digits, s, n);
    digits[n] = '\0';
    if (!cfg__digits(digits, &v) || v == 0)
        return MP_ERR_INVAL;
    for (size_t i = 0; i < MP_ARRAY_LEN(units); i++) {
        if (strcmp(s + n, units[i].unit) == 0) {
            if (v > INT64_MAX / units[i].ms)
                return MP_ERR_INVAL;
            *ms = v * units[i].ms;
            return MP_OK;
        }
    }
    return MP_ERR_INVAL;
}

/* --- rules file ------------------------------------------------------------ */

/* One rule or override as read, before the checks that span keys. */
struct rules__in {
    struct alert_rule r;
    char tenant[CFG__NAME_MAX + 1]; /* overrides */
    char rule[ALERT_NAME_MAX];      /* overrides */
    unsigned has;                   /* RH_* bits of the keys present */
};
enum {
    RH_WINDOW = 1u << 0,
    RH_BASELINE = 1u << 1,
    RH_WARNING = 1u << 2,
    RH_CRITICAL = 1u << 3,
    RH_FOR = 1u << 4,
    RH_REPEAT = 1u << 5,
    RH_RATIO = 1u << 6,
    RH_DAYS = 1u << 7,
    RH_SCOPES = 1u << 8,
    RH_DEN = 1u << 9,
    RH_MINVOL = 1u << 10,
    RH_MINCOUNT = 1u << 11,
    RH_ENABLED = 1u << 12,
};

struct rules__top {
    yaml_node_t *defaults, *rules, *overrides;
};

#define RULE_OFF(f) offsetof(struct rules__in, f)

static int rules__stash(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    *CFG__FIELD(base, k, yaml_node_t *) = v;
    return MP_OK;
}

/* Rule names, alertnames and override tenants: the receivers' small
 * alphabet, and short enough for their fixed-size buffers (a tenant up to
 * 64 characters, as ingest allows; a rule name up to ALERT_NAME_MAX - 1). */
static int rules__name(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    size_t cap = k->off == RULE_OFF(tenant) ? CFG__NAME_MAX + 1 : ALERT_NAME_MAX;
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__text(c, path, v, "a name", &s);
    if (rc != MP_OK)
        return rc;
    if (!cfg__valid_name(s) || strlen(s) >= cap)
        return cfg__fail(c, v, path, "expected 1..%zu characters of A-Z a-z 0-9 . _ -, got %s",
                         cap - 1, cfg__quote(q, sizeof(q), v));
    snprintf(CFG__FIELD(base, k, char), cap, "%s", s);
    return MP_OK;
}

static int rules__kind(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    static const char *what = "one of ratio, count, drop, spike, trend";
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (alert_kind_parse(s, &((struct rules__in *)base)->r.kind) != 0)
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    return MP_OK;
}

/* A non-empty list of distinct names from a fixed set, as a bit mask. */
static int rules__names(struct cfg__ctx *c, const char *path, yaml_node_t *v, const char *what,
                        int (*parse)(const char *, int *), unsigned *out)
{
    char q[CFG__QBUF];
    unsigned mask = 0;
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
        return cfg__fail(c, v, path, "expected a non-empty list of %s, got %s", what,
                         cfg__quote(q, sizeof(q), v));
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        const char *s;
        int x;
        int rc = cfg__scalar(c, path, item, what, &s);
        if (rc != MP_OK)
            return rc;
        if (parse(s, &x) != 0)
            return cfg__fail(c, item, path, "expected %s, got %s", what,
                             cfg__quote(q, sizeof(q), item));
        if (mask & (1u << x))
            return cfg__fail(c, item, path, "%s listed twice", cfg__quote(q, sizeof(q), item));
        mask |= 1u << x;
    }
    *out = mask;
    return MP_OK;
}

static int rules__scope_parse(const char *s, int *scope)
{
    for (int i = 0; i < ENG_NSCOPES; i++)
        if (strcmp(s, eng_scope_name(i)) == 0) {
            *scope = i;
            return 0;
        }
    return -1;
}

static int rules__scopes(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    struct rules__in *in = base;
    in->has |= RH_SCOPES;
    return rules__names(c, path, v, "scopes (tenant, mailbox, recipient_domain)",
                        rules__scope_parse, &in->r.scopes);
}

static int rules__types(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    if (k->off == RULE_OFF(r.den_types))
        ((struct rules__in *)base)->has |= RH_DEN;
    return rules__names(c, path, v, "event types (sent, delivered, bounce_hard, ...)",
                        eng_type_parse, CFG__FIELD(base, k, unsigned));
}

static int rules__window(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    static const char *what = "a window: 5m..60m in steps of 5m, 2h..24h, or 1d..14d";
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (alert_window_parse(s, CFG__FIELD(base, k, struct alert_window)) != 0)
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    ((struct rules__in *)base)->has |= k->off == RULE_OFF(r.window) ? RH_WINDOW : RH_BASELINE;
    return MP_OK;
}

static int rules__days(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    int64_t n;
    int rc = cfg__int(c, path, v, 2, 12, &n);
    if (rc == MP_OK) {
        ((struct rules__in *)base)->r.days = (int)n;
        ((struct rules__in *)base)->has |= RH_DAYS;
    }
    return rc;
}

static int rules__count(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    int64_t n;
    int rc = cfg__int(c, path, v, 0, 1000000000000LL, &n);
    if (rc == MP_OK) {
        *CFG__FIELD(base, k, uint64_t) = (uint64_t)n;
        ((struct rules__in *)base)->has |=
            k->off == RULE_OFF(r.min_volume) ? RH_MINVOL : RH_MINCOUNT;
    }
    return rc;
}

/* "2%", "0.02", "3x", "1" -> value * 1e9, exactly (no float): at most 9
 * decimals (7 with %). Returns false when it is not such a number. */
static bool rules__decimal(const char *s, uint64_t *ppb)
{
    uint64_t ip = 0, fp = 0;
    int fd = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        ip = ip * 10 + (uint64_t)(*p - '0');
        if (ip > 1000000000ULL)
            return false;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        for (; *p >= '0' && *p <= '9'; p++, fd++) {
            if (fd == 9)
                return false;
            fp = fp * 10 + (uint64_t)(*p - '0');
        }
    }
    for (int i = fd; i < 9; i++)
        fp *= 10;
    uint64_t v = ip * ALERT_PPB + fp;
    if (strcmp(p, "%") == 0) {
        if (v % 100)
            return false;
        v /= 100;
    } else if (*p != '\0' && strcmp(p, "x") != 0) {
        return false;
    }
    *ppb = v;
    return true;
}

static int rules__threshold(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                            yaml_node_t *v, void *base)
{
    static const char *what = "a positive number such as 2%, 0.02, 3x or 1";
    char q[CFG__QBUF];
    const char *s;
    uint64_t ppb;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (!rules__decimal(s, &ppb) || ppb == 0)
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    *CFG__FIELD(base, k, uint64_t) = ppb;
    ((struct rules__in *)base)->has |= k->off == RULE_OFF(r.warning_ppb) ? RH_WARNING : RH_CRITICAL;
    return MP_OK;
}

static int rules__ratio(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                        yaml_node_t *v, void *base)
{
    static const char *what = "a fraction above 0 and at most 1, such as 0.9 or 90%";
    char q[CFG__QBUF];
    const char *s;
    uint64_t ppb;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (!rules__decimal(s, &ppb) || ppb == 0 || ppb > ALERT_PPB || strchr(s, 'x'))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    ((struct rules__in *)base)->r.resolve_ratio_ppb = ppb;
    ((struct rules__in *)base)->has |= RH_RATIO;
    return MP_OK;
}

/* for / repeat_interval: 0s (off) or a duration up to 30 days. */
static int rules__time(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    static const char *what = "0s or a duration such as 10m, 4h (at most 30d)";
    char q[CFG__QBUF];
    const char *s;
    int64_t ms = 0;
    int rc = cfg__scalar(c, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (strcmp(s, "0s") != 0 && strcmp(s, "0") != 0 &&
        (mp_config_parse_duration(s, &ms) != MP_OK || ms > (int64_t)30 * 24 * 3600 * 1000))
        return cfg__fail(c, v, path, "expected %s, got %s", what, cfg__quote(q, sizeof(q), v));
    *CFG__FIELD(base, k, int64_t) = ms;
    ((struct rules__in *)base)->has |= k->off == RULE_OFF(r.for_ms) ? RH_FOR : RH_REPEAT;
    return MP_OK;
}

static int rules__enabled(struct cfg__ctx *c, const struct cfg__key *k, const char *path,
                          yaml_node_t *v, void *base)
{
    char q[CFG__QBUF];
    const char *s;
    int rc = cfg__scalar(c, path, v, "true or false", &s);
    if (rc != MP_OK)
        return rc;
    if (strcmp(s, "true") && strcmp(s, "false"))
        return cfg__fail(c, v, path, "expected true or false, got %s", cfg__quote(q, sizeof(q), v));
    ((struct rules__in *)base)->r.enabled = strcmp(s, "true") == 0;
    ((struct rules__in *)base)->has |= RH_ENABLED;
    return MP_OK;
}

static const struct cfg__key rules__defaults_keys[] = {
    {"for", rules__time, RULE_OFF(r.for_ms), false, NULL},
    {"repeat_interval", rules__time, RULE_OFF(r.repeat_ms), false, NULL},
    {"resolve_ratio", rules__ratio, 0, false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key rules__rule_keys[] = {
    {"name", rules__name, RULE_OFF(r.name), true, NULL},
    {"alertname", rules__name, RULE_OFF(r.alertname), false, NULL},
    {"kind", rules__kind, 0, true, NULL},
    {"scopes", rules__scopes, 0, false, NULL},
    {"numerator", rules__types, RULE_OFF(r.num_types), true, NULL},
    {"denominator", rules__types, RULE_OFF(r.den_types), false, NULL},
    {"window", rules__window, RULE_OFF(r.window), false, NULL},
    {"baseline", rules__window, RULE_OFF(r.baseline), false, NULL},
    {"days", rules__days, 0, false, NULL},
    {"min_volume", rules__count, RULE_OFF(r.min_volume), false, NULL},
    {"min_count", rules__count, RULE_OFF(r.min_count), false, NULL},
    {"warning", rules__threshold, RULE_OFF(r.warning_ppb), false, NULL},
    {"critical", rules__threshold, RULE_OFF(r.critical_ppb), false, NULL},
    {"for", rules__time, RULE_OFF(r.for_ms), false, NULL},
    {"resolve_ratio", rules__ratio, 0, false, NULL},
    {"repeat_interval", rules__time, RULE_OFF(r.repeat_ms), false, NULL},
    {"enabled", rules__enabled, 0, false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key rules__override_keys[] = {
    {"tenant", rules__name, RULE_OFF(tenant), true, NULL},
    {"rule", rules__name, RULE_OFF(rule), true, NULL},
    {"min_volume", rules__count, RULE_OFF(r.min_volume), false, NULL},
    {"min_count", rules__count, RULE_OFF(r.min_count), false, NULL},
    {"warning", rules__threshold, RULE_OFF(r.warning_ppb), false, NULL},
    {"critical", rules__threshold, RULE_OFF(r.critical_ppb), false, NULL},
    {"for", rules__time, RULE_OFF(r.for_ms), false, NULL},
    {"resolve_ratio", rules__ratio, 0, false, NULL},
    {"repeat_interval", rules__time, RULE_OFF(r.repeat_ms), false, NULL},
    {"enabled", rules__enabled, 0, false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static const struct cfg__key rules__top_keys[] = {
    {"defaults", rules__stash, offsetof(struct rules__top, defaults), false, NULL},
    {"rules", rules__stash, offsetof(struct rules__top, rules), true, NULL},
    {"overrides", rules__stash, offsetof(struct rules__top, overrides), false, NULL},
    {NULL, NULL, 0, false, NULL},
};

static int64_t rules__span_ms(int res, int n)
{
    return res == ENG_RES_DAY ? n * ENG_DAY_MS : res == ENG_RES_HOUR ? n * ENG_HOUR_MS
                                                                     : n * ENG_FINE_MS;
}

/* Thresholds make sense for the rule's kind, and warning < critical. */
static int rules__check_thresholds(struct cfg__ctx *c, yaml_node_t *m, const char *path,
                                   const struct alert_rule *r)
{
    char sub[CFG__PATH_MAX * 2];
    uint64_t t[2] = {r->warning_ppb, r->critical_ppb};
    const char *names[2] = {"warning", "critical"};
    if (!t[0] && !t[1]) {
        cfg__join(sub, sizeof(sub), path, "warning");
        return cfg__fail(c, m, sub, "a rule needs a warning or a critical threshold");
    }
    for (int i = 0; i < 2; i++) {
        if (!t[i])
            continue;
        cfg__join(sub, sizeof(sub), path, names[i]);
        if ((r->kind == ALERT_KIND_RATIO || r->kind == ALERT_KIND_DROP ||
             r->kind == ALERT_KIND_TREND) && t[i] > ALERT_PPB)
            return cfg__fail(c, m, sub, "a %s rule's threshold is a fraction: at most 100%%",
                             alert_kind_name(r->kind));
        if (r->kind == ALERT_KIND_COUNT && t[i] % ALERT_PPB)
            return cfg__fail(c, m, sub, "a count rule's threshold is a whole number of events");
    }
    if (t[0] && t[1] && t[0] >= t[1]) {
        cfg__join(sub, sizeof(sub), path, "critical");
        return cfg__fail(c, m, sub, "critical must be above warning");
    }
    return MP_OK;
}

/* The checks that span keys, then the derived fields. */
static int rules__finish(struct cfg__ctx *c, yaml_node_t *m, const char *path,
                         struct rules__in *in, const struct rules__in *defs)
{
    struct alert_rule *r = &in->r;
    char sub[CFG__PATH_MAX * 2];
    int k = r->kind;
    if (!(in->has & RH_SCOPES))
        r->scopes = (1u << ENG_SCOPE_TENANT) | (1u << ENG_SCOPE_MAILBOX) | (1u << ENG_SCOPE_DOMAIN);
    if (!(in->has & RH_ENABLED))
        r->enabled = 1;
    if (!(in->has & RH_FOR))
        r->for_ms = defs->r.for_ms;
    if (!(in->has & RH_REPEAT))
        r->repeat_ms = defs->r.repeat_ms;
    if (!(in->has & RH_RATIO))
        r->resolve_ratio_ppb = defs->r.resolve_ratio_ppb;
    bool need_den = k == ALERT_KIND_RATIO || k == ALERT_KIND_DROP || k == ALERT_KIND_TREND;
    if (need_den && !(in->has & RH_DEN)) {
        cfg__join(sub, sizeof(sub), path, "denominator");
        return cfg__fail(c, m, sub, "required for a %s rule", alert_kind_name(k));
    }
    if (k == ALERT_KIND_COUNT && (in->has & RH_DEN)) {
        cfg__join(sub, sizeof(sub), path, "denominator");
        return cfg__fail(c, m, sub, "a count rule has no denominator");
    }
    if (k == ALERT_KIND_TREND) {
        if (in->has & (RH_WINDOW | RH_BASELINE)) {
            cfg__join(sub, sizeof(sub), path, in->has & RH_WINDOW ? "window" : "baseline");
            return cfg__fail(c, m, sub, "a trend rule compares whole days; set days instead");
        }
        if (!(in->has & RH_DAYS))
            r->days = 3;
        snprintf(r->window.text, sizeof(r->window.text), "%dd", r->days);
    } else {
        if (in->has & RH_DAYS) {
            cfg__join(sub, sizeof(sub), path, "days");
            return cfg__fail(c, m, sub, "only trend rules take days");
        }
        if (!(in->has & RH_WINDOW)) {
            cfg__join(sub, sizeof(sub), path, "window");
            return cfg__fail(c, m, sub, "required key missing");
        }
    }
    if (k == ALERT_KIND_SPIKE && !(in->has & RH_BASELINE)) {
        cfg__join(sub, sizeof(sub), path, "baseline");
        return cfg__fail(c, m, sub, "required for a spike rule");
    }
    if ((in->has & RH_BASELINE) && k != ALERT_KIND_SPIKE && k != ALERT_KIND_DROP) {
        cfg__join(sub, sizeof(sub), path, "baseline");
        return cfg__fail(c, m, sub, "only drop and spike rules take a baseline");
    }
    if (k == ALERT_KIND_DROP && !(in->has & RH_BASELINE))
        r->baseline = r->window;
    if (k == ALERT_KIND_DROP || k == ALERT_KIND_SPIKE) {
        /* the baseline ends where the window starts, in its own buckets */
        int64_t bucket = rules__span_ms(r->baseline.res, 1);
        r->baseline.back = (int)((rules__span_ms(r->window.res, r->window.n) + bucket - 1) / bucket);
        int reach = r->baseline.back + r->baseline.n;
        int held = r->baseline.res == ENG_RES_DAY ? 14 : r->baseline.res == ENG_RES_HOUR
                                                             ? ENG_HOUR_BACK
                                                             : ENG_FINE_BACK + 1;
        if (reach > held) {
            cfg__join(sub, sizeof(sub), path, "baseline");
            return cfg__fail(c, m, sub,
                             "window plus baseline reach back %d buckets; memory holds %d", reach,
                             held);
        }
    }
    if (rules__check_thresholds(c, m, path, r) != MP_OK)
        return MP_ERR_PARSE;
    alert_rule_derive(r);
    return MP_OK;
}

static int rules__load_rules(struct cfg__ctx *c, yaml_node_t *v, const struct rules__in *defs,
                             struct alert_ruleset *rs)
{
    char q[CFG__QBUF], sub[CFG__PATH_MAX], key[CFG__PATH_MAX * 2];
    if (v->type != YAML_SEQUENCE_NODE || v->data.sequence.items.top == v->data.sequence.items.start)
        return cfg__fail(c, v, "rules", "expected a non-empty list of rules, got %s",
                         cfg__quote(q, sizeof(q), v));
    size_t i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        struct rules__in in = {0};
        int rc;
        snprintf(sub, sizeof(sub), "rules[%zu]", i);
        if ((rc = cfg__walk(c, item, sub, rules__rule_keys, &in)) != MP_OK ||
            (rc = rules__finish(c, item, sub, &in, defs)) != MP_OK)
            return rc;
        if (i >= ALERT_RULES_MAX)
            return cfg__fail(c, item, sub, "at most %d rules", ALERT_RULES_MAX);
        if (alert_ruleset_find(rs, in.r.name) >= 0) {
            cfg__join(key, sizeof(key), sub, "name");
            return cfg__fail(c, item, key, "duplicate rule name \"%s\"", in.r.name);
        }
        if (alert_ruleset_add(rs, &in.r) != MP_OK)
            return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(item), sub, "out of memory");
    }
    return MP_OK;
}

static int rules__load_overrides(struct cfg__ctx *c, yaml_node_t *v, struct alert_ruleset *rs)
{
    char q[CFG__QBUF], sub[CFG__PATH_MAX], key[CFG__PATH_MAX * 2];
    if (v->type != YAML_SEQUENCE_NODE)
        return cfg__fail(c, v, "overrides", "expected a list of overrides, got %s",
                         cfg__quote(q, sizeof(q), v));
    size_t i = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
         it++, i++) {
        yaml_node_t *item = yaml_document_get_node(c->doc, *it);
        struct rules__in in = {0};
        int rc;
        snprintf(sub, sizeof(sub), "overrides[%zu]", i);
        if ((rc = cfg__walk(c, item, sub, rules__override_keys, &in)) != MP_OK)
            return rc;
        int idx = alert_ruleset_find(rs, in.rule);
        if (idx < 0) {
            cfg__join(key, sizeof(key), sub, "rule");
            return cfg__fail(c, item, key, "no rule named \"%s\" in this file", in.rule);
        }
        struct alert_rule *r = alert_ruleset_override(rs, in.tenant, (size_t)idx);
        if (!r)
            return cfg__fail_at(c, MP_ERR_NOMEM, cfg__line(item), sub, "out of memory");
        /* an override changes only what it names; several may stack */
        if (in.has & RH_MINVOL)
            r->min_volume = in.r.min_volume;
        if (in.has & RH_MINCOUNT)
            r->min_count = in.r.min_count;
        if (in.has & RH_WARNING)
            r->warning_ppb = in.r.warning_ppb;
        if (in.has & RH_CRITICAL)
            r->critical_ppb = in.r.critical_ppb;
        if (in.has & RH_FOR)
            r->for_ms = in.r.for_ms;
        if (in.has & RH_REPEAT)
            r->repeat_ms = in.r.repeat_ms;
        if (in.has & RH_RATIO)
            r->resolve_ratio_ppb = in.r.resolve_ratio_ppb;
        if (in.has & RH_ENABLED)
            r->enabled = in.r.enabled;
        if ((rc = rules__check_thresholds(c, item, sub, r)) != MP_OK)
            return rc;
        alert_rule_derive(r);
    }
    return MP_OK;
}

int mp_config_load_rules(const char *path, struct alert_ruleset **out, char *err, size_t errlen)
{
    struct cfg__ctx c = {.file = path ? path : "(null)", .err = err, .errlen = errlen};
    struct cfg__doc d = {0};
    struct alert_ruleset *rs = NULL;
    struct rules__top top = {0};
    struct rules__in defs = {0};
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (path == NULL || out == NULL)
        return cfg__fail_at(&c, MP_ERR_INVAL, 0, NULL, "mp_config_load_rules: invalid argument");
    if ((rc = cfg__open(&c, &d)) != MP_OK)
        goto out;
    if (d.root == NULL) {
        rc = cfg__fail_at(&c, MP_ERR_PARSE, 1, CFG__TOP, "empty file, expected a mapping with "
                          "a rules list");
        goto out;
    }
    if ((rc = cfg__walk(&c, d.root, "", rules__top_keys, &top)) != MP_OK)
        goto out;
    defs.r.repeat_ms = (int64_t)4 * 3600 * 1000;
    defs.r.resolve_ratio_ppb = 900000000;
    if (top.defaults && (rc = cfg__walk(&c, top.defaults, "defaults", rules__defaults_keys,
                                        &defs)) != MP_OK)
        goto out;
    if ((rc = alert_ruleset_new(&rs)) != MP_OK) {
        rc = cfg__fail_at(&c, rc, 1, CFG__TOP, "out of memory");
        goto out;
    }
    if ((rc = rules__load_rules(&c, top.rules, &defs, rs)) != MP_OK)
        goto out;
    if (top.overrides && (rc = rules__load_overrides(&c, top.overrides, rs)) != MP_OK)
        goto out;
    *out = rs;
    rs = NULL;
    rc = MP_OK;
out:
    cfg__close(&c, &d);
    alert_ruleset_free(rs);
    return rc;
}
