/* bench/sink.c -- the upload sink of W4: a small HTTP/1.1 server that takes
 * execd's POST .../files/upload and throws the body away, so that W4 measures
 * the clients and not the server.
 *
 *   sink PORT LOG       listen on 127.0.0.1:PORT; one line per upload in LOG
 *
 * Every client of W4 goes to this same server in the same run. Per
 * connection (one thread each): the request head is read; the body, framed by
 * Content-Length or chunked, is received and dropped -- on Linux with
 * recv(MSG_TRUNC), which discards TCP data without copying it to this
 * process, so the server side costs next to nothing and costs the same
 * whatever the client sent. Only the first 4 KiB of a body and its last 256
 * bytes are read for real: they prove the multipart shape. The reply is what
 * execd sends for an upload: 200 with an empty body. "Expect: 100-continue"
 * (libcurl, the curl CLI) is answered at once. Any other GET (the JS SDK's
 * /ping) gets 200 and an empty body too; anything else 404.
 *
 * The log line of an upload: "BODY FILE ok" -- BODY the bytes received as
 * the request body, FILE the bytes of the part named "file" (the body less
 * its multipart heads and closing delimiter) -- or "BODY FILE bad: reason".
 * bench/run.py checks that every W4 run has its line with FILE equal to the
 * size uploaded. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#ifndef MSG_TRUNC
#  define MSG_TRUNC 0
#endif
#if defined(__linux__)
#  define DISCARD_FLAGS MSG_TRUNC   /* TCP: drop the bytes, no copy */
#else
#  define DISCARD_FLAGS 0
#endif

enum { BUF = 64 * 1024, FIRSTW = 4096, TAILW = 256 };

static int LOG_FD = -1;

typedef struct conn {
    int fd;
    size_t pos, end;          /* unread bytes are buf[pos..end) */
    char buf[BUF];
    /* the body being received */
    uint64_t count;
    size_t first_len, tail_len;
    char first[FIRSTW], tail[TAILW];
} conn;

/* Receives more into the buffer (compacted first). 0 at EOF or on an error. */
static int fill(conn *c) {
    ssize_t n;
    if (c->pos == c->end) c->pos = c->end = 0;
    if (c->end == sizeof c->buf) {
        memmove(c->buf, c->buf + c->pos, c->end - c->pos);
        c->end -= c->pos;
        c->pos = 0;
        if (c->end == sizeof c->buf) return 0;   /* a line longer than the buffer */
    }
    do n = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, 0);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return 0;
    c->end += (size_t)n;
    return 1;
}

/* Body bytes that were read: keeps the first FIRSTW and the last TAILW. */
static void feed(conn *c, const char *p, size_t n) {
    size_t k = FIRSTW - c->first_len;
    if (k > n) k = n;
    memcpy(c->first + c->first_len, p, k);
    c->first_len += k;
    c->count += n;
    if (n >= TAILW) {
        memcpy(c->tail, p + n - TAILW, TAILW);
        c->tail_len = TAILW;
    } else {
        size_t keep = TAILW - n < c->tail_len ? TAILW - n : c->tail_len;
        memmove(c->tail, c->tail + c->tail_len - keep, keep);
        memcpy(c->tail + keep, p, n);
        c->tail_len = keep + n;
    }
}

/* Takes n body bytes: first what is buffered, then from the socket. Once the
 * first window is full, all but the last TAILW bytes are dropped in the
 * kernel; those last ones are read (never past n: the next request may
 * follow). 0 when the connection ends first. */
static int take(conn *c, uint64_t n) {
    while (n > 0) {
        ssize_t r;
        if (c->pos < c->end) {
            size_t k = c->end - c->pos;
            if (k > n) k = (size_t)n;
            feed(c, c->buf + c->pos, k);
            c->pos += k;
            n -= k;
            continue;
        }
        c->pos = c->end = 0;
        if (DISCARD_FLAGS && c->first_len == FIRSTW && n > TAILW) {
            uint64_t want = n - TAILW;
            if (want > (1u << 30)) want = 1u << 30;
            do r = recv(c->fd, c->buf, (size_t)want, DISCARD_FLAGS);
            while (r < 0 && errno == EINTR);
            if (r <= 0) return 0;
            c->count += (uint64_t)r;
            c->tail_len = 0;   /* the last TAILW bytes are read below */
            n -= (uint64_t)r;
            continue;
        }
        do r = recv(c->fd, c->buf, n < sizeof c->buf ? (size_t)n : sizeof c->buf, 0);
        while (r < 0 && errno == EINTR);
        if (r <= 0) return 0;
        c->end = (size_t)r;
    }
    return 1;
}

/* The next line (without CRLF) from the buffer, NUL-terminated in place. */
static char *line(conn *c) {
    for (;;) {
        char *s = c->buf + c->pos;
        char *nl = memchr(s, '\n', c->end - c->pos);
        if (nl) {
            c->pos = (size_t)(nl + 1 - c->buf);
            if (nl > s && nl[-1] == '\r') nl--;
            *nl = 0;
            return s;
        }
        if (!fill(c)) return NULL;
    }
}

/* A chunked body; 0 on bad framing or an early end. */
static int take_chunked(conn *c) {
    for (;;) {
        char *s = line(c), *end;
        unsigned long long n;
        if (!s) return 0;
        errno = 0;
        n = strtoull(s, &end, 16);
        if (end == s || errno || (*end && *end != ';')) return 0;
        if (n == 0) {
            for (;;) {   /* trailer fields up to the empty line */
                s = line(c);
                if (!s) return 0;
                if (!*s) return 1;
            }
        }
        if (!take(c, n)) return 0;
        s = line(c);
        if (!s || *s) return 0;
    }
}

static const char *find(const char *h, size_t hn, const char *needle) {
    return (const char *)memmem(h, hn, needle, strlen(needle));
}

/* The multipart check of an upload body: "--B\r\n" first, the part named
 * "file" in the first window, the closing "\r\n--B--\r\n" last. Writes the
 * size of the file part into *file. NULL when fine, else why not. */
static const char *check_multipart(const conn *c, const char *boundary, uint64_t *file) {
    char open[96], close[100];
    const char *p, *data;
    size_t ol, cl;
    *file = 0;
    if (!*boundary || strlen(boundary) > 70) return "no multipart boundary";
    ol = (size_t)snprintf(open, sizeof open, "--%s\r\n", boundary);
    cl = (size_t)snprintf(close, sizeof close, "\r\n--%s--\r\n", boundary);
    if (c->first_len < ol || memcmp(c->first, open, ol) != 0) return "the body does not start with the boundary";
    p = find(c->first, c->first_len, "name=\"file\"");
    if (!p) return "no part named file in the first 4 KiB";
    data = find(p, (size_t)(c->first + c->first_len - p), "\r\n\r\n");
    if (!data) return "the file part's head does not end in the first 4 KiB";
    data += 4;
    if (c->tail_len < cl || memcmp(c->tail + c->tail_len - cl, close, cl) != 0)
        return "the body does not end with the closing delimiter";
    if (c->count < (uint64_t)(data - c->first) + cl) return "the body is shorter than its heads";
    *file = c->count - (uint64_t)(data - c->first) - cl;
    return NULL;
}

static void log_upload(uint64_t body, uint64_t file, const char *bad) {
    char ln[200];
    int n = snprintf(ln, sizeof ln, "%llu %llu %s%s\n", (unsigned long long)body, (unsigned long long)file,
                     bad ? "bad: " : "ok", bad ? bad : "");
    if (n > 0 && write(LOG_FD, ln, (size_t)n) < 0) perror("sink: log");
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return 0;
        p += k;
        n -= (size_t)k;
    }
    return 1;
}

/* The value of header name in the head's lines (NUL-separated), or NULL. */
static const char *header(char **lines, int n, const char *name) {
    size_t k = strlen(name);
    int i;
    for (i = 0; i < n; i++)
        if (strncasecmp(lines[i], name, k) == 0 && lines[i][k] == ':') {
            const char *v = lines[i] + k + 1;
            while (*v == ' ' || *v == '\t') v++;
            return v;
        }
    return NULL;
}

/* Waits until the whole request head is in the buffer (its lines are then
 * parsed in place, and stay put until the body is read). */
static int head_in(conn *c) {
    for (;;) {
        if (find(c->buf + c->pos, c->end - c->pos, "\r\n\r\n")) return 1;
        if (!fill(c)) return 0;
    }
}

/* One request; 0 ends the connection. */
static int serve_one(conn *c) {
    char *lines[64], *req, *target, *sp;
    const char *v, *reply;
    char boundary[80] = "";
    int n = 0, chunked = 0, is_upload, is_get, keep = 1;
    uint64_t len = 0;
    if (!head_in(c) || !(req = line(c)) || !*req) return 0;
    for (;;) {
        char *s = line(c);
        if (!s) return 0;
        if (!*s) break;
        if (n < 64) lines[n++] = s;
    }
    sp = strchr(req, ' ');
    if (!sp) return 0;
    *sp = 0;
    target = sp + 1;
    if ((sp = strchr(target, ' ')) != NULL) *sp = 0;
    if ((v = header(lines, n, "Content-Length")) != NULL) len = strtoull(v, NULL, 10);
    if ((v = header(lines, n, "Transfer-Encoding")) != NULL) chunked = strstr(v, "chunked") != NULL;
    if ((v = header(lines, n, "Connection")) != NULL && strncasecmp(v, "close", 5) == 0) keep = 0;
    if ((v = header(lines, n, "Content-Type")) != NULL && (v = strstr(v, "boundary=")) != NULL) {
        size_t k = 0;
        v += 9;
        if (*v == '"') v++;
        while (v[k] && v[k] != '"' && v[k] != ';' && v[k] != ' ' && k < sizeof boundary - 1) k++;
        memcpy(boundary, v, k);
        boundary[k] = 0;
    }
    if ((v = header(lines, n, "Expect")) != NULL && strncasecmp(v, "100-continue", 12) == 0 &&
        !send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25))
        return 0;
    is_upload = strcmp(req, "POST") == 0 && (sp = strstr(target, "/files/upload")) != NULL &&
                (sp[13] == 0 || sp[13] == '?');
    is_get = strcmp(req, "GET") == 0;   /* the body may overwrite the head's lines */
    c->count = 0;
    c->first_len = c->tail_len = 0;
    if (!(chunked ? take_chunked(c) : take(c, len))) {
        if (is_upload) log_upload(c->count, 0, "the connection ended inside the body");
        return 0;
    }
    if (is_upload) {
        uint64_t file;
        const char *bad = check_multipart(c, boundary, &file);
        log_upload(c->count, file, bad);
        reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    } else if (is_get) {
        reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n";
    } else {
        reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
    }
    return send_all(c->fd, reply, strlen(reply)) && keep;
}

static void *serve(void *arg) {
    conn *c = (conn *)arg;
    while (serve_one(c)) {}
    close(c->fd);
    free(c);
    return NULL;
}

int main(int argc, char **argv) {
    struct sockaddr_in a;
    int ls, one = 1;
    if (argc != 3) {
        fprintf(stderr, "usage: sink PORT LOG\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    LOG_FD = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (LOG_FD < 0) {
        perror(argv[2]);
        return 1;
    }
    ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 128) != 0) {
        perror("sink: listen");
        return 1;
    }
    for (;;) {
        pthread_t t;
        pthread_attr_t at;
        conn *c;
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            perror("sink: accept");
            return 1;
        }
        c = (conn *)calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        c->fd = fd;
        pthread_attr_init(&at);
        pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &at, serve, c) != 0) {
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&at);
    }
}
