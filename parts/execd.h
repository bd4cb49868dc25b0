/* parts/execd.h -- merged into opensandbox.h: declarations at >>execd, implementation at >>impl-execd */
#ifndef OSB__EXECD_DECLARED
#define OSB__EXECD_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* OSB__EXECD_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__EXECD_IMPLEMENTED)
#define OSB__EXECD_IMPLEMENTED

#endif
