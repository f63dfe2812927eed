/* e2e_suite.h — the opening every e2e suite file shares, so it is written
 * once: the suite's one world `W` (one per forked case, CK_FORK=yes),
 * must()/must_ok() asserting on it (the message names the kept log dir),
 * and EW_FIXTURE(tag) for the usual checked fixture.
 *
 * Include it from the suite's own .c file only, once: it defines the static
 * `W`. A suite whose setup does more than ew_setup() (a longer ready_ms, a
 * config written up front) writes its own setup() and teardown() instead
 * of EW_FIXTURE. Library code (e2e_world.c, ack_client.c) takes a world
 * pointer and never includes this.
 */
#ifndef E2E_SUITE_H
#define E2E_SUITE_H

#include "e2e_world.h"

static struct ew_world W;

#define must(cond, fmt, ...) EW_MUST(&W, cond, fmt, ##__VA_ARGS__)
#define must_ok(expr) EW_MUST_OK(&W, expr)

/* setup(): ew_setup(&W, tag); teardown(): ew_teardown(&W). */
#define EW_FIXTURE(tag)                                                                          \
    static void setup(void) { ew_setup(&W, tag); }                                               \
    static void teardown(void) { ew_teardown(&W); }

#endif
