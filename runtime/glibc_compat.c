/* SPDX-License-Identifier: MIT */
/*
 * glibc_compat.c — dlsym for a runtime that loads on glibc 2.28 (EL8) and
 * later, although built on a newer one (docs/TRANSPARENT.md, "glibc
 * versions"). glibc 2.34 moved dlsym from libdl into libc as GLIBC_2.34,
 * keeping the same function as dlsym@GLIBC_2.2.5. This hidden dlsym, which
 * the runtime's calls bind to, calls that one: on glibc < 2.34 it is found
 * in libdl.so.2, which the runtime therefore needs (runtime/CMakeLists.txt).
 * RTLD_NEXT still means the object after the runtime: glibc's dlsym looks
 * at its caller, here or (a tail call) the runtime's code that called this.
 * (The stat family comes from lib/glibc_compat.c.) On another architecture
 * or an older glibc the file is empty.
 */
#define _GNU_SOURCE
#include <features.h>

#if defined(__x86_64__) && defined(__GLIBC__) && __GLIBC_PREREQ(2, 34)
#include <dlfcn.h>

void *cairn__dlsym_2_2_5(void *handle, const char *name);
__asm__(".symver cairn__dlsym_2_2_5,dlsym@GLIBC_2.2.5");

__attribute__((visibility("hidden"))) void *dlsym(void *restrict handle, const char *restrict name)
{
    return cairn__dlsym_2_2_5(handle, name);
}
#endif
