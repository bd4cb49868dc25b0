/* size_malloc.c -- a small allocator for `make size` (mk/size.mk), linked in
 * place of musl's (mallocng: about 9 KB of a static binary; this: under 1 KB).
 * musl lets a static program bring its own malloc, free, calloc and realloc.
 *
 * A short-lived client asks for few sizes and little memory, so: blocks of
 * 32 B to 64 KiB in power-of-two classes, carved from 64 KiB mappings and
 * kept on a free list per class for reuse (never given back to the system);
 * larger blocks are mappings of their own, unmapped when freed. Each block
 * starts with a 16-byte header (its class, or the mapping's length, then the
 * free-list link), so what it returns keeps malloc's 16-byte alignment. One
 * spinlock: the edge profile has no threads, getaddrinfo's resolver thread
 * (SIZE_PROFILE=) is the only other caller. Never part of opensandbox.h. */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#define HDR 16                                  /* header bytes */
#define NCLASS 12                               /* 32 B << 0 .. 11 */
#define LARGEST ((size_t)32 << (NCLASS - 1))    /* 64 KiB, the mapping size too */

static size_t *free_list[NCLASS];
static char *carve, *carve_end;                 /* the unused part of the last mapping */
static volatile int busy;

static void lock(void) { while (__atomic_exchange_n(&busy, 1, __ATOMIC_ACQUIRE)) {} }
static void unlock(void) { __atomic_store_n(&busy, 0, __ATOMIC_RELEASE); }

static void *map(size_t len) {
    void *m = mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

void *malloc(size_t n) {
    size_t *h, c = 0;
    if (n > LARGEST - HDR) {
        size_t len = (n + HDR + 4095) & ~(size_t)4095;
        if (len < n || !(h = (size_t *)map(len))) return NULL;
        h[0] = len;                             /* >= NCLASS: a mapping of its own */
        return h + 2;
    }
    while (((size_t)32 << c) < n + HDR) c++;
    lock();
    if ((h = free_list[c]) != NULL) {
        free_list[c] = (size_t *)h[1];
    } else {
        size_t size = (size_t)32 << c;
        if ((size_t)(carve_end - carve) < size) {
            char *m = (char *)map(LARGEST);
            if (!m) {
                unlock();
                return NULL;
            }
            carve = m;
            carve_end = m + LARGEST;
        }
        h = (size_t *)carve;
        carve += size;
    }
    unlock();
    h[0] = c;
    return h + 2;
}

void free(void *p) {
    size_t *h;
    if (!p) return;
    h = (size_t *)p - 2;
    if (h[0] >= NCLASS) {
        munmap(h, h[0]);
        return;
    }
    lock();
    h[1] = (size_t)free_list[h[0]];
    free_list[h[0]] = h;
    unlock();
}

void *calloc(size_t count, size_t size) {
    void *p;
    if (size && count > (size_t)-1 / size) return NULL;
    if ((p = malloc(count * size)) != NULL) memset(p, 0, count * size);
    return p;
}

/* In place while the block holds n and is not four times too large. */
void *realloc(void *p, size_t n) {
    size_t *h, room;
    void *q;
    if (!p) return malloc(n);
    h = (size_t *)p - 2;
    room = (h[0] < NCLASS ? (size_t)32 << h[0] : h[0]) - HDR;
    if (n <= room && n > room / 4) return p;
    if (!(q = malloc(n))) return NULL;
    memcpy(q, p, n < room ? n : room);
    free(p);
    return q;
}
