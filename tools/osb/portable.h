/* portable.h -- what osb needs from POSIX, supplied on Windows (mingw-w64).
 * Included by main.c after the system headers; nothing here on POSIX systems
 * but an empty portable_init().
 *
 * On Windows: signal() stands in for sigaction (Ctrl-C still sets the flags),
 * mkdir takes no mode, the monotonic clock is GetTickCount64, files and the standard streams are binary (uploads and
 * downloads byte-exact, no CR added), and the console prints UTF-8. Colours
 * stay off when stdout is not a console: isatty() is false for a pipe or file. */
#ifndef OSB_PORTABLE_H
#define OSB_PORTABLE_H

#ifdef _WIN32
#include <direct.h>
#include <io.h>

struct sigaction { void (*sa_handler)(int); int sa_mask; int sa_flags; };
#define sigaction(sig, act, old) (signal((sig), (act)->sa_handler) == SIG_ERR ? -1 : 0)
#define sigemptyset(set) (*(set) = 0)
#define mkdir(dir, mode) _mkdir(dir)

/* the monotonic clock (winpthreads' clock_gettime is not linked) */
static int portable_clock(struct timespec *ts) {
    ULONGLONG ms = GetTickCount64();
    ts->tv_sec = (time_t)(ms / 1000);
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
    return 0;
}
#define clock_gettime(clock, ts) portable_clock(ts)

static void portable_init(void) {
    _fmode = _O_BINARY;
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
    _setmode(_fileno(stderr), _O_BINARY);
    SetConsoleOutputCP(CP_UTF8);
}
#else
static void portable_init(void) {}
#endif

#endif
