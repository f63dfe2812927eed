/* test_mp_yaml.c — Check suite for base/mp_yaml.c (the YAML schema walker).
 *
 * A small schema (struct demo, demo_keys) has one row of every type, so each
 * typed handler is driven through the walk the way the config modules use
 * it: accepted values land in their fields, refusals carry
 * "<file>:<line>: <key>: <message>". Most documents are parsed from memory
 * (mp_yaml_open_mem, named DEMO); the file entry point gets its own cases.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "mp.h"
#include "mp_yaml.h"
#include "unit_util.h"

#define DEMO "demo.yaml"

struct demo {
    char *str, *word;
    char inl[8];
    int n;
    uint64_t big;
    int64_t wait, off, bare;
    uint64_t ppb, frac;
    int on, colour;
    unsigned tags;
    yaml_node_t *raw;
    int inner;
};

/* Like every real check, it decides about "" too. */
static bool demo_lower(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < 'a' || *s > 'z')
            return false;
    return true;
}

static int demo_name(const char *s, void *dst)
{
    static const char *names[] = {"red", "green", "a", "b", "c"};
    for (int i = 0; i < (int)MP_ARRAY_LEN(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *(int *)dst = i;
            return 0;
        }
    return -1;
}

#define DF(f) MP_YAML_FIELD(struct demo, f)
static const struct mp_yaml_key demo_sub[] = {
    {.name = "inner", .type = MP_YAML_INT, DF(inner), .required = true, .max = 5},
    {0},
};

static const struct mp_yaml_key demo_keys[] = {
    {.name = "str", .type = MP_YAML_STR, DF(str), .what = "a string", .mark = 1u << 0},
    {.name = "word", .type = MP_YAML_STR, DF(word), .check = demo_lower, .what = "a lowercase word"},
    {.name = "short", .type = MP_YAML_STR, DF(inl), .flags = MP_YAML_INLINE, .check = demo_lower,
     .what = "a lowercase word"},
    {.name = "n", .type = MP_YAML_INT, DF(n), .min = 1, .max = 10, .mark = 1u << 1},
    {.name = "big", .type = MP_YAML_INT, DF(big), .max = 1000000000000LL},
    {.name = "wait", .type = MP_YAML_DURATION, DF(wait), .min = 100, .max = 60000,
     .what = "a duration", .range = "a duration from 100ms to 60s"},
    {.name = "off", .type = MP_YAML_DURATION, DF(off), .min = 60000, .max = 7 * 86400000LL,
     .flags = MP_YAML_ZERO, .what = "a duration", .range = "0s or from 1m to 7d"},
    {.name = "bare", .type = MP_YAML_DURATION, DF(bare), .flags = MP_YAML_ZERO_BARE,
     .max = 86400000, .what = "0 or a duration up to 1d"},
    {.name = "ppb", .type = MP_YAML_PPB, DF(ppb), .min = 1, .what = "a positive number"},
    {.name = "frac", .type = MP_YAML_PPB, DF(frac), .min = 1, .max = MP_YAML_PPB_ONE,
     .flags = MP_YAML_NO_FACTOR, .what = "a fraction"},
    {.name = "on", .type = MP_YAML_BOOL, DF(on), .mark = 1u << 2},
    {.name = "colour", .type = MP_YAML_PARSE, DF(colour), .parse = demo_name, .what = "red or green"},
    {.name = "tags", .type = MP_YAML_SET, DF(tags), .parse = demo_name, .what = "tags"},
    {.name = "raw", .type = MP_YAML_NODE, DF(raw)},
    {.name = "later", .type = MP_YAML_DEFER},
    {.name = "sec", .type = MP_YAML_SECTION, .sub = demo_sub},
    {0},
};

/* The table frees what its STR rows stored (INLINE ones are arrays). */
static void demo_free(struct demo *d) { mp_yaml_free_strings(demo_keys, d); }

/* Walks `yaml` against demo_keys; the document stays open in *y. */
static int demo_walk(const char *yaml, struct mp_yaml **y, struct demo *d, unsigned *marks,
                     char *err, size_t errlen)
{
    memset(d, 0, sizeof(*d));
    int rc = mp_yaml_open_mem(DEMO, yaml, strlen(yaml), y, err, errlen);
    if (rc != MP_OK)
        return rc;
    if (mp_yaml_root(*y) == NULL)
        return mp_yaml_fail_at(*y, MP_ERR_PARSE, 1, MP_YAML_TOP, "empty");
    return mp_yaml_walk(*y, mp_yaml_root(*y), "", demo_keys, d, marks);
}

/* --- accepted values ----------------------------------------------------- */

START_TEST(test_walk_every_type)
{
    struct mp_yaml *y = NULL;
    struct demo d;
    unsigned marks = 0;
    char err[512] = "";
    int rc = demo_walk("str: 'hello: world'\nword: abc\nshort: abcdefg\nn: 10\n"
                       "big: 1000000000000\nwait: 100ms\noff: 0s\nbare: 0\nppb: 3x\n"
                       "frac: 90%\non: true\ncolour: green\ntags: [c, a]\n"
                       "raw: {any: [thing]}\nlater: [1, 2]\nsec: {inner: 0}\n",
                       &y, &d, &marks, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "%s", err);
    ck_assert_str_eq(d.str, "hello: world");
    ck_assert_str_eq(d.word, "abc");
    ck_assert_str_eq(d.inl, "abcdefg");
    ck_assert_int_eq(d.n, 10);
    ck_assert_uint_eq(d.big, 1000000000000ULL);
    ck_assert_int_eq(d.wait, 100);
    ck_assert_int_eq(d.off, 0);
    ck_assert_int_eq(d.bare, 0);
    ck_assert_uint_eq(d.ppb, 3000000000ULL);
    ck_assert_uint_eq(d.frac, 900000000ULL);
    ck_assert_int_eq(d.on, 1);
    ck_assert_int_eq(d.colour, 1);
    ck_assert_uint_eq(d.tags, (1u << 4) | (1u << 2));
    ck_assert_int_eq(d.raw->type, YAML_MAPPING_NODE);
    ck_assert_int_eq(d.inner, 0);
    ck_assert_uint_eq(marks, (1u << 0) | (1u << 1) | (1u << 2));
    /* DEFER: known, left alone, found afterwards. */
    yaml_node_t *later = mp_yaml_find(y, mp_yaml_root(y), "later");
    ck_assert_ptr_nonnull(later);
    ck_assert_uint_eq(mp_yaml_len(later), 2);
    ck_assert_str_eq((const char *)mp_yaml_item(y, later, 1)->data.scalar.value, "2");
    ck_assert_ptr_null(mp_yaml_find(y, mp_yaml_root(y), "absent"));
    demo_free(&d);
    ck_assert_ptr_null(d.str);
    ck_assert_ptr_null(d.word);
    ck_assert_str_eq(d.inl, "abcdefg");
    demo_free(&d); /* twice is harmless: the fields are NULL now */
    mp_yaml_close(y);
}
END_TEST

/* Boundaries are inclusive; a repeated STR replaces (and frees) the field. */
START_TEST(test_walk_bounds)
{
    struct mp_yaml *y = NULL;
    struct demo d;
    char err[512] = "";
    int rc = demo_walk("n: 1\nbig: 0\nwait: 60s\noff: 7d\nbare: 1d\nppb: 0.000000001\n"
                       "frac: 1\non: false\nsec: {inner: 5}\n",
                       &y, &d, NULL, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "%s", err);
    ck_assert_int_eq(d.n, 1);
    ck_assert_uint_eq(d.big, 0);
    ck_assert_int_eq(d.wait, 60000);
    ck_assert_int_eq(d.off, 7 * 86400000LL);
    ck_assert_int_eq(d.bare, 86400000);
    ck_assert_uint_eq(d.ppb, 1);
    ck_assert_uint_eq(d.frac, MP_YAML_PPB_ONE);
    ck_assert_int_eq(d.on, 0);
    ck_assert_int_eq(d.inner, 5);
    /* a second walk over the same base: the string is replaced, not leaked */
    d.str = strdup("old");
    ck_assert_int_eq(mp_yaml_walk(y, mp_yaml_root(y), "", demo_sub + 1, &d, NULL),
                     MP_ERR_PARSE); /* the empty table knows no key */
    ck_assert_msg(strstr(err, "n: unknown key (known here: )") != NULL, "%s", err);
    demo_free(&d);
    mp_yaml_close(y);
}
END_TEST

/* --- refusals ------------------------------------------------------------ */

/* want stands somewhere after "demo.yaml:<line>: " */
static const struct unit_refusal demo_reject[] = {
    {"bogus: 1\n", "bogus: unknown key (known here: str, word, short, n, big, wait, off, bare, "
     "ppb, frac, on, colour, tags, raw, later, sec)", 1},
    {"n: 1\nn: 2\n", "n: duplicate key (first at line 1)", 2},
    {"? [a]\n: b\n", "(top level): keys must be plain strings, got a list", 1},
    {"- a\n", "(top level): expected a mapping, got a list", 1},
    {"str: [a]\n", "str: expected a string, got a list", 1},
    {"str: \"\"\n", "str: expected a string, got an empty string", 1},
    {"str:\n", "str: expected a string, got null", 1},
    {"str: ~\n", "str: expected a string, got null", 1},
    {"str: \"a\\0b\"\n", "str: expected a string, got a value containing a NUL byte", 1},
    {"word: Abc\n", "word: expected a lowercase word, got \"Abc\"", 1},
    {"word: \"\"\n", "word: expected a lowercase word, got \"\"", 1},
    {"short: abcdefgh\n", "short: expected 1..7 characters, got \"abcdefgh\"", 1},
    {"n: 0\n", "n: expected an integer 1..10, got \"0\"", 1},
    {"n: 11\n", "n: expected an integer 1..10, got \"11\"", 1},
    {"n: -1\n", "n: expected an integer 1..10, got \"-1\"", 1},
    {"n: +1\n", "n: expected an integer 1..10, got \"+1\"", 1},
    {"n: 1.0\n", "n: expected an integer 1..10, got \"1.0\"", 1},
    {"n: {a: 1}\n", "n: expected an integer 1..10, got a mapping", 1},
    {"big: 99999999999999999999\n", "big: expected an integer 0..1000000000000", 1},
    {"wait: 99ms\n", "wait: expected a duration from 100ms to 60s, got \"99ms\"", 1},
    {"wait: 61s\n", "wait: expected a duration from 100ms to 60s, got \"61s\"", 1},
    {"wait: soon\n", "wait: expected a duration, got \"soon\"", 1},
    {"wait: 0s\n", "wait: expected a duration, got \"0s\"", 1},
    {"off: 59s\n", "off: expected 0s or from 1m to 7d, got \"59s\"", 1},
    {"off: 169h\n", "off: expected 0s or from 1m to 7d, got \"169h\"", 1},
    {"off: 9223372036854775807ms\n", "off: expected 0s or from 1m to 7d", 1},
    {"off: 9223372036854775808ms\n", "off: expected a duration, got", 1},
    /* an integer or a boolean is a plain scalar: quoted, it is a string */
    {"n: \"10\"\n", "n: expected an integer 1..10, got a quoted string \"10\"", 1},
    {"n: '2'\n", "n: expected an integer 1..10, got a quoted string \"2\"", 1},
    {"n: \"\"\n", "n: expected an integer 1..10, got a quoted string \"\"", 1},
    {"sec:\n  inner: \"1\"\n", "sec.inner: expected an integer 0..5, got a quoted string \"1\"", 2},
    {"on: \"true\"\n", "on: expected true or false, unquoted, got \"true\"", 1},
    {"on: 'false'\n", "on: expected true or false, unquoted, got \"false\"", 1},
    {"n: 9223372036854775807\n", "n: expected an integer 1..10", 1},
    {"big: 1000000000001\n", "big: expected an integer 0..1000000000000, got \"1000000000001\"", 1},
    {"off: 0\n", "off: expected a duration, got \"0\"", 1},
    {"bare: 2d\n", "bare: expected 0 or a duration up to 1d, got \"2d\"", 1},
    {"ppb: 0\n", "ppb: expected a positive number, got \"0\"", 1},
    {"ppb: 2 %\n", "ppb: expected a positive number, got \"2 %\"", 1},
    {"ppb: 0.0000000001\n", "ppb: expected a positive number", 1},
    {"ppb: 0.00000001%\n", "ppb: expected a positive number", 1},
    {"ppb: .5\n", "ppb: expected a positive number", 1},
    {"ppb: 5.\n", "ppb: expected a positive number", 1},
    {"ppb: 1000000001\n", "ppb: expected a positive number", 1},
    {"frac: 1.5\n", "frac: expected a fraction, got \"1.5\"", 1},
    {"frac: 1x\n", "frac: expected a fraction, got \"1x\"", 1},
    {"on: yes\n", "on: expected true or false, got \"yes\"", 1},
    {"on: True\n", "on: expected true or false, got \"True\"", 1},
    {"colour: blue\n", "colour: expected red or green, got \"blue\"", 1},
    {"tags: []\n", "tags: expected a non-empty list of tags, got a list", 1},
    {"tags: a\n", "tags: expected a non-empty list of tags, got \"a\"", 1},
    {"tags: [a, zz]\n", "tags: expected tags, got \"zz\"", 1},
    {"tags:\n  - a\n  - a\n", "tags: \"a\" listed twice", 3},
    {"tags: [[a]]\n", "tags: expected tags, got a list", 1},
    {"sec: {}\n", "sec.inner: required key missing", 1},
    {"sec:\n  inner: 6\n", "sec.inner: expected an integer 0..5, got \"6\"", 2},
    {"sec:\n  other: 1\n", "sec.other: unknown key (known here: inner)", 2},
    {"sec: 1\n", "sec: expected a mapping, got \"1\"", 1},
    {"str: \"\\x01\\t\\\"\\\\\"\nword: X\n", "word: expected a lowercase word, got \"X\"", 2},
    {"word: \"\\x01\\t\\\"\\\\\"\n", "word: expected a lowercase word, got \"\\x01\\x09\\\"\\\\\"", 1},
    {"word: \"a\\nb\"\n", "word: expected a lowercase word, got \"a\\nb\"", 1},
    {"word: 0123456789012345678901234567890123456789012345678901234567890\n",
     "got \"012345678901234567890123456789012345678901234567...\"", 1},
    /* the syntax and document problems every file shares */
    {"n: [1, 2\n", "yaml: did not find expected ',' or ']'", 2},
    {"n:\n\t1\n", "yaml: found character that cannot start any token", 2},
    {"n: 1\nstr: \xff\n", "yaml: invalid leading UTF-8 octet", 2},
    {"n: 1\n---\nn: 2\n", "(top level): only one YAML document is allowed", 2},
    {"", "(top level): empty", 1},
    {"# nothing\n", "(top level): empty", 1},
};

START_TEST(test_walk_reject)
{
    struct mp_yaml *y = NULL;
    struct demo d;
    char err[1024] = "";
    int rc = demo_walk(demo_reject[_i].yaml, &y, &d, NULL, err, sizeof(err));
    ck_assert_msg(rc == MP_ERR_PARSE, "case %d: rc %d (%s)", _i, rc, err);
    unit_refused_near(err, DEMO, &demo_reject[_i], _i);
    ck_assert_msg(strchr(err, '\n') == NULL, "case %d: err is not one line", _i);
    demo_free(&d);
    mp_yaml_close(y);
}
END_TEST

/* Data keys (tenant names): duplicates and non-strings refused, not schema. */
START_TEST(test_check_keys)
{
    static const char *yaml = "acme: 1\nbeta: 2\nacme: 3\n";
    struct mp_yaml *y = NULL;
    char err[512] = "";
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, yaml, strlen(yaml), &y, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_yaml_check_keys(y, mp_yaml_root(y), "tenants"), MP_ERR_PARSE);
    ck_assert_str_eq(err, DEMO ":3: tenants.acme: duplicate key (first at line 1)");
    ck_assert_uint_eq(mp_yaml_len(mp_yaml_root(y)), 3);
    ck_assert_str_eq((const char *)mp_yaml_pair_key(y, mp_yaml_root(y), 1)->data.scalar.value,
                     "beta");
    ck_assert_str_eq((const char *)mp_yaml_pair_value(y, mp_yaml_root(y), 1)->data.scalar.value,
                     "2");
    mp_yaml_close(y);
}
END_TEST

/* err may be NULL or short: cut, never overrun, still NUL-terminated. */
START_TEST(test_err_buffers)
{
    struct mp_yaml *y = NULL;
    struct demo d;
    char err[12];
    memset(err, 'X', sizeof(err));
    ck_assert_int_eq(demo_walk("bogus: 1\n", &y, &d, NULL, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
    ck_assert_int_eq(strncmp(err, DEMO ":1: bo", sizeof(err) - 1), 0);
    mp_yaml_close(y);
    ck_assert_int_eq(demo_walk("bogus: 1\n", &y, &d, NULL, NULL, 0), MP_ERR_PARSE);
    mp_yaml_close(y);
    mp_yaml_close(NULL);
}
END_TEST

/* A table row whose integer field is neither 4 nor 8 bytes is refused as
 * a bug, never written past. */
START_TEST(test_bad_row_width)
{
    static const struct mp_yaml_key keys[] = {
        {.name = "s", .type = MP_YAML_INT, .off = 0, .size = sizeof(short), .max = 5},
        {0},
    };
    struct {
        short s, guard;
    } w = {0, 7};
    struct mp_yaml *y = NULL;
    char err[256] = "";
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, "s: 1\n", 5, &y, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_yaml_walk(y, mp_yaml_root(y), "", keys, &w, NULL), MP_ERR_INVAL);
    ck_assert_msg(strstr(err, "s: row with a 2-byte integer field") != NULL, "%s", err);
    ck_assert_int_eq(w.s, 0);
    ck_assert_int_eq(w.guard, 7);
    mp_yaml_close(y);
}
END_TEST

/* An integer or duration row without both bounds is a table bug: refused
 * at its first value, whatever the value, never stored unbounded. */
START_TEST(test_unbounded_row)
{
    static const struct mp_yaml_key keys[][2] = {
        {{.name = "v", .type = MP_YAML_INT, .off = 0, .size = sizeof(int64_t)}, {0}},
        {{.name = "v", .type = MP_YAML_INT, .off = 0, .size = sizeof(int64_t), .min = 5, .max = 4},
         {0}},
        {{.name = "v", .type = MP_YAML_DURATION, .off = 0, .size = sizeof(int64_t), .min = 1,
          .what = "a duration"},
         {0}},
    };
    static const char *docs[] = {"v: 0\n", "v: 5\n", "v: 1s\n"};
    for (size_t i = 0; i < MP_ARRAY_LEN(keys); i++) {
        int64_t v = 77;
        struct mp_yaml *y = NULL;
        char err[256] = "";
        ck_assert_int_eq(mp_yaml_open_mem(DEMO, docs[i], strlen(docs[i]), &y, err, sizeof(err)),
                         MP_OK);
        ck_assert_int_eq(mp_yaml_walk(y, mp_yaml_root(y), "", keys[i], &v, NULL), MP_ERR_INVAL);
        ck_assert_msg(strstr(err, DEMO ":1: v: row without bounds") != NULL, "%zu: %s", i, err);
        ck_assert_int_eq(v, 77);
        mp_yaml_close(y);
    }
}
END_TEST

/* --- files and paths ----------------------------------------------------- */

START_TEST(test_open_file)
{
    char dir[UNIT_PATH_MAX], path[UNIT_PATH_MAX + 32], err[512];
    char want[UNIT_PATH_MAX + 64], *out = NULL;
    struct mp_yaml *y = NULL;
    unit_tmpdir("mp_yaml", dir); /* realpath'd: resolve() answers in its terms */
    snprintf(path, sizeof(path), "%s/c.yaml", dir);
    unit_write_file(path, "n: 3\n");

    ck_assert_int_eq(mp_yaml_open(path, &y, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(mp_yaml_root(y)->type, YAML_MAPPING_NODE);
    ck_assert_int_eq(mp_yaml_resolve(y, "a/b", &out), MP_OK);
    snprintf(want, sizeof(want), "%s/a/b", dir);
    ck_assert_str_eq(out, want);
    free(out);
    ck_assert_int_eq(mp_yaml_resolve(y, ".//./x", &out), MP_OK);
    snprintf(want, sizeof(want), "%s/x", dir);
    ck_assert_str_eq(out, want);
    free(out);
    ck_assert_int_eq(mp_yaml_resolve(y, ".", &out), MP_OK);
    ck_assert_str_eq(out, dir);
    free(out);
    ck_assert_int_eq(mp_yaml_resolve(y, "/abs/olute", &out), MP_OK);
    ck_assert_str_eq(out, "/abs/olute");
    free(out);
    mp_yaml_close(y);

    /* A directory opens but does not read; a missing file does not open. */
    y = NULL;
    ck_assert_int_eq(mp_yaml_open(dir, &y, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(y);
    snprintf(want, sizeof(want), "%s: cannot read: ", dir);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(mp_yaml_open(path, &y, err, sizeof(err)), MP_ERR_IO);
    ck_assert_ptr_null(y);
    snprintf(want, sizeof(want), "%s: cannot open: No such file", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Without a file, relative paths stay relative; an empty text is an empty
 * document (root NULL), not an error. */
START_TEST(test_open_mem)
{
    struct mp_yaml *y = NULL;
    char err[64] = "", *out = NULL;
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, NULL, 0, &y, err, sizeof(err)), MP_OK);
    ck_assert_ptr_null(mp_yaml_root(y));
    ck_assert_int_eq(mp_yaml_resolve(y, "x/y", &out), MP_OK);
    ck_assert_str_eq(out, "./x/y");
    free(out);
    mp_yaml_close(y);
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, "~\n", 2, &y, err, sizeof(err)), MP_OK);
    ck_assert_ptr_null(mp_yaml_root(y)); /* a null document is an empty one */
    mp_yaml_close(y);
}
END_TEST

/* --- durations: mp_yaml_parse_duration ----------------------------------- */

static const struct {
    const char *s;
    int64_t ms;
} duration_ok[] = {
    {"250ms", 250},
    {"1ms", 1},
    {"90s", 90 * 1000},
    {"15m", 15 * 60 * 1000},
    {"1h", 3600 * 1000},
    {"35d", (int64_t)35 * 86400 * 1000},
    {"007s", 7000},
    {"9223372036854775807ms", INT64_MAX},
    {"106751991167d", (int64_t)106751991167 * 86400000}, /* largest whole-day value */
};

START_TEST(test_duration_ok)
{
    int64_t ms = -1;
    ck_assert_msg(mp_yaml_parse_duration(duration_ok[_i].s, &ms) == MP_OK, "\"%s\" refused",
                  duration_ok[_i].s);
    ck_assert_int_eq(ms, duration_ok[_i].ms);
}
END_TEST

static const char *duration_bad[] = {
    "",         /* empty */
    "1",        /* missing unit */
    "s",        /* missing number */
    "ms",
    "0s",       /* positive only */
    "0ms",
    "-1s",
    "+1s",
    "1.5h",
    "1 s",
    " 1s",
    "1s ",
    "1x",       /* unknown unit */
    "1H",
    "1sec",
    "1hm",
    "1w",
    "1us",
    "9223372036854775808ms",  /* INT64_MAX + 1 */
    "9223372036854775807s",   /* overflows once scaled */
    "106751991168d",
    "99999999999999999999999h",
    "0000000000000000000000001s", /* longer than any int64 */
};

START_TEST(test_duration_bad)
{
    int64_t ms = 12345;
    ck_assert_msg(mp_yaml_parse_duration(duration_bad[_i], &ms) == MP_ERR_INVAL,
                  "\"%s\" accepted", duration_bad[_i]);
    ck_assert_int_eq(ms, 12345); /* untouched on refusal */
}
END_TEST

START_TEST(test_duration_null)
{
    int64_t ms;
    ck_assert_int_eq(mp_yaml_parse_duration(NULL, &ms), MP_ERR_INVAL);
    ck_assert_int_eq(mp_yaml_parse_duration("1s", NULL), MP_ERR_INVAL);
}
END_TEST

/* ---- nesting depth ------------------------------------------------------ */

/* "a:" then `depth` nested flow sequences on one line: depth + 1 levels
 * counting the top mapping. Caller frees. */
static char *deep_doc(size_t levels, const char *head, size_t *len)
{
    size_t hl = strlen(head), n = levels;
    char *b = malloc(hl + 2 * n + 2);
    ck_assert_ptr_nonnull(b);
    memcpy(b, head, hl);
    memset(b + hl, '[', n);
    memset(b + hl + n, ']', n);
    b[hl + 2 * n] = '\n';
    b[hl + 2 * n + 1] = '\0';
    *len = hl + 2 * n + 1;
    return b;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_depth_limit)
{
    char err[256];
    size_t len;
    struct mp_yaml *y = NULL;
    /* The top mapping plus 63 sequences: exactly MP_YAML_MAX_DEPTH levels. */
    char *doc = deep_doc(MP_YAML_MAX_DEPTH - 1, "a: ", &len);
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, doc, len, &y, err, sizeof(err)), MP_OK);
    ck_assert_ptr_nonnull(mp_yaml_root(y));
    mp_yaml_close(y);
    free(doc);
    /* One more level is refused, at its line, before the document loads. */
    y = NULL;
    doc = deep_doc(MP_YAML_MAX_DEPTH, "# deep\na: ", &len);
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, doc, len, &y, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_ptr_null(y);
    ck_assert_str_eq(err, DEMO ":2: (top level): nested deeper than 64 levels");
    free(doc);
    /* Block nesting counts the same way. */
    char blk[64 * 70 + 16] = "";
    size_t o = 0;
    for (int i = 0; i <= MP_YAML_MAX_DEPTH; i++)
        o += (size_t)snprintf(blk + o, sizeof(blk) - o, "%*sk%d:\n", i, "", i);
    o += (size_t)snprintf(blk + o, sizeof(blk) - o, "%*sv: 1\n", MP_YAML_MAX_DEPTH + 1, "");
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, blk, o, &y, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_str_eq(err, DEMO ":65: (top level): nested deeper than 64 levels");
}
END_TEST

/* The probe's file: 200 KB, 100k levels. libyaml's loader alone took tens of
 * seconds on it (quadratic in the depth); the pre-pass stops at level 65. */
START_TEST(test_depth_pathological)
{
    char err[256];
    size_t len;
    struct mp_yaml *y = NULL;
    char *doc = deep_doc(100000, "rules:\n  - name: deep\n    x: ", &len);
    ck_assert_uint_ge(len, 200000);
    int64_t t0 = now_ms();
    ck_assert_int_eq(mp_yaml_open_mem(DEMO, doc, len, &y, err, sizeof(err)), MP_ERR_PARSE);
    int64_t took = now_ms() - t0;
    ck_assert_str_eq(err, DEMO ":3: (top level): nested deeper than 64 levels");
    /* Measured ~1 ms (gcc -O2); 2 s leaves room for sanitizers and load,
     * and is far below the seconds the quadratic load takes. */
    ck_assert_msg(took < 2000, "refusing took %lld ms", (long long)took);
    free(doc);
}
END_TEST

/* The plain cases in one call; the table-driven (loop) ones beside them. */
CHECK_SUITE_TABLES("mp_yaml", 0, NULL, NULL,
                   CHECK_TESTS(test_walk_every_type, test_walk_bounds, test_check_keys,
                               test_bad_row_width, test_unbounded_row, test_err_buffers,
                               test_open_file, test_open_mem, test_duration_null,
                               test_depth_limit, test_depth_pathological),
                   CHECK_LOOPS(CHECK_LOOP(test_walk_reject, demo_reject),
                               CHECK_LOOP(test_duration_ok, duration_ok),
                               CHECK_LOOP(test_duration_bad, duration_bad)))
