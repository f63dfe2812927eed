/* cli_keygen.c — `mailpulse keygen` and the CurveZMQ client options (see
 * cli_keygen.h). */
#include "cli_keygen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "ingest_curve.h"

enum keygen_opt { KEYGEN_SECRET_FILE };

static const struct cli_opt keygen__opts[] = {
    [KEYGEN_SECRET_FILE] = {"secret-file", "PATH",
                            "write the secret key to PATH (a new file, mode 0600)\n"
                            "instead of printing it"},
};

static const char keygen__usage[] =
    "usage: mailpulse keygen [--secret-file PATH]\n"
    "\n"
    "Prints a new CurveZMQ key pair (Z85) as YAML lines to paste:\n"
    "    public_key: \"...\"\n"
    "    secret_key: \"...\"        (or secret_key_file: \"PATH\" with --secret-file)\n"
    "For the daemon: its secret goes to ingest.curve.secret_key[_file], its\n"
    "public key to every producer (mailpulse send --server-key). For a\n"
    "producer: its public key goes to ingest.curve.clients, its secret stays\n"
    "with the producer (mailpulse send --secret-key-file).\n";

/* The secret, a new file of mode 0600: O_EXCL so no key is ever replaced
 * (or a symlink followed) by accident. */
static int keygen__write_secret(const struct cli_cmd *cmd, const char *path, const char *secret)
{
    char line[INGEST_CURVE_Z85_LEN + 2];
    snprintf(line, sizeof(line), "%s\n", secret);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    int rc = MP_OK;
    if (fd < 0 || fchmod(fd, 0600) != 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) ||
        fsync(fd) != 0) {
        cli_fail(cmd, "--secret-file: cannot write %s: %s", path, strerror(errno));
        rc = MP_ERR_IO;
        if (fd >= 0)
            unlink(path); /* no half-written key left behind */
    }
    if (fd >= 0)
        close(fd);
    memset(line, 0, sizeof(line));
    return rc;
}

static int keygen__run(const struct cli_cmd *cmd, int argc, char **argv)
{
    const char *secret_file = NULL;
    struct cli_args a = CLI_ARGS(cmd, argc, argv);
    int rc;
    while ((rc = cli_next(&a)) == MP_OK)
        if (a.idx == KEYGEN_SECRET_FILE)
            secret_file = a.val;
    if (rc != MP_ERR_NOTFOUND)
        return rc == CLI_HELP ? MP_OK : rc;
    rc = MP_OK;
    char pub[INGEST_CURVE_Z85_LEN + 1], sec[INGEST_CURVE_Z85_LEN + 1];
    if (zmq_curve_keypair(pub, sec) != 0) {
        cli_fail(cmd, "zmq_curve_keypair: %s (libzmq without CURVE?)", zmq_strerror(zmq_errno()));
        return MP_ERR_IO;
    }
    if (secret_file && (rc = keygen__write_secret(cmd, secret_file, sec)) != MP_OK)
        goto out;
    printf("public_key: \"%s\"\n", pub);
    if (secret_file)
        printf("secret_key_file: \"%s\"\n", secret_file);
    else
        printf("secret_key: \"%s\"\n", sec);
    fflush(stdout);
out:
    memset(sec, 0, sizeof(sec));
    return rc;
}

const struct cli_cmd cli_keygen_cmd = {
    "keygen", "print a new CurveZMQ key pair for ingest.curve", keygen__usage, keygen__opts,
    MP_ARRAY_LEN(keygen__opts), keygen__run};

int cli_producer_open(const struct cli_cmd *cmd, const struct cli_producer *p, void **ctx,
                      void **sock, void **mon)
{
    char name[64];
    *sock = *mon = NULL;
    if ((*ctx = zmq_ctx_new()) == NULL) {
        cli_fail(cmd, "zmq_ctx_new: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    int ok = (*sock = zmq_socket(*ctx, p->type)) != NULL;
    for (size_t i = 0; ok && i < p->n_opts; i++)
        ok = zmq_setsockopt(*sock, p->opts[i].name, &p->opts[i].value, sizeof(int)) == 0;
    snprintf(name, sizeof(name), "inproc://producer-monitor-%p", *sock);
    if (!ok || zmq_socket_monitor(*sock, name, p->events) != 0 ||
        (*mon = zmq_socket(*ctx, ZMQ_PAIR)) == NULL || zmq_connect(*mon, name) != 0) {
        cli_fail(cmd, "zmq socket setup: %s", zmq_strerror(errno));
        return MP_ERR_IO;
    }
    /* a Curve client before it connects */
    int rc = cli_curve_client(cmd, *sock, p->server_key, p->secret_key_file);
    if (rc != MP_OK)
        return rc;
    if (zmq_connect(*sock, p->endpoint) != 0)
        return cli_usage_error(cmd, "--endpoint: cannot connect to \"%s\": %s", p->endpoint,
                               zmq_strerror(errno));
    return MP_OK;
}

int cli_curve_client(const struct cli_cmd *cmd, void *sock, const char *server_key,
                     const char *secret_key_file)
{
    char sec[INGEST_CURVE_Z85_LEN + 1], pub[INGEST_CURVE_Z85_LEN + 1], why[512] = "not a key";
    int rc = MP_OK;
    if (!server_key && !secret_key_file)
        return MP_OK;
    if (!server_key || !secret_key_file)
        return cli_usage_error(cmd, "give both --server-key and --secret-key-file, or neither");
    if (!ingest_curve_key_valid(server_key))
        return cli_usage_error(cmd,
                               "--server-key: expected the daemon's public key, 40 Z85 "
                               "characters, got \"%.64s\"",
                               server_key);
    if (ingest_curve_read_key_file(secret_key_file, sec, why, sizeof(why)) != MP_OK ||
        ingest_curve_public(sec, pub) != MP_OK) {
        cli_fail(cmd, "--secret-key-file: %s", why);
        rc = MP_ERR_IO;
        goto out;
    }
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_key, INGEST_CURVE_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, INGEST_CURVE_Z85_LEN) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, sec, INGEST_CURVE_Z85_LEN) != 0) {
        cli_fail(cmd, "CurveZMQ client options: %s", zmq_strerror(zmq_errno()));
        rc = MP_ERR_IO;
    }
out:
    memset(sec, 0, sizeof(sec));
    return rc;
}
