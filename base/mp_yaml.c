/* mp_yaml.c — the YAML schema walker (see mp_yaml.h).
 *
 * The file is read into memory whole (config files are small, and libyaml
 * then reports reader errors as byte offsets we can turn into lines) and
 * loaded with libyaml's document API. The walk and the typed value handlers
 * are the only place that knows what "unknown key", "duplicate key", "an
 * integer 1..256" or "a duration" mean, for every file that has a schema.
 */
#include "mp_yaml.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mp_buf.h"

struct mp_yaml {
    const char *file; /* the caller's, for messages */
    char *dir;        /* absolute directory of the file */
    char *buf;
    size_t len;
    yaml_parser_t ps;
    yaml_document_t doc;
    bool ps_ok, doc_ok;
    yaml_node_t *root; /* NULL: empty document */
    char *err;
    size_t errlen;
};

/* --- errors and descriptions --------------------------------------------- */

size_t mp_yaml_line(const yaml_node_t *n) { return n ? n->start_mark.line + 1 : 1; }

int mp_yaml_fail_at(struct mp_yaml *y, int rc, size_t line, const char *path, const char *fmt,
                    ...)
{
    if (y->err == NULL || y->errlen == 0)
        return rc;
    int n = line ? snprintf(y->err, y->errlen, "%s:%zu: %s: ", y->file, line, path)
                 : snprintf(y->err, y->errlen, "%s: ", y->file);
    if (n >= 0 && (size_t)n < y->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(y->err + n, y->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    /* The message may echo user text: err must stay one line. */
    for (char *p = y->err; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return rc;
}

const char *mp_yaml_kind(const yaml_node_t *v)
{
    switch (v->type) {
    case YAML_MAPPING_NODE: return "a mapping";
    case YAML_SEQUENCE_NODE: return "a list";
    default: return "a scalar";
    }
}

/* A plain `key:`, `~` or `null` is YAML's null; we never take it as the
 * string "~", because nobody writes that meaning a value. */
bool mp_yaml_is_null(const yaml_node_t *v)
{
    static const char *nulls[] = {"", "~", "null", "Null", "NULL"};
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    for (size_t i = 0; i < MP_ARRAY_LEN(nulls); i++)
        if (strcmp((const char *)v->data.scalar.value, nulls[i]) == 0)
            return true;
    return false;
}

const char *mp_yaml_quote(char *buf, size_t n, const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v)) {
        snprintf(buf, n, "%s", v->type == YAML_SCALAR_NODE ? "null" : mp_yaml_kind(v));
        return buf;
    }
    const unsigned char *s = v->data.scalar.value;
    size_t len = v->data.scalar.length, o = 0;
    buf[o++] = '"';
    /* The o + 8 < n guard only matters if a caller passes less than
     * MP_YAML_QBUF; with MP_YAML_QBUF the "..." cut always comes first. */
    for (size_t i = 0; i < len && o + 8 < n; i++) {
        if (i == MP_YAML_QUOTE_MAX) {
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

void mp_yaml_join(char *out, size_t n, const char *parent, const char *key)
{
    if (parent[0] == '\0')
        snprintf(out, n, "%s", key);
    else
        snprintf(out, n, "%s.%s", parent, key);
}

/* "expected <what>, got <v>": the refusal of every typed row. */
static int yaml__expected(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what)
{
    char q[MP_YAML_QBUF];
    return mp_yaml_fail(y, v, path, "expected %s, got %s", what, mp_yaml_quote(q, sizeof(q), v));
}

/* --- nodes --------------------------------------------------------------- */

size_t mp_yaml_len(const yaml_node_t *v)
{
    if (v->type == YAML_SEQUENCE_NODE)
        return (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
    if (v->type == YAML_MAPPING_NODE)
        return (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
    return 0;
}

yaml_node_t *mp_yaml_item(struct mp_yaml *y, yaml_node_t *seq, size_t i)
{
    return yaml_document_get_node(&y->doc, seq->data.sequence.items.start[i]);
}

yaml_node_t *mp_yaml_pair_key(struct mp_yaml *y, yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].key);
}

yaml_node_t *mp_yaml_pair_value(struct mp_yaml *y, yaml_node_t *map, size_t i)
{
    return yaml_document_get_node(&y->doc, map->data.mapping.pairs.start[i].value);
}

static bool yaml__is_key(const yaml_node_t *k, const char *name)
{
    return k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, name) == 0;
}

yaml_node_t *mp_yaml_find(struct mp_yaml *y, yaml_node_t *m, const char *key)
{
    for (size_t i = 0; i < mp_yaml_len(m); i++)
        if (yaml__is_key(mp_yaml_pair_key(y, m, i), key))
            return mp_yaml_pair_value(y, m, i);
    return NULL;
}

/* --- scalars ------------------------------------------------------------- */

int mp_yaml_scalar(struct mp_yaml *y, const char *path, yaml_node_t *v, const char *what,
                   const char **s)
{
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v))
        return yaml__expected(y, v, path, what);
    /* C strings would silently cut the value at the NUL. */
    if (strlen((const char *)v->data.scalar.value) != v->data.scalar.length)
        return mp_yaml_fail(y, v, path, "expected %s, got a value containing a NUL byte", what);
    *s = (const char *)v->data.scalar.value;
    return MP_OK;
}

int mp_yaml_text(struct mp_yaml *y, const char *path, yaml_node_t *v, const char *what,
                 const char **s)
{
    int rc = mp_yaml_scalar(y, path, v, what, s);
    if (rc == MP_OK && (*s)[0] == '\0')
        return mp_yaml_fail(y, v, path, "expected %s, got an empty string", what);
    return rc;
}

bool mp_yaml_no_space(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

/* A decimal integer made of digits only: no sign, no spaces, no suffix, so
 * "2x", "", "-1" and "+1" all fail. false on overflow. */
static bool yaml__digits(const char *s, int64_t *out)
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

int mp_yaml_parse_duration(const char *s, int64_t *ms)
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
    if (!yaml__digits(digits, &v) || v == 0)
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

/* "2%", "0.02", "3x", "1" -> value * 1e9, exactly (no float): at most 9
 * decimals (7 with %). false when it is not such a number. */
static bool yaml__ppb(const char *s, uint64_t *ppb)
{
    uint64_t ip = 0, fp = 0;
    int fd = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        ip = ip * 10 + (uint64_t)(*p - '0');
        if (ip > (uint64_t)MP_YAML_PPB_ONE)
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
    uint64_t v = ip * (uint64_t)MP_YAML_PPB_ONE + fp;
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

/* --- typed rows: one handler per type, one table ------------------------- */

static void *yaml__field(const struct mp_yaml_key *k, void *base) { return (char *)base + k->off; }

/* Stores n into an integer field of k->size bytes (values are in range). */
static void yaml__store_int(const struct mp_yaml_key *k, void *base, int64_t n)
{
    if (k->size == sizeof(int32_t)) {
        int32_t v = (int32_t)n;
        memcpy(yaml__field(k, base), &v, sizeof(v));
    } else {
        memcpy(yaml__field(k, base), &n, sizeof(n));
    }
}

static int yaml__section(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    return mp_yaml_walk(y, v, path, k->sub, base, NULL);
}

static int yaml__node(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                      yaml_node_t *v, void *base)
{
    memcpy(yaml__field(k, base), &v, sizeof(v));
    return MP_OK;
}

static int yaml__defer(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    return MP_OK;
}

static int yaml__str(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                     yaml_node_t *v, void *base)
{
    char q[MP_YAML_QBUF];
    const char *s;
    int rc = k->check ? mp_yaml_scalar(y, path, v, k->what, &s)
                      : mp_yaml_text(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (k->check && !k->check(s))
        return yaml__expected(y, v, path, k->what);
    if (k->flags & MP_YAML_INLINE) {
        if (strlen(s) >= k->size)
            return mp_yaml_fail(y, v, path, "expected 1..%zu characters, got %s", k->size - 1,
                                mp_yaml_quote(q, sizeof(q), v));
        memcpy(yaml__field(k, base), s, strlen(s) + 1);
        return MP_OK;
    }
    char *copy = strdup(s), **dst = yaml__field(k, base);
    if (copy == NULL)
        return mp_yaml_nomem(y, v, path);
    free(*dst);
    *dst = copy;
    return MP_OK;
}

static int yaml__int(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                     yaml_node_t *v, void *base)
{
    char q[MP_YAML_QBUF];
    int64_t n;
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v) ||
        strlen((const char *)v->data.scalar.value) != v->data.scalar.length ||
        !yaml__digits((const char *)v->data.scalar.value, &n) || n < k->min || n > k->max)
        return mp_yaml_fail(y, v, path, "expected an integer %lld..%lld, got %s",
                            (long long)k->min, (long long)k->max, mp_yaml_quote(q, sizeof(q), v));
    yaml__store_int(k, base, n);
    return MP_OK;
}

static bool yaml__zero(const struct mp_yaml_key *k, const char *s)
{
    return ((k->flags & (MP_YAML_ZERO | MP_YAML_ZERO_BARE)) && strcmp(s, "0s") == 0) ||
           ((k->flags & MP_YAML_ZERO_BARE) && strcmp(s, "0") == 0);
}

static int yaml__duration(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                          yaml_node_t *v, void *base)
{
    const char *s;
    int64_t ms = 0;
    int rc = mp_yaml_scalar(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (!yaml__zero(k, s)) {
        if (mp_yaml_parse_duration(s, &ms) != MP_OK)
            return yaml__expected(y, v, path, k->what);
        if (ms < k->min || (k->max && ms > k->max))
            return yaml__expected(y, v, path, k->range ? k->range : k->what);
    }
    memcpy(yaml__field(k, base), &ms, sizeof(ms));
    return MP_OK;
}

static int yaml__ppb_row(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                         yaml_node_t *v, void *base)
{
    const char *s;
    uint64_t ppb;
    int rc = mp_yaml_scalar(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (!yaml__ppb(s, &ppb) || ppb < (uint64_t)k->min || (k->max && ppb > (uint64_t)k->max) ||
        ((k->flags & MP_YAML_NO_FACTOR) && strchr(s, 'x')))
        return yaml__expected(y, v, path, k->what);
    memcpy(yaml__field(k, base), &ppb, sizeof(ppb));
    return MP_OK;
}

static int yaml__bool(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                      yaml_node_t *v, void *base)
{
    static const char *what = "true or false";
    const char *s;
    int rc = mp_yaml_scalar(y, path, v, what, &s);
    if (rc != MP_OK)
        return rc;
    if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
        return yaml__expected(y, v, path, what);
    yaml__store_int(k, base, strcmp(s, "true") == 0);
    return MP_OK;
}

static int yaml__parse(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    const char *s;
    int rc = mp_yaml_scalar(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (k->parse(s, yaml__field(k, base)) != 0)
        return yaml__expected(y, v, path, k->what);
    return MP_OK;
}

static int yaml__set(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                     yaml_node_t *v, void *base)
{
    char q[MP_YAML_QBUF];
    unsigned mask = 0;
    if (v->type != YAML_SEQUENCE_NODE || mp_yaml_len(v) == 0)
        return mp_yaml_fail(y, v, path, "expected a non-empty list of %s, got %s", k->what,
                            mp_yaml_quote(q, sizeof(q), v));
    for (size_t i = 0; i < mp_yaml_len(v); i++) {
        yaml_node_t *item = mp_yaml_item(y, v, i);
        const char *s;
        int bit;
        int rc = mp_yaml_scalar(y, path, item, k->what, &s);
        if (rc != MP_OK)
            return rc;
        if (k->parse(s, &bit) != 0 || bit < 0 || bit >= 32)
            return yaml__expected(y, item, path, k->what);
        if (mask & (1u << bit))
            return mp_yaml_fail(y, item, path, "%s listed twice", mp_yaml_quote(q, sizeof(q), item));
        mask |= 1u << bit;
    }
    memcpy(yaml__field(k, base), &mask, sizeof(mask));
    return MP_OK;
}

static int yaml__fn(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                    yaml_node_t *v, void *base)
{
    return k->fn(y, k, path, v, base);
}

static const mp_yaml_fn yaml__handlers[] = {
    [MP_YAML_FN] = yaml__fn,
    [MP_YAML_SECTION] = yaml__section,
    [MP_YAML_NODE] = yaml__node,
    [MP_YAML_DEFER] = yaml__defer,
    [MP_YAML_STR] = yaml__str,
    [MP_YAML_INT] = yaml__int,
    [MP_YAML_DURATION] = yaml__duration,
    [MP_YAML_PPB] = yaml__ppb_row,
    [MP_YAML_BOOL] = yaml__bool,
    [MP_YAML_PARSE] = yaml__parse,
    [MP_YAML_SET] = yaml__set,
};

/* --- the walk ------------------------------------------------------------ */

static int yaml__plain_key(struct mp_yaml *y, yaml_node_t *kn, const char *where)
{
    if (kn->type != YAML_SCALAR_NODE ||
        strlen((const char *)kn->data.scalar.value) != kn->data.scalar.length)
        return mp_yaml_fail(y, kn, where, "keys must be plain strings, got %s", mp_yaml_kind(kn));
    return MP_OK;
}

/* libyaml keeps both pairs of a repeated key; silently taking one would hide
 * a typo'd copy-paste, so a repeated key is an error like any other. Returns
 * the line of the first pair i's key repeats, or 0. */
static size_t yaml__repeats(struct mp_yaml *y, yaml_node_t *m, size_t i)
{
    const char *name = (const char *)mp_yaml_pair_key(y, m, i)->data.scalar.value;
    for (size_t j = 0; j < i; j++)
        if (yaml__is_key(mp_yaml_pair_key(y, m, j), name))
            return mp_yaml_line(mp_yaml_pair_key(y, m, j));
    return 0;
}

static int yaml__unknown(struct mp_yaml *y, yaml_node_t *kn, const char *sub,
                         const struct mp_yaml_key *keys)
{
    char known[MP_YAML_PATH_MAX] = "";
    for (size_t j = 0; keys[j].name; j++) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof(known) - l, "%s%s", j ? ", " : "", keys[j].name);
    }
    return mp_yaml_fail(y, kn, sub, "unknown key (known here: %s)", known);
}

int mp_yaml_walk(struct mp_yaml *y, yaml_node_t *m, const char *path,
                 const struct mp_yaml_key *keys, void *base, unsigned *marks)
{
    char sub[MP_YAML_PATH_MAX];
    uint32_t seen = 0; /* by row: tables have at most 32 rows */
    unsigned got = 0;
    const char *where = path[0] ? path : MP_YAML_TOP;
    int rc;

    if (m->type != YAML_MAPPING_NODE)
        return yaml__expected(y, m, where, "a mapping");
    for (size_t p = 0; p < mp_yaml_len(m); p++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, m, p);
        if ((rc = yaml__plain_key(y, kn, where)) != MP_OK)
            return rc;
        const char *name = (const char *)kn->data.scalar.value;
        mp_yaml_join(sub, sizeof(sub), path, name);
        size_t i = 0;
        while (keys[i].name && strcmp(keys[i].name, name) != 0)
            i++;
        if (keys[i].name == NULL || i >= 32)
            return yaml__unknown(y, kn, sub, keys);
        if (seen & (1u << i))
            return mp_yaml_fail(y, kn, sub, "duplicate key (first at line %zu)",
                                yaml__repeats(y, m, p));
        seen |= 1u << i;
        got |= keys[i].mark;
        rc = yaml__handlers[keys[i].type](y, &keys[i], sub, mp_yaml_pair_value(y, m, p), base);
        if (rc != MP_OK)
            return rc;
    }
    for (size_t i = 0; keys[i].name; i++) {
        if (keys[i].required && !(seen & (1u << i))) {
            mp_yaml_join(sub, sizeof(sub), path, keys[i].name);
            return mp_yaml_fail(y, m, sub, "required key missing");
        }
    }
    if (marks)
        *marks |= got;
    return MP_OK;
}

void mp_yaml_free_strings(const struct mp_yaml_key *keys, void *base)
{
    for (const struct mp_yaml_key *k = keys; k->name; k++) {
        if (k->type == MP_YAML_SECTION) {
            mp_yaml_free_strings(k->sub, base);
        } else if (k->type == MP_YAML_STR && !(k->flags & MP_YAML_INLINE)) {
            char **p = yaml__field(k, base);
            free(*p);
            *p = NULL;
        }
    }
}

int mp_yaml_check_keys(struct mp_yaml *y, yaml_node_t *m, const char *path)
{
    char sub[MP_YAML_PATH_MAX];
    for (size_t p = 0; p < mp_yaml_len(m); p++) {
        yaml_node_t *kn = mp_yaml_pair_key(y, m, p);
        int rc = yaml__plain_key(y, kn, path);
        if (rc != MP_OK)
            return rc;
        size_t first = yaml__repeats(y, m, p);
        if (first) {
            mp_yaml_join(sub, sizeof(sub), path, (const char *)kn->data.scalar.value);
            return mp_yaml_fail(y, kn, sub, "duplicate key (first at line %zu)", first);
        }
    }
    return MP_OK;
}

/* --- paths --------------------------------------------------------------- */

int mp_yaml_resolve(struct mp_yaml *y, const char *rel, char **out)
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
        *out = strdup(y->dir);
        return *out ? MP_OK : MP_ERR_NOMEM;
    }
    struct mp_buf b = MP_BUF_INIT;
    size_t dl = strlen(y->dir);
    const char *sep = (dl > 0 && y->dir[dl - 1] == '/') ? "" : "/";
    if (mp_buf_printf(&b, "%s%s%s", y->dir, sep, rel) != MP_OK) {
        mp_buf_free(&b);
        return MP_ERR_NOMEM;
    }
    *out = mp_buf_take(&b);
    return *out ? MP_OK : MP_ERR_NOMEM;
}

/* --- loading ------------------------------------------------------------- */

static int yaml__read_file(struct mp_yaml *y)
{
    struct mp_buf b = MP_BUF_INIT;
    char chunk[4096];
    int rc = MP_OK;
    FILE *f = fopen(y->file, "rb");
    if (f == NULL) {
        int e = errno;
        return mp_yaml_fail_at(y, e == ENOMEM ? MP_ERR_NOMEM : MP_ERR_IO, 0, NULL,
                               "cannot open: %s", strerror(e));
    }
    for (;;) {
        size_t got = fread(chunk, 1, sizeof(chunk), f);
        if (got == 0) {
            if (ferror(f))
                rc = mp_yaml_fail_at(y, MP_ERR_IO, 0, NULL, "cannot read: %s", strerror(errno));
            break;
        }
        if (mp_buf_append(&b, chunk, got) != MP_OK) {
            rc = mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
            break;
        }
        if (b.len > MP_YAML_MAX_FILE) {
            rc = mp_yaml_fail_at(y, MP_ERR_PARSE, 1, MP_YAML_TOP, "file larger than %u bytes",
                                 MP_YAML_MAX_FILE);
            break;
        }
    }
    fclose(f);
    y->len = b.len;
    if (rc == MP_OK && (y->buf = mp_buf_take(&b)) == NULL)
        rc = mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    mp_buf_free(&b);
    return rc;
}

/* The directory, not the file, goes through realpath: a symlinked config
 * resolves paths next to the link. */
static int yaml__dir_of(struct mp_yaml *y, const char *file)
{
    char *copy = strdup(file);
    if (copy == NULL)
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 0, NULL, "out of memory");
    y->dir = realpath(dirname(copy), NULL);
    int e = errno;
    free(copy);
    if (y->dir == NULL)
        return mp_yaml_fail_at(y, e == ENOMEM ? MP_ERR_NOMEM : MP_ERR_IO, 0, NULL,
                               "cannot resolve its directory: %s", strerror(e));
    return MP_OK;
}

static int yaml__syntax(struct mp_yaml *y)
{
    yaml_parser_t *ps = &y->ps;
    size_t line = ps->problem_mark.line + 1;
    if (ps->error == YAML_MEMORY_ERROR)
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_SYNTAX, "out of memory");
    if (ps->error == YAML_READER_ERROR) {
        /* The reader reports a byte offset (bad UTF-8, control characters),
         * not a mark; count lines up to it ourselves. */
        line = 1;
        for (size_t i = 0; i < ps->problem_offset && i < y->len; i++)
            line += y->buf[i] == '\n';
    }
    if (ps->context)
        return mp_yaml_fail_at(y, MP_ERR_PARSE, line, MP_YAML_SYNTAX, "%s (%s from line %zu)",
                               ps->problem ? ps->problem : "syntax error", ps->context,
                               (size_t)ps->context_mark.line + 1);
    return mp_yaml_fail_at(y, MP_ERR_PARSE, line, MP_YAML_SYNTAX, "%s",
                           ps->problem ? ps->problem : "syntax error");
}

/* Loads the single document of y->buf. */
static int yaml__load(struct mp_yaml *y)
{
    yaml_document_t tail;
    if (!yaml_parser_initialize(&y->ps))
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    y->ps_ok = true;
    yaml_parser_set_input_string(&y->ps, (const unsigned char *)y->buf, y->len);
    if (!yaml_parser_load(&y->ps, &y->doc))
        return yaml__syntax(y);
    y->doc_ok = true;
    y->root = yaml_document_get_root_node(&y->doc);
    if (y->root && mp_yaml_is_null(y->root))
        y->root = NULL;
    if (!y->root)
        return MP_OK;
    /* A second document would be ignored by a one-document loader; refuse it
     * rather than run with half the file. Loading it also surfaces syntax
     * errors after the first document's end. */
    if (!yaml_parser_load(&y->ps, &tail))
        return yaml__syntax(y);
    yaml_node_t *extra = yaml_document_get_root_node(&tail);
    size_t extra_line = extra ? (size_t)tail.start_mark.line + 1 : 0;
    yaml_document_delete(&tail);
    if (extra)
        return mp_yaml_fail_at(y, MP_ERR_PARSE, extra_line, MP_YAML_TOP,
                               "only one YAML document is allowed");
    return MP_OK;
}

/* Allocates y, or writes "<name>: out of memory" through a stand-in. */
static struct mp_yaml *yaml__new(const char *name, char *err, size_t errlen)
{
    struct mp_yaml *y = calloc(1, sizeof(*y));
    if (y == NULL) {
        struct mp_yaml tmp = {.file = name, .err = err, .errlen = errlen};
        mp_yaml_fail_at(&tmp, MP_ERR_NOMEM, 0, NULL, "out of memory");
        return NULL;
    }
    y->file = name;
    y->err = err;
    y->errlen = errlen;
    return y;
}

static int yaml__finish(struct mp_yaml *y, int rc, struct mp_yaml **out)
{
    if (rc == MP_OK)
        rc = yaml__load(y);
    if (rc != MP_OK) {
        mp_yaml_close(y);
        return rc;
    }
    *out = y;
    return MP_OK;
}

int mp_yaml_open(const char *file, struct mp_yaml **out, char *err, size_t errlen)
{
    struct mp_yaml *y = yaml__new(file, err, errlen);
    if (y == NULL)
        return MP_ERR_NOMEM;
    int rc = yaml__read_file(y);
    if (rc == MP_OK)
        rc = yaml__dir_of(y, file);
    return yaml__finish(y, rc, out);
}

int mp_yaml_open_mem(const char *name, const void *text, size_t len, struct mp_yaml **out,
                     char *err, size_t errlen)
{
    struct mp_yaml *y = yaml__new(name, err, errlen);
    if (y == NULL)
        return MP_ERR_NOMEM;
    int rc = MP_OK;
    y->len = len;
    /* No file, no directory: relative paths stay relative to the cwd. */
    if ((y->buf = malloc(len + 1)) == NULL || (y->dir = strdup(".")) == NULL) {
        rc = mp_yaml_fail_at(y, MP_ERR_NOMEM, 0, NULL, "out of memory");
    } else {
        if (len)
            memcpy(y->buf, text, len);
        y->buf[len] = '\0';
    }
    return yaml__finish(y, rc, out);
}

yaml_node_t *mp_yaml_root(struct mp_yaml *y) { return y->root; }

void mp_yaml_close(struct mp_yaml *y)
{
    if (y == NULL)
        return;
    if (y->doc_ok)
        yaml_document_delete(&y->doc);
    if (y->ps_ok)
        yaml_parser_delete(&y->ps);
    free(y->buf);
    free(y->dir);
    free(y);
}
