/* mp_config_curve.h — the `ingest.curve` section of the daemon's config
 * (CurveZMQ producer keys, ingest/ingest_curve.h), one handler of the
 * mp_config schema kept apart so mp_config.c stays one sitting's read.
 *
 * Contract: mp_config_curve() is an MP_YAML_FN row handler; the row's field
 * (k->off into base) is a struct ingest_curve_conf, filled and marked
 * enabled on MP_OK. What it refuses, each as "file:line: key: why":
 *   - not a mapping; unknown or duplicate keys (the walker's);
 *   - neither or both of secret_key and secret_key_file;
 *   - secret_key not a Z85 key of 40 characters decoding to 32 bytes (the
 *     value is never echoed);
 *   - secret_key_file (resolved against the config's directory) missing,
 *     unreadable, not a regular file, open to other users (mode & 0007:
 *     group bits are allowed), or not holding exactly one such key
 *     (ingest_curve_read_key_file);
 *   - clients missing, empty, or more than INGEST_CURVE_MAX_CLIENTS; a
 *     client without public_key or tenants; a public_key that is not a Z85
 *     key, or listed twice;
 *   - tenants empty, over INGEST_CURVE_MAX_TENANTS, a name outside
 *     ENG_NAME_GRAMMAR, a name twice, or "*" together with names.
 * A start runs the same loader, so `mailpulsed --check` refuses exactly
 * this. On refusal the partly filled conf is left for mp_config_free(),
 * which calls ingest_curve_conf_free(). Not thread-safe (config loading).
 */
#ifndef MP_CONFIG_CURVE_H
#define MP_CONFIG_CURVE_H

#include "ingest_curve.h"
#include "mp_yaml.h"

int mp_config_curve(struct mp_yaml *y, const struct mp_yaml_key *k, const char *path,
                    yaml_node_t *v, void *base);

#endif
