/* testproc.h -- start a helper server for a test and stop it again.
 *
 * testproc_start(&p, argv) runs argv with "--ready-file F" appended, waits
 * (at most 20 s) until F exists, and returns its contents (a port, or a JSON
 * line) in p.ready. testproc_stop(&p) sends SIGTERM to that pid only.
 * testproc_capture(cmd, out, cap) runs a shell command and keeps its output. */
#ifndef TESTPROC_H
#define TESTPROC_H
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* a suite may use only some of these */
#define TESTPROC_FN static __attribute__((unused))

TESTPROC_FN void testproc_sleep_ms(long ms) {
    struct timespec ts;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
}

typedef struct testproc {
    pid_t pid;
    char ready_file[256];
    char ready[512];
} testproc;

TESTPROC_FN int testproc_start(testproc *p, const char *const *argv) {
    const char *args[64];
    int n = 0, i;
    FILE *f;
    memset(p, 0, sizeof *p);
    snprintf(p->ready_file, sizeof p->ready_file, "/tmp/osb-test-ready-%ld-%ld",
             (long)getpid(), (long)time(NULL) ^ (long)(size_t)p);
    unlink(p->ready_file);
    while (argv[n] && n < 60) { args[n] = argv[n]; n++; }
    args[n++] = "--ready-file";
    args[n++] = p->ready_file;
    args[n] = NULL;
    p->pid = fork();
    if (p->pid < 0) return -1;
    if (p->pid == 0) {
        FILE *devnull = fopen("/dev/null", "w");
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive a crashed test */
#endif
        if (devnull) dup2(fileno(devnull), 1);
        execvp(args[0], (char *const *)args);
        _exit(127);
    }
    for (i = 0; i < 2000; i++) {  /* up to 20 s */
        int st;
        f = fopen(p->ready_file, "r");
        if (f) {
            size_t got = fread(p->ready, 1, sizeof p->ready - 1, f);
            fclose(f);
            p->ready[got] = 0;
            if (got) return 0;
        }
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) { p->pid = 0; return -1; }
        testproc_sleep_ms(10);
    }
    return -1;
}

/* Runs cmd through the shell and keeps its output (stdout, and stderr if
 * the command redirects it) in out[0..cap), NUL-terminated. Returns the
 * pclose status, -1 when it could not start. */
TESTPROC_FN int testproc_capture(const char *cmd, char *out, size_t cap) {
    FILE *f = popen(cmd, "r");
    size_t n = 0;
    if (!f) return -1;
    while (n + 1 < cap) {
        size_t got = fread(out + n, 1, cap - 1 - n, f);
        if (got == 0) break;
        n += got;
    }
    out[n] = 0;
    return pclose(f);
}

TESTPROC_FN void testproc_stop(testproc *p) {
    if (p->pid > 0) {
        int st, i;
        kill(p->pid, SIGTERM);
        for (i = 0; i < 500; i++) {
            if (waitpid(p->pid, &st, WNOHANG) == p->pid) break;
            testproc_sleep_ms(10);
        }
        if (i == 500) { kill(p->pid, SIGKILL); waitpid(p->pid, &st, 0); }
        p->pid = 0;
    }
    unlink(p->ready_file);
}
#endif
