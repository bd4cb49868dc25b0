/* manager.c -- the sandboxes of a server as a whole: create three tagged
 * sandboxes, list them with a metadata and a state filter page by page,
 * then kill them all in one call. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

int main(void) {
    static const osb_pair tag[] = {{"example", "manager"}};
    static const char *const running[] = {"Running", NULL};
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb[3];
    osb_sandbox_list_req filter = {0};
    osb_sandbox_iter it;
    const osb_sandbox_info *s;
    const char *ids[3];
    osb_err results[3];
    int i, n = 0;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    req.metadata = tag;
    req.metadata_count = 1;
    opt.use_server_proxy = cfg.use_server_proxy;
    opt.skip_health_check = 1;                 /* not used here: no need to wait */
    for (i = 0; i < 3; i++) {
        if (osb_sandbox_open(c, &req, &opt, &sb[i]) != OSB_OK) return fail(c, "create");
        ids[i] = osb_sandbox_id(sb[i]);
    }
    printf("created 3 sandboxes tagged example=manager\n");

    filter.metadata = tag;                     /* all pairs must match */
    filter.metadata_count = 1;
    filter.states = running;                   /* any of these states */
    filter.page_size = 2;                      /* small pages: the iterator fetches the next */
    osb_manager_iter(&it, c, &filter);
    while (osb_manager_next(&it, &s) == OSB_OK && s) {
        printf("  %s %-8s created %s\n", s->id.ptr, s->status.state.ptr, s->created_at.ptr);
        n++;
    }
    if (it.err) return fail(c, "list");
    osb_manager_iter_free(&it);
    printf("listed %d (page size 2)\n", n);

    if (osb_manager_kill(c, ids, 3, results) != OSB_OK) return fail(c, "kill");
    printf("killed %d sandboxes\n", 3);
    for (i = 0; i < 3; i++) osb_sandbox_close(sb[i]);
    osb_client_free(c);
    return 0;
}
