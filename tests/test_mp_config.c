/* test_mp_config.c — Check suite for cmd/daemon/mp_config.c (the daemon's
 * config: its schema, defaults, paths, receivers and routes). The walker
 * underneath has tests/test_mp_yaml.c, the rules file
 * tests/test_alert_rules_file.c.
 *
 * Every config is written to its own mkdtemp() directory, so relative-path
 * resolution is tested against a known directory and nothing leaks between
 * cases. must_load() / must_reject() are the table helpers; the refusal table
 * (reject_cases) pins the message key, the reason and the 1-based line.
 *
 * Run from the repository root (the example file is read from there), with
 * CK_FORK=yes as scripts/run-tests.sh does.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alert_notify.h"
#include "mp.h"
#include "mp_config.h"
#include "check_main.h"
#include "unit_util.h"

/* --- temp dirs and helpers ----------------------------------------------- */

struct tmpconf {
    char dir[PATH_MAX];  /* realpath of the mkdtemp() directory */
    char path[PATH_MAX + 32]; /* <dir>/mailpulse.yaml */
};

static void tmp_file(const struct tmpconf *t, const char *name, const char *text, size_t len)
{
    char p[PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", t->dir, name);
    FILE *f = fopen(p, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", p, strerror(errno));
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* Creates a fresh directory holding mailpulse.yaml with `len` bytes of text
 * (explicit length so a case can contain a NUL byte). */
static void tmp_open_len(struct tmpconf *t, const char *text, size_t len)
{
    /* unit_tmpdir() is realpath'd: /tmp may be a symlink, and the loader
     * resolves it. */
    unit_tmpdir("test_config", t->dir);
    snprintf(t->path, sizeof(t->path), "%s/mailpulse.yaml", t->dir);
    tmp_file(t, "mailpulse.yaml", text, len);
}

static void tmp_open(struct tmpconf *t, const char *text)
{
    tmp_open_len(t, text, strlen(text));
}

static void tmp_close(struct tmpconf *t)
{
    chmod(t->dir, 0700); /* a case may have taken the directory's rights away */
    unit_tmpdir_remove(t->dir);
}

static struct mp_config *must_load_at(const char *file, int line, struct tmpconf *t,
                                      const char *yaml)
{
    struct mp_config *cfg = NULL;
    char err[512] = "";
    tmp_open(t, yaml);
    int rc = mp_config_load(t->path, &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "%s:%d: expected the config to load, got %s: %s", file, line,
                  mp_strerror(rc), err);
    ck_assert_msg(cfg != NULL, "%s:%d: MP_OK without a config", file, line);
    ck_assert_str_eq(cfg->path, t->path);
    return cfg;
}

/* Loads `yaml` in a temp dir the caller keeps (to compare resolved paths). */
#define must_load_in(t, yaml) must_load_at(__FILE__, __LINE__, (t), (yaml))

/* Loads `yaml`; the temp dir is gone when this returns. */
static struct mp_config *must_load_plain(const char *file, int line, const char *yaml)
{
    struct tmpconf t;
    struct mp_config *cfg = must_load_at(file, line, &t, yaml);
    tmp_close(&t);
    return cfg;
}
#define must_load(yaml) must_load_plain(__FILE__, __LINE__, (yaml))

/* Checks a refusal of the already written t->path: MP_ERR_PARSE, *out left
 * alone, one line "<path>:<line>: ..." containing `want`. */
static void check_reject(const char *file, int line, const struct tmpconf *t, const char *want,
                         unsigned want_line)
{
    struct mp_config sentinel;
    struct mp_config *cfg = &sentinel;
    char err[512] = "", prefix[PATH_MAX + 64];
    int rc = mp_config_load(t->path, &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_ERR_PARSE, "%s:%d: expected MP_ERR_PARSE, got %s (err: %s)", file,
                  line, mp_strerror(rc), err);
    ck_assert_msg(cfg == &sentinel, "%s:%d: *out was written on refusal", file, line);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s:%d: err is not one line: %s", file, line, err);
    snprintf(prefix, sizeof(prefix), "%s:%u: ", t->path, want_line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0,
                  "%s:%d: expected err to start with \"%s\", got \"%s\"", file, line, prefix, err);
    ck_assert_msg(strstr(err, want) != NULL, "%s:%d: expected \"%s\" in \"%s\"", file, line, want,
                  err);
}

static void must_reject_at(const char *file, int line, const char *yaml, size_t len,
                           const char *want, unsigned want_line)
{
    struct tmpconf t;
    tmp_open_len(&t, yaml, len);
    check_reject(file, line, &t, want, want_line);
    tmp_close(&t);
}
#define must_reject(yaml, want, line) \
    must_reject_at(__FILE__, __LINE__, (yaml), strlen(yaml), (want), (line))

/* --- the refusal table --------------------------------------------------- */

/* Two-line prefix that satisfies the one required key. */
#define PULL "ingest:\n  pull: tcp://127.0.0.1:7400\n"
/* Four lines: one valid receiver called ops, on lines 1..4 of the block. */
#define OPS                           \
    "receivers:\n"                    \
    "  - name: ops\n"                 \
    "    type: webhook\n"             \
    "    url: http://127.0.0.1:9/h\n"

static const struct reject_case {
    const char *yaml;
    const char *want; /* substring of err, normally "<key>: <reason>" */
    unsigned line;
} reject_cases[] = {
    /* unknown keys */
    {PULL "bogus: 1\n", "bogus: unknown key", 3},
    {"ingest:\n  pull: tcp://a:1\n  pull_addr: tcp://b:2\n", "ingest.pull_addr: unknown key", 3},
    {PULL "engine:\n  retension: 35d\n", "engine.retension: unknown key", 4},
    {PULL OPS "    token: x\n", "receivers[0].token: unknown key", 7},
    {PULL OPS "routes:\n  fallback: [ops]\n", "routes.fallback: unknown key", 8},
    /* wrong types */
    {"ingest: tcp://127.0.0.1:7400\n", "ingest: expected a mapping, got \"tcp://", 1},
    {"ingest:\n  pull: {host: 127.0.0.1}\n", "ingest.pull: expected a zmq endpoint", 2},
    {PULL "receivers:\n  name: ops\n", "receivers: expected a list of receivers, got a mapping", 4},
    {PULL "receivers:\n  - ops\n", "receivers[0]: expected a mapping, got \"ops\"", 4},
    {PULL "http: 127.0.0.1:7480\n", "http: expected a mapping", 3},
    {PULL OPS "    secret: [a, b]\n", "receivers[0].secret: expected a string, got a list", 7},
    {PULL OPS "routes:\n  default: ops\n", "routes.default: expected a list of receiver names", 8},
    {PULL OPS "routes:\n  default: [[ops]]\n", "routes.default: expected a receiver name, got a list",
     8},
    {PULL OPS "routes:\n  tenants: [acme]\n", "routes.tenants: expected a mapping", 8},
    {PULL OPS "routes:\n  tenants:\n    acme: ops\n", "routes.tenants.acme: expected a list", 9},
    {PULL "routes: [ops]\n", "routes: expected a mapping, got a list", 3},
    {PULL "? [a, b]\n: c\n", "(top level): keys must be plain strings, got a list", 3},
    {"- ingest\n", "(top level): expected a mapping, got a list", 1},
    {"hello\n", "(top level): expected a mapping, got \"hello\"", 1},
    /* integers */
    {"ingest:\n  pull: tcp://a:1\n  workers: lots\n",
     "ingest.workers: expected an integer 1..256, got \"lots\"", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 0\n", "ingest.workers: expected an integer 1..256", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 257\n", "ingest.workers: expected an integer 1..256",
     3},
    {"ingest:\n  pull: tcp://a:1\n  workers: -1\n", "got \"-1\"", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: +2\n", "got \"+2\"", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 2x\n", "got \"2x\"", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: \"\"\n", "ingest.workers: expected an integer", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers:\n", "ingest.workers: expected an integer 1..256, got null",
     3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 2.5\n", "got \"2.5\"", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 99999999999999999999999\n",
     "ingest.workers: expected an integer", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: {n: 2}\n", "ingest.workers: expected an integer 1..256, "
     "got a mapping", 3},
    {PULL "engine:\n  max_keys: 1023\n", "engine.max_keys: expected an integer 1024..268435456", 4},
    {PULL "engine:\n  max_keys: 268435457\n", "engine.max_keys: expected an integer", 4},
    {PULL "engine:\n  flush_interval: 50ms\n", "engine.flush_interval: expected a duration from 100ms to 60s", 4},
    {PULL "engine:\n  flush_interval: 2m\n", "engine.flush_interval: expected a duration from 100ms to 60s", 4},
    {PULL "engine:\n  evict_idle: 30s\n", "engine.evict_idle: expected 0s (never) or a duration from 1m to 400d, got \"30s\"", 4},
    {PULL "engine:\n  evict_idle: soon\n", "engine.evict_idle:", 4},
    {PULL "engine:\n  hour_retention: 24h\n", "engine.hour_retention: expected 0s (the hour ring "
     "only) or a duration from 25h to 400d, got \"24h\"", 4},
    {PULL "engine:\n  hour_retention: 36d\n", "engine.hour_retention: 864 h is longer than "
     "engine.retention (35 d)", 4},
    {PULL "engine:\n  hour_retention: 15d\n  retention: 14d\n", "engine.hour_retention: 360 h "
     "is longer than engine.retention (14 d)", 4},
    /* durations */
    {PULL "engine:\n  retention: 35\n", "engine.retention: expected a duration", 4},
    {PULL "engine:\n  retention: 5x\n", "engine.retention: expected a duration", 4},
    {PULL "engine:\n  retention: 0d\n", "engine.retention: expected a duration", 4},
    {PULL "engine:\n  retention: [35d]\n", "engine.retention: expected a duration", 4},
    /* strings and enums; echoed values are escaped and cut, err stays one line */
    {PULL "log_level: " "0123456789012345678901234567890123456789012345678901234567890\n",
     "got \"012345678901234567890123456789012345678901234567...\"", 3},
    {PULL "log_level: \"\\x01\\x02\\t\\\"\"\n", "got \"\\x01\\x02\\x09\\\"\"", 3},
    {PULL "log_level: loud\n", "log_level: expected one of debug, info, warn, error", 3},
    {PULL "log_format: JSON\n", "log_format: expected text or json", 3},
    {PULL "log_level: \"a\\nb\"\n", "got \"a\\nb\"", 3}, /* escaped, err stays one line */
    {PULL "data_dir: \"\"\n", "data_dir: expected a directory path, got an empty string", 3},
    {PULL "data_dir:\n", "data_dir: expected a directory path, got null", 3},
    {PULL "data_dir: ~\n", "data_dir: expected a directory path, got null", 3},
    {"ingest:\n  pull: 127.0.0.1:7400\n", "ingest.pull: expected a zmq endpoint", 2},
    {"ingest:\n  pull: tcp://\n", "ingest.pull: expected a zmq endpoint", 2},
    {"ingest:\n  pull: tcp://a:1\n  router: localhost\n", "ingest.router: expected a zmq endpoint",
     3},
    {PULL "http:\n  listen: 127.0.0.1\n", "http.listen: expected host:port", 4},
    {PULL "http:\n  listen: 127.0.0.1:0\n", "http.listen: expected host:port with port 1..65535", 4},
    {PULL "http:\n  listen: 127.0.0.1:65536\n", "http.listen: expected host:port", 4},
    {PULL "http:\n  listen: 127.0.0.1:http\n", "http.listen: expected host:port", 4},
    {PULL "http:\n  listen: \":7480\"\n", "http.listen: expected host:port", 4},
    {PULL "http:\n  listen: \"::1:7480\"\n", "http.listen: expected host:port", 4},
    {PULL "http:\n  listen: \"[::1:7480\"\n", "http.listen: expected host:port", 4},
    /* receivers */
    {PULL "receivers:\n  - name: ops\n    type: sms\n    url: http://x/\n",
     "receivers[0].type: expected webhook, slack, pagerduty or email, got \"sms\"", 5},
    {PULL "receivers:\n  - name: pd\n    type: pagerduty\n",
     "receivers[0].routing_key: required key missing (type pagerduty)", 4},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n    url: http://x/\n    routing_key: k\n",
     "receivers[0].routing_key: only for type pagerduty", 7},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n    url: http://x/\n    channel: \"#a\"\n",
     "receivers[0].channel: only for type slack", 7},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: http://x/\n    from: a@x\n    to: [b@x]\n",
     "receivers[0].url: expected an smtp:// or smtps:// URL for type email", 6},
    {PULL "receivers:\n  - name: m\n    type: webhook\n    url: smtp://x/\n",
     "receivers[0].url: expected an http:// or https:// URL", 6},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    to: [b@x]\n",
     "receivers[0].from: required key missing (type email)", 4},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    from: a@x\n",
     "receivers[0].to: required key missing (type email)", 4},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    from: a@x\n    to: []\n",
     "receivers[0].to: expected a non-empty list of mail addresses", 8},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    from: a@x\n    to: [\"b@x\\r\\nBcc: c@y\"]\n",
     "receivers[0].to[0]: expected a mail address", 8},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    from: a@x\n    to: [b@x]\n    tls: maybe\n",
     "receivers[0].tls: expected starttls, none or implicit", 9},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtp://x\n    from: a@x\n    to: [b@x]\n    tls: implicit\n",
     "receivers[0].tls: tls: implicit needs an smtps:// url", 9},
    {PULL "receivers:\n  - name: m\n    type: email\n    url: smtps://x\n    from: a@x\n    to: [b@x]\n",
     "receivers[0].tls: an smtps:// url is implicit TLS: set tls: implicit", 4},
    {PULL "receivers:\n  - name: m\n    type: webhook\n    url: http://x/\n    from: a@x\n",
     "receivers[0].from: only for type email", 7},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n    url: ftp://x/h\n",
     "receivers[0].url: expected an http:// or https:// URL (email: smtp:// or smtps://), got \"ftp://x/h\"", 6},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n    url: http://\n",
     "receivers[0].url: expected an http:// or https:// URL", 6},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n    url: 127.0.0.1:9000\n",
     "receivers[0].url: expected an http:// or https:// URL", 6},
    {PULL "receivers:\n  - name: ops\n    type: webhook\n", "receivers[0].url: required key missing",
     4},
    {PULL "receivers:\n  - {name: ops, url: \"http://x/\"}\n",
     "receivers[0].type: required key missing", 4},
    {PULL "receivers:\n  - type: slack\n    url: https://x/\n",
     "receivers[0].name: required key missing", 4},
    {PULL OPS "  - name: ops\n    type: slack\n    url: https://x/\n",
     "receivers[1].name: duplicate receiver name \"ops\"", 7},
    {PULL "receivers:\n  - name: o p s\n    type: slack\n    url: https://x/\n",
     "receivers[0].name: expected 1..64 characters of [A-Za-z0-9._-], got \"o p s\"", 4},
    {PULL "receivers:\n  - name: "
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" /* 65 */
          "    type: slack\n    url: https://x/\n",
     "receivers[0].name: expected 1..64 characters", 4},
    /* routes with matchers (mp_config_route.h) */
    {PULL OPS "routes:\n  default:\n    - match: {severity: critical}\n      receivers: [ops]\n"
              "    - ops\n",
     "routes.default: expected a list of receiver names or a list of route entries", 9},
    {PULL OPS "routes:\n  default:\n    - match: {colour: red}\n      receivers: [ops]\n",
     "routes.default[0].match: unknown label \"colour\"", 9},
    {PULL OPS "routes:\n  default:\n    - match: {severity: critical}\n",
     "routes.default[0]: route entry without receivers", 9},
    {PULL OPS "routes:\n  default:\n    - receivers: []\n",
     "routes.default[0].receivers: expected at least one receiver", 9},
    {PULL OPS "routes:\n  tenants:\n    acme:\n      - receivers: [nobody]\n",
     "routes.tenants.acme[0].receivers: unknown receiver \"nobody\"", 10},
    {PULL OPS "routes:\n  default:\n    - receivers: [ops]\n      continue: yes\n",
     "routes.default[0].continue: expected true or false", 10},
    {PULL OPS "routes:\n  default:\n    - receivers: [ops]\n      matches: {}\n",
     "routes.default[0].matches: unknown key (known here: match, receivers, continue)", 10},
    {PULL OPS "routes:\n  default:\n    - match: critical\n      receivers: [ops]\n",
     "routes.default[0].match: expected a mapping of label to value", 9},
    {PULL OPS "routes:\n  default:\n    - match: {severity: \"\"}\n      receivers: [ops]\n",
     "routes.default[0].match.severity: expected a label value", 9},
    /* alerting: grouping */
    {PULL "alerting:\n  group_by: [severity]\n", "alerting.group_by: expected labels", 4},
    {PULL "alerting:\n  group_by: [tenant, tenant]\n", "alerting.group_by: \"tenant\" listed twice", 4},
    {PULL "alerting:\n  group_by: []\n", "alerting.group_by: expected a non-empty list", 4},
    {PULL "alerting:\n  max_alerts: -1\n", "alerting.max_alerts: expected an integer 0..1000000", 4},
    {PULL "alerting:\n  external_url: ftp://x/\n", "alerting.external_url: expected an http://", 4},
    /* routes */
    {PULL OPS "routes:\n  default: [ops, nobody]\n", "routes.default: unknown receiver \"nobody\"", 8},
    {PULL OPS "routes:\n  tenants:\n    acme:\n      - ops\n      - nobody\n",
     "routes.tenants.acme: unknown receiver \"nobody\"", 11},
    {PULL "routes:\n  default: [ops]\n", "routes.default: unknown receiver \"ops\"", 4},
    {PULL OPS "routes:\n  default: [ops, ops]\n", "routes.default: receiver \"ops\" listed twice", 8},
    {PULL OPS "routes:\n  tenants:\n    bad name: [ops]\n",
     "routes.tenants: invalid tenant name \"bad name\"", 9},
    {PULL OPS "routes:\n  tenants:\n    \"\": [ops]\n", "routes.tenants: invalid tenant name \"\"", 9},
    {PULL OPS "routes:\n  tenants:\n    "
              "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt: [ops]\n", /* 65 */
     "routes.tenants: invalid tenant name", 9},
    {PULL OPS "routes:\n  tenants:\n    a/b: [ops]\n", "routes.tenants: invalid tenant name", 9},
    /* listeners that would bind the same place: at the later key's line */
    {PULL "http:\n  listen: 127.0.0.1:7400\n",
     "http.listen: 127.0.0.1:7400 binds the same port as ingest.pull (tcp://127.0.0.1:7400): "
     "two listeners cannot share it", 4},
    {"http:\n  listen: 127.0.0.1:7400\n" PULL,
     "ingest.pull: tcp://127.0.0.1:7400 binds the same port as http.listen (127.0.0.1:7400): "
     "two listeners cannot share it", 4},
    {"ingest:\n  pull: tcp://*:7400\nhttp:\n  listen: 127.0.0.1:7400\n",
     "http.listen: 127.0.0.1:7400 binds the same port as ingest.pull (tcp://*:7400)", 4},
    {"ingest:\n  pull: tcp://[::]:7400\nhttp:\n  listen: \"[::1]:7400\"\n",
     "http.listen: [::1]:7400 binds the same port as ingest.pull (tcp://[::]:7400)", 4},
    {"ingest:\n  pull: tcp://0.0.0.0:7400\nhttp:\n  listen: localhost:7400\n",
     "http.listen: localhost:7400 binds the same port as ingest.pull (tcp://0.0.0.0:7400)", 4},
    {PULL "  router: tcp://localhost:7400\n",
     "ingest.router: tcp://localhost:7400 binds the same port as ingest.pull", 3},
    {PULL "  router: tcp://127.0.0.1:7400\n",
     "ingest.router: tcp://127.0.0.1:7400 binds the same port as ingest.pull", 3},
    {"ingest:\n  pull: ipc:///tmp/mp.sock\n  router: ipc:///tmp/mp.sock\n",
     "ingest.router: ipc:///tmp/mp.sock binds the same ipc path as ingest.pull "
     "(ipc:///tmp/mp.sock): two listeners cannot share it", 3},
    {"ingest:\n  pull: tcp://0.0.0.0:7400\n  router: tcp://127.0.0.1:7401\nhttp:\n"
     "  listen: localhost:7401\n",
     "http.listen: localhost:7401 binds the same port as ingest.router (tcp://127.0.0.1:7401)",
     5},
    /* required keys: reported at the line of the mapping that lacks them */
    {"ingest:\n  router: tcp://a:2\n", "ingest.pull: required key missing", 2},
    {"data_dir: x\ningest: {router: \"tcp://a:2\"}\n", "ingest.pull: required key missing", 2},
    {"# no ingest section\nlog_level: info\n", "ingest.pull: required key missing", 2},
    /* duplicate keys */
    {PULL "ingest:\n  pull: tcp://b:2\n", "ingest: duplicate key (first at line 1)", 3},
    {"ingest:\n  pull: tcp://a:1\n  pull: tcp://b:2\n", "ingest.pull: duplicate key (first at line 2)",
     3},
    {PULL OPS "    type: slack\n", "receivers[0].type: duplicate key", 7},
    {PULL OPS "routes:\n  tenants:\n    acme: [ops]\n    acme: [ops]\n",
     "routes.tenants.acme: duplicate key (first at line 9)", 10},
    /* YAML syntax: libyaml's own problem text and line */
    {PULL "foo: [a, b\n", "yaml: did not find expected ',' or ']'", 4},
    {"ingest:\n\tpull: tcp://a:1\n", "yaml: found character that cannot start any token", 2},
    {"ingest:\n  pull: tcp://a:1\n bad: x\n", "yaml: did not find expected key", 3},
    {"ingest:\n  pull: tcp://a:1\n  workers: 2: 3\n", "yaml: mapping values are not allowed", 3},
    {PULL "data_dir: \"unterminated\n", "yaml: found unexpected end of stream", 4},
    {PULL "data_dir: \xff\n", "yaml: invalid leading UTF-8 octet", 3},
    {PULL "...\ngarbage: [\n", "yaml: did not find expected <document start>", 4},
    /* whole-file problems */
    {"", "(top level): empty file", 1},
    {"# only a comment\n\n", "(top level): empty file", 1},
    {"---\n", "(top level): empty file", 1},
    {PULL "---\ningest:\n  pull: tcp://b:2\n", "(top level): only one YAML document is allowed", 3},
};

/* Every bound, in one list: "<section>.<key>: <value>" refused at line 4
 * (after PULL) with "<section>.<key>: <want>". Durations that overflow the
 * parser and values that are quoted are refused like any other. */
static const struct {
    const char *key, *value, *want;
} bound_cases[] = {
    {"engine.evict_idle", "401d", "expected 0s (never) or a duration from 1m to 400d, got \"401d\""},
    {"ingest.workers", "\"2\"", "expected an integer 1..256, got a quoted string \"2\""},
    {"ingest.workers", "'2'", "expected an integer 1..256, got a quoted string \"2\""},
    {"engine.max_keys", "\"4096\"", "expected an integer 1024..268435456, got a quoted string"},
    {"ingest.max_frame_bytes", "1023", "expected an integer 1024..268435456, got \"1023\""},
    {"ingest.max_frame_bytes", "268435457", "expected an integer 1024..268435456"},
    {"ingest.max_frame_bytes", "4MiB", "expected an integer 1024..268435456, got \"4MiB\""},
    {"ingest.max_batch_events", "0", "expected an integer 1..1000000, got \"0\""},
    {"ingest.max_batch_events", "1000001", "expected an integer 1..1000000, got \"1000001\""},
    {"ingest.max_batch_events", "\"10\"", "expected an integer 1..1000000, got a quoted string"},
    /* retention: at least the 14 days of daily buckets the rules read, and
     * nothing that wraps the engine's day count */
    {"engine.retention", "3000000000d", "expected a duration from 14d to 400d, got \"3000000000d\""},
    {"engine.retention", "9223372036854775807ms", "expected a duration from 14d to 400d, got \""
     "9223372036854775807ms\""},
    {"engine.retention", "9223372036854775808ms", "expected a duration such as"},
    {"engine.retention", "106751991168d", "expected a duration such as"},
    {"engine.retention", "1h", "expected a duration from 14d to 400d, got \"1h\""},
    {"engine.retention", "335h", "expected a duration from 14d to 400d, got \"335h\""},
    {"engine.retention", "401d", "expected a duration from 14d to 400d, got \"401d\""},
    {"engine.retention", "34560000001ms", "expected a duration from 14d to 400d"},
    {"alerting.max_age", "31d", "expected a duration from 1ms to 30d, got \"31d\""},
    {"alerting.timeout", "0s", "expected a duration such as"},
    {"alerting.retry_max", "9223372036854775807ms", "expected a duration from 1ms to 30d"},
    {"http.threads", "0", "expected an integer 1..64, got \"0\""},
    {"http.threads", "65", "expected an integer 1..64, got \"65\""},
    {"http.max_connections", "63", "expected an integer 64..65536, got \"63\""},
    {"http.max_connections", "\"100\"", "expected an integer 64..65536, got a quoted string"},
    {"http.max_connections_per_ip", "0", "expected an integer 1..65536, got \"0\""},
    {"http.max_connections_per_ip", "65537", "expected an integer 1..65536, got \"65537\""},
    {"http.timeout", "999ms", "expected a duration from 1s to 1h, got \"999ms\""},
    {"http.header_timeout", "61m", "expected a duration from 1s to 1h, got \"61m\""},
};

START_TEST(test_bound_table)
{
    char yaml[256], want[256], section[32];
    const char *key = bound_cases[_i].key, *dot = strchr(key, '.');
    snprintf(section, sizeof(section), "%.*s", (int)(dot - key), key);
    /* ingest keys join PULL's section; the others get one of their own */
    if (strcmp(section, "ingest") == 0)
        snprintf(yaml, sizeof(yaml), "# bound\n" PULL "  %s: %s\n", dot + 1, bound_cases[_i].value);
    else
        snprintf(yaml, sizeof(yaml), PULL "%s:\n  %s: %s\n", section, dot + 1,
                 bound_cases[_i].value);
    snprintf(want, sizeof(want), "%s: %s", key, bound_cases[_i].want);
    char where[64];
    snprintf(where, sizeof(where), "bound_cases[%d]", _i);
    must_reject_at(where, __LINE__, yaml, strlen(yaml), want, 4);
}
END_TEST

/* The HTTP server's limits: defaults, and values taken as given. */
START_TEST(test_http_limits)
{
    struct mp_config *cfg = must_load_plain(__FILE__, __LINE__, PULL);
    ck_assert_uint_eq(cfg->http_opts.threads, MP_HTTP_THREADS_DEFAULT);
    ck_assert_uint_eq(cfg->http_opts.max_connections, MP_HTTP_MAX_CONN_DEFAULT);
    ck_assert_uint_eq(cfg->http_opts.max_per_ip, MP_HTTP_MAX_PER_IP_DEFAULT);
    ck_assert_int_eq(cfg->http_opts.timeout_ms, MP_HTTP_TIMEOUT_MS_DEFAULT);
    ck_assert_int_eq(cfg->http_opts.header_timeout_ms, MP_HTTP_HEADER_TIMEOUT_MS_DEFAULT);
    mp_config_free(cfg);
    cfg = must_load_plain(__FILE__, __LINE__,
                          PULL "http:\n  threads: 64\n  max_connections: 64\n"
                               "  max_connections_per_ip: 1\n  timeout: 1h\n"
                               "  header_timeout: 1s\n");
    ck_assert_uint_eq(cfg->http_opts.threads, 64);
    ck_assert_uint_eq(cfg->http_opts.max_connections, 64);
    ck_assert_uint_eq(cfg->http_opts.max_per_ip, 1);
    ck_assert_int_eq(cfg->http_opts.timeout_ms, 3600000);
    ck_assert_int_eq(cfg->http_opts.header_timeout_ms, 1000);
    mp_config_free(cfg);
}
END_TEST

/* Endpoints a PULL socket cannot bind: refused by --check, not at start. */
static const char *const bad_endpoints[] = {
    "udp://127.0.0.1:7400", "tcp://127.0.0.1", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:http",
    "tcp://:7400",          "ipc://",          "inproc://x",            "pgm://eth0;239.1.1.1:5555",
};

START_TEST(test_bad_endpoint)
{
    char yaml[128], want[128];
    snprintf(yaml, sizeof(yaml), "ingest:\n  pull: \"%s\"\n", bad_endpoints[_i]);
    snprintf(want, sizeof(want),
             "ingest.pull: expected a zmq endpoint tcp://<host>:<port> or ipc://<path>, got \"%s\"",
             bad_endpoints[_i]);
    must_reject_at("bad_endpoints", _i, yaml, strlen(yaml), want, 2);
}
END_TEST

START_TEST(test_reject_table)
{
    const struct reject_case *rc = &reject_cases[_i];
    char where[64];
    snprintf(where, sizeof(where), "reject_cases[%d]", _i);
    must_reject_at(where, __LINE__, rc->yaml, strlen(rc->yaml), rc->want, rc->line);
}
END_TEST

START_TEST(test_reject_nul_byte)
{
    static const char yaml[] = PULL "data_dir: \"a\\0b\"\n"; /* YAML escape, not a C NUL */
    must_reject(yaml, "data_dir: expected a directory path, got a value containing a NUL byte",
                3);
}
END_TEST

/* --- loading ------------------------------------------------------------- */

static int default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 256 ? 256 : (int)n;
}

START_TEST(test_example_loads)
{
    struct mp_config *cfg = NULL;
    char err[512] = "", cwd[PATH_MAX], want[PATH_MAX + 16];
    int rc = mp_config_load("mailpulse.example.yaml", &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "example config: %s: %s", mp_strerror(rc), err);
    ck_assert(getcwd(cwd, sizeof(cwd)) != NULL); /* already free of symlinks */
    snprintf(want, sizeof(want), "%s/data", cwd);

    ck_assert_str_eq(cfg->path, "mailpulse.example.yaml");
    ck_assert_str_eq(cfg->data_dir, want);
    ck_assert_str_eq(cfg->log_level, "info");
    ck_assert_ptr_null(cfg->log_format); /* commented out: text */
    ck_assert_str_eq(cfg->ingest_pull, "tcp://127.0.0.1:7400");
    ck_assert_str_eq(cfg->ingest_router, "tcp://127.0.0.1:7401");
    ck_assert_int_eq(cfg->workers, 2);
    ck_assert_str_eq(cfg->http_listen, "127.0.0.1:7480");
    ck_assert_ptr_null(cfg->rules_path);
    ck_assert_int_eq(cfg->retention_ms, (int64_t)35 * 86400 * 1000);
    ck_assert_uint_eq(cfg->max_keys, 1u << 20);
    ck_assert_int_eq(cfg->flush_interval_ms, 1000);
    ck_assert_int_eq(cfg->evict_idle_ms, 24LL * 3600 * 1000);
    ck_assert_int_eq(cfg->hour_retention_ms, 7LL * 86400 * 1000);

    ck_assert_uint_eq(cfg->n_receivers, 1);
    ck_assert_str_eq(cfg->receivers[0].name, "ops");
    ck_assert_int_eq(cfg->receivers[0].type, MP_RECEIVER_WEBHOOK);
    ck_assert_str_eq(cfg->receivers[0].url, "http://127.0.0.1:9000/hook");
    ck_assert_str_eq(cfg->receivers[0].secret, "change-me");
    ck_assert_uint_eq(cfg->n_default_route, 1);
    ck_assert_uint_eq(cfg->default_route[0], 0);
    ck_assert_uint_eq(cfg->n_routes, 1);
    ck_assert_str_eq(cfg->routes[0].tenant, "acme");
    ck_assert_uint_eq(cfg->routes[0].n, 1);
    ck_assert_uint_eq(cfg->routes[0].receivers[0], 0);
    mp_config_free(cfg);
}
END_TEST

START_TEST(test_defaults)
{
    struct tmpconf t;
    char want[PATH_MAX + 16];
    struct mp_config *cfg = must_load_in(&t, "ingest:\n  pull: tcp://127.0.0.1:7400\n");
    snprintf(want, sizeof(want), "%s/data", t.dir);
    ck_assert_str_eq(cfg->data_dir, want);
    ck_assert_str_eq(cfg->log_level, "info");
    ck_assert_ptr_null(cfg->ingest_router);
    ck_assert_int_eq(cfg->workers, default_workers());
    ck_assert_int_ge(cfg->workers, 1);
    ck_assert_ptr_null(cfg->http_listen);
    ck_assert_int_eq(cfg->retention_ms, (int64_t)35 * 24 * 3600 * 1000);
    ck_assert_uint_eq(cfg->max_keys, 1u << 20);
    ck_assert_ptr_null(cfg->rules_path);
    ck_assert_uint_eq(cfg->n_receivers, 0);
    ck_assert_ptr_null(cfg->receivers);
    ck_assert_uint_eq(cfg->n_default_route, 0);
    ck_assert_uint_eq(cfg->n_routes, 0);
    mp_config_free(cfg);
    tmp_close(&t);
}
END_TEST

START_TEST(test_full_config)
{
    struct mp_config *cfg = must_load(
        "data_dir: /var/lib/mailpulse\n"
        "log_level: debug\n"
        "log_format: json\n"
        "ingest:\n"
        "  pull: ipc:///run/mailpulse/pull\n"
        "  router: tcp://0.0.0.0:7401\n"
        "  workers: 3\n"
        "  max_frame_bytes: 65536\n"
        "  max_batch_events: 500\n"
        "http: {listen: \"[::1]:8080\"}\n"
        "engine:\n"
        "  retention: 20d\n"
        "  max_keys: 4096\n"
        "  flush_interval: 250ms\n"
        "  evict_idle: 0s\n"
        "  hour_retention: 0s\n"
        "routes:\n" /* before receivers on purpose: resolved after them */
        "  default: [chat]\n"
        "  tenants:\n"
        "    acme: [hook, chat]\n"
        "    Beta.Co_1-x: []\n"
        "receivers:\n"
        "  - name: hook\n"
        "    type: webhook\n"
        "    url: HTTPS://hooks.example.com/a?b=c\n"
        "    secret: 's3cr3t: yes'\n"
        "  - {name: chat, type: slack, url: \"https://hooks.slack.com/services/T/B/X\",\n"
        "     channel: \"#deliverability\", username: mailpulse, icon_emoji: \":email:\"}\n"
        "  - {name: pager, type: pagerduty, routing_key: R0UT1NG}\n"
        "  - {name: pager-eu, type: pagerduty, routing_key: K, url: \"http://127.0.0.1:9/e\"}\n"
        "  - {name: mail, type: email, url: \"smtps://mail.example:465\", from: \"mp <mp@x.example>\",\n"
        "     to: [a@x.example, b@x.example], auth_username: u, auth_password: p, tls: implicit}\n");
    ck_assert_str_eq(cfg->data_dir, "/var/lib/mailpulse");
    ck_assert_str_eq(cfg->log_level, "debug");
    ck_assert_str_eq(cfg->log_format, "json");
    ck_assert_str_eq(cfg->ingest_pull, "ipc:///run/mailpulse/pull");
    ck_assert_str_eq(cfg->ingest_router, "tcp://0.0.0.0:7401");
    ck_assert_int_eq(cfg->workers, 3);
    ck_assert_str_eq(cfg->http_listen, "[::1]:8080");
    ck_assert_int_eq(cfg->max_frame_bytes, 65536);
    ck_assert_int_eq(cfg->max_batch_events, 500);
    ck_assert_int_eq(cfg->retention_ms, (int64_t)20 * 86400 * 1000);
    ck_assert_uint_eq(cfg->max_keys, 4096);
    ck_assert_int_eq(cfg->flush_interval_ms, 250);
    ck_assert_int_eq(cfg->evict_idle_ms, 0);
    ck_assert_int_eq(cfg->hour_retention_ms, 0);

    ck_assert_uint_eq(cfg->n_receivers, 5);
    ck_assert_str_eq(cfg->receivers[0].name, "hook");
    ck_assert_int_eq(cfg->receivers[0].type, MP_RECEIVER_WEBHOOK);
    ck_assert_str_eq(cfg->receivers[0].url, "HTTPS://hooks.example.com/a?b=c");
    ck_assert_str_eq(cfg->receivers[0].secret, "s3cr3t: yes");
    ck_assert_str_eq(cfg->receivers[1].name, "chat");
    ck_assert_int_eq(cfg->receivers[1].type, MP_RECEIVER_SLACK);
    ck_assert_ptr_null(cfg->receivers[1].secret);
    ck_assert_str_eq(cfg->receivers[1].channel, "#deliverability");
    ck_assert_str_eq(cfg->receivers[1].username, "mailpulse");
    ck_assert_str_eq(cfg->receivers[1].icon_emoji, ":email:");
    ck_assert_ptr_null(cfg->receivers[0].channel);
    ck_assert_int_eq(cfg->receivers[2].type, MP_RECEIVER_PAGERDUTY);
    ck_assert_str_eq(cfg->receivers[2].routing_key, "R0UT1NG");
    ck_assert_str_eq(cfg->receivers[2].url, "https://events.pagerduty.com/v2/enqueue");
    ck_assert_str_eq(cfg->receivers[3].url, "http://127.0.0.1:9/e");
    ck_assert_int_eq(cfg->receivers[4].type, MP_RECEIVER_EMAIL);
    ck_assert_str_eq(cfg->receivers[4].mail_from, "mp <mp@x.example>");
    ck_assert_str_eq(cfg->receivers[4].mail_to, "a@x.example, b@x.example");
    ck_assert_str_eq(cfg->receivers[4].auth_username, "u");
    ck_assert_str_eq(cfg->receivers[4].auth_password, "p");
    ck_assert_int_eq(cfg->receivers[4].tls, 2);

    ck_assert_uint_eq(cfg->n_default_route, 1);
    ck_assert_uint_eq(cfg->default_route[0], 1);
    ck_assert_uint_eq(cfg->n_routes, 2);
    ck_assert_str_eq(cfg->routes[0].tenant, "acme");
    ck_assert_uint_eq(cfg->routes[0].n, 2);
    ck_assert_uint_eq(cfg->routes[0].receivers[0], 0);
    ck_assert_uint_eq(cfg->routes[0].receivers[1], 1);
    ck_assert_str_eq(cfg->routes[1].tenant, "Beta.Co_1-x");
    ck_assert_uint_eq(cfg->routes[1].n, 0);
    mp_config_free(cfg);
}
END_TEST

START_TEST(test_boundaries)
{
    struct mp_config *cfg = must_load(
        "ingest: {pull: \"tcp://a:1\", workers: 1}\n"
        "engine: {max_keys: 1024, retention: 14d, evict_idle: 1m}\n"
        "http: {listen: \"mail.example.com:65535\", tokens: {admin: \"0123456789abcdef\"}}\n"
        "receivers:\n"
        "  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" /* 64 */
        "    type: slack\n"
        "    url: http://h\n"
        "routes:\n"
        "  tenants:\n"
        "    tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt: []\n"); /* 64 */
    ck_assert_int_eq(cfg->workers, 1);
    ck_assert_uint_eq(cfg->max_keys, 1024);
    ck_assert_int_eq(cfg->retention_ms, (int64_t)14 * 86400 * 1000);
    ck_assert_int_eq(cfg->evict_idle_ms, 60000);
    ck_assert_str_eq(cfg->http_listen, "mail.example.com:65535");
    ck_assert_str_eq(cfg->http_auth.admin, "0123456789abcdef"); /* 16: the shortest token */
    ck_assert_uint_eq(strlen(cfg->receivers[0].name), 64);
    ck_assert_uint_eq(strlen(cfg->routes[0].tenant), 64);
    mp_config_free(cfg);

    cfg = must_load("ingest: {pull: \"tcp://a:1\", workers: 256}\n"
                    "engine: {max_keys: 268435456}\n"
                    "http: {listen: \"127.0.0.1:1\"}\n");
    ck_assert_int_eq(cfg->workers, 256);
    ck_assert_uint_eq(cfg->max_keys, 1u << 28);
    mp_config_free(cfg);

    /* Every other bounded key at both of its edges. */
    cfg = must_load("ingest: {pull: \"tcp://a:1\", max_frame_bytes: 1024, max_batch_events: 1}\n"
                    "engine: {retention: 400d, flush_interval: 100ms, evict_idle: 400d,\n"
                    "         hour_retention: 400d}\n"
                    "alerting: {group_interval: 1ms, timeout: 30d}\n");
    ck_assert_int_eq(cfg->max_frame_bytes, 1024);
    ck_assert_int_eq(cfg->max_batch_events, 1);
    ck_assert_int_eq(cfg->retention_ms, (int64_t)400 * 86400 * 1000);
    ck_assert_int_eq(cfg->flush_interval_ms, 100);
    ck_assert_int_eq(cfg->evict_idle_ms, (int64_t)400 * 86400 * 1000);
    ck_assert_int_eq(cfg->hour_retention_ms, (int64_t)400 * 86400 * 1000);
    ck_assert_int_eq(cfg->group_interval_ms, 1);
    ck_assert_int_eq(cfg->webhook_timeout_ms, (int64_t)30 * 86400 * 1000);
    mp_config_free(cfg);
    cfg = must_load("ingest: {pull: \"tcp://*:7400\", max_frame_bytes: 268435456, "
                    "max_batch_events: 1000000}\n"
                    "engine: {flush_interval: 60s}\n");
    ck_assert_int_eq(cfg->max_frame_bytes, 256 << 20);
    ck_assert_int_eq(cfg->max_batch_events, 1000000);
    ck_assert_int_eq(cfg->flush_interval_ms, 60000);
    mp_config_free(cfg);
}
END_TEST

/* The list form of routes, and the grouping keys. */
START_TEST(test_route_entries_and_grouping)
{
    struct mp_config *cfg = must_load(
        PULL OPS "  - name: pager\n    type: webhook\n    url: http://127.0.0.1:9/p\n"
        "alerting:\n  group_by: [alertname, recipient_domain]\n  max_alerts: 50\n"
        "  external_url: https://mailpulse.example/\n"
        "routes:\n  default: [ops]\n  tenants:\n    acme:\n"
        "      - match: {severity: critical, alertname: bounce_rate}\n"
        "        receivers: [pager]\n        continue: true\n"
        "      - receivers: [ops]\n");
    ck_assert_uint_eq(cfg->group_by, ALERT_LABEL_ALERTNAME | ALERT_LABEL_DOMAIN);
    ck_assert_uint_eq(cfg->max_alerts, 50);
    ck_assert_str_eq(cfg->external_url, "https://mailpulse.example/");
    ck_assert_uint_eq(cfg->n_default_route, 1);
    ck_assert_uint_eq(cfg->n_routes, 1);
    const struct mp_route_conf *r = &cfg->routes[0];
    ck_assert_uint_eq(r->n, 0);
    ck_assert_uint_eq(r->n_entries, 2);
    ck_assert_uint_eq(r->entries[0].nm, 2);
    ck_assert_str_eq(r->entries[0].label[0], "severity");
    ck_assert_str_eq(r->entries[0].value[0], "critical");
    ck_assert_str_eq(r->entries[0].label[1], "alertname");
    ck_assert_uint_eq(r->entries[0].n, 1);
    ck_assert_uint_eq(r->entries[0].receivers[0], 1);
    ck_assert_int_eq(r->entries[0].cont, 1);
    ck_assert_uint_eq(r->entries[1].nm, 0);
    ck_assert_uint_eq(r->entries[1].receivers[0], 0);
    ck_assert_int_eq(r->entries[1].cont, 0);
    mp_config_free(cfg);
    cfg = must_load(PULL); /* the defaults: by tenant, no limit, no URL */
    ck_assert_uint_eq(cfg->group_by, ALERT_LABEL_TENANT);
    ck_assert_uint_eq(cfg->max_alerts, 0);
    ck_assert_ptr_null(cfg->external_url);
    mp_config_free(cfg);
}
END_TEST

START_TEST(test_empty_collections)
{
    struct mp_config *cfg = must_load(PULL "receivers: []\nroutes:\n  default: []\n  tenants: {}\n");
    ck_assert_uint_eq(cfg->n_receivers, 0);
    ck_assert_uint_eq(cfg->n_default_route, 0);
    ck_assert_uint_eq(cfg->n_routes, 0);
    mp_config_free(cfg);

    cfg = must_load(PULL OPS "routes: {}\n");
    ck_assert_uint_eq(cfg->n_receivers, 1);
    ck_assert_uint_eq(cfg->n_default_route, 0);
    ck_assert_uint_eq(cfg->n_routes, 0);
    mp_config_free(cfg);
}
END_TEST

/* Listeners on different places load, without a warning when there are
 * receivers; the warnings (no receivers, a route naming none) are exact
 * "file:line: key: warning: ..." lines. */
START_TEST(test_listeners_and_warnings)
{
    static const char *const fine[] = {
        PULL "  router: tcp://127.0.0.1:7401\nhttp:\n  listen: 127.0.0.1:7480\n" OPS,
        PULL "  router: tcp://127.0.0.2:7400\n" OPS,      /* same port, other host */
        "ingest:\n  pull: tcp://*:*\n  router: tcp://*:*\n" OPS, /* ephemeral */
        "ingest:\n  pull: ipc:///tmp/a\n  router: ipc:///tmp/b\nhttp:\n  listen: "
        "127.0.0.1:7480\n" OPS,
    };
    char want[3 * PATH_MAX + 512];
    struct tmpconf t;
    for (size_t i = 0; i < MP_ARRAY_LEN(fine); i++) {
        struct mp_config *cfg = must_load_in(&t, fine[i]);
        ck_assert_msg(cfg->warnings == NULL, "fine[%zu]: %s", i, cfg->warnings);
        mp_config_free(cfg);
        tmp_close(&t);
    }
    struct mp_config *cfg = must_load_in(&t, PULL);
    snprintf(want, sizeof(want),
             "%s:1: (top level): warning: no receivers: alerts will fire but no notification "
             "goes out (mailpulse_alerts_unrouted_total counts them)\n", t.path);
    ck_assert_str_eq(cfg->warnings, want);
    mp_config_free(cfg);
    tmp_close(&t);
    cfg = must_load_in(&t, PULL "receivers: []\n");
    ck_assert_ptr_nonnull(cfg->warnings);
    snprintf(want, sizeof(want), "%s:3: receivers: warning: no receivers:", t.path);
    ck_assert_msg(strncmp(cfg->warnings, want, strlen(want)) == 0, "%s", cfg->warnings);
    mp_config_free(cfg);
    tmp_close(&t);
    cfg = must_load_in(&t, PULL OPS "routes:\n  default: []\n  tenants:\n    acme: []\n"
                           "    beta: [ops]\n");
    snprintf(want, sizeof(want),
             "%s:8: routes.default: warning: names no receiver: alerts of tenants without a "
             "route of their own go nowhere\n"
             "%s:10: routes.tenants.acme: warning: names no receiver: this tenant's alerts are "
             "silenced\n", t.path, t.path);
    ck_assert_str_eq(cfg->warnings, want);
    mp_config_free(cfg);
    tmp_close(&t);
}
END_TEST

/* data_dir: relative paths land next to the config file; absolute ones stay. */
static const struct {
    const char *value;
    const char *suffix; /* appended to the temp dir; NULL: value kept as is */
} data_dir_cases[] = {
    {"./data", "/data"},
    {"data", "/data"},
    {"state/db", "/state/db"},
    {".//./state", "/state"},
    {".", ""},
    {"../shared", "/../shared"},
    {"/var/lib/mailpulse", NULL},
    {"/", NULL},
};

START_TEST(test_data_dir_resolution)
{
    struct tmpconf t;
    char yaml[256], want[PATH_MAX + 64];
    snprintf(yaml, sizeof(yaml), PULL "data_dir: \"%s\"\n", data_dir_cases[_i].value);
    struct mp_config *cfg = must_load_in(&t, yaml);
    if (data_dir_cases[_i].suffix)
        snprintf(want, sizeof(want), "%s%s", t.dir, data_dir_cases[_i].suffix);
    else
        snprintf(want, sizeof(want), "%s", data_dir_cases[_i].value);
    ck_assert_str_eq(cfg->data_dir, want);
    mp_config_free(cfg);
    tmp_close(&t);
}
END_TEST

/* The same file gives the same absolute paths whatever the cwd and however
 * the file is named (relative, absolute). */
START_TEST(test_data_dir_independent_of_cwd)
{
    struct tmpconf t;
    char cwd[PATH_MAX], want[PATH_MAX + 16], err[512];
    struct mp_config *a = NULL, *b = NULL;
    ck_assert(getcwd(cwd, sizeof(cwd)) != NULL);
    tmp_open(&t, PULL "data_dir: state\n");
    snprintf(want, sizeof(want), "%s/state", t.dir);

    ck_assert_int_eq(chdir(t.dir), 0);
    int rc = mp_config_load("./mailpulse.yaml", &a, err, sizeof(err));
    ck_assert_int_eq(chdir("/"), 0);
    int rc2 = mp_config_load(t.path, &b, err, sizeof(err));
    ck_assert_int_eq(chdir(cwd), 0); /* matters when run with CK_FORK=no */

    ck_assert_msg(rc == MP_OK && rc2 == MP_OK, "%s", err);
    ck_assert_str_eq(a->path, "./mailpulse.yaml");
    ck_assert_str_eq(a->data_dir, want);
    ck_assert_str_eq(b->data_dir, want);
    mp_config_free(a);
    mp_config_free(b);
    tmp_close(&t);
}
END_TEST

START_TEST(test_rules_resolved)
{
    struct tmpconf t;
    char want[PATH_MAX + 32];
    tmp_open(&t, PULL "rules: rules.yaml\n");
    tmp_file(&t, "rules.yaml", "rules: []\n", 10);
    struct mp_config *cfg = NULL;
    char err[512];
    int rc = mp_config_load(t.path, &cfg, err, sizeof(err));
    ck_assert_msg(rc == MP_OK, "%s", err);
    snprintf(want, sizeof(want), "%s/rules.yaml", t.dir);
    ck_assert_str_eq(cfg->rules_path, want);
    mp_config_free(cfg);
    tmp_close(&t);
}
END_TEST

START_TEST(test_rules_missing)
{
    must_reject(PULL "rules: no-such-rules.yaml\n", "rules: cannot read \"", 3);
    must_reject(PULL "rules: no-such-rules.yaml\n", "no-such-rules.yaml\": No such file", 3);
    must_reject(PULL "rules: .\n", "rules: cannot read \"", 3); /* a directory */
    must_reject(PULL "rules: .\n", "not a regular file", 3);
    must_reject(PULL "rules: [a.yaml]\n", "rules: expected a file path, got a list", 3);
}
END_TEST

START_TEST(test_rules_unreadable)
{
    struct tmpconf t;
    /* root reads anything, so the permission check cannot be observed. */
    if (geteuid() == 0)
        return;
    tmp_open(&t, PULL "rules: rules.yaml\n");
    tmp_file(&t, "rules.yaml", "rules: []\n", 10);
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/rules.yaml", t.dir);
    ck_assert_int_eq(chmod(p, 0), 0);
    check_reject(__FILE__, __LINE__, &t, "rules: cannot read", 3);
    check_reject(__FILE__, __LINE__, &t, "Permission denied", 3);
    tmp_close(&t);
}
END_TEST

/* --- files and arguments ------------------------------------------------- */

START_TEST(test_missing_file)
{
    struct tmpconf t;
    struct mp_config sentinel, *cfg = &sentinel;
    char err[512] = "", path[PATH_MAX + 32];
    tmp_open(&t, PULL);
    snprintf(path, sizeof(path), "%s/absent.yaml", t.dir);
    int rc = mp_config_load(path, &cfg, err, sizeof(err));
    ck_assert_int_eq(rc, MP_ERR_IO);
    ck_assert_ptr_eq(cfg, &sentinel);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "file not named: %s", err);
    ck_assert_msg(strstr(err, "No such file") != NULL, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));

    /* A directory opens but does not read. */
    rc = mp_config_load(t.dir, &cfg, err, sizeof(err));
    ck_assert_int_eq(rc, MP_ERR_IO);
    ck_assert_ptr_eq(cfg, &sentinel);
    ck_assert_msg(strncmp(err, t.dir, strlen(t.dir)) == 0, "file not named: %s", err);
    tmp_close(&t);
}
END_TEST

START_TEST(test_bad_args)
{
    struct mp_config *cfg = NULL;
    char err[128];
    ck_assert_int_eq(mp_config_load(NULL, &cfg, err, sizeof(err)), MP_ERR_INVAL);
    ck_assert_ptr_null(cfg);
    ck_assert_int_eq(mp_config_load("mailpulse.example.yaml", NULL, err, sizeof(err)),
                     MP_ERR_INVAL);
    /* err is optional. */
    ck_assert_int_eq(mp_config_load("mailpulse.example.yaml", &cfg, NULL, 0), MP_OK);
    mp_config_free(cfg);
}
END_TEST

START_TEST(test_err_truncated)
{
    struct tmpconf t;
    struct mp_config *cfg = NULL;
    char err[12];
    memset(err, 'X', sizeof(err));
    tmp_open(&t, PULL "bogus: 1\n");
    ck_assert_int_eq(mp_config_load(t.path, &cfg, err, sizeof(err)), MP_ERR_PARSE);
    ck_assert_ptr_null(cfg);
    ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
    ck_assert_int_eq(strncmp(err, t.path, sizeof(err) - 1), 0);
    ck_assert_int_eq(mp_config_load(t.path, &cfg, NULL, 0), MP_ERR_PARSE);
    tmp_close(&t);
}
END_TEST

START_TEST(test_free_null)
{
    mp_config_free(NULL);
}
END_TEST

/* Each load is independent: no state carries from one to the next. */
START_TEST(test_loads_independent)
{
    struct mp_config *a = must_load(PULL OPS "routes: {default: [ops]}\n");
    struct mp_config *b = must_load("ingest: {pull: \"tcp://b:2\", workers: 7}\n");
    ck_assert_uint_eq(a->n_default_route, 1);
    ck_assert_uint_eq(b->n_receivers, 0);
    ck_assert_uint_eq(b->n_default_route, 0);
    ck_assert_int_eq(b->workers, 7);
    ck_assert_str_eq(a->ingest_pull, "tcp://127.0.0.1:7400");
    mp_config_free(a);
    mp_config_free(b);
}
END_TEST


/* --- http: tokens, metrics_open and the loopback rule --------------------- */

#define TOK_A "acme-tok-0123456789"
#define TOK_B "beta-tok-0123456789"
#define TOK_ADMIN "admin-tok-0123456789"

START_TEST(test_http_tokens)
{
    struct mp_config *cfg = must_load(PULL "http:\n"
                                           "  listen: 0.0.0.0:7480\n"
                                           "  tokens:\n"
                                           "    admin: \"" TOK_ADMIN "\"\n"
                                           "    tenants:\n"
                                           "      acme: " TOK_A "\n"
                                           "      beta: '" TOK_B "'\n"
                                           "  metrics_open: true\n");
    ck_assert_str_eq(cfg->http_listen, "0.0.0.0:7480");
    ck_assert_str_eq(cfg->http_auth.admin, TOK_ADMIN);
    ck_assert_uint_eq(cfg->http_auth.n_tenants, 2);
    ck_assert_str_eq(cfg->http_auth.tenants[0].tenant, "acme");
    ck_assert_str_eq(cfg->http_auth.tenants[0].token, TOK_A);
    ck_assert_str_eq(cfg->http_auth.tenants[1].tenant, "beta");
    ck_assert_str_eq(cfg->http_auth.tenants[1].token, TOK_B);
    ck_assert_int_eq(cfg->http_auth.metrics_open, 1);
    mp_config_free(cfg);

    /* Tenant tokens alone are tokens too: any address. */
    cfg = must_load(PULL "http: {listen: \"[::]:7480\", tokens: {tenants: {acme: " TOK_A "}}}\n");
    ck_assert_ptr_null(cfg->http_auth.admin);
    ck_assert_uint_eq(cfg->http_auth.n_tenants, 1);
    ck_assert_int_eq(cfg->http_auth.metrics_open, 0);
    mp_config_free(cfg);

    /* No tokens: loopback is fine, in each spelling. */
    static const char *open[] = {"127.0.0.1:7480", "\"[::1]:7480\"", "localhost:7480",
                                 "127.0.0.2:7480"};
    for (size_t i = 0; i < MP_ARRAY_LEN(open); i++) {
        char yaml[256];
        snprintf(yaml, sizeof(yaml), PULL "http:\n  listen: %s\n  metrics_open: false\n", open[i]);
        cfg = must_load(yaml);
        ck_assert(!mp_auth_conf_has_tokens(&cfg->http_auth));
        mp_config_free(cfg);
    }
    /* tokens given but empty is no token: still loopback only. */
    cfg = must_load(PULL "http: {listen: \"127.0.0.1:7480\", tokens: {}}\n");
    ck_assert(!mp_auth_conf_has_tokens(&cfg->http_auth));
    mp_config_free(cfg);
}
END_TEST

/* Refusals: where, what, and never the token's value. */
static const struct {
    const char *yaml;
    const char *want;
    unsigned line;
} http_reject_cases[] = {
    {PULL "http:\n  listen: 0.0.0.0:7480\n",
     "http.listen: \"0.0.0.0:7480\" is not a loopback address and http.tokens has no token", 4},
    {PULL "http: {listen: \"[::]:7480\"}\n", "http.listen: \"[::]:7480\" is not a loopback", 3},
    {PULL "http: {listen: \"192.168.1.10:7480\"}\n", "is not a loopback address", 3},
    {PULL "http: {listen: \"mail.example.com:7480\"}\n", "is not a loopback address", 3},
    {PULL "http:\n  tokens: {}\n  listen: 10.0.0.1:80\n", "http.listen: \"10.0.0.1:80\"", 5},
    {PULL "http:\n  listen: 127.0.0.1:7480\n  tokens:\n    admin: short-" "secret\n",
     "http.tokens.admin: expected a token of 16..512 printable ASCII characters without "
     "spaces (value not shown)",
     6},
    {PULL "http:\n  tokens:\n    admin: \"two words and a secret\"\n",
     "http.tokens.admin: expected a token", 5},
    {PULL "http:\n  tokens:\n    admin: [\"" TOK_ADMIN "\"]\n",
     "http.tokens.admin: expected a token, got a list", 5},
    {PULL "http:\n  tokens:\n    admin:\n", "http.tokens.admin: expected a token, got null", 5},
    {PULL "http:\n  tokens: \"" TOK_ADMIN "\"\n",
     "http.tokens: expected a mapping with admin and/or tenants, got a scalar", 4},
    {PULL "http:\n  tokens:\n    tenants: \"" TOK_A "\"\n",
     "http.tokens.tenants: expected a mapping of tenant name to token, got a scalar", 5},
    {PULL "http:\n  tokens:\n    tenants:\n      \"bad name\": " TOK_A "\n",
     "http.tokens.tenants: invalid tenant name \"bad name\"", 6},
    {PULL "http:\n  tokens:\n    tenants:\n      acme: " TOK_A "\n      acme: " TOK_B "\n",
     "http.tokens.tenants.acme: duplicate key (first at line 6)", 7},
    {PULL "http:\n  tokens:\n    tenants:\n      acme: " TOK_A "\n      beta: x\n",
     "http.tokens.tenants.beta: expected a token", 7},
    {PULL "http:\n  tokens:\n    tenants:\n      acme: " TOK_A "\n      beta: " TOK_A "\n",
     "http.tokens.tenants.beta: the same token as http.tokens.tenants.acme", 7},
    {PULL "http:\n  tokens:\n    tenants:\n      acme: " TOK_A "\n    admin: " TOK_A "\n",
     "http.tokens.tenants.acme: the same token as http.tokens.admin", 6},
    {PULL "http:\n  tokens:\n    root: " TOK_A "\n",
     "http.tokens.root: unknown key (known here: admin, tenants)", 5},
    {PULL "http:\n  metrics_open: yes\n", "http.metrics_open: expected true or false", 4},
};

START_TEST(test_http_reject)
{
    struct tmpconf t;
    const char *yaml = http_reject_cases[_i].yaml;
    tmp_open(&t, yaml);
    check_reject(__FILE__, __LINE__, &t, http_reject_cases[_i].want, http_reject_cases[_i].line);
    /* No token's value in the refusal. */
    struct mp_config *cfg = NULL;
    char err[512] = "";
    ck_assert_int_eq(mp_config_load(t.path, &cfg, err, sizeof(err)), MP_ERR_PARSE);
    static const char *secrets[] = {"-tok-0123456789", "secret", "two words"};
    for (size_t i = 0; i < MP_ARRAY_LEN(secrets); i++)
        ck_assert_msg(!strstr(err, secrets[i]), "case %d echoes \"%s\": %s", _i, secrets[i], err);
    tmp_close(&t);
}
END_TEST

/* The plain cases in one call; the table-driven (loop) ones beside them. */
/* --- limits: (issue 9, item 6) ------------------------------------------- */

START_TEST(test_limits)
{
    struct eng_tenant_limits l;
    /* defaults: 100000 keys, no rate cap; with a small table, half of it */
    struct mp_config *cfg = must_load(PULL);
    ck_assert_uint_eq(cfg->limits.tenant_max_keys, 100000);
    ck_assert_uint_eq(cfg->limits.tenant_max_eps, 0);
    mp_config_free(cfg);
    cfg = must_load(PULL "engine: {max_keys: 4096}\n");
    ck_assert_uint_eq(cfg->limits.tenant_max_keys, 2048);
    mp_config_free(cfg);
    /* overrides, with limits before engine: the cross-check waits for both */
    cfg = must_load(PULL "limits:\n"
                         "  tenant_max_keys: 0\n"
                         "  tenant_max_events_per_second: 500\n"
                         "  tenants:\n"
                         "    acme: {max_keys: 500000, max_events_per_second: 20000}\n"
                         "    beta: {max_events_per_second: 0}\n"
                         "    gamma: {max_keys: 7}\n"
                         "engine: {max_keys: 1048576}\n");
    ck_assert_uint_eq(cfg->limits.n_tenants, 3);
    mp_config_tenant_limits(cfg, "acme", 4, &l);
    ck_assert_uint_eq(l.max_keys, 500000);
    ck_assert_uint_eq(l.max_eps, 20000);
    mp_config_tenant_limits(cfg, "beta", 4, &l);
    ck_assert_uint_eq(l.max_keys, 0); /* the default, not named by the override */
    ck_assert_uint_eq(l.max_eps, 0);
    mp_config_tenant_limits(cfg, "gammaX", 5, &l); /* "gamma": len, not the C string */
    ck_assert_uint_eq(l.max_keys, 7);
    ck_assert_uint_eq(l.max_eps, 500);
    mp_config_tenant_limits(cfg, "other", 5, &l);
    ck_assert_uint_eq(l.max_keys, 0);
    ck_assert_uint_eq(l.max_eps, 500);
    mp_config_free(cfg);
    /* refusals: bounds, half the table, names, types, unknown keys */
    must_reject(PULL "limits:\n  tenant_max_keys: 600000\n",
                "limits.tenant_max_keys: 600000 is over half of engine.max_keys (1048576)", 4);
    must_reject(PULL "engine: {max_keys: 4096}\nlimits:\n  tenant_max_keys: 2049\n",
                "limits.tenant_max_keys: 2049 is over half of engine.max_keys (4096)", 5);
    must_reject(PULL "limits:\n  tenants:\n    acme:\n      max_keys: 524289\n",
                "limits.tenants.acme.max_keys: 524289 is over half", 6);
    must_reject(PULL "limits: {tenant_max_keys: -1}\n",
                "limits.tenant_max_keys: expected an integer 0..134217728", 3);
    must_reject(PULL "limits: {tenant_max_keys: \"5\"}\n", "got a quoted string", 3);
    must_reject(PULL "limits: {tenant_max_events_per_second: 10000001}\n",
                "limits.tenant_max_events_per_second: expected an integer 0..10000000", 3);
    must_reject(PULL "limits: {tenant_max_key: 5}\n", "limits.tenant_max_key: unknown key", 3);
    must_reject(PULL "limits:\n  tenants:\n    \"a b\": {max_keys: 5}\n",
                "limits.tenants: invalid tenant name", 5);
    must_reject(PULL "limits:\n  tenants:\n    acme: 5\n",
                "limits.tenants.acme: expected a mapping with max_keys", 5);
    must_reject(PULL "limits:\n  tenants:\n    acme: {max_keys: 5, burst: 9}\n",
                "limits.tenants.acme.burst: unknown key", 5);
    must_reject(PULL "limits:\n  tenants:\n    acme: {max_keys: 5}\n    acme: {max_keys: 6}\n",
                "limits.tenants", 6);
    must_reject(PULL "limits:\n  tenants: [acme]\n", "limits.tenants: expected a mapping", 4);
}
END_TEST

CHECK_SUITE_TABLES("mp_config", 0, NULL, NULL,
                   CHECK_TESTS(test_example_loads, test_defaults, test_full_config,
                               test_boundaries, test_empty_collections,
                               test_route_entries_and_grouping,
                               test_listeners_and_warnings,
                               test_data_dir_independent_of_cwd, test_rules_resolved,
                               test_rules_missing, test_rules_unreadable,
                               test_reject_nul_byte, test_missing_file, test_bad_args,
                               test_err_truncated, test_free_null,
                               test_loads_independent, test_http_tokens,
                               test_http_limits, test_limits),
                   CHECK_LOOPS(CHECK_LOOP(test_data_dir_resolution, data_dir_cases),
                               CHECK_LOOP(test_reject_table, reject_cases),
                               CHECK_LOOP(test_bound_table, bound_cases),
                               CHECK_LOOP(test_bad_endpoint, bad_endpoints),
                               CHECK_LOOP(test_http_reject, http_reject_cases)))
