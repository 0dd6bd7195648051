/* SPDX-License-Identifier: MIT */
/*
 * debug.c — test-only (CAIRN_DEBUG_DIRTY=DIR in the restorer's environment):
 * once the memory is rebuilt, the hash of every page of every trackable
 * mapping goes to DIR/r-<generation>, in the format of the runtime's
 * DIR/h-<generation> (runtime/dirty_debug.c), so that a test can tell a
 * restore that did not rebuild an image's bytes from a write the tracker
 * missed; and DIR/ahead-<generation> names the helper thread that faulted
 * the mapped memory in (ahead.c), for a test to tell it was there. Nothing
 * is written without the variable.
 */
#include "debug_hash.h"
#include "hash.h"
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define PAGE 4096ull

static char dir[256];

void r_debug_env(char **envp)
{
    static const char key[] = "CAIRN_DEBUG_DIRTY=";
    for (; envp && *envp; envp++)
        if (r_startswith(*envp, key) && strlen(*envp) - (sizeof key - 1) < sizeof dir - 48)
            memcpy(dir, *envp + sizeof key - 1, strlen(*envp) - (sizeof key - 1) + 1);
}

struct dbg_rec {
    uint64_t start, end;
    uint32_t kind, prot, flags, pad;
    char name[64];
};


/* DIR/<prefix><generation> opened for writing (flags: O_TRUNC or
   O_APPEND), or -1. */
static long open_debug_file(const char *prefix, const char *image_name, long flags)
{
    /* the generation: the digits of the image's file name */
    uint64_t gen = 0;
    for (const char *s = image_name; *s; s++)
        gen = *s >= '0' && *s <= '9' ? gen * 10 + (uint64_t)(*s - '0') : *s == '/' ? 0 : gen;
    char path[320], num[24];
    size_t n = strlen(dir), k = strlen(prefix);
    memcpy(path, dir, n);
    memcpy(path + n, "/", 1);
    memcpy(path + n + 1, prefix, k);
    const char *d = r_dec(num, gen);
    memcpy(path + n + 1 + k, d, strlen(d) + 1);
    return sys3(NR_open, (long)path, 01 | 0100 | 02000000 | flags, 0600);
}

/* DIR/ahead-<generation>, a line per process of the job: "ahead PID TID
   BORROWED BYTES AVX2\n", the helper thread that faulted its mapped memory
   in (ahead.c), TID 0 for none, and 1 if the hash used AVX2 (hash.c). */
static void dump_ahead(const char *image_name)
{
    long fd = open_debug_file("ahead-", image_name, 02000 /* O_APPEND */);
    if (fd < 0)
        return;
    char line[96] = "ahead ", num[24];
    const struct r_ahead_stats *a = &r_ahead_stats;
    const uint64_t v[5] = {(uint64_t)sys0(NR_getpid), a->tid > 0 ? (uint64_t)a->tid : 0,
                           (uint64_t)a->borrowed, a->bytes, (uint64_t)r_hash_avx2()};
    size_t n = strlen(line);
    for (int i = 0; i < 5; i++) {
        const char *d = r_dec(num, v[i]);
        memcpy(line + n, d, strlen(d));
        n += strlen(d);
        line[n++] = i < 4 ? ' ' : '\n';
    }
    sys3(NR_write, fd, (long)line, (long)n);
    sys1(NR_close, fd);
}

void r_debug_dump(const char *image_name)
{
    if (!dir[0])
        return;
    dump_ahead(image_name);
    long fd = open_debug_file("r-", image_name, 01000 /* O_TRUNC */);
    if (fd < 0)
        return;
    uint64_t nrec = 0;
    for (uint64_t i = 0; i < img.core.nmaps; i++)
        nrec += cairn_proc_trackable(&img.maps[i]);
    sys3(NR_write, fd, (long)&nrec, 8);
    static uint64_t h[512], pm[512];
    long pagemap = sys3(NR_open, (long)"/proc/self/pagemap", 02000000, 0);
    for (uint64_t i = 0; i < img.core.nmaps; i++) {
        const struct cairn_proc_map *m = &img.maps[i];
        if (!cairn_proc_trackable(m))
            continue;
        struct dbg_rec rec = {m->start, m->end, m->kind, m->prot, m->flags, 0, {0}};
        memcpy(rec.name, m->name, sizeof rec.name);
        sys3(NR_write, fd, (long)&rec, sizeof rec);
        for (uint64_t a = m->start; a < m->end;) {
            uint64_t c = 0, want = (m->end - a) / PAGE < 512 ? (m->end - a) / PAGE : 512;
            if (r_pread_all((int)pagemap, pm, want * 8, a / PAGE * 8) < 0)
                memset(pm, 0xff, sizeof pm);
            for (; c < want; c++, a += PAGE) {
                const unsigned char *p = (const unsigned char *)a;
                h[c] = (pm[c] >> 62) & 3 ? cairn_debug_page_hash(p) : 0;
            }
            sys3(NR_write, fd, (long)h, (long)(c * 8));
        }
    }
    sys1(NR_close, fd);
    sys1(NR_close, pagemap);
}

