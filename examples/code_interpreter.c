/* code_interpreter.c -- a Python context whose state persists from one run
 * to the next: define a variable, use it, print, and catch an exception. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

/* Runs one cell and shows what it produced. */
static int cell(osb_sandbox *sb, const char *ctx, const char *code) {
    osb_execution x = {0};
    size_t i;
    printf(">>> %s\n", code);
    if (osb_sandbox_code(sb, ctx, "python", code, NULL, NULL, &x) != OSB_OK) return -1;
    if (x.out.len) printf("%s%s", x.out.data, x.out.data[x.out.len - 1] == '\n' ? "" : "\n");
    for (i = 0; i < x.results_count; i++) printf("%s\n", x.results[i].text.ptr);
    if (x.has_error) printf("%s: %s\n", x.ename.ptr, x.evalue.ptr);
    osb_execution_free(&x);
    return 0;
}

int main(void) {
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_code_context *ctx = NULL;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "opensandbox/code-interpreter:latest";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");
    if (osb_sandbox_code_context(sb, "python", &ctx) != OSB_OK) return fail(c, "context");
    printf("python context %s\n", ctx->id.ptr);

    if (cell(sb, ctx->id.ptr, "x = 21") ||
        cell(sb, ctx->id.ptr, "x * 2") ||                      /* state kept: 42 */
        cell(sb, ctx->id.ptr, "print('hello from', 'python')") ||
        cell(sb, ctx->id.ptr, "1 / 0"))
        return fail(c, "run");

    osb_code_context_delete(c, osb_sandbox_execd(sb), ctx->id.ptr);
    osb_result_free(ctx);
    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
