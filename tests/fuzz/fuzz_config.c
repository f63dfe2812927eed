/* fuzz_config.c — libFuzzer target for the daemon's config file
 * (cmd/daemon/mp_config.h: mp_config_load and every section parser under
 * it: http, ingest, engine, limits, receivers, routes, gate, providers,
 * adapters, blocklists, dmarc, curve; the YAML walker and its depth limit).
 *
 * The config is a file an operator writes, but it is outside input all the
 * same: a typo or a pasted snippet must give a clear refusal, never a crash,
 * a leak or a half-built config. Each input is written to fuzz.yaml in a
 * directory of its own (tmpfs when /dev/shm exists; a `rules:` or key file
 * it names is looked up next to it and is normally absent) and loaded. It
 * aborts when the contract breaks:
 *   - MP_OK without a config, or a refusal with one;
 *   - a refusal without a reason, or with a reason of several lines
 *     (the daemon logs it as one quoted value);
 *   - an accepted config whose checked bounds do not hold (workers >= 1,
 *     max_keys >= 1, a retention, a listen address empty when set).
 * Seeds (tests/fuzz/corpus/config): mailpulse.example.yaml and the configs
 * of the suites' sections (limits, routes, gate, blocklists, adapters).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp_config.h"

static char PATH[256];

static void fuzz__dir(void)
{
    char tmpl[] = "/dev/shm/mp_fuzz_config.XXXXXX", tmpl2[] = "/tmp/mp_fuzz_config.XXXXXX";
    const char *d = mkdtemp(tmpl);
    if (!d)
        d = mkdtemp(tmpl2);
    if (!d)
        abort();
    snprintf(PATH, sizeof(PATH), "%s/fuzz.yaml", d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!PATH[0])
        fuzz__dir();
    int fd = open(PATH, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) != 0)
        abort();
    struct mp_config *c = (struct mp_config *)1;
    char err[1024] = "";
    int rc = mp_config_load(PATH, &c, err, sizeof(err));
    if (rc == MP_OK) {
        if (!c || c == (struct mp_config *)1)
            abort();
        if (c->workers < 1 || c->max_keys < 1 || c->retention_ms <= 0 ||
            (c->http_listen && !c->http_listen[0]))
            abort();
        mp_config_free(c);
        return 0;
    }
    if ((c && c != (struct mp_config *)1) || !err[0] || strchr(err, '\n'))
        abort();
    return 0;
}
