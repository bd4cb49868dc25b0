/* parts/lifecycle.h -- merged into opensandbox.h: declarations at >>lifecycle, implementation at >>impl-lifecycle */
#ifndef OSB__LIFECYCLE_DECLARED
#define OSB__LIFECYCLE_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

/* >>lifecycle ============================================================== */

/* The Lifecycle (13 operations), Diagnostics (2) and Egress sidecar (11)
 * APIs, one function per operation.
 *
 * Conventions for every function below:
 *  - c is the client (never NULL). The lifecycle calls go to its domain with
 *    its API key; the egress calls go to an osb_target (the endpoint of port
 *    18080, see osb_target_from_endpoint) with that endpoint's headers and
 *    never with the API key.
 *  - Return: OSB_OK, or an error code with the detail in osb_client_error(c)
 *    (HTTP status, server code, message, X-Request-ID, attempts). A non-2xx
 *    answer is OSB_ERR_HTTP; classify it with osb_error_is_not_found() etc.
 *    A NULL or empty id/name argument is OSB_ERR_INVALID_ARG (nothing sent).
 *  - Results: *out is set to NULL first, then to ONE allocation on success,
 *    owned by the caller and freed with osb_result_free(). out may be NULL
 *    to discard the result (not for osb_sandbox_endpoint and
 *    osb_diagnostics_text, whose result is the point). Strings are osb_str
 *    (NUL-terminated, with length); absent or null JSON members leave fields
 *    zero (ptr NULL, count 0). Every result keeps the response JSON in
 *    'raw', so fields this version does not decode remain reachable.
 *  - X-Request-ID: every request carries one (generated, or the caller's
 *    from the client's configured headers); the id the server answered
 *    with is in osb_client_error(c)->request_id, after failures too.
 *  - Request structs: zero-initialise; a zero/NULL field means "not sent"
 *    (server default). The struct and everything it points to are only read
 *    during the call.
 *  - Retries follow the client's contract (osb_retry): GET/DELETE retried on
 *    connection failures and 429/502/503/504; POST/PATCH only when nothing
 *    was sent, and on 429/502.
 *  - Lists of strings in requests are NULL-terminated arrays.
 *  - Thread use: as the client (one thread at a time per client).
 *
 *     osb_sandbox_create_req r = {0};
 *     const char *const argv[] = {"python", "app.py", NULL};
 *     osb_sandbox_info *sb;
 *     osb_endpoint *ep;
 *     r.image = "python:3.11";
 *     r.entrypoint = argv;
 *     r.timeout_s = 600;
 *     if (osb_sandbox_create(c, &r, &sb) == OSB_OK) {
 *         if (osb_sandbox_endpoint(c, sb->id.ptr, 44772, NULL, &ep) == OSB_OK) {
 *             osb_target execd = osb_target_from_endpoint(ep);
 *             ... execd calls with &execd ...
 *             osb_result_free(ep);
 *         }
 *         osb_sandbox_delete(c, sb->id.ptr);
 *         osb_result_free(sb);
 *     } else {
 *         fprintf(stderr, "%s\n", osb_client_error(c)->message);
 *     } */

/* A key and a value for request maps (env, metadata, resource limits,
 * extensions, filters). value NULL writes JSON null where the API allows it
 * (metadata patch: delete the key; env: the server accepts null although
 * the spec says string). */
typedef struct osb_pair {
    const char *key;
    const char *value;
} osb_pair;

/* One egress rule: action "allow" or "deny", target a domain ("pypi.org"),
 * a wildcard ("*.example.com"), an IP or a CIDR. */
typedef struct osb_network_rule {
    const char *action;
    const char *target;
} osb_network_rule;

/* The network policy of a new sandbox (starts the egress sidecar). */
typedef struct osb_network_policy {
    const char *default_action;          /* "allow"/"deny"; NULL: not sent (server: deny) */
    const osb_network_rule *egress;      /* rules, first match wins */
    size_t egress_count;
} osb_network_policy;

/* Volume backends: exactly one of host, pvc, ossfs per osb_volume. */
typedef struct osb_volume_host {
    const char *path;                    /* absolute host path (or Windows drive path) */
} osb_volume_host;

typedef struct osb_volume_pvc {
    const char *claim_name;
    int create_if_not_exists;            /* 0: not sent (server: true), 1: true, -1: false */
    int delete_on_sandbox_termination;   /* 0: not sent (false), 1: true, -1: false */
    const char *storage_class;           /* NULL: not sent */
    const char *storage;                 /* e.g. "10Gi"; NULL: not sent */
    const char *const *access_modes;     /* e.g. {"ReadWriteOnce", NULL}; NULL: not sent */
} osb_volume_pvc;

typedef struct osb_volume_ossfs {
    const char *bucket;
    const char *endpoint;
    const char *version;                 /* "1.0" or "2.0"; NULL: not sent */
    const char *const *options;          /* NULL: not sent */
    const char *access_key_id;
    const char *access_key_secret;
} osb_volume_ossfs;

typedef struct osb_volume {
    const char *name;                    /* DNS label */
    const char *mount_path;              /* absolute path inside the sandbox */
    int read_only;                       /* 1: true; 0: not sent (false) */
    const char *sub_path;                /* NULL: not sent */
    const osb_volume_host *host;
    const osb_volume_pvc *pvc;
    const osb_volume_ossfs *ossfs;
} osb_volume;

/* POST /v1/sandboxes. Exactly one of image / snapshot_id (unless the
 * extensions carry "poolRef"); entrypoint is required with image. */
typedef struct osb_sandbox_create_req {
    const char *image;                   /* image URI, e.g. "python:3.11" */
    const char *image_username;          /* registry auth; both or neither */
    const char *image_password;
    const char *snapshot_id;             /* restore from a Ready snapshot */
    const char *const *entrypoint;       /* argv, NULL-terminated */
    const osb_pair *resource_limits;     /* {"cpu","1"}, {"memory","1Gi"}; none: {} is sent */
    size_t resource_limits_count;
    int timeout_s;                       /* seconds to live (>= 60); 0: not sent = no expiry */
    const osb_pair *env;                 /* value NULL is sent as null */
    size_t env_count;
    const osb_pair *metadata;
    size_t metadata_count;
    const char *platform_os;             /* "linux"/"windows"; NULL: not sent */
    const char *platform_arch;           /* "amd64"/"arm64" (send both or neither) */
    const osb_network_policy *network_policy;   /* NULL: no sidecar */
    int credential_proxy;                /* 1: {"enabled":true}, -1: false, 0: not sent */
    int secure_access;                   /* 1: true, -1: false, 0: not sent */
    const osb_volume *volumes;
    size_t volumes_count;
    const osb_pair *extensions;          /* e.g. {"poolRef","pool-a"} */
    size_t extensions_count;
} osb_sandbox_create_req;

/* status of a sandbox or a snapshot. */
typedef struct osb_sandbox_status {
    osb_str state;              /* "Pending" "Running" "Pausing" "Paused" "Resuming" "Stopping"
                                   "Terminated" "Failed"; also "Allocated", "Unknown"; free text */
    osb_str reason;
    osb_str message;
    osb_str last_transition_at; /* RFC 3339 */
} osb_sandbox_status;

typedef struct osb_image_info {
    osb_str uri;
} osb_image_info;

typedef struct osb_platform_info {
    osb_str os;
    osb_str arch;
} osb_platform_info;

/* A sandbox (create, get, list items, metadata patch). The create answer
 * has no image/snapshot_id. */
typedef struct osb_sandbox_info {
    osb_str id;
    osb_image_info image;       /* image.uri.ptr NULL when restored from a snapshot */
    osb_str snapshot_id;
    osb_platform_info platform;
    osb_sandbox_status status;
    osb_kv *metadata;
    size_t metadata_count;
    osb_str *entrypoint;
    size_t entrypoint_count;
    osb_str expires_at;         /* absent (ptr NULL) when the sandbox has no TTL */
    osb_str created_at;
    osb_str raw;
} osb_sandbox_info;

typedef struct osb_pagination {
    int64_t page;
    int64_t page_size;
    int64_t total_items;
    int64_t total_pages;
    int has_next_page;
} osb_pagination;

/* GET /v1/sandboxes filters. */
typedef struct osb_sandbox_list_req {
    const char *const *states;           /* any of (OR), case-insensitive; NULL: all */
    const osb_pair *metadata;            /* all must match exactly (AND) */
    size_t metadata_count;
    int page;                            /* >= 1; 0: not sent (1) */
    int page_size;                       /* 1..200; 0: not sent (20) */
} osb_sandbox_list_req;

typedef struct osb_sandbox_page {
    osb_sandbox_info *items;             /* newest first */
    size_t items_count;
    osb_pagination pagination;
    osb_str raw;
} osb_sandbox_page;

/* GET /v1/sandboxes/{id}/endpoints/{port} options. */
typedef struct osb_endpoint_req {
    int use_server_proxy;                /* 1: route through the lifecycle server's proxy */
    int64_t expires;                     /* > 0: a signed route valid until this Unix time
                                            (seconds); then use_server_proxy is never sent,
                                            the server refuses the combination */
} osb_endpoint_req;

/* Where a sandbox port is reached. */
typedef struct osb_endpoint {
    osb_str endpoint;                    /* as sent: usually scheme-less "host:port/prefix" */
    osb_kv *headers;                     /* headers to send with every request to it */
    size_t headers_count;
    osb_str url;                         /* endpoint with a scheme (the client's protocol
                                            when the server gave none) */
    const char *const *header_lines;     /* the headers as "Name: value", NULL-terminated
                                            (never NULL) */
    osb_str raw;
} osb_endpoint;

typedef struct osb_renew_result {
    osb_str expires_at;                  /* as normalised by the server (UTC) */
    osb_str raw;
} osb_renew_result;

/* A snapshot. status.state: "Creating", "Ready", "Failed", "Deleting". */
typedef struct osb_snapshot {
    osb_str id;
    osb_str sandbox_id;
    osb_str name;
    osb_sandbox_status status;
    osb_str created_at;
    osb_str raw;
} osb_snapshot;

typedef struct osb_snapshot_list_req {
    const char *sandbox_id;              /* NULL: snapshots of every sandbox */
    const char *const *states;           /* NULL: all */
    int page;                            /* 0: not sent */
    int page_size;                       /* 0: not sent */
} osb_snapshot_list_req;

typedef struct osb_snapshot_page {
    osb_snapshot *items;
    size_t items_count;
    osb_pagination pagination;
    osb_str raw;
} osb_snapshot_page;

/* POST /v1/sandboxes: creates a sandbox. The real servers answer 202 once it
 * is Running (status.state "Running"); in the spec's asynchronous mode it
 * may still be "Pending": poll osb_sandbox_get. *out: the new sandbox (id,
 * status, metadata, expires_at, created_at, entrypoint). Errors: 422/400
 * (OSB_ERR_HTTP, validation), 404/409 for snapshot_id, 500/503/504. */
OSB_API osb_err osb_sandbox_create(osb_client *c, const osb_sandbox_create_req *req,
                                   osb_sandbox_info **out);
/* GET /v1/sandboxes/{id}: one sandbox. 404 when unknown or deleted. */
OSB_API osb_err osb_sandbox_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out);
/* GET /v1/sandboxes: one page of sandboxes. req NULL: no filter, server
 * defaults. The metadata filter is encoded the way the server decodes it
 * (one "metadata" parameter holding an encoded "k=v&k2=v2"). */
OSB_API osb_err osb_sandbox_list(osb_client *c, const osb_sandbox_list_req *req,
                                 osb_sandbox_page **out);
/* DELETE /v1/sandboxes/{id}: kills and removes it (204). 404 when unknown. */
OSB_API osb_err osb_sandbox_delete(osb_client *c, const char *sandbox_id);
/* PATCH /v1/sandboxes/{id}/metadata as a JSON merge patch: a pair with a
 * value sets the key, a pair with value NULL deletes it (explicit null),
 * keys not given are kept; count 0 sends {} (no change). *out: the whole
 * sandbox after the change (out may be NULL to discard it). 400 for
 * invalid or reserved ("opensandbox.io/") keys, 404, 422. */
OSB_API osb_err osb_sandbox_metadata_patch(osb_client *c, const char *sandbox_id,
                                           const osb_pair *patch, size_t count,
                                           osb_sandbox_info **out);
/* POST /v1/sandboxes/{id}/pause (202, no body). 409 when not Running. */
OSB_API osb_err osb_sandbox_pause(osb_client *c, const char *sandbox_id);
/* POST /v1/sandboxes/{id}/resume (202, no body). 409 when not Paused. */
OSB_API osb_err osb_sandbox_resume(osb_client *c, const char *sandbox_id);
/* POST /v1/sandboxes/{id}/renew-expiration with expires_at, an RFC 3339
 * time (osb_format_time makes one). *out (may be NULL): the new expiry.
 * 400 when not in the future, 409 when the sandbox has no TTL, 404, 422. */
OSB_API osb_err osb_sandbox_renew(osb_client *c, const char *sandbox_id, const char *expires_at,
                                  osb_renew_result **out);
/* GET /v1/sandboxes/{id}/endpoints/{port}: how to reach a port (44772 execd,
 * 18080 egress, or any port of the sandbox). req NULL: a plain endpoint.
 * *out: the endpoint and its headers; turn it into a target with
 * osb_target_from_endpoint. port outside 1..65535: OSB_ERR_INVALID_ARG.
 * 400 (signed routes unsupported, bad port), 404, 422. */
OSB_API osb_err osb_sandbox_endpoint(osb_client *c, const char *sandbox_id, int port,
                                     const osb_endpoint_req *req, osb_endpoint **out);
/* A target for egress/execd calls, pointing into ep (valid while ep lives):
 * url = ep->url, headers = ep->header_lines. In server-proxy mode the url
 * is the lifecycle host's proxy route; the headers are still sent (the
 * proxy does not add the egress token itself). ep NULL: a zero target. */
OSB_API osb_target osb_target_from_endpoint(const osb_endpoint *ep);

/* POST /v1/sandboxes/{id}/snapshots: starts a snapshot (202, state
 * "Creating"; poll osb_snapshot_get until "Ready" or "Failed"). name NULL:
 * unnamed. 404, 409 (sandbox not Running), 501 (runtime without snapshots). */
OSB_API osb_err osb_snapshot_create(osb_client *c, const char *sandbox_id, const char *name,
                                    osb_snapshot **out);
/* GET /v1/snapshots/{id}. 404 when unknown. */
OSB_API osb_err osb_snapshot_get(osb_client *c, const char *snapshot_id, osb_snapshot **out);
/* GET /v1/snapshots: one page. req NULL: no filter. */
OSB_API osb_err osb_snapshot_list(osb_client *c, const osb_snapshot_list_req *req,
                                  osb_snapshot_page **out);
/* DELETE /v1/snapshots/{id} (204). 404, 409 while "Creating". */
OSB_API osb_err osb_snapshot_delete(osb_client *c, const char *snapshot_id);

/* Writes t (Unix seconds, UTC) as "YYYY-MM-DDTHH:MM:SSZ" into out (at least
 * 21 bytes). Returns out, or NULL when cap is too small or t is out of range. */
OSB_API char *osb_format_time(int64_t t, char *out, size_t cap);

/* >>diagnostics ------------------------------------------------------------ */

/* The stable diagnostics descriptor (specs/diagnostic-api.yml). */
typedef struct osb_diagnostic {
    osb_str sandbox_id;
    osb_str kind;                        /* "logs" or "events" */
    osb_str scope;
    osb_str delivery;                    /* "inline": content; "url": content_url */
    osb_str content_type;
    osb_str content;
    osb_str content_url;
    osb_str expires_at;                  /* of content_url */
    int64_t content_length;              /* 0 when absent */
    int truncated;
    osb_str *warnings;
    size_t warnings_count;
    osb_str raw;
} osb_diagnostic;

/* GET /v1/sandboxes/{id}/diagnostics/logs?scope=... scope NULL: "all"
 * (others: "container", "lifecycle", "runtime", "network", "process").
 * The open-source server does not implement the stable API: its 501 is
 * returned as OSB_ERR_UNSUPPORTED (detail: http_status 501, server code
 * DIAGNOSTICS_NOT_IMPLEMENTED); fall back to osb_diagnostics_text. */
OSB_API osb_err osb_diagnostics_logs(osb_client *c, const char *sandbox_id, const char *scope,
                                     osb_diagnostic **out);
/* GET .../diagnostics/events?scope=...; as osb_diagnostics_logs. */
OSB_API osb_err osb_diagnostics_events(osb_client *c, const char *sandbox_id, const char *scope,
                                       osb_diagnostic **out);

/* The legacy plain-text diagnostics routes (not in the spec; deprecated by
 * the servers but the only ones the open-source server serves). */
typedef struct osb_diagnostics_text_req {
    const char *kind;                    /* "logs" (NULL), "events", "inspect", "summary" */
    int tail;                            /* logs/summary: last lines; 0: not sent (100/50) */
    const char *since;                   /* logs: "30s", "10m", "1h", "2d"; NULL: not sent */
    int limit;                           /* events: 0: not sent (50) */
    int event_limit;                     /* summary: 0: not sent (20) */
} osb_diagnostics_text_req;

typedef struct osb_text {
    osb_str text;                        /* the body, NUL-terminated */
    osb_str content_type;
} osb_text;

/* GET /v1/sandboxes/{id}/diagnostics/{kind} without scope: the body as
 * text. req NULL: logs with the server's defaults. 404 when unknown. Not
 * retried. */
OSB_API osb_err osb_diagnostics_text(osb_client *c, const char *sandbox_id,
                                     const osb_diagnostics_text_req *req, osb_text **out);

/* >>egress ----------------------------------------------------------------- */

/* The egress calls take t = the endpoint of port 18080 of a sandbox created
 * with a network policy (osb_target_from_endpoint). Their error bodies are
 * plain text: the message lands in the error detail, server_code stays
 * empty. 401 when the OPENSANDBOX-EGRESS-AUTH header is missing or wrong;
 * 502 from the proxy when the sandbox has no sidecar. */

typedef struct osb_network_rule_info {
    osb_str action;
    osb_str target;
} osb_network_rule_info;

typedef struct osb_network_policy_info {
    osb_str default_action;
    osb_network_rule_info *egress;
    size_t egress_count;
} osb_network_policy_info;

typedef struct osb_egress_status {
    osb_str status;                      /* "ok" */
    osb_str mode;                        /* "allow_all", "deny_all", "enforcing" */
    osb_str enforcement_mode;            /* "dns" or "dns+nft" */
    osb_str reason;                      /* e.g. "no matching targets found" */
    osb_network_policy_info policy;      /* only from osb_egress_policy_get */
    osb_str raw;
} osb_egress_status;

/* GET /policy: the policy and its mode. */
OSB_API osb_err osb_egress_policy_get(osb_client *c, const osb_target *t, osb_egress_status **out);
/* PATCH /policy: merges rules (count >= 1; incoming first, first duplicate
 * target wins; default action unchanged). *out (may be NULL): mode only.
 * count 0: OSB_ERR_INVALID_ARG. 400 invalid rule, 413 too many rules. */
OSB_API osb_err osb_egress_policy_patch(osb_client *c, const osb_target *t,
                                        const osb_network_rule *rules, size_t count,
                                        osb_egress_status **out);
/* DELETE /policy with a JSON body: removes the rules for these targets
 * (count >= 1, case-insensitive; unknown targets are fine: reason says
 * "no matching targets found"). *out may be NULL. */
OSB_API osb_err osb_egress_policy_delete(osb_client *c, const osb_target *t,
                                         const char *const *targets, size_t count,
                                         osb_egress_status **out);

/* Credential Vault inputs. Secrets are write-only: they are never returned. */
typedef struct osb_vault_credential_in {
    const char *name;
    const char *value;                   /* the secret (non-empty) */
    const char *source_type;             /* NULL: "inline" (the only kind) */
} osb_vault_credential_in;

typedef struct osb_vault_header_in {
    const char *name;                    /* header name */
    const char *credential;              /* credential NAME */
} osb_vault_header_in;

/* How a binding injects a credential. type: "bearer" (credential),
 * "basic" (credential holding base64 "user:pass"), "apiKey" (name = header
 * name, credential), "customHeaders" (headers). credential fields name a
 * credential of the vault, never a secret. */
typedef struct osb_vault_auth_in {
    const char *type;
    const char *credential;
    const char *name;
    const osb_vault_header_in *headers;
    size_t headers_count;
} osb_vault_auth_in;

/* Which requests a binding applies to; NULL lists are not sent (server
 * defaults: https, 443, GET POST PUT PATCH DELETE, every path). hosts required. */
typedef struct osb_vault_match_in {
    const char *const *hosts;
    const char *const *schemes;
    const int *ports;                    /* 80 and/or 443 */
    size_t ports_count;
    const char *const *methods;
    const char *const *paths;
} osb_vault_match_in;

typedef struct osb_vault_binding_in {
    const char *name;
    osb_vault_match_in match;
    osb_vault_auth_in auth;
} osb_vault_binding_in;

/* POST /credential-vault body. */
typedef struct osb_vault_create_req {
    const osb_vault_credential_in *credentials;
    size_t credentials_count;
    const osb_vault_binding_in *bindings;
    size_t bindings_count;
} osb_vault_create_req;

/* PATCH /credential-vault body: per collection delete, then replace, then
 * add; atomic. NULL/0 parts are not sent. */
typedef struct osb_vault_patch_req {
    int64_t expected_revision;           /* > 0: 409 unless it is the current revision */
    const osb_vault_credential_in *credentials_add;
    size_t credentials_add_count;
    const osb_vault_credential_in *credentials_replace;
    size_t credentials_replace_count;
    const char *const *credentials_delete;   /* names */
    const osb_vault_binding_in *bindings_add;
    size_t bindings_add_count;
    const osb_vault_binding_in *bindings_replace;
    size_t bindings_replace_count;
    const char *const *bindings_delete;      /* names */
} osb_vault_patch_req;

typedef struct osb_vault_credential {
    osb_str name;
    osb_str source_type;
    int64_t revision;                    /* vault revision of its last add/replace */
    osb_str raw;
} osb_vault_credential;

typedef struct osb_vault_match {
    osb_str *schemes;
    size_t schemes_count;
    int *ports;
    size_t ports_count;
    osb_str *hosts;
    size_t hosts_count;
    osb_str *methods;
    size_t methods_count;
    osb_str *paths;
    size_t paths_count;
} osb_vault_match;

typedef struct osb_vault_auth {
    osb_str type;
    osb_str name;                        /* header name, apiKey only */
} osb_vault_auth;

typedef struct osb_vault_binding {
    osb_str name;
    int64_t revision;                    /* the vault's current revision */
    osb_vault_match match;               /* normalised (defaults filled in) */
    osb_vault_auth auth;
    osb_str raw;
} osb_vault_binding;

/* The vault (sanitised). The list calls return it too, with only
 * credentials or only bindings. */
typedef struct osb_vault_state {
    int64_t revision;
    osb_vault_credential *credentials;   /* sorted by name */
    size_t credentials_count;
    osb_vault_binding *bindings;
    size_t bindings_count;
    osb_str raw;
} osb_vault_state;

/* POST /credential-vault (201). 409 exists, 412 not ready (sandbox created
 * without credential_proxy), 400 invalid (e.g. a host not allowed by the
 * egress policy), 426 insecure transport. out may be NULL. */
OSB_API osb_err osb_vault_create(osb_client *c, const osb_target *t, const osb_vault_create_req *req,
                                 osb_vault_state **out);
/* GET /credential-vault. 404 when there is none. */
OSB_API osb_err osb_vault_get(osb_client *c, const osb_target *t, osb_vault_state **out);
/* PATCH /credential-vault. 404, 409 (revision), 400, 412. out may be NULL. */
OSB_API osb_err osb_vault_patch(osb_client *c, const osb_target *t, const osb_vault_patch_req *req,
                                osb_vault_state **out);
/* DELETE /credential-vault (204). 404 when there is none; 412. */
OSB_API osb_err osb_vault_delete(osb_client *c, const osb_target *t);
/* GET /credential-vault/credentials: revision + credentials. 404 no vault. */
OSB_API osb_err osb_vault_credential_list(osb_client *c, const osb_target *t, osb_vault_state **out);
/* GET /credential-vault/credentials/{name}. 404 unknown. */
OSB_API osb_err osb_vault_credential_get(osb_client *c, const osb_target *t, const char *name,
                                         osb_vault_credential **out);
/* GET /credential-vault/bindings: revision + bindings. 404 no vault. */
OSB_API osb_err osb_vault_binding_list(osb_client *c, const osb_target *t, osb_vault_state **out);
/* GET /credential-vault/bindings/{name}. 404 unknown. */
OSB_API osb_err osb_vault_binding_get(osb_client *c, const osb_target *t, const char *name,
                                      osb_vault_binding **out);

#ifdef __cplusplus
}
#endif
#endif /* OSB__LIFECYCLE_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__LIFECYCLE_IMPLEMENTED)
#define OSB__LIFECYCLE_IMPLEMENTED

/* >>impl-lifecycle --------------------------------------------------------- */

static const osb_field osb__lc_status_fields[] = {
    OSB_FIELD_STR(osb_sandbox_status, state, "state"),
    OSB_FIELD_STR(osb_sandbox_status, reason, "reason"),
    OSB_FIELD_STR(osb_sandbox_status, message, "message"),
    OSB_FIELD_STR(osb_sandbox_status, last_transition_at, "lastTransitionAt"),
};
static const osb_type osb__lc_status_type = OSB_TYPE(osb_sandbox_status, osb__lc_status_fields);
static const osb_field osb__lc_image_fields[] = { OSB_FIELD_STR(osb_image_info, uri, "uri") };
static const osb_type osb__lc_image_type = OSB_TYPE(osb_image_info, osb__lc_image_fields);
static const osb_field osb__lc_platform_fields[] = {
    OSB_FIELD_STR(osb_platform_info, os, "os"),
    OSB_FIELD_STR(osb_platform_info, arch, "arch"),
};
static const osb_type osb__lc_platform_type = OSB_TYPE(osb_platform_info, osb__lc_platform_fields);
static const osb_field osb__lc_sandbox_fields[] = {
    OSB_FIELD_STR(osb_sandbox_info, id, "id"),
    OSB_FIELD_OBJECT(osb_sandbox_info, image, "image", &osb__lc_image_type),
    OSB_FIELD_STR(osb_sandbox_info, snapshot_id, "snapshotId"),
    OSB_FIELD_OBJECT(osb_sandbox_info, platform, "platform", &osb__lc_platform_type),
    OSB_FIELD_OBJECT(osb_sandbox_info, status, "status", &osb__lc_status_type),
    OSB_FIELD_MAP(osb_sandbox_info, metadata, metadata_count, "metadata"),
    OSB_FIELD_ARRAY(osb_sandbox_info, entrypoint, entrypoint_count, "entrypoint", OSB_KIND_STR),
    OSB_FIELD_STR(osb_sandbox_info, expires_at, "expiresAt"),
    OSB_FIELD_STR(osb_sandbox_info, created_at, "createdAt"),
};
static const osb_type osb__lc_sandbox_type = OSB_TYPE_RAW(osb_sandbox_info, osb__lc_sandbox_fields, raw);
static const osb_field osb__lc_page_fields[] = {
    OSB_FIELD_I64(osb_pagination, page, "page"),
    OSB_FIELD_I64(osb_pagination, page_size, "pageSize"),
    OSB_FIELD_I64(osb_pagination, total_items, "totalItems"),
    OSB_FIELD_I64(osb_pagination, total_pages, "totalPages"),
    OSB_FIELD_BOOL(osb_pagination, has_next_page, "hasNextPage"),
};
static const osb_type osb__lc_page_type = OSB_TYPE(osb_pagination, osb__lc_page_fields);
static const osb_field osb__lc_sandbox_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_sandbox_page, items, items_count, "items", &osb__lc_sandbox_type),
    OSB_FIELD_OBJECT(osb_sandbox_page, pagination, "pagination", &osb__lc_page_type),
};
static const osb_type osb__lc_sandbox_list_type = OSB_TYPE_RAW(osb_sandbox_page, osb__lc_sandbox_list_fields, raw);
static const osb_field osb__lc_endpoint_fields[] = {
    OSB_FIELD_STR(osb_endpoint, endpoint, "endpoint"),
    OSB_FIELD_MAP(osb_endpoint, headers, headers_count, "headers"),
};
static const osb_type osb__lc_endpoint_type = OSB_TYPE_RAW(osb_endpoint, osb__lc_endpoint_fields, raw);
static const osb_field osb__lc_renew_fields[] = { OSB_FIELD_STR(osb_renew_result, expires_at, "expiresAt") };
static const osb_type osb__lc_renew_type = OSB_TYPE_RAW(osb_renew_result, osb__lc_renew_fields, raw);
static const osb_field osb__lc_snapshot_fields[] = {
    OSB_FIELD_STR(osb_snapshot, id, "id"),
    OSB_FIELD_STR(osb_snapshot, sandbox_id, "sandboxId"),
    OSB_FIELD_STR(osb_snapshot, name, "name"),
    OSB_FIELD_OBJECT(osb_snapshot, status, "status", &osb__lc_status_type),
    OSB_FIELD_STR(osb_snapshot, created_at, "createdAt"),
};
static const osb_type osb__lc_snapshot_type = OSB_TYPE_RAW(osb_snapshot, osb__lc_snapshot_fields, raw);
static const osb_field osb__lc_snapshot_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_snapshot_page, items, items_count, "items", &osb__lc_snapshot_type),
    OSB_FIELD_OBJECT(osb_snapshot_page, pagination, "pagination", &osb__lc_page_type),
};
static const osb_type osb__lc_snapshot_list_type = OSB_TYPE_RAW(osb_snapshot_page, osb__lc_snapshot_list_fields, raw);
static const osb_field osb__lc_diag_fields[] = {
    OSB_FIELD_STR(osb_diagnostic, sandbox_id, "sandboxId"),
    OSB_FIELD_STR(osb_diagnostic, kind, "kind"),
    OSB_FIELD_STR(osb_diagnostic, scope, "scope"),
    OSB_FIELD_STR(osb_diagnostic, delivery, "delivery"),
    OSB_FIELD_STR(osb_diagnostic, content_type, "contentType"),
    OSB_FIELD_STR(osb_diagnostic, content, "content"),
    OSB_FIELD_STR(osb_diagnostic, content_url, "contentUrl"),
    OSB_FIELD_STR(osb_diagnostic, expires_at, "expiresAt"),
    OSB_FIELD_I64(osb_diagnostic, content_length, "contentLength"),
    OSB_FIELD_BOOL(osb_diagnostic, truncated, "truncated"),
    OSB_FIELD_ARRAY(osb_diagnostic, warnings, warnings_count, "warnings", OSB_KIND_STR),
};
static const osb_type osb__lc_diag_type = OSB_TYPE_RAW(osb_diagnostic, osb__lc_diag_fields, raw);
static const osb_field osb__lc_rule_fields[] = {
    OSB_FIELD_STR(osb_network_rule_info, action, "action"),
    OSB_FIELD_STR(osb_network_rule_info, target, "target"),
};
static const osb_type osb__lc_rule_type = OSB_TYPE(osb_network_rule_info, osb__lc_rule_fields);
static const osb_field osb__lc_policy_fields[] = {
    OSB_FIELD_STR(osb_network_policy_info, default_action, "defaultAction"),
    OSB_FIELD_ARRAY_OF(osb_network_policy_info, egress, egress_count, "egress", &osb__lc_rule_type),
};
static const osb_type osb__lc_policy_type = OSB_TYPE(osb_network_policy_info, osb__lc_policy_fields);
static const osb_field osb__lc_egress_fields[] = {
    OSB_FIELD_STR(osb_egress_status, status, "status"),
    OSB_FIELD_STR(osb_egress_status, mode, "mode"),
    OSB_FIELD_STR(osb_egress_status, enforcement_mode, "enforcementMode"),
    OSB_FIELD_STR(osb_egress_status, reason, "reason"),
    OSB_FIELD_OBJECT(osb_egress_status, policy, "policy", &osb__lc_policy_type),
};
static const osb_type osb__lc_egress_type = OSB_TYPE_RAW(osb_egress_status, osb__lc_egress_fields, raw);
static const osb_field osb__lc_vcred_fields[] = {
    OSB_FIELD_STR(osb_vault_credential, name, "name"),
    OSB_FIELD_STR(osb_vault_credential, source_type, "sourceType"),
    OSB_FIELD_I64(osb_vault_credential, revision, "revision"),
};
static const osb_type osb__lc_vcred_type = OSB_TYPE_RAW(osb_vault_credential, osb__lc_vcred_fields, raw);
static const osb_field osb__lc_vmatch_fields[] = {
    OSB_FIELD_ARRAY(osb_vault_match, schemes, schemes_count, "schemes", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, ports, ports_count, "ports", OSB_KIND_INT),
    OSB_FIELD_ARRAY(osb_vault_match, hosts, hosts_count, "hosts", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, methods, methods_count, "methods", OSB_KIND_STR),
    OSB_FIELD_ARRAY(osb_vault_match, paths, paths_count, "paths", OSB_KIND_STR),
};
static const osb_type osb__lc_vmatch_type = OSB_TYPE(osb_vault_match, osb__lc_vmatch_fields);
static const osb_field osb__lc_vauth_fields[] = {
    OSB_FIELD_STR(osb_vault_auth, type, "type"),
    OSB_FIELD_STR(osb_vault_auth, name, "name"),
};
static const osb_type osb__lc_vauth_type = OSB_TYPE(osb_vault_auth, osb__lc_vauth_fields);
static const osb_field osb__lc_vbind_fields[] = {
    OSB_FIELD_STR(osb_vault_binding, name, "name"),
    OSB_FIELD_I64(osb_vault_binding, revision, "revision"),
    OSB_FIELD_OBJECT(osb_vault_binding, match, "match", &osb__lc_vmatch_type),
    OSB_FIELD_OBJECT(osb_vault_binding, auth, "auth", &osb__lc_vauth_type),
};
static const osb_type osb__lc_vbind_type = OSB_TYPE_RAW(osb_vault_binding, osb__lc_vbind_fields, raw);
static const osb_field osb__lc_vstate_fields[] = {
    OSB_FIELD_I64(osb_vault_state, revision, "revision"),
    OSB_FIELD_ARRAY_OF(osb_vault_state, credentials, credentials_count, "credentials", &osb__lc_vcred_type),
    OSB_FIELD_ARRAY_OF(osb_vault_state, bindings, bindings_count, "bindings", &osb__lc_vbind_type),
};
static const osb_type osb__lc_vstate_type = OSB_TYPE_RAW(osb_vault_state, osb__lc_vstate_fields, raw);

/* JSON helpers for request bodies. A count with a NULL array makes the
 * writer fail (the call then returns OSB_ERR_INVALID_ARG, nothing sent). */
static int osb__lc_jw_bad(osb_jw *w, const void *items, size_t n) {
    if (n && !items) {
        if (!w->err) w->err = OSB_ERR_INVALID_ARG;
        return 1;
    }
    return 0;
}

static void osb__lc_strs(osb_jw *w, const char *const *list) {
    osb_jw_array(w);
    if (list)
        for (; *list; list++) osb_jw_str(w, *list);
    osb_jw_array_end(w);
}

static void osb__lc_pairs(osb_jw *w, const osb_pair *p, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, p, n)) return;
    osb_jw_object(w);
    for (i = 0; i < n; i++) {
        if (!p[i].key) { osb_jw_null(w); continue; }  /* a value where a key is due: the writer fails */
        osb_jw_key(w, p[i].key);
        if (p[i].value) osb_jw_str(w, p[i].value);
        else osb_jw_null(w);
    }
    osb_jw_object_end(w);
}

static void osb__lc_kstr(osb_jw *w, const char *key, const char *v) {
    if (!v) return;
    osb_jw_key(w, key);
    osb_jw_str(w, v);
}

static void osb__lc_rules(osb_jw *w, const osb_network_rule *r, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, r, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        osb_jw_object(w);
        osb__lc_kstr(w, "action", r[i].action);
        osb__lc_kstr(w, "target", r[i].target);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

/* A failed argument check: sets the detail and returns the code. */
static osb_err osb__lc_fail(osb_client *c, osb_err e, const char *msg) {
    osb__reset_error(&c->err);
    osb__set_error(&c->err, e, "%s", msg);
    return e;
}

static int osb__lc_bad(const char *s) { return !s || !*s; }

/* The common shape: METHOD path(id) with an optional typed result. */
static osb_err osb__lc_simple(osb_client *c, const char *method, const osb_target *t, const char *fmt,
                              const char *id, const osb_type *type, void **out) {
    osb__call k;
    if (out) *out = NULL;
    osb__call_init(&k, c, method, t);
    if (id) osb__call_path(&k, fmt, id);
    else osb__call_path(&k, fmt);
    k.type = type;
    k.out = out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_create(osb_client *c, const osb_sandbox_create_req *r, osb_sandbox_info **out) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (out) *out = NULL;
    if (!r) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no create request");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes");
    w = osb__call_json(&k);
    osb_jw_object(w);
    if (r->image) {
        osb_jw_key(w, "image");
        osb_jw_object(w);
        osb__lc_kstr(w, "uri", r->image);
        if (r->image_username || r->image_password) {
            osb_jw_key(w, "auth");
            osb_jw_object(w);
            osb__lc_kstr(w, "username", r->image_username ? r->image_username : "");
            osb__lc_kstr(w, "password", r->image_password ? r->image_password : "");
            osb_jw_object_end(w);
        }
        osb_jw_object_end(w);
    }
    osb__lc_kstr(w, "snapshotId", r->snapshot_id);
    if (r->entrypoint) {
        osb_jw_key(w, "entrypoint");
        osb__lc_strs(w, r->entrypoint);
    }
    {
        int pool = 0;
        for (i = 0; i < r->extensions_count; i++)
            if (r->extensions[i].key && strcmp(r->extensions[i].key, "poolRef") == 0) pool = 1;
        if (r->resource_limits_count || !pool) {
            osb_jw_key(w, "resourceLimits");
            osb__lc_pairs(w, r->resource_limits, r->resource_limits_count);
        }
    }
    if (r->timeout_s) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_s);
    }
    if (r->env_count) {
        osb_jw_key(w, "env");
        osb__lc_pairs(w, r->env, r->env_count);
    }
    if (r->metadata_count) {
        osb_jw_key(w, "metadata");
        osb__lc_pairs(w, r->metadata, r->metadata_count);
    }
    if (r->platform_os || r->platform_arch) {
        osb_jw_key(w, "platform");
        osb_jw_object(w);
        osb__lc_kstr(w, "os", r->platform_os);
        osb__lc_kstr(w, "arch", r->platform_arch);
        osb_jw_object_end(w);
    }
    if (r->network_policy) {
        osb_jw_key(w, "networkPolicy");
        osb_jw_object(w);
        osb__lc_kstr(w, "defaultAction", r->network_policy->default_action);
        if (r->network_policy->egress_count) {
            osb_jw_key(w, "egress");
            osb__lc_rules(w, r->network_policy->egress, r->network_policy->egress_count);
        }
        osb_jw_object_end(w);
    }
    if (r->credential_proxy) {
        osb_jw_key(w, "credentialProxy");
        osb_jw_object(w);
        osb_jw_key(w, "enabled");
        osb_jw_bool(w, r->credential_proxy > 0);
        osb_jw_object_end(w);
    }
    if (r->secure_access) {
        osb_jw_key(w, "secureAccess");
        osb_jw_bool(w, r->secure_access > 0);
    }
    if (r->volumes_count && !osb__lc_jw_bad(w, r->volumes, r->volumes_count)) {
        osb_jw_key(w, "volumes");
        osb_jw_array(w);
        for (i = 0; i < r->volumes_count; i++) {
            const osb_volume *v = &r->volumes[i];
            osb_jw_object(w);
            osb__lc_kstr(w, "name", v->name);
            if (v->host) {
                osb_jw_key(w, "host");
                osb_jw_object(w);
                osb__lc_kstr(w, "path", v->host->path);
                osb_jw_object_end(w);
            }
            if (v->pvc) {
                const osb_volume_pvc *p = v->pvc;
                osb_jw_key(w, "pvc");
                osb_jw_object(w);
                osb__lc_kstr(w, "claimName", p->claim_name);
                if (p->create_if_not_exists) {
                    osb_jw_key(w, "createIfNotExists");
                    osb_jw_bool(w, p->create_if_not_exists > 0);
                }
                if (p->delete_on_sandbox_termination) {
                    osb_jw_key(w, "deleteOnSandboxTermination");
                    osb_jw_bool(w, p->delete_on_sandbox_termination > 0);
                }
                osb__lc_kstr(w, "storageClass", p->storage_class);
                osb__lc_kstr(w, "storage", p->storage);
                if (p->access_modes) {
                    osb_jw_key(w, "accessModes");
                    osb__lc_strs(w, p->access_modes);
                }
                osb_jw_object_end(w);
            }
            if (v->ossfs) {
                const osb_volume_ossfs *o = v->ossfs;
                osb_jw_key(w, "ossfs");
                osb_jw_object(w);
                osb__lc_kstr(w, "bucket", o->bucket);
                osb__lc_kstr(w, "endpoint", o->endpoint);
                osb__lc_kstr(w, "version", o->version);
                if (o->options) {
                    osb_jw_key(w, "options");
                    osb__lc_strs(w, o->options);
                }
                osb__lc_kstr(w, "accessKeyId", o->access_key_id);
                osb__lc_kstr(w, "accessKeySecret", o->access_key_secret);
                osb_jw_object_end(w);
            }
            osb__lc_kstr(w, "mountPath", v->mount_path);
            if (v->read_only) {
                osb_jw_key(w, "readOnly");
                osb_jw_bool(w, v->read_only > 0);
            }
            osb__lc_kstr(w, "subPath", v->sub_path);
            osb_jw_object_end(w);
        }
        osb_jw_array_end(w);
    }
    if (r->extensions_count) {
        osb_jw_key(w, "extensions");
        osb__lc_pairs(w, r->extensions, r->extensions_count);
    }
    osb_jw_object_end(w);
    k.type = &osb__lc_sandbox_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_get(osb_client *c, const char *id, osb_sandbox_info **out) {
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    return osb__lc_simple(c, "GET", NULL, "/v1/sandboxes/{}", id, &osb__lc_sandbox_type, (void **)out);
}

OSB_API osb_err osb_sandbox_list(osb_client *c, const osb_sandbox_list_req *r, osb_sandbox_page **out) {
    osb__call k;
    if (out) *out = NULL;
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes");
    if (r) {
        const char *const *s;
        if (r->states)
            for (s = r->states; *s; s++) osb__call_query(&k, "state", *s);
        if (r->metadata_count) {
            /* the server decodes the parameter, then parses it as a query
             * string: encode each key and value, then the whole again */
            osb_buf inner;
            size_t i;
            osb_buf_init(&inner, c->alloc);
            for (i = 0; i < r->metadata_count; i++) {
                const osb_pair *p = &r->metadata[i];
                if (!p->key || !p->value) { k.err = OSB_ERR_INVALID_ARG; break; }
                if (i) osb_buf_append(&inner, "&", 1);
                osb_url_encode(&inner, p->key, strlen(p->key));
                osb_buf_append(&inner, "=", 1);
                osb_url_encode(&inner, p->value, strlen(p->value));
            }
            if (inner.failed && !k.err) k.err = inner.failed;
            if (!k.err) osb__call_query(&k, "metadata", inner.data ? inner.data : "");
            osb_buf_free(&inner);
        }
        if (r->page) osb__call_query_int(&k, "page", r->page);
        if (r->page_size) osb__call_query_int(&k, "pageSize", r->page_size);
        if (k.query.failed && !k.err) k.err = k.query.failed;
    }
    k.type = &osb__lc_sandbox_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_delete(osb_client *c, const char *id) {
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    return osb__lc_simple(c, "DELETE", NULL, "/v1/sandboxes/{}", id, NULL, NULL);
}

OSB_API osb_err osb_sandbox_metadata_patch(osb_client *c, const char *id, const osb_pair *patch, size_t count,
                                           osb_sandbox_info **out) {
    osb__call k;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (count && !patch) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no patch");
    osb__call_init(&k, c, "PATCH", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/metadata", id);
    osb__lc_pairs(osb__call_json(&k), patch, count);
    k.type = out ? &osb__lc_sandbox_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_sandbox_pause(osb_client *c, const char *id) {
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    return osb__lc_simple(c, "POST", NULL, "/v1/sandboxes/{}/pause", id, NULL, NULL);
}

OSB_API osb_err osb_sandbox_resume(osb_client *c, const char *id) {
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    return osb__lc_simple(c, "POST", NULL, "/v1/sandboxes/{}/resume", id, NULL, NULL);
}

OSB_API osb_err osb_sandbox_renew(osb_client *c, const char *id, const char *expires_at, osb_renew_result **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (osb__lc_bad(expires_at)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no expiry time");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/renew-expiration", id);
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__lc_kstr(w, "expiresAt", expires_at);
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_renew_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

/* Copies n bytes of src to p as a NUL-terminated osb_str; returns the next free byte. */
static char *osb__lc_put(char *p, osb_str *dst, const char *src, size_t n) {
    if (n) memcpy(p, src, n);
    p[n] = 0;
    dst->ptr = p;
    dst->len = n;
    return p + n + 1;
}

/* Re-packs a bound endpoint into one block that also holds the URL with a
 * scheme and the "Name: value" header lines. */
static osb_err osb__lc_endpoint_finish(osb_client *c, osb_endpoint *ep, osb_endpoint **out) {
    const char *scheme = strstr(ep->endpoint.ptr ? ep->endpoint.ptr : "", "://") ? ""
                         : (c->base.https ? "https://" : "http://");
    size_t n = ep->headers_count, i, size, slen = strlen(scheme);
    char *p, **lines;
    osb_endpoint *r;
    size = sizeof(osb_endpoint) + (n + 1) * sizeof(char *) + n * sizeof(osb_kv);
    size += ep->raw.len + 1 + ep->endpoint.len + 1 + slen + ep->endpoint.len + 1;
    for (i = 0; i < n; i++) size += 2 * (ep->headers[i].key.len + ep->headers[i].value.len) + 5;
    r = (osb_endpoint *)osb__result_new(c->alloc, size);
    if (!r) {
        osb_result_free(ep);
        return osb__lc_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    lines = (char **)(void *)(r + 1);
    r->headers = n ? (osb_kv *)(void *)(lines + n + 1) : NULL;
    r->headers_count = n;
    p = (char *)(void *)((osb_kv *)(void *)(lines + n + 1) + n);
    p = osb__lc_put(p, &r->raw, ep->raw.ptr ? ep->raw.ptr : "", ep->raw.len);
    p = osb__lc_put(p, &r->endpoint, ep->endpoint.ptr ? ep->endpoint.ptr : "", ep->endpoint.len);
    memcpy(p, scheme, slen);
    if (ep->endpoint.len) memcpy(p + slen, ep->endpoint.ptr, ep->endpoint.len);
    p[slen + ep->endpoint.len] = 0;
    r->url.ptr = p;
    r->url.len = slen + ep->endpoint.len;
    p += r->url.len + 1;
    for (i = 0; i < n; i++) {
        const osb_kv *h = &ep->headers[i];
        p = osb__lc_put(p, &r->headers[i].key, h->key.ptr, h->key.len);
        p = osb__lc_put(p, &r->headers[i].value, h->value.ptr, h->value.len);
        lines[i] = p;
        if (h->key.len) memcpy(p, h->key.ptr, h->key.len);
        memcpy(p + h->key.len, ": ", 2);
        if (h->value.len) memcpy(p + h->key.len + 2, h->value.ptr, h->value.len);
        p[h->key.len + 2 + h->value.len] = 0;
        p += h->key.len + 2 + h->value.len + 1;
    }
    lines[n] = NULL;
    r->header_lines = (const char *const *)lines;
    osb_result_free(ep);
    *out = r;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_endpoint(osb_client *c, const char *id, int port, const osb_endpoint_req *req,
                                     osb_endpoint **out) {
    osb__call k;
    osb_endpoint *ep = NULL;
    char num[16];
    osb_err e;
    if (out) *out = NULL;
    if (!out) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no result pointer");
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (port < 1 || port > 65535) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "port out of range");
    snprintf(num, sizeof num, "%d", port);
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/endpoints/{}", id, num);
    if (req) {
        if (req->expires > 0) osb__call_query_int(&k, "expires", req->expires);
        else if (req->use_server_proxy) osb__call_query(&k, "use_server_proxy", "true");
    }
    k.type = &osb__lc_endpoint_type;
    k.out = (void **)&ep;
    e = osb__call_run(&k);
    if (e) return e;
    return osb__lc_endpoint_finish(c, ep, out);
}

OSB_API osb_target osb_target_from_endpoint(const osb_endpoint *ep) {
    osb_target t;
    t.url = ep ? ep->url.ptr : NULL;
    t.headers = ep ? ep->header_lines : NULL;
    return t;
}

OSB_API osb_err osb_snapshot_create(osb_client *c, const char *sandbox_id, const char *name, osb_snapshot **out) {
    osb__call k;
    if (out) *out = NULL;
    if (osb__lc_bad(sandbox_id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    osb__call_init(&k, c, "POST", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/snapshots", sandbox_id);
    if (name) {
        osb_jw *w = osb__call_json(&k);
        osb_jw_object(w);
        osb__lc_kstr(w, "name", name);
        osb_jw_object_end(w);
    }
    k.type = out ? &osb__lc_snapshot_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_snapshot_get(osb_client *c, const char *id, osb_snapshot **out) {
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no snapshot id");
    return osb__lc_simple(c, "GET", NULL, "/v1/snapshots/{}", id, &osb__lc_snapshot_type, (void **)out);
}

OSB_API osb_err osb_snapshot_list(osb_client *c, const osb_snapshot_list_req *r, osb_snapshot_page **out) {
    osb__call k;
    if (out) *out = NULL;
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/snapshots");
    if (r) {
        const char *const *s;
        osb__call_query(&k, "sandboxId", r->sandbox_id);
        if (r->states)
            for (s = r->states; *s; s++) osb__call_query(&k, "state", *s);
        if (r->page) osb__call_query_int(&k, "page", r->page);
        if (r->page_size) osb__call_query_int(&k, "pageSize", r->page_size);
        if (k.query.failed && !k.err) k.err = k.query.failed;
    }
    k.type = &osb__lc_snapshot_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_snapshot_delete(osb_client *c, const char *id) {
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no snapshot id");
    return osb__lc_simple(c, "DELETE", NULL, "/v1/snapshots/{}", id, NULL, NULL);
}

OSB_API char *osb_format_time(int64_t t, char *out, size_t cap) {
    /* days from civil, inverted (proleptic Gregorian, no libc time zone) */
    int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;
    if (!out || cap < 21 || t < 0 || t > INT64_C(253402300799)) return NULL;
    days = t / 86400;
    secs = t % 86400;
    z = days + 719468;
    era = z / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(secs / 3600),
             (int)(secs / 60 % 60), (int)(secs % 60));
    return out;
}

/* >>impl-diagnostics */

static osb_err osb__lc_diag(osb_client *c, const char *kind, const char *id, const char *scope,
                            osb_diagnostic **out) {
    osb__call k;
    osb_err e;
    if (out) *out = NULL;
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, kind, id);
    osb__call_query(&k, "scope", scope ? scope : "all");
    k.type = &osb__lc_diag_type;
    k.out = (void **)out;
    e = osb__call_run(&k);
    if (e == OSB_ERR_HTTP && c->err.http_status == 501) {
        c->err.code = OSB_ERR_UNSUPPORTED;
        e = OSB_ERR_UNSUPPORTED;
    }
    return e;
}

OSB_API osb_err osb_diagnostics_logs(osb_client *c, const char *id, const char *scope, osb_diagnostic **out) {
    return osb__lc_diag(c, "/v1/sandboxes/{}/diagnostics/logs", id, scope, out);
}

OSB_API osb_err osb_diagnostics_events(osb_client *c, const char *id, const char *scope, osb_diagnostic **out) {
    return osb__lc_diag(c, "/v1/sandboxes/{}/diagnostics/events", id, scope, out);
}

OSB_API osb_err osb_diagnostics_text(osb_client *c, const char *id, const osb_diagnostics_text_req *r,
                                     osb_text **out) {
    osb__call k;
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    const char *kind = r && r->kind ? r->kind : "logs";
    osb_text *t;
    size_t ctl;
    if (out) *out = NULL;
    if (!out) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no result pointer");
    if (osb__lc_bad(id)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id");
    if (strcmp(kind, "logs") && strcmp(kind, "events") && strcmp(kind, "inspect") && strcmp(kind, "summary"))
        return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "unknown diagnostics kind");
    osb__call_init(&k, c, "GET", NULL);
    osb__call_path(&k, "/v1/sandboxes/{}/diagnostics/{}", id, kind);
    if (r) {
        if (r->tail) osb__call_query_int(&k, "tail", r->tail);
        osb__call_query(&k, "since", r->since);
        if (r->limit) osb__call_query_int(&k, "limit", r->limit);
        if (r->event_limit) osb__call_query_int(&k, "event_limit", r->event_limit);
    }
    if (k.err || k.path.failed || k.query.failed) {
        osb__call_free(&k);
        return osb__lc_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = k.path.data;
    req.query = k.query.len ? k.query.data : NULL;
    e = osb_request_raw(c, &req, &res);
    osb__call_free(&k);
    if (e) {
        osb_http_response_free(&res);
        return e;
    }
    ctl = strlen(res.content_type);
    t = (osb_text *)osb__result_new(c->alloc, sizeof *t + res.body.len + 1 + ctl + 1);
    if (!t) {
        osb_http_response_free(&res);
        return osb__lc_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    {
        char *p = (char *)(t + 1);
        if (res.body.len) memcpy(p, res.body.data, res.body.len);
        p[res.body.len] = 0;
        t->text.ptr = p;
        t->text.len = res.body.len;
        p += res.body.len + 1;
        memcpy(p, res.content_type, ctl + 1);
        t->content_type.ptr = p;
        t->content_type.len = ctl;
    }
    osb_http_response_free(&res);
    *out = t;
    return OSB_OK;
}

/* >>impl-egress */

static osb_err osb__lc_need_target(osb_client *c, const osb_target *t) {
    if (!t || osb__lc_bad(t->url)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no egress target");
    return OSB_OK;
}

OSB_API osb_err osb_egress_policy_get(osb_client *c, const osb_target *t, osb_egress_status **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/policy", NULL, &osb__lc_egress_type, (void **)out);
}

OSB_API osb_err osb_egress_policy_patch(osb_client *c, const osb_target *t, const osb_network_rule *rules,
                                        size_t count, osb_egress_status **out) {
    osb__call k;
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (!rules || !count) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no rules");
    osb__call_init(&k, c, "PATCH", t);
    osb__call_path(&k, "/policy");
    osb__lc_rules(osb__call_json(&k), rules, count);
    k.type = out ? &osb__lc_egress_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_egress_policy_delete(osb_client *c, const osb_target *t, const char *const *targets,
                                         size_t count, osb_egress_status **out) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (!targets || !count) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no targets");
    osb__call_init(&k, c, "DELETE", t);
    osb__call_path(&k, "/policy");
    w = osb__call_json(&k);
    osb_jw_array(w);
    for (i = 0; i < count; i++) osb_jw_str(w, targets[i] ? targets[i] : "");
    osb_jw_array_end(w);
    k.type = out ? &osb__lc_egress_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

static void osb__lc_vcreds(osb_jw *w, const osb_vault_credential_in *v, size_t n) {
    size_t i;
    if (osb__lc_jw_bad(w, v, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        osb_jw_object(w);
        osb__lc_kstr(w, "name", v[i].name);
        osb_jw_key(w, "source");
        osb_jw_object(w);
        osb__lc_kstr(w, "type", v[i].source_type ? v[i].source_type : "inline");
        osb__lc_kstr(w, "value", v[i].value);
        osb_jw_object_end(w);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

static void osb__lc_vbinds(osb_jw *w, const osb_vault_binding_in *b, size_t n) {
    size_t i, j;
    if (osb__lc_jw_bad(w, b, n)) return;
    osb_jw_array(w);
    for (i = 0; i < n; i++) {
        const osb_vault_match_in *m = &b[i].match;
        const osb_vault_auth_in *a = &b[i].auth;
        osb_jw_object(w);
        osb__lc_kstr(w, "name", b[i].name);
        osb_jw_key(w, "match");
        osb_jw_object(w);
        if (m->hosts) { osb_jw_key(w, "hosts"); osb__lc_strs(w, m->hosts); }
        if (m->schemes) { osb_jw_key(w, "schemes"); osb__lc_strs(w, m->schemes); }
        if (m->ports_count && !osb__lc_jw_bad(w, m->ports, m->ports_count)) {
            osb_jw_key(w, "ports");
            osb_jw_array(w);
            for (j = 0; j < m->ports_count; j++) osb_jw_int(w, m->ports[j]);
            osb_jw_array_end(w);
        }
        if (m->methods) { osb_jw_key(w, "methods"); osb__lc_strs(w, m->methods); }
        if (m->paths) { osb_jw_key(w, "paths"); osb__lc_strs(w, m->paths); }
        osb_jw_object_end(w);
        osb_jw_key(w, "auth");
        osb_jw_object(w);
        osb__lc_kstr(w, "type", a->type);
        osb__lc_kstr(w, "name", a->name);
        osb__lc_kstr(w, "credential", a->credential);
        if (a->headers_count && !osb__lc_jw_bad(w, a->headers, a->headers_count)) {
            osb_jw_key(w, "headers");
            osb_jw_array(w);
            for (j = 0; j < a->headers_count; j++) {
                osb_jw_object(w);
                osb__lc_kstr(w, "name", a->headers[j].name);
                osb__lc_kstr(w, "credential", a->headers[j].credential);
                osb_jw_object_end(w);
            }
            osb_jw_array_end(w);
        }
        osb_jw_object_end(w);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
}

OSB_API osb_err osb_vault_create(osb_client *c, const osb_target *t, const osb_vault_create_req *r,
                                 osb_vault_state **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (!r) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no vault request");
    osb__call_init(&k, c, "POST", t);
    osb__call_path(&k, "/credential-vault");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb_jw_key(w, "credentials");
    osb__lc_vcreds(w, r->credentials, r->credentials_count);
    osb_jw_key(w, "bindings");
    osb__lc_vbinds(w, r->bindings, r->bindings_count);
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_vstate_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_vault_get(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault", NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_patch(osb_client *c, const osb_target *t, const osb_vault_patch_req *r,
                                osb_vault_state **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (!r) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no vault patch");
    osb__call_init(&k, c, "PATCH", t);
    osb__call_path(&k, "/credential-vault");
    w = osb__call_json(&k);
    osb_jw_object(w);
    if (r->expected_revision > 0) {
        osb_jw_key(w, "expectedRevision");
        osb_jw_int(w, r->expected_revision);
    }
    if (r->credentials_add_count || r->credentials_replace_count || r->credentials_delete) {
        osb_jw_key(w, "credentials");
        osb_jw_object(w);
        if (r->credentials_add_count) { osb_jw_key(w, "add"); osb__lc_vcreds(w, r->credentials_add, r->credentials_add_count); }
        if (r->credentials_replace_count) {
            osb_jw_key(w, "replace");
            osb__lc_vcreds(w, r->credentials_replace, r->credentials_replace_count);
        }
        if (r->credentials_delete) { osb_jw_key(w, "delete"); osb__lc_strs(w, r->credentials_delete); }
        osb_jw_object_end(w);
    }
    if (r->bindings_add_count || r->bindings_replace_count || r->bindings_delete) {
        osb_jw_key(w, "bindings");
        osb_jw_object(w);
        if (r->bindings_add_count) { osb_jw_key(w, "add"); osb__lc_vbinds(w, r->bindings_add, r->bindings_add_count); }
        if (r->bindings_replace_count) {
            osb_jw_key(w, "replace");
            osb__lc_vbinds(w, r->bindings_replace, r->bindings_replace_count);
        }
        if (r->bindings_delete) { osb_jw_key(w, "delete"); osb__lc_strs(w, r->bindings_delete); }
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    k.type = out ? &osb__lc_vstate_type : NULL;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_vault_delete(osb_client *c, const osb_target *t) {
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "DELETE", t, "/credential-vault", NULL, NULL, NULL);
}

OSB_API osb_err osb_vault_credential_list(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/credentials", NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_credential_get(osb_client *c, const osb_target *t, const char *name,
                                         osb_vault_credential **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (osb__lc_bad(name)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no credential name");
    return osb__lc_simple(c, "GET", t, "/credential-vault/credentials/{}", name, &osb__lc_vcred_type, (void **)out);
}

OSB_API osb_err osb_vault_binding_list(osb_client *c, const osb_target *t, osb_vault_state **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    return osb__lc_simple(c, "GET", t, "/credential-vault/bindings", NULL, &osb__lc_vstate_type, (void **)out);
}

OSB_API osb_err osb_vault_binding_get(osb_client *c, const osb_target *t, const char *name,
                                      osb_vault_binding **out) {
    if (out) *out = NULL;
    if (osb__lc_need_target(c, t)) return OSB_ERR_INVALID_ARG;
    if (osb__lc_bad(name)) return osb__lc_fail(c, OSB_ERR_INVALID_ARG, "no binding name");
    return osb__lc_simple(c, "GET", t, "/credential-vault/bindings/{}", name, &osb__lc_vbind_type, (void **)out);
}

#endif
