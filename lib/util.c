/* SPDX-License-Identifier: MIT */
/* util.c — logging, error strings and full-length I/O. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cairn.h"
#include "internal.h"

void cairn__log(int verbosity, int level, const char *fmt, ...)
{
    if (level > verbosity)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One write() per line, so lines of concurrent jobs sharing a log do not
       interleave mid-line. */
    char out[1100];
    int n = snprintf(out, sizeof out, "cairn: %s\n", line);
    if (n > (int)sizeof out - 1)
        n = (int)sizeof out - 1;
    if (cairn__write_all(STDERR_FILENO, out, (size_t)n) < 0) {
        /* Nothing sensible to do if stderr is gone. */
    }
}

void cairn__say(char *buf, size_t len, const char *fmt, ...)
{
    if (!buf || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

const char *cairn_strerror(int err)
{
    switch (err) {
#define CAIRN_ERR_CASE_(name, value, text) \
    case value:                            \
        return text;
        CAIRN_ERRNO_MAP(CAIRN_ERR_CASE_)
#undef CAIRN_ERR_CASE_
    case 0:
        return "success";
    default:
        break;
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown error";
}

unsigned cairn_version(void)
{
    return CAIRN_VERSION_NUMBER;
}

const char *cairn_version_string(void)
{
    return CAIRN_VERSION_STRING;
}

int cairn__write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int cairn__pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int cairn__pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return CAIRN_ETRUNCATED;
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}
