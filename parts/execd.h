/* parts/execd.h -- merged into opensandbox.h: declarations at >>execd, implementation at >>impl-execd */
#ifndef OSB__EXECD_DECLARED
#define OSB__EXECD_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

/* The execd API: commands, bash sessions, code contexts, files,
 * directories and metrics inside one sandbox. Every call takes the client
 * (its connection pool, allocator and last error) and the execd target (the
 * endpoint of port 44772 plus the headers to forward; see osb_target).
 *
 * Streams (run a command, run in a session, run code, watch metrics) come in
 * two forms over the same fixed buffers:
 *   - the callback form (osb_command_run, osb_session_run, osb_code_run,
 *     osb_metrics_watch): the callback sees every event; returning non-zero
 *     stops the stream with OSB_ERR_CANCELLED;
 *   - the pull form (osb_command_stream, ... then osb_stream_next until it
 *     gives no event, then osb_stream_close).
 * Streams have no total deadline, only the connect and idle (no byte)
 * deadlines of the client; the cancel flag of a request is checked between
 * reads. A bare {"code","message"} object inside a 200 stream (execd's way
 * of failing after the first event) ends the stream with OSB_ERR_SERVER;
 * the detail (server code and message) is in osb_client_error(c). */

/* Sizes of the fixed id buffers used below (execd ids are 32 hex digits or
 * a UUID; the slack is for other servers). */
#define OSB_EXEC_ID_MAX 128

/* ---- events ---------------------------------------------------------------- */

typedef enum osb_event_type {
    OSB_EVENT_UNKNOWN = 0,            /* a type this library does not know: see type_name, raw */
    OSB_EVENT_INIT = 1,               /* text: the execution id (command, session or context id) */
    OSB_EVENT_STATUS = 2,             /* text: e.g. "error" */
    OSB_EVENT_STDOUT = 3,             /* text: an output chunk */
    OSB_EVENT_STDERR = 4,             /* text: an error-output chunk */
    OSB_EVENT_RESULT = 5,             /* results: MIME type -> value */
    OSB_EVENT_ERROR = 6,              /* ename, evalue, traceback */
    OSB_EVENT_EXECUTION_COMPLETE = 7, /* execution_time_ms */
    OSB_EVENT_EXECUTION_COUNT = 8,    /* execution_count */
    OSB_EVENT_PING = 9,               /* keep-alive */
    OSB_EVENT_METRICS = 10            /* one /metrics/watch sample: metrics */
} osb_event_type;

/* One resource sample (GET /metrics, /metrics/watch). */
typedef struct osb_metrics {
    double cpu_count;        /* CPUs available (cgroup quota) */
    double cpu_used_pct;     /* busy percentage 0-100 over the sample */
    double mem_total_mib;
    double mem_used_mib;
    int64_t timestamp;       /* Unix milliseconds at the start of sampling */
    osb_str raw;             /* the JSON object as received */
} osb_metrics;

/* One decoded stream event. Every pointer points into the stream's buffers
 * and stays valid until the next osb_stream_next (or until the callback
 * returns); strings are NUL-terminated and carry their length. Absent
 * members are zero / empty. Decoding an event allocates nothing once the
 * buffers have grown to the largest event seen. */
typedef struct osb_event {
    osb_event_type type;
    osb_str type_name;           /* the "type" member as sent ("" for metrics samples) */
    osb_str text;                /* init, status, stdout, stderr, ping; a metrics stream's error */
    int64_t timestamp;           /* Unix milliseconds */
    int64_t execution_count;     /* execution_count events */
    int64_t execution_time_ms;   /* execution_complete (absent when 0 ms) */
    const osb_kv *results;       /* result: MIME type -> value. execd names text/plain "text".
                                    String values are unescaped text; other JSON values
                                    (objects, numbers) are their JSON text */
    size_t results_count;
    osb_str ename;               /* error: exception / error class */
    osb_str evalue;              /* error: the value (for commands the exit code as text) */
    const osb_str *traceback;    /* error: traceback lines */
    size_t traceback_count;
    osb_metrics metrics;         /* OSB_EVENT_METRICS */
    osb_str raw;                 /* the event's JSON text */
} osb_event;

/* Receives each event of a stream; return 0 to go on, non-zero to stop (the
 * call then fails with OSB_ERR_CANCELLED). */
typedef int (*osb_event_fn)(void *user, const osb_event *ev);

/* An open event stream (pull form). */
typedef struct osb_stream osb_stream;

/* Next event of the stream. On OSB_OK *ev is the event, or NULL when the
 * stream ended (after the terminal event of an execution, or at the end of
 * the body). After an error or the end, further calls repeat it. *ev is
 * valid until the next call. Errors: transport errors, OSB_ERR_SERVER (a bare
 * {code,message} in the stream), OSB_ERR_JSON (an event that is not a JSON
 * object), OSB_ERR_TOO_LARGE (an event above max_event), OSB_ERR_CANCELLED
 * (the cancel flag). */
OSB_API osb_err osb_stream_next(osb_stream *s, const osb_event **ev);
/* Closes the stream (an unfinished body closes the connection) and frees it.
 * NULL is ignored. */
OSB_API void osb_stream_close(osb_stream *s);

/* ---- executions (aggregated results of a stream) --------------------------- */

/* One result event kept by an execution. */
typedef struct osb_execution_result {
    osb_kv *items;               /* every MIME type -> value, as in osb_event.results */
    size_t count;
    osb_str text;                /* the "text/plain" value, else the "text" value, else empty */
    int64_t execution_count;     /* the execution_count event before it, 0 if none */
} osb_execution_result;

/* What an execution produced. Zero-initialise it (optionally set
 * forward_only and allocator), pass it to a run call or feed it events with
 * osb_execution_add, read it, then osb_execution_free (which keeps the two
 * input fields, so the struct can be reused). */
typedef struct osb_execution {
    /* inputs */
    int forward_only;            /* 1 = keep no output text and no results (long runs):
                                    only the id, the error, counts, times and exit code */
    const osb_allocator *allocator; /* NULL = the client's (run calls) or libc */
    /* outputs */
    char id[OSB_EXEC_ID_MAX];    /* the init event's text: command / session / context id */
    osb_buf out;                 /* stdout text (for /command: one line per event, joined by '\n') */
    osb_buf err;                 /* stderr text (same) */
    osb_execution_result *results;
    size_t results_count;
    int has_error;               /* an error event arrived */
    osb_str ename, evalue;       /* its fields (NUL-terminated, owned by the execution) */
    osb_str *traceback;
    size_t traceback_count;
    int completed;               /* an execution_complete event arrived */
    int64_t execution_count;     /* the last execution_count, 0 if none */
    int64_t execution_time_ms;   /* from execution_complete */
    int exit_code_known;         /* 1 when exit_code is meaningful */
    int exit_code;               /* PROTOCOL.md 3.3: complete without error -> 0; an error whose
                                    evalue is a decimal integer -> that integer (-1: killed by a
                                    signal or timed out); otherwise unknown */
    uint64_t events;             /* events seen, pings included */
    uint64_t out_bytes, err_bytes; /* output text seen (counted even when forward_only) */
    /* private */
    void *priv_block;            /* ename/evalue/traceback storage */
    size_t results_cap;
    int line_mode;               /* 1: stdout/stderr events are lines (commands) */
} osb_execution;

/* Adds one event to an execution (what the run calls do for each event).
 * Errors: OSB_ERR_NOMEM (the execution keeps what it had). */
OSB_API osb_err osb_execution_add(osb_execution *x, const osb_event *ev);
/* Frees what the execution holds and clears it, keeping forward_only and
 * allocator. NULL is ignored. */
OSB_API void osb_execution_free(osb_execution *x);

/* ---- commands --------------------------------------------------------------- */

/* POST /command. Zero-initialise; command is required. */
typedef struct osb_command_request {
    const char *command;         /* run as `bash -c command` */
    const char *cwd;             /* working directory (must exist); NULL = execd's */
    int64_t timeout_ms;          /* 0 = no limit; the process group is killed after it */
    int uid_set;                 /* 1: run as uid */
    uint32_t uid;
    int gid_set;                 /* 1: with gid (execd requires uid then) */
    uint32_t gid;
    const char *const *envs;     /* "NAME=value" strings, NULL-terminated; NULL = none */
    const volatile int *cancel;  /* non-zero stops the stream (the command keeps running:
                                    use osb_command_interrupt) */
} osb_command_request;

/* Runs a command in the foreground and streams its events until the
 * terminal one. on_event (may be NULL) sees every event; x (may be NULL)
 * aggregates them (see osb_execution). A non-zero exit status is not an
 * error of the call: read x->exit_code. Errors: OSB_ERR_HTTP (400 bad
 * request / cwd, 500), OSB_ERR_SERVER, transport errors, OSB_ERR_CANCELLED. */
OSB_API osb_err osb_command_run(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                osb_event_fn on_event, void *user, osb_execution *x);
/* The same as a pull stream (*out NULL on failure). background = 1 starts a
 * background command (the stream then ends after init + execution_complete). */
OSB_API osb_err osb_command_stream(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                   int background, osb_stream **out);
/* Starts a background command and stores its id (NUL-terminated) in
 * id[0..cap). The output goes to a log read with osb_command_logs. */
OSB_API osb_err osb_command_start(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                  char *id, size_t cap);

/* GET /command/status/{id}. */
typedef struct osb_command_status {
    osb_str id;
    osb_str content;             /* the command line */
    int running;
    int has_exit_code;           /* 0 while running (execd omits it) */
    int64_t exit_code;           /* -1: killed by a signal; 255: a background start failure */
    osb_str error;               /* e.g. "exit status 2", "signal: killed"; empty if none */
    osb_str started_at, finished_at; /* RFC 3339 text; finished_at empty while running */
    osb_str exit_code_json;      /* private: the raw member */
    osb_str raw;
} osb_command_status;

/* The status of a command (foreground or background). *out is one result,
 * free it with osb_result_free. Unknown id: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_command_status_get(osb_client *c, const osb_target *execd, const char *id,
                                       osb_command_status **out);
/* GET /command/{id}/logs?cursor=N: the output of a background command from
 * byte offset cursor to its current end, delivered to sink (bytes as
 * written, possibly ending inside a line or a UTF-8 sequence).
 * *next_cursor (may be NULL) receives EXECD-COMMANDS-TAIL-CURSOR, the offset
 * to pass next time (cursor + the bytes delivered if the header is absent).
 * Errors: OSB_ERR_HTTP (400 for an unknown or a foreground id),
 * OSB_ERR_CANCELLED (the sink stopped). */
OSB_API osb_err osb_command_logs(osb_client *c, const osb_target *execd, const char *id, uint64_t cursor,
                                 osb_write_fn sink, void *user, uint64_t *next_cursor);
/* Follows a background command's log until it ends: logs from the cursor,
 * then the status, every poll_ms (0 = 500) until the command is no longer
 * running, and one last logs read. *cursor (in/out; NULL = from 0) is the
 * byte offset. *exit_code (may be NULL) receives the final exit code (-1
 * for a signal; left untouched when execd reports none). cancel (may be
 * NULL) stops between polls with OSB_ERR_CANCELLED. */
OSB_API osb_err osb_command_follow(osb_client *c, const osb_target *execd, const char *id,
                                   osb_write_fn sink, void *user, uint64_t *cursor, int poll_ms,
                                   const volatile int *cancel, int *exit_code);
/* DELETE /command?id=: SIGTERM to a running command's process group (SIGKILL
 * after 3 s; the call can take that long). A finished command: OSB_ERR_HTTP
 * 500. Given a session id, execd deletes the session. */
OSB_API osb_err osb_command_interrupt(osb_client *c, const osb_target *execd, const char *id);

/* ---- bash sessions ------------------------------------------------------------ */

/* POST /session: a session whose exported variables and working directory
 * persist from one run to the next. cwd (may be NULL) is created if
 * missing. The id goes to id[0..cap). */
OSB_API osb_err osb_session_create(osb_client *c, const osb_target *execd, const char *cwd,
                                   char *id, size_t cap);

/* POST /session/{id}/run. */
typedef struct osb_session_run_request {
    const char *command;         /* required */
    const char *cwd;             /* NULL = the session's current directory */
    int64_t timeout_ms;          /* 0 = execd's cap (24 h); a timeout ends the stream with
                                    OSB_ERR_SERVER (execd's bare error object) */
    const volatile int *cancel;  /* stops the stream (which kills the run) */
} osb_session_run_request;

/* Runs a command in the session. stderr is merged into stdout by execd; each
 * output line is one stdout event. Arguments as osb_command_run. Unknown
 * session: OSB_ERR_HTTP 500. */
OSB_API osb_err osb_session_run(osb_client *c, const osb_target *execd, const char *session_id,
                                const osb_session_run_request *req, osb_event_fn on_event, void *user,
                                osb_execution *x);
OSB_API osb_err osb_session_stream(osb_client *c, const osb_target *execd, const char *session_id,
                                   const osb_session_run_request *req, osb_stream **out);
/* DELETE /session/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_session_delete(osb_client *c, const osb_target *execd, const char *session_id);

/* ---- code interpreter --------------------------------------------------------- */

typedef struct osb_code_context {
    osb_str id;
    osb_str language;
    osb_str cwd;                 /* only when it was given at creation */
    osb_str raw;
} osb_code_context;

typedef struct osb_code_contexts {
    osb_code_context *items;
    size_t count;
    osb_str raw;
} osb_code_contexts;

/* POST /code/context. language is required ("python", ...); cwd may be NULL.
 * Beware: execd retries a failing creation (unknown language, no
 * interpreter) for a very long time; the call then ends by the client's
 * total deadline. */
OSB_API osb_err osb_code_context_create(osb_client *c, const osb_target *execd, const char *language,
                                        const char *cwd, osb_code_context **out);
/* GET /code/contexts?language=. language NULL omits the parameter: execd
 * then lists every context, although the spec requires it (PROTOCOL.md 6.1
 * #24). */
OSB_API osb_err osb_code_context_list(osb_client *c, const osb_target *execd, const char *language,
                                      osb_code_contexts **out);
/* GET /code/contexts/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_code_context_get(osb_client *c, const osb_target *execd, const char *id,
                                     osb_code_context **out);
/* DELETE /code/contexts/{id}. Unknown: OSB_ERR_HTTP 404. */
OSB_API osb_err osb_code_context_delete(osb_client *c, const osb_target *execd, const char *id);
/* DELETE /code/contexts?language=: every context of that language. */
OSB_API osb_err osb_code_context_delete_language(osb_client *c, const osb_target *execd,
                                                 const char *language);

/* POST /code. */
typedef struct osb_code_request {
    const char *code;            /* required */
    const char *context_id;      /* NULL = the language's default context */
    const char *language;        /* required in practice: without it execd runs the code as a
                                    shell command and ignores context_id; NULL = "python" */
    const volatile int *cancel;
} osb_code_request;

/* Runs code in a context. An exception arrives as status + error events and
 * the stream still ends with execution_complete (x->has_error is set, the
 * exit code stays unknown). A busy context: OSB_ERR_SERVER. Arguments as
 * osb_command_run. */
OSB_API osb_err osb_code_run(osb_client *c, const osb_target *execd, const osb_code_request *req,
                             osb_event_fn on_event, void *user, osb_execution *x);
OSB_API osb_err osb_code_stream(osb_client *c, const osb_target *execd, const osb_code_request *req,
                                osb_stream **out);
/* DELETE /code?id=: interrupts the code running in a context (or a command). */
OSB_API osb_err osb_code_interrupt(osb_client *c, const osb_target *execd, const char *id);

/* ---- files and directories ---------------------------------------------------- */

/* One file's metadata (FileInfo). */
typedef struct osb_file_info {
    osb_str key;                 /* files_info: the path as it was asked for; else empty */
    osb_str path;                /* absolute */
    osb_str type;                /* "file", "directory", "symlink", "other" */
    int64_t size;
    osb_str modified_at, created_at; /* RFC 3339 text; created_at is the ctime */
    osb_str owner, group;        /* names, or numeric ids as text */
    int mode;                    /* permission bits as octal digits read in decimal: 644 = 0644 */
} osb_file_info;

typedef struct osb_file_info_list {
    osb_file_info *items;
    size_t count;
    osb_str raw;
} osb_file_info_list;

/* GET /files/info for paths[0..n): one item per path, in the server's
 * order, with key = the path as asked. Any missing path fails the whole call
 * with OSB_ERR_HTTP 404. */
OSB_API osb_err osb_files_info(osb_client *c, const osb_target *execd, const char *const *paths, size_t n,
                               osb_file_info_list **out);
/* DELETE /files for paths[0..n): missing files are fine; a directory is
 * OSB_ERR_HTTP 500 (use osb_dir_delete). */
OSB_API osb_err osb_files_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n);

/* Owner, group and mode of one path (chmod, mkdir). */
typedef struct osb_file_perm {
    const char *path;
    const char *owner;           /* NULL = not given (see the chown rule below) */
    const char *group;
    int mode;                    /* octal digits in decimal (755 = 0755); 0 = no chmod */
} osb_file_perm;

/* POST /files/permissions. execd chowns after every chmod: with neither
 * owner nor group the file goes to execd's own user. mode digits 8 or 9:
 * OSB_ERR_INVALID_ARG before sending. Missing file: OSB_ERR_HTTP 500. */
OSB_API osb_err osb_files_chmod(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n);

typedef struct osb_file_move {
    const char *src;
    const char *dest;            /* parents are created; an existing dest is OSB_ERR_HTTP 500 */
} osb_file_move;

/* POST /files/mv, items in order. */
OSB_API osb_err osb_files_move(osb_client *c, const osb_target *execd, const osb_file_move *items, size_t n);
/* GET /files/search: files (never directories) under dir whose base name
 * matches the glob pattern (NULL = every file). */
OSB_API osb_err osb_files_search(osb_client *c, const osb_target *execd, const char *dir, const char *pattern,
                                 osb_file_info_list **out);

typedef struct osb_file_replace {
    const char *path;
    const char *old_text;        /* non-empty; replaced everywhere (plain bytes) */
    const char *new_text;
} osb_file_replace;

typedef struct osb_replace_count {
    osb_str key;                 /* the path as sent */
    int64_t replaced;
} osb_replace_count;

typedef struct osb_replace_counts {
    osb_replace_count *items;
    size_t count;
    osb_str raw;
} osb_replace_counts;

/* POST /files/replace. counts NULL: plain call; non-NULL: verbose=true, and
 * *counts receives the count per path (free with osb_result_free). */
OSB_API osb_err osb_files_replace(osb_client *c, const osb_target *execd, const osb_file_replace *items,
                                  size_t n, osb_replace_counts **counts);

/* One file of an upload. The content comes from exactly one source, tried
 * in this order: read + size (a reader that must deliver exactly size
 * bytes), use_fd + fd (read from its current position; size 0 = up to the
 * end, measured with fstat), local_path (a local file; size ignored), or
 * data + size (memory; data may be NULL when size is 0). */
typedef struct osb_upload_file {
    const char *path;            /* destination in the sandbox (parents are created) */
    const char *owner, *group;   /* NULL = execd's default */
    int mode;                    /* octal digits in decimal (644); 0 = default */
    const void *data;
    uint64_t size;
    int use_fd;                  /* 1: read from fd */
    int fd;
    const char *local_path;
    osb_read_fn read;
    void *read_user;
} osb_upload_file;

/* POST /files/upload: files[0..n) in one multipart request, streamed with a
 * Content-Length (memory stays constant whatever the sizes). Existing files
 * are overwritten. Errors: OSB_ERR_IO (a local file or reader failed),
 * OSB_ERR_HTTP (400 bad metadata, 500), transport errors. */
OSB_API osb_err osb_files_upload(osb_client *c, const osb_target *execd, const osb_upload_file *files,
                                 size_t n);

/* GET /files/download options. Zero-initialised = the whole file, up to 3
 * resumptions. */
typedef struct osb_download_request {
    const char *path;            /* the file in the sandbox, required */
    uint64_t offset;             /* first byte wanted */
    uint64_t length;             /* bytes wanted from offset; 0 = to the end */
    int max_resumes;             /* after a dropped connection, continue with a Range from the
                                    last byte received: 0 = 3 times, negative = never */
    const volatile int *cancel;
} osb_download_request;

/* What a download did. */
typedef struct osb_download_info {
    int status;                  /* status of the last response (200 or 206) */
    uint64_t total_size;         /* the file's size when the server said it, else 0 */
    uint64_t bytes;              /* bytes delivered to the sink */
    int resumes;                 /* how many times it was resumed */
} osb_download_info;

/* Downloads a file (or a range of it) to sink. A range starting at or past
 * the end of the file is OSB_ERR_HTTP 416. A resumed response must be a 206
 * whose Content-Range starts at the byte asked for (else OSB_ERR_PROTOCOL);
 * a 200 answer to a range is trimmed to the range. info may be NULL. */
OSB_API osb_err osb_files_download(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                   osb_write_fn sink, void *user, osb_download_info *info);
/* The same into a file descriptor (written from its current position). */
OSB_API osb_err osb_files_download_fd(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                      int fd, osb_download_info *info);
/* The same into a local file, created or truncated. */
OSB_API osb_err osb_files_download_path(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                        const char *local_path, osb_download_info *info);

/* GET /directories/list: entries under path to depth levels (0 or
 * negative = execd's default, 1), in lexical pre-order, the root excluded. */
OSB_API osb_err osb_dir_list(osb_client *c, const osb_target *execd, const char *path, int depth,
                             osb_file_info_list **out);
/* POST /directories: mkdir -p for each item, mode/owner applied to the leaf. */
OSB_API osb_err osb_dir_create(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n);
/* DELETE /directories: rm -rf for each path; missing ones are fine. */
OSB_API osb_err osb_dir_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n);

/* ---- metrics and health --------------------------------------------------------- */

/* GET /metrics (takes about a second on a real execd). Free *out with
 * osb_result_free. */
OSB_API osb_err osb_metrics_get(osb_client *c, const osb_target *execd, osb_metrics **out);
/* GET /metrics/watch: one OSB_EVENT_METRICS event per sample (about every
 * 2 s) until the callback returns non-zero or *cancel (may be NULL) is set;
 * the server never ends it. A sampling failure is an OSB_EVENT_ERROR event
 * whose text is the server's message. Ending by the callback or the flag
 * returns OSB_ERR_CANCELLED. */
OSB_API osb_err osb_metrics_watch(osb_client *c, const osb_target *execd, osb_event_fn on_event, void *user,
                                  const volatile int *cancel);
OSB_API osb_err osb_metrics_stream(osb_client *c, const osb_target *execd, const volatile int *cancel,
                                   osb_stream **out);
/* GET /ping: OSB_OK once execd answers. */
OSB_API osb_err osb_execd_ping(osb_client *c, const osb_target *execd);

#ifdef __cplusplus
}
#endif
#endif /* OSB__EXECD_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__EXECD_IMPLEMENTED)
#define OSB__EXECD_IMPLEMENTED

#include <limits.h>
#include <sys/stat.h>
#ifdef _WIN32
#  include <io.h>
#endif

/* ---- shared helpers ----------------------------------------------------------- */

/* Sets the client's error detail for a failure found on this side. */
static osb_err osb__ex_fail(osb_client *c, osb_err code, const char *msg) {
    osb__reset_error(&c->err);
    osb__set_error(&c->err, code, "%s", msg);
    return code;
}

/* "http://" + the target's URL, as osb__call_run builds it. */
static osb_err osb__ex_url(osb_client *c, const osb_target *t, char *url, size_t cap) {
    const char *u = t ? t->url : NULL;
    int n;
    if (!u || !*u) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "the target has no URL");
    n = snprintf(url, cap, "%s%s", strstr(u, "://") ? "" : (c->base.https ? "https://" : "http://"), u);
    if (n < 0 || (size_t)n >= cap) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "the target URL is too long");
    return OSB_OK;
}

/* The headers of a target plus up to two more lines, NULL-terminated, in a
 * new array (free with osb__free). */
static const char **osb__ex_headers(osb_client *c, const osb_target *t, const char *extra1, const char *extra2) {
    size_t n = 0, i = 0;
    const char **h;
    if (t && t->headers)
        while (t->headers[n]) n++;
    h = (const char **)osb__alloc(c->alloc, (n + 3) * sizeof *h);
    if (!h) return NULL;
    for (; i < n; i++) h[i] = t->headers[i];
    if (extra1) h[i++] = extra1;
    if (extra2) h[i++] = extra2;
    h[i] = NULL;
    return h;
}

/* Reads an error response's body (up to OSB_ERROR_BODY_MAX) and fills the
 * error detail from it. Returns OSB_ERR_HTTP. */
static osb_err osb__ex_http_error(osb_client *c, osb_body *body, int status) {
    char buf[OSB_ERROR_BODY_MAX];
    size_t len = 0;
    for (;;) {
        const void *d;
        size_t n;
        if (osb_body_read(body, &d, &n) != OSB_OK || n == 0) break;
        if (n > sizeof buf - len) n = sizeof buf - len;
        memcpy(buf + len, d, n);
        len += n;
        if (len == sizeof buf) break;
    }
    osb__http_error_detail(c, status, buf, len);
    return OSB_ERR_HTTP;
}

/* Writes a JSON key with a string value when the value is not NULL. */
static void osb__ex_jw_kstr(osb_jw *w, const char *key, const char *v) {
    if (!v) return;
    osb_jw_key(w, key);
    osb_jw_str(w, v);
}

/* Checks that mode's decimal digits are all octal (755 yes, 758 no). */
static int osb__ex_mode_ok(int mode) {
    if (mode < 0) return 0;
    while (mode) {
        if (mode % 10 > 7) return 0;
        mode /= 10;
    }
    return 1;
}

/* Adds path=... once per path. */
static void osb__ex_query_paths(osb__call *k, const char *const *paths, size_t n) {
    size_t i;
    if (!paths && n) k->err = OSB_ERR_INVALID_ARG;
    for (i = 0; i < n && paths; i++) {
        if (!paths[i]) k->err = OSB_ERR_INVALID_ARG;
        else osb__call_query(k, "path", paths[i]);
    }
}

/* ---- events and streams ---------------------------------------------------------- */

typedef struct osb__ex_wire_error {
    osb_str ename, evalue;
    osb_str *traceback;
    size_t traceback_count;
} osb__ex_wire_error;
static const osb_field osb__ex_wire_error_fields[] = {
    OSB_FIELD_STR(osb__ex_wire_error, ename, "ename"),
    OSB_FIELD_STR(osb__ex_wire_error, evalue, "evalue"),
    OSB_FIELD_ARRAY(osb__ex_wire_error, traceback, traceback_count, "traceback", OSB_KIND_STR),
};
static const osb_type osb__ex_wire_error_type = OSB_TYPE(osb__ex_wire_error, osb__ex_wire_error_fields);

/* An execd stream event as it travels. */
typedef struct osb__ex_wire {
    osb_str type, text;
    int64_t timestamp, execution_count, execution_time;
    osb_str results;                    /* raw JSON, walked by osb__ex_results */
    osb__ex_wire_error error;
    osb_str code, message;              /* a bare error object */
    osb_str raw;
} osb__ex_wire;
static const osb_field osb__ex_wire_fields[] = {
    OSB_FIELD_STR(osb__ex_wire, type, "type"),
    OSB_FIELD_STR(osb__ex_wire, text, "text"),
    OSB_FIELD_I64(osb__ex_wire, timestamp, "timestamp"),
    OSB_FIELD_I64(osb__ex_wire, execution_count, "execution_count"),
    OSB_FIELD_I64(osb__ex_wire, execution_time, "execution_time"),
    OSB_FIELD_RAW(osb__ex_wire, results, "results"),
    OSB_FIELD_OBJECT(osb__ex_wire, error, "error", &osb__ex_wire_error_type),
    OSB_FIELD_STR(osb__ex_wire, code, "code"),
    OSB_FIELD_STR(osb__ex_wire, message, "message"),
};
static const osb_type osb__ex_wire_type = OSB_TYPE_RAW(osb__ex_wire, osb__ex_wire_fields, raw);

/* A /metrics/watch record (or a /metrics body). */
typedef struct osb__ex_mwire {
    osb_metrics m;
    osb_str error;                      /* {"error":"failed to get CPU percent: ..."} */
    osb_str code, message;
} osb__ex_mwire;
static const osb_field osb__ex_mwire_fields[] = {
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.cpu_count, "cpu_count"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.cpu_used_pct, "cpu_used_pct"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.mem_total_mib, "mem_total_mib"),
    OSB_FIELD_DOUBLE(osb__ex_mwire, m.mem_used_mib, "mem_used_mib"),
    OSB_FIELD_I64(osb__ex_mwire, m.timestamp, "timestamp"),
    OSB_FIELD_STR(osb__ex_mwire, error, "error"),
    OSB_FIELD_STR(osb__ex_mwire, code, "code"),
    OSB_FIELD_STR(osb__ex_mwire, message, "message"),
};
static const osb_type osb__ex_mwire_type = OSB_TYPE_RAW(osb__ex_mwire, osb__ex_mwire_fields, m.raw);

#define OSB__EX_COMMAND 1     /* /command: error or execution_complete ends it */
#define OSB__EX_SESSION 2     /* /session/{id}/run: the same */
#define OSB__EX_CODE 3        /* /code: execution_complete ends it (errors come before it) */
#define OSB__EX_METRICS 4     /* /metrics/watch: never ends */

#ifndef OSB_STREAM_BUFFER
#  define OSB_STREAM_BUFFER 16384   /* first size of a stream's event buffer */
#endif

struct osb_stream {
    osb_client *c;
    osb_body *body;
    osb_http_response res;
    int kind;
    osb_sse sse;
    char *evbuf;                  /* event data (osb_sse) */
    size_t evcap;
    char *bindbuf;                /* decoded strings and arrays of one event */
    size_t bindcap;
    char *resbuf;                 /* results map of one event */
    size_t rescap;
    const char *pending;          /* body bytes not pushed yet */
    size_t pending_len;
    int eof;                      /* the body ended */
    int finished;                 /* no more events */
    osb_err err;                  /* sticky */
    const volatile int *cancel;
    int no_fast;                  /* tests: always use the general decoder */
    osb__ex_wire wire;
    osb__ex_mwire mwire;
    osb_event ev;
};

/* Grows one of the stream's buffers to at least need bytes (doubling). */
static osb_err osb__ex_grow(osb_stream *s, char **buf, size_t *cap, size_t need) {
    size_t n = *cap ? *cap : 1024;
    char *p;
    if (need <= *cap) return OSB_OK;
    while (n < need) {
        if (n > ((size_t)-1) / 2) { n = need; break; }
        n *= 2;
    }
    p = (char *)osb__realloc(s->c->alloc, *buf, *cap, n);
    if (!p) return OSB_ERR_NOMEM;
    *buf = p;
    *cap = n;
    return OSB_OK;
}

static osb_err osb__ex_stream_fail(osb_stream *s, osb_err e, const char *msg) {
    if (msg) {
        osb__reset_error(&s->c->err);
        osb__set_error(&s->c->err, e, "%s", msg);
        s->c->err.http_status = s->res.status;
    }
    s->err = e;
    s->finished = 1;
    return e;
}

/* Walks the raw "results" object into key/value pairs in s->resbuf: string
 * values unescaped, others as JSON text. No allocation once resbuf is big
 * enough (it is sized from the raw text, which bounds the output). */
static osb_err osb__ex_results(osb_stream *s, const osb_str *raw) {
    osb_json j;
    osb_json_token t;
    char scratch[256];
    size_t max_items, need, text_at, ni = 0;
    osb_kv *kv;
    int r, depth_ok = 0;
    osb_str *cur = NULL;
    char *text;
    s->ev.results = NULL;
    s->ev.results_count = 0;
    if (!raw->ptr || raw->len == 0 || raw->ptr[0] != '{') return OSB_OK;  /* null or not an object */
    max_items = raw->len / 4 + 1;
    need = max_items * sizeof(osb_kv) + raw->len + 2 * max_items + 16;
    if (osb__ex_grow(s, &s->resbuf, &s->rescap, need)) return OSB_ERR_NOMEM;
    kv = (osb_kv *)(void *)s->resbuf;
    text = s->resbuf + max_items * sizeof(osb_kv);
    text_at = 0;
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, raw->ptr, raw->len, 1);
    while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) {
        if (t.depth == 0) {
            depth_ok = 1;
            continue;   /* the object's own braces */
        }
        if (t.depth == 1 && r == OSB_JSON_KEY) {
            if (!cur) {
                if (ni >= max_items) return OSB_ERR_JSON;
                kv[ni].key.ptr = text + text_at;
                kv[ni].key.len = 0;
                cur = &kv[ni].key;
            }
            memcpy(text + text_at, t.ptr, t.len);
            text_at += t.len;
            cur->len += t.len;
            if (!t.more) {
                text[text_at++] = 0;
                kv[ni].value.ptr = text + text_at;
                kv[ni].value.len = 0;
                cur = &kv[ni].value;
            }
            continue;
        }
        if (t.depth == 1 && cur == &kv[ni].value) {
            if (r == OSB_JSON_OBJECT || r == OSB_JSON_ARRAY) {
                uint64_t start = t.offset;
                int k;
                while ((k = osb_json_skip(&j, &t)) == OSB_JSON_NEED_MORE) {}
                if (k != 1) return OSB_ERR_JSON;
                memcpy(text + text_at, raw->ptr + start, (size_t)(osb_json_offset(&j) - start));
                text_at += (size_t)(osb_json_offset(&j) - start);
                cur->len = (size_t)(osb_json_offset(&j) - start);
                text[text_at++] = 0;
                ni++;
                cur = NULL;
                continue;
            }
            if (r == OSB_JSON_TRUE || r == OSB_JSON_FALSE || r == OSB_JSON_NULL) {
                const char *lit = r == OSB_JSON_TRUE ? "true" : r == OSB_JSON_FALSE ? "false" : "null";
                memcpy(text + text_at, lit, strlen(lit));
                text_at += strlen(lit);
                cur->len = strlen(lit);
                text[text_at++] = 0;
                ni++;
                cur = NULL;
                continue;
            }
            /* a string or a number, perhaps in pieces */
            memcpy(text + text_at, t.ptr, t.len);
            text_at += t.len;
            cur->len += t.len;
            if (!t.more) {
                text[text_at++] = 0;
                ni++;
                cur = NULL;
            }
        }
    }
    if (r == OSB_JSON_ERROR || !depth_ok) return OSB_ERR_JSON;
    s->ev.results = kv;
    s->ev.results_count = ni;
    return OSB_OK;
}

static osb_event_type osb__ex_type(const osb_str *t) {
    static const char *const names[] = {"init", "status", "stdout", "stderr", "result", "error",
                                        "execution_complete", "execution_count", "ping"};
    size_t i;
    if (!t->ptr) return OSB_EVENT_UNKNOWN;
    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (t->len == strlen(names[i]) && !memcmp(t->ptr, names[i], t->len)) return (osb_event_type)(i + 1);
    return OSB_EVENT_UNKNOWN;
}

/* A bare {code,message} inside the stream: the server failed after the
 * first event. */
static osb_err osb__ex_server_error(osb_stream *s, const osb_str *code, const osb_str *message) {
    osb_client *c = s->c;
    osb__reset_error(&c->err);
    c->err.code = OSB_ERR_SERVER;
    c->err.http_status = s->res.status;
    memcpy(c->err.request_id, s->res.request_id, sizeof c->err.request_id);
    if (code->ptr) osb__copy_field(c->err.server_code, sizeof c->err.server_code, code->ptr, code->len);
    snprintf(c->err.message, sizeof c->err.message, "the stream reported an error");
    if (code->ptr) {
        osb__append_clean(c->err.message, sizeof c->err.message, ": ", 2);
        osb__append_clean(c->err.message, sizeof c->err.message, code->ptr, code->len);
    }
    if (message->ptr) {
        osb__append_clean(c->err.message, sizeof c->err.message, ": ", 2);
        osb__append_clean(c->err.message, sizeof c->err.message, message->ptr, message->len);
    }
    s->err = OSB_ERR_SERVER;
    s->finished = 1;
    return OSB_ERR_SERVER;
}

/* The fast path for the events that make up nearly all of a stream (init,
 * ping, stdout, stderr, status, execution_count, execution_complete): one
 * flat object whose values are strings and integers. One pass, strings
 * unescaped into out (which has room for n + 16 bytes). Returns 1 when w is
 * filled, 0 when the event needs the general decoder (nested values,
 * fractions, odd keys, anything malformed: the general decoder then reports
 * the error precisely). */
static int osb__ex_hex4(const char *p, uint32_t *v) {
    int i;
    *v = 0;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        *v <<= 4;
        if (ch >= '0' && ch <= '9') *v |= (uint32_t)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') *v |= (uint32_t)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') *v |= (uint32_t)(ch - 'A' + 10);
        else return 0;
    }
    return 1;
}

/* Checks UTF-8 in p[0..n) (RFC 3629: no overlongs, surrogates or values
 * above U+10FFFF). */
static int osb__ex_utf8_ok(const unsigned char *p, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c0 = p[i];
        size_t k;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c0 < 0x80) { i++; continue; }
        if (c0 >= 0xC2 && c0 <= 0xDF) k = 1;
        else if (c0 >= 0xE0 && c0 <= 0xEF) {
            k = 2;
            if (c0 == 0xE0) lo = 0xA0;
            if (c0 == 0xED) hi = 0x9F;
        } else if (c0 >= 0xF0 && c0 <= 0xF4) {
            k = 3;
            if (c0 == 0xF0) lo = 0x90;
            if (c0 == 0xF4) hi = 0x8F;
        } else return 0;
        if (n - i <= k) return 0;
        if (p[i + 1] < lo || p[i + 1] > hi) return 0;
        if (k >= 2 && (p[i + 2] & 0xC0) != 0x80) return 0;
        if (k == 3 && (p[i + 3] & 0xC0) != 0x80) return 0;
        i += k + 1;
    }
    return 1;
}

/* Reads the string starting after its opening quote at p[*at]; copies its
 * text into out at *o when dst is not NULL. */
static int osb__ex_fast_str(const char *p, size_t n, size_t *at, char *out, size_t *o, osb_str *dst) {
    size_t i = *at;
    char *w = dst ? out + *o : NULL;
    for (;;) {
        const char *q = (const char *)memchr(p + i, '"', n - i);
        size_t end, j;
        int plain = 1;
        if (!q) return 0;
        end = (size_t)(q - p);
        j = i;
        /* eight bytes at a time while none is a control, '\\' or non-ASCII */
        while (end - j >= 8) {
            uint64_t x;
            memcpy(&x, p + j, 8);
            if (((x - 0x2020202020202020ull) | x | ((x ^ 0x5C5C5C5C5C5C5C5Cull) - 0x0101010101010101ull)) &
                0x8080808080808080ull)
                break;
            j += 8;
        }
        for (; j < end; j++) {
            unsigned char ch = (unsigned char)p[j];
            if (ch < 0x20 || ch == '\\' || ch >= 0x80) { plain = 0; break; }
        }
        if (plain) {
            if (w) { memcpy(w, p + i, end - i); w += end - i; }
            i = end;
            break;
        }
        /* a run with escapes or non-ASCII: byte by byte up to the quote */
        if (w) { memcpy(w, p + i, j - i); w += j - i; }
        i = j;
        while (i < n && p[i] != '"') {
            unsigned char ch = (unsigned char)p[i];
            if (ch < 0x20) return 0;
            if (ch >= 0x80) {
                size_t r = i + 1;
                while (r < n && ((unsigned char)p[r] & 0xC0) == 0x80) r++;
                if (!osb__ex_utf8_ok((const unsigned char *)p + i, r - i)) return 0;
                if (w) { memcpy(w, p + i, r - i); w += r - i; }
                i = r;
                continue;
            }
            if (ch != '\\') {
                if (w) *w++ = (char)ch;
                i++;
                continue;
            }
            if (i + 1 >= n) return 0;
            switch (p[i + 1]) {
            case '"': case '\\': case '/': if (w) *w++ = p[i + 1]; i += 2; break;
            case 'n': if (w) *w++ = '\n'; i += 2; break;
            case 't': if (w) *w++ = '\t'; i += 2; break;
            case 'r': if (w) *w++ = '\r'; i += 2; break;
            case 'b': if (w) *w++ = '\b'; i += 2; break;
            case 'f': if (w) *w++ = '\f'; i += 2; break;
            case 'u': {
                uint32_t u, u2;
                if (i + 6 > n || !osb__ex_hex4(p + i + 2, &u)) return 0;
                i += 6;
                if (u >= 0xDC00 && u <= 0xDFFF) return 0;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (i + 6 > n || p[i] != '\\' || p[i + 1] != 'u' || !osb__ex_hex4(p + i + 2, &u2) ||
                        u2 < 0xDC00 || u2 > 0xDFFF)
                        return 0;
                    i += 6;
                    u = 0x10000 + ((u - 0xD800) << 10) + (u2 - 0xDC00);
                }
                if (w) {
                    if (u < 0x80) *w++ = (char)u;
                    else if (u < 0x800) { *w++ = (char)(0xC0 | (u >> 6)); *w++ = (char)(0x80 | (u & 0x3F)); }
                    else if (u < 0x10000) {
                        *w++ = (char)(0xE0 | (u >> 12));
                        *w++ = (char)(0x80 | ((u >> 6) & 0x3F));
                        *w++ = (char)(0x80 | (u & 0x3F));
                    } else {
                        *w++ = (char)(0xF0 | (u >> 18));
                        *w++ = (char)(0x80 | ((u >> 12) & 0x3F));
                        *w++ = (char)(0x80 | ((u >> 6) & 0x3F));
                        *w++ = (char)(0x80 | (u & 0x3F));
                    }
                }
                break;
            }
            default: return 0;
            }
        }
        if (i >= n) return 0;
        break;
    }
    *at = i + 1;   /* past the closing quote */
    if (dst) {
        size_t len = (size_t)(w - (out + *o));
        out[*o + len] = 0;
        dst->ptr = out + *o;
        dst->len = len;
        *o += len + 1;
    }
    return 1;
}

static int osb__ex_fast(const char *p, size_t n, osb__ex_wire *w, char *out) {
    size_t i = 0, o = 0;
    int first = 1;
    /* field by field: cheaper than a memset of the whole struct per event */
    w->type.ptr = w->text.ptr = w->results.ptr = w->code.ptr = w->message.ptr = NULL;
    w->type.len = w->text.len = w->results.len = w->code.len = w->message.len = 0;
    w->timestamp = w->execution_count = w->execution_time = 0;
    w->error.ename.ptr = w->error.evalue.ptr = NULL;
    w->error.ename.len = w->error.evalue.len = 0;
    w->error.traceback = NULL;
    w->error.traceback_count = 0;
#define OSB__EX_WS() while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) i++
    OSB__EX_WS();
    if (i >= n || p[i] != '{') return 0;
    i++;
    for (;;) {
        const char *key;
        size_t klen;
        osb_str *sdst = NULL;
        int64_t *idst = NULL;
        OSB__EX_WS();
        if (i < n && p[i] == '}' && first) { i++; break; }
        if (i >= n || p[i] != '"') return 0;
        i++;
        key = p + i;
        {
            const char *q = (const char *)memchr(p + i, '"', n - i);
            size_t j;
            if (!q) return 0;
            klen = (size_t)(q - key);
            for (j = 0; j < klen; j++)
                if (key[j] == '\\' || (unsigned char)key[j] < 0x20 || (unsigned char)key[j] >= 0x80) return 0;
            i += klen + 1;
        }
        OSB__EX_WS();
        if (i >= n || p[i] != ':') return 0;
        i++;
        OSB__EX_WS();
        if (i >= n) return 0;
        switch (klen) {
        case 4:
            if (!memcmp(key, "type", 4)) sdst = &w->type;
            else if (!memcmp(key, "text", 4)) sdst = &w->text;
            else if (!memcmp(key, "code", 4)) sdst = &w->code;
            break;
        case 5: if (!memcmp(key, "error", 5)) return 0; break;
        case 7:
            if (!memcmp(key, "message", 7)) sdst = &w->message;
            else if (!memcmp(key, "results", 7)) return 0;
            break;
        case 9: if (!memcmp(key, "timestamp", 9)) idst = &w->timestamp; break;
        case 14: if (!memcmp(key, "execution_time", 14)) idst = &w->execution_time; break;
        case 15: if (!memcmp(key, "execution_count", 15)) idst = &w->execution_count; break;
        default: break;
        }
        if (p[i] == '"') {
            if (idst) return 0;
            i++;
            if (!osb__ex_fast_str(p, n, &i, out, &o, sdst)) return 0;
        } else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
            int neg = p[i] == '-';
            uint64_t v = 0;
            size_t d0;
            if (sdst) return 0;
            if (neg) i++;
            d0 = i;
            while (i < n && p[i] >= '0' && p[i] <= '9') {
                if (v > (UINT64_MAX - 9) / 10) return 0;
                v = v * 10 + (uint64_t)(p[i] - '0');
                i++;
            }
            if (i == d0 || (p[d0] == '0' && i - d0 > 1)) return 0;
            if (i < n && (p[i] == '.' || p[i] == 'e' || p[i] == 'E')) return 0;
            if (v > (uint64_t)INT64_MAX) return 0;
            if (idst) *idst = neg ? -(int64_t)v : (int64_t)v;
        } else {
            return 0;   /* objects, arrays, literals: the general decoder */
        }
        first = 0;
        OSB__EX_WS();
        if (i < n && p[i] == ',') { i++; continue; }
        if (i < n && p[i] == '}') { i++; break; }
        return 0;
    }
    OSB__EX_WS();
#undef OSB__EX_WS
    if (i != n) return 0;
    w->raw.ptr = p;
    w->raw.len = n;
    return 1;
}

/* Decodes the event the tokenizer holds into s->ev. Returns OSB_OK with
 * *skip = 1 for an event without data. */
static osb_err osb__ex_decode(osb_stream *s, int *skip) {
    osb_sse_event se;
    osb_error berr;
    size_t need = 0;
    osb_err e;
    const osb_type *type = s->kind == OSB__EX_METRICS ? &osb__ex_mwire_type : &osb__ex_wire_type;
    void *dst = s->kind == OSB__EX_METRICS ? (void *)&s->mwire : (void *)&s->wire;
    *skip = 0;
    osb_sse_event_get(&s->sse, &se);
    if (se.data_len == 0) { *skip = 1; return OSB_OK; }
    if (s->bindcap < se.data_len + 256 &&
        osb__ex_grow(s, &s->bindbuf, &s->bindcap, se.data_len + 256))
        return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
    if (s->kind != OSB__EX_METRICS && !s->no_fast && osb__ex_fast(se.data, se.data_len, &s->wire, s->bindbuf)) {
        e = OSB_OK;
        goto decoded;
    }
    for (;;) {
        memset(&berr, 0, sizeof berr);
        e = osb_bind_into(type, se.data, se.data_len, dst, s->bindbuf, s->bindcap, &need, &berr);
        if (e != OSB_ERR_TOO_LARGE || need <= s->bindcap) break;
        if (osb__ex_grow(s, &s->bindbuf, &s->bindcap, need))
            return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
    }
    if (e) {
        osb__reset_error(&s->c->err);
        s->c->err = berr;
        s->c->err.code = e;
        s->c->err.http_status = s->res.status;
        s->c->err.offset = se.offset;
        if (!s->c->err.message[0]) osb__set_error(&s->c->err, e, "a stream event is not a JSON object");
        s->err = e;
        s->finished = 1;
        return e;
    }
decoded:
    if (s->kind == OSB__EX_METRICS) {
        osb__ex_mwire *m = &s->mwire;
        memset(&s->ev, 0, sizeof s->ev);
        if ((m->code.ptr || m->message.ptr) && !m->error.ptr && m->m.timestamp == 0)
            return osb__ex_server_error(s, &m->code, &m->message);
        s->ev.raw = m->m.raw;
        s->ev.type_name.ptr = "";
        if (m->error.ptr) {
            s->ev.type = OSB_EVENT_ERROR;
            s->ev.text = m->error;
            s->ev.evalue = m->error;
        } else {
            s->ev.type = OSB_EVENT_METRICS;
            s->ev.metrics = m->m;
            s->ev.timestamp = m->m.timestamp;
        }
        return OSB_OK;
    } else {
        osb__ex_wire *w = &s->wire;
        if (!w->type.ptr && (w->code.ptr || w->message.ptr)) return osb__ex_server_error(s, &w->code, &w->message);
        s->ev.type = osb__ex_type(&w->type);
        s->ev.type_name = w->type;
        if (!s->ev.type_name.ptr) s->ev.type_name.ptr = "";
        s->ev.text = w->text;
        if (!s->ev.text.ptr) s->ev.text.ptr = "";
        s->ev.timestamp = w->timestamp;
        s->ev.execution_count = w->execution_count;
        s->ev.execution_time_ms = w->execution_time;
        s->ev.ename = w->error.ename;
        s->ev.evalue = w->error.evalue;
        if (!s->ev.ename.ptr) s->ev.ename.ptr = "";
        if (!s->ev.evalue.ptr) s->ev.evalue.ptr = "";
        s->ev.traceback = w->error.traceback;
        s->ev.traceback_count = w->error.traceback_count;
        s->ev.raw = w->raw;
        s->ev.results = NULL;
        s->ev.results_count = 0;
        /* (s->ev.metrics stays zero: this stream never has metrics) */
        if (w->results.ptr && osb__ex_results(s, &w->results) != OSB_OK)
            return osb__ex_stream_fail(s, OSB_ERR_JSON, "malformed results in a stream event");
        return OSB_OK;
    }
}

OSB_API osb_err osb_stream_next(osb_stream *s, const osb_event **ev) {
    if (ev) *ev = NULL;
    if (!s || !ev) return OSB_ERR_INVALID_ARG;
    for (;;) {
        int st, skip;
        osb_err e;
        if (s->finished) {
            if (s->err) s->c->err.code = s->err;
            return s->err;
        }
        if (s->cancel && *s->cancel) return osb__ex_stream_fail(s, OSB_ERR_CANCELLED, "cancelled");
        if (s->eof) {
            st = osb_sse_finish(&s->sse);
        } else {
            if (s->pending_len == 0) {
                const void *d;
                size_t n;
                e = osb_body_read(s->body, &d, &n);
                if (e) {
                    s->err = e;
                    s->finished = 1;
                    return e;
                }
                if (n == 0) {
                    s->eof = 1;
                    continue;
                }
                s->pending = (const char *)d;
                s->pending_len = n;
            }
            {
                size_t used = osb_sse_push(&s->sse, s->pending, s->pending_len);
                s->pending += used;
                s->pending_len -= used;
            }
            st = osb_sse_status(&s->sse);
        }
        if (st == OSB_SSE_FULL) {
            size_t want = s->evcap * 2;
            if (want > s->sse.max_event + 1) want = s->sse.max_event + 1;
            if (want <= s->evcap) return osb__ex_stream_fail(s, OSB_ERR_TOO_LARGE, "a stream event is over max_event");
            if (osb__ex_grow(s, &s->evbuf, &s->evcap, want))
                return osb__ex_stream_fail(s, OSB_ERR_NOMEM, "out of memory");
            /* osb__ex_grow may round up past want; the tokenizer gets all of it */
            osb_sse_set_buffer(&s->sse, s->evbuf, s->evcap);
            continue;
        }
        if (st == OSB_SSE_ERROR) {
            osb__reset_error(&s->c->err);
            osb__set_error(&s->c->err, s->sse.err, s->sse.err == OSB_ERR_TOO_LARGE ? "a stream event is over max_event"
                                                                               : "malformed event stream");
            s->c->err.offset = s->sse.err_offset;
            s->err = s->sse.err;
            s->finished = 1;
            return s->err;
        }
        if (st == OSB_SSE_END) {
            s->finished = 1;
            return OSB_OK;
        }
        if (st != OSB_SSE_EVENT) continue;
        e = osb__ex_decode(s, &skip);
        if (e) return e;
        if (skip) continue;
        if (s->ev.type == OSB_EVENT_EXECUTION_COMPLETE ||
            (s->ev.type == OSB_EVENT_ERROR && (s->kind == OSB__EX_COMMAND || s->kind == OSB__EX_SESSION)))
            s->finished = 1;   /* the terminal event: nothing useful follows */
        *ev = &s->ev;
        return OSB_OK;
    }
}

OSB_API void osb_stream_close(osb_stream *s) {
    const osb_allocator *a;
    if (!s) return;
    a = s->c->alloc;
    if (s->body && !s->eof && !s->err && s->finished &&
        (s->kind == OSB__EX_CODE || s->kind == OSB__EX_SESSION)) {
        /* these streams close right after their terminal event: reading
           the rest keeps the connection and lets the server finish the
           execution before the next request */
        uint64_t budget = 1u << 20;
        for (;;) {
            const void *d;
            size_t n;
            if (osb_body_read(s->body, &d, &n) != OSB_OK || n == 0 || n >= budget) break;
            budget -= n;
        }
    }
    if (s->body) osb_body_close(s->body);
    osb_http_response_free(&s->res);
    osb__free(a, s->evbuf);
    osb__free(a, s->bindbuf);
    osb__free(a, s->resbuf);
    osb__free(a, s);
}

/* Sends a built call as a stream request and reads the response head. */
static osb_err osb__ex_open(osb__call *k, int kind, const volatile int *cancel, osb_stream **out) {
    osb_client *c = k->c;
    osb_http_request req;
    osb_stream *s;
    osb_err e;
    char url[1400];
    *out = NULL;
    if (!k->err && k->has_body && (e = osb_jw_finish(&k->jw)) != OSB_OK) k->err = e;
    if (k->err) {
        e = k->err;
        osb__call_free(k);
        return osb__ex_fail(c, e, e == OSB_ERR_NOMEM ? "out of memory" : "invalid argument");
    }
    if ((e = osb__ex_url(c, k->target, url, sizeof url)) != OSB_OK) {
        osb__call_free(k);
        return e;
    }
    s = (osb_stream *)osb__alloc(c->alloc, sizeof *s);
    if (!s) {
        osb__call_free(k);
        return osb__ex_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(s, 0, sizeof *s);
    s->c = c;
    s->kind = kind;
    s->cancel = cancel;
    s->evcap = OSB_STREAM_BUFFER;
    s->evbuf = (char *)osb__alloc(c->alloc, s->evcap);
    if (!s->evbuf) {
        osb__free(c->alloc, s);
        osb__call_free(k);
        return osb__ex_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    osb_sse_init(&s->sse, s->evbuf, s->evcap);
    memset(&req, 0, sizeof req);
    req.method = k->method;
    req.url = url;
    req.path = k->path.data;
    req.query = k->query.len ? k->query.data : NULL;
    req.headers = k->target->headers;
    if (k->has_body) {
        req.content_type = k->content_type;
        req.body = k->body.data;
        req.body_len = k->body.len;
    }
    req.stream = 1;
    req.cancel = cancel;
    e = osb_request_open(c, &req, &s->res, &s->body);
    osb__call_free(k);
    if (!e && (s->res.status < 200 || s->res.status > 299)) e = osb__ex_http_error(c, s->body, s->res.status);
    if (e) {
        osb_stream_close(s);
        return e;
    }
    *out = s;
    return OSB_OK;
}

/* Runs a stream to its end through the callback and the execution. */
static osb_err osb__ex_drive(osb_client *c, osb_stream *s, osb_event_fn on_event, void *user, osb_execution *x) {
    osb_err e;
    for (;;) {
        const osb_event *ev;
        e = osb_stream_next(s, &ev);
        if (e || !ev) break;
        if (x && (e = osb_execution_add(x, ev)) != OSB_OK) {
            osb__ex_fail(c, e, "out of memory");
            break;
        }
        if (on_event && on_event(user, ev)) {
            e = osb__ex_fail(c, OSB_ERR_CANCELLED, "the event callback stopped the stream");
            break;
        }
    }
    osb_stream_close(s);
    return e;
}

/* Prepares an execution for a run: frees what it held, takes the client's
 * allocator when none is set. */
static void osb__ex_exec_begin(osb_client *c, osb_execution *x, int line_mode) {
    if (!x) return;
    osb_execution_free(x);
    if (!x->allocator) x->allocator = c->alloc;
    x->line_mode = line_mode;
}

/* ---- executions ---------------------------------------------------------------- */

/* Whether evalue is a decimal integer (optionally negative) fitting an int. */
static int osb__ex_exit_code(const osb_str *v, int *out) {
    int64_t n;
    size_t i = 0;
    if (!v->ptr || v->len == 0 || v->len > 12) return 0;
    if (v->ptr[0] == '-') i = 1;
    if (i == v->len) return 0;
    for (; i < v->len; i++)
        if (v->ptr[i] < '0' || v->ptr[i] > '9') return 0;
    if (osb_json_to_i64(v->ptr, v->len, &n) != OSB_OK || n < INT_MIN || n > INT_MAX) {
        /* osb_json_to_i64 refuses leading zeros ("007"): read it by hand */
        n = 0;
        for (i = v->ptr[0] == '-'; i < v->len; i++) n = n * 10 + (v->ptr[i] - '0');
        if (v->ptr[0] == '-') n = -n;
        if (n < INT_MIN || n > INT_MAX) return 0;
    }
    *out = (int)n;
    return 1;
}

/* Appends a stream text chunk; command lines (line_mode) are joined by '\n'
 * as execd cut them ("\n" alone stands for an empty line). */
static osb_err osb__ex_append_text(osb_execution *x, osb_buf *b, const osb_str *t) {
    if (b->allocator == NULL) b->allocator = x->allocator;
    if (!x->line_mode) return osb_buf_append(b, t->ptr, t->len);
    if (t->len == 1 && t->ptr[0] == '\n') return osb_buf_append(b, "\n", 1);
    if (osb_buf_append(b, t->ptr, t->len)) return b->failed;
    return osb_buf_append(b, "\n", 1);
}

OSB_API osb_err osb_execution_add(osb_execution *x, const osb_event *ev) {
    if (!x || !ev) return OSB_ERR_INVALID_ARG;
    x->events++;
    switch (ev->type) {
    case OSB_EVENT_INIT:
        osb__copy_field(x->id, sizeof x->id, ev->text.ptr, ev->text.len);
        break;
    case OSB_EVENT_STDOUT:
        x->out_bytes += ev->text.len;
        if (!x->forward_only) return osb__ex_append_text(x, &x->out, &ev->text);
        break;
    case OSB_EVENT_STDERR:
        x->err_bytes += ev->text.len;
        if (!x->forward_only) return osb__ex_append_text(x, &x->err, &ev->text);
        break;
    case OSB_EVENT_EXECUTION_COUNT:
        x->execution_count = ev->execution_count;
        break;
    case OSB_EVENT_EXECUTION_COMPLETE:
        x->completed = 1;
        x->execution_time_ms = ev->execution_time_ms;
        if (!x->has_error) {
            x->exit_code_known = 1;
            x->exit_code = 0;
        }
        break;
    case OSB_EVENT_RESULT:
        if (!x->forward_only) {
            size_t bytes = ev->results_count * sizeof(osb_kv), i;
            char *blk, *p;
            osb_execution_result *r;
            for (i = 0; i < ev->results_count; i++) bytes += ev->results[i].key.len + ev->results[i].value.len + 2;
            if (x->results_count == x->results_cap) {
                size_t ncap = x->results_cap ? x->results_cap * 2 : 4;
                void *nr = osb__realloc(x->allocator, x->results, x->results_cap * sizeof *x->results,
                                        ncap * sizeof *x->results);
                if (!nr) return OSB_ERR_NOMEM;
                x->results = (osb_execution_result *)nr;
                x->results_cap = ncap;
            }
            blk = (char *)osb__alloc(x->allocator, bytes ? bytes : 1);
            if (!blk) return OSB_ERR_NOMEM;
            r = &x->results[x->results_count++];
            memset(r, 0, sizeof *r);
            r->items = (osb_kv *)(void *)blk;
            r->count = ev->results_count;
            r->execution_count = x->execution_count;
            p = blk + ev->results_count * sizeof(osb_kv);
            for (i = 0; i < ev->results_count; i++) {
                const osb_kv *s = &ev->results[i];
                memcpy(p, s->key.ptr, s->key.len);
                p[s->key.len] = 0;
                r->items[i].key.ptr = p;
                r->items[i].key.len = s->key.len;
                p += s->key.len + 1;
                memcpy(p, s->value.ptr, s->value.len);
                p[s->value.len] = 0;
                r->items[i].value.ptr = p;
                r->items[i].value.len = s->value.len;
                p += s->value.len + 1;
            }
            for (i = 0; i < r->count; i++)
                if (r->items[i].key.len == 10 && !memcmp(r->items[i].key.ptr, "text/plain", 10)) r->text = r->items[i].value;
            if (!r->text.ptr)
                for (i = 0; i < r->count; i++)
                    if (r->items[i].key.len == 4 && !memcmp(r->items[i].key.ptr, "text", 4)) r->text = r->items[i].value;
            if (!r->text.ptr) r->text.ptr = "";
        }
        break;
    case OSB_EVENT_ERROR: {
        size_t bytes = ev->traceback_count * sizeof(osb_str) + ev->ename.len + ev->evalue.len + 2, i;
        char *blk, *p;
        int code;
        for (i = 0; i < ev->traceback_count; i++) bytes += ev->traceback[i].len + 1;
        blk = (char *)osb__alloc(x->allocator, bytes);
        if (!blk) return OSB_ERR_NOMEM;
        osb__free(x->allocator, x->priv_block);
        x->priv_block = blk;
        x->traceback = (osb_str *)(void *)blk;
        x->traceback_count = ev->traceback_count;
        p = blk + ev->traceback_count * sizeof(osb_str);
        for (i = 0; i < ev->traceback_count; i++) {
            memcpy(p, ev->traceback[i].ptr, ev->traceback[i].len);
            p[ev->traceback[i].len] = 0;
            x->traceback[i].ptr = p;
            x->traceback[i].len = ev->traceback[i].len;
            p += ev->traceback[i].len + 1;
        }
        memcpy(p, ev->ename.ptr, ev->ename.len);
        p[ev->ename.len] = 0;
        x->ename.ptr = p;
        x->ename.len = ev->ename.len;
        p += ev->ename.len + 1;
        memcpy(p, ev->evalue.ptr, ev->evalue.len);
        p[ev->evalue.len] = 0;
        x->evalue.ptr = p;
        x->evalue.len = ev->evalue.len;
        x->has_error = 1;
        if (osb__ex_exit_code(&ev->evalue, &code)) {
            x->exit_code_known = 1;
            x->exit_code = code;
        } else {
            x->exit_code_known = 0;
            x->exit_code = 0;
        }
        break;
    }
    default:
        break;
    }
    return OSB_OK;
}

OSB_API void osb_execution_free(osb_execution *x) {
    int fwd;
    const osb_allocator *a;
    size_t i;
    if (!x) return;
    fwd = x->forward_only;
    a = x->allocator;
    osb_buf_free(&x->out);
    osb_buf_free(&x->err);
    for (i = 0; i < x->results_count; i++) osb__free(a, x->results[i].items);
    osb__free(a, x->results);
    osb__free(a, x->priv_block);
    memset(x, 0, sizeof *x);
    x->forward_only = fwd;
    x->allocator = a;
}

/* ---- commands --------------------------------------------------------------------- */

static osb_err osb__ex_command_open(osb_client *c, const osb_target *execd, const osb_command_request *r,
                                    int background, osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->command || !*r->command || !out || r->timeout_ms < 0)
        return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "a command and a target are required");
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/command");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__ex_jw_kstr(w, "command", r->command);
    osb__ex_jw_kstr(w, "cwd", r->cwd);
    if (background) {
        osb_jw_key(w, "background");
        osb_jw_bool(w, 1);
    }
    if (r->timeout_ms > 0) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_ms);
    }
    if (r->uid_set) {
        osb_jw_key(w, "uid");
        osb_jw_uint(w, r->uid);
    }
    if (r->gid_set) {
        osb_jw_key(w, "gid");
        osb_jw_uint(w, r->gid);
    }
    if (r->envs) {
        const char *const *e;
        osb_jw_key(w, "envs");
        osb_jw_object(w);
        for (e = r->envs; *e; e++) {
            const char *eq = strchr(*e, '=');
            if (!eq || eq == *e) {
                k.err = OSB_ERR_INVALID_ARG;
                break;
            }
            osb_jw_key_n(w, *e, (size_t)(eq - *e));
            osb_jw_str(w, eq + 1);
        }
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_COMMAND, r->cancel, out);
}

OSB_API osb_err osb_command_stream(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                   int background, osb_stream **out) {
    return osb__ex_command_open(c, execd, req, background, out);
}

OSB_API osb_err osb_command_run(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                osb_event_fn on_event, void *user, osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 1);
    e = osb__ex_command_open(c, execd, req, 0, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_command_start(osb_client *c, const osb_target *execd, const osb_command_request *req,
                                  char *id, size_t cap) {
    osb_stream *s;
    osb_err e;
    osb_execution x;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!id || cap == 0) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "no buffer for the command id");
    id[0] = 0;
    e = osb__ex_command_open(c, execd, req, 1, &s);
    if (e) return e;
    memset(&x, 0, sizeof x);
    x.forward_only = 1;
    x.allocator = c->alloc;
    e = osb__ex_drive(c, s, NULL, NULL, &x);
    if (!e && !x.id[0]) e = osb__ex_fail(c, OSB_ERR_PROTOCOL, "the stream gave no command id");
    if (!e && x.has_error) {
        osb__reset_error(&c->err);
        c->err.code = OSB_ERR_SERVER;
        c->err.http_status = 200;
        osb__set_error(&c->err, OSB_ERR_SERVER, "the command did not start: %s", x.evalue.ptr ? x.evalue.ptr : "");
        e = OSB_ERR_SERVER;
    }
    if (!e) {
        if (strlen(x.id) >= cap) e = osb__ex_fail(c, OSB_ERR_TOO_LARGE, "the command id does not fit the buffer");
        else memcpy(id, x.id, strlen(x.id) + 1);
    }
    osb_execution_free(&x);
    return e;
}

static const osb_field osb__ex_status_fields[] = {
    OSB_FIELD_STR(osb_command_status, id, "id"),
    OSB_FIELD_STR(osb_command_status, content, "content"),
    OSB_FIELD_BOOL(osb_command_status, running, "running"),
    OSB_FIELD_RAW(osb_command_status, exit_code_json, "exit_code"),
    OSB_FIELD_STR(osb_command_status, error, "error"),
    OSB_FIELD_STR(osb_command_status, started_at, "started_at"),
    OSB_FIELD_STR(osb_command_status, finished_at, "finished_at"),
};
static const osb_type osb__ex_status_type = OSB_TYPE_RAW(osb_command_status, osb__ex_status_fields, raw);

OSB_API osb_err osb_command_status_get(osb_client *c, const osb_target *execd, const char *id,
                                       osb_command_status **out) {
    osb__call k;
    osb_err e;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/command/status/{}", id);
    k.type = &osb__ex_status_type;
    k.out = (void **)out;
    e = osb__call_run(&k);
    if (!e && *out) {
        osb_command_status *st = *out;
        const osb_str *j = &st->exit_code_json;
        if (j->ptr && j->len && strcmp(j->ptr, "null") != 0 &&
            osb_json_to_i64(j->ptr, j->len, &st->exit_code) == OSB_OK)
            st->has_exit_code = 1;
    }
    return e;
}

typedef struct osb__ex_cursor {
    uint64_t value;
    int seen;
} osb__ex_cursor;

static int osb__ex_on_cursor(void *user, osb_str name, osb_str value) {
    osb__ex_cursor *cur = (osb__ex_cursor *)user;
    static const char h[] = "EXECD-COMMANDS-TAIL-CURSOR";
    size_t i;
    uint64_t v = 0;
    if (name.len != sizeof h - 1) return 0;
    for (i = 0; i < name.len; i++)
        if (osb__lower((unsigned char)name.ptr[i]) != osb__lower((unsigned char)h[i])) return 0;
    while (value.len && (value.ptr[value.len - 1] == ' ' || value.ptr[value.len - 1] == '\t')) value.len--;
    while (value.len && (value.ptr[0] == ' ' || value.ptr[0] == '\t')) { value.ptr++; value.len--; }
    if (value.len && osb_json_to_u64(value.ptr, value.len, &v) == OSB_OK) {
        cur->value = v;
        cur->seen = 1;
    }
    return 0;
}

OSB_API osb_err osb_command_logs(osb_client *c, const osb_target *execd, const char *id, uint64_t cursor,
                                 osb_write_fn sink, void *user, uint64_t *next_cursor) {
    osb__call k;
    osb_http_request req;
    osb_http_response res;
    osb__ex_cursor cur;
    osb_err e;
    char url[1400];
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!sink) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "no sink for the log");
    if ((e = osb__ex_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/command/{}/logs", id);
    osb__call_query_int(&k, "cursor", (int64_t)cursor);
    if (k.err || k.query.failed) {
        e = k.err ? k.err : k.query.failed;
        osb__call_free(&k);
        return osb__ex_fail(c, e, "invalid argument");
    }
    memset(&cur, 0, sizeof cur);
    memset(&req, 0, sizeof req);
    req.url = url;
    req.path = k.path.data;
    req.query = k.query.data;
    req.headers = execd->headers;
    req.sink = sink;
    req.sink_user = user;
    req.on_header = osb__ex_on_cursor;
    req.on_header_user = &cur;
    e = osb_request_raw(c, &req, &res);
    if (!e && next_cursor) *next_cursor = cur.seen ? cur.value : cursor + res.body_bytes;
    osb_http_response_free(&res);
    osb__call_free(&k);
    return e;
}

OSB_API osb_err osb_command_follow(osb_client *c, const osb_target *execd, const char *id,
                                   osb_write_fn sink, void *user, uint64_t *cursor, int poll_ms,
                                   const volatile int *cancel, int *exit_code) {
    uint64_t at = cursor ? *cursor : 0;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (poll_ms <= 0) poll_ms = 500;
    for (;;) {
        osb_command_status *st = NULL;
        int running;
        if (cancel && *cancel) return osb__ex_fail(c, OSB_ERR_CANCELLED, "cancelled");
        e = osb_command_logs(c, execd, id, at, sink, user, &at);
        if (cursor) *cursor = at;
        if (e) return e;
        e = osb_command_status_get(c, execd, id, &st);
        if (e) return e;
        running = st->running;
        if (!running && exit_code && st->has_exit_code) *exit_code = (int)st->exit_code;
        osb_result_free(st);
        if (!running) {
            /* the output written between the last read and the exit */
            e = osb_command_logs(c, execd, id, at, sink, user, &at);
            if (cursor) *cursor = at;
            return e;
        }
        osb__sleep_ms(poll_ms);
    }
}

static osb_err osb__ex_delete_query(osb_client *c, const osb_target *execd, const char *path,
                                    const char *key, const char *value) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, path);
    if (!value || !*value) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, key, value);
    return osb__call_run(&k);
}

OSB_API osb_err osb_command_interrupt(osb_client *c, const osb_target *execd, const char *id) {
    return osb__ex_delete_query(c, execd, "/command", "id", id);
}

/* ---- sessions -------------------------------------------------------------------- */

typedef struct osb__ex_session_id {
    osb_str session_id;
} osb__ex_session_id;
static const osb_field osb__ex_session_id_fields[] = {
    OSB_FIELD_STR(osb__ex_session_id, session_id, "session_id"),
};
static const osb_type osb__ex_session_id_type = OSB_TYPE(osb__ex_session_id, osb__ex_session_id_fields);

OSB_API osb_err osb_session_create(osb_client *c, const osb_target *execd, const char *cwd,
                                   char *id, size_t cap) {
    osb__call k;
    osb_jw *w;
    osb__ex_session_id *r = NULL;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!id || cap == 0) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "no buffer for the session id");
    id[0] = 0;
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/session");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__ex_jw_kstr(w, "cwd", cwd);
    osb_jw_object_end(w);
    k.type = &osb__ex_session_id_type;
    k.out = (void **)&r;
    e = osb__call_run(&k);
    if (e) return e;
    if (!r->session_id.ptr || !r->session_id.len) e = osb__ex_fail(c, OSB_ERR_JSON, "no session_id in the answer");
    else if (r->session_id.len >= cap) e = osb__ex_fail(c, OSB_ERR_TOO_LARGE, "the session id does not fit the buffer");
    else memcpy(id, r->session_id.ptr, r->session_id.len + 1);
    osb_result_free(r);
    return e;
}

OSB_API osb_err osb_session_stream(osb_client *c, const osb_target *execd, const char *session_id,
                                   const osb_session_run_request *r, osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->command || !*r->command || !out || r->timeout_ms < 0)
        return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "a command and a target are required");
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/session/{}/run", session_id);
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__ex_jw_kstr(w, "command", r->command);
    osb__ex_jw_kstr(w, "cwd", r->cwd);
    if (r->timeout_ms > 0) {
        osb_jw_key(w, "timeout");
        osb_jw_int(w, r->timeout_ms);
    }
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_SESSION, r->cancel, out);
}

OSB_API osb_err osb_session_run(osb_client *c, const osb_target *execd, const char *session_id,
                                const osb_session_run_request *req, osb_event_fn on_event, void *user,
                                osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 1);
    e = osb_session_stream(c, execd, session_id, req, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_session_delete(osb_client *c, const osb_target *execd, const char *session_id) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, "/session/{}", session_id);
    return osb__call_run(&k);
}

/* ---- code ------------------------------------------------------------------------ */

static const osb_field osb__ex_ctx_fields[] = {
    OSB_FIELD_STR(osb_code_context, id, "id"),
    OSB_FIELD_STR(osb_code_context, language, "language"),
    OSB_FIELD_STR(osb_code_context, cwd, "cwd"),
};
static const osb_type osb__ex_ctx_type = OSB_TYPE_RAW(osb_code_context, osb__ex_ctx_fields, raw);
static const osb_field osb__ex_ctx_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_code_contexts, items, count, "", &osb__ex_ctx_type),
};
static const osb_type osb__ex_ctx_list_type = OSB_TYPE_RAW(osb_code_contexts, osb__ex_ctx_list_fields, raw);

OSB_API osb_err osb_code_context_create(osb_client *c, const osb_target *execd, const char *language,
                                        const char *cwd, osb_code_context **out) {
    osb__call k;
    osb_jw *w;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/code/context");
    if (!language || !*language) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb__ex_jw_kstr(w, "language", language);
    osb__ex_jw_kstr(w, "cwd", cwd);
    osb_jw_object_end(w);
    k.type = &osb__ex_ctx_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_list(osb_client *c, const osb_target *execd, const char *language,
                                      osb_code_contexts **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/code/contexts");
    osb__call_query(&k, "language", language);
    k.type = &osb__ex_ctx_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_get(osb_client *c, const osb_target *execd, const char *id,
                                     osb_code_context **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/code/contexts/{}", id);
    k.type = &osb__ex_ctx_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_delete(osb_client *c, const osb_target *execd, const char *id) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, "/code/contexts/{}", id);
    return osb__call_run(&k);
}

OSB_API osb_err osb_code_context_delete_language(osb_client *c, const osb_target *execd,
                                                 const char *language) {
    return osb__ex_delete_query(c, execd, "/code/contexts", "language", language);
}

OSB_API osb_err osb_code_stream(osb_client *c, const osb_target *execd, const osb_code_request *r,
                                osb_stream **out) {
    osb__call k;
    osb_jw *w;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!execd || !r || !r->code || !*r->code || !out)
        return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "code and a target are required");
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/code");
    w = osb__call_json(&k);
    osb_jw_object(w);
    osb_jw_key(w, "context");
    osb_jw_object(w);
    osb__ex_jw_kstr(w, "id", r->context_id);
    osb__ex_jw_kstr(w, "language", r->language ? r->language : "python");
    osb_jw_object_end(w);
    osb__ex_jw_kstr(w, "code", r->code);
    osb_jw_object_end(w);
    return osb__ex_open(&k, OSB__EX_CODE, r->cancel, out);
}

OSB_API osb_err osb_code_run(osb_client *c, const osb_target *execd, const osb_code_request *req,
                             osb_event_fn on_event, void *user, osb_execution *x) {
    osb_stream *s;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__ex_exec_begin(c, x, 0);
    e = osb_code_stream(c, execd, req, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, x);
}

OSB_API osb_err osb_code_interrupt(osb_client *c, const osb_target *execd, const char *id) {
    return osb__ex_delete_query(c, execd, "/code", "id", id);
}

/* ---- files --------------------------------------------------------------------------- */

static const osb_field osb__ex_info_fields[] = {
    OSB_FIELD_STR(osb_file_info, key, "\x01key"),
    OSB_FIELD_STR(osb_file_info, path, "path"),
    OSB_FIELD_STR(osb_file_info, type, "type"),
    OSB_FIELD_I64(osb_file_info, size, "size"),
    OSB_FIELD_STR(osb_file_info, modified_at, "modified_at"),
    OSB_FIELD_STR(osb_file_info, created_at, "created_at"),
    OSB_FIELD_STR(osb_file_info, owner, "owner"),
    OSB_FIELD_STR(osb_file_info, group, "group"),
    OSB_FIELD_INT(osb_file_info, mode, "mode"),
};
static const osb_type osb__ex_info_type = OSB_TYPE(osb_file_info, osb__ex_info_fields);
static const osb_field osb__ex_info_list_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_file_info_list, items, count, "", &osb__ex_info_type),
};
static const osb_type osb__ex_info_list_type = OSB_TYPE_RAW(osb_file_info_list, osb__ex_info_list_fields, raw);

static const osb_field osb__ex_count_fields[] = {
    OSB_FIELD_STR(osb_replace_count, key, "\x01key"),
    OSB_FIELD_I64(osb_replace_count, replaced, "replacedCount"),
};
static const osb_type osb__ex_count_type = OSB_TYPE(osb_replace_count, osb__ex_count_fields);
static const osb_field osb__ex_counts_fields[] = {
    OSB_FIELD_ARRAY_OF(osb_replace_counts, items, count, "", &osb__ex_count_type),
};
static const osb_type osb__ex_counts_type = OSB_TYPE_RAW(osb_replace_counts, osb__ex_counts_fields, raw);

/* Rewrites a JSON object of objects {"k": {...}, ...} as an array
 * [{"\u0001key": "k", ...}, ...] so the binding decodes it in one result
 * (a member name no server sends carries the key). */
static osb_err osb__ex_map_to_array(const char *json, size_t len, osb_buf *out) {
    osb_json j;
    osb_json_token t;
    osb_jw w;
    char scratch[512];
    osb_buf key;
    int r;
    osb_buf_init(&key, out->allocator);
    osb_json_init(&j, scratch, sizeof scratch);
    osb_json_feed(&j, json, len, 1);
    r = osb_json_next(&j, &t);
    if (r != OSB_JSON_OBJECT) return OSB_ERR_JSON;
    osb_buf_append(out, "[", 1);
    for (;;) {
        r = osb_json_next(&j, &t);
        if (r == OSB_JSON_OBJECT_END) break;
        if (r != OSB_JSON_KEY) { osb_buf_free(&key); return OSB_ERR_JSON; }
        key.len = 0;
        for (;;) {
            osb_buf_append(&key, t.ptr, t.len);
            if (!t.more) break;
            if (osb_json_next(&j, &t) != OSB_JSON_KEY) { osb_buf_free(&key); return OSB_ERR_JSON; }
        }
        r = osb_json_next(&j, &t);
        if (r != OSB_JSON_OBJECT) { osb_buf_free(&key); return OSB_ERR_JSON; }
        {
            uint64_t start = t.offset, end;
            if (osb_json_skip(&j, &t) != 1) { osb_buf_free(&key); return OSB_ERR_JSON; }
            end = osb_json_offset(&j);
            if (out->len > 1) osb_buf_append(out, ",", 1);
            osb_buf_append(out, "{", 1);
            osb_jw_init(&w, out);
            osb_jw_str_n(&w, "\x01key", 4);
            osb_buf_append(out, ":", 1);
            osb_jw_init(&w, out);
            osb_jw_str_n(&w, key.data ? key.data : "", key.len);
            /* the members of the value object, if any */
            {
                const char *p = json + start + 1;
                size_t n = (size_t)(end - start - 2);
                size_t i;
                for (i = 0; i < n && (p[i] == ' ' || p[i] == '\n' || p[i] == '\r' || p[i] == '\t'); i++) {}
                if (i < n) osb_buf_append(out, ",", 1);
                osb_buf_append(out, p, n);
            }
            osb_buf_append(out, "}", 1);
        }
    }
    osb_buf_free(&key);
    osb_buf_append(out, "]", 1);
    return out->failed;
}

typedef struct osb__ex_rawonly {
    osb_str raw;
} osb__ex_rawonly;
static const osb_type osb__ex_rawonly_type = OSB_TYPE_RAW_ONLY(osb__ex_rawonly, raw);

/* Runs a call whose answer is a map of objects, decoding it as an array of
 * type (whose first field is the "" array). */
static osb_err osb__ex_call_map(osb__call *k, const osb_type *type, void **out) {
    osb_client *c = k->c;
    osb_str *raw_slot;
    osb__ex_rawonly *tmp = NULL;
    osb_buf arr;
    osb_err e;
    k->type = &osb__ex_rawonly_type;
    k->out = (void **)(void *)&tmp;
    e = osb__call_run(k);
    if (e) return e;
    raw_slot = &tmp->raw;
    osb_buf_init(&arr, c->alloc);
    e = osb__ex_map_to_array(raw_slot->ptr, raw_slot->len, &arr);
    if (!e) e = osb_bind(type, arr.data, arr.len, c->alloc, out, &c->err);
    if (e && !c->err.message[0]) osb__set_error(&c->err, e, "unexpected response body");
    if (e) c->err.code = e;
    osb_buf_free(&arr);
    osb_result_free(tmp);
    return e;
}

OSB_API osb_err osb_files_info(osb_client *c, const osb_target *execd, const char *const *paths, size_t n,
                               osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/info");
    osb__ex_query_paths(&k, paths, n);
    return osb__ex_call_map(&k, &osb__ex_info_list_type, (void **)out);
}

OSB_API osb_err osb_files_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, "/files");
    if (n == 0) k.err = OSB_ERR_INVALID_ARG;
    osb__ex_query_paths(&k, paths, n);
    return osb__call_run(&k);
}

/* {"path": {"owner":..,"group":..,"mode":..}, ...} for chmod and mkdir. */
static osb_err osb__ex_perm_call(osb_client *c, const osb_target *execd, const char *path,
                                 const osb_file_perm *items, size_t n) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, path);
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].path || !*items[i].path || !osb__ex_mode_ok(items[i].mode)) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_key(w, items[i].path);
        osb_jw_object(w);
        osb__ex_jw_kstr(w, "owner", items[i].owner);
        osb__ex_jw_kstr(w, "group", items[i].group);
        osb_jw_key(w, "mode");
        osb_jw_int(w, items[i].mode);
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_chmod(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n) {
    return osb__ex_perm_call(c, execd, "/files/permissions", items, n);
}

OSB_API osb_err osb_files_move(osb_client *c, const osb_target *execd, const osb_file_move *items, size_t n) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/files/mv");
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_array(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].src || !items[i].dest) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_object(w);
        osb__ex_jw_kstr(w, "src", items[i].src);
        osb__ex_jw_kstr(w, "dest", items[i].dest);
        osb_jw_object_end(w);
    }
    osb_jw_array_end(w);
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_search(osb_client *c, const osb_target *execd, const char *dir, const char *pattern,
                                 osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/search");
    if (!dir || !*dir) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, "path", dir);
    osb__call_query(&k, "pattern", pattern);
    k.type = &osb__ex_info_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_files_replace(osb_client *c, const osb_target *execd, const osb_file_replace *items,
                                  size_t n, osb_replace_counts **counts) {
    osb__call k;
    osb_jw *w;
    size_t i;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (counts) *counts = NULL;
    osb__call_init(&k, c, "POST", execd);
    osb__call_path(&k, "/files/replace");
    if (counts) osb__call_query(&k, "verbose", "true");
    if (!items || n == 0) k.err = OSB_ERR_INVALID_ARG;
    w = osb__call_json(&k);
    osb_jw_object(w);
    for (i = 0; i < n && items; i++) {
        if (!items[i].path || !items[i].old_text || !*items[i].old_text || !items[i].new_text) {
            k.err = OSB_ERR_INVALID_ARG;
            break;
        }
        osb_jw_key(w, items[i].path);
        osb_jw_object(w);
        osb__ex_jw_kstr(w, "old", items[i].old_text);
        osb__ex_jw_kstr(w, "new", items[i].new_text);
        osb_jw_object_end(w);
    }
    osb_jw_object_end(w);
    if (!counts) return osb__call_run(&k);
    return osb__ex_call_map(&k, &osb__ex_counts_type, (void **)counts);
}

/* ---- upload ---------------------------------------------------------------------------- */

/* One file's content source, as a reader. */
typedef struct osb__ex_src {
    FILE *f;                      /* local_path */
    int fd;                       /* use_fd */
    int kind;                     /* 0 memory/reader (direct), 1 fd, 2 FILE */
} osb__ex_src;

static ptrdiff_t osb__ex_read_fd(void *user, void *buf, size_t cap) {
    osb__ex_src *s = (osb__ex_src *)user;
    for (;;) {
#ifdef _WIN32
        int n = _read(s->fd, buf, (unsigned)(cap > 0x40000000u ? 0x40000000u : cap));
#else
        ssize_t n = read(s->fd, buf, cap);
#endif
        if (n < 0 && errno == EINTR) continue;
        return n < 0 ? -1 : (ptrdiff_t)n;
    }
}

static ptrdiff_t osb__ex_read_file(void *user, void *buf, size_t cap) {
    osb__ex_src *s = (osb__ex_src *)user;
    size_t n = fread(buf, 1, cap, s->f);
    if (n == 0 && ferror(s->f)) return -1;
    return (ptrdiff_t)n;
}

/* The size of an open descriptor's file from its current position. */
static int osb__ex_fd_size(int fd, uint64_t *out) {
#ifdef _WIN32
    struct _stati64 st;
    __int64 pos = _lseeki64(fd, 0, SEEK_CUR);
    if (_fstati64(fd, &st) != 0 || pos < 0) return 0;
#else
    struct stat st;
    off_t pos = lseek(fd, 0, SEEK_CUR);
    if (fstat(fd, &st) != 0) return 0;
    if (pos < 0) pos = 0;   /* a pipe: no position */
#endif
    *out = (uint64_t)st.st_size > (uint64_t)pos ? (uint64_t)st.st_size - (uint64_t)pos : 0;
    return 1;
}

OSB_API osb_err osb_files_upload(osb_client *c, const osb_target *execd, const osb_upload_file *files,
                                 size_t n) {
    osb_mpart *parts = NULL;
    osb_buf *meta = NULL;
    osb__ex_src *src = NULL;
    osb_multipart mp;
    osb_http_request req;
    osb_http_response res;
    osb_err e = OSB_OK;
    size_t i;
    char url[1400];
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!files || n == 0) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "no files to upload");
    if ((e = osb__ex_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    parts = (osb_mpart *)osb__alloc(c->alloc, 2 * n * sizeof *parts);
    meta = (osb_buf *)osb__alloc(c->alloc, n * sizeof *meta);
    src = (osb__ex_src *)osb__alloc(c->alloc, n * sizeof *src);
    if (!parts || !meta || !src) {
        osb__free(c->alloc, parts);
        osb__free(c->alloc, meta);
        osb__free(c->alloc, src);
        return osb__ex_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    memset(parts, 0, 2 * n * sizeof *parts);
    memset(src, 0, n * sizeof *src);
    for (i = 0; i < n; i++) osb_buf_init(&meta[i], c->alloc);
    for (i = 0; i < n && !e; i++) {
        const osb_upload_file *f = &files[i];
        osb_mpart *m = &parts[2 * i], *p = &parts[2 * i + 1];
        if (!f->path || !*f->path || !osb__ex_mode_ok(f->mode)) {
            e = osb__ex_fail(c, OSB_ERR_INVALID_ARG, "an upload needs a path and a mode of octal digits");
            break;
        }
        if (osb_upload_metadata(&meta[i], f->path, f->owner, f->group, f->mode) != OSB_OK) {
            e = osb__ex_fail(c, meta[i].failed ? meta[i].failed : OSB_ERR_INVALID_ARG, "bad upload metadata");
            break;
        }
        m->name = "metadata";
        m->filename = "metadata";
        m->content_type = "application/json";
        m->data = meta[i].data;
        m->size = meta[i].len;
        p->name = "file";
        {
            const char *base = strrchr(f->path, '/');
            p->filename = base && base[1] ? base + 1 : "file";
        }
        p->content_type = "application/octet-stream";
        src[i].fd = -1;
        if (f->read) {
            p->read = f->read;
            p->read_user = f->read_user;
            p->size = f->size;
        } else if (f->use_fd) {
            uint64_t sz = f->size;
            if (f->fd < 0 || (!sz && !osb__ex_fd_size(f->fd, &sz))) {
                e = osb__ex_fail(c, OSB_ERR_IO, "cannot measure the file descriptor to upload");
                break;
            }
            src[i].kind = 1;
            src[i].fd = f->fd;
            p->read = osb__ex_read_fd;
            p->read_user = &src[i];
            p->size = sz;
        } else if (f->local_path) {
            uint64_t sz = 0;
            src[i].f = fopen(f->local_path, "rb");
            if (!src[i].f || !osb__ex_fd_size(fileno(src[i].f), &sz)) {
                osb__reset_error(&c->err);
                osb__set_error(&c->err, OSB_ERR_IO, "cannot open %s", f->local_path);
                c->err.sys_errno = errno;
                e = OSB_ERR_IO;
                break;
            }
            src[i].kind = 2;
            p->read = osb__ex_read_file;
            p->read_user = &src[i];
            p->size = sz;
        } else {
            if (!f->data && f->size) {
                e = osb__ex_fail(c, OSB_ERR_INVALID_ARG, "an upload has no content source");
                break;
            }
            p->data = f->data ? f->data : "";
            p->size = f->size;
        }
    }
    if (!e && (e = osb_multipart_init(&mp, parts, 2 * n, NULL)) != OSB_OK)
        osb__ex_fail(c, e, "cannot build the multipart body");
    if (!e) {
        osb__call k;
        osb__call_init(&k, c, "POST", execd);
        osb__call_path(&k, "/files/upload");
        memset(&req, 0, sizeof req);
        req.method = "POST";
        req.url = url;
        req.path = k.path.data;
        req.headers = execd->headers;
        req.content_type = osb_multipart_content_type(&mp);
        req.body_reader = osb_multipart_read;
        req.body_reader_user = &mp;
        req.body_reader_len = (int64_t)osb_multipart_length(&mp);
        req.stream = 1;   /* large files: the idle deadline applies, not the total one */
        e = osb_request_raw(c, &req, &res);
        osb_http_response_free(&res);
        osb__call_free(&k);
        if (e && mp.err && (e == OSB_ERR_IO || e == OSB_ERR_CANCELLED)) c->err.code = e;
    }
    for (i = 0; i < n; i++) {
        osb_buf_free(&meta[i]);
        if (src[i].f) fclose(src[i].f);
    }
    osb__free(c->alloc, parts);
    osb__free(c->alloc, meta);
    osb__free(c->alloc, src);
    return e;
}

/* ---- download --------------------------------------------------------------------------- */

typedef struct osb__ex_range {
    int seen;
    uint64_t start, end, total;
    int has_total;
} osb__ex_range;

/* "bytes S-E/T" or "bytes * /T" (without the space). */
static int osb__ex_on_range(void *user, osb_str name, osb_str value) {
    osb__ex_range *r = (osb__ex_range *)user;
    static const char h[] = "content-range";
    char tmp[96];
    size_t i;
    unsigned long long a, b, t;
    if (name.len != sizeof h - 1) return 0;
    for (i = 0; i < name.len; i++)
        if (osb__lower((unsigned char)name.ptr[i]) != h[i]) return 0;
    if (value.len >= sizeof tmp) return 0;
    memcpy(tmp, value.ptr, value.len);
    tmp[value.len] = 0;
    if (sscanf(tmp, "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
        r->seen = 1;
        r->start = a;
        r->end = b;
        r->total = t;
        r->has_total = 1;
    } else if (sscanf(tmp, "bytes */%llu", &t) == 1) {
        r->total = t;
        r->has_total = 1;
    } else if (sscanf(tmp, "bytes %llu-%llu/*", &a, &b) == 2) {
        r->seen = 1;
        r->start = a;
        r->end = b;
    }
    return 0;
}

OSB_API osb_err osb_files_download(osb_client *c, const osb_target *execd, const osb_download_request *r,
                                   osb_write_fn sink, void *user, osb_download_info *info) {
    osb__call k;
    osb_download_info local;
    uint64_t got = 0;           /* bytes delivered */
    int max_resumes;
    osb_err e = OSB_OK;
    char url[1400];
    char range[80];
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!r || !r->path || !*r->path || !sink) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "a path and a sink are required");
    if ((e = osb__ex_url(c, execd, url, sizeof url)) != OSB_OK) return e;
    max_resumes = r->max_resumes == 0 ? 3 : r->max_resumes < 0 ? 0 : r->max_resumes;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/files/download");
    osb__call_query(&k, "path", r->path);
    if (k.err || k.path.failed || k.query.failed) {
        osb__call_free(&k);
        return osb__ex_fail(c, OSB_ERR_NOMEM, "out of memory");
    }
    for (;;) {
        osb_http_request req;
        osb_http_response res;
        osb_body *body = NULL;
        osb__ex_range rng;
        const char **hdrs;
        uint64_t want_from = r->offset + got;
        uint64_t skip = 0;               /* bytes of this body before the wanted range */
        int ranged = want_from > 0 || r->length > 0;
        if (ranged) {
            if (r->length > 0)
                snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)want_from,
                         (unsigned long long)(r->offset + r->length - 1));
            else
                snprintf(range, sizeof range, "Range: bytes=%llu-", (unsigned long long)want_from);
        }
        hdrs = osb__ex_headers(c, execd, ranged ? range : NULL, NULL);
        if (!hdrs) {
            e = osb__ex_fail(c, OSB_ERR_NOMEM, "out of memory");
            break;
        }
        memset(&rng, 0, sizeof rng);
        memset(&req, 0, sizeof req);
        req.url = url;
        req.path = k.path.data;
        req.query = k.query.data;
        req.headers = hdrs;
        req.on_header = osb__ex_on_range;
        req.on_header_user = &rng;
        req.stream = 1;
        req.cancel = r->cancel;
        e = osb_request_open(c, &req, &res, &body);
        osb__free(c->alloc, (void *)hdrs);
        if (e) {
            osb_http_response_free(&res);
            goto retry_or_stop;
        }
        info->status = res.status;
        if (res.status == 416 && got > 0 && rng.has_total && want_from >= rng.total) {
            /* everything had arrived before the connection dropped */
            osb_body_close(body);
            osb_http_response_free(&res);
            info->total_size = rng.total;
            e = OSB_OK;
            break;
        }
        if (res.status < 200 || res.status > 299) {
            e = osb__ex_http_error(c, body, res.status);
            osb_body_close(body);
            osb_http_response_free(&res);
            break;
        }
        if (res.status == 206) {
            if (!rng.seen || rng.start != want_from) {
                osb_body_close(body);
                osb_http_response_free(&res);
                e = osb__ex_fail(c, OSB_ERR_PROTOCOL, "the server answered another range than the one asked for");
                break;
            }
            if (rng.has_total) info->total_size = rng.total;
        } else {
            /* a whole-file answer: drop what is before the wanted range */
            if (res.content_length >= 0) info->total_size = (uint64_t)res.content_length;
            skip = want_from;
        }
        for (;;) {
            const void *d;
            size_t n;
            e = osb_body_read(body, &d, &n);
            if (e || n == 0) break;
            if (skip) {
                size_t drop = (uint64_t)n < skip ? n : (size_t)skip;
                skip -= drop;
                d = (const char *)d + drop;
                n -= drop;
                if (!n) continue;
            }
            if (r->length && (uint64_t)n > r->length - got) n = (size_t)(r->length - got);
            if (n && sink(user, d, n)) {
                e = osb__ex_fail(c, OSB_ERR_CANCELLED, "the download sink stopped the transfer");
                break;
            }
            got += n;
            info->bytes = got;
            if (r->length && got >= r->length) break;   /* the range is complete */
        }
        osb_body_close(body);
        osb_http_response_free(&res);
        if (!e && skip) e = osb__ex_fail(c, OSB_ERR_TRUNCATED, "the body ended before the range");
        if (!e) break;
    retry_or_stop:
        if (e == OSB_ERR_CANCELLED || (r->cancel && *r->cancel)) break;
        if ((e == OSB_ERR_TRUNCATED || e == OSB_ERR_CLOSED || e == OSB_ERR_CONNECT || e == OSB_ERR_TIMEOUT ||
             e == OSB_ERR_PROTOCOL) &&
            info->resumes < max_resumes) {
            info->resumes++;
            continue;
        }
        break;
    }
    osb__call_free(&k);
    return e;
}

static int osb__ex_write_fd(void *user, const void *data, size_t len) {
    int fd = *(const int *)user;
    const char *p = (const char *)data;
    while (len) {
#ifdef _WIN32
        int n = _write(fd, p, (unsigned)(len > 0x40000000u ? 0x40000000u : len));
#else
        ssize_t n = write(fd, p, len);
#endif
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

OSB_API osb_err osb_files_download_fd(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                      int fd, osb_download_info *info) {
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (fd < 0) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "bad file descriptor");
    e = osb_files_download(c, execd, req, osb__ex_write_fd, &fd, info);
    if (e == OSB_ERR_CANCELLED && !(req && req->cancel && *req->cancel)) {
        c->err.code = OSB_ERR_IO;
        c->err.sys_errno = errno;
        e = OSB_ERR_IO;
    }
    return e;
}

static int osb__ex_write_file(void *user, const void *data, size_t len) {
    return fwrite(data, 1, len, (FILE *)user) != len;
}

OSB_API osb_err osb_files_download_path(osb_client *c, const osb_target *execd, const osb_download_request *req,
                                        const char *local_path, osb_download_info *info) {
    FILE *f;
    osb_err e;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!local_path) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "no local path");
    f = fopen(local_path, "wb");
    if (!f) {
        osb__ex_fail(c, OSB_ERR_IO, "cannot create the local file");
        c->err.sys_errno = errno;
        return OSB_ERR_IO;
    }
    e = osb_files_download(c, execd, req, osb__ex_write_file, f, info);
    if (e == OSB_ERR_CANCELLED && !(req && req->cancel && *req->cancel)) {
        c->err.code = OSB_ERR_IO;
        e = OSB_ERR_IO;
    }
    if (fclose(f) != 0 && !e) e = osb__ex_fail(c, OSB_ERR_IO, "cannot write the local file");
    return e;
}

/* ---- directories ------------------------------------------------------------------------ */

OSB_API osb_err osb_dir_list(osb_client *c, const osb_target *execd, const char *path, int depth,
                             osb_file_info_list **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/directories/list");
    if (!path || !*path) k.err = OSB_ERR_INVALID_ARG;
    osb__call_query(&k, "path", path);
    if (depth > 0) osb__call_query_int(&k, "depth", depth);
    k.type = &osb__ex_info_list_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_dir_create(osb_client *c, const osb_target *execd, const osb_file_perm *items, size_t n) {
    return osb__ex_perm_call(c, execd, "/directories", items, n);
}

OSB_API osb_err osb_dir_delete(osb_client *c, const osb_target *execd, const char *const *paths, size_t n) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "DELETE", execd);
    osb__call_path(&k, "/directories");
    if (n == 0) k.err = OSB_ERR_INVALID_ARG;
    osb__ex_query_paths(&k, paths, n);
    return osb__call_run(&k);
}

/* ---- metrics and ping ---------------------------------------------------------------------- */

static const osb_field osb__ex_metrics_fields[] = {
    OSB_FIELD_DOUBLE(osb_metrics, cpu_count, "cpu_count"),
    OSB_FIELD_DOUBLE(osb_metrics, cpu_used_pct, "cpu_used_pct"),
    OSB_FIELD_DOUBLE(osb_metrics, mem_total_mib, "mem_total_mib"),
    OSB_FIELD_DOUBLE(osb_metrics, mem_used_mib, "mem_used_mib"),
    OSB_FIELD_I64(osb_metrics, timestamp, "timestamp"),
};
static const osb_type osb__ex_metrics_type = OSB_TYPE_RAW(osb_metrics, osb__ex_metrics_fields, raw);

OSB_API osb_err osb_metrics_get(osb_client *c, const osb_target *execd, osb_metrics **out) {
    osb__call k;
    if (!c || !out) return OSB_ERR_INVALID_ARG;
    *out = NULL;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/metrics");
    k.type = &osb__ex_metrics_type;
    k.out = (void **)out;
    return osb__call_run(&k);
}

OSB_API osb_err osb_metrics_stream(osb_client *c, const osb_target *execd, const volatile int *cancel,
                                   osb_stream **out) {
    osb__call k;
    if (out) *out = NULL;
    if (!c) return OSB_ERR_INVALID_ARG;
    if (!out || !execd) return osb__ex_fail(c, OSB_ERR_INVALID_ARG, "a target is required");
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/metrics/watch");
    return osb__ex_open(&k, OSB__EX_METRICS, cancel, out);
}

OSB_API osb_err osb_metrics_watch(osb_client *c, const osb_target *execd, osb_event_fn on_event, void *user,
                                  const volatile int *cancel) {
    osb_stream *s;
    osb_err e = osb_metrics_stream(c, execd, cancel, &s);
    if (e) return e;
    return osb__ex_drive(c, s, on_event, user, NULL);
}

OSB_API osb_err osb_execd_ping(osb_client *c, const osb_target *execd) {
    osb__call k;
    if (!c) return OSB_ERR_INVALID_ARG;
    osb__call_init(&k, c, "GET", execd);
    osb__call_path(&k, "/ping");
    return osb__call_run(&k);
}

#endif
