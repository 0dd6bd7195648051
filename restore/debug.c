/* SPDX-License-Identifier: MIT */
/*
 * debug.c — test-only (CAIRN_DEBUG_DIRTY=DIR in the restorer's environment):
 * once the memory is rebuilt, the hash of every page of every trackable
 * mapping goes to DIR/r-<generation>, in the format of the runtime's
 * DIR/h-<generation> (runtime/dirty_debug.c), so that a test can tell a
 * restore that did not rebuild an image's bytes from a write the tracker
 * missed. Nothing is written without the variable.
 */
#include "debug_hash.h"
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


void r_debug_dump(const char *image_name)
{
    if (!dir[0])
        return;
    /* the generation: the digits of the image's file name */
    uint64_t gen = 0;
    for (const char *s = image_name; *s; s++)
        gen = *s >= '0' && *s <= '9' ? gen * 10 + (uint64_t)(*s - '0') : *s == '/' ? 0 : gen;
    char path[320], num[24];
    size_t n = strlen(dir);
    memcpy(path, dir, n);
    memcpy(path + n, "/r-", 3);
    const char *d = r_dec(num, gen);
    memcpy(path + n + 3, d, strlen(d) + 1);
    long fd = sys3(NR_open, (long)path, 01 | 0100 | 01000 | 02000000, 0600);
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

