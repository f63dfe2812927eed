/* test_docs.c — the docs may not disagree with the code.
 *
 *   readme_yaml_blocks_load: every ```yaml block of README.md starts with
 *     "# mailpulse config" or "# mailpulse rules" (an unmarked one fails:
 *     nothing documented goes unchecked) and passes the real parser:
 *     `mailpulsed -c BLOCK --check` for a config, and for rules a config
 *     naming the block as its rules file. A key renamed in the code makes
 *     its block an unknown key, and this case fails with file:line: key.
 *   config_table_in_block: every key of the README's configuration table
 *     ("| `ingest.pull` | ..." rows) is set in its config block, so the
 *     table cannot list a key the parser was never shown.
 *   example_files_load: mailpulse.example.yaml, rules.example.yaml and every
 *     examples/NAME.yaml pass the same check (a file with a top-level
 *     `ingest:` is a config, any other a rules file).
 *
 * The source tree is $MP_SRC_DIR, else the current directory.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "e2e_suite.h"

static char SRC[E2E_PATH_MAX];

static void setup(void)
{
    ew_setup(&W, "docs");
    ew_src_dir(&W, SRC, "README.md");
}

static void teardown(void) { ew_teardown(&W); }

static char *slurp(const char *rel)
{
    char path[E2E_PATH_MAX * 2], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", SRC, rel);
    must(e2e_read_file(path, &text, &len) == MP_OK, "%s unreadable", path);
    return text;
}

/* `mailpulsed -c cfg --check` must exit 0; `what` names the doc. */
static void check_config(const char *cfg, const char *what)
{
    struct e2e_proc p;
    char tail[2048], name[32];
    static int n;
    snprintf(name, sizeof(name), "check-%d", ++n);
    char *argv[] = {W.mailpulsed, "-c", (char *)cfg, "--check", NULL};
    must_ok(e2e_run(&p, name, W.dir, argv, 30000, W.err, sizeof(W.err)));
    e2e_file_tail(p.err_path, tail, sizeof(tail));
    must(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0, "%s is refused by the parser: %s",
         what, tail);
}

static void check_rules(const char *rules, const char *what)
{
    char cfg[E2E_PATH_MAX + 32], yaml[E2E_PATH_MAX * 2];
    static int n;
    snprintf(cfg, sizeof(cfg), "%s/rules-cfg-%d.yaml", W.dir, ++n);
    snprintf(yaml, sizeof(yaml), "ingest:\n  pull: \"%s\"\nrules: \"%s\"\n", W.pull, rules);
    must_ok(e2e_write_file(cfg, yaml, W.err, sizeof(W.err)));
    check_config(cfg, what);
}

/* Calls fn(block, line) for each ```yaml block of README.md. */
static size_t yaml_blocks(void (*fn)(const char *block, int line, void *arg), void *arg)
{
    char *text = slurp("README.md"), *p = text;
    size_t n = 0;
    int line = 1;
    while ((p = strstr(p, "```yaml\n")) != NULL) {
        for (char *q = text; q < p; q++)
            line += *q == '\n';
        char *body = p + 8, *end = strstr(body, "\n```");
        must(end != NULL, "README.md:%d: unterminated ```yaml block", line);
        end[1] = '\0';
        fn(body, line + 1, arg);
        n++;
        p = end + 2;
        line = 1;
    }
    free(text);
    return n;
}

static void load_block(const char *block, int line, void *arg)
{
    char path[E2E_PATH_MAX + 32], what[64];
    MP_UNUSED(arg);
    snprintf(path, sizeof(path), "%s/readme-%d.yaml", W.dir, line);
    snprintf(what, sizeof(what), "README.md:%d (a ```yaml block)", line);
    must_ok(e2e_write_file(path, block, W.err, sizeof(W.err)));
    if (strncmp(block, "# mailpulse config", 18) == 0) {
        /* A block names `rules: rules.example.yaml`, next to it. */
        char *rules = slurp("rules.example.yaml"), rpath[E2E_PATH_MAX + 32];
        snprintf(rpath, sizeof(rpath), "%s/rules.example.yaml", W.dir);
        must_ok(e2e_write_file(rpath, rules, W.err, sizeof(W.err)));
        free(rules);
        check_config(path, what);
    }
    else if (strncmp(block, "# mailpulse rules", 17) == 0)
        check_rules(path, what);
    else
        must(0, "%s starts with neither \"# mailpulse config\" nor \"# mailpulse rules\"", what);
}

START_TEST(readme_yaml_blocks_load)
{
    size_t n = yaml_blocks(load_block, NULL);
    must(n >= 2, "README.md has %zu yaml blocks; the config and rules references are gone", n);
    W.passed = 1;
}
END_TEST

/* The config block of "## Configuration", "# mailpulse config: every key"
 * (other sections show smaller config blocks before it). */
static void find_config_block(const char *block, int line, void *arg)
{
    static const char mark[] = "# mailpulse config: every key";
    char **out = arg;
    MP_UNUSED(line);
    if (*out == NULL && strncmp(block, mark, sizeof(mark) - 1) == 0)
        *out = strdup(block);
}

START_TEST(config_table_in_block)
{
    char *block = NULL, *text = slurp("README.md");
    yaml_blocks(find_config_block, &block);
    must(block != NULL, "README.md has no config block");
    char *sec = strstr(text, "\n## Configuration\n");
    must(sec != NULL, "README.md has no ## Configuration");
    char *end = strstr(sec + 1, "\n## ");
    if (end)
        *end = '\0';
    size_t rows = 0;
    for (char *l = strstr(sec, "\n| `"); l; l = strstr(l + 1, "\n| `")) {
        char key[128], leaf[136];
        if (sscanf(l, "\n| `%127[^`]`", key) != 1)
            continue;
        char *dot = strrchr(key, '.');
        const char *name = dot ? dot + 1 : key;
        /* `receivers[].url` -> url; `routes.tenants.NAME` rows name a map. */
        char *br = strchr(name, '[');
        if (br)
            *br = '\0';
        /* secret_key_file excludes secret_key, which the block sets (a
         * key file must exist with a private mode): it is loaded by
         * test_mp_config_curve instead. */
        if (strcmp(name, "secret_key_file") == 0)
            continue;
        /* sns_certificate names a PEM file that must exist: loaded by
         * test_mp_config_adapters (loads_ses) instead. */
        if (strcmp(name, "sns_certificate") == 0)
            continue;
        snprintf(leaf, sizeof(leaf), "%s:", name);
        must(strstr(block, leaf) != NULL,
             "README table key %s is not set in the ## Configuration yaml block", key);
        rows++;
    }
    must(rows >= 30, "only %zu keys in the README configuration table", rows);
    free(block);
    free(text);
    W.passed = 1;
}
END_TEST

static int is_config(const char *text)
{
    return strncmp(text, "ingest:", 7) == 0 || strstr(text, "\ningest:") != NULL;
}

START_TEST(example_files_load)
{
    char path[E2E_PATH_MAX * 2], rel[E2E_PATH_MAX];
    snprintf(path, sizeof(path), "%s/mailpulse.example.yaml", SRC);
    check_config(path, "mailpulse.example.yaml");
    snprintf(path, sizeof(path), "%s/rules.example.yaml", SRC);
    check_rules(path, "rules.example.yaml");
    snprintf(path, sizeof(path), "%s/examples", SRC);
    DIR *d = opendir(path);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || (strcmp(e->d_name + len - 5, ".yaml") && strcmp(e->d_name + len - 4, ".yml")))
            continue;
        snprintf(rel, sizeof(rel), "examples/%s", e->d_name);
        char *text = slurp(rel);
        snprintf(path, sizeof(path), "%s/%s", SRC, rel);
        if (is_config(text))
            check_config(path, rel);
        else
            check_rules(path, rel);
        free(text);
        n++;
    }
    if (d)
        closedir(d);
    W.passed = 1;
}
END_TEST

EW_SUITE("docs", 120, setup, teardown, {readme_yaml_blocks_load, 0}, {config_table_in_block, 0},
         {example_files_load, 0})
