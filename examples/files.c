/* files.c -- upload a local file with a progress callback, list the
 * directory, download it back with progress, and compare. Transfers are
 * streamed: memory stays constant whatever the file size. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

static int progress(void *user, uint64_t done, uint64_t total) {
    if (done == total || done % (256 * 1024) < 16384)   /* now and then, and at the end */
        printf("  %s %8llu / %llu bytes\n", (const char *)user, (unsigned long long)done,
               (unsigned long long)total);
    return 0;                                  /* non-zero cancels the transfer */
}

int main(void) {
    const char *local = "/tmp/opensandbox-files-example.bin", *back = "/tmp/opensandbox-files-example.back";
    const char *remote = "/tmp/opensandbox-files-example/data.bin";
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_file_info_list *ls = NULL;
    FILE *f;
    int i, a = 0, b = 0, same;

    f = fopen(local, "wb");                    /* 1 MiB of test data */
    for (i = 0; f && i < 1024 * 1024; i++) fputc((i * 7 + i / 1024) & 0xFF, f);
    if (!f || fclose(f) != 0) return 1;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");

    if (osb_sandbox_upload(sb, local, remote, progress, "upload  ") != OSB_OK) return fail(c, "upload");
    if (osb_sandbox_list_dir(sb, "/tmp/opensandbox-files-example", 1, &ls) != OSB_OK) return fail(c, "list");
    for (i = 0; i < (int)ls->count; i++)
        printf("%s %s %lld bytes mode %d\n", ls->items[i].type.ptr, ls->items[i].path.ptr,
               (long long)ls->items[i].size, ls->items[i].mode);
    osb_result_free(ls);
    if (osb_sandbox_download(sb, remote, back, progress, "download") != OSB_OK) return fail(c, "download");

    {   /* byte-for-byte comparison */
        FILE *x = fopen(local, "rb"), *y = fopen(back, "rb");
        same = x && y;
        while (same && (a = fgetc(x)) == (b = fgetc(y)) && a != EOF) {}
        same = same && a == b;
        if (x) fclose(x);
        if (y) fclose(y);
    }
    printf("downloaded copy %s the original\n", same ? "matches" : "DIFFERS FROM");
    {
        const char *dir = "/tmp/opensandbox-files-example";
        osb_dir_delete(c, osb_sandbox_execd(sb), &dir, 1);
    }
    remove(local);
    remove(back);
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return same ? 0 : 1;
}
