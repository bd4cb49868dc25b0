/* snapshots.c -- snapshot a sandbox, start a new sandbox from the snapshot,
 * list the snapshots, delete it. */
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
    osb_sandbox_create_req req = {0}, from_snap = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL, *copy = NULL;
    osb_snapshot *snap = NULL;
    osb_snapshot_list_req lr = {0};
    osb_snapshot_page *page = NULL;
    size_t i;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");
    printf("sandbox %s\n", osb_sandbox_id(sb));

    /* take it and wait up to 60 s for Ready */
    if (osb_sandbox_snapshot(sb, "checkpoint-1", 60000, &snap) != OSB_OK) return fail(c, "snapshot");
    printf("snapshot %s (%s) is %s\n", snap->id.ptr, snap->name.ptr, snap->status.state.ptr);

    from_snap.snapshot_id = snap->id.ptr;     /* instead of an image */
    if (osb_sandbox_open(c, &from_snap, &opt, &copy) != OSB_OK) return fail(c, "restore");
    printf("restored into sandbox %s\n", osb_sandbox_id(copy));

    lr.sandbox_id = osb_sandbox_id(sb);
    if (osb_snapshot_list(c, &lr, &page) != OSB_OK) return fail(c, "list");
    for (i = 0; i < page->items_count; i++)
        printf("  %s %s %s\n", page->items[i].id.ptr, page->items[i].name.ptr, page->items[i].status.state.ptr);
    osb_result_free(page);

    if (osb_snapshot_delete(c, snap->id.ptr) != OSB_OK) return fail(c, "delete snapshot");
    printf("snapshot deleted\n");
    osb_result_free(snap);
    osb_sandbox_kill(copy);
    osb_sandbox_kill(sb);
    osb_sandbox_close(copy);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
