/* parts/sandbox.h -- merged into opensandbox.h: declarations at >>sandbox, implementation at >>impl-sandbox */
#ifndef OSB__SANDBOX_DECLARED
#define OSB__SANDBOX_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

/* >>config ----------------------------------------------------------------
 * Connection settings resolved as the official CLI resolves them: a value set
 * in the struct wins, then the environment, then the [connection] table of
 * ~/.opensandbox/config.toml (as `opensandbox config init/set` writes it),
 * then the default.
 *
 *   setting           environment                     config.toml        default
 *   domain            OPEN_SANDBOX_DOMAIN             domain             localhost:8080
 *   api_key           OPEN_SANDBOX_API_KEY            api_key            (none)
 *   protocol          OPEN_SANDBOX_PROTOCOL           protocol           http
 *   request timeout   OPEN_SANDBOX_REQUEST_TIMEOUT    request_timeout    library timeouts
 *   server proxy      OPEN_SANDBOX_USE_SERVER_PROXY   use_server_proxy   off
 *
 * Booleans take 1/true/yes/on and 0/false/no/off (any case); the timeout is
 * in seconds (a decimal fraction is fine). A domain may carry a scheme and a
 * path prefix; a trailing "/v1" is not doubled.
 *
 *     osb_config cfg;
 *     osb_client *c;
 *     memset(&cfg, 0, sizeof cfg);          // or set what must win, e.g. cfg.client.domain
 *     if (osb_config_load(&cfg) != OSB_OK) { fprintf(stderr, "%s\n", cfg.message); ... }
 *     osb_client_new(&cfg.client, &c);      // cfg must outlive this call only
 */
typedef struct osb_config {
    /* In: explicit settings (NULL / 0 = not set). Out: the resolved values;
     * strings read from the environment or the file point into 'store'. */
    osb_client_config client;   /* domain, protocol, api_key (+ any other client field) */
    int request_timeout_ms;     /* in: 0 = not set; out: 0 = library defaults, else
                                   copied to client.timeouts.total_ms when that is 0 */
    int use_server_proxy;       /* in: 1 on, -1 off, 0 not set; out: 1 or 0 */
    const char *file;           /* config file; NULL = $HOME/.opensandbox/config.toml, "" = none */
    int skip_env;               /* 1 = ignore the environment */
    /* Out: where each value came from: "explicit", "env", "file" or "default". */
    const char *domain_source, *api_key_source, *protocol_source, *timeout_source, *proxy_source;
    char message[192];          /* why osb_config_load failed (never holds the API key) */
    char store[1536];
} osb_config;

/* Resolves every unset setting. OSB_ERR_INVALID_ARG for an unusable value
 * (bad protocol, boolean or timeout; 'message' names the setting and its
 * source), OSB_ERR_IO when an explicitly named file cannot be read,
 * OSB_ERR_TOO_LARGE when a value does not fit 'store'. A missing default file
 * is not an error. Call it once per struct (the resolved strings live in it). */
OSB_API osb_err osb_config_load(osb_config *cfg);

/* Parses a boolean as the CLI does: 1 / 0, or -1 when unrecognised. */
OSB_API int osb_config_bool(const char *text);


/* >>sandbox ----------------------------------------------------------------
 * The sandbox layer: a handle that holds a client, a sandbox id and the
 * resolved execd (44772) and egress (18080) endpoints, so that the calls
 * below need nothing else. It only composes the REST calls of the
 * lifecycle and execd parts; each of those stays usable directly with
 * osb_sandbox_client(), osb_sandbox_id(), osb_sandbox_execd() and
 * osb_sandbox_egress().
 *
 *     osb_sandbox_create_req req = {0};
 *     osb_sandbox *sb;
 *     req.image = "python:3.11";
 *     if (osb_sandbox_open(c, &req, NULL, &sb) != OSB_OK) ...   // created, reachable, ready
 *     ... osb_sandbox_run(sb, "echo hi", ...) ...
 *     osb_sandbox_kill(sb);                                     // delete it on the server
 *     osb_sandbox_close(sb);                                    // free the handle
 *
 * Errors: the return code, and the detail in osb_client_error(client). */

/* Ports and defaults (the other SDKs' values); define any of them before
 * including the header to change it. */
#ifndef OSB_EXECD_PORT
#  define OSB_EXECD_PORT 44772                  /* execd inside every sandbox */
#endif
#ifndef OSB_EGRESS_PORT
#  define OSB_EGRESS_PORT 18080                 /* the egress sidecar's policy API */
#endif
#ifndef OSB_DEFAULT_SANDBOX_TIMEOUT_S
#  define OSB_DEFAULT_SANDBOX_TIMEOUT_S 600     /* time to live of a new sandbox */
#endif
#ifndef OSB_DEFAULT_READY_TIMEOUT_MS
#  define OSB_DEFAULT_READY_TIMEOUT_MS 30000    /* wait for readiness */
#endif
#ifndef OSB_DEFAULT_READY_POLL_MS
#  define OSB_DEFAULT_READY_POLL_MS 200         /* first wait between readiness probes */
#endif

typedef struct osb_sandbox osb_sandbox;

/* A custom readiness probe: return 1 when the sandbox is ready, 0 to probe
 * again after the next backoff step, negative to give up (the wait then
 * fails with OSB_ERR_STATE). Called instead of execd's GET /ping. */
typedef int (*osb_health_fn)(void *user, osb_sandbox *sb);

/* How a handle reaches and waits for its sandbox. Zero-initialise; a NULL
 * options pointer means all defaults. */
typedef struct osb_sandbox_options {
    int use_server_proxy;            /* 1: reach execd and egress through the lifecycle
                                        server's proxy route (osb_config.use_server_proxy) */
    const char *const *host_rewrite; /* "from=to" lines, NULL-terminated: an endpoint host
                                        equal to "from" (any case) is replaced by "to", e.g.
                                        "host.docker.internal=127.0.0.1" (IPv6 hosts in
                                        brackets, as in URLs). Copied. */
    int ready_timeout_ms;            /* 0: OSB_DEFAULT_READY_TIMEOUT_MS */
    int poll_ms;                     /* first wait between probes, doubling up to 1 s;
                                        0: OSB_DEFAULT_READY_POLL_MS */
    int skip_health_check;           /* 1: do not wait for readiness at all */
    osb_health_fn health_check;      /* NULL: GET /ping on execd */
    void *health_user;
    int execd_port;                  /* 0: OSB_EXECD_PORT */
    int egress_port;                 /* 0: OSB_EGRESS_PORT */
    int skip_egress;                 /* 1: do not resolve the egress endpoint */
    int keep_on_failure;             /* 1: osb_sandbox_open leaves a sandbox that did not
                                        become ready (default: it is deleted) */
} osb_sandbox_options;

/* Creates a sandbox and waits until it is usable:
 *   1. POST /v1/sandboxes with req, after the defaults the other SDKs apply:
 *      timeout_s 0 -> 600 s (negative: no expiry, manual cleanup); an image
 *      without entrypoint -> ["tail","-f","/dev/null"]; no resource limits
 *      (and no "poolRef" extension) -> cpu "1", memory "2Gi". req itself is
 *      not changed. Every other field goes out as given (registry auth,
 *      snapshot_id, platform, env, metadata, network policy, credential
 *      proxy, secure access, volumes, extensions; pool mode without image).
 *   2. while the answer's state is not Running (asynchronous servers), polls
 *      GET /v1/sandboxes/{id} until Running; Failed/Terminated -> OSB_ERR_STATE;
 *   3. resolves the execd and egress endpoints (server-proxy mode and host
 *      rewrites per options; endpoint headers are kept and forwarded verbatim
 *      on every execd/egress call; the API key never goes there);
 *   4. waits for GET /ping (or the health callback) with backoff, up to
 *      ready_timeout_ms (OSB_ERR_TIMEOUT), unless skip_health_check.
 * When step 2, 3 or 4 fails the sandbox is deleted (unless keep_on_failure)
 * and the error of the failed step is what osb_client_error() reports.
 * opt NULL: defaults. On failure *out is NULL. */
OSB_API osb_err osb_sandbox_open(osb_client *c, const osb_sandbox_create_req *req,
                                 const osb_sandbox_options *opt, osb_sandbox **out);
/* A handle for an existing sandbox: resolves its endpoints and waits for
 * readiness (as steps 3-4 above; nothing is deleted on failure). */
OSB_API osb_err osb_sandbox_connect(osb_client *c, const char *sandbox_id,
                                    const osb_sandbox_options *opt, osb_sandbox **out);
/* Frees the handle (the sandbox keeps running; see osb_sandbox_kill). NULL is fine. */
OSB_API void osb_sandbox_close(osb_sandbox *sb);
/* DELETE /v1/sandboxes/{id}. The handle stays valid until osb_sandbox_close. */
OSB_API osb_err osb_sandbox_kill(osb_sandbox *sb);
/* POST .../pause. */
OSB_API osb_err osb_sandbox_suspend(osb_sandbox *sb);
/* POST .../resume, then resolves the endpoints again and waits for
 * readiness (a resumed sandbox may be reached at another address). */
OSB_API osb_err osb_sandbox_wake(osb_sandbox *sb);
/* Renews the expiry to now + seconds (a relative duration, as the CLI's
 * `renew -t 30m`). *out (may be NULL): the expiry the server set. */
OSB_API osb_err osb_sandbox_extend(osb_sandbox *sb, int seconds, osb_renew_result **out);
/* Resolves the execd and egress endpoints again (after a resume, or when a
 * gateway moved). */
OSB_API osb_err osb_sandbox_resolve(osb_sandbox *sb);
/* One readiness probe: GET /ping on execd (2xx = OSB_OK). */
OSB_API osb_err osb_sandbox_ping(osb_sandbox *sb);
/* Waits for readiness as osb_sandbox_open does; timeout_ms 0: the handle's
 * ready timeout. */
OSB_API osb_err osb_sandbox_wait_ready(osb_sandbox *sb, int timeout_ms);

OSB_API osb_client *osb_sandbox_client(const osb_sandbox *sb);
OSB_API const char *osb_sandbox_id(const osb_sandbox *sb);
/* The resolved targets (URL after rewrites + endpoint headers); egress is
 * NULL when it was not resolved (skip_egress, or it failed for a connected
 * handle: an existing sandbox may have no sidecar endpoint). */
OSB_API const osb_target *osb_sandbox_execd(const osb_sandbox *sb);
OSB_API const osb_target *osb_sandbox_egress(const osb_sandbox *sb);
/* The sandbox as the create call returned it (id, state, expiry, ...); NULL
 * for a connected handle. Call osb_sandbox_describe for the current state. */
OSB_API const osb_sandbox_info *osb_sandbox_created(const osb_sandbox *sb);

/* Shortcuts: the lifecycle and egress calls with this sandbox's id/target. */
OSB_API osb_err osb_sandbox_describe(osb_sandbox *sb, osb_sandbox_info **out);
OSB_API osb_err osb_sandbox_set_metadata(osb_sandbox *sb, const osb_pair *patch, size_t count,
                                         osb_sandbox_info **out);
/* Any other port of the sandbox (with the handle's server-proxy setting). */
OSB_API osb_err osb_sandbox_expose(osb_sandbox *sb, int port, osb_endpoint **out);
/* A signed route to a port, valid until expires (Unix seconds); never through
 * the server proxy (servers refuse the combination). Gateways only: Docker
 * answers 400 SANDBOX::API_NOT_SUPPORTED. */
OSB_API osb_err osb_sandbox_expose_signed(osb_sandbox *sb, int port, int64_t expires, osb_endpoint **out);
/* Takes a snapshot; wait_ms > 0 polls until it is Ready (Failed ->
 * OSB_ERR_STATE, no result in time -> OSB_ERR_TIMEOUT). */
OSB_API osb_err osb_sandbox_snapshot(osb_sandbox *sb, const char *name, int wait_ms, osb_snapshot **out);
/* Diagnostics as text (req NULL: container logs). */
OSB_API osb_err osb_sandbox_diagnostics(osb_sandbox *sb, const osb_diagnostics_text_req *req, osb_text **out);
OSB_API osb_err osb_sandbox_egress_policy(osb_sandbox *sb, osb_egress_status **out);
OSB_API osb_err osb_sandbox_egress_patch(osb_sandbox *sb, const osb_network_rule *rules, size_t count,
                                         osb_egress_status **out);
OSB_API osb_err osb_sandbox_egress_delete(osb_sandbox *sb, const char *const *targets, size_t count,
                                          osb_egress_status **out);
OSB_API osb_err osb_sandbox_vault_create(osb_sandbox *sb, const osb_vault_create_req *req, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_get(osb_sandbox *sb, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_patch(osb_sandbox *sb, const osb_vault_patch_req *req, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_delete(osb_sandbox *sb);
OSB_API osb_err osb_sandbox_vault_credentials(osb_sandbox *sb, osb_vault_state **out);
OSB_API osb_err osb_sandbox_vault_bindings(osb_sandbox *sb, osb_vault_state **out);


/* Shortcuts: the execd calls with this sandbox's target (see parts of the
 * execd section for each one's arguments, events and errors). */

/* Runs `bash -c command` in the foreground (osb_command_run). on_event (may
 * be NULL) sees each event as it arrives (live output); x (may be NULL)
 * aggregates stdout, stderr and the exit code. */
OSB_API osb_err osb_sandbox_run(osb_sandbox *sb, const char *command, osb_event_fn on_event, void *user,
                                osb_execution *x);
/* The same with every command option (cwd, timeout, uid/gid, envs, cancel). */
OSB_API osb_err osb_sandbox_command(osb_sandbox *sb, const osb_command_request *req, osb_event_fn on_event,
                                    void *user, osb_execution *x);
/* Starts a background command; its id goes to id[0..cap). */
OSB_API osb_err osb_sandbox_start(osb_sandbox *sb, const char *command, char *id, size_t cap);
/* Follows a background command's output to sink until it ends (polling
 * every 500 ms); *exit_code (may be NULL) gets its exit code. */
OSB_API osb_err osb_sandbox_follow(osb_sandbox *sb, const char *id, osb_write_fn sink, void *user, int *exit_code);
OSB_API osb_err osb_sandbox_interrupt(osb_sandbox *sb, const char *id);
/* A bash session (state kept between runs) and a run in it. */
OSB_API osb_err osb_sandbox_session(osb_sandbox *sb, const char *cwd, char *id, size_t cap);
OSB_API osb_err osb_sandbox_session_run(osb_sandbox *sb, const char *session_id, const char *command,
                                        osb_event_fn on_event, void *user, osb_execution *x);
/* Code interpreter: a context (language NULL: "python") and code run in it
 * (context_id NULL: the language's default context). */
OSB_API osb_err osb_sandbox_code_context(osb_sandbox *sb, const char *language, osb_code_context **out);
OSB_API osb_err osb_sandbox_code(osb_sandbox *sb, const char *context_id, const char *language, const char *code,
                                 osb_event_fn on_event, void *user, osb_execution *x);

/* Progress of a transfer: done bytes of total (0 when unknown). Return
 * non-zero to stop it (OSB_ERR_CANCELLED). */
typedef int (*osb_progress_fn)(void *user, uint64_t done, uint64_t total);

/* Writes len bytes of data to path in the sandbox (created or replaced). */
OSB_API osb_err osb_sandbox_write_file(osb_sandbox *sb, const char *path, const void *data, size_t len);
/* Reads a whole file of the sandbox into out (appended; out->max caps it). */
OSB_API osb_err osb_sandbox_read_file(osb_sandbox *sb, const char *path, osb_buf *out);
/* Uploads a local file, streamed (memory stays constant). progress may be NULL. */
OSB_API osb_err osb_sandbox_upload(osb_sandbox *sb, const char *local_path, const char *remote_path,
                                   osb_progress_fn progress, void *user);
/* Downloads a file of the sandbox to a local path (created or truncated),
 * resuming after dropped connections. progress may be NULL. */
OSB_API osb_err osb_sandbox_download(osb_sandbox *sb, const char *remote_path, const char *local_path,
                                     osb_progress_fn progress, void *user);
OSB_API osb_err osb_sandbox_list_dir(osb_sandbox *sb, const char *path, int depth, osb_file_info_list **out);
/* One resource sample, and the live samples (until on_event returns
 * non-zero or *cancel is set: then OSB_ERR_CANCELLED). */
OSB_API osb_err osb_sandbox_metrics(osb_sandbox *sb, osb_metrics **out);
OSB_API osb_err osb_sandbox_watch(osb_sandbox *sb, osb_event_fn on_event, void *user, const volatile int *cancel);

/* >>manager ----------------------------------------------------------------
 * Sandboxes of a lifecycle server as a whole. */

/* One page (the list call itself; req NULL: no filter). */
OSB_API osb_err osb_manager_list(osb_client *c, const osb_sandbox_list_req *req, osb_sandbox_page **out);
OSB_API osb_err osb_manager_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out);
/* Deletes every id (all are tried). results (may be NULL) gets one code per
 * id; the return value is OSB_OK or the first failure's code. */
OSB_API osb_err osb_manager_kill(osb_client *c, const char *const *ids, size_t count, osb_err *results);

/* Every sandbox matching a filter, page after page:
 *     osb_sandbox_iter it;
 *     const osb_sandbox_info *s;
 *     osb_manager_iter(&it, c, &filter);           // filter NULL: all
 *     while (osb_manager_next(&it, &s) == OSB_OK && s) ... s->id.ptr ...
 *     osb_manager_iter_free(&it);
 * The filter (and what it points to) must live until the iteration ends;
 * page_size 0 asks for 100 per page. The item is valid until the next call. */
typedef struct osb_sandbox_iter {
    osb_client *c;
    osb_sandbox_list_req req;
    osb_sandbox_page *page;
    size_t index;
    int done;
    osb_err err;
} osb_sandbox_iter;
OSB_API void osb_manager_iter(osb_sandbox_iter *it, osb_client *c, const osb_sandbox_list_req *filter);
/* *item: the next sandbox, or NULL at the end (return OSB_OK). */
OSB_API osb_err osb_manager_next(osb_sandbox_iter *it, const osb_sandbox_info **item);
OSB_API void osb_manager_iter_free(osb_sandbox_iter *it);

#ifdef __cplusplus
}
#endif
#endif /* OSB__SANDBOX_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__SANDBOX_IMPLEMENTED)
#define OSB__SANDBOX_IMPLEMENTED
#ifdef __cplusplus
extern "C" {
#endif

/* >>impl-config ------------------------------------------------------------ */

OSB_API int osb_config_bool(const char *s) {
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i, n;
    if (!s) return -1;
    while (*s == ' ' || *s == '\t') s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
    for (i = 0; i < 4; i++) {
        if (osb__ieq(s, n, yes[i])) return 1;
        if (osb__ieq(s, n, no[i])) return 0;
    }
    return -1;
}

/* Appends s to the config's store; NULL when it does not fit. */
static const char *osb__cfg_keep(osb_config *cfg, size_t *used, const char *s, size_t n) {
    char *p;
    if (*used + n + 1 > sizeof cfg->store) return NULL;
    p = cfg->store + *used;
    memcpy(p, s, n);
    p[n] = 0;
    *used += n + 1;
    return p;
}

static int osb__toml_space(int c) { return c == ' ' || c == '\t'; }

/* Decodes the TOML value at v (up to end) into out. Handles basic strings
 * with escapes, literal strings and bare values (booleans, numbers). Returns
 * the length, or -1 when malformed or longer than cap-1. */
static long osb__toml_value(const char *v, const char *end, char *out, size_t cap) {
    size_t n = 0;
#define OSB__TOML_PUT(ch) do { if (n + 1 >= cap) return -1; out[n++] = (char)(ch); } while (0)
    if (v < end && *v == '"') {
        for (v++; v < end && *v != '"'; v++) {
            if (*v != '\\') { OSB__TOML_PUT(*v); continue; }
            if (++v >= end) return -1;
            switch (*v) {
            case 'b': OSB__TOML_PUT('\b'); break;
            case 't': OSB__TOML_PUT('\t'); break;
            case 'n': OSB__TOML_PUT('\n'); break;
            case 'f': OSB__TOML_PUT('\f'); break;
            case 'r': OSB__TOML_PUT('\r'); break;
            case '"': OSB__TOML_PUT('"'); break;
            case '\\': OSB__TOML_PUT('\\'); break;
            case 'u': case 'U': {
                int digits = *v == 'u' ? 4 : 8, i;
                unsigned long cp = 0;
                for (i = 0; i < digits; i++) {
                    int c;
                    if (++v >= end) return -1;
                    c = *v;
                    if (c >= '0' && c <= '9') c -= '0';
                    else if (c >= 'a' && c <= 'f') c -= 'a' - 10;
                    else if (c >= 'A' && c <= 'F') c -= 'A' - 10;
                    else return -1;
                    cp = cp * 16 + (unsigned long)c;
                }
                if (cp < 0x80) OSB__TOML_PUT(cp);
                else if (cp < 0x800) { OSB__TOML_PUT(0xC0 | (cp >> 6)); OSB__TOML_PUT(0x80 | (cp & 0x3F)); }
                else if (cp < 0x10000) {
                    OSB__TOML_PUT(0xE0 | (cp >> 12)); OSB__TOML_PUT(0x80 | ((cp >> 6) & 0x3F));
                    OSB__TOML_PUT(0x80 | (cp & 0x3F));
                } else if (cp < 0x110000) {
                    OSB__TOML_PUT(0xF0 | (cp >> 18)); OSB__TOML_PUT(0x80 | ((cp >> 12) & 0x3F));
                    OSB__TOML_PUT(0x80 | ((cp >> 6) & 0x3F)); OSB__TOML_PUT(0x80 | (cp & 0x3F));
                } else return -1;
                break;
            }
            default: return -1;
            }
        }
        if (v >= end) return -1;      /* unterminated (multi-line strings are not read) */
    } else if (v < end && *v == '\'') {
        for (v++; v < end && *v != '\''; v++) OSB__TOML_PUT(*v);
        if (v >= end) return -1;
    } else {
        const char *e = v;
        while (e < end && *e != '#') e++;
        while (e > v && osb__toml_space((unsigned char)e[-1])) e--;
        if (e == v) return -1;
        for (; v < e; v++) {
            if (*v == '"' || *v == '\'' || *v == '[' || *v == '{') return -1;
            if (*v != '_') OSB__TOML_PUT(*v);   /* 1_000 = 1000 */
        }
    }
#undef OSB__TOML_PUT
    out[n] = 0;
    return (long)n;
}

/* Finds key in [section] of a TOML text. Returns the value's length, -1 when
 * the key is absent, -2 when its value cannot be read. Only the subset the
 * CLI writes is understood: [tables], bare or quoted keys, one-line values;
 * other lines are skipped. */
static long osb__toml_get(const char *text, size_t len, const char *section, const char *key,
                          char *out, size_t cap) {
    const char *p = text, *end = text + len;
    int in_section = 0;
    long found = -1;
    while (p < end) {
        const char *line = p, *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
        const char *q, *le;
        if (!eol) eol = end;
        p = eol < end ? eol + 1 : end;
        le = eol;
        if (le > line && le[-1] == '\r') le--;
        q = line;
        while (q < le && osb__toml_space((unsigned char)*q)) q++;
        if (q == le || *q == '#') continue;
        if (*q == '[') {
            const char *s = q + 1, *e;
            if (s < le && *s == '[') { in_section = 0; continue; }   /* array of tables */
            while (s < le && osb__toml_space((unsigned char)*s)) s++;
            e = (const char *)memchr(s, ']', (size_t)(le - s));
            if (!e) { in_section = 0; continue; }
            while (e > s && osb__toml_space((unsigned char)e[-1])) e--;
            if (e - s >= 2 && (*s == '"' || *s == '\'') && e[-1] == *s) { s++; e--; }
            in_section = (size_t)(e - s) == strlen(section) && memcmp(s, section, (size_t)(e - s)) == 0;
            continue;
        }
        if (!in_section) continue;
        {
            const char *ks = q, *ke;
            if (*q == '"' || *q == '\'') {
                ke = (const char *)memchr(q + 1, *q, (size_t)(le - q - 1));
                if (!ke) continue;
                ks = q + 1;
                q = ke + 1;
            } else {
                while (q < le && *q != '=' && !osb__toml_space((unsigned char)*q)) q++;
                ke = q;
            }
            while (q < le && osb__toml_space((unsigned char)*q)) q++;
            if (q >= le || *q != '=') continue;
            q++;
            while (q < le && osb__toml_space((unsigned char)*q)) q++;
            if ((size_t)(ke - ks) != strlen(key) || memcmp(ks, key, (size_t)(ke - ks)) != 0) continue;
            found = osb__toml_value(q, le, out, cap);
            if (found < 0) found = -2;
            /* TOML forbids a key twice; should a file have it, the last one wins */
        }
    }
    return found;
}

/* Reads a whole small file into a buffer of the caller's (at most cap-1 bytes). */
static long osb__cfg_read_file(const char *path, char *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    size_t got;
    if (!f) return -1;
    got = fread(buf, 1, cap - 1, f);
    if (ferror(f)) { fclose(f); return -1; }
    fclose(f);
    buf[got] = 0;
    return (long)got;
}

/* Seconds ("30", "2.5") to milliseconds; -1 when not a positive number. */
static int osb__cfg_seconds(const char *s) {
    char *end;
    double d;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) return -1;
    d = strtod(s, &end);
    while (*end == ' ' || *end == '\t') end++;
    if (*end || !(d > 0) || d > 2000000.0) return -1;
    return (int)(d * 1000.0 + 0.999);
}

OSB_API osb_err osb_config_load(osb_config *cfg) {
    enum { DOMAIN, API_KEY, PROTOCOL, TIMEOUT, PROXY, NSET };
    static const char *const env_names[NSET] = {
        "OPEN_SANDBOX_DOMAIN", "OPEN_SANDBOX_API_KEY", "OPEN_SANDBOX_PROTOCOL",
        "OPEN_SANDBOX_REQUEST_TIMEOUT", "OPEN_SANDBOX_USE_SERVER_PROXY"};
    static const char *const file_keys[NSET] = {"domain", "api_key", "protocol", "request_timeout",
                                                "use_server_proxy"};
    const char *val[NSET];
    const char *src[NSET];
    char *filetext = NULL;
    long filelen = -1;
    size_t used = 0;
    int i;
    osb_err e = OSB_OK;
    char path[1024];
    char tmp[512];

    if (!cfg) return OSB_ERR_INVALID_ARG;
    cfg->message[0] = 0;
    val[DOMAIN] = cfg->client.domain;
    val[API_KEY] = cfg->client.api_key;
    val[PROTOCOL] = cfg->client.protocol;
    val[TIMEOUT] = NULL;
    val[PROXY] = NULL;
    for (i = 0; i < NSET; i++) src[i] = val[i] ? "explicit" : NULL;
    if (val[DOMAIN] && !*val[DOMAIN]) val[DOMAIN] = NULL, src[DOMAIN] = NULL;
    if (cfg->request_timeout_ms > 0) src[TIMEOUT] = "explicit";
    if (cfg->use_server_proxy != 0) src[PROXY] = "explicit";

    /* the environment */
    if (!cfg->skip_env) {
        for (i = 0; i < NSET; i++) {
            const char *v;
            if (src[i]) continue;
            v = getenv(env_names[i]);
            if (!v || !*v) continue;
            val[i] = v;
            src[i] = "env";
        }
    }

    /* the config file, read only when something is still unset */
    for (i = 0; i < NSET; i++) if (!src[i]) break;
    if (i < NSET && !(cfg->file && !*cfg->file)) {
        int named = cfg->file != NULL;
        if (named) {
            snprintf(path, sizeof path, "%s", cfg->file);
        } else {
            const char *home = getenv("HOME");
#ifdef _WIN32
            if (!home || !*home) home = getenv("USERPROFILE");
#endif
            path[0] = 0;
            if (home && *home) snprintf(path, sizeof path, "%s/.opensandbox/config.toml", home);
        }
        if (path[0]) {
            filetext = (char *)malloc(65536);
            if (!filetext) return OSB_ERR_NOMEM;
            filelen = osb__cfg_read_file(path, filetext, 65536);
            if (filelen < 0 && named) {
                snprintf(cfg->message, sizeof cfg->message, "cannot read the config file %.150s", path);
                free(filetext);
                return OSB_ERR_IO;
            }
        }
    }
    if (filelen >= 0) {
        for (i = 0; i < NSET; i++) {
            long n;
            if (src[i]) continue;
            n = osb__toml_get(filetext, (size_t)filelen, "connection", file_keys[i], tmp, sizeof tmp);
            if (n == -1) continue;
            if (n < 0) {
                snprintf(cfg->message, sizeof cfg->message,
                         "config file %.100s: [connection].%s is not a one-line value", path, file_keys[i]);
                e = OSB_ERR_INVALID_ARG;
                break;
            }
            if (i == API_KEY && n == 0) continue;   /* config init writes api_key = "" */
            if (!(val[i] = osb__cfg_keep(cfg, &used, tmp, (size_t)n))) { e = OSB_ERR_TOO_LARGE; break; }
            src[i] = "file";
        }
    }
    free(filetext);
    if (e) {
        if (e == OSB_ERR_TOO_LARGE) snprintf(cfg->message, sizeof cfg->message, "a configuration value is too long");
        return e;
    }

    /* env values are copied too, so the result does not depend on the environment later */
    for (i = 0; i < NSET; i++) {
        if (src[i] && strcmp(src[i], "env") == 0) {
            if (!(val[i] = osb__cfg_keep(cfg, &used, val[i], strlen(val[i])))) {
                snprintf(cfg->message, sizeof cfg->message, "%s is too long", env_names[i]);
                return OSB_ERR_TOO_LARGE;
            }
        }
    }

    /* defaults and checks */
    if (!src[DOMAIN]) { val[DOMAIN] = "localhost:8080"; src[DOMAIN] = "default"; }
    if (!src[API_KEY]) src[API_KEY] = "default";
    if (!src[PROTOCOL]) { val[PROTOCOL] = "http"; src[PROTOCOL] = "default"; }
    if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "http")) val[PROTOCOL] = "http";
    else if (osb__ieq(val[PROTOCOL], strlen(val[PROTOCOL]), "https")) val[PROTOCOL] = "https";
    else {
        snprintf(cfg->message, sizeof cfg->message, "protocol (%s) must be http or https", src[PROTOCOL]);
        return OSB_ERR_INVALID_ARG;
    }
    if (src[TIMEOUT] && strcmp(src[TIMEOUT], "explicit") != 0) {
        int ms = osb__cfg_seconds(val[TIMEOUT]);
        if (ms < 0) {
            snprintf(cfg->message, sizeof cfg->message, "request timeout (%s) must be a positive number of seconds",
                     src[TIMEOUT]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->request_timeout_ms = ms;
    } else if (!src[TIMEOUT]) {
        src[TIMEOUT] = "default";
    }
    if (src[PROXY] && strcmp(src[PROXY], "explicit") != 0) {
        int b = osb_config_bool(val[PROXY]);
        if (b < 0) {
            snprintf(cfg->message, sizeof cfg->message, "use_server_proxy (%s) must be true or false", src[PROXY]);
            return OSB_ERR_INVALID_ARG;
        }
        cfg->use_server_proxy = b;
    } else if (!src[PROXY]) {
        src[PROXY] = "default";
        cfg->use_server_proxy = 0;
    } else {
        cfg->use_server_proxy = cfg->use_server_proxy > 0;
    }
    cfg->client.domain = val[DOMAIN];
    cfg->client.api_key = val[API_KEY];
    cfg->client.protocol = val[PROTOCOL];
    if (cfg->request_timeout_ms > 0 && cfg->client.timeouts.total_ms == 0)
        cfg->client.timeouts.total_ms = cfg->request_timeout_ms;
    cfg->domain_source = src[DOMAIN];
    cfg->api_key_source = src[API_KEY];
    cfg->protocol_source = src[PROTOCOL];
    cfg->timeout_source = src[TIMEOUT];
    cfg->proxy_source = src[PROXY];
    return OSB_OK;
}


/* >>impl-sandbox ----------------------------------------------------------- */

struct osb_sandbox {
    osb_client *c;
    char *id;
    osb_sandbox_options opt;     /* host_rewrite points at 'rewrite' */
    char **rewrite;              /* "from=to" copies, NULL-terminated */
    osb_sandbox_info *created;
    osb_endpoint *ep[2];         /* execd, egress */
    char *url[2];                /* after host rewrites */
    osb_target t[2];
    int egress_optional;         /* connected handles: a missing egress endpoint is fine */
};

static osb_err osb__sb_fail(osb_client *c, osb_err e, const char *fmt, const char *arg) {
    osb__reset_error(&c->err);
    osb__set_error(&c->err, e, fmt, arg ? arg : "");
    return e;
}

static void osb__sb_free(osb_sandbox *sb) {
    const osb_allocator *a;
    size_t i;
    if (!sb) return;
    a = sb->c->alloc;
    for (i = 0; i < 2; i++) {
        osb_result_free(sb->ep[i]);
        osb__free(a, sb->url[i]);
    }
    if (sb->rewrite) {
        for (i = 0; sb->rewrite[i]; i++) osb__free(a, sb->rewrite[i]);
        osb__free(a, sb->rewrite);
    }
    osb_result_free(sb->created);
    osb__free(a, sb->id);
    osb__free(a, sb);
}

static osb_err osb__sb_new(osb_client *c, const char *id, const osb_sandbox_options *opt, osb_sandbox **out) {
    const osb_allocator *a = c->alloc;
    osb_sandbox *sb = (osb_sandbox *)osb__alloc(a, sizeof *sb);
    size_t n = 0, i;
    *out = NULL;
    if (!sb) return osb__sb_fail(c, OSB_ERR_NOMEM, "out of memory%s", NULL);
    memset(sb, 0, sizeof *sb);
    sb->c = c;
    if (opt) sb->opt = *opt;
    if (sb->opt.ready_timeout_ms <= 0) sb->opt.ready_timeout_ms = OSB_DEFAULT_READY_TIMEOUT_MS;
    if (sb->opt.poll_ms <= 0) sb->opt.poll_ms = OSB_DEFAULT_READY_POLL_MS;
    if (sb->opt.execd_port == 0) sb->opt.execd_port = OSB_EXECD_PORT;
    if (sb->opt.egress_port == 0) sb->opt.egress_port = OSB_EGRESS_PORT;
    sb->opt.host_rewrite = NULL;
    if (!(sb->id = osb__strndup(a, id, strlen(id)))) goto nomem;
    if (opt && opt->host_rewrite) {
        while (opt->host_rewrite[n]) {
            const char *eq = strchr(opt->host_rewrite[n], '=');
            if (!eq || eq == opt->host_rewrite[n] || !eq[1]) {
                osb__sb_free(sb);
                return osb__sb_fail(c, OSB_ERR_INVALID_ARG, "host_rewrite entries are \"from=to\"%s", NULL);
            }
            n++;
        }
        sb->rewrite = (char **)osb__alloc(a, (n + 1) * sizeof(char *));
        if (!sb->rewrite) goto nomem;
        memset(sb->rewrite, 0, (n + 1) * sizeof(char *));
        for (i = 0; i < n; i++)
            if (!(sb->rewrite[i] = osb__strndup(a, opt->host_rewrite[i], strlen(opt->host_rewrite[i])))) goto nomem;
        sb->opt.host_rewrite = (const char *const *)sb->rewrite;
    }
    *out = sb;
    return OSB_OK;
nomem:
    osb__sb_free(sb);
    return osb__sb_fail(c, OSB_ERR_NOMEM, "out of memory%s", NULL);
}

/* The endpoint URL with its host replaced when a rewrite rule names it. */
static char *osb__sb_rewrite(osb_sandbox *sb, const char *url) {
    const osb_allocator *a = sb->c->alloc;
    const char *h = strstr(url, "://"), *he;
    size_t i;
    h = h ? h + 3 : url;
    if (*h == '[') {
        he = strchr(h, ']');
        he = he ? he + 1 : h + strlen(h);
    } else {
        he = h;
        while (*he && *he != ':' && *he != '/') he++;
    }
    for (i = 0; sb->rewrite && sb->rewrite[i]; i++) {
        const char *r = sb->rewrite[i], *eq = strchr(r, '=');
        size_t fl = (size_t)(eq - r);
        if ((size_t)(he - h) == fl) {
            char from[256];
            if (fl >= sizeof from) continue;
            memcpy(from, r, fl);
            from[fl] = 0;
            if (osb__ieq(h, fl, from)) {
                size_t pre = (size_t)(h - url), tl = strlen(eq + 1), rest = strlen(he);
                char *out = (char *)osb__alloc(a, pre + tl + rest + 1);
                if (!out) return NULL;
                memcpy(out, url, pre);
                memcpy(out + pre, eq + 1, tl);
                memcpy(out + pre + tl, he, rest + 1);
                return out;
            }
        }
    }
    return osb__strndup(a, url, strlen(url));
}

/* Resolves endpoint i (0 execd, 1 egress) into sb->t[i]. */
static osb_err osb__sb_resolve_one(osb_sandbox *sb, int i) {
    osb_endpoint_req er;
    osb_endpoint *ep = NULL;
    char *url;
    osb_err e;
    memset(&er, 0, sizeof er);
    er.use_server_proxy = sb->opt.use_server_proxy > 0;
    e = osb_sandbox_endpoint(sb->c, sb->id, i == 0 ? sb->opt.execd_port : sb->opt.egress_port, &er, &ep);
    if (e) return e;
    url = osb__sb_rewrite(sb, ep->url.ptr ? ep->url.ptr : "");
    if (!url) {
        osb_result_free(ep);
        return osb__sb_fail(sb->c, OSB_ERR_NOMEM, "out of memory%s", NULL);
    }
    osb_result_free(sb->ep[i]);
    osb__free(sb->c->alloc, sb->url[i]);
    sb->ep[i] = ep;
    sb->url[i] = url;
    sb->t[i].url = url;
    sb->t[i].headers = ep->header_lines;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_resolve(osb_sandbox *sb) {
    osb_err e;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb__sb_resolve_one(sb, 0);
    if (e || sb->opt.skip_egress) return e;
    e = osb__sb_resolve_one(sb, 1);
    if (e && sb->egress_optional) {
        /* an existing sandbox may predate the sidecar: go on without egress */
        osb_result_free(sb->ep[1]);
        osb__free(sb->c->alloc, sb->url[1]);
        sb->ep[1] = NULL;
        sb->url[1] = NULL;
        sb->t[1].url = NULL;
        sb->t[1].headers = NULL;
        osb__reset_error(&sb->c->err);
        e = OSB_OK;
    }
    return e;
}

/* GET {execd}/ping with deadlines that end by 'deadline' (0: the client's). */
static osb_err osb__sb_ping(osb_sandbox *sb, int64_t deadline) {
    osb_http_request req;
    osb_http_response res;
    osb_err e;
    char url[1400];
    if (!sb->url[0]) return osb__sb_fail(sb->c, OSB_ERR_STATE, "the execd endpoint is not resolved%s", NULL);
    snprintf(url, sizeof url, "%s/ping", sb->url[0]);
    memset(&req, 0, sizeof req);
    req.url = url;
    req.headers = sb->t[0].headers;
    if (deadline) {
        int64_t left = deadline - osb__now_ms();
        int ms = left < 1 ? 1 : (left > 5000 ? 5000 : (int)left);
        req.timeouts.connect_ms = ms;
        req.timeouts.first_byte_ms = ms;
        req.timeouts.idle_ms = ms;
        req.timeouts.total_ms = ms;
    }
    e = osb_request_raw(sb->c, &req, &res);
    osb_http_response_free(&res);
    return e;
}

OSB_API osb_err osb_sandbox_ping(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb__sb_ping(sb, 0);
}

OSB_API osb_err osb_sandbox_wait_ready(osb_sandbox *sb, int timeout_ms) {
    int64_t start, deadline;
    int delay, probes = 0;
    char last[200];
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (timeout_ms <= 0) timeout_ms = sb->opt.ready_timeout_ms;
    start = osb__now_ms();
    deadline = start + timeout_ms;
    delay = sb->opt.poll_ms;
    last[0] = 0;
    for (;;) {
        int ok;
        probes++;
        if (sb->opt.health_check) {
            ok = sb->opt.health_check(sb->opt.health_user, sb);
            if (ok < 0)
                return osb__sb_fail(sb->c, OSB_ERR_STATE, "the health check rejected sandbox %s", sb->id);
            if (!ok) snprintf(last, sizeof last, "the health check said not ready");
        } else {
            osb_err e = osb__sb_ping(sb, deadline);
            ok = e == OSB_OK;
            if (!ok) snprintf(last, sizeof last, "%.190s", sb->c->err.message[0] ? sb->c->err.message : osb_strerror(e));
        }
        if (ok > 0) {
            osb__reset_error(&sb->c->err);
            return OSB_OK;
        }
        if (osb__now_ms() + delay >= deadline) break;
        osb__sleep_ms(delay);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
    }
    osb__reset_error(&sb->c->err);
    osb__set_error(&sb->c->err, OSB_ERR_TIMEOUT,
                   "sandbox %.64s not ready after %d ms (%d probes; last: %s). If its endpoint is not "
                   "reachable from here, try use_server_proxy or a host_rewrite",
                   sb->id, timeout_ms, probes, last);
    sb->c->err.phase = OSB_PHASE_TOTAL;
    return OSB_ERR_TIMEOUT;
}

/* Resolve, then wait (unless skipped). */
static osb_err osb__sb_reach(osb_sandbox *sb) {
    osb_err e = osb_sandbox_resolve(sb);
    if (e) return e;
    if (sb->opt.skip_health_check) return OSB_OK;
    return osb_sandbox_wait_ready(sb, 0);
}

static int osb__sb_state_is(const osb_sandbox_info *s, const char *state) {
    return s && s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, state);
}

/* Polls GET /v1/sandboxes/{id} until Running (servers that answer create
 * with Pending). */
static osb_err osb__sb_wait_running(osb_sandbox *sb, int64_t deadline) {
    int delay = sb->opt.poll_ms;
    for (;;) {
        osb_sandbox_info *s = NULL;
        osb_err e = osb_sandbox_get(sb->c, sb->id, &s);
        if (e) return e;
        if (osb__sb_state_is(s, "Running")) { osb_result_free(s); return OSB_OK; }
        if (osb__sb_state_is(s, "Failed") || osb__sb_state_is(s, "Terminated")) {
            char msg[160];
            snprintf(msg, sizeof msg, "%.40s: %.110s", s->status.state.ptr,
                     s->status.message.ptr ? s->status.message.ptr : "");
            osb_result_free(s);
            return osb__sb_fail(sb->c, OSB_ERR_STATE, "sandbox did not start (%s)", msg);
        }
        osb_result_free(s);
        if (osb__now_ms() + delay >= deadline)
            return osb__sb_fail(sb->c, OSB_ERR_TIMEOUT, "sandbox %s did not reach Running in time", sb->id);
        osb__sleep_ms(delay);
        delay = delay * 2 > 2000 ? 2000 : delay * 2;
    }
}

OSB_API osb_err osb_sandbox_open(osb_client *c, const osb_sandbox_create_req *req,
                                 const osb_sandbox_options *opt, osb_sandbox **out) {
    static const char *const default_entrypoint[] = {"tail", "-f", "/dev/null", NULL};
    static const osb_pair default_limits[] = {{"cpu", "1"}, {"memory", "2Gi"}};
    osb_sandbox_create_req r;
    osb_sandbox_info *info = NULL;
    osb_sandbox *sb = NULL;
    osb_err e;
    size_t i;
    int pool = 0;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!req || !out) return osb__sb_fail(c, OSB_ERR_INVALID_ARG, "no create request or result pointer%s", NULL);
    r = *req;
    for (i = 0; i < r.extensions_count; i++)
        if (r.extensions[i].key && strcmp(r.extensions[i].key, "poolRef") == 0) pool = 1;
    if (r.timeout_s == 0) r.timeout_s = OSB_DEFAULT_SANDBOX_TIMEOUT_S;
    else if (r.timeout_s < 0) r.timeout_s = 0;
    if (!r.entrypoint && r.image && *r.image) r.entrypoint = default_entrypoint;
    if (!r.resource_limits_count && !pool) {
        r.resource_limits = default_limits;
        r.resource_limits_count = 2;
    }
    e = osb_sandbox_create(c, &r, &info);
    if (e) return e;
    if (!info->id.ptr || !*info->id.ptr) {
        osb_result_free(info);
        return osb__sb_fail(c, OSB_ERR_JSON, "the create answer has no sandbox id%s", NULL);
    }
    e = osb__sb_new(c, info->id.ptr, opt, &sb);
    if (e) {
        osb_error saved = c->err;
        if (!(opt && opt->keep_on_failure)) osb_sandbox_delete(c, info->id.ptr);
        c->err = saved;
        osb_result_free(info);
        return e;
    }
    sb->created = info;
    if (info->status.state.ptr && !osb__sb_state_is(info, "Running"))
        e = osb__sb_wait_running(sb, osb__now_ms() + sb->opt.ready_timeout_ms);
    if (!e) e = osb__sb_reach(sb);
    if (e) {
        if (!sb->opt.keep_on_failure) {
            osb_error saved = c->err;
            osb_sandbox_delete(c, sb->id);
            c->err = saved;
        }
        osb__sb_free(sb);
        return e;
    }
    *out = sb;
    return OSB_OK;
}

OSB_API osb_err osb_sandbox_connect(osb_client *c, const char *sandbox_id,
                                    const osb_sandbox_options *opt, osb_sandbox **out) {
    osb_sandbox *sb = NULL;
    osb_err e;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!sandbox_id || !*sandbox_id || !out) return osb__sb_fail(c, OSB_ERR_INVALID_ARG, "no sandbox id%s", NULL);
    e = osb__sb_new(c, sandbox_id, opt, &sb);
    if (e) return e;
    sb->egress_optional = 1;
    e = osb_sandbox_resolve(sb);
    if (!e && !sb->opt.skip_health_check) e = osb_sandbox_wait_ready(sb, 0);
    if (e) {
        osb__sb_free(sb);
        return e;
    }
    *out = sb;
    return OSB_OK;
}

OSB_API void osb_sandbox_close(osb_sandbox *sb) { osb__sb_free(sb); }

OSB_API osb_err osb_sandbox_kill(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_delete(sb->c, sb->id);
}

OSB_API osb_err osb_sandbox_suspend(osb_sandbox *sb) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_pause(sb->c, sb->id);
}

OSB_API osb_err osb_sandbox_wake(osb_sandbox *sb) {
    osb_err e;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb_sandbox_resume(sb->c, sb->id);
    if (e) return e;
    return osb__sb_reach(sb);
}

OSB_API osb_err osb_sandbox_extend(osb_sandbox *sb, int seconds, osb_renew_result **out) {
    char when[40];
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (seconds <= 0 || !osb_format_time((int64_t)time(NULL) + seconds, when, sizeof when))
        return osb__sb_fail(sb->c, OSB_ERR_INVALID_ARG, "renew needs a positive duration%s", NULL);
    return osb_sandbox_renew(sb->c, sb->id, when, out);
}

OSB_API osb_client *osb_sandbox_client(const osb_sandbox *sb) { return sb ? sb->c : NULL; }
OSB_API const char *osb_sandbox_id(const osb_sandbox *sb) { return sb ? sb->id : NULL; }
OSB_API const osb_target *osb_sandbox_execd(const osb_sandbox *sb) {
    return sb && sb->t[0].url ? &sb->t[0] : NULL;
}
OSB_API const osb_target *osb_sandbox_egress(const osb_sandbox *sb) {
    return sb && sb->t[1].url ? &sb->t[1] : NULL;
}
OSB_API const osb_sandbox_info *osb_sandbox_created(const osb_sandbox *sb) { return sb ? sb->created : NULL; }

OSB_API osb_err osb_sandbox_describe(osb_sandbox *sb, osb_sandbox_info **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_get(sb->c, sb->id, out);
}

OSB_API osb_err osb_sandbox_set_metadata(osb_sandbox *sb, const osb_pair *patch, size_t count,
                                         osb_sandbox_info **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_sandbox_metadata_patch(sb->c, sb->id, patch, count, out);
}

OSB_API osb_err osb_sandbox_expose(osb_sandbox *sb, int port, osb_endpoint **out) {
    osb_endpoint_req er;
    if (!sb) return OSB_ERR_INVALID_ARG;
    memset(&er, 0, sizeof er);
    er.use_server_proxy = sb->opt.use_server_proxy > 0;
    return osb_sandbox_endpoint(sb->c, sb->id, port, &er, out);
}

OSB_API osb_err osb_sandbox_expose_signed(osb_sandbox *sb, int port, int64_t expires, osb_endpoint **out) {
    osb_endpoint_req er;
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    if (expires <= 0) return osb__sb_fail(sb->c, OSB_ERR_INVALID_ARG, "a signed route needs an expiry%s", NULL);
    memset(&er, 0, sizeof er);
    er.expires = expires;
    return osb_sandbox_endpoint(sb->c, sb->id, port, &er, out);
}

OSB_API osb_err osb_sandbox_snapshot(osb_sandbox *sb, const char *name, int wait_ms, osb_snapshot **out) {
    osb_snapshot *s = NULL;
    osb_err e;
    int64_t deadline;
    int delay = 100;
    if (out) *out = NULL;
    if (!sb) return OSB_ERR_INVALID_ARG;
    e = osb_snapshot_create(sb->c, sb->id, name, &s);
    if (e) return e;
    deadline = osb__now_ms() + wait_ms;
    while (wait_ms > 0) {
        osb_snapshot *n = NULL;
        if (s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, "Ready")) break;
        if (s->status.state.ptr && osb__ieq(s->status.state.ptr, s->status.state.len, "Failed")) {
            e = osb__sb_fail(sb->c, OSB_ERR_STATE, "snapshot failed: %.200s",
                             s->status.message.ptr ? s->status.message.ptr : "");
            break;
        }
        if (osb__now_ms() + delay >= deadline) {
            e = osb__sb_fail(sb->c, OSB_ERR_TIMEOUT, "snapshot %.100s not ready in time", s->id.ptr);
            break;
        }
        osb__sleep_ms(delay);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
        e = osb_snapshot_get(sb->c, s->id.ptr, &n);
        if (e) break;
        osb_result_free(s);
        s = n;
    }
    if (out) *out = s;
    else osb_result_free(s);
    return e;
}

OSB_API osb_err osb_sandbox_diagnostics(osb_sandbox *sb, const osb_diagnostics_text_req *req, osb_text **out) {
    if (!sb) return OSB_ERR_INVALID_ARG;
    return osb_diagnostics_text(sb->c, sb->id, req, out);
}

/* The egress target, or OSB_ERR_STATE when it was not resolved. */
#define OSB__SB_EGRESS(sb, out)                                                                      \
    do {                                                                                             \
        if (out) *(out) = NULL;                                                                      \
        if (!(sb)) return OSB_ERR_INVALID_ARG;                                                       \
        if (!(sb)->t[1].url)                                                                         \
            return osb__sb_fail((sb)->c, OSB_ERR_STATE, "the egress endpoint is not resolved%s", NULL); \
    } while (0)

OSB_API osb_err osb_sandbox_egress_policy(osb_sandbox *sb, osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_get(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_egress_patch(osb_sandbox *sb, const osb_network_rule *rules, size_t count,
                                         osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_patch(sb->c, &sb->t[1], rules, count, out);
}
OSB_API osb_err osb_sandbox_egress_delete(osb_sandbox *sb, const char *const *targets, size_t count,
                                          osb_egress_status **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_egress_policy_delete(sb->c, &sb->t[1], targets, count, out);
}
OSB_API osb_err osb_sandbox_vault_create(osb_sandbox *sb, const osb_vault_create_req *req, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_create(sb->c, &sb->t[1], req, out);
}
OSB_API osb_err osb_sandbox_vault_get(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_get(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_vault_patch(osb_sandbox *sb, const osb_vault_patch_req *req, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_patch(sb->c, &sb->t[1], req, out);
}
OSB_API osb_err osb_sandbox_vault_delete(osb_sandbox *sb) {
    osb_vault_state **none = NULL;
    OSB__SB_EGRESS(sb, none);
    return osb_vault_delete(sb->c, &sb->t[1]);
}
OSB_API osb_err osb_sandbox_vault_credentials(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_credential_list(sb->c, &sb->t[1], out);
}
OSB_API osb_err osb_sandbox_vault_bindings(osb_sandbox *sb, osb_vault_state **out) {
    OSB__SB_EGRESS(sb, out);
    return osb_vault_binding_list(sb->c, &sb->t[1], out);
}


/* >>impl-sandbox-execd ----------------------------------------------------- */

#define OSB__SB_EXECD(sb)                                                                            \
    do {                                                                                             \
        if (!(sb)) return OSB_ERR_INVALID_ARG;                                                       \
        if (!(sb)->t[0].url)                                                                         \
            return osb__sb_fail((sb)->c, OSB_ERR_STATE, "the execd endpoint is not resolved%s", NULL); \
    } while (0)

OSB_API osb_err osb_sandbox_run(osb_sandbox *sb, const char *command, osb_event_fn on_event, void *user,
                                osb_execution *x) {
    osb_command_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_command_run(sb->c, &sb->t[0], &r, on_event, user, x);
}

OSB_API osb_err osb_sandbox_command(osb_sandbox *sb, const osb_command_request *req, osb_event_fn on_event,
                                    void *user, osb_execution *x) {
    OSB__SB_EXECD(sb);
    return osb_command_run(sb->c, &sb->t[0], req, on_event, user, x);
}

OSB_API osb_err osb_sandbox_start(osb_sandbox *sb, const char *command, char *id, size_t cap) {
    osb_command_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_command_start(sb->c, &sb->t[0], &r, id, cap);
}

OSB_API osb_err osb_sandbox_follow(osb_sandbox *sb, const char *id, osb_write_fn sink, void *user, int *exit_code) {
    OSB__SB_EXECD(sb);
    return osb_command_follow(sb->c, &sb->t[0], id, sink, user, NULL, 0, NULL, exit_code);
}

OSB_API osb_err osb_sandbox_interrupt(osb_sandbox *sb, const char *id) {
    OSB__SB_EXECD(sb);
    return osb_command_interrupt(sb->c, &sb->t[0], id);
}

OSB_API osb_err osb_sandbox_session(osb_sandbox *sb, const char *cwd, char *id, size_t cap) {
    OSB__SB_EXECD(sb);
    return osb_session_create(sb->c, &sb->t[0], cwd, id, cap);
}

OSB_API osb_err osb_sandbox_session_run(osb_sandbox *sb, const char *session_id, const char *command,
                                        osb_event_fn on_event, void *user, osb_execution *x) {
    osb_session_run_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.command = command;
    return osb_session_run(sb->c, &sb->t[0], session_id, &r, on_event, user, x);
}

OSB_API osb_err osb_sandbox_code_context(osb_sandbox *sb, const char *language, osb_code_context **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_code_context_create(sb->c, &sb->t[0], language ? language : "python", NULL, out);
}

OSB_API osb_err osb_sandbox_code(osb_sandbox *sb, const char *context_id, const char *language, const char *code,
                                 osb_event_fn on_event, void *user, osb_execution *x) {
    osb_code_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.code = code;
    r.context_id = context_id;
    r.language = language ? language : "python";
    return osb_code_run(sb->c, &sb->t[0], &r, on_event, user, x);
}

OSB_API osb_err osb_sandbox_write_file(osb_sandbox *sb, const char *path, const void *data, size_t len) {
    osb_upload_file f;
    OSB__SB_EXECD(sb);
    memset(&f, 0, sizeof f);
    f.path = path;
    f.data = data;
    f.size = len;
    return osb_files_upload(sb->c, &sb->t[0], &f, 1);
}

OSB_API osb_err osb_sandbox_read_file(osb_sandbox *sb, const char *path, osb_buf *out) {
    osb_download_request r;
    OSB__SB_EXECD(sb);
    memset(&r, 0, sizeof r);
    r.path = path;
    return osb_files_download(sb->c, &sb->t[0], &r, osb_buf_sink, out, NULL);
}

/* Progress-reporting reader and writer for the transfer shortcuts. */
typedef struct osb__sb_xfer {
    FILE *f;
    uint64_t done, total;
    osb_progress_fn progress;
    void *user;
    int stopped;
} osb__sb_xfer;

static ptrdiff_t osb__sb_xfer_read(void *user, void *buf, size_t cap) {
    osb__sb_xfer *t = (osb__sb_xfer *)user;
    size_t got;
    if (t->total - t->done < cap) cap = (size_t)(t->total - t->done);
    if (cap == 0) return 0;
    got = fread(buf, 1, cap, t->f);
    if (got == 0) return -1;              /* the file shrank or failed */
    t->done += got;
    if (t->progress && t->progress(t->user, t->done, t->total)) { t->stopped = 1; return -1; }
    return (ptrdiff_t)got;
}

static int osb__sb_xfer_write(void *user, const void *data, size_t len) {
    osb__sb_xfer *t = (osb__sb_xfer *)user;
    if (fwrite(data, 1, len, t->f) != len) return 1;
    t->done += len;
    if (t->progress && t->progress(t->user, t->done, t->total)) { t->stopped = 1; return 1; }
    return 0;
}

OSB_API osb_err osb_sandbox_upload(osb_sandbox *sb, const char *local_path, const char *remote_path,
                                   osb_progress_fn progress, void *user) {
    osb__sb_xfer t;
    osb_upload_file f;
    osb_err e;
    long size;
    OSB__SB_EXECD(sb);
    memset(&t, 0, sizeof t);
    if (!local_path || !(t.f = fopen(local_path, "rb")))
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot open %.200s", local_path ? local_path : "(null)");
    if (fseek(t.f, 0, SEEK_END) != 0 || (size = ftell(t.f)) < 0 || fseek(t.f, 0, SEEK_SET) != 0) {
        fclose(t.f);
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot size %.200s", local_path);
    }
    t.total = (uint64_t)size;
    t.progress = progress;
    t.user = user;
    memset(&f, 0, sizeof f);
    f.path = remote_path;
    f.size = t.total;
    f.read = osb__sb_xfer_read;
    f.read_user = &t;
    e = osb_files_upload(sb->c, &sb->t[0], &f, 1);
    fclose(t.f);
    if (e && t.stopped) return osb__sb_fail(sb->c, OSB_ERR_CANCELLED, "the progress callback stopped the upload%s", NULL);
    return e;
}

OSB_API osb_err osb_sandbox_download(osb_sandbox *sb, const char *remote_path, const char *local_path,
                                     osb_progress_fn progress, void *user) {
    osb__sb_xfer t;
    osb_download_request r;
    osb_err e;
    OSB__SB_EXECD(sb);
    memset(&t, 0, sizeof t);
    if (progress && remote_path) {   /* the size, for the progress total */
        osb_file_info_list *info = NULL;
        if (osb_files_info(sb->c, &sb->t[0], &remote_path, 1, &info) == OSB_OK && info->count == 1 &&
            info->items[0].size > 0)
            t.total = (uint64_t)info->items[0].size;
        osb_result_free(info);
    }
    if (!local_path || !(t.f = fopen(local_path, "wb")))
        return osb__sb_fail(sb->c, OSB_ERR_IO, "cannot create %.200s", local_path ? local_path : "(null)");
    t.progress = progress;
    t.user = user;
    memset(&r, 0, sizeof r);
    r.path = remote_path;
    e = osb_files_download(sb->c, &sb->t[0], &r, osb__sb_xfer_write, &t, NULL);
    if (fclose(t.f) != 0 && !e) e = osb__sb_fail(sb->c, OSB_ERR_IO, "cannot write %.200s", local_path);
    return e;
}

OSB_API osb_err osb_sandbox_list_dir(osb_sandbox *sb, const char *path, int depth, osb_file_info_list **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_dir_list(sb->c, &sb->t[0], path, depth, out);
}

OSB_API osb_err osb_sandbox_metrics(osb_sandbox *sb, osb_metrics **out) {
    if (out) *out = NULL;
    OSB__SB_EXECD(sb);
    return osb_metrics_get(sb->c, &sb->t[0], out);
}

OSB_API osb_err osb_sandbox_watch(osb_sandbox *sb, osb_event_fn on_event, void *user, const volatile int *cancel) {
    OSB__SB_EXECD(sb);
    return osb_metrics_watch(sb->c, &sb->t[0], on_event, user, cancel);
}

/* >>impl-manager ----------------------------------------------------------- */

OSB_API osb_err osb_manager_list(osb_client *c, const osb_sandbox_list_req *req, osb_sandbox_page **out) {
    return osb_sandbox_list(c, req, out);
}

OSB_API osb_err osb_manager_get(osb_client *c, const char *sandbox_id, osb_sandbox_info **out) {
    return osb_sandbox_get(c, sandbox_id, out);
}

OSB_API osb_err osb_manager_kill(osb_client *c, const char *const *ids, size_t count, osb_err *results) {
    osb_err first = OSB_OK;
    osb_error first_detail;
    size_t i;
    memset(&first_detail, 0, sizeof first_detail);
    for (i = 0; i < count; i++) {
        osb_err e = osb_sandbox_delete(c, ids[i]);
        if (results) results[i] = e;
        if (e && !first) {
            first = e;
            first_detail = c->err;
        }
    }
    if (first) c->err = first_detail;
    return first;
}

OSB_API void osb_manager_iter(osb_sandbox_iter *it, osb_client *c, const osb_sandbox_list_req *filter) {
    memset(it, 0, sizeof *it);
    it->c = c;
    if (filter) it->req = *filter;
    if (it->req.page <= 0) it->req.page = 1;
    if (it->req.page_size <= 0) it->req.page_size = 100;
}

OSB_API osb_err osb_manager_next(osb_sandbox_iter *it, const osb_sandbox_info **item) {
    *item = NULL;
    if (it->err) return it->err;
    for (;;) {
        if (it->page && it->index < it->page->items_count) {
            *item = &it->page->items[it->index++];
            return OSB_OK;
        }
        if (it->done) return OSB_OK;
        if (it->page) {
            int more = it->page->pagination.has_next_page && it->page->items_count > 0;
            osb_result_free(it->page);
            it->page = NULL;
            if (!more) { it->done = 1; return OSB_OK; }
            it->req.page++;
        }
        it->index = 0;
        it->err = osb_sandbox_list(it->c, &it->req, &it->page);
        if (it->err) return it->err;
    }
}

OSB_API void osb_manager_iter_free(osb_sandbox_iter *it) {
    osb_result_free(it->page);
    it->page = NULL;
    it->done = 1;
}

#ifdef __cplusplus
}
#endif
#endif /* OSB__SANDBOX_IMPLEMENTED */
