/* musl_fortify_shim.c -- build-only helper for static musl builds with TLS.
 *
 * Debian's libbearssl.a was compiled with _FORTIFY_SOURCE, so its objects call
 * glibc's checked copies (__memcpy_chk, __memmove_chk, __memset_chk). musl has
 * no such symbols and the static link fails without them. These versions do
 * what glibc's do: check the destination size the compiler passed, abort on
 * overflow, else call the plain function. Linked only by `make static`; never
 * part of opensandbox.h. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t len, size_t dstlen);

void *__memcpy_chk(void *dst, const void *src, size_t len, size_t dstlen) {
    if (len > dstlen) abort();
    return memcpy(dst, src, len);
}

void *__memmove_chk(void *dst, const void *src, size_t len, size_t dstlen) {
    if (len > dstlen) abort();
    return memmove(dst, src, len);
}

void *__memset_chk(void *dst, int c, size_t len, size_t dstlen) {
    if (len > dstlen) abort();
    return memset(dst, c, len);
}
