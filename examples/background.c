/* background.c -- start a command in the background, get its id back at
 * once, then follow its output (a byte cursor over its log) to the end and
 * read its exit code. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

/* Log bytes as they arrive (they may end inside a line). */
static int to_stdout(void *user, const void *data, size_t len) {
    (void)user;
    fwrite(data, 1, len, stdout);
    fflush(stdout);
    return 0;
}

int main(void) {
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_command_status *st = NULL;
    char id[OSB_EXEC_ID_MAX];
    int code = -1;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");

    if (osb_sandbox_start(sb, "for i in 1 2 3 4; do echo step $i; sleep 0.4; done; exit 7", id, sizeof id) != OSB_OK)
        return fail(c, "start");
    printf("started %s in the background\n", id);
    if (osb_command_status_get(c, osb_sandbox_execd(sb), id, &st) == OSB_OK) {
        printf("running: %s\n", st->running ? "yes" : "no");
        osb_result_free(st);
    }

    if (osb_sandbox_follow(sb, id, to_stdout, NULL, &code) != OSB_OK) return fail(c, "follow");
    printf("finished with exit code %d\n", code);

    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
