/* fanout.c -- one thread, a hundred sandboxes: create them all at once, run
 * one command in each and gather the outputs, then kill them all, every
 * step with its requests in flight together on a multi handle. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

#define N 100

static int killed, kill_failed;

static void on_killed(void *user, osb_transfer *t, osb_err result, const osb_error *err) {
    (void)user;
    (void)t;
    if (result == OSB_OK) killed++;
    else fprintf(stderr, "kill: %s\n", err->message), kill_failed++;
}

int main(void) {
    static osb_sandbox *sb[N];
    static osb_execution x[N];
    static osb_err results[N];
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_transfer_config tc = {0};
    osb_multi *m = NULL;
    int i, ok = 0, running = 0;
    size_t bytes = 0;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    /* all or none: if one fails, the ones created are killed */
    if (osb_sandbox_open_many(c, &req, N, &opt, NULL, sb) != OSB_OK)
        return fprintf(stderr, "create: %s\n", osb_client_error(c)->message), 1;
    printf("created %d sandboxes\n", N);

    /* the same command everywhere, at once; x[i] collects sandbox i's output */
    osb_sandbox_run_many(sb, N, "echo \"$((6 * 7)) from $(hostname)\"", NULL, NULL, x, results);
    for (i = 0; i < N; i++) {
        if (results[i] == OSB_OK && x[i].exit_code == 0) ok++;
        bytes += x[i].out.len;
    }
    printf("ran in %d of %d, %lu output bytes; sandbox 0 said: %s", ok, N, (unsigned long)bytes,
           x[0].out.data ? x[0].out.data : "(nothing)\n");

    /* the kills as transfers of one multi, driven here until none is left */
    osb_multi_new(c, NULL, &m);
    tc.on_done = on_killed;
    for (i = 0; i < N; i++) osb_multi_sandbox_delete(m, osb_sandbox_id(sb[i]), &tc, NULL);
    do osb_multi_perform(m, 1000, &running);
    while (running > 0);
    osb_multi_free(m);
    printf("killed %d sandboxes\n", killed);

    for (i = 0; i < N; i++) {
        osb_execution_free(&x[i]);
        osb_sandbox_close(sb[i]);
    }
    osb_client_free(c);
    return ok == N && killed == N ? 0 : 1;
}
