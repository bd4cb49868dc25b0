/* Taking the OS's random sources away from a child process, to see how the
 * library fails without them (Linux only).
 *
 * without_os_random(block_getrandom, empty_urandom, fn) runs fn in a child:
 * - block_getrandom: getrandom(2) answers ENOSYS (a seccomp filter), as on
 *   an old kernel or in a sandbox that refuses the call;
 * - empty_urandom: /dev/urandom is /dev/null, bound over it in a private
 *   mount namespace (of a new user namespace): reading it gives an end of
 *   file at once, as a broken or missing device would.
 * It returns fn's result (0: what fn checked held), or -1 when this system
 * cannot set that up (no user namespaces, seccomp refused: under qemu-user
 * for instance). */
#ifndef OSB_TEST_NO_RANDOM_H
#define OSB_TEST_NO_RANDOM_H
#if defined(__linux__)
#include <stddef.h>
#include <unistd.h>
#include <sys/wait.h>
/* the kernel's headers (a musl cross toolchain may have none: then every
   such test is skipped) */
#if defined(__has_include)
#  if __has_include(<linux/seccomp.h>) && __has_include(<linux/filter.h>) && __has_include(<linux/sched.h>)
#    define NO_RANDOM_KERNEL_HEADERS 1
#  endif
#endif
#if defined(NO_RANDOM_KERNEL_HEADERS)
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#endif

#define NO_RANDOM_SETUP_FAILED 77

static int no_random_block_getrandom(void) {
#if defined(NO_RANDOM_KERNEL_HEADERS) && defined(__NR_getrandom)
    struct sock_filter f[4];
    struct sock_fprog prog;
    struct sock_filter load = BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    struct sock_filter is = BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_getrandom, 0, 1);
    struct sock_filter refuse = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[0] = load;
    f[1] = is;
    f[2] = refuse;
    f[3] = allow;
    prog.len = 4;
    prog.filter = f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 0;
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) return 0;
    /* the filter must really be there: a qemu-user may accept and ignore it */
    return syscall(__NR_getrandom, f, 1, 0) == -1 && errno == ENOSYS;
#else
    return 0;
#endif
}

static int no_random_empty_urandom(void) {
#if defined(NO_RANDOM_KERNEL_HEADERS)
    char b;
    int fd;
    if (syscall(SYS_unshare, CLONE_NEWUSER | CLONE_NEWNS) != 0) return 0;   /* unshare(2) wants _GNU_SOURCE */
    /* the kernel ignores the source and type of these two; "none" rather
       than NULL, which valgrind reports as an unaddressable argument */
    if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) != 0) return 0;
    if (mount("/dev/null", "/dev/urandom", "none", MS_BIND, NULL) != 0) return 0;
    fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0) return 0;
    b = 0;
    if (read(fd, &b, 1) != 0) {
        close(fd);
        return 0;
    }
    close(fd);
    return 1;
#else
    return 0;
#endif
}

static int without_os_random(int block_getrandom, int empty_urandom, int (*fn)(void)) {
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        /* the mount namespace first: seccomp comes last, on a process that
           has everything it needs */
        if (empty_urandom && !no_random_empty_urandom()) _exit(NO_RANDOM_SETUP_FAILED);
        if (block_getrandom && !no_random_block_getrandom()) _exit(NO_RANDOM_SETUP_FAILED);
        _exit(fn() ? 1 : 0);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return 1;
    if (WEXITSTATUS(status) == NO_RANDOM_SETUP_FAILED) return -1;
    return WEXITSTATUS(status);
}
#endif
#endif
