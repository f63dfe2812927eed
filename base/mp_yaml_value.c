/* mp_yaml_value.c — the typed rows of the YAML schema walker (see mp_yaml.h):
 * one handler per enum mp_yaml_type, each validating one value against its
 * row (type, bounds, flags) and storing it at the row's offset, and the
 * value grammars behind them (digits, durations, parts per billion).
 */
#include "mp_yaml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Stores n (in range) into an integer field of k->size bytes: 4 or 8. Any
 * other width is a bug in the table, refused rather than written past. */
static int yaml__store_int(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                           void *base, int64_t n)
{
    if (k->size == sizeof(int32_t)) {
        int32_t v = (int32_t)n;
        memcpy(yaml__field(k, base), &v, sizeof(v));
    } else if (k->size == sizeof(int64_t)) {
        memcpy(yaml__field(k, base), &n, sizeof(n));
    } else {
        return mp_yaml_fail_at(y, MP_ERR_INVAL, 1, path, "row with a %zu-byte integer field",
                               k->size);
    }
    return MP_OK;
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
        return mp_yaml_expected(y, v, path, k->what);
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

/* Every integer and duration row carries both bounds: a value with no
 * upper bound is how a config erased its history (a retention of
 * 3000000000d wrapped the engine's day count). A row without them is a bug
 * in the table, refused at the first value rather than let through. */
static int yaml__bounded(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path)
{
    if (k->max <= 0 || k->min > k->max)
        return mp_yaml_fail_at(y, MP_ERR_INVAL, 1, path, "row without bounds (min %lld, max %lld)",
                               (long long)k->min, (long long)k->max);
    return MP_OK;
}

/* An integer is a plain scalar: in YAML "2" (quoted) is a string, and a
 * key that takes a number takes only a number. */
static bool yaml__plain(const yaml_node_t *v)
{
    return v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int yaml__int(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                     yaml_node_t *v, void *base)
{
    char q[MP_YAML_QBUF];
    int64_t n;
    int rc = yaml__bounded(y, k, path);
    if (rc != MP_OK)
        return rc;
    if (v->type == YAML_SCALAR_NODE && !yaml__plain(v))
        return mp_yaml_fail(y, v, path, "expected an integer %lld..%lld, got a quoted string %s",
                            (long long)k->min, (long long)k->max, mp_yaml_quote(q, sizeof(q), v));
    if (v->type != YAML_SCALAR_NODE || mp_yaml_is_null(v) ||
        strlen((const char *)v->data.scalar.value) != v->data.scalar.length ||
        !yaml__digits((const char *)v->data.scalar.value, &n) || n < k->min || n > k->max)
        return mp_yaml_fail(y, v, path, "expected an integer %lld..%lld, got %s",
                            (long long)k->min, (long long)k->max, mp_yaml_quote(q, sizeof(q), v));
    return yaml__store_int(y, k, path, base, n);
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
    int rc = yaml__bounded(y, k, path);
    if (rc == MP_OK)
        rc = mp_yaml_scalar(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (!yaml__zero(k, s)) {
        if (mp_yaml_parse_duration(s, &ms) != MP_OK)
            return mp_yaml_expected(y, v, path, k->what);
        if (ms < k->min || ms > k->max)
            return mp_yaml_expected(y, v, path, k->range ? k->range : k->what);
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
        return mp_yaml_expected(y, v, path, k->what);
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
    if (!yaml__plain(v))
        return mp_yaml_expected(y, v, path, "true or false, unquoted");
    if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
        return mp_yaml_expected(y, v, path, what);
    return yaml__store_int(y, k, path, base, strcmp(s, "true") == 0);
}

static int yaml__parse(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                       yaml_node_t *v, void *base)
{
    const char *s;
    int rc = mp_yaml_scalar(y, path, v, k->what, &s);
    if (rc != MP_OK)
        return rc;
    if (k->parse(s, yaml__field(k, base)) != 0)
        return mp_yaml_expected(y, v, path, k->what);
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
            return mp_yaml_expected(y, item, path, k->what);
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

int mp_yaml_value(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path, yaml_node_t *v,
                  void *base)
{
    return yaml__handlers[k->type](y, k, path, v, base);
}
