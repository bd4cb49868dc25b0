/* tools/osb/shell.c -- interactive terminals: `osb sandbox shell ID [-- CMD...]`
 * and `osb command run -it ID -- CMD...`, on execd's PTY sessions (>>pty).
 * Part of osb: built as one translation unit by main.c.
 *
 * On a terminal: the local terminal goes raw (every key, Ctrl-C and Ctrl-D
 * included, goes to the remote program), the window size is sent at the
 * start and on SIGWINCH, and the terminal is restored on every way out (the
 * end of the program, a dropped connection, SIGTERM/SIGHUP/SIGQUIT, a bad
 * frame). osb exits with the remote program's exit code.
 *
 * Without a terminal on stdin (a pipe or a file): the session runs in pipe
 * mode (no terminal in the sandbox, stdout and stderr apart and unchanged)
 * and stdin is streamed to the program. execd has no way to close a
 * program's stdin, so the bytes go framed ("<length>\n" then the bytes, "0\n"
 * at the end) to a small bash loop in the sandbox that unframes them with
 * `head -c` (GNU; `dd bs=1` elsewhere) into a pipe to the program: the
 * program sees end-of-file when our stdin ends. Ctrl-C sends SIGINT to the
 * remote program (a second one leaves at once). */

#ifdef _WIN32
/* Windows (make win): no terminal sessions yet; the commands say so. */
static int shell_session(const char *id, const char *cmd, const char *cwd, const char **envs, int nenv) {
    (void)id, (void)cmd, (void)cwd, (void)envs, (void)nenv;
    return errorf(EX_UNAVAILABLE, "interactive terminals are not available in the Windows build");
}
#else
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>

static struct termios sh_saved;
static int sh_raw;                              /* the local terminal is raw */
static volatile sig_atomic_t sh_winch, sh_quit, sh_int;
static int sh_wake[2] = {-1, -1};               /* the signal handlers write here to end a poll */

static void sh_restore(void) {
    if (sh_raw) {
        tcsetattr(0, TCSADRAIN, &sh_saved);
        sh_raw = 0;
    }
}

static void sh_signal(int sig) {
    int saved = errno;
    char c = (char)sig;
    if (sig == SIGWINCH) sh_winch = 1;
    else if (sig == SIGINT) {
        if (sh_int) {   /* a second Ctrl-C (pipe mode): leave now, terminal first */
            sh_restore();
            _exit(EX_INTERRUPTED);
        }
        sh_int = 1;
    } else sh_quit = sig;
    if (sh_wake[1] >= 0 && write(sh_wake[1], &c, 1) < 0) {}
    errno = saved;
}

static int sh_raw_mode(void) {
    struct termios t;
    if (tcgetattr(0, &sh_saved) != 0) return -1;
    t = sh_saved;
    t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    t.c_oflag &= ~(tcflag_t)OPOST;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    t.c_cflag |= CS8;
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(0, TCSADRAIN, &t) != 0) return -1;   /* keeps what was typed ahead */
    sh_raw = 1;
    atexit(sh_restore);
    return 0;
}

static void sh_winsize(int *cols, int *rows) {
    struct winsize w;
    *cols = *rows = 0;
    if ((ioctl(0, TIOCGWINSZ, &w) == 0 || ioctl(1, TIOCGWINSZ, &w) == 0) && w.ws_col && w.ws_row) {
        *cols = w.ws_col;
        *rows = w.ws_row;
    }
}

/* Writes everything (stdout / stderr); -1 when the reader is gone. */
static int sh_write_all(int fd, const void *p, size_t n) {
    const char *s = (const char *)p;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Prints a message on stderr while the terminal may be raw. */
static void sh_note(const char *fmt, const char *a, const char *b) {
    char line[600];
    int n = osb__fmt(line, sizeof line, fmt, a, b);
    out_flush();
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
    sh_write_all(2, line, (size_t)n);
    sh_write_all(2, sh_raw ? "\r\n" : "\n", sh_raw ? 2 : 1);
}

/* The pipe-mode wrapper around cmd (see the top of this file): this, cmd,
 * then "\n}". */
PACKED_TEXT(TEXT_PIPE_WRAPPER,
    "if head --version 2>/dev/null | grep -q GNU; then __osb_take() { head -c \"$1\"; }; "
    "else __osb_take() { dd bs=1 count=\"$1\" 2>/dev/null; }; fi; "
    "while IFS= read -r __osb_n && [ \"$__osb_n\" -gt 0 ] 2>/dev/null; do __osb_take \"$__osb_n\"; done | { ")

static char *sh_pipe_command(const char *cmd) {
    osb_buf b;
    memset(&b, 0, sizeof b);
    bput(&b, packed_text(TEXT_PIPE_WRAPPER));
    bput(&b, cmd ? cmd : "exec bash --norc --noprofile");
    bput(&b, "\n}");
    return b.data;
}

static osb_err sh_send_framed(osb_pty *p, const char *data, size_t n) {
    char head[32];
    int hl = osb__fmt(head, sizeof head, "%lu\n", (unsigned long)n);
    osb_err e = osb_pty_write(p, head, (size_t)hl);
    if (!e && n) e = osb_pty_write(p, data, n);
    return e;
}

/* Runs one session: cmd NULL = an interactive shell. Returns osb's exit code. */
static int shell_session(const char *id, const char *cmd, const char *cwd, const char **envs, int nenv) {
    osb_pty_request rq;
    osb_pty_attach_options ao;
    osb_pty *p = NULL;
    char sid[OSB_EXEC_ID_MAX];
    char *wrapped = NULL;
    const char **env = NULL;
    int tty = isatty(0), code, i, stdin_open = 1, exit_code = -1, have_exit = 0, ended = 0;
    osb_err e = OSB_OK;
    struct sigaction sa;
    static char buf[16384];

    if ((code = connect_sb(id, 0)) != 0) return code;
    memset(&rq, 0, sizeof rq);
    if (nenv) {
        env = (const char **)xmalloc(sizeof *env * (size_t)(nenv + 1));
        for (i = 0; i < nenv; i++) env[i] = envs[i];
        env[nenv] = NULL;
        rq.envs = env;
    }
    rq.cwd = cwd;
    rq.command = cmd;
    if (!tty) rq.command = wrapped = sh_pipe_command(cmd);
    e = osb_pty_create(CLI, EXECD, &rq, sid, sizeof sid);
    free(env);
    free(wrapped);
    if (e) return report(e, "cannot create a terminal session");

    memset(&ao, 0, sizeof ao);
    ao.pipe_mode = !tty;
    if (tty) sh_winsize(&ao.cols, &ao.rows);
    if (pipe(sh_wake) != 0) return errorf(EX_ERROR, "pipe: %s", sys_text(errno));
    fcntl(sh_wake[0], F_SETFL, O_NONBLOCK);
    fcntl(sh_wake[1], F_SETFL, O_NONBLOCK);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sh_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGWINCH, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    e = osb_pty_attach(CLI, EXECD, sid, &ao, &p);
    if (e) {
        code = report(e, "cannot attach to the terminal session");
        osb_pty_delete(CLI, EXECD, sid);
        return code;
    }
    if (tty && sh_raw_mode() != 0) {
        code = errorf(EX_ERROR, "cannot set the terminal to raw mode: %s", sys_text(errno));
        osb_pty_detach(p);
        osb_pty_delete(CLI, EXECD, sid);
        return code;
    }

    out_flush();   /* what osb printed goes before the session's output */
    while (!ended && !e) {
        struct pollfd fds[3];
        int nf = 0, r;
        osb_pty_event ev;
        if (sh_quit) break;
        if (sh_winch) {
            int cols, rows;
            sh_winch = 0;
            sh_winsize(&cols, &rows);
            if (cols > 0 && (e = osb_pty_resize(p, cols, rows)) != OSB_OK) break;
        }
        if (sh_int == 1) {   /* pipe mode only: with a raw terminal Ctrl-C is a byte */
            sh_int = 2;
            if ((e = osb_pty_signal(p, "SIGINT")) != OSB_OK) break;
        }
        /* everything that is already here, then wait */
        while (!ended && !e) {
            e = osb_pty_read(p, &ev, 0);
            if (e || ev.type == OSB_PTY_NONE) break;
            switch (ev.type) {
            case OSB_PTY_OUTPUT:
            case OSB_PTY_REPLAY:
                if (sh_write_all(1, ev.data, ev.len) != 0) sh_quit = SIGPIPE;
                break;
            case OSB_PTY_STDERR:
                sh_write_all(2, ev.data, ev.len);
                break;
            case OSB_PTY_EXIT:
                have_exit = 1;
                exit_code = ev.exit_code;
                break;
            case OSB_PTY_ERROR:
                if (ev.code.ptr && strcmp(ev.code.ptr, "INVALID_FRAME") != 0)
                    sh_note("osb: execd: %s (%s)", ev.message.ptr ? ev.message.ptr : "", ev.code.ptr);
                break;
            case OSB_PTY_CLOSED:
                ended = 1;
                if (!have_exit) {
                    char num[16];
                    osb__fmt(num, sizeof num, "%d", ev.close_code);
                    sh_restore();
                    sh_note(ev.close_code == 4001 ? "osb: error: another client took the session over (close code %s)%s"
                                                  : "osb: error: the server ended the session (close code %s)%s",
                            num, "");
                    code = EX_SERVER;
                }
                break;
            default:
                break;
            }
            if (sh_quit) break;
        }
        if (e || ended || sh_quit) break;
        fds[nf].fd = osb_pty_fd(p);
        fds[nf].events = POLLIN;
        fds[nf++].revents = 0;
        fds[nf].fd = sh_wake[0];
        fds[nf].events = POLLIN;
        fds[nf++].revents = 0;
        if (stdin_open) {
            fds[nf].fd = 0;
            fds[nf].events = POLLIN;
            fds[nf++].revents = 0;
        }
        if (osb_pty_buffered(p)) continue;
        r = poll(fds, (nfds_t)nf, -1);
        if (r < 0 && errno != EINTR) {
            sh_restore();
            code = errorf(EX_ERROR, "poll: %s", sys_text(errno));
            break;
        }
        if (r <= 0) continue;
        if (fds[1].revents) {
            char drain[16];
            while (read(sh_wake[0], drain, sizeof drain) > 0) {}
        }
        if (stdin_open && fds[2].revents) {
            ssize_t n = read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n > 0) e = tty ? osb_pty_write(p, buf, (size_t)n) : sh_send_framed(p, buf, (size_t)n);
            else {
                stdin_open = 0;   /* end of input: a terminal leaves it to the remote program */
                if (!tty) e = sh_send_framed(p, NULL, 0);
            }
        }
    }
    sh_restore();
    if (e) {
        code = report(e, "the terminal session failed");
    } else if (sh_quit && !ended) {
        if (sh_quit != SIGPIPE)
            out_fmt(1, "%s: %s: leaving the session\n", g_prog,
                    sh_quit == SIGTERM ? "Terminated" : sh_quit == SIGHUP ? "Hangup" : "Quit");
        code = sh_quit == SIGPIPE ? EX_ERROR : 128 + sh_quit;
    } else if (have_exit) {
        code = exit_code < 0 ? 137 : exit_code;
    }
    osb_pty_detach(p);
    osb_pty_delete(CLI, EXECD, sid);   /* the session ends with osb */
    close(sh_wake[0]);
    close(sh_wake[1]);
    sh_wake[0] = sh_wake[1] = -1;
    return code;
}

#endif /* _WIN32 */

/* `sandbox shell ID [-- CMD...]` and `command run -it ID -- CMD...`: the
 * words after -- are quoted and joined as `command run` does (join_rest). */
static int c_sandbox_shell(args *a) {
    const char **envs;
    int nenv, i, code;
    char *cmd = NULL;
    if (a->cmd && strcmp(a->cmd->path, "command run") == 0) {
        if (A(a, "timeout") || A(a, "uid") || A(a, "gid") || AF(a, "background") > 0)
            return usage_error("-i runs on a terminal session: --timeout, --uid, --gid and -d do not apply");
    }
    envs = AM(a, "env", &nenv);
    for (i = 0; i < nenv; i++)
        if (!strchr(envs[i], '=') || envs[i][0] == '=') return usage_error("invalid env '%s' (expected KEY=VALUE)", envs[i]);
    if (a->nrest > 0) cmd = join_rest(a);
    code = shell_session(a->pos[0], cmd, A(a, "workdir"), envs, nenv);
    free(cmd);
    return code;
}
