/* prom_text.h — a strict checker of the Prometheus text exposition format
 * (version 0.0.4), for the tests of /metrics (no promtool on the build
 * image, so the rules it enforces are written out here).
 *
 * prom_text_check() returns 0 when `text` is valid, else -1 with the first
 * problem and its line number in why. Checked: every line is a "# HELP",
 * "# TYPE" or a sample; metric and label names match the format's grammar;
 * label values are quoted with only \\, \" and \n escapes; a family has at
 * most one HELP and one TYPE, both before its first sample, and its samples
 * are contiguous; TYPE is counter, gauge or histogram; values parse as
 * numbers (or +Inf/-Inf/NaN); counters are not negative; a histogram's
 * series have _bucket samples with an `le` label in ascending order and
 * non-decreasing counts, ending at le="+Inf" equal to its _count, and a
 * _sum. The text ends with a newline. Test helper: any thread.
 */
#ifndef PROM_TEXT_H
#define PROM_TEXT_H

#include <stddef.h>

int prom_text_check(const char *text, char *why, size_t n);

#endif
