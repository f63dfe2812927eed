/* mp_config_check.h — the config checks that need the whole file: listeners
 * that would collide, and what is legal but almost surely a mistake.
 *
 * Contract: mp_config_check_listeners() compares the daemon's listeners
 * (ingest.pull, ingest.router, http.listen) once every key is read, and
 * refuses (MP_ERR_PARSE, mp_yaml's "file:line: key: ..." line at the later
 * key) two of them that would bind the same place: the same ipc:// path, or
 * the same TCP port on the same host, or on a wildcard ("*", 0.0.0.0, [::])
 * and any host (the kernel refuses the second bind either way). "localhost"
 * is 127.0.0.1, as mp_addr_resolve() reads it; other names are compared as
 * written (nothing is resolved: --check never touches the network), and a
 * zmq port "*" (ephemeral) never collides. The daemon's start would fail on
 * the second bind, so this is an error for both --check and a start.
 *
 * mp_config_check_warnings() appends warnings to cfg->warnings: a config
 * with no receivers (every alert goes unrouted; the daemon still starts, so
 * it is not a refusal). Each warning is one line
 *     "<file>:<line>: <key>: warning: <what>"
 * and the daemon prints every line, on --check and at a start alike.
 * Returns MP_OK or MP_ERR_NOMEM. Called by mp_config_load() only.
 */
#ifndef MP_CONFIG_CHECK_H
#define MP_CONFIG_CHECK_H

#include "mp_config.h"
#include "mp_yaml.h"

int mp_config_check_listeners(struct mp_yaml *y, yaml_node_t *root, const struct mp_config *cfg);
int mp_config_check_warnings(struct mp_yaml *y, yaml_node_t *root, struct mp_config *cfg);

#endif
