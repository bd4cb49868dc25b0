/* streaming.c -- run a command and read its events one by one (the pull
 * form): init with the command id, each output line as it is printed, the
 * exit code at the end. The callback form is in quickstart.c. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

int main(void) {
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_command_request cmd = {0};
    osb_stream *st = NULL;
    const osb_event *ev;
    osb_execution x = {0};
    osb_err e;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");

    cmd.command = "for i in 1 2 3; do echo tick $i; sleep 0.3; done; echo done >&2";
    cmd.cwd = "/tmp";
    if (osb_command_stream(c, osb_sandbox_execd(sb), &cmd, 0, &st) != OSB_OK) return fail(c, "stream");
    while ((e = osb_stream_next(st, &ev)) == OSB_OK && ev) {
        osb_execution_add(&x, ev);             /* optional: aggregate as we go */
        switch (ev->type) {
        case OSB_EVENT_INIT: printf("[init] command id %s\n", ev->text.ptr); break;
        case OSB_EVENT_STDOUT: printf("[stdout] %s\n", ev->text.ptr); break;
        case OSB_EVENT_STDERR: printf("[stderr] %s\n", ev->text.ptr); break;
        case OSB_EVENT_ERROR: printf("[error] %s %s\n", ev->ename.ptr, ev->evalue.ptr); break;
        case OSB_EVENT_EXECUTION_COMPLETE: printf("[complete] %lld ms\n", (long long)ev->execution_time_ms); break;
        default: break;                        /* ping, status, ... */
        }
        fflush(stdout);
    }
    osb_stream_close(st);
    if (e != OSB_OK) return fail(c, "stream");
    printf("exit code %d, %llu stdout bytes\n", x.exit_code_known ? x.exit_code : -1,
           (unsigned long long)x.out_bytes);
    osb_execution_free(&x);

    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
