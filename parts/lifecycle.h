/* parts/lifecycle.h -- merged into opensandbox.h: declarations at >>lifecycle, implementation at >>impl-lifecycle */
#ifndef OSB__LIFECYCLE_DECLARED
#define OSB__LIFECYCLE_DECLARED
#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* OSB__LIFECYCLE_DECLARED */

#if defined(OPENSANDBOX_IMPLEMENTATION) && defined(OSB__IMPLEMENTED) && !defined(OSB__LIFECYCLE_IMPLEMENTED)
#define OSB__LIFECYCLE_IMPLEMENTED

#endif
