/* alert_dmarc.c — see alert_dmarc.h. */
#include "alert_dmarc.h"

#include <string.h>

#include "mp.h"

int alert_dmarc_is(const struct alert_rule *r)
{
    return r->kind == ALERT_KIND_DMARC_RATE || r->kind == ALERT_KIND_DMARC_COUNT;
}

void alert_dmarc_eval(const struct alert_rule *r, const uint64_t c[ENG_DMARC_NCOUNTS],
                      struct alert_value *out)
{
    memset(out, 0, sizeof(*out));
    if (!alert_dmarc_is(r) || r->dmarc_count <= 0 || r->dmarc_count >= ENG_DMARC_NCOUNTS)
        return;
    uint64_t n = c[r->dmarc_count];
    out->num = n;
    if (r->kind == ALERT_KIND_DMARC_RATE) {
        uint64_t d = c[ENG_DMARC_MESSAGES];
        out->den = d;
        out->enough = d > 0 && d >= r->min_volume;
        if (out->enough) /* a failed count above the messages would be a broken row */
            out->value_ppb = (uint64_t)((unsigned __int128)(n < d ? n : d) * ALERT_PPB / d);
    } else {
        out->enough = n >= r->min_volume;
        out->value_ppb = n > UINT64_MAX / ALERT_PPB ? UINT64_MAX : n * ALERT_PPB;
    }
    alert_rule_level(r, out);
}

int alert_dmarc_next(const struct alert_rule *r, int prev, const struct alert_value *v)
{
    if (!r->enabled)
        return ALERT_SEV_NONE;
    if (v->severity != ALERT_SEV_NONE || prev == ALERT_SEV_NONE)
        return v->severity;
    /* under the lowest threshold but over the resolve line: still firing,
     * at the severity it had (as a counter rule's alert) */
    return alert_rule_resolves(r, v) ? ALERT_SEV_NONE : prev;
}

int alert_dmarc_pick(const struct alert_ruleset *rs, struct alert_ruleset **out)
{
    struct alert_ruleset *d = NULL;
    size_t n = alert_ruleset_count(rs);
    int idx[ALERT_RULES_MAX], nd = 0;
    int rc = alert_ruleset_new(&d);
    const struct alert_rule *base = alert_ruleset_for(rs, ""); /* no tenant is "" */
    for (size_t i = 0; rc == MP_OK && i < n && i < ALERT_RULES_MAX; i++)
        if (alert_dmarc_is(&base[i])) {
            idx[nd++] = (int)i;
            rc = alert_ruleset_add(d, &base[i]);
        }
    for (size_t t = 0; rc == MP_OK && t < alert_ruleset_noverrides(rs); t++) {
        const char *tenant = alert_ruleset_tenant(rs, t);
        const struct alert_rule *tr = alert_ruleset_for(rs, tenant);
        for (int j = 0; rc == MP_OK && j < nd; j++) {
            if (memcmp(&tr[idx[j]], &base[idx[j]], sizeof(*tr)) == 0)
                continue;
            struct alert_rule *o = alert_ruleset_override(d, tenant, (size_t)j);
            if (!o)
                rc = MP_ERR_NOMEM;
            else
                *o = tr[idx[j]];
        }
    }
    if (rc != MP_OK) {
        alert_ruleset_free(d);
        return MP_ERR_NOMEM;
    }
    *out = d;
    return MP_OK;
}
