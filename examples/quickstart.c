/* quickstart.c -- create a sandbox, run a command with live output, write a
 * file and read it back, kill the sandbox.
 *
 * Settings come from OPEN_SANDBOX_DOMAIN / OPEN_SANDBOX_API_KEY (or the
 * CLI's ~/.opensandbox/config.toml). `make demo` runs it against the local
 * dev server. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

/* Live output: called for each event while the command runs. */
static int print_output(void *user, const osb_event *ev) {
    (void)user;
    if (ev->type == OSB_EVENT_STDOUT) printf("  stdout | %s\n", ev->text.ptr);
    if (ev->type == OSB_EVENT_STDERR) printf("  stderr | %s\n", ev->text.ptr);
    fflush(stdout);
    return 0;                                  /* non-zero would stop the stream */
}

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s (%s)\n", what, osb_strerror(osb_client_error(c)->code),
            osb_client_error(c)->message);
    return 1;
}

int main(void) {
    static const char text[] = "hello from opensandbox.h\n";
    const char *path = "/tmp/opensandbox-quickstart.txt";
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_execution x = {0};
    osb_buf back;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return fprintf(stderr, "bad domain or protocol\n"), 1;
    printf("server %s%s\n", cfg.client.domain, cfg.use_server_proxy ? " (sandboxes reached through its proxy)" : "");

    req.image = "python:3.11";                 /* TTL 600 s, 1 cpu / 2Gi by default */
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");
    printf("sandbox %s is ready\n", osb_sandbox_id(sb));

    printf("$ echo hello; uname -s; echo to-stderr >&2; exit 3\n");
    if (osb_sandbox_run(sb, "echo hello; uname -s; echo to-stderr >&2; exit 3", print_output, NULL, &x) != OSB_OK)
        return fail(c, "run");
    printf("exit code %d\n", x.exit_code_known ? x.exit_code : -1);
    osb_execution_free(&x);

    if (osb_sandbox_write_file(sb, path, text, sizeof text - 1) != OSB_OK) return fail(c, "write");
    osb_buf_init(&back, NULL);
    if (osb_sandbox_read_file(sb, path, &back) != OSB_OK) return fail(c, "read");
    printf("wrote %s, read back %zu bytes: %s", path, back.len, back.data);
    osb_buf_free(&back);

    if (osb_sandbox_kill(sb) != OSB_OK) return fail(c, "kill");
    printf("sandbox killed\n");
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
