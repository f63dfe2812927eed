/* eng_provider.c — the provider map (see eng_provider.h).
 *
 * Layout: an open-addressed, linearly probed array of entries, at most half
 * full, each the domain's hash, its provider index and its bytes' place in
 * one pool; a probe compares bytes only when the hash matches. The hash is
 * seeded from the OS per map, as the key table's is (eng_hash.h): lookups
 * come from producers' domains, which must not be able to aim at one chain.
 */
#include "eng_provider.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eng_hash.h"
#include "mp.h"
#include "mp_buf.h"

#define DOMAIN_MAX 253

/* Recipient domains of the big mailbox providers: the consumer domains
 * each company's MX hosts serve (country domains included where the
 * provider runs them), as deliverability tools group them. */
static const struct {
    const char *provider, *domain;
} prov__builtin[] = {
    {"google", "gmail.com"},         {"google", "googlemail.com"},
    {"microsoft", "outlook.com"},    {"microsoft", "hotmail.com"},
    {"microsoft", "live.com"},       {"microsoft", "msn.com"},
    {"microsoft", "passport.com"},   {"microsoft", "windowslive.com"},
    {"microsoft", "outlook.de"},     {"microsoft", "outlook.fr"},
    {"microsoft", "outlook.es"},     {"microsoft", "outlook.it"},
    {"microsoft", "outlook.jp"},     {"microsoft", "outlook.com.br"},
    {"microsoft", "outlook.com.au"}, {"microsoft", "outlook.be"},
    {"microsoft", "outlook.at"},     {"microsoft", "outlook.ie"},
    {"microsoft", "hotmail.co.uk"},  {"microsoft", "hotmail.fr"},
    {"microsoft", "hotmail.de"},     {"microsoft", "hotmail.it"},
    {"microsoft", "hotmail.es"},     {"microsoft", "hotmail.nl"},
    {"microsoft", "hotmail.be"},     {"microsoft", "hotmail.ca"},
    {"microsoft", "hotmail.se"},     {"microsoft", "hotmail.no"},
    {"microsoft", "hotmail.dk"},     {"microsoft", "hotmail.fi"},
    {"microsoft", "hotmail.co.jp"},  {"microsoft", "hotmail.com.au"},
    {"microsoft", "hotmail.com.br"}, {"microsoft", "hotmail.com.ar"},
    {"microsoft", "hotmail.com.mx"}, {"microsoft", "live.co.uk"},
    {"microsoft", "live.fr"},        {"microsoft", "live.de"},
    {"microsoft", "live.it"},        {"microsoft", "live.nl"},
    {"microsoft", "live.be"},        {"microsoft", "live.ca"},
    {"microsoft", "live.se"},        {"microsoft", "live.com.au"},
    {"microsoft", "live.com.mx"},    {"microsoft", "live.jp"},
    {"yahoo", "yahoo.com"},          {"yahoo", "ymail.com"},
    {"yahoo", "rocketmail.com"},     {"yahoo", "yahoo.co.uk"},
    {"yahoo", "yahoo.fr"},           {"yahoo", "yahoo.de"},
    {"yahoo", "yahoo.it"},           {"yahoo", "yahoo.es"},
    {"yahoo", "yahoo.ca"},           {"yahoo", "yahoo.ie"},
    {"yahoo", "yahoo.se"},           {"yahoo", "yahoo.gr"},
    {"yahoo", "yahoo.in"},           {"yahoo", "yahoo.co.in"},
    {"yahoo", "yahoo.com.au"},       {"yahoo", "yahoo.co.nz"},
    {"yahoo", "yahoo.com.br"},       {"yahoo", "yahoo.com.ar"},
    {"yahoo", "yahoo.com.mx"},       {"yahoo", "yahoo.com.sg"},
    {"yahoo", "yahoo.com.ph"},       {"yahoo", "aol.com"},
    {"yahoo", "aim.com"},            {"yahoo", "aol.co.uk"},
    {"yahoo", "aol.fr"},             {"yahoo", "aol.de"},
    {"yahoo", "verizon.net"},        {"yahoo", "att.net"},
    {"yahoo", "sbcglobal.net"},      {"yahoo", "bellsouth.net"},
    {"apple", "icloud.com"},         {"apple", "me.com"},
    {"apple", "mac.com"},            {"gmx", "gmx.de"},
    {"gmx", "gmx.net"},              {"gmx", "gmx.at"},
    {"gmx", "gmx.ch"},               {"gmx", "gmx.com"},
    {"gmx", "gmx.fr"},               {"gmx", "gmx.co.uk"},
    {"gmx", "web.de"},               {"gmx", "mail.com"},
    {"comcast", "comcast.net"},      {"comcast", "xfinity.com"},
    {"orange", "orange.fr"},         {"orange", "wanadoo.fr"},
    {"orange", "voila.fr"},          {"mailru", "mail.ru"},
    {"mailru", "inbox.ru"},          {"mailru", "list.ru"},
    {"mailru", "bk.ru"},             {"mailru", "internet.ru"},
    {"yandex", "yandex.ru"},         {"yandex", "yandex.com"},
    {"yandex", "ya.ru"},             {"yandex", "yandex.by"},
    {"yandex", "yandex.kz"},         {"yandex", "yandex.ua"},
    {"yandex", "narod.ru"},          {"qq", "qq.com"},
    {"qq", "foxmail.com"},           {"qq", "vip.qq.com"},
    {"netease", "163.com"},          {"netease", "126.com"},
    {"netease", "yeah.net"},         {"netease", "vip.163.com"},
    {"proton", "protonmail.com"},    {"proton", "proton.me"},
    {"proton", "pm.me"},             {"zoho", "zoho.com"},
    {"zoho", "zohomail.com"},
};

struct prov_ent {
    uint64_t h;   /* 0: empty (hashes are forced non-zero) */
    uint32_t off; /* domain bytes at pool + off */
    uint8_t len;
    uint8_t prov; /* index into names */
};

struct eng_providers {
    uint64_t seed;
    uint64_t mask;         /* slots - 1 */
    struct prov_ent *ents; /* mask + 1 entries */
    size_t nents;
    char *pool;
    size_t npool, cappool;
    int nprov; /* names[0] is "other" */
    uint8_t name_len[ENG_PROVIDERS_MAX];
    char names[ENG_PROVIDERS_MAX][ENG_PROVIDER_NAME_MAX + 1];
};

int eng_provider_name_valid(const char *s, size_t len)
{
    if (len < 1 || len > ENG_PROVIDER_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

int eng_provider_builtin(size_t i, const char **provider, const char **domain)
{
    if (i >= MP_ARRAY_LEN(prov__builtin))
        return 0;
    *provider = prov__builtin[i].provider;
    *domain = prov__builtin[i].domain;
    return 1;
}

static inline uint64_t prov__hash(const struct eng_providers *p, const char *s, size_t len)
{
    uint64_t h = eng_hash_name(s, len, p->seed);
    return h ? h : 1;
}

/* The entry holding `domain`, or the empty one where it would go. */
static struct prov_ent *prov__find(const struct eng_providers *p, uint64_t h, const char *s,
                                   size_t len)
{
    for (uint64_t i = h & p->mask;; i = (i + 1) & p->mask) {
        struct prov_ent *e = &p->ents[i];
        if (!e->h || (e->h == h && e->len == len && memcmp(p->pool + e->off, s, len) == 0))
            return e;
    }
}

/* Doubles the entry array (kept at most half full). */
static int prov__grow(struct eng_providers *p)
{
    uint64_t n = (p->mask + 1) * 2;
    struct prov_ent *old = p->ents, *ne = calloc(n, sizeof(*ne));
    if (!ne)
        return MP_ERR_NOMEM;
    uint64_t omask = p->mask;
    p->ents = ne;
    p->mask = n - 1;
    for (uint64_t i = 0; i <= omask; i++)
        if (old[i].h)
            *prov__find(p, old[i].h, "", 0) = old[i]; /* "" matches no entry: the empty slot */
    free(old);
    return MP_OK;
}

static int prov__index(struct eng_providers *p, const char *name, size_t len)
{
    for (int i = 0; i < p->nprov; i++)
        if (p->name_len[i] == len && memcmp(p->names[i], name, len) == 0)
            return i;
    if (p->nprov == ENG_PROVIDERS_MAX)
        return MP_ERR_FULL;
    memcpy(p->names[p->nprov], name, len);
    p->names[p->nprov][len] = '\0';
    p->name_len[p->nprov] = (uint8_t)len;
    return p->nprov++;
}

int eng_providers_set(struct eng_providers *p, const char *provider, const char *domain,
                      size_t len)
{
    size_t plen = strlen(provider);
    if (!eng_provider_name_valid(provider, plen) || len < 1 || len > DOMAIN_MAX)
        return MP_ERR_INVAL;
    uint64_t h = prov__hash(p, domain, len);
    struct prov_ent *e = prov__find(p, h, domain, len);
    if (!e->h && p->nents >= ENG_PROVIDER_DOMAINS_MAX)
        return MP_ERR_FULL;
    if (!e->h && MP_GROW(p->pool, p->cappool, p->npool + len) != MP_OK)
        return MP_ERR_NOMEM;
    int idx = prov__index(p, provider, plen);
    if (idx < 0)
        return idx;
    if (e->h) { /* known domain: it moves */
        e->prov = (uint8_t)idx;
        return MP_OK;
    }
    memcpy(p->pool + p->npool, domain, len);
    *e = (struct prov_ent){.h = h, .off = (uint32_t)p->npool, .len = (uint8_t)len,
                           .prov = (uint8_t)idx};
    p->npool += len;
    p->nents++;
    return (p->nents + 1) * 2 > p->mask + 1 ? prov__grow(p) : MP_OK;
}

void eng_providers_destroy(struct eng_providers *p)
{
    if (!p)
        return;
    free(p->ents);
    free(p->pool);
    free(p);
}

int eng_providers_create(struct eng_providers **out)
{
    struct eng_providers *p = calloc(1, sizeof(*p));
    if (!p)
        return MP_ERR_NOMEM;
    p->seed = eng_hash_seed();
    p->mask = 511; /* the built-in table fits without growing */
    p->ents = calloc(p->mask + 1, sizeof(*p->ents));
    int rc = p->ents ? prov__index(p, ENG_PROVIDER_OTHER, strlen(ENG_PROVIDER_OTHER)) : MP_ERR_NOMEM;
    for (size_t i = 0; rc >= 0 && i < MP_ARRAY_LEN(prov__builtin); i++)
        rc = eng_providers_set(p, prov__builtin[i].provider, prov__builtin[i].domain,
                               strlen(prov__builtin[i].domain));
    if (rc < 0) {
        eng_providers_destroy(p);
        return rc;
    }
    *out = p;
    return MP_OK;
}

const char *eng_providers_lookup(const struct eng_providers *p, const char *domain, size_t len,
                                 size_t *name_len)
{
    int idx = 0;
    if (len >= 1 && len <= DOMAIN_MAX) {
        const struct prov_ent *e = prov__find(p, prov__hash(p, domain, len), domain, len);
        idx = e->h ? e->prov : 0;
    }
    *name_len = p->name_len[idx];
    return p->names[idx];
}
