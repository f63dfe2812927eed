/* mp_yaml.h — the strict, table-driven YAML schema walker behind every
 * config file mailpulse reads (the daemon's config, the alert rules file).
 *
 * Contract: mp_yaml_open() reads one file (mp_yaml_open_mem() takes bytes
 * and a name for messages) and loads its single YAML document with
 * libyaml's document API, so every node carries its line. A mapping is then
 * checked against a table of keys (struct mp_yaml_key, NULL-name
 * terminated, at most 32 rows) by mp_yaml_walk(): non-string keys, unknown
 * keys (the message lists the known ones), duplicate keys and missing
 * required keys are refused there once for every section and every file.
 * Each row says what its value is (its type and bounds) and where it goes
 * (an offset into the walk's `base`); one typed handler validates and
 * stores every scalar kind, so a config module writes handlers only for
 * what is its own (lists of records, cross-references).
 *
 * Errors: every refusal writes one line into the caller's err buffer,
 * "<file>:<line>: <key path>: <message>" (1-based lines; "<file>: <message>"
 * when there is no line: the file cannot be opened or read), with control
 * characters replaced so err stays one line, and echoed values quoted,
 * escaped and cut (mp_yaml_quote). Keys that are no single key: "yaml"
 * (syntax errors, with libyaml's text) and "(top level)" (not a mapping,
 * more than one document). A YAML null (`key:`, `~`, `null`) is never taken
 * as a value. Functions return MP_OK, MP_ERR_PARSE (refused), MP_ERR_IO
 * (cannot read the file) or MP_ERR_NOMEM, err written on every error.
 *
 * Ownership: struct mp_yaml is opaque and owns the file's bytes and the
 * document; nodes and scalar strings point into it and live until
 * mp_yaml_close(). The file name and err buffer passed to open are the
 * caller's and must outlive the struct mp_yaml. Strings stored by
 * MP_YAML_STR rows are the caller's to free (they replace, and free, what
 * the field held). Not thread-safe per object; no global state.
 *
 * mp_yaml.c holds loading, errors and the walk; mp_yaml_value.c the typed
 * rows. mp_yaml_parse_duration() is the one duration grammar ("250ms", "90s",
 * "15m", "1h", "35d": a positive integer and a unit).
 *
 * Cost: opening is linear in the file's size. Before the document is loaded
 * one event pass counts the nesting and stops at the first collection deeper
 * than MP_YAML_MAX_DEPTH ("<file>:<line>: (top level): nested deeper than 64
 * levels"), so a deep file costs no more than its first 64 levels.
 */
#ifndef MP_YAML_H
#define MP_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "mp.h"

#define MP_YAML_PATH_MAX 256 /* dotted key paths in messages */
#define MP_YAML_QUOTE_MAX 48 /* echoed values are cut to this */
/* Room for a quoted value: every byte may become a 4-byte "\xNN". */
#define MP_YAML_QBUF (MP_YAML_QUOTE_MAX * 4 + 8)
#define MP_YAML_MAX_FILE (16u << 20) /* refuse absurd inputs (e.g. /dev/zero) */
/* Collections nested deeper than this are refused before the document is
 * loaded: libyaml's loader is quadratic in the nesting depth (measured:
 * 10k/20k/40k levels 0.19/0.73/2.7 s), and no schema of ours goes past a
 * handful of levels. */
#define MP_YAML_MAX_DEPTH 64
#define MP_YAML_PPB_ONE 1000000000LL /* MP_YAML_PPB: 1 is stored as 1e9 */

/* Pseudo-keys for errors that are not about one key. */
#define MP_YAML_TOP "(top level)"
#define MP_YAML_SYNTAX "yaml"

struct mp_yaml;
struct mp_yaml_key;

/* Checks and stores one value. `path` is the dotted key ("engine.retention",
 * "rules[2].window"), `base` the struct the table's offsets refer to.
 * Returns MP_OK or an MP_ERR_* with err written. */
typedef int (*mp_yaml_fn)(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                          yaml_node_t *v, void *base);

/* What a row's value is. Every scalar type refuses nulls and values with a
 * NUL byte, and refuses with "expected <what>, got <value>". */
enum mp_yaml_type {
    MP_YAML_FN = 0,   /* the row's own handler, fn */
    MP_YAML_SECTION,  /* a mapping walked against sub, with the same base */
    MP_YAML_NODE,     /* the node itself (yaml_node_t *), for the caller to walk */
    MP_YAML_DEFER,    /* accepted as known, left for the caller (mp_yaml_find) */
    MP_YAML_STR,      /* char *: a copy; without check any non-empty string,
                       * with check what check accepts. MP_YAML_INLINE: a
                       * char[size] array, the value at most size - 1 bytes */
    MP_YAML_INT,      /* a plain (unquoted) scalar of digits only, min..max,
                       * into an integer of `size` bytes (4 or 8; "expected
                       * an integer <min>..<max>"): "2" quoted is a string */
    MP_YAML_DURATION, /* int64_t ms through mp_yaml_parse_duration, within
                       * min..max (out of range: "expected <range>");
                       * MP_YAML_ZERO takes "0s" as 0 whatever min says,
                       * MP_YAML_ZERO_BARE also "0". INT and DURATION rows
                       * must carry both bounds (0 < max, min <= max): a row
                       * without is a table bug, refused (MP_ERR_INVAL) */
    MP_YAML_PPB,      /* uint64_t parts per billion: "2%", "0.02", "3x", "1"
                       * (at most 9 decimals, 7 with %), exactly, within
                       * min..max (max 0: no upper bound); MP_YAML_NO_FACTOR
                       * refuses the "x" suffix */
    MP_YAML_BOOL,     /* int: true or false, plain (unquoted), nothing else */
    MP_YAML_PARSE,    /* a scalar the row's parse() turns into the field */
    MP_YAML_SET,      /* a non-empty list of distinct names; parse() gives each
                       * name's bit number (< 32); an unsigned bit mask */
};

enum {
    MP_YAML_INLINE = 1u << 0,
    MP_YAML_ZERO = 1u << 1,
    MP_YAML_ZERO_BARE = 1u << 2,
    MP_YAML_NO_FACTOR = 1u << 3,
};

struct mp_yaml_key {
    const char *name;
    enum mp_yaml_type type;
    bool required;
    size_t off, size;  /* the field in base: MP_YAML_FIELD(type, member) */
    unsigned mark;     /* OR'ed into the walk's *marks when the key is present */
    unsigned flags;    /* MP_YAML_INLINE, MP_YAML_ZERO, ... */
    const char *what;  /* the expected value, for messages */
    const char *range; /* DURATION: the message when out of min..max (default what) */
    int64_t min, max;
    bool (*check)(const char *s);           /* STR */
    int (*parse)(const char *s, void *dst); /* PARSE: into the field; SET: an int
                                             * bit number. 0, or -1 to refuse */
    mp_yaml_fn fn;                          /* FN */
    const struct mp_yaml_key *sub;          /* SECTION */
};

#define MP_YAML_FIELD(type, member) \
    .off = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* Opens and loads `file`. On success *out owns a new struct mp_yaml whose
 * root is NULL for an empty document; on error *out is untouched. The
 * directory of the file is resolved (realpath) for mp_yaml_resolve(). */
int mp_yaml_open(const char *file, struct mp_yaml **out, char *err, size_t errlen);
/* The same for len bytes at text (copied), named `name` in messages;
 * mp_yaml_resolve() then leaves relative paths relative (to the cwd). */
int mp_yaml_open_mem(const char *name, const void *text, size_t len, struct mp_yaml **out,
                     char *err, size_t errlen);
void mp_yaml_close(struct mp_yaml *y);
/* The document's root node, or NULL when the document is empty. */
yaml_node_t *mp_yaml_root(struct mp_yaml *y);

/* Walks mapping m against keys; marks (may be NULL) receives the OR of the
 * marks of the keys present. */
int mp_yaml_walk(struct mp_yaml *y, yaml_node_t *m, const char *path,
                 const struct mp_yaml_key *keys, void *base, unsigned *marks);
/* mp_yaml_walk() with the refusal of a non-mapping saying what the section
 * holds: "expected <what>, got ..." (what: "a mapping (interval, ...)"). */
int mp_yaml_walk_what(struct mp_yaml *y, yaml_node_t *m, const char *path, const char *what,
                      const struct mp_yaml_key *keys, void *base, unsigned *marks);
/* A list at v into a calloc'd array of its length, elem bytes an item
 * (*(void **)arrp; NULL for an empty list), and *n its length; refuses
 * anything but a list with "expected <what>, got ...". The count is set with
 * the array, so a later refusal can free what was filled. */
int mp_yaml_seq_array(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what,
                      size_t elem, void *arrp, size_t *n);
/* Frees, and sets to NULL, every string the MP_YAML_STR rows of keys (not
 * INLINE) store in base, SECTION rows included: the table that filled a
 * struct releases what it allocated. */
void mp_yaml_free_strings(const struct mp_yaml_key *keys, void *base);
/* Checks and stores v by row k's type (what mp_yaml_walk does for each key). */
int mp_yaml_value(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path, yaml_node_t *v,
                  void *base);
/* Refuses duplicate or non-string keys of a mapping whose keys are data
 * (tenant names) rather than schema. */
int mp_yaml_check_keys(struct mp_yaml *y, yaml_node_t *m, const char *path);
/* The value of `key` in mapping m, or NULL. */
yaml_node_t *mp_yaml_find(struct mp_yaml *y, yaml_node_t *m, const char *key);
/* Item i of a sequence, pair i's key and value of a mapping, and the
 * number of items (pairs); n_items of any other node is 0. */
yaml_node_t *mp_yaml_item(struct mp_yaml *y, yaml_node_t *seq, size_t i);
yaml_node_t *mp_yaml_pair_key(struct mp_yaml *y, yaml_node_t *map, size_t i);
yaml_node_t *mp_yaml_pair_value(struct mp_yaml *y, yaml_node_t *map, size_t i);
size_t mp_yaml_len(const yaml_node_t *v);

/* Writes the error (see the top) and returns rc. line 0: "<file>: msg". */
int mp_yaml_fail_at(struct mp_yaml *y, int rc, size_t line, const char *path, const char *fmt,
                    ...) __attribute__((format(printf, 5, 6)));
#define mp_yaml_fail(y, node, path, ...) \
    mp_yaml_fail_at((y), MP_ERR_PARSE, mp_yaml_line(node), (path), __VA_ARGS__)
#define mp_yaml_nomem(y, node, path) \
    mp_yaml_fail_at((y), MP_ERR_NOMEM, mp_yaml_line(node), (path), "out of memory")
/* 1-based line of a node (1 for NULL). */
size_t mp_yaml_line(const yaml_node_t *n);
/* "a mapping", "a list" or "a scalar". */
const char *mp_yaml_kind(const yaml_node_t *v);
bool mp_yaml_is_null(const yaml_node_t *v);
/* Describes v for "got ...": a quoted, escaped, cut scalar, "null", or its
 * kind. buf should hold MP_YAML_QBUF bytes. Returns buf. */
const char *mp_yaml_quote(char *buf, size_t n, const yaml_node_t *v);
/* "parent.key", or "key" at the top (parent ""); long paths are cut. */
void mp_yaml_join(char *out, size_t n, const char *parent, const char *key);

/* Refuses v with "expected <what>, got <v described>"; returns MP_ERR_PARSE. */
int mp_yaml_expected(struct mp_yaml *y, yaml_node_t *v, const char *path, const char *what);
/* *s points into v when v is a non-null scalar without NUL bytes; else
 * refuses with "expected <what>, got ...". mp_yaml_text also refuses "". */
int mp_yaml_scalar(struct mp_yaml *y, const char *path, yaml_node_t *v, const char *what,
                   const char **s);
int mp_yaml_text(struct mp_yaml *y, const char *path, yaml_node_t *v, const char *what,
                 const char **s);
/* rel against the file's directory; absolute paths stay as they are, a
 * leading "./" is dropped, ".." is kept (folding it lexically would be wrong
 * across symlinks). *out is the caller's. MP_OK or MP_ERR_NOMEM. */
int mp_yaml_resolve(struct mp_yaml *y, const char *rel, char **out);
/* A string of printable, non-space characters only (no byte <= ' ', no DEL). */
bool mp_yaml_no_space(const char *s);

/* "250ms", "90s", "15m", "1h", "35d" -> *ms. MP_OK, or MP_ERR_INVAL (also
 * for zero, signs, spaces, other units, overflow) with *ms untouched. */
int mp_yaml_parse_duration(const char *s, int64_t *ms);

#endif
