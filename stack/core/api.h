/*
 * api.h - what marks the public API of the tapstack library, and its version.
 *
 * The library is compiled with -fvisibility=hidden: a function is part of the installed
 * libraries (build/lib/libtapstack.so and .a, see mk/install.mk) only when its declaration
 * carries TS_API, and every such name starts with ts_ or tapstack_ (tests/net/test_install.sh
 * checks this with nm). Everything else links inside the tree (tests, the program) and is
 * local in what is installed, so a user's own timer_init or pbuf_alloc never collides.
 *
 * The public headers wrap their declarations in TS_EXTERN_C_BEGIN/END so C++ programs link.
 */
#ifndef TAPSTACK_CORE_API_H
#define TAPSTACK_CORE_API_H

/* Major.minor.patch; the shared library's soname carries the major (mk/install.mk reads it here). */
#define TAPSTACK_VERSION "0.1.0"

#define TS_API __attribute__((visibility("default")))

#ifdef __cplusplus
#define TS_EXTERN_C_BEGIN extern "C" {
#define TS_EXTERN_C_END }
#else
#define TS_EXTERN_C_BEGIN
#define TS_EXTERN_C_END
#endif

#endif
