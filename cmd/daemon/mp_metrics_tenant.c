/* mp_metrics_tenant.c — per-tenant limit rejections for /metrics (see
 * mp_metrics_tenant.h). */
#include "mp_metrics_tenant.h"

#include <string.h>

#include "eng_name.h"
#include "ingest_validate.h"

#define TENANT_REJ "mailpulse_tenant_events_rejected_total"
#define TENANT_REJ_OTHER "mailpulse_tenant_events_rejected_unlisted_total"

/* The ingest reason of each engine limit (ENG_LIM_*). */
static const int tenant__reason[ENG_LIM_COUNT] = {
    [ENG_LIM_KEYS] = INGEST_REJ_TENANT_KEY_CAP,
    [ENG_LIM_RATE] = INGEST_REJ_TENANT_RATE_CAP,
};

struct tenant__walk {
    struct mp_buf *out;
    uint64_t other[ENG_LIM_COUNT];
    int rc;
};

static void tenant__row(void *arg, const char *tenant, const uint64_t rej[ENG_LIM_COUNT])
{
    struct tenant__walk *w = arg;
    if (!tenant || !eng_name_valid(tenant, strlen(tenant))) {
        for (int i = 0; i < ENG_LIM_COUNT; i++)
            w->other[i] += rej[i]; /* never a label we cannot vouch for */
        return;
    }
    for (int i = 0; w->rc == MP_OK && i < ENG_LIM_COUNT; i++)
        w->rc = mp_buf_printf(w->out, TENANT_REJ "{tenant=\"%s\",reason=\"%s\"} %llu\n", tenant,
                              ingest_reason_name(tenant__reason[i]), (unsigned long long)rej[i]);
}

int mp_metrics_tenant_render(const struct eng_table *t, struct mp_buf *out)
{
    struct tenant__walk w = {.out = out, .rc = MP_OK};
    w.rc = mp_buf_printf(out, "# HELP " TENANT_REJ " Events refused by a tenant's limits, per "
                              "tenant that hit one (limits:).\n# TYPE " TENANT_REJ " counter\n");
    uint64_t other[ENG_LIM_COUNT] = {0};
    if (w.rc == MP_OK && t) {
        eng_table_limited(t, tenant__row, &w);
        eng_table_limited_other(t, other);
    }
    if (w.rc == MP_OK)
        w.rc = mp_buf_printf(out, "# HELP " TENANT_REJ_OTHER " Events refused by the limits of "
                                  "tenants past the listed ones.\n# TYPE " TENANT_REJ_OTHER
                                  " counter\n");
    for (int i = 0; w.rc == MP_OK && i < ENG_LIM_COUNT; i++)
        w.rc = mp_buf_printf(out, TENANT_REJ_OTHER "{reason=\"%s\"} %llu\n",
                             ingest_reason_name(tenant__reason[i]),
                             (unsigned long long)(other[i] + w.other[i]));
    return w.rc;
}
