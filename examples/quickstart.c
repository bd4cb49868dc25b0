/* quickstart.c -- create a sandbox, run a command with live output, write a
 * file and read it back, kill the sandbox.
 *
 * Settings come from OPEN_SANDBOX_DOMAIN / OPEN_SANDBOX_API_KEY (or the
 * CLI's ~/.opensandbox/config.toml). `make demo` runs it against the local
 * dev server. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdarg.h>
#include <stdio.h>

/* Prints the strings up to the NULL (no printf: a static build is ~13 KB smaller). */
static void say(FILE *f, const char *s, ...) {
    va_list ap;
    va_start(ap, s);
    for (; s; s = va_arg(ap, const char *)) fputs(s, f);
    va_end(ap);
    fflush(f);
}

/* The decimal text of n, in buf. */
static const char *num(unsigned long n, char buf[24]) {
    char *p = buf + 23;
    for (*p = 0; *--p = (char)('0' + n % 10), n /= 10;) {}
    return p;
}

/* Live output: called for each event while the command runs. */
static int print_output(void *user, const osb_event *ev) {
    (void)user;
    if (ev->type == OSB_EVENT_STDOUT) say(stdout, "  stdout | ", ev->text.ptr, "\n", NULL);
    if (ev->type == OSB_EVENT_STDERR) say(stdout, "  stderr | ", ev->text.ptr, "\n", NULL);
    return 0;                                  /* non-zero would stop the stream */
}

static int fail(osb_client *c, const char *what) {
    say(stderr, what, ": ", osb_strerror(osb_client_error(c)->code), " (", osb_client_error(c)->message, ")\n", NULL);
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
    char n[24];

    if (osb_config_load(&cfg) != OSB_OK) return say(stderr, "config: ", cfg.message, "\n", NULL), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return say(stderr, "bad domain or protocol\n", NULL), 1;
    say(stdout, "server ", cfg.client.domain, cfg.use_server_proxy ? " (sandboxes reached through its proxy)" : "",
        "\n", NULL);

    req.image = "python:3.11";                 /* TTL 600 s, 1 cpu / 2Gi by default */
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");
    say(stdout, "sandbox ", osb_sandbox_id(sb), " is ready\n", NULL);

    say(stdout, "$ echo hello; uname -s; echo to-stderr >&2; exit 3\n", NULL);
    if (osb_sandbox_run(sb, "echo hello; uname -s; echo to-stderr >&2; exit 3", print_output, NULL, &x) != OSB_OK)
        return fail(c, "run");
    say(stdout, "exit code ", x.exit_code_known ? num((unsigned long)x.exit_code, n) : "unknown", "\n", NULL);
    osb_execution_free(&x);

    if (osb_sandbox_write_file(sb, path, text, sizeof text - 1) != OSB_OK) return fail(c, "write");
    osb_buf_init(&back, NULL);
    if (osb_sandbox_read_file(sb, path, &back) != OSB_OK) return fail(c, "read");
    say(stdout, "wrote ", path, ", read back ", num(back.len, n), " bytes: ", back.data, NULL);
    osb_buf_free(&back);

    if (osb_sandbox_kill(sb) != OSB_OK) return fail(c, "kill");
    say(stdout, "sandbox killed\n", NULL);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
