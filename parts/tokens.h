/* parts/tokens.h -- merged into opensandbox.h at >>tokens (declarations) and >>impl-tokens (implementation) */
#ifndef OSB__TOKENS_DECLARED
#define OSB__TOKENS_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

/* The tokenizers below do no I/O and never allocate: they work on memory the
 * caller owns (a scratch buffer, an event buffer, a part list). Only the
 * binding (osb_bind) allocates, once per result, through the allocator it is
 * given. Every struct here may be zero-filled by an init function and lives
 * wherever the caller likes (stack, heap, inside another struct). */

/* >>json ------------------------------------------------------------------- */

/* The deepest nesting of arrays and objects the JSON tokenizer accepts by
 * default (osb_json.max_depth may lower or raise it up to OSB_JSON_DEPTH_LIMIT).
 * Deeper documents fail with OSB_ERR_JSON. */
#ifndef OSB_JSON_MAX_DEPTH
#  define OSB_JSON_MAX_DEPTH 64
#endif
/* The fixed size of the nesting stack inside osb_json (one bit per level); it
 * does not depend on configuration, so the struct layout never changes. */
#define OSB_JSON_DEPTH_LIMIT 1024
/* The smallest scratch buffer osb_json_init accepts (one UTF-8 character plus
 * slack, so pieces of long strings always end on a character boundary). */
#define OSB_JSON_MIN_SCRATCH 8

/* What osb_json_next returns. Values > 0 are tokens. */
typedef enum osb_json_type {
    OSB_JSON_ERROR = -1,      /* see osb_json.err / err_offset; sticky */
    OSB_JSON_NEED_MORE = 0,   /* the chunk is used up: osb_json_feed the next one */
    OSB_JSON_OBJECT = 1,      /* '{' */
    OSB_JSON_OBJECT_END = 2,  /* '}' */
    OSB_JSON_ARRAY = 3,       /* '[' */
    OSB_JSON_ARRAY_END = 4,   /* ']' */
    OSB_JSON_KEY = 5,         /* an object member name (unescaped text) */
    OSB_JSON_STRING = 6,      /* a string value (unescaped text) */
    OSB_JSON_NUMBER = 7,      /* a number, as its text (see osb_json_to_*) */
    OSB_JSON_TRUE = 8,
    OSB_JSON_FALSE = 9,
    OSB_JSON_NULL = 10,
    OSB_JSON_DONE = 11        /* the input ended after one complete value */
} osb_json_type;

/* One token. For KEY, STRING and NUMBER, ptr/len hold the text: either inside
 * the caller's input chunk (a string without escapes that lies in one chunk)
 * or inside the scratch buffer. Either way it is valid until the next call to
 * osb_json_next or osb_json_feed, and it is not NUL-terminated. When more is
 * 1 the text is one piece of a longer value: the following calls return the
 * rest, with the same type, until a piece with more == 0. Pieces of strings
 * and keys always end on a UTF-8 character boundary. */
typedef struct osb_json_token {
    osb_json_type type;
    const char *ptr;
    size_t len;
    int more;
    uint32_t depth;           /* containers around the token (0 = top level) */
    uint64_t offset;          /* byte offset of the token's first byte */
} osb_json_token;

/* A resumable pull tokenizer for one JSON document (RFC 8259), fed in chunks
 * that need not be contiguous. Memory is bounded: the struct itself plus the
 * caller's scratch buffer, whatever the document's size.
 *
 *     osb_json j; osb_json_token t; char scratch[256]; int r;
 *     osb_json_init(&j, scratch, sizeof scratch);
 *     osb_json_feed(&j, chunk, chunk_len, is_last_chunk);
 *     while ((r = osb_json_next(&j, &t)) > 0 && r != OSB_JSON_DONE) { ...t... }
 *     r == OSB_JSON_NEED_MORE: feed the next chunk and call again;
 *     r == OSB_JSON_ERROR: j.err is OSB_ERR_JSON (malformed) or
 *     OSB_ERR_TRUNCATED (the input ended inside the document), j.err_offset
 *     the byte offset, j.err_msg a static description.
 *
 * A number or a partial literal at the end of a chunk is not returned until
 * the next byte, or until a chunk is fed with final = 1.
 *
 * To read one value out of a longer input (a JSON line, NDJSON), stop at the
 * token that completes the top-level value (depth 0: a scalar, OBJECT_END or
 * ARRAY_END); osb_json_offset then says how many bytes it used.
 *
 * Policy. Text inside strings must be valid UTF-8 (no overlong forms, no
 * encoded surrogates, nothing above U+10FFFF) and escapes must not leave a
 * lone surrogate (\ud800 alone): both are OSB_ERR_JSON, so the caller never
 * sees invalid UTF-8. Raw control characters (below 0x20) in strings are
 * errors; an escaped \u0000 is allowed and yields a NUL byte inside the text
 * (lengths are always explicit). Duplicate keys are returned as they come;
 * osb_bind lets the last one win, as Go and Python do. Anything but
 * whitespace after the top-level value is an error ("trailing data"). The
 * fields are private except err, err_offset, err_msg and max_depth. */
typedef struct osb_json {
    const char *in;           /* current chunk */
    size_t in_len, in_pos;
    uint64_t base;            /* offset of in[0] within the document */
    char *scratch;
    size_t scratch_cap, scratch_len;
    uint64_t tok_start;       /* offset of the token being read */
    uint32_t depth;
    uint32_t max_depth;       /* OSB_JSON_MAX_DEPTH after init; <= OSB_JSON_DEPTH_LIMIT */
    int final;                /* the current chunk is the last one */
    int gram;                 /* what may come next */
    int lex;                  /* inside which token */
    int sub;                  /* sub-state of the token */
    int direct;               /* the token's text is still a run of the input */
    int reset_scratch;        /* the last token pointed into scratch */
    int is_key;
    size_t run_start;         /* start of the direct run in the chunk */
    uint32_t acc;             /* \u accumulator / literal progress */
    uint32_t high;            /* pending high surrogate */
    int hex_count;
    int u8need, u8have;       /* UTF-8 continuation bytes still expected / seen */
    unsigned char u8lo, u8hi; /* allowed range of the next continuation byte */
    osb_err err;              /* OSB_OK until an error */
    uint64_t err_offset;      /* byte offset of the error */
    const char *err_msg;      /* static text, "" when no error */
    unsigned char stack[OSB_JSON_DEPTH_LIMIT / 8]; /* 1 bit per level: object */
} osb_json;

/* Prepares j. scratch (cap >= OSB_JSON_MIN_SCRATCH bytes, owned by the caller
 * and kept alive while j is used) receives unescaped strings and numbers that
 * cross chunk boundaries; values longer than it arrive in pieces. Returns
 * OSB_ERR_INVALID_ARG when scratch is NULL or too small. */
OSB_API osb_err osb_json_init(osb_json *j, char *scratch, size_t cap);
/* Hands the next chunk to j (data may be NULL when len is 0). final = 1 says
 * no input follows it. The previous chunk must have been used up (the last
 * osb_json_next returned OSB_JSON_NEED_MORE), else OSB_ERR_STATE and nothing
 * changes. The chunk must stay unchanged until the next feed. */
OSB_API osb_err osb_json_feed(osb_json *j, const void *data, size_t len, int final);
/* Reads the next token into *t; returns its type, OSB_JSON_NEED_MORE,
 * OSB_JSON_DONE (after the whole input, final chunk included, was checked) or
 * OSB_JSON_ERROR. */
OSB_API int osb_json_next(osb_json *j, osb_json_token *t);
/* Skips the rest of the value whose first token *first was just returned
 * (an OBJECT or ARRAY, or a piece with more == 1; for anything else there is
 * nothing to skip), so the next token is the one after that value. Returns 1
 * when done, OSB_JSON_NEED_MORE (feed, then call again with the same *first)
 * or OSB_JSON_ERROR. */
OSB_API int osb_json_skip(osb_json *j, const osb_json_token *first);
/* Bytes consumed so far from the start of the document. */
OSB_API uint64_t osb_json_offset(const osb_json *j);

/* Checked conversions of a JSON number's text (as returned in pieces joined,
 * or whole). Integers accept any exact integral value, so "1e3" and "4.0"
 * convert to 1000 and 4; a fraction or a value outside the type is
 * OSB_ERR_RANGE (never a wrap); text that is not a JSON number is
 * OSB_ERR_JSON. Doubles are correctly rounded and do not depend on the
 * locale; overflow to infinity is OSB_ERR_RANGE, underflow gives 0 or a
 * subnormal. *out is written only on success. */
OSB_API osb_err osb_json_to_i64(const char *text, size_t len, int64_t *out);
OSB_API osb_err osb_json_to_u64(const char *text, size_t len, uint64_t *out);
OSB_API osb_err osb_json_to_double(const char *text, size_t len, double *out);

/* >>jsonw ------------------------------------------------------------------- */

/* A JSON writer, into an osb_buf or streamed to an osb_write_fn. Each call
 * returns the writer's sticky error: after the first failure (a full buffer,
 * a stopped writer, a key where a value belongs, invalid UTF-8, a NaN) every
 * later call does nothing and returns the same code, so a request body can be
 * written with unchecked calls and one check of osb_jw_finish. Commas and
 * colons are placed automatically. Strings must be valid UTF-8
 * (OSB_ERR_INVALID_ARG otherwise, never silently altered); quotes, backslash
 * and control characters are escaped. Numbers never depend on the locale.
 * The fields are private. */
typedef struct osb_jw {
    osb_buf *buf;              /* destination buffer, or */
    osb_write_fn write;        /* destination writer (output is staged in out[]) */
    void *user;
    osb_err err;
    uint32_t depth;
    int after_key;             /* a key was written, its value is due */
    int done;                  /* a complete top-level value was written */
    size_t out_len;
    unsigned char is_obj[OSB_JSON_DEPTH_LIMIT / 8];
    unsigned char has_item[OSB_JSON_DEPTH_LIMIT / 8];
    char out[256];
} osb_jw;

/* Writes into buf (appending; buf->max limits the size: OSB_ERR_TOO_LARGE). */
OSB_API void osb_jw_init(osb_jw *w, osb_buf *buf);
/* Streams to write(user, ...); a non-zero return makes the writer fail with
 * OSB_ERR_CANCELLED. Output is staged in small blocks: call osb_jw_finish. */
OSB_API void osb_jw_init_writer(osb_jw *w, osb_write_fn write, void *user);
OSB_API osb_err osb_jw_object(osb_jw *w);      /* { */
OSB_API osb_err osb_jw_object_end(osb_jw *w);  /* } */
OSB_API osb_err osb_jw_array(osb_jw *w);       /* [ */
OSB_API osb_err osb_jw_array_end(osb_jw *w);   /* ] */
/* A member name; only inside an object, before each value. */
OSB_API osb_err osb_jw_key(osb_jw *w, const char *key);
OSB_API osb_err osb_jw_key_n(osb_jw *w, const char *key, size_t len);
/* A string value; osb_jw_str(w, NULL) writes null. len may include NUL bytes. */
OSB_API osb_err osb_jw_str(osb_jw *w, const char *s);
OSB_API osb_err osb_jw_str_n(osb_jw *w, const char *s, size_t len);
OSB_API osb_err osb_jw_int(osb_jw *w, int64_t v);
OSB_API osb_err osb_jw_uint(osb_jw *w, uint64_t v);
/* v with 15, 16 or 17 significant digits, the fewest that read back as
 * exactly v ("4", "0.1", "1e+300"); NaN and infinities have no JSON form:
 * OSB_ERR_INVALID_ARG. */
OSB_API osb_err osb_jw_double(osb_jw *w, double v);
OSB_API osb_err osb_jw_bool(osb_jw *w, int v);
/* An explicit null (merge-patch uses it to delete a key). */
OSB_API osb_err osb_jw_null(osb_jw *w);
/* Copies one complete JSON value given as text, unchecked (the caller
 * vouches for it), e.g. a raw field kept by osb_bind. */
OSB_API osb_err osb_jw_raw(osb_jw *w, const char *json, size_t len);
/* Flushes staged output and returns the sticky error; OSB_ERR_STATE if an
 * object or array is still open or nothing was written. */
OSB_API osb_err osb_jw_finish(osb_jw *w);

/* >>bind -------------------------------------------------------------------- */

/* Binding: one generic decoder fills C structs from JSON through static
 * field tables, so each response type is declared, not hand-parsed.
 *
 *     typedef struct my_item { osb_str id; int64_t n; } my_item;
 *     typedef struct my_list { my_item *items; size_t items_count;
 *                              osb_str raw; } my_list;
 *     static const osb_field my_item_fields[] = {
 *         OSB_FIELD_STR(my_item, id, "id"),
 *         OSB_FIELD_I64(my_item, n, "n"),
 *     };
 *     static const osb_type my_item_type = OSB_TYPE(my_item, my_item_fields);
 *     static const osb_field my_list_fields[] = {
 *         OSB_FIELD_ARRAY_OF(my_list, items, items_count, "items", &my_item_type),
 *     };
 *     static const osb_type my_list_type =
 *         OSB_TYPE_RAW(my_list, my_list_fields, raw);
 *
 *     my_list *l = NULL;
 *     if (osb_bind(&my_list_type, body, body_len, NULL, (void **)&l, NULL) == OSB_OK) {
 *         ... l->items[0].id.ptr ...
 *         osb_result_free(l);
 *     }
 *
 * A result is ONE allocation: the struct, its arrays, its strings and a copy
 * of the raw JSON, all in one block freed by osb_result_free. Strings are
 * osb_str whose ptr is NUL-terminated inside the block (the length is also
 * there, and the text may hold NUL bytes from \u0000). Absent or null
 * members leave their field zero (strings: ptr NULL, len 0). Unknown members
 * are skipped. Member names match exactly (case-sensitive). A duplicate
 * member: the last one wins. A value of the wrong JSON type is OSB_ERR_JSON;
 * a number that does not fit the field is OSB_ERR_RANGE. */

/* Field kinds. */
typedef enum osb_kind {
    OSB_KIND_STR = 1,      /* osb_str: a JSON string */
    OSB_KIND_I64 = 2,      /* int64_t: an integral number */
    OSB_KIND_U64 = 3,      /* uint64_t */
    OSB_KIND_INT = 4,      /* int (range-checked) */
    OSB_KIND_DOUBLE = 5,   /* double: any number */
    OSB_KIND_BOOL = 6,     /* int: true = 1, false = 0 */
    OSB_KIND_RAW = 7,      /* osb_str: the member's value as JSON text (any type) */
    OSB_KIND_OBJECT = 8,   /* a nested struct (field type = its osb_type) */
    OSB_KIND_ARRAY = 9,    /* T *items + size_t count; elements of kind elem */
    OSB_KIND_MAP = 10      /* osb_kv *items + size_t count: an object of strings */
} osb_kind;

/* One member of an object with a string value (OSB_KIND_MAP). */
typedef struct osb_kv {
    osb_str key;
    osb_str value;
} osb_kv;

struct osb_type;

/* One row of a field table; write rows with the OSB_FIELD_* macros. */
typedef struct osb_field {
    const char *name;               /* JSON member name */
    osb_kind kind;
    size_t offset;                  /* offsetof the member */
    size_t count_offset;            /* ARRAY and MAP: offsetof the size_t count */
    osb_kind elem;                  /* ARRAY: kind of the elements */
    const struct osb_type *type;    /* OBJECT, or ARRAY of OBJECT: the nested type */
} osb_field;

/* A struct type: its size, its field table and where to keep the raw JSON. */
typedef struct osb_type {
    const char *name;               /* the C type's name, for error messages */
    size_t size;                    /* sizeof the struct */
    const osb_field *fields;
    size_t nfields;
    size_t raw_offset;              /* osb_str member receiving the object's raw JSON, or OSB_NO_RAW */
} osb_type;

#define OSB_NO_RAW ((size_t)-1)

/* A constant expression that fails to compile when cond is false; used so a
 * field macro naming a member of the wrong C type does not compile. */
#define OSB__CHECK0(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define OSB__MSIZE(T, m) sizeof(((T *)0)->m)
#define OSB__FIELD(T, m, name, kind, size)                                          \
    { name, kind, offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == (size)), 0,      \
      (osb_kind)0, (const struct osb_type *)0 }

#define OSB_FIELD_STR(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_STR, sizeof(osb_str))
#define OSB_FIELD_RAW(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_RAW, sizeof(osb_str))
#define OSB_FIELD_I64(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_I64, sizeof(int64_t))
#define OSB_FIELD_U64(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_U64, sizeof(uint64_t))
#define OSB_FIELD_INT(T, m, name)    OSB__FIELD(T, m, name, OSB_KIND_INT, sizeof(int))
#define OSB_FIELD_DOUBLE(T, m, name) OSB__FIELD(T, m, name, OSB_KIND_DOUBLE, sizeof(double))
#define OSB_FIELD_BOOL(T, m, name)   OSB__FIELD(T, m, name, OSB_KIND_BOOL, sizeof(int))
/* A nested object stored inline (member of the struct type described by st). */
#define OSB_FIELD_OBJECT(T, m, name, st)                                            \
    { name, OSB_KIND_OBJECT, offsetof(T, m), 0, (osb_kind)0, st }
/* An array: member m is a pointer to the elements, member n a size_t count;
 * elem is the kind of the elements (not OBJECT: see OSB_FIELD_ARRAY_OF). */
#define OSB_FIELD_ARRAY(T, m, n, name, elem)                                        \
    { name, OSB_KIND_ARRAY, offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)), \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), elem,       \
      (const struct osb_type *)0 }
/* An array of objects of the struct type st. */
#define OSB_FIELD_ARRAY_OF(T, m, n, name, st)                                       \
    { name, OSB_KIND_ARRAY, offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)), \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), OSB_KIND_OBJECT, st }
/* An object whose values are strings, as osb_kv *m with size_t count n. */
#define OSB_FIELD_MAP(T, m, n, name)                                                \
    { name, OSB_KIND_MAP, offsetof(T, m) + OSB__CHECK0(OSB__MSIZE(T, m) == sizeof(void *)), \
      offsetof(T, n) + OSB__CHECK0(OSB__MSIZE(T, n) == sizeof(size_t)), (osb_kind)0, \
      (const struct osb_type *)0 }
/* The type of struct T with field table f (an array, not a pointer). */
#define OSB_TYPE(T, f) { #T, sizeof(T), f, sizeof(f) / sizeof((f)[0]), OSB_NO_RAW }
/* The same, keeping the object's raw JSON in the osb_str member raw. */
#define OSB_TYPE_RAW(T, f, raw)                                                     \
    { #T, sizeof(T), f, sizeof(f) / sizeof((f)[0]),                                 \
      offsetof(T, raw) + OSB__CHECK0(OSB__MSIZE(T, raw) == sizeof(osb_str)) }
/* A type with no decoded fields: only the raw JSON is kept (the object is
 * still checked to be well-formed JSON). */
#define OSB_TYPE_RAW_ONLY(T, raw)                                                   \
    { #T, sizeof(T), (const osb_field *)0, 0,                                       \
      offsetof(T, raw) + OSB__CHECK0(OSB__MSIZE(T, raw) == sizeof(osb_str)) }

/* Decodes the JSON document json[0..len) into a new result of type t and
 * stores it in *out (set to NULL first). The document must be an object; or,
 * when t's first field has the empty name "", an array bound to that field
 * (for endpoints answering with a bare array). allocator NULL = libc; the
 * result remembers it, so osb_result_free needs no argument. err (may be
 * NULL) receives the code, the byte offset and a message on failure.
 * Errors: OSB_ERR_JSON, OSB_ERR_TRUNCATED, OSB_ERR_RANGE, OSB_ERR_NOMEM,
 * OSB_ERR_INVALID_ARG (a NULL argument or a bad table). */
OSB_API osb_err osb_bind(const osb_type *t, const char *json, size_t len,
                         const osb_allocator *allocator, void **out, osb_error *err);
/* Binds without allocating: the struct goes to dst (t->size bytes, zeroed
 * first) and its strings and arrays into buf[0..cap), which must outlive
 * dst's use. For decoding many small documents (stream events) with one
 * reusable buffer. *need (may be NULL) receives the bytes of buf used, or on
 * OSB_ERR_TOO_LARGE the size that suffices. dst is left zero on failure.
 * Other errors as osb_bind. */
OSB_API osb_err osb_bind_into(const osb_type *t, const char *json, size_t len, void *dst,
                              void *buf, size_t cap, size_t *need, osb_error *err);
/* Frees any result made by this library (osb_bind and the REST calls) with
 * the allocator it came from. NULL is ignored. */
OSB_API void osb_result_free(void *result);
/* The total size of a result's block, for accounting. 0 for NULL. */
OSB_API size_t osb_result_size(const void *result);

/* >>sse --------------------------------------------------------------------- */

/* The largest event (its data) accepted by default; beyond it the tokenizer
 * fails with OSB_ERR_TOO_LARGE (osb_sse.max_event changes it per stream). */
#ifndef OSB_SSE_MAX_EVENT
#  define OSB_SSE_MAX_EVENT (16u * 1024u * 1024u)
#endif
#define OSB_SSE_MAX_TYPE 64   /* event: names up to 63 bytes (else OSB_ERR_TOO_LARGE) */
#define OSB_SSE_MAX_ID 128    /* id: values up to 127 bytes (else OSB_ERR_TOO_LARGE) */

/* What osb_sse_status reports after osb_sse_push / osb_sse_finish. */
typedef enum osb_sse_state {
    OSB_SSE_ERROR = -1,   /* osb_sse.err says why (sticky) */
    OSB_SSE_MORE = 0,     /* every byte given was consumed; push more */
    OSB_SSE_EVENT = 1,    /* an event is complete: osb_sse_event_get reads it */
    OSB_SSE_FULL = 2,     /* the event buffer is full but below max_event:
                             give a larger one (osb_sse_set_buffer) and push
                             the unconsumed bytes again */
    OSB_SSE_END = 3       /* osb_sse_finish: the stream ended cleanly */
} osb_sse_state;

/* One event; the pointers stay valid until the next push, finish or
 * set_buffer. data is NUL-terminated (inside the caller's buffer). */
typedef struct osb_sse_event {
    const char *data;     /* joined data: lines ('\n' between lines), or the bare JSON line */
    size_t data_len;
    const char *type;     /* "event:" value, "" when none ("message" per the SSE spec) */
    size_t type_len;
    const char *id;       /* the last event id seen on the stream, "" when none */
    size_t id_len;
    int bare;             /* 1: a bare JSON line (execd / metrics framing), 0: data: lines */
    uint64_t offset;      /* stream byte offset where the event started */
} osb_sse_event;

/* A push tokenizer for event streams (BearSSL's PEM decoder is the model):
 * osb_sse_push consumes bytes and stops right after each event; the caller
 * then reads the event and pushes the rest. It understands
 *   - standard SSE: "event:", "data:" (several lines joined by '\n'), "id:",
 *     "retry:", ":" comments (skipped), unknown fields (skipped), a blank line
 *     dispatching the event; lines end in LF, CR or CRLF (a CR at the end of a
 *     chunk is remembered, so a LF starting the next chunk does not count as
 *     a second line end); a UTF-8 BOM at the start is skipped;
 *   - execd framing: a line starting with '{' or '[' is a bare JSON event by
 *     itself, dispatched at its end of line; the blank line execd writes
 *     after it is then just an empty line. This also covers /metrics/watch
 *     (one object per single newline) and a bare {code,message} object that
 *     ends the stream without a newline (osb_sse_finish dispatches it).
 * Event data accumulates in a caller buffer; the tokenizer never allocates.
 * When the buffer is full it stops with OSB_SSE_FULL so the stream layer may
 * grow it up to max_event; data beyond max_event fails with
 * OSB_ERR_TOO_LARGE: events are never silently cut or dropped. The fields are
 * private except err, err_offset, max_event and retry_ms. */
typedef struct osb_sse {
    char *buf;                 /* event data (caller's) */
    size_t cap;                /* its size in bytes */
    size_t len;                /* data bytes of the event being read */
    size_t max_event;          /* OSB_SSE_MAX_EVENT after init */
    int64_t retry_ms;          /* last "retry:" value, -1 if none */
    uint64_t offset;           /* bytes consumed from the stream */
    uint64_t ev_offset;        /* where the current event started */
    osb_err err;
    uint64_t err_offset;
    int state;                 /* line-level state */
    int status;                /* osb_sse_state of the last call */
    int after_cr;              /* the last byte was a CR */
    int bom;                   /* BOM bytes matched so far (3 = done) */
    int has_data;              /* a data line was seen in this event */
    int bare;                  /* the current line is a bare JSON line */
    int field;                 /* which field the current line sets */
    int ended;                 /* finish was called */
    size_t name_len;           /* field name bytes so far */
    size_t type_len, id_len;
    size_t val_len;            /* bytes of an id/event value being read */
    uint64_t line_start;       /* offset of the current line */
    int64_t retry_acc;
    int retry_ok;
    char name[8];              /* field name being read */
    char type[OSB_SSE_MAX_TYPE];
    char id[OSB_SSE_MAX_ID];   /* last event id */
    char val[OSB_SSE_MAX_ID];  /* id or event value being read */
} osb_sse;

/* Prepares s with the event buffer buf of cap bytes (cap >= 1; NULL/0 is
 * allowed and makes the first data byte report OSB_SSE_FULL). */
OSB_API void osb_sse_init(osb_sse *s, char *buf, size_t cap);
/* Replaces the event buffer, keeping the data read so far: the new buffer
 * must already hold the first s->len bytes of the old one (realloc does
 * that). OSB_ERR_INVALID_ARG if cap <= s->len. */
OSB_API osb_err osb_sse_set_buffer(osb_sse *s, char *buf, size_t cap);
/* Consumes bytes of data[0..len) and returns how many; stops after the byte
 * that completes an event (status OSB_SSE_EVENT), when the buffer is full
 * (OSB_SSE_FULL), or on an error (OSB_SSE_ERROR, consumed up to the bad
 * byte). Otherwise every byte is consumed (OSB_SSE_MORE). Pushing after an
 * event discards that event. */
OSB_API size_t osb_sse_push(osb_sse *s, const void *data, size_t len);
/* The stream ended. Dispatches a final bare JSON line without a line end
 * (OSB_SSE_EVENT; call finish again afterwards): execd may end a stream with
 * a bare {code,message} and nothing after it. If the connection was cut in
 * the middle of such a line, parsing the event's JSON reports
 * OSB_ERR_TRUNCATED. Returns OSB_SSE_END when nothing was pending, or fails
 * with OSB_ERR_TRUNCATED when "data:" lines were not closed by a blank line
 * (the SSE spec discards such an event; the stream layer decides whether
 * that matters, e.g. after a terminal event). */
OSB_API osb_sse_state osb_sse_finish(osb_sse *s);
/* The state of the last push/finish. */
OSB_API osb_sse_state osb_sse_status(const osb_sse *s);
/* Fills *ev when the status is OSB_SSE_EVENT and returns 1; else zeroes *ev
 * and returns 0. */
OSB_API int osb_sse_event_get(const osb_sse *s, osb_sse_event *ev);

/* >>multipart ------------------------------------------------------------- */

/* One part of a multipart/form-data body. The body comes from memory (data,
 * size) or from a reader (read, read_user) that must deliver exactly size
 * bytes. name and filename are quoted as browsers do ('"' as %22, CR and LF
 * as %0D %0A). */
typedef struct osb_mpart {
    const char *name;          /* form field name, required */
    const char *filename;      /* NULL: no filename parameter */
    const char *content_type;  /* NULL: no Content-Type header */
    const void *data;          /* in-memory body, when read is NULL */
    uint64_t size;             /* body length in bytes */
    osb_read_fn read;          /* streamed body */
    void *read_user;
} osb_mpart;

/* Streams a multipart/form-data body for a part list; osb_multipart_read is
 * an osb_read_fn. The length is known in advance (Content-Length). execd's
 * /files/upload wants, per file, a part "metadata" WITH a filename and
 * Content-Type application/json (see osb_upload_metadata), then a part
 * "file"; several files go in one request, pairs in order. The fields are
 * private except err. */
typedef struct osb_multipart {
    const osb_mpart *parts;
    size_t nparts;
    size_t part;               /* current part */
    int phase;                 /* head, body, body end, tail, done */
    uint64_t done_body;        /* body bytes of the current part sent */
    size_t head_len, head_pos;
    uint64_t total;            /* whole body length */
    uint64_t sent;
    osb_err err;
    char boundary[72];
    char content_type[104];    /* "multipart/form-data; boundary=..." */
    char head[1024];           /* the current part's head */
} osb_multipart;

/* Prepares m for parts[0..n) (kept alive by the caller while m is read).
 * boundary: 1..70 characters of [0-9A-Za-z'()+_,-./:=?]; NULL makes one
 * from the addresses and sizes involved and the clock, which is unique enough
 * for trusted content; pass random bytes (hex) when the content is hostile.
 * Errors: OSB_ERR_INVALID_ARG (no name, bad boundary, data NULL with size >
 * 0 and no reader), OSB_ERR_TOO_LARGE (a part head above 1000 bytes). */
OSB_API osb_err osb_multipart_init(osb_multipart *m, const osb_mpart *parts, size_t n,
                                   const char *boundary);
/* The exact body length, for Content-Length. */
OSB_API uint64_t osb_multipart_length(const osb_multipart *m);
/* "multipart/form-data; boundary=...", for the Content-Type header. */
OSB_API const char *osb_multipart_content_type(const osb_multipart *m);
/* osb_read_fn over the body: user is the osb_multipart. Returns bytes, 0 at
 * the end, -1 on error (m->err: OSB_ERR_IO when a reader fails or delivers
 * fewer bytes than its part's size). */
OSB_API ptrdiff_t osb_multipart_read(void *user, void *buf, size_t cap);
/* Appends execd's upload metadata JSON to out:
 * {"path":..., "owner":..., "group":..., "mode":...}; owner/group NULL and
 * mode 0 are left out. mode is the octal permission written with decimal
 * digits (0644 -> 644), as execd expects. */
OSB_API osb_err osb_upload_metadata(osb_buf *out, const char *path, const char *owner,
                                    const char *group, int mode);

/* >>url --------------------------------------------------------------------- */

/* Appends s[0..len) percent-encoded to out: everything but the unreserved
 * set (A-Z a-z 0-9 - . _ ~) becomes %XX (upper-case hex), space included
 * (%20). Right for a path segment and for a query key or value. */
OSB_API osb_err osb_url_encode(osb_buf *out, const char *s, size_t len);
/* Decodes %XX escapes of s[0..len) into out (cap bytes; cap >= len always
 * suffices, and out may equal s). form = 1 also turns '+' into a space, as
 * query strings are read. *out_len gets the length; out is NUL-terminated
 * when there is room. A '%' not followed by two hex digits is
 * OSB_ERR_INVALID_ARG; too small a buffer, OSB_ERR_TOO_LARGE. */
OSB_API osb_err osb_url_decode(const char *s, size_t len, char *out, size_t cap,
                               size_t *out_len, int form);
/* Appends "?key=value" (or "&key=value" when out already holds a '?'),
 * both encoded. value NULL appends nothing (an absent parameter). */
OSB_API osb_err osb_url_query(osb_buf *out, const char *key, const char *value);

#ifdef __cplusplus
}
#endif
#endif /* OSB__TOKENS_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && !defined(OSB__TOKENS_IMPLEMENTED)
#define OSB__TOKENS_IMPLEMENTED

#include <float.h>
#include <limits.h>
#include <time.h>

#if OSB_JSON_MAX_DEPTH < 1 || OSB_JSON_MAX_DEPTH > OSB_JSON_DEPTH_LIMIT
#  error "OSB_JSON_MAX_DEPTH must be between 1 and OSB_JSON_DEPTH_LIMIT (1024)"
#endif

#ifdef __cplusplus
extern "C" {
#endif

// >>json ---------------------------------------------------------------------

/* Grammar states: what the next significant byte may be. */
enum {
    OSB__G_VALUE,        /* a value (top level, after ':' or after ',' in an array) */
    OSB__G_VALUE_OR_END, /* after '[' */
    OSB__G_KEY_OR_END,   /* after '{' */
    OSB__G_KEY,          /* after ',' in an object */
    OSB__G_COLON,        /* after a key */
    OSB__G_COMMA_OR_END, /* after a value inside a container */
    OSB__G_DONE          /* the top-level value is complete */
};

/* Lexer states: inside which token. */
enum { OSB__L_NONE, OSB__L_STR, OSB__L_NUM, OSB__L_LIT };

/* String sub-states. */
enum { OSB__S_CHAR, OSB__S_ESC, OSB__S_HEX, OSB__S_LOW_BS, OSB__S_LOW_U, OSB__S_LOW_HEX };

/* Number sub-states (RFC 8259 section 6). */
enum { OSB__N_MINUS, OSB__N_ZERO, OSB__N_INT, OSB__N_DOT, OSB__N_FRAC,
       OSB__N_E, OSB__N_ESIGN, OSB__N_EXP };

static const char *const osb__json_lits[3] = {"true", "false", "null"};

OSB__HELPER int osb__json_fail(osb_json *j, osb_err code, uint64_t offset, const char *msg) {
    j->err = code;
    j->err_offset = offset;
    j->err_msg = msg;
    return OSB_JSON_ERROR;
}

OSB_API osb_err osb_json_init(osb_json *j, char *scratch, size_t cap) {
    if (!j) return OSB_ERR_INVALID_ARG;
    memset(j, 0, sizeof *j);
    j->err_msg = "";
    j->max_depth = OSB_JSON_MAX_DEPTH;
    j->gram = OSB__G_VALUE;
    if (!scratch || cap < OSB_JSON_MIN_SCRATCH) {
        osb__json_fail(j, OSB_ERR_INVALID_ARG, 0, "scratch buffer missing or too small");
        return OSB_ERR_INVALID_ARG;
    }
    j->scratch = scratch;
    j->scratch_cap = cap;
    return OSB_OK;
}

OSB_API osb_err osb_json_feed(osb_json *j, const void *data, size_t len, int final) {
    if (j->in_pos < j->in_len) return OSB_ERR_STATE;  /* the last chunk is not used up */
    if (!data && len) return OSB_ERR_INVALID_ARG;
    j->base += j->in_len;
    j->in = (const char *)data;
    j->in_len = len;
    j->in_pos = 0;
    j->final = final != 0;
    return OSB_OK;
}

OSB_API uint64_t osb_json_offset(const osb_json *j) { return j->base + j->in_pos; }

/* The bit stack: 1 = object, 0 = array, one bit per open container. */
OSB__HELPER int osb__json_top_is_object(const osb_json *j) {
    uint32_t d = j->depth - 1;
    return (j->stack[d >> 3] >> (d & 7)) & 1;
}

OSB__HELPER int osb__json_push(osb_json *j, int is_object) {
    uint32_t d = j->depth;
    if (d >= j->max_depth || d >= OSB_JSON_DEPTH_LIMIT)
        return osb__json_fail(j, OSB_ERR_JSON, j->base + j->in_pos,
                              "nesting deeper than the depth limit");
    if (is_object) j->stack[d >> 3] = (unsigned char)(j->stack[d >> 3] | (1u << (d & 7)));
    else j->stack[d >> 3] = (unsigned char)(j->stack[d >> 3] & ~(1u << (d & 7)));
    j->depth = d + 1;
    return 1;
}

/* After a complete value: either the document is done or a ',' / end follows. */
OSB__HELPER void osb__json_after_value(osb_json *j) {
    j->gram = j->depth == 0 ? OSB__G_DONE : OSB__G_COMMA_OR_END;
}

OSB__HELPER int osb__json_hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* UTF-8 validation, one byte at a time so it resumes across chunks. A lead
 * byte sets how many continuation bytes follow and the range the first of
 * them must fall in (this rejects overlong forms, encoded surrogates and
 * code points above U+10FFFF). Returns 0 or -1. */
OSB__HELPER int osb__u8_step(osb_json *j, unsigned c) {
    if (j->u8need) {
        if (c < j->u8lo || c > j->u8hi) return -1;
        j->u8lo = 0x80;
        j->u8hi = 0xBF;
        j->u8need--;
        j->u8have++;
        return 0;
    }
    j->u8have = 1;
    j->u8lo = 0x80;
    j->u8hi = 0xBF;
    if (c < 0x80) { j->u8have = 0; return 0; }
    if (c < 0xC2) return -1;
    if (c < 0xE0) { j->u8need = 1; return 0; }
    if (c < 0xF0) {
        j->u8need = 2;
        if (c == 0xE0) j->u8lo = 0xA0;
        if (c == 0xED) j->u8hi = 0x9F;
        return 0;
    }
    if (c < 0xF5) {
        j->u8need = 3;
        if (c == 0xF0) j->u8lo = 0x90;
        if (c == 0xF4) j->u8hi = 0x8F;
        return 0;
    }
    return -1;
}

OSB__HELPER size_t osb__utf8_put(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Token text handed to the caller. */
OSB__HELPER int osb__json_emit(osb_json *j, osb_json_token *t, int type, const char *p,
                               size_t n, int more) {
    t->type = (osb_json_type)type;
    t->ptr = p;
    t->len = n;
    t->more = more;
    t->offset = j->tok_start;
    t->depth = j->depth;
    return type;
}

OSB__HELPER int osb__json_emit_scratch(osb_json *j, osb_json_token *t, int type, int more) {
    j->reset_scratch = 1;  /* cleared at the next call, once the caller had it */
    return osb__json_emit(j, t, type, j->scratch, j->scratch_len, more);
}

/* The direct run [run_start, end) leaves the input: copy it into scratch, or,
 * when it does not fit, hand it over as a piece straight from the input. A
 * piece must end on a character boundary, so the bytes of an unfinished
 * UTF-8 character (u8have of them) go to scratch. Returns the token type when
 * a piece was emitted, 0 when the run now lives in scratch. */
OSB__HELPER int osb__json_spill(osb_json *j, osb_json_token *t, int type, size_t end) {
    size_t run = end - j->run_start;
    j->direct = 0;
    /* direct mode starts with scratch empty; the continuation bytes still
     * due for a cut character must fit after the run too */
    if (run + (size_t)j->u8need <= j->scratch_cap) {
        memcpy(j->scratch + j->scratch_len, j->in + j->run_start, run);
        j->scratch_len += run;
        return 0;
    } else {
        size_t partial = j->u8need ? (size_t)j->u8have : 0;
        size_t whole = run - partial;
        memcpy(j->scratch, j->in + end - partial, partial);
        j->scratch_len = partial;
        return osb__json_emit(j, t, type, j->in + j->run_start, whole, 1);
    }
}

/* Appends one byte to scratch (room was checked by the caller). */
#define OSB__SCRATCH_PUT(j, c) ((j)->scratch[(j)->scratch_len++] = (char)(c))

/* Reads string text: returns the token type (a whole string or a piece), 0
 * when the chunk is used up, OSB_JSON_ERROR on bad input. */
OSB__HELPER int osb__json_string(osb_json *j, osb_json_token *t) {
    const unsigned char *s = (const unsigned char *)j->in;
    size_t p = j->in_pos, n = j->in_len;
    int type = j->is_key ? OSB_JSON_KEY : OSB_JSON_STRING;
    for (;;) {
        unsigned c;
        if (j->direct && j->sub == OSB__S_CHAR && !j->u8need) {
            /* the hot loop: plain ASCII needs no work at all */
            while (p < n && s[p] >= 0x20 && s[p] < 0x80 && s[p] != '"' && s[p] != '\\') p++;
        }
        if (p == n) {
            j->in_pos = p;
            if (j->direct) {
                int r = osb__json_spill(j, t, type, p);
                if (r) return r;
            }
            return 0;
        }
        c = s[p];
        if (j->sub == OSB__S_CHAR) {
            if (j->u8need) {
                if (osb__u8_step(j, c) < 0)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid UTF-8 in string");
                if (!j->direct) OSB__SCRATCH_PUT(j, c);  /* room was reserved at the lead byte */
                p++;
                continue;
            }
            if (c == '"') {
                j->in_pos = p + 1;
                j->lex = OSB__L_NONE;
                if (j->is_key) j->gram = OSB__G_COLON;
                else osb__json_after_value(j);
                if (j->direct) return osb__json_emit(j, t, type, j->in + j->run_start, p - j->run_start, 0);
                return osb__json_emit_scratch(j, t, type, 0);
            }
            if (c < 0x20)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "control character in string");
            if (j->direct && c == '\\') {
                int r = osb__json_spill(j, t, type, p);
                if (r) { j->in_pos = p; return r; }
            }
            /* scratch mode from here: keep room for a whole character */
            if (!j->direct && j->scratch_cap - j->scratch_len < 4) {
                j->in_pos = p;
                return osb__json_emit_scratch(j, t, type, 1);
            }
            if (c == '\\') { j->sub = OSB__S_ESC; p++; continue; }
            if (c >= 0x80 && osb__u8_step(j, c) < 0)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid UTF-8 in string");
            if (!j->direct) OSB__SCRATCH_PUT(j, c);
            p++;
            continue;
        }
        /* escapes: only in scratch mode, with 4 bytes of room reserved */
        p++;
        switch (j->sub) {
        case OSB__S_ESC:
            switch (c) {
            case '"': case '\\': case '/': OSB__SCRATCH_PUT(j, c); break;
            case 'b': OSB__SCRATCH_PUT(j, '\b'); break;
            case 'f': OSB__SCRATCH_PUT(j, '\f'); break;
            case 'n': OSB__SCRATCH_PUT(j, '\n'); break;
            case 'r': OSB__SCRATCH_PUT(j, '\r'); break;
            case 't': OSB__SCRATCH_PUT(j, '\t'); break;
            case 'u': j->sub = OSB__S_HEX; j->acc = 0; j->hex_count = 0; continue;
            default:
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 1, "invalid escape in string");
            }
            j->sub = OSB__S_CHAR;
            continue;
        case OSB__S_HEX:
        case OSB__S_LOW_HEX: {
            int v = osb__json_hexval((int)c);
            if (v < 0) return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 1, "invalid \\u escape");
            j->acc = (j->acc << 4) | (uint32_t)v;
            if (++j->hex_count < 4) continue;
            if (j->sub == OSB__S_HEX) {
                if (j->acc >= 0xD800 && j->acc <= 0xDBFF) {
                    j->high = j->acc;
                    j->sub = OSB__S_LOW_BS;
                    continue;
                }
                if (j->acc >= 0xDC00 && j->acc <= 0xDFFF)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 6, "lone low surrogate");
                j->scratch_len += osb__utf8_put(j->scratch + j->scratch_len, j->acc);
            } else {
                if (j->acc < 0xDC00 || j->acc > 0xDFFF)
                    return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 12, "lone high surrogate");
                j->scratch_len += osb__utf8_put(j->scratch + j->scratch_len,
                                                0x10000 + ((j->high - 0xD800) << 10) + (j->acc - 0xDC00));
            }
            j->sub = OSB__S_CHAR;
            continue;
        }
        case OSB__S_LOW_BS:
            if (c != '\\') return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 7, "lone high surrogate");
            j->sub = OSB__S_LOW_U;
            continue;
        default: /* OSB__S_LOW_U */
            if (c != 'u') return osb__json_fail(j, OSB_ERR_JSON, j->base + p - 8, "lone high surrogate");
            j->sub = OSB__S_LOW_HEX;
            j->acc = 0;
            j->hex_count = 0;
            continue;
        }
    }
}

/* Reads number text; the number ends at the first byte that cannot continue
 * it (not consumed), or at the end of the final chunk. */
OSB__HELPER int osb__json_number(osb_json *j, osb_json_token *t) {
    const unsigned char *s = (const unsigned char *)j->in;
    size_t p = j->in_pos, n = j->in_len;
    for (;;) {
        int c, next;
        if (p == n) {
            j->in_pos = p;
            if (!j->final) {
                if (j->direct) {
                    int r = osb__json_spill(j, t, OSB_JSON_NUMBER, p);
                    if (r) return r;
                }
                return 0;
            }
            c = -1;  /* the end of input ends the number */
        } else {
            c = s[p];
        }
        next = -1;
        switch (j->sub) {
        case OSB__N_MINUS:
            if (c == '0') next = OSB__N_ZERO;
            else if (c >= '1' && c <= '9') next = OSB__N_INT;
            break;
        case OSB__N_ZERO:
            if (c == '.') next = OSB__N_DOT;
            else if (c == 'e' || c == 'E') next = OSB__N_E;
            else if (c >= '0' && c <= '9')
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "leading zero in number");
            break;
        case OSB__N_INT:
        case OSB__N_FRAC:
            if (c >= '0' && c <= '9') next = j->sub;
            else if (c == '.' && j->sub == OSB__N_INT) next = OSB__N_DOT;
            else if (c == 'e' || c == 'E') next = OSB__N_E;
            break;
        case OSB__N_DOT:
            if (c >= '0' && c <= '9') next = OSB__N_FRAC;
            break;
        case OSB__N_E:
            if (c == '+' || c == '-') next = OSB__N_ESIGN;
            else if (c >= '0' && c <= '9') next = OSB__N_EXP;
            break;
        default: /* OSB__N_ESIGN, OSB__N_EXP */
            if (c >= '0' && c <= '9') next = OSB__N_EXP;
            break;
        }
        if (next < 0) {
            /* the number ends here: complete only in an accepting state */
            if (j->sub == OSB__N_MINUS || j->sub == OSB__N_DOT || j->sub == OSB__N_E ||
                j->sub == OSB__N_ESIGN) {
                if (c < 0) return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + p, "input ends inside a number");
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid number");
            }
            j->in_pos = p;
            j->lex = OSB__L_NONE;
            osb__json_after_value(j);
            if (j->direct) return osb__json_emit(j, t, OSB_JSON_NUMBER, j->in + j->run_start, p - j->run_start, 0);
            return osb__json_emit_scratch(j, t, OSB_JSON_NUMBER, 0);
        }
        if (j->direct && (next == OSB__N_INT || next == OSB__N_FRAC || next == OSB__N_EXP)) {
            /* a run of digits needs no state change: skip it at once */
            p++;
            while (p < n && s[p] >= '0' && s[p] <= '9') p++;
            j->sub = next;
            continue;
        }
        if (!j->direct) {
            if (j->scratch_len == j->scratch_cap) {
                j->in_pos = p;
                return osb__json_emit_scratch(j, t, OSB_JSON_NUMBER, 1);
            }
            OSB__SCRATCH_PUT(j, c);
        }
        j->sub = next;
        p++;
    }
}

/* Matches the rest of true/false/null; acc = which literal, hex_count = how
 * many of its bytes matched. */
OSB__HELPER int osb__json_literal(osb_json *j, osb_json_token *t) {
    const char *lit = osb__json_lits[j->acc];
    size_t p = j->in_pos, n = j->in_len;
    while (lit[j->hex_count]) {
        if (p == n) { j->in_pos = p; return 0; }
        if (j->in[p] != lit[j->hex_count])
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "invalid literal");
        p++;
        j->hex_count++;
    }
    j->in_pos = p;
    j->lex = OSB__L_NONE;
    osb__json_after_value(j);
    return osb__json_emit(j, t, OSB_JSON_TRUE + (int)j->acc, NULL, 0, 0);
}

/* Starts a token at in[p]: records where it began. */
OSB__HELPER void osb__json_begin(osb_json *j, int lex, size_t p) {
    j->lex = lex;
    j->tok_start = j->base + p;
    j->direct = 1;
    j->scratch_len = 0;
    j->u8need = 0;
    j->u8have = 0;
}

OSB_API int osb_json_next(osb_json *j, osb_json_token *t) {
    if (j->err) return OSB_JSON_ERROR;
    if (j->reset_scratch) {
        j->scratch_len = 0;
        j->reset_scratch = 0;
    }
    t->ptr = NULL;
    t->len = 0;
    t->more = 0;
    for (;;) {
        size_t p;
        int c, r;
        if (j->lex != OSB__L_NONE) {
            if (j->lex == OSB__L_STR) r = osb__json_string(j, t);
            else if (j->lex == OSB__L_NUM) r = osb__json_number(j, t);
            else r = osb__json_literal(j, t);
            if (r != 0) return r;
            if (!j->final) return OSB_JSON_NEED_MORE;
            return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + j->in_pos,
                                  j->lex == OSB__L_STR ? "input ends inside a string"
                                                       : "input ends inside a literal");
        }
        /* between tokens: skip whitespace */
        p = j->in_pos;
        while (p < j->in_len && (j->in[p] == ' ' || j->in[p] == '\n' || j->in[p] == '\r' ||
                                 j->in[p] == '\t'))
            p++;
        j->in_pos = p;
        if (p == j->in_len) {
            if (!j->final) return OSB_JSON_NEED_MORE;
            if (j->gram == OSB__G_DONE) {
                t->type = OSB_JSON_DONE;
                t->offset = j->base + p;
                t->depth = 0;
                return OSB_JSON_DONE;
            }
            return osb__json_fail(j, OSB_ERR_TRUNCATED, j->base + p,
                                  j->depth || j->gram != OSB__G_VALUE ? "input ends inside the document"
                                                                      : "empty document");
        }
        c = (unsigned char)j->in[p];
        if (j->gram == OSB__G_DONE)
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "trailing data after the document");
        if (j->gram == OSB__G_COLON) {
            if (c != ':') return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected ':'");
            j->gram = OSB__G_VALUE;
            j->in_pos = p + 1;
            continue;
        }
        if (j->gram == OSB__G_COMMA_OR_END) {
            int obj = osb__json_top_is_object(j);
            if (c == ',') {
                j->gram = obj ? OSB__G_KEY : OSB__G_VALUE;
                j->in_pos = p + 1;
                continue;
            }
            if (c != (obj ? '}' : ']'))
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p,
                                      obj ? "expected ',' or '}'" : "expected ',' or ']'");
        }
        if (c == '}' || c == ']') {
            int want = c == '}' ? OSB__G_KEY_OR_END : OSB__G_VALUE_OR_END;
            if (j->gram != OSB__G_COMMA_OR_END && j->gram != want)
                return osb__json_fail(j, OSB_ERR_JSON, j->base + p,
                                      j->gram == OSB__G_KEY ||
                                              (j->gram == OSB__G_VALUE && j->depth > 0 &&
                                               !osb__json_top_is_object(j))
                                          ? "trailing comma" : "unexpected closing bracket");
            j->depth--;
            j->in_pos = p + 1;
            j->tok_start = j->base + p;
            osb__json_after_value(j);
            return osb__json_emit(j, t, c == '}' ? OSB_JSON_OBJECT_END : OSB_JSON_ARRAY_END, NULL, 0, 0);
        }
        if (j->gram == OSB__G_KEY_OR_END || j->gram == OSB__G_KEY) {
            if (c != '"') return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected a member name");
            osb__json_begin(j, OSB__L_STR, p);
            j->is_key = 1;
            j->sub = OSB__S_CHAR;
            j->run_start = p + 1;
            j->in_pos = p + 1;
            continue;
        }
        /* a value */
        switch (c) {
        case '{':
        case '[':
            j->tok_start = j->base + p;
            t->depth = j->depth;
            if (osb__json_push(j, c == '{') < 0) return OSB_JSON_ERROR;
            j->in_pos = p + 1;
            j->gram = c == '{' ? OSB__G_KEY_OR_END : OSB__G_VALUE_OR_END;
            t->type = c == '{' ? OSB_JSON_OBJECT : OSB_JSON_ARRAY;
            t->offset = j->tok_start;
            return t->type;
        case '"':
            osb__json_begin(j, OSB__L_STR, p);
            j->is_key = 0;
            j->sub = OSB__S_CHAR;
            j->run_start = p + 1;
            j->in_pos = p + 1;
            continue;
        case 't': case 'f': case 'n':
            osb__json_begin(j, OSB__L_LIT, p);
            j->acc = c == 't' ? 0 : c == 'f' ? 1 : 2;
            j->hex_count = 1;
            j->in_pos = p + 1;
            continue;
        default:
            if (c == '-' || (c >= '0' && c <= '9')) {
                osb__json_begin(j, OSB__L_NUM, p);
                j->sub = c == '-' ? OSB__N_MINUS : c == '0' ? OSB__N_ZERO : OSB__N_INT;
                j->run_start = p;
                j->in_pos = p + 1;
                continue;
            }
            return osb__json_fail(j, OSB_ERR_JSON, j->base + p, "expected a value");
        }
    }
}

OSB_API int osb_json_skip(osb_json *j, const osb_json_token *first) {
    osb_json_token t;
    uint32_t depth = first->depth;
    int container = first->type == OSB_JSON_OBJECT || first->type == OSB_JSON_ARRAY;
    if (!container && !first->more) return 1;
    for (;;) {
        int r = osb_json_next(j, &t);
        if (r <= 0) return r;
        if (container) {
            if ((r == OSB_JSON_OBJECT_END || r == OSB_JSON_ARRAY_END) && t.depth == depth) return 1;
        } else if (!t.more) {
            return 1;
        }
    }
}

/* A JSON number split into its parts: the significant digits (int and
 * fraction digits, the '.' skipped by the reader) and a power of ten, so
 * value = digits * 10^exp10. Leading zeros are dropped; nd counts the
 * remaining digits. The exponent saturates far beyond any double. */
typedef struct osb__num {
    int neg;
    const char *int_p, *frac_p;
    size_t int_n, frac_n;
    size_t lead;        /* leading zero digits skipped (over int then frac) */
    size_t nd;          /* significant digits after the leading zeros */
    int64_t exp10;      /* power of ten of the last digit */
} osb__num;

/* The i-th digit of int part followed by fraction part. */
OSB__HELPER int osb__num_digit(const osb__num *m, size_t i) {
    return i < m->int_n ? m->int_p[i] - '0' : m->frac_p[i - m->int_n] - '0';
}

OSB__HELPER osb_err osb__num_parse(const char *s, size_t n, osb__num *m) {
    size_t i = 0, total;
    int64_t e = 0;
    int eneg = 0;
    memset(m, 0, sizeof *m);
    if (!s) return OSB_ERR_JSON;
    if (i < n && s[i] == '-') { m->neg = 1; i++; }
    if (i >= n || s[i] < '0' || s[i] > '9') return OSB_ERR_JSON;
    m->int_p = s + i;
    if (s[i] == '0') i++;
    else while (i < n && s[i] >= '0' && s[i] <= '9') i++;
    m->int_n = (size_t)(s + i - m->int_p);
    m->frac_p = s + i;
    if (i < n && s[i] == '.') {
        i++;
        m->frac_p = s + i;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++;
        m->frac_n = (size_t)(s + i - m->frac_p);
        if (m->frac_n == 0) return OSB_ERR_JSON;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t start;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) { eneg = s[i] == '-'; i++; }
        start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (e < 1000000000) e = e * 10 + (s[i] - '0');
            i++;
        }
        if (i == start) return OSB_ERR_JSON;
    }
    if (i != n) return OSB_ERR_JSON;
    total = m->int_n + m->frac_n;
    while (m->lead < total && osb__num_digit(m, m->lead) == 0) m->lead++;
    m->nd = total - m->lead;
    m->exp10 = (eneg ? -e : e) - (int64_t)m->frac_n;
    return OSB_OK;
}

/* The magnitude as an integer, or OSB_ERR_RANGE when it is not integral or
 * does not fit 64 bits. */
OSB__HELPER osb_err osb__num_to_u64(const osb__num *m, uint64_t *out) {
    size_t total = m->int_n + m->frac_n, last = total, i;
    int64_t e = m->exp10;
    uint64_t v = 0;
    if (m->nd == 0) { *out = 0; return OSB_OK; }
    /* trailing zero digits only scale the exponent */
    while (last > m->lead && osb__num_digit(m, last - 1) == 0) { last--; e++; }
    if (e < 0) return OSB_ERR_RANGE;  /* a fraction remains */
    if ((int64_t)(last - m->lead) + e > 20) return OSB_ERR_RANGE;
    for (i = m->lead; i < last; i++) {
        unsigned d = (unsigned)osb__num_digit(m, i);
        if (v > (UINT64_MAX - d) / 10) return OSB_ERR_RANGE;
        v = v * 10 + d;
    }
    for (; e > 0; e--) {
        if (v > UINT64_MAX / 10) return OSB_ERR_RANGE;
        v *= 10;
    }
    *out = v;
    return OSB_OK;
}

OSB_API osb_err osb_json_to_u64(const char *text, size_t len, uint64_t *out) {
    osb__num m;
    uint64_t v;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if ((e = osb__num_to_u64(&m, &v)) != OSB_OK) return e;
    if (m.neg && v) return OSB_ERR_RANGE;
    *out = v;
    return OSB_OK;
}

OSB_API osb_err osb_json_to_i64(const char *text, size_t len, int64_t *out) {
    osb__num m;
    uint64_t v;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if ((e = osb__num_to_u64(&m, &v)) != OSB_OK) return e;
    if (m.neg) {
        if (v > (uint64_t)INT64_MAX + 1) return OSB_ERR_RANGE;
        /* -(v - 1) - 1 reaches INT64_MIN without overflowing */
        *out = v ? -(int64_t)(v - 1) - 1 : 0;
    } else {
        if (v > (uint64_t)INT64_MAX) return OSB_ERR_RANGE;
        *out = (int64_t)v;
    }
    return OSB_OK;
}

OSB_API osb_err osb_json_to_double(const char *text, size_t len, double *out) {
    /* Exact powers of ten representable in a double. */
    static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                   1e20, 1e21, 1e22};
    /* 767 significant digits decide the rounding of any double; one more
     * "sticky" digit stands for everything cut off after them. */
    char buf[800];
    osb__num m;
    size_t i, keep, o = 0;
    int64_t e10;
    int sticky = 0;
    double v;
    char *end;
    osb_err e = osb__num_parse(text, len, &m);
    if (e) return e;
    if (m.nd == 0) { *out = m.neg ? -0.0 : 0.0; return OSB_OK; }
    e10 = m.exp10;
    if (m.nd <= 15 && e10 >= -22 && e10 <= 22) {
        /* Clinger's fast path: both operands exact, one rounding */
        uint64_t d = 0;
        for (i = m.lead; i < m.lead + m.nd; i++) d = d * 10 + (unsigned)osb__num_digit(&m, i);
        v = (double)d;
        v = e10 < 0 ? v / pow10[-e10] : v * pow10[e10];
        *out = m.neg ? -v : v;
        return OSB_OK;
    }
    /* Otherwise strtod on a rewritten copy: digits then an exponent, with
     * no decimal point, so the locale's decimal separator plays no part. */
    keep = m.nd > 767 ? 767 : m.nd;
    if (m.neg) buf[o++] = '-';
    for (i = 0; i < keep; i++) buf[o++] = (char)('0' + osb__num_digit(&m, m.lead + i));
    for (i = keep; i < m.nd; i++)
        if (osb__num_digit(&m, m.lead + i)) { sticky = 1; break; }
    e10 += (int64_t)(m.nd - keep);
    if (sticky) { buf[o++] = '1'; e10--; }
    o += (size_t)sprintf(buf + o, "e%ld", (long)(e10 < -100000 ? -100000 : e10 > 100000 ? 100000 : e10));
    buf[o] = 0;
    v = strtod(buf, &end);
    if (v > DBL_MAX || v < -DBL_MAX) return OSB_ERR_RANGE;
    *out = v;
    return OSB_OK;
}

// >>jsonw --------------------------------------------------------------------

OSB_API void osb_jw_init(osb_jw *w, osb_buf *buf) {
    memset(w, 0, sizeof *w);
    w->buf = buf;
    if (!buf) w->err = OSB_ERR_INVALID_ARG;
}

OSB_API void osb_jw_init_writer(osb_jw *w, osb_write_fn write, void *user) {
    memset(w, 0, sizeof *w);
    w->write = write;
    w->user = user;
    if (!write) w->err = OSB_ERR_INVALID_ARG;
}

OSB__HELPER osb_err osb__jw_flush(osb_jw *w) {
    if (w->write && w->out_len && !w->err) {
        if (w->write(w->user, w->out, w->out_len) != 0) w->err = OSB_ERR_CANCELLED;
    }
    w->out_len = 0;
    return w->err;
}

/* All output goes through here: straight into the buffer, or staged in out[]
 * for the writer so small tokens do not each cost a callback. */
OSB__HELPER osb_err osb__jw_put(osb_jw *w, const char *s, size_t n) {
    if (w->err) return w->err;
    if (w->buf) {
        osb_err e = osb_buf_append(w->buf, s, n);
        if (e) w->err = e;
        return w->err;
    }
    if (w->out_len + n > sizeof w->out) {
        if (osb__jw_flush(w)) return w->err;
        if (n > sizeof w->out) {
            if (w->write(w->user, s, n) != 0) w->err = OSB_ERR_CANCELLED;
            return w->err;
        }
    }
    memcpy(w->out + w->out_len, s, n);
    w->out_len += n;
    return OSB_OK;
}

OSB__HELPER int osb__bit(const unsigned char *bits, uint32_t i) { return (bits[i >> 3] >> (i & 7)) & 1; }
OSB__HELPER void osb__bit_set(unsigned char *bits, uint32_t i, int v) {
    if (v) bits[i >> 3] = (unsigned char)(bits[i >> 3] | (1u << (i & 7)));
    else bits[i >> 3] = (unsigned char)(bits[i >> 3] & ~(1u << (i & 7)));
}

/* Before a value: checks it is allowed here and writes the ',' it needs. */
OSB__HELPER osb_err osb__jw_value(osb_jw *w) {
    if (w->err) return w->err;
    if (w->depth == 0) {
        if (w->done) return w->err = OSB_ERR_STATE;  /* one top-level value only */
        return OSB_OK;
    }
    if (osb__bit(w->is_obj, w->depth - 1)) {
        if (!w->after_key) return w->err = OSB_ERR_STATE;  /* a value needs a key first */
        w->after_key = 0;
        return OSB_OK;
    }
    if (osb__bit(w->has_item, w->depth - 1)) return osb__jw_put(w, ",", 1);
    osb__bit_set(w->has_item, w->depth - 1, 1);
    return OSB_OK;
}

/* After a scalar or a closed container. */
OSB__HELPER osb_err osb__jw_after(osb_jw *w) {
    if (!w->err && w->depth == 0) w->done = 1;
    return w->err;
}

OSB__HELPER osb_err osb__jw_open(osb_jw *w, int obj) {
    if (osb__jw_value(w)) return w->err;
    if (w->depth >= OSB_JSON_DEPTH_LIMIT) return w->err = OSB_ERR_TOO_LARGE;
    osb__bit_set(w->is_obj, w->depth, obj);
    osb__bit_set(w->has_item, w->depth, 0);
    w->depth++;
    return osb__jw_put(w, obj ? "{" : "[", 1);
}

OSB__HELPER osb_err osb__jw_close(osb_jw *w, int obj) {
    if (w->err) return w->err;
    if (w->depth == 0 || osb__bit(w->is_obj, w->depth - 1) != obj || w->after_key)
        return w->err = OSB_ERR_STATE;
    w->depth--;
    osb__jw_put(w, obj ? "}" : "]", 1);
    return osb__jw_after(w);
}

OSB_API osb_err osb_jw_object(osb_jw *w) { return osb__jw_open(w, 1); }
OSB_API osb_err osb_jw_object_end(osb_jw *w) { return osb__jw_close(w, 1); }
OSB_API osb_err osb_jw_array(osb_jw *w) { return osb__jw_open(w, 0); }
OSB_API osb_err osb_jw_array_end(osb_jw *w) { return osb__jw_close(w, 0); }

/* Writes s as a quoted JSON string. Runs of plain bytes are copied whole;
 * the input must be valid UTF-8. */
OSB__HELPER osb_err osb__jw_quoted(osb_jw *w, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    osb_json check;  /* only its UTF-8 validator state is used */
    if (!s && n) return w->err = OSB_ERR_INVALID_ARG;
    check.u8need = 0;
    check.u8have = 0;
    osb__jw_put(w, "\"", 1);
    while (i < n && !w->err) {
        unsigned c = u[i];
        char esc[6];
        size_t en = 0;
        if (c >= 0x80 || check.u8need) {
            if (osb__u8_step(&check, c) < 0) return w->err = OSB_ERR_INVALID_ARG;
            i++;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') { i++; continue; }
        osb__jw_put(w, s + run, i - run);
        esc[en++] = '\\';
        switch (c) {
        case '"': esc[en++] = '"'; break;
        case '\\': esc[en++] = '\\'; break;
        case '\n': esc[en++] = 'n'; break;
        case '\r': esc[en++] = 'r'; break;
        case '\t': esc[en++] = 't'; break;
        case '\b': esc[en++] = 'b'; break;
        case '\f': esc[en++] = 'f'; break;
        default:
            esc[en++] = 'u';
            esc[en++] = '0';
            esc[en++] = '0';
            esc[en++] = hex[c >> 4];
            esc[en++] = hex[c & 15];
        }
        osb__jw_put(w, esc, en);
        run = ++i;
    }
    if (check.u8need) return w->err = OSB_ERR_INVALID_ARG;  /* cut inside a character */
    osb__jw_put(w, s + run, n - run);
    return osb__jw_put(w, "\"", 1);
}

OSB_API osb_err osb_jw_key_n(osb_jw *w, const char *key, size_t len) {
    if (w->err) return w->err;
    if (w->depth == 0 || !osb__bit(w->is_obj, w->depth - 1) || w->after_key)
        return w->err = OSB_ERR_STATE;
    if (osb__bit(w->has_item, w->depth - 1)) osb__jw_put(w, ",", 1);
    osb__bit_set(w->has_item, w->depth - 1, 1);
    osb__jw_quoted(w, key, len);
    osb__jw_put(w, ":", 1);
    w->after_key = 1;
    return w->err;
}

OSB_API osb_err osb_jw_key(osb_jw *w, const char *key) {
    if (!key) return w->err ? w->err : (w->err = OSB_ERR_INVALID_ARG);
    return osb_jw_key_n(w, key, strlen(key));
}

OSB_API osb_err osb_jw_str_n(osb_jw *w, const char *s, size_t len) {
    if (osb__jw_value(w)) return w->err;
    osb__jw_quoted(w, s, len);
    return osb__jw_after(w);
}

OSB_API osb_err osb_jw_str(osb_jw *w, const char *s) {
    if (!s) return osb_jw_null(w);
    return osb_jw_str_n(w, s, strlen(s));
}

OSB__HELPER osb_err osb__jw_scalar(osb_jw *w, const char *text, size_t n) {
    if (osb__jw_value(w)) return w->err;
    osb__jw_put(w, text, n);
    return osb__jw_after(w);
}

/* Decimal digits of v, written backwards from the end of buf; returns the start. */
OSB__HELPER char *osb__u64_text(char *end, uint64_t v) {
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

OSB_API osb_err osb_jw_uint(osb_jw *w, uint64_t v) {
    char buf[24], *p = osb__u64_text(buf + sizeof buf, v);
    return osb__jw_scalar(w, p, (size_t)(buf + sizeof buf - p));
}

OSB_API osb_err osb_jw_int(osb_jw *w, int64_t v) {
    char buf[24], *p;
    /* the magnitude of INT64_MIN does not fit int64_t: go through uint64_t */
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    p = osb__u64_text(buf + sizeof buf, mag);
    if (v < 0) *--p = '-';
    return osb__jw_scalar(w, p, (size_t)(buf + sizeof buf - p));
}

/* printf's %g obeys the locale's decimal separator (possibly several bytes,
 * e.g. ","): turn any run of bytes that a number cannot contain into '.'. */
OSB__HELPER size_t osb__fix_decimal_point(char *s, size_t n) {
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') s[o++] = c;
        else if (o == 0 || s[o - 1] != '.') s[o++] = '.';
    }
    s[o] = 0;
    return o;
}

/* The shortest "%.*g" text (15 to 17 digits) that reads back as v exactly. */
OSB__HELPER size_t osb__double_text(char *buf, size_t cap, double v) {
    int prec;
    size_t n = 0;
    for (prec = 15; prec <= 17; prec++) {
        double back;
        n = (size_t)snprintf(buf, cap, "%.*g", prec, v);
        if (n >= cap) n = cap - 1;
        n = osb__fix_decimal_point(buf, n);
        if (osb_json_to_double(buf, n, &back) == OSB_OK && back == v) break;
    }
    return n;
}

OSB_API osb_err osb_jw_double(osb_jw *w, double v) {
    char buf[40];
    size_t n;
    if (w->err) return w->err;
    if (v != v || v > DBL_MAX || v < -DBL_MAX) return w->err = OSB_ERR_INVALID_ARG;
    n = osb__double_text(buf, sizeof buf, v);
    return osb__jw_scalar(w, buf, n);
}

OSB_API osb_err osb_jw_bool(osb_jw *w, int v) {
    return v ? osb__jw_scalar(w, "true", 4) : osb__jw_scalar(w, "false", 5);
}

OSB_API osb_err osb_jw_null(osb_jw *w) { return osb__jw_scalar(w, "null", 4); }

OSB_API osb_err osb_jw_raw(osb_jw *w, const char *json, size_t len) {
    if (!json || !len) return w->err ? w->err : (w->err = OSB_ERR_INVALID_ARG);
    return osb__jw_scalar(w, json, len);
}

OSB_API osb_err osb_jw_finish(osb_jw *w) {
    if (w->err) return w->err;
    if (w->depth != 0 || !w->done) return w->err = OSB_ERR_STATE;
    return osb__jw_flush(w);
}

// >>bind ---------------------------------------------------------------------

/* Results: one block = a hidden header, then the struct, then its arrays,
 * then its strings (and raw JSON copies). The header keeps the allocator, so
 * osb_result_free needs nothing else. Its size is rounded up so the struct
 * after it is aligned for any member. */
typedef union osb__maxalign {
    long double ld;
    double d;
    int64_t i;
    void *p;
    void (*f)(void);
} osb__maxalign;

typedef struct osb__rhdr {
    osb_allocator alloc;   /* a copy: the caller's struct may not outlive the result */
    int has_alloc;
    size_t size;           /* the whole block */
} osb__rhdr;

#define OSB__ALIGN sizeof(osb__maxalign)
#define OSB__ROUND(n) (((n) + OSB__ALIGN - 1) / OSB__ALIGN * OSB__ALIGN)
#define OSB__RHDR_SIZE OSB__ROUND(sizeof(osb__rhdr))

/* A zeroed result of size bytes; free it with osb_result_free. Every result
 * of the library comes from here. */
OSB__HELPER void *osb__result_new(const osb_allocator *a, size_t size) {
    size_t total;
    char *block;
    osb__rhdr *h;
    if (!osb__add_ok(size, OSB__RHDR_SIZE, &total)) return NULL;
    block = (char *)osb__alloc(a, total);
    if (!block) return NULL;
    memset(block, 0, total);
    h = (osb__rhdr *)(void *)block;
    if (a) {
        h->alloc = *a;
        h->has_alloc = 1;
    }
    h->size = total;
    return block + OSB__RHDR_SIZE;
}

OSB_API void osb_result_free(void *result) {
    osb__rhdr *h;
    if (!result) return;
    h = (osb__rhdr *)(void *)((char *)result - OSB__RHDR_SIZE);
    if (h->has_alloc) {
        osb_allocator a = h->alloc;
        osb__free(&a, h);
    } else {
        osb__free(NULL, h);
    }
}

OSB_API size_t osb_result_size(const void *result) {
    if (!result) return 0;
    return ((const osb__rhdr *)(const void *)((const char *)result - OSB__RHDR_SIZE))->size;
}

/* The decoder runs twice over the document with the same code: first to
 * measure (how many bytes of arrays and of strings), then to fill the block
 * allocated from those sizes. */
typedef struct osb__bind {
    int fill;
    const char *json;
    size_t arr_size, str_size;       /* measured */
    char *arr, *arr_end;             /* fill cursors */
    char *str, *str_end;
    osb_err err;
    uint64_t err_offset;
    const char *msg;
    const char *where;               /* member name for the message */
    char scratch[256];
    char text[512];                  /* a number's text / a key */
} osb__bind;

OSB__HELPER osb_err osb__bind_fail(osb__bind *b, osb_err e, uint64_t offset, const char *msg) {
    if (!b->err) {
        b->err = e;
        b->err_offset = offset;
        b->msg = msg;
    }
    return b->err;
}

/* The tokenizer's error, as the binding's. */
OSB__HELPER osb_err osb__bind_json_fail(osb__bind *b, const osb_json *j) {
    return osb__bind_fail(b, j->err ? j->err : OSB_ERR_JSON, j->err_offset, j->err_msg);
}

/* The next token; the input is one final chunk, so NEED_MORE cannot happen. */
OSB__HELPER int osb__bind_next(osb__bind *b, osb_json *j, osb_json_token *t) {
    int r = osb_json_next(j, t);
    if (r <= 0) {
        osb__bind_json_fail(b, j);
        return -1;
    }
    return r;
}

/* Room for n bytes of string text (plus the NUL added at its end). */
OSB__HELPER char *osb__bind_str_put(osb__bind *b, const char *p, size_t n) {
    char *dst = b->str;
    if (!b->fill) {
        b->str_size += n;
        return NULL;
    }
    if ((size_t)(b->str_end - b->str) < n) return NULL;  /* cannot happen: measured */
    if (n) memcpy(b->str, p, n);
    b->str += n;
    return dst;
}

/* Copies a string value (all its pieces) into the block; *out gets it. */
OSB__HELPER osb_err osb__bind_string(osb__bind *b, osb_json *j, osb_json_token *t, osb_str *out) {
    char *start = b->str;
    size_t len = 0;
    for (;;) {
        osb__bind_str_put(b, t->ptr, t->len);
        len += t->len;
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    if (!b->fill) {
        b->str_size += 1;
        return OSB_OK;
    }
    if (b->str == b->str_end) return osb__bind_fail(b, OSB_ERR_STATE, t->offset, "internal size mismatch");
    *b->str++ = 0;
    out->ptr = start;
    out->len = len;
    return OSB_OK;
}

/* The value starting with *t, skipped; *out gets its raw JSON text (copied). */
OSB__HELPER osb_err osb__bind_raw(osb__bind *b, osb_json *j, osb_json_token *t, osb_str *out) {
    uint64_t start = t->offset, end;
    const char *p;
    if (osb_json_skip(j, t) <= 0) return osb__bind_json_fail(b, j);
    end = osb_json_offset(j);
    p = osb__bind_str_put(b, b->json + start, (size_t)(end - start));
    if (!b->fill) {
        b->str_size += 1;
        return OSB_OK;
    }
    if (!p && end > start) return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
    if (b->str == b->str_end) return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
    *b->str++ = 0;
    out->ptr = p ? p : b->str - 1;
    out->len = (size_t)(end - start);
    return OSB_OK;
}

/* Joins the pieces of a number into b->text. */
OSB__HELPER osb_err osb__bind_number_text(osb__bind *b, osb_json *j, osb_json_token *t, size_t *len) {
    size_t n = 0;
    uint64_t at = t->offset;
    for (;;) {
        if (t->len > sizeof b->text - n)
            return osb__bind_fail(b, OSB_ERR_RANGE, at, "number too long for a C number");
        memcpy(b->text + n, t->ptr, t->len);
        n += t->len;
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    *len = n;
    return OSB_OK;
}

OSB__HELPER size_t osb__kind_size(osb_kind k, const struct osb_type *type) {
    switch (k) {
    case OSB_KIND_STR: case OSB_KIND_RAW: return sizeof(osb_str);
    case OSB_KIND_I64: return sizeof(int64_t);
    case OSB_KIND_U64: return sizeof(uint64_t);
    case OSB_KIND_INT: case OSB_KIND_BOOL: return sizeof(int);
    case OSB_KIND_DOUBLE: return sizeof(double);
    case OSB_KIND_OBJECT: return type ? type->size : 0;
    default: return 0;
    }
}

OSB__HELPER osb_err osb__bind_object(osb__bind *b, osb_json *j, osb_json_token *t,
                                     const osb_type *type, char *dst);
OSB__HELPER osb_err osb__bind_array(osb__bind *b, osb_json *j, osb_json_token *t,
                                    const osb_field *f, char *dst);
OSB__HELPER osb_err osb__bind_map(osb__bind *b, osb_json *j, osb_json_token *t,
                                  const osb_field *f, char *dst);

/* Decodes one value (first token *t) of kind k into dst (NULL while measuring). */
OSB__HELPER osb_err osb__bind_value(osb__bind *b, osb_json *j, osb_json_token *t, osb_kind k,
                                    const osb_field *f, char *dst) {
    int r = t->type;
    if (r == OSB_JSON_NULL && k != OSB_KIND_RAW) return OSB_OK;  /* null leaves the zero */
    switch (k) {
    case OSB_KIND_STR: {
        osb_str s;
        if (r != OSB_JSON_STRING) break;
        if (osb__bind_string(b, j, t, &s)) return b->err;
        if (dst) memcpy(dst, &s, sizeof s);
        return OSB_OK;
    }
    case OSB_KIND_RAW: {
        osb_str s;
        if (osb__bind_raw(b, j, t, &s)) return b->err;
        if (dst) memcpy(dst, &s, sizeof s);
        return OSB_OK;
    }
    case OSB_KIND_BOOL: {
        int v = r == OSB_JSON_TRUE;
        if (r != OSB_JSON_TRUE && r != OSB_JSON_FALSE) break;
        if (dst) memcpy(dst, &v, sizeof v);
        return OSB_OK;
    }
    case OSB_KIND_I64: case OSB_KIND_U64: case OSB_KIND_INT: case OSB_KIND_DOUBLE: {
        size_t n = 0;
        uint64_t at = t->offset;
        osb_err e;
        if (r != OSB_JSON_NUMBER) break;
        if (osb__bind_number_text(b, j, t, &n)) return b->err;
        if (k == OSB_KIND_DOUBLE) {
            double v = 0;
            e = osb_json_to_double(b->text, n, &v);
            if (!e && dst) memcpy(dst, &v, sizeof v);
        } else if (k == OSB_KIND_U64) {
            uint64_t v = 0;
            e = osb_json_to_u64(b->text, n, &v);
            if (!e && dst) memcpy(dst, &v, sizeof v);
        } else {
            int64_t v = 0;
            e = osb_json_to_i64(b->text, n, &v);
            if (!e && k == OSB_KIND_INT && (v < INT_MIN || v > INT_MAX)) e = OSB_ERR_RANGE;
            if (!e && dst) {
                if (k == OSB_KIND_INT) {
                    int iv = (int)v;
                    memcpy(dst, &iv, sizeof iv);
                } else {
                    memcpy(dst, &v, sizeof v);
                }
            }
        }
        if (e) return osb__bind_fail(b, e, at, "number does not fit the field");
        return OSB_OK;
    }
    case OSB_KIND_OBJECT:
        if (r != OSB_JSON_OBJECT) break;
        return osb__bind_object(b, j, t, f->type, dst);
    case OSB_KIND_ARRAY:
        if (r != OSB_JSON_ARRAY) break;
        return osb__bind_array(b, j, t, f, dst);
    case OSB_KIND_MAP:
        if (r != OSB_JSON_OBJECT) break;
        return osb__bind_map(b, j, t, f, dst);
    default:
        return osb__bind_fail(b, OSB_ERR_INVALID_ARG, t->offset, "bad field kind in a table");
    }
    return osb__bind_fail(b, OSB_ERR_JSON, t->offset, "value of the wrong JSON type");
}

/* Counts the direct children of the array or object whose first token is
 * *first (elements, or members), with a copy of the tokenizer so the real
 * one does not move. Only the fill pass needs it: the elements must be laid
 * out together before they are decoded. */
OSB__HELPER osb_err osb__bind_count(osb__bind *b, const osb_json *j, const osb_json_token *first,
                                    size_t *count) {
    osb_json c = *j;
    osb_json_token t;
    size_t n = 0;
    int cont = 0;  /* the previous token was a piece with more to come */
    char scratch[64];
    c.scratch = scratch;
    c.scratch_cap = sizeof scratch;
    c.scratch_len = 0;
    c.reset_scratch = 0;
    for (;;) {
        int r = osb_json_next(&c, &t);
        if (r <= 0) return osb__bind_json_fail(b, &c);
        if (t.depth == first->depth + 1 && !cont && r != OSB_JSON_OBJECT_END && r != OSB_JSON_ARRAY_END) {
            if (first->type == OSB_JSON_ARRAY || r == OSB_JSON_KEY) n++;
        }
        cont = t.more;
        if ((r == OSB_JSON_OBJECT_END || r == OSB_JSON_ARRAY_END) && t.depth == first->depth) break;
    }
    *count = n;
    return OSB_OK;
}

/* Reserves room for count elements of size each in the arrays area. */
OSB__HELPER char *osb__bind_arr_alloc(osb__bind *b, size_t count, size_t size, uint64_t at) {
    size_t bytes;
    char *p;
    if (!osb__mul_ok(count, size, &bytes) || bytes > (size_t)-1 - OSB__ALIGN) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, at, "array too large");
        return NULL;
    }
    bytes = OSB__ROUND(bytes);
    if (!b->fill) {
        if (!osb__add_ok(b->arr_size, bytes, &b->arr_size))
            osb__bind_fail(b, OSB_ERR_TOO_LARGE, at, "result too large");
        return NULL;
    }
    if ((size_t)(b->arr_end - b->arr) < bytes) {
        osb__bind_fail(b, OSB_ERR_STATE, at, "internal size mismatch");
        return NULL;
    }
    p = b->arr;
    b->arr += bytes;
    return p;
}

OSB__HELPER osb_err osb__bind_array(osb__bind *b, osb_json *j, osb_json_token *t,
                                    const osb_field *f, char *dst) {
    size_t esize = osb__kind_size(f->elem, f->type), count = 0, i = 0;
    uint32_t depth = t->depth;
    uint64_t at = t->offset;
    char *items = NULL;
    osb_field ef = *f;  /* describes one element */
    if (esize == 0 || f->elem == OSB_KIND_ARRAY || f->elem == OSB_KIND_MAP)
        return osb__bind_fail(b, OSB_ERR_INVALID_ARG, at, "bad array element kind in a table");
    ef.kind = f->elem;
    if (b->fill) {
        if (osb__bind_count(b, j, t, &count)) return b->err;
        items = count ? osb__bind_arr_alloc(b, count, esize, at) : NULL;
        if (b->err) return b->err;
    }
    for (;;) {
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_ARRAY_END && t->depth == depth) break;
        if (b->fill && i >= count) return osb__bind_fail(b, OSB_ERR_STATE, at, "internal count mismatch");
        if (osb__bind_value(b, j, t, f->elem, &ef, items ? items + i * esize : NULL)) return b->err;
        i++;
    }
    if (!b->fill) {
        if (i) osb__bind_arr_alloc(b, i, esize, at);
        return b->err;
    }
    memcpy(dst, &items, sizeof items);
    memcpy(dst + (f->count_offset - f->offset), &i, sizeof i);
    return OSB_OK;
}

OSB__HELPER osb_err osb__bind_map(osb__bind *b, osb_json *j, osb_json_token *t,
                                  const osb_field *f, char *dst) {
    size_t count = 0, i = 0;
    uint32_t depth = t->depth;
    uint64_t at = t->offset;
    osb_kv *items = NULL;
    if (b->fill) {
        if (osb__bind_count(b, j, t, &count)) return b->err;
        items = count ? (osb_kv *)(void *)osb__bind_arr_alloc(b, count, sizeof(osb_kv), at) : NULL;
        if (b->err) return b->err;
    }
    for (;;) {
        osb_kv kv;
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_OBJECT_END && t->depth == depth) break;
        if (b->fill && i >= count) return osb__bind_fail(b, OSB_ERR_STATE, at, "internal count mismatch");
        memset(&kv, 0, sizeof kv);
        if (osb__bind_string(b, j, t, &kv.key)) return b->err;            /* the key */
        if (osb__bind_next(b, j, t) < 0) return b->err;
        /* string values unescaped; anything else kept as its JSON text */
        if (t->type == OSB_JSON_STRING) {
            if (osb__bind_string(b, j, t, &kv.value)) return b->err;
        } else if (osb__bind_raw(b, j, t, &kv.value)) {
            return b->err;
        }
        if (items) items[i] = kv;
        i++;
    }
    if (!b->fill) {
        if (i) osb__bind_arr_alloc(b, i, sizeof(osb_kv), at);
        return b->err;
    }
    memcpy(dst, &items, sizeof items);
    memcpy(dst + (f->count_offset - f->offset), &i, sizeof i);
    return OSB_OK;
}

/* Reads a member name (all pieces) into b->text; *len = (size_t)-1 when it
 * is longer than any field name can be. */
OSB__HELPER osb_err osb__bind_key(osb__bind *b, osb_json *j, osb_json_token *t, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (n != (size_t)-1) {
            if (t->len < sizeof b->text - n) {
                memcpy(b->text + n, t->ptr, t->len);
                n += t->len;
            } else {
                n = (size_t)-1;
            }
        }
        if (!t->more) break;
        if (osb__bind_next(b, j, t) < 0) return b->err;
    }
    *len = n;
    return OSB_OK;
}

OSB__HELPER const osb_field *osb__bind_find(const osb_type *type, const char *name, size_t n) {
    size_t i;
    if (n == (size_t)-1) return NULL;
    /* the last match wins, so a table may override a row; names are short */
    for (i = type->nfields; i-- > 0;) {
        const char *fn = type->fields[i].name;
        if (fn && strlen(fn) == n && memcmp(fn, name, n) == 0) return &type->fields[i];
    }
    return NULL;
}

OSB__HELPER osb_err osb__bind_object(osb__bind *b, osb_json *j, osb_json_token *t,
                                     const osb_type *type, char *dst) {
    uint32_t depth = t->depth;
    uint64_t start = t->offset;
    if (!type) return osb__bind_fail(b, OSB_ERR_INVALID_ARG, start, "missing nested type in a table");
    for (;;) {
        const osb_field *f;
        size_t n = 0;
        int r = osb__bind_next(b, j, t);
        if (r < 0) return b->err;
        if (r == OSB_JSON_OBJECT_END && t->depth == depth) break;
        if (osb__bind_key(b, j, t, &n)) return b->err;
        f = osb__bind_find(type, b->text, n);
        if (osb__bind_next(b, j, t) < 0) return b->err;
        if (!f) {
            if (osb_json_skip(j, t) <= 0) return osb__bind_json_fail(b, j);
            continue;
        }
        b->where = f->name;
        if (osb__bind_value(b, j, t, f->kind, f, dst ? dst + f->offset : NULL)) return b->err;
    }
    if (type->raw_offset != OSB_NO_RAW) {
        uint64_t end = osb_json_offset(j);
        char *p = osb__bind_str_put(b, b->json + start, (size_t)(end - start));
        if (!b->fill) {
            b->str_size += 1;
        } else {
            osb_str s;
            if (!p || b->str == b->str_end)
                return osb__bind_fail(b, OSB_ERR_STATE, start, "internal size mismatch");
            *b->str++ = 0;
            s.ptr = p;
            s.len = (size_t)(end - start);
            memcpy(dst + type->raw_offset, &s, sizeof s);
        }
    }
    return OSB_OK;
}

/* One pass over the whole document. */
OSB__HELPER osb_err osb__bind_pass(osb__bind *b, const osb_type *type, const char *json, size_t len,
                                   char *dst) {
    osb_json j;
    osb_json_token t;
    int r;
    osb_json_init(&j, b->scratch, sizeof b->scratch);
    osb_json_feed(&j, json, len, 1);
    if (osb__bind_next(b, &j, &t) < 0) return b->err;
    if (t.type == OSB_JSON_ARRAY && type->nfields && type->fields[0].name &&
        !type->fields[0].name[0] && type->fields[0].kind == OSB_KIND_ARRAY) {
        /* a document that is a bare array, bound to the unnamed first field */
        if (osb__bind_array(b, &j, &t, &type->fields[0], dst ? dst + type->fields[0].offset : NULL))
            return b->err;
    } else if (t.type != OSB_JSON_OBJECT) {
        return osb__bind_fail(b, OSB_ERR_JSON, t.offset, "expected a JSON object");
    } else if (osb__bind_object(b, &j, &t, type, dst)) {
        return b->err;
    }
    r = osb_json_next(&j, &t);
    if (r != OSB_JSON_DONE) return osb__bind_json_fail(b, &j);
    return OSB_OK;
}

/* Fills err (may be NULL) from a failed binding. */
OSB__HELPER osb_err osb__bind_report(const osb__bind *b, const osb_type *t, osb_err e, osb_error *err) {
    char msg[sizeof err->message];
    int n;
    if (!err) return e;
    memset(err, 0, sizeof *err);
    err->code = e;
    err->offset = b->err_offset;
    err->retry_after_ms = -1;
    n = snprintf(msg, sizeof msg, "%s at byte %llu (%s%s%s)", b->msg ? b->msg : "",
                 (unsigned long long)b->err_offset, t && t->name ? t->name : "",
                 b->where ? "." : "", b->where ? b->where : "");
    if (n < 0) n = 0;
    osb__copy_field(err->message, sizeof err->message, msg,
                    (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    return e;
}

OSB__HELPER int osb__bind_args_ok(const osb_type *t, const char *json, size_t len) {
    return t && (json || !len) && (t->fields || !t->nfields);
}

/* The fill pass: dst is the zeroed struct, area the bytes for its arrays
 * (arr_size, aligned) followed by its strings (str_size). */
OSB__HELPER osb_err osb__bind_fill(osb__bind *b, const osb_type *t, const char *json, size_t len,
                                   char *dst, char *area) {
    size_t arr = b->arr_size, str = b->str_size;
    b->fill = 1;
    b->arr = area;
    b->arr_end = area + arr;
    b->str = b->arr_end;
    b->str_end = b->str + str;
    return osb__bind_pass(b, t, json, len, dst);
}

OSB_API osb_err osb_bind(const osb_type *t, const char *json, size_t len,
                         const osb_allocator *allocator, void **out, osb_error *err) {
    osb__bind local, *b = &local;
    size_t base, total;
    char *res = NULL;
    osb_err e;
    memset(b, 0, sizeof *b);
    if (out) *out = NULL;
    if (!out || !osb__bind_args_ok(t, json, len)) {
        b->msg = "NULL argument or bad type";
        return osb__bind_report(b, t, OSB_ERR_INVALID_ARG, err);
    }
    b->json = json;
    e = osb__bind_pass(b, t, json, len, NULL);
    if (!e) {
        base = OSB__ROUND(t->size);
        if (!osb__add_ok(base, b->arr_size, &total) || !osb__add_ok(total, b->str_size, &total))
            e = osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "result too large");
        else if (!(res = (char *)osb__result_new(allocator, total)))
            e = osb__bind_fail(b, OSB_ERR_NOMEM, 0, "out of memory");
        else
            e = osb__bind_fill(b, t, json, len, res, res + base);
    }
    if (e) {
        osb_result_free(res);
        return osb__bind_report(b, t, e, err);
    }
    *out = res;
    return OSB_OK;
}

OSB_API osb_err osb_bind_into(const osb_type *t, const char *json, size_t len, void *dst,
                              void *buf, size_t cap, size_t *need, osb_error *err) {
    osb__bind local, *b = &local;
    size_t pad, total;
    osb_err e;
    memset(b, 0, sizeof *b);
    if (need) *need = 0;
    if (!dst || (!buf && cap) || !osb__bind_args_ok(t, json, len)) {
        b->msg = "NULL argument or bad type";
        return osb__bind_report(b, t, OSB_ERR_INVALID_ARG, err);
    }
    memset(dst, 0, t->size);
    b->json = json;
    e = osb__bind_pass(b, t, json, len, NULL);
    if (e) return osb__bind_report(b, t, e, err);
    /* arrays start at the first aligned address of buf */
    pad = (OSB__ALIGN - (size_t)((uintptr_t)buf % OSB__ALIGN)) % OSB__ALIGN;
    if (!osb__add_ok(pad, b->arr_size, &total) || !osb__add_ok(total, b->str_size, &total)) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "result too large");
        return osb__bind_report(b, t, OSB_ERR_TOO_LARGE, err);
    }
    if (need) *need = total + OSB__ALIGN - 1;  /* enough at any alignment */
    if (total > cap) {
        osb__bind_fail(b, OSB_ERR_TOO_LARGE, 0, "buffer too small for the strings and arrays");
        return osb__bind_report(b, t, OSB_ERR_TOO_LARGE, err);
    }
    if (need) *need = total;
    /* nothing goes to the area when total is 0, but the cursors still need
     * a real address (arithmetic on NULL is undefined) */
    e = osb__bind_fill(b, t, json, len, (char *)dst, buf ? (char *)buf + pad : (char *)dst);
    if (e) {
        memset(dst, 0, t->size);
        return osb__bind_report(b, t, e, err);
    }
    return OSB_OK;
}

// >>sse ----------------------------------------------------------------------

/* Line states. */
enum { OSB__SL_START, OSB__SL_NAME, OSB__SL_SPACE, OSB__SL_VALUE, OSB__SL_BARE, OSB__SL_IGNORE };
/* Fields. */
enum { OSB__SF_IGNORE, OSB__SF_DATA, OSB__SF_EVENT, OSB__SF_ID, OSB__SF_RETRY };

OSB_API void osb_sse_init(osb_sse *s, char *buf, size_t cap) {
    memset(s, 0, sizeof *s);
    s->buf = buf;
    s->cap = buf ? cap : 0;
    s->max_event = OSB_SSE_MAX_EVENT;
    s->retry_ms = -1;
}

OSB_API osb_err osb_sse_set_buffer(osb_sse *s, char *buf, size_t cap) {
    if (!buf || cap <= s->len) return OSB_ERR_INVALID_ARG;
    s->buf = buf;
    s->cap = cap;
    return OSB_OK;
}

OSB_API osb_sse_state osb_sse_status(const osb_sse *s) { return (osb_sse_state)s->status; }

/* s->offset counts every byte consumed, so it is the bad byte's offset. */
OSB__HELPER size_t osb__sse_fail(osb_sse *s, osb_err e, size_t consumed) {
    s->err = e;
    s->err_offset = s->offset;
    s->status = OSB_SSE_ERROR;
    return consumed;
}

/* The event that was handed out is over: forget its data and type. */
OSB__HELPER void osb__sse_clear(osb_sse *s) {
    s->len = 0;
    s->has_data = 0;
    s->type_len = 0;
    s->type[0] = 0;
    s->status = OSB_SSE_MORE;
}

/* The first line that gives the event content marks where it starts. */
OSB__HELPER void osb__sse_mark(osb_sse *s) {
    if (!s->has_data && !s->type_len) s->ev_offset = s->line_start;
}

OSB__HELPER int osb__sse_field(const osb_sse *s) {
    if (s->name_len == 4 && !memcmp(s->name, "data", 4)) return OSB__SF_DATA;
    if (s->name_len == 5 && !memcmp(s->name, "event", 5)) return OSB__SF_EVENT;
    if (s->name_len == 2 && !memcmp(s->name, "id", 2)) return OSB__SF_ID;
    if (s->name_len == 5 && !memcmp(s->name, "retry", 5)) return OSB__SF_RETRY;
    return OSB__SF_IGNORE;
}

/* A field name is complete (at ':' or at the end of a line without one). */
OSB__HELPER void osb__sse_begin_value(osb_sse *s) {
    s->field = osb__sse_field(s);
    s->val_len = 0;
    s->retry_acc = 0;
    s->retry_ok = 1;
    if (s->field == OSB__SF_DATA) {
        osb__sse_mark(s);
        s->has_data = 1;
    }
}

/* Appends up to n data bytes and returns how many it took: fewer when the
 * buffer is full (the rest waits for a larger one) or when the event would
 * pass max_event, which sets *over: the byte after those taken is the first
 * one beyond the cap, whatever the chunking. Data lines are stored each
 * followed by '\n'; the last '\n' becomes the NUL at dispatch. */
OSB__HELPER size_t osb__sse_append(osb_sse *s, const char *p, size_t n, int *over) {
    size_t room = s->cap - s->len, cap_left = s->max_event > s->len ? s->max_event - s->len : 0;
    *over = 0;
    if (n > cap_left) {
        n = cap_left;
        *over = 1;
    }
    if (n > room) {
        n = room;
        *over = 0;  /* the buffer fills first: the cap is checked again later */
    }
    if (n == 0) return 0;
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    return n;
}

/* The end of a line. Returns 1 when it completes an event, 0 otherwise, -1
 * when the buffer has no room for the line's '\n' (FULL), -2 on error. */
OSB__HELPER int osb__sse_line_end(osb_sse *s) {
    int st = s->state;
    if (st == OSB__SL_NAME) {  /* a field with no ':' has an empty value */
        osb__sse_begin_value(s);
        st = OSB__SL_VALUE;
    }
    if (st == OSB__SL_START) {  /* a blank line dispatches the event */
        if (s->has_data) {
            s->buf[s->len - 1] = 0;
            s->bare = 0;
            return 1;
        }
        s->type_len = 0;  /* an event without data is not dispatched */
        s->type[0] = 0;
        return 0;
    }
    if (st == OSB__SL_BARE || ((st == OSB__SL_VALUE || st == OSB__SL_SPACE) && s->field == OSB__SF_DATA)) {
        int over;
        size_t r = osb__sse_append(s, "\n", 1, &over);
        if (over) { s->err = OSB_ERR_TOO_LARGE; return -2; }
        if (r == 0) return -1;
        if (st == OSB__SL_BARE) {
            /* a bare JSON line is an event by itself */
            s->buf[s->len - 1] = 0;
            s->bare = 1;
            s->state = OSB__SL_START;
            return 1;
        }
    } else if (st == OSB__SL_VALUE || st == OSB__SL_SPACE) {
        if (s->field == OSB__SF_EVENT) {
            memcpy(s->type, s->val, s->val_len);
            s->type_len = s->val_len;
            s->type[s->type_len] = 0;
            if (s->type_len) osb__sse_mark(s);
        } else if (s->field == OSB__SF_ID) {
            /* per the SSE spec an id holding NUL is ignored */
            if (!memchr(s->val, 0, s->val_len)) {
                memcpy(s->id, s->val, s->val_len);
                s->id_len = s->val_len;
                s->id[s->id_len] = 0;
            }
        } else if (s->field == OSB__SF_RETRY) {
            if (s->retry_ok && s->val_len) s->retry_ms = s->retry_acc;
        }
    }
    s->state = OSB__SL_START;
    return 0;
}

/* Index of the first CR or LF in d[i..n), or n. Two memchr calls (SIMD in
 * most C libraries) beat a byte loop on long lines; CR is rare, so the
 * second search only covers the bytes before the LF. */
OSB__HELPER size_t osb__sse_eol(const unsigned char *d, size_t i, size_t n) {
    const unsigned char *lf = (const unsigned char *)memchr(d + i, '\n', n - i);
    size_t end = lf ? (size_t)(lf - d) : n;
    const unsigned char *cr = (const unsigned char *)memchr(d + i, '\r', end - i);
    return cr ? (size_t)(cr - d) : end;
}

/* Copies the data bytes from d[*i] up to the line end (or the chunk end)
 * into the event. Returns 0 to go on, 1 when the push must stop: the buffer
 * is full (FULL) or the event passed max_event (ERROR). */
OSB__HELPER int osb__sse_data_run(osb_sse *s, const unsigned char *d, size_t *i, size_t len) {
    size_t end = osb__sse_eol(d, *i, len), k;
    int over;
    k = osb__sse_append(s, (const char *)d + *i, end - *i, &over);
    *i += k;
    s->offset += k;
    if (over) {
        osb__sse_fail(s, OSB_ERR_TOO_LARGE, *i);
        return 1;
    }
    if (*i < end) {
        s->status = OSB_SSE_FULL;
        return 1;
    }
    return 0;
}

OSB_API size_t osb_sse_push(osb_sse *s, const void *data, size_t len) {
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    const unsigned char *d = (const unsigned char *)data;
    size_t i = 0;
    if (s->status == OSB_SSE_ERROR) return 0;
    if (s->ended) return osb__sse_fail(s, OSB_ERR_STATE, 0);
    if (s->status == OSB_SSE_EVENT) osb__sse_clear(s);
    s->status = OSB_SSE_MORE;
    if (!d && len) return osb__sse_fail(s, OSB_ERR_INVALID_ARG, 0);
    while (i < len) {
        unsigned c = d[i];
        if (s->bom < 3) {
            if (c == bom[s->bom]) {
                s->bom++;
                i++;
                s->offset++;
                continue;
            }
            if (s->bom != 0) return osb__sse_fail(s, OSB_ERR_PROTOCOL, i);  /* broken BOM */
            s->bom = 3;
        }
        if (s->after_cr) {
            s->after_cr = 0;
            if (c == '\n') {  /* the LF of a CRLF split over two pushes */
                i++;
                s->offset++;
                continue;
            }
        }
        if (c == '\n' || c == '\r') {
            int r = osb__sse_line_end(s);
            if (r == -2) return osb__sse_fail(s, s->err, i);
            if (r == -1) {
                s->status = OSB_SSE_FULL;
                return i;
            }
            s->after_cr = c == '\r';
            i++;
            s->offset++;
            s->line_start = s->offset;
            if (r == 1) {
                s->status = OSB_SSE_EVENT;
                return i;
            }
            continue;
        }
        switch (s->state) {
        case OSB__SL_START:
            s->line_start = s->offset;
            if (c == ':') {
                s->state = OSB__SL_IGNORE;
            } else if (c == '{' || c == '[') {
                osb__sse_mark(s);
                s->has_data = 1;
                s->state = OSB__SL_BARE;
                continue;  /* the brace is data: the BARE case copies it */
            } else {
                s->state = OSB__SL_NAME;
                s->name_len = 0;
                continue;
            }
            break;
        case OSB__SL_NAME:
            if (c == ':') {
                osb__sse_begin_value(s);
                s->state = OSB__SL_SPACE;
            } else {
                if (s->name_len < sizeof s->name) s->name[s->name_len] = (char)c;
                if (s->name_len <= sizeof s->name) s->name_len++;
            }
            break;
        case OSB__SL_SPACE:
            s->state = OSB__SL_VALUE;
            if (c == ' ') break;  /* one space after the colon is not part of the value */
            continue;
        case OSB__SL_VALUE:
            if (s->field == OSB__SF_DATA) {
                if (osb__sse_data_run(s, d, &i, len)) return i;
                continue;
            }
            if (s->field == OSB__SF_EVENT || s->field == OSB__SF_ID) {
                size_t lim = s->field == OSB__SF_EVENT ? OSB_SSE_MAX_TYPE : OSB_SSE_MAX_ID;
                if (s->val_len + 1 >= lim) return osb__sse_fail(s, OSB_ERR_TOO_LARGE, i);
                s->val[s->val_len++] = (char)c;
            } else if (s->field == OSB__SF_RETRY) {
                s->val_len++;
                if (c < '0' || c > '9') s->retry_ok = 0;
                else if (s->retry_acc < INT64_MAX / 10 - 10) s->retry_acc = s->retry_acc * 10 + (c - '0');
                else s->retry_ok = 0;
            }
            break;
        case OSB__SL_BARE:
            if (osb__sse_data_run(s, d, &i, len)) return i;
            continue;
        default: /* OSB__SL_IGNORE: comments and unknown fields */
            {
                size_t end = osb__sse_eol(d, i, len);
                s->offset += end - i;
                i = end;
                continue;
            }
        }
        i++;
        s->offset++;
    }
    return i;
}

OSB_API osb_sse_state osb_sse_finish(osb_sse *s) {
    int r;
    if (s->status == OSB_SSE_ERROR) return OSB_SSE_ERROR;
    if (s->status == OSB_SSE_EVENT) osb__sse_clear(s);
    s->status = OSB_SSE_MORE;
    if (s->ended) return (osb_sse_state)(s->status = OSB_SSE_END);
    if (s->bom > 0 && s->bom < 3) s->bom = 3;  /* a stream of a partial BOM only: nothing */
    if (s->state != OSB__SL_START) {
        /* the last line had no line end: treat the end of input as one */
        r = osb__sse_line_end(s);
        if (r == -2) {
            osb__sse_fail(s, s->err, 0);
            return OSB_SSE_ERROR;
        }
        if (r == -1) return (osb_sse_state)(s->status = OSB_SSE_FULL);
        if (r == 1) {
            s->ended = 1;
            return (osb_sse_state)(s->status = OSB_SSE_EVENT);
        }
    }
    s->ended = 1;
    if (s->has_data) {
        /* data: lines never closed by a blank line */
        osb__sse_fail(s, OSB_ERR_TRUNCATED, 0);
        return OSB_SSE_ERROR;
    }
    return (osb_sse_state)(s->status = OSB_SSE_END);
}

OSB_API int osb_sse_event_get(const osb_sse *s, osb_sse_event *ev) {
    memset(ev, 0, sizeof *ev);
    if (s->status != OSB_SSE_EVENT) return 0;
    ev->data = s->buf;
    ev->data_len = s->len - 1;
    ev->type = s->type;
    ev->type_len = s->type_len;
    ev->id = s->id;
    ev->id_len = s->id_len;
    ev->bare = s->bare;
    ev->offset = s->ev_offset;
    return 1;
}

// >>multipart ----------------------------------------------------------------

enum { OSB__MP_HEAD, OSB__MP_BODY, OSB__MP_BODY_END, OSB__MP_TAIL, OSB__MP_DONE };

/* RFC 2046 boundary characters (bchars without the space). */
OSB__HELPER int osb__mp_bchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c != 0 && strchr("'()+_,-./:=?", c) != NULL);
}

/* Appends text to dst[*n..cap) with '"', CR and LF percent-encoded, as
 * browsers quote form-data names. 0 when it does not fit. */
OSB__HELPER int osb__mp_quoted(char *dst, size_t cap, size_t *n, const char *s) {
    for (; *s; s++) {
        const char *rep = NULL;
        size_t k;
        if (*s == '"') rep = "%22";
        else if (*s == '\r') rep = "%0D";
        else if (*s == '\n') rep = "%0A";
        k = rep ? 3 : 1;
        if (cap - *n < k + 1) return 0;
        memcpy(dst + *n, rep ? rep : s, k);
        *n += k;
    }
    return 1;
}

OSB__HELPER int osb__mp_lit(char *dst, size_t cap, size_t *n, const char *s) {
    size_t k = strlen(s);
    if (cap - *n < k + 1) return 0;
    memcpy(dst + *n, s, k);
    *n += k;
    return 1;
}

/* Renders the head of part i ("--B\r\nheaders\r\n\r\n") into dst. Returns
 * its length, 0 when it does not fit. */
OSB__HELPER size_t osb__mp_head(const osb_multipart *m, size_t i, char *dst, size_t cap) {
    const osb_mpart *p = &m->parts[i];
    size_t n = 0;
    int ok = osb__mp_lit(dst, cap, &n, "--") && osb__mp_lit(dst, cap, &n, m->boundary) &&
             osb__mp_lit(dst, cap, &n, "\r\nContent-Disposition: form-data; name=\"") &&
             osb__mp_quoted(dst, cap, &n, p->name) && osb__mp_lit(dst, cap, &n, "\"");
    if (ok && p->filename)
        ok = osb__mp_lit(dst, cap, &n, "; filename=\"") && osb__mp_quoted(dst, cap, &n, p->filename) &&
             osb__mp_lit(dst, cap, &n, "\"");
    if (ok && p->content_type) {
        /* a header value must not smuggle a line break */
        if (strpbrk(p->content_type, "\r\n")) return 0;
        ok = osb__mp_lit(dst, cap, &n, "\r\nContent-Type: ") && osb__mp_lit(dst, cap, &n, p->content_type);
    }
    if (ok) ok = osb__mp_lit(dst, cap, &n, "\r\n\r\n");
    return ok ? n : 0;
}

OSB_API osb_err osb_multipart_init(osb_multipart *m, const osb_mpart *parts, size_t n,
                                   const char *boundary) {
    size_t i, blen;
    uint64_t total;
    memset(m, 0, sizeof *m);
    m->err = OSB_ERR_INVALID_ARG;
    if (!parts && n) return m->err;
    if (boundary) {
        blen = strlen(boundary);
        if (blen < 1 || blen > 70) return m->err;
        for (i = 0; i < blen; i++)
            if (!osb__mp_bchar(boundary[i])) return m->err;
        memcpy(m->boundary, boundary, blen + 1);
    } else {
        /* No randomness source without I/O or global state: mix what differs
         * between calls (addresses, sizes, the clocks) through splitmix64. */
        uint64_t x = (uint64_t)(uintptr_t)m ^ ((uint64_t)(uintptr_t)parts << 17) ^
                     (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
        char *o = m->boundary;
        int k;
        for (i = 0; i < n; i++) x ^= parts[i].size + (uint64_t)(uintptr_t)parts[i].data + i;
        memcpy(o, "osb-", 4);
        o += 4;
        for (k = 0; k < 2; k++) {
            uint64_t z = (x += 0x9E3779B97F4A7C15ull);
            int d;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            z ^= z >> 31;
            for (d = 0; d < 16; d++) *o++ = "0123456789abcdef"[(z >> (d * 4)) & 15];
        }
        *o = 0;
        blen = 36;
    }
    memcpy(m->content_type, "multipart/form-data; boundary=", 30);
    memcpy(m->content_type + 30, m->boundary, blen + 1);
    total = 0;
    for (i = 0; i < n; i++) {
        size_t h;
        if (!parts[i].name) return m->err;
        if (!parts[i].read && !parts[i].data && parts[i].size) return m->err;
        m->parts = parts;  /* osb__mp_head reads it */
        h = osb__mp_head(m, i, m->head, sizeof m->head);
        if (h == 0) {
            m->err = OSB_ERR_TOO_LARGE;
            if (parts[i].content_type && strpbrk(parts[i].content_type, "\r\n")) m->err = OSB_ERR_INVALID_ARG;
            return m->err;
        }
        if (parts[i].size > UINT64_MAX / 2 - total) return m->err = OSB_ERR_TOO_LARGE;
        total += h + parts[i].size + 2;  /* the body's closing CRLF */
    }
    total += 2 + blen + 4;  /* "--B--\r\n" */
    m->parts = parts;
    m->nparts = n;
    m->total = total;
    m->phase = OSB__MP_TAIL;
    if (n) {
        m->phase = OSB__MP_HEAD;
        m->head_len = osb__mp_head(m, 0, m->head, sizeof m->head);
    } else {
        m->head_len = (size_t)snprintf(m->head, sizeof m->head, "--%s--\r\n", m->boundary);
    }
    m->err = OSB_OK;
    return OSB_OK;
}

OSB_API uint64_t osb_multipart_length(const osb_multipart *m) { return m->total; }
OSB_API const char *osb_multipart_content_type(const osb_multipart *m) { return m->content_type; }

/* Moves to the next part's head, or to the closing delimiter. */
OSB__HELPER void osb__mp_next_part(osb_multipart *m) {
    m->part++;
    m->head_pos = 0;
    m->done_body = 0;
    if (m->part < m->nparts) {
        m->phase = OSB__MP_HEAD;
        m->head_len = osb__mp_head(m, m->part, m->head, sizeof m->head);
    } else {
        m->phase = OSB__MP_TAIL;
        m->head_len = (size_t)snprintf(m->head, sizeof m->head, "--%s--\r\n", m->boundary);
    }
}

OSB_API ptrdiff_t osb_multipart_read(void *user, void *buf, size_t cap) {
    osb_multipart *m = (osb_multipart *)user;
    char *out = (char *)buf;
    size_t n = 0;
    if (m->err) return -1;
    if (cap > (size_t)PTRDIFF_MAX) cap = (size_t)PTRDIFF_MAX;
    while (n < cap && m->phase != OSB__MP_DONE) {
        if (m->phase == OSB__MP_HEAD || m->phase == OSB__MP_TAIL || m->phase == OSB__MP_BODY_END) {
            /* head, tail and the CRLF after a body are all staged in head[] */
            size_t k = OSB__MIN(cap - n, m->head_len - m->head_pos);
            memcpy(out + n, m->head + m->head_pos, k);
            m->head_pos += k;
            n += k;
            if (m->head_pos < m->head_len) break;
            if (m->phase == OSB__MP_HEAD) {
                m->phase = OSB__MP_BODY;
            } else if (m->phase == OSB__MP_BODY_END) {
                osb__mp_next_part(m);
            } else {
                m->phase = OSB__MP_DONE;
            }
            continue;
        }
        /* OSB__MP_BODY */
        {
            const osb_mpart *p = &m->parts[m->part];
            uint64_t left = p->size - m->done_body;
            size_t want = (size_t)OSB__MIN((uint64_t)(cap - n), left);
            if (want) {
                ptrdiff_t got;
                if (p->read) {
                    got = p->read(p->read_user, out + n, want);
                    if (got < 0 || (size_t)got > want) { m->err = OSB_ERR_IO; return -1; }
                    if (got == 0) { m->err = OSB_ERR_IO; return -1; }  /* shorter than its size */
                } else {
                    memcpy(out + n, (const char *)p->data + m->done_body, want);
                    got = (ptrdiff_t)want;
                }
                n += (size_t)got;
                m->done_body += (uint64_t)got;
            }
            if (m->done_body == p->size) {
                m->phase = OSB__MP_BODY_END;
                memcpy(m->head, "\r\n", 2);
                m->head_len = 2;
                m->head_pos = 0;
            }
        }
    }
    m->sent += n;
    return (ptrdiff_t)n;
}

OSB_API osb_err osb_upload_metadata(osb_buf *out, const char *path, const char *owner,
                                    const char *group, int mode) {
    osb_jw w;
    if (!out || !path) return OSB_ERR_INVALID_ARG;
    osb_jw_init(&w, out);
    osb_jw_object(&w);
    osb_jw_key(&w, "path");
    osb_jw_str(&w, path);
    if (owner) {
        osb_jw_key(&w, "owner");
        osb_jw_str(&w, owner);
    }
    if (group) {
        osb_jw_key(&w, "group");
        osb_jw_str(&w, group);
    }
    if (mode) {
        osb_jw_key(&w, "mode");
        osb_jw_int(&w, mode);
    }
    osb_jw_object_end(&w);
    return osb_jw_finish(&w);
}

// >>url ----------------------------------------------------------------------

OSB__HELPER int osb__unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

OSB_API osb_err osb_url_encode(osb_buf *out, const char *s, size_t len) {
    static const char hex[] = "0123456789ABCDEF";
    size_t i, run = 0;
    if (!out || (!s && len)) return OSB_ERR_INVALID_ARG;
    if (osb_buf_reserve(out, len)) return out->failed;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[3];
        if (osb__unreserved(c)) continue;
        if (i > run && osb_buf_append(out, s + run, i - run)) return out->failed;
        esc[0] = '%';
        esc[1] = hex[c >> 4];
        esc[2] = hex[c & 15];
        if (osb_buf_append(out, esc, 3)) return out->failed;
        run = i + 1;
    }
    /* even an empty tail is appended: it leaves out NUL-terminated */
    return osb_buf_append(out, len ? s + run : "", len - run);
}

OSB_API osb_err osb_url_decode(const char *s, size_t len, char *out, size_t cap,
                               size_t *out_len, int form) {
    size_t i, o = 0;
    if ((!s && len) || (!out && cap)) return OSB_ERR_INVALID_ARG;
    for (i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int hi, lo;
            if (len - i < 3) return OSB_ERR_INVALID_ARG;
            hi = osb__json_hexval((unsigned char)s[i + 1]);
            lo = osb__json_hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return OSB_ERR_INVALID_ARG;
            c = (char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        }
        if (o >= cap) return OSB_ERR_TOO_LARGE;
        out[o++] = c;  /* o <= i, so decoding in place is safe */
    }
    if (o < cap) out[o] = 0;
    if (out_len) *out_len = o;
    return OSB_OK;
}

OSB_API osb_err osb_url_query(osb_buf *out, const char *key, const char *value) {
    if (!out || !key) return OSB_ERR_INVALID_ARG;
    if (!value) return OSB_OK;
    if (osb_buf_append(out, out->len && memchr(out->data, '?', out->len) ? "&" : "?", 1)) return out->failed;
    if (osb_url_encode(out, key, strlen(key))) return out->failed;
    if (osb_buf_append(out, "=", 1)) return out->failed;
    return osb_url_encode(out, value, strlen(value));
}

#ifdef __cplusplus
}
#endif
#endif /* OPENSANDBOX_IMPLEMENTATION && !OSB__TOKENS_IMPLEMENTED */
