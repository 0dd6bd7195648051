/* SPDX-License-Identifier: MIT */
/*
 * format.c — output helpers: sizes and times for people, and a small JSON
 * writer for programs. The JSON writer pretty-prints with two-space indents
 * and places commas itself, so callers only say what goes where.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void fmt_size(char *buf, size_t len, uint64_t bytes)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes < 1024) {
        snprintf(buf, len, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes / 1024;
    unsigned u = 0;
    while (v >= 1024 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024;
        u++;
    }
    snprintf(buf, len, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void fmt_time(char *buf, size_t len, uint64_t ns)
{
    time_t t = (time_t)(ns / 1000000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "?");
}

void fmt_age(char *buf, size_t len, double s)
{
    if (!(s >= 0)) {
        snprintf(buf, len, "-");
        return;
    }
    uint64_t n = (uint64_t)s;
    if (n < 60)
        snprintf(buf, len, "%" PRIu64 "s", n);
    else if (n < 3600)
        snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", n / 60, n % 60);
    else if (n < 86400)
        snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", n / 3600, n % 3600 / 60);
    else
        snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", n / 86400, n % 86400 / 3600);
}

void fmt_version(char *buf, size_t len, uint32_t v)
{
    snprintf(buf, len, "%u.%u.%u", v / 10000, v / 100 % 100, v % 100);
}

void fmt_seconds(char *buf, size_t len, double s)
{
    if (s < 10)
        snprintf(buf, len, "%.3g s", s);
    else if (s < 120)
        snprintf(buf, len, "%.1f s", s);
    else if (s < 7200)
        snprintf(buf, len, "%.1f s (%.1f min)", s, s / 60);
    else if (s < 172800)
        snprintf(buf, len, "%.0f s (%.2f h)", s, s / 3600);
    else
        snprintf(buf, len, "%.0f s (%.2f d)", s, s / 86400);
}

void print_name(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\')
            fputs("\\\\", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(f, "\\x%02x", *p);
        else
            fputc(*p, f);
    }
}

/* ---- JSON --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
static int utf8_len(const unsigned char *p)
{
    if (p[0] > 0xf4)
        return 0;
    int n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    if ((n == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (n == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
        (n == 4 && p[0] == 0xf0 && p[1] < 0x90) || (n == 4 && p[0] == 0xf4 && p[1] >= 0x90))
        return 0; /* overlong, surrogate, or beyond U+10FFFF */
    return n;
}

/* Names come from users: valid UTF-8 passes through, control characters
   are escaped, and each byte of invalid UTF-8 becomes \u00XX so the output
   is always valid JSON. */
void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = 1;
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else if (*p < 0x80)
                fputc(*p, f);
            else if ((n = utf8_len(p)) > 0)
                fwrite(p, 1, (size_t)n, f);
            else {
                n = 1;
                fprintf(f, "\\u%04x", *p);
            }
        }
        p += n;
    }
    fputc('"', f);
}

void json_init(struct json *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
}

/* Starts a member: comma, newline, indent, and "key": when given. */
static void member(struct json *j, const char *key)
{
    if (j->depth > 0) {
        fputs(j->count[j->depth] ? ",\n" : "\n", j->f);
        j->count[j->depth]++;
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    if (key) {
        json_write_string(j->f, key);
        fputs(": ", j->f);
    }
}

static void open_(struct json *j, const char *key, char c)
{
    member(j, key);
    fputc(c, j->f);
    if (j->depth + 1 < (int)(sizeof j->count / sizeof *j->count))
        j->depth++;
    j->count[j->depth] = 0;
}

static void close_(struct json *j, char c)
{
    int had = j->count[j->depth];
    j->depth--;
    if (had) {
        fputc('\n', j->f);
        for (int i = 0; i < j->depth; i++)
            fputs("  ", j->f);
    }
    fputc(c, j->f);
    if (j->depth == 0)
        fputc('\n', j->f);
}

void json_object(struct json *j, const char *key) { open_(j, key, '{'); }
void json_array(struct json *j, const char *key) { open_(j, key, '['); }
void json_end_object(struct json *j) { close_(j, '}'); }
void json_end_array(struct json *j) { close_(j, ']'); }

void json_str(struct json *j, const char *key, const char *v)
{
    member(j, key);
    if (v)
        json_write_string(j->f, v);
    else
        fputs("null", j->f);
}

void json_u64(struct json *j, const char *key, uint64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json *j, const char *key, int64_t v)
{
    member(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void json_num(struct json *j, const char *key, double v)
{
    member(j, key);
    if (isfinite(v))
        fprintf(j->f, "%.9g", v);
    else
        fputs("null", j->f);
}

void json_bool(struct json *j, const char *key, int v)
{
    member(j, key);
    fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j, const char *key)
{
    member(j, key);
    fputs("null", j->f);
}
