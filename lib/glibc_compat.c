/* SPDX-License-Identifier: MIT */
/*
 * glibc_compat.c — what lets libcairn.so (and the Python module) built on a
 * new glibc load on glibc 2.28 (EL8) and later; docs/TRANSPARENT.md,
 * "glibc versions". Linked into those shared objects only, never into
 * libcairn.a: a static link against libc.a has no versioned symbols.
 *
 * Hidden definitions of the few libc functions whose version went up after
 * 2.28; libcairn's calls bind to them inside the shared object, so they need
 * no newer GLIBC_ version:
 *   stat, lstat, fstat, fstatat  GLIBC_2.33 (before, inline wrappers of
 *                                __xstat): here the system calls, whose
 *                                struct stat is glibc's on x86_64
 *   pthread_create, pthread_join GLIBC_2.34, pthread_sigmask GLIBC_2.32
 *                                (moved from libpthread into libc): here
 *                                the same functions under their first
 *                                version, GLIBC_2.2.5, which libc still
 *                                exports; on glibc < 2.34 they are found
 *                                in libpthread.so.0, which the objects
 *                                linking this file need (lib/CMakeLists.txt)
 * The runtime links the stat part only (CAIRN_GLIBC_COMPAT_STAT_ONLY, for
 * what libsodium.a calls in the bundle): it defines its own pthread_sigmask
 * and needs no thread of libcairn's. On another architecture or an older
 * glibc the file is empty.
 */
#define _GNU_SOURCE
#include <features.h>

#if defined(__x86_64__) && defined(__GLIBC__)
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HIDDEN __attribute__((visibility("hidden")))

#if __GLIBC_PREREQ(2, 33)
/* The system calls. */
HIDDEN int fstatat(int dirfd, const char *restrict path, struct stat *restrict st, int flags)
{
    return (int)syscall(SYS_newfstatat, dirfd, path, st, flags);
}

HIDDEN int stat(const char *restrict path, struct stat *restrict st)
{
    return fstatat(AT_FDCWD, path, st, 0);
}

HIDDEN int lstat(const char *restrict path, struct stat *restrict st)
{
    return fstatat(AT_FDCWD, path, st, AT_SYMLINK_NOFOLLOW);
}

HIDDEN int fstat(int fd, struct stat *st)
{
    return (int)syscall(SYS_fstat, fd, st);
}
#endif

/* The functions under their GLIBC_2.2.5 names (same code as the new ones). */
#ifndef CAIRN_GLIBC_COMPAT_STAT_ONLY
#if __GLIBC_PREREQ(2, 34)
typedef void *(*thread_fn)(void *);
int cairn__pthread_create_2_2_5(pthread_t *, const pthread_attr_t *, thread_fn, void *);
int cairn__pthread_join_2_2_5(pthread_t, void **);
__asm__(".symver cairn__pthread_create_2_2_5,pthread_create@GLIBC_2.2.5");
__asm__(".symver cairn__pthread_join_2_2_5,pthread_join@GLIBC_2.2.5");

HIDDEN int pthread_create(pthread_t *restrict t, const pthread_attr_t *restrict attr, thread_fn fn,
                          void *restrict arg)
{
    return cairn__pthread_create_2_2_5(t, attr, fn, arg);
}

HIDDEN int pthread_join(pthread_t t, void **ret)
{
    return cairn__pthread_join_2_2_5(t, ret);
}
#endif

#if __GLIBC_PREREQ(2, 32)
int cairn__pthread_sigmask_2_2_5(int, const sigset_t *, sigset_t *);
__asm__(".symver cairn__pthread_sigmask_2_2_5,pthread_sigmask@GLIBC_2.2.5");

HIDDEN int pthread_sigmask(int how, const sigset_t *restrict set, sigset_t *restrict old)
{
    return cairn__pthread_sigmask_2_2_5(how, set, old);
}
#endif
#endif
#endif
