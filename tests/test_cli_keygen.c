/* test_cli_keygen.c — Check suite "cli_keygen": cmd/cli/cli_keygen, what
 * `mailpulse keygen` prints and writes, and the CurveZMQ client side of
 * `mailpulse send` (--server-key, --secret-key-file) against a real Curve
 * server socket behind the ingest ZAP handler, in one process.
 *
 * The commands run in-process (cmd.run), their stdout captured into a file.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "check_main.h"
#include "cli_keygen.h"
#include "cli_send.h"
#include "e2e_harness.h"
#include "ingest_curve.h"
#include "mp_log.h"

static char dir[512];

static void setup(void)
{
    char err[256];
    ck_assert_int_eq(e2e_tmpdir_create("cli_keygen", dir, sizeof(dir), err, sizeof(err)), MP_OK);
}

static void teardown(void) { e2e_tmpdir_remove(dir); }

/* Runs cmd with argv (NULL-terminated); *out gets its stdout (free it). */
static int run_capture(const struct cli_cmd *cmd, char **argv, char **out)
{
    char path[600];
    int argc = 0;
    while (argv[argc])
        argc++;
    snprintf(path, sizeof(path), "%s/stdout", dir);
    fflush(stdout);
    int saved = dup(1), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 1);
    close(fd);
    int rc = cmd->run(cmd, argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ck_assert_int_eq(e2e_read_file(path, out, NULL), MP_OK);
    return rc;
}

/* The quoted value of `key: "..."` in text, into out (41 bytes). */
static int line_value(const char *text, const char *key, char *out, size_t n)
{
    char pre[64];
    snprintf(pre, sizeof(pre), "%s: \"", key);
    const char *p = strstr(text, pre);
    if (!p)
        return 0;
    p += strlen(pre);
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) >= n)
        return 0;
    memcpy(out, p, (size_t)(q - p));
    out[q - p] = '\0';
    return 1;
}

START_TEST(prints_a_pair)
{
    char *out = NULL, pub[64], sec[64], derived[41];
    char *argv[] = {"keygen", NULL};
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, argv, &out), MP_OK);
    ck_assert_msg(line_value(out, "public_key", pub, sizeof(pub)), "%s", out);
    ck_assert_msg(line_value(out, "secret_key", sec, sizeof(sec)), "%s", out);
    ck_assert(ingest_curve_key_valid(pub));
    ck_assert(ingest_curve_key_valid(sec));
    ck_assert_int_eq(ingest_curve_public(sec, derived), MP_OK);
    ck_assert_str_eq(derived, pub);
    free(out);
    /* and a second pair is another pair */
    char pub2[64];
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, argv, &out), MP_OK);
    ck_assert(line_value(out, "public_key", pub2, sizeof(pub2)));
    ck_assert_str_ne(pub, pub2);
    free(out);
    char *bad[] = {"keygen", "--secret", "x", NULL};
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, bad, &out), MP_ERR_INVAL);
    free(out);
}
END_TEST

START_TEST(writes_the_secret_file)
{
    char path[600], *out = NULL, pub[64], shown[600], sec[41], derived[41], err[256];
    snprintf(path, sizeof(path), "%s/producer.key", dir);
    char *argv[] = {"keygen", "--secret-file", path, NULL};
    umask(0); /* the mode must not depend on the caller's umask */
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, argv, &out), MP_OK);
    ck_assert(line_value(out, "public_key", pub, sizeof(pub)));
    ck_assert(line_value(out, "secret_key_file", shown, sizeof(shown)));
    ck_assert_str_eq(shown, path);
    ck_assert_ptr_null(strstr(out, "secret_key:")); /* the secret stays off the terminal */
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_uint_eq(st.st_size, 41);
    ck_assert_int_eq(ingest_curve_read_key_file(path, sec, err, sizeof(err)), MP_OK);
    ck_assert_int_eq(ingest_curve_public(sec, derived), MP_OK);
    ck_assert_str_eq(derived, pub);
    ck_assert_ptr_null(strstr(out, sec));
    free(out);

    /* never over an existing file */
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, argv, &out), MP_ERR_IO);
    ck_assert_str_eq(out, "");
    free(out);
    char again[41];
    ck_assert_int_eq(ingest_curve_read_key_file(path, again, err, sizeof(err)), MP_OK);
    ck_assert_str_eq(again, sec);
    snprintf(path, sizeof(path), "%s/no-such-dir/k", dir);
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, argv, &out), MP_ERR_IO);
    free(out);
}
END_TEST

/* `mailpulse send` as a Curve client of a server that lists keygen's key. */
START_TEST(send_with_keys)
{
    char key_path[600], *out = NULL, pub[64], err[256], endpoint[64];
    snprintf(key_path, sizeof(key_path), "%s/p.key", dir);
    char *kg[] = {"keygen", "--secret-file", key_path, NULL};
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, kg, &out), MP_OK);
    ck_assert(line_value(out, "public_key", pub, sizeof(pub)));
    free(out);

    char spub[41], ssec[41];
    ck_assert_int_eq(zmq_curve_keypair(spub, ssec), 0);
    struct ingest_curve_client_conf cl = {.any_tenant = 1};
    memcpy(cl.public_key, pub, sizeof(cl.public_key));
    struct ingest_curve_conf conf = {.enabled = 1, .n_clients = 1, .clients = &cl};
    memcpy(conf.secret_key, ssec, sizeof(conf.secret_key));
    struct ingest_curve *c = NULL;
    ck_assert_int_eq(ingest_curve_create(&conf, &c), MP_OK);
    void *ctx = zmq_ctx_new();
    ck_assert_int_eq(ingest_curve_start(c, ctx, err, sizeof(err)), MP_OK);
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    int tmo = 10000;
    uint16_t port;
    zmq_setsockopt(pull, ZMQ_RCVTIMEO, &tmo, sizeof(tmo));
    ck_assert_int_eq(ingest_curve_server_opts(c, pull), MP_OK);
    ck_assert_int_eq(e2e_free_port(&port, NULL, 0, err, sizeof(err)), MP_OK);
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%u", (unsigned)port);
    ck_assert_int_eq(zmq_bind(pull, endpoint), 0);

    char *send[] = {"send", "--endpoint", endpoint, "--server-key", spub, "--secret-key-file",
                    key_path, "--tenant", "acme", "--mailbox", "s@acme.example", "--domain",
                    "gmail.com", "--type", "sent", "--count", "3", NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, send, &out), MP_OK);
    ck_assert_ptr_nonnull(strstr(out, "sent events=3 batches=1"));
    free(out);
    zmq_msg_t m;
    zmq_msg_init(&m);
    ck_assert_int_gt(zmq_msg_recv(&m, pull, 0), 0);
    ck_assert_str_eq(zmq_msg_gets(&m, "User-Id"), "0"); /* the handshake named our client */
    zmq_msg_close(&m);

    /* with --raw-file too (not an event option) */
    char raw[600];
    snprintf(raw, sizeof(raw), "%s/raw", dir);
    ck_assert_int_eq(e2e_write_file(raw, "abc", err, sizeof(err)), MP_OK);
    char *rawsend[] = {"send", "--endpoint", endpoint, "--raw-file", raw, "--server-key", spub,
                       "--secret-key-file", key_path, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, rawsend, &out), MP_OK);
    free(out);
    zmq_msg_init(&m);
    ck_assert_int_eq(zmq_msg_recv(&m, pull, 0), 3);
    ck_assert_str_eq(zmq_msg_gets(&m, "User-Id"), "0");
    zmq_msg_close(&m);

    zmq_close(pull);
    ingest_curve_destroy(c);
    zmq_ctx_term(ctx);
}
END_TEST

START_TEST(client_option_errors)
{
    char key_path[600], *out = NULL;
    snprintf(key_path, sizeof(key_path), "%s/p.key", dir);
    char *kg[] = {"keygen", "--secret-file", key_path, NULL};
    ck_assert_int_eq(run_capture(&cli_keygen_cmd, kg, &out), MP_OK);
    free(out);
    char spub[41], ssec[41];
    ck_assert_int_eq(zmq_curve_keypair(spub, ssec), 0);
#define EV "--tenant", "a", "--mailbox", "s@a.example", "--domain", "g.com", "--type", "sent"
    char *only_server[] = {"send", "--server-key", spub, EV, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, only_server, &out), MP_ERR_INVAL);
    free(out);
    char *only_file[] = {"send", "--secret-key-file", key_path, EV, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, only_file, &out), MP_ERR_INVAL);
    free(out);
    char *bad_server[] = {"send", "--server-key", "abc", "--secret-key-file", key_path, EV, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, bad_server, &out), MP_ERR_INVAL);
    free(out);
    char *no_file[] = {"send", "--server-key", spub, "--secret-key-file", "/no/such/key", EV, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, no_file, &out), MP_ERR_IO);
    free(out);
    ck_assert_int_eq(chmod(key_path, 0644), 0); /* readable by all: refused, as by the daemon */
    char *open_file[] = {"send", "--server-key", spub, "--secret-key-file", key_path, EV, NULL};
    ck_assert_int_eq(run_capture(&cli_send_cmd, open_file, &out), MP_ERR_IO);
    free(out);
#undef EV
}
END_TEST

void test_init(void) { mp_log_set_level(MP_LOG_ERROR); }

CHECK_SUITE("cli_keygen", 60, setup, teardown, prints_a_pair, writes_the_secret_file,
            send_with_keys, client_option_errors)
