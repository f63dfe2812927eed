/* eng_dmarc.h — DMARC aggregate report counts per day, kept in the store
 * (column family `dmarc`, ENG_KV_DMARC), and the reports already counted.
 *
 * What is counted: per UTC day, per (tenant, header_from domain, reporting
 * provider, source IP), the ENG_DMARC_NCOUNTS counters of enum
 * eng_dmarc_count: messages, DMARC pass/fail, DKIM pass/fail, SPF
 * pass/fail (the aligned results of policy_evaluated) and the disposition
 * (none/quarantine/reject). They are their own counters, not the wire
 * contract's event types.
 *
 * Contract:
 *   - eng_dmarc_apply() counts one report's rows and marks the report
 *     (org_name, report_id) seen, both in one store batch: a report is
 *     counted whole or not at all, and once (ENG_DMARC_DUP when it was
 *     already: nothing changes). It survives a restart as the store does
 *     (commit with sync=0: a killed process keeps it, a machine crash may
 *     lose the last report, which a resend then counts).
 *   - Days older than the retention (retention_days before the day of the
 *     report being applied) are deleted with each apply of the tenant, in
 *     its batch; a late, older report never cuts newer days;
 *     the caller keeps days from the future out (mp_dmarc refuses a
 *     report ending more than 2 days ahead).
 *     Seen marks are kept (a few dozen bytes a report).
 *   - The read API, for the stats, the per-tenant scrape and the DMARC
 *     rules (cmd/daemon/mp_dmarc_rules.h, one scan per tenant): eng_dmarc_scan() visits every row of
 *     a tenant with lo <= day <= hi in key order (day, domain, provider,
 *     ip); eng_dmarc_totals() sums a window for one (tenant, domain,
 *     provider), NULL domain or provider meaning all of them — what a
 *     rule "per tenant, per header-from domain, per reporting provider"
 *     reads.
 *   - eng_dmarc_provider() names the reporting provider from org_name with
 *     the names of eng_provider.h ("google", "microsoft", "yahoo"), else
 *     org_name folded into that grammar.
 *
 * Threads: any thread; applies are serialised by a mutex (read, add,
 * write), reads go to the store directly (RocksDB reads are safe beside
 * writes; a read during an apply sees the rows before or after it, per
 * row). Ownership: the store is borrowed and must outlive the handle.
 * Returns MP_OK, ENG_DMARC_DUP, MP_ERR_INVAL (a name outside its grammar),
 * MP_ERR_NOMEM, MP_ERR_IO (the store refused the write: nothing counted).
 */
#ifndef ENG_DMARC_H
#define ENG_DMARC_H

#include <stddef.h>
#include <stdint.h>

#include "eng_store.h"
#include "mp.h"

enum eng_dmarc_count {
    ENG_DMARC_MESSAGES = 0,
    ENG_DMARC_PASS = 1,
    ENG_DMARC_FAIL = 2,
    ENG_DMARC_DKIM_PASS = 3,
    ENG_DMARC_DKIM_FAIL = 4,
    ENG_DMARC_SPF_PASS = 5,
    ENG_DMARC_SPF_FAIL = 6,
    ENG_DMARC_DISP_NONE = 7,
    ENG_DMARC_DISP_QUARANTINE = 8,
    ENG_DMARC_DISP_REJECT = 9,
    ENG_DMARC_NCOUNTS = 10
};

#define ENG_DMARC_DUP 1 /* eng_dmarc_apply(): the report was counted before */
#define ENG_DMARC_RETENTION_DAYS_DEFAULT 400

struct eng_dmarc;

struct eng_dmarc_row {
    int64_t day; /* UTC days since 1970-01-01 */
    char domain[254];
    char provider[33];
    char ip[46];
    uint64_t c[ENG_DMARC_NCOUNTS];
};

int eng_dmarc_open(struct eng_store *s, int retention_days, struct eng_dmarc **out);
void eng_dmarc_close(struct eng_dmarc *d);

/* rows with the same (day, domain, provider, ip) are added together. */
int eng_dmarc_apply(struct eng_dmarc *d, const char *org, const char *report_id,
                    const char *tenant, const struct eng_dmarc_row *rows, size_t n);
/* Whether (org, report_id) was counted: 1, 0, or a negative MP_ERR_*. */
int eng_dmarc_seen(struct eng_dmarc *d, const char *org, const char *report_id);

int eng_dmarc_scan(struct eng_dmarc *d, const char *tenant, int64_t day_lo, int64_t day_hi,
                   int (*fn)(void *arg, const struct eng_dmarc_row *row), void *arg);
int eng_dmarc_totals(struct eng_dmarc *d, const char *tenant, const char *domain,
                     const char *provider, int64_t day_lo, int64_t day_hi,
                     uint64_t out[ENG_DMARC_NCOUNTS]);

/* Into out (33 bytes). */
void eng_dmarc_provider(const char *org_name, char out[33]);
/* "messages", "dmarc_pass", ... : the counters' names in JSON and metrics. */
const char *eng_dmarc_count_name(int i);

#endif
