/* mp_yaml.c — the YAML schema walker (see mp_yaml.h).
 *
 * This file: loading, errors, nodes and the walk; mp_yaml_value.c: the typed
 * row handlers (one per enum mp_yaml_type) and the value grammars.
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

int mp_yaml_expected(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what)
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

/* --- scalars (the typed rows are in mp_yaml_value.c) ---------------------- */

int mp_yaml_scalar(struct mp_yaml *y, const char *path, yaml_node_t *v, const char *what,
                   const char **s)
{
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v))
        return mp_yaml_expected(y, v, path, what);
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
    return mp_yaml_walk_what(y, m, path, "a mapping", keys, base, marks);
}

int mp_yaml_seq_array(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what,
                      size_t elem, void *arrp, size_t *n)
{
    void *arr = NULL;
    if (v->type != YAML_SEQUENCE_NODE)
        return mp_yaml_expected(y, v, path, what);
    if (mp_yaml_len(v) > 0 && (arr = calloc(mp_yaml_len(v), elem)) == NULL)
        return mp_yaml_nomem(y, v, path);
    memcpy(arrp, &arr, sizeof(arr));
    *n = mp_yaml_len(v);
    return MP_OK;
}

int mp_yaml_walk_what(struct mp_yaml *y, yaml_node_t *m, const char *path, const char *what,
                      const struct mp_yaml_key *keys, void *base, unsigned *marks)
{
    char sub[MP_YAML_PATH_MAX];
    uint32_t seen = 0; /* by row: tables have at most 32 rows */
    unsigned got = 0;
    const char *where = path[0] ? path : MP_YAML_TOP;
    int rc;

    if (m->type != YAML_MAPPING_NODE)
        return mp_yaml_expected(y, m, where, what);
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
        rc = mp_yaml_value(y, &keys[i], sub, mp_yaml_pair_value(y, m, p), base);
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
            char **p = (char **)(void *)((char *)base + k->off);
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

/* One event pass over y->buf that refuses, at its line, the first
 * collection nested deeper than MP_YAML_MAX_DEPTH. It stops there, so the
 * scanner never reaches the deep part: libyaml's scanner checks every open
 * flow level at each token, which makes loading quadratic in the depth
 * (40k levels: 2.7 s; 100k: tens of seconds). A syntax error stops the pass
 * quietly: the load below reports it with its usual message. */
static int yaml__depth(struct mp_yaml *y)
{
    yaml_parser_t ps;
    yaml_event_t ev;
    if (!yaml_parser_initialize(&ps))
        return mp_yaml_fail_at(y, MP_ERR_NOMEM, 1, MP_YAML_TOP, "out of memory");
    yaml_parser_set_input_string(&ps, (const unsigned char *)y->buf, y->len);
    int rc = MP_OK, depth = 0;
    while (rc == MP_OK && yaml_parser_parse(&ps, &ev)) {
        yaml_event_type_t t = ev.type;
        if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT) {
            if (++depth > MP_YAML_MAX_DEPTH)
                rc = mp_yaml_fail_at(y, MP_ERR_PARSE, (size_t)ev.start_mark.line + 1,
                                     MP_YAML_TOP, "nested deeper than %d levels",
                                     MP_YAML_MAX_DEPTH);
        } else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT) {
            depth--;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    yaml_parser_delete(&ps);
    return rc;
}

/* Loads the single document of y->buf. */
static int yaml__load(struct mp_yaml *y)
{
    yaml_document_t tail;
    int rc = yaml__depth(y);
    if (rc != MP_OK)
        return rc;
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
