/* SPDX-License-Identifier: MIT */
/*
 * rlib.c — see rlib.h. The compiler may emit calls to memcpy and memset
 * itself, so they carry their standard names.
 */
#include <stdarg.h>

#include "rlib.h"
#include "sys_x86_64.h"

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int r_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

int r_startswith(const char *s, const char *prefix)
{
    while (*prefix)
        if (*s++ != *prefix++)
            return 0;
    return 1;
}

static size_t append(char *buf, size_t n, size_t cap, const char *s)
{
    while (*s && n < cap)
        buf[n++] = *s++;
    return n;
}

void r_say(const char *first, ...)
{
    char buf[1024];
    size_t n = append(buf, 0, sizeof buf - 1, "cairn-restore: ");
    va_list ap;
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        n = append(buf, n, sizeof buf - 1, s);
    va_end(ap);
    buf[n++] = '\n';
    sys3(NR_write, 2, buf, n);
}

const char *r_dec(char *buf, uint64_t v)
{
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return buf + i;
}

const char *r_hex(char *buf, uint64_t v)
{
    int i = 23;
    buf[i] = 0;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    buf[--i] = 'x';
    buf[--i] = '0';
    return buf + i;
}

uint64_t r_parse_hex(const char **p)
{
    uint64_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        if (c >= '0' && c <= '9')
            v = v * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v * 16 + (uint64_t)(c - 'a' + 10);
        else
            return v;
    }
}

long r_parse_dec(const char *s)
{
    long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v;
}

long r_pread_all(int fd, void *buf, uint64_t len, uint64_t off)
{
    unsigned char *p = buf;
    while (len > 0) {
        uint64_t chunk = len > (1u << 30) ? (1u << 30) : len;
        long n = sys4(NR_pread64, fd, p, chunk, off);
        if (n == -4) /* EINTR */
            continue;
        if (n < 0)
            return n;
        if (n == 0)
            return -5; /* EIO: the image is shorter than its index says */
        p += n;
        off += (uint64_t)n;
        len -= (uint64_t)n;
    }
    return 0;
}

void (*r_exit_hook)(int status);

void r_exit(int status)
{
    void (*hook)(int) = r_exit_hook;
    r_exit_hook = 0;
    if (hook)
        hook(status);
    for (;;)
        sys1(NR_exit_group, status);
}

void r_fail(const char *what, long err)
{
    char a[24];
    r_say("restore failed: ", what, " (errno ", r_dec(a, (uint64_t)-err), ")", (char *)0);
    r_exit(R_EXIT_FAILED);
}
