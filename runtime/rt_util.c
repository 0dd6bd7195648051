/* SPDX-License-Identifier: MIT */
/*
 * rt_util.c — small async-signal-safe string and file helpers for the
 * checkpoint handler, which may not call stdio or malloc.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"

void rt_cat(char *buf, size_t cap, const char *s)
{
    size_t n = rt_strlen(buf);
    while (*s && n + 1 < cap)
        buf[n++] = *s++;
    buf[n] = 0;
}

void rt_cat_u64(char *buf, size_t cap, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rt_cat(buf, cap, tmp + i);
}

void rt_cat_hex(char *buf, size_t cap, uint64_t v)
{
    char tmp[24];
    int i = 23;
    tmp[i] = 0;
    do {
        tmp[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    rt_cat(buf, cap, "0x");
    rt_cat(buf, cap, tmp + i);
}

long rt_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = 0;
    return (long)n;
}

uint64_t rt_parse_hex(const char **p)
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

uint64_t rt_parse_dec(const char **p)
{
    uint64_t v = 0;
    while (**p >= '0' && **p <= '9')
        v = v * 10 + (uint64_t)(*(*p)++ - '0');
    return v;
}

int rt_refuse_num(struct rt_state *st, const char *a, uint64_t num, const char *b)
{
    st->why[0] = 0;
    rt_cat(st->why, sizeof st->why, a);
    rt_cat_u64(st->why, sizeof st->why, num);
    rt_cat(st->why, sizeof st->why, b);
    return -1;
}
