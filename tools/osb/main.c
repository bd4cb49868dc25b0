/* osb -- the OpenSandbox command-line tool, built only on opensandbox.h.
 *
 * The command tree, flags, config file (~/.opensandbox/config.toml) and
 * output formats of the official `osb`, plus snapshots, metadata patches,
 * directory listings, egress rule deletion, code contexts, per-command
 * env/uid/gid and ranged/resumed downloads. `osb --help` lists the commands
 * and the exit codes; tools/README.md has the details.
 *
 * Build: cc -std=c99 -O2 -I. tools/osb/main.c -o build/osb   (add -DOSB_TLS=1 -lbearssl for https)
 *
 * The files of tools/osb/ are compiled as one translation unit: main.c
 * includes them in the order data flows (plumbing, output, configuration,
 * requests, then one file per command group), so every helper stays static
 * and the build is one compiler call, as before.
 */
#define _POSIX_C_SOURCE 200809L
#define OPENSANDBOX_IMPLEMENTATION
#include "opensandbox.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>
#include "portable.h"

#include "plumbing.c"
#include "output.c"
#include "config.c"
#include "remote.c"
#include "sandbox.c"
#include "command.c"
#include "shell.c"
#include "file.c"
#include "egress.c"
#include "vault.c"
#include "diagnostics.c"
#include "configcmd.c"
#include "skills.c"

/* >>tree =================================================================== */
static const opt O_NONE[] = {{NULL}};

static const opt O_SB_CREATE[] = {
    OPT("image", "i", O_VAL, "IMAGE", "container image (default: [defaults].image)"),
    OPT("image-auth-username", "", O_VAL, "USER", "registry user name"),
    OPT("image-auth-password", "", O_VAL, "PASS", "registry password"),
    OPT("timeout", "t", O_VAL, "DUR|none", "time to live, e.g. 10m, 1h30m; none = no TTL (default [defaults].timeout or 10m)"),
    OPT("env", "e", O_MULTI, "K=V", "environment variable (repeatable)"),
    OPT("metadata", "m", O_MULTI, "K=V", "metadata label (repeatable)"),
    OPT("extension", "", O_MULTI, "K=V", "provider extension (repeatable)"),
    OPT("resource", "", O_MULTI, "K=V", "resource limit, e.g. cpu=1 memory=2Gi (repeatable)"),
    OPT("entrypoint", "", O_MULTI, "ARG", "entrypoint argument (repeatable; default tail -f /dev/null)"),
    OPT("network-policy-file", "", O_VAL, "FILE", "JSON network policy"),
    OPT("credential-proxy", "", O_FLAG, "", "enable the credential proxy (needs --network-policy-file)"),
    OPT("volumes-file", "", O_VAL, "FILE", "JSON array of volumes"),
    OPT("skip-health-check", "", O_FLAG, "", "do not wait until the sandbox answers"),
    OPT("ready-timeout", "", O_VAL, "DUR", "how long to wait until ready (default 30s)"),
    OPT("platform", "", O_VAL, "OS[/ARCH]", "platform, e.g. linux/amd64, linux/arm64"),
    OPT("secure-access", "", O_FLAG, "", "require the secure-access token on sandbox endpoints"),
    OPT("snapshot", "", O_VAL, "SNAPSHOT_ID", "restore from a snapshot instead of an image"),
    OPT("count", "n", O_VAL, "N", "create N sandboxes at once (all or none: a failure kills the ones created)"),
    {NULL}};

static const opt O_SB_LIST[] = {
    OPT("state", "s", O_MULTI, "STATE", "filter by state, case-insensitive (repeatable: OR)"),
    OPT("metadata", "m", O_MULTI, "K=V", "filter by metadata (repeatable: AND)"),
    OPT("page", "", O_VAL, "N", "page number (from 1)"),
    OPT("page-size", "", O_VAL, "N", "items per page"),
    {NULL}};

static const opt O_SB_SHELL[] = {
    OPT("workdir", "w", O_VAL, "DIR", "working directory (created if missing)"),
    OPT("env", "e", O_MULTI, "K=V", "environment variable (repeatable)"),
    {NULL}};

static const opt O_SB_RESUME[] = {
    OPT("skip-health-check", "", O_FLAG, "", "do not wait until the sandbox answers"),
    OPT("resume-timeout", "", O_VAL, "DUR", "how long to wait until ready (default 30s)"),
    {NULL}};

static const opt O_SB_RENEW[] = {
    OPT("timeout", "t", O_REQ, "DUR", "new time to live from now, e.g. 30m (required)"),
    {NULL}};

static const opt O_SB_ENDPOINT[] = {
    OPT("port", "p", O_REQ, "PORT", "port inside the sandbox, 1-65535 (required)"),
    OPT("expires", "", O_VAL, "DUR", "signed route valid for DUR (gateway deployments)"),
    {NULL}};

static const opt O_SB_METRICS[] = {
    OPT("watch", "", O_FLAG, "", "stream metrics until Ctrl-C"),
    {NULL}};

static const opt O_SB_METADATA[] = {
    OPT("set", "", O_MULTI, "K=V", "set a key (repeatable; same as a KEY=VALUE argument)"),
    OPT("unset", "", O_MULTI, "KEY", "remove a key (repeatable; same as a KEY- argument)"),
    {NULL}};

static const opt O_SNAP_CREATE[] = {
    OPT("name", "", O_VAL, "NAME", "snapshot name"),
    OPT("wait", "", O_FLAG, "", "wait until the snapshot is Ready"),
    {NULL}};

static const opt O_SNAP_LIST[] = {
    OPT("sandbox", "", O_VAL, "ID", "only snapshots of this sandbox"),
    OPT("state", "s", O_MULTI, "STATE", "filter by state (repeatable)"),
    OPT("page", "", O_VAL, "N", "page number (from 1)"),
    OPT("page-size", "", O_VAL, "N", "items per page"),
    {NULL}};

static const opt O_CMD_RUN[] = {
    OPT("background", "d", O_FLAG, "", "run in the background and print the execution id"),
    OPT("workdir", "w", O_VAL, "DIR", "working directory"),
    OPT("timeout", "t", O_VAL, "DUR", "kill the command after DUR"),
    OPT("env", "e", O_MULTI, "K=V", "environment variable (repeatable)"),
    OPT("uid", "", O_VAL, "UID", "run as this user id"),
    OPT("gid", "", O_VAL, "GID", "run with this group id (needs --uid)"),
    OPT("interactive", "i", O_FLAG, "", "on a terminal in the sandbox (-i or -it): keys, window size and exit code pass through"),
    OPT("all", "", O_FLAG, "", "in every running sandbox at once (no ID); each output line starts with the sandbox id"),
    OPT("metadata", "m", O_MULTI, "K=V", "with --all: only sandboxes with this metadata (repeatable: AND)"),
    {NULL}};

static const opt O_CMD_LOGS[] = {
    OPT("cursor", "", O_VAL, "N", "byte offset to read from (from the last call)"),
    {NULL}};

static const opt O_WORKDIR[] = {
    OPT("workdir", "w", O_VAL, "DIR", "working directory"),
    {NULL}};

static const opt O_SESSION_RUN[] = {
    OPT("workdir", "w", O_VAL, "DIR", "working directory"),
    OPT("timeout", "t", O_VAL, "DUR", "kill the command after DUR"),
    {NULL}};

static const opt O_FILE_CAT[] = {
    OPT("encoding", "", O_VAL, "ENC", "text encoding (utf-8)"),
    OPT("range", "", O_VAL, "A-B", "only bytes A to B"),
    OPT("offset", "", O_VAL, "N", "from line N (1-based; execd line read)"),
    OPT("limit", "", O_VAL, "M", "at most M lines (execd line read)"),
    {NULL}};

static const opt O_FILE_WRITE[] = {
    OPT("content", "c", O_VAL, "TEXT", "content (default: read stdin)"),
    OPT("encoding", "", O_VAL, "ENC", "text encoding (utf-8)"),
    OPT("mode", "", O_VAL, "MODE", "octal permissions, e.g. 644"),
    OPT("owner", "", O_VAL, "USER", "owner"),
    OPT("group", "", O_VAL, "GROUP", "group"),
    {NULL}};

static const opt O_FILE_UPLOAD[] = {
    OPT("mode", "", O_VAL, "MODE", "octal permissions, e.g. 644"),
    OPT("owner", "", O_VAL, "USER", "owner"),
    OPT("group", "", O_VAL, "GROUP", "group"),
    {NULL}};

static const opt O_FILE_DOWNLOAD[] = {
    OPT("range", "", O_VAL, "A-B", "only bytes A to B (A-, -N also)"),
    OPT("resume", "", O_FLAG, "", "continue a partial download of LOCAL_PATH"),
    {NULL}};

static const opt O_PERM[] = {
    OPT("mode", "", O_VAL, "MODE", "octal permissions, e.g. 755"),
    OPT("owner", "", O_VAL, "USER", "owner"),
    OPT("group", "", O_VAL, "GROUP", "group"),
    {NULL}};

static const opt O_CHMOD[] = {
    OPT("mode", "", O_REQ, "MODE", "octal permissions, e.g. 644 (required)"),
    OPT("owner", "", O_VAL, "USER", "owner"),
    OPT("group", "", O_VAL, "GROUP", "group"),
    {NULL}};

static const opt O_FILE_SEARCH[] = {
    OPT("pattern", "p", O_VAL, "GLOB", "glob pattern (default **)"),
    {NULL}};

static const opt O_FILE_REPLACE[] = {
    OPT("old", "", O_REQ, "TEXT", "text to replace (required)"),
    OPT("new", "", O_REQ, "TEXT", "replacement (required)"),
    {NULL}};

static const opt O_FILE_LS[] = {
    OPT("depth", "", O_VAL, "N", "levels to descend (default 1)"),
    {NULL}};

static const opt O_EGRESS_PATCH[] = {
    OPT("rule", "", O_MULTI, "ACTION=TARGET", "rule, e.g. allow=pypi.org (repeatable)"),
    {NULL}};

static const opt O_EGRESS_DELETE[] = {
    OPT("target", "", O_MULTI, "TARGET", "target whose rule is removed (repeatable)"),
    {NULL}};

static const opt O_VAULT_FILE[] = {
    OPT("file", "", O_REQ, "PATH|-", "JSON or YAML payload ('-' = stdin) (required)"),
    {NULL}};

static const opt O_DIAG[] = {
    OPT("scope", "s", O_REQ, "SCOPE", "container, lifecycle, runtime, network, process or all (required)"),
    {NULL}};

static const opt O_DEVOPS_LOGS[] = {
    OPT("tail", "n", O_VAL, "N", "last N lines (default 100)"),
    OPT("since", "s", O_VAL, "DUR", "only newer than DUR"),
    {NULL}};

static const opt O_DEVOPS_EVENTS[] = {
    OPT("limit", "l", O_VAL, "N", "at most N events (default 50)"),
    {NULL}};

static const opt O_DEVOPS_SUMMARY[] = {
    OPT("tail", "n", O_VAL, "N", "last N log lines (default 50)"),
    OPT("event-limit", "", O_VAL, "N", "at most N events (default 20)"),
    {NULL}};

static const opt O_CONFIG_INIT[] = {
    OPT("force", "", O_FLAG, "", "overwrite an existing file"),
    {NULL}};

static const opt O_CODE_RUN[] = {
    OPT("language", "l", O_VAL, "LANG", "language (default python)"),
    OPT("context", "", O_VAL, "CONTEXT_ID", "run in this context (keeps state)"),
    OPT("code", "c", O_VAL, "CODE", "code to run (default: FILE or stdin)"),
    {NULL}};

static const opt O_LANG[] = {
    OPT("language", "l", O_VAL, "LANG", "language (default python)"),
    {NULL}};

static const opt O_SKILLS_INSTALL[] = {
    OPT("all-builtins", "", O_FLAG, "", "every built-in skill"),
    OPT("target", "t", O_VAL, "TOOL", "claude, cursor, codex, copilot, windsurf, cline, opencode or all"),
    OPT("scope", "", O_VAL, "SCOPE", "project (under the current directory) or global (under $HOME)"),
    OPT("force", "f", O_FLAG, "", "accepted; installing is idempotent"),
    {NULL}};

static const opt O_SKILLS_UNINSTALL[] = {
    OPT("target", "t", O_VAL, "TOOL", "claude, cursor, codex, copilot, windsurf, cline, opencode or all"),
    OPT("scope", "", O_VAL, "SCOPE", "project or global"),
    {NULL}};

static const cmd TREE[] = {
    CMD("sandbox", NULL, O_NONE, "", "Manage sandboxes", 0, 0, 0, OUTS_NONE),
    CMD("sandbox create", c_sandbox_create, O_SB_CREATE, "", "Create a sandbox and wait until it is ready", 0, 0, 0, OUTS_STD),
    CMD("sandbox list", c_sandbox_list, O_SB_LIST, "", "List sandboxes", 0, 0, 0, OUTS_ALL),
    CMD("sandbox get", c_sandbox_get, O_NONE, "ID", "Show a sandbox", 1, 1, 0, OUTS_ALL),
    CMD("sandbox kill", c_sandbox_kill, O_NONE, "ID...", "Delete sandboxes", 1, -1, 0, OUTS_STD),
    CMD("sandbox pause", c_sandbox_pause, O_NONE, "ID", "Pause a sandbox", 1, 1, 0, OUTS_STD),
    CMD("sandbox resume", c_sandbox_resume, O_SB_RESUME, "ID", "Resume a paused sandbox", 1, 1, 0, OUTS_STD),
    CMD("sandbox renew", c_sandbox_renew, O_SB_RENEW, "ID", "Extend a sandbox's time to live", 1, 1, 0, OUTS_STD),
    CMD("sandbox endpoint", c_sandbox_endpoint, O_SB_ENDPOINT, "ID", "Show the endpoint of a sandbox port", 1, 1, 0, OUTS_ALL),
    CMD("sandbox health", c_sandbox_health, O_NONE, "ID", "Check that the sandbox answers", 1, 1, 0, OUTS_STD),
    CMD("sandbox metrics", c_sandbox_metrics, O_SB_METRICS, "ID", "CPU and memory of a sandbox", 1, 1, 0, OUTS_ALL),
    CMD("sandbox shell", c_sandbox_shell, O_SB_SHELL, "ID [-- CMD...]", "A terminal in the sandbox: a shell, or CMD (exits with its code)", 1, 1, 1, OUTS_RAW),
    CMD("sandbox metadata", c_sandbox_metadata, O_SB_METADATA, "ID [KEY=VALUE | KEY-]...", "Change metadata (JSON merge patch)", 1, -1, 0, OUTS_ALL),
    CMD("snapshot", NULL, O_NONE, "", "Manage snapshots", 0, 0, 0, OUTS_NONE),
    CMD("snapshot create", c_snapshot_create, O_SNAP_CREATE, "SANDBOX_ID", "Snapshot a sandbox", 1, 1, 0, OUTS_ALL),
    CMD("snapshot list", c_snapshot_list, O_SNAP_LIST, "", "List snapshots", 0, 0, 0, OUTS_ALL),
    CMD("snapshot get", c_snapshot_get, O_NONE, "SNAPSHOT_ID", "Show a snapshot", 1, 1, 0, OUTS_ALL),
    CMD("snapshot delete", c_snapshot_delete, O_NONE, "SNAPSHOT_ID...", "Delete snapshots", 1, -1, 0, OUTS_STD),
    CMD("command", NULL, O_NONE, "", "Run commands in a sandbox", 0, 0, 0, OUTS_NONE),
    CMD("command run", c_command_run, O_CMD_RUN, "ID -- CMD... | --all [-m K=V]... -- CMD...", "Run a command (streams its output, exits with its code)", 0, 1, 1, OUTS_RUN),
    CMD("command status", c_command_status, O_NONE, "ID EXECUTION_ID", "Status of a command", 2, 2, 0, OUTS_ALL),
    CMD("command logs", c_command_logs, O_CMD_LOGS, "ID EXECUTION_ID", "Output of a background command", 2, 2, 0, OUTS_ALL),
    CMD("command interrupt", c_command_interrupt, O_NONE, "ID EXECUTION_ID", "Interrupt a command", 2, 2, 0, OUTS_STD),
    CMD("command session", NULL, O_NONE, "", "Persistent shell sessions", 0, 0, 0, OUTS_NONE),
    CMD("command session create", c_session_create, O_WORKDIR, "ID", "Create a session", 1, 1, 0, OUTS_ALL),
    CMD("command session run", c_session_run, O_SESSION_RUN, "ID SESSION_ID -- CMD...", "Run a command in a session", 2, 2, 1, OUTS_STREAM),
    CMD("command session delete", c_session_delete, O_NONE, "ID SESSION_ID", "Delete a session", 2, 2, 0, OUTS_STD),
    CMD("code", NULL, O_NONE, "", "Run code in a code interpreter", 0, 0, 0, OUTS_NONE),
    CMD("code run", c_code_run, O_CODE_RUN, "ID [FILE]", "Run code (from -c, FILE or stdin)", 1, 2, 0, OUTS_STREAM),
    CMD("code context", NULL, O_NONE, "", "Code contexts (interpreter state)", 0, 0, 0, OUTS_NONE),
    CMD("code context create", c_context_create, O_LANG, "ID", "Create a context", 1, 1, 0, OUTS_ALL),
    CMD("code context list", c_context_list, O_LANG, "ID", "List contexts of a language", 1, 1, 0, OUTS_ALL),
    CMD("code context delete", c_context_delete, O_LANG, "ID [CONTEXT_ID]", "Delete a context (or all of --language)", 1, 2, 0, OUTS_STD),
    CMD("file", NULL, O_NONE, "", "Files and directories in a sandbox", 0, 0, 0, OUTS_NONE),
    CMD("file cat", c_file_cat, O_FILE_CAT, "ID PATH", "Print a file", 2, 2, 0, OUTS_RAW),
    CMD("file write", c_file_write, O_FILE_WRITE, "ID PATH", "Write a file from -c or stdin", 2, 2, 0, OUTS_STD),
    CMD("file upload", c_file_upload, O_FILE_UPLOAD, "ID LOCAL_PATH REMOTE_PATH", "Upload a file", 3, 3, 0, OUTS_STD),
    CMD("file download", c_file_download, O_FILE_DOWNLOAD, "ID REMOTE_PATH LOCAL_PATH", "Download a file", 3, 3, 0, OUTS_STD),
    CMD("file rm", c_file_rm, O_NONE, "ID PATH...", "Remove files", 2, -1, 0, OUTS_STD),
    CMD("file mv", c_file_mv, O_NONE, "ID SRC DEST", "Move or rename", 3, 3, 0, OUTS_STD),
    CMD("file mkdir", c_file_mkdir, O_PERM, "ID PATH...", "Create directories (with parents)", 2, -1, 0, OUTS_STD),
    CMD("file rmdir", c_file_rmdir, O_NONE, "ID PATH...", "Remove directories (recursively)", 2, -1, 0, OUTS_STD),
    CMD("file search", c_file_search, O_FILE_SEARCH, "ID DIR", "Find files by glob", 2, 2, 0, OUTS_ALL),
    CMD("file info", c_file_info, O_NONE, "ID PATH...", "File metadata", 2, -1, 0, OUTS_ALL),
    CMD("file chmod", c_file_chmod, O_CHMOD, "ID PATH", "Change mode, owner, group", 2, 2, 0, OUTS_STD),
    CMD("file replace", c_file_replace, O_FILE_REPLACE, "ID PATH", "Replace text in a file", 2, 2, 0, OUTS_STD),
    CMD("file ls", c_file_ls, O_FILE_LS, "ID [PATH]", "List a directory", 1, 2, 0, OUTS_ALL),
    CMD("egress", NULL, O_NONE, "", "Network egress policy", 0, 0, 0, OUTS_NONE),
    CMD("egress get", c_egress_get, O_NONE, "ID", "Show the egress policy", 1, 1, 0, OUTS_ALL),
    CMD("egress patch", c_egress_patch, O_EGRESS_PATCH, "ID", "Add or change rules", 1, 1, 0, OUTS_STD),
    CMD("egress delete", c_egress_delete, O_EGRESS_DELETE, "ID [TARGET...]", "Remove the rules of targets", 1, -1, 0, OUTS_ALL),
    CMD("credential-vault", NULL, O_NONE, "", "Credentials injected by the egress proxy", 0, 0, 0, OUTS_NONE),
    CMD("credential-vault create", c_vault_create, O_VAULT_FILE, "ID", "Create the vault", 1, 1, 0, OUTS_STD),
    CMD("credential-vault get", c_vault_get, O_NONE, "ID", "Show the vault (sanitised)", 1, 1, 0, OUTS_ALL),
    CMD("credential-vault patch", c_vault_patch, O_VAULT_FILE, "ID", "Change the vault", 1, 1, 0, OUTS_STD),
    CMD("credential-vault delete", c_vault_delete, O_NONE, "ID", "Delete the vault", 1, 1, 0, OUTS_STD),
    CMD("credential-vault credential", NULL, O_NONE, "", "Vault credentials", 0, 0, 0, OUTS_NONE),
    CMD("credential-vault credential list", c_vault_cred_list, O_NONE, "ID", "List credentials", 1, 1, 0, OUTS_ALL),
    CMD("credential-vault credential get", c_vault_cred_get, O_NONE, "ID NAME", "Show a credential", 2, 2, 0, OUTS_ALL),
    CMD("credential-vault binding", NULL, O_NONE, "", "Vault bindings", 0, 0, 0, OUTS_NONE),
    CMD("credential-vault binding list", c_vault_bind_list, O_NONE, "ID", "List bindings", 1, 1, 0, OUTS_ALL),
    CMD("credential-vault binding get", c_vault_bind_get, O_NONE, "ID NAME", "Show a binding", 2, 2, 0, OUTS_ALL),
    CMD("diagnostics", NULL, O_NONE, "", "Sandbox diagnostics", 0, 0, 0, OUTS_NONE),
    CMD("diagnostics logs", c_diag_logs, O_DIAG, "ID", "Diagnostic logs", 1, 1, 0, OUTS_ALL_RAW),
    CMD("diagnostics events", c_diag_events, O_DIAG, "ID", "Diagnostic events", 1, 1, 0, OUTS_ALL_RAW),
    CMD("devops", NULL, O_NONE, "", "Legacy plain-text diagnostics (experimental)", 0, 0, 0, OUTS_NONE),
    CMD("devops logs", c_devops_logs, O_DEVOPS_LOGS, "ID", "Container logs", 1, 1, 0, OUTS_RAW),
    CMD("devops inspect", c_devops_inspect, O_NONE, "ID", "Container inspection", 1, 1, 0, OUTS_RAW),
    CMD("devops events", c_devops_events, O_DEVOPS_EVENTS, "ID", "Container events", 1, 1, 0, OUTS_RAW),
    CMD("devops summary", c_devops_summary, O_DEVOPS_SUMMARY, "ID", "Everything above, short", 1, 1, 0, OUTS_RAW),
    CMD("config", NULL, O_NONE, "", "The config file (~/.opensandbox/config.toml)", 0, 0, 0, OUTS_NONE),
    CMD("config init", c_config_init, O_CONFIG_INIT, "", "Write a default config file", 0, 0, 0, OUTS_STD),
    CMD("config show", c_config_show, O_NONE, "", "Show the effective configuration (API key masked)", 0, 0, 0, OUTS_STD),
    CMD("config set", c_config_set, O_NONE, "SECTION.FIELD VALUE", "Set a value, e.g. connection.domain", 2, 2, 0, OUTS_STD),
    CMD("skills", NULL, O_NONE, "", "Guides that teach coding agents to use osb", 0, 0, 0, OUTS_NONE),
    CMD("skills list", c_skills_list, O_NONE, "", "List the guides, the agent tools and what is installed", 0, 0, 0, OUTS_STD),
    CMD("skills show", c_skills_show, O_NONE, "SKILL", "Show a guide", 1, 1, 0, OUTS_STD),
    CMD("skills install", c_skills_install, O_SKILLS_INSTALL, "[SKILL]", "Install guides for an agent tool", 0, 1, 0, OUTS_STD),
    CMD("skills uninstall", c_skills_uninstall, O_SKILLS_UNINSTALL, "[SKILL]", "Remove a guide from an agent tool", 0, 1, 0, OUTS_STD),
    {NULL, NULL, NULL, 0, 0, 0, OUTS_NONE}};

/* Global options: accepted before or after the command words. */
static const opt GLOBAL_OPTS[] = {
    OPT("api-key", "", O_VAL, "KEY", "API key (env OPEN_SANDBOX_API_KEY)"),
    OPT("domain", "", O_VAL, "HOST[:PORT]", "server (env OPEN_SANDBOX_DOMAIN; default localhost:8080)"),
    OPT("protocol", "", O_VAL, "http|https", "scheme when the domain has none (env OPEN_SANDBOX_PROTOCOL)"),
    OPT("request-timeout", "", O_VAL, "SECONDS", "per-request timeout (env OPEN_SANDBOX_REQUEST_TIMEOUT; default 30)"),
    OPT("use-server-proxy", "", O_FLAG, "", "reach sandboxes through the server (env OPEN_SANDBOX_USE_SERVER_PROXY)"),
    OPT("no-use-server-proxy", "", O_FLAG, "", "reach sandboxes directly"),
    OPT("config", "", O_VAL, "PATH", "config file (default ~/.opensandbox/config.toml)"),
    OPT("verbose", "v", O_FLAG, "", "print each request and status to stderr"),
    OPT("no-color", "", O_FLAG, "", "no colours"),
    OPT("output", "o", O_VAL, "FORMAT", "table, json, yaml or raw (per command)"),
    OPT("version", "", O_FLAG, "", "print the version"),
    OPT("help", "h", O_FLAG, "", "show help"),
    {NULL}};

/* Every option table, in the order of their help lines in texts.h
 * (pack-texts.py checks that each is listed once). */
static const opt *const OPT_TABLES[] = {
    O_NONE, O_SB_CREATE, O_SB_LIST, O_SB_SHELL, O_SB_RESUME, O_SB_RENEW, O_SB_ENDPOINT, O_SB_METRICS,
    O_SB_METADATA, O_SNAP_CREATE, O_SNAP_LIST, O_CMD_RUN, O_CMD_LOGS, O_WORKDIR, O_SESSION_RUN, O_FILE_CAT,
    O_FILE_WRITE, O_FILE_UPLOAD, O_FILE_DOWNLOAD, O_PERM, O_CHMOD, O_FILE_SEARCH, O_FILE_REPLACE, O_FILE_LS,
    O_EGRESS_PATCH, O_EGRESS_DELETE, O_VAULT_FILE, O_DIAG, O_DEVOPS_LOGS, O_DEVOPS_EVENTS, O_DEVOPS_SUMMARY,
    O_CONFIG_INIT, O_CODE_RUN, O_LANG, O_SKILLS_INSTALL, O_SKILLS_UNINSTALL, GLOBAL_OPTS, NULL};

/* The help lines in texts.h, after the skills' texts (SKILL_TEXTS): one per
 * TREE row, then one per option row of OPT_TABLES. */
#define TREE_ROWS (int)(sizeof TREE / sizeof TREE[0] - 1)

static const char *cmd_help(const cmd *c) { return packed_text(SKILL_TEXTS + (int)(c - TREE)); }

static const char *opt_help(const opt *o) {
    const opt *const *t;
    int n = SKILL_TEXTS + TREE_ROWS;
    for (t = OPT_TABLES; *t; t++) {
        const opt *r;
        for (r = *t; r->lng; r++, n++)
            if (r == o) return packed_text(n);
    }
    return "";
}

/* Where each global option goes: row i is GLOBAL_OPTS[i]. */
static const struct {
    const char **str;   /* value options */
    int *flag;          /* flags: set to value */
    int value;          /* neither: 1 = --version, 2 = --help */
} GLOBAL_DEST[] = {
    {&G.api_key, NULL, 0},              /* --api-key */
    {&G.domain, NULL, 0},               /* --domain */
    {&G.protocol, NULL, 0},             /* --protocol */
    {&G.request_timeout, NULL, 0},      /* --request-timeout */
    {NULL, &G.use_server_proxy, 1},     /* --use-server-proxy */
    {NULL, &G.use_server_proxy, 0},     /* --no-use-server-proxy */
    {&G.config_path, NULL, 0},          /* --config */
    {NULL, &G.verbose, 1},              /* --verbose */
    {NULL, &G.no_color, 1},             /* --no-color */
    {&G.output, NULL, 0},               /* --output */
    {NULL, NULL, 1},                    /* --version */
    {NULL, NULL, 2}};                   /* --help */

PACKED_TEXT(TEXT_EXIT_HELP,
    "  0    success\n"
    "  1    other error\n"
    "  2    usage: unknown command or flag, bad or missing argument\n"
    "  3    config file unreadable or invalid\n"
    "  4    not found (HTTP 404/410)\n"
    "  5    authentication: API key missing or refused (HTTP 401/403)\n"
    "  6    request rejected by the server (HTTP 400/405/413/415/422)\n"
    "  7    conflict or wrong state (HTTP 409/412/416), sandbox failed\n"
    "  8    rate limited or no capacity, retry later (HTTP 429/503/507)\n"
    "  9    server error (other 5xx, error inside a stream, bad response)\n"
    "  10   connection failed (DNS, refused, TLS, reset)\n"
    "  11   timed out\n"
    "  12   local file could not be read or written\n"
    "  13   not available in this build\n"
    "  14   not implemented by the server (HTTP 501)\n"
    "  130  interrupted (Ctrl-C; a running remote command is interrupted first)\n"
    "  command run, command session run and code run exit with the remote\n"
    "  command's exit code when it ran to the end (137 when it was killed by a\n"
    "  signal or by --timeout).\n")

static size_t path_words(const char *p) {
    size_t n = 1;
    for (; *p; p++)
        if (*p == ' ') n++;
    return n;
}

static void print_opts(const opt *o) {
    for (; o && o->lng; o++) {
        char left[96];
        const char *meta = next_piece(o->lng);
        if (opt_short(o)) osb__fmt(left, sizeof left, "-%c, --%s%s%s", opt_short(o), o->lng, *meta ? " " : "", meta);
        else osb__fmt(left, sizeof left, "    --%s%s%s", o->lng, *meta ? " " : "", meta);
        out_fmt(0, "  %-34s %s\n", left, opt_help(o));
    }
}

static void print_help(const cmd *c) {
    const cmd *k;
    if (!c) {
        out_fmt(0, "Usage: %s [GLOBAL OPTIONS] COMMAND [ARGS]...\n\n", g_prog);
        out_fmt(0, "The OpenSandbox command-line tool (opensandbox.h %s, %s).\n\n", osb_version(), osb_build_config());
        out_puts(0, "Global options:\n");
        print_opts(GLOBAL_OPTS);
        out_puts(0, "\nCommands:\n");
        for (k = TREE; k->path; k++)
            if (path_words(k->path) == 1) out_fmt(0, "  %-18s %s\n", k->path, cmd_help(k));
        out_puts(0, "\nDurations: 90s, 10m, 1h30m, 1h30m45s, 2d; a bare number is seconds.\n");
        out_puts(0, "Settings: flag > environment > config file > default.\n");
        out_puts(0, "\nExit codes:\n");
        out_puts(0, packed_text(TEXT_EXIT_HELP));
        out_fmt(0, "\nRun '%s COMMAND --help' for a command's options.\n", g_prog);
        return;
    }
    if (!c->fn) {
        size_t depth = path_words(c->path), l = strlen(c->path);
        out_fmt(0, "Usage: %s %s COMMAND [ARGS]...\n\n%s.\n\nCommands:\n", g_prog, c->path, cmd_help(c));
        for (k = TREE; k->path; k++)
            if (path_words(k->path) == depth + 1 && strncmp(k->path, c->path, l) == 0 && k->path[l] == ' ')
                out_fmt(0, "  %-18s %s\n", k->path + l + 1, cmd_help(k));
        return;
    }
    out_fmt(0, "Usage: %s %s [OPTIONS]%s%s\n\n%s.\n\nOptions:\n", g_prog, c->path, *cmd_usage(c) ? " " : "", cmd_usage(c),
            cmd_help(c));
    print_opts(c->opts);
    out_fmt(0, "  %-34s output format: %s (default %s)\n", "-o, --output FORMAT", OUTS[c->outs][0], OUTS[c->outs][1]);
    out_fmt(0, "  %-34s show this help\n", "-h, --help");
    out_fmt(0, "\nGlobal options (%s --help) are accepted too.\n", g_prog);
}

/* The row of list that the argument s ("--name", "--name=value", "-x",
 * "-xVALUE") names, or NULL; *val: the value given with it. A flag takes
 * no value glued to its short form ("-vx" is not -v). */
static const opt *match_opt(const opt *o, const char *s, const char **val) {
    *val = NULL;
    if (s[1] == '-') {
        const char *eq = strchr(s + 2, '=');
        size_t n = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
        for (; o->lng; o++)
            if (strlen(o->lng) == n && strncmp(o->lng, s + 2, n) == 0) {
                if (eq) *val = eq + 1;
                return o;
            }
        return NULL;
    }
    for (; o->lng; o++)
        if (opt_short(o) == s[1]) {
            if (!s[2]) return o;
            if (opt_kind(o) == O_FLAG) return NULL;
            *val = s + 2;
            return o;
        }
    return NULL;
}

/* Handles a global option at argv[*i]; 1 if it was one, -1 on error. */
static int global_opt(int argc, char **argv, int *i, int *want_help, int *want_version) {
    const char *s = argv[*i], *val;
    const opt *o;
    if (s[0] != '-' || !s[1] || !(o = match_opt(GLOBAL_OPTS, s, &val))) return 0;
    if (opt_kind(o) != O_FLAG && !val) {
        if (*i + 1 >= argc) {
            usage_error("option --%s needs a value", o->lng);
            return -1;
        }
        val = argv[++*i];
    }
    {
        size_t k = (size_t)(o - GLOBAL_OPTS);
        if (GLOBAL_DEST[k].str) *GLOBAL_DEST[k].str = val;
        else if (GLOBAL_DEST[k].flag) *GLOBAL_DEST[k].flag = GLOBAL_DEST[k].value;
        else if (GLOBAL_DEST[k].value == 1) *want_version = 1;
        else *want_help = 1;
    }
    return 1;
}

static const cmd *find_cmd(const char *path) {
    const cmd *k;
    for (k = TREE; k->path; k++)
        if (strcmp(k->path, path) == 0) return k;
    return NULL;
}

int main(int argc, char **argv) {
    args a;
    const cmd *c = NULL;
    char path[128] = "";
    int i, want_help = 0, want_version = 0, rest_mode = 0, code;
    memset(&a, 0, sizeof a);
    portable_init();
    g_tty_out = isatty(1);
    atexit(out_flush);   /* what is still buffered, on every way out */
    for (i = 1; i < argc; i++) {
        char *s = argv[i];
        int r;
        if (rest_mode) {
            a.rest = &argv[i];
            a.nrest = argc - i;
            break;
        }
        if (strcmp(s, "--") == 0) {
            if (c && c->rest) {
                a.rest = &argv[i + 1];
                a.nrest = argc - i - 1;
                break;
            }
            /* everything after -- is positional */
            for (i++; i < argc; i++) {
                if (a.npos >= MAXPOS) return usage_error("too many arguments");
                a.pos[a.npos++] = argv[i];
            }
            break;
        }
        if (c && c->fn == c_command_run && (strcmp(s, "-it") == 0 || strcmp(s, "-ti") == 0)) s = (char *)"-i";
        /* command options first (they may shadow a global short flag) */
        if (c && c->fn && s[0] == '-' && s[1]) {
            const char *val;
            const opt *o = match_opt(c->opts, s, &val);
            if (o) {
                int idx = (int)(o - c->opts);
                if (opt_kind(o) == O_FLAG) {
                    if (val) return usage_error("option --%s takes no value", o->lng);
                    args_add(&a, idx, "1");
                } else {
                    if (!val) {
                        if (i + 1 >= argc) return usage_error("option --%s needs a value", o->lng);
                        val = argv[++i];
                    }
                    args_add(&a, idx, val);
                }
                continue;
            }
        }
        r = global_opt(argc, argv, &i, &want_help, &want_version);
        if (r < 0) return EX_USAGE;
        if (r > 0) continue;
        if (s[0] == '-' && s[1] && !(c && c->fn && isdigit((unsigned char)s[1]))) {
            if (c && c->fn) return usage_error("no such option: %s (see '%s %s --help')", s, g_prog, c->path);
            return usage_error("no such option: %s", s);
        }
        /* a word: the next level of the tree, or a positional argument */
        if (!c || !c->fn) {
            char next[128];
            const cmd *k;
            if (strlen(path) + strlen(s) + 2 > sizeof next) return usage_error("no such command '%s'", s);
            strcpy(next, path);
            if (path[0]) strcat(next, " ");
            strcat(next, s);
            k = find_cmd(next);
            if (!k) {
                if (!c) return usage_error("no such command '%s' (see '%s --help')", s, g_prog);
                return usage_error("no such command '%s %s' (see '%s %s --help')", c->path, s, g_prog, c->path);
            }
            memcpy(path, next, sizeof path);
            c = k;
            a.cmd = c;
            continue;
        }
        if (c->rest && a.npos >= c->max_pos) {
            /* the first word of the trailing command: the rest is its argv */
            a.rest = &argv[i];
            a.nrest = argc - i;
            rest_mode = 1;
            break;
        }
        if (a.npos >= MAXPOS) return usage_error("too many arguments");
        a.pos[a.npos++] = s;
    }
    if (want_version) {
        out_fmt(0, "osb %s (opensandbox.h %s, %s)\n", OSB_VERSION_STRING, osb_version(), osb_build_config());
        return EX_OK;
    }
    if (want_help || !c || !c->fn) {
        print_help(c);
        return (want_help || !c || !c->fn) ? EX_OK : EX_USAGE;
    }
    if (a.npos < c->min_pos) return usage_error("missing argument (usage: %s %s %s)", g_prog, c->path, cmd_usage(c));
    if (c->max_pos >= 0 && a.npos > c->max_pos)
        return usage_error("unexpected argument '%s' (usage: %s %s %s)", a.pos[c->max_pos], g_prog, c->path, cmd_usage(c));
    /* required options */
    for (i = 0; c->opts[i].lng; i++)
        if (opt_kind(&c->opts[i]) == O_REQ && !a.nvals[i])
            return usage_error("missing option --%s (see '%s %s --help')", c->opts[i].lng, g_prog, c->path);
    if (G.output) {
        /* -o is case-insensitive, as in the official CLI */
        static char lower[16];
        size_t k;
        for (k = 0; G.output[k] && k < sizeof lower - 1; k++) lower[k] = (char)tolower((unsigned char)G.output[k]);
        lower[k] = 0;
        if (!G.output[k]) G.output = lower;
    }
    g_out = G.output ? G.output : OUTS[c->outs][1];
    if (!check_output(c, g_out))
        return usage_error("invalid output '%s' for '%s' (choose from %s)", g_out, c->path, OUTS[c->outs][0]);
    /* settings: `osb config ...` uses only flags and the environment */
    code = resolve_config(strncmp(c->path, "config", 6) != 0 && strncmp(c->path, "skills", 6) != 0);
    if (code) return code;
    g_color = !G.no_color && C.color && isatty(1) && !getenv("NO_COLOR");
    g_json_ascii = G.no_color || !C.color;   /* the official plain-text path: json.dumps' ASCII escapes */
    /* Ctrl-C is caught only where it must reach the server (interrupting a
     * remote execution) or stop a transfer cleanly; elsewhere it ends osb at once. */
    {
        static const char *const catching[] = {"command run", "command session run", "code run", "sandbox metrics",
                                               "file upload", "file download", "file cat", NULL};
        for (i = 0; catching[i]; i++)
            if (strcmp(c->path, catching[i]) == 0) install_sigint();
    }
    if (strncmp(c->path, "config", 6) != 0 && strncmp(c->path, "skills", 6) != 0 && (code = make_client()) != 0)
        return code;
    code = c->fn(&a);
    out_flush();
    osb_client_free(CLI);
    return code;
}
