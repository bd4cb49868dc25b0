/* egress.c -- a sandbox whose outbound traffic is denied except to
 * pypi.org; then the policy is changed at run time: a rule added, a rule
 * removed. The egress endpoint's token is forwarded by the sandbox handle. */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

static int show(osb_sandbox *sb) {
    osb_egress_status *st = NULL;
    size_t i;
    if (osb_sandbox_egress_policy(sb, &st) != OSB_OK) return 1;
    printf("mode %s, default %s:", st->mode.ptr, st->policy.default_action.ptr);
    for (i = 0; i < st->policy.egress_count; i++)
        printf(" %s %s;", st->policy.egress[i].action.ptr, st->policy.egress[i].target.ptr);
    printf("\n");
    osb_result_free(st);
    return 0;
}

int main(void) {
    static const osb_network_rule initial[] = {{"allow", "pypi.org"}};
    static const osb_network_rule more[] = {{"allow", "*.github.com"}, {"deny", "evil.example"}};
    static const char *const drop[] = {"pypi.org"};
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_network_policy policy = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    policy.default_action = "deny";
    policy.egress = initial;
    policy.egress_count = 1;
    req.image = "python:3.11";
    req.network_policy = &policy;              /* starts the egress sidecar */
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");

    if (show(sb)) return fail(c, "policy");
    if (osb_sandbox_egress_patch(sb, more, 2, NULL) != OSB_OK) return fail(c, "patch");
    printf("added *.github.com (allow), evil.example (deny)\n");
    if (show(sb)) return fail(c, "policy");
    if (osb_sandbox_egress_delete(sb, drop, 1, NULL) != OSB_OK) return fail(c, "delete");
    printf("removed pypi.org\n");
    if (show(sb)) return fail(c, "policy");

    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
