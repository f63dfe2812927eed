/* prom_text.c — the strict exposition checker (see prom_text.h). */
#include "prom_text.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_FAMILIES 256

struct pt_family {
    char name[128];
    char type[16];
    int help, typed, sampled, closed;
};

struct pt {
    struct pt_family fam[PT_FAMILIES];
    size_t nfam;
    int cur; /* family of the previous sample, -1: none */
    /* the histogram series being read */
    char hseries[512];
    double last_le, last_bucket;
    int in_buckets, inf_seen;
    double inf_count;
    char *why;
    size_t n;
    int line;
};

__attribute__((format(printf, 2, 3)))
static int pt_fail(struct pt *p, const char *fmt, ...)
{
    va_list ap;
    int k = snprintf(p->why, p->n, "line %d: ", p->line);
    va_start(ap, fmt);
    if (k >= 0 && (size_t)k < p->n)
        vsnprintf(p->why + k, p->n - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static int pt_name_ok(const char *s, size_t len, int colon)
{
    if (len == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || (colon && s[0] == ':')))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || (colon && s[i] == ':')))
            return 0;
    return 1;
}

static struct pt_family *pt_find(struct pt *p, const char *name, size_t len, int add)
{
    for (size_t i = 0; i < p->nfam; i++)
        if (strlen(p->fam[i].name) == len && memcmp(p->fam[i].name, name, len) == 0)
            return &p->fam[i];
    if (!add || p->nfam == PT_FAMILIES || len >= sizeof(p->fam[0].name))
        return NULL;
    struct pt_family *f = &p->fam[p->nfam++];
    memset(f, 0, sizeof(*f));
    memcpy(f->name, name, len);
    return f;
}

static int pt_number(const char *s, double *v)
{
    char *end;
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 || strcmp(s, "NaN") == 0) {
        *v = s[0] == '-' ? -INFINITY : s[0] == '+' ? INFINITY : NAN;
        return 0;
    }
    *v = strtod(s, &end);
    return end != s && *end == '\0' ? 0 : -1;
}

static int pt_comment(struct pt *p, const char *l)
{
    int help = strncmp(l, "# HELP ", 7) == 0, type = strncmp(l, "# TYPE ", 7) == 0;
    if (!help && !type)
        return pt_fail(p, "a comment that is neither HELP nor TYPE: %s", l);
    const char *name = l + 7, *sp = strchr(name, ' ');
    size_t len = sp ? (size_t)(sp - name) : strlen(name);
    if (!pt_name_ok(name, len, 1))
        return pt_fail(p, "bad metric name in %s", l);
    struct pt_family *f = pt_find(p, name, len, 1);
    if (!f)
        return pt_fail(p, "too many families");
    if (f->sampled)
        return pt_fail(p, "%s after the family's samples", l);
    if (help) {
        if (f->help++)
            return pt_fail(p, "second HELP for %s", f->name);
        return 0;
    }
    if (f->typed++)
        return pt_fail(p, "second TYPE for %s", f->name);
    if (!sp || (strcmp(sp + 1, "counter") && strcmp(sp + 1, "gauge") && strcmp(sp + 1, "histogram")))
        return pt_fail(p, "unknown TYPE in %s", l);
    snprintf(f->type, sizeof(f->type), "%s", sp + 1);
    return 0;
}

/* Labels "{k="v",...}" from *s; le gets the le label's value (or ""). */
static int pt_labels(struct pt *p, const char **s, char *rest, size_t rn, char *le, size_t ln)
{
    const char *q = *s;
    size_t rk = 0;
    le[0] = rest[0] = '\0';
    if (*q != '{')
        return 0;
    q++;
    while (*q != '}') {
        const char *eq = strchr(q, '=');
        if (!eq || !pt_name_ok(q, (size_t)(eq - q), 0) || eq[1] != '"')
            return pt_fail(p, "bad label near %s", q);
        int is_le = eq - q == 2 && memcmp(q, "le", 2) == 0;
        char val[256];
        size_t vk = 0;
        const char *v = eq + 2;
        for (; *v && *v != '"'; v++) {
            if (*v == '\\') {
                v++;
                if (*v != '\\' && *v != '"' && *v != 'n')
                    return pt_fail(p, "bad escape \\%c in a label value", *v ? *v : '0');
            }
            if (vk + 1 < sizeof(val))
                val[vk++] = *v;
        }
        val[vk] = '\0';
        if (*v != '"')
            return pt_fail(p, "unterminated label value");
        if (is_le)
            snprintf(le, ln, "%s", val);
        else if (rk < rn)
            rk += (size_t)snprintf(rest + rk, rn - rk, "%.*s,", (int)(v + 1 - q), q);
        q = v + 1;
        if (*q == ',')
            q++;
        else if (*q != '}')
            return pt_fail(p, "expected , or } after a label");
    }
    *s = q + 1;
    return 0;
}

static int pt_hist_end(struct pt *p)
{
    if (p->in_buckets && !p->inf_seen)
        return pt_fail(p, "histogram series %s has no le=\"+Inf\" bucket", p->hseries);
    p->in_buckets = 0;
    return 0;
}

static int pt_sample(struct pt *p, const char *l)
{
    size_t len = strcspn(l, "{ ");
    char rest[512], le[256];
    if (!pt_name_ok(l, len, 1))
        return pt_fail(p, "bad sample name: %s", l);
    const char *s = l + len;
    if (pt_labels(p, &s, rest, sizeof(rest), le, sizeof(le)) != 0)
        return -1;
    double v;
    if (*s != ' ' || pt_number(s + 1, &v) != 0)
        return pt_fail(p, "bad value in %s", l);
    /* the family: the name itself, or a histogram's name before the suffix */
    struct pt_family *f = pt_find(p, l, len, 0);
    const char *suffix = "";
    static const char *const sfx[] = {"_bucket", "_sum", "_count"};
    for (size_t i = 0; !f && i < 3; i++) {
        size_t sl = strlen(sfx[i]);
        if (len > sl && memcmp(l + len - sl, sfx[i], sl) == 0) {
            f = pt_find(p, l, len - sl, 0);
            if (f && strcmp(f->type, "histogram") != 0)
                f = NULL;
            suffix = sfx[i];
        }
    }
    if (!f || !f->typed)
        return pt_fail(p, "sample without a TYPE: %s", l);
    int idx = (int)(f - p->fam);
    if (f->closed || (f->sampled && p->cur != idx))
        return pt_fail(p, "samples of %s are not together", f->name);
    if (p->cur >= 0 && p->cur != idx) {
        p->fam[p->cur].closed = 1;
        if (pt_hist_end(p))
            return -1;
    }
    f->sampled = 1;
    p->cur = idx;
    if (strcmp(f->type, "counter") == 0 && v < 0)
        return pt_fail(p, "negative counter: %s", l);
    if (strcmp(f->type, "histogram") != 0)
        return le[0] ? pt_fail(p, "le label outside a histogram: %s", l) : 0;
    if (strcmp(suffix, "_bucket") == 0) {
        double lev;
        if (!le[0] || pt_number(le, &lev) != 0)
            return pt_fail(p, "bucket without a numeric le: %s", l);
        if (!p->in_buckets || strcmp(p->hseries, rest) != 0) {
            if (pt_hist_end(p))
                return -1;
            snprintf(p->hseries, sizeof(p->hseries), "%s", rest);
            p->in_buckets = 1;
            p->inf_seen = 0;
            p->last_le = -INFINITY;
            p->last_bucket = 0;
        }
        if (lev <= p->last_le || v < p->last_bucket || p->inf_seen)
            return pt_fail(p, "buckets out of order or decreasing: %s", l);
        p->last_le = lev;
        p->last_bucket = v;
        if (isinf(lev)) {
            p->inf_seen = 1;
            p->inf_count = v;
        }
        return 0;
    }
    if (!p->in_buckets || !p->inf_seen || strcmp(p->hseries, rest) != 0)
        return pt_fail(p, "%s before its series' buckets: %s", suffix, l);
    if (strcmp(suffix, "_count") == 0) {
        if (v != p->inf_count)
            return pt_fail(p, "_count %g is not the +Inf bucket %g: %s", v, p->inf_count, l);
        p->in_buckets = 0;
    }
    return 0;
}

int prom_text_check(const char *text, char *why, size_t n)
{
    struct pt *p = calloc(1, sizeof(*p));
    int rc = 0;
    if (!p)
        return -1;
    p->why = why;
    p->n = n;
    p->cur = -1;
    size_t tl = strlen(text);
    if (tl == 0 || text[tl - 1] != '\n') {
        free(p);
        snprintf(why, n, "the text does not end with a newline");
        return -1;
    }
    for (const char *l = text; rc == 0 && *l;) {
        const char *nl = strchr(l, '\n');
        char line[1024];
        size_t len = (size_t)(nl - l);
        p->line++;
        if (len >= sizeof(line)) {
            rc = pt_fail(p, "line too long");
            break;
        }
        memcpy(line, l, len);
        line[len] = '\0';
        if (len == 0)
            rc = pt_fail(p, "empty line");
        else
            rc = line[0] == '#' ? pt_comment(p, line) : pt_sample(p, line);
        l = nl + 1;
    }
    if (rc == 0)
        rc = pt_hist_end(p);
    free(p);
    return rc;
}
