/* SPDX-License-Identifier: MIT */
/*
 * epoll.c — the job's epoll instances: each made again, at its fd, with
 * the fds it watched (events and data as the job registered them), once
 * every other descriptor of the job is back. An instance shared by two
 * processes (inherited across fork) comes back as one of each.
 */
#include "restore.h"
#include "rlib.h"
#include "sys_x86_64.h"

#define NR_epoll_ctl 233
#define NR_epoll_create1 291
#define EPOLL_CTL_ADD 1

static struct cairn_proc_epoll entries[CAIRN_PROC_MAX_EPOLL];
static uint64_t nentries;

int r_epoll_load(void)
{
    nentries = 0;
    if (!img.rec_epoll.present)
        return 0;
    if (img.rec_epoll.len % sizeof entries[0] || img.rec_epoll.len > sizeof entries) {
        r_say("the image's epoll section has a wrong size", (char *)0);
        return -2;
    }
    int rc = r_read_record("epoll", &img.rec_epoll, entries, sizeof entries);
    if (rc < 0)
        return rc;
    nentries = img.rec_epoll.len / sizeof entries[0];
    for (uint64_t i = 0; i < nentries; i++) {
        int ok = 0, target = 0;
        for (uint64_t k = 0; k < img.core.nfiles; k++) {
            ok |= img.files[k].fd == entries[i].epfd && img.files[k].kind == CAIRN_FD_EPOLL;
            target |= img.files[k].fd == entries[i].tfd && img.files[k].kind != CAIRN_FD_EPOLL;
        }
        if (!ok || !target) {
            r_say("an epoll entry names no epoll fd of the image, or no fd it restores",
                  (char *)0);
            return -2;
        }
    }
    return 0;
}

void r_epoll_restore(const struct cairn_proc_file *f)
{
    long ep = sys1(NR_epoll_create1, 0);
    long rc = ep < 0 ? ep : sys2(NR_dup2, ep, f->fd);
    if (rc < 0)
        r_fail("cannot make an epoll instance again", rc);
    if (ep != f->fd)
        sys1(NR_close, ep);
    for (uint64_t i = 0; i < nentries; i++) {
        if (entries[i].epfd != f->fd)
            continue;
        struct {
            uint32_t events;
            uint64_t data;
        } __attribute__((packed)) ev = {entries[i].events, entries[i].data};
        rc = sys4(NR_epoll_ctl, f->fd, EPOLL_CTL_ADD, entries[i].tfd, &ev);
        if (rc < 0)
            r_fail("cannot watch a descriptor again with epoll", rc);
    }
}
