/* metrics.c -- one resource sample, then the live samples of
 * /metrics/watch until three have arrived (the callback stops the stream). */
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"
#include <stdio.h>
#include <string.h>

static int fail(osb_client *c, const char *what) {
    fprintf(stderr, "%s: %s\n", what, osb_client_error(c)->message);
    return 1;
}

static int on_sample(void *user, const osb_event *ev) {
    int *left = (int *)user;
    if (ev->type == OSB_EVENT_ERROR) printf("sampling failed: %s\n", ev->text.ptr);
    if (ev->type != OSB_EVENT_METRICS) return 0;
    printf("watch: cpu %5.1f%% of %.0f, memory %.0f / %.0f MiB\n", ev->metrics.cpu_used_pct,
           ev->metrics.cpu_count, ev->metrics.mem_used_mib, ev->metrics.mem_total_mib);
    fflush(stdout);
    return --*left == 0;                       /* non-zero ends the watch */
}

int main(void) {
    osb_config cfg = {0};
    osb_client *c = NULL;
    osb_sandbox_create_req req = {0};
    osb_sandbox_options opt = {0};
    osb_sandbox *sb = NULL;
    osb_metrics *m = NULL;
    osb_err e;
    int left = 3;

    if (osb_config_load(&cfg) != OSB_OK) return fprintf(stderr, "config: %s\n", cfg.message), 1;
    if (osb_client_new(&cfg.client, &c) != OSB_OK) return 1;
    req.image = "python:3.11";
    opt.use_server_proxy = cfg.use_server_proxy;
    if (osb_sandbox_open(c, &req, &opt, &sb) != OSB_OK) return fail(c, "create");

    if (osb_sandbox_metrics(sb, &m) != OSB_OK) return fail(c, "metrics");
    printf("now: %.0f cpus, %.1f%% busy, %.0f MiB of %.0f MiB used\n", m->cpu_count, m->cpu_used_pct,
           m->mem_used_mib, m->mem_total_mib);
    osb_result_free(m);

    e = osb_sandbox_watch(sb, on_sample, &left, NULL);
    if (e != OSB_ERR_CANCELLED) return fail(c, "watch");   /* we stopped it: expected */
    printf("watch stopped after 3 samples\n");

    osb_sandbox_kill(sb);
    osb_sandbox_close(sb);
    osb_client_free(c);
    return 0;
}
